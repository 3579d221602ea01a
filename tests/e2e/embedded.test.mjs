// The portal as a Procore embedded app (issue 25), in each engine: a stand-in for
// Procore's page (fixtures/embedded/, at http://localhost:PORT) frames the demo
// command's portal (http://127.0.0.1:PORT: another origin) as a 400 px side panel,
// answers its `initialize` with `setup`, and posts `sidepanel:app:destroy` while a file
// uploads: the upload pauses and its state is kept; the panel opened again offers to
// resume, and the same file added again goes on from the parts storage already holds.
// Also: setup from an origin the portal does not trust is ignored, and a full-screen
// app takes its ids from the URL (Procore's interpolation), a placeholder left as
// `{{…}}` being no id.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { launch } from "./browsers.mjs";
import { describeInEngines, ROOT, serve, startDemoServer } from "./support.mjs";

const ARTIFACTS = path.join(ROOT, "artifacts/portal");
const MiB = 1 << 20;

/** The file a site manager picks: the same bytes each time (a seeded xorshift), as on disk. */
const FILE = { name: "tower-model.ifc", size: 100 * MiB, lastModified: 1_764_000_000_000, seed: 2463534242 };

/** `size` bytes from xorshift32 seeded with `seed` (run in node and, as source, in the page). */
function seededBytes(size, seed) {
  const bytes = new Uint8Array(size);
  const words = new Uint32Array(bytes.buffer, 0, size >>> 2);
  let x = seed >>> 0;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    words[i] = x;
  }
  return bytes;
}

describeInEngines("the portal as a Procore embedded app", (engine) => {
  let parent, stranger, portal, browser, page, wd;
  /** The framing page's origin, which the portal is told to trust (as it trusts Procore's). */
  let procoreOrigin;

  before(async () => {
    parent = await serve({ "/": path.join(ROOT, "tests/e2e/fixtures/embedded") });
    // The same page on another port: an origin the portal was not told about.
    stranger = await serve({ "/": path.join(ROOT, "tests/e2e/fixtures/embedded") });
    procoreOrigin = parent.url.replace("127.0.0.1", "localhost");
    portal = await startDemoServer(["--embed-origin", procoreOrigin]);
    browser = await launch(engine);
    ({ page } = browser);
    wd = page.browser;
    await wd.setWindowSize(1280, 900);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await portal?.stop();
    await parent?.close();
    await stranger?.close();
  });

  const sandbox = async (method, route, body) => {
    const response = await fetch(`${portal.api}${route}`, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    assert.ok(response.ok, `${method} ${route}: ${response.status}`);
    return response.status === 204 ? null : response.json();
  };

  /** Opens the stand-in Procore page framing `appUrl`, setup answering `context`. */
  async function openProcorePage(origin, appUrl, context) {
    await wd.switchToParentFrame().catch(() => {});
    const query = new URLSearchParams({ app: appUrl, ...(context ? { context: JSON.stringify(context) } : {}) });
    await page.goto(`${origin}/?${query}`);
  }

  /** Switches the WebDriver session into the panel's iframe and waits for the portal to be ready. */
  async function enterApp() {
    await wd.switchToParentFrame().catch(() => {});
    await page.waitForFunction(() => document.querySelector("#panel iframe") !== null);
    await wd.switchToFrame(await wd.$("#panel iframe"));
    await page.waitForFunction(() => document.documentElement.dataset.ready === "true");
  }

  const inParent = async (fn, arg) => {
    await wd.switchToParentFrame();
    return page.evaluate(fn, arg);
  };

  /**
   * The file, made in the page from the seed (the same bytes, name and date each time).
   * The generator's source is part of the script itself: the portal's CSP refuses
   * `new Function` (WebKit applies it to WebDriver's scripts too).
   */
  const addTheFile = () =>
    page.evaluate(`(file) => {
      const seededBytes = ${seededBytes.toString()};
      const made = new File([seededBytes(file.size, file.seed)], file.name, { lastModified: file.lastModified, type: "application/octet-stream" });
      window.portal.uploader.addFiles([made]);
    }`, FILE);

  const rowState = () =>
    page.evaluate((name) => {
      const rows = [...window.portal.uploader.shadowRoot.querySelectorAll('[part~="file"]')];
      return rows.find((row) => row.textContent.includes(name))?.dataset.state ?? null;
    }, FILE.name);

  const storagePuts = async () =>
    (await sandbox("GET", "/_sandbox/requests")).filter((r) => r.side === "storage" && r.method === "PUT");

  /** The part number of a storage PUT, read from its presigned URL's query (the test may). */
  const partNumber = (request) => Number(new URLSearchParams(request.query ?? "").get("partNumber"));

  test("side panel: setup gives the project; destroy mid-upload pauses and keeps it; opened again, the same file resumes with only the missing parts", async () => {
    const expectedSha256 = crypto.createHash("sha256").update(seededBytes(FILE.size, FILE.seed)).digest("hex");
    await sandbox("PUT", "/_sandbox/faults", { storage_latency_ms: 2000 });
    await sandbox("DELETE", "/_sandbox/requests");
    await openProcorePage(procoreOrigin, `${portal.url}?mode=sidepanel`, { company_id: 7, project_id: 43, id: 9001, view: "documents" });
    await enterApp();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.mode), "sidepanel");
    assert.deepEqual(
      await page.evaluate(() => ({ company: window.portal.context.companyId, project: window.portal.context.projectId })),
      { company: 7, project: 43 },
      "the ids come from Procore's setup (the page's default project is 42)",
    );
    // Laid out in the panel: nothing wider than its 400 px.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "no horizontal scroll in the 400 px panel");
    const initialize = await inParent(() => window.procorePage.seen.map((m) => m.data?.type));
    assert.deepEqual(initialize, ["initialize"], "the app spoke first, once");
    await wd.switchToFrame(await wd.$("#panel iframe"));

    await addTheFile();
    // Mid-upload: some parts stored, others still to go (2 s per storage answer).
    await wd.waitUntil(async () => (await storagePuts()).some((r) => r.status === 200), { timeout: 120_000, interval: 100 });
    // The first parts' answers come together (2 s each, six at a time): let the client
    // take them in, then note what storage holds and the client has heard of.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const answered = new Set((await storagePuts()).filter((r) => r.status === 200).map(partNumber));
    await inParent(() => window.procorePage.destroy());
    await wd.switchToFrame(await wd.$("#panel iframe"));
    await page.waitForFunction((name) => {
      const kept = JSON.parse(localStorage.getItem("procore-portal:paused") ?? "[]");
      return kept.some((file) => file.name === name);
    }, FILE.name);
    await wd.waitUntil(async () => (await rowState()) === "paused", { timeout: 30_000, interval: 100 });
    const kept = await page.evaluate(() => JSON.parse(localStorage.getItem("procore-portal:paused")));
    assert.deepEqual(kept, [{ name: FILE.name, size: FILE.size, lastModified: FILE.lastModified }]);
    // Paused: storage quiet (what was open when destroy came has ended).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const atPause = await sandbox("GET", "/_sandbox/requests");
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const storageAfter = (await sandbox("GET", "/_sandbox/requests")).filter((r) => r.side === "storage").length;
    assert.equal(storageAfter, atPause.filter((r) => r.side === "storage").length, "no storage request while paused");
    const stored = new Set(atPause.filter((r) => r.side === "storage" && r.method === "PUT" && r.status === 200).map(partNumber));
    const total = Math.ceil(FILE.size / (16 * MiB));
    assert.ok(answered.size >= 1 && stored.size < total, `some parts stored before destroy: ${[...answered]} (${[...stored]} by the pause)`);
    const creates = (log) => log.filter((r) => r.side === "api" && r.method === "POST" && /\/uploads$/.test(r.path));
    assert.equal(creates(atPause).length, 1);
    assert.match(creates(atPause)[0].path, /\/projects\/43\/uploads$/, "uploaded to setup's project");

    // Procore removes the panel; later the user opens it again.
    await inParent(() => window.procorePage.remove());
    await sandbox("PUT", "/_sandbox/faults", { storage_latency_ms: 200 });
    await sandbox("DELETE", "/_sandbox/requests");
    await inParent(() => window.procorePage.open());
    await enterApp();
    await page.waitForFunction(() => {
      const notice = document.getElementById("resume-notice");
      return notice && !notice.hidden && notice.getClientRects().length > 0;
    });
    assert.match(await page.textContent("#resume-notice"), new RegExp(FILE.name.replace(".", "\\.")));
    await sideScreenshot("sidepanel-resume-offer");
    await wd.switchToFrame(await wd.$("#panel iframe"));

    await addTheFile();
    await wd.waitUntil(async () => (await rowState()) === "done", { timeout: 240_000, interval: 200 });
    const resumed = await sandbox("GET", "/_sandbox/requests");
    assert.deepEqual(creates(resumed), [], "no new Create Upload: the kept one goes on");
    const sent = resumed.filter((r) => r.side === "storage" && r.method === "PUT").map(partNumber);
    assert.ok(sent.length >= 1, "the missing parts were sent");
    // A part whose answer was still on its way when the pause came may go again (the
    // client never had its ETag); one answered before the destroy may not.
    assert.deepEqual(sent.filter((part) => answered.has(part)), [], `no part answered before the destroy sent again (answered ${[...answered]}, sent ${sent})`);
    assert.ok(sent.length <= total - answered.size, `only the missing parts: sent ${sent} of ${total}`);
    // Where it landed: a file of project 43's Documents with the same bytes.
    const documents = await sandbox("GET", "/_sandbox/documents?project_id=43");
    const file = documents.files.find((f) => f.name === FILE.name);
    assert.ok(file, `${FILE.name} is in project 43's Documents`);
    assert.equal(file.versions.at(-1).sha256, expectedSha256, "stored intact");
    // Resumed and finished: the offer is withdrawn.
    await page.waitForFunction(() => document.getElementById("resume-notice")?.hidden !== false || document.getElementById("resume-notice").getClientRects().length === 0);
    assert.equal(await page.evaluate(() => localStorage.getItem("procore-portal:paused")), null);
    await sideScreenshot("sidepanel-done");
    assert.deepEqual(await inParent(() => window.__problems ?? []), []);
    await sandbox("PUT", "/_sandbox/faults", {});
  });

  test("side panel: a setup from an origin the portal does not trust is ignored (no initialize sent to it)", async () => {
    await openProcorePage(stranger.url.replace("127.0.0.1", "localhost"), `${portal.url}?mode=sidepanel`, { company_id: 7, project_id: 44 });
    await wd.waitUntil(async () => (await wd.$("#panel iframe").isExisting()), { timeout: 10_000 });
    await wd.switchToFrame(await wd.$("#panel iframe"));
    await page.waitForFunction(() => document.documentElement.dataset.ready === "true");
    // The stranger posts setup unasked: not taken.
    await inParent(() => window.procorePage.post({ type: "setup", context: { company_id: 7, project_id: 44 } }));
    await wd.switchToFrame(await wd.$("#panel iframe"));
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.notEqual(await page.evaluate(() => window.portal.context.projectId), 44);
    assert.deepEqual(await inParent(() => window.procorePage.seen), [], "nothing was said to an untrusted origin");
  });

  test("full screen: ids from the URL's interpolation; a placeholder left as {{…}} is no id", async () => {
    await openProcorePage(procoreOrigin, `${portal.url}?companyId=7&projectId=44`);
    await enterApp();
    assert.deepEqual(
      await page.evaluate(() => [document.documentElement.dataset.mode, window.portal.context.projectId]),
      ["fullscreen", 44],
    );
    await openProcorePage(procoreOrigin, `${portal.url}?companyId=7&projectId={{procore.project.id}}`);
    await enterApp();
    assert.deepEqual(
      await page.evaluate(() => [document.documentElement.dataset.mode, window.portal.context.companyId, window.portal.context.projectId]),
      ["fullscreen", 7, null],
    );
  });

  /** The whole Procore page with its side panel, as `artifacts/portal/<name>-<engine>.png`. */
  async function sideScreenshot(name) {
    // From the top page: Firefox refuses a screenshot from inside a cross-origin frame.
    await wd.switchToParentFrame();
    const shot = await wd.takeScreenshot();
    fs.writeFileSync(path.join(ARTIFACTS, `${name}-${engine}.png`), Buffer.from(shot, "base64"));
  }
});
