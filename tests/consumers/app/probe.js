// What the test reads from the page, installed before the package loads: every
// Content-Security-Policy violation, the Web Workers the page starts with the
// messages they send back (a worker that never loaded or never hashed sends none),
// and console warnings (the package warns once when it has to hash on the page).
const probe = { violations: [], warnings: [], workers: { created: 0, messages: 0 } };
window.__probe = probe;

const warn = console.warn.bind(console);
console.warn = (...args) => {
  probe.warnings.push(args.map((arg) => arg?.message ?? String(arg)).join(" "));
  warn(...args);
};

document.addEventListener("securitypolicyviolation", (event) => {
  probe.violations.push(`${event.effectiveDirective || event.violatedDirective} blocked ${event.blockedURI || "(inline)"}`);
});

const Original = window.Worker;
if (Original) {
  window.Worker = class extends Original {
    constructor(...args) {
      super(...args);
      probe.workers.created += 1;
      this.addEventListener("message", () => { probe.workers.messages += 1; });
    }
  };
}
