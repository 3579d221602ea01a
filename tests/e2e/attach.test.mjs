// Attaching uploads to Procore resources, in each browser engine against the sandbox:
// a real upload, then each association; the drawing workflow end to end; and each
// failure with its typed error (unknown or unfinished uploads, non-PDF drawings,
// missing fields); a lost answer retried attaches once, for every helper, for
// uploadAndAttach's attach step and for request('POST').
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { describeInEngines, openWorld, randomFile } from "./support.mjs";

describeInEngines("attaching uploads to resources in each browser engine against the sandbox", (engine) => {
  let world, sandbox, page, pdf, png;

  before(async () => {
    world = await openWorld("attach", [], engine);
    ({ sandbox, page } = world);
    pdf = randomFile(world.dir, "A-101.pdf", 2000);
    png = randomFile(world.dir, "site.png", 1500);
  });

  after(async () => {
    await world?.close();
  });

  afterEach(async () => {
    assert.deepEqual(await world.takeProblems(), [], "no page errors or console errors");
  });

  /** Uploads the picked file, then runs `body(client, uuid, arg)`; its value or { error }. */
  function afterUpload(file, body, arg, uploadOptions = { projectId: 42 }) {
    return page.setInputFiles("#files", file).then(() => page.evaluate(
      async ({ body, arg, api, uploadOptions }) => {
        const { ProcoreClient } = await import("/pkg/index.js");
        const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true });
        const { uuid } = await client.upload(document.getElementById("files").files[0], uploadOptions);
        try {
          return { uuid, value: await new Function("client", "uuid", "arg", `return (${body})(client, uuid, arg);`)(client, uuid, arg) };
        } catch (e) {
          return { uuid, error: { name: e.name, code: e.code, message: e.message, status: e.status, body: e.body } };
        }
      },
      { body: body.toString(), arg, api: sandbox.api, uploadOptions },
    ));
  }

  const attachments = async () => (await fetch(`${sandbox.api}/_sandbox/attachments`)).json();

  test("a real upload attached to a project file, a company file, an image and an accident log", async () => {
    const cases = [
      ["project_file", (client, uuid) => client.createProjectFile({ projectId: 42, uploadUuid: uuid, name: "site.png", parentId: null, custom_field_9: "x" }),
        (answer) => answer.file_versions[0].upload_uuid],
      ["company_file", (client, uuid) => client.createCompanyFile({ uploadUuid: uuid, name: "site.png", description: "front" }),
        (answer) => answer.file_versions[0].upload_uuid],
      ["image", (client, uuid) => client.createImage({ projectId: 42, uploadUuid: uuid, imageName: "site.png", image: { description: "north wall" } }),
        (answer) => answer.description],
      ["accident_log", (client, uuid) => client.createAccidentLog(42, { uploadIds: [uuid], timeHour: 10, timeMinute: 15, comments: "near the gate" }),
        (answer) => answer.attachments[0].filename],
    ];
    for (const [kind, body, read] of cases) {
      const { uuid, value, error } = await afterUpload(png, body);
      assert.equal(error, undefined, `${kind}: ${JSON.stringify(error)}`);
      const expected = { project_file: uuid, company_file: uuid, image: "north wall", accident_log: "site.png" }[kind];
      assert.equal(read(value), expected, kind);
      const record = (await attachments()).at(-1);
      assert.equal(record.kind, kind);
      assert.deepEqual(record.upload_uuids, [uuid]);
      if (kind === "project_file") {
        assert.deepEqual(record.request, { file: { upload_uuid: uuid, name: "site.png", parent_id: null, custom_field_9: "x" } },
          "camelCase in, snake_case out, unknown fields as written");
      }
    }
  });

  test("the drawing workflow: areas, a drawing, a PDF upload, a drawing upload in_queue", async () => {
    const { value, error } = await afterUpload(pdf, async (client, uuid) => {
      const [area] = await client.listDrawingAreas(42);
      const drawing = await client.createDrawing(area.id, { number: "A-101", title: "Ground floor", disciplineName: "Architectural" });
      const imported = await client.createDrawingUpload({
        projectId: 42, drawingAreaId: area.id, drawingSetId: area.drawing_set_id,
        imports: [{ uploadUuid: uuid, drawingDate: "2026-11-23", drawingId: drawing.id }],
      });
      return { area, drawing, imported };
    }, undefined, { projectId: 42, segmented: true });
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal(value.drawing.number, "A-101");
    assert.equal(value.drawing.discipline.name, "Architectural");
    assert.equal(value.imported.status, "in_queue");
    const requests = (await (await fetch(`${sandbox.api}/_sandbox/requests`)).json())
      .filter((r) => r.path.endsWith("/drawing_uploads"));
    assert.match(Object.fromEntries(requests.at(-1).headers)["idempotency-token"] ?? "", /^[0-9a-f-]{32,36}$/);
  });

  test("a drawing upload whose answer is lost is retried with the same token and imports once", async () => {
    const before = (await attachments()).filter((r) => r.kind === "drawing_upload").length;
    await sandbox.setFaults({ api_answer_lost_next: 0 });
    const { value, error } = await afterUpload(pdf, async (client, uuid, api) => {
      const [area] = await client.listDrawingAreas(42);
      await fetch(`${api}/_sandbox/faults`, { method: "PUT", body: JSON.stringify({ api_answer_lost_next: 1 }), headers: { "content-type": "application/json" } });
      return client.createDrawingUpload({
        projectId: 42, drawingAreaId: area.id, drawingSetId: area.drawing_set_id,
        imports: [{ uploadUuid: uuid, drawingDate: "2026-11-23" }],
      });
    }, sandbox.api);
    await sandbox.setFaults({});
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal(value.status, "in_queue");
    const uploads = (await attachments()).filter((r) => r.kind === "drawing_upload");
    assert.equal(uploads.length, before + 1, "imported once, not twice");
    const posts = (await (await fetch(`${sandbox.api}/_sandbox/requests`)).json())
      .filter((r) => r.method === "POST" && r.path.endsWith("/drawing_uploads")).slice(-2);
    assert.deepEqual(posts.map((r) => r.status), [502, 201], "lost, then replayed");
    const tokens = posts.map((r) => Object.fromEntries(r.headers)["idempotency-token"]);
    assert.equal(tokens[0], tokens[1], "the same token on the retry");
  });

  /**
   * Aims the lost-answer fault at the next POST to `path` (the sandbox does the work,
   * then closes the connection without answering; the browser sees a network error,
   * or sends the request again by itself), runs `body` after an upload, and checks:
   * the call resolved, exactly one `kind` resource was created, the answer really was
   * dropped, and every POST to `path` carried the same Idempotency-Token.
   */
  async function attachedOnceDespiteALostAnswer(kind, path, file, body, arg, uploadOptions) {
    const before = (await attachments()).filter((r) => r.kind === kind).length;
    await sandbox.clearRequests();
    await sandbox.setFaults({ api_answer_dropped: [{ method: "POST", path }] });
    const { value, error } = await afterUpload(file, body, arg, uploadOptions);
    await sandbox.setFaults({});
    assert.equal(error, undefined, `${kind}: ${JSON.stringify(error)}`);
    const posts = (await sandbox.requests()).filter((r) => r.side === "api" && r.method === "POST" && r.path === path);
    assert.equal(posts[0]?.fault, "answer dropped", `${kind}: the fault hit the call: ${JSON.stringify(posts)}`);
    assert.ok(posts.length >= 2, `${kind}: sent again after the lost answer`);
    const created = (await attachments()).filter((r) => r.kind === kind).length;
    assert.equal(created, before + 1, `${kind}: created once, not ${created - before} times`);
    const tokens = posts.map((r) => Object.fromEntries(r.headers)["idempotency-token"]);
    assert.match(tokens[0] ?? "", /^[0-9a-f-]{32,36}$/, `${kind}: a token`);
    assert.deepEqual(new Set(tokens).size, 1, `${kind}: the same token on every retry: ${tokens}`);
    return value;
  }

  // Each attach helper under the lost answer (the connection closed after the work).
  for (const [helper, kind, path, file, body] of [
    ["createProjectFile", "project_file", "/rest/v1.0/files", "png",
      (client, uuid) => client.createProjectFile({ projectId: 42, uploadUuid: uuid, name: "site.png" })],
    ["createCompanyFile", "company_file", "/rest/v1.0/companies/7/files", "png",
      (client, uuid) => client.createCompanyFile({ uploadUuid: uuid, name: "site.png" })],
    ["createImage", "image", "/rest/v1.0/images", "png",
      (client, uuid) => client.createImage({ projectId: 42, uploadUuid: uuid, imageName: "site.png" })],
    ["createAccidentLog", "accident_log", "/rest/v1.0/projects/42/accident_logs", "png",
      (client, uuid) => client.createAccidentLog(42, { uploadIds: [uuid], timeHour: 10, timeMinute: 15 })],
    ["createDrawing", "drawing", "/rest/v1.1/drawing_areas/4201/drawings", "pdf",
      (client) => client.createDrawing(4201, { number: "A-102", disciplineName: "Architectural" })],
    ["createDrawingUpload", "drawing_upload", "/rest/v1.1/projects/42/drawing_uploads", "pdf",
      (client, uuid) => client.createDrawingUpload({ projectId: 42, drawingAreaId: 4201, drawingSetId: 4202,
        imports: [{ uploadUuid: uuid, drawingDate: "2026-11-23" }] })],
  ]) {
    test(`${helper} whose answer is lost (connection closed after the work) creates once and resolves`, async () => {
      const value = await attachedOnceDespiteALostAnswer(kind, path, file === "pdf" ? pdf : png, body);
      assert.equal(typeof value?.id, "number", `${kind}: resolves to the created resource`);
    });
  }

  test("uploadAndAttach whose attach answer is lost creates once and resolves", async () => {
    const value = await attachedOnceDespiteALostAnswer("project_file", "/rest/v1.0/files", png, async (client) => {
      const file = document.getElementById("files").files[0];
      return client.uploadAndAttach(file, { projectFile: { projectId: 42 } });
    });
    assert.equal(value.upload.status, "complete");
    assert.equal(value.attached.file_versions[0].upload_uuid, value.upload.uuid);
  });

  test("request('POST') whose answer is lost creates once; a caller's own Idempotency-Token is sent as given", async () => {
    const path = "/rest/v1.0/projects/42/incidents";
    const value = await attachedOnceDespiteALostAnswer("incident", path, png, (client, uuid) =>
      client.request("POST", "/rest/v1.0/projects/42/incidents", { body: { incident: { title: "gate", upload_uuids: [uuid] } } }));
    assert.equal(value.attachments[0].name, "site.png");

    await sandbox.clearRequests();
    const { error } = await afterUpload(png, (client) =>
      client.request("POST", "/rest/v1.0/projects/42/incidents", { body: { incident: {} }, headers: { "idempotency-token": "caller-1" } }));
    assert.equal(error, undefined, JSON.stringify(error));
    const [post] = (await sandbox.requests()).filter((r) => r.side === "api" && r.path === path);
    const tokens = post.headers.filter(([name]) => name === "idempotency-token").map(([, value]) => value);
    assert.deepEqual(tokens, ["caller-1"], "the caller's token, once");
  });

  test("a 5xx answered once, then fine: attached once", async () => {
    const before = (await attachments()).length;
    await sandbox.clearRequests();
    const { error } = await afterUpload(png, async (client, uuid, api) => {
      await fetch(`${api}/_sandbox/faults`, { method: "PUT", body: JSON.stringify({ api_error_next: 1 }), headers: { "content-type": "application/json" } });
      return client.createProjectFile({ projectId: 42, uploadUuid: uuid, name: "site.png" });
    }, sandbox.api);
    await sandbox.setFaults({});
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal((await attachments()).length, before + 1);
    const calls = (await sandbox.requests()).filter((r) => r.side === "api" && r.method === "POST" && r.path === "/rest/v1.0/files");
    assert.deepEqual(calls.map((r) => r.status), [503, 201], "the 503, then the retry attached");
  });

  test("Procore's refusals are HTTP 422 with the errors body: unknown upload, unfinished upload, non-PDF drawing", async () => {
    const unknown = await afterUpload(png, (client) => client.createProjectFile({ projectId: 42, uploadUuid: "NOSUCHUPLOAD", name: "x" }));
    assert.deepEqual([unknown.error?.code, unknown.error?.status], ["HTTP", 422]);
    assert.match(unknown.error.body, /upload NOSUCHUPLOAD does not exist/);

    const unfinished = await afterUpload(png, async (client) => {
      const created = await client.request("POST", "/rest/v1.1/projects/42/uploads", { body: { response_filename: "b.png", size: 3 } });
      return client.createImage({ projectId: 42, uploadUuid: created.uuid, imageName: "b.png" });
    });
    assert.deepEqual([unfinished.error?.code, unfinished.error?.status], ["HTTP", 422]);
    assert.match(unfinished.error.body, /is not finished/);

    const notPdf = await afterUpload(png, async (client, uuid) => {
      const [area] = await client.listDrawingAreas(42);
      return client.createDrawingUpload({
        projectId: 42, drawingAreaId: area.id, drawingSetId: area.drawing_set_id,
        imports: [{ uploadUuid: uuid, drawingDate: "2026-11-23" }],
      });
    });
    assert.deepEqual([notPdf.error?.code, notPdf.error?.status], ["HTTP", 422]);
    assert.match(notPdf.error.body, /drawings must be PDFs/);
  });

  /** Runs uploadAndAttach on the picked file in the page; its value, progress and error. */
  async function uploadAndAttach(file, target, options = {}) {
    await page.setInputFiles("#files", file);
    return page.evaluate(async ({ api, target, options }) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true });
      const events = [];
      try {
        const value = await client.uploadAndAttach(document.getElementById("files").files[0], target, {
          ...options, onProgress: (p) => events.push(p),
        });
        return { value, events };
      } catch (e) {
        return { error: { code: e.code, message: e.message, status: e.status, body: e.body }, events };
      }
    }, { api: sandbox.api, target, options });
  }

  test("uploadAndAttach: one promise, one progress stream ending after the attach step", async () => {
    const { value, events, error } = await uploadAndAttach(png, { projectFile: { projectId: 42, description: "front" } });
    assert.equal(error, undefined, JSON.stringify(error));
    const uuid = value.upload.uuid;
    assert.equal(value.upload.status, "complete");
    assert.equal(value.attached.file_versions[0].upload_uuid, uuid);
    assert.equal(value.attached.name, "site.png", "the name defaults to the file's");
    const phases = events.map((e) => e.phase);
    assert.ok(phases.includes("attaching"), phases.join());
    assert.equal(phases.at(-1), "done");
    assert.equal(phases.filter((p) => p === "done").length, 1, "done once, at the end");
    assert.ok(phases.indexOf("attaching") < phases.lastIndexOf("done"));
    for (let i = 1; i < events.length; i++) {
      assert.ok(events[i].bytesUploaded >= events[i - 1].bytesUploaded, "never backwards");
    }
    const record = (await attachments()).at(-1);
    assert.deepEqual([record.kind, record.upload_uuids], ["project_file", [uuid]]);
    const upload = await sandbox.inspect(uuid);
    assert.equal(upload.upload.project_id, 42, "uploaded to the target's project");
  });

  test("uploadAndAttach of a drawing: a PDF is imported; anything else is refused before anything is sent", async () => {
    const [area] = await page.evaluate(async (api) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      return new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api }).listDrawingAreas(42);
    }, sandbox.api);
    const target = { drawing: { projectId: 42, drawingAreaId: area.id, drawingSetId: area.drawing_set_id, drawingDate: "2026-11-23" } };
    const { value, error } = await uploadAndAttach(pdf, target, { segmented: true });
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal(value.attached.status, "in_queue");
    const record = (await attachments()).at(-1);
    assert.deepEqual([record.kind, record.upload_uuids], ["drawing_upload", [value.upload.uuid]]);

    for (const [file, badTarget, message] of [
      [png, target, /drawings must be PDFs: "site\.png" does not end in \.pdf/],
      [pdf, { drawing: { ...target.drawing, drawingDate: undefined } }, /target\.drawing\.drawingDate is required/],
      [png, { projectFile: { parentId: 3 } }, /target\.projectFile\.projectId is required/],
      [png, { folder: { projectId: 42 } }, /target must name one of projectFile, companyFile, image, drawing, accidentLog/],
      [png, "projectFile", /target must be an object/],
    ]) {
      await sandbox.clearRequests();
      const refused = await uploadAndAttach(file, badTarget);
      assert.equal(refused.error?.code, "INVALID_INPUT", JSON.stringify(refused));
      assert.match(refused.error.message, message);
      assert.deepEqual(refused.events, [], "no progress: nothing started");
      assert.deepEqual(await sandbox.requests(), [], "nothing sent");
    }
  });

  test("missing or mistyped fields are INVALID_INPUT and nothing is sent", async () => {
    const cases = [
      [(client, uuid) => client.createProjectFile({ uploadUuid: uuid, name: "x" }), /options\.projectId is required/],
      [(client, uuid) => client.createProjectFile({ projectId: 42, uploadUuid: uuid }), /options\.name is required/],
      [(client) => client.createCompanyFile({ uploadUuid: "", name: "x" }), /options\.uploadUuid must be a non-empty string/],
      [(client, uuid) => client.createImage({ projectId: 42, uploadUuid: uuid, imageName: "x", image: [] }), /options\.image must be an object/],
      [(client) => client.listDrawingAreas("42"), /projectId must be a positive integer/],
      [(client) => client.createDrawing(5, { number: "A-1" }), /options\.disciplineName is required/],
      [(client, uuid) => client.createDrawingUpload({ projectId: 42, drawingAreaId: 4201, drawingSetId: 4202, imports: [{ uploadUuid: uuid, drawingDate: "23/11/2026" }] }),
        /options\.imports\[0\]\.drawingDate must be a date as "YYYY-MM-DD"/],
      [(client) => client.createAccidentLog(42, { uploadIds: [], timeHour: 10 }), /options\.uploadIds must be a non-empty array/],
      [(client, uuid) => client.createAccidentLog(42, { uploadIds: [uuid], timeHour: 24 }), /options\.timeHour must be an integer from 0 to 23/],
      [(client) => client.createProjectFile("plan.pdf"), /options must be an object/],
    ];
    for (const [body, message] of cases) {
      await page.setInputFiles("#files", png);
      const { value: sent, error } = await afterUpload(png, async (client, uuid, [api, body]) => {
        await fetch(`${api}/_sandbox/requests`, { method: "DELETE" });
        try {
          await new Function("client", "uuid", `return (${body})(client, uuid);`)(client, uuid);
          return { sent: "resolved" };
        } catch (e) {
          const log = await (await fetch(`${api}/_sandbox/requests`)).json();
          return { code: e.code, message: e.message, sent: log.filter((r) => r.method !== "OPTIONS").length };
        }
      }, [sandbox.api, body.toString()]);
      assert.equal(error, undefined);
      assert.equal(sent.code, "INVALID_INPUT", `${body}: ${JSON.stringify(sent)}`);
      assert.match(sent.message, message);
      assert.equal(sent.sent, 0, `${body}: nothing sent`);
    }
  });
});
