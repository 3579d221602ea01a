// Starts `workers` workers on runs of consecutive segments of the picked File, each
// reading them the way `mode` says; resolves to the wall-clock ms.
window.runMode = async (mode, workers, segment) => {
  const file = document.getElementById("files").files[0];
  const ranges = [];
  for (let s = 0; s < file.size; s += segment) ranges.push([s, Math.min(s + segment, file.size)]);
  const per = Math.ceil(ranges.length / workers);
  const started = performance.now();
  const ws = [];
  await Promise.all(Array.from({ length: workers }, (_, i) => new Promise((resolve) => {
    const w = new Worker("worker.js", { type: "module" });
    ws.push(w);
    w.onmessage = ({ data }) => resolve(data);
    w.postMessage({ file, ranges: ranges.slice(i * per, (i + 1) * per), mode });
  })));
  const ms = performance.now() - started;
  ws.forEach((w) => w.terminate());
  return ms;
};
