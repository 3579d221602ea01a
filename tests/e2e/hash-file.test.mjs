// hashFile through the packed npm package, in each browser engine, on files a user
// picks, checked against openssl.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { launch } from "./browsers.mjs";
import {
  ROOT, describeInEngines, openssl, packAndUnpack, randomFile, serve, tempDir,
} from "./support.mjs";

const MiB = 1024 * 1024;
// Sizes around the default 4 MiB read and the 64-byte hash block.
const SIZES = [0, 1, 63, 64, 65, 4 * MiB - 1, 4 * MiB, 4 * MiB + 1, 9_000_001];

describeInEngines("hashFile (packed npm package)", (engine) => {
  let dir, server, browser, page, files;

  before(async () => {
    dir = tempDir("e2e");
    const pkg = packAndUnpack(dir);
    server = await serve({ "/": path.join(ROOT, "tests/e2e/fixtures"), "/pkg/": pkg });
    browser = await launch(engine);
    ({ page } = browser);
    files = SIZES.map((size) => randomFile(dir, `f-${size}.bin`, size));
    await page.goto(`${server.url}/`);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    assert.deepEqual(await page.takeProblems(), [], "no page errors or console errors");
  });

  test("digests equal openssl's for files around chunk and block boundaries", async () => {
    await page.setInputFiles("#files", files);
    const results = await page.evaluate(async () => {
      const { hashFile } = await import("/pkg/index.js");
      const out = [];
      for (const file of document.getElementById("files").files) out.push(await hashFile(file));
      return out;
    });
    assert.equal(results.length, files.length);
    results.forEach((result, i) => {
      const label = `${SIZES[i]} bytes`;
      assert.equal(result.size, SIZES[i], label);
      assert.equal(result.sha256, openssl("sha256", files[i]), `sha256 of ${label}`);
      assert.equal(result.md5, openssl("md5", files[i]), `md5 of ${label}`);
    });
  });

  test("md5: false gives SHA-256 alone, still equal to openssl's", async () => {
    await page.setInputFiles("#files", files.at(-1));
    const result = await page.evaluate(async () => {
      const { hashFile } = await import("/pkg/index.js");
      return hashFile(document.getElementById("files").files[0], { md5: false });
    });
    assert.equal(result.sha256, openssl("sha256", files.at(-1)));
    assert.equal("md5" in result, false);
  });

  test("progress is monotonic and ends at the file's size", async () => {
    await page.setInputFiles("#files", files.at(-1));
    let events = await page.evaluate(async () => {
      const { hashFile } = await import("/pkg/index.js");
      const seen = [];
      const times = [];
      await hashFile(document.getElementById("files").files[0], {
        onProgress: (p) => { seen.push(p); times.push(performance.now()); },
      });
      return { seen, times };
    });
    const { times } = events;
    events = events.seen;
    const size = SIZES.at(-1);
    assert.ok(events.length >= 2, `${events.length} progress events: at least the start and the end`);
    // Paced: reports of one phase come at least 100 ms apart (at most ten a second),
    // except the one that says every byte is hashed, which is never held back.
    for (let i = 1; i < events.length; i++) {
      const allHashed = events[i].bytesHashed === events[i].totalBytes && events[i - 1].bytesHashed < events[i - 1].totalBytes;
      if (events[i].phase === events[i - 1].phase && !allHashed) {
        assert.ok(times[i] - times[i - 1] >= 99, `reports ${times[i] - times[i - 1]} ms apart`);
      }
    }
    for (const [a, b] of events.slice(1).map((e, i) => [events[i], e])) {
      assert.ok(b.bytesHashed >= a.bytesHashed, `bytesHashed went from ${a.bytesHashed} to ${b.bytesHashed}`);
      assert.ok(b.segmentsDone >= a.segmentsDone);
    }
    assert.deepEqual(events.at(-1), {
      phase: "done", bytesHashed: size, bytesUploaded: 0, totalBytes: size, segmentsDone: 1, segmentsTotal: 1,
    });
  });

  test("bad input rejects with a typed ProcoreUploadError", async () => {
    const errors = await page.evaluate(async () => {
      const { hashFile } = await import("/pkg/index.js");
      const attempt = (...args) => hashFile(...args).then(
        () => null,
        (e) => ({ isError: e instanceof Error, name: e.name, code: e.code, message: e.message }),
      );
      return [
        await attempt("not a file"),
        await attempt(new Blob(["x"]), { chunkSize: 0 }),
        await attempt(new Blob(["x"]), { signal: AbortSignal.abort() }),
        await attempt(new Blob(["x"]), { chunk_size: 1024 }),
      ];
    });
    assert.deepEqual(errors.map(({ isError, name, code }) => [isError, name, code]), [
      [true, "ProcoreUploadError", "INVALID_INPUT"],
      [true, "ProcoreUploadError", "INVALID_INPUT"],
      [true, "AbortError", "ABORTED"],
      [true, "ProcoreUploadError", "INVALID_INPUT"],
    ]);
    assert.match(errors[0].message, /expected a Blob or File, got string/);
    assert.match(errors[3].message, /options\.chunk_size \(did you mean chunkSize\?\) is not a known option/);
  });
});
