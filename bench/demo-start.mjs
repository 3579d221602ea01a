// How long the README's demo command takes to serve the portal (issue 25): runs
// `scripts/demo` (PORT=0: a free port) `rounds` times and reports, for each, the
// seconds until it prints its `demo:` line and until the portal in headless Chromium
// says it is ready (context read, uploader configured, destination listed).
// Run: node bench/demo-start.mjs [rounds, 3]. Warm: everything built once before.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launch } from "../tests/e2e/browsers.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const rounds = Number(process.argv[2] ?? 3);
const browser = await launch("chromium");
const rows = [];
try {
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const demo = spawn(path.join(ROOT, "scripts/demo"), [], {
      env: { ...process.env, PORT: "0" },
      stdio: ["ignore", "pipe", "inherit"],
      detached: true,
    });
    const url = await new Promise((resolve, reject) => {
      demo.once("exit", (code) => reject(new Error(`scripts/demo exited with ${code}`)));
      let seen = "";
      demo.stdout.on("data", (chunk) => {
        seen += chunk;
        const match = /^demo: (\S+)/m.exec(seen);
        if (match) resolve(match[1]);
      });
    });
    const served = (performance.now() - started) / 1000;
    await browser.page.goto(url);
    await browser.page.waitForFunction(() => document.documentElement.dataset.ready === "true");
    const ready = (performance.now() - started) / 1000;
    rows.push({ served, ready });
    console.log(`round ${round + 1}: demo: line after ${served.toFixed(1)} s, portal ready after ${ready.toFixed(1)} s`);
    demo.removeAllListeners("exit");
    const exited = new Promise((resolve) => demo.once("exit", resolve));
    process.kill(-demo.pid, "SIGTERM");
    await exited;
  }
} finally {
  await browser.close();
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`median: demo: line ${median(rows.map((r) => r.served)).toFixed(1)} s, ready ${median(rows.map((r) => r.ready)).toFixed(1)} s`);
