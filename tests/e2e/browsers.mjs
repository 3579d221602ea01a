// The three engines the end-to-end suite runs in — Chromium, Firefox ESR and WebKitGTK
// (Safari's engine), all from Debian — driven by one W3C WebDriver client
// (WebdriverIO), behind one small page API so a test never knows which engine it has.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { remote } from "webdriverio";

/** Every engine the suite knows, in the order it runs them. */
export const ALL_ENGINES = ["chromium", "firefox", "webkit"];

/**
 * The engines to run: all three unless `E2E_ENGINES` names some (comma-separated), as
 * one does while working on one engine. An unknown name is an error, never a skip.
 */
export function engines() {
  const asked = (process.env.E2E_ENGINES ?? ALL_ENGINES.join(","))
    .split(",").map((name) => name.trim()).filter(Boolean);
  for (const name of asked) {
    if (!ALL_ENGINES.includes(name)) throw new Error(`E2E_ENGINES: unknown engine ${name} (known: ${ALL_ENGINES})`);
  }
  return asked;
}

const ROOT = path.resolve(import.meta.dirname, "../..");

/** Where a tool is: `$ENV_NAME`, else the first `candidates` that exists, else on PATH. */
function tool(envName, candidates, name) {
  const found = [process.env[envName], ...candidates].find((file) => file && fs.existsSync(file));
  if (found) return found;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  throw new Error(`${name} is missing (scripts/bootstrap installs it; ${envName} overrides)`);
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child, what) {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => { socket.end(); resolve(true); });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

/** A virtual X display for WebKit (it has no headless mode): Xvfb picks a free number. */
async function startXvfb() {
  const child = spawn(tool("XVFB", [], "Xvfb"), ["-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"], {
    stdio: ["ignore", "ignore", "ignore", "pipe"],
  });
  const display = await new Promise((resolve, reject) => {
    let text = "";
    child.once("exit", (code) => reject(new Error(`Xvfb exited with ${code}`)));
    child.stdio[3].on("data", (chunk) => {
      text += chunk;
      if (text.includes("\n")) resolve(`:${text.trim()}`);
    });
  });
  child.removeAllListeners("exit");
  return { display, stop: () => stopChild(child) };
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

const chromeFlags = () => JSON.parse(fs.readFileSync(path.join(ROOT, "webdriver.json"), "utf8"))["goog:chromeOptions"];

/** Starts one engine; resolves to `{ engine, version, browser, stop }`. */
async function startBrowser(engine) {
  const quiet = { logLevel: "error", connectionRetryCount: 0 };
  if (engine === "chromium") {
    const browser = await remote({
      ...quiet,
      capabilities: {
        browserName: "chrome",
        "goog:chromeOptions": chromeFlags(),
        "wdio:chromedriverOptions": { binary: tool("CHROMEDRIVER", ["/usr/bin/chromedriver"], "chromedriver") },
        "wdio:enforceWebDriverClassic": true,
      },
    });
    return { browser, stop: async () => {} };
  }
  if (engine === "firefox") {
    const browser = await remote({
      ...quiet,
      capabilities: {
        browserName: "firefox",
        "moz:firefoxOptions": { binary: tool("FIREFOX", ["/usr/bin/firefox-esr"], "firefox-esr"), args: ["-headless"] },
        "wdio:geckodriverOptions": {
          binary: tool("GECKODRIVER", [path.join(os.homedir(), ".cargo/bin/geckodriver")], "geckodriver"),
        },
        "wdio:enforceWebDriverClassic": true,
      },
    });
    return { browser, stop: async () => {} };
  }
  const xvfb = process.env.DISPLAY ? null : await startXvfb();
  const port = await freePort();
  const driver = spawn(tool("WEBKIT_WEBDRIVER", ["/usr/bin/WebKitWebDriver"], "WebKitWebDriver"), [`--port=${port}`], {
    stdio: "ignore",
    env: { ...process.env, ...(xvfb ? { DISPLAY: xvfb.display } : {}) },
  });
  try {
    await waitForPort(port, driver, "WebKitWebDriver");
    const browser = await remote({
      ...quiet,
      hostname: "127.0.0.1",
      port,
      path: "/",
      capabilities: {
        browserName: "MiniBrowser",
        "wdio:enforceWebDriverClassic": true,
        "webkitgtk:browserOptions": {
          binary: tool("MINIBROWSER", ["/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser", "/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser"], "MiniBrowser"),
          args: ["--automation"],
        },
      },
    });
    return {
      browser,
      stop: async () => {
        await stopChild(driver);
        await xvfb?.stop();
      },
    };
  } catch (error) {
    await stopChild(driver);
    await xvfb?.stop();
    throw error;
  }
}

/**
 * Installed in every page the tests open, after each load: what Playwright's
 * `pageerror`/`console` events gave, readable in every engine over plain WebDriver.
 * The browser's own log lines ("Failed to load resource …") are not console.error
 * calls, so tests may provoke HTTP error answers freely.
 */
function watchProblems() {
  if (window.__problems) return;
  window.__problems = [];
  window.addEventListener("error", (event) => window.__problems.push(`pageerror: ${event.message}`));
  window.addEventListener("unhandledrejection", (event) =>
    window.__problems.push(`unhandledrejection: ${event.reason?.message ?? event.reason}`));
  const consoleError = console.error.bind(console);
  console.error = (...args) => {
    window.__problems.push(`console.error: ${args.map((arg) => arg?.message ?? String(arg)).join(" ")}`);
    consoleError(...args);
  };
}

/** The page API the tests use (a subset of Playwright's, so they read the same). */
class Page {
  constructor(browser) {
    this.browser = browser;
  }

  async goto(url) {
    await this.browser.url(url);
    await this.browser.execute(watchProblems);
  }

  async reload() {
    await this.browser.refresh();
    await this.browser.execute(watchProblems);
  }

  /**
   * Runs `fn(arg)` in the page and resolves to what its promise gives, through JSON as
   * Playwright's `evaluate` did: a property that is `undefined` stays absent (plain
   * WebDriver would give `null`), and `undefined` itself comes back as `undefined`.
   */
  async evaluate(fn, arg) {
    const text = await this.browser.execute(
      `return (async () => JSON.stringify(await (${fn})(arguments[0])))();`,
      arg,
    );
    return text == null ? undefined : JSON.parse(text);
  }

  /** Picks files into an `<input type=file>` as a user would: real files from disk. */
  async setInputFiles(selector, files) {
    const list = Array.isArray(files) ? files : [files];
    // WebDriver adds to a `multiple` input's list; a new pick replaces it.
    await this.browser.execute((s) => { document.querySelector(s).value = ""; }, selector);
    await (await this.browser.$(selector)).addValue(list.map((file) => path.resolve(file)).join("\n"));
  }

  async selectOption(selector, value) {
    await this.browser.execute((s, v) => {
      const select = document.querySelector(s);
      select.value = v;
      select.dispatchEvent(new Event("input", { bubbles: true }));
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }, selector, value);
  }

  async click(selector) {
    await (await this.browser.$(selector)).click();
  }

  textContent(selector) {
    return this.browser.execute((s) => document.querySelector(s).textContent, selector);
  }

  /** Resolves once `fn(arg)` is truthy in the page (polled every 50 ms, up to 5 minutes). */
  async waitForFunction(fn, arg) {
    await this.browser.waitUntil(async () => Boolean(await this.browser.execute(fn, arg)), {
      timeout: 300_000,
      interval: 50,
      timeoutMsg: `waitForFunction: ${fn} never held`,
    });
  }

  /** Page errors and console.error calls since the last call. */
  takeProblems() {
    return this.browser.execute(() => (window.__problems ?? []).splice(0));
  }
}

/**
 * Starts `engine` with one page; resolves to `{ engine, version, page, close }`.
 * Scripts may run for minutes (the soak), so the script timeout is long.
 */
export async function launch(engine) {
  const { browser, stop } = await startBrowser(engine);
  await browser.setTimeout({ script: 30 * 60_000, pageLoad: 60_000 });
  const version = browser.capabilities.browserVersion ?? "?";
  console.log(`# browser: ${engine} ${version}`);
  return {
    engine,
    version,
    page: new Page(browser),
    async close() {
      await browser.deleteSession().catch(() => {});
      await stop();
    },
  };
}
