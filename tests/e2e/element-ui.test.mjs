// <procore-uploader> (issue 24) as people meet it, in each browser engine against the
// sandbox: an automated accessibility check (axe-core) of its shadow DOM with rows in
// every state, light and dark; a page under the strict Content-Security-Policy the
// issue names; a 360 px phone and a 400 px side panel with hostile file names (no
// horizontal scroll); screenshots kept under artifacts/element/; a thousand rows whose
// rendering per progress event does not grow with the number of rows; keyboard only.
//
// The element lives in a page of the fixture server, mostly inside an iframe of a
// given width (a window cannot be made narrower than 447 to 500 px in these engines;
// an iframe's document has exactly the viewport it is given). Rows reach their states
// with the sandbox's fault injection: a canned 422 for Create Upload (failed, Retry
// shown), storage answers held back (uploading), and the row buttons (paused, cancelled).
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Key } from "webdriverio";
import { serveWithCsp } from "./consumer-apps.mjs";
import { describeInEngines, openWorld, ROOT } from "./support.mjs";

const ARTIFACTS = path.join(ROOT, "artifacts/element");

/**
 * The issue's policy, for the sandbox's API and storage origins, plus `img-src data:`
 * for the test page's own icon (`<link rel="icon" href="data:,">`): Firefox loads a
 * page's icon under the page's policy, and without that link Firefox and WebKit fetch
 * /favicon.ico (both reported as img-src violations, neither the element's). The
 * element uses no image: one made from a hostile file name (`<img src=x>`, same
 * origin) would still be blocked and reported.
 */
const issueCsp = (api, storage) =>
  `default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; worker-src 'self'; connect-src 'self' ${api} ${storage}; img-src data:`;

/** A 200-character file name without a space. */
const LONG_NAME = `Site-survey_North-wing_level-03_${"0123456789abcdef".repeat(12)}`.slice(0, 196) + ".pdf";

/**
 * Installed in the page (after each load): `window.__ui`, which opens a page with one
 * `<procore-uploader>` (in the top page, or in an iframe of a given size loading
 * fixtures/element-frame.html), records its events, adds files, presses row buttons,
 * reads the rows as a person sees them, measures whether everything fits, and runs axe.
 */
function installUi() {
  if (window.__ui) return;
  const ui = {
    frame: null,
    win: null,
    el: null,
    events: [],
    progress: {},
    progressEvents: 0,
    waiters: [],
    /**
     * A fresh element on client company 7 of the sandbox at `api`; `frame`: `{ width,
     * height }` of an iframe to put it in (else the top page); `around`: a button
     * before and after it (keyboard order).
     */
    async open({ api, attrs = {}, theme = null, frame = null, around = false }) {
      await ui.close();
      let win = window;
      if (frame) {
        const iframe = document.createElement("iframe");
        iframe.id = "ui-frame";
        iframe.title = "procore-uploader";
        iframe.width = String(frame.width);
        iframe.height = String(frame.height);
        iframe.style.cssText = "position: fixed; top: 0; left: 0; border: 0; background: #fff; z-index: 1";
        const loaded = new Promise((resolve) => iframe.addEventListener("load", resolve, { once: true }));
        iframe.src = "/element-frame.html";
        document.body.append(iframe);
        await loaded;
        win = iframe.contentWindow;
        await win.__loaded;
        // The frame's errors count as the page's (browsers.mjs watches the top page).
        win.addEventListener("error", (event) => window.__problems?.push(`frame pageerror: ${event.message}`));
        win.addEventListener("unhandledrejection", (event) =>
          window.__problems?.push(`frame unhandledrejection: ${event.reason?.message ?? event.reason}`));
        ui.frame = iframe;
      } else if (!window.__pkg) {
        window.__pkg = await import("/pkg/index.js");
        window.__element = await import("/pkg/element.js");
      }
      ui.win = win;
      const doc = win.document;
      const el = doc.createElement("procore-uploader");
      for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
      if (theme) el.setAttribute("theme", theme);
      el.client = new win.__pkg.ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true });
      ui.events = [];
      ui.progress = {};
      ui.progressEvents = 0;
      ui.waiters = [];
      for (const type of ["upload-progress", "upload-complete", "upload-error", "files-rejected", "queue-complete"]) {
        el.addEventListener(type, (event) => {
          const { detail } = event;
          const name = detail.file?.name ?? null;
          if (type === "upload-progress") {
            ui.progress[name] = detail.progress;
            ui.progressEvents++;
          } else {
            ui.events.push({
              type,
              name,
              detail: type === "upload-complete" ? { uuid: detail.result?.uuid, size: detail.result?.size }
                : type === "upload-error" ? { code: detail.error?.code, status: detail.error?.status }
                  : type === "files-rejected" ? { reason: detail.reason }
                    : detail,
            });
          }
          ui.waiters = ui.waiters.filter((waiter) => !waiter());
        });
      }
      if (around) {
        const before = doc.createElement("button");
        before.id = "before";
        before.textContent = "before";
        const after = doc.createElement("button");
        after.id = "after";
        after.textContent = "after";
        doc.body.append(before, el, after);
      } else {
        doc.body.append(el);
      }
      ui.el = el;
    },
    /** Resolves once `check()` holds (checked now, at each event and each 50 ms), or fails naming `what`. */
    until(check, what, ms = 120_000) {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const timer = setInterval(() => waiter(), 50);
        let settled = false;
        const waiter = () => {
          if (settled) return true;
          if (check()) {
            settled = true;
            clearInterval(timer);
            resolve();
          } else if (Date.now() - started > ms) {
            settled = true;
            clearInterval(timer);
            reject(new Error(`never happened: ${what}; events ${JSON.stringify(ui.events)}`));
          }
          return settled;
        };
        if (!waiter()) ui.waiters.push(waiter);
      });
    },
    /** Resolves once `count` events of `type` (for the file `name`, unless undefined) came. */
    waitEvent(type, name, ms, count = 1) {
      return ui.until(
        () => ui.events.filter((e) => e.type === type && (name === undefined || e.name === name)).length >= count,
        `${count} × ${type} ${name ?? ""}`, ms);
    },
    waitPhase(name, phase) {
      return ui.until(() => ui.progress[name]?.phase === phase, `${name} ${phase}`);
    },
    /** Resolves once the row of `name` is in `state` and the element drew it. */
    async waitState(name, state) {
      await ui.until(() => ui.row(name)?.getAttribute("data-state") === state, `${name} ${state}`);
      await ui.frames();
    },
    /** Adds files `{ name, size }` (random bytes) as one drop would. */
    add(files) {
      const { win } = ui;
      ui.el.addFiles(files.map(({ name, size = 1000, type = "application/pdf" }) => {
        const bytes = new win.Uint8Array(size);
        for (let at = 0; at < size; at += 65536) win.crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65536)));
        return new win.File([bytes], name, { type });
      }));
    },
    /** The row of the file `name` (shown with its bidirectional controls made visible). */
    row(name) {
      const shown = name.replace(/\u202E/g, "⟨U+202E⟩");
      return [...ui.el.shadowRoot.querySelectorAll('[part~="file"]')].find((row) => row.querySelector(".name").textContent === shown);
    },
    /** Clicks the row's button (`pause`, `resume`, `cancel`, `retry`). */
    press(name, action) {
      ui.row(name).querySelector(`button[data-action="${action}"]`).click();
    },
    /** Two frames and a task: whatever the element scheduled is drawn. */
    frames() {
      return new Promise((resolve) => ui.win.requestAnimationFrame(() => ui.win.requestAnimationFrame(() => setTimeout(resolve, 0))));
    },
    /** The rows as a person sees them (after the next frames). */
    async rows() {
      await ui.frames();
      const text = (node) => (node && !node.hidden ? node.textContent : null);
      return [...ui.el.shadowRoot.querySelectorAll('[part~="file"]')].map((row) => {
        const bar = row.querySelector('[part~="progress"]');
        return {
          name: row.querySelector(".name").textContent,
          state: row.getAttribute("data-state"),
          status: row.querySelector(".status").textContent,
          message: text(row.querySelector(".message")),
          details: text(row.querySelector(".details")),
          bar: { now: bar.getAttribute("aria-valuenow"), max: bar.getAttribute("aria-valuemax"), label: bar.getAttribute("aria-label") },
          buttons: [...row.querySelectorAll("button")].filter((b) => !b.hidden).map((b) => b.textContent),
        };
      });
    },
    summary() {
      const summary = ui.el.shadowRoot.querySelector('[part~="summary"]');
      return {
        text: summary.querySelector(".summary-text").textContent,
        buttons: [...summary.querySelectorAll("button")].filter((b) => !b.hidden).map((b) => b.textContent),
      };
    },
    /**
     * Whether everything fits: the document's scroll width against its client width,
     * and every box and every text of the element (the visually hidden live region
     * aside) inside `container` (a CSS selector in the frame's document) or the element.
     */
    async fit(container) {
      await ui.frames();
      const doc = ui.win.document;
      const outer = (container ? doc.querySelector(container) : ui.el).getBoundingClientRect();
      const outside = [];
      const check = (what, rect) => {
        if (rect.width === 0 && rect.height === 0) return;
        if (rect.left < outer.left - 0.5 || rect.right > outer.right + 0.5) {
          outside.push({ what, left: Math.round(rect.left), right: Math.round(rect.right), within: [Math.round(outer.left), Math.round(outer.right)] });
        }
      };
      const describe = (node) => `${node.tagName.toLowerCase()}.${node.className || ""}${node.textContent ? ` "${node.textContent.slice(0, 40)}"` : ""}`;
      check("procore-uploader", ui.el.getBoundingClientRect());
      const walker = doc.createTreeWalker(ui.el.shadowRoot, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
      const range = doc.createRange();
      // What a box clips (a button's text cut with an ellipsis) is not laid out beyond it.
      const clips = (element) => ui.win.getComputedStyle(element).overflowX !== "visible";
      const clippedInside = (node) => {
        for (let at = node.parentElement; at; at = at.parentElement) if (clips(at)) return true;
        return false;
      };
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const element = node.nodeType === 1 ? node : node.parentElement;
        if (element.closest(".visually-hidden") || clippedInside(node)) continue;
        if (node.nodeType === 1) {
          check(describe(node), node.getBoundingClientRect());
          if (!clips(node) && node.scrollWidth > node.clientWidth + 1 && node.clientWidth > 0) {
            outside.push({ what: `${describe(node)} overflows its box`, scrollWidth: node.scrollWidth, clientWidth: node.clientWidth });
          }
        } else {
          range.selectNodeContents(node);
          check(`text "${node.textContent.slice(0, 40)}"`, range.getBoundingClientRect());
        }
      }
      const scroller = doc.scrollingElement;
      return {
        viewport: ui.win.innerWidth,
        scrollWidth: scroller.scrollWidth,
        clientWidth: scroller.clientWidth,
        container: Math.round(outer.width),
        outside,
      };
    },
    /** Puts the element into a side panel `width` px wide beside a main column. */
    panel(width) {
      const doc = ui.win.document;
      const layout = doc.createElement("div");
      layout.style.cssText = "display: flex; gap: 16px";
      const main = doc.createElement("main");
      main.style.cssText = "flex: 1 1 auto; min-width: 0";
      main.textContent = "Project documents";
      const aside = doc.createElement("aside");
      aside.id = "panel";
      aside.style.cssText = `box-sizing: border-box; flex: 0 0 ${width}px; width: ${width}px; border-left: 1px solid #ccc; padding: 0 0 0 12px`;
      doc.body.append(layout);
      layout.append(main, aside);
      aside.append(ui.el);
    },
    /** axe-core on the element (its shadow DOM included): violations by rule, impact and nodes. */
    async axe() {
      const { win } = ui;
      if (!win.axe) {
        const script = win.document.createElement("script");
        script.src = "/axe/axe.min.js";
        await new Promise((resolve, reject) => {
          script.onload = resolve;
          script.onerror = () => reject(new Error("axe-core did not load"));
          win.document.head.append(script);
        });
      }
      await ui.frames();
      const result = await win.axe.run(ui.el, { resultTypes: ["violations"] });
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
      }));
    },
    async close() {
      const { el } = ui;
      ui.el = null;
      if (el) {
        await el.cancelAll();
        el.remove();
        el.client.close();
      }
      ui.frame?.remove();
      ui.frame = null;
    },
  };
  window.__ui = ui;
}

describeInEngines("<procore-uploader> for people: accessibility, CSP, narrow screens, a thousand rows, keyboard", (engine) => {
  let world, sandbox, page;

  before(async () => {
    world = await openWorld("element-ui", [], engine, { "/axe/": path.join(ROOT, "node_modules/axe-core") });
    ({ sandbox, page } = world);
    await page.browser.setWindowSize(1280, 1000);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await world?.close();
  });

  afterEach(async () => {
    await page.evaluate(() => window.__ui?.close());
    await sandbox.setFaults({});
    assert.deepEqual(await world.takeProblems(), [], "no page errors or console errors");
  });

  /** `window.__ui[method](...args)` in the page. */
  const ui = (method, ...args) => page.evaluate(({ method, args }) => window.__ui[method](...args), { method, args });

  /** The fixture page, freshly loaded, with a new element (see `installUi().open`). */
  async function open(options = {}) {
    await page.goto(`${world.server.url}/`);
    await page.evaluate(installUi);
    await ui("open", { api: sandbox.api, ...options });
  }

  /**
   * Saves what the element's frame shows as `artifacts/element/<name>-<engine>.png`:
   * the viewport's screenshot cut to the frame in a canvas of the page (WebKitGTK's
   * element screenshots come out partly black); resolves to the PNG's bytes.
   */
  async function screenshot(name) {
    const shot = await page.browser.takeScreenshot();
    const data = await page.evaluate(async (shot) => {
      const rect = window.__ui.frame.getBoundingClientRect();
      const scale = devicePixelRatio;
      const image = new Image();
      image.src = `data:image/png;base64,${shot}`;
      await image.decode();
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(rect.width * scale);
      canvas.height = Math.round(rect.height * scale);
      canvas.getContext("2d").drawImage(image, rect.left * scale, rect.top * scale, canvas.width, canvas.height, 0, 0, canvas.width, canvas.height);
      return canvas.toDataURL("image/png").replace(/^data:image\/png;base64,/, "");
    }, shot);
    const png = Buffer.from(data, "base64");
    fs.writeFileSync(path.join(ARTIFACTS, `${name}-${engine}.png`), png);
    return png;
  }

  /**
   * Adds one file per state of `names` and brings each there: `failed` (Procore
   * refuses Create Upload with a 422: a message, the code and Retry), `done`,
   * `cancelled`, `uploading` and `paused` (storage holds its answers meanwhile: the
   * rows stay there until the test ends). Each state is optional.
   */
  async function rowsInStates(names, size = 3_000_000) {
    if (names.failed) {
      await sandbox.setFaults({ api_canned_next: [{ status: 422, body: JSON.stringify({ errors: "The project is archived." }) }] });
      await ui("add", [{ name: names.failed, size: 2_000 }]);
      await ui("waitEvent", "upload-error", names.failed);
      await sandbox.setFaults({});
    }
    if (names.done) {
      await ui("add", [{ name: names.done, size: 150_000 }]);
      await ui("waitEvent", "upload-complete", names.done);
    }
    // Storage answers in ten minutes: what is being sent stays "Uploading".
    await sandbox.setFaults({ storage_latency_ms: 600_000 });
    if (names.cancelled) {
      await ui("add", [{ name: names.cancelled, size }]);
      await ui("waitPhase", names.cancelled, "uploading");
      await ui("press", names.cancelled, "cancel");
      await ui("waitState", names.cancelled, "cancelled");
    }
    const held = [names.uploading, names.paused].filter(Boolean);
    if (held.length) {
      await ui("add", held.map((name) => ({ name, size })));
      for (const name of held) await ui("waitPhase", name, "uploading");
    }
    if (names.paused) {
      await ui("press", names.paused, "pause");
      await ui("waitState", names.paused, "paused");
    }
    return ui("rows");
  }

  /** Checks that each row of `names` shows its state as a person should see it. */
  function assertStates(rows, names) {
    const row = (name) => rows.find((r) => r.name === name) ?? assert.fail(`no row ${name}: ${JSON.stringify(rows)}`);
    if (names.failed) {
      const failed = row(names.failed);
      assert.equal(failed.state, "failed");
      assert.equal(failed.message, "Procore refused the request.");
      assert.match(failed.details, /^Code HTTP, HTTP 422/);
      assert.deepEqual(failed.buttons, [`Retry ${names.failed}`]);
    }
    if (names.done) {
      assert.deepEqual([row(names.done).status, row(names.done).bar.now, row(names.done).buttons], ["Uploaded", "100", []]);
    }
    if (names.cancelled) assert.deepEqual([row(names.cancelled).status, row(names.cancelled).buttons], ["Cancelled", []]);
    if (names.uploading) {
      assert.match(row(names.uploading).status, /^Uploading/);
      assert.deepEqual(row(names.uploading).buttons, [`Pause ${names.uploading}`, `Cancel ${names.uploading}`]);
    }
    if (names.paused) {
      assert.equal(row(names.paused).status, "Paused");
      assert.deepEqual(row(names.paused).buttons, [`Resume ${names.paused}`, `Cancel ${names.paused}`]);
    }
  }

  test("axe-core: no serious or critical violation with rows in every state, light and dark", async () => {
    await open({ frame: { width: 960, height: 760 }, theme: "light" });
    const names = { failed: "refused.pdf", done: "plan.pdf", cancelled: "cancelled.pdf", uploading: "sending.pdf", paused: "paused.pdf" };
    assertStates(await rowsInStates(names), names);
    const bad = [];
    for (const theme of ["light", "dark"]) {
      await page.evaluate((theme) => window.__ui.el.setAttribute("theme", theme), theme);
      const violations = await ui("axe");
      for (const v of violations) {
        const line = `${v.impact} ${v.id} (${v.help}): ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`;
        if (v.impact === "serious" || v.impact === "critical") bad.push(`${theme}: ${line}\n  ${v.nodes.map((n) => n.summary).join("\n  ")}`);
        else console.log(`# ${engine} ${theme}: axe, left (not serious): ${line}`);
      }
      if (violations.length === 0) console.log(`# ${engine} ${theme}: axe found no violation`);
      await screenshot(`every-state-${theme}`);
    }
    assert.deepEqual(bad, [], "no serious or critical axe violation");
  });

  test("under the issue's strict CSP the element renders, uploads, and nothing is reported", async () => {
    // A page of its own origin with only module scripts from it; the packed package under /pkg/.
    const root = path.join(world.dir, "csp-page");
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(root);
    fs.cpSync(path.join(world.dir, "package"), path.join(root, "pkg"), { recursive: true });
    fs.writeFileSync(path.join(root, "index.html"), `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><link rel="icon" href="data:,"><title>procore-uploader under a strict CSP</title>
<script type="module" src="./main.js"></script></head>
<body></body>
</html>
`);
    // Installed first (imported first): every violation the page sees.
    fs.writeFileSync(path.join(root, "probe.js"), `window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(\`\${event.effectiveDirective || event.violatedDirective} blocked \${event.blockedURI || "(inline)"} \${event.sample || ""}\`);
});
`);
    fs.writeFileSync(path.join(root, "main.js"), `import "./probe.js";
import * as pkg from "./pkg/index.js";
import * as element from "./pkg/element.js";
window.__pkg = pkg;
window.__element = element;
`);
    const csp = issueCsp(sandbox.api, new URL(sandbox.storage).origin);
    const server = await serveWithCsp(root, csp);
    try {
      await page.goto(`${server.url}/`);
      await page.evaluate(installUi);
      await ui("open", { api: sandbox.api });
      const hostile = "<img src=x onerror=alert(1)>.pdf";
      await ui("add", [{ name: "under-csp.pdf", size: 200_000 }, { name: hostile, size: 1_000 }]);
      await ui("waitEvent", "queue-complete");
      const seen = await page.evaluate(async () => {
        const { el } = window.__ui;
        const dropzone = el.shadowRoot.querySelector('[part~="dropzone"]');
        const style = getComputedStyle(dropzone);
        return {
          rows: await window.__ui.rows(),
          events: window.__ui.events,
          dropzone: dropzone.textContent,
          // The stylesheet applied: the dashed border is the element's own CSS.
          border: style.borderTopStyle,
          adopted: el.shadowRoot.adoptedStyleSheets.length,
          images: el.shadowRoot.querySelectorAll("img").length,
        };
      });
      // Reports travel on their own (a worker's too): give a late one a moment.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const violations = await page.evaluate(() => window.__violations);
      assert.deepEqual(violations, [], "no securitypolicyviolation event");
      assert.deepEqual(server.reports(), [], "no CSP violation report");
      assert.equal(seen.dropzone, "Drop files here or choose files");
      assert.equal(seen.border, "dashed", "the element's stylesheet applies under style-src 'self'");
      assert.equal(seen.adopted, 1);
      assert.equal(seen.images, 0, "the hostile name made no element");
      assert.deepEqual(seen.rows.map((r) => [r.name, r.status]), [["under-csp.pdf", "Uploaded"], [hostile, "Uploaded"]]);
      const completes = seen.events.filter((e) => e.type === "upload-complete");
      assert.equal(completes.length, 2);
      for (const { name, detail } of completes) {
        const record = await sandbox.inspect(detail.uuid);
        assert.equal(record.stored?.size, name === hostile ? 1_000 : 200_000, `${name} is in storage`);
      }
      assert.deepEqual(seen.events.filter((e) => e.type === "queue-complete").map((e) => e.detail), [{ succeeded: 2, failed: 0 }]);
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      throw new Error(`${error.message}\n--- CSP violation reports ---\n${server.reports().join("\n")}`, { cause: error });
    } finally {
      await page.evaluate(() => window.__ui?.close()).catch(() => {});
      await server.close();
    }
  });

  const HOSTILE = {
    failed: LONG_NAME,
    done: "<img src=x onerror=alert(1)>.pdf",
    uploading: "تقرير_الموقع_النهائي_للمشروع_الطابق_الثالث.pdf",
    paused: "🏗️👷🏽‍♀️📐🚧🏗️👷🏽‍♀️📐🚧🏗️👷🏽‍♀️📐🚧🏗️👷🏽‍♀️📐🚧 plan.pdf",
    cancelled: "invoice\u202Efdp.exe",
  };

  test("360 px wide and in a 400 px side panel: hostile names in several states, no horizontal scroll", async () => {
    await open({ frame: { width: 360, height: 740 } });
    const rows = await rowsInStates(HOSTILE);
    // A bidirectional control is shown, so "invoice\u202Efdp.exe" cannot pass for a PDF.
    const shownCancelled = "invoice⟨U+202E⟩fdp.exe";
    assertStates(rows, { ...HOSTILE, cancelled: shownCancelled });
    assert.deepEqual(rows.map((r) => r.name), [HOSTILE.failed, HOSTILE.done, shownCancelled, HOSTILE.uploading, HOSTILE.paused], "each name as text");
    assert.equal(await page.evaluate(() => window.__ui.el.shadowRoot.querySelectorAll("img").length), 0);
    const narrow = await ui("fit");
    assert.equal(narrow.viewport, 360);
    await screenshot("narrow-360");
    assert.ok(narrow.scrollWidth <= narrow.clientWidth, `no horizontal scroll at 360 px: ${JSON.stringify(narrow)}`);
    assert.deepEqual(narrow.outside, [], "every box and text of the element inside it");
    // The same rows in a 400 px side panel of a desktop page.
    await page.evaluate(() => {
      window.__ui.frame.width = "1100";
      window.__ui.panel(400);
    });
    const panel = await ui("fit", "#panel");
    assert.equal(panel.container, 400);
    assert.ok(panel.scrollWidth <= panel.clientWidth, `no horizontal scroll with the side panel: ${JSON.stringify(panel)}`);
    assert.deepEqual(panel.outside, [], "every box and text of the element inside the panel");
  });

  test("screenshot of a finished batch (desktop)", async () => {
    await open({ frame: { width: 960, height: 560 } });
    await sandbox.setFaults({ api_canned_next: [{ status: 422, body: JSON.stringify({ errors: "The project is archived." }) }] });
    await ui("add", [{ name: "Level 2 – electrical.dwg", size: 2_000 }]);
    await ui("waitEvent", "upload-error");
    await sandbox.setFaults({});
    const files = [["A-101 Ground floor plan.pdf", 2_400_000], ["site-photo-2026-11-23.jpg", 830_000], ["RFI-0042 response.docx", 96_000], ["notes.txt", 12]];
    await ui("add", files.map(([name, size]) => ({ name, size })));
    // The failed file's batch was the first.
    await ui("waitEvent", "queue-complete", undefined, 120_000, 2);
    const rows = await ui("rows");
    assert.deepEqual(rows.map((r) => r.status), ["Failed", "Uploaded", "Uploaded", "Uploaded", "Uploaded"]);
    const look = await page.evaluate(() => {
      const { el, win } = window.__ui;
      const root = el.shadowRoot;
      const colour = (selector) => win.getComputedStyle(root.querySelector(selector)).color;
      const probe = win.document.createElement("span");
      probe.style.color = "#1e7b34";
      win.document.body.append(probe);
      const success = win.getComputedStyle(probe).color;
      probe.style.color = "#b3261e";
      const error = win.getComputedStyle(probe).color;
      probe.remove();
      return {
        summary: window.__ui.summary(),
        done: colour('[data-state="done"] .status'),
        failed: colour('[data-state="failed"] .status'),
        success,
        error,
      };
    });
    assert.deepEqual(look.summary, { text: "4 of 5 uploaded · 1 failed", buttons: ["Clear finished"] });
    assert.equal(look.done, look.success, "Uploaded in the success colour");
    assert.equal(look.failed, look.error, "Failed in the error colour");
    const png = await screenshot("finished-batch");
    assert.equal(png.subarray(1, 4).toString(), "PNG");
    assert.ok(png.readUInt32BE(16) >= 960, `the screenshot is the frame's width: ${png.readUInt32BE(16)}`);
  });

  test("a thousand files: all complete, and each progress event's rendering does not grow with the rows", async () => {
    const COUNT = 1000;
    await open({ frame: { width: 960, height: 760 } });
    // Counted in the frame's realm, on the element's shadow tree only: every read or
    // write of a text, an attribute, `hidden` or a bar's value (what rendering a row
    // does), and every DOM mutation.
    await page.evaluate(() => {
      const { win, el } = window.__ui;
      const root = el.shadowRoot;
      const counts = { touches: 0, statusReads: 0, mutations: 0 };
      const wrap = (proto, name) => {
        const original = Object.getOwnPropertyDescriptor(proto, name);
        const mine = (node) => node.getRootNode() === root;
        const wrapped = { configurable: true, enumerable: original.enumerable };
        if (original.value) {
          wrapped.value = function (...args) {
            if (mine(this)) counts.touches++;
            return original.value.apply(this, args);
          };
          wrapped.writable = true;
        } else {
          wrapped.get = function () {
            if (mine(this)) {
              counts.touches++;
              if (name === "textContent" && this.classList?.contains("status")) counts.statusReads++;
            }
            return original.get.call(this);
          };
          wrapped.set = function (value) {
            if (mine(this)) counts.touches++;
            original.set.call(this, value);
          };
        }
        Object.defineProperty(proto, name, wrapped);
        return () => Object.defineProperty(proto, name, original);
      };
      window.__restore = [
        wrap(win.Node.prototype, "textContent"),
        wrap(win.Element.prototype, "getAttribute"),
        wrap(win.Element.prototype, "setAttribute"),
        wrap(win.HTMLElement.prototype, "hidden"),
        wrap(win.HTMLProgressElement.prototype, "value"),
      ];
      window.__counts = counts;
      const observer = new win.MutationObserver((records) => { counts.mutations += records.length; });
      observer.observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
      window.__observer = observer;
    });
    const result = await page.evaluate(async (count) => {
      const ui = window.__ui;
      const files = Array.from({ length: count }, (_, i) => ({ name: `tiny-${String(i).padStart(4, "0")}.txt`, size: 64, type: "text/plain" }));
      ui.add(files);
      // Making the rows is not rendering per event: counted from here on.
      const counts = window.__counts;
      const atAdd = { ...counts };
      await ui.frames();
      const afterFirst = { ...counts };
      await ui.waitEvent("queue-complete", undefined, 900_000);
      const rows = await ui.rows();
      window.__observer.takeRecords();
      window.__observer.disconnect();
      for (const restore of window.__restore) restore();
      const end = { ...counts };
      const diff = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k] - b[k]]));
      return {
        rows: rows.length,
        uploaded: rows.filter((r) => r.status === "Uploaded").length,
        completes: ui.events.filter((e) => e.type === "upload-complete").length,
        queue: ui.events.filter((e) => e.type === "queue-complete").map((e) => e.detail),
        progressEvents: ui.progressEvents,
        firstFrame: diff(afterFirst, atAdd),
        render: diff(end, atAdd),
      };
    }, COUNT);
    console.log(`# ${engine}: ${COUNT} rows: ${JSON.stringify(result)}`);
    assert.equal(result.rows, COUNT);
    assert.equal(result.uploaded, COUNT);
    assert.equal(result.completes, COUNT);
    assert.deepEqual(result.queue, [{ succeeded: COUNT, failed: 0 }]);
    // A row is drawn again only when something of it changed: a progress event, or
    // its own start and end (two per file). Rows drawn, DOM reads and writes and DOM
    // mutations per such change are then bounded by what one row holds, whatever the
    // number of rows; drawing every row at each frame makes them grow with the rows.
    const changes = result.progressEvents + 2 * COUNT;
    const per = Object.fromEntries(Object.entries(result.render).map(([k, v]) => [k, v / changes]));
    console.log(`# ${engine}: per change (progress event or a row's start or end): ${JSON.stringify(per)}`);
    assert.ok(result.render.statusReads <= changes, `rows drawn (${result.render.statusReads}) <= changes (${changes})`);
    assert.ok(per.touches <= 40, `DOM reads and writes per change: ${per.touches}`);
    assert.ok(per.mutations <= 10, `DOM mutations per change: ${per.mutations}`);
  });

  test("keyboard only: Tab reaches the dropzone, each visible row button and the summary buttons in order; Enter and Space pause", async () => {
    await open({ around: true });
    const names = { failed: "refused.pdf", done: "done.pdf", uploading: "alpha.pdf" };
    await rowsInStates(names);
    // A second file held in storage too.
    await ui("add", [{ name: "beta.pdf", size: 3_000_000 }]);
    await ui("waitPhase", "beta.pdf", "uploading");
    await ui("rows");
    /** What has the focus, by its name. */
    const focused = () => page.evaluate(() => {
      const active = document.activeElement;
      const inner = active?.shadowRoot?.activeElement ?? active;
      if (!inner || inner === document.body) return "(body)";
      if (inner.getAttribute("part") === "dropzone") return "dropzone";
      return inner.textContent;
    });
    /** Focus on the button before the element, then `count` Tabs; the names focused on the way. */
    const tabFromBefore = async (count) => {
      await page.evaluate(() => document.getElementById("before").focus());
      const seen = [];
      for (let i = 0; i < count; i++) {
        await page.browser.keys([Key.Tab]);
        seen.push(await focused());
      }
      return seen;
    };
    assert.deepEqual(await tabFromBefore(10), [
      "dropzone",
      "Retry refused.pdf",
      "Pause alpha.pdf",
      "Cancel alpha.pdf",
      "Pause beta.pdf",
      "Cancel beta.pdf",
      "Pause all",
      "Cancel all",
      "Clear finished",
      "after",
    ]);
    // Enter on "Pause alpha.pdf".
    assert.equal((await tabFromBefore(3)).at(-1), "Pause alpha.pdf");
    await page.browser.keys([Key.Enter]);
    await ui("waitState", "alpha.pdf", "paused");
    // The pressed button is hidden now: the focus moves to the one in its place.
    await page.waitForFunction(() => {
      const inner = document.activeElement?.shadowRoot?.activeElement;
      return inner?.textContent === "Resume alpha.pdf";
    });
    assert.equal(await focused(), "Resume alpha.pdf", "the focus on Resume after Pause");
    // Space on "Pause beta.pdf" (alpha's row now offers Resume).
    assert.deepEqual(await tabFromBefore(5), ["dropzone", "Retry refused.pdf", "Resume alpha.pdf", "Cancel alpha.pdf", "Pause beta.pdf"]);
    await page.browser.keys([Key.Space]);
    await ui("waitState", "beta.pdf", "paused");
    const rows = await ui("rows");
    assert.deepEqual(rows.map((r) => [r.name, r.status, r.buttons]), [
      ["refused.pdf", "Failed", ["Retry refused.pdf"]],
      ["done.pdf", "Uploaded", []],
      ["alpha.pdf", "Paused", ["Resume alpha.pdf", "Cancel alpha.pdf"]],
      ["beta.pdf", "Paused", ["Resume beta.pdf", "Cancel beta.pdf"]],
    ]);
    assert.deepEqual((await ui("summary")).buttons, ["Resume all", "Cancel all", "Clear finished"]);
  });
});
