//! The workload people make, not one URL asked again and again on an idle server: 10,000
//! deployments and 2,000 server requests over two teams, four users of different roles each
//! with their own token, wrk mixing list pages 1..200, filtered first pages, detail reads,
//! statistics, `/api/auth/me` and the requests list (`realistic.lua`), while a client writes about
//! ten times a second through the API and a worker process runs a job that logs a line every
//! 10 ms. Beside it, the original system's stack (Flask + Flask-SQLAlchemy under gunicorn with two
//! workers, `bench/reference/`) serves the same rows, and both answer the endpoints they share
//! (`BENCH_MIX=reference`) in the same run. Also: page 200 by offset and by cursor against page
//! 1, and a soak (the workload plus query strings never seen before) for memory.
//!
//! - `setup`: the users, teams and rows the workload finds;
//! - `background`: the writes and the logging job running beside the measurements;
//! - `reference`: the Flask reference started on the same database;
//! - `mix`: one wrk run of `realistic.lua`, with the CPU of the process (tree) that answers;
//! - `report`: the realistic section of RESULTS.md.

mod background;
mod mix;
mod reference;
mod report;
mod setup;

use crate::backend::Backend;
use crate::load::{percentile, wrk, Load};
use crate::process::{peak_rss, rss_mib, Process};
use anyhow::{Context, Result};
use api::entities::deployments;
use background::{start_logging_job, start_writer};
use mix::{mix, Files};
use reference::start_reference;
use sea_orm::{ConnectionTrait, Database, EntityTrait};
use serde_json::Value;
use setup::{seed, users};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use report::report;

const DEPLOYMENTS: usize = 10_000;
const REQUESTS: usize = 2_000;
const WRITES_PER_SECOND: u64 = 10;

/// The realistic rows of one backend.
#[derive(Default)]
pub struct Realistic {
    /// Every endpoint of the mix, Provisio only.
    pub full: Load,
    /// The endpoints the reference also serves, Provisio.
    pub shared: Load,
    /// The same, the Flask reference (absent when its virtualenv is missing).
    pub reference: Option<Load>,
    pub page_1: Load,
    pub page_200_offset: Load,
    pub page_200_cursor: Load,
    /// Writes made through the API during the measurements, and how many failed.
    pub writes: u64,
    pub write_errors: u64,
    pub soak: Option<Soak>,
}

#[derive(Default, Clone, Copy)]
pub struct Soak {
    pub seconds: u64,
    pub idle_before: f64,
    pub peak: f64,
    pub after_idle: f64,
    pub load: Load,
}

pub async fn run(
    root: &Path,
    backend: &Backend,
    seconds: u32,
    soak_seconds: u64,
) -> Result<Realistic> {
    backend.create_admin()?;
    let (server, _) = backend.serve(0).await?;
    let client = reqwest::Client::new();
    let (users, teams) = users(&client, &server.base).await?;
    let db = Database::connect(&backend.database_url).await?;
    seed(&db, teams, users.account.parse()?).await?;
    // Requesters are offered only accounts whose connection test passed; this one's endpoint is a
    // closed port (nothing is provisioned), so its passed test is written here. The requests the
    // writer files wait for approval; no job reaches the endpoint.
    db.execute_unprepared("UPDATE provider_accounts SET last_test_ok = true")
        .await?;
    db.execute_unprepared(if backend.name == "PostgreSQL" {
        "VACUUM ANALYZE"
    } else {
        "ANALYZE"
    })
    .await?;
    let ids: Vec<uuid::Uuid> = {
        use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
        deployments::Entity::find()
            .select_only()
            .column(deployments::Column::Id)
            .filter(deployments::Column::TeamId.eq(teams[0]))
            .limit(500)
            .into_tuple()
            .all(&db)
            .await?
    };
    db.close().await?;
    let files = Files {
        tokens: backend.scratch.join("tokens.txt"),
        ids: backend.scratch.join("ids.txt"),
    };
    std::fs::write(
        &files.tokens,
        users
            .tokens
            .iter()
            .map(|(deploys, token)| {
                format!("{} {token}\n", if *deploys { "deploy" } else { "other" })
            })
            .collect::<String>(),
    )?;
    std::fs::write(
        &files.ids,
        ids.iter().map(|id| format!("{id}\n")).collect::<String>(),
    )?;
    let script = root.join("bench/realistic.lua");
    let admin = users.tokens[0].1.clone();

    let worker = Process(
        backend
            .command(&["worker", "--count", "1"], 0, 0, "worker-realistic.log")
            .spawn()?,
    );
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (done, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let writer = start_writer(
        server.base.clone(),
        &users,
        stop.clone(),
        done.clone(),
        failed.clone(),
    );
    let pid = server.process.pid();
    let mut results = Realistic::default();

    // Each measurement gets a job logging beside it.
    let jobs_for = (seconds as u64) * 4 + 30;
    start_logging_job(&client, &server.base, &admin, jobs_for.min(100)).await?;
    // A short unmeasured run first: the database's pages and the server's pools warm.
    tokio::task::block_in_place(|| mix(&script, &files, &server.base, "full", 3, (pid, false)))?;
    results.full = tokio::task::block_in_place(|| {
        mix(&script, &files, &server.base, "full", seconds, (pid, false))
    })?;
    results.shared = tokio::task::block_in_place(|| {
        mix(
            &script,
            &files,
            &server.base,
            "reference",
            seconds,
            (pid, false),
        )
    })?;
    start_logging_job(&client, &server.base, &admin, jobs_for.min(100)).await?;
    if let Some((reference, base)) = start_reference(root, backend)? {
        tokio::task::block_in_place(|| {
            mix(
                &script,
                &files,
                &base,
                "reference",
                3,
                (reference.pid(), true),
            )
        })?;
        results.reference = Some(tokio::task::block_in_place(|| {
            mix(
                &script,
                &files,
                &base,
                "reference",
                seconds,
                (reference.pid(), true),
            )
        })?);
    }

    // Deep pages: by number (OFFSET) and by cursor, against the first.
    let agent = &users.tokens[1].1;
    let bearer = format!("Authorization: Bearer {agent}");
    let page_199: Value = client
        .get(format!(
            "{}/api/deployments?per_page=20&page=199",
            server.base
        ))
        .bearer_auth(agent)
        .send()
        .await?
        .json()
        .await?;
    let cursor = page_199["next"]
        .as_str()
        .context("page 199 has a next cursor")?
        .to_owned();
    let short = seconds.min(10);
    results.page_1 = tokio::task::block_in_place(|| {
        wrk(
            pid,
            &format!("{}/api/deployments?per_page=20", server.base),
            None,
            &[],
            &[&bearer],
            short,
        )
    })?;
    results.page_200_offset = tokio::task::block_in_place(|| {
        wrk(
            pid,
            &format!("{}/api/deployments?per_page=20&page=200", server.base),
            None,
            &[],
            &[&bearer],
            short,
        )
    })?;
    results.page_200_cursor = tokio::task::block_in_place(|| {
        wrk(
            pid,
            &format!("{}/api/deployments?per_page=20&after={cursor}", server.base),
            None,
            &[],
            &[&bearer],
            short,
        )
    })?;

    if soak_seconds > 0 {
        let idle_before = rss_mib(pid);
        let sampler = peak_rss(pid, Duration::from_secs(soak_seconds));
        let mut load = Load::default();
        let mut left = soak_seconds;
        let mut rounds = Vec::new();
        while left > 0 {
            let round = left.min(90);
            start_logging_job(&client, &server.base, &admin, round).await?;
            let measured = tokio::task::block_in_place(|| {
                mix(
                    &script,
                    &files,
                    &server.base,
                    "soak",
                    round as u32,
                    (pid, false),
                )
            })?;
            rounds.push(measured);
            left -= round;
        }
        let peak = sampler.await?;
        // Rounds of up to 90 s (each with its logging job): the mean rate and CPU, the median
        // round's p50 and the worst round's p99.
        let of = |get: fn(&Load) -> f64| {
            let mut values: Vec<f64> = rounds.iter().map(get).collect();
            values.sort_by(f64::total_cmp);
            values
        };
        let rounds_n = rounds.len() as f64;
        load.rps = rounds.iter().map(|r| r.rps).sum::<f64>() / rounds_n;
        load.server_us = rounds.iter().map(|r| r.server_us).sum::<f64>() / rounds_n;
        load.p50 = percentile(&of(|r| r.p50), 0.5);
        load.p99 = percentile(&of(|r| r.p99), 1.0);
        load.errors = rounds.iter().map(|r| r.errors).sum();
        stop.store(true, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(60)).await;
        results.soak = Some(Soak {
            seconds: soak_seconds,
            idle_before,
            peak,
            after_idle: rss_mib(pid),
            load,
        });
    }
    stop.store(true, Ordering::Relaxed);
    let _ = writer.await;
    drop(worker);
    results.writes = done.load(Ordering::Relaxed);
    results.write_errors = failed.load(Ordering::Relaxed);
    anyhow::ensure!(
        results.writes > 0 && results.write_errors * 100 <= results.writes,
        "{} of the writes beside the workload failed ({} succeeded): the rows measured reads alone",
        results.write_errors,
        results.writes
    );
    drop(server);
    Ok(results)
}
