// The demo page: uploads a dropped or picked file to the Procore sandbox with the
// npm package's public API, showing live progress.
import { ProcoreClient, hashFile } from "/pkg/index.js";

const $ = (id) => document.getElementById(id);
const config = await (await fetch("config.json")).json();
let controller = null;
let current = null;

function start(file) {
  controller?.abort();
  controller = new AbortController();
  current = file;
  $("cancel").disabled = false;
  $("name").textContent = file.name;
  $("size").textContent = `${file.size.toLocaleString()} bytes`;
  for (const id of ["uuid", "stored-sha256", "sha256", "md5-hex", "speed", "segments", "phase"]) $(id).textContent = "…";
  $("hash-progress").value = 0;
  $("upload-progress").value = 0;
  return controller.signal;
}

function finish(signal, error) {
  if (error) {
    $("status").textContent = signal.aborted ? "cancelled" : `error ${error.code ?? ""}: ${error.message}`;
  } else {
    $("status").textContent = "done";
  }
  if (controller?.signal === signal) $("cancel").disabled = true;
}

function showProgress(p) {
  const fraction = (n) => (p.totalBytes ? n / p.totalBytes : 1);
  $("hash-progress").value = fraction(p.bytesHashed);
  $("upload-progress").value = fraction(p.bytesUploaded);
  $("phase").textContent = p.phase;
  $("segments").textContent = `${p.segmentsDone} of ${p.segmentsTotal}`;
}

async function upload(file) {
  const signal = start(file);
  $("status").textContent = "uploading";
  const started = performance.now();
  try {
    const client = new ProcoreClient({
      companyId: config.companyId,
      accessToken: config.accessToken,
      baseUrl: config.apiUrl,
      apiVersion: $("api-version").value,
      allowInsecureStorage: true, // the sandbox's storage is plain http on 127.0.0.1
    });
    const segmented = { auto: "auto", true: true, false: false }[$("segmented").value];
    const result = await client.upload(file, {
      projectId: $("level").value === "project" ? 42 : undefined,
      segmented,
      md5: $("md5").checked,
      signal,
      onProgress: showProgress,
    });
    const seconds = (performance.now() - started) / 1000;
    $("uuid").textContent = `${result.uuid} (${result.status})`;
    $("speed").textContent = `${(result.size / 1e6 / Math.max(seconds, 1e-6)).toFixed(1)} MB/s (${seconds.toFixed(2)} s)`;
    const record = await (await fetch(`${config.apiUrl}/_sandbox/uploads/${result.uuid}`)).json();
    $("stored-sha256").textContent = record.stored?.sha256 ?? "(nothing stored)";
    for (const id of ["sha256", "md5-hex"]) $(id).textContent = "–";
    finish(signal);
  } catch (error) {
    finish(signal, error);
  }
}

async function hashOnly(file) {
  const signal = start(file);
  $("status").textContent = "hashing";
  const started = performance.now();
  try {
    const result = await hashFile(file, { md5: $("md5").checked, signal, onProgress: showProgress });
    const seconds = (performance.now() - started) / 1000;
    $("sha256").textContent = result.sha256;
    $("md5-hex").textContent = result.md5 ?? "(off)";
    $("speed").textContent = `${(result.size / 1e6 / Math.max(seconds, 1e-6)).toFixed(1)} MB/s (${seconds.toFixed(2)} s)`;
    for (const id of ["uuid", "stored-sha256"]) $(id).textContent = "–";
    finish(signal);
  } catch (error) {
    finish(signal, error);
  }
}

$("file").addEventListener("change", (event) => {
  const [file] = event.target.files;
  if (file) upload(file);
});
$("cancel").addEventListener("click", () => controller?.abort());
$("hash-only").addEventListener("click", () => {
  const file = current ?? $("file").files[0];
  if (file) hashOnly(file);
});

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
  if (file) upload(file);
});
