//! `AbortSignal` as the core's cancellation check.

use web_sys::AbortSignal;

use crate::core::Error;

/// Fails with [`Error::Aborted`] once `signal` (if any) has been aborted.
pub fn check(signal: Option<&AbortSignal>) -> Result<(), Error> {
    match signal {
        Some(signal) if signal.aborted() => Err(Error::Aborted),
        _ => Ok(()),
    }
}
