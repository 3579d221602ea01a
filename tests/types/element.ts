// Compiled (not run) by scripts/test against pkg/element.d.ts: <procore-uploader>'s
// properties, methods and events type-check; misuse does not.
import { ProcoreClient } from "procore-upload";
import { ProcoreUploader, DEFAULT_STRINGS } from "procore-upload/element";

const el = document.createElement("procore-uploader");
const same: ProcoreUploader = el;
el.client = new ProcoreClient({ companyId: 7, accessToken: "token" });
el.target = { projectFile: { projectId: 42, parentId: 3 } };
el.target = (file, path) => (file.size > 0 && path.startsWith("plans/") ? { companyFile: { parentId: 1 } } : null);
el.uploadOptions = { segmentSize: 16 * 1024 * 1024, resume: "auto" };
el.strings = { pause: "Pause {name} (paused)", errorEXPIRED: "Expired." };
const pauseText: string = el.strings.pause + DEFAULT_STRINGS.dropzone;
el.addEventListener("upload-complete", (event) => {
  const { result } = event.detail;
  // A tree's file reports its FolderUploadFile.
  const uuid: string | null = "uuid" in result ? result.uuid : result.uploadUuid;
  const name: string = event.detail.file.name;
  console.log(uuid, name, event.detail.attached, pauseText, same);
});
el.addEventListener("queue-complete", (event) => console.log(event.detail.succeeded + event.detail.failed));
el.addEventListener("files-rejected", (event) => console.log(event.detail.reason === "too-large", event.detail.files.length));
el.addFiles([new File([], "a.pdf")]);
void el.pauseAll().then(() => el.resumeAll()).then(() => el.cancelAll());
el.clear();

// @ts-expect-error: not an attach target
el.target = { folder: { projectId: 42 } };
// @ts-expect-error: strings are text
el.strings = { pause: 1 };
// @ts-expect-error: the reasons are three words
el.addEventListener("files-rejected", (event) => event.detail.reason === "too-big");
