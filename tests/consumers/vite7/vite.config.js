// Exactly what the README asks of Vite 7 apps: without it, Vite 7's dev server
// pre-bundles the package away from its .wasm, and the .wasm URL answers index.html.
export default {
  optimizeDeps: { exclude: ["procore-upload"] },
};
