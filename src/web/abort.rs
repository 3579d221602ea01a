//! `AbortSignal` as the core's cancellation: checks, and listeners that stop work.

use js_sys::Promise;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use crate::core::Error;

/// Fails with [`Error::Aborted`] once `signal` (if any) has been aborted.
pub fn check(signal: Option<&AbortSignal>) -> Result<(), Error> {
    match signal {
        Some(signal) if signal.aborted() => Err(Error::Aborted),
        _ => Ok(()),
    }
}

/// An `abort` listener, removed from its signal when dropped.
pub struct Listener {
    signal: AbortSignal,
    callback: Closure<dyn FnMut()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .signal
            .remove_event_listener_with_callback("abort", self.callback.as_ref().unchecked_ref());
    }
}

/// Runs `action` when `signal` aborts (at once if it already has), for as long as
/// the returned listener lives.
pub fn on_abort(signal: Option<&AbortSignal>, action: impl FnOnce() + 'static) -> Option<Listener> {
    let signal = signal?.clone();
    let mut action = Some(action);
    let mut fire = move || {
        if let Some(action) = action.take() {
            action();
        }
    };
    if signal.aborted() {
        fire();
        return None;
    }
    let callback = Closure::<dyn FnMut()>::new(fire);
    signal
        .add_event_listener_with_callback("abort", callback.as_ref().unchecked_ref())
        .ok()?;
    Some(Listener { signal, callback })
}

/// A promise rejected when `signal` aborts, with its listener.
pub fn rejected_on_abort(signal: Option<&AbortSignal>) -> Option<(Promise, Listener)> {
    let signal = signal?;
    let mut reject_slot = None;
    let promise = Promise::new(&mut |_, reject| reject_slot = Some(reject));
    let reject = reject_slot?;
    let listener = on_abort(Some(signal), move || {
        let _ = reject.call0(&wasm_bindgen::JsValue::UNDEFINED);
    });
    listener.map(|listener| (promise, listener))
}
