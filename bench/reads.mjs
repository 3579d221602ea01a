// Memory and speed of ways to read a File's segments in workers (bench/reads/): summed
// RSS growth of the browser's processes (bench/proc.mjs) and MB/s, 2 workers, 16 MiB
// segments. Run: node bench/reads.mjs [MiB, default 1024] [modes, comma-separated]
// (BENCH_ENGINE: chromium, firefox or webkit; BYOB reads need Chromium or Firefox).
import path from "node:path";
import { launch } from "../tests/e2e/browsers.mjs";
import { randomFile, serve, tempDir, ROOT } from "../tests/e2e/support.mjs";
import { startRssSampling } from "./proc.mjs";
import fs from "node:fs";

const mib = Number(process.argv[2] ?? 1024);
const modes = (process.argv[3] ?? "idle,read1,read4,read4-digest,byob1,byob1-digest,byob2-digest").split(",");
const engine = process.env.BENCH_ENGINE ?? "chromium";
const dir = tempDir("bench-reads");
const server = await serve({ "/": path.join(ROOT, "bench/reads") });
const { page, close } = await launch(engine);
try {
  const file = randomFile(dir, "reads.bin", mib * 1024 * 1024);
  console.log(`${engine}, ${mib} MiB file, 2 workers, 16 MiB segments\n`);
  console.log("| mode | s | MB/s | RSS growth (MiB) |\n|---|---:|---:|---:|");
  for (const mode of modes) {
    await page.goto(`${server.url}/index.html`);
    await page.setInputFiles("#files", [file]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const sampling = startRssSampling(100);
    const ms = await page.evaluate(({ mode }) => window.runMode(mode, 2, 16 * 1024 * 1024), { mode });
    const { growth } = sampling.stop();
    const mbps = mode === "idle" ? "" : ((mib * 1.048576) / (ms / 1000)).toFixed(0);
    console.log(`| ${mode} | ${(ms / 1000).toFixed(2)} | ${mbps} | +${growth.toFixed(0)} |`);
  }
} finally {
  await close();
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
