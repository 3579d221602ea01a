// Batch speed: 20 files × 50 MB through ONE ProcoreClient (default limits: 6 storage
// requests, 3 uploads sending, workers hashing the next files meanwhile) against the
// sandbox, beside the upload-only floor: the same bytes sent by bare fetch() form
// POSTs (Create Upload, then the POST; no hashing, 6 at a time) in the same run.
// Goal: the batch at ≥ 0.9× the floor. Run: node bench/batch.mjs [rounds] [files] [MB]
import { openWorld, randomFile } from "../tests/e2e/support.mjs";

const rounds = Number(process.argv[2] ?? 3);
const count = Number(process.argv[3] ?? 20);
const megabytes = Number(process.argv[4] ?? 50);
const size = megabytes * 1_000_000;

const world = await openWorld("bench-batch", ["--processing-delay-ms", "50"]);
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

  const floor = () => page.evaluate(async ({ api }) => {
    const picked = [...document.getElementById("files").files];
    const headers = { Authorization: "Bearer sandbox-token", "Procore-Company-Id": "7", "Content-Type": "application/json" };
    const started = performance.now();
    let next = 0;
    const lane = async () => {
      while (next < picked.length) {
        const file = picked[next++];
        const created = await (await fetch(`${api}/rest/v1.1/companies/7/uploads`, {
          method: "POST", headers, body: JSON.stringify({ response_filename: file.name, size: file.size }),
        })).json();
        const form = new FormData();
        for (const [name, value] of Object.entries(created.fields)) form.append(name, value);
        form.append("file", file, file.name);
        const stored = await fetch(created.url, { method: "POST", body: form });
        if (!stored.ok) throw new Error(`floor POST: ${stored.status}`);
      }
    };
    await Promise.all(Array.from({ length: 6 }, lane));
    return performance.now() - started;
  }, { api: sandbox.api });

  const runs = { floor: [], "v1.1 segmented": [], "v2.1": [] };
  for (let round = 0; round < rounds; round++) {
    runs.floor.push(await floor());
    runs["v1.1 segmented"].push(await library("v1.1"));
    runs["v2.1"].push(await library("v2.1"));
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const mbps = (ms) => (count * size) / 1e6 / (ms / 1000);
  const floorMs = median(runs.floor);
  console.log(`${count} files × ${megabytes} MB, median of ${rounds} rounds (MB = 10^6 bytes)\n`);
  console.log("| variant | median | MB/s | ÷ floor | all runs (s) |");
  console.log("|---|---:|---:|---:|---|");
  for (const [name, values] of Object.entries(runs)) {
    const ms = median(values);
    console.log(`| ${name} | ${(ms / 1000).toFixed(2)} s | ${mbps(ms).toFixed(0)} | ${(floorMs / ms).toFixed(2)} | ${values.map((v) => (v / 1000).toFixed(2)).join(" ")} |`);
  }
} finally {
  await world.close();
}
