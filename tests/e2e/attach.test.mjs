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
    // These tests file the same picture in the same folder again and again, which
    // Procore (and by default the sandbox) refuses as a taken name: the attach calls'
    // requests are what they check; Documents' names are tests/e2e/folders' concern.
    world = await openWorld("attach", ["--allow-duplicate-file-names"], engine);
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

  test("a real upload attached to a project file, a company file, an image and an accident log; procoreFields arrive under the resource as written", async () => {
    const cases = [
      ["project_file", (client, uuid) => client.createProjectFile({ projectId: 42, uploadUuid: uuid, name: "site.png", parentId: null,
        procoreFields: { custom_field_9: "x", is_tracked: true } }),
        (answer) => answer.file_versions[0].upload_uuid,
        (uuid) => ({ file: { upload_uuid: uuid, name: "site.png", parent_id: null, custom_field_9: "x", is_tracked: true } })],
      ["company_file", (client, uuid) => client.createCompanyFile({ uploadUuid: uuid, name: "site.png", description: "front",
        procoreFields: { explicit_permissions: { user_ids: [3] } } }),
        (answer) => answer.file_versions[0].upload_uuid,
        (uuid) => ({ file: { upload_uuid: uuid, name: "site.png", description: "front", explicit_permissions: { user_ids: [3] } } })],
      ["image", (client, uuid) => client.createImage({ projectId: 42, uploadUuid: uuid, imageName: "site.png",
        procoreFields: { description: "north wall", log_date: "2026-11-23" } }),
        (answer) => answer.description,
        (uuid) => ({ upload: { uuid, image_name: "site.png" }, image: { description: "north wall", log_date: "2026-11-23" } })],
      ["accident_log", (client, uuid) => client.createAccidentLog({ projectId: 42, uploadIds: [uuid], timeHour: 10, timeMinute: 15,
        comments: "near the gate", procoreFields: { custom_field_3: 1 } }),
        (answer) => answer.attachments[0].filename,
        (uuid) => ({ accident_log: { upload_ids: [uuid], time_hour: 10, time_minute: 15, comments: "near the gate", custom_field_3: 1 } })],
    ];
    for (const [kind, body, read, sent] of cases) {
      const { uuid, value, error } = await afterUpload(png, body);
      assert.equal(error, undefined, `${kind}: ${JSON.stringify(error)}`);
      const expected = { project_file: uuid, company_file: uuid, image: "north wall", accident_log: "site.png" }[kind];
      assert.equal(read(value), expected, kind);
      const record = (await attachments()).at(-1);
      assert.equal(record.kind, kind);
      assert.deepEqual(record.upload_uuids, [uuid]);
      assert.deepEqual(record.request, sent(uuid), `${kind}: camelCase in, snake_case out, procoreFields under the resource as written`);
    }
  });

  test("the drawing workflow: areas, a drawing, a PDF upload, a drawing upload in_queue", async () => {
    const { value, error } = await afterUpload(pdf, async (client, uuid) => {
      const [area] = await client.listDrawingAreas({ projectId: 42, signal: new AbortController().signal });
      const drawing = await client.createDrawing({ drawingAreaId: area.id, number: "A-101", title: "Ground floor", disciplineName: "Architectural",
        procoreFields: { description: "ground" } });
      const imported = await client.createDrawingUpload({
        projectId: 42, drawingAreaId: area.id, drawingSetId: area.drawing_set_id,
        imports: [{ uploadUuid: uuid, drawingDate: "2026-11-23", drawingId: drawing.id, procoreFields: { revision_notes: "first" } }],
        procoreFields: { notify: false },
      });
      return { area, drawing, imported };
    }, undefined, { projectId: 42, segmented: true });
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal(value.drawing.number, "A-101");
    assert.equal(value.drawing.discipline.name, "Architectural");
    assert.equal(value.imported.status, "in_queue");
    const [drawingRecord, importRecord] = (await attachments()).slice(-2);
    assert.deepEqual(drawingRecord.request, { drawing: { number: "A-101", title: "Ground floor",
      drawing_discipline: { name: "Architectural" }, description: "ground" } }, "the drawing's procoreFields as written");
    assert.deepEqual(importRecord.request, { drawing_upload: { drawing_area_id: value.area.id, drawing_set_id: value.area.drawing_set_id,
      drawing_log_imports: [{ upload_uuid: importRecord.upload_uuids[0], drawing_date: "2026-11-23", drawing_id: value.drawing.id, revision_notes: "first" }],
      notify: false } }, "the upload's and the import's procoreFields, each under its own object");
    const requests = (await (await fetch(`${sandbox.api}/_sandbox/requests`)).json())
      .filter((r) => r.path.endsWith("/drawing_uploads"));
    assert.match(Object.fromEntries(requests.at(-1).headers)["idempotency-token"] ?? "", /^[0-9a-f-]{32,36}$/);
  });

  test("a drawing upload whose answer is lost is retried with the same token and imports once", async () => {
    const before = (await attachments()).filter((r) => r.kind === "drawing_upload").length;
    await sandbox.setFaults({ api_answer_lost_next: 0 });
    const { value, error } = await afterUpload(pdf, async (client, uuid, api) => {
      const [area] = await client.listDrawingAreas({ projectId: 42 });
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
      (client, uuid) => client.createAccidentLog({ projectId: 42, uploadIds: [uuid], timeHour: 10, timeMinute: 15 })],
    ["createDrawing", "drawing", "/rest/v1.1/drawing_areas/4201/drawings", "pdf",
      (client) => client.createDrawing({ drawingAreaId: 4201, number: "A-102", disciplineName: "Architectural" })],
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

  test("client.attach: an attach whose every answer was lost fails; tried again with the same idempotencyToken it is made once; the file name defaults the name", async () => {
    const before = (await attachments()).filter((r) => r.kind === "project_file").length;
    await sandbox.clearRequests();
    // Every answer lost: the work is done each time, the retries give up.
    await sandbox.setFaults({ api_faults: [{ fault: "answer_lost", method: "POST", path: "/rest/v1.0/files", next: 1000 }] });
    const { value, error } = await afterUpload(png, async (client, uuid, api) => {
      const target = { projectFile: { projectId: 42 } };
      const options = { fileName: "site.png", idempotencyToken: "row-7-attach" };
      let first;
      try {
        first = { value: await client.attach({ uuid }, target, options) };
      } catch (e) {
        first = { code: e.code, status: e.status };
      }
      await fetch(`${api}/_sandbox/faults`, { method: "PUT", body: "{}", headers: { "content-type": "application/json" } });
      return { first, second: await client.attach({ uuid, status: "complete", size: 1500 }, target, options), uuid };
    }, sandbox.api);
    await sandbox.setFaults({});
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal(value.first.value, undefined, `the first try failed: ${JSON.stringify(value.first)}`);
    assert.equal(value.second.name, "site.png", "the file name is the default name");
    assert.equal(value.second.file_versions[0].upload_uuid, value.uuid);
    const made = (await attachments()).filter((r) => r.kind === "project_file").length;
    assert.equal(made, before + 1, "made once over both tries");
    const posts = (await sandbox.requests()).filter((r) => r.side === "api" && r.method === "POST" && r.path === "/rest/v1.0/files");
    assert.ok(posts.length >= 3, `lost answers, then the second try: ${posts.length}`);
    const tokens = new Set(posts.map((r) => Object.fromEntries(r.headers)["idempotency-token"]));
    assert.deepEqual([...tokens], ["row-7-attach"], "the caller's token on every request of both tries");
  });

  test("client.attach without a token sends a fresh one; bad input is INVALID_INPUT and nothing is sent", async () => {
    await sandbox.clearRequests();
    const { value, error } = await afterUpload(png, async (client, uuid, api) => {
      const target = { companyFile: { name: "kept.png" } };
      const made = await client.attach({ uuid }, target);
      const cases = [
        [null, target, {}],
        [{ uuid: "" }, target, {}],
        [{ uuid }, target, { filename: "x.png" }],
        [{ uuid }, target, { idempotencyToken: "two words" }],
        [{ uuid }, target, { idempotencyToken: "" }],
        [{ uuid }, { projectFile: { projectId: 42 } }, {}],
        [{ uuid }, { drawing: { projectId: 42, drawingAreaId: 4201, drawingSetId: 4202, drawingDate: "2026-11-23" } }, { fileName: "site.png" }],
        [{ uuid }, { folder: {} }, {}],
      ];
      const posted = (await (await fetch(`${api}/_sandbox/requests`)).json())
        .filter((r) => r.side === "api" && r.method === "POST" && r.path === "/rest/v1.0/companies/7/files");
      await fetch(`${api}/_sandbox/requests`, { method: "DELETE" });
      const refusals = [];
      for (const [upload, target, options] of cases) {
        try {
          await client.attach(upload, target, options);
          refusals.push("resolved");
        } catch (e) {
          refusals.push(`${e.code}: ${e.message}`);
        }
      }
      const log = await (await fetch(`${api}/_sandbox/requests`)).json();
      return { made, posted, refusals, sent: log.filter((r) => r.method !== "OPTIONS").length };
    }, sandbox.api);
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal(value.made.name, "kept.png", "the target's own name");
    assert.equal(value.posted.length, 1);
    const [post] = value.posted;
    assert.match(Object.fromEntries(post.headers)["idempotency-token"] ?? "", /^[0-9a-f-]{32,36}$/, "a fresh token");
    const expected = [
      /upload must be what upload\(\) resolves to/,
      /upload must be what upload\(\) resolves to/,
      /options\.filename \(did you mean fileName\?\) is not a known option/,
      /options\.idempotencyToken must be 1 to 255 visible ASCII characters/,
      /options\.idempotencyToken must be 1 to 255 visible ASCII characters/,
      /target\.projectFile\.name is required/,
      /drawings must be PDFs/,
      /target must name one of projectFile/,
    ];
    assert.equal(value.refusals.length, expected.length);
    value.refusals.forEach((refusal, i) => {
      assert.match(refusal, /^INVALID_INPUT: /, refusal);
      assert.match(refusal, expected[i]);
    });
    assert.equal(value.sent, 0, "nothing sent");
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
      const [area] = await client.listDrawingAreas({ projectId: 42 });
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
    const { value, events, error } = await uploadAndAttach(png, { projectFile: { projectId: 42, description: "front", procoreFields: { is_tracked: true } } });
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
    assert.deepEqual(record.request, { file: { upload_uuid: uuid, name: "site.png", description: "front", is_tracked: true } },
      "the target's procoreFields under the resource as written");
    const upload = await sandbox.inspect(uuid);
    assert.equal(upload.upload.project_id, 42, "uploaded to the target's project");
  });

  test("uploadAndAttach of a drawing: a PDF is imported; anything else is refused before anything is sent", async () => {
    const [area] = await page.evaluate(async (api) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      return new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api }).listDrawingAreas({ projectId: 42 });
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
      [(client, uuid) => client.createImage({ projectId: 42, uploadUuid: uuid, imageName: "x", procoreFields: [] }), /options\.procoreFields must be an object/],
      [(client) => client.listDrawingAreas({ projectId: "42" }), /options\.projectId must be a positive integer/],
      [(client) => client.createDrawing({ drawingAreaId: 5, number: "A-1" }), /options\.disciplineName is required/],
      [(client, uuid) => client.createDrawingUpload({ projectId: 42, drawingAreaId: 4201, drawingSetId: 4202, imports: [{ uploadUuid: uuid, drawingDate: "23/11/2026" }] }),
        /options\.imports\[0\]\.drawingDate must be a date as "YYYY-MM-DD"/],
      [(client) => client.createAccidentLog({ projectId: 42, uploadIds: [], timeHour: 10 }), /options\.uploadIds must be a non-empty array/],
      [(client, uuid) => client.createAccidentLog({ projectId: 42, uploadIds: [uuid], timeHour: 24 }), /options\.timeHour must be an integer from 0 to 23/],
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
  test("an unknown key (parentID: 7) in any attach call, target or upload option, an id before the options, or a procoreFields key a named option sends: INVALID_INPUT naming it, nothing sent", async () => {
    const cases = [
      ["createProjectFile", (c, uuid) => c.createProjectFile({ projectId: 42, uploadUuid: uuid, name: "x", parentID: 7 }),
        /^invalid input: options\.parentID \(did you mean parentId\?\) is not a known option$/],
      ["createProjectFile, a Procore field beside the named ones", (c, uuid) => c.createProjectFile({ projectId: 42, uploadUuid: uuid, name: "x", is_tracked: true }),
        /^invalid input: options\.is_tracked is not a known option; Procore's own fields go in procoreFields$/],
      ["createCompanyFile", (c, uuid) => c.createCompanyFile({ uploadUuid: uuid, name: "x", parentID: 7 }), /options\.parentID \(did you mean parentId\?\)/],
      ["createImage", (c, uuid) => c.createImage({ projectId: 42, uploadUuid: uuid, imageName: "x", parentID: 7 }), /options\.parentID is not a known option/],
      ["createImage, the old image field", (c, uuid) => c.createImage({ projectId: 42, uploadUuid: uuid, imageName: "x", image: { description: "x" } }),
        /options\.image is not a known option; Procore's own fields go in procoreFields/],
      ["listDrawingAreas", (c) => c.listDrawingAreas({ projectId: 42, parentID: 7 }), /^invalid input: options\.parentID is not a known option$/],
      ["createDrawing", (c) => c.createDrawing({ drawingAreaId: 4201, number: "A-1", disciplineName: "A", parentID: 7 }), /options\.parentID is not a known option/],
      ["createDrawingUpload", (c, uuid) => c.createDrawingUpload({ projectId: 42, drawingAreaId: 4201, drawingSetId: 4202, parentID: 7,
        imports: [{ uploadUuid: uuid, drawingDate: "2026-11-23" }] }), /options\.parentID is not a known option/],
      ["createDrawingUpload, an import", (c, uuid) => c.createDrawingUpload({ projectId: 42, drawingAreaId: 4201, drawingSetId: 4202,
        imports: [{ uploadUuid: uuid, drawingDate: "2026-11-23", drawingID: 3 }] }), /options\.imports\[0\]\.drawingID \(did you mean drawingId\?\)/],
      ["createAccidentLog", (c, uuid) => c.createAccidentLog({ projectId: 42, uploadIds: [uuid], timeHour: 10, timeMinute: 15, parentID: 7 }),
        /options\.parentID is not a known option/],
      ["createAccidentLog, a callback where none is taken", (c, uuid) => c.createAccidentLog({ projectId: 42, uploadIds: [uuid], timeHour: 10, timeMinute: 15, onProgress: () => {} }),
        /options\.onProgress cannot be sent as JSON/],
      // The old positional forms: the message says the new one.
      ["createAccidentLog(42, {…})", (c, uuid) => c.createAccidentLog(42, { uploadIds: [uuid], timeHour: 10, timeMinute: 15 }),
        /options must be an object, got a number: ids go in it, as \{ projectId: 42, … \}/],
      ["createDrawing(4201, {…})", (c) => c.createDrawing(4201, { number: "A-1", disciplineName: "A" }),
        /options must be an object, got a number: ids go in it, as \{ drawingAreaId: 4201, … \}/],
      ["listDrawingAreas(42)", (c) => c.listDrawingAreas(42), /ids go in it, as \{ projectId: 42, … \}/],
      // procoreFields: not for what a named option sends.
      ["createProjectFile, procoreFields.parent_id", (c, uuid) => c.createProjectFile({ projectId: 42, uploadUuid: uuid, name: "x", procoreFields: { parent_id: 7 } }),
        /options\.procoreFields\.parent_id is sent from options\.parentId: use that/],
      ["listDrawingAreas, procoreFields", (c) => c.listDrawingAreas({ projectId: 42, procoreFields: {} }), /options\.procoreFields is not a known option/],
      // uploadAndAttach: each target, and its upload options (refused before the upload starts).
      ["uploadAndAttach projectFile", (c, uuid, file) => c.uploadAndAttach(file, { projectFile: { projectId: 42, parentID: 7 } }),
        /target\.projectFile\.parentID \(did you mean parentId\?\)/],
      ["uploadAndAttach companyFile", (c, uuid, file) => c.uploadAndAttach(file, { companyFile: { parentID: 7 } }), /target\.companyFile\.parentID \(did you mean parentId\?\)/],
      ["uploadAndAttach image", (c, uuid, file) => c.uploadAndAttach(file, { image: { projectId: 42, parentID: 7 } }), /target\.image\.parentID is not a known option/],
      ["uploadAndAttach drawing", (c, uuid, file) => c.uploadAndAttach(file, { drawing: { projectID: 42, drawingAreaId: 4201, drawingSetId: 4202, drawingDate: "2026-11-23" } }),
        /target\.drawing\.projectID \(did you mean projectId\?\)/],
      ["uploadAndAttach accidentLog", (c, uuid, file) => c.uploadAndAttach(file, { accidentLog: { projectId: 42, timeHour: 1, timeMinute: 2, parentID: 7 } }),
        /target\.accidentLog\.parentID is not a known option/],
      ["uploadAndAttach, the upload's id given", (c, uuid, file) => c.uploadAndAttach(file, { projectFile: { projectId: 42, uploadUuid: uuid } }),
        /target\.projectFile\.uploadUuid is not an option here/],
      ["uploadAndAttach options", (c, uuid, file) => c.uploadAndAttach(file, { projectFile: { projectId: 42 } }, { parentID: 7 }),
        /^invalid input: options\.parentID is not a known option$/],
      ["upload options", (c, uuid, file) => c.upload(file, { projectID: 42 }), /^invalid input: options\.projectID \(did you mean projectId\?\) is not a known option$/],
    ];
    const results = await afterUpload(png, async (client, uuid, [api, cases]) => {
      const file = document.getElementById("files").files[0];
      await fetch(`${api}/_sandbox/requests`, { method: "DELETE" });
      const out = [];
      for (const [label, body] of cases) {
        try {
          await new Function("c", "uuid", "file", `return (${body})(c, uuid, file);`)(client, uuid, file);
          out.push({ label, resolved: true });
        } catch (e) {
          out.push({ label, code: e.code, message: e.message });
        }
      }
      const log = await (await fetch(`${api}/_sandbox/requests`)).json();
      return { out, sent: log.filter((r) => r.method !== "OPTIONS").map((r) => `${r.method} ${r.path}`) };
    }, [sandbox.api, cases.map(([label, body]) => [label, body.toString()])]);
    assert.equal(results.error, undefined, JSON.stringify(results.error));
    const { out, sent } = results.value;
    for (const [n, [label, , message]] of cases.entries()) {
      assert.equal(out[n].code, "INVALID_INPUT", `${label}: ${JSON.stringify(out[n])}`);
      assert.match(out[n].message, message, label);
    }
    assert.deepEqual(sent, [], "nothing sent");
  });
});
