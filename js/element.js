// procore-upload/element: <procore-uploader>, a drop-in upload queue (issue 24).
//
// Framework-free, built only on the package's public API (./index.js): each file is
// a task of the given client (`client.start(file, { resume: "auto", … })`), its
// upload attached to `target` afterwards with the matching create* call. Rendering
// never uses innerHTML: every name, size and message from the user or the network is
// set as text. Styles come from one constructable stylesheet (adoptedStyleSheets),
// so a page under `style-src 'self'` needs no 'unsafe-inline'; the bars are
// <progress> elements, so no style is ever set on an element.
import { entriesFromDataTransfer, ProcoreUploadError } from "./index.js";

/** Every visible text, in English; `strings` overrides any of them ({name}: filled in). */
export const DEFAULT_STRINGS = {
  dropzone: "Drop files here or choose files",
  dropzoneFolders: "Drop files or folders here, or choose a folder",
  dropzoneDisabled: "Uploads are turned off",
  fileList: "Files to upload",
  pause: "Pause {name}",
  resume: "Resume {name}",
  cancel: "Cancel {name}",
  retry: "Retry {name}",
  progressOf: "Progress of {name}",
  pauseAll: "Pause all",
  resumeAll: "Resume all",
  cancelAll: "Cancel all",
  clear: "Clear finished",
  phaseWaiting: "Waiting",
  phaseQueued: "Waiting",
  phaseHashing: "Checking the file",
  phaseCreating: "Preparing",
  phaseUploading: "Uploading",
  phaseCompleting: "Finishing",
  phaseProcessing: "Procore is processing it",
  phaseAttaching: "Adding it to Procore",
  phaseDone: "Uploaded",
  phasePaused: "Paused",
  phaseFailed: "Failed",
  phaseCancelled: "Cancelled",
  speed: "{speed}/s",
  timeLeft: "{time} left",
  summary: "{done} of {total} uploaded",
  summaryFailed: "{failed} failed",
  summaryEmpty: "No files yet",
  announceProgress: "{done} of {total} files uploaded, {percent} %",
  announceDone: "{name} uploaded",
  announceFailed: "{name} failed: {message}",
  announceQueueComplete: "All uploads finished: {succeeded} uploaded, {failed} failed",
  rejectedTooMany: "Too many files: {count} left out (at most {max})",
  rejectedTooLarge: "Too large: {names} (at most {max})",
  rejectedNotAccepted: "Not accepted here: {names}",
  errorDetails: "Code {code}",
  errorDetailsStatus: "Code {code}, HTTP {status}",
  errorNoClient: "The uploader is not connected to Procore (no client).",
  errorINVALID_INPUT: "The upload could not start: its settings are not valid.",
  errorHTTP: "Procore refused the request.",
  errorServer: "Procore had a problem and did not answer. Try again in a moment.",
  errorNETWORK: "The connection was lost. Check the network and try again.",
  errorEXPIRED: "The storage refused the file: its link expired and could not be renewed.",
  errorMISSING_ETAG: "The storage did not confirm a part of the file.",
  errorACCESS_TOKEN: "Signing in to Procore failed.",
  errorUNAUTHORIZED: "Procore did not accept the sign-in. Sign in again, then retry.",
  errorRATE_LIMITED: "Procore is busy. Wait a moment, then retry.",
  errorPROTOCOL: "Procore answered in a way the uploader did not expect.",
  errorPROCESSING_FAILED: "Procore could not process the file.",
  errorTIMEOUT: "Procore took too long to process the file.",
  errorFILE_READ: "The file could not be read: it may have been moved or changed.",
  errorWORKER: "The browser could not check the file.",
  errorSTORE: "The upload's progress could not be saved in the browser.",
  errorLOAD: "The uploader could not load. Reload the page.",
  errorNAME_TAKEN: "A file of that name is already there.",
  errorOther: "The upload failed.",
};

/** The dark theme's colours: by `prefers-color-scheme` or `theme="dark"`. */
const DARK = `
  --procore-uploader-bg: #1c1c20;
  --procore-uploader-fg: #ececf1;
  --procore-uploader-muted: #a9a9b5;
  --procore-uploader-border: #4a4a55;
  --procore-uploader-accent: #ff8a5c;
  --procore-uploader-accent-fg: #1c1c20;
  --procore-uploader-track: #3a3a44;
  --procore-uploader-error: #ffb4ab;
  --procore-uploader-success: #7fd99a;
  --procore-uploader-focus: #a8c7fa;
`;
const CSS = `
:host {
  --procore-uploader-font: system-ui, sans-serif;
  --procore-uploader-bg: #ffffff;
  --procore-uploader-fg: #1d1d1f;
  --procore-uploader-muted: #5c5c66;
  --procore-uploader-border: #c9c9d1;
  --procore-uploader-accent: #c4401c;
  --procore-uploader-accent-fg: #ffffff;
  --procore-uploader-track: #e6e6ec;
  --procore-uploader-error: #b3261e;
  --procore-uploader-success: #1e7b34;
  --procore-uploader-focus: #0b57d0;
  --procore-uploader-radius: 6px;
  --procore-uploader-gap: 8px;
  display: block;
  box-sizing: border-box;
  max-width: 100%;
  font: 14px/1.4 var(--procore-uploader-font);
  color: var(--procore-uploader-fg);
  background: var(--procore-uploader-bg);
}
@media (prefers-color-scheme: dark) {
  :host(:not([theme="light"])) {${DARK}}
}
:host([theme="dark"]) {${DARK}}
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: inherit; }
[hidden] { display: none !important; }
button {
  font: inherit;
  color: inherit;
  background: transparent;
  border: 1px solid var(--procore-uploader-border);
  border-radius: var(--procore-uploader-radius);
  padding: 4px 10px;
  cursor: pointer;
  /* A button names its file ("Retry <a 200-character name>"): one line, cut with an
     ellipsis rather than wider than the element (its accessible name stays whole). */
  max-width: 100%;
  white-space: nowrap;
  overflow: hidden;
  text-overflow: ellipsis;
}
button:focus-visible { outline: 2px solid var(--procore-uploader-focus); outline-offset: 2px; }
button:disabled { cursor: not-allowed; opacity: 0.6; }
.dropzone {
  display: block;
  width: 100%;
  padding: 24px 12px;
  border: 2px dashed var(--procore-uploader-border);
  text-align: center;
  white-space: normal;
  overflow-wrap: anywhere;
}
.dropzone.over { border-color: var(--procore-uploader-accent); }
.list { list-style: none; margin: var(--procore-uploader-gap) 0 0; padding: 0; }
.file {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 4px var(--procore-uploader-gap);
  padding: var(--procore-uploader-gap) 0;
  border-bottom: 1px solid var(--procore-uploader-border);
  min-width: 0;
}
.name { flex: 1 1 12em; min-width: 0; font-weight: 600; overflow-wrap: anywhere; }
.size, .status, .details { color: var(--procore-uploader-muted); }
.progress { flex: 1 1 100%; }
.bar {
  display: block;
  width: 100%;
  height: 6px;
  appearance: none;
  border: 0;
  border-radius: 3px;
  background: var(--procore-uploader-track);
  color: var(--procore-uploader-accent);
}
.bar::-webkit-progress-bar { background: var(--procore-uploader-track); border-radius: 3px; }
.bar::-webkit-progress-value { background: var(--procore-uploader-accent); border-radius: 3px; }
.bar::-moz-progress-bar { background: var(--procore-uploader-accent); border-radius: 3px; }
.file[data-state="done"] .bar { color: var(--procore-uploader-success); }
.file[data-state="done"] .bar::-webkit-progress-value { background: var(--procore-uploader-success); }
.file[data-state="done"] .bar::-moz-progress-bar { background: var(--procore-uploader-success); }
.status { flex: 1 1 auto; min-width: 0; overflow-wrap: anywhere; }
.file[data-state="failed"] .status, .message { color: var(--procore-uploader-error); }
.file[data-state="done"] .status { color: var(--procore-uploader-success); }
.message, .details { flex: 1 1 100%; overflow-wrap: anywhere; }
.actions { display: flex; gap: 4px; min-width: 0; max-width: 100%; }
.actions button { flex: 0 1 auto; min-width: 0; }
.summary {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 4px var(--procore-uploader-gap);
  padding-top: var(--procore-uploader-gap);
}
.summary-text { flex: 1 1 10em; min-width: 0; }
.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip-path: inset(50%);
  white-space: nowrap;
}
`;

let sheet = null;
/** The one stylesheet every instance adopts (made on first use: none outside a browser). */
function styleSheet() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  }
  return sheet;
}

/** `text` with each {key} replaced by `values[key]` (as text). */
function fill(text, values) {
  return String(text).replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

/** Whether `file` matches an `accept` list (".pdf", "image/*", "application/pdf"). */
function accepts(accept, file) {
  const tokens = accept.split(",").map((t) => t.trim().toLowerCase()).filter(Boolean);
  if (tokens.length === 0) return true;
  const name = file.name.toLowerCase();
  const type = (file.type || "").toLowerCase();
  return tokens.some((token) =>
    token.startsWith(".")
      ? name.endsWith(token)
      : token.endsWith("/*")
        ? type.startsWith(token.slice(0, -1))
        : type === token,
  );
}

/** The attribute as a non-negative number, or null when absent or not one. */
function numberAttribute(element, name) {
  const value = element.getAttribute(name);
  if (value === null || value.trim() === "") return null;
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 ? number : null;
}

const ACTIVE = new Set(["waiting", "running", "paused"]);
const PHASE_KEYS = {
  queued: "phaseQueued",
  hashing: "phaseHashing",
  creating: "phaseCreating",
  uploading: "phaseUploading",
  completing: "phaseCompleting",
  processing: "phaseProcessing",
  attaching: "phaseAttaching",
  done: "phaseDone",
};
const PROGRESS_ANNOUNCE_MS = 5000;

/** HTMLElement where there is one (importing the module outside a browser is harmless). */
const Base = globalThis.HTMLElement ?? class {};

export class ProcoreUploader extends Base {
  static get observedAttributes() {
    return ["accept", "directory", "disabled"];
  }

  #client = null;
  #target = null;
  #uploadOptions = {};
  #strings = { ...DEFAULT_STRINGS };
  #rows = [];
  #dirty = new Set();
  #frame = 0;
  #batch = { succeeded: 0, failed: 0, settled: 0 };
  #lastAnnounce = 0;
  #announceTimer = 0;
  #nodes;
  #early = [];

  constructor() {
    super();
    // Set on the element before this module upgraded it: an own property hiding the
    // accessor; taken over.
    for (const key of ["client", "target", "uploadOptions", "strings"]) {
      if (Object.prototype.hasOwnProperty.call(this, key)) {
        const value = this[key];
        delete this[key];
        this.#early.push([key, value]);
      }
    }
    const root = this.attachShadow({ mode: "open" });
    root.adoptedStyleSheets = [styleSheet()];

    const dropzone = element("button", { class: "dropzone", part: "dropzone", type: "button" });
    const input = element("input", { type: "file", multiple: "", hidden: "", tabindex: "-1", "aria-hidden": "true" });
    const list = element("ul", { class: "list", part: "file-list", role: "list" });
    const summary = element("div", { class: "summary", part: "summary", hidden: "" });
    const summaryText = element("span", { class: "summary-text" });
    const pauseAll = element("button", { type: "button", part: "button" });
    const resumeAll = element("button", { type: "button", part: "button" });
    const cancelAll = element("button", { type: "button", part: "button" });
    const clear = element("button", { type: "button", part: "button" });
    summary.append(summaryText, pauseAll, resumeAll, cancelAll, clear);
    const live = element("div", { class: "visually-hidden", role: "status", "aria-live": "polite" });
    root.append(dropzone, input, list, summary, live);
    this.#nodes = { dropzone, input, list, summary, summaryText, pauseAll, resumeAll, cancelAll, clear, live };

    dropzone.addEventListener("click", () => input.click());
    dropzone.addEventListener("dragover", (event) => {
      if (this.disabled) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
      dropzone.classList.add("over");
    });
    dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
    dropzone.addEventListener("drop", (event) => this.#onDrop(event));
    input.addEventListener("change", () => {
      const files = Array.from(input.files ?? []);
      input.value = "";
      this.#add(files.map((file) => ({ file, path: file.webkitRelativePath || file.name })));
    });
    pauseAll.addEventListener("click", () => this.pauseAll());
    resumeAll.addEventListener("click", () => this.resumeAll());
    cancelAll.addEventListener("click", () => this.cancelAll());
    clear.addEventListener("click", () => this.clear());
    for (const [key, value] of this.#early.splice(0)) this[key] = value;
    this.#renderStatic();
  }

  /** The ProcoreClient the files go through. */
  get client() {
    return this.#client;
  }

  set client(value) {
    this.#client = value ?? null;
  }

  /** An attach target as uploadAndAttach takes it, or `(file, path) => target | null`; null: upload only. */
  get target() {
    return this.#target;
  }

  set target(value) {
    this.#target = value ?? null;
  }

  /** Options given to each upload (`client.start`), under `resume: "auto"` and `projectId`. */
  get uploadOptions() {
    return this.#uploadOptions;
  }

  set uploadOptions(value) {
    this.#uploadOptions = value ?? {};
  }

  attributeChangedCallback() {
    this.#renderStatic();
  }

  /** Every visible text; setting it merges a partial object over the English defaults. */
  get strings() {
    return { ...this.#strings };
  }

  set strings(value) {
    this.#strings = { ...DEFAULT_STRINGS, ...(value ?? {}) };
    this.#renderStatic();
    for (const row of this.#rows) this.#dirty.add(row);
    this.#schedule();
  }

  get disabled() {
    return this.hasAttribute("disabled");
  }

  set disabled(value) {
    this.toggleAttribute("disabled", Boolean(value));
  }

  /** Adds files as if they were dropped (checked against accept, max-files, max-file-size). */
  addFiles(files) {
    this.#add(Array.from(files ?? [], (file) => ({ file, path: file.webkitRelativePath || file.name })));
  }

  /** Pauses every running upload. */
  async pauseAll() {
    await Promise.all(this.#rows.filter((row) => row.state === "running").map((row) => this.#pause(row)));
  }

  /** Resumes every paused upload. */
  async resumeAll() {
    await Promise.all(this.#rows.filter((row) => row.state === "paused").map((row) => this.#resume(row)));
  }

  /** Cancels every upload not finished yet. */
  async cancelAll() {
    await Promise.all(this.#rows.filter((row) => ACTIVE.has(row.state)).map((row) => this.#cancel(row)));
  }

  /** Removes the finished rows (uploaded, failed, cancelled). */
  clear() {
    for (const row of this.#rows.filter((row) => !ACTIVE.has(row.state))) {
      row.nodes.item.remove();
      this.#dirty.delete(row);
    }
    this.#rows = this.#rows.filter((row) => ACTIVE.has(row.state));
    this.#renderSummary();
  }

  #onDrop(event) {
    event.preventDefault();
    this.#nodes.dropzone.classList.remove("over");
    if (this.disabled || !event.dataTransfer) return;
    if (this.hasAttribute("directory")) {
      // Read now: the browser empties the DataTransfer once this handler returns.
      entriesFromDataTransfer(event.dataTransfer).then(
        (entries) => this.#add(entries),
        (error) => this.#emit("upload-error", { file: null, error }),
      );
      return;
    }
    this.#add(Array.from(event.dataTransfer.files ?? [], (file) => ({ file, path: file.name })));
  }

  /** Checks the entries against the limits, then makes a row for each and starts it. */
  #add(entries) {
    const accept = this.getAttribute("accept") ?? "";
    const maxSize = numberAttribute(this, "max-file-size");
    const maxFiles = numberAttribute(this, "max-files");
    const notAccepted = [];
    const tooLarge = [];
    const kept = [];
    const folders = [];
    for (const entry of entries) {
      if (entry.directory === true && typeof entry.path === "string") folders.push(entry);
      if (!(entry.file instanceof Blob)) continue;
      if (!accepts(accept, entry.file)) notAccepted.push(entry.file);
      else if (maxSize !== null && entry.file.size > maxSize) tooLarge.push(entry.file);
      else kept.push(entry);
    }
    let tooMany = [];
    if (maxFiles !== null) {
      const room = Math.max(0, maxFiles - this.#rows.filter((row) => ACTIVE.has(row.state)).length);
      tooMany = kept.splice(room).map((entry) => entry.file);
    }
    const s = this.#strings;
    if (notAccepted.length) {
      this.#reject(notAccepted, "not-accepted", fill(s.rejectedNotAccepted, { names: names(notAccepted) }));
    }
    if (tooLarge.length) {
      this.#reject(tooLarge, "too-large", fill(s.rejectedTooLarge, { names: names(tooLarge), max: this.#size(maxSize) }));
    }
    if (tooMany.length) {
      this.#reject(tooMany, "too-many", fill(s.rejectedTooMany, { count: tooMany.length, max: maxFiles }));
    }
    const place = this.hasAttribute("directory") ? this.#folderPlace(kept, folders) : null;
    const rows = kept.map(({ file, path }) => {
      const row = { file, path, state: "waiting", progress: null, error: null, result: null, task: null, nodes: null, group: null };
      row.nodes = this.#makeRow(row);
      this.#rows.push(row);
      this.#nodes.list.append(row.nodes.item);
      return row;
    });
    if (place) {
      // A tree into Documents: one uploadFolder run for its files and empty folders.
      const group = { place, entries: [...kept, ...folders], rows, byPath: new Map(rows.map((row) => [row.path, row])), controller: null, stopping: null, running: null };
      for (const row of rows) row.group = group;
      this.#runGroup(group);
    } else {
      for (const row of rows) this.#run(row);
    }
    this.#renderSummary();
  }

  /**
   * Where a tree goes when it goes through uploadFolder: `{ projectId?, parentId? }` of
   * a projectFile or companyFile target (the target function asked with the first
   * file and its path), or null when the entries hold no folder or the target is
   * something else (each file is then uploaded by itself).
   */
  #folderPlace(kept, folders) {
    if (folders.length === 0 && !kept.some((entry) => entry.path.includes("/"))) return null;
    const first = kept[0];
    const target = typeof this.target === "function" ? (first ? this.target(first.file, first.path) : null) : this.target;
    const fields = target?.projectFile ?? target?.companyFile;
    if (!fields || typeof fields !== "object") return null;
    const place = {};
    const projectId = target.projectFile ? fields.projectId ?? this.#projectId(null) : undefined;
    if (projectId !== undefined) place.projectId = projectId;
    if (fields.parentId !== undefined) place.parentId = fields.parentId;
    return place;
  }

  #reject(files, reason, message) {
    this.#announce(message, true);
    this.#emit("files-rejected", { files, reason });
  }

  /** The project the uploads go to: the attribute, else uploadOptions', else the target's. */
  #projectId(target) {
    const attribute = this.getAttribute("project-id");
    if (attribute !== null && attribute.trim() !== "") return Number(attribute);
    if (this.uploadOptions?.projectId !== undefined) return this.uploadOptions.projectId;
    const fields = target && typeof target === "object" ? Object.values(target)[0] : null;
    return fields && typeof fields === "object" && fields.projectId !== undefined ? fields.projectId : undefined;
  }

  #targetFor(row) {
    return typeof this.target === "function" ? this.target(row.file, row.path) ?? null : this.target ?? null;
  }

  /** Uploads the row's file (unless a failed attach left its upload) and attaches it. */
  async #run(row) {
    row.state = "running";
    row.error = null;
    this.#touch(row);
    try {
      const client = this.client;
      if (!client) throw new ProcoreUploadError(this.#strings.errorNoClient, { code: "INVALID_INPUT" });
      const target = this.#targetFor(row);
      if (!row.result) {
        const own = this.uploadOptions ?? {};
        const options = { resume: "auto", ...own };
        const projectId = this.#projectId(target);
        if (projectId !== undefined) options.projectId = projectId;
        options.onProgress = (progress) => {
          row.progress = progress;
          this.#touch(row);
          this.#emit("upload-progress", { file: row.file, progress });
          own.onProgress?.(progress);
        };
        row.task = client.start(row.file, options);
        row.result = await row.task.done;
        row.task = null;
      }
      let attached = null;
      if (target) {
        row.attaching = true;
        this.#touch(row);
        // One token for every try of this row's attach: a Retry after an answer that
        // was lost does not attach the file twice.
        row.attachToken ??= attachToken();
        attached = await client.attach(row.result, target, { fileName: row.file.name, idempotencyToken: row.attachToken });
      }
      row.attaching = false;
      this.#succeed(row, attached);
    } catch (error) {
      row.task = null;
      row.attaching = false;
      if (row.state === "cancelled" || error?.name === "AbortError") {
        row.state = "cancelled";
        this.#touch(row);
      } else {
        this.#fail(row, error);
      }
    }
    this.#settled();
  }

  /** Runs a tree's rows through one uploadFolder (resume "auto": a rerun goes on). */
  async #runGroup(group) {
    const rows = group.rows.filter((row) => row.state !== "done");
    for (const row of rows) {
      row.state = "running";
      row.error = null;
      this.#touch(row);
    }
    group.controller = new AbortController();
    group.stopping = null;
    let finish;
    group.running = new Promise((resolve) => (finish = resolve));
    try {
      const client = this.client;
      if (!client) throw new ProcoreUploadError(this.#strings.errorNoClient, { code: "INVALID_INPUT" });
      // The upload options a tree takes (its progress is reported per file).
      const { onProgress, filename, contentType, ...own } = this.uploadOptions ?? {};
      const options = {
        ...own,
        ...group.place,
        resume: "auto",
        signal: group.controller.signal,
        onFileProgress: (path, progress) => {
          const row = group.byPath.get(path);
          if (!row || row.state !== "running") return;
          row.progress = progress;
          this.#touch(row);
          this.#emit("upload-progress", { file: row.file, progress });
        },
      };
      const result = await client.uploadFolder(group.entries, options);
      for (const file of result.files) {
        const row = group.byPath.get(file.path);
        if (!row || row.state === "done") continue;
        if (file.status === "failed") this.#fail(row, file.error);
        else {
          row.result = file;
          this.#succeed(row, { id: file.fileId, versionId: file.versionId, name: file.name, status: file.status });
        }
      }
    } catch (error) {
      const stopped = group.stopping;
      for (const row of rows.filter((row) => row.state === "running")) {
        if (stopped) {
          row.state = stopped;
          this.#touch(row);
        } else this.#fail(row, error);
      }
    }
    finish();
    if (group.stopping !== "paused") this.#settled();
  }

  /** Stops a tree's run: its rows end `paused` (resumed by running it again) or `cancelled`. */
  async #stopGroup(group, state) {
    if (group.stopping || !group.rows.some((row) => row.state === "running")) return group.running;
    group.stopping = state;
    group.controller.abort();
    await group.running;
  }

  #succeed(row, attached) {
    row.state = "done";
    this.#touch(row);
    this.#batch.succeeded++;
    this.#announce(fill(this.#strings.announceDone, { name: shown(row.file.name) }), true);
    this.#emit("upload-complete", { file: row.file, result: row.result, attached });
  }

  #fail(row, error) {
    row.state = "failed";
    row.error = error;
    this.#touch(row);
    this.#batch.failed++;
    this.#announce(fill(this.#strings.announceFailed, { name: shown(row.file.name), message: this.#message(error) }), true);
    this.#emit("upload-error", { file: row.file, error });
  }

  /** Fires queue-complete once no row is waiting, running or paused. */
  #settled() {
    this.#batch.settled++;
    if (this.#rows.some((row) => ACTIVE.has(row.state))) return;
    const { succeeded, failed } = this.#batch;
    this.#batch = { succeeded: 0, failed: 0, settled: 0 };
    this.#announce(fill(this.#strings.announceQueueComplete, { succeeded, failed }), true);
    this.#emit("queue-complete", { succeeded, failed });
  }

  async #pause(row) {
    if (row.group) return this.#stopGroup(row.group, "paused");
    if (row.state !== "running" || !row.task) return;
    row.state = "paused";
    this.#touch(row);
    await row.task.pause();
  }

  async #resume(row) {
    if (row.group) {
      if (row.state === "paused" && !row.group.rows.some((r) => r.state === "running")) this.#runGroup(row.group);
      return;
    }
    if (row.state !== "paused" || !row.task) return;
    row.state = "running";
    this.#touch(row);
    await row.task.resume().catch(() => {});
  }

  async #cancel(row) {
    if (row.group) {
      if (row.state === "running") return this.#stopGroup(row.group, "cancelled");
      for (const paused of row.group.rows.filter((r) => r.state === "paused")) {
        paused.state = "cancelled";
        this.#touch(paused);
      }
      this.#settled();
      return;
    }
    if (!ACTIVE.has(row.state)) return;
    const task = row.task;
    row.state = "cancelled";
    this.#touch(row);
    await task?.cancel();
  }

  #retry(row) {
    if (row.state !== "failed") return;
    if (!row.group) this.#run(row);
    else if (!row.group.rows.some((r) => r.state === "running")) this.#runGroup(row.group);
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true, detail }));
  }

  /** Puts `text` in the live region: at once when `now`, else at most every few seconds. */
  #announce(text, now) {
    const time = Date.now();
    if (!now && time - this.#lastAnnounce < PROGRESS_ANNOUNCE_MS) return;
    this.#lastAnnounce = time;
    this.#nodes.live.textContent = text;
  }

  #message(error) {
    if (!error) return "";
    if (error.code === "HTTP" && error.status >= 500) return this.#strings.errorServer;
    return this.#strings[`error${error.code}`] ?? this.#strings.errorOther;
  }

  #size(bytes) {
    if (bytes === null || bytes === undefined) return "";
    const units = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte"];
    let value = bytes;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
      value /= 1000;
      unit++;
    }
    try {
      return new Intl.NumberFormat(this.#lang(), {
        style: "unit",
        unit: units[unit],
        // "12 bytes", not the short unit's "12 byte".
        unitDisplay: unit === 0 ? "long" : "short",
        maximumFractionDigits: unit === 0 ? 0 : 1,
      }).format(value);
    } catch {
      return `${value.toFixed(unit === 0 ? 0 : 1)} ${["B", "kB", "MB", "GB", "TB"][unit]}`;
    }
  }

  #time(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const [value, unit] = s < 90 ? [s, "second"] : s < 5400 ? [Math.round(s / 60), "minute"] : [Math.round(s / 3600), "hour"];
    try {
      return new Intl.NumberFormat(this.#lang(), { style: "unit", unit, unitDisplay: "short" }).format(value);
    } catch {
      return `${value} ${unit[0]}`;
    }
  }

  #lang() {
    return this.closest("[lang]")?.getAttribute("lang") || undefined;
  }

  /** The row's nodes, made once; later changes only update them (#renderRow). */
  #makeRow(row) {
    const item = element("li", { class: "file", part: "file" });
    // dir=auto: a right-to-left name reads in its own direction.
    const name = element("span", { class: "name", dir: "auto" });
    name.textContent = shown(row.path);
    const size = element("span", { class: "size" });
    size.textContent = this.#size(row.file.size);
    const progress = element("div", {
      class: "progress",
      part: "progress",
      role: "progressbar",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": "0",
    });
    const bar = element("progress", { class: "bar", max: "100", value: "0", "aria-hidden": "true" });
    progress.append(bar);
    const status = element("span", { class: "status" });
    const actions = element("span", { class: "actions" });
    const pause = element("button", { type: "button", part: "button", "data-action": "pause" });
    const resume = element("button", { type: "button", part: "button", "data-action": "resume" });
    const cancel = element("button", { type: "button", part: "button", "data-action": "cancel" });
    const retry = element("button", { type: "button", part: "button", "data-action": "retry" });
    pause.addEventListener("click", () => this.#pause(row));
    resume.addEventListener("click", () => this.#resume(row));
    cancel.addEventListener("click", () => this.#cancel(row));
    retry.addEventListener("click", () => this.#retry(row));
    actions.append(pause, resume, cancel, retry);
    const message = element("span", { class: "message", hidden: "" });
    const details = element("span", { class: "details", hidden: "" });
    item.append(name, size, progress, status, actions, message, details);
    const nodes = { item, name, size, progress, bar, status, pause, resume, cancel, retry, message, details, key: "" };
    row.nodes = nodes;
    this.#renderRow(row);
    return nodes;
  }

  /** Marks the row for the next frame's render. */
  #touch(row) {
    this.#dirty.add(row);
    this.#schedule();
  }

  #schedule() {
    if (this.#frame) return;
    const run = () => {
      this.#frame = 0;
      const rows = [...this.#dirty];
      this.#dirty.clear();
      for (const row of rows) this.#renderRow(row);
      this.#renderSummary();
      this.#announceProgress();
    };
    // Frames do not run in a hidden tab: a timer then, so that the rows still settle.
    this.#frame = typeof requestAnimationFrame === "function" && document.visibilityState !== "hidden"
      ? requestAnimationFrame(run)
      : setTimeout(run, 250);
  }

  #renderRow(row) {
    const s = this.#strings;
    const n = row.nodes;
    const p = row.progress;
    const name = shown(row.file.name);
    const uploadingStarted = p && (p.bytesUploaded > 0 || ["uploading", "completing", "processing", "attaching", "done"].includes(p.phase));
    let percent = 0;
    if (row.state === "done") percent = 100;
    else if (p && p.totalBytes > 0) {
      percent = Math.floor((100 * (uploadingStarted ? p.bytesUploaded : p.bytesHashed)) / p.totalBytes);
    } else if (p && uploadingStarted) percent = 100;
    const phase =
      row.state === "done" ? s.phaseDone
        : row.state === "failed" ? s.phaseFailed
          : row.state === "cancelled" ? s.phaseCancelled
            : row.state === "paused" ? s.phasePaused
              : row.attaching ? s.phaseAttaching
                : p ? s[PHASE_KEYS[p.phase]] ?? s.phaseWaiting : s.phaseWaiting;
    let status = phase;
    if (row.state === "running" && !row.attaching && p?.phase === "uploading") {
      if (p.bytesPerSecond !== undefined) status += ` · ${fill(s.speed, { speed: this.#size(p.bytesPerSecond) })}`;
      if (p.etaSeconds !== undefined) status += ` · ${fill(s.timeLeft, { time: this.#time(p.etaSeconds) })}`;
    }
    // Only what changed is written: the same text or attribute again is skipped.
    setText(n.status, status);
    setAttr(n.item, "data-state", row.state);
    setAttr(n.progress, "aria-valuenow", String(percent));
    setAttr(n.progress, "aria-valuetext", `${phase}, ${percent} %`);
    setAttr(n.progress, "aria-label", fill(s.progressOf, { name }));
    if (n.bar.value !== percent) n.bar.value = percent;
    const active = ACTIVE.has(row.state);
    const focused = this.shadowRoot.activeElement;
    // A tree's files run as one uploadFolder: Pause all / Resume all / Cancel all act on it.
    setHidden(n.pause, !!row.group || !(row.state === "running" && !row.attaching));
    setHidden(n.resume, !!row.group || row.state !== "paused");
    setHidden(n.cancel, !!row.group || !active || row.attaching);
    const retryable = row.state === "failed" && row.error?.code !== "INVALID_INPUT";
    setHidden(n.retry, !retryable);
    // The pressed button went away (Pause → Resume): focus stays in the row, on the
    // button that took its place, else on the next thing to do.
    if (focused && focused.hidden && [n.pause, n.resume, n.cancel, n.retry].includes(focused)) {
      const next = [n.resume, n.pause, n.retry, n.cancel].find((button) => !button.hidden) ??
        [this.#nodes.pauseAll, this.#nodes.resumeAll, this.#nodes.cancelAll, this.#nodes.clear].find((button) => !button.hidden) ??
        this.#nodes.dropzone;
      next.focus();
    }
    setText(n.pause, fill(s.pause, { name }));
    setText(n.resume, fill(s.resume, { name }));
    setText(n.cancel, fill(s.cancel, { name }));
    setText(n.retry, fill(s.retry, { name }));
    const error = row.state === "failed" ? row.error : null;
    setHidden(n.message, !error);
    setHidden(n.details, !error);
    if (error) {
      setText(n.message, this.#message(error));
      const values = { code: error.code ?? error.name ?? "", status: error.status };
      setText(n.details, fill(error.status ? s.errorDetailsStatus : s.errorDetails, values) +
        (error.message ? ` — ${error.message}` : ""));
    }
  }

  #renderSummary() {
    const s = this.#strings;
    const n = this.#nodes;
    const total = this.#rows.length;
    const done = this.#rows.filter((row) => row.state === "done").length;
    const failed = this.#rows.filter((row) => row.state === "failed").length;
    setHidden(n.summary, total === 0);
    let text = total === 0 ? s.summaryEmpty : fill(s.summary, { done, total });
    if (failed) text += ` · ${fill(s.summaryFailed, { failed })}`;
    setText(n.summaryText, text);
    setHidden(n.pauseAll, !this.#rows.some((row) => row.state === "running"));
    setHidden(n.resumeAll, !this.#rows.some((row) => row.state === "paused"));
    setHidden(n.cancelAll, !this.#rows.some((row) => ACTIVE.has(row.state)));
    setHidden(n.clear, !this.#rows.some((row) => !ACTIVE.has(row.state)));
  }

  /** The batch's progress, in the live region at most every few seconds. */
  #announceProgress() {
    const active = this.#rows.filter((row) => ACTIVE.has(row.state));
    if (active.length === 0) return;
    let sent = 0;
    let size = 0;
    for (const row of this.#rows) {
      size += row.file.size;
      sent += row.state === "done" ? row.file.size : row.progress?.bytesUploaded ?? 0;
    }
    const percent = size > 0 ? Math.floor((100 * sent) / size) : 0;
    const done = this.#rows.filter((row) => row.state === "done").length;
    this.#announce(fill(this.#strings.announceProgress, { done, total: this.#rows.length, percent }), false);
  }

  /** The texts and attributes that do not depend on the rows. */
  #renderStatic() {
    const s = this.#strings;
    const n = this.#nodes;
    if (!n) return;
    const directory = this.hasAttribute("directory");
    setText(n.dropzone, this.disabled ? s.dropzoneDisabled : directory ? s.dropzoneFolders : s.dropzone);
    n.dropzone.disabled = this.disabled;
    n.input.accept = this.getAttribute("accept") ?? "";
    n.input.toggleAttribute("webkitdirectory", directory);
    setAttr(n.list, "aria-label", s.fileList);
    setText(n.pauseAll, s.pauseAll);
    setText(n.resumeAll, s.resumeAll);
    setText(n.cancelAll, s.cancelAll);
    setText(n.clear, s.clear);
  }
}

/** A new element with these attributes (no innerHTML anywhere). */
function element(tag, attributes) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function setAttr(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

function setHidden(node, hidden) {
  if (node.hidden !== hidden) node.hidden = hidden;
}

function names(files) {
  return files.map((file) => shown(file.name)).join(", ");
}

/**
 * A name as shown: bidirectional controls made visible as ⟨U+202E⟩, so that
 * "invoice\u202Efdp.exe" cannot pass for "invoiceexe.pdf".
 */
function shown(name) {
  return String(name).replace(/[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g,
    (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}⟩`);
}

/** A token for one row's attach, the same on each Retry (hex: any context has getRandomValues). */
function attachToken() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `procore-uploader-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

if (typeof customElements !== "undefined" && !customElements.get("procore-uploader")) {
  customElements.define("procore-uploader", ProcoreUploader);
}
