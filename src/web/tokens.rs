//! Access tokens from the caller: a fixed string, or a function returning one (or a
//! promise of one), called for each API request and again after a 401.

use js_sys::{Function, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::core::http::Tokens;
use crate::core::Error;

/// Where tokens come from.
#[derive(Clone, Debug)]
pub enum JsTokens {
    /// `accessToken`.
    Fixed(String),
    /// `getAccessToken`.
    Provider(Function),
}

impl Tokens for JsTokens {
    async fn token(&self, _refresh: bool) -> Result<String, Error> {
        let provider = match self {
            JsTokens::Fixed(token) => return Ok(token.clone()),
            JsTokens::Provider(provider) => provider,
        };
        let failed = |why: String| Error::Unauthorized {
            url: "getAccessToken()".into(),
            body: why,
        };
        let returned = provider
            .call0(&JsValue::UNDEFINED)
            .map_err(|thrown| failed(format!("it threw {}", super::js::describe_error(&thrown))))?;
        let value = match returned.dyn_into::<Promise>() {
            Ok(promise) => JsFuture::from(promise).await.map_err(|thrown| {
                failed(format!(
                    "it rejected with {}",
                    super::js::describe_error(&thrown)
                ))
            })?,
            Err(value) => value,
        };
        match value.as_string() {
            Some(token) if !token.is_empty() => Ok(token),
            _ => Err(failed(format!(
                "it gave {} instead of a non-empty string",
                super::js::describe(&value)
            ))),
        }
    }
}
