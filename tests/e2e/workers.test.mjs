// Hashing in Web Workers, in each browser engine: digests equal openssl's around chunk
// and segment boundaries with 0 (calling thread), 1 and 3 workers; abort terminates
// the workers; a worker script that never starts falls back to the page, not a hang;
// no Worker, still hashes.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { describeInEngines, openWorld, randomFile } from "./support.mjs";

const MiB = 1024 * 1024;
const SEGMENT = 5 * MiB;
// 9 * SEGMENT + 5: two runs of four equal segments (MD5 four at a time) and a short tail.
const SIZES = [0, 1, 4 * MiB - 1, 4 * MiB, 4 * MiB + 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT + 3, 9 * SEGMENT + 5];

/** `openssl dgst` of bytes `start..end` of `file`. */
function opensslRange(file, start, end, algorithm) {
  const bytes = Buffer.alloc(end - start);
  const fd = fs.openSync(file, "r");
  fs.readSync(fd, bytes, 0, bytes.length, start);
  fs.closeSync(fd);
  return execFileSync("openssl", ["dgst", `-${algorithm}`, "-r"], { input: bytes, encoding: "utf8" }).split(" ")[0];
}

describeInEngines("hashing in Web Workers (each browser engine)", (engine) => {
  let dir, sandbox, page, files, big;
  let world;

  before(async () => {
    world = await openWorld("workers", ["--processing-delay-ms", "50"], engine);
    ({ dir, sandbox, page } = world);
    // Count Workers as the page creates and ends them.
    await page.evaluate(() => {
      const Original = window.Worker;
      window.__workers = { created: 0, terminated: 0, all: [] };
      window.Worker = class extends Original {
        constructor(...args) {
          super(...args);
          window.__workers.created += 1;
          window.__workers.all.push(this);
        }
        terminate() {
          if (!this.ended) window.__workers.terminated += 1;
          // A test that follows the order of events sees each end among them.
          if (!this.ended) window.__order?.push("terminate");
          this.ended = true;
          super.terminate();
        }
      };
    });
    files = new Map(SIZES.map((size) => [size, randomFile(dir, `w-${size}.bin`, size)]));
    big = randomFile(dir, "big.bin", 96 * MiB);
  });

  after(async () => {
    await world?.close();
  });

  afterEach(async () => {
    assert.deepEqual(await world.takeProblems(), [], "no page errors or console errors");
  });

  async function hashInPage(workers, options = {}) {
    return page.evaluate(async ({ workers, options, segment }) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      const file = document.getElementById("files").files[0];
      const before = { ...window.__workers };
      const client = new ProcoreClient({ companyId: 7, accessToken: "t", apiVersion: "v1.0", ...options.client });
      const counts = () => ({ created: window.__workers.created - before.created, terminated: window.__workers.all.slice(before.created).filter((w) => w.ended).length });
      try {
        const result = await client.hashSegments(file, { segmentSize: segment, workers, ...options.hash });
        const running = counts();
        client.close();
        return { result, ...counts(), runningBeforeClose: running.created - running.terminated };
      } catch (e) {
        client.close();
        return { error: { name: e.name, code: e.code, message: e.message }, ...counts() };
      }
    }, { workers, options, segment: SEGMENT });
  }

  for (const workers of [0, 1, 3]) {
    test(`${workers} workers: every segment's SHA-256 and MD5 equal openssl's`, async () => {
      for (const size of SIZES) {
        const file = files.get(size);
        await page.setInputFiles("#files", file);
        const { result, error, created, terminated, runningBeforeClose } = await hashInPage(workers);
        assert.equal(error, undefined, `${size} B: ${JSON.stringify(error)}`);
        const count = Math.max(1, Math.ceil(size / SEGMENT));
        assert.equal(result.segments.length, count, `${size} B`);
        result.segments.forEach((segment, i) => {
          const start = i * SEGMENT;
          const end = Math.min(start + SEGMENT, size);
          assert.equal(segment.size, end - start);
          assert.equal(segment.sha256, opensslRange(file, start, end, "sha256"), `${size} B segment ${i} sha256`);
          assert.equal(segment.md5, opensslRange(file, start, end, "md5"), `${size} B segment ${i} md5`);
        });
        const expectedWorkers = workers === 0 ? 0 : Math.min(workers, count);
        assert.equal(created, expectedWorkers, `${size} B: workers started`);
        assert.equal(runningBeforeClose, created, `${size} B: the workers stay with the client`);
        assert.equal(terminated, created, `${size} B: close() ended every worker`);
      }
    });
  }

  for (const workers of [0, 1, 3]) {
    test(`v2.1 upload with ${workers} workers: the whole-file digest is right (Procore verifies it → available)`, async () => {
      await page.setInputFiles("#files", files.get(3 * SEGMENT + 3));
      const outcome = await page.evaluate(async ({ api, workers }) => {
        const { ProcoreClient } = await import("/pkg/index.js");
        const file = document.getElementById("files").files[0];
        const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, apiVersion: "v2.1", allowInsecureStorage: true });
        try {
          return await client.upload(file, { workers, segmentSize: 5 * 1024 * 1024 + 1 });
        } catch (e) {
          return { error: e.message };
        }
      }, { api: sandbox.api, workers });
      assert.equal(outcome.status, "available", JSON.stringify(outcome));
    });
  }

  test("by default the client keeps one worker, in every engine and on any number of cores (memory)", async () => {
    const size = 9 * SEGMENT + 5;
    await page.setInputFiles("#files", files.get(size));
    const { result, error, created } = await hashInPage(undefined);
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal(result.segments.length, 10);
    assert.equal(result.segments[9].sha256, opensslRange(files.get(size), 9 * SEGMENT, size, "sha256"));
    assert.equal(created, 1, "workers started");
  });

  test("abort terminates the workers at once: in the task that aborts, before the promise rejects", async () => {
    await page.setInputFiles("#files", big);
    const outcome = await page.evaluate(async () => {
      const { ProcoreClient } = await import("/pkg/index.js");
      const file = document.getElementById("files").files[0];
      const before = { ...window.__workers };
      const controller = new AbortController();
      const client = new ProcoreClient({ companyId: 7, accessToken: "t" });
      // The order of what happens, no clock: "at once" is before the page runs
      // another task (the timeout queued as it aborts), so no worker message (a task)
      // can come between the abort and the workers' end.
      const order = (window.__order = []);
      let next = null;
      let error = null;
      try {
        await client.hashSegments(file, {
          workers: 2, segmentSize: 16 * 1024 * 1024, signal: controller.signal,
          onProgress: (p) => {
            if (p.bytesHashed > 0 && !controller.signal.aborted) {
              order.push("abort");
              next = new Promise((resolve) => setTimeout(() => resolve(order.push("next task")), 0));
              controller.abort();
            } else if (controller.signal.aborted) {
              order.push("progress after the abort");
            }
          },
        });
        order.push("resolved");
      } catch (e) {
        error = { name: e.name, code: e.code };
        order.push("rejected");
      }
      await next;
      window.__order = null;
      client.close();
      return { error, order, created: window.__workers.created - before.created, terminated: window.__workers.all.slice(before.created).filter((w) => w.ended).length };
    });
    assert.deepEqual(outcome.error, { name: "AbortError", code: "ABORTED" });
    assert.equal(outcome.created, 2);
    assert.deepEqual(outcome.order, ["abort", "terminate", "terminate", "rejected", "next task"],
      "both workers ended, then the promise rejected, all before the page's next task");
  });

  test("one client's workers serve all its uploads, end when idle, and close() stops everything", async () => {
    await page.setInputFiles("#files", [files.get(3 * SEGMENT + 3), files.get(SEGMENT), files.get(SEGMENT + 1)]);
    const outcome = await page.evaluate(async ({ api, segment }) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      const picked = [...document.getElementById("files").files];
      const before = { ...window.__workers };
      // Only this test's workers: earlier tests' clients may end theirs when idle meanwhile.
      const mine = () => window.__workers.all.slice(before.created);
      const counts = () => [mine().length, mine().filter((w) => w.ended).length];
      const options = { companyId: 7, accessToken: "sandbox-token", baseUrl: api, apiVersion: "v2.1", allowInsecureStorage: true, workers: 2 };
      // Three uploads at once through one client with two workers.
      const client = new ProcoreClient({ ...options, workerIdleMs: 60_000 });
      const uploaded = await Promise.all(picked.map((file) => client.upload(file, { segmentSize: segment })));
      const afterUploads = counts();
      client.close();
      const afterClose = counts();
      // Workers end by themselves after workerIdleMs without work.
      const idle = new ProcoreClient({ ...options, workerIdleMs: 200 });
      await idle.hashSegments(picked[0], { segmentSize: segment });
      const hashed = counts();
      await new Promise((resolve) => setTimeout(resolve, 800));
      const afterIdle = counts();
      // A new upload starts workers again; close() while it hashes stops it.
      const closedError = await idle.upload(picked[0], {
        segmentSize: segment, onProgress: (p) => { if (p.bytesHashed > 0) idle.close(); },
      }).then(() => null, (e) => ({ name: e.name, code: e.code }));
      const afterAbort = counts();
      const later = await idle.upload(picked[0]).then(() => null, (e) => ({ code: e.code, message: e.message }));
      return { statuses: uploaded.map((u) => u.status), afterUploads, afterClose, hashed, afterIdle, closedError, afterAbort, later };
    }, { api: sandbox.api, segment: 5 * MiB + 1 });
    assert.deepEqual(outcome.statuses, ["available", "available", "available"]);
    assert.deepEqual(outcome.afterUploads, [2, 0], "three uploads, two workers in all, still there after them");
    assert.deepEqual(outcome.afterClose, [2, 2], "close() ended them");
    assert.equal(outcome.hashed[0] - outcome.hashed[1], 2, "the second client's workers, running after its hashSegments");
    assert.equal(outcome.afterIdle[0], outcome.afterIdle[1], "ended after 200 ms without work");
    assert.deepEqual(outcome.closedError, { name: "AbortError", code: "ABORTED" });
    assert.ok(outcome.afterAbort[0] > outcome.afterIdle[0], "the upload after the idle end started workers again");
    assert.equal(outcome.afterAbort[0], outcome.afterAbort[1], "close() ended them");
    assert.equal(outcome.later.code, "INVALID_INPUT");
    assert.match(outcome.later.message, /closed/);
  });

  test("a worker script that fails as it loads is no hang: the hashing falls back to the page", async () => {
    const file = files.get(SEGMENT + 1);
    await page.setInputFiles("#files", file);
    const { result, error, created, terminated } = await hashInPage(2, { client: { workerUrl: "/broken-worker.js" } });
    assert.equal(error, undefined, JSON.stringify(error));
    assert.equal(result.segments[1].sha256, opensslRange(file, SEGMENT, SEGMENT + 1, "sha256"));
    assert.equal(result.segments[0].md5, opensslRange(file, 0, SEGMENT, "md5"));
    assert.ok(created >= 1, "workers were tried");
    assert.equal(terminated, created);
  });

  test("without Web Workers, hashing runs on the page and stays right", async () => {
    await page.setInputFiles("#files", files.get(3 * SEGMENT + 3));
    const result = await page.evaluate(async (segment) => {
      const saved = window.Worker;
      window.Worker = undefined;
      try {
        const { ProcoreClient } = await import("/pkg/index.js");
        const file = document.getElementById("files").files[0];
        return await new ProcoreClient({ companyId: 7, accessToken: "t" }).hashSegments(file, { segmentSize: segment, workers: 4 });
      } finally {
        window.Worker = saved;
      }
    }, SEGMENT);
    const file = files.get(3 * SEGMENT + 3);
    assert.equal(result.segments[3].sha256, opensslRange(file, 3 * SEGMENT, 3 * SEGMENT + 3, "sha256"));
    assert.equal(result.segments[0].md5, opensslRange(file, 0, SEGMENT, "md5"));
  });
});
