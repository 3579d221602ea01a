// Batch speed: 20 files × 50 MB through ONE ProcoreClient (default limits: 6 storage
// requests, 3 uploads sending, workers hashing the next files meanwhile) against the
// sandbox, beside the upload-only floor: the same bytes PUT in the same segments by
// bare fetch() with the digests computed beforehand (no hashing), in the same run.
// Goal: the batch at ≥ 0.9× the floor. Run: node bench/batch.mjs [rounds] [files] [MB]
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import { openWorld, randomFile } from "../tests/e2e/support.mjs";
import { startCpuAccounting } from "./proc.mjs";

const rounds = Number(process.argv[2] ?? 3);
const count = Number(process.argv[3] ?? 20);
const megabytes = Number(process.argv[4] ?? 50);
const size = megabytes * 1_000_000;

// BENCH_SEPARATE_CORES=1: the browser (and this script) on CPU 0, the sandbox on
// CPU 1, as when storage is another machine: on two shared cores the sandbox's own
// work (a SHA-256 check and an MD5 ETag of every PUT) takes the CPU the browser's
// hashing would hide in. Threads started later inherit their starter's CPU.
const separateCores = process.env.BENCH_SEPARATE_CORES === "1";
const pin = (pid, cpu) => execFileSync("taskset", ["-a", "-p", "-c", String(cpu), String(pid)], { stdio: "ignore" });
if (separateCores) pin(process.pid, 0);

// BENCH_CLIENT_OPTIONS (JSON): added to the client's options (e.g. {"workers":1}).
const clientOptions = JSON.parse(process.env.BENCH_CLIENT_OPTIONS ?? "{}");
// BENCH_ENGINE: chromium (default), firefox or webkit.
const world = await openWorld("bench-batch", ["--processing-delay-ms", "50"], process.env.BENCH_ENGINE ?? "chromium");
try {
  const { dir, sandbox, page } = world;
  if (separateCores) pin(sandbox.pid, 1);
  const files = Array.from({ length: count }, (_, i) => randomFile(dir, `batch-${i}.bin`, size));
  await page.setInputFiles("#files", files);

  const library = (apiVersion) => page.evaluate(async ({ api, apiVersion, clientOptions }) => {
    const { ProcoreClient } = await import("/pkg/index.js");
    const picked = [...document.getElementById("files").files];
    const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, apiVersion, allowInsecureStorage: true, ...clientOptions });
    const started = performance.now();
    await Promise.all(picked.map((file) => client.upload(file, { segmented: true })));
    const ms = performance.now() - started;
    client.close();
    return ms;
  }, { api: sandbox.api, apiVersion, clientOptions });

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
  // CPU seconds per process kind and thread name, summed over the rounds.
  const spent = {};
  const measured = async (name, run) => {
    const before = cpuTimes();
    const accounting = startCpuAccounting();
    const ms = await run();
    const { rows } = accounting.stop();
    const after = cpuTimes();
    (busy[name] ??= []).push(1 - (after.idle - before.idle) / (after.total - before.total));
    for (const { process, thread, seconds } of rows) {
      const key = `${process} · ${thread}`;
      ((spent[key] ??= {})[name] ??= 0);
      spent[key][name] += seconds;
    }
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
  console.log(`${count} files × ${megabytes} MB, median of ${rounds} rounds (MB = 10^6 bytes)${separateCores ? ", browser on CPU 0, sandbox on CPU 1" : ""}\n`);
  console.log("| variant | median | MB/s | ÷ floor | CPU busy (median) | all runs (s) |");
  console.log("|---|---:|---:|---:|---:|---|");
  for (const [name, values] of Object.entries(runs)) {
    const ms = median(values);
    const cpu = `${(median(busy[name]) * 100).toFixed(0)} %`;
    console.log(`| ${name} | ${(ms / 1000).toFixed(2)} s | ${mbps(ms).toFixed(0)} | ${(floorMs / ms).toFixed(2)} | ${cpu} | ${values.map((v) => (v / 1000).toFixed(2)).join(" ")} |`);
  }
  // Where the CPU went: mean CPU seconds per run, by process and thread (rows of
  // at least 0.1 s in some variant).
  const names = Object.keys(runs);
  console.log(`\nCPU seconds per run (mean of ${rounds}), by process and thread:\n`);
  console.log(`| process · thread | ${names.join(" | ")} |`);
  console.log(`|---|${names.map(() => "---:").join("|")}|`);
  const totals = Object.fromEntries(names.map((name) => [name, 0]));
  const rows = Object.entries(spent).sort(([, a], [, b]) => (b[names[1]] ?? 0) - (a[names[1]] ?? 0));
  for (const [key, byName] of rows) {
    for (const name of names) totals[name] += (byName[name] ?? 0) / rounds;
    if (!names.some((name) => (byName[name] ?? 0) / rounds >= 0.1)) continue;
    console.log(`| ${key} | ${names.map((name) => ((byName[name] ?? 0) / rounds).toFixed(2)).join(" | ")} |`);
  }
  console.log(`| **all** | ${names.map((name) => totals[name].toFixed(2)).join(" | ")} |`);
} finally {
  await world.close();
}
