// How the way a worker reads a File's segments sets the browser's memory (issue 13):
// whole-segment slice().arrayBuffer() reads (a new ArrayBuffer per read, freed when
// the garbage collector gets to it) against BYOB stream reads into buffers reused
// from segment to segment; with and without WebCrypto's SHA-256 of each segment.
self.onmessage = async ({ data: { file, ranges, mode } }) => {
  // Started, nothing read: what the workers themselves cost.
  if (mode === "idle") { await new Promise((r) => setTimeout(r, 3000)); self.postMessage(0); return; }
  const size = ranges[0][1] - ranges[0][0];
  const spare = [new ArrayBuffer(size), new ArrayBuffer(size)];
  // Reads [start, end) into `buffer` through a BYOB reader; each read hands the
  // buffer back (transferred), so no new memory is taken.
  const byob = async ([start, end], buffer) => {
    const reader = file.slice(start, end).stream().getReader({ mode: "byob" });
    let offset = 0;
    while (offset < end - start) {
      const { done, value } = await reader.read(new Uint8Array(buffer, offset, Math.min(buffer.byteLength - offset, end - start - offset)));
      if (done) break;
      offset += value.byteLength;
      buffer = value.buffer;
    }
    return new Uint8Array(buffer, 0, offset);
  };
  // Where BYOB is missing (WebKit): the stream's own chunks copied into a reused buffer.
  const copied = async ([start, end], buffer, release = false) => {
    const reader = file.slice(start, end).stream().getReader();
    const into = new Uint8Array(buffer);
    let offset = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      into.set(value, offset);
      offset += value.byteLength;
      // Detached at once (ArrayBuffer.prototype.transfer), not left to the collector.
      if (release) value.buffer.transfer(0);
    }
    return into.subarray(0, offset);
  };
  if (mode === "stream1-transfer") {
    for (const r of ranges) await copied(r, spare[0], true);
  } else if (mode === "read1-transfer") {
    for (const [s, e] of ranges) (await file.slice(s, e).arrayBuffer()).transfer(0);
  } else if (mode === "stream1-transfer-digest") {
    for (const r of ranges) await crypto.subtle.digest("SHA-256", await copied(r, spare[0], true));
  } else if (mode === "stream1-transfer-digest-overlap") {
    // As the library does: the next segment read into the one buffer while the
    // previous one's digest (which copied the bytes) runs.
    let digest = null;
    for (const r of ranges) {
      const view = await copied(r, spare[0], true);
      await digest;
      digest = crypto.subtle.digest("SHA-256", view);
    }
    await digest;
  } else if (mode === "stream1") {
    for (const r of ranges) await copied(r, spare[0]);
  } else if (mode === "stream1-digest") {
    for (const r of ranges) await crypto.subtle.digest("SHA-256", await copied(r, spare[0]));
  } else if (mode === "read4") {
    for (let i = 0; i < ranges.length; i += 4) await Promise.all(ranges.slice(i, i + 4).map(([s, e]) => file.slice(s, e).arrayBuffer()));
  } else if (mode === "read1") {
    for (const [s, e] of ranges) await file.slice(s, e).arrayBuffer();
  } else if (mode === "read4-digest") {
    for (let i = 0; i < ranges.length; i += 4) {
      const g = await Promise.all(ranges.slice(i, i + 4).map(([s, e]) => file.slice(s, e).arrayBuffer()));
      await Promise.all(g.map((b) => crypto.subtle.digest("SHA-256", b)));
    }
  } else if (mode === "byob1") {
    for (const r of ranges) { const v = await byob(r, spare[0]); spare[0] = v.buffer; }
  } else if (mode === "byob1-digest") {
    for (const r of ranges) { const v = await byob(r, spare[0]); await crypto.subtle.digest("SHA-256", v); spare[0] = v.buffer; }
  } else if (mode === "byob2-digest") {
    // One read ahead: the next segment read into one buffer while the other's digest runs.
    let pending = byob(ranges[0], spare[0]);
    for (let i = 0; i < ranges.length; i++) {
      const v = await pending;
      pending = i + 1 < ranges.length ? byob(ranges[i + 1], spare[(i + 1) % 2]) : null;
      await crypto.subtle.digest("SHA-256", v);
      spare[i % 2] = v.buffer;
    }
  }
  self.postMessage(1);
};
