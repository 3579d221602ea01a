// client.uploadFolder in each browser engine against the sandbox's Documents: a tree
// with nested and empty folders, Unicode names and system files arrives as the same
// tree, every file byte-exact (the sandbox's SHA-256 of each version against the one
// computed here); a second run versions every file and makes no folder; "rename",
// "skip" and "error" do what they say; folders made beforehand are reused; 200 files
// under lost answers, 429s and 503s end with no folder or file twice; resume: "auto"
// after a reload leaves what was in place and sends only a half-sent file's missing
// parts; an `<input webkitdirectory>` picked by the driver (or, where the driver
// cannot pick a folder, a file input's FileList); bad input sends nothing; abort and
// close() stop it.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describeInEngines, openWorld, openssl, randomFile } from "./support.mjs";

const MiB = 1024 * 1024;

describeInEngines("uploadFolder in each browser engine against the sandbox", (engine) => {
  let world, sandbox, page;

  before(async () => {
    world = await openWorld("folders", [], engine);
    ({ sandbox, page } = world);
  });

  after(async () => {
    await world?.close();
  });

  afterEach(async () => {
    assert.deepEqual(await world.takeProblems(), [], "no page errors or console errors");
  });

  /**
   * Runs `body(env, arg)` in the page; `env` has `client` (company 7, the sandbox),
   * `tree(name, spec)` (the entries of a tree kept under `name` across calls: `spec`
   * maps a path to a size, random bytes, or to "dir"; gives `{ entries, sha256 }`),
   * `summary(result)` (errors as `{ code, name }`) and the package. Resolves to its
   * value, or `{ error: { code, name, message, cause } }`.
   */
  function inPage(body, arg) {
    return page.evaluate(
      async ({ body, arg, api }) => {
        const pkg = await import("/pkg/index.js");
        const client = new pkg.ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true });
        const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
        window.trees ??= {};
        async function tree(name, spec) {
          if (window.trees[name]) return window.trees[name];
          const entries = [];
          const sha256 = {};
          for (const [path, size] of Object.entries(spec)) {
            if (size === "dir") {
              entries.push({ path, directory: true });
              continue;
            }
            const bytes = new Uint8Array(size);
            for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65536)));
            const file = new File([bytes], path.split("/").pop(), { type: "application/octet-stream" });
            entries.push({ file, path });
            sha256[path] = hex(await crypto.subtle.digest("SHA-256", bytes));
          }
          return (window.trees[name] = { entries, sha256 });
        }
        const error = (e) => e && { code: e.code, name: e.name, message: e.message, cause: e.cause?.name ?? e.cause ?? null, isClass: e instanceof pkg.ProcoreUploadError };
        const summary = (result) => ({
          folders: result.folders,
          files: result.files.map((f) => ({ ...f, error: error(f.error) })),
        });
        try {
          return await new Function("env", "arg", `return (${body})(env, arg);`)({ client, tree, summary, pkg, api }, arg);
        } catch (e) {
          return { error: error(e) };
        } finally {
          client.close();
        }
      },
      { body: body.toString(), arg, api: sandbox.api },
    );
  }

  const documents = async (query) => (await fetch(`${sandbox.api}/_sandbox/documents?${query}`)).json();
  const paths = (list) => list.map((item) => item.path).sort();

  const TREE = {
    "plans/A/a1.pdf": 70_000,
    "plans/A/a2.pdf": 1,
    "plans/B/Ünïcödé 図面 ✓.pdf": 2048,
    "plans/empty": "dir",
    "photos/2026-12-01/IMG 001.jpg": 5000,
    "photos/2026-12-01/.DS_Store": 10,
    "photos/Thumbs.db": 20,
    "Ärger über/notes .txt": 300,
    "readme.txt": 100,
    "deep/a/b/c/d/e.txt": 42,
    "empty top": "dir",
    "empty top/empty inner": "dir",
  };
  const FOLDERS = ["plans", "plans/A", "plans/B", "plans/empty", "photos", "photos/2026-12-01", "Ärger über",
    "deep", "deep/a", "deep/a/b", "deep/a/b/c", "deep/a/b/c/d", "empty top", "empty top/empty inner"].sort();
  const FILES = ["plans/A/a1.pdf", "plans/A/a2.pdf", "plans/B/Ünïcödé 図面 ✓.pdf", "photos/2026-12-01/IMG 001.jpg",
    "Ärger über/notes .txt", "readme.txt", "deep/a/b/c/d/e.txt"].sort();

  /** Every file of `docs` once, its latest version's bytes those of `sha256`. */
  function assertBytes(docs, sha256, versions) {
    for (const file of docs.files) {
      assert.equal(file.version_count, versions, `${file.path}: ${versions} version(s)`);
      assert.equal(file.versions.at(-1).sha256, sha256[file.path], `${file.path}: byte-exact`);
    }
  }

  test("a tree with nested and empty folders, Unicode names and system files arrives as the same tree, byte-exact", async () => {
    const value = await inPage(async ({ client, tree, summary }, spec) => {
      const { entries, sha256 } = await tree("main", spec);
      const progress = [];
      const perFile = new Set();
      const result = await client.uploadFolder(entries, {
        projectId: 42,
        onProgress: (p) => progress.push(p),
        onFileProgress: (path, p) => { if (p.phase === "done") perFile.add(path); },
      });
      return { result: summary(result), sha256, last: progress.at(-1), perFile: [...perFile].sort() };
    }, TREE);
    assert.equal(value.error, undefined, JSON.stringify(value.error));
    const docs = await documents("project_id=42");
    assert.deepEqual(paths(docs.folders), FOLDERS, "the same folders, empty ones too, system files' left out");
    assert.deepEqual(paths(docs.files), FILES, "the same files, no system file");
    assertBytes(docs, value.sha256, 1);
    assert.deepEqual(value.result.files.map((f) => f.status), FILES.map(() => "created"));
    assert.deepEqual(paths(value.result.files), FILES);
    assert.ok(value.result.folders.every((f) => f.created && f.id > 0), JSON.stringify(value.result.folders));
    for (const f of value.result.files) {
      const there = docs.files.find((d) => d.path === f.path);
      assert.equal(f.fileId, there.id);
      assert.equal(f.versionId, there.versions[0].id);
      assert.equal(f.uploadUuid, there.versions[0].upload_uuid);
      assert.equal(f.error, null);
    }
    assert.deepEqual(value.perFile, FILES, "onFileProgress: each file's done");
    assert.equal(value.last.filesTotal, FILES.length);
    assert.equal(value.last.filesDone, FILES.length);
    assert.equal(value.last.filesFailed, 0);
    assert.equal(value.last.phase, "done");
    const bytes = Object.entries(TREE).filter(([p, s]) => s !== "dir" && FILES.includes(p)).reduce((n, [, s]) => n + s, 0);
    assert.equal(value.last.totalBytes, bytes);
    assert.equal(value.last.bytesUploaded, bytes);
  });

  test("a second run versions every file and makes no folder", async () => {
    const before = await documents("project_id=42");
    await sandbox.clearRequests();
    const value = await inPage(async ({ client, tree, summary }) => {
      const { entries, sha256 } = await tree("main");
      return { result: summary(await client.uploadFolder(entries, { projectId: 42 })), sha256 };
    });
    assert.equal(value.error, undefined, JSON.stringify(value.error));
    const docs = await documents("project_id=42");
    assert.equal(docs.folder_count, before.folder_count, "no folder made");
    assert.deepEqual(paths(docs.files), FILES);
    assertBytes(docs, value.sha256, 2);
    assert.deepEqual(value.result.files.map((f) => f.status), FILES.map(() => "versioned"));
    assert.ok(value.result.folders.every((f) => !f.created), "every folder reused");
    const posts = (await sandbox.requests()).filter((r) => r.method === "POST" && r.path.endsWith("/folders"));
    assert.deepEqual(posts, [], "no Create Folder sent");
  });

  test('"rename" makes renamed files beside the old ones, "skip" leaves them, "error" fails each with NAME_TAKEN', async () => {
    const spec = { "x/a.txt": 100, "x/b": 50 };
    const first = await inPage(async ({ client, tree, summary }, spec) => {
      const { entries } = await tree("small", spec);
      return summary(await client.uploadFolder(entries, { projectId: 43 }));
    }, spec);
    assert.equal(first.error, undefined, JSON.stringify(first.error));
    const run = (onExisting) => inPage(async ({ client, tree, summary }, onExisting) => {
      const { entries } = await tree("small");
      return summary(await client.uploadFolder(entries, { projectId: 43, onExisting }));
    }, onExisting);

    const renamed = await run("rename");
    assert.deepEqual(renamed.files.map((f) => [f.status, f.name]), [["renamed", "a (1).txt"], ["renamed", "b (1)"]]);
    let docs = await documents("project_id=43");
    assert.deepEqual(paths(docs.files), ["x/a (1).txt", "x/a.txt", "x/b", "x/b (1)"]);
    assert.ok(docs.files.every((f) => f.version_count === 1));

    const skipped = await run("skip");
    assert.deepEqual(skipped.files.map((f) => f.status), ["skipped", "skipped"]);
    assert.deepEqual(skipped.files.map((f) => f.fileId), first.files.map((f) => f.fileId), "the files left there");
    assert.deepEqual(skipped.files.map((f) => f.uploadUuid), [null, null], "nothing sent");
    const afterSkip = await documents("project_id=43");
    assert.deepEqual([afterSkip.file_count, afterSkip.version_count], [docs.file_count, docs.version_count]);

    const failed = await run("error");
    assert.deepEqual(failed.files.map((f) => [f.status, f.error?.code, f.error?.isClass]),
      [["failed", "NAME_TAKEN", true], ["failed", "NAME_TAKEN", true]]);
    docs = await documents("project_id=43");
    assert.deepEqual([docs.file_count, docs.version_count], [afterSkip.file_count, afterSkip.version_count]);
  });

  test("folders made beforehand through the API are reused, company Documents", async () => {
    const value = await inPage(async ({ client, tree, summary }) => {
      const plans = await client.request("POST", "/rest/v1.0/companies/7/folders", { body: { folder: { name: "plans" } } });
      const a = await client.request("POST", "/rest/v1.0/companies/7/folders", { body: { folder: { name: "A", parent_id: plans.id } } });
      const { entries, sha256 } = await tree("reuse", { "plans/A/a1.pdf": 3000, "plans/C/c.pdf": 1000 });
      return { made: [plans.id, a.id], sha256, result: summary(await client.uploadFolder(entries, {})) };
    });
    assert.equal(value.error, undefined, JSON.stringify(value.error));
    assert.deepEqual(value.result.folders.map((f) => [f.path, f.created]), [["plans", false], ["plans/A", false], ["plans/C", true]]);
    assert.deepEqual(value.result.folders.slice(0, 2).map((f) => f.id), value.made);
    const docs = await documents("company_id=7");
    assert.deepEqual(paths(docs.folders), ["plans", "plans/A", "plans/C"]);
    assert.deepEqual(paths(docs.files), ["plans/A/a1.pdf", "plans/C/c.pdf"]);
    assertBytes(docs, value.sha256, 1);
  });

  test("200 files under lost answers, 429s and 503s: no folder or file twice, every file byte-exact", async () => {
    const spec = {};
    for (let n = 0; n < 200; n++) spec[`batch/d${n % 10}/s${n % 3}/f${n}.bin`] = 200 + n;
    await sandbox.clearRequests();
    await sandbox.setFaults({ retry_after_secs: 0, api_faults: [
      { fault: "answer_lost", method: "POST", path: "/rest/v1.0/files", next: 40, rate: 0.3 },
      { fault: "answer_lost", method: "POST", path: "/rest/v1.0/folders", next: 10, rate: 0.5 },
      { fault: "429", next: 30, rate: 0.08 },
      { fault: "503", next: 30, rate: 0.08 },
    ] });
    const run = () => inPage(async ({ client, tree, summary }, spec) => {
      const { entries, sha256 } = await tree("many", spec);
      return { sha256, result: summary(await client.uploadFolder(entries, { projectId: 44, resume: "auto" })) };
    }, spec);
    let value;
    try {
      value = await run();
    } finally {
      await sandbox.setFaults({});
    }
    assert.equal(value.error, undefined, JSON.stringify(value.error));
    // A call whose every retry lost its answer fails its file (the retries are
    // bounded); the next run with resume sends that same call again, and Procore
    // makes the file once.
    const failed = value.result.files.filter((f) => f.status !== "created");
    for (const f of failed) assert.match(f.error?.message ?? "", /answered (502|503|429)/, JSON.stringify(f));
    if (failed.length > 0) {
      console.log(`# ${engine}: ${failed.length} file(s) failed after every retry: ${failed.map((f) => f.path)}; run again`);
      value = await run();
      assert.equal(value.error, undefined, JSON.stringify(value.error));
    }
    assert.deepEqual(value.result.files.filter((f) => f.status !== "created"), [], "all created");
    const docs = await documents("project_id=44");
    const folders = new Set(Object.keys(spec).flatMap((p) => p.split("/").slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join("/"))));
    assert.deepEqual(paths(docs.folders), [...folders].sort(), "each folder once");
    assert.deepEqual(paths(docs.files), Object.keys(spec).sort(), "each file once");
    assertBytes(docs, value.sha256, 1);
    const faults = (await sandbox.requests()).filter((r) => r.fault);
    const taken = (kind, path) => faults.filter((r) => String(r.fault).includes(kind) && (!path || r.path.endsWith(path))).length;
    console.log(`# ${engine}: faults taken: ${faults.length} (lost files ${taken("lost", "/files")}, lost folders ${taken("lost", "/folders")}, 429 ${taken("429")}, 503 ${taken("503")})`);
    assert.ok(taken("lost", "/files") > 0 && taken("lost", "/folders") > 0, JSON.stringify(faults.map((r) => [r.method, r.path, r.fault])));
  });

  test("an attach whose every answer was lost fails its file; the next run sends that call again and Procore makes the file once", async () => {
    const spec = { "lost/a/only.txt": 1234 };
    await sandbox.setFaults({ api_faults: [
      { fault: "answer_lost", method: "POST", path: "/rest/v1.0/files", next: 5, rate: 1 },
    ] });
    const run = () => inPage(async ({ client, tree, summary }, spec) => {
      const { entries, sha256 } = await tree("lost", spec);
      return { sha256, result: summary(await client.uploadFolder(entries, { projectId: 49, resume: "auto" })) };
    }, spec);
    let first;
    try {
      first = await run();
    } finally {
      await sandbox.setFaults({});
    }
    assert.equal(first.error, undefined, JSON.stringify(first.error));
    const lost = first.result.files.filter((f) => f.status === "failed");
    assert.equal(lost.length, 1, JSON.stringify(first.result.files));
    assert.equal(first.result.files.length, 1);
    assert.match(lost[0].error.message, /answered 502/);
    await sandbox.clearRequests();
    const second = await run();
    assert.equal(second.error, undefined, JSON.stringify(second.error));
    assert.deepEqual(second.result.files.map((f) => f.status), ["created"]);
    const posts = (await sandbox.requests()).filter((r) => r.side === "api" && r.method === "POST");
    assert.deepEqual(posts.map((r) => r.path), ["/rest/v1.0/files"], "only the lost call, sent again");
    const docs = await documents("project_id=49");
    assert.deepEqual(paths(docs.files), Object.keys(spec).sort(), "each file once");
    assertBytes(docs, second.sha256, 1);
  });

  test('resume: "auto" after a reload: what was in place is left, the half-sent file sends only its missing parts', async () => {
    const disk = { "r/a/s1.txt": 3000, "r/a/s2.txt": 10, "r/b/s3.txt": 5000, "r/s4.txt": 700, "r/big/big.bin": 6 * 6 * MiB + 77 };
    const onDisk = Object.entries(disk).map(([p, size]) => [p, randomFile(world.dir, p.replaceAll("/", "_"), size)]);
    const options = { projectId: 48, resume: "auto", segmented: true, segmentSize: 6 * MiB };
    const BIG = "r/big/big.bin";
    // Picks the files on the page (reloaded first) and defines `window.__entries()`.
    const pickTree = async (reload) => {
      if (reload) await page.reload();
      await page.setInputFiles("#files", onDisk.map(([, file]) => file));
      await page.evaluate((paths) => {
        window.__entries = () => [...document.getElementById("files").files]
          .map((file) => ({ file, path: paths[file.name] }));
      }, Object.fromEntries(onDisk.map(([p, file]) => [path.basename(file), p])));
    };
    await pickTree(false);
    await sandbox.clearRequests();
    const first = await page.evaluate(async ({ api, options, BIG }) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true, concurrency: 1 });
      const entries = window.__entries();
      const big = entries.find((e) => e.path === BIG).file;
      const done = new Set();
      client.uploadFolder(entries, { ...options, onFileProgress: (path, p) => { if (p.phase === "done") done.add(path); } })
        .catch(() => {});
      const until = async (check) => {
        const end = performance.now() + 60000;
        while (!(await check())) {
          if (performance.now() > end) throw new Error(`timed out: done ${[...done]}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      // The page goes once the small files are in place and two of big.bin's parts kept.
      await until(async () => {
        const [kept] = await client.findResumable(big, { projectId: 48, filename: BIG });
        return done.size === 4 && kept && kept.bytesConfirmed >= 2 * 6 * 1024 * 1024;
      });
      const [kept] = await client.findResumable(big, { projectId: 48, filename: BIG });
      return { done: [...done].sort(), confirmed: kept.bytesConfirmed };
    }, { api: sandbox.api, options, BIG });
    assert.equal(first.error, undefined, JSON.stringify(first.error));
    const atReload = (await sandbox.requests()).length;
    await pickTree(true);
    const second = await page.evaluate(async ({ api, options, BIG }) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true });
      const entries = window.__entries();
      // What is kept at the reload: the first page went on sending until it was gone.
      const [kept] = await client.findResumable(entries.find((e) => e.path === BIG).file, { projectId: 48, filename: BIG });
      let last;
      const result = await client.uploadFolder(entries, { ...options, onProgress: (p) => { last = p; } });
      client.close();
      return { files: result.files.map((f) => ({ ...f, error: f.error && f.error.code })), last, confirmed: kept.bytesConfirmed };
    }, { api: sandbox.api, options, BIG });
    assert.equal(second.error, undefined, JSON.stringify(second.error));
    assert.deepEqual(second.files.map((f) => [f.path, f.status, f.error]).sort(),
      Object.keys(disk).sort().map((p) => [p, "created", null]));
    assert.deepEqual([second.last.filesDone, second.last.filesTotal, second.last.filesFailed], [5, 5, 0]);
    const docs = await documents("project_id=48");
    assert.deepEqual(paths(docs.files), Object.keys(disk).sort(), "each file once");
    assertBytes(docs, Object.fromEntries(onDisk.map(([p, file]) => [p, openssl("sha256", file)])), 1);
    const log = (await sandbox.requests()).slice(atReload).filter((r) => r.method !== "OPTIONS");
    const posts = (suffix) => log.filter((r) => r.side === "api" && r.method === "POST" && r.path.endsWith(suffix)).length;
    assert.equal(posts("/uploads"), 0, "no upload made again: the small files' stay, big.bin's goes on");
    assert.equal(posts("/file_versions"), 0, "no version made");
    assert.equal(posts("/folders"), 0, "no folder made");
    assert.ok(second.confirmed >= first.confirmed, "what was kept before the reload is kept after it");
    // Counted from the state kept at the reload, not when the first page stopped waiting:
    // a part that landed in between (seen in Chromium) is not sent again either.
    const missing = 7 - Math.floor(second.confirmed / (6 * MiB));
    const puts = log.filter((r) => r.side === "storage" && r.method === "PUT").length;
    assert.equal(puts, missing, `only big.bin's ${missing} parts without an ETag`);
    console.log(`# ${engine}: reloaded with ${first.done.length} files in place and ${second.confirmed} bytes of big.bin kept; after it: ${puts} PUTs, ${posts("/files")} file create(s)`);
  });

  test("an <input webkitdirectory> picked by the driver", async () => {
    const root = path.join(world.dir, "picked");
    const files = { "site/day 1/a.bin": 1500, "site/day 1/b.bin": 10, "site/c.bin": 700 };
    const sha256 = {};
    for (const [p, size] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      const bytes = crypto.randomBytes(size);
      fs.writeFileSync(path.join(root, p), bytes);
      sha256[p] = crypto.createHash("sha256").update(bytes).digest("hex");
    }
    const listed = () => page.evaluate((id) => [...document.getElementById(id).files].map((f) => [f.webkitRelativePath, f.size]), "dir");
    let picked = null;
    try {
      await page.setInputFiles("#dir", path.join(root, "site"));
      picked = await listed();
    } catch (e) {
      console.log(`# ${engine}: the driver could not set a folder on <input webkitdirectory>: ${String(e.message).split("\n")[0]}`);
    }
    const asFolder = Array.isArray(picked) && picked.length > 0 && picked.every(([p]) => p !== "");
    let input = "dir";
    let expected;
    if (asFolder) {
      console.log(`# ${engine}: <input webkitdirectory> picked by the driver: ${JSON.stringify(picked)}`);
      expected = Object.fromEntries(Object.entries(sha256));
    } else {
      if (picked) console.log(`# ${engine}: the folder input held ${JSON.stringify(picked)}; using a file input's FileList`);
      await page.setInputFiles("#files", Object.keys(files).map((p) => path.join(root, p)));
      input = "files";
      expected = Object.fromEntries(Object.entries(sha256).map(([p, h]) => [p.split("/").pop(), h]));
    }
    const value = await inPage(async ({ client, summary }, input) => {
      const list = document.getElementById(input).files;
      return summary(await client.uploadFolder(list, { projectId: 45 }));
    }, input);
    assert.equal(value.error, undefined, JSON.stringify(value.error));
    const docs = await documents("project_id=45");
    assert.deepEqual(paths(docs.files), Object.keys(expected).sort());
    assertBytes(docs, expected, 1);
    if (asFolder) assert.deepEqual(paths(docs.folders), ["site", "site/day 1"]);
  });

  test("bad entries and options are INVALID_INPUT and send nothing", async () => {
    await sandbox.clearRequests();
    const value = await inPage(async ({ client }) => {
      const file = new File(["x"], "x.txt");
      const cases = [
        [[{ file, path: "a//b.txt" }], {}],
        [[{ file, path: "../x.txt" }], {}],
        [[{ file, path: "/x.txt" }], {}],
        [[{ file, path: "a/./x.txt" }], {}],
        [[{ file, path: "tab\there.txt" }], {}],
        [[{ file, path: "same.txt" }, { file, path: "same.txt" }], {}],
        [[{ file, path: "a" }, { path: "a", directory: true }], {}],
        [[{ file, path: "" }], {}],
        [[{ path: "x.txt" }], {}],
        [[{ file: "not a file", path: "x.txt" }], {}],
        [[42], {}],
        ["plans/a.pdf", {}],
        [[{ file, path: "ok.txt" }], { onExisting: "overwrite" }],
        [[{ file, path: "ok.txt" }], { parentID: 3 }],
        [[{ file, path: "ok.txt" }], { filename: "y.txt" }],
        [[{ file, path: "ok.txt" }], { resume: true }],
      ];
      const out = [];
      for (const [entries, options] of cases) {
        try {
          await client.uploadFolder(entries, { projectId: 46, ...options });
          out.push("resolved");
        } catch (e) {
          out.push(`${e.code}: ${e.message}`);
        }
      }
      return out;
    });
    assert.equal(value.error, undefined, JSON.stringify(value.error));
    for (const line of value) assert.match(line, /^INVALID_INPUT: /, line);
    assert.match(value[0], /a\/\/b\.txt/, "the bad path is named");
    assert.match(value[5], /given twice/);
    assert.deepEqual(await sandbox.requests(), [], "nothing sent");
    assert.equal((await documents("project_id=46")).file_count, 0);
  });

  test("an aborted signal and close() stop the whole tree with an AbortError", async () => {
    const value = await inPage(async ({ client, tree, pkg, api }) => {
      const { entries } = await tree("stop", { "s/a.bin": 3_000_000, "s/b.bin": 3_000_000, "s/c/d.bin": 2_000_000 });
      const controller = new AbortController();
      let aborted;
      try {
        await client.uploadFolder(entries, { projectId: 47, signal: controller.signal,
          onFileProgress: (_, p) => { if (p.bytesHashed > 0) controller.abort(new Error("user")); } });
        aborted = "resolved";
      } catch (e) {
        aborted = [e.name, e.code, e.cause?.message];
      }
      const other = new pkg.ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true });
      let closed;
      try {
        await other.uploadFolder(entries, { projectId: 47, onFileProgress: () => other.close() });
        closed = "resolved";
      } catch (e) {
        closed = [e.name, e.code];
      }
      // More than 30 files: their futures are joined another way (a set polled
      // again within the same poll), and the tree winds down at once on close().
      const many = {};
      for (let n = 0; n < 40; n++) many[`m/${n % 4}/f${n}.bin`] = 100_000;
      const { entries: manyEntries } = await tree("stopMany", many);
      const third = new pkg.ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true });
      let closedMany;
      try {
        await third.uploadFolder(manyEntries, { projectId: 47, onFileProgress: () => third.close() });
        closedMany = "resolved";
      } catch (e) {
        closedMany = [e.name, e.code];
      }
      const controller2 = new AbortController();
      let abortedMany;
      try {
        await client.uploadFolder(manyEntries, { projectId: 47, signal: controller2.signal,
          onFileProgress: () => controller2.abort(new Error("user")) });
        abortedMany = "resolved";
      } catch (e) {
        abortedMany = [e.name, e.code, e.cause?.message];
      }
      return { aborted, closed, closedMany, abortedMany };
    });
    assert.equal(value.error, undefined, JSON.stringify(value.error));
    assert.deepEqual(value.aborted, ["AbortError", "ABORTED", "user"]);
    assert.deepEqual(value.closed, ["AbortError", "ABORTED"]);
    assert.deepEqual(value.closedMany, ["AbortError", "ABORTED"], "40 files, close()");
    assert.deepEqual(value.abortedMany, ["AbortError", "ABORTED", "user"], "40 files, abort");
  });
});
