// Batch speed: 20 files × 50 MB through ONE ProcoreClient (default limits: 6 storage
// requests, 3 uploads sending, workers hashing the next files meanwhile) against the
// sandbox, beside the upload-only floor: the same bytes PUT in the same segments by
// bare fetch() with the digests computed beforehand (no hashing), in the same run.
// Goal: the batch at ≥ 0.9× the floor. Run: node bench/batch.mjs [rounds] [files] [MB]
import crypto from "node:crypto";
import fs from "node:fs";
import { openWorld, randomFile } from "../tests/e2e/support.mjs";

const rounds = Number(process.argv[2] ?? 3);
const count = Number(process.argv[3] ?? 20);
const megabytes = Number(process.argv[4] ?? 50);
const size = megabytes * 1_000_000;

// BENCH_ENGINE: chromium (default), firefox or webkit.
const world = await openWorld("bench-batch", ["--processing-delay-ms", "50"], process.env.BENCH_ENGINE ?? "chromium");
try {
  const { dir, sandbox, page } = world;
  const files = Array.from({ length: count }, (_, i) => randomFile(dir, `batch-${i}.bin`, size));
  await page.setInputFiles("#files", files);

  const library = (apiVersion) => page.evaluate(async ({ api, apiVersion }) => {
    const { ProcoreClient } = await import("/pkg/index.js");
    const picked = [...document.getElementById("files").files];
    const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, apiVersion, allowInsecureStorage: true });
    const started = performance.now();
    await Promise.all(picked.map((file) => client.upload(file, { segmented: true })));
    const ms = performance.now() - started;
    client.close();
    return ms;
  }, { api: sandbox.api, apiVersion });

  // The floor: the same bytes in the same 16 MiB segments PUT to storage by bare
  // fetch() (v1.1 segmented create, 6 PUTs at a time, PATCH), the digests computed
  // beforehand in Node: what sending costs with no hashing at all.
  const SEGMENT = 16 * 1024 * 1024;
  const declared = files.map((file) => {
    const bytes = fs.readFileSync(file);
    const segments = [];
    for (let start = 0; start < bytes.length; start += SEGMENT) {
      const piece = bytes.subarray(start, Math.min(start + SEGMENT, bytes.length));
      segments.push({ size: piece.length, sha256: crypto.createHash("sha256").update(piece).digest("hex") });
    }
    return segments;
  });
  const floor = () => page.evaluate(async ({ api, declared, segment }) => {
    const picked = [...document.getElementById("files").files];
    const headers = { Authorization: "Bearer sandbox-token", "Procore-Company-Id": "7", "Content-Type": "application/json" };
    const started = performance.now();
    const created = await Promise.all(picked.map(async (file, i) => (await fetch(`${api}/rest/v1.1/companies/7/uploads`, {
      method: "POST", headers, body: JSON.stringify({ response_filename: file.name, segments: declared[i] }),
    })).json()));
    const puts = created.flatMap((upload, i) => upload.segments.map((part, j) => ({ i, j, part })));
    const etags = created.map((upload) => upload.segments.map(() => null));
    let next = 0;
    const lane = async () => {
      while (next < puts.length) {
        const { i, j, part } = puts[next++];
        const body = picked[i].slice(j * segment, Math.min((j + 1) * segment, picked[i].size));
        const stored = await fetch(part.url, { method: "PUT", headers: { ...part.headers, "Content-Type": "application/octet-stream" }, body });
        if (!stored.ok) throw new Error(`floor PUT: ${stored.status}`);
        etags[i][j] = stored.headers.get("ETag");
      }
    };
    await Promise.all(Array.from({ length: 6 }, lane));
    await Promise.all(created.map((upload, i) => fetch(`${api}/rest/v1.1/companies/7/uploads/${upload.uuid}`, {
      method: "PATCH", headers, body: JSON.stringify({ segments: etags[i].map((etag) => ({ etag })) }),
    })));
    return performance.now() - started;
  }, { api: sandbox.api, declared, segment: SEGMENT });

  // How busy the machine's CPUs were during a run (all processes: browser, sandbox):
  // /proc/stat's non-idle share between two reads.
  const cpuTimes = () => {
    const [, ...fields] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
    const n = fields.map(Number);
    const idle = n[3] + (n[4] ?? 0);
    return { idle, total: n.reduce((a, b) => a + b, 0) };
  };
  const busy = {};
  const measured = async (name, run) => {
    const before = cpuTimes();
    const ms = await run();
    const after = cpuTimes();
    (busy[name] ??= []).push(1 - (after.idle - before.idle) / (after.total - before.total));
    return ms;
  };
  const runs = { floor: [], "v1.1 segmented": [], "v2.1": [] };
  for (let round = 0; round < rounds; round++) {
    runs.floor.push(await measured("floor", floor));
    runs["v1.1 segmented"].push(await measured("v1.1 segmented", () => library("v1.1")));
    runs["v2.1"].push(await measured("v2.1", () => library("v2.1")));
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const mbps = (ms) => (count * size) / 1e6 / (ms / 1000);
  const floorMs = median(runs.floor);
  console.log(`${count} files × ${megabytes} MB, median of ${rounds} rounds (MB = 10^6 bytes)\n`);
  console.log("| variant | median | MB/s | ÷ floor | CPU busy (median) | all runs (s) |");
  console.log("|---|---:|---:|---:|---:|---|");
  for (const [name, values] of Object.entries(runs)) {
    const ms = median(values);
    const cpu = `${(median(busy[name]) * 100).toFixed(0)} %`;
    console.log(`| ${name} | ${(ms / 1000).toFixed(2)} s | ${mbps(ms).toFixed(0)} | ${(floorMs / ms).toFixed(2)} | ${cpu} | ${values.map((v) => (v / 1000).toFixed(2)).join(" ")} |`);
  }
} finally {
  await world.close();
}
