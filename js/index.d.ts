/**
 * Progress of an upload or a hashing: one shape for `upload()`, `start()`'s tasks,
 * `uploadAndAttach()`, `hashSegments()` and the top-level `hashFile()`. Counters never
 * go backwards; at most ten reports a second reach `onProgress`, and a new phase, the
 * moment every byte is hashed and the moment every byte is sent always do.
 */
export interface UploadProgress {
  /**
   * Where the work is, in this order (a phase can be skipped, never gone back to):
   * - `queued`: waiting for its turn behind files given earlier to the same client
   *   (`maxActiveUploads`); its hashing may already run meanwhile.
   * - `hashing`: reading the file for its SHA-256 (and MD5) digests.
   * - `creating`: asking Procore for upload instructions (Create Upload).
   * - `uploading`: sending the bytes to storage.
   * - `completing`: telling Procore the bytes are stored (Complete Upload).
   * - `processing`: v2.1 only, waiting for Procore to say the upload is available.
   * - `attaching`: `uploadAndAttach()` only, the attach call.
   * - `done`: finished; the last report. Hashing calls go from `hashing` to `done`.
   */
  phase: "queued" | "hashing" | "creating" | "uploading" | "completing" | "processing" | "attaching" | "done";
  /** Bytes read and hashed so far (a resumed upload hashes its first segment again). */
  bytesHashed: number;
  /**
   * Bytes sent to storage so far, as the browser reports them; a part that fails and
   * is sent again counts once. 0 for hashing calls.
   */
  bytesUploaded: number;
  /** The file's size in bytes. */
  totalBytes: number;
  /**
   * Uploads: segments (parts) stored and acknowledged by storage; a form upload is one
   * segment. Hashing calls: segments hashed (the top-level `hashFile()` counts the
   * whole file as one).
   */
  segmentsDone: number;
  /** Segments in all: what `segmentsDone` counts up to. */
  segmentsTotal: number;
  /**
   * Upload speed in bytes per second over the last five seconds; absent until a second
   * of sending is measured, and again after a pause until it is known again.
   */
  bytesPerSecond?: number;
  /** Seconds left at that speed; absent while the speed is unknown. */
  etaSeconds?: number;
}

/** A key not listed here is INVALID_INPUT (at the first call), as every other bad option. */
export interface ProcoreClientOptions {
  /** The company uploads belong to; sent as Procore-Company-Id. A positive integer. */
  companyId: number;
  /** An access token (give this or getAccessToken). A 401 with it is final (UNAUTHORIZED). */
  accessToken?: string;
  /**
   * Called for each API request. `refresh` is true after the API refused the last
   * token (401): hand out a new one, not a cached one. What it throws or rejects
   * with fails the call with ACCESS_TOKEN, the thrown value as `cause`.
   */
  getAccessToken?: (request: { refresh: boolean }) => Promise<string> | string;
  /**
   * Default "https://api.procore.com". Must be https: (the bearer token goes to it),
   * except for a loopback host (localhost, 127.0.0.0/8, [::1]) or with
   * allowInsecureBaseUrl; anything else is INVALID_INPUT before a token is asked for.
   */
  baseUrl?: string;
  /** Accept an http: baseUrl that is not a loopback host (the token travels in clear text). Default false. */
  allowInsecureBaseUrl?: boolean;
  /** Default "v1.1". */
  apiVersion?: "v1.0" | "v1.1" | "v2.1";
  /** Accept http: instruction URLs (local testing against the sandbox). Default false. */
  allowInsecureStorage?: boolean;
  /** Storage requests open at once across all this client's uploads, 1 to 16 (default 6). */
  concurrency?: number;
  /**
   * Uploads sending at once (default 3, at most 64); later ones wait in the order
   * they were given, their hashing done meanwhile (two files at a time).
   */
  maxActiveUploads?: number;
  /**
   * A storage request with no upload progress for this long is aborted and retried
   * like a network error. Default 30000; 0 turns the check off. At most 2147483647
   * (what a browser timer holds), as every millisecond option.
   */
  stallTimeoutMs?: number;
  /**
   * Hashing Web Workers the client keeps: started on first need, shared by its
   * uploads, ended after `workerIdleMs` without work and by close(). Default 1: each
   * busy worker costs the browser 50–100 MiB; uploads were as fast with one, a lone
   * hashSegments is up to 1.5× faster with 2. 0 hashes on the calling thread. At most 64. Where no worker
   * can start (no module workers, a worker script that does not load), the client
   * hashes on the calling thread instead, after one console warning.
   */
  workers?: number;
  /** Milliseconds without work after which the hashing workers end (default 10000). */
  workerIdleMs?: number;
  /**
   * Where the hashing worker script is, when the bundler did not ship `hash-worker.js`
   * beside `index.js` (it is found with `new URL("./hash-worker.js", import.meta.url)`).
   */
  workerUrl?: string | URL;
  /**
   * Where start() keeps upload states to go on after a reload: IndexedDB by
   * default (database "procore-upload"; no file bytes, only ids, digests, ETags and
   * instruction URLs), false to keep none, or your own store.
   */
  store?: false | StateStore;
  /**
   * Called with the STORE error (the browser's or your store's exception as `cause`)
   * each time saving, deleting or looking up a task's state fails; the upload goes on
   * without that checkpoint. Without it, each goes to the console. (findResumable
   * rejects with its own.)
   */
  onStoreError?: (error: ProcoreUploadError) => void;
}

/** A key-value store of upload states (JSON text under a fingerprint). */
export interface StateStore {
  get(key: string): Promise<string | undefined | null> | string | undefined | null;
  put(key: string, value: string): Promise<void> | void;
  delete(key: string): Promise<void> | void;
  /** Every entry as [key, value]. */
  list(): Promise<[string, string][]> | [string, string][];
}

/**
 * What start() keeps of an upload: enough to go on without the bytes already sent.
 * A plain object that survives JSON.stringify / JSON.parse; pass it back unchanged
 * (a changed one is INVALID_INPUT, nothing sent).
 */
export interface UploadState {
  /** The fingerprint it is kept under: API version, company, project, size, lastModified, type, name. */
  readonly key: string;
  /** The file's name (the `filename` option, else the File's). */
  readonly name: string;
  /** The file's size in bytes. */
  readonly size: number;
  /** The File's lastModified (ms since 1970); null for a Blob. */
  readonly lastModified: number | null;
  /** Where the upload was when this state was saved. */
  readonly phase: UploadProgress["phase"];
  /** Bytes storage has acknowledged (the parts with an ETag): what a resume does not send again. */
  readonly bytesConfirmed: number;
  /** When this state was saved (ms since 1970). */
  readonly updatedAt: number;
  /** Where the upload goes. */
  readonly scope: {
    readonly apiVersion: "v1.0" | "v1.1" | "v2.1";
    readonly companyId: number;
    /** null for a company-level upload. */
    readonly projectId: number | null;
  };
  /**
   * Opaque and versioned: upload id, digests, instructions, ETags, behind a check.
   * Not for reading; its layout changes between releases.
   */
  readonly internal: string;
}

/** What identifies the kept states findResumable looks up: the same as the upload's. */
export interface FindResumableOptions {
  projectId?: number;
  apiVersion?: "v1.0" | "v1.1" | "v2.1";
  filename?: string;
}

export interface StartOptions extends UploadOptions {
  /**
   * "auto": go on from the state kept for this file, if any (its first segment is
   * hashed again and must match); or a state from findResumable() or task.state
   * (a state in the layout earlier releases gave, every field in the open, is accepted too).
   */
  resume?: "auto" | UploadState;
}

/** An upload started by client.start(). */
export declare class UploadTask {
  /** Settles with the result; rejects with the error (an AbortError once cancelled). */
  readonly done: Promise<UploadResult>;
  readonly status: "running" | "paused" | "done" | "failed" | "cancelled";
  /** The state as last saved; null before the first save and for uploads in one piece. */
  readonly state: UploadState | null;
  /**
   * Stops sending at once, queued or not (requests in flight are aborted); resolves
   * once none is in flight.
   */
  pause(): Promise<void>;
  /**
   * Goes on after pause(), sending only the parts without an ETag. Resolves once it
   * sends again (past hashing and creating, its parts on their way) or is done;
   * rejects with done's error if it fails or is cancelled first. A pause() before
   * that keeps it pending until a later resume() sends again.
   */
  resume(): Promise<void>;
  /**
   * Stops for good at once, queued or not: done rejects with an AbortError and the
   * kept state is deleted. (client.close() also settles done with an AbortError,
   * paused or not, and keeps the state for the next page.)
   */
  cancel(): Promise<void>;
}

/** A key not listed here is INVALID_INPUT, nothing sent (as in every options object). */
export interface UploadOptions {
  /** Project-level upload when set, else company level. */
  projectId?: number;
  /** This upload's API version, when not the client's `apiVersion`. */
  apiVersion?: "v1.0" | "v1.1" | "v2.1";
  /**
   * v1.0/v1.1: true = segments, false = one form POST, "auto" (default) = segments
   * from 32 MiB. v2.1 always uses segments (false is refused).
   */
  segmented?: boolean | "auto";
  /**
   * Bytes per segment. v1: 5 MiB to 5 GiB; v2.1: 5 MiB + 1 to 100 MiB. Default 16 MiB,
   * larger when 10,000 segments would not hold the file.
   */
  segmentSize?: number;
  /**
   * Send each segment's MD5 besides its SHA-256, for storage to check as Content-MD5
   * too. Default: not sent (Procore calls it optional; storage checks every segment
   * against the SHA-256 signed into its URL, and v2.1 the whole file's SHA-256), as
   * upload is 10-30 % faster without it. A kept state goes on with the setting it was
   * hashed with when this is not given; given, a state of the other setting is refused.
   */
  md5?: boolean;
  /** Parallel storage requests of this upload, 1 to 16; never more than the client's (default: the client's). */
  concurrency?: number;
  /** Workers this file's hashing is split for (the client's pool grows to it); 0 hashes on the calling thread. Default: the client's `workers`. */
  workers?: number;
  /** Default: the File's name. v1.1 and v2.1 need one. */
  filename?: string;
  /** Default: the Blob's type, when it has one. */
  contentType?: string;
  /** v1: download as an attachment rather than inline. */
  attachmentContentDisposition?: boolean;
  onProgress?: (progress: UploadProgress) => void;
  /** Aborting rejects with an AbortError (its `reason` as `cause`) and stops every request. */
  signal?: AbortSignal;
  /** v2.1: how long to wait for "available" (default 10 minutes). */
  processingTimeoutMs?: number;
  /** Bytes read per step while hashing (default 4 MiB). */
  chunkSize?: number;
}

export interface SegmentInfo {
  size: number;
  /** Lowercase hex. */
  sha256: string;
  /** Lowercase hex; absent when md5 is off. */
  md5?: string;
}

export interface UploadResult {
  /** The id to attach to a Procore resource. */
  uuid: string;
  /**
   * The upload's status as Procore reported it last: v1 from Show Upload after the
   * form POST or from Complete Upload ("complete"), v2.1 from Show Upload ("available").
   */
  status: string;
  size: number;
  apiVersion: string;
  /** For segmented uploads: each segment with the ETag storage returned (no quotes). */
  segments?: (SegmentInfo & { etag: string })[];
}

export interface HashSegmentsOptions {
  segmentSize?: number;
  md5?: boolean;
  /** As in UploadOptions. */
  workers?: number;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  chunkSize?: number;
}

export interface HashSegmentsResult {
  size: number;
  segments: SegmentInfo[];
}

/** A query value; arrays repeat the name (`ids: [1, 2]` → `ids=1&ids=2`). */
export type QueryValue = string | number | boolean | (string | number | boolean)[];

export interface RequestOptions {
  /** Appended to the path, percent-encoded, in order. */
  query?: Record<string, QueryValue | undefined>;
  /** Sent as JSON (JSON.stringify); not with GET. */
  body?: unknown;
  /**
   * Extra headers (sent again unchanged on every retry). A POST or PATCH without an
   * `Idempotency-Token` gets a fresh one, the same on every retry of the call.
   * Authorization, Procore-Company-Id, Accept and Content-Type are the client's.
   */
  headers?: Record<string, string | number | boolean>;
  /** Aborting rejects with an AbortError (its `reason` as `cause`) and stops the request. */
  signal?: AbortSignal;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * Options of the attach calls: the named fields are checked and sent under Procore's
 * snake_case names. Procore fields the library does not name go in `procoreFields`;
 * any other key (a misspelling such as `parentID`) is INVALID_INPUT, nothing sent.
 */
interface ProcoreFields {
  /**
   * Procore's own fields, by Procore's names, sent under the resource as written
   * (e.g. `{ is_tracked: true }` in `{"file": {…}}`). A field the library sends from
   * a named option (`parent_id`: use `parentId`) is INVALID_INPUT.
   */
  procoreFields?: Record<string, unknown>;
}

interface Abortable {
  /** Aborting rejects with an AbortError (its `reason` as `cause`) and stops the call. */
  signal?: AbortSignal;
}

export interface CompanyFileFields extends ProcoreFields {
  uploadUuid: string;
  name: string;
  /** The folder; null or absent for the root. */
  parentId?: number | null;
  description?: string;
  private?: boolean;
}

export interface ProjectFileFields extends CompanyFileFields {
  projectId: number;
}

export interface ImageFields extends ProcoreFields {
  projectId: number;
  uploadUuid: string;
  imageName: string;
  source?: string;
  /**
   * The image resource, `"image": {…}`, as written: Procore's image fields
   * (description, image_category_id, log_date, …). The named fields go under `"upload"`.
   */
  procoreFields?: Record<string, unknown>;
}

export interface DrawingAreasFields {
  projectId: number;
}

export interface DrawingFields extends ProcoreFields {
  drawingAreaId: number;
  number: string;
  title?: string;
  disciplineName: string;
}

export interface DrawingImportFields extends ProcoreFields {
  uploadUuid: string;
  /** "YYYY-MM-DD". */
  drawingDate: string;
  receivedDate?: string;
  defaultRevision?: string;
  drawingId?: number;
}

export type DrawingImport = DrawingImportFields;

export interface DrawingUploadFields extends ProcoreFields {
  projectId: number;
  drawingAreaId: number;
  drawingSetId: number;
  imports: DrawingImport[];
}

export interface AccidentLogFields extends ProcoreFields {
  projectId: number;
  uploadIds: string[];
  /** 0–23; required, as in Procore's Create Accident Log. */
  timeHour: number;
  /** 0–59; required, as in Procore's Create Accident Log. */
  timeMinute: number;
  comments?: string;
  /** "YYYY-MM-DD". */
  date?: string;
  involvedCompany?: string;
  involvedName?: string;
}

export type ProjectFileOptions = ProjectFileFields & Abortable;
export type CompanyFileOptions = CompanyFileFields & Abortable;
export type ImageOptions = ImageFields & Abortable;
export type DrawingAreasOptions = DrawingAreasFields & Abortable;
export type DrawingOptions = DrawingFields & Abortable;
export type DrawingUploadOptions = DrawingUploadFields & Abortable;
export type AccidentLogOptions = AccidentLogFields & Abortable;

/**
 * Where `uploadAndAttach` attaches the upload: one resource, with that call's options
 * but the upload id (and, for files and images, a name that defaults to the file's).
 * A drawing takes its area, set and one import's fields (its `procoreFields` go under
 * the import); the file must be a PDF. An unknown key is INVALID_INPUT, nothing sent.
 */
export type AttachTarget =
  | { projectFile: Omit<ProjectFileFields, "uploadUuid" | "name"> & { name?: string } }
  | { companyFile: Omit<CompanyFileFields, "uploadUuid" | "name"> & { name?: string } }
  | { image: Omit<ImageFields, "uploadUuid" | "imageName"> & { imageName?: string } }
  | { drawing: Omit<DrawingUploadFields, "imports"> & Omit<DrawingImportFields, "uploadUuid"> }
  | { accidentLog: Omit<AccidentLogFields, "uploadIds"> };

/** Options of `client.attach`. */
export interface AttachOptions extends Abortable {
  /**
   * The uploaded file's name: the default `name` (files) or `imageName` (images),
   * and for a drawing the name checked to be a PDF. Left out, the target's own fields
   * stand.
   */
  fileName?: string;
  /**
   * Sent as the call's `Idempotency-Token` (1 to 255 visible ASCII characters): give
   * the same one on every try of one attach (a Retry button) and Procore acts once.
   * Left out, a fresh one, the same on every retry within the call.
   */
  idempotencyToken?: string;
}

export interface UploadAndAttachResult<T = unknown> {
  upload: UploadResult;
  /** Procore's answer to the attach call. */
  attached: T;
}

export declare class ProcoreClient {
  constructor(options: ProcoreClientOptions);
  upload(file: Blob, options?: UploadOptions): Promise<UploadResult>;
  /** upload() as a handle that pauses, resumes, cancels, and goes on after a reload. */
  start(file: Blob, options?: StartOptions): UploadTask;
  /** The kept states of `file` for the scope the options give (projectId, apiVersion, filename). */
  findResumable(file: Blob, options?: FindResumableOptions): Promise<UploadState[]>;
  /**
   * One authenticated call to Procore's API: the client's token and company, its
   * retries (401 refresh, 429, 5xx) and typed errors. `path` starts with "/" (no
   * "..", no full URL: INVALID_INPUT, nothing sent). Resolves to the parsed JSON
   * answer, or null when there is none (204). `T` only types what you expect back.
   */
  request<T = unknown>(method: HttpMethod, path: string, options?: RequestOptions): Promise<T>;
  /**
   * Uploads `file`, then attaches it to `target`: one promise, one progress stream
   * ("attaching", then "done" after the attach step). The target is checked before
   * anything is sent (INVALID_INPUT); the upload goes to the target's project unless
   * `options.projectId` says otherwise. When the attach step fails, the error carries
   * the finished upload as `upload`: attach it again without sending the bytes twice.
   * The attach call carries an Idempotency-Token, the same on every retry.
   */
  uploadAndAttach<T = unknown>(file: Blob, target: AttachTarget, options?: UploadOptions): Promise<UploadAndAttachResult<T>>;
  /**
   * The attach step of `uploadAndAttach` on its own: attaches an upload already made
   * (`upload()`'s result, `error.upload` after a failed attach) to `target`, checked as
   * `uploadAndAttach` checks it (INVALID_INPUT, nothing sent). Resolves to Procore's
   * answer.
   */
  attach<T = unknown>(upload: Pick<UploadResult, "uuid">, target: AttachTarget, options?: AttachOptions): Promise<T>;
  /**
   * Uploads a tree into Procore Documents (project level with `projectId`, else the
   * company's; into `parentId`, else the root): the same folders, created or reused
   * (parents first, each once), every file uploaded and attached in place. Entries
   * are what an `<input webkitdirectory>` gives (Files with `webkitRelativePath`) or
   * `FolderEntry`s (`entriesFromDataTransfer`); `.DS_Store`, `Thumbs.db` and
   * `desktop.ini` are left out unless `ignore` says otherwise. Bad paths (empty names,
   * `.`/`..`, control characters, one path twice) and bad options are INVALID_INPUT,
   * nothing sent. One file failing does not stop the others: its `status` is
   * "failed" and `error` says why. `signal` or `close()` stop everything (AbortError).
   */
  uploadFolder(
    entries: FileList | ReadonlyArray<File | FolderEntry>,
    options?: UploadFolderOptions,
  ): Promise<FolderUploadResult>;
  /** POST /rest/v1.0/files?project_id= with {"file": {upload_uuid, name, parent_id, …}}. */
  createProjectFile<T = unknown>(options: ProjectFileOptions): Promise<T>;
  /** POST /rest/v1.0/companies/{companyId}/files with {"file": {…}}. */
  createCompanyFile<T = unknown>(options: CompanyFileOptions): Promise<T>;
  /** POST /rest/v1.0/images?project_id= with {"upload": {uuid, image_name, source}, "image": {…}}. */
  createImage<T = unknown>(options: ImageOptions): Promise<T>;
  /** GET /rest/v1.1/projects/{projectId}/drawing_areas. */
  listDrawingAreas<T = unknown>(options: DrawingAreasOptions): Promise<T>;
  /** POST /rest/v1.1/drawing_areas/{drawingAreaId}/drawings with {"drawing": {number, title, drawing_discipline: {name}}}. */
  createDrawing<T = unknown>(options: DrawingOptions): Promise<T>;
  /**
   * POST /rest/v1.1/projects/{projectId}/drawing_uploads, with an Idempotency-Token
   * that is the same on every retry of the call: a retried request never imports twice.
   */
  createDrawingUpload<T = unknown>(options: DrawingUploadOptions): Promise<T>;
  /** POST /rest/v1.0/projects/{projectId}/accident_logs with {"accident_log": {…, upload_ids}}. */
  createAccidentLog<T = unknown>(options: AccidentLogOptions): Promise<T>;
  /**
   * Hashes a Blob or File segment by segment, as `upload()` would with these options:
   * each segment's SHA-256 (and MD5), nothing sent. (The top-level `hashFile()` gives
   * one digest of the whole file instead.)
   */
  hashSegments(file: Blob, options?: HashSegmentsOptions): Promise<HashSegmentsResult>;
  /**
   * Stops the client: uploads and calls in progress reject with an AbortError
   * (code ABORTED), its hashing workers end, later calls reject with INVALID_INPUT.
   */
  close(): void;
}

export interface HashFileOptions {
  /** Compute MD5 besides SHA-256 (default true). */
  md5?: boolean;
  /** Bytes read per step, 1 B to 64 MiB (default 4 MiB). */
  chunkSize?: number;
  /** Called before the first read, after each read, and once with phase "done". */
  onProgress?: (progress: UploadProgress) => void;
  /** Aborting rejects the promise with an `AbortError` (its `reason` as `cause`) and stops reading. */
  signal?: AbortSignal;
}

export interface HashFileResult {
  size: number;
  /** Lowercase hex. */
  sha256: string;
  /** Lowercase hex; absent when `md5: false`. */
  md5?: string;
}

/** Stable error codes; `name` is "ProcoreUploadError", or "AbortError" for ABORTED. */
export type ProcoreUploadErrorCode =
  | "INVALID_INPUT"
  | "HTTP"
  | "NETWORK"
  | "ABORTED"
  | "EXPIRED"
  | "MISSING_ETAG"
  | "ACCESS_TOKEN"
  | "UNAUTHORIZED"
  | "RATE_LIMITED"
  | "PROTOCOL"
  | "PROCESSING_FAILED"
  | "TIMEOUT"
  | "FILE_READ"
  | "WORKER"
  | "STORE"
  | "LOAD"
  | "NAME_TAKEN";

/**
 * What every promise of the package rejects with: `e instanceof ProcoreUploadError`
 * (and `instanceof Error`) holds for all of them, aborts included.
 */
export declare class ProcoreUploadError extends Error {
  /**
   * For code of your own (tests, wrappers) that rejects as the package does. `name`
   * follows from `code` ("AbortError" for ABORTED); fields left undefined are not set.
   */
  constructor(message: string, options: ProcoreUploadErrorOptions);
  /** "AbortError" for ABORTED, as fetch's aborts (`e.name === "AbortError"`); else "ProcoreUploadError". */
  name: "ProcoreUploadError" | "AbortError";
  code: ProcoreUploadErrorCode;
  /** HTTP, UNAUTHORIZED (401), RATE_LIMITED (429): the status of the last answer. */
  status?: number;
  /** The body of that answer (at most 2,000 characters). */
  body?: string;
  /**
   * RATE_LIMITED, and HTTP (a 503, say): how long the last answer asked to wait, in
   * milliseconds (its `Retry-After`, in seconds or as a date; for RATE_LIMITED also
   * Procore's `X-Rate-Limit-Reset`). Absent when it did not say.
   */
  retryAfterMs?: number;
  /**
   * HTTP, NETWORK, UNAUTHORIZED, RATE_LIMITED, MISSING_ETAG: the method of the
   * request that failed.
   */
  method?: HttpMethod;
  /**
   * With `method`: the path of the request that failed, without host, query or
   * fragment (`/rest/v1.0/files`; a storage key's path, never its signed query).
   */
  path?: string;
  /**
   * What failed first, where something outside the library did: for ABORTED the
   * `reason` of the `signal` that stopped the call (what you passed to `abort()`,
   * else the browser's `AbortError` DOMException; none for `task.cancel()` and
   * `client.close()`), what getAccessToken threw (ACCESS_TOKEN), the browser's
   * exception for FILE_READ and NETWORK, the worker's error for WORKER, the fetch,
   * compile or instantiate error for LOAD.
   */
  cause?: unknown;
  /** uploadAndAttach: the finished upload, when only the attach step failed. */
  upload?: UploadResult;
}

/** The fields of `new ProcoreUploadError(message, options)`: those of the error. */
export type ProcoreUploadErrorOptions = Pick<ProcoreUploadError, "code"> &
  Partial<
    Pick<ProcoreUploadError, "status" | "body" | "retryAfterMs" | "method" | "path" | "cause" | "upload">
  >;

/** Hashes a whole Blob or File in slices: SHA-256 and MD5 in one pass over the bytes. */
export function hashFile(file: Blob, options?: HashFileOptions): Promise<HashFileResult>;

/**
 * One entry of a folder upload: a file and its path in the tree (`"plans/A/a1.pdf"`,
 * `/`-separated, no leading `/`), or an empty folder.
 */
export type FolderEntry = { file: File; path: string } | { path: string; directory: true };

/** Options of `entriesFromDataTransfer`. */
export interface EntriesOptions {
  /**
   * Names left out wherever they stand on a path (a folder's whole content with
   * it), their ASCII letters in any case. Default: `[".DS_Store", "Thumbs.db",
   * "desktop.ini"]`; `[]` leaves out nothing.
   */
  ignore?: readonly string[];
}

/**
 * The files and empty folders of a drop, as folder uploads take them, walking
 * dropped folders. Call it in the `drop` handler itself: the browser empties the
 * `DataTransfer` once the handler returns (what it holds is taken before the first
 * wait). Rejects with INVALID_INPUT (not a DataTransfer, bad options) or FILE_READ
 * (a dropped file or folder could not be read).
 */
export function entriesFromDataTransfer(
  dataTransfer: DataTransfer,
  options?: EntriesOptions,
): Promise<FolderEntry[]>;

/** Progress of a whole folder upload: the files' counts, then the sums of their bytes. */
export interface TreeProgress extends UploadProgress {
  /** Files in place: created, versioned, renamed or skipped. */
  filesDone: number;
  /** Files that failed. */
  filesFailed: number;
  /** Files in the tree (ignored ones are not). */
  filesTotal: number;
}

/** Options of `uploadFolder`: its own, then `upload()`'s that apply to every file. */
export interface UploadFolderOptions
  extends Omit<UploadOptions, "filename" | "contentType" | "onProgress"> {
  /** Project Documents when set, else the company's. */
  projectId?: number;
  /** The Documents folder the tree goes into; default: the root. */
  parentId?: number;
  /**
   * A file whose name is taken in its folder: "version" (default: a new version of
   * it), "rename" (Procore gives it a free name), "skip", "error" (NAME_TAKEN). Folders
   * already there are always reused.
   */
  onExisting?: "version" | "rename" | "skip" | "error";
  /** The whole tree's progress. */
  onProgress?: (progress: TreeProgress) => void;
  /** Each file's progress, by its path in the tree. */
  onFileProgress?: (path: string, progress: UploadProgress) => void;
  /** Names left out (see `EntriesOptions.ignore`); `[]` leaves out nothing. */
  ignore?: readonly string[];
  /** "auto": go on from what an interrupted run of the same entries put in place. */
  resume?: "auto";
}

/** A folder of the tree, at the end. */
export interface FolderUploadFolder {
  path: string;
  /** Its Procore id; null when it could not be looked up or made. */
  id: number | null;
  /** Whether this call made it (false: it was there and is reused). */
  created: boolean;
}

/** A file of the tree, at the end. */
export interface FolderUploadFile {
  path: string;
  status: "created" | "versioned" | "renamed" | "skipped" | "failed";
  uploadUuid: string | null;
  /** The Procore file (skipped: the one left there). */
  fileId: number | null;
  versionId: number | null;
  /** What Procore calls it (after "rename", its new name). */
  name: string | null;
  /** Why it failed; null otherwise. */
  error: ProcoreUploadError | null;
}

/** What `uploadFolder` resolves to: every folder (parents first) and every file. */
export interface FolderUploadResult {
  folders: FolderUploadFolder[];
  files: FolderUploadFile[];
}
