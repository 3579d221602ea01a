//! Where upload states are kept in the browser: IndexedDB (one database, one object
//! store, the state's JSON text under its fingerprint; no file bytes), or a store
//! the integrator passes (`{ get, put, delete, list }`, each may return a promise).
//! Either implements [`Store::run`] only: the trait's own methods, which the library
//! calls, touch no key outside its prefix.
//!
//! The IndexedDB connection is opened once for the calls that first need it (they
//! share the open), and opened at its current version, whatever another tab made
//! it. It is closed as soon as another tab asks to upgrade or delete the database
//! (`versionchange`); a call that finds it closed (so, or by the browser) opens it
//! again. A write is done when its transaction completes, not when its request
//! succeeds (a transaction can still abort after that, on a full disk).

use std::cell::RefCell;
use std::future::Future;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Event, IdbDatabase, IdbFactory, IdbOpenDbRequest, IdbTransaction, IdbTransactionMode,
};

use super::error::js_cause;
use super::js::{describe_error, get_property};
use crate::core::state::{Op, Store};
use crate::core::Error;

/// The database and object store names.
pub const DATABASE: &str = "procore-upload";
const STATES: &str = "states";

/// A store of states in the browser.
pub enum WebStore {
    /// IndexedDB, opened on first use.
    IndexedDb(IndexedDb),
    /// The caller's `{ get, put, delete, list }`.
    Custom(Object),
}

fn store_error(what: &str, thrown: JsValue) -> Error {
    Error::store(format!("{what}: {}", describe_error(&thrown))).with_cause(js_cause(thrown))
}

fn indexed_db_factory() -> Option<IdbFactory> {
    Reflect::get(&js_sys::global(), &"indexedDB".into())
        .ok()
        .and_then(|factory| factory.dyn_into().ok())
}

/// A promise and the functions that settle it.
fn promise() -> Result<(Promise, Function, Function), Error> {
    let mut slots = None;
    let promise = Promise::new(&mut |resolve, reject| slots = Some((resolve, reject)));
    let (resolve, reject) =
        slots.ok_or_else(|| Error::store("a Promise did not call its executor"))?;
    Ok((promise, resolve, reject))
}

/// Resolves once the transaction has completed (its writes are committed); rejects
/// when it aborts or one of its requests fails, with that error.
async fn transaction_done(transaction: &IdbTransaction, what: &str) -> Result<(), Error> {
    let (promise, resolve, reject) = promise()?;
    let target = transaction.clone();
    // One callback for both events: the first frees it, after unhooking both. A
    // failed request aborts its transaction (its `error` is the transaction's).
    let settle = Closure::once_into_js(move |event: Event| {
        target.set_oncomplete(None);
        target.set_onabort(None);
        let settle = if event.type_() == "complete" {
            resolve
        } else {
            reject
        };
        // `null` when aborted by code, else what aborted it (a quota exceeded on commit).
        let error = target.error().map_or(JsValue::NULL, JsValue::from);
        let _ = settle.call1(&JsValue::UNDEFINED, &error);
    });
    let settle: &Function = settle.unchecked_ref();
    transaction.set_oncomplete(Some(settle));
    transaction.set_onabort(Some(settle));
    JsFuture::from(promise).await.map(drop).map_err(|thrown| {
        if thrown.is_null() {
            Error::store(format!("{what}: the transaction was aborted"))
        } else {
            store_error(what, thrown)
        }
    })
}

/// IndexedDB, opened on first use and again once the connection is closed.
pub struct IndexedDb {
    name: String,
    /// The open, resolving to the connection: shared by every call, those that come
    /// while it is pending included. Forgotten when it fails or its connection is
    /// found closed.
    connection: RefCell<Option<Promise>>,
    /// `onversionchange` of every connection: closes it.
    on_version_change: JsValue,
}

impl IndexedDb {
    fn new(name: &str) -> Self {
        // Another tab asks to upgrade or delete the database: closed at once, or that
        // tab would wait (`blocked`) for as long as this page lives. The next call
        // finds it closed and opens it again, at the version it then has.
        let close = Closure::<dyn FnMut(Event)>::new(|event: Event| {
            if let Some(db) = event
                .target()
                .and_then(|t| t.dyn_into::<IdbDatabase>().ok())
            {
                db.close();
            }
        });
        Self {
            name: name.into(),
            connection: RefCell::new(None),
            // Kept for the page's life: one per store (the client's).
            on_version_change: close.into_js_value(),
        }
    }

    /// The open connection's promise; the database is opened first if there is none.
    fn opening(&self) -> Result<Promise, Error> {
        if let Some(promise) = self.connection.borrow().as_ref() {
            return Ok(promise.clone());
        }
        let (promise, resolve, reject) = promise()?;
        let request = indexed_db_factory()
            .ok_or_else(|| Error::store("indexedDB is not available"))?
            // At its current version, whatever it is: another tab may have upgraded it.
            .open(&self.name)
            .map_err(|thrown| store_error("indexedDB.open", thrown))?;
        let on_version_change = self.on_version_change.clone();
        let failed = RefCell::new(None);
        let target = request.clone();
        // One handler for the request's three events. Kept for the page's life, like
        // the connection's: one per open, and opens are few (the first use, and one
        // after each upgrade of another tab).
        let handler = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            match event.type_().as_str() {
                "upgradeneeded" => {
                    if let Err(thrown) = create_states(&target) {
                        // Undone, so that no database is left without its store; the
                        // open then fails (`error` comes next) for this reason.
                        if let Some(transaction) = target.transaction() {
                            let _ = transaction.abort();
                        }
                        *failed.borrow_mut() = Some(thrown);
                    }
                }
                "success" => {
                    let db = target.result().unwrap_or_default();
                    if let Some(db) = db.dyn_ref::<IdbDatabase>() {
                        db.set_onversionchange(Some(on_version_change.unchecked_ref()));
                    }
                    let _ = resolve.call1(&JsValue::UNDEFINED, &db);
                }
                _ => {
                    let error = failed.borrow_mut().take().unwrap_or_else(|| {
                        let error = target.error().ok().flatten();
                        error.map_or(JsValue::UNDEFINED, JsValue::from)
                    });
                    let _ = reject.call1(&JsValue::UNDEFINED, &error);
                }
            }
        })
        .into_js_value();
        let handler = handler.unchecked_ref();
        request.set_onupgradeneeded(Some(handler));
        request.set_onsuccess(Some(handler));
        request.set_onerror(Some(handler));
        *self.connection.borrow_mut() = Some(promise.clone());
        Ok(promise)
    }

    /// Forgets `open` if it is still the connection's (the next call opens another).
    fn forget(&self, open: &Promise) {
        let mut connection = self.connection.borrow_mut();
        if connection
            .as_ref()
            .is_some_and(|known| Object::is(known, open))
        {
            *connection = None;
        }
    }

    /// A transaction on the store of states, on the open connection; opened again if
    /// it was found closed (after another tab's upgrade, or by the browser).
    async fn transaction(
        &self,
        mode: IdbTransactionMode,
        what: &str,
    ) -> Result<IdbTransaction, Error> {
        let mut again = true;
        loop {
            let open = self.opening()?;
            let db = match JsFuture::from(open.clone()).await {
                Ok(db) => db,
                Err(thrown) => {
                    self.forget(&open);
                    return Err(store_error("indexedDB.open", thrown));
                }
            };
            let db: IdbDatabase = db
                .dyn_into()
                .map_err(|_| Error::store("indexedDB.open gave no database"))?;
            match db.transaction_with_str_and_mode(STATES, mode) {
                Ok(transaction) => return Ok(transaction),
                // Closed (`InvalidStateError`): after another tab's upgrade, or by
                // the browser. Once more, on a connection opened again.
                Err(_) if again => {
                    self.forget(&open);
                    again = false;
                }
                Err(thrown) => return Err(store_error(what, thrown)),
            }
        }
    }

    /// Runs `op` in a transaction of its own on the store of states; what it gives
    /// once the transaction has completed.
    async fn run(&self, op: Op<'_>) -> Result<Vec<(String, String)>, Error> {
        let (mode, what) = match op {
            Op::Get(_) => (IdbTransactionMode::Readonly, "indexedDB get"),
            Op::Put(..) => (IdbTransactionMode::Readwrite, "indexedDB put"),
            Op::Delete(_) => (IdbTransactionMode::Readwrite, "indexedDB delete"),
            Op::List => (IdbTransactionMode::Readonly, "indexedDB list"),
        };
        let transaction = self.transaction(mode, what).await?;
        let requests = transaction
            .object_store(STATES)
            .and_then(|store| {
                Ok(match op {
                    Op::Get(key) => vec![store.get(&key.into())?],
                    Op::Put(key, value) => {
                        vec![store.put_with_key(&value.into(), &key.into())?]
                    }
                    Op::Delete(key) => vec![store.delete(&key.into())?],
                    Op::List => vec![store.get_all_keys()?, store.get_all()?],
                })
            })
            .map_err(|thrown| store_error(what, thrown));
        let requests = match requests {
            Ok(requests) => requests,
            Err(error) => {
                // Nothing of it may be committed.
                let _ = transaction.abort();
                return Err(error);
            }
        };
        transaction_done(&transaction, what).await?;
        // Their results are there: the transaction completed.
        let mut results = requests.iter().map(|r| r.result().unwrap_or_default());
        Ok(match op {
            Op::Get(key) => found(key, results.next().and_then(|text| text.as_string())),
            Op::List => {
                let mut array = || {
                    let array = results.next().and_then(|a| a.dyn_into::<Array>().ok());
                    array.ok_or_else(|| Error::store("indexedDB getAll gave no array"))
                };
                entries(&array()?, &array()?)
            }
            Op::Put(..) | Op::Delete(_) => Vec::new(),
        })
    }
}

/// The entries of two arrays, keys and values, whose both are text: any other is
/// someone else's, left out (and so never parsed).
fn entries(keys: &Array, values: &Array) -> Vec<(String, String)> {
    // Loops, here and in `found`, not collects: no iterator code of their own.
    let mut entries = Vec::new();
    for (key, value) in keys.iter().zip(values.iter()) {
        if let (Some(key), Some(value)) = (key.as_string(), value.as_string()) {
            entries.push((key, value));
        }
    }
    entries
}

/// What a get found: the entry of `key`, or none.
fn found(key: &str, text: Option<String>) -> Vec<(String, String)> {
    match text {
        Some(text) => vec![(key.to_string(), text)],
        None => Vec::new(),
    }
}

/// In an upgrade: creates the store of states; what the browser threw if it fails.
fn create_states(request: &IdbOpenDbRequest) -> Result<(), JsValue> {
    let db: IdbDatabase = request.result()?.dyn_into()?;
    if db.object_store_names().contains(STATES) {
        return Ok(());
    }
    db.create_object_store(STATES).map(drop)
}

impl WebStore {
    /// IndexedDB where this global has it: the database [`DATABASE`].
    pub fn indexed_db() -> Option<Self> {
        Self::indexed_db_named(DATABASE)
    }

    /// IndexedDB where this global has it, in the database `name` (tests keep
    /// theirs apart).
    pub fn indexed_db_named(name: &str) -> Option<Self> {
        indexed_db_factory().map(|_| WebStore::IndexedDb(IndexedDb::new(name)))
    }

    /// The caller's store: an object with `get`, `put`, `delete` and `list` methods.
    pub fn custom(object: &JsValue) -> Result<Self, Error> {
        let methods = ["get", "put", "delete", "list"];
        let object = object.dyn_ref::<Object>().filter(|object| {
            methods
                .iter()
                .all(|name| get_property(object, name).is_function())
        });
        object.map(|o| WebStore::Custom(o.clone())).ok_or_else(|| {
            Error::InvalidInput(
                "options.store must be false or an object with get, put, delete and list methods"
                    .into(),
            )
        })
    }
}

/// Calls the custom store's `method` and awaits what it returns.
async fn call(object: &Object, method: &str, args: &[JsValue]) -> Result<JsValue, Error> {
    let function: Function = get_property(object, method)
        .dyn_into()
        .map_err(|_| Error::store(format!("store.{method} is not a function")))?;
    let args: Array = args.iter().collect();
    let returned = function
        .apply(object, &args)
        .map_err(|thrown| store_error(&format!("store.{method}"), thrown))?;
    JsFuture::from(Promise::resolve(&returned))
        .await
        .map_err(|thrown| store_error(&format!("store.{method}"), thrown))
}

/// Runs `op` on the caller's store.
async fn run_custom(object: &Object, op: Op<'_>) -> Result<Vec<(String, String)>, Error> {
    let (method, args) = match op {
        Op::Get(key) => ("get", vec![key.into()]),
        Op::Put(key, value) => ("put", vec![key.into(), value.into()]),
        Op::Delete(key) => ("delete", vec![key.into()]),
        Op::List => ("list", vec![]),
    };
    let answer = call(object, method, &args).await?;
    Ok(match op {
        Op::Get(key) => found(key, answer.as_string()),
        Op::List => {
            // `[[key, value], …]`.
            let pairs: Array = answer
                .dyn_into()
                .map_err(|_| Error::store("store.list must give [[key, value], …]"))?;
            let item = |index: u32| -> Array {
                pairs
                    .iter()
                    .map(|pair| Reflect::get_u32(&pair, index).unwrap_or_default())
                    .collect()
            };
            entries(&item(0), &item(1))
        }
        Op::Put(..) | Op::Delete(_) => Vec::new(),
    })
}

impl Store for WebStore {
    // Boxed: one future for every operation, compiled once, not into each of the
    // library's calls to the store (measured: 0.9 KB gzip less than unboxed).
    fn run<'a>(
        &'a self,
        op: Op<'a>,
    ) -> impl Future<Output = Result<Vec<(String, String)>, Error>> + 'a {
        Box::pin(async move {
            match self {
                WebStore::IndexedDb(db) => db.run(op).await,
                WebStore::Custom(object) => run_custom(object, op).await,
            }
        })
    }
}
