//! Provisio's benchmarks, side by side on SQLite and PostgreSQL, against the release binary:
//! HTTP throughput and latency (wrk from loopback) of login, the deployments list over 10,000
//! rows, statistics and request creation, beside a hello-world actix-web server as the ceiling;
//! idle and under-load RSS; cold start to /readyz; job queue throughput with 1, 4 and 16 workers
//! in a `provisio worker` process; live log latency (a worker prints, an SSE client receives);
//! binary and web bundle sizes; first render of the dashboard in headless Chromium.
//!
//! `bench/run.sh` builds and runs it: `provisio-bench --pg URL --out bench/RESULTS.md`.
//!
//! - `process`: child processes, free ports, memory and CPU readings from `/proc`;
//! - `load`: wrk runs and what they measured;
//! - `backend`: a database with `provisio` pointed at it, started and signed in to;
//! - `seed`: rows written straight into the database;
//! - `idle_server`: the context measurements, one URL at a time on an otherwise idle server;
//! - `realistic`: the workload people make, beside the Flask reference;
//! - `sizes`, `report`: the binary and web bundle sizes, and RESULTS.md.

use anyhow::{bail, Context, Result};
use backend::{drop_postgres, fresh_postgres, Backend};
use idle_server::run_backend;
use report::{heading, report};
use sizes::sizes;
use std::path::PathBuf;
use std::process::Command;

mod backend;
mod idle_server;
mod load;
mod process;
mod realistic;
mod report;
mod seed;
mod sizes;

const PASSWORD: &str = "bench-admin-password-1";
const DEPLOYMENT_ROWS: usize = 10_000;
const QUEUE_JOBS: usize = 5_000;
const WRK_SECONDS: u32 = 10;
const CONNECTIONS: u32 = 64;

struct Args {
    pg: Option<String>,
    /// Seed, start the server and keep it up for poking at by hand (profiling).
    serve: bool,
    /// Measure only the job queue and print it (iterating on the queue's hot path).
    queue_only: bool,
    /// Measure only the realistic workload (and the Flask reference) and write its report.
    realistic_only: bool,
    /// Seconds of the realistic workload's soak for memory (0: none).
    soak: u64,
    /// Seconds per realistic-workload row.
    seconds: u32,
    out: PathBuf,
    root: PathBuf,
}

fn parse_args() -> Result<Args> {
    let mut args = std::env::args().skip(1);
    let (mut pg, mut out, mut serve, mut queue_only, mut realistic_only) =
        (None, PathBuf::from("bench/RESULTS.md"), false, false, false);
    let (mut soak, mut seconds) = (600, 20);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--pg" => pg = args.next().filter(|v| !v.is_empty()),
            "--serve" => serve = true,
            "--queue" => queue_only = true,
            "--realistic" => realistic_only = true,
            "--soak" => soak = args.next().context("--soak needs seconds")?.parse()?,
            "--seconds" => seconds = args.next().context("--seconds needs seconds")?.parse()?,
            "--out" => out = PathBuf::from(args.next().context("--out needs a path")?),
            other => {
                bail!("unknown argument {other}; usage: provisio-bench [--pg URL] [--out FILE] [--serve | --queue | --realistic] [--soak SECONDS] [--seconds SECONDS]")
            }
        }
    }
    let root = std::env::current_dir()?;
    Ok(Args {
        pg,
        serve,
        queue_only,
        realistic_only,
        soak,
        seconds,
        out,
        root,
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let binary = args.root.join("target/release/provisio");
    if !binary.exists() {
        bail!("{} is missing: run bench/run.sh", binary.display());
    }
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    let commit = if dirty {
        format!("{commit} + uncommitted changes")
    } else {
        commit
    };
    let scratch = std::env::temp_dir().join(format!("provisio-bench-{}", uuid::Uuid::new_v4()));
    let backend_in = |dir: &str, database_url: String| -> Result<Backend> {
        std::fs::create_dir_all(scratch.join(dir))?;
        Ok(Backend {
            name: if database_url.starts_with("sqlite") {
                "SQLite"
            } else {
                "PostgreSQL"
            },
            database_url,
            scratch: scratch.join(dir),
            binary: binary.clone(),
        })
    };
    let sqlite_in = |dir: &str| {
        backend_in(
            dir,
            format!(
                "sqlite://{}?mode=rwc",
                scratch.join(dir).join("provisio.db").display()
            ),
        )
    };

    // The realistic workload first, each backend on a database of its own.
    let mut realistic_runs = Vec::new();
    if !args.queue_only && !args.serve {
        eprintln!("realistic workload on SQLite…");
        let backend = sqlite_in("sqlite-realistic")?;
        realistic_runs.push((
            "SQLite",
            realistic::run(&args.root, &backend, args.seconds, args.soak).await?,
        ));
        if let Some(pg) = &args.pg {
            let (database_url, name) = fresh_postgres(pg).await?;
            let backend = backend_in("postgres-realistic", database_url)?;
            eprintln!("realistic workload on PostgreSQL…");
            let result = realistic::run(&args.root, &backend, args.seconds, args.soak).await;
            drop_postgres(pg, &name).await;
            realistic_runs.push(("PostgreSQL", result?));
        }
    }
    if args.realistic_only {
        let text = format!(
            "{}{}",
            heading(&commit),
            realistic::report(&realistic_runs, args.seconds)
        );
        println!("{text}");
        std::fs::write(&args.out, &text)?;
        eprintln!("written to {}", args.out.display());
        let _ = std::fs::remove_dir_all(&scratch);
        return Ok(());
    }

    let mut runs = Vec::new();
    let sqlite = sqlite_in("sqlite")?;
    eprintln!("measuring on SQLite…");
    runs.push(("SQLite", run_backend(&sqlite, &args, true).await?));
    if let Some(pg) = &args.pg {
        let (database_url, name) = fresh_postgres(pg).await?;
        let backend = backend_in("postgres", database_url)?;
        eprintln!("measuring on PostgreSQL…");
        let result = run_backend(&backend, &args, false).await;
        drop_postgres(pg, &name).await;
        runs.push(("PostgreSQL", result?));
    }
    if args.queue_only {
        for (backend, results) in &runs {
            for (workers, rate) in &results.queue {
                println!("{backend}: {workers} worker(s) {rate:.0} jobs/s");
            }
        }
        let _ = std::fs::remove_dir_all(&scratch);
        return Ok(());
    }
    let text = format!(
        "{}{}{}",
        heading(&commit),
        realistic::report(&realistic_runs, args.seconds),
        report(&runs, &sizes(&args.root)?)
    );
    println!("{text}");
    std::fs::write(&args.out, &text)?;
    eprintln!("written to {}", args.out.display());
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}
