// One large file end to end (bench/large-file.mjs): each variant hashes the picked
// File, creates the upload, PUTs its segments to storage and completes it; resolves to
// { ms, hashMs, uuid } (hashMs: until the hashing was over; uuid: to check what
// storage holds). `prepare` runs before the memory
// baseline (modules loaded, the wasm compiled, a client made), `run` is timed.
const SEGMENT = 16 * 1024 * 1024;
const HEADERS = { Authorization: "Bearer sandbox-token", "Procore-Company-Id": "7", "Content-Type": "application/json" };

const picked = () => document.getElementById("files").files[0];

/** Segment digests from a fresh hash worker (bench/large/hash-worker.js), ended after. */
function hashInWorker(file, mode, ahead) {
  const worker = new Worker("/large/hash-worker.js", { type: "module" });
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data.segments));
    worker.onerror = (event) => reject(new Error(`hash worker: ${event.message}`));
    worker.postMessage({ file, segment: SEGMENT, mode, ahead });
  }).finally(() => worker.terminate());
}

/**
 * The bare flow: SHA-256 of each segment by WebCrypto in a worker (no MD5), the v1.1
 * create with the segments, every segment PUT by fetch to its URL with exactly the
 * given headers (+ Content-Type), 6 at a time, the ETags PATCHed in order.
 */
async function bare(api, file, hashed, xhr) {
  const segments = await hashInWorker(file, "webcrypto", 4);
  hashed();
  const response = await fetch(`${api}/rest/v1.1/companies/7/uploads`, {
    method: "POST",
    headers: HEADERS,
    body: JSON.stringify({ response_filename: file.name, segments }),
  });
  if (!response.ok) throw new Error(`bare create: ${response.status} ${await response.text()}`);
  const upload = await response.json();
  const etags = new Array(upload.segments.length);
  let next = 0;
  const lane = async () => {
    while (next < upload.segments.length) {
      const index = next++;
      const part = upload.segments[index];
      const body = file.slice(index * SEGMENT, Math.min((index + 1) * SEGMENT, file.size));
      const headers = { ...part.headers, "Content-Type": "application/octet-stream" };
      if (xhr) {
        etags[index] = { etag: await putByXhr(part.url, headers, body, index) };
        continue;
      }
      const stored = await fetch(part.url, { method: "PUT", headers, body });
      if (!stored.ok) throw new Error(`bare PUT ${index}: ${stored.status} ${await stored.text()}`);
      etags[index] = { etag: stored.headers.get("ETag") };
    }
  };
  await Promise.all(Array.from({ length: 6 }, lane));
  const completed = await fetch(`${api}/rest/v1.1/companies/7/uploads/${upload.uuid}`, {
    method: "PATCH",
    headers: HEADERS,
    body: JSON.stringify({ segments: etags }),
  });
  if (!completed.ok) throw new Error(`bare complete: ${completed.status} ${await completed.text()}`);
  return upload.uuid;
}

/**
 * One PUT by XHR with an upload progress listener, as an uploader that reports
 * progress must send (fetch reports none while sending): the ETag.
 */
function putByXhr(url, headers, body, index) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    let sent = 0;
    xhr.upload.onprogress = (event) => (sent = event.loaded);
    xhr.onload = () => (xhr.status < 300 ? resolve(xhr.getResponseHeader("ETag")) : reject(new Error(`bare XHR PUT ${index}: ${xhr.status} (${sent} B sent)`)));
    xhr.onerror = () => reject(new Error(`bare XHR PUT ${index}: network error`));
    xhr.send(body);
  });
}

window.largeBench = {
  async prepare({ kind, api, clientOptions }) {
    if (kind === "library") {
      const { ProcoreClient } = await import("/pkg/index.js");
      window.benchClient = new ProcoreClient({
        companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true, ...clientOptions,
      });
      // The wasm compiled before the baseline, as for the others' modules.
      await window.benchClient.request("GET", "/rest/v1.0/me").catch(() => null);
    } else if (kind === "uppy") {
      window.benchUppy = await import("/large-built/uppy.js");
    }
  },

  async run({ kind, api, options }) {
    const file = picked();
    const started = performance.now();
    // When the hashing was over (the library: its first progress past "hashing"), to
    // split each run into hashing and the rest (create, PUTs, complete).
    let hashedAt = null;
    const hashed = () => (hashedAt ??= performance.now());
    let uuid;
    if (kind === "library") {
      const onProgress = ({ phase }) => phase !== "queued" && phase !== "hashing" && hashed();
      const result = await window.benchClient.upload(file, { ...options, onProgress });
      if (!result.segments?.length) throw new Error(`not segmented: ${JSON.stringify(result).slice(0, 200)}`);
      uuid = result.uuid;
    } else if (kind === "bare") {
      uuid = await bare(api, file, hashed, options?.xhr === true);
    } else if (kind === "uppy") {
      uuid = await window.benchUppy.uploadWithUppy({
        api, file, segment: SEGMENT,
        hashSegments: async (data) => {
          const segments = await hashInWorker(data, "hash-wasm");
          hashed();
          return segments;
        },
      });
    } else {
      throw new Error(`unknown variant kind ${kind}`);
    }
    const ended = performance.now();
    return { ms: ended - started, hashMs: (hashedAt ?? ended) - started, uuid };
  },

  async finish({ kind }) {
    if (kind === "library") await window.benchClient.close();
  },
};
