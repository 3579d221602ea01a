// Shared by the end-to-end tests: the packed npm package, a served page, the browser
// engines (browsers.mjs), and reference digests from openssl.
import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe } from "node:test";
import { engines, launch } from "./browsers.mjs";
import { startStaticServer } from "../../www/server.mjs";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `procore-upload-${prefix}-`));
}

/**
 * Packs pkg/ with `npm pack` and unpacks the tarball, as `npm install` would get
 * it: a file left out of package.json "files" is missing here too.
 * @returns {string} the unpacked package folder
 */
export function packAndUnpack(dir) {
  const pkg = path.join(ROOT, "pkg");
  if (!fs.existsSync(path.join(pkg, "package.json"))) {
    throw new Error("pkg/ is not built: run scripts/build (scripts/test does)");
  }
  const [{ filename }] = JSON.parse(
    execFileSync("npm", ["pack", pkg, "--json", "--pack-destination", dir], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }),
  );
  execFileSync("tar", ["-xzf", path.join(dir, filename), "-C", dir]);
  return path.join(dir, "package");
}

/** Serves `mounts` on 127.0.0.1 at a free port. */
export function serve(mounts) {
  return startStaticServer({ mounts, host: "127.0.0.1", port: 0 });
}

/**
 * Declares the suite `body(engine)` once per engine (browsers.mjs: Chromium, Firefox,
 * WebKit unless E2E_ENGINES says otherwise), each under its own title.
 */
export function describeInEngines(title, body) {
  for (const engine of engines()) describe(`${title} [${engine}]`, () => body(engine));
}

/** Writes `size` random bytes to `dir/name`. */
export function randomFile(dir, name, size) {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, "w");
  const block = 1 << 20;
  for (let written = 0; written < size; written += block) {
    fs.writeSync(fd, crypto.randomBytes(Math.min(block, size - written)));
  }
  fs.closeSync(fd);
  return file;
}

/** `openssl dgst -<algorithm>` of a file, as lowercase hex. */
export function openssl(algorithm, file) {
  const out = execFileSync("openssl", ["dgst", `-${algorithm}`, "-r", file], { encoding: "utf8" });
  return out.split(" ")[0].trim();
}

/**
 * Starts the Procore sandbox (target/debug/procore-sandbox, built by scripts/test; SANDBOX_BIN overrides)
 * on free ports; resolves once it printed its URLs.
 * @param {string[]} args extra flags
 */
export async function startSandbox(args = []) {
  const { spawn } = await import("node:child_process");
  const binary = process.env.SANDBOX_BIN ?? path.join(ROOT, "target/debug/procore-sandbox");
  if (!fs.existsSync(binary)) throw new Error(`${binary} is missing: cargo build -p procore-sandbox`);
  const child = spawn(binary, ["--port", "0", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const urls = await new Promise((resolve, reject) => {
    let buffer = "";
    const found = {};
    child.once("exit", (code) => reject(new Error(`the sandbox exited with ${code}`)));
    child.stdout.on("data", (chunk) => {
      buffer += chunk;
      for (const line of buffer.split("\n")) {
        const match = /^(api|storage): (\S+)/.exec(line);
        if (match) found[match[1]] = match[2];
      }
      if (found.api && found.storage) resolve(found);
    });
  });
  const admin = async (method, route, body) => {
    const response = await fetch(new URL(`_sandbox/${route}`, urls.api), {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!response.ok) throw new Error(`${method} _sandbox/${route}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? null : response.json();
  };
  return {
    api: urls.api.replace(/\/$/, ""),
    storage: urls.storage,
    /** The sandbox's process id (benchmarks pin it to a core). */
    pid: child.pid,
    /** The upload record and what storage holds for it. */
    inspect: (uuid) => admin("GET", `uploads/${uuid}`),
    requests: () => admin("GET", "requests"),
    clearRequests: () => admin("DELETE", "requests"),
    setFaults: (faults) => admin("PUT", "faults", faults),
    getFaults: () => admin("GET", "faults"),
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners("exit");
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Writes a sparse file of `size` bytes (no disk used; reads give zeros). */
export function sparseFile(dir, name, size) {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, "w");
  fs.ftruncateSync(fd, size);
  fs.closeSync(fd);
  return file;
}

/** Fails unless no counter of `events` ever goes backwards and phases only advance. */
export function assertMonotonic(assert, events) {
  const phases = ["queued", "hashing", "creating", "uploading", "completing", "processing", "attaching", "done"];
  for (let i = 1; i < events.length; i++) {
    const [a, b] = [events[i - 1], events[i]];
    for (const key of ["bytesHashed", "bytesUploaded", "segmentsDone"]) {
      assert.ok(b[key] >= a[key], `${key} went from ${a[key]} to ${b[key]}`);
    }
    assert.ok(phases.indexOf(b.phase) >= phases.indexOf(a.phase), `phase went from ${a.phase} to ${b.phase}`);
    assert.equal(b.totalBytes, a.totalBytes);
  }
}

/**
 * What most suites need: a temporary folder, the packed package and the fixture page
 * served on 127.0.0.1, a sandbox (started with `sandboxArgs`), and `engine` on that
 * page; `mounts` serves more folders (URL prefix to folder). `takeProblems()` gives
 * the page's errors since the last call; `close()` ends it all.
 */
export async function openWorld(name, sandboxArgs, engine, mounts = {}) {
  const dir = tempDir(name);
  const pkg = packAndUnpack(dir);
  const sandbox = await startSandbox(sandboxArgs);
  const server = await serve({ "/": path.join(ROOT, "tests/e2e/fixtures"), "/pkg/": pkg, ...mounts });
  const browser = await launch(engine);
  const { page } = browser;
  await page.goto(`${server.url}/`);
  return {
    dir, sandbox, server, browser, page, engine,
    takeProblems: () => page.takeProblems(),
    async close() {
      await browser.close();
      await server.close();
      await sandbox.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts `node www/server.mjs` (the demo command's server: the sandbox plus the portal)
 * with `args`; resolves to `{ url, api, stop }` (the portal's URL, the sandbox API's).
 */
export async function startDemoServer(args = []) {
  const child = spawn("node", [path.join(ROOT, "www/server.mjs"), "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const seen = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the portal's server exited with ${code}`)));
    let text = "";
    child.stdout.on("data", (chunk) => {
      text += chunk;
      if (/^demo: \S+/m.test(text) && /^sandbox API: \S+/m.test(text)) resolve(text);
    });
  });
  return {
    url: /^demo: (\S+)/m.exec(seen)[1],
    api: /^sandbox API: (\S+)/m.exec(seen)[1].replace(/\/$/, ""),
    async stop() {
      child.removeAllListeners("exit");
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
