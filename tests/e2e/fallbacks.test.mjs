// Browsers short of what the fast path needs still upload, in each engine: without
// Worker, without module workers (the `type: "module"` option ignored, as older
// Safari and Firefox did, or refused with a TypeError, as Chrome 69–79 did), and on a
// non-secure page (no crypto.subtle in the page or its workers). Each environment is
// set up in a fresh page before the library loads; each test uploads a multi-segment
// file as v1.1 segmented and as v2.1 through one client, checks the stored object and
// every declared digest against openssl/Node, and checks where the hashing ran.
//
// The non-secure page is simulated: the suite must serve on 127.0.0.1, which every
// engine treats as a secure context, so the page and its workers (through `workerUrl`
// pointing at fixtures/fallbacks/env-worker.js) drop Web Crypto's [SecureContext]
// members — crypto.subtle, SubtleCrypto, CryptoKey, crypto.randomUUID — before the
// library or the package's hash-worker.js runs.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import { describeInEngines, openssl, openWorld, randomFile } from "./support.mjs";

const MiB = 1024 * 1024;
// Just over the 5 MiB minimum, as v2.1 wants its parts (all but the last) over 5 MiB.
const SEGMENT = 5 * MiB + 1;
const SIZE = 2 * SEGMENT + MiB + 3;
const SEGMENTS = Math.ceil(SIZE / SEGMENT);

/**
 * `worker`: what `Worker` is — "module" (the engine's own), "none" (no Worker),
 * "classic" (ignores `type`, loads every worker as a classic script), "throws" (a
 * TypeError for `type: "module"`). `secure`: false drops crypto.subtle & co.
 * `hashing`: where the digests must come from — "workers+webcrypto", "workers+wasm"
 * (workers without crypto.subtle), "page" (the calling thread: no worker was to be had),
 * "fallback" (workers tried, never started, then the calling thread).
 */
const ENVIRONMENTS = [
  { name: "a secure page with module workers (the usual case)", worker: "module", secure: true, hashing: "workers+webcrypto" },
  { name: "no Worker at all", worker: "none", secure: true, hashing: "page" },
  { name: "a Worker that loads module workers as classic scripts", worker: "classic", secure: true, hashing: "fallback" },
  { name: "a Worker that throws a TypeError for module workers", worker: "throws", secure: true, hashing: "fallback" },
  { name: "a non-secure page (no crypto.subtle) with module workers", worker: "module", secure: false, hashing: "workers+wasm" },
  { name: "a non-secure page without module workers", worker: "classic", secure: false, hashing: "fallback" },
];

/** Hex digest of bytes `start..end` of `file`. */
function rangeDigest(file, start, end, algorithm) {
  const bytes = Buffer.alloc(end - start);
  const fd = fs.openSync(file, "r");
  fs.readSync(fd, bytes, 0, bytes.length, start);
  fs.closeSync(fd);
  return crypto.createHash(algorithm).update(bytes).digest("hex");
}

/**
 * Runs in the page before the library loads: makes `Worker` and Web Crypto what the
 * environment has, and counts what the library does with them (`window.__env()`).
 */
async function setUpEnvironment({ worker, secure }) {
  const seen = { constructed: 0, thrown: 0, errors: 0, pageDigests: 0, warnings: [], workers: [] };
  const warn = console.warn.bind(console);
  console.warn = (...args) => {
    seen.warnings.push(args.map((arg) => arg?.message ?? String(arg)).join(" "));
    warn(...args);
  };
  const digest = SubtleCrypto.prototype.digest;
  SubtleCrypto.prototype.digest = function (...args) {
    seen.pageDigests += 1;
    return digest.apply(this, args);
  };
  if (!secure) {
    const { dropSecureContextCrypto } = await import("/fallbacks/nonsecure.js");
    dropSecureContextCrypto(window);
  }
  window.__env = () => ({
    constructed: seen.constructed,
    thrown: seen.thrown,
    errors: seen.errors,
    pageDigests: seen.pageDigests,
    warnings: [...seen.warnings],
    // Messages workers sent, ready reports among them, and what worker-env.js saw there.
    messages: seen.workers.reduce((sum, w) => sum + w.messages, 0),
    ready: seen.workers.filter((w) => w.ready).length,
    workerDigests: seen.workers.reduce((sum, w) => sum + w.digests, 0),
    workerSubtle: [...new Set(seen.workers.flatMap((w) => w.subtle))],
    running: seen.workers.filter((w) => !w.ended).length,
  });
  if (worker === "none") {
    delete window.Worker;
    return;
  }
  const Original = window.Worker;
  window.Worker = class Worker extends Original {
    constructor(url, options) {
      seen.constructed += 1;
      if (worker === "throws" && options?.type === "module") {
        seen.thrown += 1;
        throw new TypeError("Failed to construct 'Worker': Module scripts are not supported on DedicatedWorker yet.");
      }
      // An engine without module workers never reads the option: a classic script.
      if (worker === "classic") super(url);
      else super(url, options);
      const mine = { messages: 0, ready: false, digests: 0, subtle: [], ended: false };
      seen.workers.push(mine);
      this.addEventListener("error", () => { seen.errors += 1; });
      this.addEventListener("message", ({ data }) => {
        mine.messages += 1;
        if (data?.type === "ready") mine.ready = true;
        if (data?.env) {
          mine.digests = data.env.digests;
          if (!mine.subtle.includes(data.env.subtle)) mine.subtle.push(data.env.subtle);
        }
      });
      this.__mine = mine;
    }

    terminate() {
      this.__mine.ended = true;
      super.terminate();
    }
  };
}

describeInEngines("uploads without module workers or crypto.subtle (each browser engine)", (engine) => {
  let world, sandbox, page, file, whole;

  before(async () => {
    world = await openWorld("fallbacks", ["--processing-delay-ms", "50"], engine);
    ({ sandbox, page } = world);
    file = randomFile(world.dir, "f.bin", SIZE);
    whole = openssl("sha256", file);
  });

  after(async () => {
    await world?.close();
  });

  afterEach(async () => {
    assert.deepEqual(await world.takeProblems(), [], "no page errors or console errors");
  });

  for (const environment of ENVIRONMENTS) {
    test(`${environment.name}: v1.1 segmented and v2.1 upload, hashed ${environment.hashing}`, async () => {
      // A fresh page: the library loads after the environment is set up.
      await page.goto(`${world.server.url}/`);
      await page.setInputFiles("#files", file);
      await page.evaluate(setUpEnvironment, environment);
      // The test's own worker script where the workers must be looked into or lack
      // crypto.subtle; else the package's, as a bundler ships it.
      const workerUrl = environment.worker === "module"
        ? `/fallbacks/env-worker.js?subtle=${environment.secure ? "counted" : "hidden"}`
        : null;
      const outcome = await page.evaluate(async ({ api, workerUrl, segment }) => {
        const { ProcoreClient } = await import("/pkg/index.js");
        const picked = document.getElementById("files").files[0];
        const client = new ProcoreClient({
          companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true, workers: 2,
          ...(workerUrl ? { workerUrl } : {}),
        });
        const runs = [];
        try {
          for (const apiVersion of ["v1.1", "v2.1"]) {
            const events = [];
            const result = await client.upload(picked, {
              // MD5 asked for (the default sends none): every digest the fallbacks make is checked.
              apiVersion, segmented: true, segmentSize: segment, md5: true, onProgress: (p) => events.push(p),
            });
            runs.push({ result, last: events.at(-1), env: window.__env() });
          }
        } catch (e) {
          return { error: { name: e.name, code: e.code, message: e.message }, runs, env: window.__env() };
        } finally {
          client.close();
        }
        return { runs, env: window.__env(), page: { subtle: typeof crypto.subtle, Worker: typeof Worker } };
      }, { api: sandbox.api, workerUrl, segment: SEGMENT });
      assert.equal(outcome.error, undefined, JSON.stringify(outcome));
      assert.equal(outcome.runs.length, 2);

      // What storage holds, and every digest declared for it, equal openssl's/Node's.
      const ranges = Array.from({ length: SEGMENTS }, (_, i) => [i * SEGMENT, Math.min((i + 1) * SEGMENT, SIZE)]);
      for (const [index, { result, last }] of outcome.runs.entries()) {
        const label = `${["v1.1", "v2.1"][index]}`;
        assert.equal(result.status, label === "v2.1" ? "available" : "complete", label);
        assert.equal(last.phase, "done");
        assert.equal(last.bytesHashed, SIZE, `${label}: every byte hashed`);
        const record = await sandbox.inspect(result.uuid);
        assert.equal(record.stored.sha256, whole, `${label}: stored bytes`);
        const declared = record.upload.transfer.segments;
        assert.equal(declared.length, SEGMENTS, label);
        ranges.forEach(([start, end], i) => {
          const sha256 = rangeDigest(file, start, end, "sha256");
          assert.equal(declared[i].sha256, sha256, `${label} segment ${i}: declared SHA-256`);
          assert.equal(result.segments[i].sha256, sha256, `${label} segment ${i}: result SHA-256`);
          assert.equal(record.stored.range_sha256[i], sha256, `${label} segment ${i}: stored`);
          assert.equal(declared[i].md5, rangeDigest(file, start, end, "md5"), `${label} segment ${i}: declared MD5`);
        });
        if (label === "v2.1") assert.equal(record.upload.file.sha256, whole, "v2.1: declared whole-file SHA-256");
      }

      // Where the hashing ran.
      const { env } = outcome;
      const [first, second] = outcome.runs.map((run) => run.env);
      assert.equal(env.pageDigests, 0, "the page never calls crypto.subtle.digest (its hashing is wasm)");
      assert.equal(env.running, 0, "close() ended every worker");
      assert.equal(outcome.page.subtle, environment.secure ? "object" : "undefined");
      switch (environment.hashing) {
        case "workers+webcrypto":
        case "workers+wasm":
          assert.equal(first.constructed, 2, "two workers");
          assert.equal(second.constructed, 2, "the same two for the second upload");
          assert.equal(env.ready, 2, "both reported ready");
          assert.ok(first.messages > 0 && second.messages > first.messages, "the workers hashed both uploads");
          assert.deepEqual(env.warnings, []);
          if (environment.hashing === "workers+webcrypto") {
            assert.deepEqual(env.workerSubtle, ["object"]);
            // v1.1: one job per segment; v2.1: the same, and one job for the whole file
            // (one range of at most 64 MiB: WebCrypto too).
            assert.equal(first.workerDigests, SEGMENTS, "v1.1: WebCrypto SHA-256 per segment");
            assert.equal(second.workerDigests - first.workerDigests, SEGMENTS + 1, "v2.1: per segment and the whole file");
          } else {
            assert.deepEqual(env.workerSubtle, ["undefined"], "no crypto.subtle in the workers");
            assert.equal(env.workerDigests, 0, "the wasm SHA-256");
          }
          break;
        case "page":
          assert.equal(outcome.page.Worker, "undefined");
          assert.deepEqual(env.warnings, [], "no Worker is no surprise: nothing to warn of");
          break;
        case "fallback":
          assert.ok(first.constructed >= 1 && first.constructed <= 2, `workers tried: ${first.constructed}`);
          assert.equal(second.constructed, first.constructed, "no worker tried again for the second upload");
          assert.equal(env.messages, 0, "no worker ever answered: the page hashed");
          assert.equal(env.ready, 0);
          if (environment.worker === "throws") assert.equal(env.thrown, env.constructed);
          else assert.ok(env.errors >= 1, "the classic worker's SyntaxError reached the page as an error event");
          assert.equal(env.warnings.length, 1, `one warning: ${JSON.stringify(env.warnings)}`);
          assert.match(env.warnings[0], /procore-upload: .*calling thread/);
          break;
        default:
          throw new Error(`unknown hashing ${environment.hashing}`);
      }
    });
  }

  test("a worker that started and then crashes is still a WORKER error (replaced once), never the fallback", async () => {
    await page.goto(`${world.server.url}/`);
    await page.setInputFiles("#files", file);
    await page.evaluate(setUpEnvironment, { worker: "module", secure: true });
    const outcome = await page.evaluate(async ({ api, segment }) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      const picked = document.getElementById("files").files[0];
      const client = new ProcoreClient({
        companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true, workers: 1,
        workerUrl: "/fallbacks/crash-worker.js",
      });
      try {
        await client.upload(picked, { apiVersion: "v1.1", segmented: true, segmentSize: segment });
        return { env: window.__env() };
      } catch (e) {
        return { error: { code: e.code, message: e.message }, env: window.__env() };
      } finally {
        client.close();
      }
    }, { api: sandbox.api, segment: SEGMENT });
    assert.equal(outcome.error?.code, "WORKER", JSON.stringify(outcome));
    assert.match(outcome.error.message, /crashed twice/);
    assert.equal(outcome.env.constructed, 2, "the crashed worker replaced once");
    assert.equal(outcome.env.ready, 2, "both had started");
    assert.equal(outcome.env.errors, 2);
    assert.deepEqual(outcome.env.warnings, [], "no fallback");
    assert.equal(outcome.env.running, 0);
  });
});
