// The app's entry, as an integrator writes it: the package by its name.
import "./probe.js";
import { ProcoreClient } from "procore-upload";
import { expose } from "./consumer.js";

expose(ProcoreClient);
