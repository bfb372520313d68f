//! The workload people make, not one URL asked again and again on an idle server: 10,000
//! deployments and 2,000 server requests over two teams, four users of different roles each
//! with their own token, wrk mixing list pages 1..200, filtered first pages, detail reads,
//! statistics, `/api/auth/me` and the requests list (`realistic.lua`), while a client writes about
//! ten times a second through the API and a worker process runs a job that logs a line every
//! 10 ms. Beside it, the original system's stack (Flask + Flask-SQLAlchemy under gunicorn with two
//! workers, `bench/reference/`) serves the same rows, and both answer the endpoints they share
//! (`BENCH_MIX=reference`) in the same run. Also: page 200 by offset and by cursor against page
//! 1, and a soak (the workload plus query strings never seen before) for memory.

use crate::{
    free_port, percentile, process_cpu_us, rss_mib, wrk, Backend, Load, Process, PASSWORD,
};
use anyhow::{bail, Context, Result};
use api::entities::{deployments, server_requests};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait, Set, TransactionTrait};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

struct Users {
    /// (may read deployments, token) per user.
    tokens: Vec<(bool, String)>,
    requester: String,
    team_b: String,
    account: String,
}

async fn post(client: &reqwest::Client, url: String, token: &str, body: Value) -> Result<Value> {
    let res = client
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = res.status();
    let text = res.text().await?;
    if !status.is_success() {
        bail!("POST {url}: {status} {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn login_as(
    client: &reqwest::Client,
    base: &str,
    login: &str,
    password: &str,
) -> Result<String> {
    let body = post(
        client,
        format!("{base}/api/auth/login"),
        "",
        json!({"login": login, "password": password}),
    )
    .await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access token")
}

/// Two teams, a technical agent in the first, a sales agent in both, a requester in the second,
/// and the administrator; a provider account for the requests.
async fn users(client: &reqwest::Client, base: &str) -> Result<(Users, [uuid::Uuid; 2])> {
    let admin = login_as(client, base, "benchadmin", PASSWORD).await?;
    let mut teams = Vec::new();
    for name in ["Alpha", "Beta"] {
        let team = post(
            client,
            format!("{base}/api/teams"),
            &admin,
            json!({"name": name, "description": ""}),
        )
        .await?;
        teams.push(team["id"].as_str().context("team id")?.to_owned());
    }
    let password = "bench-user-password-1";
    let mut tokens = vec![(true, admin.clone())];
    let mut requester = String::new();
    for (username, role, member_of) in [
        ("agent", "technical_agent", vec![&teams[0]]),
        ("seller", "sales_agent", vec![&teams[0], &teams[1]]),
        ("asker", "requester", vec![&teams[1]]),
    ] {
        post(
            client,
            format!("{base}/api/users"),
            &admin,
            json!({"username": username, "email": format!("{username}@example.com"),
                   "full_name": username, "password": password, "roles": [role],
                   "team_ids": member_of}),
        )
        .await?;
        let token = login_as(client, base, username, password).await?;
        if role == "requester" {
            requester = token.clone();
        }
        tokens.push((role == "technical_agent", token));
    }
    let account = post(
        client,
        format!("{base}/api/provider-accounts"),
        &admin,
        json!({
            "name": "Bench Hetzner", "kind": "hetzner", "endpoint": "http://127.0.0.1:9/v1",
            "catalog": {"currency": "EUR", "locations": ["fsn1"], "images": ["debian-12"],
              "server_types": [{"name": "cx22", "cpu": 2, "ram_mb": 4096, "disk_gb": 40, "monthly_price_cents": 459}]}
        }),
    )
    .await?;
    let ids = [teams[0].parse()?, teams[1].parse()?];
    Ok((
        Users {
            tokens,
            requester,
            team_b: teams[1].clone(),
            account: account["id"].as_str().context("account id")?.to_owned(),
        },
        ids,
    ))
}

/// 10,000 deployments and 2,000 server requests, alternating between the teams, one project each.
async fn seed(db: &DatabaseConnection, teams: [uuid::Uuid; 2], account: uuid::Uuid) -> Result<()> {
    let now = chrono::Utc::now();
    let requester: uuid::Uuid = {
        let row = db
            .query_one(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT id FROM users WHERE username = 'asker'",
            ))
            .await?
            .context("the requester")?;
        row.try_get_by_index(0)?
    };
    let txn = db.begin().await?;
    let mut project_of = Vec::new();
    for (n, team) in teams.iter().enumerate() {
        let id = uuid::Uuid::new_v4();
        crate::insert_project(&txn, id, *team, &format!("project-{n}")).await?;
        project_of.push(id);
    }
    let statuses = [
        "RUNNING", "RUNNING", "RUNNING", "FAILED", "STOPPED", "RUNNING", "DELETED",
    ];
    for chunk in (0..DEPLOYMENTS).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|&n| {
            let at = now - chrono::Duration::seconds(n as i64 * 37);
            crate::deployment_row(n, teams[n % 2], project_of[n % 2], at, &statuses)
        });
        deployments::Entity::insert_many(rows).exec(&txn).await?;
    }
    let request_statuses = ["PENDING", "APPROVED", "DEPLOYED", "REJECTED", "FAILED"];
    for chunk in (0..REQUESTS).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|&n| {
            let at = now - chrono::Duration::seconds(n as i64 * 113);
            server_requests::ActiveModel {
                id: Set(uuid::Uuid::new_v4()),
                requester_id: Set(requester),
                team_id: Set(teams[n % 2]),
                provider_account_id: Set(account),
                hostname: Set(format!("host-{n}")),
                location: Set("fsn1".into()),
                server_type: Set(Some("cx22".into())),
                cpu: Set(2),
                ram_mb: Set(4096),
                disk_gb: Set(40),
                image: Set("debian-12".into()),
                purpose: Set(format!("bench request {n}")),
                ssh_public_keys: Set(json!([])),
                notes: Set(String::new()),
                status: Set(request_statuses[n % request_statuses.len()].into()),
                estimated_monthly_cents: Set(Some(459)),
                currency: Set(Some("EUR".into())),
                rejection_reason: Set(None),
                policy_step: Set(0),
                failure_reason: Set(None),
                subscription_id: Set(None),
                created_at: Set(at),
                updated_at: Set(at),
            }
        });
        server_requests::Entity::insert_many(rows)
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// About ten writes a second through the API (server requests filed by the requester) until
/// stopped; counts what succeeded and what did not.
fn start_writer(
    base: String,
    users: &Users,
    stop: Arc<std::sync::atomic::AtomicBool>,
    done: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<()> {
    let (token, team, account) = (
        users.requester.clone(),
        users.team_b.clone(),
        users.account.clone(),
    );
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut tick = tokio::time::interval(Duration::from_millis(1000 / WRITES_PER_SECOND));
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            n += 1;
            let body = json!({
                "hostname": format!("written-{}-{n}", std::process::id()), "team_id": team,
                "provider_account_id": account, "location": "fsn1", "image": "debian-12",
                "server_type": "cx22", "purpose": "written during the benchmark", "notes": ""
            });
            let ok = client
                .post(format!("{base}/api/requests"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .is_ok_and(|res| res.status().is_success());
            if ok { &done } else { &failed }.fetch_add(1, Ordering::Relaxed);
        }
    })
}

/// A probe job printing a line every 10 ms for `seconds`, run by the worker process.
async fn start_logging_job(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    seconds: u64,
) -> Result<()> {
    post(
        client,
        format!("{base}/api/probes"),
        admin,
        json!({"lines": (seconds * 100).min(10_000), "interval_ms": 10}),
    )
    .await?;
    Ok(())
}

/// `sqlite://path?mode=rwc` or `postgres://…` as SQLAlchemy names it.
fn sqlalchemy_url(database_url: &str) -> String {
    if let Some(rest) = database_url.strip_prefix("sqlite://") {
        let path = rest.split('?').next().unwrap_or(rest);
        format!("sqlite:///{path}")
    } else if let Some(rest) = database_url.strip_prefix("postgres://") {
        format!("postgresql://{rest}")
    } else {
        database_url.to_owned()
    }
}

/// gunicorn with two workers serving `bench/reference/app.py` on the same database.
fn start_reference(root: &Path, backend: &Backend) -> Result<Option<(Process, String)>> {
    let gunicorn = root.join(".venv-reference/bin/gunicorn");
    if !gunicorn.exists() {
        eprintln!(
            "{} is missing: the Flask reference is skipped (bench/run.sh installs it)",
            gunicorn.display()
        );
        return Ok(None);
    }
    let port = free_port();
    let process = Process(
        Command::new(gunicorn)
            .args([
                "--workers",
                "2",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--log-level",
                "warning",
            ])
            .arg("--chdir")
            .arg(root.join("bench/reference"))
            .arg("app:app")
            .env(
                "REFERENCE_DATABASE_URL",
                sqlalchemy_url(&backend.database_url),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(backend.scratch.join("reference.log"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .context("gunicorn")?,
    );
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(Some((process, base)));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!(
        "the Flask reference did not start; see {}",
        backend.scratch.join("reference.log").display()
    )
}

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
fn mix(
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

struct Files {
    tokens: PathBuf,
    ids: PathBuf,
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
        let sampler = crate::peak_rss(pid, Duration::from_secs(soak_seconds));
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
    drop(server);
    Ok(results)
}

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
