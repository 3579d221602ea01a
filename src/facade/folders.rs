//! Folder uploads' options in (issue 23): what `entriesFromDataTransfer` and
//! `uploadFolder` leave out.

use wasm_bindgen::prelude::*;

use crate::core::folders::plan::DEFAULT_IGNORE;
use crate::core::Error;
use crate::web::error::to_js_error;
use crate::web::js::{array, Options};

/// `options.ignore` as given: the names left out (`None`: the defaults).
pub(super) fn read_ignore(options: &Options<'_>) -> Result<Option<Vec<String>>, Error> {
    options.strings("ignore")
}

/// `ignoredNames(options)`, for `entriesFromDataTransfer` in `index.js`: checks its
/// options (`{ ignore? }`, any other key is INVALID_INPUT) and gives the names it
/// leaves out, the defaults when `ignore` is absent. The same list and rule as
/// `uploadFolder` ([`crate::core::folders::plan::is_ignored`]).
#[wasm_bindgen(js_name = ignoredNames, skip_typescript)]
pub fn ignored_names(options: JsValue) -> Result<JsValue, JsValue> {
    let read = || -> Result<Vec<String>, Error> {
        let options = Options::new(&options, "options")?;
        options.known(&["ignore"])?;
        Ok(read_ignore(&options)?
            .unwrap_or_else(|| DEFAULT_IGNORE.iter().map(|name| name.to_string()).collect()))
    };
    read()
        .map(|names| array(names.into_iter().map(JsValue::from)))
        .map_err(|error| to_js_error(&error))
}
