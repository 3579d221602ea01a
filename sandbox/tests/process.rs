//! The sandbox binary as tests run it: stopped with SIGTERM, it removes the embedded
//! store's temporary folder (a killed process would leave every stored byte behind).
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn sigterm_removes_the_embedded_store() {
    let tmp = std::env::temp_dir().join(format!("sandbox-process-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_procore-sandbox"))
        .args(["--port", "0"])
        .env("TMPDIR", &tmp)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let printed: Vec<String> = (0..2).map(|_| lines.next().unwrap().unwrap()).collect();
    assert!(printed[1].starts_with("storage: "), "{printed:?}");
    let store: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert_eq!(store.len(), 1, "the embedded store lives under TMPDIR");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "a clean exit on SIGTERM: {status:?}");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "the store folder is gone: {left:?}");
    std::fs::remove_dir_all(&tmp).unwrap();
}
