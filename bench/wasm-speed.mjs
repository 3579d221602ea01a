// The wasm's own hashing speed, in Node, for several builds side by side:
//   node bench/wasm-speed.mjs [--rounds 7] [--size-mib 256] PKG_DIR...
// Each PKG_DIR is a built package (procore_upload_wasm.js and its .wasm; scripts/build
// makes pkg/). One in-memory Blob of random bytes; rounds run every variant of every
// build in turn, so that a shared machine's drifts spread over all of them; prints each
// one's median MB/s (MB = 10^6 bytes) and checks that all builds give the same digests.
// No browser and no disk: what it compares is the code inside the .wasm (compiler and
// wasm-opt settings, bench/RESULTS.md "Package size"); bench/hash.mjs measures the
// library as pages use it.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const [, value] = args.splice(at, 2);
  return Number(value);
};
const ROUNDS = option("rounds", 7);
const MiB = 1024 * 1024;
const SIZE = option("size-mib", 256) * MiB;
if (args.length === 0) throw new Error("usage: node bench/wasm-speed.mjs [--rounds N] [--size-mib N] PKG_DIR...");
// Above the largest segment a worker reads whole for WebCrypto, so that one range streams.
if (SIZE <= 64 * MiB) throw new Error("--size-mib must be above 64");

const blob = new Blob([crypto.randomBytes(SIZE)]);
const builds = [];
for (const dir of args) {
  // A query per build: each gets its own copy of the loader and so its own instance.
  const loader = await import(`${pathToFileURL(path.resolve(dir, "procore_upload_wasm.js")).href}?${builds.length}`);
  loader.initSync({ module: fs.readFileSync(path.join(dir, "procore_upload_wasm_bg.wasm")) });
  builds.push({ dir, loader });
}

// [start, end, …] of `segment`-byte ranges over the Blob.
const ranges = (segment) => {
  const flat = [];
  for (let start = 0; start < SIZE; start += segment) flat.push(start, Math.min(SIZE, start + segment));
  return flat;
};
const variants = {
  // What a hashing worker runs: 16 MiB segments, WebCrypto SHA-256 beside wasm MD5.
  "worker job, 16 MiB segments (WebCrypto SHA-256 + wasm MD5)": (w) =>
    w.hashJob(blob, ranges(16 * MiB), true, 4 * MiB, false, () => {}),
  // One range above WebCrypto's limit: wasm SHA-256 (sha2) and MD5 (md-5) streaming.
  "worker job, one range (wasm SHA-256 + MD5)": (w) => w.hashJob(blob, ranges(SIZE), true, 4 * MiB, false, () => {}),
  "worker job, one range (wasm SHA-256, MD5 off)": (w) => w.hashJob(blob, ranges(SIZE), false, 4 * MiB, false, () => {}),
  // hashFile without workers: the calling thread, 1 MiB reads.
  "hashFile (calling thread, SHA-256 + MD5)": (w) => w.hashFile(blob, { md5: true }),
};

const runs = new Map();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(variants)) {
    for (const build of builds) {
      const started = performance.now();
      const result = await run(build.loader);
      const ms = performance.now() - started;
      const key = `${name}\n${build.dir}`;
      if (!runs.has(key)) runs.set(key, { ms: [], result: JSON.stringify(result) });
      runs.get(key).ms.push(ms);
    }
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mbps = (ms) => (SIZE / 1e6 / (ms / 1000)).toFixed(0);
let differ = false;
for (const name of Object.keys(variants)) {
  console.log(name);
  for (const build of builds) {
    const { ms } = runs.get(`${name}\n${build.dir}`);
    console.log(`  ${mbps(median(ms)).padStart(5)} MB/s  ${build.dir}  (${ms.map(mbps).join(" ")})`);
  }
  if (new Set(builds.map((b) => runs.get(`${name}\n${b.dir}`).result)).size > 1) {
    console.log("  the builds' digests differ");
    differ = true;
  }
}
if (differ) process.exit(1);
