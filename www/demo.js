// The demo page: hashes a picked or dropped file with the npm package's public API.
import { hashFile } from "/pkg/index.js";

const $ = (id) => document.getElementById(id);
let controller = null;

async function run(file) {
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  $("cancel").disabled = false;
  $("name").textContent = file.name;
  $("size").textContent = `${file.size.toLocaleString()} bytes`;
  for (const id of ["sha256", "md5-hex", "speed"]) $(id).textContent = "…";
  $("status").textContent = "hashing";
  const started = performance.now();
  try {
    const result = await hashFile(file, {
      md5: $("md5").checked,
      signal,
      onProgress: (p) => {
        $("progress").value = p.totalBytes ? p.bytesHashed / p.totalBytes : 1;
      },
    });
    const seconds = (performance.now() - started) / 1000;
    $("sha256").textContent = result.sha256;
    $("md5-hex").textContent = result.md5 ?? "(off)";
    $("speed").textContent = `${(result.size / 1e6 / Math.max(seconds, 1e-6)).toFixed(1)} MB/s (${seconds.toFixed(2)} s)`;
    $("status").textContent = "done";
  } catch (error) {
    if (signal.aborted) {
      $("status").textContent = "cancelled";
    } else {
      $("status").textContent = `error ${error.code ?? ""}: ${error.message}`;
    }
    for (const id of ["sha256", "md5-hex", "speed"]) $(id).textContent = "–";
  } finally {
    if (controller?.signal === signal) $("cancel").disabled = true;
  }
}

$("file").addEventListener("change", (event) => {
  const [file] = event.target.files;
  if (file) run(file);
});
$("cancel").addEventListener("click", () => controller?.abort());

const drop = $("drop");
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const [file] = event.dataTransfer.files;
  if (file) run(file);
});
