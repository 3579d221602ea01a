// Hashing benchmark: `node bench/hash.mjs [--size-mib 512] [--runs 3] [--memory-gib 4]`
// (BENCH_BASELINE_PKG: see below)
// (scripts/bench builds first). In headless Chromium, on one disk-backed File picked
// with setInputFiles, 16 MiB segments, in one run: the read floor, this library's
// hashFile (1 and 2 workers, MD5 on and off), hash-wasm and WebCrypto in the same kind
// of workers with the same slices, and openssl natively. Then peak wasm memory and JS
// heap while hashing a (sparse) 4 GiB file. Writes bench/RESULTS.md.
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startStaticServer } from "../www/server.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const MiB = 1024 * 1024;
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const SIZE = arg("size-mib", 512) * MiB;
const RUNS = arg("runs", 5);
const MEMORY_SIZE = arg("memory-gib", 4) * 1024 * MiB;
// BENCH_BASELINE_PKG=<a built pkg/ folder>: that package runs too, beside pkg/, in
// the same rounds (a before/after comparison on a shared machine); RESULTS.md is
// left alone.
const BASELINE = process.env.BENCH_BASELINE_PKG ? path.resolve(process.env.BENCH_BASELINE_PKG) : null;
const SEGMENT = 16 * MiB;
const CHUNK = 4 * MiB;

const cache = path.join(ROOT, ".cache/bench");
fs.mkdirSync(cache, { recursive: true });
const file = path.join(cache, `random-${SIZE / MiB}m.bin`);
if (!fs.existsSync(file) || fs.statSync(file).size !== SIZE) {
  console.log(`writing ${file}`);
  const fd = fs.openSync(file, "w");
  for (let written = 0; written < SIZE; written += 16 * MiB) fs.writeSync(fd, crypto.randomBytes(16 * MiB));
  fs.closeSync(fd);
}
const sparse = path.join(cache, `sparse-${MEMORY_SIZE / MiB}m.bin`);
if (!fs.existsSync(sparse) || fs.statSync(sparse).size !== MEMORY_SIZE) {
  const fd = fs.openSync(sparse, "w");
  fs.ftruncateSync(fd, MEMORY_SIZE);
  fs.closeSync(fd);
}
execFileSync("cat", [file], { stdio: ["ignore", "ignore", "inherit"], maxBuffer: 1 }); // into the page cache

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mbps = (ms) => SIZE / 1e6 / (ms / 1000);

/** openssl natively, one core, same file (already in the page cache). */
function openssl(algorithm) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const started = process.hrtime.bigint();
    execFileSync("openssl", ["dgst", `-${algorithm}`, file], { stdio: "ignore" });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(times);
}

const webdriver = JSON.parse(fs.readFileSync(path.join(ROOT, "webdriver.json"), "utf8"))["goog:chromeOptions"];
const server = await startStaticServer({
  mounts: {
    "/": path.join(ROOT, "bench/page"),
    "/pkg/": path.join(ROOT, "pkg"),
    "/hash-wasm/": path.join(ROOT, "node_modules/hash-wasm/dist"),
    ...(BASELINE ? { "/pkg-baseline/": BASELINE } : {}),
  },
});
const browser = await chromium.launch({
  executablePath: webdriver.binary,
  args: webdriver.args.filter((a) => !a.startsWith("--headless")),
});
const page = await browser.newPage();
page.on("pageerror", (e) => console.error("page error:", e.message));
await page.goto(`${server.url}/`);
await page.waitForFunction(() => window.benchReady);
await page.setInputFiles("#file", file);

const variants = [
  { label: "read floor (slice().arrayBuffer() only)", kind: "read", workers: 1 },
  { label: "read floor (slice().arrayBuffer() only)", kind: "read", workers: 2 },
  { label: "read floor, FileReaderSync", kind: "read-sync", workers: 1 },
  { label: "read floor, FileReaderSync", kind: "read-sync", workers: 2 },
  { label: "procore-upload SHA-256 + MD5", kind: "library", md5: true, workers: 1 },
  { label: "procore-upload SHA-256 + MD5", kind: "library", md5: true, workers: 2 },
  { label: "procore-upload SHA-256 (MD5 off)", kind: "library", md5: false, workers: 1 },
  { label: "procore-upload SHA-256 (MD5 off)", kind: "library", md5: false, workers: 2 },
  ...(BASELINE
    ? [
        { label: "baseline package SHA-256 + MD5", kind: "baseline", md5: true, workers: 1 },
        { label: "baseline package SHA-256 + MD5", kind: "baseline", md5: true, workers: 2 },
        { label: "baseline package SHA-256 (MD5 off)", kind: "baseline", md5: false, workers: 1 },
        { label: "baseline package SHA-256 (MD5 off)", kind: "baseline", md5: false, workers: 2 },
      ]
    : []),
  { label: "hash-wasm SHA-256 + MD5", kind: "hash-wasm-sha256-md5", workers: 1 },
  { label: "hash-wasm SHA-256 + MD5", kind: "hash-wasm-sha256-md5", workers: 2 },
  { label: "hash-wasm SHA-256", kind: "hash-wasm-sha256", workers: 1 },
  { label: "hash-wasm SHA-256", kind: "hash-wasm-sha256", workers: 2 },
  { label: "WebCrypto SHA-256 per segment", kind: "webcrypto", workers: 1 },
  { label: "WebCrypto SHA-256 per segment", kind: "webcrypto", workers: 2 },
];
// Rounds of every variant in turn (not all runs of one variant back to back), so that
// drifts of a shared machine spread over all variants; each variant's median counts.
const times = variants.map(() => []);
for (let round = 0; round < RUNS; round++) {
  for (const [i, variant] of variants.entries()) {
    times[i].push(await page.evaluate((v) => window.runVariant(v), { ...variant, segment: SEGMENT, chunk: CHUNK }));
  }
  console.log(`round ${round + 1} of ${RUNS} done`);
}
const results = variants.map((variant, i) => {
  const ms = median(times[i]);
  console.log(`${variant.label}, ${variant.workers} worker(s): ${mbps(ms).toFixed(0)} MB/s (median of ${RUNS}; ${times[i].map((t) => mbps(t).toFixed(0)).join(", ")})`);
  return { ...variant, ms, mbps: mbps(ms), all: times[i].map(mbps) };
});
// Without workers: on the page (the library reads 1 MiB at a time there); the page must stay
// responsive (no task over ~50 ms).
const onPage = await page.evaluate(() => window.runOnPage({ segment: 16 * 1024 * 1024 }));
const longest = onPage.over50 ? `${onPage.longest.toFixed(0)} ms` : "none over 50 ms";
console.log(`on the page: ${mbps(onPage.ms).toFixed(0)} MB/s, long tasks: ${longest}`);
const native = { sha256: mbps(openssl("sha256")), md5: mbps(openssl("md5")) };
console.log(`openssl: SHA-256 ${native.sha256.toFixed(0)} MB/s, MD5 ${native.md5.toFixed(0)} MB/s`);

// Memory while hashing a 4 GiB (sparse) file with 2 workers: JS heaps of the page and
// of every worker through CDP, wasm memory as the workers report it.
const cdp = await browser.newBrowserCDPSession();
let nextId = 1;
const pending = new Map();
cdp.on("Target.receivedMessageFromTarget", ({ message }) => {
  const reply = JSON.parse(message);
  pending.get(reply.id)?.(reply.result);
  pending.delete(reply.id);
});
async function heapOf(targetId) {
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: false });
  const id = nextId++;
  const answer = new Promise((resolve) => pending.set(id, resolve));
  await cdp.send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id, method: "Runtime.getHeapUsage" }) });
  const result = await Promise.race([answer, new Promise((r) => setTimeout(() => r(null), 1000))]);
  await cdp.send("Target.detachFromTarget", { sessionId }).catch(() => {});
  return result?.usedSize ?? 0;
}
async function totalHeap() {
  const { targetInfos } = await cdp.send("Target.getTargets");
  const targets = targetInfos.filter((t) => t.type === "page" || t.type === "worker");
  const sizes = await Promise.all(targets.map((t) => heapOf(t.targetId).catch(() => 0)));
  return sizes.reduce((a, b) => a + b, 0);
}
await page.evaluate(() => window.watchWasmMemory());
await page.setInputFiles("#file", sparse);
const baseline = await totalHeap();
let peakHeap = baseline;
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    peakHeap = Math.max(peakHeap, await totalHeap());
    await new Promise((r) => setTimeout(r, 200));
  }
})();
const memoryMs = await page.evaluate((v) => window.runVariant(v), {
  kind: "library", workers: 2, md5: true, segment: SEGMENT, chunk: CHUNK,
});
sampling = false;
await sampler;
const wasmPeak = await page.evaluate(() => window.__wasmPeak);
await browser.close();
await server.close();

// The report.
const row = (label, workers) => results.find((r) => r.label === label && r.workers === workers);
const floor = (w) => row("read floor (slice().arrayBuffer() only)", w).mbps;
const ours = (w, md5 = true) => row(md5 ? "procore-upload SHA-256 + MD5" : "procore-upload SHA-256 (MD5 off)", w).mbps;
const hw = (w) => row("hash-wasm SHA-256 + MD5", w).mbps;
const check = (ok) => (ok ? "met" : "**missed**");
const chromeVersion = execFileSync(webdriver.binary, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
const ratios = [
  ["SHA-256+MD5 ÷ hash-wasm, 1 worker", ours(1) / hw(1), 3, "≥ 3"],
  ["SHA-256+MD5 ÷ hash-wasm, 2 workers", ours(2) / hw(2), 3, "≥ 3"],
  ["SHA-256+MD5 ÷ read floor, 1 worker", ours(1) / floor(1), 0.8, "≥ 0.8"],
  ["SHA-256+MD5 ÷ read floor, 2 workers", ours(2) / floor(2), 0.8, "≥ 0.8"],
  ["MD5 off ÷ read floor, 1 worker", ours(1, false) / floor(1), 0.9, "≥ 0.9"],
  ["MD5 off ÷ read floor, 2 workers", ours(2, false) / floor(2), 0.9, "≥ 0.9"],
  ["2 workers ÷ 1 worker (SHA-256+MD5)", ours(2) / ours(1), 1.7, "≥ 1.7 where the read floor allows"],
];
const floorScaling = floor(2) / floor(1);
const report = `# Hashing benchmark

Produced by \`scripts/bench\` (\`node bench/hash.mjs\`) on ${new Date().toISOString().slice(0, 10)}:
${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), ${chromeVersion}, headless.
One disk-backed File of ${SIZE / MiB} MiB picked with \`setInputFiles\` (in the OS page cache),
${SEGMENT / MiB} MiB segments, median of ${RUNS} rounds (each round runs every variant once); MB = 10^6 bytes. The other browser
variants read whole segments with \`slice().arrayBuffer()\`, four at a time (the library
reads each segment through its stream into one reused buffer); workers take runs of
consecutive segments.

| variant | 1 worker | 2 workers | all runs, 1 worker / 2 workers |
|---|---:|---:|---|
${[...new Set(variants.map((v) => v.label))]
  .map((label) => {
    const [one, two] = [row(label, 1), row(label, 2)];
    const runs = (r) => r.all.map((v) => v.toFixed(0)).join(" ");
    return `| ${label} | ${one.mbps.toFixed(0)} MB/s | ${two.mbps.toFixed(0)} MB/s | ${runs(one)} / ${runs(two)} |`;
  })
  .join("\n")}
| openssl (native, 1 core) | SHA-256 ${native.sha256.toFixed(0)} MB/s | MD5 ${native.md5.toFixed(0)} MB/s | |

## Targets (ratios within this run)

| ratio | measured | target | |
|---|---:|---|---|
${ratios.map(([name, value, goal, text]) => `| ${name} | ${value.toFixed(2)} | ${text} | ${check(value >= goal)} |`).join("\n")}

For context: the read floor itself scales ${floorScaling.toFixed(2)}× from 1 to 2 workers here.

## Without workers (\`workers: 0\`, on the page: 1 MiB reads on the calling thread)

- ${mbps(onPage.ms).toFixed(0)} MB/s; long tasks the page saw (PerformanceObserver "longtask", which reports tasks over 50 ms): ${longest} (target: never frozen for more than ~50 ms: ${check(onPage.over50 === 0)})

## Memory while hashing a ${MEMORY_SIZE / 1024 / MiB} GiB file (2 workers, SHA-256 + MD5)

- time: ${(memoryMs / 1000).toFixed(1)} s (${(MEMORY_SIZE / 1e6 / (memoryMs / 1000)).toFixed(0)} MB/s; a sparse file, so reads are cheap)
- peak wasm memory of a worker: ${(wasmPeak / MiB).toFixed(1)} MiB (target ≤ 16 MiB: ${check(wasmPeak <= 16 * MiB)})
- JS heap, page + workers (CDP Runtime.getHeapUsage): ${(baseline / MiB).toFixed(1)} MiB before, peak ${(peakHeap / MiB).toFixed(1)} MiB, growth ${((peakHeap - baseline) / MiB).toFixed(1)} MiB (target ≤ 64 MiB: ${check(peakHeap - baseline <= 64 * MiB)})
`;
// RESULTS.md holds other benchmarks' sections too: only the hashing part (this report
// and NOTES.md, up to the next top-level heading) is replaced. A comparison run
// against a baseline package writes nothing.
if (!BASELINE) {
  const resultsFile = path.join(ROOT, "bench/RESULTS.md");
  const notes = fs.existsSync(path.join(ROOT, "bench/NOTES.md")) ? "\n" + fs.readFileSync(path.join(ROOT, "bench/NOTES.md"), "utf8") : "";
  const previous = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, "utf8") : "";
  const next = previous.search(/^# (?!Hashing benchmark)/m);
  const rest = next >= 0 ? "\n" + previous.slice(next) : "";
  fs.writeFileSync(resultsFile, report + notes + rest);
}
console.log(report);
