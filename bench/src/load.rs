//! HTTP load with wrk: one run's throughput, latency, errors and CPU per answer, the warmed-up
//! variant for GETs, and the Lua script that POSTs.

use crate::process::{children_cpu_us, process_cpu_us};
use crate::{CONNECTIONS, WRK_SECONDS};
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::Command;

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// One wrk run: requests per second, p50 and p99 latency in ms, and non-2xx answers.
#[derive(Clone, Copy, Default)]
pub struct Load {
    pub rps: f64,
    pub p50: f64,
    pub p99: f64,
    pub errors: u64,
    /// CPU time per answered request, in µs, of the server and of wrk: on a machine they share,
    /// what one spends the other cannot.
    pub server_us: f64,
    pub client_us: f64,
}

pub fn wrk(
    server: u32,
    url: &str,
    script: Option<&Path>,
    env: &[(&str, &str)],
    headers: &[&str],
    seconds: u32,
) -> Result<Load> {
    let (server_before, client_before) = (process_cpu_us(server), children_cpu_us());
    let mut command = Command::new("wrk");
    command.args([
        "-t2",
        &format!("-c{CONNECTIONS}"),
        &format!("-d{seconds}s"),
        "--latency",
        "--timeout",
        "10s",
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    for header in headers {
        command.args(["-H", header]);
    }
    let output = command
        .arg(url)
        .envs(env.iter().copied())
        .output()
        .context("wrk did not start (bench/run.sh installs it)")?;
    let (server_cpu, client_cpu) = (
        process_cpu_us(server) - server_before,
        children_cpu_us() - client_before,
    );
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    if !output.status.success() {
        bail!(
            "wrk failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let duration_ms = |value: &str| -> f64 {
        let value = value.trim();
        let (number, factor) = if let Some(v) = value.strip_suffix("us") {
            (v, 0.001)
        } else if let Some(v) = value.strip_suffix("ms") {
            (v, 1.0)
        } else if let Some(v) = value.strip_suffix('s') {
            (v, 1000.0)
        } else {
            (value, 1.0)
        };
        number.parse::<f64>().unwrap_or(f64::NAN) * factor
    };
    let mut load = Load::default();
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            load.rps = v.trim().parse().unwrap_or(f64::NAN);
        } else if let Some(v) = line.strip_prefix("50%") {
            load.p50 = duration_ms(v);
        } else if let Some(v) = line.strip_prefix("99%") {
            load.p99 = duration_ms(v);
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            load.errors += v.trim().parse::<u64>().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            load.errors += v
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    let answered = load.rps * seconds as f64;
    load.server_us = server_cpu / answered;
    load.client_us = client_cpu / answered;
    Ok(load)
}

/// What Chromium and Firefox send (HTTP libraries send a subset: `gzip, deflate`).
pub const BROWSER_ACCEPT_ENCODING: &str = "Accept-Encoding: gzip, deflate, br, zstd";

/// A GET measured after a short unmeasured run: the steady state, once the first answers (which
/// miss the in-memory caches and the database's page cache) are behind.
pub fn warmed_wrk(server: u32, url: &str, headers: &[&str]) -> Result<Load> {
    let mut warm = Command::new("wrk");
    warm.args(["-t2", &format!("-c{CONNECTIONS}"), "-d2s"]);
    for header in headers {
        warm.args(["-H", header]);
    }
    let status = warm
        .arg(url)
        .stdout(std::process::Stdio::null())
        .status()
        .context("wrk did not start")?;
    if !status.success() {
        bail!("the warm-up run of {url} failed");
    }
    wrk(server, url, None, &[], headers, WRK_SECONDS)
}

/// POSTs a JSON body; `{n}` in it becomes a name unique per request.
pub const POST_SCRIPT: &str = r#"
local template = os.getenv("BENCH_BODY")
local token = os.getenv("BENCH_TOKEN") or ""
local path = os.getenv("BENCH_PATH")
local counter = 0
function setup(thread)
  thread:set("prefix", string.format("w%d", math.random(100000, 999999)))
end
request = function()
  counter = counter + 1
  local body = (string.gsub(template, "{n}", prefix .. "-" .. counter))
  local headers = { ["Content-Type"] = "application/json" }
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("POST", path, headers, body)
end
"#;
