//! Timers: `setTimeout` as a future that clears its timer when dropped (as gloo's
//! `TimeoutFuture` does), and the monotonic clock.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, millis: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
    /// `performance.now()`: monotonic, in windows and workers alike.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Milliseconds on the monotonic clock: unlike `Date.now()` it never jumps when
/// the wall clock is set.
pub fn now_ms() -> f64 {
    performance_now()
}

/// Milliseconds since 1970 (`Date.now()`).
pub fn wall_clock_ms() -> u64 {
    // Date.now() is a whole, positive number of ms far below 2^53.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let now = js_sys::Date::now().max(0.0) as u64;
    now
}

/// A `setTimeout` of its own; dropping it before it fires clears the timer.
pub struct Timeout {
    id: Rc<Cell<JsValue>>,
    fired: JsFuture,
}

impl Timeout {
    /// Starts a timer of `millis` milliseconds.
    pub fn start(millis: u64) -> Self {
        let id = Rc::new(Cell::new(JsValue::UNDEFINED));
        let slot = id.clone();
        // Timer delays are far below 2^53 ms; f64 holds them exactly.
        #[allow(clippy::cast_precision_loss)]
        let delay = millis as f64;
        let promise = Promise::new(&mut |resolve, _| slot.set(set_timeout(&resolve, delay)));
        Self {
            id,
            fired: JsFuture::from(promise),
        }
    }

    /// Completes when the timer fires.
    pub async fn wait(&mut self) {
        let _ = (&mut self.fired).await;
        self.id.set(JsValue::UNDEFINED);
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        let id = self.id.take();
        if !id.is_undefined() {
            clear_timeout(&id);
        }
    }
}
