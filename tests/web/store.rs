//! The IndexedDB store of upload states against what the browser and other tabs do
//! to it: first uses at once, writes that abort after their request succeeded, an
//! upgrade that fails, another tab upgrading or deleting the database, a connection
//! closed under it; and the caller's store beside the app's own keys. Each test has a database of its own; the page's IndexedDB is
//! patched where a test must see or provoke something, for that database only, and
//! the patch undone when the test ends.

use js_sys::{Array, Function, Promise};
use procore_upload::core::state::{Store, KEY_PREFIX};
use procore_upload::core::Error;
use procore_upload::web::store::WebStore;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

/// A key of the library's (the store leaves any other alone).
fn key(name: &str) -> String {
    format!("{KEY_PREFIX}{name}")
}

/// Runs JS `body` as a function of `names`, called with `values`.
fn js(names: &str, body: &str, values: &[JsValue]) -> JsValue {
    Function::new_with_args(names, body)
        .apply(&JsValue::UNDEFINED, &values.iter().collect::<Array>())
        .expect("test JS runs")
}

/// Awaits the promise JS `body` returns.
async fn js_await(names: &str, body: &str, values: &[JsValue]) -> Result<JsValue, JsValue> {
    JsFuture::from(js(names, body, values).unchecked_into::<Promise>()).await
}

/// Requests as promises, and a database deleted (or refused: `blocked`).
const IDB: &str = r#"
    const settle = (request, value) => new Promise((resolve, reject) => {
        request.onsuccess = () => resolve(value ? value(request.result) : request.result);
        request.onerror = () => reject(request.error);
        request.onblocked = () => reject(new Error("blocked: a connection was kept open"));
    });
    const remove = (name) => settle(indexedDB.deleteDatabase(name));"#;

/// A store over a database of `name`, deleted first (a left-over of an earlier run).
async fn fresh(name: &str) -> WebStore {
    js_await(
        "name",
        &format!("{IDB} return remove(name);"),
        &[name.into()],
    )
    .await
    .expect("the test's database deleted");
    WebStore::indexed_db_named(name).expect("IndexedDB")
}

/// A change to the page's IndexedDB for one test, undone when dropped. `body` makes
/// the change and returns the function that undoes it.
struct Patch(Function);

impl Drop for Patch {
    fn drop(&mut self) {
        self.0.call0(&JsValue::UNDEFINED).expect("patch undone");
    }
}

fn patch(names: &str, body: &str, values: &[JsValue]) -> Patch {
    Patch(js(names, body, values).unchecked_into())
}

/// Records in `opened` each connection to the database `name` that opens.
fn record_connections(name: &str, opened: &Array) -> Patch {
    patch(
        "name, opened",
        r#"const original = IDBFactory.prototype.open;
        IDBFactory.prototype.open = function (n, ...rest) {
            const request = original.call(this, n, ...rest);
            if (n === name) request.addEventListener("success", () => opened.push(request.result));
            return request;
        };
        return () => { IDBFactory.prototype.open = original; };"#,
        &[name.into(), opened.into()],
    )
}

fn strings(array: &Array) -> Vec<String> {
    array.iter().map(|v| v.as_string().expect("text")).collect()
}

async fn listed(store: &WebStore) -> Vec<(String, String)> {
    let mut entries = store.list().await.expect("list");
    entries.sort();
    entries
}

fn entries(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (key(k), v.to_string())).collect()
}

#[wasm_bindgen_test]
async fn first_uses_at_once_share_one_open() {
    let name = "test-store-one-open";
    let store = fresh(name).await;
    let calls = Array::new();
    let _counting = patch(
        "name, calls",
        r#"const original = IDBFactory.prototype.open;
        IDBFactory.prototype.open = function (n, ...rest) {
            if (n === name) calls.push(n);
            return original.call(this, n, ...rest);
        };
        return () => { IDBFactory.prototype.open = original; };"#,
        &[name.into(), calls.clone().into()],
    );
    let (a, b, c) = futures_util::future::join3(
        store.put(&key("a"), "1"),
        store.put(&key("b"), "2"),
        store.get(&key("a")),
    )
    .await;
    a.expect("put a");
    b.expect("put b");
    c.expect("get a");
    assert_eq!(calls.length(), 1, "three first uses, one open");
    assert_eq!(listed(&store).await, entries(&[("a", "1"), ("b", "2")]));
    assert_eq!(calls.length(), 1, "the connection kept");
}

#[wasm_bindgen_test]
async fn a_write_is_done_once_its_transaction_completes() {
    let name = "test-store-complete";
    let store = fresh(name).await;
    let log = Array::new();
    let _logging = patch(
        "name, log",
        r#"const original = IDBDatabase.prototype.transaction;
        IDBDatabase.prototype.transaction = function (...args) {
            const transaction = original.apply(this, args);
            if (this.name === name) transaction.addEventListener("complete", () => log.push("complete"));
            return transaction;
        };
        return () => { IDBDatabase.prototype.transaction = original; };"#,
        &[name.into(), log.clone().into()],
    );
    store.put(&key("a"), "1").await.expect("put");
    log.push(&"put done".into());
    store.delete(&key("a")).await.expect("delete");
    log.push(&"delete done".into());
    assert_eq!(
        strings(&log),
        ["complete", "put done", "complete", "delete done"]
    );
}

#[wasm_bindgen_test]
async fn a_write_whose_transaction_aborts_after_its_request_succeeded_fails() {
    let name = "test-store-abort";
    let store = fresh(name).await;
    store.put(&key("a"), "1").await.expect("first put");
    let aborting = patch(
        "name",
        r#"const original = IDBObjectStore.prototype.put;
        IDBObjectStore.prototype.put = function (...args) {
            const request = original.apply(this, args);
            // As a disk that fills up on commit: the request succeeds, the transaction aborts.
            if (this.transaction.db.name === name) request.addEventListener("success", () => this.transaction.abort());
            return request;
        };
        return () => { IDBObjectStore.prototype.put = original; };"#,
        &[name.into()],
    );
    let error = store
        .put(&key("a"), "2")
        .await
        .expect_err("an aborted write fails");
    assert_eq!(error.code(), "STORE");
    assert!(
        matches!(&error, Error::Store { message, .. } if message.contains("indexedDB put") && message.contains("aborted")),
        "{error:?}"
    );
    drop(aborting);
    assert_eq!(
        store.get(&key("a")).await.expect("get").as_deref(),
        Some("1"),
        "nothing of it committed"
    );
}

#[wasm_bindgen_test]
async fn an_upgrade_that_fails_is_reported_and_undone() {
    let name = "test-store-upgrade-error";
    let store = fresh(name).await;
    let refusing = patch(
        "name",
        r#"const original = IDBDatabase.prototype.createObjectStore;
        IDBDatabase.prototype.createObjectStore = function (...args) {
            if (this.name === name) throw new DOMException("refused by the test", "QuotaExceededError");
            return original.apply(this, args);
        };
        return () => { IDBDatabase.prototype.createObjectStore = original; };"#,
        &[name.into()],
    );
    let error = store.list().await.expect_err("the open fails");
    match &error {
        Error::Store { message, cause } => {
            // What the upgrade threw, not the `AbortError` of the open it undid.
            assert_eq!(
                message,
                "indexedDB.open: QuotaExceededError: refused by the test"
            );
            assert!(cause.is_some(), "the DOMException is the cause");
        }
        other => panic!("{other:?}"),
    }
    drop(refusing);
    // The next call opens again, and finds no database left without its store.
    store
        .put(&key("a"), "1")
        .await
        .expect("put after the failed open");
    assert_eq!(listed(&store).await, entries(&[("a", "1")]));
    let version = js_await(
        "name",
        &format!("{IDB} return settle(indexedDB.open(name), (db) => {{ db.close(); return db.version; }});"),
        &[name.into()],
    )
    .await
    .expect("open");
    assert_eq!(
        version, 1,
        "the failed upgrade was undone, not kept at version 1 without a store"
    );
}

#[wasm_bindgen_test]
async fn another_tab_upgrades_then_deletes_the_database_and_we_keep_working() {
    let name = "test-store-other-tab";
    let store = fresh(name).await;
    store.put(&key("before"), "1").await.expect("put");
    // Another tab (a connection of its own) upgrades the database while ours is open.
    let theirs = js_await(
        "name",
        &format!(
            r#"{IDB}
            const request = indexedDB.open(name, 2);
            request.onupgradeneeded = () => request.result.createObjectStore("theirs");
            return settle(request);"#
        ),
        &[name.into()],
    )
    .await
    .expect("the other tab's upgrade goes through, not blocked");
    // It keeps its connection at version 2; ours opens at that version and goes on.
    store
        .put(&key("after"), "2")
        .await
        .expect("put after the upgrade");
    assert_eq!(
        store.get(&key("before")).await.expect("get").as_deref(),
        Some("1")
    );
    assert_eq!(
        listed(&store).await,
        entries(&[("after", "2"), ("before", "1")])
    );
    // Done once its transaction is: a connection closed with a transaction running
    // stays open until it ends, and would hold up the delete below.
    let seen = js_await(
        "db",
        r#"const transaction = db.transaction("states");
        const request = transaction.objectStore("states").getAllKeys();
        return new Promise((resolve, reject) => {
            transaction.oncomplete = () => resolve(request.result);
            transaction.onabort = () => reject(transaction.error);
        });"#,
        std::slice::from_ref(&theirs),
    )
    .await
    .expect("the other tab reads");
    assert_eq!(
        strings(&seen.unchecked_into()),
        [key("after"), key("before")],
        "one database: the other tab sees our write"
    );
    // Then it closes and deletes the database while ours is open.
    js("db", "db.close();", &[theirs]);
    js_await(
        "name",
        &format!("{IDB} return remove(name);"),
        &[name.into()],
    )
    .await
    .expect("the other tab's delete goes through, not blocked");
    store
        .put(&key("again"), "3")
        .await
        .expect("put after the delete");
    assert_eq!(listed(&store).await, entries(&[("again", "3")]));
}

#[wasm_bindgen_test]
async fn a_connection_closed_under_us_is_opened_again() {
    let name = "test-store-closed";
    let store = fresh(name).await;
    let opened = Array::new();
    let _recording = record_connections(name, &opened);
    store.put(&key("a"), "1").await.expect("put");
    assert_eq!(opened.length(), 1);
    // Closed under it: as by our `versionchange` handler, or by the browser
    // (storage cleared), whose `close` event may come later or never.
    js("db", "db.close();", &[opened.get(0)]);
    store
        .put(&key("b"), "2")
        .await
        .expect("put on a closed connection");
    assert_eq!(opened.length(), 2, "opened again");
    assert_eq!(listed(&store).await, entries(&[("a", "1"), ("b", "2")]));
    assert_eq!(opened.length(), 2, "kept open since");
}

/// The caller's store, shared with the app's data: the library's calls reach it
/// with its own keys only (and `list`), and the app's entries stay as they were.
#[wasm_bindgen_test]
async fn the_callers_store_is_called_with_the_librarys_keys_only() {
    let calls = Array::new();
    let object = js(
        "calls",
        r#"const entries = new Map([["theme", "dark"], ["procore-upload", "no slash"],
            ["draft", JSON.stringify({ format: 1, key: "draft" })]]);
        return {
            entries,
            get: (key) => { calls.push(`get ${key}`); return entries.get(key) ?? null; },
            put: async (key, value) => { calls.push(`put ${key}`); entries.set(key, value); },
            delete: (key) => { calls.push(`delete ${key}`); entries.delete(key); },
            list: () => { calls.push("list"); return [...entries]; },
        };"#,
        &[calls.clone().into()],
    );
    let store = WebStore::custom(&object).expect("a store");
    for app in ["theme", "procore-upload", "draft"] {
        assert_eq!(store.get(app).await.expect("get"), None);
        store.put(app, "x").await.expect_err("refused");
        store.delete(app).await.expect("delete");
    }
    assert_eq!(strings(&calls), Vec::<String>::new(), "nothing reached it");
    store.put(&key("a"), "1").await.expect("put");
    assert_eq!(
        store.get(&key("a")).await.expect("get").as_deref(),
        Some("1")
    );
    assert_eq!(listed(&store).await, entries(&[("a", "1")]));
    store.delete(&key("a")).await.expect("delete");
    let a = key("a");
    assert_eq!(
        strings(&calls),
        [
            format!("put {a}"),
            format!("get {a}"),
            "list".into(),
            format!("delete {a}")
        ]
    );
    let left = js(
        "store",
        "return JSON.stringify([...store.entries]);",
        &[object],
    );
    assert_eq!(
        left.as_string().expect("text"),
        r#"[["theme","dark"],["procore-upload","no slash"],["draft","{\"format\":1,\"key\":\"draft\"}"]]"#
    );
}
