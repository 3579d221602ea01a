// Folder uploads (issue 23): `client.uploadFolder` on a 500-file tree against the
// sandbox's project Documents: the wall time, files/s and the API calls by kind
// (total and per file) of a first run (every file new) and a second run of the same
// tree (every file a new version, `onExisting: "version"`), beside the same files by
// `client.upload` + `client.createProjectFile` into folders made beforehand, all
// started at once (Promise.all): what the tree machinery costs or saves. After each
// run the sandbox's Documents are checked: every folder once, every file once with the
// expected number of versions and its latest version byte-exact (SHA-256 computed in
// the page): a wrong result fails the benchmark, it is not a number.
//
// Run: node bench/folders.mjs [rounds=3] [files=500]
// Env: BENCH_ENGINE chromium (default) | firefox | webkit
//      BENCH_API_VERSIONS "v1.1,v2.1" (the client's apiVersion, each in every round)
//      BENCH_COMPARE 1 (default) | 0: leave out upload + createProjectFile
//      BENCH_PROCESSING_DELAY_MS 300 (the sandbox's default: how long a v2.1 upload
//        is "processing" before it is "available")
//      BENCH_SEED 23 (the tree's sizes and bytes)
//      BENCH_CLIENT_OPTIONS JSON added to the client's options (e.g. {"maxActiveUploads":6})
//      BENCH_JSON a file to write every run's numbers and calls to
//      SANDBOX_BIN the sandbox binary (e.g. target/sandbox/procore-sandbox)
import fs from "node:fs";
import { openWorld } from "../tests/e2e/support.mjs";

const rounds = Number(process.argv[2] ?? 3);
const count = Number(process.argv[3] ?? 500);
if (!(Number.isInteger(rounds) && rounds > 0 && Number.isInteger(count) && count > 0)) {
  throw new Error("usage: node bench/folders.mjs [rounds > 0] [files > 0]");
}
const engine = process.env.BENCH_ENGINE ?? "chromium";
const apiVersions = (process.env.BENCH_API_VERSIONS ?? "v1.1,v2.1").split(",").map((v) => v.trim()).filter(Boolean);
const compare = (process.env.BENCH_COMPARE ?? "1") !== "0";
const processingDelayMs = Number(process.env.BENCH_PROCESSING_DELAY_MS ?? 300);
const seed = Number(process.env.BENCH_SEED ?? 23);
const clientOptions = JSON.parse(process.env.BENCH_CLIENT_OPTIONS ?? "{}");
const storeKind = process.env.BENCH_STORE ?? "indexeddb";

// --- the tree ------------------------------------------------------------------------

/** mulberry32: a small seeded generator of floats in [0, 1). */
function random(state) {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` files, 25 to a leaf folder, 4 leaf folders to a discipline (500: 5 × 4 × 25),
 * plus two empty folders (one nested). Sizes log-uniform from 1 KB to 200 KB, one file
 * in a hundred 1 to 5 MB instead; all from `seed`.
 */
function makeTree() {
  const disciplines = ["Architectural", "Structural", "MEP", "Civil", "Landscape"];
  const subs = ["Drawings", "Specifications", "Submittals", "RFIs"];
  const kinds = { Drawings: ".pdf", Specifications: ".docx", Submittals: ".pdf", RFIs: ".xlsx" };
  const next = random(seed);
  const files = [];
  const folders = new Set(["Photos", "Photos/2026-12", "Closeout"]);
  const empty = ["Photos/2026-12", "Closeout"];
  for (let i = 0; i < count; i++) {
    const leaf = Math.floor(i / 25);
    const d = Math.floor(leaf / subs.length);
    const discipline = disciplines[d] ?? `Discipline ${d + 1}`;
    const sub = subs[leaf % subs.length];
    const large = next() < 0.01;
    const size = large
      ? Math.round(1_000_000 + next() * 4_000_000)
      : Math.round(1000 * Math.exp(next() * Math.log(200)));
    const name = `${discipline.slice(0, 1)}-${String(100 + (i % 25)).padStart(3, "0")} ${sub.toLowerCase()} ${i}${kinds[sub]}`;
    folders.add(discipline);
    folders.add(`${discipline}/${sub}`);
    files.push({ path: `${discipline}/${sub}/${name}`, size });
  }
  return { files, folders: [...folders].sort(), empty };
}

const tree = makeTree();
const totalBytes = tree.files.reduce((n, f) => n + f.size, 0);
const expectedFiles = tree.files.map((f) => f.path).sort();

// --- the calls -------------------------------------------------------------------------

/** The kind of a logged request (the sandbox's /_sandbox/requests entries). */
function kind({ side, method, path }) {
  if (side === "storage") return method === "OPTIONS" ? "storage preflight" : "storage";
  if (method === "OPTIONS") return "API preflight";
  if (/\/folders(\/\d+)?$/.test(path)) return method === "GET" ? "folder list" : method === "POST" ? "folder create" : "other";
  if (/\/uploads$/.test(path) && method === "POST") return "upload create";
  if (/\/uploads\/[^/]+$/.test(path)) return method === "PATCH" ? "complete" : method === "GET" ? "upload show" : "other";
  if (/\/files$/.test(path) && method === "POST") return "file create";
  if (/\/file_versions$/.test(path) && method === "POST") return "version create";
  return "other";
}
const KINDS = ["folder list", "folder create", "upload create", "storage", "complete", "upload show",
  "file create", "version create", "other", "API preflight", "storage preflight"];

/** Counts by kind, refused answers (status ≥ 400, or none), the most API / storage requests open at once. */
function tally(log) {
  const counts = Object.fromEntries(KINDS.map((k) => [k, 0]));
  const others = {};
  let refused = 0;
  for (const entry of log) {
    const k = kind(entry);
    counts[k]++;
    if (k === "other") others[`${entry.method} ${entry.path}`] = (others[`${entry.method} ${entry.path}`] ?? 0) + 1;
    if (entry.method !== "OPTIONS" && (entry.status === 0 || entry.status >= 400)) refused++;
  }
  const open = (side) => {
    const edges = log.filter((e) => e.side === side && e.method !== "OPTIONS")
      .flatMap((e) => [[e.received_ms, 1], [e.finished_ms ?? e.received_ms, -1]])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let now = 0, most = 0;
    for (const [, step] of edges) most = Math.max(most, (now += step));
    return most;
  };
  // When (from the first logged request) the last folder call ended and the first
  // file or version was attached: how long the tree's folders held files back.
  const t0 = Math.min(...log.map((e) => e.received_ms));
  const first = (k) => log.filter((e) => kind(e) === k).map((e) => e.received_ms - t0);
  const foldersDone = Math.max(0, ...log.filter((e) => ["folder list", "folder create"].includes(kind(e))).map((e) => (e.finished_ms ?? e.received_ms) - t0));
  const attaches = [...first("file create"), ...first("version create")];
  return {
    counts, others, refused, apiOpen: open("api"), storageOpen: open("storage"),
    foldersDoneMs: foldersDone, firstAttachMs: attaches.length ? Math.min(...attaches) : null,
  };
}

// --- the page ---------------------------------------------------------------------------

const world = await openWorld("bench-folders", ["--processing-delay-ms", String(processingDelayMs)], engine);
const { sandbox, page } = world;
const documents = async (query) => {
  const response = await fetch(`${sandbox.api}/_sandbox/documents?${query}`);
  if (!response.ok) throw new Error(`_sandbox/documents?${query}: ${response.status} ${await response.text()}`);
  return response.json();
};

/** Fails loudly unless project `projectId`'s Documents hold exactly the tree, each file with `versions` versions, the latest byte-exact. */
async function verify(projectId, versions, sha256, what) {
  const docs = await documents(`project_id=${projectId}`);
  const fail = (message) => { throw new Error(`${what}: WRONG RESULT: ${message}`); };
  const folders = docs.folders.map((f) => f.path).sort();
  if (JSON.stringify(folders) !== JSON.stringify(tree.folders)) {
    fail(`folders: ${folders.length} (expected ${tree.folders.length}): missing ${tree.folders.filter((p) => !folders.includes(p)).slice(0, 5)}, extra/duplicate ${folders.filter((p, i) => !tree.folders.includes(p) || folders[i - 1] === p).slice(0, 5)}`);
  }
  const files = docs.files.map((f) => f.path).sort();
  if (JSON.stringify(files) !== JSON.stringify(expectedFiles)) {
    fail(`files: ${files.length} (expected ${expectedFiles.length}): missing ${expectedFiles.filter((p) => !files.includes(p)).slice(0, 5)}, extra/duplicate ${files.filter((p, i) => !expectedFiles.includes(p) || files[i - 1] === p).slice(0, 5)}`);
  }
  for (const file of docs.files) {
    if (file.version_count !== versions) fail(`${file.path}: ${file.version_count} versions, expected ${versions}`);
    if (file.versions.at(-1).sha256 !== sha256[file.path]) fail(`${file.path}: its latest version is not the file's bytes`);
  }
  if (docs.version_count !== versions * count) fail(`${docs.version_count} versions in all, expected ${versions * count}`);
}

// The tree as `{file, path}` entries, made once in the page from the seed (the same
// bytes in every engine and run), with each file's SHA-256.
const sha256 = await page.evaluate(async ({ files, empty, seed }) => {
  const entries = [];
  const digests = {};
  let state = seed >>> 0 || 1;
  for (const { path, size } of files) {
    const bytes = new Uint8Array(size);
    const words = new Uint32Array(bytes.buffer, 0, size >>> 2);
    for (let i = 0; i < words.length; i++) {
      state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
      words[i] = state >>> 0;
    }
    for (let i = words.length * 4; i < size; i++) bytes[i] = i & 0xff;
    entries.push({ file: new File([bytes], path.split("/").pop(), { type: "application/octet-stream" }), path });
    digests[path] = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  for (const path of empty) entries.push({ path, directory: true });
  window.benchEntries = entries;
  return digests;
}, { files: tree.files, empty: tree.empty, seed });

/**
 * Waits for the run a page.evaluate started (kept in the page, not awaited there: the
 * driver's HTTP client gives up on a script after 120 s), asking every second; its
 * value, or an error if it threw. The time is measured in the page, so the asking
 * does not count.
 */
async function started(starting) {
  await starting;
  for (;;) {
    const result = await page.evaluate(() => window.benchResult ?? null);
    if (result) {
      if (result.error) throw new Error(`the run threw: ${result.error}`);
      return result.value;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** `uploadFolder` of the whole tree into project `projectId`; resolves to its time and the statuses. */
const folderRun = (apiVersion, projectId) => started(page.evaluate(async ({ api, apiVersion, projectId, clientOptions, storeKind }) => {
  window.benchResult = undefined;
  window.benchRun = (async () => {
  const { ProcoreClient } = await import("/pkg/index.js");
  // BENCH_STORE=memory: an in-memory store that counts its calls (and the bytes
  // written), to see what the kept states and the tree record cost.
  const ops = { get: 0, put: 0, delete: 0, list: 0, putBytes: 0, listed: 0 };
  const kept = new Map();
  const store = storeKind === "memory" ? {
    get: async (k) => { ops.get++; return kept.get(k); },
    put: async (k, v) => { ops.put++; ops.putBytes += v.length; kept.set(k, v); },
    delete: async (k) => { ops.delete++; kept.delete(k); },
    list: async () => { ops.list++; ops.listed += kept.size; return [...kept]; },
  } : undefined;
  const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, apiVersion, allowInsecureStorage: true, ...clientOptions, ...(store ? { store } : {}) });
  try {
    const started = performance.now();
    const result = await client.uploadFolder(window.benchEntries, { projectId });
    const ms = performance.now() - started;
    const statuses = {};
    for (const f of result.files) statuses[f.status] = (statuses[f.status] ?? 0) + 1;
    const failed = result.files.filter((f) => f.status === "failed").slice(0, 3).map((f) => `${f.path}: ${f.error?.code} ${f.error?.message}`);
    return { ms, statuses, failed, foldersCreated: result.folders.filter((f) => f.created).length, storeOps: store && ops };
  } finally {
    client.close();
  }
  })().then((value) => { window.benchResult = { value }; }, (e) => { window.benchResult = { error: `${e?.name} ${e?.code} ${e?.message}` }; });
}, { api: sandbox.api, apiVersion, projectId, clientOptions, storeKind }));

/**
 * The folders of the tree made in project `projectId` (parents first, one at a time,
 * not timed); then, timed, every file by `upload` + `createProjectFile` into its
 * folder, all started at once.
 */
const makeFolders = (projectId) => page.evaluate(async ({ api, projectId, folders }) => {
  const { ProcoreClient } = await import("/pkg/index.js");
  const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true });
  try {
    const ids = {};
    for (const path of folders) {
      const parent = path.includes("/") ? ids[path.slice(0, path.lastIndexOf("/"))] : undefined;
      const made = await client.request("POST", "/rest/v1.0/folders",
        { query: { project_id: projectId }, body: { folder: { name: path.split("/").pop(), ...(parent ? { parent_id: parent } : {}) } } });
      ids[path] = made.id;
    }
    window.benchFolderIds = ids;
    return Object.keys(ids).length;
  } catch (e) {
    return { error: `${e.name} ${e.code} ${e.message}` };
  } finally {
    client.close();
  }
}, { api: sandbox.api, projectId, folders: tree.folders });

const flatRun = (apiVersion, projectId) => started(page.evaluate(async ({ api, apiVersion, projectId, clientOptions }) => {
  window.benchResult = undefined;
  window.benchRun = (async () => {
  const { ProcoreClient } = await import("/pkg/index.js");
  const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, apiVersion, allowInsecureStorage: true, ...clientOptions });
  try {
    const ids = window.benchFolderIds;
    const files = window.benchEntries.filter((e) => e.file);
    const started = performance.now();
    await Promise.all(files.map(async ({ file, path }) => {
      const upload = await client.upload(file, { projectId });
      await client.createProjectFile({ projectId, uploadUuid: upload.uuid, name: file.name, parentId: ids[path.slice(0, path.lastIndexOf("/"))] });
    }));
    return { ms: performance.now() - started };
  } finally {
    client.close();
  }
  })().then((value) => { window.benchResult = { value }; }, (e) => { window.benchResult = { error: `${e?.name} ${e?.code} ${e?.message}` }; });
}, { api: sandbox.api, apiVersion, projectId, clientOptions }));

/** How busy the machine's CPUs were (all processes): /proc/stat's non-idle share between two reads. */
const cpuTimes = () => {
  const [, ...fields] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const n = fields.map(Number);
  return { idle: n[3] + (n[4] ?? 0), total: n.reduce((a, b) => a + b, 0) };
};

const runs = [];
/** Runs `body` with the request log cleared before; records its time and calls. */
async function measure(apiVersion, variant, round, body, check) {
  await sandbox.clearRequests();
  const before = cpuTimes();
  const value = await body();
  const after = cpuTimes();
  const log = await sandbox.requests();
  const problems = await world.takeProblems();
  if (problems.length) throw new Error(`${variant} ${apiVersion}: page errors: ${JSON.stringify(problems).slice(0, 500)}`);
  await check(value);
  const calls = tally(log);
  const run = { engine, apiVersion, variant, round, ms: value.ms, busy: 1 - (after.idle - before.idle) / (after.total - before.total), ...calls };
  runs.push(run);
  const perFile = (k) => (calls.counts[k] / count).toFixed(2);
  console.log(`# ${engine} ${apiVersion} ${variant} round ${round + 1}: ${(value.ms / 1000).toFixed(2)} s, ${(count / (value.ms / 1000)).toFixed(1)} files/s; per file: ${KINDS.filter((k) => calls.counts[k]).map((k) => `${k} ${perFile(k)}`).join(", ")}; refused ${calls.refused}; open at once: API ${calls.apiOpen}, storage ${calls.storageOpen}; folders done ${(calls.foldersDoneMs / 1000).toFixed(2)} s, first attach ${calls.firstAttachMs == null ? "-" : (calls.firstAttachMs / 1000).toFixed(2)} s${Object.keys(calls.others).length ? `; other: ${JSON.stringify(calls.others)}` : ""}${value.storeOps ? `; store calls ${JSON.stringify(value.storeOps)}` : ""}`);
}

try {
  console.log(`# ${count} files (${(totalBytes / 1e6).toFixed(1)} MB, ${tree.files.filter((f) => f.size >= 1e6).length} of 1–5 MB), ${tree.folders.length} folders (${tree.empty.length} empty), seed ${seed}; ${engine}; sandbox --processing-delay-ms ${processingDelayMs}; client options ${JSON.stringify(clientOptions)}`);
  for (let round = 0; round < rounds; round++) {
    for (const [v, apiVersion] of apiVersions.entries()) {
      const projectId = 1000 + round * 10 + v * 3;
      const ok = (want) => (value) => {
        const statuses = JSON.stringify(value.statuses);
        if (statuses !== JSON.stringify({ [want]: count })) throw new Error(`${apiVersion} project ${projectId}: WRONG RESULT: statuses ${statuses}, expected all ${want}; ${value.failed.join("; ")}`);
      };
      await measure(apiVersion, "uploadFolder, new tree", round, () => folderRun(apiVersion, projectId), async (value) => {
        ok("created")(value);
        if (value.foldersCreated !== tree.folders.length) throw new Error(`WRONG RESULT: ${value.foldersCreated} folders created, expected ${tree.folders.length}`);
        await verify(projectId, 1, sha256, `${apiVersion} uploadFolder project ${projectId}`);
      });
      await measure(apiVersion, "uploadFolder, again (versions)", round, () => folderRun(apiVersion, projectId), async (value) => {
        ok("versioned")(value);
        if (value.foldersCreated !== 0) throw new Error(`WRONG RESULT: ${value.foldersCreated} folders created on the second run`);
        await verify(projectId, 2, sha256, `${apiVersion} uploadFolder again project ${projectId}`);
      });
      if (compare) {
        const flatProject = projectId + 1;
        const made = await makeFolders(flatProject);
        if (made !== tree.folders.length) throw new Error(`making the folders: ${JSON.stringify(made)}`);
        await measure(apiVersion, "upload + createProjectFile", round, () => flatRun(apiVersion, flatProject),
          () => verify(flatProject, 1, sha256, `${apiVersion} upload + createProjectFile project ${flatProject}`));
      }
    }
  }

  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const shown = KINDS.filter((k) => runs.some((r) => r.counts[k]));
  console.log(`\n${count} files, ${(totalBytes / 1e6).toFixed(1)} MB; ${engine}; median of ${rounds} round(s) (time; calls are the median run's); calls per file\n`);
  console.log(`| engine | API | run | time | files/s | all runs (s) | ${shown.join(" | ")} | API calls / file (no preflight) | API open at once | CPU busy |`);
  console.log(`|---|---|---|---:|---:|---|${shown.map(() => "---:").join("|")}|---:|---:|---:|`);
  const groups = [...new Set(runs.map((r) => `${r.apiVersion}\t${r.variant}`))];
  for (const group of groups) {
    const [apiVersion, variant] = group.split("\t");
    const these = runs.filter((r) => r.apiVersion === apiVersion && r.variant === variant);
    const ms = median(these.map((r) => r.ms));
    const mid = these.find((r) => r.ms === ms);
    const api = Object.entries(mid.counts).filter(([k]) => !["storage", "storage preflight", "API preflight"].includes(k)).reduce((n, [, c]) => n + c, 0);
    console.log(`| ${engine} | ${apiVersion} | ${variant} | ${(ms / 1000).toFixed(2)} s | ${(count / (ms / 1000)).toFixed(1)} | ${these.map((r) => (r.ms / 1000).toFixed(2)).join(" ")} | ${shown.map((k) => (mid.counts[k] / count).toFixed(2)).join(" | ")} | ${(api / count).toFixed(2)} | ${mid.apiOpen} | ${(mid.busy * 100).toFixed(0)} % |`);
  }
  if (process.env.BENCH_JSON) {
    fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({ count, totalBytes, seed, engine, processingDelayMs, clientOptions, runs }, null, 1));
  }
} finally {
  await world.close();
}
