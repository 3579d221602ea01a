//! Which engine these tests run in, so that a run meant for one engine cannot pass
//! in another unseen: the WebKit run goes through the test runner's geckodriver slot,
//! whose log says "Firefox" whatever the driver starts.

use procore_upload::core::browser::{engine_of, Engine};
use procore_upload::web::js::navigator_property;
use wasm_bindgen_test::wasm_bindgen_test;

/// `PROCORE_TEST_ENGINE` (chromium, firefox or webkit), set by `scripts/test` for each
/// run when this test is compiled: the engine the user agent must name.
const EXPECTED: Option<&str> = option_env!("PROCORE_TEST_ENGINE");

#[wasm_bindgen_test]
fn runs_in_the_engine_the_run_asked_for() {
    let expected = match EXPECTED {
        Some("chromium") => Engine::Blink,
        Some("firefox") => Engine::Gecko,
        Some("webkit") => Engine::WebKit,
        other => panic!(
            "PROCORE_TEST_ENGINE must be chromium, firefox or webkit when the browser \
             tests are built (scripts/test sets it), not {other:?}"
        ),
    };
    let user_agent = navigator_property("userAgent")
        .as_string()
        .unwrap_or_default();
    assert_eq!(engine_of(&user_agent), expected, "user agent: {user_agent}");
}
