//! The layering `src/web/mod.rs` and `src/facade/mod.rs` describe, checked on the
//! source text: the facade calls nothing in js-sys or web-sys. It may import and
//! name a few JS types to pass them through ([`NAMED`]), but it neither builds JS
//! objects nor calls methods of theirs (that is the web adapter's work, `src/web/`).
//!
//! A text check, so it is strict rather than clever: a fully qualified `js_sys::` or
//! `web_sys::` path outside a `use`, an import beyond [`NAMED`], or a call from
//! [`CALLS`] in the facade fails it.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::Path;

/// The JS types the facade may name (in signatures, fields and options).
const NAMED: &[&str] = &["Function", "Promise", "AbortSignal"];

/// What the facade must not call: constructors and methods of the JS types it
/// names, and the casts and checks of JS values the web adapter does.
const CALLS: &[&str] = &[
    "Promise::",
    "Function::",
    "AbortSignal::",
    ".call0(",
    ".call1(",
    ".call2(",
    ".call3(",
    ".apply(",
    ".bind(",
    ".then(",
    ".catch(",
    ".finally(",
    ".aborted()",
    ".throw_if_aborted(",
    ".add_event_listener",
    ".dyn_into",
    ".dyn_ref",
    ".unchecked_into",
    ".unchecked_ref",
];

/// The source of `path` without its comments (whole-line `//` comments; the facade
/// has no block comments), each line with its number.
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line))
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .collect()
}

/// What `file` breaks of the rules above, one line each.
fn violations(file: &Path) -> Vec<String> {
    let text = fs::read_to_string(file).unwrap_or_else(|error| panic!("{file:?}: {error}"));
    let mut found = Vec::new();
    let mut in_use: Option<String> = None;
    for (number, line) in code_lines(&text) {
        let at = format!("{}:{number}", file.display());
        // A `use` statement, possibly over several lines.
        let statement = match in_use.take() {
            Some(mut open) => {
                open.push_str(line.trim());
                Some(open)
            }
            None if line.trim_start().starts_with("use ")
                || line.trim_start().starts_with("pub use ") =>
            {
                Some(line.trim().to_string())
            }
            None => None,
        };
        if let Some(statement) = statement {
            if !statement.ends_with(';') {
                in_use = Some(statement);
                continue;
            }
            for krate in ["js_sys::", "web_sys::"] {
                let Some(names) = statement
                    .split_once(krate)
                    .map(|(_, names)| names.trim_end_matches(';'))
                else {
                    continue;
                };
                let names = names.trim_start_matches('{').trim_end_matches('}');
                for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    if !NAMED.contains(&name) {
                        found.push(format!("{at}: imports {krate}{name}"));
                    }
                }
            }
            continue;
        }
        for krate in ["js_sys::", "web_sys::"] {
            if line.contains(krate) {
                found.push(format!("{at}: uses {krate} directly: {}", line.trim()));
            }
        }
        for call in CALLS {
            if line.contains(call) {
                found.push(format!("{at}: calls {call}: {}", line.trim()));
            }
        }
    }
    found
}

#[test]
fn the_facade_calls_nothing_in_js_sys_or_web_sys() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/facade");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{dir:?}: {error}"))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "the facade's files: {files:?}");
    let found: Vec<String> = files.iter().flat_map(|file| violations(file)).collect();
    assert!(
        found.is_empty(),
        "the facade calls js-sys/web-sys (move the call into src/web/):\n{}",
        found.join("\n")
    );
}

/// The check itself: each kind of call it must catch, caught.
#[test]
fn the_check_catches_each_kind_of_call() {
    let dir = std::env::temp_dir().join(format!("procore-layering-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("a temporary directory");
    let cases = [
        ("use js_sys::{Function, Object};", "imports js_sys::Object"),
        (
            "use web_sys::{\n    AbortController,\n};",
            "imports web_sys::AbortController",
        ),
        ("let o = js_sys::Object::new();", "uses js_sys::"),
        ("let c = web_sys::AbortController::new();", "uses web_sys::"),
        ("let p = Promise::new(&mut |_, _| {});", "calls Promise::"),
        ("let _ = f.call1(&JsValue::UNDEFINED, &v);", "calls .call1("),
        ("if signal.aborted() {}", "calls .aborted()"),
    ];
    for (index, (code, expected)) in cases.iter().enumerate() {
        let file = dir.join(format!("case{index}.rs"));
        fs::write(&file, code).expect("a case file");
        let found = violations(&file);
        assert!(
            found.iter().any(|violation| violation.contains(expected)),
            "{code:?}: {found:?}"
        );
    }
    let file = dir.join("clean.rs");
    fs::write(
        &file,
        "use js_sys::{Function, Promise};\nuse web_sys::AbortSignal;\n// js_sys::Object::new() in a comment\nfn f(p: Promise) -> Promise { p }\n",
    )
    .expect("a case file");
    assert_eq!(violations(&file), Vec::<String>::new());
    let _ = fs::remove_dir_all(&dir);
}
