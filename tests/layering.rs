//! The layering `src/web/mod.rs` and `src/facade/mod.rs` describe, checked on the
//! source text: the facade calls nothing in js-sys or web-sys. It may import and
//! name a few JS types to pass them through ([`NAMED`]), but it neither builds JS
//! objects nor calls methods of theirs (that is the web adapter's work, `src/web/`).
//!
//! A text check, so it is strict rather than clever: a fully qualified `js_sys::` or
//! `web_sys::` path outside a `use`, an import beyond [`NAMED`], or a call from
//! [`CALLS`] in the facade fails it.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
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

/// The modules of the web adapter (`src/web/NAME.rs`, or the folder `src/web/NAME/`),
/// each with the other modules of it its code names: `super::NAME` in a file of
/// `src/web/` (or a folder's `mod.rs`), `super::super::NAME` in a folder's other files,
/// `crate::web::NAME` anywhere. Comment lines do not count.
fn web_imports() -> BTreeMap<String, BTreeSet<String>> {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut files = Vec::new();
    for entry in fs::read_dir(&web).unwrap_or_else(|error| panic!("{web:?}: {error}")) {
        let path = entry.expect("a directory entry").path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
            continue;
        };
        if path.is_dir() {
            for inner in fs::read_dir(&path).unwrap_or_else(|error| panic!("{path:?}: {error}")) {
                let inner = inner.expect("a directory entry").path();
                let depth = if inner.ends_with("mod.rs") { 1 } else { 2 };
                files.push((stem.clone(), inner, depth));
            }
        } else if stem != "mod" {
            files.push((stem, path, 1));
        }
    }
    let mut graph = BTreeMap::new();
    for (module, path, depth) in files {
        let text = fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path:?}: {error}"));
        let code: Vec<&str> = code_lines(&text)
            .into_iter()
            .map(|(_, line)| line)
            .collect();
        let named = named_modules(
            &code.join("\n"),
            &["super::".repeat(depth), "crate::web::".into()],
        );
        let imports: &mut BTreeSet<String> = graph.entry(module.clone()).or_default();
        imports.extend(named.into_iter().filter(|name| *name != module));
    }
    graph
}

/// The names that follow each of `prefixes` in `code` (`super` itself excluded).
fn named_modules(code: &str, prefixes: &[String]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for prefix in prefixes {
        for (at, _) in code.match_indices(prefix.as_str()) {
            // A longer chain of `super::` is not this prefix.
            if code[..at].ends_with("super::") {
                continue;
            }
            let rest = &code[at + prefix.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != "super" {
                names.insert(name);
            }
        }
    }
    names
}

/// A circle of imports in `graph`, as the modules along it (the first again at the
/// end), if there is one.
fn import_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == module) {
            let mut circle = path[start..].to_vec();
            circle.push(module.to_owned());
            return Some(circle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_owned());
        for next in graph.get(module).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(module.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|module| visit(module, graph, &mut Vec::new(), &mut done))
}

/// No two modules of the web adapter import each other, directly or around a longer
/// circle (issue 21: `web/hashing.rs` and `web/workers.rs` did; the fallback to the
/// calling thread is now `Hashing`'s, the pool only says its workers cannot start).
#[test]
fn the_web_adapter_has_no_import_circle() {
    let graph = web_imports();
    assert!(
        graph.get("hashing").is_some_and(|i| i.contains("workers")),
        "the check sees imports: {graph:?}"
    );
    assert!(
        graph.get("workers").is_some_and(|i| i.contains("blob")),
        "the check sees a folder's imports: {graph:?}"
    );
    assert_eq!(import_circle(&graph), None, "{graph:?}");
}

/// The check itself: the names each kind of path gives, and a circle found in a graph
/// that has one.
#[test]
fn the_circle_check_finds_what_it_must() {
    let code = "use super::js::f;\nuse super::super::blob::B;\nuse crate::web::error::e;\nlet x = super::timer::Timeout::start(1);";
    let top = named_modules(code, &["super::".into(), "crate::web::".into()]);
    assert_eq!(top, ["error", "js", "timer"].map(String::from).into());
    let inner = named_modules(code, &["super::super::".into(), "crate::web::".into()]);
    assert_eq!(inner, ["blob", "error"].map(String::from).into());

    let graph = |edges: &[(&str, &str)]| {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            graph
                .entry((*from).into())
                .or_default()
                .insert((*to).into());
        }
        graph
    };
    assert_eq!(
        import_circle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])),
        None
    );
    let circle = import_circle(&graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]));
    assert_eq!(
        circle,
        Some(["a", "b", "c", "a"].map(String::from).to_vec())
    );
    let two = import_circle(&graph(&[("hashing", "workers"), ("workers", "hashing")]));
    assert_eq!(
        two,
        Some(["hashing", "workers", "hashing"].map(String::from).to_vec())
    );
}

/// Each module of `src/` (`core::engine::v1`, `facade::task`, …) and the modules its
/// code names (`crate::…` and `super::…` paths, `use super::{…}` lists), resolved to
/// the deepest module that exists. A parent and its child may name each other (Rust
/// nests them); any other circle is a design fault: neither can be read or changed
/// alone.
fn module_graph() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    use std::collections::{BTreeMap, BTreeSet};
    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&root, &mut all);
    let module_of = |path: &Path| -> Vec<String> {
        let relative = path.strip_prefix(&root).expect("under src/");
        let mut parts: Vec<String> = relative
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
            parts.pop();
        }
        parts
    };
    let modules: BTreeSet<Vec<String>> = all.iter().map(|p| module_of(p)).collect();
    let deepest = |path: &[String]| -> Option<Vec<String>> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|candidate| modules.contains(candidate))
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &all {
        let module = module_of(file);
        let parent: Vec<String> = module[..module.len().saturating_sub(1)].to_vec();
        let text = fs::read_to_string(file).expect("readable");
        let mut named: Vec<Vec<String>> = Vec::new();
        for (_, line) in code_lines(&text) {
            let words: Vec<&str> = line
                .split(|c: char| {
                    !(c.is_alphanumeric() || c == '_' || c == ':' || c == '{' || c == ',')
                })
                .collect();
            for word in words {
                for start in ["crate::", "super::"] {
                    let Some(at) = word.find(start) else { continue };
                    let path = &word[at..];
                    let mut segments: Vec<&str> = path.split("::").collect();
                    let base: Vec<String> = if segments[0] == "crate" {
                        Vec::new()
                    } else {
                        parent.clone()
                    };
                    segments.remove(0);
                    // `use super::{a, b}`: each name in the list.
                    let mut lists: Vec<Vec<String>> = Vec::new();
                    let mut fixed: Vec<String> = Vec::new();
                    for segment in segments {
                        if let Some(list) = segment.strip_prefix('{') {
                            for name in list.split(',') {
                                let name = name.trim_matches(|c| c == '{' || c == '}');
                                if !name.is_empty() {
                                    let mut path = fixed.clone();
                                    path.push(name.to_string());
                                    lists.push(path);
                                }
                            }
                            break;
                        }
                        if !segment.is_empty() {
                            fixed.push(segment.to_string());
                        }
                    }
                    if lists.is_empty() {
                        lists.push(fixed);
                    }
                    for list in lists {
                        let mut full = base.clone();
                        full.extend(list);
                        named.push(full);
                    }
                }
            }
        }
        let name = module.join("::");
        for target in named.iter().filter_map(|path| deepest(path)) {
            let related = target.starts_with(&module) || module.starts_with(&target);
            if !related {
                graph
                    .entry(name.clone())
                    .or_default()
                    .insert(target.join("::"));
            }
        }
    }
    graph
}

/// No two modules of the crate import each other, across layers and folders (a parent
/// and its child aside: Rust nests them). Issue 21 found `facade::client` and
/// `facade::task` importing each other.
#[test]
fn no_module_of_the_crate_imports_one_that_imports_it() {
    let graph = module_graph();
    assert!(
        graph
            .get("facade::client")
            .is_some_and(|t| t.contains("facade::task")),
        "the graph sees `use super::…` (facade::client uses facade::task): {graph:#?}"
    );
    assert!(
        graph
            .get("core::engine::v1")
            .is_some_and(|t| t.contains("core::api")),
        "the graph sees `crate::core::…` paths: {:?}",
        graph.get("core::engine::v1")
    );
    assert_eq!(import_circle(&graph), None);
}
