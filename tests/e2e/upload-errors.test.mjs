// ProcoreClient in each browser engine: each bad input and bad answer gets its typed
// error and nothing more is sent; aborting stops every request; a refused token is
// replaced through getAccessToken.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { describeInEngines, openssl, openWorld, randomFile, sparseFile, startSandbox } from "./support.mjs";

const MiB = 1024 * 1024;

describeInEngines("ProcoreClient refusals, aborts and token refresh in each browser engine", (engine) => {
  let dir, sandbox, hidingSandbox, page, small, medium, huge;
  let world;

  before(async () => {
    world = await openWorld("upload-errors", [], engine);
    ({ dir, sandbox, page } = world);
    hidingSandbox = await startSandbox(["--hide-etag"]);
    small = randomFile(dir, "small.bin", 1000);
    medium = randomFile(dir, "medium.bin", 12 * MiB + 5);
    // 50 GiB + 1: more than 10,000 segments of 5 MiB. Sparse: no disk used, never read.
    huge = sparseFile(dir, "huge.bin", 50 * 1024 * MiB + 1);
  });

  after(async () => {
    await hidingSandbox?.stop();
    await world?.close();
  });

  afterEach(async () => {
    assert.deepEqual(await world.takeProblems(), [], "no page errors or console errors");
  });

  /** Runs `body(ProcoreClient, file)` in the page; resolves to its value or { error }. */
  function inPage(body, arg) {
    return page.evaluate(
      async ({ body, arg }) => {
        const { ProcoreClient, ProcoreUploadError } = await import("/pkg/index.js");
        const file = document.getElementById("files").files[0];
        try {
          return await new Function("ProcoreClient", "file", "arg", `return (${body})(ProcoreClient, file, arg);`)(
            ProcoreClient, file, arg,
          );
        } catch (e) {
          return {
            error: {
              name: e.name, code: e.code, message: e.message, status: e.status, body: e.body,
              hasStatus: "status" in e, isError: e instanceof Error, isClass: e instanceof ProcoreUploadError,
              cause: e.cause === undefined ? undefined : { name: e.cause?.name, message: e.cause?.message ?? String(e.cause) },
            },
          };
        }
      },
      { body: body.toString(), arg },
    );
  }

  const options = (api, extra = {}) => ({
    companyId: 7, accessToken: "sandbox-token", baseUrl: api, apiVersion: "v1.1", allowInsecureStorage: true, ...extra,
  });

  test("a .wasm that cannot be loaded is LOAD with the browser's error as cause, nothing is sent, and the next call loads it", async () => {
    const wasm = `${dir}/package/procore_upload_wasm_bg.wasm`;
    // A fresh page, so that the package loads its wasm again (the first call does).
    await page.reload();
    await page.setInputFiles("#files", [small]);
    await sandbox.clearRequests();
    fs.renameSync(wasm, `${wasm}.away`);
    let failed;
    try {
      failed = await inPage(async (ProcoreClient, file, api) => {
        const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true });
        return client.upload(file);
      }, sandbox.api);
    } finally {
      fs.renameSync(`${wasm}.away`, wasm);
    }
    assert.equal(failed.error?.name, "ProcoreUploadError", JSON.stringify(failed));
    assert.equal(failed.error.code, "LOAD");
    assert.match(failed.error.message, /procore_upload_wasm_bg\.wasm/);
    assert.ok(failed.error.cause, "the fetch or compile error is the cause");
    assert.deepEqual(await sandbox.requests(), [], "nothing reached the API or storage");
    // The wasm is back: the same page's next call loads it and uploads.
    const done = await inPage(async (ProcoreClient, file, api) => {
      const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true });
      return client.upload(file);
    }, sandbox.api);
    assert.equal(done.size, 1000, JSON.stringify(done));
  });

  test("each bad input is refused with INVALID_INPUT before any request", async () => {
    await page.setInputFiles("#files", small);
    await sandbox.clearRequests();
    const cases = [
      ["not a Blob", options(sandbox.api), { notABlob: true }, /expected a Blob or File, got string/],
      ["companyId missing", { ...options(sandbox.api), companyId: undefined }, {}, /companyId is required/],
      ["companyId 0", options(sandbox.api, { companyId: 0 }), {}, /companyId must be a positive integer/],
      ["companyId 1.5", options(sandbox.api, { companyId: 1.5 }), {}, /companyId must be a positive integer/],
      ["companyId string", options(sandbox.api, { companyId: "7" }), {}, /companyId must be a positive integer/],
      ["no token", { companyId: 7, baseUrl: sandbox.api }, {}, /accessToken .* or options.getAccessToken/],
      ["unknown apiVersion", options(sandbox.api, { apiVersion: "v3" }), {}, /apiVersion must be/],
      ["segmentSize below v1's minimum", options(sandbox.api), { segmented: true, segmentSize: 5 * MiB - 1 }, /segmentSize must be between 5242880 and/],
      ["segmentSize above v1's maximum", options(sandbox.api), { segmented: true, segmentSize: 5 * 1024 * MiB + 1 }, /segmentSize must be between/],
      ["segmentSize of exactly 5 MiB in v2.1", options(sandbox.api, { apiVersion: "v2.1" }), { segmentSize: 5 * MiB }, /between 5242881 and 104857600/],
      ["segmentSize above v2.1's maximum", options(sandbox.api, { apiVersion: "v2.1" }), { segmentSize: 100 * MiB + 1 }, /between 5242881 and 104857600/],
      ["segmented: false in v2.1", options(sandbox.api, { apiVersion: "v2.1" }), { segmented: false }, /always segmented/],
      ["segmented: 'yes'", options(sandbox.api), { segmented: "yes" }, /segmented must be true, false or "auto"/],
      ["concurrency 0", options(sandbox.api), { concurrency: 0 }, /concurrency must be between 1 and 16/],
      ["projectId -1", options(sandbox.api), { projectId: -1 }, /projectId must be a positive integer/],
      ["onProgress not a function", options(sandbox.api), { onProgress: 1 }, /onProgress must be a function/],
      // A timer holds at most 2^31 - 1 ms: beyond, it fires at once.
      ["stallTimeoutMs beyond a timer", options(sandbox.api, { stallTimeoutMs: 3e9 }), {}, /stallTimeoutMs must be at most 2147483647/],
      ["workerIdleMs beyond a timer", options(sandbox.api, { workerIdleMs: 2 ** 31 }), {}, /workerIdleMs must be at most 2147483647/],
      ["processingTimeoutMs beyond a timer", options(sandbox.api), { processingTimeoutMs: 3e9 }, /processingTimeoutMs must be at most 2147483647/],
      // The token never goes out in clear text to a host that is not this machine.
      ["an http: baseUrl off this machine", options("http://api.procore.com"), {}, /clear text/],
      ["an http: baseUrl to a private address", options("http://10.0.0.5:8080"), {}, /clear text/],
      ["a baseUrl that is not http(s)", options("ftp://api.procore.com", { allowInsecureBaseUrl: true }), {}, /must be an https: URL/],
      // A misspelled or unknown option is refused, not left unused.
      ["a misspelled client option", options(sandbox.api, { baseURL: "https://api.procore.com" }), {}, /options\.baseURL \(did you mean baseUrl\?\) is not a known option/],
      ["an unknown client option", options(sandbox.api, { retries: 3 }), {}, /options\.retries is not a known option/],
      ["a misspelled upload option", options(sandbox.api), { project_id: 42 }, /options\.project_id \(did you mean projectId\?\) is not a known option/],
      ["an attach field among the upload options", options(sandbox.api), { parentID: 7 }, /options\.parentID is not a known option/],
    ];
    for (const [label, clientOptions, uploadOptions, message] of cases) {
      const { error } = await inPage(async (ProcoreClient, file, { clientOptions, uploadOptions }) => {
        const target = uploadOptions.notABlob ? "not a file" : file;
        delete uploadOptions.notABlob;
        return new ProcoreClient(clientOptions).upload(target, uploadOptions);
      }, { clientOptions, uploadOptions });
      assert.ok(error, `${label}: rejected`);
      assert.deepEqual([error.isError, error.name, error.code], [true, "ProcoreUploadError", "INVALID_INPUT"], label);
      assert.match(error.message, message, label);
    }
    assert.deepEqual(await sandbox.requests(), [], "nothing reached the sandbox");
  });

  test("an unknown key in start(), uploadAndAttach() or client.hashSegments() options is INVALID_INPUT, nothing sent or kept", async () => {
    await page.setInputFiles("#files", small);
    await sandbox.clearRequests();
    const refusals = await inPage(async (ProcoreClient, file, api) => {
      const stored = [];
      const store = { get: () => null, put: (key) => { stored.push(key); }, delete: () => {}, list: () => [] };
      const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true, store });
      const events = [];
      const onProgress = (p) => events.push(p.phase);
      const caught = (promise) => promise.then(() => ({ resolved: true }), (e) => ({ name: e.name, code: e.code, message: e.message }));
      return {
        start: await caught(client.start(file, { segmented: true, resume: "auto", Resume: "auto", onProgress }).done),
        attach: await caught(client.uploadAndAttach(file, { projectFile: { projectId: 42 } }, { onprogress: onProgress })),
        hashSegments: await caught(client.hashSegments(file, { segmentsize: 5 * 1024 * 1024, onProgress })),
        events,
        stored,
      };
    }, sandbox.api);
    assert.equal(refusals.error, undefined, JSON.stringify(refusals.error));
    assert.deepEqual([refusals.start.code, refusals.attach.code, refusals.hashSegments.code], ["INVALID_INPUT", "INVALID_INPUT", "INVALID_INPUT"], JSON.stringify(refusals));
    assert.match(refusals.start.message, /options\.Resume \(did you mean resume\?\) is not a known option/);
    assert.match(refusals.attach.message, /options\.onprogress \(did you mean onProgress\?\) is not a known option/);
    assert.match(refusals.hashSegments.message, /options\.segmentsize \(did you mean segmentSize\?\) is not a known option/);
    assert.deepEqual(refusals.events, [], "no progress: nothing started");
    assert.deepEqual(refusals.stored, [], "no state kept");
    assert.deepEqual(await sandbox.requests(), [], "nothing reached the sandbox");
  });

  test("a file needing more than 10,000 segments is refused before any request", async () => {
    await page.setInputFiles("#files", huge);
    await sandbox.clearRequests();
    const { error } = await inPage(
      (ProcoreClient, file, api) => new ProcoreClient({ companyId: 7, accessToken: "t", baseUrl: api, apiVersion: "v1.0" })
        .upload(file, { segmented: true, segmentSize: 5 * 1024 * 1024 }),
      sandbox.api,
    );
    assert.equal(error.code, "INVALID_INPUT");
    assert.match(error.message, /needs 10241 segments .* at most 10000 segments/);
    assert.deepEqual(await sandbox.requests(), []);
  });

  test("http: instruction URLs are refused unless allowInsecureStorage; nothing goes to storage", async () => {
    await page.setInputFiles("#files", small);
    for (const segmented of [false, true]) {
      await sandbox.clearRequests();
      const { error } = await inPage(
        (ProcoreClient, file, { api, segmented }) => new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api })
          .upload(file, { segmented }),
        { api: sandbox.api, segmented },
      );
      assert.equal(error.code, "PROTOCOL", JSON.stringify(error));
      assert.match(error.message, /only https: is accepted \(allowInsecureStorage permits http:/);
      const log = await sandbox.requests();
      assert.deepEqual(log.filter((r) => r.method !== "OPTIONS").map((r) => `${r.side} ${r.method}`), ["api POST"]);
    }
  });

  test("a storage answer without a readable ETag is MISSING_ETAG, naming CORS; no completion is sent", async () => {
    await page.setInputFiles("#files", small);
    const { error } = await inPage(
      (ProcoreClient, file, api) => new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true })
        .upload(file, { segmented: true }),
      hidingSandbox.api,
    );
    assert.equal(error.code, "MISSING_ETAG");
    assert.match(error.message, /CORS configuration must expose the ETag header/);
    const methods = (await hidingSandbox.requests()).filter((r) => r.method !== "OPTIONS").map((r) => `${r.side} ${r.method}`);
    assert.deepEqual(methods, ["api POST", "storage PUT"], "no PATCH after the missing ETag");
  });

  test("malformed or incomplete create answers are PROTOCOL errors; nothing more is sent", async () => {
    await page.setInputFiles("#files", small);
    const answers = [
      ["not JSON", "{not json", /not JSON/],
      ["no url", JSON.stringify({ uuid: "U", fields: {} }), /has no url/],
      ["no fields", JSON.stringify({ uuid: "U", url: "https://storage.example/b" }), /fields is missing/],
      ["no uuid", JSON.stringify({ url: "https://storage.example/b", fields: {} }), /has no uuid/],
    ];
    for (const [label, body, message] of answers) {
      await sandbox.clearRequests();
      await sandbox.setFaults({ api_canned_next: [{ status: 201, body }] });
      const { error } = await inPage(
        (ProcoreClient, file, api) => new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, apiVersion: "v1.0" })
          .upload(file, { segmented: false }),
        sandbox.api,
      );
      assert.equal(error.code, "PROTOCOL", `${label}: ${JSON.stringify(error)}`);
      assert.match(error.message, message, label);
      const sent = (await sandbox.requests()).filter((r) => r.method !== "OPTIONS");
      assert.deepEqual(sent.map((r) => `${r.side} ${r.method} ${r.fault}`), ["api POST canned"], `${label}: one create, nothing after`);
    }
  });

  test("abort mid-upload rejects with AbortError and leaves no request running", async () => {
    await page.setInputFiles("#files", medium);
    await sandbox.clearRequests();
    await sandbox.setFaults({ storage_latency_ms: 1500 });
    const outcome = await inPage(async (ProcoreClient, file, api) => {
      // Count requests in flight as the browser sees them.
      const live = new Set();
      const open = XMLHttpRequest.prototype.send;
      XMLHttpRequest.prototype.send = function (...args) {
        live.add(this);
        this.addEventListener("loadend", () => live.delete(this));
        return open.apply(this, args);
      };
      const controller = new AbortController();
      const started = performance.now();
      const uploading = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true })
        .upload(file, {
          segmented: true, segmentSize: 5 * 1024 * 1024, signal: controller.signal,
          onProgress: (p) => { if (p.phase === "uploading" && !controller.signal.aborted) setTimeout(() => controller.abort(), 300); },
        });
      let error = null;
      try { await uploading; } catch (e) { error = { name: e.name, code: e.code }; }
      const inFlightAtAbort = live.size;
      await new Promise((resolve) => setTimeout(resolve, 100));
      XMLHttpRequest.prototype.send = open;
      return { error, inFlightAtAbort, liveAfter: live.size, ms: performance.now() - started };
    }, sandbox.api);
    assert.deepEqual(outcome.error, { name: "AbortError", code: "ABORTED" });
    assert.equal(outcome.inFlightAtAbort, 0, "every XHR ended when the promise rejected");
    assert.equal(outcome.liveAfter, 0);
    // Storage holds every request 1.5 s before reading its body: by then the client
    // must have closed each connection (the sandbox logs 499), none may have finished.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await sandbox.setFaults({});
    const log = await sandbox.requests();
    const puts = log.filter((r) => r.side === "storage" && r.method === "PUT");
    assert.ok(puts.length >= 1, "some PUTs had started");
    assert.deepEqual(puts.map((r) => r.status), puts.map(() => 499), "each PUT was abandoned by the browser");
    assert.ok(!log.some((r) => r.method === "PATCH"), "no completion after the abort");
  });

  test("an aborted signal before the call sends nothing", async () => {
    await page.setInputFiles("#files", small);
    await sandbox.clearRequests();
    const { error } = await inPage(
      (ProcoreClient, file, api) => new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true })
        .upload(file, { signal: AbortSignal.abort() }),
      sandbox.api,
    );
    assert.deepEqual([error.name, error.code], ["AbortError", "ABORTED"]);
    assert.deepEqual(await sandbox.requests(), []);
  });

  test("a 401 calls getAccessToken again and the upload goes on; a token that stays refused is UNAUTHORIZED", async () => {
    await page.setInputFiles("#files", small);
    await sandbox.setFaults({ api_401_next: 1 });
    const result = await inPage(async (ProcoreClient, file, api) => {
      const refreshes = [];
      const client = new ProcoreClient({
        companyId: 7, baseUrl: api, allowInsecureStorage: true,
        getAccessToken: async ({ refresh }) => { refreshes.push(refresh); return "sandbox-token"; },
      });
      const uploaded = await client.upload(file, { segmented: true });
      return { status: uploaded.status, refreshes };
    }, sandbox.api);
    assert.deepEqual(
      result,
      { status: "complete", refreshes: [false, true, false] },
      "create (401), create again with refresh: true, complete",
    );
    const { error } = await inPage(
      (ProcoreClient, file, api) => new ProcoreClient({ companyId: 7, accessToken: "wrong", baseUrl: api, allowInsecureStorage: true })
        .upload(file),
      sandbox.api,
    );
    assert.deepEqual([error.code, error.status], ["UNAUTHORIZED", 401]);
    assert.equal(error.body, '{"errors":"invalid access token"}', "Procore's answer comes along");
  });

  test("a getAccessToken that throws or rejects is ACCESS_TOKEN with what it threw as cause, and nothing is sent", async () => {
    await page.setInputFiles("#files", small);
    for (const how of ["throw", "reject"]) {
      await sandbox.clearRequests();
      const { error } = await inPage(
        (ProcoreClient, file, [api, how]) => new ProcoreClient({
          companyId: 7, baseUrl: api, allowInsecureStorage: true,
          getAccessToken: how === "throw"
            ? () => { throw new TypeError("session expired"); }
            : () => Promise.reject(new TypeError("session expired")),
        }).upload(file),
        [sandbox.api, how],
      );
      assert.equal(error.code, "ACCESS_TOKEN", how);
      assert.equal(error.hasStatus, false, `${how}: no request was made, so no status`);
      assert.deepEqual(error.cause, { name: "TypeError", message: "session expired" }, how);
      assert.match(error.message, /getAccessToken\(\) (threw|rejected with) TypeError: session expired/);
      assert.deepEqual(await sandbox.requests(), [], `${how}: nothing sent`);
    }
  });

  // Chromium notices a change by the modification time in whole seconds: each pick sets
  // its own known time and each change moves it 50 s later.
  let stamp = Math.floor(Date.now() / 1000) - 10_000;
  /** Picks `file` at a new known modification time. */
  const pick = async (file) => {
    stamp += 100;
    fs.utimesSync(file, stamp, stamp);
    await page.setInputFiles("#files", file);
    // Chromium takes a picked file's snapshot (size, time) when a page first asks for
    // it; ask now, before the change, or the snapshot may already be of the new file.
    assert.equal(await page.evaluate(() => document.getElementById("files").files[0].lastModified), stamp * 1000);
  };
  /** Changes the picked `file` on disk: more bytes, a later time. */
  const touch = (file) => {
    fs.appendFileSync(file, "more");
    fs.utimesSync(file, stamp + 50, stamp + 50);
  };
  /** What a changed file's FILE_READ carries: the browser's exception, named. */
  const assertChangedFileError = (error, label) => {
    assert.equal(error?.code, "FILE_READ", `${label}: ${JSON.stringify(error)}`);
    assert.equal(error.isClass, true, `${label}: a ProcoreUploadError, from a worker too`);
    // Chromium says NotReadableError (a slice read whole or sent) or TypeError
    // "network error" (a slice's stream, as the hashing reads it); WebKit NotFoundError.
    const cause = `${error.cause?.name}: ${error.cause?.message}`;
    assert.match(cause, /^(NotReadableError|NotFoundError|TypeError: network error)/, `${label}: the browser's exception is the cause: ${JSON.stringify(error)}`);
    assert.ok(error.message.includes(error.cause.name), `${label}: the message names the browser's exception: ${error.message}`);
  };

  test("a file changed on disk after it was picked is FILE_READ (Firefox: its bytes as picked): hashing, uploading with workers, and sending a form", async () => {
    const changed = randomFile(dir, "changed.bin", 6 * MiB + 7);
    const cases = [
      ["hashFile", async () => {
        const { hashFile } = await import("/pkg/index.js");
        return hashFile(document.getElementById("files").files[0]);
      }],
      ["segmented upload, hashed in workers", (ProcoreClient, file, api) =>
        new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true })
          .upload(file, { segmented: true, workers: 2 })],
      ["form upload, no hashing", (ProcoreClient, file, api) =>
        new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true })
          .upload(file, { segmented: false })],
    ];
    for (const [label, body] of cases) {
      await pick(changed);
      const picked = openssl("sha256", changed);
      touch(changed);
      await sandbox.clearRequests();
      const outcome = await inPage(body, sandbox.api);
      const requests = (await sandbox.requests()).filter((r) => r.method !== "OPTIONS");
      if (engine === "firefox") {
        // Firefox's File keeps the bytes as picked (the appended ones are not part of
        // it): the upload goes on with exactly those.
        assert.equal(outcome.error, undefined, `${label}: ${JSON.stringify(outcome.error)}`);
        const stored = outcome.uuid ? (await sandbox.inspect(outcome.uuid)).stored?.sha256 : outcome.sha256;
        assert.equal(stored, picked, `${label}: the bytes as picked`);
        continue;
      }
      assertChangedFileError(outcome.error, label);
      const toStorage = requests.filter((r) => r.side === "storage");
      assert.deepEqual(toStorage.filter((r) => r.status < 300), [], `${label}: nothing stored`);
      assert.ok(toStorage.length <= 1, `${label}: not retried (${toStorage.length} storage requests)`);
      assert.deepEqual(
        requests.filter((r) => r.side === "api" && r.method !== "POST"), [], `${label}: nothing completed`);
    }
  });

  test("a file changed while its storage request is open is FILE_READ once the stalled request is given up (Firefox: its bytes as picked)", async () => {
    // WebKit never finishes a request whose file changed under it: the client gives
    // the stalled request up, and its retry reads the file before sending.
    const changing = randomFile(dir, "changing.bin", 6 * MiB + 7);
    await pick(changing);
    const picked = openssl("sha256", changing);
    await sandbox.clearRequests();
    // The first storage request is held (its body read, no answer) for 60 s.
    await sandbox.setFaults({ storage_stall_next: 1, storage_stall_ms: 60_000 });
    const outcome = inPage(async (ProcoreClient, file, api) => {
      const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true, stallTimeoutMs: 2000 });
      const { uuid } = await client.upload(file, { segmented: true, workers: 0 });
      return { uuid };
    }, sandbox.api);
    try {
      // Changed once the storage request is open (the sandbox logs it as it arrives).
      for (let polls = 0; ; polls++) {
        const open = (await sandbox.requests()).filter((r) => r.side === "storage" && r.method === "PUT");
        if (open.length > 0) break;
        assert.ok(polls < 300, "the storage request never arrived");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      touch(changing);
      const { error, uuid } = await outcome;
      const requests = (await sandbox.requests()).filter((r) => r.method !== "OPTIONS");
      if (engine === "firefox") {
        assert.equal(error, undefined, JSON.stringify(error));
        assert.equal((await sandbox.inspect(uuid)).stored?.sha256, picked, "the bytes as picked");
        return;
      }
      assertChangedFileError(error, "changed while sent");
      const toStorage = requests.filter((r) => r.side === "storage");
      assert.deepEqual(toStorage.filter((r) => r.status < 300), [], "nothing stored");
      assert.equal(toStorage.length, 1, `only the stalled request reached storage: ${JSON.stringify(toStorage)}`);
      assert.deepEqual(requests.filter((r) => r.side === "api" && r.method !== "POST"), [], "nothing completed");
    } finally {
      await sandbox.setFaults({});
      await outcome;
    }
  });

  test("HTTP errors carry status and body", async () => {
    await page.setInputFiles("#files", small);
    await sandbox.clearRequests();
    const { error } = await inPage(
      (ProcoreClient, file, api) => new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, apiVersion: "v1.1", allowInsecureStorage: true })
        .upload(new Blob(["x"]), {}),
      sandbox.api,
    );
    assert.equal(error.code, "INVALID_INPUT", "a Blob has no name, which v1.1 needs");
    // Storage gets ten attempts (waits capped at 4 s): all ten refused.
    await sandbox.setFaults({ storage_fail_next: 10, storage_error_status: 500 });
    const failed = await inPage(
      (ProcoreClient, file, api) => new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true })
        .upload(file, { segmented: false }),
      sandbox.api,
    );
    await sandbox.setFaults({});
    assert.deepEqual([failed.error.code, failed.error.status], ["HTTP", 500], "after ten attempts");
    const attempts = (await sandbox.requests()).filter((r) => r.side === "storage" && r.method === "POST");
    assert.equal(attempts.length, 10, "ten storage attempts, then the error");
    assert.match(failed.error.body, /<Code>InternalError<\/Code>/, "storage's answer comes along");
    assert.match(failed.error.body, /Injected by the sandbox/);
  });
});
