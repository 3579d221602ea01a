// The hashing of the two hand-written competitors in bench/large-file.mjs, in one
// module worker each (as the library's default is one worker), on the picked File,
// segment by segment:
// - "webcrypto" (the bare flow): each segment read whole with slice().arrayBuffer()
//   and digested by crypto.subtle.digest("SHA-256"), `ahead` segments in flight at
//   once (reads and digests overlap, the digests run in native code off this thread);
// - "hash-wasm" (the Uppy flow): SHA-256 and MD5 of each segment by hash-wasm, the next
//   segment read while this one is hashed (hash-wasm is synchronous, so more reads
//   ahead would only hold more memory).
// Replies { segments: [{ size, sha256, md5? }] } in file order, or { error }.
import { createMD5, createSHA256 } from "/hash-wasm/index.esm.js";

const hex = (buffer) => Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");

async function webcrypto(file, segment, ahead) {
  const count = Math.max(1, Math.ceil(file.size / segment));
  const segments = new Array(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      const bytes = await file.slice(index * segment, Math.min((index + 1) * segment, file.size)).arrayBuffer();
      segments[index] = { size: bytes.byteLength, sha256: hex(await crypto.subtle.digest("SHA-256", bytes)) };
    }
  };
  await Promise.all(Array.from({ length: ahead }, lane));
  return segments;
}

async function hashWasm(file, segment) {
  const count = Math.max(1, Math.ceil(file.size / segment));
  const [sha256, md5] = await Promise.all([createSHA256(), createMD5()]);
  const read = (index) => file.slice(index * segment, Math.min((index + 1) * segment, file.size)).arrayBuffer();
  const segments = [];
  let pending = read(0);
  for (let index = 0; index < count; index++) {
    const bytes = new Uint8Array(await pending);
    pending = index + 1 < count ? read(index + 1) : null;
    sha256.init();
    sha256.update(bytes);
    md5.init();
    md5.update(bytes);
    segments.push({ size: bytes.byteLength, sha256: sha256.digest("hex"), md5: md5.digest("hex") });
  }
  return segments;
}

self.onmessage = async ({ data: { file, segment, mode, ahead } }) => {
  try {
    const segments = mode === "webcrypto" ? await webcrypto(file, segment, ahead) : await hashWasm(file, segment);
    self.postMessage({ segments });
  } catch (error) {
    self.postMessage({ error: String(error?.message ?? error) });
  }
};
