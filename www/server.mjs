// The demo: starts the Procore sandbox, then serves the demo page pointed at it.
//
//   node www/server.mjs [--port 8080]   serves www/ at /, pkg/ at /pkg/ and
//                                       /config.json (the sandbox's API URL and token)
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
 * @param {{ mounts: Record<string, string>, json?: Record<string, unknown>, host?: string, port?: number }} options
 *   mounts: URL prefix ("/", "/pkg/") to folder; json: exact path to a document.
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function startStaticServer({ mounts, json = {}, host = "127.0.0.1", port = 0 }) {
  // Longest prefix first, so "/pkg/" wins over "/".
  const routes = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix, path.resolve(dir)])
    .sort(([a], [b]) => b.length - a.length);
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, "http://x").pathname);
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
      res.writeHead(200, {
        "content-type": CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream",
        "content-length": stat.size,
        "cache-control": "no-store",
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
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
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
  const apiUrl = await new Promise((resolve, reject) => {
    sandbox.once("exit", (code) => reject(new Error(`the sandbox exited with ${code}`)));
    let seen = "";
    sandbox.stdout.on("data", (chunk) => {
      seen += chunk;
      const match = /^api: (\S+)/m.exec(seen);
      if (match) resolve(match[1].replace(/\/$/, ""));
    });
  });
  const { url } = await startStaticServer({
    mounts: { "/": path.join(root, "www"), "/pkg/": path.join(root, "pkg") },
    json: { "/config.json": { apiUrl, companyId: 7, accessToken: token } },
    port,
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
