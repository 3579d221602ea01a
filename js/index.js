// procore-upload: the package's main module.
//
// The wasm module loads lazily on the first call (no init() to call), from the
// `.wasm` file next to this one: `new URL(..., import.meta.url)` inside the
// generated loader is a form Vite, webpack and plain <script type="module"> all
// understand.
import init, {
  hashFile as wasmHashFile,
  ignoredNames,
  ProcoreClient as WasmClient,
  useErrorPrototype,
} from "./procore_upload_wasm.js";

const wasmUrl = new URL("./procore_upload_wasm_bg.wasm", import.meta.url);
let loading = null;

/**
 * The one error class of the package: every promise it rejects gives one. `code` is
 * stable; `name` is "AbortError" for ABORTED (as fetch's), else "ProcoreUploadError".
 * The wasm's errors get this prototype once it is loaded; the class itself is here,
 * so that `instanceof` works before that.
 */
export class ProcoreUploadError extends Error {
  /**
   * @param {string} message
   * @param {import("./index.d.ts").ProcoreUploadErrorOptions} options
   */
  constructor(message, { code, cause, ...fields } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = code === "ABORTED" ? "AbortError" : "ProcoreUploadError";
    this.code = code;
    // Only the fields given, as the wasm's errors have them.
    for (const key of ["status", "body", "retryAfterMs", "method", "path", "upload"]) {
      if (fields[key] !== undefined) this[key] = fields[key];
    }
  }
}

/** Compiles the wasm once: the same Module goes to the hashing workers. */
async function compile() {
  if (WebAssembly.compileStreaming) {
    try {
      return await WebAssembly.compileStreaming(fetch(wasmUrl));
    } catch {
      // Served without the application/wasm type: compile from the bytes instead.
    }
  }
  const response = await fetch(wasmUrl);
  if (!response.ok) throw new Error(`GET ${wasmUrl} answered ${response.status}`);
  return WebAssembly.compile(await response.arrayBuffer());
}

/**
 * The error for a wasm that could not be fetched, compiled or instantiated: a
 * ProcoreUploadError of code LOAD, the browser's own error as `cause`.
 */
function loadError(cause) {
  return new ProcoreUploadError(
    `procore-upload could not load ${wasmUrl}: ${cause?.message ?? cause}. ` +
      "Is the .wasm shipped beside index.js, and does the page's Content-Security-Policy " +
      "allow it (connect-src 'self', script-src 'wasm-unsafe-eval')?",
    { code: "LOAD", cause },
  );
}

/** Loads and instantiates the wasm module once; a failed load may be retried. */
function ready() {
  if (!loading) {
    loading = (async () => {
      let module;
      try {
        module = await compile();
        await init({ module_or_path: module });
      } catch (error) {
        throw loadError(error);
      }
      useErrorPrototype(ProcoreUploadError.prototype);
      return module;
    })().catch((error) => {
      loading = null;
      throw error;
    });
  }
  return loading;
}

/** How the client starts hashing workers; null where there are no Workers. */
function workerRuntime(module, workerUrl) {
  if (typeof Worker === "undefined") return null;
  const createWorker = workerUrl
    ? () => new Worker(workerUrl, { type: "module" })
    : // Written literally so that bundlers (Vite, webpack) find and ship the worker.
      () => new Worker(new URL("./hash-worker.js", import.meta.url), { type: "module" });
  return { createWorker, module };
}

/**
 * Uploads files to one Procore company. Options are checked on the first call;
 * bad ones reject it with a ProcoreUploadError of code INVALID_INPUT.
 */
export class ProcoreClient {
  #options;
  #client = null;
  #closed = false;

  /** @param {import("./index.d.ts").ProcoreClientOptions} options */
  constructor(options) {
    this.#options = options;
  }

  async #inner() {
    const module = await ready();
    if (!this.#client) {
      this.#client = new WasmClient(this.#options, workerRuntime(module, this.#options?.workerUrl));
      // Closed before the first call had the wasm ready: closed all the same.
      if (this.#closed) this.#client.close();
    }
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
   * Starts an upload as a handle: pause(), resume(), cancel(), state, status, done.
   * Its state is kept in the client's store (IndexedDB by default) after each part,
   * so that `start(file, { resume: "auto" })` goes on after a reload.
   * @param {Blob} file
   * @param {import("./index.d.ts").StartOptions} [options]
   * @returns {UploadTask}
   */
  start(file, options) {
    return new UploadTask(this.#inner().then((client) => client.start(file, options)));
  }

  /**
   * The kept states of `file` for the scope `options` give (projectId, apiVersion,
   * filename; any other key is INVALID_INPUT): pass one as `start(file, { resume: state })`.
   * @param {Blob} file
   * @param {import("./index.d.ts").FindResumableOptions} [options]
   * @returns {Promise<import("./index.d.ts").UploadState[]>}
   */
  async findResumable(file, options) {
    return (await this.#inner()).findResumable(file, options);
  }

  /**
   * Uploads a tree of files and folders into Procore Documents: folders looked up or
   * made (parents first, each once), files uploaded and attached in place, a name
   * already taken handled as `onExisting` says. Resolves to `{ folders, files }`.
   * @param {FileList | ReadonlyArray<File | import("./index.d.ts").FolderEntry>} entries
   * @param {import("./index.d.ts").UploadFolderOptions} [options]
   * @returns {Promise<import("./index.d.ts").FolderUploadResult>}
   */
  async uploadFolder(entries, options) {
    return (await this.#inner()).uploadFolder(entries, options);
  }

  /**
   * One authenticated call to Procore's API (the client's token, company, retries
   * and typed errors); resolves to the parsed JSON answer, or null when there is none.
   * @param {"GET" | "POST" | "PUT" | "PATCH" | "DELETE"} method
   * @param {string} path e.g. "/rest/v1.0/projects/42/rfis"
   * @param {import("./index.d.ts").RequestOptions} [options]
   * @returns {Promise<unknown>}
   */
  async request(method, path, options) {
    return (await this.#inner()).request(method, path, options);
  }

  /**
   * Uploads, then attaches the upload to the resource `target` names; one progress
   * stream whose "done" comes after the attach step.
   * @param {Blob} file
   * @param {import("./index.d.ts").AttachTarget} target
   * @param {import("./index.d.ts").UploadOptions} [options]
   */
  async uploadAndAttach(file, target, options) {
    return (await this.#inner()).uploadAndAttach(file, target, options);
  }

  /**
   * uploadAndAttach's attach step alone.
   * @param {{ uuid: string }} upload
   * @param {import("./index.d.ts").AttachTarget} target
   * @param {import("./index.d.ts").AttachOptions} [options]
   */
  async attach(upload, target, options) {
    return (await this.#inner()).attach(upload, target, options);
  }

  // Attaching uploads to resources: each takes one options object (ids included;
  // an id as first argument is INVALID_INPUT) and resolves to Procore's parsed answer.
  /** @param {import("./index.d.ts").ProjectFileOptions} options */
  async createProjectFile(options) {
    return (await this.#inner()).createProjectFile(options);
  }

  /** @param {import("./index.d.ts").CompanyFileOptions} options */
  async createCompanyFile(options) {
    return (await this.#inner()).createCompanyFile(options);
  }

  /** @param {import("./index.d.ts").ImageOptions} options */
  async createImage(options) {
    return (await this.#inner()).createImage(options);
  }

  /** @param {import("./index.d.ts").DrawingAreasOptions} options */
  async listDrawingAreas(options) {
    return (await this.#inner()).listDrawingAreas(options);
  }

  /** @param {import("./index.d.ts").DrawingOptions} options */
  async createDrawing(options) {
    return (await this.#inner()).createDrawing(options);
  }

  /** @param {import("./index.d.ts").DrawingUploadOptions} options */
  async createDrawingUpload(options) {
    return (await this.#inner()).createDrawingUpload(options);
  }

  /** @param {import("./index.d.ts").AccidentLogOptions} options */
  async createAccidentLog(options) {
    return (await this.#inner()).createAccidentLog(options);
  }

  /**
   * Hashes a Blob or File segment by segment, as upload() would.
   * @param {Blob} file
   * @param {import("./index.d.ts").HashSegmentsOptions} [options]
   * @returns {Promise<import("./index.d.ts").HashSegmentsResult>}
   */
  async hashSegments(file, options) {
    return (await this.#inner()).hashSegments(file, options);
  }

  /**
   * Stops the client: uploads and calls in progress reject with an AbortError, its
   * hashing workers end, later calls reject with INVALID_INPUT.
   */
  close() {
    this.#closed = true;
    this.#client?.close();
  }
}

/** An upload started by `client.start()`. */
export class UploadTask {
  #task;
  #inner = null;
  /** Settles with the UploadResult, or rejects (AbortError once cancelled). */
  done;

  constructor(task) {
    this.#task = task;
    task.then((inner) => { this.#inner = inner; }, () => {});
    this.done = task.then((inner) => inner.done);
  }

  /** "running", "paused", "done", "failed" or "cancelled". */
  get status() {
    return this.#inner?.status ?? "running";
  }

  /** The upload's state as last saved; null before the first save. */
  get state() {
    return this.#inner?.state ?? null;
  }

  /** Stops sending; resolves once no request of this upload is in flight. */
  async pause() {
    return (await this.#task).pause();
  }

  /**
   * Goes on after pause(), sending only the parts not stored yet. Resolves once it
   * sends again (or is done); rejects as `done` does if it fails or is cancelled first.
   */
  async resume() {
    const inner = await this.#task;
    if (!(await inner.resume())) await inner.done;
  }

  /** Stops for good: `done` rejects with an AbortError, the kept state is deleted. */
  async cancel() {
    return (await this.#task).cancel();
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

/** `name` with ASCII letters in lower case: ignored names match whatever the case of
 * their ASCII letters, as uploadFolder matches them (core::folders::plan::is_ignored). */
function asciiLower(name) {
  return name.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/** A callback-style FileSystem API call as a promise; its failure a FILE_READ. */
function fileSystemCall(call, path) {
  return new Promise(call).catch((cause) => {
    throw new ProcoreUploadError(
      `could not read the file: ${path}: ${cause?.name ?? "Error"}: ${cause?.message ?? cause}`,
      { code: "FILE_READ", cause },
    );
  });
}

/**
 * The files and folders of a drop, as uploadFolder takes them: `{ file, path }` for
 * each file and `{ path, directory: true }` for each empty folder, walking dropped
 * folders (every batch of readEntries), leaving out .DS_Store, Thumbs.db and
 * desktop.ini (or the names `options.ignore` gives; `[]`: none).
 * Call it inside the drop event's handler: the browser empties `dataTransfer` once
 * the handler returns, so what it holds is taken before this function first waits.
 * @param {DataTransfer} dataTransfer
 * @param {import("./index.d.ts").EntriesOptions} [options]
 * @returns {Promise<import("./index.d.ts").FolderEntry[]>}
 */
export async function entriesFromDataTransfer(dataTransfer, options) {
  const roots = [];
  const items = dataTransfer?.items;
  if (items && typeof items.length === "number") {
    for (const item of Array.from(items)) {
      if (item.kind !== "file") continue;
      // Both now: neither can be had once the handler has returned. A dropped file is
      // taken as getAsFile() gives it (WebKit's entry of a file it did not read from
      // disk, one put in a DataTransfer by script, cannot be read).
      const entry = item.webkitGetAsEntry?.();
      const file = item.getAsFile();
      if (entry || file) roots.push({ entry, file });
    }
  } else if (dataTransfer?.files && typeof dataTransfer.files.length === "number") {
    for (const file of Array.from(dataTransfer.files)) roots.push({ entry: null, file });
  } else {
    throw new ProcoreUploadError(
      "invalid input: dataTransfer must be a DataTransfer (a drop event's, with items or files)",
      { code: "INVALID_INPUT" },
    );
  }
  await ready();
  const ignore = ignoredNames(options).map(asciiLower);
  const ignored = (name) => ignore.includes(asciiLower(name));
  const entries = [];
  // Whether `entry` is kept: a folder is, with its files or as an empty folder.
  async function walk(entry) {
    if (ignored(entry.name)) return;
    const path = entry.fullPath.replace(/^\/+/, "");
    if (entry.isFile) {
      entries.push({ file: await fileSystemCall((ok, fail) => entry.file(ok, fail), path), path });
      return;
    }
    if (!entry.isDirectory) return;
    const at = entries.length;
    const reader = entry.createReader();
    // readEntries gives a folder's entries in batches (100 at a time in Chromium)
    // until an empty one.
    for (;;) {
      const batch = await fileSystemCall((ok, fail) => reader.readEntries(ok, fail), path);
      if (batch.length === 0) break;
      for (const child of batch) await walk(child);
    }
    if (entries.length === at) entries.push({ path, directory: true });
  }
  for (const { entry, file } of roots) {
    if (entry?.isDirectory || !file) await walk(entry);
    else if (!ignored(file.name)) entries.push({ file, path: file.name });
  }
  return entries;
}
