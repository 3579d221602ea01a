// The fault soak: 100 files of mixed sizes (0 B to 120 MB; v1.1 segmented and not,
// v2.1) through ONE ProcoreClient in each browser engine, against the sandbox with
// faults on: a fifth of storage requests fail (500/503, a reset mid-body, a stall
// that never answers), one instruction set expires early, 429 bursts on the API,
// one 401. Every upload must complete byte for byte, once, within the client's
// limits. SOAK_SCALE=k multiplies the number of files (bench/SOAK.md records runs).
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { describeInEngines, openssl, openWorld, randomFile } from "./support.mjs";

const MB = 1_000_000;
const SCALE = Math.max(1, Number(process.env.SOAK_SCALE ?? 1));
const CONCURRENCY = 4;
const MAX_ACTIVE = 3;
// Short enough for a quick soak, long enough that a busy debug sandbox storing a
// 45 MB form is not taken for a stall.
const STALL_MS = 5000;
const RETRY_AFTER_S = 1;

/** Sizes of the soak's files: seeded, so every run uploads the same mix. */
function sizes(count) {
  let seed = 20261123;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const between = (low, high) => Math.floor(low + random() * (high - low));
  return Array.from({ length: count }, (_, i) => {
    const slot = i % 100;
    if (slot === 0) return 120 * MB;
    if (slot === 50 || slot === 99) return 0;
    if (slot <= 3) return between(30 * MB, 45 * MB);
    if (slot <= 11) return between(6 * MB, 15 * MB);
    if (slot <= 31) return between(500_000, 5 * MB);
    return between(1, 500_000);
  });
}

/** How file `i` is uploaded: v1.1 segmented, v1.1 in one form POST, or v2.1. */
const FLOWS = [
  { apiVersion: "v1.1", segmented: true },
  { apiVersion: "v1.1", segmented: false },
  { apiVersion: "v2.1" },
];

/** The most intervals [start, end] open at one instant. */
function mostOpen(intervals) {
  const edges = intervals.flatMap(([start, end]) => [[start, 1], [end, -1]]);
  // At equal times, closings first: one ending as another starts is not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, change] of edges) {
    open += change;
    most = Math.max(most, open);
  }
  return most;
}

describeInEngines("fault soak: 100 files through one client in each browser engine", (engine) => {
  let world, dir, sandbox, page, files;

  before(async () => {
    world = await openWorld("soak", ["--processing-delay-ms", "50", "--seed", "7"], engine);
    ({ dir, sandbox, page } = world);
    files = sizes(100 * SCALE).map((size, i) => ({
      path: randomFile(dir, `soak-${String(i).padStart(4, "0")}.bin`, size),
      size,
      flow: FLOWS[i % FLOWS.length],
    }));
  });

  after(async () => {
    await world?.close();
  });

  afterEach(async () => {
    // The browser logs the failures the sandbox injects; anything else is a problem.
    const injected = /^console\.error: Failed to load resource: (net::ERR_CONNECTION_RESET|net::ERR_EMPTY_RESPONSE|the server responded with a status of (401|403|429|500|503))/;
    assert.deepEqual((await world.takeProblems()).filter((p) => !injected.test(p)), [], "no page errors or console errors");
  });

  test("every upload completes, intact and once, within the client's limits", async () => {
    await page.setInputFiles("#files", files.map((f) => f.path));
    await sandbox.clearRequests();
    await sandbox.setFaults({
      storage_error_rate: 0.08,
      storage_error_statuses: [500, 503],
      storage_reset_rate: 0.07,
      storage_stall_rate: 0.05,
      storage_stall_ms: 60_000,
      instructions_expired_next: 1,
      api_429_next: 2,
      api_401_next: 1,
      retry_after_secs: RETRY_AFTER_S,
    });
    // Two more 429 bursts while the batch runs.
    const bursts = [4000, 12000].map((delay) => setTimeout(async () => {
      const faults = await sandbox.getFaults();
      await sandbox.setFaults({ ...faults, api_429_next: faults.api_429_next + 2 });
    }, delay));
    const started = Date.now();
    const outcome = await page.evaluate(async ({ api, flows, limits }) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      const picked = [...document.getElementById("files").files];
      const refreshes = [];
      const client = new ProcoreClient({
        companyId: 7, baseUrl: api, allowInsecureStorage: true,
        getAccessToken: ({ refresh }) => { refreshes.push(refresh); return "sandbox-token"; },
        ...limits,
      });
      const problems = [];
      const uploads = picked.map((file, i) => {
        let last = null;
        const check = (p) => {
          if (last) {
            for (const key of ["bytesHashed", "bytesUploaded", "segmentsDone"]) {
              if (p[key] < last[key]) problems.push(`${file.name}: ${key} ${last[key]} → ${p[key]}`);
            }
          }
          if (p.bytesUploaded > p.totalBytes || p.bytesHashed > p.totalBytes || p.totalBytes !== file.size) {
            problems.push(`${file.name}: past the total ${JSON.stringify(p)}`);
          }
          last = p;
        };
        return client.upload(file, { ...flows[i % flows.length], projectId: 1, onProgress: check })
          .then((result) => ({ name: file.name, result, last }),
            (e) => ({ name: file.name, error: { code: e.code, message: e.message } }));
      });
      const results = await Promise.all(uploads);
      client.close();
      return { results, problems, refreshes };
    }, { api: sandbox.api, flows: FLOWS, limits: { concurrency: CONCURRENCY, maxActiveUploads: MAX_ACTIVE, stallTimeoutMs: STALL_MS } });
    bursts.forEach(clearTimeout);
    const seconds = (Date.now() - started) / 1000;

    const failed = outcome.results.filter((r) => r.error);
    assert.deepEqual(failed, [], "every upload completes");
    assert.deepEqual(outcome.problems, [], "progress is monotonic and capped for every file");
    for (const { name, result, last } of outcome.results) {
      assert.equal(last.phase, "done", name);
      assert.equal(last.bytesUploaded, result.size, `${name}: progress ends at the size`);
    }
    // What storage holds is what was picked, byte for byte; each upload completed
    // once (the sandbox counts Complete Upload calls; v2.1 checkpoints are not ones).
    const completions = [];
    for (const [i, { result }] of outcome.results.entries()) {
      const record = await sandbox.inspect(result.uuid);
      assert.equal(record.stored?.sha256, openssl("sha256", files[i].path), `${outcome.results[i].name} stored intact`);
      completions.push([outcome.results[i].name, record.upload.completions, result.segments ? 1 : 0]);
    }
    assert.deepEqual(completions.filter(([, n, expected]) => n !== expected), [], "no upload completed twice");

    const log = (await sandbox.requests()).filter((r) => r.method !== "OPTIONS");
    const storage = log.filter((r) => r.side === "storage");
    const apiLog = log.filter((r) => r.side === "api");
    assert.deepEqual(storage.filter((r) => r.headers.some(([name]) => name === "authorization")), [], "no token to storage");
    assert.equal(storage.filter((r) => r.finished_ms === null).length, 0, "no storage request left open");
    const open = mostOpen(storage.map((r) => [r.received_ms, r.finished_ms]));
    assert.ok(open <= CONCURRENCY, `${open} storage requests open at once; the client's limit is ${CONCURRENCY}`);

    const forms = outcome.results.filter((r) => !r.result.segments).length;
    // A form whose answer came too late (a stall) is sent again: the same object
    // stored again, which no Procore call sees. Counted in the summary.
    const stored = storage.filter((r) => r.method === "POST" && r.status >= 200 && r.status < 300);
    assert.ok(stored.length >= forms, `${stored.length} forms stored for ${forms} form uploads`);

    // After each 429 the client's other API requests waited too.
    const limited = apiLog.filter((r) => r.fault === "429");
    assert.ok(limited.length >= 2, `429s answered: ${limited.length}`);
    for (const refusal of limited) {
      const from = refusal.finished_ms + 50;
      const until = refusal.finished_ms + RETRY_AFTER_S * 1000 - 50;
      const during = apiLog.filter((r) => r.received_ms > from && r.received_ms < until);
      assert.deepEqual(during.map((r) => `${r.method} ${r.path} at ${r.received_ms}`), [],
        `API requests in the hold after the 429 at ${refusal.finished_ms} ms`);
    }
    assert.equal(apiLog.filter((r) => r.fault === "401").length, 1, "the one 401");
    assert.equal(outcome.refreshes.filter(Boolean).length, 1, "one refresh for it");
    assert.ok(apiLog.some((r) => r.fault === "instructions expired"), "an instruction set expired early");

    // The counts the closing note gives.
    const faults = {};
    for (const r of log.filter((r) => r.fault)) faults[r.fault] = (faults[r.fault] ?? 0) + 1;
    const bytes = (r) => Number(r.headers.find(([name]) => name === "content-length")?.[1] ?? 0);
    const resent = storage.filter((r) => !(r.status >= 200 && r.status < 300)).reduce((sum, r) => sum + bytes(r), 0);
    const summary = {
      files: files.length, megabytes: Math.round(files.reduce((s, f) => s + f.size, 0) / MB), seconds,
      requests: log.length, storageRequests: storage.length, apiRequests: apiLog.length,
      storageFailed: storage.filter((r) => !(r.status >= 200 && r.status < 300)).length,
      faults, megabytesSentAgain: Math.round(resent / MB), formsStoredAgain: stored.length - forms, mostStorageOpen: open,
    };
    console.log(`# soak: ${JSON.stringify(summary)}`);
    if (process.env.SOAK_SUMMARY) fs.writeFileSync(process.env.SOAK_SUMMARY, JSON.stringify(summary, null, 2));
  });
});
