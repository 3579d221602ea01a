// The plain page's entry: no bundler, so the package by its path, where its unpacked
// folder is served (`procore-upload/` beside this page).
import "./probe.js";
import { ProcoreClient } from "./procore-upload/index.js";
import { expose } from "./consumer.js";

expose(ProcoreClient);
