/** Progress of a hash or upload; no counter ever goes backwards. */
export interface UploadProgress {
  phase: "hashing" | "creating" | "uploading" | "completing" | "processing" | "done";
  bytesHashed: number;
  bytesUploaded: number;
  totalBytes: number;
  segmentsDone: number;
  segmentsTotal: number;
}

export interface HashFileOptions {
  /** Compute MD5 besides SHA-256 (default true). */
  md5?: boolean;
  /** Bytes read per step, 1 B to 64 MiB (default 4 MiB). */
  chunkSize?: number;
  /** Called before the first read, after each read, and once with phase "done". */
  onProgress?: (progress: UploadProgress) => void;
  /** Aborting rejects the promise with an `AbortError` and stops reading. */
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
export type ProcoreUploadErrorCode = "INVALID_INPUT" | "FILE_READ" | "ABORTED";

export interface ProcoreUploadError extends Error {
  name: "ProcoreUploadError" | "AbortError";
  code: ProcoreUploadErrorCode;
}

/** Hashes a Blob or File in slices: SHA-256 and MD5 in one pass over the bytes. */
export function hashFile(file: Blob, options?: HashFileOptions): Promise<HashFileResult>;
