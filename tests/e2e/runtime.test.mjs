// The task runtime where it meets an integrator, in each browser engine against the
// sandbox: a queued upload stops at once (abort, pause, cancel) while the one ahead
// of it goes on; close() settles a paused task and keeps its state; an attach step
// that fails hands back the finished upload, to attach again without sending twice.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { describeInEngines, openssl, openWorld, randomFile } from "./support.mjs";

const MiB = 1024 * 1024;

describeInEngines("the task runtime at its edges (each browser engine)", (engine) => {
  let world, sandbox, page, dir;

  before(async () => {
    world = await openWorld("runtime", [], engine);
    ({ sandbox, page, dir } = world);
  });

  after(async () => {
    await world?.close();
  });

  afterEach(async () => {
    await sandbox.setFaults({});
    assert.deepEqual(await world.takeProblems(), [], "no page errors or console errors");
  });

  /** Runs `body(ProcoreClient, files, api)` in the page with the picked files. */
  function inPage(body, arg) {
    return page.evaluate(
      async ({ body, api, arg }) => {
        const { ProcoreClient } = await import("/pkg/index.js");
        const files = [...document.getElementById("files").files];
        return new Function("ProcoreClient", "files", "api", "arg", `return (${body})(ProcoreClient, files, api, arg);`)(
          ProcoreClient, files, api, arg,
        );
      },
      { body: body.toString(), api: sandbox.api, arg },
    );
  }

  test("a queued upload aborted, paused or cancelled stops while the one ahead is still sending", async () => {
    const long = randomFile(dir, "long.bin", 12 * MiB);
    const queued = randomFile(dir, "queued.bin", 6 * MiB);
    await page.setInputFiles("#files", [long, queued]);
    // Every storage request takes 1.5 s: the first upload keeps the only turn.
    await sandbox.setFaults({ storage_latency_ms: 1500 });
    await sandbox.clearRequests();
    const outcome = await inPage(async (ProcoreClient, [long, queued], api) => {
      const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api,
        allowInsecureStorage: true, maxActiveUploads: 1, concurrency: 1 });
      const until = async (check, what) => {
        for (const end = performance.now() + 30000; !check();) {
          if (performance.now() > end) throw new Error(`timed out waiting until ${what}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      const events = [];
      let longSettled = false;
      const first = client.upload(long, { segmented: true, onProgress: (p) => events.push(p.phase) })
        .then(() => { longSettled = true; events.push("long settled"); });
      // Once the first upload is sending, the second waits for its turn.
      await until(() => events.includes("uploading"), "the first upload sends");
      // Hashed (two files hash ahead), then waiting for the only sending turn.
      const hashed = (events) => events.some((p) => p.bytesHashed === p.totalBytes);
      const controller = new AbortController();
      const queuedEvents = [];
      const aborted = client.upload(queued, { segmented: true, signal: controller.signal, onProgress: (p) => queuedEvents.push(p) })
        .then(() => "resolved", (e) => `${e.name} ${e.code}`);
      await until(() => hashed(queuedEvents), "the queued upload is hashed");
      controller.abort();
      const abortedAs = await aborted;
      const abortedBeforeLong = !longSettled;
      // A task queued behind it: pause() and cancel() resolve before the first ends.
      const taskEvents = [];
      const task = client.start(queued, { segmented: true, onProgress: (p) => taskEvents.push(p) });
      await until(() => hashed(taskEvents), "the queued task is hashed");
      await task.pause();
      const pausedStatus = task.status;
      const pausedBeforeLong = !longSettled;
      await task.cancel();
      const done = await task.done.then(() => "resolved", (e) => `${e.name} ${e.code}`);
      const cancelledBeforeLong = !longSettled;
      await first;
      return { abortedAs, abortedBeforeLong, pausedStatus, pausedBeforeLong, done, cancelledBeforeLong, status: task.status };
    });
    assert.deepEqual(outcome, {
      abortedAs: "AbortError ABORTED", abortedBeforeLong: true,
      pausedStatus: "paused", pausedBeforeLong: true,
      done: "AbortError ABORTED", cancelledBeforeLong: true, status: "cancelled",
    });
    const log = await sandbox.requests();
    const creates = log.filter((r) => r.side === "api" && r.method === "POST" && r.path.endsWith("/uploads"));
    assert.equal(creates.length, 1, "only the first upload was created: the queued ones sent nothing");
  });

  test("close() after pause() settles done with AbortError and keeps the state for the next page", async () => {
    const file = randomFile(dir, "paused.bin", 12 * MiB + 7);
    await page.setInputFiles("#files", file);
    const outcome = await inPage(async (ProcoreClient, [file], api) => {
      const options = { companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true, concurrency: 1 };
      const client = new ProcoreClient(options);
      let pausing = null;
      // A page teardown: close() right after pause(), without waiting for it.
      const task = client.start(file, { segmented: true, onProgress: (p) => {
        if (p.segmentsDone >= 1 && !pausing) {
          pausing = task.pause();
          client.close();
        }
      } });
      // Handled from the start: it settles within the teardown.
      const outcome = task.done.then(() => "resolved", (e) => `${e.name} ${e.code}`);
      for (const end = performance.now() + 30000; !pausing && performance.now() < end;) {
        await new Promise((r) => setTimeout(r, 10));
      }
      if (!pausing) throw new Error("no part was stored within 30 s");
      const settled = await Promise.race([
        outcome,
        new Promise((r) => setTimeout(() => r("still pending after 10 s"), 10000)),
      ]);
      await pausing;
      // Give the store a moment, then look the state up as the next page would.
      await new Promise((r) => setTimeout(r, 200));
      const found = await new ProcoreClient(options).findResumable(file);
      return { settled, after: task.status, kept: found.length, stored: found[0]?.bytesConfirmed };
    });
    // One part (16 MiB segments): the whole file.
    assert.deepEqual(outcome, { settled: "AbortError ABORTED", after: "cancelled", kept: 1, stored: 12 * MiB + 7 });
  });

  test("close() settles a task paused while queued, and the one ahead of it", async () => {
    const long = randomFile(dir, "ahead.bin", 12 * MiB);
    const queued = randomFile(dir, "behind.bin", 6 * MiB);
    await page.setInputFiles("#files", [long, queued]);
    await sandbox.setFaults({ storage_latency_ms: 1000 });
    const outcome = await inPage(async (ProcoreClient, [long, queued], api) => {
      const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api,
        allowInsecureStorage: true, maxActiveUploads: 1, concurrency: 1 });
      const settle = (task) => task.done.then(() => "resolved", (e) => `${e.name} ${e.code}`);
      const phases = [];
      const ahead = client.start(long, { segmented: true, onProgress: (p) => phases.push(p.phase) });
      const aheadOutcome = settle(ahead);
      const hashed = [];
      const behind = client.start(queued, { segmented: true, onProgress: (p) => hashed.push(p.bytesHashed === p.totalBytes) });
      const behindOutcome = settle(behind);
      for (const end = performance.now() + 30000; !(phases.includes("uploading") && hashed.includes(true));) {
        if (performance.now() > end) throw new Error("timed out waiting for one sending and one queued");
        await new Promise((r) => setTimeout(r, 10));
      }
      const pausing = behind.pause();
      client.close();
      const within = (promise) => Promise.race([promise, new Promise((r) => setTimeout(() => r("still pending after 10 s"), 10000))]);
      const result = { ahead: await within(aheadOutcome), behind: await within(behindOutcome), paused: await within(pausing.then(() => "resolved")) };
      return result;
    });
    assert.deepEqual(outcome, { ahead: "AbortError ABORTED", behind: "AbortError ABORTED", paused: "resolved" });
  });

  test("v1.1: a Complete Upload whose answer is lost is asked about (Show Upload), not sent twice", async () => {
    const file = randomFile(dir, "lost-complete.bin", 11 * MiB);
    await page.setInputFiles("#files", file);
    await sandbox.clearRequests();
    // The sandbox completes the upload, then closes the connection without an answer;
    // a second complete of a completed upload is refused there (422), as on Procore.
    await sandbox.setFaults({ api_answer_dropped: [{ method: "PATCH", path: "/rest/v1.1/projects/*/uploads/*" }] });
    const outcome = await inPage(async (ProcoreClient, [file], api) => {
      const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true });
      try {
        const { uuid, status } = await client.upload(file, { projectId: 42, segmented: true });
        return { uuid, status };
      } catch (e) {
        return { error: `${e.code} ${e.status} ${e.message}` };
      }
    });
    assert.equal(outcome.status, "complete", JSON.stringify(outcome));
    const api = (await sandbox.requests()).filter((r) => r.side === "api" && r.method !== "OPTIONS");
    const upload = `/rest/v1.1/projects/42/uploads/${outcome.uuid}`;
    const after = api.filter((r) => r.path === upload).map((r) => `${r.method} ${r.status}`);
    assert.deepEqual(after, ["PATCH 0", "GET 200"], "one complete (its answer dropped), then Show Upload says complete");
    assert.equal((await sandbox.inspect(outcome.uuid)).stored?.sha256, openssl("sha256", file), "stored byte for byte");
  });

  test("uploadAndAttach whose attach fails rejects with error.upload, which attaches without sending again", async () => {
    const file = randomFile(dir, "attach-me.pdf", 3000);
    await page.setInputFiles("#files", file);
    await sandbox.clearRequests();
    const outcome = await inPage(async (ProcoreClient, [file], api) => {
      let attaching = false;
      const client = new ProcoreClient({ companyId: 7, baseUrl: api, allowInsecureStorage: true,
        getAccessToken: () => {
          if (attaching) throw new Error("the session ended");
          return "sandbox-token";
        } });
      try {
        await client.uploadAndAttach(file, { projectFile: { projectId: 42 } }, {
          onProgress: (p) => { if (p.phase === "attaching") attaching = true; },
        });
        return { resolved: true };
      } catch (e) {
        attaching = false;
        const again = await client.createProjectFile({ projectId: 42, uploadUuid: e.upload.uuid, name: "attach-me.pdf" });
        return { code: e.code, upload: e.upload, attachedUuid: again.file_versions[0].upload_uuid };
      }
    });
    assert.equal(outcome.code, "ACCESS_TOKEN");
    assert.deepEqual(Object.keys(outcome.upload).sort(), ["apiVersion", "size", "status", "uuid"]);
    assert.deepEqual([outcome.upload.status, outcome.upload.size], ["complete", 3000]);
    assert.equal(outcome.attachedUuid, outcome.upload.uuid);
    const log = await sandbox.requests();
    const creates = log.filter((r) => r.side === "api" && r.method === "POST" && r.path.endsWith("/uploads"));
    const stored = log.filter((r) => r.side === "storage" && r.method === "POST");
    assert.deepEqual([creates.length, stored.length], [1, 1], "created once, the bytes sent once");
  });
});
