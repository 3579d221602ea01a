// Uppy 5 (@uppy/core + @uppy/aws-s3, multipart) wired to Procore's v1.1 upload API
// as an integrator would: createMultipartUpload hashes the file's 16 MiB segments
// (SHA-256 + MD5, hash-wasm in a worker: `hashSegments`) and creates the upload with
// them; signPart hands each part the URL and headers the create answer gave it (plus
// Content-Type application/octet-stream, as the library and the bare flow send);
// completeMultipartUpload PATCHes the ETags in part order. Bundled for the page by
// bench/large-file.mjs with esbuild (no CDN).
import Uppy from "@uppy/core";
import AwsS3 from "@uppy/aws-s3";

/**
 * Uploads `file` through Uppy; resolves to the upload's uuid.
 * @param {{ api: string, file: File, segment: number, hashSegments: (file: File) => Promise<object[]> }} options
 */
export async function uploadWithUppy({ api, file, segment, hashSegments }) {
  const headers = { Authorization: "Bearer sandbox-token", "Procore-Company-Id": "7", "Content-Type": "application/json" };
  const created = new Map();
  const uppy = new Uppy({ autoProceed: false });
  uppy.use(AwsS3, {
    shouldUseMultipart: true,
    limit: 6,
    getChunkSize: () => segment,
    async createMultipartUpload(uppyFile) {
      const segments = await hashSegments(uppyFile.data);
      const response = await fetch(`${api}/rest/v1.1/companies/7/uploads`, {
        method: "POST",
        headers,
        body: JSON.stringify({ response_filename: uppyFile.name, segments }),
      });
      if (!response.ok) throw new Error(`create: ${response.status} ${await response.text()}`);
      const upload = await response.json();
      created.set(upload.uuid, upload);
      return { uploadId: upload.uuid, key: upload.uuid };
    },
    signPart(_file, { uploadId, partNumber }) {
      const part = created.get(uploadId).segments[partNumber - 1];
      return { method: "PUT", url: part.url, headers: { ...part.headers, "Content-Type": "application/octet-stream" } };
    },
    async completeMultipartUpload(_file, { uploadId, parts }) {
      const etags = [...parts].sort((a, b) => a.PartNumber - b.PartNumber).map((part) => ({ etag: part.ETag }));
      const response = await fetch(`${api}/rest/v1.1/companies/7/uploads/${uploadId}`, {
        method: "PATCH",
        headers,
        body: JSON.stringify({ segments: etags }),
      });
      if (!response.ok) throw new Error(`complete: ${response.status} ${await response.text()}`);
      return {};
    },
    listParts: () => [],
    abortMultipartUpload: () => {},
  });
  uppy.addFile({ name: file.name, type: file.type || "application/octet-stream", data: file, source: "bench" });
  const result = await uppy.upload();
  const [uploadId] = created.keys();
  uppy.destroy();
  if (!result || result.failed.length > 0 || !uploadId) {
    throw new Error(`Uppy failed: ${result?.failed.map((f) => f.error).join("; ") ?? "no result"}`);
  }
  return uploadId;
}
