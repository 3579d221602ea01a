// A plain webpack 5 production build: nothing here is about procore-upload.
import path from "node:path";

export default {
  mode: "production",
  entry: "./main.js",
  output: { path: path.resolve(import.meta.dirname, "dist"), clean: true },
};
