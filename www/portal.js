// The demo portal (issue 25): a Procore-like page on <procore-uploader> and the
// package's public API only. Pick a project and where files go (a Documents folder,
// drawings, photos); drop files or folders; see what landed there, read back from the
// API, with links to the stored bytes. By default it talks to the local sandbox that
// the demo command started (config.json); "Connect to Procore" points it at a real
// company. The same page runs as a Procore embedded app (full screen or side panel:
// www/context.js): its company and project then come from Procore.
//
// An app that signs users in (Procore's OAuth popup, procore-iframe-helpers) sets
// `window.procorePortal = { getAccessToken, baseUrl? }` before this module runs: the
// portal then talks to Procore (api.procore.com unless `baseUrl` says otherwise), asks
// the hook for every token and keeps none.
import { ProcoreClient } from "/pkg/index.js";
import "/pkg/element.js";
import { portalContext } from "./context.js";

const $ = (id) => document.getElementById(id);
/** localStorage key of the files paused when Procore closed the side panel. */
const PAUSED_KEY = "procore-portal:paused";
/** The sandbox's stalls are survived: a storage request silent this long is retried. */
const SANDBOX_STALL_TIMEOUT_MS = 8_000;

const config = await (await fetch("config.json")).json();
const context = await portalContext(config);
document.documentElement.dataset.mode = context.mode;
const uploader = $("uploader");

/**
 * Where the portal points: the sandbox (config.json), or a Procore environment when an
 * app gave a token hook (`window.procorePortal = { getAccessToken, baseUrl? }`, before
 * this module) or someone used "Connect to Procore".
 */
const app = window.procorePortal?.getAccessToken ? window.procorePortal : null;
const connection = {
  sandbox: !app,
  baseUrl: app ? app.baseUrl ?? "https://api.procore.com" : config.apiUrl,
  companyId: context.companyId ?? config.companyId,
  // Kept here only: never stored, logged or put in a URL.
  token: app ? null : config.accessToken,
};
let client = null;
let projects = [];
const destination = { projectId: null, kind: "documents", folderId: null, folders: [], drawingArea: null };

// ---- the client and the API -------------------------------------------------------

function connect() {
  client?.close?.();
  const hook = window.procorePortal?.getAccessToken;
  client = new ProcoreClient({
    companyId: connection.companyId,
    baseUrl: connection.baseUrl,
    getAccessToken: connection.sandbox || !hook ? () => connection.token : hook,
    // A local API (the sandbox, or another stand-in) hands out plain-http storage too.
    ...(isLoopback(connection.baseUrl) ? { allowInsecureStorage: true } : {}),
    ...(connection.sandbox ? { stallTimeoutMs: SANDBOX_STALL_TIMEOUT_MS } : {}),
  });
  uploader.client = client;
  $("where").textContent = connection.sandbox
    ? `Local sandbox · company ${connection.companyId}`
    : `${new URL(connection.baseUrl).host} · company ${connection.companyId}`;
  $("faults").hidden = !connection.sandbox;
}

/** Whether `url` is plain http on this machine. */
function isLoopback(url) {
  const { protocol, hostname } = new URL(url);
  return protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(hostname);
}

/** GET `path` of the API, `query` given apart (the client checks and encodes it). */
const api = (path, query) => client.request("GET", path, query ? { query } : undefined);

// ---- destination ------------------------------------------------------------------

async function loadProjects(preferred) {
  try {
    projects = await api("/rest/v1.0/projects", { company_id: connection.companyId });
  } catch (error) {
    projects = [];
    showError($("destination-note"), "The projects could not be listed", error);
  }
  // A project given by Procore or the settings is kept even when the list lacks it.
  if (preferred && !projects.some((p) => p.id === preferred)) projects.unshift({ id: preferred, name: `Project ${preferred}` });
  const select = $("project");
  select.replaceChildren(...projects.map((p) => option(p.id, p.display_name ?? p.name)));
  destination.projectId = preferred ?? projects[0]?.id ?? null;
  if (destination.projectId) select.value = String(destination.projectId);
}

/** Every folder of the project's Documents, depth first, as `{ id, path, depth }`. */
async function listFolders(projectId) {
  const root = await api("/rest/v1.0/folders", { project_id: projectId });
  const folders = [{ id: root.id, path: "", depth: 0 }];
  const walk = async (folder, path, depth) => {
    for (const child of folder.folders ?? []) {
      const childPath = path ? `${path}/${child.name}` : child.name;
      folders.push({ id: child.id, path: childPath, depth });
      if (child.has_children_folders !== false && folders.length < 500) {
        await walk(await api(`/rest/v1.0/folders/${child.id}`, { project_id: projectId }), childPath, depth + 1);
      }
    }
  };
  await walk(root, "", 1);
  return folders;
}

async function loadDestination() {
  const { projectId, kind } = destination;
  const note = $("destination-note");
  note.textContent = "";
  $("folder-field").hidden = kind !== "documents";
  uploader.toggleAttribute("directory", kind === "documents");
  uploader.setAttribute("accept", kind === "drawings" ? ".pdf,application/pdf" : kind === "images" ? "image/*" : "");
  if (!uploader.getAttribute("accept")) uploader.removeAttribute("accept");
  if (!projectId) return;
  uploader.setAttribute("project-id", String(projectId));
  try {
    if (kind === "documents") {
      await showFolders();
      note.textContent = "Folders dropped here are made in Procore as they are; a name already there gets a new version.";
    } else if (kind === "drawings") {
      const [area] = await api(`/rest/v1.1/projects/${projectId}/drawing_areas`);
      destination.drawingArea = area ?? null;
      note.textContent = area ? `Drawing area “${area.name}”, set ${area.drawing_set_id}: PDFs only.` : "This project has no drawing area.";
    } else {
      note.textContent = "Photos go to the project's Photos tool.";
    }
  } catch (error) {
    showError(note, "The destination could not be read", error);
  }
  await refreshAttached();
}

/** The attach target of a file, from the pickers (the element calls it per file). */
function targetFor() {
  const { projectId, kind, folderId, drawingArea } = destination;
  if (!projectId) return null;
  if (kind === "images") return { image: { projectId } };
  if (kind === "drawings" && drawingArea) {
    return {
      drawing: {
        projectId,
        drawingAreaId: drawingArea.id,
        drawingSetId: drawingArea.drawing_set_id,
        drawingDate: new Date().toISOString().slice(0, 10),
      },
    };
  }
  if (kind === "documents") return { projectFile: folderId ? { projectId, parentId: folderId } : { projectId } };
  return null;
}

// ---- what landed where ------------------------------------------------------------

async function refreshAttached() {
  const { projectId, kind, folderId } = destination;
  const list = $("attached");
  const where = $("attached-where");
  if (!projectId) return;
  try {
    let rows = [];
    if (kind === "documents") {
      const folder = destination.folders.find((f) => f.id === folderId);
      where.textContent = `In ${folder?.path ? `Documents/${folder.path}` : "Documents"}, read back from the API:`;
      rows = await filesUnder(projectId, folderId, "");
    } else if (kind === "images") {
      where.textContent = "Photos of this project:";
      rows = (await api("/rest/v1.0/images", { project_id: projectId })).map((image) => ({
        path: image.filename, size: image.size, url: image.url,
      }));
    } else {
      where.textContent = "Drawing uploads of this project (Procore processes them into drawings):";
      const uploads = await api(`/rest/v1.1/projects/${projectId}/drawing_uploads`);
      rows = uploads.flatMap((upload) => (upload.files ?? []).map((file) => ({
        path: file.name, size: file.size, url: file.url, status: upload.status,
      })));
    }
    list.replaceChildren(...rows.map(attachedRow));
    if (rows.length === 0) list.replaceChildren(Object.assign(document.createElement("li"), { textContent: "Nothing yet." }));
  } catch (error) {
    list.replaceChildren();
    showError(where, "What was attached could not be read", error);
  }
}

/** The files under a folder, subfolders included, as `{ path, size, url }`. */
async function filesUnder(projectId, folderId, prefix) {
  const folder = await api(`/rest/v1.0/folders/${folderId}`, { project_id: projectId });
  const rows = (folder.files ?? []).map((file) => {
    const latest = file.file_versions?.at(-1);
    return { path: prefix + file.name, size: file.size, url: latest?.url ?? latest?.prostore_file?.url, versions: file.file_versions?.length };
  });
  for (const child of folder.folders ?? []) {
    if (rows.length > 500) break;
    rows.push(...(await filesUnder(projectId, child.id, `${prefix}${child.name}/`)));
  }
  return rows;
}

function attachedRow({ path, size, url, versions, status }) {
  const item = document.createElement("li");
  const name = Object.assign(document.createElement("span"), { className: "path", textContent: path });
  name.dir = "auto";
  item.append(name);
  const facts = [typeof size === "number" ? formatBytes(size) : null, versions > 1 ? `${versions} versions` : null, status ?? null].filter(Boolean);
  if (facts.length) item.append(Object.assign(document.createElement("span"), { className: "size", textContent: facts.join(" · ") }));
  if (typeof url === "string" && /^https?:/.test(url)) {
    const link = document.createElement("a");
    link.href = url;
    link.setAttribute("download", "");
    link.textContent = "Download";
    link.setAttribute("aria-label", `Download ${path}`);
    item.append(link);
  }
  return item;
}

// ---- pausing when Procore closes the panel, and the offer to resume -------------

/** The files added and not finished, by name + size + date (what resume keys on). */
const unfinished = new Map();
const fileKey = (file) => `${file.name}\u0000${file.size}\u0000${file.lastModified}`;

uploader.addEventListener("upload-progress", ({ detail: { file } }) => unfinished.set(fileKey(file), file));
uploader.addEventListener("upload-complete", ({ detail: { file } }) => {
  unfinished.delete(fileKey(file));
  forgetPaused(file);
});
uploader.addEventListener("queue-complete", () => {
  refreshAttached();
  // A tree may have made folders; a failed read leaves the picker as it was.
  if (destination.kind === "documents") showFolders().catch(() => {});
});

/** Pauses every upload and notes the unfinished files for the next visit. */
async function pauseAndKeep() {
  const files = [...unfinished.values()].map(({ name, size, lastModified }) => ({ name, size, lastModified }));
  const kept = readPaused();
  for (const file of files) if (!kept.some((k) => fileKey(k) === fileKey(file))) kept.push(file);
  if (kept.length) localStorage.setItem(PAUSED_KEY, JSON.stringify(kept));
  await uploader.pauseAll();
}

function readPaused() {
  try {
    const list = JSON.parse(localStorage.getItem(PAUSED_KEY) ?? "[]");
    return Array.isArray(list) ? list.filter((f) => typeof f?.name === "string") : [];
  } catch {
    return [];
  }
}

function forgetPaused(file) {
  const left = readPaused().filter((kept) => fileKey(kept) !== fileKey(file));
  if (left.length) localStorage.setItem(PAUSED_KEY, JSON.stringify(left));
  else localStorage.removeItem(PAUSED_KEY);
  showResumeNotice();
}

function showResumeNotice() {
  const kept = readPaused();
  const notice = $("resume-notice");
  notice.hidden = kept.length === 0;
  if (!kept.length) return notice.replaceChildren();
  const names = kept.map((f) => f.name).join(", ");
  notice.replaceChildren(
    Object.assign(document.createElement("strong"), { textContent: "Paused when the panel closed: " }),
    Object.assign(document.createElement("span"), { textContent: names, dir: "auto" }),
    document.createTextNode(". Add the same files again to go on where they stopped."),
  );
}

// ---- settings and faults ----------------------------------------------------------

$("settings-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = $("settings-status");
  const baseUrl = $("base-url").value.trim().replace(/\/+$/, "");
  const companyId = Number($("company-id").value);
  const projectId = Number($("project-id").value) || null;
  const token = $("token").value;
  $("token").value = "";
  if (!window.procorePortal?.getAccessToken && !token) {
    status.textContent = "An access token is needed (or an app's getAccessToken hook).";
    return;
  }
  Object.assign(connection, { sandbox: false, baseUrl, companyId, token });
  try {
    connect();
    await loadProjects(projectId);
    await loadDestination();
    status.textContent = `Connected to ${new URL(baseUrl).host}, company ${companyId}.`;
  } catch (error) {
    showError(status, "Could not connect", error);
  }
});

$("use-sandbox").addEventListener("click", async () => {
  Object.assign(connection, { sandbox: true, baseUrl: config.apiUrl, companyId: config.companyId, token: config.accessToken });
  connect();
  await loadProjects(null);
  await loadDestination();
  $("settings-status").textContent = "Back on the local sandbox.";
});

const FAULTS = [
  ["Storage errors (1 in 3)", { storage_error_rate: 0.33 }],
  ["Connection resets (next 3)", { storage_reset_next: 3 }],
  ["Stalled storage (next 2 hang)", { storage_stall_next: 2, storage_stall_ms: 60_000 }],
  ["Expired links (next set)", { instructions_expired_next: 1 }],
  ["Rate limited (next 3: 429)", { api_429_next: 3, retry_after_secs: 1 }],
  ["Lost answers (next 2)", { api_answer_lost_next: 2 }],
  ["Slow storage (400 ms)", { storage_latency_ms: 400 }],
  ["No faults", {}],
];

for (const [label, faults] of FAULTS) {
  const button = Object.assign(document.createElement("button"), { type: "button", textContent: label });
  button.addEventListener("click", async () => {
    const status = $("fault-status");
    try {
      const response = await fetch(`${config.apiUrl}/_sandbox/faults`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(faults),
      });
      if (!response.ok) throw new Error(`the sandbox answered ${response.status}`);
      status.textContent = Object.keys(faults).length ? `On: ${label}.` : "No faults.";
    } catch (error) {
      showError(status, "The sandbox's faults could not be set", error);
    }
  });
  $("fault-buttons").append(button);
}

// ---- helpers ----------------------------------------------------------------------

function option(value, text) {
  return Object.assign(document.createElement("option"), { value: String(value), textContent: text });
}

function formatBytes(bytes) {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function showError(node, what, error) {
  const detail = [error?.code, error?.status].filter(Boolean).join(" ");
  node.textContent = `${what}${detail ? ` (${detail})` : ""}: ${error?.message ?? error}`;
}

/**
 * Reads the project's folders into the folder picker, keeping the picked folder while
 * it is still there (else the top level).
 */
async function showFolders() {
  const keep = destination.folderId;
  destination.folders = await listFolders(destination.projectId);
  $("folder").replaceChildren(...destination.folders.map((f) => option(f.id, f.depth ? `${"· ".repeat(f.depth)}${f.path.split("/").at(-1)}` : "Documents (top level)")));
  destination.folderId = destination.folders.some((f) => f.id === keep) ? keep : destination.folders[0]?.id ?? null;
  $("folder").value = String(destination.folderId);
}

// ---- start --------------------------------------------------------------------------

$("project").addEventListener("change", async (event) => {
  destination.projectId = Number(event.target.value);
  destination.folderId = null;
  await loadDestination();
});
$("kind").addEventListener("change", async (event) => {
  destination.kind = event.target.value;
  await loadDestination();
});
$("folder").addEventListener("change", async (event) => {
  destination.folderId = Number(event.target.value);
  await refreshAttached();
});
$("refresh").addEventListener("click", () => refreshAttached());
$("base-url").value = "https://api.procore.com";
$("company-id").value = String(connection.companyId ?? "");

connect();
uploader.target = targetFor;
await loadProjects(context.projectId ?? config.projectId ?? null);
await loadDestination();
context.onSetup(async () => {
  // Procore may send setup again for another record: follow its project.
  if (context.companyId && context.companyId !== connection.companyId && connection.sandbox) {
    connection.companyId = context.companyId;
    connect();
  }
  if (context.projectId && context.projectId !== destination.projectId) {
    await loadProjects(context.projectId);
    await loadDestination();
  }
});
context.onDestroy(() => pauseAndKeep());
showResumeNotice();
window.portal = { uploader, context, pauseAndKeep };
document.documentElement.dataset.ready = "true";
