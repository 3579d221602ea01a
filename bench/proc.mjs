// What the benchmarks see from outside, in /proc (Linux only), as the operating
// system sees it:
// - CPU: every thread of every process on the machine, sampled every 100 ms (so
//   threads that end mid-run, such as workers, still count up to their last
//   sample), summed by process kind and thread name;
// - memory: the summed RSS of the browser's processes.
import fs from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** "chromium (renderer)", "procore-sandbox", "node", ... for a pid. */
function processKind(pid) {
  try {
    const comm = fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    // Chromium's children rewrite their command line as one string: split on spaces too.
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split(/[\0 ]/);
    const type = args.find((arg) => arg.startsWith("--type="));
    const service = args.find((arg) => arg.startsWith("--utility-sub-type="));
    if (service) return `${comm} (${service.slice("--utility-sub-type=".length).split(".").at(-1)})`;
    return type ? `${comm} (${type.slice("--type=".length)})` : comm;
  } catch {
    return null;
  }
}

/** Thread names with their numbers dropped, so that pools add up: "ThreadPoolForeg", "DedicatedWorker". */
function threadKind(name) {
  return name.replace(/[0-9]+$/, "").replace(/[ #:-]+$/, "") || "(unnamed)";
}

/** utime + stime of every thread now: Map "pid/tid" → { process, thread, ticks }. */
function sample(kinds) {
  const now = new Map();
  for (const pid of fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    if (!kinds.has(pid)) kinds.set(pid, processKind(pid));
    const kind = kinds.get(pid);
    if (!kind) continue;
    let tids;
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const open = stat.indexOf("(");
        const close = stat.lastIndexOf(")");
        const fields = stat.slice(close + 2).split(" ");
        // After the name: state(0) ... utime(11) stime(12).
        now.set(`${pid}/${tid}`, {
          process: kind,
          thread: threadKind(stat.slice(open + 1, close)),
          ticks: Number(fields[11]) + Number(fields[12]),
        });
      } catch {
        // The thread ended between listing and reading.
      }
    }
  }
  return now;
}

/**
 * Starts sampling; `stop()` returns the CPU seconds spent since, as rows
 * { process, thread, seconds } sorted by seconds, and the total.
 */
export function startCpuAccounting(intervalMs = 100) {
  const kinds = new Map();
  const first = sample(kinds);
  const last = new Map(first);
  const timer = setInterval(() => {
    for (const [key, value] of sample(kinds)) last.set(key, value);
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      for (const [key, value] of sample(kinds)) last.set(key, value);
      const rows = new Map();
      for (const [key, { process, thread, ticks }] of last) {
        const spent = ticks - (first.get(key)?.ticks ?? 0);
        if (spent <= 0) continue;
        const row = `${process}\t${thread}`;
        rows.set(row, (rows.get(row) ?? 0) + spent);
      }
      const table = [...rows]
        .map(([row, ticks]) => {
          const [process, thread] = row.split("\t");
          return { process, thread, seconds: ticks / TICKS_PER_SECOND };
        })
        .sort((a, b) => b.seconds - a.seconds);
      return { rows: table, total: table.reduce((sum, row) => sum + row.seconds, 0) };
    },
  };
}

/** Parent pid of every process now: Map pid → ppid. */
function parents() {
  const map = new Map();
  for (const pid of fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      map.set(pid, stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      // Ended meanwhile.
    }
  }
  return map;
}

/** Drivers and display servers that start the browser but are not the browser. */
const NOT_THE_BROWSER = /^(chromedriver|geckodriver|WebKitWebDriver|Xvfb|procore-sandbox|node)$/;

/**
 * Summed RSS (MiB) of the browser's processes: every descendant of `root` (this
 * script) but the drivers, Xvfb and the sandbox. As the operating system sees it:
 * shared pages are counted once per process, as "summed RSS" means.
 */
export function browserRssMiB(root = process.pid, byProcess = null) {
  const parentOf = parents();
  const isDescendant = (pid) => {
    for (let at = parentOf.get(pid), hops = 0; at && hops < 64; at = parentOf.get(at), hops++) {
      if (at === String(root)) return true;
    }
    return false;
  };
  let kib = 0;
  for (const pid of parentOf.keys()) {
    if (!isDescendant(pid)) continue;
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
      const name = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? "";
      if (NOT_THE_BROWSER.test(name)) continue;
      const rss = Number(/^VmRSS:\s*(\d+)/m.exec(status)?.[1] ?? 0);
      kib += rss;
      byProcess?.set(pid, { kind: processKind(pid), mib: rss / 1024 });
    } catch {
      // Ended meanwhile.
    }
  }
  return kib / 1024;
}

/**
 * Samples `browserRssMiB` every `intervalMs` until `stop()`, which returns the
 * figure at the start, the peak and the growth (peak − start), in MiB, and the
 * timeline: [milliseconds since the start, MiB] of every sample.
 */
export function startRssSampling(intervalMs = 200, root = process.pid) {
  const before = new Map();
  const start = browserRssMiB(root, before);
  let peak = start;
  let atPeak = before;
  const started = Date.now();
  const timeline = [[0, start]];
  const take = () => {
    const now = new Map();
    const total = browserRssMiB(root, now);
    timeline.push([Date.now() - started, total]);
    if (total > peak) [peak, atPeak] = [total, now];
  };
  const timer = setInterval(take, intervalMs);
  return {
    /** Also `byProcess`: each process's growth from the start to the peak, largest first. */
    stop() {
      clearInterval(timer);
      take();
      const byProcess = [...atPeak]
        .map(([pid, { kind, mib }]) => ({ pid, kind, growth: mib - (before.get(pid)?.mib ?? 0) }))
        .sort((a, b) => b.growth - a.growth);
      return { start, peak, growth: peak - start, byProcess, timeline };
    },
  };
}
