// Files built in the page (resized photos, generated PDFs: `new File([parts], …)`),
// not picked from disk, in each browser engine against the sandbox: a batch of 100
// of them through one client, one of 256 MiB hashed by two workers, and hashing
// while Chromium's blob store is full. Every digest and every stored byte is checked
// against the bytes built (issue 21, defect 12: Chromium failed reads of such files
// with FILE_READ, "TypeError: network error").
//
// Why Chromium failed: it keeps the bytes of in-memory Blobs in its browser process,
// within a quota (500 MiB in the headless Chromium these tests run; 2 GiB in desktop
// Chrome, whose disk paging is off in incognito windows), and builds a slice of such a
// Blob that starts or ends inside one of its byte items (up to 10 MiB each) by
// copying those bytes into the store. A slice lives until the garbage collector takes
// its tiny JS object, which can be long after its read: the copies of one slice per
// segment read filled the store, and the next slice could not be built. The library
// now reads consecutive segments through one stream (no slice where a read starts at
// byte 0), and reads through the file itself, from its first byte, when a slice
// cannot be read.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { launch } from "./browsers.mjs";
import { ROOT, describeInEngines, packAndUnpack, serve, startSandbox, tempDir } from "./support.mjs";

const MiB = 1024 * 1024;
const PART = MiB;

/**
 * The bytes of part `part` of file `file` (at most 1 MiB): xorshift32, seeded, so the
 * page builds them and this process checks them without sending them across. Runs in
 * both places: it is sent to the page as source text.
 */
function partBytes(file, part, length) {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = ((file + 1) * 7919 + part * 104729) | 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return new Uint8Array(words.buffer, 0, length);
}

/** SHA-256 of bytes `from..to` of file `file` of `size` bytes, as lowercase hex. */
function sha256(file, size, from = 0, to = size) {
  const hash = crypto.createHash("sha256");
  for (let k = 0; k * PART < size; k++) {
    const start = k * PART;
    const length = Math.min(PART, size - start);
    const [a, b] = [Math.max(from, start), Math.min(to, start + length)];
    if (a < b) hash.update(partBytes(file, k, length).subarray(a - start, b - start));
  }
  return hash.digest("hex");
}

/** Builds `new File([parts of at most 1 MiB], name)` of file `file` in the page. */
const BUILD = `(partBytes, part) => (file, size, name) => {
  const parts = [];
  for (let k = 0; k * part < size; k++) parts.push(partBytes(file, k, Math.min(part, size - k * part)));
  return new File(parts, name, { type: "application/octet-stream" });
}`;

/**
 * The batch's sizes: every fourth file 13 MiB (thirteen 1 MiB parts), two empty ones,
 * the rest under 1 MiB: about 360 MiB the page keeps. Seeded: the same mix every run.
 */
function sizes() {
  let seed = 20261123;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: 100 }, (_, i) => {
    if (i % 4 === 0) return 13 * MiB;
    if (i === 50 || i === 99) return 0;
    return Math.floor(1 + random() * (MiB - 1));
  });
}

/**
 * How file `i` is uploaded: v1.1 segmented, v1.1 in one form POST, v2.1; segmented
 * in (about) 5 MiB segments, so that a 13 MiB file is read from three offsets.
 */
const FLOWS = [
  { apiVersion: "v1.1", segmented: true, segmentSize: 5 * MiB },
  { apiVersion: "v1.1", segmented: false },
  { apiVersion: "v2.1", segmentSize: 5 * MiB + 1 },
];

describeInEngines("files built in the page: uploaded and hashed byte for byte (each browser engine)", (engine) => {
  let dir, pkg, sandbox, server, browser, page;

  before(async () => {
    dir = tempDir("in-memory");
    pkg = packAndUnpack(dir);
    sandbox = await startSandbox(["--processing-delay-ms", "50"]);
    server = await serve({ "/": path.join(ROOT, "tests/e2e/fixtures"), "/pkg/": pkg });
  });

  after(async () => {
    await server?.close();
    await sandbox?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  // A new browser for each test: a page's Blobs leave Chromium's store only when the
  // garbage collector takes them, so one test's files must not crowd the next's.
  async function openPage() {
    browser = await launch(engine);
    ({ page } = browser);
    await page.goto(`${server.url}/`);
  }

  afterEach(async () => {
    try {
      assert.deepEqual(await page.takeProblems(), [], "no page errors or console errors");
    } finally {
      await browser?.close();
      browser = null;
    }
  });

  test("100 files, 0 B to 13 MiB, about 360 MiB kept by the page, through one client with its defaults: each stored as built", async () => {
    await openPage();
    const batch = sizes();
    const outcome = await page.evaluate(async ({ api, flows, batch, source, build, part }) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      const buildFile = new Function(`return ${build}`)()(new Function(`return ${source}`)(), part);
      // Built as a portal builds them; the page keeps every one of them.
      window.__batch = batch.map((size, i) => buildFile(i, size, `built-${String(i).padStart(3, "0")}.bin`));
      const client = new ProcoreClient({ companyId: 7, accessToken: "sandbox-token", baseUrl: api, allowInsecureStorage: true });
      const results = await Promise.all(window.__batch.map((file, i) =>
        client.upload(file, { ...flows[i % flows.length], projectId: 1 }).then(
          (result) => ({ result }),
          (e) => ({ error: { name: file.name, size: file.size, code: e.code, message: e.message } }))));
      client.close();
      return results;
    }, { api: sandbox.api, flows: FLOWS, batch, source: partBytes.toString(), build: BUILD, part: PART });

    assert.deepEqual(outcome.filter((o) => o.error).map((o) => o.error), [], "every upload completes");
    for (const [i, { result }] of outcome.entries()) {
      assert.equal(result.size, batch[i], `file ${i}`);
      const record = await sandbox.inspect(result.uuid);
      assert.equal(record.stored?.sha256, sha256(i, batch[i]), `file ${i} (${batch[i]} B) stored as built`);
      const segmented = FLOWS[i % FLOWS.length].segmented !== false;
      assert.equal(Boolean(result.segments), segmented, `file ${i}: segmented as asked`);
      if (segmented) {
        result.segments.forEach((s, k) => {
          const start = k * FLOWS[i % FLOWS.length].segmentSize;
          assert.equal(s.sha256, sha256(i, batch[i], start, start + s.size), `file ${i} segment ${k}`);
        });
      }
    }
  });

  test("one 256 MiB file among 180 MiB of others the page keeps, hashed by two workers: every segment's SHA-256 is the built bytes'", async () => {
    await openPage();
    const size = 256 * MiB;
    const segment = 16 * MiB;
    const result = await page.evaluate(async ({ size, segment, source, build, part }) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      const buildFile = new Function(`return ${build}`)()(new Function(`return ${source}`)(), part);
      window.__others = Array.from({ length: 10 }, (_, i) => buildFile(3000 + i, 18 * 1024 * 1024, `other-${i}.bin`));
      window.__big = buildFile(1000, size, "built-big.bin");
      const client = new ProcoreClient({ companyId: 7, accessToken: "t" });
      try {
        return await client.hashSegments(window.__big, { workers: 2, segmentSize: segment });
      } catch (e) {
        return { error: { code: e.code, message: e.message } };
      } finally {
        client.close();
      }
    }, { size, segment, source: partBytes.toString(), build: BUILD, part: PART });
    assert.equal(result.error, undefined, JSON.stringify(result.error));
    assert.equal(result.segments.length, size / segment);
    result.segments.forEach((s, i) => {
      assert.equal(s.sha256, sha256(1000, size, i * segment, (i + 1) * segment), `segment ${i}`);
    });
  });

  test("with Chromium's blob store full (no slice of the file can be built), hashing reads the file itself and stays right", async () => {
    await openPage();
    const size = 13 * MiB;
    const segment = 5 * MiB;
    const outcome = await page.evaluate(async ({ size, segment, source, build, part }) => {
      const { ProcoreClient } = await import("/pkg/index.js");
      const buildFile = new Function(`return ${build}`)()(new Function(`return ${source}`)(), part);
      const file = buildFile(2000, size, "built-13.bin");
      await file.arrayBuffer();
      // Fills the store with 1 MiB Blobs until one cannot be read (Chromium), or 600 MiB
      // were added (an engine with no such limit).
      window.__filler = [];
      let full = false;
      while (!full && window.__filler.length < 600) {
        const filler = new Blob([new Uint8Array(1024 * 1024)]);
        try {
          await filler.arrayBuffer();
          window.__filler.push(filler);
        } catch {
          full = true;
        }
      }
      // What the library reads when a segment starts past byte 0: a slice, which
      // Chromium would have to copy into the full store.
      const slice = await file.slice(segment, size).arrayBuffer().then(() => "read", (e) => e.name);
      const client = new ProcoreClient({ companyId: 7, accessToken: "t" });
      const hashed = {};
      for (const workers of [3, 0]) {
        hashed[workers] = await client.hashSegments(file, { workers, segmentSize: segment })
          .catch((e) => ({ error: { code: e.code, message: e.message } }));
      }
      client.close();
      window.__filler = null;
      return { full, slice, hashed };
    }, { size, segment, source: partBytes.toString(), build: BUILD, part: PART });
    if (engine === "chromium") {
      assert.equal(outcome.full, true, "Chromium's store got full");
      assert.equal(outcome.slice, "NotReadableError", "a slice of the file cannot be read any more");
    }
    for (const [workers, result] of Object.entries(outcome.hashed)) {
      assert.equal(result.error, undefined, `${workers} workers: ${JSON.stringify(result.error)}`);
      assert.equal(result.segments.length, 3);
      result.segments.forEach((s, i) => {
        assert.equal(s.sha256, sha256(2000, size, i * segment, Math.min(size, (i + 1) * segment)), `${workers} workers, segment ${i}`);
      });
    }
  });
});
