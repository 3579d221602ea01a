// Runs one benchmark variant at a time on the picked File; the driver (bench/hash.mjs)
// calls window.runVariant and reads the elapsed milliseconds.
import { ProcoreClient } from "/pkg/index.js";

const file = () => document.getElementById("file").files[0];

/** Segments of `segment` bytes, in `workers` runs of consecutive ones. */
function deal(size, segment, workers) {
  const all = [];
  for (let start = 0; start < size; start += segment) all.push([start, Math.min(start + segment, size)]);
  const run = Math.ceil(all.length / workers);
  return Array.from({ length: workers }, (_, i) => all.slice(i * run, (i + 1) * run));
}

/** A competitor in `workers` bench workers; resolves to the wall-clock ms. */
async function inBenchWorkers(mode, workers, segment, chunk) {
  const f = file();
  const pool = Array.from({ length: workers }, () => new Worker("/bench-worker.js", { type: "module" }));
  const started = performance.now();
  await Promise.all(
    deal(f.size, segment, workers).map(
      (segments, i) =>
        new Promise((resolve, reject) => {
          pool[i].onmessage = resolve;
          pool[i].onerror = reject;
          pool[i].postMessage({ file: f, segments, chunk, mode });
        }),
    ),
  );
  const ms = performance.now() - started;
  pool.forEach((w) => w.terminate());
  return ms;
}

/** Hashing on the page itself (workers: 0): MB/s and the longest task it caused. */
window.runOnPage = async ({ segment, chunk }) => {
  const tasks = [];
  const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries().map((e) => e.duration)));
  observer.observe({ type: "longtask" });
  const client = new ProcoreClient({ companyId: 1, accessToken: "unused" });
  const started = performance.now();
  await client.hashFile(file(), { segmentSize: segment, workers: 0, md5: true, ...(chunk ? { chunkSize: chunk } : {}) });
  const ms = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  return { ms, longest: Math.max(0, ...tasks), over50: tasks.filter((d) => d > 50).length };
};

window.runVariant = async ({ kind, workers, md5, segment, chunk }) => {
  if (kind === "library" || kind === "baseline") {
    // The baseline: another build of the package (bench/hash.mjs, BENCH_BASELINE_PKG).
    const Client = kind === "library" ? ProcoreClient : (await import("/pkg-baseline/index.js")).ProcoreClient;
    const client = new Client({ companyId: 1, accessToken: "unused" });
    const started = performance.now();
    await client.hashFile(file(), { segmentSize: segment, workers, md5, chunkSize: chunk });
    return performance.now() - started;
  }
  return inBenchWorkers(kind, workers, segment, chunk);
};

/** Watches the library's workers' wasm memory (they report it with each message). */
window.watchWasmMemory = () => {
  window.__wasmPeak = 0;
  const Original = window.Worker;
  window.Worker = class extends Original {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", ({ data }) => {
        if (data?.wasmBytes) window.__wasmPeak = Math.max(window.__wasmPeak, data.wasmBytes);
      });
    }
  };
};

window.benchReady = true;
