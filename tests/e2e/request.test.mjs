// client.request(): the generic authenticated call, in each browser engine against the
// sandbox's API. The client's token and company go with it, retries and token refresh
// apply, answers come back parsed, HTTP errors keep Procore's body, and bad paths,
// headers and bodies are refused before anything is sent.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { describeInEngines, openWorld, randomFile } from "./support.mjs";

describeInEngines("ProcoreClient.request in each browser engine against the sandbox", (engine) => {
  let world, sandbox, page, small;

  before(async () => {
    world = await openWorld("request", [], engine);
    ({ sandbox, page } = world);
    small = randomFile(world.dir, "small.bin", 1000);
  });

  after(async () => {
    await world?.close();
  });

  afterEach(async () => {
    assert.deepEqual(await world.takeProblems(), [], "no page errors or console errors");
  });

  /** Runs `body(client, file, arg)` in the page with a client for the sandbox. */
  function inPage(body, arg, clientOptions = {}) {
    return page.evaluate(
      async ({ body, arg, api, clientOptions }) => {
        const { ProcoreClient } = await import("/pkg/index.js");
        const client = new ProcoreClient({
          companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true, ...clientOptions,
        });
        const file = document.getElementById("files").files[0];
        try {
          return await new Function("client", "file", "arg", `return (${body})(client, file, arg);`)(client, file, arg);
        } catch (e) {
          return { error: { name: e.name, code: e.code, message: e.message, status: e.status, body: e.body } };
        }
      },
      { body: body.toString(), arg, api: sandbox.api, clientOptions },
    );
  }

  test("a 204 answer resolves to null: an incident with the upload, then deleted", async () => {
    await page.setInputFiles("#files", small);
    const outcome = await inPage(async (client, file) => {
      const { uuid } = await client.upload(file, { segmented: false });
      const incident = await client.request("POST", "/rest/v1.0/projects/42/incidents", {
        body: { incident: { title: "Fall near gate", upload_uuids: [uuid] } },
      });
      const deleted = await client.request("DELETE", `/rest/v1.0/projects/42/incidents/${incident.id}`);
      let again;
      try {
        again = await client.request("DELETE", `/rest/v1.0/projects/42/incidents/${incident.id}`);
      } catch (e) {
        again = { code: e.code, status: e.status, body: e.body };
      }
      return { incident, deleted, again };
    });
    assert.equal(outcome.error, undefined, JSON.stringify(outcome.error));
    assert.equal(outcome.incident.title, "Fall near gate");
    assert.equal(outcome.deleted, null, "204 No Content is null");
    const listed = await (await fetch(`${sandbox.api}/_sandbox/attachments`)).json();
    const incidents = (Array.isArray(listed) ? listed : listed.attachments).filter((a) => a.kind === "incident");
    assert.deepEqual(incidents.map((a) => a.id).filter((id) => id === outcome.incident.id), [], "gone from the sandbox");
    assert.deepEqual([outcome.again.code, outcome.again.status], ["HTTP", 404]);
    assert.match(outcome.again.body, new RegExp(`incident ${outcome.incident.id} not found in project 42`));
  });

  test("GET an upload made by upload(): Procore's JSON, parsed, with the token and company", async () => {
    await page.setInputFiles("#files", small);
    await sandbox.clearRequests();
    const { uploaded, shown } = await inPage(async (client, file) => {
      const uploaded = await client.upload(file, { segmented: false });
      const shown = await client.request("GET", `/rest/v1.1/companies/7/uploads/${uploaded.uuid}`, {
        query: { view: "extended", ids: [1, 2], flag: true },
      });
      return { uploaded, shown };
    });
    assert.equal(shown.uuid, uploaded.uuid);
    assert.equal(shown.status, "complete");
    const get = (await sandbox.requests()).filter((r) => r.side === "api" && r.method === "GET").at(-1);
    assert.equal(get.path, `/rest/v1.1/companies/7/uploads/${uploaded.uuid}`);
    assert.equal(get.query, "view=extended&ids=1&ids=2&flag=true");
    const headers = Object.fromEntries(get.headers);
    assert.equal(headers.authorization, "Bearer sandbox-token");
    assert.equal(headers["procore-company-id"], "7");
  });

  test("POST a JSON body with an extra header; a 429 and a 401 are retried with the same header", async () => {
    await sandbox.clearRequests();
    await sandbox.setFaults({ api_429_next: 1, api_401_next: 1 });
    const result = await page.evaluate(async (api) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      const refreshes = [];
      const client = new ProcoreClient({
        companyId: 7, baseUrl: api, allowInsecureStorage: true,
        getAccessToken: ({ refresh }) => { refreshes.push(refresh); return "sandbox-token"; },
      });
      const answer = await client.request("POST", "/rest/v1.1/projects/42/uploads", {
        body: { response_filename: "plan.pdf", size: 3 },
        headers: { "Idempotency-Token": "key-1" },
      });
      return { answer, refreshes };
    }, sandbox.api);
    await sandbox.setFaults({});
    assert.ok(result.answer.uuid && result.answer.url && result.answer.fields, JSON.stringify(result.answer));
    assert.deepEqual(result.refreshes, [false, true, false], "401 once: a fresh token; 429 once: the same");
    const posts = (await sandbox.requests()).filter((r) => r.side === "api" && r.method === "POST");
    assert.equal(posts.length, 3, "401, 429, then created");
    for (const post of posts) {
      const headers = Object.fromEntries(post.headers);
      assert.equal(headers["idempotency-token"], "key-1", "the same token on every attempt");
      assert.equal(headers["content-type"], "application/json");
    }
  });

  test("an HTTP error keeps its status and Procore's body", async () => {
    const { error } = await inPage((client) => client.request("GET", "/rest/v1.1/companies/7/uploads/no-such-upload"));
    assert.equal(error.code, "HTTP");
    assert.equal(error.status, 404);
    assert.match(error.body, /errors/);
    const refused = await inPage((client) => client.request("POST", "/rest/v1.1/projects/42/uploads", { body: { size: "big" } }));
    assert.equal(refused.error.code, "HTTP");
    assert.ok([400, 422].includes(refused.error.status), JSON.stringify(refused.error));
    assert.equal(refused.error.body, '{"errors":"response_filename is required in v1.1"}');
  });

  test("each bad call is refused with INVALID_INPUT before anything is sent", async () => {
    await sandbox.clearRequests();
    const cases = [
      [["TRACE", "/rest/v1.0/me"], /method must be GET, POST, PUT, PATCH or DELETE/],
      [[42, "/rest/v1.0/me"], /method must be a string/],
      [["GET", 5], /path must be a string/],
      [["GET", "/rest/../admin"], /\. or \.\. segment/],
      [["GET", "/rest/%2e%2e/admin"], /\. or \.\. segment/],
      [["GET", "https://evil.example/rest/v1.0/me"], /single \//],
      [["GET", "//evil.example/rest"], /single \//],
      [["GET", "/rest/v1.0/me?x=1"], /pass the query as `query`/],
      [["GET", "/rest/v1.0/me", { body: { a: 1 } }], /GET request carries no body/],
      [["GET", "/rest/v1.0/me", { query: { a: { b: 1 } } }], /options\.query\.a must be a string/],
      [["GET", "/rest/v1.0/me", { query: "a=1" }], /options\.query must be an object/],
      [["GET", "/rest/v1.0/me", { headers: { Authorization: "Bearer other" } }], /set by the client or the browser/],
      [["GET", "/rest/v1.0/me", { headers: { "Procore-Company-Id": "8" } }], /set by the client or the browser/],
      [["GET", "/rest/v1.0/me", { headers: { "Bad Name": "x" } }], /not a valid HTTP header name/],
      [["POST", "/rest/v1.0/x", { body: { n: 10n } }], /cannot be sent as JSON/],
      [["POST", "/rest/v1.0/x", { signal: "stop" }], /options\.signal must be an AbortSignal/],
      [["GET", "/rest/v1.0/me", { params: { a: 1 } }], /options\.params is not a known option/],
      [["POST", "/rest/v1.0/x", { Body: { a: 1 } }], /options\.Body \(did you mean body\?\) is not a known option/],
    ];
    for (const [args, message] of cases) {
      const { error } = await page.evaluate(async ({ api, args }) => {
        const { ProcoreClient } = await import("/pkg/index.js");
        const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api });
        // BigInt cannot cross evaluate(): rebuild it here.
        if (args[2]?.body?.n === "10n") args[2].body.n = 10n;
        try {
          await client.request(...args);
          return {};
        } catch (e) {
          return { error: { code: e.code, message: e.message } };
        }
      }, { api: sandbox.api, args: JSON.parse(JSON.stringify(args, (_, v) => (typeof v === "bigint" ? "10n" : v))) });
      assert.equal(error?.code, "INVALID_INPUT", `${JSON.stringify(args, (_, v) => (typeof v === "bigint" ? "10n" : v))}`);
      assert.match(error.message, message);
    }
    assert.deepEqual(await sandbox.requests(), [], "nothing reached the sandbox");
  });

  test("an aborted signal rejects with AbortError and sends nothing", async () => {
    await sandbox.clearRequests();
    const { error } = await inPage((client) => {
      const controller = new AbortController();
      controller.abort();
      return client.request("GET", "/rest/v1.0/me", { signal: controller.signal });
    });
    assert.deepEqual([error.name, error.code], ["AbortError", "ABORTED"]);
    assert.deepEqual(await sandbox.requests(), []);
  });
});
