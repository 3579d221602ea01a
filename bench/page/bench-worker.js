// Competitors and the read floor, in a module worker of their own, on the same File,
// slices and segments as the library: read only; hash-wasm SHA-256 (+ MD5); WebCrypto.
import { createMD5, createSHA256 } from "/hash-wasm/index.esm.js";

self.onmessage = async ({ data }) => {
  const { file, segments, chunk, mode } = data;
  const started = performance.now();
  for (const [start, end] of segments) {
    if (mode === "webcrypto") {
      // One-shot: the whole segment in memory.
      const bytes = await file.slice(start, end).arrayBuffer();
      await crypto.subtle.digest("SHA-256", bytes);
      continue;
    }
    const sha = mode.startsWith("hash-wasm") ? await createSHA256() : null;
    const md5 = mode === "hash-wasm-sha256-md5" ? await createMD5() : null;
    for (let at = start; at < end; at += chunk) {
      const bytes = new Uint8Array(await file.slice(at, Math.min(at + chunk, end)).arrayBuffer());
      sha?.update(bytes);
      md5?.update(bytes);
    }
    sha?.digest();
    md5?.digest();
  }
  self.postMessage({ ms: performance.now() - started });
};
