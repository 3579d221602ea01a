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
    // A state in the stored layout (format 1), for \`file\` of \`size\` bytes.
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
      await window.__until(async () => (await client.findResumable(picked, options))[0]?.etags.some(Boolean));
      const found = await client.findResumable(picked, options);
      const paused = { apps: appsNow(), expired: localStorage.getItem(expired), keys: Object.keys(localStorage) };
      task.resume();
      const result = await task.done;
      await window.__until(async () => (await client.findResumable(picked, options)).length === 0);
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
      await window.__until(async () => (await client.findResumable(picked, options))[0]?.etags.some(Boolean));
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
      const found = await client.findResumable(picked, options);
      task.resume();
      const result = await task.done;
      await window.__until(async () => (await client.findResumable(picked, options)).length === 0);
      const stores = [...theirs.objectStoreNames].sort();
      theirs.close();
      frame.remove();
      client.close();
      return { version, found: found.length, etags: found[0]?.etags.filter(Boolean).length, result, stores };
    });
    assert.equal(out.found, 1, "the kept state is read at the new version");
    assert.ok(out.etags >= 1, "with its stored parts");
    assert.deepEqual(out.stores, ["states", "the-other-tab's"], "one database, both stores");
    const record = await sandbox.inspect(out.result.uuid);
    assert.equal(record.stored?.sha256, openssl("sha256", file), "stored byte for byte");
  });
});
