// <procore-uploader> (issue 24) in each browser engine against the sandbox, loaded from
// the packed package as `procore-upload/element`: three files dropped (a DataTransfer
// built in the page, dispatched as a drop on the dropzone) upload, are attached to a
// project's Documents and fire upload-complete and queue-complete with the issue's
// payloads; a hostile file name is shown as text; files over max-file-size, beyond
// max-files or not in accept fire files-rejected; the dropzone is a keyboard button
// (a real Enter opens the file picker).
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { describeInEngines, openWorld } from "./support.mjs";

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
});
