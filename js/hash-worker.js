// A hashing worker: instantiates the wasm module compiled once by the main thread,
// then hashes byte ranges of the File it is given, reading its own slices.
// Started by index.js as new Worker(new URL("./hash-worker.js", import.meta.url), { type: "module" }).
import { initSync, hashJob } from "./procore_upload_wasm.js";

let wasm = null;
/** Bytes of wasm memory now (reported for benchmarks: it must stay bounded). */
const wasmBytes = () => wasm?.memory?.buffer.byteLength ?? 0;

self.onmessage = ({ data }) => {
  if (data.type === "init") {
    // Synchronous, so that a failure is an error event at the page before "ready":
    // the pool tells a worker that never started from one that crashed by it.
    wasm = initSync({ module: data.module });
    self.postMessage({ type: "ready" });
    return;
  }
  if (data.type === "job") runJob(data);
};

async function runJob(data) {
  const { id } = data;
  let reported = 0;
  let last = 0;
  try {
    const result = await hashJob(data.file, data.ranges, data.md5, data.chunkSize, data.whole, (bytes) => {
      // At least every 64 MiB or 250 ms, and at the end.
      const now = performance.now();
      if (bytes - reported >= 64 * 1024 * 1024 || now - last >= 250) {
        reported = bytes;
        last = now;
        self.postMessage({ type: "progress", id, bytes, wasmBytes: wasmBytes() });
      }
    });
    self.postMessage({ type: "done", id, segments: result.segments, whole: result.whole, wasmBytes: wasmBytes() });
  } catch (error) {
    const failure = { type: "error", id, code: error?.code ?? "WORKER", message: String(error?.message ?? error) };
    try {
      // The cause (a DOMException, say) goes along where it can be cloned.
      self.postMessage({ ...failure, cause: error?.cause });
    } catch {
      self.postMessage(failure);
    }
  }
}
