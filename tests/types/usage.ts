// Compiled (not run) by scripts/test against pkg/index.d.ts: the README's calls must
// type-check, and misuse must not.
import { ProcoreClient, ProcoreUploadError, entriesFromDataTransfer, hashFile } from "procore-upload";
import type { DrawingAreasOptions, FolderEntry, FolderUploadResult, TreeProgress, FindResumableOptions, HttpMethod, ProcoreUploadErrorCode, UploadProgress, UploadResult, UploadState, UploadTask } from "procore-upload";

declare const file: File;

async function main(): Promise<void> {
  const client = new ProcoreClient({
    companyId: 1234,
    getAccessToken: async ({ refresh }) => (refresh ? "fresh token" : "cached token"),
    apiVersion: "v2.1",
    concurrency: 6,
    maxActiveUploads: 3,
    stallTimeoutMs: 30_000,
    workers: 2,
    workerIdleMs: 10_000,
    onStoreError: (error: ProcoreUploadError) => console.warn(error.code, error.cause),
  });
  const controller = new AbortController();
  const result: UploadResult = await client.upload(file, {
    projectId: 42,
    segmented: "auto",
    segmentSize: 16 * 1024 * 1024,
    concurrency: 4,
    onProgress: (p: UploadProgress) => console.log(p.phase, p.bytesUploaded / p.totalBytes),
    signal: controller.signal,
  });
  const etags: string[] = (result.segments ?? []).map((s) => s.etag);
  const hashed = await client.hashSegments(file, { segmentSize: 5 * 1024 * 1024 + 1, md5: false });
  const first: string = hashed.segments[0].sha256;
  const task: UploadTask = client.start(file, { projectId: 42, resume: "auto" });
  await task.pause();
  await task.resume();
  const scope: FindResumableOptions = { projectId: 42, apiVersion: "v1.1", filename: "plan.pdf" };
  const kept: UploadState[] = await client.findResumable(file, scope);
  const shown = kept.map((s) => `${s.name} (${s.size} B, ${s.lastModified ?? "?"}): ${s.bytesConfirmed} B confirmed, ${s.phase} at ${new Date(s.updatedAt)}, ${s.scope.apiVersion} ${s.scope.companyId}/${s.scope.projectId ?? "-"} ${s.key}`);
  const opaque: string = kept[0].internal;
  const again = client.start(file, { resume: JSON.parse(JSON.stringify(kept[0])) as UploadState });
  const status: "running" | "paused" | "done" | "failed" | "cancelled" = again.status;
  const confirmed: number = again.state?.bytesConfirmed ?? 0;
  // @ts-expect-error the ETags (as the instructions, digests, upload id) are internal
  const etagsKept = again.state?.etags;
  // @ts-expect-error a kept state is not for changing
  kept[0].bytesConfirmed = 0;
  // @ts-expect-error findResumable takes what identifies the scope, no upload option
  await client.findResumable(file, { projectId: 42, segmentSize: 5 * 1024 * 1024 });
  await again.cancel();
  const done: UploadResult = await task.done;
  const speed: number | undefined = (null as unknown as UploadProgress).bytesPerSecond;
  console.log(status, shown, opaque, confirmed, etagsKept, done, speed);
  // @ts-expect-error resume takes "auto" or a state
  client.start(file, { resume: "yes" });
  const stateless = new ProcoreClient({ companyId: 1, accessToken: "t", store: false });
  const custom = new ProcoreClient({ companyId: 1, accessToken: "t", store: {
    get: (key) => localStorage.getItem(key),
    put: (key, value) => localStorage.setItem(key, value),
    delete: (key) => localStorage.removeItem(key),
    list: () => Object.entries(localStorage),
  } });
  console.log(stateless, custom);
  const whole = await hashFile(file);
  const digest: string = whole.sha256;
  try {
    const closing = new ProcoreClient({ companyId: 1, accessToken: "t" });
    await closing.upload(file, { apiVersion: "v1.0" });
    closing.close();
  } catch (error) {
    // @ts-expect-error a caught value is unknown until narrowed
    console.log(error.code);
    if (!(error instanceof ProcoreUploadError)) throw error;
    // Narrowed by instanceof: no cast.
    const code: ProcoreUploadErrorCode = error.code;
    const status: number | undefined = error.status;
    const cause: unknown = error.cause;
    const wait: number | undefined = error.retryAfterMs;
    const method: HttpMethod | undefined = error.method;
    const path: string | undefined = error.path;
    const name: "ProcoreUploadError" | "AbortError" = error.name;
    const uploaded: UploadResult | undefined = error.upload;
    const isError: Error = error;
    console.log(etags, first, digest, code, status, cause, wait, method, path, name, uploaded, isError, describe(code));
    // @ts-expect-error retryAfterMs is a number of milliseconds
    const waitText: string | undefined = error.retryAfterMs;
    // @ts-expect-error methods are a closed list
    const trace: "TRACE" | undefined = error.method;
    // @ts-expect-error codes are a closed list, not any string
    const unknownCode: ProcoreUploadErrorCode = "NOT_A_CODE";
    // @ts-expect-error a code is not any string either way
    const asCode: ProcoreUploadError["code"] = "HTTP_ERROR";
    console.log(unknownCode, asCode, waitText, trace);
  }
  const made = new ProcoreUploadError("GET /x answered 503", { code: "HTTP", status: 503, retryAfterMs: 2000, method: "GET", path: "/x", cause: new Error("busy") });
  const aborted = new ProcoreUploadError("stopped", { code: "ABORTED", cause: controller.signal.reason });
  console.log(made, aborted);
  // @ts-expect-error the options need a code
  new ProcoreUploadError("x", { status: 500 });
  // @ts-expect-error and a known one
  new ProcoreUploadError("x", { code: "OOPS" });

  interface Rfi { id: number; subject: string }
  const rfis = await client.request<Rfi[]>("GET", "/rest/v1.0/projects/42/rfis", { query: { per_page: 100, "filters[status]": ["open", "draft"] } });
  const subject: string = rfis[0].subject;
  await client.request("PATCH", "/rest/v1.0/projects/42/rfis/7", {
    body: { rfi: { upload_ids: [result.uuid] } },
    headers: { "Idempotency-Token": "one-key" },
  });
  console.log(subject);
  // @ts-expect-error methods are a closed list
  await client.request("TRACE", "/rest/v1.0/me");
  // @ts-expect-error query values are scalars or arrays of them
  await client.request("GET", "/rest/v1.0/me", { query: { nested: { a: 1 } } });

  await client.createProjectFile({ projectId: 42, uploadUuid: result.uuid, name: "plan.pdf", parentId: null, procoreFields: { custom_field_9: "x", is_tracked: true } });
  await client.createImage({ projectId: 42, uploadUuid: result.uuid, imageName: "site.png", procoreFields: { log_date: "2026-11-23" } });
  const areasOf: DrawingAreasOptions = { projectId: 42, signal: controller.signal };
  const areas = await client.listDrawingAreas<{ id: number; drawing_set_id: number }[]>(areasOf);
  await client.createDrawing({ drawingAreaId: areas[0].id, number: "A-101", disciplineName: "Architectural" });
  await client.createDrawingUpload({
    projectId: 42, drawingAreaId: areas[0].id, drawingSetId: areas[0].drawing_set_id,
    imports: [{ uploadUuid: result.uuid, drawingDate: "2026-11-23", procoreFields: { title: "Ground floor" } }],
    procoreFields: { notify: false },
  });
  await client.createAccidentLog({ projectId: 42, uploadIds: [result.uuid], timeHour: 10, timeMinute: 15, comments: "Minor incident near loading zone" });
  await client.createAccidentLog({ projectId: 42, uploadIds: [result.uuid], timeHour: 10, timeMinute: 15, date: "2026-11-23", involvedName: "Roger", procoreFields: { custom_field_3: 1 }, signal: controller.signal });
  // @ts-expect-error Procore requires the minute of an accident
  await client.createAccidentLog({ projectId: 42, uploadIds: [result.uuid], timeHour: 10 });
  // @ts-expect-error and its hour
  await client.createAccidentLog({ projectId: 42, uploadIds: [result.uuid], timeMinute: 15 });
  // @ts-expect-error and its project
  await client.createAccidentLog({ uploadIds: [result.uuid], timeHour: 10, timeMinute: 15 });
  // @ts-expect-error upload ids are strings
  await client.createAccidentLog({ projectId: 42, uploadIds: [7], timeHour: 10, timeMinute: 15 });
  // @ts-expect-error ids go in the options object, not before it
  await client.createAccidentLog(42, { uploadIds: [result.uuid], timeHour: 10, timeMinute: 15 });
  // @ts-expect-error nor for drawings
  await client.createDrawing(areas[0].id, { number: "A-101", disciplineName: "Architectural" });
  // @ts-expect-error nor for drawing areas
  await client.listDrawingAreas(42);
  // @ts-expect-error a misspelled option is refused, not sent
  await client.createProjectFile({ projectId: 42, uploadUuid: result.uuid, name: "plan.pdf", parentID: 7 });
  // @ts-expect-error Procore's own fields go in procoreFields, not beside the named ones
  await client.createProjectFile({ projectId: 42, uploadUuid: result.uuid, name: "plan.pdf", is_tracked: true });
  // @ts-expect-error an image's Procore fields are procoreFields now
  await client.createImage({ projectId: 42, uploadUuid: result.uuid, imageName: "site.png", image: { log_date: "2026-11-23" } });
  // @ts-expect-error a misspelled import field
  await client.createDrawingUpload({ projectId: 1, drawingAreaId: 2, drawingSetId: 3, imports: [{ uploadUuid: "U", drawingDate: "2026-11-23", drawingID: 4 }] });
  // @ts-expect-error procoreFields is an object
  await client.createCompanyFile({ uploadUuid: result.uuid, name: "terms.pdf", procoreFields: "x" });
  interface CompanyFile { id: number; name: string }
  const companyFile = await client.createCompanyFile<CompanyFile>({ uploadUuid: result.uuid, name: "terms.pdf", parentId: null, description: "", private: true, signal: controller.signal });
  const companyFileId: number = companyFile.id;
  await client.createCompanyFile({ uploadUuid: result.uuid, name: "terms.pdf", procoreFields: { custom_field_9: "x" } });
  console.log(companyFileId);
  // @ts-expect-error name is required
  await client.createCompanyFile({ uploadUuid: result.uuid });
  // @ts-expect-error private is a boolean
  await client.createCompanyFile({ uploadUuid: result.uuid, name: "terms.pdf", private: "yes" });
  // @ts-expect-error a company file target's named fields keep their types
  await client.uploadAndAttach(file, { companyFile: { parentId: "root" } });
  // @ts-expect-error imports hold objects
  await client.createDrawingUpload({ projectId: 1, drawingAreaId: 2, drawingSetId: 3, imports: ["U"] });

  const both = await client.uploadAndAttach(file, { projectFile: { projectId: 42, parentId: 3 } }, { onProgress: (p) => p.phase === "attaching" });
  const attachedUuid: string = both.upload.uuid;
  console.log(attachedUuid, both.attached);
  await client.uploadAndAttach(file, { drawing: { projectId: 42, drawingAreaId: 1, drawingSetId: 2, drawingDate: "2026-11-23" } });
  await client.uploadAndAttach(file, { companyFile: {} });
  await client.uploadAndAttach(file, { companyFile: { name: "terms.pdf", parentId: 3, description: "signed", private: false } }, { signal: controller.signal });
  await client.uploadAndAttach(file, { image: { projectId: 42 } });
  const image = await client.uploadAndAttach<{ id: number }>(file, { image: { projectId: 42, imageName: "site.png", source: "API", procoreFields: { description: "North wall", log_date: "2026-11-23" } } });
  const imageId: number = image.attached.id;
  await client.uploadAndAttach(file, { accidentLog: { projectId: 42, timeHour: 10, timeMinute: 15 } });
  await client.uploadAndAttach(file, { accidentLog: { projectId: 42, timeHour: 10, timeMinute: 15, comments: "…", involvedCompany: "Procore Technologies" } }, { onProgress: (p) => console.log(p.phase) });
  console.log(imageId);
  // @ts-expect-error an image target needs its project
  await client.uploadAndAttach(file, { image: { imageName: "site.png" } });
  // @ts-expect-error image fields are an object
  await client.uploadAndAttach(file, { image: { projectId: 42, procoreFields: "north" } });
  // @ts-expect-error a misspelled target option
  await client.uploadAndAttach(file, { projectFile: { projectId: 42, parentID: 7 } });
  // @ts-expect-error the upload's id is not the caller's to give
  await client.uploadAndAttach(file, { projectFile: { projectId: 42, uploadUuid: "U" } });
  await client.uploadAndAttach(file, { drawing: { projectId: 42, drawingAreaId: 1, drawingSetId: 2, drawingDate: "2026-11-23", procoreFields: { title: "A" } } });
  // @ts-expect-error an accident log target needs its project
  await client.uploadAndAttach(file, { accidentLog: { timeHour: 10, timeMinute: 15 } });
  // @ts-expect-error and Procore needs the time of the accident
  await client.uploadAndAttach(file, { accidentLog: { projectId: 42, comments: "…" } });
  // @ts-expect-error a drawing target needs its date
  await client.uploadAndAttach(file, { drawing: { projectId: 42, drawingAreaId: 1, drawingSetId: 2 } });
  // @ts-expect-error targets are named
  await client.uploadAndAttach(file, { folder: { projectId: 42 } });

  // The attach step alone, again after a failed attach, with one token for every try.
  const attachedAgain = await client.attach<{ id: number }>(result, { projectFile: { projectId: 42 } }, { fileName: "plan.pdf", idempotencyToken: "row-1", signal: controller.signal });
  console.log(attachedAgain.id);
  await client.attach({ uuid: "U" }, { companyFile: { name: "terms.pdf" } });
  // @ts-expect-error the upload is upload()'s result: it has a uuid
  await client.attach("U", { companyFile: { name: "terms.pdf" } });
  // @ts-expect-error a misspelled attach option
  await client.attach(result, { companyFile: {} }, { filename: "plan.pdf" });
  // @ts-expect-error the token is a string
  await client.attach(result, { companyFile: {} }, { idempotencyToken: 7 });

  // @ts-expect-error companyId is required
  new ProcoreClient({ accessToken: "t" });
  // @ts-expect-error apiVersion is one of three
  new ProcoreClient({ companyId: 1, accessToken: "t", apiVersion: "v3" });
  // @ts-expect-error segmented is a boolean or "auto"
  await client.upload(file, { segmented: "yes" });
  // @ts-expect-error a misspelled upload option
  await client.upload(file, { projectID: 42 });
  // @ts-expect-error a misspelled client option
  new ProcoreClient({ companyId: 1, accessToken: "t", baseURL: "https://api.procore.com" });
  // @ts-expect-error request() takes query, body, headers and signal only
  await client.request("GET", "/rest/v1.0/me", { params: { a: 1 } });
  // @ts-expect-error hashFile's options are named
  await hashFile(file, { MD5: false });
  // @ts-expect-error the client's per-segment hashing is hashSegments (hashFile is the top-level whole-file digest)
  await client.hashFile(file);
  new ProcoreClient({ companyId: 1, accessToken: "t", workerUrl: new URL("https://cdn.example/hash-worker.js") });
  await client.upload(file, { workers: 0 });
  // @ts-expect-error phases are named
  const phase: UploadProgress["phase"] = "sending";
  console.log(phase);
}

/** Every code handled: adding one to the list without handling it fails to compile. */
function describe(code: ProcoreUploadErrorCode): string {
  switch (code) {
    case "INVALID_INPUT":
    case "HTTP":
    case "NETWORK":
    case "ABORTED":
    case "EXPIRED":
    case "MISSING_ETAG":
    case "ACCESS_TOKEN":
    case "UNAUTHORIZED":
    case "RATE_LIMITED":
    case "PROTOCOL":
    case "PROCESSING_FAILED":
    case "TIMEOUT":
    case "FILE_READ":
    case "WORKER":
    case "STORE":
    case "LOAD":
    case "NAME_TAKEN":
      return code;
    default: {
      const unhandled: never = code;
      return unhandled;
    }
  }
}

void main;

// The README's opening example, as written there.
declare const session: { token: string };
declare const bar: { value: number };
declare const pauseButton: { onclick: (() => unknown) | null };
async function readmeOpening(file: File): Promise<void> {
  const client = new ProcoreClient({ companyId: 1234, getAccessToken: () => session.token });
  const task = client.start(file, { projectId: 42, resume: "auto",
    onProgress: (p) => (bar.value = p.bytesUploaded / p.totalBytes) });
  pauseButton.onclick = () => task.pause();
  const upload = await task.done;
  await client.createProjectFile({ projectId: 42, uploadUuid: upload.uuid, name: file.name });
  try {
    await task.done;
  } catch (e) {
    if (e instanceof ProcoreUploadError && e.code === "RATE_LIMITED") console.log(e.retryAfterMs);
  }
}
console.log(readmeOpening);

/** A drop's files and folders (issue 23). */
export function onDrop(event: DragEvent): Promise<FolderEntry[]> | undefined {
  if (!event.dataTransfer) return undefined;
  void entriesFromDataTransfer(event.dataTransfer, { ignore: [] }).then((entries) => {
    for (const entry of entries) {
      const what: string = "file" in entry ? `${entry.path}: ${entry.file.size} B` : `${entry.path}/`;
      console.log(what);
    }
  });
  // @ts-expect-error ignore is a list of names
  void entriesFromDataTransfer(event.dataTransfer, { ignore: ".DS_Store" });
  // @ts-expect-error a misspelled option
  void entriesFromDataTransfer(event.dataTransfer, { ignored: [] });
  return entriesFromDataTransfer(event.dataTransfer);
}

/** A tree into Documents (issue 23). */
export async function folders(client: ProcoreClient, input: HTMLInputElement, entries: FolderEntry[]): Promise<FolderUploadResult> {
  if (input.files) {
    await client.uploadFolder(input.files, { projectId: 42, onExisting: "skip" });
  }
  const result = await client.uploadFolder(entries, {
    parentId: 7,
    onExisting: "rename",
    ignore: [],
    resume: "auto",
    segmentSize: 5 * 1024 * 1024,
    onProgress: (p: TreeProgress) => console.log(p.filesDone, p.filesFailed, p.filesTotal, p.bytesUploaded),
    onFileProgress: (path: string, p: UploadProgress) => console.log(path, p.phase),
  });
  for (const f of result.files) {
    const status: "created" | "versioned" | "renamed" | "skipped" | "failed" = f.status;
    if (f.error) console.log(status, f.error.code === "NAME_TAKEN", f.fileId, f.versionId, f.name, f.uploadUuid);
  }
  for (const folder of result.folders) console.log(folder.path, folder.id, folder.created);
  await client.uploadFolder([file], {});
  // @ts-expect-error a misspelled option
  await client.uploadFolder(entries, { parentID: 7 });
  // @ts-expect-error onExisting is one of four
  await client.uploadFolder(entries, { onExisting: "overwrite" });
  // @ts-expect-error a file's own name is its path's last
  await client.uploadFolder(entries, { filename: "x.pdf" });
  return result;
}
