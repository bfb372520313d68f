//! Provisio's benchmarks, side by side on SQLite and PostgreSQL, against the release binary:
//! HTTP throughput and latency (wrk from loopback) of login, the deployments list over 10,000
//! rows, statistics and request creation, beside a hello-world actix-web server as the ceiling;
//! idle and under-load RSS; cold start to /readyz; job queue throughput with 1, 4 and 16 workers
//! in a `provisio worker` process; live log latency (a worker prints, an SSE client receives);
//! binary and web bundle sizes; first render of the dashboard in headless Chromium.
//!
//! `bench/run.sh` builds and runs it: `provisio-bench --pg URL --out bench/RESULTS.md`.

use anyhow::{anyhow, bail, Context, Result};
use api::entities::{deployments, jobs, projects};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod realistic;

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

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Process {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}

/// The highest RSS of `pid` in MiB over the next `span`, sampled ten times a second.
fn peak_rss(pid: u32, span: Duration) -> tokio::task::JoinHandle<f64> {
    tokio::spawn(async move {
        let mut peak: f64 = 0.0;
        let started = Instant::now();
        while started.elapsed() < span {
            peak = peak.max(rss_mib(pid));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// One wrk run: requests per second, p50 and p99 latency in ms, and non-2xx answers.
#[derive(Clone, Copy, Default)]
struct Load {
    rps: f64,
    p50: f64,
    p99: f64,
    errors: u64,
    /// CPU time per answered request, in µs, of the server and of wrk: on a machine they share,
    /// what one spends the other cannot.
    server_us: f64,
    client_us: f64,
}

/// CPU time (user + system) process `pid` has used so far, in µs.
fn process_cpu_us(pid: u32) -> f64 {
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // Fields after the parenthesized command name; utime and stime are the 12th and 13th.
            let fields: Vec<u64> = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .skip(11)
                .take(2)
                .map(|f| f.parse().ok())
                .collect::<Option<_>>()?;
            Some(fields.iter().sum::<u64>())
        });
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    match ticks {
        Some(ticks) if per_second > 0 => ticks as f64 * 1e6 / per_second as f64,
        _ => f64::NAN,
    }
}

/// CPU time (user + system) of this process's waited-for children so far, in µs.
fn children_cpu_us() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

fn wrk(
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
const BROWSER_ACCEPT_ENCODING: &str = "Accept-Encoding: gzip, deflate, br, zstd";

/// `load`'s throughput as a share of the hello world's, against the ≥ 40 % target.
fn ceiling_ratio(load: &Load, hello: &Load) -> String {
    let ratio = load.rps / hello.rps * 100.0;
    format!("{ratio:.1} % ({})", mark(ratio >= 40.0))
}

/// A GET measured after a short unmeasured run: the steady state, once the first answers (which
/// miss the in-memory caches and the database's page cache) are behind.
fn warmed_wrk(server: u32, url: &str, headers: &[&str]) -> Result<Load> {
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
const POST_SCRIPT: &str = r#"
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

struct Server {
    process: Process,
    base: String,
}

struct Backend {
    name: &'static str,
    database_url: String,
    scratch: PathBuf,
    binary: PathBuf,
}

impl Backend {
    fn command(&self, args: &[&str], bind: u16, workers: usize, log: &str) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("PROVISIO_KEY_FILE", self.scratch.join("provisio.key"))
            .env("PROVISIO_BIND", format!("127.0.0.1:{bind}"))
            .env("PROVISIO_WORKERS", workers.to_string())
            .env("PROVISIO_ADMIN_PASSWORD", PASSWORD)
            .env("PROVISIO_LOGIN_MAX_PER_IP", "100000000")
            .env("PROVISIO_LOGIN_MAX_FAILURES", "100000000")
            .env("PROVISIO_PROJECTS_DIR", self.scratch.join("projects"))
            .env("PROVISIO_TERRAFORM_DIR", self.scratch.join("terraform"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(self.scratch.join(log))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            );
        command
    }

    /// The administrator the benchmarks sign in as (`PASSWORD`).
    fn create_admin(&self) -> Result<()> {
        let status = self
            .command(
                &[
                    "create-admin",
                    "--username",
                    "benchadmin",
                    "--email",
                    "bench@example.com",
                ],
                0,
                0,
                "create-admin.log",
            )
            .status()?;
        if !status.success() {
            bail!("create-admin failed on {}", self.name);
        }
        Ok(())
    }

    /// Starts `provisio serve` and returns once /readyz answers, with the time that took.
    async fn serve(&self, workers: usize) -> Result<(Server, Duration)> {
        let port = free_port();
        let started = Instant::now();
        let process = Process(
            self.command(&["serve"], port, workers, "serve.log")
                .spawn()?,
        );
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(res) = client.get(format!("{base}/readyz")).send().await {
                if res.status().is_success() {
                    return Ok((Server { process, base }, started.elapsed()));
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        bail!(
            "{} did not become ready; see {}",
            self.name,
            self.scratch.join("serve.log").display()
        )
    }
}

#[derive(Default)]
struct Results {
    first_start_ms: f64,
    cold_start_ms: f64,
    idle_rss: f64,
    load_rss: f64,
    /// The queue target is PostgreSQL's (SQLite has one writer).
    postgres: bool,
    hello: Load,
    /// The hello-world server answering the list's own body.
    same_size: Load,
    list_bytes: usize,
    me: Load,
    login: Load,
    list: Load,
    /// The list asked for as browsers and HTTP libraries do, accepting compressed answers.
    list_as_browsers_ask: Load,
    statistics: Load,
    create_request: Load,
    sse_p50: f64,
    sse_p95: f64,
    sse_lines: usize,
    queue: Vec<(usize, f64)>,
    first_render_ms: Option<f64>,
    /// Web files (paths under the site root) the browser fetched for the first renders.
    first_render_files: Vec<String>,
}

async fn login(client: &reqwest::Client, base: &str) -> Result<String> {
    let body: Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"login": "benchadmin", "password": PASSWORD}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no access token in {body}"))
}

async fn seed_deployments(db: &DatabaseConnection, team_id: uuid::Uuid) -> Result<()> {
    let now = chrono::Utc::now();
    let txn = db.begin().await?;
    let project = uuid::Uuid::new_v4();
    insert_project(&txn, project, team_id, "bench-project").await?;
    let statuses = [
        "RUNNING", "RUNNING", "RUNNING", "FAILED", "STOPPED", "RUNNING",
    ];
    for chunk in (0..DEPLOYMENT_ROWS).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|&n| {
            deployment_row(
                n,
                team_id,
                project,
                now - chrono::Duration::minutes(n as i64),
                &statuses,
            )
        });
        deployments::Entity::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A synced project `name` of `team_id`, for seeded deployments to belong to.
async fn insert_project<C: ConnectionTrait>(
    db: &C,
    id: uuid::Uuid,
    team_id: uuid::Uuid,
    name: &str,
) -> Result<()> {
    let now = chrono::Utc::now();
    projects::Entity::insert(projects::ActiveModel {
        id: Set(id),
        team_id: Set(team_id),
        name: Set(name.into()),
        url: Set(format!("https://git.example.com/bench/{name}.git")),
        default_branch: Set("main".into()),
        deploy_key: Set(None),
        status: Set("ready".into()),
        error: Set(None),
        last_commit: Set(None),
        detected_framework: Set(Some("flask".into())),
        last_synced_at: Set(Some(now)),
        created_by: Set(None),
        created_at: Set(now),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The `n`th seeded deployment: framework and status (from `statuses`) cycle with `n`.
fn deployment_row(
    n: usize,
    team_id: uuid::Uuid,
    project: uuid::Uuid,
    at: chrono::DateTime<chrono::Utc>,
    statuses: &[&str],
) -> deployments::ActiveModel {
    let frameworks = ["flask", "django", "react", "express", "laravel", "nextjs"];
    let status = statuses[n % statuses.len()];
    deployments::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        team_id: Set(team_id),
        name: Set(format!("app-{n}")),
        project_id: Set(project),
        branch: Set("main".into()),
        commit_sha: Set(Some(format!("{n:040x}"))),
        framework: Set(frameworks[n % frameworks.len()].into()),
        module: Set(None),
        deployment_type: Set(if n.is_multiple_of(3) { "lxc" } else { "vm" }.into()),
        cpu: Set(Some(2)),
        ram_mb: Set(Some(2048)),
        disk_gb: Set(Some(20)),
        status: Set(status.into()),
        failed_step: Set((status == "FAILED").then(|| "health check".into())),
        error: Set((status == "FAILED").then(|| "the app answered 500".into())),
        server_id: Set(None),
        request_id: Set(None),
        port: Set(Some(8000 + (n % 1000) as i32)),
        app_port: Set(Some(18000 + (n % 1000) as i32)),
        url: Set(Some(format!("http://10.0.0.{}:8000/", n % 250))),
        env: Set(None),
        execution_id: Set(None),
        created_by: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
        deployed_at: Set((status == "RUNNING").then_some(at)),
    }
}

/// Queues `count` probe jobs, each with its execution, as every job started from the API has.
async fn queue_probes(db: &DatabaseConnection, count: usize) -> Result<()> {
    let txn = db.begin().await?;
    for _ in 0..count {
        let execution = api::domain::probes::new_execution(&txn, None)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        api::domain::executions::create_with_job(
            &txn,
            api::domain::jobs::JobKind::Probe,
            execution,
            json!({}),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> Result<i64> {
    let row = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await?
        .ok_or_else(|| anyhow!("no row for {sql}"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
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

async fn run_backend(backend: &Backend, args: &Args, render: bool) -> Result<Results> {
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

struct Sizes {
    binary_mib: f64,
    files: Vec<(String, usize, usize, usize)>,
}

fn sizes(root: &Path) -> Result<Sizes> {
    use std::io::Write;
    let binary = std::fs::metadata(root.join("target/release/provisio"))?.len() as f64;
    let mut files = Vec::new();
    let dist = root.join("web/dist");
    let mut names: Vec<_> = std::fs::read_dir(&dist)
        .with_context(|| format!("{} (trunk build --release)", dist.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| {
            [".html", ".js", ".css", ".wasm"]
                .iter()
                .any(|s| n.ends_with(s))
        })
        .collect();
    names.sort();
    for name in names {
        let bytes = std::fs::read(dist.join(&name))?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes)?;
        let gzip = gz.finish()?.len();
        let mut br = Vec::new();
        brotli::BrotliCompress(
            &mut bytes.as_slice(),
            &mut br,
            &brotli::enc::BrotliEncoderParams {
                quality: 11,
                ..Default::default()
            },
        )?;
        files.push((name, bytes.len(), gzip, br.len()));
    }
    Ok(Sizes {
        binary_mib: binary / 1024.0 / 1024.0,
        files,
    })
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "missed"
    }
}

/// The title, when and where it was measured.
fn heading(commit: &str) -> String {
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

fn report(runs: &[(&str, Results)], sizes: &Sizes) -> String {
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

async fn drop_postgres(base: &str, name: &str) {
    if let Ok(admin) = Database::connect(format!("{base}/postgres")).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

async fn fresh_postgres(base: &str) -> Result<(String, String)> {
    let name = format!("provisio_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(format!("{base}/postgres")).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    admin.close().await?;
    Ok((format!("{base}/{name}"), name))
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
