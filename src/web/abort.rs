//! `AbortSignal` as the core's cancellation: checks, listeners that stop work, and
//! a future that resolves when the signal fires.

use std::future::pending;

use js_sys::Promise;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use crate::core::Error;

/// Fails with [`Error::Aborted`] once `signal` (if any) has been aborted.
pub fn check(signal: Option<&AbortSignal>) -> Result<(), Error> {
    match signal {
        Some(signal) if signal.aborted() => Err(Error::Aborted),
        _ => Ok(()),
    }
}

/// `options.signal` when it is an `AbortSignal`, else `None` (the call reads and
/// checks its options itself): the signal whose `reason` an abort rejects with.
pub fn signal_option(options: &JsValue) -> Option<AbortSignal> {
    super::js::get_property(options, "signal").dyn_into().ok()
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

/// Runs `action` when `signal` aborts, for as long as the returned listener lives.
///
/// `Ok(None)`: nothing to listen to, because there is no signal or because it had
/// already aborted, in which case `action` ran at once.
pub fn on_abort(
    signal: Option<&AbortSignal>,
    action: impl FnOnce() + 'static,
) -> Result<Option<Listener>, Error> {
    listen(signal, Box::new(action))
}

/// [`on_abort`] with the action boxed: one copy of the listener's code in the
/// package for every kind of action (measured: a smaller package).
fn listen(
    signal: Option<&AbortSignal>,
    action: Box<dyn FnOnce()>,
) -> Result<Option<Listener>, Error> {
    let Some(signal) = signal else {
        return Ok(None);
    };
    let mut action = Some(action);
    let mut fire = move || {
        if let Some(action) = action.take() {
            action();
        }
    };
    if signal.aborted() {
        fire();
        return Ok(None);
    }
    let callback = Closure::<dyn FnMut()>::new(fire);
    signal
        .add_event_listener_with_callback("abort", callback.as_ref().unchecked_ref())
        .map_err(|thrown| {
            Error::Protocol(format!(
                "could not listen to the AbortSignal: {}",
                super::js::describe_error(&thrown)
            ))
        })?;
    Ok(Some(Listener {
        signal: signal.clone(),
        callback,
    }))
}

/// Resolves when a signal aborts; never without a signal. Stops listening when
/// dropped.
pub struct AbortWatch {
    watching: Option<(JsFuture, Listener)>,
}

impl AbortWatch {
    /// Watches `signal`; [`Error::Aborted`] at once when it has already aborted.
    pub fn new(signal: Option<&AbortSignal>) -> Result<Self, Error> {
        check(signal)?;
        let Some(signal) = signal else {
            return Ok(Self { watching: None });
        };
        let mut resolve_slot = None;
        let promise = Promise::new(&mut |resolve, _| resolve_slot = Some(resolve));
        let resolve = resolve_slot
            .ok_or_else(|| Error::Protocol("a Promise did not call its executor".into()))?;
        let listener = on_abort(Some(signal), move || {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        })?
        // Not yet aborted (checked above), so a listener was added.
        .ok_or(Error::Aborted)?;
        Ok(Self {
            watching: Some((JsFuture::from(promise), listener)),
        })
    }

    /// Completes once the signal aborts (await it only once, inside a `select`).
    pub async fn fired(&mut self) {
        match &mut self.watching {
            Some((fired, _)) => {
                let _ = fired.await;
            }
            None => pending().await,
        }
    }
}

/// An `AbortController` of this library's own (a run of an upload task, a client's
/// `close()`): the facade holds these and never the raw controller.
#[derive(Clone)]
pub struct Controller(web_sys::AbortController);

impl Controller {
    /// A fresh controller, not aborted.
    pub fn new() -> Result<Self, Error> {
        web_sys::AbortController::new().map(Self).map_err(|thrown| {
            Error::Protocol(format!(
                "could not make an AbortController: {}",
                super::js::describe_error(&thrown)
            ))
        })
    }

    /// Aborts its signal (again: nothing happens).
    pub fn abort(&self) {
        self.0.abort();
    }

    /// Its signal.
    pub fn signal(&self) -> AbortSignal {
        self.0.signal()
    }

    /// Whether it has aborted.
    pub fn is_aborted(&self) -> bool {
        self.0.signal().aborted()
    }
}

/// A signal that aborts when either of two does (`AbortSignal.any`, which older
/// browsers lack); listens for as long as it lives.
pub struct Either {
    controller: Controller,
    _listeners: [Option<Listener>; 2],
}

impl Either {
    /// Aborts when `first` (if any) or `second` aborts.
    pub fn new(first: Option<&AbortSignal>, second: &AbortSignal) -> Result<Self, Error> {
        let controller = Controller::new()?;
        let abort = |controller: &Controller| {
            let controller = controller.clone();
            move || controller.abort()
        };
        let listeners = [
            on_abort(first, abort(&controller))?,
            on_abort(Some(second), abort(&controller))?,
        ];
        Ok(Self {
            controller,
            _listeners: listeners,
        })
    }

    /// The combined signal.
    pub fn signal(&self) -> AbortSignal {
        self.controller.signal()
    }

    /// Whether either signal has aborted.
    pub fn is_aborted(&self) -> bool {
        self.controller.is_aborted()
    }
}
