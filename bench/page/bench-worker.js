// Competitors and the read floor, in a module worker of their own, on the same File
// and with the library's I/O pattern: whole-segment slices, the next one read while
// the current one is processed. Modes: read only; hash-wasm SHA-256 (+ MD5); WebCrypto.
import { createMD5, createSHA256 } from "/hash-wasm/index.esm.js";

self.onmessage = async ({ data }) => {
  const { file, segments, mode } = data;
  const sync = mode === "read-sync" ? new FileReaderSync() : null;
  const read = ([start, end]) => (sync ? sync.readAsArrayBuffer(file.slice(start, end)) : file.slice(start, end).arrayBuffer());
  const started = performance.now();
  let next = segments.length ? read(segments[0]) : null;
  for (let i = 0; i < segments.length; i++) {
    const bytes = await next;
    next = i + 1 < segments.length ? read(segments[i + 1]) : null;
    if (mode === "webcrypto") {
      await crypto.subtle.digest("SHA-256", bytes);
    } else if (mode.startsWith("hash-wasm")) {
      const view = new Uint8Array(bytes);
      const sha = await createSHA256();
      sha.update(view);
      sha.digest();
      if (mode === "hash-wasm-sha256-md5") {
        const md5 = await createMD5();
        md5.update(view);
        md5.digest();
      }
    }
  }
  self.postMessage({ ms: performance.now() - started });
};
