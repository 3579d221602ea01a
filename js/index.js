// procore-upload: the package's main module.
//
// The wasm module loads lazily on the first call (no init() to call), from the
// `.wasm` file next to this one: `new URL(..., import.meta.url)` inside the
// generated loader is a form Vite, webpack and plain <script type="module"> all
// understand.
import init, { hashFile as wasmHashFile, ProcoreClient as WasmClient } from "./procore_upload_wasm.js";

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
 * Uploads files to one Procore company. Options are checked on the first call;
 * bad ones reject it with a ProcoreUploadError of code INVALID_INPUT.
 */
export class ProcoreClient {
  #options;
  #client = null;

  /** @param {import("./index.d.ts").ProcoreClientOptions} options */
  constructor(options) {
    this.#options = options;
  }

  async #inner() {
    await ready();
    if (!this.#client) this.#client = new WasmClient(this.#options);
    return this.#client;
  }

  /**
   * Uploads a Blob or File to Procore storage.
   * @param {Blob} file
   * @param {import("./index.d.ts").UploadOptions} [options]
   * @returns {Promise<import("./index.d.ts").UploadResult>}
   */
  async upload(file, options) {
    return (await this.#inner()).upload(file, options);
  }

  /**
   * Hashes a Blob or File segment by segment, as upload() would.
   * @param {Blob} file
   * @param {import("./index.d.ts").HashSegmentsOptions} [options]
   * @returns {Promise<import("./index.d.ts").HashSegmentsResult>}
   */
  async hashFile(file, options) {
    return (await this.#inner()).hashFile(file, options);
  }
}

/**
 * Hashes a whole Blob or File in slices: SHA-256 and (unless `md5: false`) MD5 in one pass.
 * @param {Blob} file
 * @param {import("./index.d.ts").HashFileOptions} [options]
 * @returns {Promise<import("./index.d.ts").HashFileResult>}
 */
export async function hashFile(file, options) {
  await ready();
  return wasmHashFile(file, options);
}
