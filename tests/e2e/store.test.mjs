// The stores of upload states in each browser engine against the sandbox: a store the
// app shares with its own data (the README's, over localStorage) keeps the app's keys,
// and the default IndexedDB store lets another tab upgrade its database and goes on.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { describeInEngines, openssl, openWorld, randomFile } from "./support.mjs";

const MiB = 1024 * 1024;

describeInEngines("state stores (each browser engine)", (engine) => {
  let world, sandbox, page, dir;

  before(async () => {
    world = await openWorld("store", [], engine);
    ({ sandbox, page, dir } = world);
  });

  after(async () => {
    await world?.close();
  });

  afterEach(async () => {
    assert.deepEqual(await world.takeProblems(), [], "no page errors or console errors");
  });

  /** Runs in the page: the client, the README's localStorage store, and helpers. */
  const setup = `
    window.__client = async (extra = {}) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      return new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: window.__api,
        allowInsecureStorage: true, concurrency: 1, ...extra });
    };
    // The README's store, as written there.
    window.__localStore = {
      get: (key) => localStorage.getItem(key),
      put: (key, value) => localStorage.setItem(key, value),
      delete: (key) => localStorage.removeItem(key),
      list: () => Object.entries(localStorage),
    };
    // A store with these methods, made in the page (Firefox's WebDriver runs a test's
    // script in a realm of its own, whose objects are not the page's Objects).
    window.__storeOf = (methods) => ({ ...methods });
    // Starts an upload and pauses it once one part is stored; resolves paused.
    window.__startPaused = async (client, picked, options) => {
      let pausing = null;
      const task = client.start(picked, { ...options, onProgress: (p) => {
        if (p.segmentsDone >= 1 && !pausing) pausing = task.pause();
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
    // A state in the layout the releases before format 2 stored (format 1), for a
    // file \`name\` of \`size\` bytes: still read.
    window.__stateText = (key, { name, size, created_ms }) => JSON.stringify({
      format: 1, key, scope: { api_version: "v1.1", company_id: 7, project_id: 42 },
      file: { name, size, last_modified: 1, content_type: "" }, segment_size: 6 * 1024 * 1024,
      md5: true, digests: null, whole_sha256: null, whole_md5: null, uuid: null, parts: [],
      instructions_at_ms: null, etags: [], created_ms, updated_ms: created_ms, phase: "hashing",
    });`;

  /** Picks `file` on the page; the sandbox log's length then. */
  async function pick(file) {
    await page.setInputFiles("#files", file);
    await page.evaluate(({ api, setup }) => {
      window.__api = api;
      (0, eval)(setup);
    }, { api: sandbox.api, setup });
    return (await sandbox.requests()).length;
  }

  test("the README's localStorage store: the app's own keys survive uploads, pruning and findResumable", async () => {
    const file = randomFile(dir, "shared.bin", 3 * 6 * MiB + 99);
    await pick(file);
    const out = await page.evaluate(async () => {
      localStorage.clear();
      // The app's own data: plain values, JSON, keys that merely look like ours, and a
      // whole state (long expired) under a key of the app's.
      const apps = {
        theme: "dark",
        "app/session": JSON.stringify({ user: 1, token: "t" }),
        "procore-upload": "no slash: the app's",
        "procore-upload-settings": "{\"format\":1}",
        "Procore-Upload/x": "case differs",
        "my-copy": window.__stateText("my-copy", { name: "copy.bin", size: 1, created_ms: 1 }),
      };
      for (const [key, value] of Object.entries(apps)) localStorage.setItem(key, value);
      // One of the library's, long expired: pruning deletes it (so pruning did run).
      const expired = "procore-upload/v1.1/7/42/1/1//expired.bin";
      localStorage.setItem(expired, window.__stateText(expired, { name: "expired.bin", size: 1, created_ms: 1 }));
      const appsNow = () => Object.fromEntries(Object.entries(apps).map(([k]) => [k, localStorage.getItem(k)]));

      const client = await window.__client({ store: window.__localStore });
      const [picked] = document.getElementById("files").files;
      const options = { projectId: 42, segmented: true, segmentSize: 6 * 1024 * 1024 };
      const task = await window.__startPaused(client, picked, options);
      await window.__until(async () => (await client.findResumable(picked, { projectId: 42 }))[0]?.bytesConfirmed > 0);
      const found = await client.findResumable(picked, { projectId: 42 });
      const paused = { apps: appsNow(), expired: localStorage.getItem(expired), keys: Object.keys(localStorage) };
      task.resume();
      const result = await task.done;
      await window.__until(async () => (await client.findResumable(picked, { projectId: 42 })).length === 0);
      client.close();
      return { apps, paused, found: found.length, result, done: { apps: appsNow(), keys: Object.keys(localStorage).sort() } };
    });
    assert.deepEqual(out.paused.apps, out.apps, "the app's keys, paused");
    assert.equal(out.paused.expired, null, "the library's expired state pruned");
    assert.equal(out.found, 1, "findResumable finds the upload's state");
    assert.equal(out.paused.keys.filter((k) => k.startsWith("procore-upload/")).length, 1, "one state kept");
    assert.deepEqual(out.done.apps, out.apps, "the app's keys, done");
    assert.deepEqual(out.done.keys, Object.keys(out.apps).sort(), "only the app's keys are left");
    const record = await sandbox.inspect(out.result.uuid);
    assert.equal(record.stored?.sha256, openssl("sha256", file), "stored byte for byte");
  });

  test("a resume state whose key names an app's key: that key is neither written nor deleted", async () => {
    const file = randomFile(dir, "foreign-key.bin", 2 * 6 * MiB);
    await pick(file);
    const out = await page.evaluate(async () => {
      localStorage.clear();
      localStorage.setItem("theme", "dark");
      const client = await window.__client({ store: window.__localStore });
      const [picked] = document.getElementById("files").files;
      // Fits this upload (nothing hashed or created yet), but keyed "theme".
      const state = JSON.parse(window.__stateText("theme", { name: picked.name, size: picked.size, created_ms: Date.now() }));
      const options = { projectId: 42, segmented: true, segmentSize: 6 * 1024 * 1024 };
      const result = await client.start(picked, { ...options, resume: state }).done;
      // A turn for the store's last write (the delete).
      await new Promise((r) => setTimeout(r, 0));
      client.close();
      return { result, theme: localStorage.getItem("theme"), keys: Object.keys(localStorage) };
    });
    assert.equal(out.theme, "dark", "the app's key neither overwritten nor deleted");
    // The state given is kept under this file's own key (then deleted once done),
    // never under the key it came with: nothing to refuse, nothing reported.
    assert.deepEqual(out.keys, ["theme"]);
    assert.deepEqual(await world.takeProblems(), [], "no refused save");
    const record = await sandbox.inspect(out.result.uuid);
    assert.equal(record.stored?.sha256, openssl("sha256", file), "the upload went on: stored byte for byte");
  });

  test("IndexedDB: another tab upgrades the database mid-upload; the upload goes on and its state is found and deleted", async () => {
    const file = randomFile(dir, "other-tab.bin", 4 * 6 * MiB);
    await pick(file);
    const out = await page.evaluate(async () => {
      const client = await window.__client();
      const [picked] = document.getElementById("files").files;
      const options = { projectId: 42, segmented: true, segmentSize: 6 * 1024 * 1024 };
      // Paused with a state saved: the library's connection to the database is open.
      const task = await window.__startPaused(client, picked, options);
      await window.__until(async () => (await client.findResumable(picked, { projectId: 42 }))[0]?.bytesConfirmed > 0);
      // Another tab: a frame of this origin, with connections of its own.
      const frame = document.createElement("iframe");
      frame.src = "/";
      const loaded = new Promise((resolve) => { frame.onload = resolve; });
      document.body.append(frame);
      await loaded;
      const idb = frame.contentWindow.indexedDB;
      const opened = (request) => new Promise((resolve, reject) => {
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
        request.onblocked = () => reject(new Error("blocked: the library kept its connection open"));
      });
      const current = await opened(idb.open("procore-upload"));
      const version = current.version + 1;
      current.close();
      // It upgrades the database while the library holds it, and keeps it open.
      const upgrading = idb.open("procore-upload", version);
      upgrading.onupgradeneeded = () => upgrading.result.createObjectStore("the-other-tab's");
      const theirs = await opened(upgrading);
      const found = await client.findResumable(picked, { projectId: 42 });
      task.resume();
      const result = await task.done;
      await window.__until(async () => (await client.findResumable(picked, { projectId: 42 })).length === 0);
      const stores = [...theirs.objectStoreNames].sort();
      theirs.close();
      frame.remove();
      client.close();
      return { version, found: found.length, confirmed: found[0]?.bytesConfirmed, result, stores };
    });
    assert.equal(out.found, 1, "the kept state is read at the new version");
    assert.ok(out.confirmed >= 6 * MiB, "with its stored parts");
    assert.deepEqual(out.stores, ["states", "the-other-tab's"], "one database, both stores");
    const record = await sandbox.inspect(out.result.uuid);
    assert.equal(record.stored?.sha256, openssl("sha256", file), "stored byte for byte");
  });

  test("onStoreError: each failed list, save and delete of a task's state, with code STORE and the store's exception as cause; the upload goes on", async () => {
    const file = randomFile(dir, "failing-store.bin", 3 * 6 * MiB);
    await pick(file);
    const out = await page.evaluate(async () => {
      const thrown = { list: new Error("list refused"), put: new DOMException("full", "QuotaExceededError"), delete: new Error("delete refused") };
      // Each way a store fails: throwing, rejecting, and a rejecting promise.
      const store = window.__storeOf({
        get: () => null,
        put: () => { throw thrown.put; },
        delete: async () => { throw thrown.delete; },
        list: () => Promise.reject(thrown.list),
      });
      const reported = [];
      const client = await window.__client({ store, onStoreError: (error) => reported.push(error) });
      const [picked] = document.getElementById("files").files;
      const options = { projectId: 42, segmented: true, segmentSize: 6 * 1024 * 1024 };
      // "auto" looks the state up first: a list.
      const result = await client.start(picked, { ...options, resume: "auto" }).done;
      // The store's last write (the delete) comes after done.
      await window.__until(() => reported.some((error) => error.cause === thrown.delete));
      client.close();
      const named = (cause) => Object.keys(thrown).find((key) => thrown[key] === cause) ?? String(cause);
      return {
        result,
        reported: reported.map((error) => ({ name: error.name, code: error.code, cause: named(error.cause), message: error.message })),
      };
    });
    const causes = out.reported.map((error) => error.cause);
    assert.equal(causes[0], "list", "the look-up first");
    assert.equal(causes.at(-1), "delete", "the delete once done");
    const saves = causes.slice(1, -1);
    assert.ok(saves.length >= 1 && saves.every((cause) => cause === "put"), `every save between: ${causes}`);
    for (const error of out.reported) {
      assert.equal(error.name, "ProcoreUploadError");
      assert.equal(error.code, "STORE");
      assert.match(error.message, new RegExp(`store\\.${error.cause}`));
    }
    const record = await sandbox.inspect(out.result.uuid);
    assert.equal(record.stored?.sha256, openssl("sha256", file), "the upload went on: stored byte for byte");
  });

  test("without onStoreError, a failed save goes to the console (code STORE); the upload goes on", async () => {
    const file = randomFile(dir, "console-store.bin", 2 * 6 * MiB);
    await pick(file);
    const out = await page.evaluate(async () => {
      const store = window.__storeOf({ get: () => null, put: () => { throw new Error("quota exceeded"); }, delete: () => {}, list: () => [] });
      const codes = [];
      const consoleError = console.error;
      console.error = (...args) => {
        codes.push(args[1]?.code);
        consoleError(...args);
      };
      try {
        const client = await window.__client({ store });
        const [picked] = document.getElementById("files").files;
        const result = await client.start(picked, { projectId: 42, segmented: true, segmentSize: 6 * 1024 * 1024 }).done;
        client.close();
        return { result, codes };
      } finally {
        console.error = consoleError;
      }
    });
    const problems = await world.takeProblems();
    assert.ok(problems.length >= 1, "reported");
    assert.equal(out.codes.length, problems.length);
    assert.ok(out.codes.every((code) => code === "STORE"), `${out.codes}`);
    for (const problem of problems) {
      // (Firefox: the test's Error is of another realm than the page's, told as "Error".)
      assert.match(problem, /^console\.error: procore-upload: the state store threw .*store\.put: Error/);
    }
    const record = await sandbox.inspect(out.result.uuid);
    assert.equal(record.stored?.sha256, openssl("sha256", file), "stored byte for byte");
  });

  test("a state of format 1 in a custom store (as the releases before wrote it): resumed with \"auto\", only the missing parts sent", async () => {
    const file = randomFile(dir, "format-1-custom.bin", 4 * 6 * MiB + 10);
    await pick(file);
    const options = { projectId: 42, segmented: true, segmentSize: 6 * MiB };
    const kept = await page.evaluate(async ({ options }) => {
      localStorage.clear();
      const client = await window.__client({ store: window.__localStore });
      const [picked] = document.getElementById("files").files;
      let pausing = null;
      const task = client.start(picked, { ...options, onProgress: (p) => {
        if (p.segmentsDone >= 2 && !pausing) pausing = task.pause();
      } });
      await window.__until(() => pausing !== null);
      await pausing;
      await window.__until(async () => JSON.stringify((await client.findResumable(picked, { projectId: 42 }))[0]) === JSON.stringify(task.state));
      task.done.catch(() => {});
      client.close();
      // Format 1's text is what `internal` holds after its check, byte for byte
      // (tests/properties.rs), with its format number: the text main writes.
      const state = task.state;
      const old = state.internal.slice(16).replace(/^\{"format":2,/, '{"format":1,');
      localStorage.setItem(state.key, old);
      return { state, old };
    }, { options });
    const old = JSON.parse(kept.old);
    assert.equal(old.format, 1);
    assert.equal(old.key, kept.state.key);
    const stored = old.etags.filter(Boolean).length;
    assert.ok(stored >= 2, kept.old);
    const before = (await sandbox.requests()).length;
    const out = await page.evaluate(async ({ options }) => {
      const client = await window.__client({ store: window.__localStore });
      const [picked] = document.getElementById("files").files;
      const found = await client.findResumable(picked, { projectId: 42 });
      const result = await client.start(picked, { ...options, resume: "auto" }).done;
      await window.__until(async () => (await client.findResumable(picked, { projectId: 42 })).length === 0);
      client.close();
      return { found, result, keys: Object.keys(localStorage) };
    }, { options });
    assert.deepEqual(out.found, [kept.state], "read as the state it was before it was stored as format 1");
    const log = (await sandbox.requests()).slice(before).filter((r) => r.method !== "OPTIONS");
    assert.equal(log.filter((r) => r.side === "api" && r.method === "POST").length, 0, "not created again");
    assert.equal(log.filter((r) => r.side === "storage" && r.method === "PUT").length, 5 - stored, `only the ${5 - stored} missing parts`);
    const record = await sandbox.inspect(out.result.uuid);
    assert.equal(record.stored?.sha256, openssl("sha256", file), "stored byte for byte");
    assert.deepEqual(out.keys, [], "deleted once done");
  });
});
