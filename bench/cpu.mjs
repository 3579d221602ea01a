// Where the CPU goes during a benchmark run: every thread of every process on the
// machine, sampled from /proc every 100 ms (so threads that end mid-run, such as
// workers, are still counted up to their last sample), summed by process kind and
// thread name. Linux only.
import fs from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** "chromium (renderer)", "procore-sandbox", "node", ... for a pid. */
function processKind(pid) {
  try {
    const comm = fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const type = args.find((arg) => arg.startsWith("--type="));
    const service = args.find((arg) => arg.startsWith("--utility-sub-type="));
    if (service) return `${comm} (${service.slice("--utility-sub-type=".length).split(".").at(-2)})`;
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
