//! Access tokens from the caller: a fixed string, or `getAccessToken({ refresh })`
//! returning one (or a promise of one), called for each API request; `refresh` is
//! `true` after the API refused the previous token (401), when a cached token must
//! not be handed out again.

use js_sys::{Function, Object, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::error::js_cause;
use super::js::{describe, describe_error, set_property};
use crate::core::http::Tokens;
use crate::core::Error;

/// Where tokens come from.
#[derive(Clone, Debug)]
pub enum JsTokens {
    /// `accessToken`: the same token always; a 401 is final.
    Fixed(String),
    /// `getAccessToken`.
    Provider(Function),
}

impl Tokens for JsTokens {
    async fn token(&self, refresh: bool) -> Result<String, Error> {
        let provider = match self {
            JsTokens::Fixed(token) => return Ok(token.clone()),
            JsTokens::Provider(provider) => provider,
        };
        let failed = |message: String, thrown: Option<JsValue>| {
            let error = Error::AccessToken {
                message,
                cause: None,
            };
            match thrown {
                Some(thrown) => error.with_cause(js_cause(thrown)),
                None => error,
            }
        };
        let request = Object::new();
        set_property(&request, "refresh", &refresh.into());
        let returned = provider
            .call1(&JsValue::UNDEFINED, &request)
            .map_err(|thrown| failed(format!("threw {}", describe_error(&thrown)), Some(thrown)))?;
        let value = match returned.dyn_into::<Promise>() {
            Ok(promise) => JsFuture::from(promise).await.map_err(|thrown| {
                failed(
                    format!("rejected with {}", describe_error(&thrown)),
                    Some(thrown),
                )
            })?,
            Err(value) => value,
        };
        match value.as_string() {
            Some(token) if !token.is_empty() => Ok(token),
            _ => Err(failed(
                format!("gave {} instead of a non-empty string", describe(&value)),
                None,
            )),
        }
    }

    fn can_refresh(&self) -> bool {
        matches!(self, JsTokens::Provider(_))
    }
}
