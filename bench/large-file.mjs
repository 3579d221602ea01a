// One large file end to end (issue 26): ONE random file on disk, picked into an
// <input type=file>, hashed, created, PUT to the sandbox's S3-protocol storage and
// completed, by several clients side by side in one run:
// - "v1.1", "v2.1": this library at its defaults (v1.1 segmented by `segmented: "auto"`);
// - "bare": fetch + WebCrypto, no MD5 (bench/large/bench.js): SHA-256 of each 16 MiB
//   segment in a worker, four segments in flight, the v1.1 create, 6 PUTs at a time,
//   PATCH. There is no bare v2.1: it needs the whole file's SHA-256, which WebCrypto
//   cannot compute without the whole file in one ArrayBuffer (512 MiB in memory; no
//   4 GiB at all), so a hand-written flow would need a wasm hasher for it: not bare;
// - "uppy": Uppy 5 (@uppy/core + @uppy/aws-s3, multipart) with hash-wasm SHA-256 + MD5
//   of each segment in a worker, its hooks wired to the v1.1 API (bench/large/uppy-entry.js);
// - the ideas of issue 26 as client options (no library change): "v1.1+w2" (`workers: 2`),
//   "v1.1+nomd5" (`md5: false`, the default since issue 26), "v1.1+w2+nomd5",
//   "v1.1+md5" (`md5: true`, the default before), and the same for v2.1.
// Rounds are interleaved (each round runs every variant once, starting one variant
// later each round); the table gives each variant's median and all runs, the median
// time until its hashing was over (the rest is create + PUTs + complete), and beside
// it the browser's summed RSS growth during the run (bench/proc.mjs, as memory.mjs:
// after a reload, modules loaded and the wasm compiled, 2 s settled). Every upload is
// checked: the SHA-256 of what storage holds must be the file's (openssl), else the
// benchmark fails.
//
// Run: SANDBOX_BIN=target/sandbox/procore-sandbox BENCH_ENGINE=chromium|firefox|webkit \
//        node bench/large-file.mjs [sizes in MiB: 512,4096] [rounds: 3]
// (`cargo build -p procore-sandbox --profile sandbox && scripts/build` first.)
// BENCH_VARIANTS (comma-separated ids, below) picks variants; BENCH_JSON=<file> also
// writes every run as JSON.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as esbuild from "esbuild";
import { ROOT, openWorld, openssl, randomFile, tempDir } from "../tests/e2e/support.mjs";
import { startRssSampling } from "./proc.mjs";

const MIB = 1024 * 1024;
const sizes = (process.argv[2] ?? "512").split(",").map(Number);
const rounds = Number(process.argv[3] ?? 3);
const engine = process.env.BENCH_ENGINE ?? "chromium";
if (!["chromium", "firefox", "webkit"].includes(engine)) throw new Error(`BENCH_ENGINE: unknown engine ${engine}`);
if (sizes.some((mib) => !(mib > 0)) || !(rounds > 0)) throw new Error("usage: node bench/large-file.mjs [MiB,MiB] [rounds]");

/** Every variant by id: what runs in the page (bench/large/bench.js) and its options. */
const VARIANTS = {
  bare: { label: "bare fetch + WebCrypto v1.1 (no MD5)", kind: "bare" },
  // The same, its PUTs by XHR with an upload progress listener (as the library and Uppy
  // send, for progress): what sending by XHR costs against fetch.
  "bare-xhr": { label: "bare XHR + WebCrypto v1.1 (no MD5)", kind: "bare", options: { xhr: true } },
  uppy: { label: "Uppy 5 aws-s3 + hash-wasm v1.1", kind: "uppy" },
  "v1.1": { label: "library v1.1 (defaults)", kind: "library", options: { apiVersion: "v1.1" } },
  "v2.1": { label: "library v2.1 (defaults)", kind: "library", options: { apiVersion: "v2.1" } },
  "v1.1+w2": { label: "library v1.1, workers: 2", kind: "library", clientOptions: { workers: 2 }, options: { apiVersion: "v1.1" } },
  "v1.1+nomd5": { label: "library v1.1, md5: false", kind: "library", options: { apiVersion: "v1.1", md5: false } },
  "v1.1+w2+nomd5": { label: "library v1.1, workers: 2, md5: false", kind: "library", clientOptions: { workers: 2 }, options: { apiVersion: "v1.1", md5: false } },
  "v2.1+w2": { label: "library v2.1, workers: 2", kind: "library", clientOptions: { workers: 2 }, options: { apiVersion: "v2.1" } },
  "v2.1+nomd5": { label: "library v2.1, md5: false", kind: "library", options: { apiVersion: "v2.1", md5: false } },
  "v2.1+w2+nomd5": { label: "library v2.1, workers: 2, md5: false", kind: "library", clientOptions: { workers: 2 }, options: { apiVersion: "v2.1", md5: false } },
  // The defaults before issue 26 (MD5 sent), to measure what turning it off gave.
  "v1.1+md5": { label: "library v1.1, md5: true", kind: "library", options: { apiVersion: "v1.1", md5: true } },
  "v2.1+md5": { label: "library v2.1, md5: true", kind: "library", options: { apiVersion: "v2.1", md5: true } },
};
const ids = (process.env.BENCH_VARIANTS ?? "bare,uppy,v1.1,v2.1").split(",").map((id) => id.trim()).filter(Boolean);
for (const id of ids) if (!VARIANTS[id]) throw new Error(`BENCH_VARIANTS: unknown variant ${id} (known: ${Object.keys(VARIANTS)})`);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const settle = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim();
const commit = () => {
  const head = execFileSync("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  const dirty = execFileSync("git", ["-C", ROOT, "status", "--porcelain", "--", "src", "js", "Cargo.toml", "Cargo.lock"], { encoding: "utf8" }).trim();
  return dirty ? `${head} (src/js changed)` : head;
};

// Uppy for the page, bundled from node_modules (pinned in package.json).
const built = tempDir("bench-large-built");
await esbuild.build({
  entryPoints: [path.join(ROOT, "bench/large/uppy-entry.js")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  outfile: path.join(built, "uppy.js"),
  logLevel: "warning",
});
// esbuild's service is a child of this script: ended, so that it is not counted as the browser's.
await esbuild.stop();

const before = uptime();
// The 1-minute load average every 5 s, to tell a quiet machine from a busy one.
const loads = [];
const loadTimer = setInterval(() => loads.push(os.loadavg()[0]), 5000);
const world = await openWorld("bench-large", ["--processing-delay-ms", "50"], engine, {
  "/large/": path.join(ROOT, "bench/large"),
  "/large-built/": built,
  "/hash-wasm/": path.join(ROOT, "node_modules/hash-wasm/dist"),
});
const runs = [];
try {
  const { dir, sandbox, page } = world;
  for (const mib of sizes) {
    const file = randomFile(dir, `large-${mib}.bin`, mib * MIB);
    const expected = openssl("sha256", file);
    for (let round = 0; round < rounds; round++) {
      // Each round starts one variant later, so that no variant always runs first.
      const order = ids.map((_, i) => ids[(i + round) % ids.length]);
      for (const id of order) {
        const variant = VARIANTS[id];
        const arg = { kind: variant.kind, api: sandbox.api, clientOptions: variant.clientOptions ?? {}, options: variant.options ?? {} };
        await page.reload();
        await page.setInputFiles("#files", [file]);
        await page.evaluate(async (arg) => {
          await import("/large/bench.js");
          await window.largeBench.prepare(arg);
        }, arg);
        await settle(2000);
        const sampling = startRssSampling(200);
        // Started, then polled: one WebDriver call may not last a 4 GiB run (the
        // driver's request timeout is 120 s; WebKit's runs take longer).
        await page.evaluate((arg) => {
          window.largeRun = window.largeBench.run(arg).then(
            (result) => (window.largeDone = { result }),
            (error) => (window.largeDone = { error: String(error?.stack ?? error) }),
          );
        }, arg);
        let done = null;
        while (!(done = await page.evaluate(() => window.largeDone ?? null))) await settle(1000);
        if (done.error) throw new Error(`${id} ${mib} MiB: ${done.error}`);
        const { ms, hashMs, uuid } = done.result;
        const rss = sampling.stop();
        await page.evaluate((arg) => window.largeBench.finish(arg), arg);
        // What storage holds must be the file, byte for byte.
        const stored = (await sandbox.inspect(uuid)).stored?.sha256;
        if (stored !== expected) throw new Error(`${id} ${mib} MiB: storage holds ${stored}, the file is ${expected}`);
        const problems = await world.takeProblems();
        if (problems.length) console.error(`  page problems: ${problems.join(" | ")}`);
        const largest = rss.byProcess.slice(0, 3).map(({ kind, growth }) => `${kind} +${growth.toFixed(0)}`).join(", ");
        console.error(`round ${round + 1} ${id} ${mib} MiB: ${(ms / 1000).toFixed(2)} s (hashing ${(hashMs / 1000).toFixed(2)}), RSS +${rss.growth.toFixed(0)} MiB (${largest}), stored intact`);
        runs.push({ id, mib, round, ms, hashMs, growth: rss.growth, start: rss.start, peak: rss.peak, load: os.loadavg()[0] });
        await sandbox.clearRequests();
      }
    }
  }
} finally {
  clearInterval(loadTimer);
  await world.close();
  fs.rmSync(built, { recursive: true, force: true });
}
const after = uptime();

if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({ engine, version: world.browser.version, runs }, null, 2));
const cpu = os.cpus();
console.log(`${engine} ${world.browser.version}, ${cpu.length} cores (${cpu[0]?.model ?? "?"}), commit ${commit()}, ${new Date().toISOString().slice(0, 16)}Z`);
console.log(`uptime before: ${before}`);
console.log(`uptime after:  ${after}`);
console.log(`1-min load during the run (every 5 s): median ${median(loads.length ? loads : [0]).toFixed(2)}, max ${Math.max(0, ...loads).toFixed(2)}\n`);
for (const mib of sizes) {
  const of = (id) => runs.filter((run) => run.mib === mib && run.id === id);
  const medianMs = (id) => median(of(id).map((run) => run.ms));
  const bareMs = ids.includes("bare") ? medianMs("bare") : null;
  const uppyMs = ids.includes("uppy") ? medianMs("uppy") : null;
  console.log(`${mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`}, median of ${rounds} (MB = 10^6 bytes; × = how many times as fast: the other's time ÷ this one's)\n`);
  console.log("| variant | median s | MB/s | × bare | × Uppy | hashing s (median) | RSS growth MiB (median) | all runs: s (+MiB) |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---|");
  for (const id of ids) {
    const ms = medianMs(id);
    const ratio = (other) => (other ? (other / ms).toFixed(2) : "–");
    const all = of(id).map((run) => `${(run.ms / 1000).toFixed(2)} (+${run.growth.toFixed(0)})`).join(", ");
    console.log(`| ${VARIANTS[id].label} | ${(ms / 1000).toFixed(2)} | ${((mib * MIB) / 1e6 / (ms / 1000)).toFixed(0)} | ${ratio(bareMs)} | ${ratio(uppyMs)} | ${(median(of(id).map((run) => run.hashMs)) / 1000).toFixed(2)} | +${median(of(id).map((run) => run.growth)).toFixed(0)} | ${all} |`);
  }
  console.log("");
}
