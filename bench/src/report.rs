//! RESULTS.md: its heading, and the context section with its targets and the sizes.

use crate::idle_server::Results;
use crate::load::{Load, BROWSER_ACCEPT_ENCODING};
use crate::sizes::Sizes;
use crate::{CONNECTIONS, DEPLOYMENT_ROWS, QUEUE_JOBS, WRK_SECONDS};
use std::fmt::Write as _;

/// `load`'s throughput as a share of the hello world's, against the ≥ 40 % target.
fn ceiling_ratio(load: &Load, hello: &Load) -> String {
    let ratio = load.rps / hello.rps * 100.0;
    format!("{ratio:.1} % ({})", mark(ratio >= 40.0))
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "missed"
    }
}

/// The title, when and where it was measured.
pub fn heading(commit: &str) -> String {
    let mut out = String::new();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let _ = writeln!(out, "# Benchmark results\n");
    let _ = writeln!(
        out,
        "Measured {} on commit `{commit}`, {cores} cores ({cpu}), release build, server and load \
         generator sharing the machine. Regenerate with `bench/run.sh`.\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    out
}

pub fn report(runs: &[(&str, Results)], sizes: &Sizes) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Context: one URL at a time on an idle server\n\nNo longer a target: what the stack \
         costs per request without the database's variety or anyone writing.\n"
    );
    let _ = writeln!(
        out,
        "HTTP: wrk, 2 threads, {CONNECTIONS} connections, {WRK_SECONDS} s per row, from loopback \
         (GET rows after an unmeasured 2 s run); the deployments list reads a page of 50 of \
         {DEPLOYMENT_ROWS} rows.\n"
    );
    let header: Vec<&str> = runs.iter().map(|(name, _)| *name).collect();
    let _ = writeln!(
        out,
        "| Measure | {} | Target |\n|---|{}---|",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    let row = |out: &mut String, label: &str, cell: &dyn Fn(&Results) -> String, target: &str| {
        let cells: Vec<String> = runs.iter().map(|(_, r)| cell(r)).collect();
        let _ = writeln!(out, "| {label} | {} | {target} |", cells.join(" | "));
    };
    let load = |l: &Load| {
        format!(
            "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms{}",
            l.rps,
            l.p50,
            l.p99,
            if l.errors > 0 {
                format!(", {} errors", l.errors)
            } else {
                String::new()
            }
        )
    };
    row(
        &mut out,
        "Hello-world ceiling (actix-web)",
        &|r| load(&r.hello),
        "",
    );
    row(
        &mut out,
        "Same-size ceiling (the hello world answering the list's body)",
        &|r| {
            format!(
                "{}, {:.1} KiB",
                load(&r.same_size),
                r.list_bytes as f64 / 1024.0
            )
        },
        "",
    );
    row(&mut out, "`GET /api/auth/me`", &|r| load(&r.me), "");
    row(
        &mut out,
        "`GET /api/deployments?per_page=50`",
        &|r| load(&r.list),
        "",
    );
    row(
        &mut out,
        "List / ceiling ratio",
        &|r| ceiling_ratio(&r.list, &r.hello),
        "≥ 40 %",
    );
    row(
        &mut out,
        &format!(
            "`GET /api/deployments?per_page=50` as browsers ask (`{BROWSER_ACCEPT_ENCODING}`)"
        ),
        &|r| load(&r.list_as_browsers_ask),
        "",
    );
    row(
        &mut out,
        "List as browsers ask / ceiling ratio",
        &|r| ceiling_ratio(&r.list_as_browsers_ask, &r.hello),
        "≥ 40 %",
    );
    row(
        &mut out,
        "List / same-size ceiling ratio",
        &|r| format!("{:.1} %", r.list.rps / r.same_size.rps * 100.0),
        "",
    );
    row(
        &mut out,
        "CPU µs per request, server + wrk: hello · same-size · `/me` · list · list as browsers ask",
        &|r| {
            [
                &r.hello,
                &r.same_size,
                &r.me,
                &r.list,
                &r.list_as_browsers_ask,
            ]
            .iter()
            .map(|l| format!("{:.1} + {:.1}", l.server_us, l.client_us))
            .collect::<Vec<_>>()
            .join(" · ")
        },
        "",
    );
    row(
        &mut out,
        "List p99 at 64 connections",
        &|r| format!("{:.2} ms ({})", r.list.p99, mark(r.list.p99 < 10.0)),
        "< 10 ms",
    );
    row(
        &mut out,
        "`GET /api/statistics`",
        &|r| load(&r.statistics),
        "",
    );
    row(
        &mut out,
        "`POST /api/auth/login` (argon2id)",
        &|r| load(&r.login),
        "",
    );
    row(
        &mut out,
        "`POST /api/requests`",
        &|r| load(&r.create_request),
        "",
    );
    row(
        &mut out,
        "Idle RSS",
        &|r| format!("{:.1} MiB ({})", r.idle_rss, mark(r.idle_rss <= 25.0)),
        "≤ 25 MB",
    );
    row(
        &mut out,
        "Peak RSS under the list load",
        &|r| format!("{:.1} MiB", r.load_rss),
        "",
    );
    row(
        &mut out,
        "Cold start to /readyz (median of 7)",
        &|r| format!("{:.0} ms", r.cold_start_ms),
        "≤ 150 ms on SQLite",
    );
    row(
        &mut out,
        "First run: migrations + admin",
        &|r| format!("{:.0} ms", r.first_start_ms),
        "",
    );
    row(
        &mut out,
        "Live log latency (worker writes → SSE client)",
        &|r| {
            format!(
                "p50 {:.1} ms, p95 {:.1} ms over {} lines ({})",
                r.sse_p50,
                r.sse_p95,
                r.sse_lines,
                mark(r.sse_p95 <= 100.0)
            )
        },
        "p95 ≤ 100 ms",
    );
    for (index, workers) in [1usize, 4, 16].iter().enumerate() {
        row(
            &mut out,
            &format!("Job queue, {workers} worker(s), {QUEUE_JOBS} probes"),
            &|r| {
                r.queue
                    .get(index)
                    .map(|(workers, rate)| {
                        if *workers == 16 && r.postgres {
                            format!("{rate:.0} jobs/s ({})", mark(*rate >= 2000.0))
                        } else {
                            format!("{rate:.0} jobs/s")
                        }
                    })
                    .unwrap_or_default()
            },
            if *workers == 16 {
                "≥ 2,000 jobs/s on PostgreSQL"
            } else {
                ""
            },
        );
    }
    row(
        &mut out,
        "Dashboard first render, headless Chromium (median of 5)",
        &|r| {
            r.first_render_ms
                .map(|ms| format!("{ms:.0} ms"))
                .unwrap_or_else(|| "—".into())
        },
        "",
    );
    let _ = writeln!(
        out,
        "\nReading it: the ceiling answers a 17-byte body from memory. The list, statistics and \
         `/api/auth/me` answer from memory too while nothing they were read from changed \
         (`api::cache`: a token check, two map lookups and the serialized answer; any write through \
         the API, a job's progress, or another process's commit announced by PostgreSQL NOTIFY or \
         SQLite `data_version` drops them); a miss costs the four queries of the list (a count \
         over the rows the caller may see, the page, their teams and projects). What remains \
         between the list and the ceiling is its size and the stack every request goes through \
         (request id, tracing span and log line, metrics, security headers, routing among the \
         API's routes, token check): the same-size row is the hello world answering the list's own \
         body, and the CPU row splits each request's cost between the server and wrk, which share \
         the two cores (reading the list's body costs wrk alone more than a whole hello-world \
         request costs both). Asked for as browsers ask, the remembered list goes out as its gzip \
         (made once per answer, not per request), a tenth of the bytes to send and read. Both \
         servers start as `provisio` does: on CPUs with AVX-512 they restart in place with \
         glibc's AVX2 string functions (`api::string_functions`; the AVX-512 ones cost about a \
         microsecond per request on this virtual machine, the hello world is unaffected). Login is \
         argon2id by design (19 MiB, 2 passes per attempt). Queue \
         throughput is steady state (first job finished to last, from the jobs' own times) of one \
         worker process: two commits per job (the claim that also starts the execution; the \
         closing log line, release and finish in one statement), bounded on PostgreSQL by WAL \
         flushes that concurrent workers share, and on SQLite by its single writer, on a machine \
         whose two cores also run the database. The queue is measured before the HTTP rows, \
         after a sync, and on PostgreSQL each run after a VACUUM ANALYZE of the queue's tables \
         and a CHECKPOINT, so no earlier measurement's write-back lands in it; without that it read \
         1,600-1,900 jobs/s with 16 workers on this disk.\n"
    );
    let _ = writeln!(out, "\n## Sizes\n");
    let _ = writeln!(
        out,
        "Release binary (web app embedded): {:.1} MiB\n",
        sizes.binary_mib
    );
    // What a first visit downloads: the files the browser fetched to render the dashboard; without
    // a browser measurement, every file (an upper bound).
    let fetched: std::collections::BTreeSet<&str> = runs
        .iter()
        .flat_map(|(_, r)| r.first_render_files.iter().map(String::as_str))
        .collect();
    let initial = |name: &str| fetched.is_empty() || fetched.contains(name);
    let _ = writeln!(
        out,
        "| Web file | Raw | gzip -9 | brotli 11 | Fetched by the first render |\n|---|---|---|---|---|"
    );
    let (mut raw, mut gzip, mut br) = (0, 0, 0);
    let (mut later_files, mut later_br) = (0, 0);
    for (name, r, g, b) in &sizes.files {
        let first = initial(name);
        // Per-route chunks are many and small: one summary row instead of one row each.
        if !first && name.ends_with(".wasm") {
            later_files += 1;
            later_br += b;
            continue;
        }
        let _ = writeln!(
            out,
            "| {name} | {:.1} KiB | {:.1} KiB | {:.1} KiB | {} |",
            *r as f64 / 1024.0,
            *g as f64 / 1024.0,
            *b as f64 / 1024.0,
            if first { "yes" } else { "no" }
        );
        if first {
            raw += r;
            gzip += g;
            br += b;
        }
    }
    if later_files > 0 {
        let _ = writeln!(
            out,
            "| {later_files} route chunks (fetched when their page first opens) | | | {:.1} KiB in all | no |",
            later_br as f64 / 1024.0
        );
    }
    let _ = writeln!(
        out,
        "| **Initial page weight** | {:.1} KiB | {:.1} KiB | {:.1} KiB ({}; target ≤ 300 KB) | |",
        raw as f64 / 1024.0,
        gzip as f64 / 1024.0,
        br as f64 / 1024.0,
        mark(br <= 300 * 1000)
    );
    out
}
