//! One wrk run of `realistic.lua` with its tokens and ids, and the CPU per answer of the process
//! (or process tree) that answered.

use crate::load::{wrk, Load};
use crate::process::process_cpu_us;
use anyhow::Result;
use std::path::{Path, PathBuf};

/// CPU time of `pid` and all its descendants (gunicorn's master and workers), in µs.
fn tree_cpu_us(pid: u32) -> f64 {
    let mut total = process_cpu_us(pid);
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return total;
    };
    for entry in entries.flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let parent = std::fs::read_to_string(format!("/proc/{child}/stat"))
            .ok()
            .and_then(|stat| {
                stat.rsplit_once(')')?
                    .1
                    .split_whitespace()
                    .nth(1)?
                    .parse::<u32>()
                    .ok()
            });
        if parent == Some(pid) {
            total += process_cpu_us(child);
        }
    }
    total
}

/// wrk with `realistic.lua` for `seconds`; `cpu_of` is the process (tree) whose CPU per answer is
/// reported.
pub(super) fn mix(
    script: &Path,
    files: &Files,
    base: &str,
    which: &str,
    seconds: u32,
    cpu_of: (u32, bool),
) -> Result<Load> {
    let (tokens, ids) = (
        files.tokens.display().to_string(),
        files.ids.display().to_string(),
    );
    let env = [
        ("BENCH_TOKENS", tokens.as_str()),
        ("BENCH_IDS", ids.as_str()),
        ("BENCH_MIX", which),
        ("BENCH_UNIQUE", if which == "soak" { "1" } else { "0" }),
    ];
    let measure = |pid: u32| {
        if cpu_of.1 {
            tree_cpu_us(pid)
        } else {
            process_cpu_us(pid)
        }
    };
    let before = measure(cpu_of.0);
    let mut load = wrk(cpu_of.0, base, Some(script), &env, &[], seconds)?;
    load.server_us = (measure(cpu_of.0) - before) / (load.rps * seconds as f64);
    Ok(load)
}

pub(super) struct Files {
    pub(super) tokens: PathBuf,
    pub(super) ids: PathBuf,
}
