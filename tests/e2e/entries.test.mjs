// entriesFromDataTransfer in each browser engine: a drop's files and folders as the
// entries folder uploads take, walking folders through every readEntries batch,
// keeping empty folders, leaving out system files (or what `ignore` says), taking
// what the DataTransfer holds before its first wait, and typed errors for bad input.
//
// A WebDriver cannot drop a folder, so folders come as the FileSystem API's entries
// modelled in the page (callbacks, batches of at most 100, as Chromium gives them);
// files come in a real DataTransfer too, as a drop of files gives them.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { describeInEngines, openWorld } from "./support.mjs";

/** The page's list holds what `expected` does, in any order: the order of a
 * folder's entries is the browser's, and the test's trees cross WebDriver as JSON,
 * whose members some drivers sort. */
function sameEntries(got, expected) {
  assert.ok(Array.isArray(got), JSON.stringify(got));
  assert.deepEqual([...got].sort(), [...expected].sort());
}

describeInEngines("entriesFromDataTransfer in each browser engine", (engine) => {
  let world, page;

  before(async () => {
    world = await openWorld("entries", [], engine);
    ({ page } = world);
  });

  after(async () => {
    await world?.close();
  });

  afterEach(async () => {
    assert.deepEqual(await world.takeProblems(), [], "no page errors or console errors");
  });

  /**
   * Runs `body(env, arg)` in the page, `env` holding `entriesFromDataTransfer`,
   * `folderDrop(tree)` (a DataTransfer-like drop of a tree: `{ name: text }` is a file,
   * `{ name: { … } }` a folder, `{ name: { __fail: true } }` a folder that cannot be
   * read) and `list(entries)` (each entry as `path` or `path/`, with its text).
   * Resolves to its value, or to `{ error }` (code, name, message, whether it is a
   * ProcoreUploadError, and its cause's name).
   */
  function inPage(body, arg) {
    return page.evaluate(
      async ({ body, arg }) => {
        const { entriesFromDataTransfer, ProcoreUploadError } = await import("/pkg/index.js");
        const readBatch = 100;
        function entryOf(name, content, dir) {
          const fullPath = `${dir}/${name}`;
          if (typeof content === "string") {
            const file = new File([content], name, { type: "text/plain" });
            return { name, fullPath, isFile: true, isDirectory: false, file: (ok) => setTimeout(() => ok(file)) };
          }
          const children = Object.entries(content)
            .filter(([child]) => child !== "__fail")
            .map(([child, inner]) => entryOf(child, inner, fullPath));
          return {
            name, fullPath, isFile: false, isDirectory: true,
            createReader() {
              let at = 0;
              return {
                readEntries(ok, fail) {
                  setTimeout(() => {
                    if (content.__fail) return fail(new DOMException("gone", "NotFoundError"));
                    const batch = children.slice(at, at + readBatch);
                    at += batch.length;
                    ok(batch);
                  });
                },
              };
            },
          };
        }
        function folderDrop(tree) {
          const items = Object.entries(tree).map(([name, content]) => ({
            kind: "file",
            webkitGetAsEntry: () => entryOf(name, content, ""),
            getAsFile: () => null,
          }));
          return { items };
        }
        async function list(entries) {
          const out = [];
          for (const entry of entries) {
            out.push(entry.directory ? `${entry.path}/` : `${entry.path}=${await entry.file.text()}`);
          }
          return out;
        }
        const env = { entriesFromDataTransfer, folderDrop, list };
        const run = new Function("env", "arg", `return (${body})(env, arg);`);
        try {
          return await run(env, arg);
        } catch (e) {
          return {
            error: {
              code: e.code, name: e.name, message: e.message,
              isClass: e instanceof ProcoreUploadError, cause: e.cause?.name,
            },
          };
        }
      },
      { body: body.toString(), arg },
    );
  }

  const TREE = {
    plans: {
      A: { "a1.pdf": "a1", "a2.pdf": "a2", ".DS_Store": "mac" },
      "B ü 日本": { "b 1.pdf": "b1" },
      empty: {},
      "only-system": { "Thumbs.db": "win", "DESKTOP.INI": "win" },
    },
    "top.txt": "top",
    ".DS_Store": "mac",
  };

  test("a dropped tree: every file with its path, empty folders kept, system files left out", async () => {
    const got = await inPage(async ({ entriesFromDataTransfer, folderDrop, list }, tree) =>
      list(await entriesFromDataTransfer(folderDrop(tree))), TREE);
    sameEntries(got, [
      "plans/A/a1.pdf=a1",
      "plans/A/a2.pdf=a2",
      "plans/B ü 日本/b 1.pdf=b1",
      "plans/empty/",
      "plans/only-system/",
      "top.txt=top",
    ]);
  });

  test("ignore: [] keeps every file; a list of names replaces the defaults, any case, a folder's whole content with it", async () => {
    const got = await inPage(async ({ entriesFromDataTransfer, folderDrop, list }, tree) => ({
      none: await list(await entriesFromDataTransfer(folderDrop(tree), { ignore: [] })),
      own: await list(await entriesFromDataTransfer(folderDrop(tree), { ignore: ["a", "top.TXT"] })),
    }), TREE);
    sameEntries(got.none, [
      "plans/A/a1.pdf=a1",
      "plans/A/a2.pdf=a2",
      "plans/A/.DS_Store=mac",
      "plans/B ü 日本/b 1.pdf=b1",
      "plans/empty/",
      "plans/only-system/Thumbs.db=win",
      "plans/only-system/DESKTOP.INI=win",
      "top.txt=top",
      ".DS_Store=mac",
    ]);
    sameEntries(got.own, [
      "plans/B ü 日本/b 1.pdf=b1",
      "plans/empty/",
      "plans/only-system/Thumbs.db=win",
      "plans/only-system/DESKTOP.INI=win",
      ".DS_Store=mac",
    ]);
  });

  test("a folder of 250 files is read through every readEntries batch", async () => {
    const got = await inPage(async ({ entriesFromDataTransfer, folderDrop }) => {
      const big = {};
      for (let n = 0; n < 250; n++) big[`f${n}.txt`] = `${n}`;
      const entries = await entriesFromDataTransfer(folderDrop({ big }));
      return entries.map((entry) => entry.path);
    });
    assert.equal(got.length, 250);
    assert.equal(new Set(got).size, 250);
    assert.ok(got.every((path) => /^big\/f\d+\.txt$/.test(path)), got.slice(0, 3).join());
  });

  test("what a drop holds is taken before the first wait (the browser empties it after the handler)", async () => {
    const got = await inPage(async ({ entriesFromDataTransfer, folderDrop, list }, tree) => {
      const drop = folderDrop(tree);
      const pending = entriesFromDataTransfer(drop);
      // As the browser does once the drop handler has returned.
      const held = [...drop.items];
      drop.items.length = 0;
      for (const item of held) item.webkitGetAsEntry = () => null;
      return list(await pending);
    }, { "top.txt": "top", docs: { "d.txt": "d" } });
    sameEntries(got, ["top.txt=top", "docs/d.txt=d"]);
  });

  test("a real DataTransfer of files (a drop of files): each file by its name, system files left out", async () => {
    const got = await inPage(async ({ entriesFromDataTransfer, list }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(["one"], "one.pdf"));
      transfer.items.add(new File(["mac"], ".DS_Store"));
      transfer.items.add(new File(["two"], "two words é.pdf"));
      transfer.items.add("not a file", "text/plain");
      return list(await entriesFromDataTransfer(transfer));
    });
    sameEntries(got, ["one.pdf=one", "two words é.pdf=two"]);
  });

  test("bad input: INVALID_INPUT before anything is read; an unreadable folder: FILE_READ with the browser's error as cause", async () => {
    const got = await inPage(async ({ entriesFromDataTransfer, folderDrop }) => {
      const attempt = async (...args) => {
        try {
          await entriesFromDataTransfer(...args);
          return "resolved";
        } catch (e) {
          return { code: e.code, message: e.message, cause: e.cause?.name, isError: e instanceof Error };
        }
      };
      let read = false;
      const watched = { items: [{ kind: "file", webkitGetAsEntry: () => { read = true; return null; }, getAsFile: () => null }] };
      return {
        missing: await attempt(),
        notTransfer: await attempt({ nothing: true }),
        ignoreText: await attempt(folderDrop({ "a.txt": "a" }), { ignore: ".DS_Store" }),
        ignoreNumbers: await attempt(folderDrop({ "a.txt": "a" }), { ignore: [1] }),
        misspelled: await attempt(folderDrop({ "a.txt": "a" }), { Ignore: [] }),
        unreadable: await attempt(folderDrop({ gone: { __fail: true } })),
        watchedOk: await attempt(watched, { ignore: [] }),
        read,
      };
    });
    assert.match(got.missing.message, /^invalid input: dataTransfer must be a DataTransfer/);
    assert.equal(got.missing.code, "INVALID_INPUT");
    assert.equal(got.notTransfer.code, "INVALID_INPUT");
    assert.equal(got.ignoreText.message, "invalid input: options.ignore must be an array of strings, got string");
    assert.match(got.ignoreNumbers.message, /^invalid input: options\.ignore must be an array of strings, got /);
    assert.equal(got.misspelled.message, "invalid input: options.Ignore (did you mean ignore?) is not a known option");
    assert.equal(got.unreadable.code, "FILE_READ");
    assert.equal(got.unreadable.cause, "NotFoundError");
    assert.match(got.unreadable.message, /gone/);
    assert.equal(got.watchedOk, "resolved");
    assert.equal(got.read, true);
    for (const [what, outcome] of Object.entries(got)) {
      if (typeof outcome === "object") assert.equal(outcome.isError, true, what);
    }
  });
});
