//! Scale-out on one PostgreSQL database: two `provisio serve` processes without workers and two
//! `provisio worker` processes, started from the built binary. Probes sent through either server
//! run exactly once; a live stream on one server sees the log of a job that a worker process
//! runs; killing a worker (kill -9) mid-job and killing the server a stream was reading lose
//! nothing: the job is reclaimed after its lease and the stream resumes on the other server.

mod common;

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::{provisio_command as provisio, wait_ready, Process};

const PASSWORD: &str = "scale-out-admin-password";

async fn send_probe(client: &reqwest::Client, base: &str, token: &str, wait_ms: u32) -> String {
    let res = client
        .post(format!("{base}/api/probes"))
        .bearer_auth(token)
        .json(&json!({ "wait_ms": wait_ms }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
    let body: Value = res.json().await.unwrap();
    body["execution_id"].as_str().unwrap().to_owned()
}

/// Log lines (id, text) read from a live stream until `stop` says enough or the stream ends.
async fn read_stream(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    last_event_id: Option<i64>,
    mut stop: impl FnMut(&[(i64, String)]) -> bool,
) -> (Vec<(i64, String)>, bool) {
    let mut request = client.get(url).bearer_auth(token);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id.to_string());
    }
    let mut res = request.send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (mut buffer, mut lines, mut ended) = (String::new(), Vec::new(), false);
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(60), res.chunk()).await
    {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                frame
                    .lines()
                    .find_map(|l| l.strip_prefix(name).map(str::to_owned))
            };
            match field("event: ").as_deref() {
                Some("log") => {
                    let line: Value = serde_json::from_str(&field("data: ").unwrap()).unwrap();
                    lines.push((
                        line["id"].as_i64().unwrap(),
                        line["text"].as_str().unwrap().to_owned(),
                    ));
                }
                Some("end") => ended = true,
                _ => {}
            }
        }
        if ended || stop(&lines) {
            break;
        }
    }
    (lines, ended)
}

#[tokio::test]
async fn two_servers_and_two_workers_share_one_postgresql() {
    let Ok(base_url) = std::env::var("PROVISIO_TEST_PG_URL") else {
        // The PostgreSQL pass of scripts/test.sh runs this test; the SQLite pass leaves it out.
        assert!(
            std::env::var("PROVISIO_REQUIRE_FAKES").is_err(),
            "the scale-out test needs PROVISIO_TEST_PG_URL in CI"
        );
        eprintln!("skipped: PROVISIO_TEST_PG_URL is not set");
        return;
    };
    assert!(!base_url.is_empty());
    let scratch = std::env::temp_dir().join(format!("provisio-scale-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&scratch).unwrap();
    let database_url = common::fresh_database_url(&scratch).await;
    let (port_a, port_b) = (common::free_port(), common::free_port());
    let env = |bind: u16| {
        vec![
            ("DATABASE_URL", database_url.clone()),
            (
                "PROVISIO_KEY_FILE",
                scratch.join("provisio.key").display().to_string(),
            ),
            ("PROVISIO_BIND", format!("127.0.0.1:{bind}")),
            ("PROVISIO_WEB_DIR", scratch.display().to_string()),
            ("PROVISIO_WORKERS", "0".into()),
            ("PROVISIO_JOB_POLL_MS", "50".into()),
            ("PROVISIO_JOB_LEASE_SECS", "3".into()),
            ("PROVISIO_ADMIN_PASSWORD", PASSWORD.into()),
            ("PROVISIO_LOG_FORMAT", "json".into()),
        ]
    };
    // Migrations and the key file first, so four processes do not race to create them.
    let created = provisio(
        &env(port_a),
        &[
            "create-admin",
            "--username",
            "scaleadmin",
            "--email",
            "scale@example.com",
        ],
        &scratch.join("create-admin.log"),
    )
    .status()
    .unwrap();
    assert!(created.success());

    let spawn = |name: &'static str, bind: u16, args: &[&str]| Process {
        child: provisio(&env(bind), args, &scratch.join(format!("{name}.log")))
            .spawn()
            .unwrap(),
    };
    let client = reqwest::Client::new();
    let (a, b) = (
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    );
    // The first server creates the service key; then the others start side by side.
    let mut server_a = spawn("serve-a", port_a, &["serve"]);
    wait_ready(&client, &a).await;
    let _server_b = spawn("serve-b", port_b, &["serve"]);
    let mut worker_1 = spawn("worker-1", 0, &["worker", "--count", "4"]);
    let _worker_2 = spawn("worker-2", 0, &["worker", "--count", "4"]);
    let worker_1_pid = worker_1.child.id();
    wait_ready(&client, &b).await;
    let login: Value = client
        .post(format!("{a}/api/auth/login"))
        .json(&json!({"login": "scaleadmin", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();

    // 0. Server A remembers a signed-in caller; deactivating them through server B ends their
    // session on A as soon as B's commit is announced (the users trigger's NOTIFY).
    let created = client
        .post(format!("{b}/api/users"))
        .bearer_auth(&token)
        .json(
            &json!({"username": "scale-member", "email": "member@example.com",
                      "full_name": "Scale Member", "password": PASSWORD, "roles": ["requester"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let member: Value = created.json().await.unwrap();
    let member_token = client
        .post(format!("{a}/api/auth/login"))
        .json(&json!({"login": "scale-member", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me_on_a = || async {
        client
            .get(format!("{a}/api/auth/me"))
            .bearer_auth(&member_token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!((me_on_a().await, me_on_a().await), (200, 200));
    let deactivated = client
        .patch(format!("{b}/api/users/{}", member["id"].as_str().unwrap()))
        .bearer_auth(&token)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(deactivated.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    while me_on_a().await != 401 {
        assert!(
            Instant::now() < deadline,
            "server A still accepts a caller deactivated through server B"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // This test process writes nothing: a wake-up here comes from another process's commit.
    let db = sea_orm::Database::connect(&database_url).await.unwrap();
    tokio::spawn(api::live::listen(db.clone()));
    let mut changes = api::live::subscribe();
    tokio::time::sleep(Duration::from_millis(500)).await;
    changes.borrow_and_update();

    // 1. A stream on server B follows a probe that one of the worker processes runs.
    let followed = send_probe(&client, &a, &token, 1_500).await;
    let (lines, ended) = read_stream(
        &client,
        &format!("{b}/api/executions/{followed}/events"),
        &token,
        None,
        |_| false,
    )
    .await;
    assert!(ended, "the stream on server B saw the probe finish");
    assert!(
        lines
            .iter()
            .any(|(_, t)| t.starts_with("probe answered by worker")),
        "{lines:?}"
    );
    assert!(
        tokio::time::timeout(Duration::from_secs(5), changes.changed())
            .await
            .is_ok(),
        "LISTEN/NOTIFY woke a process that wrote nothing"
    );

    // 2. Two hundred probes through both servers: each runs once, both worker processes help.
    let mut probes = Vec::new();
    for n in 0..200 {
        let server = if n % 2 == 0 { &a } else { &b };
        probes.push(send_probe(&client, server, &token, 10).await);
    }

    // 3. Long probes, then kill -9 worker 1 while it holds some of them.
    let mut long = Vec::new();
    for _ in 0..8 {
        long.push(send_probe(&client, &a, &token, 3_000).await);
    }
    let held_by_worker_1 = format!("%:{worker_1_pid}:%");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let held = scalar(
            &db,
            &format!(
                "SELECT COUNT(*) FROM jobs WHERE kind = 'probe' AND status = 'running' \
                 AND (payload->>'wait_ms')::int = 3000 AND locked_by LIKE '{held_by_worker_1}'"
            ),
        )
        .await;
        if held > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "worker 1 never held a long probe"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker_1.kill();

    // 4. A stream on server A is cut by kill -9 and resumed on server B after its last id.
    let resumed = send_probe(&client, &b, &token, 2_000).await;
    let url = |base: &str| format!("{base}/api/executions/{resumed}/events");
    let (before, _) = read_stream(&client, &url(&a), &token, None, |lines| !lines.is_empty()).await;
    assert!(!before.is_empty());
    server_a.kill();
    let (after, ended) = read_stream(
        &client,
        &url(&b),
        &token,
        before.last().map(|l| l.0),
        |_| false,
    )
    .await;
    assert!(ended);
    let streamed: Vec<i64> = before.iter().chain(&after).map(|l| l.0).collect();
    let stored: Vec<i64> = log_column(&db, &resumed, "id").await;
    assert_eq!(
        streamed, stored,
        "no line lost or repeated across the failover"
    );

    // Everything ends: no job left behind, none run twice, both worker processes worked.
    let all: Vec<&String> = probes
        .iter()
        .chain(&long)
        .chain([&followed, &resumed])
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while scalar(
        &db,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'probe' AND status <> 'succeeded'",
    )
    .await
        > 0
    {
        assert!(Instant::now() < deadline, "probes still unfinished");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM jobs WHERE kind = 'probe'").await,
        all.len() as i64
    );
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    let mut processes = BTreeSet::new();
    for execution in &all {
        let rows: Vec<String> = log_column(&db, execution, "text").await;
        let answered: Vec<&String> = rows
            .iter()
            .filter(|t| t.starts_with("probe answered by worker"))
            .collect();
        assert_eq!(answered.len(), 1, "{execution}: {rows:?}");
        // Worker names are host:pid:tag:n.
        let worker = answered[0].trim_start_matches("probe answered by worker ");
        processes.insert(worker.split(':').nth(1).unwrap_or_default().to_owned());
        *answers.entry(execution.to_string()).or_default() += 1;
    }
    assert_eq!(answers.len(), all.len());
    assert!(
        processes.len() >= 2,
        "both worker processes ran probes: {processes:?}"
    );
    let reclaimed = scalar(
        &db,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'probe' AND attempts = 2 \
         AND (payload->>'wait_ms')::int = 3000",
    )
    .await;
    assert!(
        reclaimed >= 1,
        "a probe held by the killed worker was reclaimed"
    );
    let unfinished = scalar(
        &db,
        "SELECT COUNT(*) FROM executions WHERE kind = 'probe' AND status <> 'succeeded'",
    )
    .await;
    assert_eq!(unfinished, 0);
    let _ = std::fs::remove_dir_all(&scratch);
}

async fn scalar(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// One column of an execution's log lines, in order.
async fn log_column<T: sea_orm::TryGetable>(
    db: &sea_orm::DatabaseConnection,
    execution: &str,
    column: &str,
) -> Vec<T> {
    use sea_orm::{ConnectionTrait, Statement};
    db.query_all(Statement::from_string(
        db.get_database_backend(),
        format!(
            "SELECT {column} FROM execution_logs WHERE execution_id = '{execution}' ORDER BY id"
        ),
    ))
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.try_get_by_index::<T>(0).unwrap())
    .collect()
}
