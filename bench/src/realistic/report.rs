//! The realistic section of RESULTS.md.

use super::{Realistic, DEPLOYMENTS, REQUESTS, WRITES_PER_SECOND};
use crate::load::Load;

/// The realistic section of RESULTS.md, with its targets, and "where the time goes"
/// (`bench/where-the-time-goes.md`, written by hand from profiles).
pub fn report(runs: &[(&str, Realistic)], seconds: u32) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## The realistic workload\n\n{DEPLOYMENTS} deployments and {REQUESTS} server requests \
         over two teams; four users (administrator, technical agent, sales agent, requester), each \
         with their own token; wrk, 2 threads, {} connections, {seconds} s per row, \
         `bench/realistic.lua` choosing each request at random: list pages 1..200 of 50, page 1 \
         filtered by status, framework or a name search, detail reads, statistics, \
         `/api/auth/me`, the requests list (pages 1..40, sorted three ways). Meanwhile a client \
         files {WRITES_PER_SECOND} server requests a second through the API and a worker process \
         runs a job logging a line every 10 ms. *Shared mix*: only what the Flask reference \
         serves too (list pages, filtered first pages, statistics), measured on both in this run. \
         CPU per answer: the server process (gunicorn's master and workers for the reference).\n",
        crate::CONNECTIONS
    );
    let header: Vec<&str> = runs.iter().map(|(name, _)| *name).collect();
    let _ = writeln!(
        out,
        "| Measure | {} | Target |\n|---|{}---|",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    let load = |l: &Load| {
        format!(
            "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {:.0} µs CPU/answer{}",
            l.rps,
            l.p50,
            l.p99,
            l.server_us,
            if l.errors > 0 {
                format!(", **{} errors**", l.errors)
            } else {
                String::new()
            }
        )
    };
    let row = |out: &mut String, label: &str, cell: &dyn Fn(&Realistic) -> String, target: &str| {
        let cells: Vec<String> = runs.iter().map(|(_, r)| cell(r)).collect();
        let _ = writeln!(out, "| {label} | {} | {target} |", cells.join(" | "));
    };
    let mark = |ok: bool| if ok { "met" } else { "**missed**" };
    row(&mut out, "Full mix, Provisio", &|r| load(&r.full), "");
    row(
        &mut out,
        "Full mix p99",
        &|r| format!("{:.2} ms ({})", r.full.p99, mark(r.full.p99 <= 25.0)),
        "≤ 25 ms",
    );
    row(&mut out, "Shared mix, Provisio", &|r| load(&r.shared), "");
    row(
        &mut out,
        "Shared mix, Flask reference (gunicorn, 2 workers)",
        &|r| r.reference.as_ref().map_or("not measured".into(), load),
        "",
    );
    row(
        &mut out,
        "Provisio / reference, shared mix",
        &|r| match &r.reference {
            Some(reference) => {
                let ratio = r.shared.rps / reference.rps;
                format!("{ratio:.1}× ({})", mark(ratio >= 5.0))
            }
            None => "not measured".into(),
        },
        "≥ 5×",
    );
    row(
        &mut out,
        "Page 1 of 20, the technical agent's ~4,300 rows (one URL)",
        &|r| load(&r.page_1),
        "",
    );
    row(
        &mut out,
        "Page 200 of 20 by number (OFFSET)",
        &|r| load(&r.page_200_offset),
        "",
    );
    row(
        &mut out,
        "Page 200 of 20 by cursor (`after=`)",
        &|r| {
            let ratio = r.page_200_cursor.rps / r.page_1.rps * 100.0;
            format!(
                "{}; {ratio:.0} % of page 1 ({})",
                load(&r.page_200_cursor),
                mark(ratio >= 90.0)
            )
        },
        "as fast as page 1",
    );
    row(
        &mut out,
        "Writes through the API during the rows",
        &|r| format!("{} ({} failed)", r.writes, r.write_errors),
        "",
    );
    if runs.iter().any(|(_, r)| r.soak.is_some()) {
        row(
            &mut out,
            "Soak: workload + never-seen query strings",
            &|r| match &r.soak {
                Some(s) => format!("{} s, {}", s.seconds, load(&s.load)),
                None => "not run".into(),
            },
            "",
        );
        row(
            &mut out,
            "Soak RSS: before (right after the rows above), peak, a minute after",
            &|r| match &r.soak {
                Some(s) => format!(
                    "{:.1} / {:.1} / {:.1} MiB (peak {}, after {})",
                    s.idle_before,
                    s.peak,
                    s.after_idle,
                    mark(s.peak <= 64.0),
                    mark(s.after_idle <= s.idle_before * 1.1)
                ),
                None => "not run".into(),
            },
            "peak ≤ 64 MB; within 10 % of idle",
        );
    }
    out.push('\n');
    if let Ok(text) = std::fs::read_to_string("bench/where-the-time-goes.md") {
        out.push_str(&text);
        out.push('\n');
    }
    out
}
