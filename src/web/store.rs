//! Where upload states are kept in the browser: IndexedDB (one database, one object
//! store, the state's JSON text under its fingerprint; no file bytes), or a store
//! the integrator passes (`{ get, put, delete, list }`, each may return a promise).
//! Either is seen through [`OwnKeys`]: the library touches no key outside its prefix.

use std::cell::RefCell;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbFactory, IdbObjectStore, IdbRequest, IdbTransactionMode};

use super::error::js_cause;
use super::js::{describe_error, get_property};
use crate::core::state::{OwnKeys, Store};
use crate::core::Error;

/// The database and object store names.
pub const DATABASE: &str = "procore-upload";
const STATES: &str = "states";

/// A store of states in the browser, narrowed to the library's keys.
pub struct WebStore(OwnKeys<Backend>);

/// Where the states are: every key of it, the app's included.
enum Backend {
    /// IndexedDB, opened on first use.
    IndexedDb(RefCell<Option<IdbDatabase>>),
    /// The caller's `{ get, put, delete, list }`.
    Custom(Object),
}

fn store_error(what: &str, thrown: JsValue) -> Error {
    Error::store(format!("{what}: {}", describe_error(&thrown))).with_cause(js_cause(thrown))
}

/// Resolves with the request's result once it succeeds; rejects with its error.
async fn request_done(request: &IdbRequest, what: &str) -> Result<JsValue, Error> {
    let mut slots = None;
    let promise = Promise::new(&mut |resolve, reject| slots = Some((resolve, reject)));
    let (resolve, reject) =
        slots.ok_or_else(|| Error::store("a Promise did not call its executor"))?;
    let target = request.clone();
    // One callback for both events: called once, so it frees itself.
    let settle = Closure::once_into_js(move |event: web_sys::Event| {
        if event.type_() == "success" {
            let result = target.result().unwrap_or(JsValue::UNDEFINED);
            let _ = resolve.call1(&JsValue::UNDEFINED, &result);
        } else {
            let error = target
                .error()
                .ok()
                .flatten()
                .map_or(JsValue::UNDEFINED, JsValue::from);
            let _ = reject.call1(&JsValue::UNDEFINED, &error);
        }
    });
    let settle: &Function = settle.unchecked_ref();
    request.set_onsuccess(Some(settle));
    request.set_onerror(Some(settle));
    JsFuture::from(promise)
        .await
        .map_err(|thrown| store_error(what, thrown))
}

impl WebStore {
    /// IndexedDB where this global has it.
    pub fn indexed_db() -> Option<Self> {
        let factory = Reflect::get(&js_sys::global(), &"indexedDB".into()).ok()?;
        factory
            .dyn_into::<IdbFactory>()
            .ok()
            .map(|_| WebStore(OwnKeys(Backend::IndexedDb(RefCell::new(None)))))
    }

    /// The caller's store: an object with `get`, `put`, `delete` and `list` methods.
    pub fn custom(object: &JsValue) -> Result<Self, Error> {
        let methods = ["get", "put", "delete", "list"];
        let object = object.dyn_ref::<Object>().filter(|object| {
            methods
                .iter()
                .all(|name| get_property(object, name).is_function())
        });
        object
            .map(|o| WebStore(OwnKeys(Backend::Custom(o.clone()))))
            .ok_or_else(|| {
                Error::InvalidInput(
                "options.store must be false or an object with get, put, delete and list methods"
                    .into(),
            )
            })
    }
}

impl Store for WebStore {
    async fn get(&self, key: &str) -> Result<Option<String>, Error> {
        self.0.get(key).await
    }
    async fn put(&self, key: &str, value: &str) -> Result<(), Error> {
        self.0.put(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.0.delete(key).await
    }
    async fn list(&self) -> Result<Vec<(String, String)>, Error> {
        self.0.list().await
    }
}

impl Backend {
    async fn database(&self) -> Result<Option<IdbDatabase>, Error> {
        let Backend::IndexedDb(slot) = self else {
            return Ok(None);
        };
        if let Some(db) = slot.borrow().as_ref() {
            return Ok(Some(db.clone()));
        }
        let factory: IdbFactory = Reflect::get(&js_sys::global(), &"indexedDB".into())
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or_else(|| Error::store("indexedDB is not available"))?;
        let open = factory
            .open_with_u32(DATABASE, 1)
            .map_err(|thrown| store_error("indexedDB.open", thrown))?;
        let upgrade = Closure::<dyn FnMut(web_sys::Event)>::new({
            let open = open.clone();
            move |_| {
                if let Ok(result) = open.result() {
                    if let Ok(db) = result.dyn_into::<IdbDatabase>() {
                        if !db.object_store_names().contains(STATES) {
                            let _ = db.create_object_store(STATES);
                        }
                    }
                }
            }
        });
        open.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let opened = request_done(&open, "indexedDB.open").await;
        open.set_onupgradeneeded(None);
        drop(upgrade);
        let db: IdbDatabase = opened?
            .dyn_into()
            .map_err(|_| Error::store("indexedDB.open gave no database"))?;
        *slot.borrow_mut() = Some(db.clone());
        Ok(Some(db))
    }

    fn object_store(db: &IdbDatabase, mode: IdbTransactionMode) -> Result<IdbObjectStore, Error> {
        db.transaction_with_str_and_mode(STATES, mode)
            .and_then(|tx| tx.object_store(STATES))
            .map_err(|thrown| store_error("indexedDB transaction", thrown))
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
}

impl Store for Backend {
    async fn get(&self, key: &str) -> Result<Option<String>, Error> {
        let value = match self {
            Backend::Custom(object) => Self::call(object, "get", &[key.into()]).await?,
            Backend::IndexedDb(_) => {
                let Some(db) = self.database().await? else {
                    return Ok(None);
                };
                let store = Self::object_store(&db, IdbTransactionMode::Readonly)?;
                let request = store
                    .get(&key.into())
                    .map_err(|thrown| store_error("indexedDB get", thrown))?;
                request_done(&request, "indexedDB get").await?
            }
        };
        Ok(value.as_string())
    }

    async fn put(&self, key: &str, value: &str) -> Result<(), Error> {
        match self {
            Backend::Custom(object) => {
                Self::call(object, "put", &[key.into(), value.into()]).await?;
            }
            Backend::IndexedDb(_) => {
                let Some(db) = self.database().await? else {
                    return Ok(());
                };
                let store = Self::object_store(&db, IdbTransactionMode::Readwrite)?;
                let request = store
                    .put_with_key(&value.into(), &key.into())
                    .map_err(|thrown| store_error("indexedDB put", thrown))?;
                request_done(&request, "indexedDB put").await?;
            }
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        match self {
            Backend::Custom(object) => {
                Self::call(object, "delete", &[key.into()]).await?;
            }
            Backend::IndexedDb(_) => {
                let Some(db) = self.database().await? else {
                    return Ok(());
                };
                let store = Self::object_store(&db, IdbTransactionMode::Readwrite)?;
                let request = store
                    .delete(&key.into())
                    .map_err(|thrown| store_error("indexedDB delete", thrown))?;
                request_done(&request, "indexedDB delete").await?;
            }
        }
        Ok(())
    }

    async fn list(&self) -> Result<Vec<(String, String)>, Error> {
        let (keys, values) = match self {
            Backend::Custom(object) => {
                // `[[key, value], …]`.
                let listed = Self::call(object, "list", &[]).await?;
                let pairs: Array = listed
                    .dyn_into()
                    .map_err(|_| Error::store("store.list must give [[key, value], …]"))?;
                let keys: Array = pairs
                    .iter()
                    .map(|pair| Reflect::get(&pair, &0.into()).unwrap_or_default())
                    .collect();
                let values: Array = pairs
                    .iter()
                    .map(|pair| Reflect::get(&pair, &1.into()).unwrap_or_default())
                    .collect();
                (keys, values)
            }
            Backend::IndexedDb(_) => {
                let Some(db) = self.database().await? else {
                    return Ok(Vec::new());
                };
                let store = Self::object_store(&db, IdbTransactionMode::Readonly)?;
                let keys = store
                    .get_all_keys()
                    .map_err(|thrown| store_error("indexedDB getAllKeys", thrown))?;
                let values = store
                    .get_all()
                    .map_err(|thrown| store_error("indexedDB getAll", thrown))?;
                let keys = request_done(&keys, "indexedDB getAllKeys").await?;
                let values = request_done(&values, "indexedDB getAll").await?;
                let array = |value: JsValue| {
                    value
                        .dyn_into::<Array>()
                        .map_err(|_| Error::store("indexedDB getAll gave no array"))
                };
                (array(keys)?, array(values)?)
            }
        };
        // Entries that are not text are someone else's: left out (and so never parsed).
        Ok(keys
            .iter()
            .zip(values.iter())
            .filter_map(|(key, value)| Some((key.as_string()?, value.as_string()?)))
            .collect())
    }
}
