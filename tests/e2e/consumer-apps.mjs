// The consumer apps of tests/consumers/ (consumers.test.mjs): each app's pinned dev
// dependencies installed once into a cache, a fresh copy of the app with the packed
// package installed into it by npm, its production build or dev server, and a small
// static server that sends a Content-Security-Policy with every answer.
import { execFile, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./browsers.mjs";
import { ROOT } from "./support.mjs";

const run = promisify(execFile);
export const CONSUMERS = path.join(ROOT, "tests/consumers");
const CACHE = path.join(ROOT, ".cache/consumers");

/** Runs `command` in `cwd`; rejects with its whole output when it fails. */
async function sh(cwd, command, args, env = {}) {
  try {
    return await run(command, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  } catch (error) {
    throw new Error(`${command} ${args.join(" ")} (in ${cwd}) failed:\n${error.stdout}\n${error.stderr}`);
  }
}

const NPM_QUIET = ["--no-audit", "--no-fund", "--ignore-scripts"];

/**
 * The app's dev dependencies, exactly as its package-lock.json pins them, installed
 * once: `.cache/consumers/<app>-<hash of package.json and the lock>/node_modules`.
 * A changed lock installs afresh (and drops the app's older installs); an install
 * that did not finish is done again. Resolves to the node_modules folder.
 */
export async function cachedDependencies(app) {
  const manifest = fs.readFileSync(path.join(CONSUMERS, app, "package.json"));
  const lock = fs.readFileSync(path.join(CONSUMERS, app, "package-lock.json"));
  const key = crypto.createHash("sha256").update(manifest).update(lock)
    .update(`${process.platform}-${process.arch}`).digest("hex").slice(0, 16);
  const dir = path.join(CACHE, `${app}-${key}`);
  const modules = path.join(dir, "node_modules");
  const done = path.join(dir, "installed");
  if (fs.existsSync(done)) return { modules, installed: false };
  fs.mkdirSync(CACHE, { recursive: true });
  for (const old of fs.readdirSync(CACHE)) {
    if (old.startsWith(`${app}-`)) fs.rmSync(path.join(CACHE, old), { recursive: true, force: true });
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), manifest);
  fs.writeFileSync(path.join(dir, "package-lock.json"), lock);
  // `npm install` from the lock rather than `npm ci`: the registry this project
  // reaches lacks some other platforms' optional binaries (rollup's), which leaves
  // the lock without them, and `npm ci` refuses such a lock. The versions are the lock's.
  await sh(dir, "npm", ["install", "--prefer-offline", ...NPM_QUIET]);
  fs.writeFileSync(done, new Date().toISOString());
  return { modules, installed: true };
}

/**
 * A fresh copy of the app in `dir`: `tests/consumers/app/` (the shared page and
 * entry), then the app's own files over it, its cached dev dependencies, and the
 * packed package installed by `npm install --no-save <tarball>`, as an integrator
 * installs a package.
 */
export async function prepareApp(app, dir, tarball) {
  const target = path.join(dir, app);
  fs.cpSync(path.join(CONSUMERS, "app"), target, { recursive: true });
  for (const entry of fs.readdirSync(path.join(CONSUMERS, app))) {
    if (entry === "node_modules" || entry === "dist") continue;
    fs.cpSync(path.join(CONSUMERS, app, entry), path.join(target, entry), { recursive: true });
  }
  const { modules } = await cachedDependencies(app);
  await sh(dir, "cp", ["-a", modules, path.join(target, "node_modules")]);
  await sh(target, "npm", ["install", "--no-save", "--offline", ...NPM_QUIET, tarball]);
  const installed = path.join(target, "node_modules/procore-upload/package.json");
  if (!fs.existsSync(installed)) throw new Error(`npm did not install ${tarball} into ${target}`);
  return target;
}

/** Runs the app's production build (`vite build`, `webpack`); resolves to its output. */
export async function build(target, tool) {
  const bin = {
    vite: ["node_modules/vite/bin/vite.js", "build"],
    webpack: ["node_modules/webpack-cli/bin/cli.js"],
  }[tool];
  const { stdout, stderr } = await sh(target, process.execPath, bin);
  return { dist: path.join(target, "dist"), output: `${stdout}${stderr}` };
}


/**
 * Starts Vite's dev server in `target` on 127.0.0.1 at a free port; resolves once it
 * serves, to `{ url, log(), stop() }` (stop ends its whole process group).
 */
export async function startViteDev(target) {
  const port = await freePort();
  const child = spawn(process.execPath, ["node_modules/vite/bin/vite.js", "--host", "127.0.0.1", "--port", String(port), "--strictPort"], {
    cwd: target,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (chunk) => { log += chunk; });
  child.stderr.on("data", (chunk) => { log += chunk; });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try { process.kill(-child.pid, "SIGTERM"); } catch { /* already gone */ }
      await exited;
    }
  };
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`vite exited with ${child.exitCode}:\n${log}`);
    const ok = await fetch(`${url}/`).then((response) => response.ok, () => false);
    if (ok) break;
    if (attempt > 600) {
      await stop();
      throw new Error(`vite did not serve ${url} within a minute:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, log: () => log, stop };
}

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

/**
 * Serves `dir` on 127.0.0.1 at a free port with `csp` as the Content-Security-Policy
 * of every answer (the page, its scripts, the worker script: a worker's policy comes
 * with its own script), plus `report-uri` to this server, whose reports `reports()`
 * gives (violations inside workers are reported there too; a page's are also events).
 */
export async function serveWithCsp(dir, csp) {
  const reports = [];
  const policy = `${csp}; report-uri /_csp-report`;
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (req.method === "POST" && pathname === "/_csp-report") {
      let body = "";
      req.on("data", (chunk) => { body += chunk; });
      req.on("end", () => {
        reports.push(body);
        res.writeHead(204).end();
      });
      return;
    }
    let file = path.resolve(dir, `.${pathname}`);
    if (file !== dir && !file.startsWith(dir + path.sep)) return res.writeHead(403).end();
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
    if (req.method !== "GET" || !fs.existsSync(file)) {
      res.writeHead(404, { "content-type": "text/plain", "content-security-policy": policy });
      return res.end("not found");
    }
    res.writeHead(200, {
      "content-type": CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream",
      "content-security-policy": policy,
      "cache-control": "no-store",
    });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    reports: () => reports.slice(),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
