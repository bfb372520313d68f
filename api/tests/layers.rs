//! The layers of api/src point one way (ARCHITECTURE.md, "Layers"):
//!
//! ```text
//! http (handlers) ──▶ domain ◀── jobs
//!                       │         │
//!                       ▼         ▼
//!              providers ──▶ exec (runners, execution log, network policy)
//! ```
//!
//! Handlers parse, authorize, call the domain and map answers; the domain holds the rules; jobs
//! orchestrate domain calls in the background; provider adapters and runners sit below and never
//! reach up. This test reads the sources and fails on an import against that direction, and on a
//! handler module that queries entities.

use std::path::{Path, PathBuf};

fn sources(folder: &str) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(folder);
    let mut found = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                // Comments may name other layers ("see `crate::jobs`"); only code counts.
                let code = std::fs::read_to_string(&path)
                    .unwrap()
                    .lines()
                    .filter(|line| !line.trim_start().starts_with("//"))
                    .collect::<Vec<_>>()
                    .join("\n");
                found.push((path, code));
            }
        }
    }
    assert!(!found.is_empty(), "no sources under src/{folder}");
    found
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn no_layer_imports_a_layer_above_it() {
    let rules: [(&str, &[&str]); 4] = [
        (
            "exec",
            &[
                "crate::domain",
                "crate::http",
                "crate::jobs",
                "crate::providers",
            ],
        ),
        (
            "providers",
            &["crate::domain", "crate::http", "crate::jobs"],
        ),
        ("domain", &["crate::http", "crate::jobs"]),
        ("jobs", &["crate::http"]),
    ];
    let mut wrong = Vec::new();
    for (folder, forbidden) in rules {
        for (path, code) in sources(folder) {
            for above in forbidden {
                if code.contains(&format!("{above}::")) || code.contains(&format!("{above};")) {
                    wrong.push(format!("src/{folder}/{} imports {above}", file_name(&path)));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn handlers_leave_entity_queries_to_the_domain() {
    let querying: Vec<String> = sources("http")
        .into_iter()
        .filter(|(_, code)| code.contains("entities::") || code.contains("Entity::"))
        .map(|(path, _)| file_name(&path))
        .collect();
    assert!(
        querying.is_empty(),
        "handler modules querying entities (move the queries into domain/): {querying:?}"
    );
}

/// A newcomer reads a file whole: no source file of the workspace grows past ~700 lines (split
/// by topic into a folder instead, as `domain/deployments/` is). Tests are left out: a scenario
/// file reads top to bottom.
#[test]
fn no_source_file_is_longer_than_a_reader_can_hold() {
    const MAX_LINES: usize = 700;
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut too_long = Vec::new();
    for crate_src in [
        "api/src",
        "shared/src",
        "web/src",
        "bench/src",
        "migrations/src",
    ] {
        let mut stack = vec![workspace.join(crate_src)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
                    if lines > MAX_LINES {
                        too_long.push(format!("{}: {lines} lines", path.display()));
                    }
                }
            }
        }
    }
    assert!(too_long.is_empty(), "{too_long:#?}");
}
