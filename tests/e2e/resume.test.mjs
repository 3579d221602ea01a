// Pause, resume, cancel, and resume after a page reload, in each browser engine against
// the sandbox: counted from the sandbox's request log, checked byte for byte.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { assertMonotonic, describeInEngines, openssl, openWorld, randomFile } from "./support.mjs";

const MiB = 1024 * 1024;

/** The parts `bytes` confirmed make, in segments of `segment` (the last may be short). */
function partsIn(bytes, segment) {
  return Math.ceil(bytes / segment);
}

describeInEngines("pause, resume and reload (each browser engine)", (engine) => {
  let world, sandbox, page, dir;

  before(async () => {
    world = await openWorld("resume", ["--processing-delay-ms", "50"], engine);
    ({ sandbox, page, dir } = world);
  });

  after(async () => {
    await world?.close();
  });

  afterEach(async () => {
    assert.deepEqual(await world.takeProblems(), [], "no page errors or console errors");
  });

  /** Runs in the page: the client, the picked file, and helpers. */
  const setup = `
    window.__client = async (extra = {}) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      return new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: window.__api,
        allowInsecureStorage: true, concurrency: 1, ...extra });
    };
    // Starts an upload and pauses it once \`parts\` parts are stored; resolves paused.
    window.__startPaused = async (client, picked, options, parts = 1) => {
      let pausing = null;
      const task = client.start(picked, { ...options, onProgress: (p) => {
        options.onProgress?.(p);
        if (p.segmentsDone >= parts && !pausing) pausing = task.pause();
      } });
      await window.__until(() => pausing !== null);
      await pausing;
      return task;
    };
    window.__until = async (check, ms = 20000) => {
      const end = performance.now() + ms;
      while (!(await check())) {
        if (performance.now() > end) throw new Error("timed out waiting");
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    // \`promise\`, or an error naming \`what\` (and \`detail()\`) if it is still pending
    // after \`ms\`: a hang fails with where it hung, before the driver's own timeout.
    window.__within = (promise, what, detail = () => "", ms = 60000) => {
      let timer;
      const hung = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(\`\${what} still pending after \${ms} ms \${detail()}\`)), ms);
      });
      return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
    };`;

  /** Picks `file` on the page (reloaded first when `reload`); the log's length then. */
  async function pick(file, { reload = false } = {}) {
    if (reload) await page.reload();
    await page.setInputFiles("#files", file);
    await preparePage();
    return (await sandbox.requests()).length;
  }

  async function preparePage() {
    await page.evaluate(({ api, setup }) => {
      window.__api = api;
      (0, eval)(setup);
    }, { api: sandbox.api, setup });
  }

  for (const apiVersion of ["v1.1", "v2.1"]) {
    test(`${apiVersion}: pause stops every request, resume sends only the parts without an ETag`, async () => {
      const file = randomFile(dir, `pause-${apiVersion}.bin`, 6 * 6 * MiB + 1234);
      const before = await pick(file);
      const paused = await page.evaluate(async ({ apiVersion }) => {
        const client = await window.__client({ apiVersion });
        const [picked] = document.getElementById("files").files;
        window.__events = [];
        window.__task = await window.__startPaused(client, picked, {
          projectId: 42, segmented: true, segmentSize: 6 * 1024 * 1024, onProgress: (p) => window.__events.push(p),
        }, 2);
        window.__closeClient = () => client.close();
        return { status: window.__task.status, state: window.__task.state, events: window.__events.length };
      }, { apiVersion });
      assert.equal(paused.status, "paused");
      // Paused: no request of the upload in flight (the aborted one is seen closed).
      const storageLog = async () => (await sandbox.requests()).slice(before).filter((r) => r.side === "storage" && r.method !== "OPTIONS");
      const deadline = Date.now() + 3000;
      while ((await storageLog()).some((r) => r.finished_ms === null) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const atPause = await storageLog();
      assert.deepEqual(atPause.filter((r) => r.finished_ms === null), [], "no storage request open while paused");
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await storageLog()).length, atPause.length, "nothing sent while paused");
      const out = await page.evaluate(async () => {
        const quiet = window.__events.length;
        window.__task.resume();
        const result = await window.__task.done;
        window.__closeClient();
        return { quiet, result, events: window.__events, status: window.__task.status };
      });
      assert.equal(out.quiet, paused.events, "no progress while paused");
      const stored = partsIn(paused.state.bytesConfirmed, 6 * MiB);
      const missing = 7 - stored;
      assert.ok(stored >= 2, `stored before the pause: ${paused.state.bytesConfirmed} bytes`);
      const afterPause = (await storageLog()).slice(atPause.length);
      assert.equal(afterPause.filter((r) => r.method === "PUT").length, missing, "only the parts without an ETag are sent");
      assert.equal(afterPause.filter((r) => r.status !== 200).length, 0);
      assert.equal(out.status, "done");
      const record = await sandbox.inspect(out.result.uuid);
      assert.equal(record.stored?.sha256, openssl("sha256", file), "stored byte for byte");
      assertMonotonic(assert, out.events);
      const last = out.events.at(-1);
      assert.equal(last.bytesUploaded, last.totalBytes);
      assert.ok(out.events.every((p) => p.bytesUploaded <= p.totalBytes), "capped at the total");
      // Speed and time left are told only once a second of sending is seen: the first
      // report of sending, and the first after the resume, have neither.
      const firstSending = out.events.find((p) => p.phase === "uploading");
      assert.deepEqual([firstSending.bytesPerSecond, firstSending.etaSeconds], [undefined, undefined], "speed unknown at first");
      const firstAfterResume = out.events[out.quiet];
      assert.deepEqual([firstAfterResume.bytesPerSecond, firstAfterResume.etaSeconds], [undefined, undefined], "speed unknown again after the resume");
    });
  }

  test("cancel rejects done with an AbortError and deletes the kept state", async () => {
    const file = randomFile(dir, "cancel.bin", 4 * 6 * MiB);
    await pick(file);
    const out = await page.evaluate(async () => {
      const client = await window.__client();
      const [picked] = document.getElementById("files").files;
      const options = { projectId: 42, segmented: true, segmentSize: 6 * 1024 * 1024 };
      const task = await window.__startPaused(client, picked, options);
      await window.__until(async () => (await client.findResumable(picked, { projectId: 42 })).length === 1);
      await task.cancel();
      const error = await task.done.then(() => null, (e) => ({ name: e.name, code: e.code }));
      await window.__until(async () => (await client.findResumable(picked, { projectId: 42 })).length === 0);
      return { error, status: task.status };
    });
    assert.deepEqual(out.error, { name: "AbortError", code: "ABORTED" });
    assert.equal(out.status, "cancelled");
  });

  for (const apiVersion of ["v1.1", "v2.1"]) {
    test(`${apiVersion}: after a reload, the same file picked again sends only the missing parts`, async () => {
      const file = randomFile(dir, `reload-${apiVersion}.bin`, 6 * 6 * MiB + 77);
      await pick(file);
      const options = { projectId: 42, segmented: true, segmentSize: 6 * MiB, apiVersion };
      const scope = { projectId: 42, apiVersion };
      await page.evaluate(async ({ options, scope }) => {
        const client = await window.__client({ concurrency: 1 });
        const [picked] = document.getElementById("files").files;
        client.start(picked, options);
        // Reloaded once two parts are stored and kept.
        await window.__until(async () => {
          const [kept] = await client.findResumable(picked, scope);
          return kept && kept.bytesConfirmed >= 2 * 6 * 1024 * 1024;
        });
      }, { options, scope });
      const first = (await sandbox.requests()).filter((r) => r.side === "api");
      if (apiVersion === "v2.1") {
        // Checkpointed server-side too: a PATCH with nulls for the parts not sent.
        const created = first.filter((r) => r.method === "POST").at(-1);
        const patched = first.filter((r) => r.method === "PATCH" && r.received_ms > created.received_ms);
        assert.ok(patched.length >= 1 && patched.every((r) => r.status === 200), "a checkpoint before the reload");
      }
      const before = await pick(file, { reload: true });
      const out = await page.evaluate(async ({ options, scope }) => {
        const client = await window.__client();
        const [picked] = document.getElementById("files").files;
        const [kept] = await window.__within(client.findResumable(picked, scope), "findResumable");
        const events = [];
        const task = client.start(picked, { ...options, resume: "auto", onProgress: (p) => events.push(p) });
        const result = await window.__within(task.done, "the resumed upload",
          () => JSON.stringify({ status: task.status, last: events.at(-1), state: task.state }));
        const left = await window.__within(client.findResumable(picked, scope), "findResumable after");
        return { kept, result, events, left: left.length };
      }, { options, scope });
      const log = (await sandbox.requests()).slice(before).filter((r) => r.method !== "OPTIONS");
      const api = log.filter((r) => r.side === "api");
      assert.equal(api.filter((r) => r.method === "POST").length, 0, "not created again");
      if (apiVersion === "v2.1") assert.equal(api[0].method, "GET", "fresh URLs first");
      const missing = 7 - partsIn(out.kept.bytesConfirmed, 6 * MiB);
      const puts = log.filter((r) => r.side === "storage" && r.method === "PUT");
      assert.equal(puts.length, missing, `only the ${missing} parts without an ETag`);
      const record = await sandbox.inspect(out.result.uuid);
      assert.equal(record.stored?.sha256, openssl("sha256", file), "stored byte for byte");
      assert.equal(out.left, 0, "the state is deleted on success");
      assertMonotonic(assert, out.events);
      assert.equal(out.events.at(-1).bytesUploaded, out.events.at(-1).totalBytes);
    });
  }

  test("v1.1 past its hour: created again from the kept digests, every part sent again", async () => {
    const file = randomFile(dir, "expired.bin", 4 * 6 * MiB);
    await pick(file);
    const options = { projectId: 42, segmented: true, segmentSize: 6 * MiB };
    const kept = await page.evaluate(async ({ options }) => {
      const client = await window.__client();
      const [picked] = document.getElementById("files").files;
      const task = await window.__startPaused(client, picked, options);
      return task.state;
    }, { options });
    // As if kept for two hours: the instructions are past their hour. Aged by hand in
    // the one layout a caller may still give in the open, format 1's (which is what
    // `internal` holds, after its check).
    const inner = JSON.parse(kept.internal.slice(16));
    const aged = { ...inner, format: 1, instructions_at_ms: inner.instructions_at_ms - 2 * 3600 * 1000 };
    const before = (await sandbox.requests()).length;
    const { result, events } = await page.evaluate(async ({ options, aged }) => {
      const client = await window.__client();
      const [picked] = document.getElementById("files").files;
      const events = [];
      const result = await client.start(picked, { ...options, resume: aged, onProgress: (p) => events.push(p) }).done;
      return { result, events };
    }, { options, aged });
    // The stored part counted from the start; sent again, it adds nothing.
    assertMonotonic(assert, events);
    assert.ok(events.every((p) => p.bytesUploaded <= p.totalBytes));
    assert.equal(events.find((p) => p.phase === "uploading")?.bytesUploaded >= 6 * MiB, true);
    assert.equal(events.at(-1).bytesUploaded, events.at(-1).totalBytes);
    const log = (await sandbox.requests()).slice(before).filter((r) => r.method !== "OPTIONS");
    const creates = log.filter((r) => r.side === "api" && r.method === "POST");
    assert.equal(creates.length, 1, "created again");
    assert.notEqual(result.uuid, inner.uuid, "a new upload");
    assert.deepEqual(result.segments.map((s) => s.sha256), inner.digests.map((d) => d.sha256), "with the kept digests");
    assert.equal(log.filter((r) => r.side === "storage" && r.method === "PUT").length, 4, "every part again");
    const record = await sandbox.inspect(result.uuid);
    assert.equal(record.stored?.sha256, openssl("sha256", file));
  });

  test("a changed file with the same name, size and date is not resumed", async () => {
    const file = randomFile(dir, "changed.bin", 3 * 6 * MiB);
    // A whole second: set again exactly after the change.
    const mtime = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    fs.utimesSync(file, mtime, mtime);
    await pick(file);
    const options = { projectId: 42, segmented: true, segmentSize: 6 * MiB };
    await page.evaluate(async ({ options }) => {
      const client = await window.__client();
      const [picked] = document.getElementById("files").files;
      await window.__startPaused(client, picked, options);
      await window.__until(async () => (await client.findResumable(picked, { projectId: 42 }))[0]?.bytesConfirmed > 0);
    }, { options });
    // Other bytes, the same size and modification time.
    const bytes = fs.readFileSync(file);
    bytes[5] ^= 0xff;
    fs.writeFileSync(file, bytes);
    fs.utimesSync(file, mtime, mtime);
    const before = await pick(file, { reload: true });
    const out = await page.evaluate(async ({ options }) => {
      const client = await window.__client();
      const [picked] = document.getElementById("files").files;
      const found = (await client.findResumable(picked, { projectId: 42 })).length;
      const result = await client.start(picked, { ...options, resume: "auto" }).done;
      return { found, result };
    }, { options });
    assert.equal(out.found, 1, "the fingerprint alone matches");
    const log = (await sandbox.requests()).slice(before).filter((r) => r.method !== "OPTIONS");
    assert.equal(log.filter((r) => r.side === "api" && r.method === "POST").length, 1, "created afresh");
    assert.equal(log.filter((r) => r.side === "storage" && r.method === "PUT").length, 3, "every part sent");
    const record = await sandbox.inspect(out.result.uuid);
    assert.equal(record.stored?.sha256, openssl("sha256", file), "the new bytes stored");
  });

  test("a full store drops its least recently updated states", async () => {
    const file = randomFile(dir, "bounded.bin", 2 * 6 * MiB);
    await pick(file);
    const keys = await page.evaluate(async () => {
      const idb = (mode, act) => new Promise((resolve, reject) => {
        const open = indexedDB.open("procore-upload", 1);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction("states", mode);
          const request = act(tx.objectStore("states"));
          tx.oncomplete = () => { open.result.close(); resolve(request?.result); };
          tx.onerror = () => reject(tx.error);
        };
      });
      const client = await window.__client();
      const [picked] = document.getElementById("files").files;
      const options = { projectId: 42, segmented: true, segmentSize: 6 * 1024 * 1024 };
      // Made by the store once (the database and its object store), then emptied.
      await client.findResumable(picked, { projectId: 42 });
      await idb("readwrite", (store) => store.clear());
      // 50 older states of other files (format 1, as the releases before format 2
      // stored them): the store is full.
      const now = Date.now();
      await idb("readwrite", (store) => {
        for (let i = 0; i < 50; i++) {
          const key = `procore-upload/older-${i}`;
          store.put(JSON.stringify({
            format: 1, key, scope: { api_version: "v1.1", company_id: 7, project_id: 42 },
            file: { name: key, size: 1, last_modified: 1, content_type: "" }, segment_size: 16777216,
            md5: true, digests: null, whole_sha256: null, whole_md5: null, uuid: null, parts: [],
            instructions_at_ms: null, etags: [], created_ms: now - 60000, updated_ms: now - 60000 - i, phase: "hashing",
          }), key);
        }
      });
      const task = await window.__startPaused(client, picked, options);
      task.resume();
      await task.done;
      await window.__until(async () => (await idb("readonly", (store) => store.getAllKeys())).length === 49);
      return idb("readonly", (store) => store.getAllKeys());
    });
    // The upload's first saved state made 51: the oldest went. Done, its own went too.
    assert.equal(keys.length, 49);
    assert.ok(!keys.includes("procore-upload/older-49"), "the least recently updated dropped");
    assert.ok(keys.includes("procore-upload/older-0") && keys.includes("procore-upload/older-48"));
  });

  test("an upload in one piece (a form) as a task: done resolves, no state is kept", async () => {
    const file = randomFile(dir, "form.bin", 1 * MiB + 5);
    await pick(file);
    const out = await page.evaluate(async () => {
      const client = await window.__client();
      const [picked] = document.getElementById("files").files;
      const task = client.start(picked, { projectId: 42 });
      const result = await task.done;
      return { result, state: task.state, status: task.status, kept: (await client.findResumable(picked, { projectId: 42 })).length };
    });
    assert.equal(out.status, "done");
    assert.equal(out.state, null);
    assert.equal(out.kept, 0);
    assert.equal(out.result.segments, undefined, "not segmented");
    const record = await sandbox.inspect(out.result.uuid);
    assert.equal(record.stored?.sha256, openssl("sha256", file));
  });

  test("bad resume input is refused before anything is sent", async () => {
    const file = randomFile(dir, "bad.bin", 2 * 6 * MiB);
    const before = await pick(file);
    const errors = await page.evaluate(async () => {
      const client = await window.__client();
      const [picked] = document.getElementById("files").files;
      const attempt = async (resume) => {
        try {
          await client.start(picked, { segmented: true, resume }).done;
          return null;
        } catch (e) {
          return { code: e.code, message: e.message };
        }
      };
      const find = async (options) => {
        try {
          await client.findResumable(picked, options);
          return null;
        } catch (e) {
          return { code: e.code, message: e.message };
        }
      };
      return {
        // findResumable takes what identifies the scope, nothing else.
        findWithUploadOptions: await find({ projectId: 42, segmentSize: 6 * 1024 * 1024 }),
        findMisspelled: await find({ projectID: 42 }),
        findWithSignal: await find({ signal: new AbortController().signal }),
        number: await attempt(5),
        word: await attempt("yes"),
        shapeless: await attempt({ key: 1 }),
        misfit: await attempt({
          format: 1, key: "k", scope: { api_version: "v1.1", company_id: 8, project_id: null },
          file: { name: picked.name, size: picked.size, last_modified: 1, content_type: "" },
          segment_size: 16777216, md5: true, digests: null, whole_sha256: null, whole_md5: null,
          uuid: null, parts: [], instructions_at_ms: null, etags: [], created_ms: 1, updated_ms: 1, phase: "queued",
        }),
      };
    });
    for (const [what, error] of Object.entries(errors)) {
      assert.equal(error?.code, "INVALID_INPUT", `${what}: ${JSON.stringify(error)}`);
    }
    assert.match(errors.misfit.message, /does not fit: it is for another company/);
    assert.match(errors.findWithUploadOptions.message, /^invalid input: options\.segmentSize is not a known option; findResumable takes what identifies the scope: projectId, apiVersion, filename$/);
    assert.match(errors.findMisspelled.message, /^invalid input: options\.projectID \(did you mean projectId\?\) is not a known option$/);
    assert.equal((await sandbox.requests()).length, before, "nothing sent");
  });

  /** Starts an upload of the picked file, pauses it after two parts, waits until the
   * store holds what task.state shows, then closes the client (the state stays). */
  async function pausedState(options) {
    return page.evaluate(async ({ options }) => {
      const client = await window.__client();
      const [picked] = document.getElementById("files").files;
      const task = await window.__startPaused(client, picked, options, 2);
      const same = async () => JSON.stringify((await client.findResumable(picked, { projectId: 42 }))[0]) === JSON.stringify(task.state);
      await window.__until(same);
      const [found] = await client.findResumable(picked, { projectId: 42 });
      task.done.catch(() => {});
      client.close();
      return { state: task.state, found, lastModified: picked.lastModified, type: picked.type };
    }, { options });
  }

  test("task.state and findResumable: what a UI needs in the open, the rest opaque; a changed state is refused, a JSON copy resumes sending only the missing parts", async () => {
    const size = 4 * 6 * MiB + 10;
    const file = randomFile(dir, "opaque.bin", size);
    await pick(file);
    const options = { projectId: 42, segmented: true, segmentSize: 6 * MiB };
    const startedAt = Date.now();
    const { state, found, lastModified, type } = await pausedState(options);
    assert.deepEqual(Object.keys(state).sort(),
      ["bytesConfirmed", "internal", "key", "lastModified", "name", "phase", "scope", "size", "updatedAt"]);
    assert.deepEqual(state.scope, { apiVersion: "v1.1", companyId: 7, projectId: 42 });
    assert.deepEqual(Object.keys(state.scope), ["apiVersion", "companyId", "projectId"]);
    assert.equal(state.key, `procore-upload/v1.1/7/42/${size}/${lastModified}/${type.replace("/", "%2F")}/opaque.bin`);
    assert.deepEqual([state.name, state.size, state.lastModified, state.phase], ["opaque.bin", size, lastModified, "uploading"]);
    assert.ok(state.bytesConfirmed >= 2 * 6 * MiB && state.bytesConfirmed % (6 * MiB) === 0, `${state.bytesConfirmed}`);
    assert.ok(state.updatedAt >= startedAt && state.updatedAt <= Date.now(), `${state.updatedAt}`);
    assert.equal(typeof state.internal, "string");
    assert.deepEqual(found, state, "findResumable gives the same");
    const stored = partsIn(state.bytesConfirmed, 6 * MiB);

    const copy = JSON.stringify(state);
    const before = (await sandbox.requests()).length;
    const out = await page.evaluate(async ({ options, copy }) => {
      const client = await window.__client();
      const [picked] = document.getElementById("files").files;
      const state = JSON.parse(copy);
      const inner = state.internal.slice(16);
      const without = (key) => Object.fromEntries(Object.entries(state).filter(([k]) => k !== key));
      const changed = {
        size: { ...state, size: state.size + 1 },
        bytesConfirmed: { ...state, bytesConfirmed: state.size },
        scope: { ...state, scope: { ...state.scope, companyId: 8 } },
        "an added key": { ...state, etags: [] },
        "internal removed": without("internal"),
        "updatedAt removed": without("updatedAt"),
        "an ETag inside": { ...state, internal: state.internal.replace(/"etags":\["[^"]+"/, '"etags":["forged"') },
        "its check": { ...state, internal: "0000000000000000" + inner },
      };
      const refused = {};
      for (const [what, resume] of Object.entries(changed)) {
        if (JSON.stringify(resume) === copy) throw new Error(`${what}: not changed`);
        refused[what] = await client.start(picked, { ...options, resume }).done.then(() => "sent", (e) => e.code);
      }
      const events = [];
      const result = await client.start(picked, { ...options, resume: state, onProgress: (p) => events.push(p) }).done
        .catch((e) => ({ error: `${e.code}: ${e.message}` }));
      const left = (await client.findResumable(picked, { projectId: 42 })).length;
      client.close();
      return { refused, result, left, firstUploading: events.find((p) => p.phase === "uploading") };
    }, { options, copy });
    for (const [what, code] of Object.entries(out.refused)) assert.equal(code, "INVALID_INPUT", what);
    assert.equal(out.result.error, undefined, "the copy resumed");
    const log = (await sandbox.requests()).slice(before).filter((r) => r.method !== "OPTIONS");
    assert.equal(log.filter((r) => r.side === "api" && r.method === "POST").length, 0, "not created again");
    assert.equal(log.filter((r) => r.side === "storage" && r.method === "PUT").length, 5 - stored, "only the missing parts");
    assert.ok(out.firstUploading.bytesUploaded >= stored * 6 * MiB, "the confirmed bytes count from the start");
    const record = await sandbox.inspect(out.result.uuid);
    assert.equal(record.stored?.sha256, openssl("sha256", file), "stored byte for byte");
    assert.equal(out.left, 0, "deleted once done");
  });

  for (const how of ["kept in IndexedDB", "given as resume"]) {
    test(`a state of format 1, as the releases before stored and gave it, ${how}: resumed, only the missing parts sent`, async () => {
      const file = randomFile(dir, `format-1-${how.split(" ").at(-1)}.bin`, 4 * 6 * MiB + 10);
      await pick(file);
      const options = { projectId: 42, segmented: true, segmentSize: 6 * MiB };
      const { state } = await pausedState(options);
      // Format 1's text is what `internal` holds after its check, byte for byte
      // (tests/properties.rs), with its format number: the text main writes.
      const old = state.internal.slice(16).replace(/^\{"format":2,/, '{"format":1,');
      assert.deepEqual(Object.keys(JSON.parse(old)), ["format", "key", "scope", "file", "segment_size", "md5", "digests",
        "whole_sha256", "whole_md5", "uuid", "parts", "instructions_at_ms", "etags", "created_ms", "updated_ms", "phase"]);
      assert.equal(JSON.parse(old).format, 1);
      const stored = JSON.parse(old).etags.filter(Boolean).length;
      assert.ok(stored >= 2, old);
      const viaStore = how === "kept in IndexedDB";
      if (viaStore) {
        await page.evaluate(async ({ key, old }) => {
          await new Promise((resolve, reject) => {
            const open = indexedDB.open("procore-upload");
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
              const tx = open.result.transaction("states", "readwrite");
              tx.objectStore("states").put(old, key);
              tx.oncomplete = () => { open.result.close(); resolve(); };
              tx.onerror = () => reject(tx.error);
            };
          });
        }, { key: state.key, old });
      }
      const before = await pick(file, { reload: true });
      const out = await page.evaluate(async ({ options, old, viaStore }) => {
        const client = await window.__client();
        const [picked] = document.getElementById("files").files;
        const found = await client.findResumable(picked, { projectId: 42 });
        const resume = viaStore ? "auto" : JSON.parse(old);
        const result = await client.start(picked, { ...options, resume }).done
          .catch((e) => ({ error: `${e.code}: ${e.message}` }));
        const left = (await client.findResumable(picked, { projectId: 42 })).length;
        client.close();
        return { found, result, left };
      }, { options, old, viaStore });
      if (viaStore) {
        // Shown in the new shape: the very state it was before it was stored as format 1.
        assert.deepEqual(out.found, [state]);
      }
      assert.equal(out.result.error, undefined, "resumed");
      const log = (await sandbox.requests()).slice(before).filter((r) => r.method !== "OPTIONS");
      assert.equal(log.filter((r) => r.side === "api" && r.method === "POST").length, 0, "not created again");
      assert.equal(log.filter((r) => r.side === "storage" && r.method === "PUT").length, 5 - stored, `only the ${5 - stored} missing parts`);
      const record = await sandbox.inspect(out.result.uuid);
      assert.equal(record.stored?.sha256, openssl("sha256", file), "stored byte for byte");
      assert.equal(out.left, 0, "deleted once done");
    });
  }

  test("resume() resolves once the upload sends again, not while it waits for its turn; it rejects when cancelled first", async () => {
    const files = ["turn-a", "turn-b", "turn-c", "turn-d"].map((name) => randomFile(dir, `${name}.bin`, 2 * 6 * MiB));
    await page.setInputFiles("#files", files);
    await preparePage();
    // Slow storage: the upload holding the turn is still sending when the other resumes.
    await sandbox.setFaults({ storage_latency_ms: 300 });
    try {
      const out = await page.evaluate(async () => {
        const client = await window.__client({ maxActiveUploads: 1 });
        const [a, b, c, d] = document.getElementById("files").files;
        const options = { projectId: 42, segmented: true, segmentSize: 6 * 1024 * 1024 };
        const seen = [];
        const paused = await window.__startPaused(client, a, { ...options, onProgress: (p) => seen.push(`${p.phase} ${p.bytesUploaded}`) });
        let ahead = null;
        const holder = client.start(b, { ...options, onProgress: (p) => { ahead = p; } });
        await window.__until(() => ahead?.phase === "uploading");
        const aheadAtResume = ahead.bytesUploaded;
        const quiet = seen.length;
        await paused.resume();
        const atResolve = { ahead: ahead.bytesUploaded, total: ahead.totalBytes, told: seen.slice(quiet), status: paused.status };
        await Promise.all([paused.done, holder.done]);

        // The same, cancelled while it waits for its turn: resume() rejects as done does.
        const cancelled = await window.__startPaused(client, c, options);
        ahead = null;
        const holder2 = client.start(d, { ...options, onProgress: (p) => { ahead = p; } });
        await window.__until(() => ahead?.phase === "uploading");
        const resuming = cancelled.resume().then(() => "resolved", (e) => `${e.name} ${e.code}`);
        await cancelled.cancel();
        const rejected = await resuming;
        const done = await cancelled.done.then(() => "resolved", (e) => `${e.name} ${e.code}`);
        await holder2.done;
        client.close();
        return { aheadAtResume, atResolve, rejected, done };
      });
      assert.ok(out.aheadAtResume < out.atResolve.total, `the other upload was sending at the resume: ${out.aheadAtResume}`);
      assert.equal(out.atResolve.ahead, out.atResolve.total, "resolved only after the upload ahead had sent all");
      assert.equal(out.atResolve.status, "running");
      assert.ok(out.atResolve.told.some((p) => p.startsWith("uploading ")), `told "uploading" before it resolved: ${out.atResolve.told}`);
      assert.equal(out.rejected, "AbortError ABORTED", "cancelled before it sent again");
      assert.equal(out.done, "AbortError ABORTED");
    } finally {
      await sandbox.setFaults({});
    }
  });
});
