// The demo: starts the Procore sandbox, then serves the portal (www/) pointed at it.
//
//   node www/server.mjs [--port 8080] [--embed-origin <origin>]...
//     serves www/ at /, pkg/ at /pkg/ and /config.json (the sandbox's API URL, token,
//     company and project, and the origins besides Procore's that may frame the portal
//     as a side panel: --embed-origin, for a local test of the embedded app), every page
//     under a strict Content-Security-Policy whose reports are kept at /_csp-reports.
//
// Imported, `startStaticServer` serves any folders under URL prefixes on
// 127.0.0.1 (port 0 = a free port), plus fixed JSON documents, and returns its base
// URL and a close().
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".ts": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  // application/wasm lets the browser compile while the bytes arrive.
  ".wasm": "application/wasm",
};

/**
 * @param {{ mounts: Record<string, string>, json?: Record<string, unknown>, host?: string, port?: number, csp?: string }} options
 *   mounts: URL prefix ("/", "/pkg/") to folder; json: exact path to a document; csp:
 *   a Content-Security-Policy for every HTML page, its violation reports POSTed to
 *   and listed at /_csp-reports.
 * @returns {Promise<{ url: string, close: () => Promise<void>, cspReports: unknown[] }>}
 */
export async function startStaticServer({ mounts, json = {}, host = "127.0.0.1", port = 0, csp = null }) {
  const cspReports = [];
  // Longest prefix first, so "/pkg/" wins over "/".
  const routes = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix, path.resolve(dir)])
    .sort(([a], [b]) => b.length - a.length);
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (csp && pathname === "/_csp-reports") return cspReportsRoute(req, res, cspReports);
    if (Object.hasOwn(json, pathname)) {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      return res.end(JSON.stringify(json[pathname]));
    }
    const route = routes.find(([prefix]) => pathname.startsWith(prefix));
    if (!route || (req.method !== "GET" && req.method !== "HEAD")) return send(res, 404, "not found");
    const [prefix, dir] = route;
    let file = path.resolve(dir, "." + path.posix.sep + pathname.slice(prefix.length));
    if (file !== dir && !file.startsWith(dir + path.sep)) return send(res, 403, "forbidden");
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
    fs.stat(file, (error, stat) => {
      if (error || !stat.isFile()) return send(res, 404, "not found");
      const type = CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream";
      res.writeHead(200, {
        "content-type": type,
        "content-length": stat.size,
        "cache-control": "no-store",
        ...(csp && type.startsWith("text/html") ? { "content-security-policy": `${csp}; report-uri /_csp-reports` } : {}),
      });
      if (req.method === "HEAD") return res.end();
      fs.createReadStream(file).pipe(res);
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const { port: actualPort } = server.address();
  return {
    url: `http://${host}:${actualPort}`,
    cspReports,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** POST: a violation report kept (at most 1,000); GET: those kept, as JSON. */
function cspReportsRoute(req, res, reports) {
  if (req.method === "GET") {
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    return res.end(JSON.stringify(reports));
  }
  if (req.method !== "POST") return send(res, 405, "GET or POST");
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk) => { if (body.length < 65_536) body += chunk; });
  req.on("end", () => {
    try {
      if (reports.length < 1000) reports.push(JSON.parse(body));
    } catch {
      if (reports.length < 1000) reports.push({ unreadable: body.slice(0, 1000) });
    }
    res.writeHead(204);
    res.end();
  });
}

/**
 * The portal's policy: the strict one (no inline script or style, wasm by
 * 'wasm-unsafe-eval'), connections to itself, the sandbox's API and storage, and
 * Procore's hosts and S3 (for "Connect to Procore"); no frame-ancestors, so Procore
 * can frame it.
 */
export function portalCsp(sandboxOrigins) {
  return [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "worker-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${sandboxOrigins.join(" ")} https://*.procore.com https://*.amazonaws.com`,
    "base-uri 'none'",
    "form-action 'self'",
  ].join("; ");
}

function send(res, status, text) {
  res.writeHead(status, { "content-type": "text/plain" });
  res.end(text);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { spawn } = await import("node:child_process");
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const portFlag = process.argv.indexOf("--port");
  const port = portFlag > 0 ? Number(process.argv[portFlag + 1]) : Number(process.env.PORT ?? 8080);
  const token = "sandbox-token";
  const sandbox = spawn(path.join(root, "target/debug/procore-sandbox"), ["--port", "0", "--token", token], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const printed = await new Promise((resolve, reject) => {
    sandbox.once("exit", (code) => reject(new Error(`the sandbox exited with ${code}`)));
    let seen = "";
    sandbox.stdout.on("data", (chunk) => {
      seen += chunk;
      if (/^api: \S+/m.test(seen) && /^storage: \S+/m.test(seen)) resolve(seen);
    });
  });
  const apiUrl = /^api: (\S+)/m.exec(printed)[1].replace(/\/$/, "");
  const storageOrigin = new URL(/^storage: (\S+)/m.exec(printed)[1]).origin;
  const embedOrigins = process.argv.flatMap((arg, i) => (arg === "--embed-origin" ? [new URL(process.argv[i + 1]).origin] : []));
  const { url } = await startStaticServer({
    mounts: { "/": path.join(root, "www"), "/pkg/": path.join(root, "pkg") },
    json: { "/config.json": { apiUrl, companyId: 7, projectId: 42, accessToken: token, embedOrigins } },
    port,
    csp: portalCsp([new URL(apiUrl).origin, storageOrigin]),
  });
  const stop = () => {
    sandbox.kill("SIGTERM");
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  console.log(`sandbox API: ${apiUrl}/  (inspection: ${apiUrl}/_sandbox/uploads)`);
  console.log(`demo: ${url}/  (Ctrl-C stops both)`);
}
