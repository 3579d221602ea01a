// The consumer page's work, the same in every app: with a client of two hashing
// workers, hash the picked file (client.hashSegments), then upload it (v2.1: the sandbox
// checks the whole-file digest before it answers "available").
export function expose(ProcoreClient) {
  window.consumer = {
    async run({ api, segmentSize }) {
      const file = document.getElementById("file").files[0];
      const client = new ProcoreClient({
        companyId: 7,
        accessToken: "sandbox-token",
        baseUrl: api,
        apiVersion: "v2.1",
        allowInsecureStorage: true,
        workers: 2,
      });
      const workers = () => ({ ...window.__probe.workers });
      try {
        const hashed = await client.hashSegments(file, { segmentSize });
        const afterHash = workers();
        const uploaded = await client.upload(file, { segmentSize });
        return { hashed, uploaded, afterHash, afterUpload: workers() };
      } catch (error) {
        return { error: { name: error.name, code: error.code, message: error.message }, afterUpload: workers() };
      } finally {
        client.close();
      }
    },
  };
}
