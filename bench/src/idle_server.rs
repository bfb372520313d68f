//! The context measurements, one URL at a time on an otherwise idle server: the job queue, cold
//! start, RSS, each endpoint against the hello-world ceiling, first render and live log latency.

use crate::backend::{login, Backend};
use crate::load::{percentile, warmed_wrk, wrk, Load, BROWSER_ACCEPT_ENCODING, POST_SCRIPT};
use crate::process::{free_port, peak_rss, rss_mib, Process};
use crate::seed::{queue_probes, scalar, seed_deployments};
use crate::{Args, DEPLOYMENT_ROWS, PASSWORD, QUEUE_JOBS, WRK_SECONDS};
use anyhow::{bail, Context, Result};
use api::entities::jobs;
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Results {
    pub first_start_ms: f64,
    pub cold_start_ms: f64,
    pub idle_rss: f64,
    pub load_rss: f64,
    /// The queue target is PostgreSQL's (SQLite has one writer).
    pub postgres: bool,
    pub hello: Load,
    /// The hello-world server answering the list's own body.
    pub same_size: Load,
    pub list_bytes: usize,
    pub me: Load,
    pub login: Load,
    pub list: Load,
    /// The list asked for as browsers and HTTP libraries do, accepting compressed answers.
    pub list_as_browsers_ask: Load,
    pub statistics: Load,
    pub create_request: Load,
    pub sse_p50: f64,
    pub sse_p95: f64,
    pub sse_lines: usize,
    pub queue: Vec<(usize, f64)>,
    pub first_render_ms: Option<f64>,
    /// Web files (paths under the site root) the browser fetched for the first renders.
    pub first_render_files: Vec<String>,
}

/// Live log latency: a probe prints lines 10 ms apart; each line's latency is the time from its
/// row's timestamp (taken by the worker as it writes) to its arrival over SSE here.
async fn sse_latency(client: &reqwest::Client, base: &str, token: &str) -> Result<Vec<f64>> {
    let accepted: Value = client
        .post(format!("{base}/api/probes"))
        .bearer_auth(token)
        .json(&json!({"wait_ms": 1500, "lines": 300, "interval_ms": 10}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let execution = accepted["execution_id"].as_str().context("execution id")?;
    let mut res = client
        .get(format!("{base}/api/executions/{execution}/events"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?;
    let (mut buffer, mut latencies) = (String::new(), Vec::new());
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(30), res.chunk()).await
    {
        let received = chrono::Utc::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        let mut ended = false;
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            if frame.contains("event: end") {
                ended = true;
            }
            if !frame.contains("event: log") {
                continue;
            }
            let data = frame
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap_or("{}");
            let line: Value = serde_json::from_str(data)?;
            if !line["text"]
                .as_str()
                .unwrap_or("")
                .starts_with("probe line")
            {
                continue;
            }
            let at: chrono::DateTime<chrono::Utc> =
                serde_json::from_value(line["at"].clone()).context("line timestamp")?;
            latencies.push((received - at).num_microseconds().unwrap_or(0) as f64 / 1000.0);
        }
        if ended {
            break;
        }
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    Ok(latencies)
}

pub async fn run_backend(backend: &Backend, args: &Args, render: bool) -> Result<Results> {
    let mut results = Results {
        postgres: backend.name == "PostgreSQL",
        ..Results::default()
    };
    let started = Instant::now();
    backend.create_admin()?;
    results.first_start_ms = started.elapsed().as_secs_f64() * 1000.0;
    // The queue first, on a database nothing else has written to yet: after the HTTP
    // measurements, autovacuum and the checkpointer would still be busy with their writes.
    // What earlier measurements left for the kernel to write back goes to disk first, so the
    // queue's commits do not wait behind it.
    Command::new("sync").status()?;
    {
        let db = Database::connect(&backend.database_url).await?;
        results.queue = queue_throughput(backend, &db).await?;
        db.close().await?;
    }
    if args.queue_only {
        return Ok(results);
    }

    let mut starts = Vec::new();
    for _ in 0..7 {
        let (server, took) = backend.serve(0).await?;
        starts.push(took.as_secs_f64() * 1000.0);
        drop(server);
    }
    starts.sort_by(|a, b| a.total_cmp(b));
    results.cold_start_ms = percentile(&starts, 0.5);

    let db = Database::connect(&backend.database_url).await?;
    let global = api::domain::teams::global_team(&db)
        .await?
        .context("the Global team")?;
    seed_deployments(&db, global.id).await?;
    // Steady state: PostgreSQL's autovacuum and an occasional ANALYZE on SQLite would have run.
    db.execute_unprepared(if backend.name == "PostgreSQL" {
        "VACUUM ANALYZE deployments"
    } else {
        "ANALYZE"
    })
    .await?;

    let (server, _) = backend.serve(0).await?;
    let client = reqwest::Client::new();
    let token = login(&client, &server.base).await?;
    let account: Value = client
        .post(format!("{}/api/provider-accounts", server.base))
        .bearer_auth(&token)
        .json(&json!({
            "name": "Bench Hetzner", "kind": "hetzner", "endpoint": "http://127.0.0.1:9/v1",
            "catalog": {"currency": "EUR", "locations": ["fsn1"], "images": ["debian-12"],
              "server_types": [{"name": "cx22", "cpu": 2, "ram_mb": 4096, "disk_gb": 40, "monthly_price_cents": 459}]}
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let list_body = client
        .get(format!("{}/api/deployments?per_page=50", server.base))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let list: Value = serde_json::from_slice(&list_body)?;
    if list["total"].as_u64() != Some(DEPLOYMENT_ROWS as u64) {
        bail!("the list does not see the seeded rows: {}", list["total"]);
    }
    if args.serve {
        eprintln!(
            "serving {} on {}\nBENCH_TOKEN={token}\nDATABASE_URL={}",
            backend.name, server.base, backend.database_url
        );
        tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    results.idle_rss = rss_mib(server.process.pid());

    let hello_port = free_port();
    let hello = Process(
        Command::new(args.root.join("target/release/bench-hello"))
            .arg(format!("127.0.0.1:{hello_port}"))
            .spawn()
            .context("bench-hello")?,
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    results.hello = wrk(
        hello.pid(),
        &format!("http://127.0.0.1:{hello_port}/"),
        None,
        &[],
        &[],
        WRK_SECONDS,
    )?;
    drop(hello);
    let body_file = backend.scratch.join("list.json");
    std::fs::write(&body_file, &list_body)?;
    results.list_bytes = list_body.len();
    let same_size = Process(
        Command::new(args.root.join("target/release/bench-hello"))
            .arg(format!("127.0.0.1:{hello_port}"))
            .arg(&body_file)
            .spawn()
            .context("bench-hello")?,
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    results.same_size = wrk(
        same_size.pid(),
        &format!("http://127.0.0.1:{hello_port}/"),
        None,
        &[],
        &[],
        WRK_SECONDS,
    )?;
    drop(same_size);

    let bearer = format!("Authorization: Bearer {token}");
    let pid = server.process.pid();
    let sampler = peak_rss(pid, Duration::from_secs(WRK_SECONDS.into()));
    results.list = tokio::task::block_in_place(|| {
        warmed_wrk(
            pid,
            &format!("{}/api/deployments?per_page=50", server.base),
            &[&bearer],
        )
    })?;
    results.load_rss = sampler.await?;
    results.list_as_browsers_ask = tokio::task::block_in_place(|| {
        warmed_wrk(
            pid,
            &format!("{}/api/deployments?per_page=50", server.base),
            &[&bearer, BROWSER_ACCEPT_ENCODING],
        )
    })?;
    results.me = tokio::task::block_in_place(|| {
        warmed_wrk(pid, &format!("{}/api/auth/me", server.base), &[&bearer])
    })?;
    results.statistics = tokio::task::block_in_place(|| {
        warmed_wrk(pid, &format!("{}/api/statistics", server.base), &[&bearer])
    })?;
    let script = backend.scratch.join("post.lua");
    std::fs::write(&script, POST_SCRIPT)?;
    let login_body = json!({"login": "benchadmin", "password": PASSWORD}).to_string();
    results.login = tokio::task::block_in_place(|| {
        wrk(
            pid,
            &format!("{}/api/auth/login", server.base),
            Some(&script),
            &[
                ("BENCH_BODY", &login_body),
                ("BENCH_PATH", "/api/auth/login"),
            ],
            &[],
            WRK_SECONDS,
        )
    })?;
    let token = login(&client, &server.base).await?;
    let request_body = json!({
        "hostname": "bench-{n}", "team_id": global.id, "provider_account_id": account["id"],
        "location": "fsn1", "image": "debian-12", "server_type": "cx22",
        "purpose": "benchmark", "notes": ""
    })
    .to_string();
    results.create_request = tokio::task::block_in_place(|| {
        wrk(
            pid,
            &format!("{}/api/requests", server.base),
            Some(&script),
            &[
                ("BENCH_BODY", &request_body),
                ("BENCH_PATH", "/api/requests"),
                ("BENCH_TOKEN", &token),
            ],
            &[],
            WRK_SECONDS,
        )
    })?;

    if render {
        if let Some((median, files)) = first_render(&args.root, &server.base)? {
            results.first_render_ms = Some(median);
            results.first_render_files = files;
        }
    }

    // Live log latency with a worker process beside the server, as in production.
    let worker = Process(
        backend
            .command(&["worker", "--count", "2"], 0, 0, "worker-sse.log")
            .spawn()?,
    );
    let latencies = sse_latency(&client, &server.base, &token).await?;
    drop(worker);
    results.sse_lines = latencies.len();
    results.sse_p50 = percentile(&latencies, 0.5);
    results.sse_p95 = percentile(&latencies, 0.95);
    drop(server);
    Ok(results)
}

/// Queue throughput: a backlog of probes drained by one worker process of 1, 4, 16 workers.
async fn queue_throughput(backend: &Backend, db: &DatabaseConnection) -> Result<Vec<(usize, f64)>> {
    let mut rates = Vec::new();
    for workers in [1usize, 4, 16] {
        db.execute_unprepared("DELETE FROM jobs WHERE kind = 'probe'")
            .await?;
        db.execute_unprepared(
            "DELETE FROM execution_logs WHERE execution_id IN \
             (SELECT id FROM executions WHERE kind = 'probe')",
        )
        .await?;
        db.execute_unprepared("DELETE FROM executions WHERE kind = 'probe'")
            .await?;
        queue_probes(db, QUEUE_JOBS).await?;
        // Each run starts from what autovacuum and the checkpointer keep in service: without
        // this, later runs would also wade through the rows earlier ones deleted, and flush
        // their WAL beside a checkpoint of the HTTP measurements' writes (`scripts/postgres.sh`
        // grants the test role pg_checkpoint; without it the checkpoint is skipped).
        if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared("VACUUM ANALYZE jobs, executions, execution_logs")
                .await?;
            if let Err(e) = db.execute_unprepared("CHECKPOINT").await {
                eprintln!("no checkpoint before the queue run: {e}");
            }
        }
        let started = Instant::now();
        let worker = Process(
            backend
                .command(
                    &["worker", "--count", &workers.to_string()],
                    0,
                    0,
                    &format!("worker-{workers}.log"),
                )
                .spawn()?,
        );
        // Checked rarely: on two cores a frequent count would take CPU from what it measures.
        loop {
            let done = scalar(
                db,
                "SELECT COUNT(*) FROM jobs WHERE kind = 'probe' AND status = 'succeeded'",
            )
            .await?;
            if done as usize >= QUEUE_JOBS {
                break;
            }
            if started.elapsed() > Duration::from_secs(600) {
                bail!("{workers} workers did not drain the queue in 10 minutes ({done} done)");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        // Steady state, from the jobs' own finish times: first finish to last (the process's
        // start and connection set-up stay out).
        let finished: Vec<chrono::DateTime<chrono::Utc>> = jobs::Entity::find()
            .filter(jobs::Column::Kind.eq("probe"))
            .all(db)
            .await?
            .into_iter()
            .map(|job| job.updated_at)
            .collect();
        let (Some(first), Some(last)) = (finished.iter().min(), finished.iter().max()) else {
            bail!("no probe finished");
        };
        let span = (*last - *first).to_std().unwrap_or_default().as_secs_f64();
        let rate = (finished.len() - 1) as f64 / span.max(1e-3);
        drop(worker);
        rates.push((workers, rate));
    }
    Ok(rates)
}

/// Median time from navigation to the dashboard's heading for a signed-in user, fresh cache, and
/// the web files those renders fetched.
fn first_render(root: &Path, base: &str) -> Result<Option<(f64, Vec<String>)>> {
    let output = Command::new("node")
        .arg(root.join("bench/first-render.mjs"))
        .env("BENCH_BASE_URL", base)
        .env("BENCH_USER", "benchadmin")
        .env("BENCH_PASSWORD", PASSWORD)
        .output()
        .context("node")?;
    if !output.status.success() {
        eprintln!(
            "first render not measured: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(&output.stdout)?;
    let files = value["fetched"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|path| match path.trim_start_matches('/') {
            "" => "index.html".to_owned(),
            file => file.to_owned(),
        })
        .collect();
    Ok(value["median_ms"].as_f64().map(|median| (median, files)))
}
