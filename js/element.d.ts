// Types of `procore-upload/element`: <procore-uploader> (issue 24).
import type {
  AttachTarget,
  FolderUploadFile,
  ProcoreClient,
  ProcoreUploadError,
  StartOptions,
  UploadProgress,
  UploadResult,
} from "./index.js";

/** Every visible text of the element; `strings` takes any part of it. `{name}` and the like are filled in. */
export interface ProcoreUploaderStrings {
  dropzone: string;
  dropzoneFolders: string;
  dropzoneDisabled: string;
  fileList: string;
  /** "Pause {name}" (also Resume, Cancel, Retry): the buttons' accessible names. */
  pause: string;
  resume: string;
  cancel: string;
  retry: string;
  progressOf: string;
  pauseAll: string;
  resumeAll: string;
  cancelAll: string;
  clear: string;
  phaseWaiting: string;
  phaseQueued: string;
  phaseHashing: string;
  phaseCreating: string;
  phaseUploading: string;
  phaseCompleting: string;
  phaseProcessing: string;
  phaseAttaching: string;
  phaseDone: string;
  phasePaused: string;
  phaseFailed: string;
  phaseCancelled: string;
  speed: string;
  timeLeft: string;
  summary: string;
  summaryFailed: string;
  summaryEmpty: string;
  announceProgress: string;
  announceDone: string;
  announceFailed: string;
  announceQueueComplete: string;
  rejectedTooMany: string;
  rejectedTooLarge: string;
  rejectedNotAccepted: string;
  errorDetails: string;
  errorDetailsStatus: string;
  errorNoClient: string;
  /** One sentence per error code (`errorEXPIRED`, `errorNETWORK`, …), `errorOther` for the rest. */
  [errorCode: `error${string}`]: string;
}

/** The English texts. */
export declare const DEFAULT_STRINGS: Readonly<ProcoreUploaderStrings>;

/** Where a file's upload is attached: one target for all, or one per file (null: upload only). */
export type ProcoreUploaderTarget = AttachTarget | ((file: File, path: string) => AttachTarget | null);

export interface ProcoreUploaderEventMap {
  "upload-progress": CustomEvent<{ file: File; progress: UploadProgress }>;
  /**
   * `result`: what `upload()` resolved to; for a file of a tree (`directory`, through
   * `uploadFolder`), its `FolderUploadFile`. `attached`: Procore's answer to the attach
   * (for a tree's file `{ id, versionId, name, status }`), null without a target.
   */
  "upload-complete": CustomEvent<{ file: File; result: UploadResult | FolderUploadFile; attached: unknown }>;
  /** `file` is null when a dropped folder could not be read. */
  "upload-error": CustomEvent<{ file: File | null; error: ProcoreUploadError }>;
  "files-rejected": CustomEvent<{ files: File[]; reason: "too-many" | "too-large" | "not-accepted" }>;
  /** Once no file is waiting, uploading or paused: the batch's counts (cancelled files in neither). */
  "queue-complete": CustomEvent<{ succeeded: number; failed: number }>;
}

/**
 * `<procore-uploader>`: a drop zone and an upload queue on a ProcoreClient. Attributes:
 * `project-id`, `accept`, `max-files`, `max-file-size` (bytes), `directory`,
 * `disabled`, `theme` ("light" or "dark"; default: the system's).
 */
export declare class ProcoreUploader extends HTMLElement {
  /** The client the uploads go through. */
  client: ProcoreClient | null;
  /**
   * Where each finished upload is attached; null: upload only. With `directory`, a
   * picked or dropped tree goes through `uploadFolder` when the target (the function's
   * answer for its first file) is `{ projectFile }` or `{ companyFile }`: into that
   * `projectId` and `parentId`, folders made once. Pause all / Resume all / Cancel all
   * and Retry act on the whole tree.
   */
  target: ProcoreUploaderTarget | null;
  /**
   * Options of each upload, as `client.start` takes them: `resume` is "auto" unless
   * given here, `projectId` the `project-id` attribute's when it is set (else the
   * target's); `onProgress` is called besides the element's own.
   */
  uploadOptions: StartOptions;
  /** Setting merges a partial object over the English defaults; reading gives them all. */
  get strings(): ProcoreUploaderStrings;
  set strings(value: Partial<ProcoreUploaderStrings> | null);
  disabled: boolean;
  /** Adds files as if they were dropped: accept, max-files and max-file-size apply. */
  addFiles(files: FileList | readonly File[]): void;
  pauseAll(): Promise<void>;
  resumeAll(): Promise<void>;
  cancelAll(): Promise<void>;
  /** Removes the rows of finished files (uploaded, failed, cancelled). */
  clear(): void;
  addEventListener<K extends keyof ProcoreUploaderEventMap>(
    type: K,
    listener: (this: ProcoreUploader, event: ProcoreUploaderEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
}

declare global {
  interface HTMLElementTagNameMap {
    "procore-uploader": ProcoreUploader;
  }
}
