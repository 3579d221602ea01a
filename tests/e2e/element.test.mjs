// <procore-uploader> (issue 24) in each browser engine against the sandbox, loaded from
// the packed package as `procore-upload/element`: three files dropped (a DataTransfer
// built in the page, dispatched as a drop on the dropzone) upload, are attached to a
// project's Documents and fire upload-complete and queue-complete with the issue's
// payloads; a hostile file name is shown as text; files over max-file-size, beyond
// max-files or not in accept fire files-rejected; the dropzone is a keyboard button
// (a real Enter opens the file picker). Driven as a person would, with the real keyboard
// on the rows' buttons: one file paused (storage quiet) and resumed, another cancelled;
// files picked into the element's own input from disk; a reload mid-upload and the same
// file added again (only the missing parts sent); a refused attach shown with Retry,
// which attaches once; a folder tree into a project's Documents through uploadFolder.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { describeInEngines, openWorld, openssl, randomFile } from "./support.mjs";

const MiB = 1024 * 1024;

describeInEngines("<procore-uploader> in each browser engine against the sandbox", (engine) => {
  let world, sandbox, page;

  before(async () => {
    world = await openWorld("element", [], engine);
    ({ sandbox, page } = world);
  });

  after(async () => {
    await world?.close();
  });

  afterEach(async () => {
    assert.deepEqual(await world.takeProblems(), [], "no page errors or console errors");
  });

  /**
   * Runs `body(env, arg)` in the page with a fresh `<procore-uploader>` in the body:
   * `env` has `el` (its client company 7 on the sandbox, attributes from `attrs`),
   * `events` (every event of the element, `{ type, detail }` with files by name),
   * `until(type)` (resolves at the next event of that type), `rows()` (each row's
   * name, status, progressbar and visible buttons, as a person sees them) and the
   * element module. The element is removed and the client closed afterwards.
   */
  function inPage(body, arg, attrs = {}) {
    return page.evaluate(
      async ({ body, arg, api, attrs }) => {
        const pkg = await import("/pkg/index.js");
        const mod = await import("/pkg/element.js");
        const client = new pkg.ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true });
        const el = document.createElement("procore-uploader");
        for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
        el.client = client;
        document.body.append(el);
        const plain = (value) =>
          value instanceof File ? { file: value.name }
            : Array.isArray(value) ? value.map(plain)
              : value && typeof value === "object" && !(value instanceof Error)
                ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
                : value instanceof Error ? { code: value.code, name: value.name, message: value.message }
                  : value;
        const events = [];
        const waiters = [];
        for (const type of ["upload-progress", "upload-complete", "upload-error", "files-rejected", "queue-complete"]) {
          // On the document: the events bubble out of the element.
          document.addEventListener(type, (event) => {
            if (event.target !== el) return;
            if (type !== "upload-progress") events.push({ type, detail: plain(event.detail), bubbles: event.bubbles, composed: event.composed });
            for (const waiter of waiters.filter((w) => w.type === type)) waiter.resolve(event.detail);
          });
        }
        const until = (type) => new Promise((resolve) => waiters.push({ type, resolve }));
        const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
        const rows = async () => {
          await frame();
          return [...el.shadowRoot.querySelectorAll('[part~="file"]')].map((row) => ({
            name: row.querySelector(".name").textContent,
            status: row.querySelector(".status").textContent,
            bar: {
              role: row.querySelector('[part~="progress"]').getAttribute("role"),
              now: row.querySelector('[part~="progress"]').getAttribute("aria-valuenow"),
              max: row.querySelector('[part~="progress"]').getAttribute("aria-valuemax"),
            },
            buttons: [...row.querySelectorAll("button")].filter((b) => !b.hidden).map((b) => b.textContent),
          }));
        };
        try {
          return await new Function("env", "arg", `return (${body})(env, arg);`)(
            { el, events, until, rows, mod, pkg }, arg);
        } finally {
          el.remove();
          client.close();
        }
      },
      { body: body.toString(), arg, api: sandbox.api, attrs },
    );
  }

  /**
   * Puts a `<procore-uploader>` in the page as `window.__el` (client company 7 on the
   * sandbox with `clientOptions`, attributes from `attrs`, `props` set on it) and
   * records its events in `window.__events` (files by name). It stays until the next
   * mount or a reload.
   */
  function mount(attrs = {}, props = {}, clientOptions = {}) {
    return page.evaluate(async ({ api, attrs, props, clientOptions }) => {
      const pkg = await import("/pkg/index.js");
      await import("/pkg/element.js");
      window.__el?.remove();
      window.__el?.client?.close();
      const el = document.createElement("procore-uploader");
      for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
      Object.assign(el, props);
      el.client = new pkg.ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true, ...clientOptions });
      window.__events = [];
      for (const type of ["upload-progress", "upload-complete", "upload-error", "files-rejected", "queue-complete"]) {
        el.addEventListener(type, (event) => {
          const { file, progress, ...rest } = event.detail;
          const detail = JSON.parse(JSON.stringify(rest, (key, value) =>
            value instanceof Error ? { code: value.code, status: value.status, message: value.message } : value));
          if (file) detail.file = file.name;
          if (progress) detail.progress = { phase: progress.phase, bytesUploaded: progress.bytesUploaded };
          window.__events.push({ type, detail });
        });
      }
      window.__rows = () => [...el.shadowRoot.querySelectorAll('[part~="file"]')].map((row) => ({
        name: row.querySelector(".name").textContent,
        state: row.dataset.state,
        status: row.querySelector(".status").textContent,
        message: row.querySelector(".message").hidden ? null : row.querySelector(".message").textContent,
        buttons: [...row.querySelectorAll("button")].filter((b) => !b.hidden).map((b) => b.textContent),
      }));
      window.__el = el;
      document.body.append(el);
    }, { api: sandbox.api, attrs, props, clientOptions });
  }

  /** Resolves once `fn(arg)` in the page is truthy (polled), with what it gave. */
  async function until(fn, arg, what) {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const value = await page.evaluate(fn, arg);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Presses a visible button of the element by its text, with the real keyboard: focus, Enter. */
  async function press(label) {
    const found = await page.evaluate((label) => {
      const button = [...window.__el.shadowRoot.querySelectorAll("button")].find((b) => !b.hidden && b.textContent === label);
      button?.focus();
      return Boolean(button) && window.__el.shadowRoot.activeElement === button;
    }, label);
    assert.equal(found, true, `a focusable button "${label}"`);
    await page.browser.keys(["Enter"]);
  }

  /** Picks files from disk into the element's own file input, as its picker would. */
  async function pickIntoElement(files) {
    const input = await page.browser.execute(() => window.__el.shadowRoot.querySelector('input[type="file"]'));
    await (await page.browser.$(input)).addValue(files.join("\n"));
  }

  const storageLog = async () => (await sandbox.requests()).filter((r) => r.side === "storage" && r.method !== "OPTIONS");

  const documents = async (query) => (await fetch(`${sandbox.api}/_sandbox/documents?${query}`)).json();

  test("three dropped files upload, are attached, and fire upload-complete and queue-complete", async () => {
    const value = await inPage(async ({ el, events, until, rows, mod }) => {
      // A second import (another URL: the module runs again) is harmless.
      await import("/pkg/element.js?again");
      el.target = { projectFile: { projectId: 42 } };
      const transfer = new DataTransfer();
      for (const [name, size] of [["plan.pdf", 70_000], ["photo.jpg", 5000], ["notes.txt", 1]]) {
        const bytes = new Uint8Array(size);
        crypto.getRandomValues(bytes.subarray(0, Math.min(size, 65536)));
        transfer.items.add(new File([bytes], name, { type: "application/octet-stream" }));
      }
      const dropzone = el.shadowRoot.querySelector('[part~="dropzone"]');
      const complete = until("queue-complete");
      const drop = new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true, composed: true });
      dropzone.dispatchEvent(drop);
      await complete;
      return {
        events,
        rows: await rows(),
        defined: customElements.get("procore-uploader") === mod.ProcoreUploader,
        instance: el instanceof mod.ProcoreUploader,
        dropHandled: drop.defaultPrevented,
      };
    }, null, { "project-id": "42" });
    assert.equal(value.defined, true, "procore-uploader is the exported ProcoreUploader");
    assert.equal(value.instance, true);
    assert.equal(value.dropHandled, true, "the drop is taken (its default prevented)");
    const completes = value.events.filter((e) => e.type === "upload-complete");
    assert.deepEqual(completes.map((e) => e.detail.file.file).sort(), ["notes.txt", "photo.jpg", "plan.pdf"]);
    const docs = await documents("project_id=42");
    for (const { detail, bubbles, composed } of completes) {
      assert.equal(bubbles, true);
      assert.equal(composed, true);
      assert.match(detail.result.uuid, /\S/, "result: what upload() resolves to");
      assert.equal(detail.result.size, { "plan.pdf": 70_000, "photo.jpg": 5000, "notes.txt": 1 }[detail.file.file]);
      const there = docs.files.find((f) => f.path === detail.file.file);
      assert.ok(there, `${detail.file.file} is in the project's Documents`);
      assert.equal(there.versions[0].upload_uuid, detail.result.uuid, "attached: the upload that was made");
      assert.equal(detail.attached.id, there.id, "attached: Procore's answer to the attach");
    }
    const queue = value.events.filter((e) => e.type === "queue-complete");
    assert.deepEqual(queue.map((e) => e.detail), [{ succeeded: 3, failed: 0 }]);
    assert.equal(queue[0].bubbles && queue[0].composed, true);
    assert.deepEqual(value.events.filter((e) => e.type === "upload-error" || e.type === "files-rejected"), []);
    assert.equal(value.rows.length, 3);
    for (const row of value.rows) {
      assert.equal(row.status, "Uploaded", JSON.stringify(row));
      assert.deepEqual(row.bar, { role: "progressbar", now: "100", max: "100" });
    }
    assert.deepEqual(value.rows.map((r) => r.name), ["plan.pdf", "photo.jpg", "notes.txt"]);
  });

  test("a hostile file name is shown as text, never run", async () => {
    const name = "<img src=x onerror=alert(1)>.pdf";
    const value = await inPage(async ({ el, until, rows }, name) => {
      window.__alerted = false;
      window.alert = () => { window.__alerted = true; };
      const complete = until("upload-complete");
      el.addFiles([new File(["hostile"], name, { type: "application/pdf" })]);
      const detail = await complete;
      // An image that failed to load would have run its onerror by now.
      await new Promise((resolve) => setTimeout(resolve, 100));
      return {
        attached: detail.attached,
        rows: await rows(),
        images: el.shadowRoot.querySelectorAll("img").length,
        alerted: window.__alerted,
      };
    }, name, { "project-id": "42" });
    assert.equal(value.attached, null, "no target: attached is null");
    assert.equal(value.rows[0].name, name, "the name as text");
    assert.deepEqual(value.rows[0].buttons, [], "no button once uploaded");
    assert.equal(value.images, 0, "no element made from the name");
    assert.equal(value.alerted, false);
  });

  test("files-rejected: too large (max-file-size), too many (max-files), not accepted (accept)", async () => {
    const value = await inPage(async ({ el, events, until }) => {
      const file = (name, size) => new File([new Uint8Array(size)], name, { type: "application/pdf" });
      const complete = until("queue-complete");
      el.addFiles([file("small.pdf", 10), file("big.pdf", 11), file("notes.txt", 1)]);
      await complete;
      el.clear();
      el.setAttribute("max-files", "1");
      const second = until("queue-complete");
      el.addFiles([file("one.pdf", 1), file("two.pdf", 1)]);
      await second;
      return events;
    }, null, { "project-id": "42", "max-file-size": "10", accept: ".pdf" });
    const rejected = value.filter((e) => e.type === "files-rejected");
    assert.deepEqual(rejected.map((e) => e.detail), [
      { files: [{ file: "notes.txt" }], reason: "not-accepted" },
      { files: [{ file: "big.pdf" }], reason: "too-large" },
      { files: [{ file: "two.pdf" }], reason: "too-many" },
    ]);
    assert.ok(rejected.every((e) => e.bubbles && e.composed));
    assert.deepEqual(value.filter((e) => e.type === "upload-complete").map((e) => e.detail.file.file), ["small.pdf", "one.pdf"]);
  });

  test("the dropzone is a keyboard button: Enter on it opens the file picker", async () => {
    const setUp = await page.evaluate(async () => {
      await import("/pkg/element.js");
      const el = document.createElement("procore-uploader");
      el.id = "keyboard";
      document.body.append(el);
      const dropzone = el.shadowRoot.querySelector('[part~="dropzone"]');
      const input = el.shadowRoot.querySelector('input[type="file"]');
      window.__picked = 0;
      // The picker itself is the browser's: count the element's call to open it.
      input.click = () => { window.__picked++; };
      dropzone.focus();
      return {
        tag: dropzone.tagName,
        focused: el.shadowRoot.activeElement === dropzone,
        name: dropzone.textContent,
      };
    });
    assert.deepEqual(setUp, { tag: "BUTTON", focused: true, name: "Drop files here or choose files" });
    await page.browser.keys(["Enter"]);
    await page.waitForFunction(() => window.__picked > 0);
    const picked = await page.evaluate(async () => {
      document.getElementById("keyboard").remove();
      return window.__picked;
    });
    assert.equal(picked, 1, "Enter opened the picker once");
  });

  test("pause one file with the keyboard (storage quiet while paused), resume it, cancel another", async () => {
    await sandbox.clearRequests();
    await sandbox.setFaults({ storage_latency_ms: 150 });
    await mount({ "project-id": "42" }, { uploadOptions: { segmented: true, segmentSize: 6 * MiB } }, { concurrency: 1 });
    const digest = await page.evaluate(async (MiB) => {
      const bytes = (seed) => {
        const data = new Uint8Array(4 * 6 * MiB + 1000);
        for (let i = 0; i < data.length; i += 4096) data[i] = (i / 4096 + seed) & 255;
        return data;
      };
      const a = bytes(1);
      window.__el.addFiles([new File([a], "walls.bin"), new File([bytes(2)], "roof.bin")]);
      const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", a));
      return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
    }, MiB);
    // roof.bin waits behind walls.bin (one upload at a time): cancelled while queued.
    await until(() => window.__rows()[1]?.buttons.includes("Cancel roof.bin"), null, "roof.bin cancellable");
    await press("Cancel roof.bin");
    await until(() => window.__rows()[1].state === "cancelled", null, "roof.bin cancelled");
    await until(() => window.__events.some((e) => e.type === "upload-progress" && e.detail.file === "walls.bin" && e.detail.progress.bytesUploaded >= 6 * 1024 * 1024),
      null, "a part of walls.bin stored");
    await press("Pause walls.bin");
    await until(() => window.__rows()[0].state === "paused", null, "walls.bin paused");
    const paused = await page.evaluate(() => window.__rows());
    assert.equal(paused[0].status, "Paused");
    assert.deepEqual(paused[0].buttons, ["Resume walls.bin", "Cancel walls.bin"]);
    // Paused: nothing open, nothing new.
    const deadline = Date.now() + 3000;
    while ((await storageLog()).some((r) => r.finished_ms === null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const atPause = await storageLog();
    assert.deepEqual(atPause.filter((r) => r.finished_ms === null), [], "no storage request open while paused");
    const progressAtPause = await page.evaluate(() => window.__events.length);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal((await storageLog()).length, atPause.length, "nothing sent while paused");
    assert.equal(await page.evaluate(() => window.__events.length), progressAtPause, "no event while paused");
    const storedAtPause = atPause.filter((r) => r.method === "PUT" && r.status === 200).length;
    await press("Resume walls.bin");
    await until(() => window.__events.some((e) => e.type === "queue-complete") && window.__rows()[0]?.state === "done", null, "the queue complete");
    await sandbox.setFaults({});
    const { events, rows } = await page.evaluate(() => ({ events: window.__events, rows: window.__rows() }));
    const complete = events.filter((e) => e.type === "upload-complete");
    assert.deepEqual(complete.map((e) => e.detail.file), ["walls.bin"], "roof.bin never completes");
    assert.deepEqual(events.filter((e) => e.type === "queue-complete").map((e) => e.detail), [{ succeeded: 1, failed: 0 }]);
    assert.deepEqual(rows.map((r) => [r.name, r.state, r.status]), [["walls.bin", "done", "Uploaded"], ["roof.bin", "cancelled", "Cancelled"]]);
    const record = await sandbox.inspect(complete[0].detail.result.uuid);
    assert.equal(record.stored?.sha256, digest, "stored byte for byte");
    const puts = (await storageLog()).filter((r) => r.method === "PUT" && r.status === 200);
    assert.ok(storedAtPause >= 1, "a part was stored before the pause");
    assert.equal(puts.length, 5, "each of the 5 parts stored once: only the missing ones after the resume");
  });

  test("files picked from disk into the element; a reload mid-upload, then the same file added again sends only the missing parts", async () => {
    const file = randomFile(world.dir, "survey.bin", 6 * 6 * MiB + 77);
    await sandbox.setFaults({ storage_latency_ms: 150 });
    const options = { uploadOptions: { segmented: true, segmentSize: 6 * MiB } };
    await mount({ "project-id": "42" }, options, { concurrency: 1 });
    // What the picker gave, seen before the element takes (and empties) it.
    await page.evaluate(() => window.__el.shadowRoot.addEventListener("change", (event) => {
      window.__picked = [...event.target.files];
    }, true));
    await pickIntoElement([file]);
    await until(async () => {
      const [kept] = window.__picked ? await window.__el.client.findResumable(window.__picked[0], { projectId: 42 }) : [];
      return kept && kept.bytesConfirmed >= 2 * 6 * 1024 * 1024;
    }, null, "two parts kept");
    await page.reload();
    await sandbox.setFaults({});
    await sandbox.clearRequests();
    await mount({ "project-id": "42" }, options);
    await pickIntoElement([file]);
    await until(() => window.__events.some((e) => e.type === "queue-complete"), null, "the queue complete");
    const events = await page.evaluate(() => window.__events);
    const [complete] = events.filter((e) => e.type === "upload-complete");
    assert.equal(complete?.detail.file, "survey.bin", JSON.stringify(events.filter((e) => e.type !== "upload-progress")));
    const log = (await sandbox.requests()).filter((r) => r.method !== "OPTIONS");
    assert.equal(log.filter((r) => r.side === "api" && r.method === "POST").length, 0, "not created again");
    const puts = log.filter((r) => r.side === "storage" && r.method === "PUT");
    assert.ok(puts.length >= 1 && puts.length <= 5, `only the missing parts: ${puts.length} of 7`);
    assert.equal((await sandbox.inspect(complete.detail.result.uuid)).stored?.sha256, openssl("sha256", file), "stored byte for byte");
  });

  test("a refused attach shows why and Retry; Retry attaches once, with one token, without sending the file again", async () => {
    await sandbox.clearRequests();
    const attached = async () => (await documents("project_id=42")).files.filter((f) => f.path === "retry.pdf").length;
    const before = await attached();
    await sandbox.setFaults({ api_faults: [{ fault: "answer_lost", method: "POST", path: "/rest/v1.0/files", next: 1000 }] });
    await mount({}, { target: { projectFile: { projectId: 42 } } });
    await page.evaluate(() => window.__el.addFiles([new File(["a signed page"], "retry.pdf", { type: "application/pdf" })]));
    // Rows are drawn on the next frame after an event.
    await until(() => window.__events.some((e) => e.type === "upload-error") && window.__rows()[0]?.state === "failed", null, "the attach failed");
    await sandbox.setFaults({});
    const failed = await page.evaluate(() => ({ rows: window.__rows(), events: window.__events.filter((e) => e.type !== "upload-progress") }));
    assert.equal(failed.rows[0].state, "failed");
    assert.equal(failed.rows[0].message, "Procore had a problem and did not answer. Try again in a moment.", JSON.stringify(failed));
    assert.deepEqual(failed.rows[0].buttons, ["Retry retry.pdf"]);
    assert.deepEqual(failed.events.map((e) => e.type), ["upload-error", "queue-complete"]);
    assert.deepEqual(failed.events[1].detail, { succeeded: 0, failed: 1 });
    await press("Retry retry.pdf");
    await until(() => window.__events.some((e) => e.type === "upload-complete") && window.__rows()[0]?.state === "done", null, "attached on Retry");
    const { rows, events } = await page.evaluate(() => ({ rows: window.__rows(), events: window.__events.filter((e) => e.type !== "upload-progress") }));
    assert.deepEqual(rows.map((r) => [r.state, r.buttons]), [["done", []]]);
    const complete = events.find((e) => e.type === "upload-complete");
    assert.equal(complete.detail.attached.name, "retry.pdf");
    assert.deepEqual(events.filter((e) => e.type === "queue-complete").map((e) => e.detail), [{ succeeded: 0, failed: 1 }, { succeeded: 1, failed: 0 }]);
    assert.equal(await attached(), before + 1, "attached once over both tries");
    const log = await sandbox.requests();
    const posts = log.filter((r) => r.side === "api" && r.method === "POST" && r.path === "/rest/v1.0/files");
    assert.ok(posts.length >= 2, "lost answers, then the Retry");
    assert.equal(new Set(posts.map((r) => Object.fromEntries(r.headers)["idempotency-token"])).size, 1, "one token on every try");
    assert.equal(log.filter((r) => r.side === "storage" && r.method === "POST").length, 1, "the file sent once");
  });

  test("directory: a picked tree goes into the project's Documents through uploadFolder, folders made once", async () => {
    const value = await inPage(async ({ el, until, rows }) => {
      el.target = { projectFile: { projectId: 42 } };
      const file = (path, text) => {
        const made = new File([text], path.split("/").at(-1), { type: "text/plain" });
        // What a folder pick (webkitdirectory) gives each file.
        Object.defineProperty(made, "webkitRelativePath", { value: path });
        return made;
      };
      const complete = until("queue-complete");
      el.addFiles([file("tower/plans/level-1.txt", "one"), file("tower/plans/level-2.txt", "two"), file("tower/readme.txt", "hello")]);
      const counts = await complete;
      return { counts, rows: await rows() };
    }, null, { directory: "" });
    assert.deepEqual(value.counts, { succeeded: 3, failed: 0 });
    assert.deepEqual(value.rows.map((r) => [r.name, r.status]),
      [["tower/plans/level-1.txt", "Uploaded"], ["tower/plans/level-2.txt", "Uploaded"], ["tower/readme.txt", "Uploaded"]]);
    const docs = await documents("project_id=42");
    for (const path of ["tower/plans/level-1.txt", "tower/plans/level-2.txt", "tower/readme.txt"]) {
      assert.ok(docs.files.some((f) => f.path === path), `${path} in Documents: ${JSON.stringify(docs.files.map((f) => f.path))}`);
    }
    assert.equal(docs.folders.filter((f) => f.path === "tower").length, 1, "tower made once");
    assert.equal(docs.folders.filter((f) => f.path === "tower/plans").length, 1, "tower/plans made once");
  });

  test("strings: a partial object overrides the English texts; disabled: drops are refused, the dropzone is a disabled button, addFiles still adds", async () => {
    const value = await inPage(async ({ el, events, until, rows }) => {
      el.strings = { dropzone: "Dateien hier ablegen", phaseDone: "Hochgeladen", summary: "{done} von {total} hochgeladen", cancel: "{name} abbrechen" };
      const dropzone = el.shadowRoot.querySelector('[part~="dropzone"]');
      const texts = { dropzone: dropzone.textContent, english: el.strings.pauseAll };
      el.disabled = true;
      const transfer = new DataTransfer();
      transfer.items.add(new File(["dropped"], "dropped.txt"));
      const drop = new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true, composed: true });
      dropzone.dispatchEvent(drop);
      const afterDrop = (await rows()).length;
      const disabled = { attribute: el.hasAttribute("disabled"), button: dropzone.disabled, text: dropzone.textContent };
      const complete = until("queue-complete");
      el.addFiles([new File(["added"], "added.txt")]);
      await complete;
      const drawn = await rows();
      const summary = el.shadowRoot.querySelector('[part~="summary"]').textContent;
      return { texts, afterDrop, disabled, rows: drawn, summary, completes: events.filter((e) => e.type === "upload-complete").length };
    }, null, { "project-id": "42" });
    assert.deepEqual(value.texts, { dropzone: "Dateien hier ablegen", english: "Pause all" });
    assert.equal(value.afterDrop, 0, "a drop on a disabled element adds nothing");
    assert.deepEqual(value.disabled, { attribute: true, button: true, text: "Uploads are turned off" });
    assert.deepEqual(value.rows.map((r) => [r.name, r.status]), [["added.txt", "Hochgeladen"]]);
    assert.match(value.summary, /^1 von 1 hochgeladen/);
    assert.equal(value.completes, 1);
  });
});
