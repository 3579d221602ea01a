// The package as integrators use it: the packed tarball installed by npm into minimal
// apps (tests/consumers/), built or served as their tools do, and driven in each
// engine to hash and upload a file to the sandbox with two hashing workers:
//   - Vite 8 (the current one): production build, and its dev server, unconfigured;
//   - Vite 7: dev server and production build, with only the README's
//     `optimizeDeps: { exclude: ["procore-upload"] }`;
//   - webpack 5: production build, unconfigured (its worker becomes a classic one);
//   - a plain <script type="module"> page importing the unpacked package by path.
// Every production page is served under the strict Content-Security-Policy that the
// README states, sent with every answer, and must cause no violation. Each upload
// must be stored byte for byte, its hashes must come from workers that ran, and the
// page must log no error. Also: package.json's fields, and `npm publish --dry-run`
// without a warning.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { launch } from "./browsers.mjs";
import { build, cachedDependencies, CONSUMERS, prepareApp, serveWithCsp, startViteDev } from "./consumer-apps.mjs";
import { describeInEngines, openssl, packAndUnpack, randomFile, ROOT, startSandbox, tempDir } from "./support.mjs";

const run = promisify(execFile);
const MiB = 1024 * 1024;
const SEGMENT = 5 * MiB + 1;
// Three parts: two workers each hash at least one.
const SIZE = 2 * SEGMENT + 12_345;

/**
 * The policy the README's "Bundlers" section states, for the sandbox's two origins,
 * plus `img-src 'self'` for the page's own favicon, which Firefox and WebKit fetch
 * under the page's policy (nothing of the package's).
 */
const strictCsp = (api, storage) =>
  `default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self' ${api} ${storage}; img-src 'self'`;

let dir, unpacked, tarball, sandbox, file, digest, csp;

// Each app is prepared and built once, by the first engine that needs it.
const once = new Map();
const prepared = (key, make) => {
  if (!once.has(key)) once.set(key, make());
  return once.get(key);
};

const APPS = {
  /** Built with `vite build`, served under the CSP. */
  viteBuild: (app) => prepared(`${app} build`, async () => {
    const target = await prepareApp(app, path.join(dir, "build"), tarball);
    return (await build(target, "vite")).dist;
  }),
  /** The same app for the dev server (a copy of its own: the dev server writes its cache there). */
  viteDev: (app) => prepared(`${app} dev`, () => prepareApp(app, path.join(dir, "dev"), tarball)),
  webpackBuild: () => prepared("webpack5 build", async () => {
    const target = await prepareApp("webpack5", path.join(dir, "build"), tarball);
    const { dist, output } = await build(target, "webpack");
    // The page the integrator writes beside the bundle.
    fs.copyFileSync(path.join(target, "index.html"), path.join(dist, "index.html"));
    return { dist, output };
  }),
  /** No bundler: the page, its modules, and the unpacked package in `procore-upload/`. */
  plain: () => prepared("plain", async () => {
    const target = path.join(dir, "plain");
    fs.cpSync(path.join(CONSUMERS, "app"), target, { recursive: true });
    fs.cpSync(path.join(CONSUMERS, "plain"), target, { recursive: true });
    fs.cpSync(unpacked, path.join(target, "procore-upload"), { recursive: true });
    return target;
  }),
};

before(async () => {
  dir = tempDir("consumers");
  unpacked = packAndUnpack(dir);
  tarball = path.join(dir, fs.readdirSync(dir).find((name) => name.endsWith(".tgz")));
  sandbox = await startSandbox();
  csp = strictCsp(sandbox.api, new URL(sandbox.storage).origin);
  file = randomFile(dir, "drawing.bin", SIZE);
  digest = openssl("sha256", file);
  // The apps' dev dependencies: installed once into .cache/consumers/, then reused.
  for (const app of ["vite8", "vite7", "webpack5"]) {
    const started = Date.now();
    const { installed } = await cachedDependencies(app);
    console.log(`# ${app}: dev dependencies ${installed ? "installed" : "cached"} (${Date.now() - started} ms)`);
  }
});

after(async () => {
  await sandbox?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("package.json: exports with types, import and default; every runtime file in files; engines, license, repository", async () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(unpacked, "package.json"), "utf8"));
  assert.deepEqual(pkg.exports["."], { types: "./index.d.ts", import: "./index.js", default: "./index.js" });
  assert.equal(pkg.type, "module");
  assert.equal(pkg.license, "MIT OR Apache-2.0");
  assert.match(pkg.repository?.url ?? "", /^git\+https:\/\/github\.com\/.+\.git$/);
  assert.ok(pkg.engines?.node, "engines.node");
  // The tarball holds every file the build put into pkg/ (wasm-bindgen snippets too,
  // were there any): nothing that index.js, the worker or the glue load is left out.
  const walk = (root, rel = "") => fs.readdirSync(path.join(root, rel), { withFileTypes: true })
    .flatMap((entry) => entry.isDirectory() ? walk(root, path.join(rel, entry.name)) : [path.join(rel, entry.name)]);
  assert.deepEqual(walk(unpacked).sort(), walk(path.join(ROOT, "pkg")).sort());
});

test("npm publish --dry-run in pkg/: no warning", async () => {
  // An npm configuration of its own: the machine's user config is not the package's
  // business, and a placeholder token for a registry nobody listens on keeps npm from
  // warning that nobody is logged in (and from asking a real registry anything).
  const npmrc = path.join(dir, "publish-npmrc");
  const registry = "http://127.0.0.1:9/";
  fs.writeFileSync(npmrc, `registry=${registry}\n//127.0.0.1:9/:_authToken=dry-run-placeholder\nfetch-retries=0\n`);
  const { stdout, stderr } = await run("npm", ["publish", "--dry-run", "--userconfig", npmrc], { cwd: path.join(ROOT, "pkg") });
  const output = `${stdout}${stderr}`;
  assert.match(output, /Publishing to .* \(dry-run\)/, output);
  assert.doesNotMatch(output, /npm warn|npm WARN|npm error/i, output);
});

describeInEngines("the packed package in consumer apps", (engine) => {
  let browser, page;

  before(async () => {
    browser = await launch(engine);
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
  });

  /**
   * Opens `url`, picks the file and has the page hash it and upload it with two
   * workers; checks the upload, the hashes and the workers; resolves to the page's probe.
   */
  async function hashAndUpload(url, context) {
    await page.goto(url);
    try {
      await page.browser.waitUntil(() => page.browser.execute(() => Boolean(window.consumer)), { timeout: 120_000, interval: 100 });
    } catch {
      const state = await page.evaluate(() => ({ probe: window.__probe ?? null, problems: window.__problems ?? [] }));
      assert.fail(`${context}: the page never set window.consumer: ${JSON.stringify(state)}`);
    }
    await page.setInputFiles("#file", file);
    const outcome = await page.evaluate((arg) => window.consumer.run(arg), { api: sandbox.api, segmentSize: SEGMENT });
    const probe = await page.evaluate(() => window.__probe);
    assert.equal(outcome.error, undefined,
      `${context}: ${JSON.stringify(outcome.error)}; CSP violations in the page: ${JSON.stringify(probe.violations)}`);
    const { hashed, uploaded, afterHash, afterUpload } = outcome;
    assert.equal(uploaded.status, "available", context);
    assert.equal(uploaded.size, SIZE);
    const record = await sandbox.inspect(uploaded.uuid);
    assert.equal(record.stored?.sha256, digest, `${context}: the stored object's SHA-256 is the file's`);
    assert.equal(hashed.segments.length, 3);
    assert.deepEqual(hashed.segments.map((s) => s.sha256), record.stored.range_sha256, `${context}: client.hashSegments's digests`);
    assert.equal(afterHash.created, 2, `${context}: hashSegments started the client's two workers`);
    assert.ok(afterHash.messages > 0, `${context}: the workers answered (they loaded, instantiated the wasm and hashed)`);
    assert.equal(afterUpload.created, 2, `${context}: the upload hashed in the same two workers`);
    assert.ok(afterUpload.messages > afterHash.messages, `${context}: the workers hashed for the upload too`);
    assert.deepEqual(probe.warnings, [], `${context}: no console warnings (no fallback to hashing on the page)`);
    assert.deepEqual(await page.takeProblems(), [], `${context}: no page errors or console errors`);
    return probe;
  }

  /** Serves `root` under the strict CSP, uploads from it, and asserts no violation. */
  async function underCsp(root, context) {
    const server = await serveWithCsp(root, csp);
    try {
      const probe = await hashAndUpload(`${server.url}/`, context);
      assert.deepEqual(probe.violations, [], `${context}: CSP violations in the page`);
      // Reports travel on their own; give a late one (from a worker, say) a moment.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(server.reports(), [], `${context}: CSP violation reports`);
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      throw new Error(`${error.message}\n--- CSP violation reports ---\n${server.reports().join("\n")}`, { cause: error });
    } finally {
      await server.close();
    }
  }

  async function underDevServer(target, context) {
    const dev = await startViteDev(target);
    try {
      await hashAndUpload(`${dev.url}/`, context);
    } catch (error) {
      throw new Error(`${error.message}\n--- vite dev server log ---\n${dev.log()}`, { cause: error });
    } finally {
      await dev.stop();
    }
  }

  test("Vite 8 production build (unconfigured), under the strict CSP", async () => {
    await underCsp(await APPS.viteBuild("vite8"), "vite 8 build");
  });

  test("Vite 8 dev server (unconfigured)", async () => {
    await underDevServer(await APPS.viteDev("vite8"), "vite 8 dev");
  });

  test("Vite 7 dev server (optimizeDeps.exclude, as the README says)", async () => {
    await underDevServer(await APPS.viteDev("vite7"), "vite 7 dev");
  });

  test("Vite 7 production build, under the strict CSP", async () => {
    await underCsp(await APPS.viteBuild("vite7"), "vite 7 build");
  });

  test("webpack 5 production build (unconfigured), under the strict CSP", async () => {
    const { dist, output } = await APPS.webpackBuild();
    // The one warning the README mentions: the .wasm exceeds webpack's size hint.
    const warnings = output.match(/^WARNING in .*/gm) ?? [];
    assert.ok(warnings.every((line) => /asset size limit|entrypoint size limit/.test(line)), output);
    await underCsp(dist, "webpack 5 build");
  });

  test("plain <script type=\"module\"> page, no bundler, under the strict CSP", async () => {
    await underCsp(await APPS.plain(), "plain page");
  });
});
