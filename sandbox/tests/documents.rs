//! Procore's Documents API as the sandbox keeps it, driven over HTTP as a client
//! would: folders nested and listed, names taken (folders and files), `unique_name`
//! renames, file versions, byte-exact inspection, company and project Documents kept
//! apart, refusals of bad input; each create once under a repeated
//! `Idempotency-Token`, a lost or dropped answer, and aimed 429s and 503s.

mod common;

use std::collections::BTreeSet;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const PROJECT_FOLDERS: &str = "/rest/v1.0/folders?project_id=42";
const PROJECT_FILES: &str = "/rest/v1.0/files?project_id=42";
const COMPANY_FOLDERS: &str = "/rest/v1.0/companies/7/folders";
const COMPANY_FILES: &str = "/rest/v1.0/companies/7/files";

/// Sends `method path` with `body` (and `extra` headers): status and JSON answer.
async fn call(
    h: &Harness,
    method: Method,
    path: &str,
    body: Option<Value>,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = h.api(method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    json_of(request.send().await.unwrap()).await
}

async fn post(h: &Harness, path: &str, body: Value) -> (u16, Value) {
    call(h, Method::POST, path, Some(body), &[]).await
}

async fn get(h: &Harness, path: &str) -> (u16, Value) {
    call(h, Method::GET, path, None, &[]).await
}

/// Creates folder `name` under `parent` (the root when `None`) at `folders`: its id.
async fn folder(h: &Harness, folders: &str, name: &str, parent: Option<u64>) -> u64 {
    let (status, answer) = post(
        h,
        folders,
        json!({"folder": {"name": name, "parent_id": parent}}),
    )
    .await;
    assert_eq!(status, 201, "folder {name}: {answer}");
    answer["id"].as_u64().unwrap()
}

/// Uploads `bytes` and creates file `name` from it under `parent` at `files`: the
/// answer.
async fn file(h: &Harness, files: &str, name: &str, parent: Option<u64>, bytes: &[u8]) -> Value {
    let uuid = h.form_upload(name, bytes).await;
    let (status, answer) = post(
        h,
        files,
        json!({"file": {"name": name, "parent_id": parent, "upload_uuid": uuid}}),
    )
    .await;
    assert_eq!(status, 201, "file {name}: {answer}");
    answer
}

/// GET /_sandbox/documents with `query`.
async fn inspect(h: &Harness, query: &str) -> Value {
    h.admin_json(&format!("documents?{query}")).await
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap())
        .collect()
}

fn name_taken() -> Value {
    json!({"errors": {"name": ["has already been taken"]}})
}

/// Folders nest; the root lists its folders (their own children left empty, as
/// Procore's List Folders and Files does) and files; a folder shows its children;
/// `exclude_files` and `exclude_folders` leave them out.
#[tokio::test]
async fn folders_nest_and_list_their_children() {
    let h = Harness::embedded().await;
    let plans = folder(&h, PROJECT_FOLDERS, "plans", None).await;
    let a = folder(&h, PROJECT_FOLDERS, "A", Some(plans)).await;
    let b = folder(&h, PROJECT_FOLDERS, "B é", Some(plans)).await;
    let deep = folder(&h, PROJECT_FOLDERS, "deep", Some(a)).await;
    let a1 = file(&h, PROJECT_FILES, "a1.pdf", Some(a), b"a one").await;
    let top = file(&h, PROJECT_FILES, "top.txt", None, b"top").await;

    let (status, root) = get(&h, PROJECT_FOLDERS).await;
    assert_eq!(status, 200, "{root}");
    assert_eq!(root["parent_id"], Value::Null, "the root has no parent");
    assert_eq!(names(&root["folders"]), ["plans"]);
    assert_eq!(names(&root["files"]), ["top.txt"]);
    assert_eq!(root["files"][0]["id"], top["id"]);
    let listed_plans = &root["folders"][0];
    assert_eq!(
        (&listed_plans["folders"], &listed_plans["files"]),
        (&json!([]), &json!([])),
        "a child folder's children are left empty"
    );
    assert_eq!(listed_plans["has_children_folders"], true);
    assert_eq!(listed_plans["parent_id"], root["id"]);

    let (status, shown) = get(&h, &format!("/rest/v1.0/folders/{plans}?project_id=42")).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(names(&shown["folders"]), ["A", "B é"]);
    assert_eq!(shown["folders"][1]["id"], b);
    let (_, shown_a) = get(&h, &format!("/rest/v1.0/folders/{a}?project_id=42")).await;
    assert_eq!(names(&shown_a["folders"]), ["deep"]);
    assert_eq!(shown_a["folders"][0]["id"], deep);
    assert_eq!(shown_a["name_with_path"], "plans/A");
    let listed = &shown_a["files"][0];
    assert_eq!(listed["id"], a1["id"]);
    assert_eq!(listed["parent_id"], a);
    assert_eq!(listed["name_with_path"], "plans/A/a1.pdf");
    assert_eq!(listed["file_type"], "pdf");
    assert_eq!(listed["size"], 5);

    let (_, no_files) = get(
        &h,
        &format!("/rest/v1.0/folders/{a}?project_id=42&exclude_files=true"),
    )
    .await;
    assert_eq!(
        (names(&no_files["folders"]), &no_files["files"]),
        (vec!["deep"], &json!([]))
    );
    let (_, no_folders) = get(&h, &format!("{PROJECT_FOLDERS}&exclude_folders=true")).await;
    assert_eq!(
        (&no_folders["folders"], names(&no_folders["files"])),
        (&json!([]), vec!["top.txt"])
    );

    let tree = inspect(&h, "project_id=42").await;
    let paths: Vec<&str> = tree["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["plans", "plans/A", "plans/A/deep", "plans/B é"]);
    assert_eq!(
        tree["root"]["folders"][0]["folders"][0]["files"][0]["name"],
        "a1.pdf"
    );
    assert_eq!(
        (&tree["folder_count"], &tree["file_count"]),
        (&json!(4), &json!(2))
    );
}

/// A folder name taken in the parent is refused with a name-taken error; the same
/// name in another parent, or in other Documents, is not taken; nothing is created by
/// a refusal.
#[tokio::test]
async fn a_folder_name_taken_in_its_parent_is_refused() {
    let h = Harness::embedded().await;
    let plans = folder(&h, PROJECT_FOLDERS, "plans", None).await;
    let (status, answer) = post(&h, PROJECT_FOLDERS, json!({"folder": {"name": "plans"}})).await;
    assert_eq!((status, answer), (422, name_taken()));
    let root = get(&h, PROJECT_FOLDERS).await.1["id"].as_u64().unwrap();
    let (status, answer) = post(
        &h,
        PROJECT_FOLDERS,
        json!({"folder": {"name": "plans", "parent_id": root}}),
    )
    .await;
    assert_eq!((status, answer), (422, name_taken()), "the root by its id");
    folder(&h, PROJECT_FOLDERS, "plans", Some(plans)).await;
    folder(&h, COMPANY_FOLDERS, "plans", None).await;
    folder(&h, "/rest/v1.0/folders?project_id=43", "plans", None).await;
    // A file's name does not take a folder's.
    file(&h, PROJECT_FILES, "specs", None, b"x").await;
    folder(&h, PROJECT_FOLDERS, "specs", None).await;
    assert_eq!(inspect(&h, "project_id=42").await["folder_count"], 3);
}

/// Many creates of one folder at once: exactly one is created, the others are told
/// the name is taken.
#[tokio::test]
async fn concurrent_creates_of_one_folder_make_one() {
    let h = Harness::embedded().await;
    let attempts = (0..16).map(|_| post(&h, PROJECT_FOLDERS, json!({"folder": {"name": "day 1"}})));
    let answers = futures_util::future::join_all(attempts).await;
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    assert!(answers
        .iter()
        .all(|(status, answer)| *status == 201 || (*status == 422 && *answer == name_taken())));
    assert_eq!(inspect(&h, "project_id=42").await["folder_count"], 1);
}

/// A file name taken in its folder: refused without `unique_name` (absent or false),
/// renamed `a (1).pdf`, `a (2).pdf` with it; another folder is another namespace.
#[tokio::test]
async fn a_file_name_taken_is_refused_or_renamed_with_unique_name() {
    let h = Harness::embedded().await;
    let plans = folder(&h, PROJECT_FOLDERS, "plans", None).await;
    let first = file(&h, PROJECT_FILES, "a.pdf", Some(plans), b"first").await;
    assert_eq!(first["name"], "a.pdf");
    let uuid = h.form_upload("a.pdf", b"second").await;
    for unique in [json!(null), json!(false)] {
        let mut body = json!({"file": {"name": "a.pdf", "parent_id": plans, "upload_uuid": uuid}});
        if !unique.is_null() {
            body["file"]["unique_name"] = unique;
        }
        let (status, answer) = post(&h, PROJECT_FILES, body).await;
        assert_eq!((status, answer), (422, name_taken()));
    }
    let mut renamed = Vec::new();
    for _ in 0..2 {
        let (status, answer) = post(
            &h,
            PROJECT_FILES,
            json!({"file": {"name": "a.pdf", "parent_id": plans, "upload_uuid": uuid, "unique_name": true}}),
        )
        .await;
        assert_eq!(status, 201, "{answer}");
        renamed.push(answer["name"].as_str().unwrap().to_string());
    }
    assert_eq!(renamed, ["a (1).pdf", "a (2).pdf"]);
    // unique_name on a free name keeps it; the root is another folder.
    let (status, answer) = post(
        &h,
        PROJECT_FILES,
        json!({"file": {"name": "a.pdf", "upload_uuid": uuid, "unique_name": true}}),
    )
    .await;
    assert_eq!((status, answer["name"].as_str()), (201, Some("a.pdf")));
    let tree = inspect(&h, "project_id=42").await;
    let paths: Vec<&str> = tree["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["a.pdf", "plans/a (1).pdf", "plans/a (2).pdf", "plans/a.pdf"]
    );
}

/// With --allow-duplicate-file-names a taken name is kept (two files of one name),
/// for older tests; `unique_name` still renames.
#[tokio::test]
async fn duplicate_file_names_when_allowed() {
    let h = Harness::with({
        let mut config = config();
        config.allow_duplicate_file_names = true;
        config
    })
    .await;
    let uuid = h.form_upload("a.pdf", b"x").await;
    for _ in 0..2 {
        let (status, answer) = post(
            &h,
            PROJECT_FILES,
            json!({"file": {"name": "a.pdf", "upload_uuid": uuid}}),
        )
        .await;
        assert_eq!((status, answer["name"].as_str()), (201, Some("a.pdf")));
    }
    let (_, renamed) = post(
        &h,
        PROJECT_FILES,
        json!({"file": {"name": "a.pdf", "upload_uuid": uuid, "unique_name": true}}),
    )
    .await;
    assert_eq!(renamed["name"], "a (1).pdf");
    assert_eq!(inspect(&h, "project_id=42").await["file_count"], 3);
}

/// A new version of a file: numbered, its bytes kept apart from the first
/// version's; the file's size is the latest; `show_latest_file_version_only` lists
/// only the latest; each version's bytes come back exactly.
#[tokio::test]
async fn file_versions_count_up_and_keep_their_bytes() {
    let h = Harness::embedded().await;
    let (one, two) = (bytes(3000, 1), bytes(1234, 2));
    let created = file(&h, PROJECT_FILES, "plan.pdf", None, &one).await;
    let file_id = created["id"].as_u64().unwrap();
    assert_eq!(created["file_versions"][0]["number"], 1);
    assert_eq!(created["file_versions"][0]["size"], 3000);
    let uuid = h.form_upload("plan.pdf", &two).await;
    let (status, version) = post(
        &h,
        &format!("/rest/v1.0/file_versions?project_id=42&file_id={file_id}"),
        json!({"file_version": {"upload_uuid": uuid, "notes": "rev B"}}),
    )
    .await;
    assert_eq!(status, 201, "{version}");
    assert_eq!(
        (
            &version["file_id"],
            &version["number"],
            &version["notes"],
            &version["size"]
        ),
        (&json!(file_id), &json!(2), &json!("rev B"), &json!(1234))
    );
    let (_, root) = get(&h, PROJECT_FOLDERS).await;
    let listed = &root["files"][0];
    assert_eq!(listed["size"], 1234, "the latest version's size");
    assert_eq!(listed["file_versions"].as_array().unwrap().len(), 2);
    let (_, latest) = get(
        &h,
        &format!("{PROJECT_FOLDERS}&show_latest_file_version_only=true"),
    )
    .await;
    let versions = latest["files"][0]["file_versions"].as_array().unwrap();
    assert_eq!((versions.len(), &versions[0]["number"]), (1, &json!(2)));

    let tree = inspect(&h, "project_id=42").await;
    assert_eq!(
        (&tree["file_count"], &tree["version_count"]),
        (&json!(1), &json!(2))
    );
    let kept = &tree["files"][0]["versions"];
    for (index, data) in [&one, &two].into_iter().enumerate() {
        assert_eq!(kept[index]["sha256"], sha256_hex(data));
        assert_eq!(kept[index]["size"], data.len());
        let id = kept[index]["id"].as_u64().unwrap();
        let content = h
            .http
            .get(h.url(&format!("/_sandbox/file_versions/{id}/content")))
            .send()
            .await
            .unwrap();
        assert_eq!(content.status(), 200);
        assert_eq!(content.bytes().await.unwrap().as_ref(), data.as_slice());
    }
    assert_eq!(kept[1]["upload_uuid"], uuid);
    let url = version["url"].as_str().unwrap();
    let fetched = h.http.get(url).send().await.unwrap();
    assert_eq!(
        fetched.bytes().await.unwrap().as_ref(),
        two.as_slice(),
        "the version's url"
    );
}

/// A version's bytes are those its upload held when the version was made: posted
/// again to the same upload, the stored object changes and the version's content is
/// refused (409) rather than given wrong.
#[tokio::test]
async fn a_version_whose_stored_bytes_changed_is_not_given_back() {
    let h = Harness::embedded().await;
    let created = h
        .create(
            "/rest/v1.1/projects/42/uploads",
            json!({"response_filename": "a.pdf"}),
        )
        .await;
    assert!(h
        .post_form(&created, b"original")
        .await
        .status()
        .is_success());
    let uuid = created["uuid"].as_str().unwrap();
    let (status, answer) = post(
        &h,
        PROJECT_FILES,
        json!({"file": {"name": "a.pdf", "upload_uuid": uuid}}),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let version = answer["file_versions"][0]["id"].as_u64().unwrap();
    assert!(h
        .post_form(&created, b"replaced")
        .await
        .status()
        .is_success());
    let content = h
        .http
        .get(h.url(&format!("/_sandbox/file_versions/{version}/content")))
        .send()
        .await
        .unwrap();
    assert_eq!(content.status(), 409);
    let tree = inspect(&h, "project_id=42").await;
    assert_eq!(
        tree["files"][0]["versions"][0]["sha256"],
        sha256_hex(b"original")
    );
}

/// Company Documents and each project's are apart: their own roots and names, a
/// parent or a file of the other refused, 403 for another company in the path.
#[tokio::test]
async fn company_and_project_documents_are_apart() {
    let h = Harness::embedded().await;
    let company_plans = folder(&h, COMPANY_FOLDERS, "plans", None).await;
    let project_plans = folder(&h, PROJECT_FOLDERS, "plans", None).await;
    let company_file = file(&h, COMPANY_FILES, "a.pdf", Some(company_plans), b"c").await;
    file(&h, PROJECT_FILES, "a.pdf", Some(project_plans), b"p").await;
    let (_, company_root) = get(&h, COMPANY_FOLDERS).await;
    let (_, project_root) = get(&h, PROJECT_FOLDERS).await;
    assert_ne!(company_root["id"], project_root["id"]);
    assert_eq!(company_root["folders"][0]["id"], company_plans);
    let (status, shown) = get(&h, &format!("{COMPANY_FOLDERS}/{company_plans}")).await;
    assert_eq!((status, names(&shown["files"])), (200, vec!["a.pdf"]));

    let (status, answer) = get(
        &h,
        &format!("/rest/v1.0/folders/{company_plans}?project_id=42"),
    )
    .await;
    assert_eq!(
        status, 404,
        "a company folder is not the project's: {answer}"
    );
    let (status, answer) = post(
        &h,
        PROJECT_FOLDERS,
        json!({"folder": {"name": "x", "parent_id": company_plans}}),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["errors"]
        .as_str()
        .unwrap()
        .contains("is a folder of other Documents, not of project 42"));
    let uuid = h.form_upload("b.pdf", b"b").await;
    let (status, answer) = post(
        &h,
        &format!(
            "/rest/v1.0/file_versions?project_id=42&file_id={}",
            company_file["id"]
        ),
        json!({"file_version": {"upload_uuid": uuid}}),
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    let (status, version) = post(
        &h,
        &format!(
            "/rest/v1.0/companies/7/file_versions?file_id={}",
            company_file["id"]
        ),
        json!({"file_version": {"upload_uuid": uuid}}),
    )
    .await;
    assert_eq!((status, &version["number"]), (201, &json!(2)), "{version}");
    let (status, _) = get(&h, "/rest/v1.0/companies/8/folders").await;
    assert_eq!(status, 403);

    let company = inspect(&h, "company_id=7").await;
    assert_eq!(
        (
            &company["project_id"],
            &company["file_count"],
            &company["version_count"]
        ),
        (&Value::Null, &json!(1), &json!(2))
    );
    let project = inspect(&h, "company_id=7&project_id=42").await;
    assert_eq!(
        (&project["file_count"], &project["version_count"]),
        (&json!(1), &json!(1))
    );
    let untouched = inspect(&h, "project_id=99").await;
    assert_eq!(
        (&untouched["root"], &untouched["file_count"]),
        (&Value::Null, &json!(0))
    );
}

/// Bad input is refused with a 4xx naming what is wrong, and creates nothing.
#[tokio::test]
async fn bad_input_is_refused_clearly() {
    let h = Harness::embedded().await;
    let uuid = h.form_upload("a.pdf", b"a").await;
    let unfinished = h
        .create(
            "/rest/v1.1/projects/42/uploads",
            json!({"response_filename": "u.pdf"}),
        )
        .await["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let plans = folder(&h, PROJECT_FOLDERS, "plans", None).await;
    let other_project = folder(&h, "/rest/v1.0/folders?project_id=43", "elsewhere", None).await;
    let file_id = file(&h, PROJECT_FILES, "kept.pdf", None, b"k").await["id"]
        .as_u64()
        .unwrap();
    let before = inspect(&h, "project_id=42").await;
    let versions = format!("/rest/v1.0/file_versions?project_id=42&file_id={file_id}");
    let cases: Vec<(Method, String, Option<Value>, u16, &str)> = vec![
        (
            Method::POST,
            PROJECT_FOLDERS.into(),
            Some(json!({"folder": {}})),
            422,
            "folder.name is required",
        ),
        (
            Method::POST,
            PROJECT_FOLDERS.into(),
            Some(json!({"folder": {"name": ""}})),
            422,
            "folder.name is required",
        ),
        (
            Method::POST,
            PROJECT_FOLDERS.into(),
            Some(json!({"folder": {"name": "  "}})),
            422,
            "folder.name must not be blank",
        ),
        (
            Method::POST,
            PROJECT_FOLDERS.into(),
            Some(json!({"folder": {"name": "a/b"}})),
            422,
            "folder.name must not contain /",
        ),
        (
            Method::POST,
            PROJECT_FOLDERS.into(),
            Some(json!({"folder": {"name": ".."}})),
            422,
            "folder.name must not be . or ..",
        ),
        (
            Method::POST,
            PROJECT_FOLDERS.into(),
            Some(json!({"folder": {"name": "x", "parent_id": 999_999}})),
            422,
            "folder.parent_id 999999 is not a folder",
        ),
        (
            Method::POST,
            PROJECT_FOLDERS.into(),
            Some(json!({"folder": {"name": "x", "parent_id": other_project}})),
            422,
            "is a folder of other Documents, not of project 42",
        ),
        (
            Method::POST,
            PROJECT_FOLDERS.into(),
            Some(json!({"folder": {"name": "x", "parent_id": plans.to_string()}})),
            422,
            "folder.parent_id must be a positive integer or null",
        ),
        (
            Method::POST,
            PROJECT_FOLDERS.into(),
            Some(json!({"name": "x"})),
            400,
            "the body must have a \"folder\" object",
        ),
        (
            Method::POST,
            "/rest/v1.0/folders".into(),
            Some(json!({"folder": {"name": "x"}})),
            400,
            "the project_id query parameter is required",
        ),
        (
            Method::POST,
            PROJECT_FILES.into(),
            Some(json!({"file": {"upload_uuid": uuid}})),
            422,
            "file.name is required",
        ),
        (
            Method::POST,
            PROJECT_FILES.into(),
            Some(json!({"file": {"name": "b.pdf"}})),
            422,
            "file.upload_uuid is required",
        ),
        (
            Method::POST,
            PROJECT_FILES.into(),
            Some(json!({"file": {"name": "b.pdf", "upload_uuid": "NOSUCH"}})),
            422,
            "upload NOSUCH does not exist",
        ),
        (
            Method::POST,
            PROJECT_FILES.into(),
            Some(json!({"file": {"name": "b.pdf", "upload_uuid": unfinished}})),
            422,
            "is not finished",
        ),
        // The parent is checked before the upload (and its bytes).
        (
            Method::POST,
            PROJECT_FILES.into(),
            Some(json!({"file": {"name": "b.pdf", "upload_uuid": "NOSUCH", "parent_id": 999_999}})),
            422,
            "file.parent_id 999999 is not a folder",
        ),
        (
            Method::POST,
            PROJECT_FILES.into(),
            Some(
                json!({"file": {"name": "b.pdf", "upload_uuid": uuid, "parent_id": other_project}}),
            ),
            422,
            "is a folder of other Documents",
        ),
        (
            Method::POST,
            PROJECT_FILES.into(),
            Some(json!({"file": {"name": "b.pdf", "upload_uuid": uuid, "unique_name": "yes"}})),
            422,
            "file.unique_name must be true or false",
        ),
        (
            Method::POST,
            PROJECT_FILES.into(),
            Some(json!({"file": {"name": "b.pdf", "upload_uuid": uuid, "description": 3}})),
            422,
            "file.description must be a string",
        ),
        (
            Method::POST,
            PROJECT_FILES.into(),
            Some(json!({"file": {"name": "a\u{1}.pdf", "upload_uuid": uuid}})),
            422,
            "file.name must not contain control characters",
        ),
        (
            Method::POST,
            versions.clone(),
            Some(json!({"file_version": {}})),
            422,
            "file_version.upload_uuid is required",
        ),
        (
            Method::POST,
            versions.clone(),
            Some(json!({"file_version": {"upload_uuid": unfinished}})),
            422,
            "is not finished",
        ),
        (
            Method::POST,
            versions.clone(),
            Some(json!({"file_version": {"upload_uuid": uuid, "notes": false}})),
            422,
            "file_version.notes must be a string",
        ),
        (
            Method::POST,
            versions,
            Some(json!({"upload_uuid": uuid})),
            400,
            "the body must have a \"file_version\" object",
        ),
        (
            Method::POST,
            "/rest/v1.0/file_versions?project_id=42".into(),
            Some(json!({"file_version": {"upload_uuid": uuid}})),
            400,
            "the file_id query parameter is required",
        ),
        // The file is checked before the upload.
        (
            Method::POST,
            "/rest/v1.0/file_versions?project_id=42&file_id=999999".into(),
            Some(json!({"file_version": {"upload_uuid": "NOSUCH"}})),
            404,
            "file 999999 not found in project 42",
        ),
        (
            Method::POST,
            format!("/rest/v1.0/file_versions?project_id=42&file_id={plans}"),
            Some(json!({"file_version": {"upload_uuid": uuid}})),
            404,
            "not found in project 42",
        ),
        (
            Method::GET,
            "/rest/v1.0/folders/999999?project_id=42".into(),
            None,
            404,
            "folder 999999 not found in project 42",
        ),
        (
            Method::GET,
            format!("/rest/v1.0/folders/{file_id}?project_id=42"),
            None,
            404,
            "not found in project 42",
        ),
        (
            Method::GET,
            format!("{PROJECT_FOLDERS}&exclude_files=1"),
            None,
            400,
            "exclude_files must be either true or false",
        ),
        (
            Method::GET,
            "/rest/v1.0/folders?project_id=0".into(),
            None,
            400,
            "the project_id query parameter is required",
        ),
    ];
    for (method, path, body, status, message) in cases {
        let (got, answer) = call(&h, method.clone(), &path, body.clone(), &[]).await;
        assert_eq!(got, status, "{method} {path} {body:?}: {answer}");
        let text = answer["errors"].as_str().unwrap_or_default();
        assert!(text.contains(message), "{method} {path} {body:?}: {answer}");
    }
    let after = inspect(&h, "project_id=42").await;
    assert_eq!(after, before, "nothing created");
}

/// The same `Idempotency-Token` sent again gets the first answer and creates
/// nothing, for folders, files and file versions; another token creates (or, for a
/// folder, is told the name is taken).
#[tokio::test]
async fn a_repeated_idempotency_token_replays_the_first_answer() {
    let h = Harness::embedded().await;
    let uuid = h.form_upload("a.pdf", b"a").await;
    let token = [("Idempotency-Token", "doc-1")];
    let folder_body = json!({"folder": {"name": "plans"}});
    let (status, first) = call(
        &h,
        Method::POST,
        PROJECT_FOLDERS,
        Some(folder_body.clone()),
        &token,
    )
    .await;
    assert_eq!(status, 201);
    let (status, again) = call(
        &h,
        Method::POST,
        PROJECT_FOLDERS,
        Some(folder_body.clone()),
        &token,
    )
    .await;
    assert_eq!(
        (status, &again),
        (201, &first),
        "the first answer again, not a name taken"
    );
    let (status, _) = call(
        &h,
        Method::POST,
        PROJECT_FOLDERS,
        Some(folder_body),
        &[("Idempotency-Token", "doc-2")],
    )
    .await;
    assert_eq!(status, 422, "another token is another create");

    let file_body =
        json!({"file": {"name": "a.pdf", "upload_uuid": uuid, "parent_id": first["id"]}});
    let (status, created) = call(
        &h,
        Method::POST,
        PROJECT_FILES,
        Some(file_body.clone()),
        &token,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (status, again) = call(&h, Method::POST, PROJECT_FILES, Some(file_body), &token).await;
    assert_eq!((status, &again), (201, &created));

    let versions = format!(
        "/rest/v1.0/file_versions?project_id=42&file_id={}",
        created["id"]
    );
    let version_body = json!({"file_version": {"upload_uuid": uuid}});
    let (status, version) = call(
        &h,
        Method::POST,
        &versions,
        Some(version_body.clone()),
        &token,
    )
    .await;
    assert_eq!(status, 201);
    let (status, again) = call(
        &h,
        Method::POST,
        &versions,
        Some(version_body.clone()),
        &token,
    )
    .await;
    assert_eq!((status, &again), (201, &version));
    let tree = inspect(&h, "project_id=42").await;
    assert_eq!(
        (
            &tree["folder_count"],
            &tree["file_count"],
            &tree["version_count"]
        ),
        (&json!(1), &json!(1), &json!(2))
    );
    let (status, third) = call(
        &h,
        Method::POST,
        &versions,
        Some(version_body),
        &[("Idempotency-Token", "doc-3")],
    )
    .await;
    assert_eq!((status, &third["number"]), (201, &json!(3)));
}

/// A lost answer (502 after the work) and a dropped one (no answer after the work),
/// each aimed at one kind of create: sent again with the same token, the first answer
/// comes and nothing is created twice.
#[tokio::test]
async fn a_lost_or_dropped_answer_then_a_retry_creates_once() {
    let h = Harness::embedded().await;
    let uuid = h.form_upload("a.pdf", b"a").await;
    let plans = folder(&h, PROJECT_FOLDERS, "plans", None).await;
    let kept = file(&h, PROJECT_FILES, "kept.pdf", Some(plans), b"k").await["id"]
        .as_u64()
        .unwrap();
    let cases = [
        (
            "/rest/v1.0/folders",
            PROJECT_FOLDERS.to_string(),
            json!({"folder": {"name": "day 1", "parent_id": plans}}),
        ),
        (
            "/rest/v1.0/files",
            PROJECT_FILES.to_string(),
            json!({"file": {"name": "b.pdf", "upload_uuid": uuid, "parent_id": plans}}),
        ),
        (
            "/rest/v1.0/file_versions",
            format!("/rest/v1.0/file_versions?project_id=42&file_id={kept}"),
            json!({"file_version": {"upload_uuid": uuid}}),
        ),
    ];
    for fault in ["answer_lost", "answer_dropped"] {
        for (index, (aimed, path, body)) in cases.iter().enumerate() {
            let mut body = body.clone();
            // A fresh name per round, so that the second round creates anew.
            for pointer in ["/folder/name", "/file/name"] {
                if let Some(name) = body.pointer_mut(pointer) {
                    *name = json!(format!("{fault} {}", name.as_str().unwrap()));
                }
            }
            let before = inspect(&h, "project_id=42").await;
            h.set_faults(
                json!({"api_faults": [{"fault": fault, "method": "POST", "path": aimed}]}),
            )
            .await;
            let token = format!("{fault}-{index}");
            let headers = [("Idempotency-Token", token.as_str())];
            // A request to another endpoint is not aimed at.
            if index > 0 {
                let (status, _) = get(&h, PROJECT_FOLDERS).await;
                assert_eq!(status, 200);
            }
            let mut request = h.api(Method::POST, path).json(&body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            match request.send().await {
                Ok(response) => {
                    assert_eq!(fault, "answer_lost");
                    assert_eq!(response.status(), 502, "{path}");
                }
                Err(error) => {
                    assert_eq!(fault, "answer_dropped");
                    assert!(!error.is_status(), "{error}");
                }
            }
            let done = inspect(&h, "project_id=42").await;
            let counts = |tree: &Value| {
                ["folder_count", "file_count", "version_count"].map(|k| tree[k].as_u64().unwrap())
            };
            let (b, d) = (counts(&before), counts(&done));
            let grown: Vec<u64> = b.iter().zip(d).map(|(b, d)| d - b).collect();
            let expected = match index {
                0 => [1, 0, 0],
                1 => [0, 1, 1],
                _ => [0, 0, 1],
            };
            assert_eq!(grown, expected, "{fault} {path}: the work was done");
            let (status, answer) = call(&h, Method::POST, path, Some(body), &headers).await;
            assert_eq!(status, 201, "{fault} {path}: {answer}");
            assert_eq!(
                counts(&inspect(&h, "project_id=42").await),
                d,
                "{fault} {path}: created once"
            );
            assert!(answer["id"].as_u64().is_some());
        }
    }
    assert_eq!(
        h.admin_json("faults").await["api_faults"][0]["next"],
        0,
        "each rule was taken"
    );
}

/// An aimed 429 or 503 comes before the endpoint: nothing is created, and the same
/// request sent again creates once.
#[tokio::test]
async fn aimed_429_and_503_create_nothing() {
    let h = Harness::embedded().await;
    h.set_faults(json!({"retry_after_secs": 2, "api_faults": [
        {"fault": "429", "method": "POST", "path": "/rest/v1.0/folders"},
        {"fault": "503", "method": "POST", "path": "/rest/v1.0/folders"},
    ]}))
    .await;
    let body = json!({"folder": {"name": "plans"}});
    let response = h
        .api(Method::POST, PROJECT_FOLDERS)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            response.status().as_u16(),
            response.headers()["retry-after"].to_str().unwrap()
        ),
        (429, "2")
    );
    let (status, _) = post(&h, PROJECT_FOLDERS, body.clone()).await;
    assert_eq!(status, 503);
    assert_eq!(inspect(&h, "project_id=42").await["folder_count"], 0);
    let (status, _) = post(&h, PROJECT_FOLDERS, body).await;
    assert_eq!(status, 201);
    assert_eq!(inspect(&h, "project_id=42").await["folder_count"], 1);
}

/// Files created in Documents are still listed in `/_sandbox/attachments` under
/// their file id, as project or company files.
#[tokio::test]
async fn documents_files_are_listed_as_attachments() {
    let h = Harness::embedded().await;
    let project = file(&h, PROJECT_FILES, "a.pdf", None, b"a").await;
    let company = file(&h, COMPANY_FILES, "a.pdf", None, b"a").await;
    let kinds: Vec<(Value, Value)> = h
        .attachments()
        .await
        .into_iter()
        .map(|record| (record["id"].clone(), record["kind"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (project["id"].clone(), json!("project_file")),
            (company["id"].clone(), json!("company_file"))
        ]
    );
    let ids: BTreeSet<u64> = [&project, &company]
        .iter()
        .flat_map(|f| {
            [
                f["id"].as_u64().unwrap(),
                f["file_versions"][0]["id"].as_u64().unwrap(),
                f["parent_id"].as_u64().unwrap(),
            ]
        })
        .collect();
    assert_eq!(ids.len(), 6, "folder, file and version ids never coincide");
}
