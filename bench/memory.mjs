// Memory while hashing and uploading big files, as the operating system sees it: the
// summed RSS of the browser's processes (bench/proc.mjs), sampled every 200 ms while
// the work runs, minus the figure just before (the page loaded, the wasm compiled, no
// worker started yet: the client's workers count in the budget). Beside it, the
// throughput of the same run. Goal (issue 13): growth ≤ 128 MiB, flat in file size.
// Run: node bench/memory.mjs [sizes in MiB, comma-separated: 1024,4096] [rounds]
// BENCH_CLIENT_OPTIONS and BENCH_JOB_OPTIONS (JSON) are added to the client's and each
// job's options, to measure other settings than the defaults.
import { openWorld, randomFile } from "../tests/e2e/support.mjs";
import { startRssSampling } from "./proc.mjs";

const sizes = (process.argv[2] ?? "1024,4096").split(",").map(Number);
const rounds = Number(process.argv[3] ?? 1);
const MIB = 1024 * 1024;
const clientOptions = JSON.parse(process.env.BENCH_CLIENT_OPTIONS ?? "{}");
const jobOptions = JSON.parse(process.env.BENCH_JOB_OPTIONS ?? "{}");

const world = await openWorld("bench-memory", [], process.env.BENCH_ENGINE ?? "chromium");
const settle = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

try {
  const { dir, sandbox, page } = world;
  // What runs in the page: one client with the defaults (one hashing worker:
  // core::workers::DEFAULT_WORKERS), then one job on the picked file.
  // BENCH_JOBS (comma-separated) picks some of them.
  const variants = ["client.hashSegments", "upload v1.1 segmented", "upload v2.1"]
    .filter((name) => !process.env.BENCH_JOBS || process.env.BENCH_JOBS.split(",").includes(name));
  const rows = [];
  for (const mib of sizes) {
    const file = randomFile(dir, `memory-${mib}.bin`, mib * MIB);
    for (let round = 0; round < rounds; round++) {
      for (const name of variants) {
        await page.reload();
        await page.setInputFiles("#files", [file]);
        // The wasm compiled and a client made before the baseline.
        await page.evaluate(async ({ api, clientOptions }) => {
          const { ProcoreClient } = await import("/pkg/index.js");
          window.benchClient = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true, ...clientOptions });
          await window.benchClient.request("GET", "/rest/v1.0/me").catch(() => null);
        }, { api: sandbox.api, clientOptions });
        await settle(2000);
        const sampling = startRssSampling(200);
        const ms = await page.evaluate(async ({ name, options }) => {
          const client = window.benchClient;
          const file = document.getElementById("files").files[0];
          const started = performance.now();
          if (name === "client.hashSegments") await client.hashSegments(file, options);
          else if (name === "upload v1.1 segmented") await client.upload(file, { segmented: true, apiVersion: "v1.1", ...options });
          else await client.upload(file, { apiVersion: "v2.1", ...options });
          return performance.now() - started;
        }, { name, options: jobOptions });
        const rss = sampling.stop();
        await page.evaluate(() => window.benchClient.close());
        rows.push({ name, mib, ms, ...rss });
        const largest = rss.byProcess.slice(0, 3).map(({ kind, growth }) => `${kind} +${growth.toFixed(0)}`).join(", ");
        console.error(`${name} ${mib} MiB: ${(ms / 1000).toFixed(1)} s, RSS ${rss.start.toFixed(0)} → peak ${rss.peak.toFixed(0)} MiB (+${rss.growth.toFixed(0)}: ${largest})`);
        // BENCH_TIMELINE=<seconds>: the growth at that spacing, to see when memory grows.
        if (process.env.BENCH_TIMELINE) {
          const every = Number(process.env.BENCH_TIMELINE) * 1000;
          const points = rss.timeline.filter(([at], i) => i === 0 || Math.floor(at / every) > Math.floor(rss.timeline[i - 1][0] / every));
          console.error(`  timeline: ${points.map(([at, total]) => `${(at / 1000).toFixed(0)}s +${(total - rss.start).toFixed(0)}`).join(", ")}`);
        }
        await sandbox.clearRequests();
      }
    }
  }
  console.log("| job | file | s | MB/s | RSS before (MiB) | peak (MiB) | growth (MiB) |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const { name, mib, ms, start, peak, growth } of rows) {
    console.log(`| ${name} | ${mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`} | ${(ms / 1000).toFixed(1)} | ${((mib * MIB) / 1e6 / (ms / 1000)).toFixed(0)} | ${start.toFixed(0)} | ${peak.toFixed(0)} | **+${growth.toFixed(0)}** |`);
  }
} finally {
  await world.close();
}
