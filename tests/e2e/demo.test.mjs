// The demo command's server (www/server.mjs: the sandbox plus the page), driven as a
// user would: pick a file, watch it upload, see what storage holds.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { launch } from "./browsers.mjs";
import { ROOT, describeInEngines, openssl, randomFile, tempDir } from "./support.mjs";

describeInEngines("the demo: sandbox + page", (engine) => {
  let dir, demo, url, browser, page;

  before(async () => {
    dir = tempDir("demo");
    demo = spawn("node", [path.join(ROOT, "www/server.mjs"), "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    url = await new Promise((resolve, reject) => {
      demo.once("exit", (code) => reject(new Error(`the demo exited with ${code}`)));
      let seen = "";
      demo.stdout.on("data", (chunk) => {
        seen += chunk;
        const match = /^demo: (\S+)/m.exec(seen);
        if (match) resolve(match[1]);
      });
    });
    browser = await launch(engine);
    ({ page } = browser);
    await page.goto(url);
  });

  after(async () => {
    await browser?.close();
    if (demo) {
      demo.removeAllListeners("exit");
      const exited = new Promise((resolve) => demo.once("exit", resolve));
      demo.kill("SIGTERM");
      await exited;
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const [apiVersion, segmented, size] of [["v1.1", "auto", 3_000_001], ["v2.1", "auto", 12_000_000], ["v1.0", "true", 6_000_000]]) {
    test(`${apiVersion} segmented=${segmented}: a picked ${size}-byte file is uploaded with live progress and stored intact`, async () => {
      const file = randomFile(dir, `demo-${apiVersion}.bin`, size);
      await page.selectOption("#api-version", apiVersion);
      await page.selectOption("#segmented", segmented);
      // Watch the phase line change while the upload runs.
      await page.evaluate(() => {
        window.__phases = [];
        new MutationObserver(() => window.__phases.push(document.getElementById("phase").textContent))
          .observe(document.getElementById("phase"), { childList: true, characterData: true, subtree: true });
      });
      await page.setInputFiles("#file", file);
      await page.waitForFunction(() => ["done"].includes(document.getElementById("status").textContent) || document.getElementById("status").textContent.startsWith("error"));
      assert.equal(await page.textContent("#status"), "done");
      assert.equal(await page.textContent("#stored-sha256"), openssl("sha256", file));
      assert.match(await page.textContent("#uuid"), /^[0-9A-Z]{26} \((complete|available)\)$/);
      const seen = await page.evaluate(() => window.__phases);
      assert.ok(seen.includes("uploading") && seen.at(-1) === "done", `phases shown: ${seen}`);
      assert.equal(await page.evaluate(() => document.getElementById("upload-progress").value), 1);
      assert.deepEqual(await page.takeProblems(), []);
    });
  }

  test("a file dropped on the page is uploaded", async () => {
    await page.selectOption("#api-version", "v1.1");
    await page.selectOption("#segmented", "auto");
    // A drop as the browser delivers it: drag events whose DataTransfer holds a File.
    await page.evaluate(() => {
      const bytes = new Uint8Array(777_777).map((_, i) => (i * 131) % 251);
      const dataTransfer = new DataTransfer();
      dataTransfer.items.add(new File([bytes], "dropped.bin"));
      const target = document.getElementById("drop");
      for (const type of ["dragover", "drop"]) {
        target.dispatchEvent(new DragEvent(type, { dataTransfer, bubbles: true, cancelable: true }));
      }
    });
    await page.waitForFunction(() => document.getElementById("status").textContent === "done");
    assert.equal(await page.textContent("#name"), "dropped.bin");
    const expected = await page.evaluate(async () => {
      const bytes = new Uint8Array(777_777).map((_, i) => (i * 131) % 251);
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    });
    assert.equal(await page.textContent("#stored-sha256"), expected);
    assert.deepEqual(await page.takeProblems(), []);
  });

  test("hash only: the digests equal openssl's", async () => {
    const file = randomFile(dir, "hash.bin", 5_000_123);
    await page.selectOption("#api-version", "v1.1");
    await page.setInputFiles("#file", file);
    await page.waitForFunction(() => document.getElementById("status").textContent === "done");
    await page.click("#hash-only");
    await page.waitForFunction(() => document.getElementById("sha256").textContent.length === 64);
    assert.equal(await page.textContent("#sha256"), openssl("sha256", file));
    assert.equal(await page.textContent("#md5-hex"), openssl("md5", file));
    assert.deepEqual(await page.takeProblems(), []);
  });
});
