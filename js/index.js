// procore-upload: the package's main module.
//
// The wasm module loads lazily on the first call (no init() to call), from the
// `.wasm` file next to this one: `new URL(..., import.meta.url)` inside the
// generated loader is a form Vite, webpack and plain <script type="module"> all
// understand.
import init, { hashFile as wasmHashFile } from "./procore_upload_wasm.js";

let loading = null;

/** Loads and instantiates the wasm module once; a failed load may be retried. */
function ready() {
  if (!loading) {
    loading = init().catch((error) => {
      loading = null;
      throw error;
    });
  }
  return loading;
}

/**
 * Hashes a Blob or File in slices: SHA-256 and (unless `md5: false`) MD5 in one pass.
 * @param {Blob} file
 * @param {import("./index.d.ts").HashFileOptions} [options]
 * @returns {Promise<import("./index.d.ts").HashFileResult>}
 */
export async function hashFile(file, options) {
  await ready();
  return wasmHashFile(file, options);
}
