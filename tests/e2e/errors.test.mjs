// ProcoreUploadError in each browser engine: every rejection is an instance of the
// exported class (aborts too, named AbortError); an abort carries the reason of the
// caller's signal as cause, for every call that takes a signal; RATE_LIMITED says how
// long Procore asked to wait; HTTP errors say which call failed without its query or
// the token; a wasm that does not load is a ProcoreUploadError too.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { describeInEngines, openWorld, randomFile, startSandbox } from "./support.mjs";

const MiB = 1024 * 1024;
const TOKEN = "sandbox-token";

describeInEngines("ProcoreUploadError in each browser engine", (engine) => {
  let world, sandbox, page, small, medium, hidingSandbox;

  before(async () => {
    world = await openWorld("errors", [], engine);
    ({ sandbox, page } = world);
    hidingSandbox = await startSandbox(["--hide-etag"]);
    small = randomFile(world.dir, "small.bin", 1000);
    medium = randomFile(world.dir, "medium.bin", 12 * MiB + 5);
  });

  after(async () => {
    await hidingSandbox?.stop();
    await world?.close();
  });

  afterEach(async () => {
    await sandbox.setFaults({});
    assert.deepEqual(await world.takeProblems(), [], "no page errors or console errors");
  });

  /**
   * Runs `body({ ProcoreClient, ProcoreUploadError, hashFile, client, file, reason }, arg)`
   * in the page; resolves to its value, or to { error } describing what it threw:
   * every own property but the stack, whether it is an instance of the class and of Error, and
   * whether its cause is `reason` (an Error the body may give to abort()).
   */
  function inPage(body, arg, { api = sandbox.api, clientOptions = {} } = {}) {
    return page.evaluate(
      async ({ body, arg, api, clientOptions, token }) => {
        const { ProcoreClient, ProcoreUploadError, hashFile } = await import("/pkg/index.js");
        const client = new ProcoreClient({
          companyId: 7, accessToken: token, baseUrl: api, allowInsecureStorage: true, store: false, ...clientOptions,
        });
        const file = document.getElementById("files").files[0];
        // The body may replace env.reason (with the reason its signal got).
        const env = { ProcoreClient, ProcoreUploadError, hashFile, client, file, reason: new Error("user left") };
        const run = new Function("env", "arg", `return (${body})(env, arg);`);
        try {
          return await run(env, arg);
        } catch (e) {
          const own = {};
          for (const key of Object.getOwnPropertyNames(e)) {
            if (key === "stack" || key === "cause" || key === "upload") continue;
            own[key] = e[key];
          }
          return {
            error: {
              ...own,
              keys: Object.getOwnPropertyNames(e).sort(),
              isClass: e instanceof ProcoreUploadError,
              isError: e instanceof Error,
              hasCause: "cause" in e,
              causeIsReason: e.cause === env.reason,
              cause: e.cause === undefined ? undefined : {
                name: e.cause?.name,
                message: e.cause?.message,
                isDOMException: typeof DOMException !== "undefined" && e.cause instanceof DOMException,
              },
              // What the library says (the stack is the engine's: WebKit writes "<?>").
              text: `${e.message} ${JSON.stringify(own)}`,
            },
          };
        }
      },
      { body: body.toString(), arg, api, clientOptions, token: TOKEN },
    );
  }

  /** Fails unless `error` is a ProcoreUploadError of `code` (an AbortError for ABORTED). */
  function assertClass(error, code, label) {
    assert.ok(error, `${label}: rejected`);
    const name = code === "ABORTED" ? "AbortError" : "ProcoreUploadError";
    assert.deepEqual(
      [error.isClass, error.isError, error.name, error.code],
      [true, true, name, code],
      `${label}: ${JSON.stringify(error)}`,
    );
  }

  test("the class: its constructor sets what it is given, before the wasm is loaded", async () => {
    // A fresh page: nothing has loaded the wasm yet.
    await page.reload();
    const made = await page.evaluate(async () => {
      const { ProcoreUploadError } = await import("/pkg/index.js");
      const cause = new TypeError("offline");
      const http = new ProcoreUploadError("GET /x answered 503", {
        code: "HTTP", status: 503, body: "busy", retryAfterMs: 2000, method: "GET", path: "/x", cause,
      });
      const abort = new ProcoreUploadError("stopped", { code: "ABORTED" });
      return {
        http: { ...http, message: http.message, causeKept: http.cause === cause, isError: http instanceof Error, isClass: http instanceof ProcoreUploadError },
        abort: { name: abort.name, code: abort.code, keys: Object.keys(abort).sort(), isClass: abort instanceof ProcoreUploadError },
        wasmLoaded: performance.getEntriesByType("resource").some((r) => r.name.endsWith(".wasm")),
      };
    });
    assert.deepEqual(made.http, {
      name: "ProcoreUploadError", code: "HTTP", status: 503, body: "busy", retryAfterMs: 2000, method: "GET", path: "/x",
      message: "GET /x answered 503", causeKept: true, isError: true, isClass: true,
    });
    assert.deepEqual(made.abort, { name: "AbortError", code: "ABORTED", keys: ["code", "name"], isClass: true });
    assert.equal(made.wasmLoaded, false, "the class needs no wasm");
  });

  test("INVALID_INPUT from every kind of entry is a ProcoreUploadError", async () => {
    await page.setInputFiles("#files", small);
    await sandbox.clearRequests();
    const cases = [
      ["upload with companyId 0", ({ ProcoreClient, file }) => new ProcoreClient({ companyId: 0, accessToken: "t" }).upload(file)],
      ["start's done", ({ client }) => client.start("not a file").done],
      ["request with a full URL", ({ client }) => client.request("GET", "https://evil.example/rest")],
      ["top-level hashFile of a string", ({ hashFile }) => hashFile("not a file")],
      ["a closed client", ({ client, file }) => { client.close(); return client.upload(file); }],
    ];
    for (const [label, body] of cases) {
      const { error } = await inPage(body);
      assertClass(error, "INVALID_INPUT", label);
      assert.equal(error.hasCause, false, `${label}: no cause`);
    }
    assert.deepEqual(await sandbox.requests(), [], "nothing sent");
  });

  test("an HTTP error names its call by method and path: no query, no host, no token", async () => {
    await page.setInputFiles("#files", small);
    const cases = [
      // The query goes out (?view=…) but is no part of what the error says.
      ["request", ({ client }) => client.request("GET", "/rest/v1.1/companies/7/uploads/no-such-upload", { query: { view: "query-secret" } }),
        "GET", "/rest/v1.1/companies/7/uploads/no-such-upload", 404],
      // POST /rest/v1.0/files?project_id=42: the path without its query.
      ["createProjectFile", ({ client }) => client.createProjectFile({ projectId: 42, uploadUuid: "NOSUCHUPLOAD", name: "x" }),
        "POST", "/rest/v1.0/files", null],
    ];
    for (const [label, body, method, path, status] of cases) {
      await sandbox.clearRequests();
      const { error } = await inPage(body);
      assertClass(error, "HTTP", label);
      assert.deepEqual([error.method, error.path], [method, path], label);
      if (status) assert.equal(error.status, status, label);
      assert.ok(error.status >= 400, label);
      assert.ok(!("retryAfterMs" in error), `${label}: no wait asked`);
      const sent = (await sandbox.requests()).filter((r) => r.side === "api" && r.method === method);
      assert.ok(sent.length >= 1 && sent.every((r) => r.query), `${label}: the request had a query: ${JSON.stringify(sent)}`);
      for (const secret of [TOKEN, "?", "query-secret", "project_id"]) {
        assert.ok(!error.text.includes(secret), `${label}: ${secret} in ${error.text}`);
      }
    }
  });

  test("MISSING_ETAG names the storage PUT by its path, never its signed query", async () => {
    await page.setInputFiles("#files", small);
    await hidingSandbox.clearRequests();
    const { error } = await inPage(({ client, file }) => client.upload(file, { segmented: true }), undefined, { api: hidingSandbox.api });
    assertClass(error, "MISSING_ETAG", "hidden ETag");
    const [put] = (await hidingSandbox.requests()).filter((r) => r.side === "storage" && r.method === "PUT");
    assert.match(put.query ?? "", /X-Amz-Signature=/i, `the PUT was signed: ${JSON.stringify(put)}`);
    assert.deepEqual([error.method, error.path], ["PUT", put.path]);
    for (const secret of [TOKEN, "?", "X-Amz", put.query]) {
      assert.ok(!error.text.includes(secret), `${secret} in ${error.text}`);
    }
  });

  test("RATE_LIMITED carries retryAfterMs: Procore's Retry-After of the last 429", async () => {
    // Five attempts, all answered 429 with Retry-After: 1 (the client waits 1 s between).
    await sandbox.setFaults({ api_429_next: 5, retry_after_secs: 1 });
    const { error } = await inPage(({ client }) => client.request("GET", "/rest/v1.1/companies/7/uploads/U1"));
    assertClass(error, "RATE_LIMITED", "429s");
    assert.deepEqual(
      [error.status, error.retryAfterMs, error.method, error.path],
      [429, 1000, "GET", "/rest/v1.1/companies/7/uploads/U1"],
    );
    assert.match(error.message, /^GET .* answered 429 \(rate limited\); retry after 1 s$/);
    assert.ok(!error.text.includes(TOKEN));
    const limited = (await sandbox.requests()).filter((r) => r.fault === "429");
    assert.equal(limited.length, 5, "every attempt was a 429");
  });

  test("an already aborted signal: every call that takes one rejects with its reason as cause, nothing sent", async () => {
    await page.setInputFiles("#files", small);
    await sandbox.clearRequests();
    // Each is given `signal` (aborted with `reason`, an Error, or with nothing).
    const calls = {
      upload: ({ client, file }, signal) => client.upload(file, { signal }),
      start: ({ client, file }, signal) => client.start(file, { signal }).done,
      uploadAndAttach: ({ client, file }, signal) => client.uploadAndAttach(file, { projectFile: { projectId: 42 } }, { signal }),
      request: ({ client }, signal) => client.request("GET", "/rest/v1.0/me", { signal }),
      createProjectFile: ({ client }, signal) => client.createProjectFile({ projectId: 42, uploadUuid: "U", name: "x", signal }),
      createCompanyFile: ({ client }, signal) => client.createCompanyFile({ uploadUuid: "U", name: "x", signal }),
      "client.hashSegments": ({ client, file }, signal) => client.hashSegments(file, { signal }),
      "top-level hashFile": ({ hashFile, file }, signal) => hashFile(file, { signal }),
    };
    for (const [label, call] of Object.entries(calls)) {
      for (const withReason of [true, false]) {
        const { error } = await inPage(async (env, { call, withReason }) => {
          const controller = new AbortController();
          if (withReason) controller.abort(env.reason);
          else controller.abort();
          env.reason = controller.signal.reason;
          return new Function("env", "signal", `return (${call})(env, signal);`)(env, controller.signal);
        }, { call: call.toString(), withReason });
        const what = `${label} ${withReason ? "abort(reason)" : "abort()"}`;
        assertClass(error, "ABORTED", what);
        assert.ok(error.causeIsReason, `${what}: the cause is signal.reason: ${JSON.stringify(error)}`);
        if (withReason) {
          assert.deepEqual([error.cause.name, error.cause.message], ["Error", "user left"], what);
        } else {
          assert.deepEqual([error.cause.name, error.cause.isDOMException], ["AbortError", true], what);
        }
      }
    }
    assert.deepEqual(await sandbox.requests(), [], "nothing sent");
  });

  test("aborted while sending: the reason is the cause; task.cancel() and client.close() give none", async () => {
    await page.setInputFiles("#files", medium);
    await sandbox.setFaults({ storage_latency_ms: 1500, api_latency_ms: 1500 });
    // Stopped once the upload is sending its segments, by each of the four means.
    const stoppers = ["signal with reason", "signal", "task.cancel()", "client.close()"];
    for (const how of stoppers) {
      const { error } = await inPage(async ({ client, file, reason }, how) => {
        const controller = new AbortController();
        let stop;
        const task = client.start(file, {
          segmented: true, segmentSize: 5 * 1024 * 1024, signal: controller.signal,
          onProgress: (p) => { if (p.phase === "uploading" && !stop) stop = setTimeout(() => {
            if (how === "signal with reason") controller.abort(reason);
            else if (how === "signal") controller.abort();
            else if (how === "task.cancel()") task.cancel();
            else client.close();
          }, 200); },
        });
        return task.done;
      }, how);
      assertClass(error, "ABORTED", how);
      if (how === "signal with reason") {
        assert.ok(error.causeIsReason, `${how}: ${JSON.stringify(error)}`);
      } else if (how === "signal") {
        assert.deepEqual([error.cause?.name, error.cause?.isDOMException], ["AbortError", true], how);
      } else {
        assert.equal(error.hasCause, false, `${how}: no cause: ${JSON.stringify(error)}`);
      }
    }
    // An API call held by the sandbox, aborted with a reason while it waits.
    const { error } = await inPage(({ client, reason }) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(reason), 300);
      return client.request("GET", "/rest/v1.1/companies/7/uploads/U1", { signal: controller.signal });
    });
    assertClass(error, "ABORTED", "request in flight");
    assert.ok(error.causeIsReason, JSON.stringify(error));
  });

  test("a .wasm that cannot be loaded rejects with a LOAD ProcoreUploadError", async () => {
    const wasm = `${world.dir}/package/procore_upload_wasm_bg.wasm`;
    await page.reload();
    await page.setInputFiles("#files", small);
    fs.renameSync(wasm, `${wasm}.away`);
    let failed;
    try {
      failed = await inPage(({ client, file }) => client.upload(file));
    } finally {
      fs.renameSync(`${wasm}.away`, wasm);
    }
    assertClass(failed.error, "LOAD", "no wasm");
    assert.ok(failed.error.hasCause, "the browser's error is the cause");
    const again = await inPage(({ client, file }) => client.upload(file));
    assert.equal(again.size, 1000, JSON.stringify(again));
  });
});
