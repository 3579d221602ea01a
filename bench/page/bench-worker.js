// Competitors and the read floor, in a module worker of their own, on the same File
// and the I/O pattern the library used before 2026-11-24: segments read four at a time (whole-segment
// slices). Modes: read only; hash-wasm SHA-256 (+ MD5); WebCrypto SHA-256.
import { createMD5, createSHA256 } from "/hash-wasm/index.esm.js";

self.onmessage = async ({ data }) => {
  const { file, segments, mode } = data;
  const sync = mode === "read-sync" ? new FileReaderSync() : null;
  const read = ([start, end]) => (sync ? sync.readAsArrayBuffer(file.slice(start, end)) : file.slice(start, end).arrayBuffer());
  const started = performance.now();
  for (let i = 0; i < segments.length; i += 4) {
    const group = await Promise.all(segments.slice(i, i + 4).map(read));
    if (mode === "webcrypto") {
      await Promise.all(group.map((bytes) => crypto.subtle.digest("SHA-256", bytes)));
    } else if (mode.startsWith("hash-wasm")) {
      for (const bytes of group) {
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
  }
  self.postMessage({ ms: performance.now() - started });
};
