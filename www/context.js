// Where the portal runs and for which company and project (issue 25):
// - standalone: a page of its own; ids from the query (`?companyId=&projectId=`), else
//   the config's.
// - fullscreen: a Procore full-screen embedded app (an iframe in Procore's main area);
//   ids by URL interpolation, the app's URL configured as
//   `…/?companyId={{procore.company.id}}&projectId={{procore.project.id}}`.
// - sidepanel: a Procore side-panel app (a 400 px iframe beside a record), its URL
//   configured with `mode=sidepanel`: it sends `{ type: "initialize" }` to the Procore
//   page that framed it, which answers `{ type: "setup", context: { company_id,
//   project_id, id, view } }`, then `sidepanel:app:visible`, `sidepanel:app:hidden` and
//   `sidepanel:app:destroy` (about to be removed from the DOM).
// Messages are taken only from the framing window, at an origin that is Procore's (or
// one the config adds for tests); anything else is ignored.

/** The Procore web hosts that frame embedded apps (production regions, sandboxes). */
export const PROCORE_ORIGINS = Object.freeze([
  "https://app.procore.com",
  "https://us02.procore.com",
  "https://uk01.procore.com",
  "https://app.uk01.procore.com",
  "https://sandbox.procore.com",
  "https://monthly.procore.com",
]);

/** How long a side panel waits for Procore's `setup` before it goes on with the URL's ids. */
const SETUP_WAIT_MS = 10_000;

/**
 * An id from the URL or a message: a positive integer (a number or its digits), or
 * null (absent, empty, or a `{{…}}` placeholder Procore left uninterpolated).
 */
export function readId(value) {
  if (typeof value === "number") return Number.isSafeInteger(value) && value > 0 ? value : null;
  if (typeof value !== "string" || !/^[1-9][0-9]{0,15}$/.test(value.trim())) return null;
  const id = Number(value.trim());
  return Number.isSafeInteger(id) ? id : null;
}

/** The origin of `url` ("" when it is not a URL). */
function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return "";
  }
}

/**
 * Resolves to `{ mode, companyId, projectId, resourceId, view, onSetup(cb), onVisible(cb),
 * onHidden(cb), onDestroy(cb) }`. `config.companyId` is the fallback company;
 * `config.embedOrigins` adds framing origins (tests run the parent page on loopback).
 * `env` replaces the window's location, parent, referrer and message events (tests).
 */
export async function portalContext(config = {}, env = defaultEnv()) {
  const query = new URL(env.href).searchParams;
  const listeners = { setup: [], visible: [], hidden: [], destroy: [] };
  const context = {
    mode: "standalone",
    companyId: readId(query.get("companyId")) ?? readId(config.companyId),
    projectId: readId(query.get("projectId")),
    resourceId: null,
    view: null,
    onSetup: (callback) => listeners.setup.push(callback),
    onVisible: (callback) => listeners.visible.push(callback),
    onHidden: (callback) => listeners.hidden.push(callback),
    onDestroy: (callback) => listeners.destroy.push(callback),
  };
  if (!env.framed) return context;
  context.mode = query.get("mode") === "sidepanel" ? "sidepanel" : "fullscreen";
  const allowed = new Set([...PROCORE_ORIGINS, ...(config.embedOrigins ?? [])]);
  // The framing page's origin: the referrer, else (a no-referrer policy) what
  // Chromium and WebKit tell of the ancestors.
  const parentOrigin = originOf(env.referrer) || (env.ancestorOrigins?.[0] ?? "");
  if (context.mode !== "sidepanel" || !allowed.has(parentOrigin)) return context;

  let setUp;
  const firstSetup = new Promise((resolve) => (setUp = resolve));
  const fire = (list, ...args) => {
    for (const callback of list) {
      try {
        callback(...args);
      } catch (error) {
        console.error("procore portal: a context listener threw", error);
      }
    }
  };
  env.onMessage((event) => {
    if (event.source !== env.parent || event.origin !== parentOrigin) return;
    const type = event.data?.type;
    if (type === "setup") {
      const given = event.data.context ?? {};
      // Procore may send setup again (another record): the latest wins.
      context.companyId = readId(given.company_id) ?? context.companyId;
      context.projectId = readId(given.project_id) ?? context.projectId;
      context.resourceId = given.id ?? null;
      context.view = typeof given.view === "string" ? given.view : null;
      setUp();
      fire(listeners.setup, context);
    } else if (type === "sidepanel:app:visible") fire(listeners.visible);
    else if (type === "sidepanel:app:hidden") fire(listeners.hidden);
    else if (type === "sidepanel:app:destroy") fire(listeners.destroy);
  });
  // The app speaks first, to the Procore page that framed it only.
  env.parent.postMessage({ type: "initialize" }, parentOrigin);
  await Promise.race([firstSetup, new Promise((resolve) => env.setTimeout(resolve, SETUP_WAIT_MS))]);
  return context;
}

function defaultEnv() {
  return {
    href: window.location.href,
    framed: window.parent !== window,
    parent: window.parent,
    referrer: document.referrer,
    ancestorOrigins: window.location.ancestorOrigins ? [...window.location.ancestorOrigins] : [],
    onMessage: (handler) => window.addEventListener("message", handler),
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
  };
}
