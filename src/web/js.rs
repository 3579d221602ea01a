//! Small helpers for plain JS objects: reading option objects and messages with
//! every value checked, writing fresh objects, arrays and promises, calling the
//! caller's callbacks.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::core::json::Json;
use crate::core::options::check_keys;
use crate::core::Error;

/// A short description of a JS value for error messages: its type, or its
/// constructor's name for objects.
pub fn describe(value: &JsValue) -> String {
    if value.is_null() {
        return "null".into();
    }
    if value.is_object() {
        let name = Reflect::get(value, &"constructor".into())
            .and_then(|ctor| Reflect::get(&ctor, &"name".into()))
            .ok()
            .and_then(|name| name.as_string());
        return name.unwrap_or_else(|| "object".into());
    }
    value
        .js_typeof()
        .as_string()
        .unwrap_or_else(|| "unknown".into())
}

/// Largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// `value` as a whole number when it is a JS number that is an integer from 0 to
/// [`MAX_SAFE_INTEGER`]; `None` for anything else (NaN, negative, fractional, too
/// large, not a number), so no cast ever truncates or saturates.
pub fn whole_number(value: &JsValue) -> Option<u64> {
    match value.as_f64() {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked just here
        Some(n) if (0.0..=MAX_SAFE_INTEGER).contains(&n) && n.fract() == 0.0 => Some(n as u64),
        _ => None,
    }
}

/// `value` as a positive integer (an id), or `None`.
pub fn positive_integer(value: &JsValue) -> Option<u64> {
    whole_number(value).filter(|&n| n >= 1)
}

/// `value` as an index below `len`, or `None`.
pub fn index_below(value: &JsValue, len: usize) -> Option<usize> {
    whole_number(value)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n < len)
}

/// `target[key]`, or `undefined` when it cannot be read (a throwing getter).
pub fn get_property(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// The engine this page or worker runs in, from its user agent (read once).
pub fn current_engine() -> crate::core::browser::Engine {
    thread_local! {
        static ENGINE: crate::core::browser::Engine = crate::core::browser::engine_of(
            &navigator_property("userAgent")
                .as_string()
                .unwrap_or_default(),
        );
    }
    ENGINE.with(|engine| *engine)
}

/// `navigator[key]` of the page or worker; `undefined` where there is none.
pub fn navigator_property(key: &str) -> JsValue {
    get_property(&get_property(&js_sys::global(), "navigator"), key)
}

/// Sets a plain data property on an object this library created (an `Object`, an
/// `Error`): that cannot fail, so there is nothing to report.
pub fn set_property(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &key.into(), value);
}

/// A fresh plain object with these data properties, in this order.
pub fn object(properties: &[(&str, &JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in properties {
        set_property(&object, key, value);
    }
    object.into()
}

/// A plain object of those `fields` that have a value, in order: a `None` is left
/// out, as the typings' optional properties are.
pub fn object_of(fields: &[(&str, Option<JsValue>)]) -> JsValue {
    let object = Object::new();
    for (key, value) in fields {
        if let Some(value) = value {
            set_property(&object, key, value);
        }
    }
    object.into()
}

/// A whole number for JS (a byte count or offset, a segment count, a job id): all
/// are below 2^53, so exact as a `Number`.
pub fn number(n: u64) -> JsValue {
    #[allow(clippy::cast_precision_loss)]
    JsValue::from(n as f64)
}

/// A fresh array of `items`, in order.
pub fn array(items: impl IntoIterator<Item = JsValue>) -> JsValue {
    items.into_iter().collect::<Array>().into()
}

/// The items of an array or of an array-like such as a `FileList` (an object
/// with a whole-number `length`); `None` for anything else.
pub fn list_items(value: &JsValue) -> Option<Vec<JsValue>> {
    if Array::is_array(value) {
        return Some(value.unchecked_ref::<Array>().iter().collect());
    }
    if value.is_object() && !value.is_function() {
        whole_number(&get_property(value, "length"))?;
        return Some(Array::from(value).iter().collect());
    }
    None
}

/// `JSON.parse(text)` for JSON this library wrote; `None` if JS refuses it.
pub fn from_json(text: &str) -> Option<JsValue> {
    js_sys::JSON::parse(text).ok()
}

/// A promise already resolved to `undefined`.
pub fn resolved() -> Promise {
    Promise::resolve(&JsValue::UNDEFINED)
}

/// The two functions that settle a promise made by [`deferred`]. Settling twice,
/// or a settle function that throws, changes nothing: there is nothing to report.
pub struct Settle {
    resolve: Function,
    reject: Function,
}

impl Settle {
    /// Resolves the promise with `value`.
    pub fn resolve(&self, value: &JsValue) {
        let _ = self.resolve.call1(&JsValue::UNDEFINED, value);
    }

    /// Rejects the promise with `error`.
    pub fn reject(&self, error: &JsValue) {
        let _ = self.reject.call1(&JsValue::UNDEFINED, error);
    }
}

/// A pending promise and what settles it (`Promise.withResolvers()`, which older
/// browsers lack). The settle side is `None` only if `Promise` did not call its
/// executor at once, which no conforming one does.
pub fn deferred() -> (Promise, Option<Settle>) {
    let mut settle = None;
    let promise = Promise::new(&mut |resolve, reject| settle = Some(Settle { resolve, reject }));
    (promise, settle)
}

/// Calls a caller's listener (`name`, such as `onProgress`) with `value` the way the
/// DOM calls an event listener: an exception it throws is reported (see
/// [`report_callback_error`]), and the work goes on.
pub fn call_listener(listener: &Function, name: &str, value: &JsValue) {
    if let Err(thrown) = listener.call1(&JsValue::UNDEFINED, value) {
        report_callback_error(name, &thrown);
    }
}

/// [`call_listener`] with two arguments (`onFileProgress(path, progress)`).
pub fn call_listener2(listener: &Function, name: &str, first: &JsValue, second: &JsValue) {
    if let Err(thrown) = listener.call2(&JsValue::UNDEFINED, first, second) {
        report_callback_error(name, &thrown);
    }
}

/// A number as JS writes it (`String(n)`): JS does the formatting, so Rust's float
/// formatting (kilobytes of wasm) stays out of the package.
pub fn number_text(n: f64) -> String {
    js_sys::Number::from(n)
        .to_string_with_radix(10)
        .map(String::from)
        .unwrap_or_default()
}

/// A query or header value as text: a string as is, a finite number or a boolean
/// as JS writes it; anything else is `None`.
fn scalar_text(value: &JsValue) -> Option<String> {
    if let Some(text) = value.as_string() {
        return Some(text);
    }
    if let Some(flag) = value.as_bool() {
        return Some(flag.to_string());
    }
    value.as_f64().filter(|n| n.is_finite()).map(number_text)
}

/// The own enumerable properties of a plain object as name/text pairs, in order
/// (`{ a: 1, b: [2, 3] }` → a=1, b=2, b=3 when `arrays`; `undefined` values are
/// left out). `what` names the object in errors.
pub fn text_pairs(
    value: &JsValue,
    what: &str,
    arrays: bool,
) -> Result<Vec<(String, String)>, Error> {
    if !value.is_object() || value.is_array() {
        return Err(Error::InvalidInput(format!(
            "{what} must be an object, got {}",
            describe(value)
        )));
    }
    let mut pairs = Vec::new();
    for entry in Object::entries(value.unchecked_ref::<Object>()).iter() {
        let pair = js_sys::Array::from(&entry);
        let (Some(name), item) = (pair.get(0).as_string(), pair.get(1)) else {
            continue;
        };
        if item.is_undefined() {
            continue;
        }
        let items: Vec<JsValue> = if arrays && item.is_array() {
            js_sys::Array::from(&item).iter().collect()
        } else {
            vec![item]
        };
        for item in items {
            let text = scalar_text(&item).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "{what}.{name} must be a string, a finite number or a boolean{}, got {}",
                    if arrays { " (or an array of them)" } else { "" },
                    describe(&item)
                ))
            })?;
            pairs.push((name.clone(), text));
        }
    }
    Ok(pairs)
}

/// `JSON.stringify(value)`, or [`Error::InvalidInput`] for what JSON cannot hold
/// (a cycle, a BigInt, a function).
pub fn json_text(value: &JsValue, what: &str) -> Result<String, Error> {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "{what} cannot be sent as JSON ({})",
                describe(value)
            ))
        })
}

/// `raw` as JSON data (`JSON.stringify`, then parsed); `undefined` and `null` are an
/// empty object. A key of `raw` whose value JSON leaves out without a word (a
/// function, a symbol) is [`Error::InvalidInput`]: a callback given to a call that
/// takes none is not silently dropped.
pub fn json_data(raw: &JsValue, what: &'static str) -> Result<Json, Error> {
    if raw.is_undefined() || raw.is_null() {
        return Ok(Json::object());
    }
    let value = Json::parse(&json_text(raw, what)?)
        .map_err(|error| Error::InvalidInput(format!("{what} is not JSON data: {error}")))?;
    if value.as_object().is_some() {
        for key in Options::new(raw, what)?.keys() {
            if value.get(&key).is_none() {
                return Err(Error::InvalidInput(format!(
                    "{what}.{key} cannot be sent as JSON ({})",
                    describe(&get_property(raw, &key))
                )));
            }
        }
    }
    Ok(value)
}

/// An answer's body as JS data: `JSON.parse` of it, `null` when it is empty (204).
/// A body that is not JSON is [`Error::Protocol`].
pub fn parse_json_answer(body: &str) -> Result<JsValue, Error> {
    if body.trim().is_empty() {
        return Ok(JsValue::NULL);
    }
    js_sys::JSON::parse(body).map_err(|thrown| {
        Error::Protocol(format!(
            "the answer is not JSON ({})",
            describe_error(&thrown)
        ))
    })
}

/// A fresh random token (an `Idempotency-Token`): `crypto.randomUUID()` where the
/// page has it (secure contexts), else 128 random bits in hex.
pub fn random_token() -> String {
    let crypto = get_property(&js_sys::global(), "crypto");
    let call = |method: &str, arg: Option<&JsValue>| -> Option<JsValue> {
        let function = get_property(&crypto, method).dyn_into::<Function>().ok()?;
        match arg {
            Some(arg) => function.call1(&crypto, arg),
            None => function.call0(&crypto),
        }
        .ok()
    };
    if let Some(uuid) = call("randomUUID", None).and_then(|uuid| uuid.as_string()) {
        return uuid;
    }
    let bytes = js_sys::Uint8Array::new_with_length(16);
    if call("getRandomValues", Some(&bytes)).is_none() {
        // No crypto at all: Math.random, unique enough for one call's retries.
        for index in 0..16 {
            let byte = whole_number(&(js_sys::Math::random() * 256.0).floor().into());
            bytes.set_index(index, byte.and_then(|b| u8::try_from(b).ok()).unwrap_or(0));
        }
    }
    crate::core::hash::to_hex(&bytes.to_vec())
}

/// An options object: `undefined` or `null` mean "all defaults".
pub struct Options<'a> {
    raw: Option<&'a JsValue>,
    what: &'static str,
}

impl<'a> Options<'a> {
    /// Checks that `raw` is an object, `undefined` or `null`.
    pub fn new(raw: &'a JsValue, what: &'static str) -> Result<Self, Error> {
        if raw.is_undefined() || raw.is_null() {
            return Ok(Self { raw: None, what });
        }
        if !raw.is_object() {
            return Err(Error::InvalidInput(format!(
                "{what} must be an object, got {}",
                describe(raw)
            )));
        }
        Ok(Self {
            raw: Some(raw),
            what,
        })
    }

    /// The keys given: own, enumerable, their value not `undefined` (which counts
    /// as absent, as in JSON).
    pub fn keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        let Some(raw) = self.raw else { return keys };
        for key in Object::keys(raw.unchecked_ref::<Object>()).iter() {
            if let Some(key) = key.as_string() {
                if !get_property(raw, &key).is_undefined() {
                    keys.push(key);
                }
            }
        }
        keys
    }

    /// Refuses a key not in `known`: a misspelled option is [`Error::InvalidInput`]
    /// naming it and the known name it looks like ([`check_keys`]), not silently
    /// left unused. Every options reader calls it.
    pub fn known(&self, known: &[&'static str]) -> Result<(), Error> {
        self.known_else(known, "")
    }

    /// [`Options::known`], saying `hint` after a key that looks like no known name
    /// (what the call takes, where another call's option is a likely mistake).
    pub fn known_else(&self, known: &[&'static str], hint: &str) -> Result<(), Error> {
        let keys = self.keys();
        let mut given = Vec::with_capacity(keys.len());
        for key in &keys {
            given.push(key.as_str());
        }
        check_keys(self.what, &given, known, hint)
    }

    /// The raw value of `key` (`None` when undefined).
    pub fn get(&self, key: &str) -> Result<Option<JsValue>, Error> {
        let Some(raw) = self.raw else { return Ok(None) };
        let value = Reflect::get(raw, &key.into())
            .map_err(|_| Error::InvalidInput(format!("{}.{key} could not be read", self.what)))?;
        Ok((!value.is_undefined()).then_some(value))
    }

    /// The error for `key` holding `got` where `expected` was wanted.
    pub fn invalid(&self, key: &str, expected: &str, got: &JsValue) -> Error {
        Error::InvalidInput(format!(
            "{}.{key} must be {expected}, got {}",
            self.what,
            describe(got)
        ))
    }

    /// A boolean option.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, Error> {
        self.get(key)?
            .map(|value| {
                value
                    .as_bool()
                    .ok_or_else(|| self.invalid(key, "a boolean", &value))
            })
            .transpose()
    }

    /// A string option.
    pub fn string(&self, key: &str) -> Result<Option<String>, Error> {
        self.get(key)?
            .map(|value| {
                value
                    .as_string()
                    .ok_or_else(|| self.invalid(key, "a string", &value))
            })
            .transpose()
    }

    /// A non-negative integer option (exact in a JS number, so below 2^53).
    pub fn whole_number(&self, key: &str) -> Result<Option<u64>, Error> {
        self.get(key)?
            .map(|value| {
                whole_number(&value)
                    .ok_or_else(|| self.invalid(key, "a non-negative integer", &value))
            })
            .transpose()
    }

    /// A positive integer option (an id).
    pub fn positive_id(&self, key: &str) -> Result<Option<u64>, Error> {
        self.get(key)?
            .map(|value| {
                positive_integer(&value)
                    .ok_or_else(|| self.invalid(key, "a positive integer", &value))
            })
            .transpose()
    }

    /// A function option.
    pub fn function(&self, key: &str) -> Result<Option<Function>, Error> {
        self.get(key)?
            .map(|value| {
                value
                    .dyn_into::<Function>()
                    .map_err(|value| self.invalid(key, "a function", &value))
            })
            .transpose()
    }

    /// An option that must be an array of strings.
    pub fn strings(&self, key: &str) -> Result<Option<Vec<String>>, Error> {
        let Some(value) = self.get(key)? else {
            return Ok(None);
        };
        if !Array::is_array(&value) {
            return Err(self.invalid(key, "an array of strings", &value));
        }
        let mut list = Vec::new();
        for item in value.unchecked_into::<Array>().iter() {
            match item.as_string() {
                Some(text) => list.push(text),
                None => return Err(self.invalid(key, "an array of strings", &item)),
            }
        }
        Ok(Some(list))
    }

    /// An option that must be an instance of `T` (checked with `instanceof`).
    pub fn instance<T: JsCast>(&self, key: &str, expected: &str) -> Result<Option<T>, Error> {
        self.get(key)?
            .map(|value| {
                value
                    .dyn_into::<T>()
                    .map_err(|value| self.invalid(key, expected, &value))
            })
            .transpose()
    }
}

/// Reports an exception thrown by a caller's callback on the console, the way the
/// DOM reports one thrown by an event listener, without failing our own work.
pub fn report_callback_error(callback: &str, thrown: &JsValue) {
    web_sys::console::error_2(&format!("procore-upload: {callback} threw").into(), thrown);
}

/// `name: message` of a thrown `Error`, or a description of anything else thrown.
pub fn describe_error(thrown: &JsValue) -> String {
    match thrown.dyn_ref::<js_sys::Error>() {
        Some(error) => format!(
            "{}: {}",
            String::from(error.name()),
            String::from(error.message())
        ),
        None => thrown.as_string().unwrap_or_else(|| describe(thrown)),
    }
}
