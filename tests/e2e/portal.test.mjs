// The demo portal (issue 25) as a visitor meets it, in each engine, served by the
// demo command's server (`node www/server.mjs`: the sandbox plus the page, under its
// strict CSP): it opens ready to take files (sandbox company 7, project 42's
// Documents); three files dropped and a folder tree picked land where the pickers
// say, checked through the sandbox's inspection API; the Attached panel lists them,
// read back from the API, and its links download the stored bytes; photos and
// drawings go to their tools; the fault panel's stall and storage errors are
// survived; "Connect to Procore" keeps the token out of URLs and storage; no CSP
// violation; a 360 px frame scrolls only vertically; screenshots at desktop width and
// in a 400 px panel are kept under artifacts/portal/.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Key } from "webdriverio";
import { launch } from "./browsers.mjs";
import { describeInEngines, ROOT, serve, startDemoServer } from "./support.mjs";

const ARTIFACTS = path.join(ROOT, "artifacts/portal");

/** `size` bytes derived from `seed` (the same in node and, as source, in the page). */
function patternBytes(size, seed) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + seed * 7 + (i >> 11)) % 251;
  return bytes;
}

const sha256 = (bytes) => crypto.createHash("sha256").update(bytes).digest("hex");

describeInEngines("the portal (the demo command's page)", (engine) => {
  let demo, url, api, browser, page, fixtures;

  before(async () => {
    demo = await startDemoServer();
    ({ url, api } = demo);
    fixtures = await serve({ "/": path.join(ROOT, "tests/e2e/fixtures/embedded") });
    browser = await launch(engine);
    ({ page } = browser);
    await page.browser.setWindowSize(1280, 1000);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await fixtures?.close();
    await demo?.stop();
  });

  afterEach(async () => {
    await page.browser.switchToParentFrame().catch(() => {});
    await sandbox("PUT", "/_sandbox/faults", {});
    assert.deepEqual(await (await fetch(`${url}_csp-reports`)).json(), [], "no CSP violation");
  });

  async function sandbox(method, route, body) {
    const response = await fetch(`${api}${route}`, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    assert.ok(response.ok, `${method} ${route}: ${response.status}`);
    return response.status === 204 ? null : response.json();
  }

  async function open() {
    await page.goto(url);
    await page.waitForFunction(() => document.documentElement.dataset.ready === "true");
  }

  /** Drops `files` ({ name, size, seed, path? }) on the uploader's drop zone, or adds them as a folder pick. */
  const add = (files, how = "drop") =>
    // The generator's source is written into the script: the portal's CSP refuses
    // `new Function` (WebKit applies it to WebDriver's scripts too).
    page.evaluate(`({ files, how }) => {
      const patternBytes = ${patternBytes.toString()};
      const made = files.map((f) => {
        const file = new File([patternBytes(f.size, f.seed)], f.name, { type: f.type ?? "" });
        // What a folder pick (webkitdirectory) gives each file.
        if (f.path) Object.defineProperty(file, "webkitRelativePath", { value: f.path });
        return file;
      });
      const uploader = window.portal.uploader;
      if (how === "pick") return uploader.addFiles(made);
      const transfer = new DataTransfer();
      for (const file of made) transfer.items.add(file);
      const dropzone = uploader.shadowRoot.querySelector('[part~="dropzone"]');
      for (const type of ["dragenter", "dragover", "drop"]) {
        dropzone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true, composed: true }));
      }
    }`, { files, how });

  /** Waits until every row of the uploader is done; resolves to their states. */
  const allDone = async (count) => {
    await page.waitForFunction((count) => {
      const rows = [...window.portal.uploader.shadowRoot.querySelectorAll('[part~="file"]')];
      return rows.length >= count && rows.every((row) => ["done", "failed"].includes(row.dataset.state));
    }, count);
    return page.evaluate(() => [...window.portal.uploader.shadowRoot.querySelectorAll('[part~="file"]')].map((row) => row.dataset.state));
  };

  /** The Attached panel's rows: [path, href]. */
  const attachedRows = () =>
    page.evaluate(() => [...document.querySelectorAll("#attached li")].map((li) => [li.querySelector(".path")?.textContent ?? li.textContent, li.querySelector("a")?.href ?? null]));

  /** Every file of project `projectId`'s Documents, by path. */
  async function documentsOf(projectId) {
    const tree = await sandbox("GET", `/_sandbox/documents?project_id=${projectId}`);
    return new Map(tree.files.map((file) => [file.path, file]));
  }

  test("opens ready: sandbox company 7, project 42, its Documents; nothing wider than the window", async () => {
    await open();
    assert.deepEqual(
      await page.evaluate(() => [document.documentElement.dataset.mode, document.getElementById("project").value, document.getElementById("kind").value, document.getElementById("folder").selectedOptions[0]?.textContent]),
      ["standalone", "42", "documents", "Documents (top level)"],
    );
    assert.deepEqual(
      await page.evaluate(() => [...document.getElementById("project").options].map((o) => o.value)),
      ["42", "43", "44"],
      "the projects come from the API",
    );
    assert.match(await page.textContent("#where"), /sandbox · company 7/);
    assert.deepEqual(await page.takeProblems(), []);
  });

  test("three files dropped and a folder tree picked land in project 42's Documents; the Attached panel lists them with links to their bytes", async () => {
    await open();
    const files = [
      { name: `report-${engine}.pdf`, size: 120_000, seed: 1 },
      { name: `photo <img src=x onerror=alert(1)>-${engine}.jpg`, size: 64_000, seed: 2 },
      { name: `notes-${engine}.txt`, size: 1_000, seed: 3 },
    ];
    await add(files);
    assert.deepEqual(await allDone(3), ["done", "done", "done"]);
    const tree = [
      { name: "a1.pdf", path: `plans-${engine}/A/a1.pdf`, size: 50_000, seed: 4 },
      { name: "b.pdf", path: `plans-${engine}/b.pdf`, size: 70_000, seed: 5 },
    ];
    await add(tree, "pick");
    await allDone(5);
    const stored = await documentsOf(42);
    for (const file of [...files.map((f) => ({ ...f, path: f.name })), ...tree]) {
      const found = stored.get(file.path);
      assert.ok(found, `${file.path} in project 42's Documents: ${[...stored.keys()]}`);
      assert.equal(found.versions.at(-1).sha256, sha256(patternBytes(file.size, file.seed)), `${file.path} stored intact`);
    }
    // The panel, read back from the API after the queue finished.
    await page.waitForFunction((n) => document.querySelectorAll("#attached li a").length >= n, 5);
    const rows = await attachedRows();
    for (const file of [...files.map((f) => ({ ...f, path: f.name })), ...tree]) {
      const shownPath = file.path;
      const row = rows.find(([shown]) => shown === shownPath);
      assert.ok(row, `${shownPath} listed: ${JSON.stringify(rows)}`);
      const bytes = Buffer.from(await (await fetch(row[1])).arrayBuffer());
      assert.equal(sha256(bytes), sha256(patternBytes(file.size, file.seed)), `${shownPath}'s link gives its bytes`);
    }
    // A hostile name is text: no <img> was made anywhere.
    assert.equal(await page.evaluate(() => document.querySelectorAll("img").length + window.portal.uploader.shadowRoot.querySelectorAll("img").length), 0);
    // The folder picker now offers the tree; a file put into its subfolder lands there.
    await page.waitForFunction((name) => [...document.getElementById("folder").options].some((o) => o.textContent.endsWith(name)), `plans-${engine}`);
    const folderId = await page.evaluate((name) => [...document.getElementById("folder").options].find((o) => o.textContent.endsWith(name)).value, `plans-${engine}`);
    await page.selectOption("#folder", folderId);
    await add([{ name: `c-${engine}.pdf`, size: 3_000, seed: 6 }]);
    await allDone(6);
    assert.ok((await documentsOf(42)).has(`plans-${engine}/c-${engine}.pdf`));
    await page.waitForFunction((name) => [...document.querySelectorAll("#attached .path")].some((p) => p.textContent === name), `c-${engine}.pdf`);
    assert.match(await page.textContent("#attached-where"), new RegExp(`Documents/plans-${engine}`));
    await screenshot("desktop");
    assert.deepEqual(await page.takeProblems(), []);
  });

  test("photos and drawings go to their tools, and are listed from them", async () => {
    await open();
    await page.selectOption("#kind", "images");
    await page.waitForFunction(() => document.getElementById("attached-where").textContent.startsWith("Photos"));
    await add([{ name: `site-${engine}.png`, size: 9_000, seed: 7, type: "image/png" }]);
    await allDone(1);
    await page.waitForFunction((name) => [...document.querySelectorAll("#attached .path")].some((p) => p.textContent === name), `site-${engine}.png`);
    await page.selectOption("#project", "43");
    await page.waitForFunction(() => document.getElementById("folder-field").hidden);
    await page.selectOption("#kind", "drawings");
    await page.waitForFunction(() => document.getElementById("destination-note").textContent.includes("4302"));
    await add([{ name: `A-101-${engine}.pdf`, size: 20_000, seed: 8, type: "application/pdf" }]);
    await allDone(2);
    await page.waitForFunction((name) => [...document.querySelectorAll("#attached .path")].some((p) => p.textContent === name), `A-101-${engine}.pdf`);
    const attachments = await sandbox("GET", "/_sandbox/attachments");
    const uploads = await sandbox("GET", "/_sandbox/uploads");
    const uuidOf = (name) => uploads.find((u) => JSON.stringify(u).includes(name))?.uuid;
    const holds = (kind, project, name) => attachments.some((a) => a.kind === kind && a.project_id === project && a.upload_uuids.includes(uuidOf(name)));
    assert.ok(holds("image", 42, `site-${engine}.png`), "the photo is project 42's image");
    assert.ok(holds("drawing_upload", 43, `A-101-${engine}.pdf`), "the drawing is in project 43's drawing upload");
    assert.deepEqual(await page.takeProblems(), []);
  });

  test("the fault panel: a stalled storage request and storage errors are survived", async () => {
    await open();
    await page.evaluate(() => { document.getElementById("faults").open = true; });
    await sandbox("DELETE", "/_sandbox/requests");
    await page.click("#fault-buttons button:nth-child(3)");
    await page.waitForFunction(() => document.getElementById("fault-status").textContent.startsWith("On: Stalled"));
    assert.equal((await sandbox("GET", "/_sandbox/faults")).storage_stall_next, 2);
    await add([{ name: `stalled-${engine}.bin`, size: 200_000, seed: 9 }]);
    assert.deepEqual(await allDone(1), ["done"]);
    const log = await sandbox("GET", "/_sandbox/requests");
    assert.ok(log.filter((r) => r.side === "storage" && r.fault).length >= 1, "a storage request was stalled and the upload went on");
    await page.click("#fault-buttons button:nth-child(1)");
    await page.waitForFunction(() => document.getElementById("fault-status").textContent.startsWith("On: Storage errors"));
    await add([{ name: `errors-${engine}-1.bin`, size: 100_000, seed: 10 }, { name: `errors-${engine}-2.bin`, size: 100_000, seed: 11 }]);
    assert.deepEqual(await allDone(3), ["done", "done", "done"]);
    await page.click("#fault-buttons button:last-child");
    await page.waitForFunction(() => document.getElementById("fault-status").textContent === "No faults.");
    assert.deepEqual(await sandbox("GET", "/_sandbox/faults").then((f) => f.storage_error_rate ?? 0), 0);
    assert.deepEqual(await page.takeProblems(), []);
  });

  test("Connect to Procore: the token is sent only as Authorization, never in a URL or kept in storage", async () => {
    await open();
    await page.evaluate(() => { document.getElementById("settings").open = true; });
    await sandbox("DELETE", "/_sandbox/requests");
    const token = "sandbox-token";
    await page.evaluate(({ api, token }) => {
      document.getElementById("base-url").value = api;
      document.getElementById("company-id").value = "7";
      document.getElementById("project-id").value = "44";
      document.getElementById("token").value = token;
      document.getElementById("settings-form").requestSubmit();
    }, { api, token });
    await page.waitForFunction(() => document.getElementById("settings-status").textContent.startsWith("Connected"));
    assert.equal(await page.evaluate(() => document.getElementById("project").value), "44");
    assert.equal(await page.evaluate(() => document.getElementById("token").value), "", "the field is emptied");
    await add([{ name: `connected-${engine}.txt`, size: 5_000, seed: 12 }]);
    assert.deepEqual(await allDone(1), ["done"]);
    assert.ok((await documentsOf(44)).has(`connected-${engine}.txt`));
    const log = await sandbox("GET", "/_sandbox/requests");
    assert.ok(log.some((r) => r.side === "api"), "the API was called");
    for (const request of log) {
      assert.ok(!`${request.path}?${request.query ?? ""}`.includes(token), `no token in ${request.path}`);
      const authorization = Object.entries(request.headers ?? {}).find(([name]) => name.toLowerCase() === "authorization");
      if (request.side === "storage") assert.equal(authorization, undefined, "no token to storage");
    }
    const kept = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + location.href + document.cookie);
    assert.ok(!kept.includes(token), "not in localStorage, sessionStorage, the URL or a cookie");
    assert.deepEqual(await page.takeProblems(), []);
  });

  test("in a 400 px side panel and on a 360 px phone: no horizontal scroll; screenshots", async () => {
    for (const width of [400, 360]) {
      const query = new URLSearchParams({ app: url, width: String(width) });
      await page.goto(`${fixtures.url}/?${query}`);
      await page.browser.switchToFrame(await page.browser.$("#panel iframe"));
      await page.waitForFunction(() => document.documentElement.dataset.ready === "true");
      await add([{ name: `A-very-long-file-name-without-spaces-for-a-narrow-screen-${"x".repeat(80)}.pdf`, size: 2_000, seed: 13 }]);
      await allDone(1);
      await page.evaluate(() => { document.getElementById("settings").open = true; document.getElementById("faults").open = true; });
      assert.deepEqual(
        await page.evaluate(() => [window.innerWidth, document.documentElement.scrollWidth <= window.innerWidth]),
        [width, true],
        `no horizontal scroll at ${width} px`,
      );
      await page.browser.switchToParentFrame();
      await screenshot(`panel-${width}`);
    }
  });

  test("keyboard only, and axe-core finds no serious or critical violation (rows done and failed, panels open)", async () => {
    await open();
    const focused = () => page.evaluate(() => {
      const el = document.activeElement;
      const inner = el?.shadowRoot?.activeElement;
      return inner ? `uploader:${inner.getAttribute("part")}` : el?.id || el?.tagName.toLowerCase();
    });
    // Tab from the top: the pickers, then the uploader's drop zone (a button).
    const order = [];
    for (let i = 0; i < 5; i++) {
      await page.browser.keys([Key.Tab]);
      order.push(await focused());
    }
    assert.deepEqual(order.slice(0, 4), ["project", "kind", "folder", "uploader:dropzone"], `tab order: ${order}`);
    // The tool picked with the keyboard.
    await page.evaluate(() => document.getElementById("kind").focus());
    await page.browser.keys([Key.ArrowDown]);
    await page.waitForFunction(() => document.getElementById("kind").value === "drawings");
    await page.waitForFunction(() => document.getElementById("folder-field").hidden);
    await page.browser.keys([Key.ArrowUp]);
    await page.waitForFunction(() => document.getElementById("kind").value === "documents");
    // The fault panel opened and used from the keyboard.
    await page.evaluate(() => document.querySelector("#faults summary").focus());
    await page.browser.keys([Key.Enter]);
    await page.waitForFunction(() => document.getElementById("faults").open);
    await page.browser.keys([Key.Tab]);
    assert.match(await page.evaluate(() => document.activeElement.textContent), /^Storage errors/);
    await page.browser.keys([Key.Enter]);
    await page.waitForFunction(() => document.getElementById("fault-status").textContent.startsWith("On: Storage errors"));
    await sandbox("PUT", "/_sandbox/faults", { api_canned_next: [{ status: 422, body: JSON.stringify({ errors: "refused by the test" }) }] });
    await add([{ name: `refused-${engine}.txt`, size: 1_000, seed: 14 }]);
    await allDone(1);
    await sandbox("PUT", "/_sandbox/faults", {});
    await add([{ name: `fine-${engine}.txt`, size: 1_000, seed: 15 }]);
    assert.deepEqual((await allDone(2)).sort(), ["done", "failed"]);
    await page.evaluate(() => { document.getElementById("settings").open = true; });
    // axe-core, its source run as WebDriver's script (the page's CSP admits no other script).
    const axeSource = fs.readFileSync(path.join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");
    await page.browser.execute(`${axeSource}\nreturn true;`);
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run(document, { resultTypes: ["violations"] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target) }));
    });
    const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(bad, [], JSON.stringify(violations));
    assert.deepEqual(await page.takeProblems(), []);
  });

  async function screenshot(name) {
    const shot = await page.browser.takeScreenshot();
    fs.writeFileSync(path.join(ARTIFACTS, `${name}-${engine}.png`), Buffer.from(shot, "base64"));
  }
});
