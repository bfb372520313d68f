//! Secrets never leak: the real binary (JSON logs at debug level) runs a scenario with distinctive
//! secrets — passwords, API and refresh tokens, provider tokens (one of them wrong, so error paths
//! run too), an uploaded SSH private key, a deploy key, deployment environment values, a webhook
//! secret, secret script variables used on the sshd test host, a provisioning run — then the
//! database (file bytes, or every table of the PostgreSQL database as text), the log file, every
//! SSE stream, the audit rows (API and SQL) and every response are searched for each secret in
//! clear, base64 and hex. The one expected place of a token — the response that issues it — is
//! the only exception. The key file is not scanned.

mod common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SCRIPT: &str = r#"- hosts: all
  gather_facts: false
  tasks:
    - name: Hand the token to the host
      ansible.builtin.copy:
        dest: "{{ out_dir }}/{{ inventory_hostname }}.token"
        content: "{{ token }}\n"
        mode: "0600"
    - name: Show the token
      ansible.builtin.debug:
        msg: "token is {{ token }}"
"#;

struct Server(Child);

impl Drop for Server {
    /// Stopped as an operator would (SIGTERM), so the log file holds every line the server
    /// wrote (a background thread writes them) before it is scanned; killed if it does not stop.
    fn drop(&mut self) {
        // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
        unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn secret(label: &str) -> String {
    format!(
        "{label}-{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Everything the scenario saw, as (where, text).
#[derive(Default)]
struct Corpus {
    texts: Vec<(String, Vec<u8>)>,
}

impl Corpus {
    fn add(&mut self, place: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.texts.push((place.into(), bytes.into()));
    }

    /// Where `secret` (or its base64 or hex form) occurs, except in `allowed` places: the first
    /// form found in each place.
    fn hits(&self, secret: &str, allowed: &[String]) -> Vec<String> {
        let forms = [
            ("clear", secret.to_owned()),
            ("base64", STANDARD.encode(secret)),
            ("base64url", URL_SAFE_NO_PAD.encode(secret)),
            ("hex", hex::encode(secret)),
            ("HEX", hex::encode_upper(secret)),
        ];
        let mut found = Vec::new();
        for (place, bytes) in &self.texts {
            if allowed.contains(place) {
                continue;
            }
            let first = forms
                .iter()
                .find(|(_, needle)| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()));
            if let Some((form, _)) = first {
                found.push(format!("{form} in {place}"));
            }
        }
        found
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    corpus: Corpus,
    calls: usize,
}

impl Client {
    /// One API call; its status line, headers and body go into the corpus under a label that
    /// is returned.
    async fn call(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        cookie: Option<&str>,
        body: Option<Value>,
    ) -> (String, StatusCode, reqwest::header::HeaderMap, Value) {
        self.calls += 1;
        let label = format!("response #{} {method} {path}", self.calls);
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(cookie) = cookie {
            req = req.header("cookie", format!("provisio_refresh={cookie}"));
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let mut recorded = format!("{status}\n");
        for (name, value) in &headers {
            recorded.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("")));
        }
        recorded.push_str(&text);
        self.corpus.add(label.clone(), recorded);
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (label, status, headers, value)
    }

    async fn expect(
        &mut self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        status: StatusCode,
    ) -> Value {
        let (_, got, _, value) = self.call(method, path, Some(token), None, body).await;
        assert_eq!(got, status, "{path}: {value}");
        value
    }

    /// An SSE stream read until it ends or `within` passes; kept in the corpus.
    async fn stream(&mut self, path: &str, token: &str, within: Duration) -> String {
        let mut res = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let mut text = Vec::new();
        let deadline = tokio::time::Instant::now() + within;
        while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, res.chunk()).await {
            text.extend_from_slice(&chunk);
        }
        self.corpus.add(format!("stream {path}"), text.clone());
        String::from_utf8_lossy(&text).into_owned()
    }
}

fn provisio(scratch: &Path, database_url: &str, port: u16, log: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_provisio"));
    let vars = [
        ("DATABASE_URL", database_url.to_owned()),
        // The Git hosts of the tests listen on loopback.
        ("PROVISIO_GIT_PRIVATE_NETWORKS", "allow".into()),
        ("PROVISIO_WEBHOOK_PRIVATE_NETWORKS", "allow".into()),
        (
            "PROVISIO_KEY_FILE",
            scratch.join("provisio.key").display().to_string(),
        ),
        ("PROVISIO_BIND", format!("127.0.0.1:{port}")),
        ("PROVISIO_LOG_FORMAT", "json".into()),
        ("RUST_LOG", "debug".into()),
        ("PROVISIO_WORKERS", "2".into()),
        ("PROVISIO_JOB_POLL_MS", "100".into()),
        ("PROVISIO_JOB_MAX_ATTEMPTS", "1".into()),
        (
            "PROVISIO_PROJECTS_DIR",
            scratch.join("projects").display().to_string(),
        ),
        (
            "PROVISIO_TERRAFORM_DIR",
            scratch.join("terraform").display().to_string(),
        ),
        (
            "PROVISIO_APPS_ROOT",
            scratch.join("apps").display().to_string(),
        ),
    ];
    command
        .current_dir(scratch)
        .env_remove("DB_HOST")
        .envs(vars)
        .stdin(Stdio::null())
        .stdout(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap(),
        )
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap(),
        );
    command
}

async fn wait_until(what: &str, within: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done().await {
        assert!(Instant::now() < deadline, "{what} did not happen in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every table of the PostgreSQL test database as text, one row a line.
async fn dump_database(database_url: &str) -> Vec<u8> {
    let db = Database::connect(database_url).await.unwrap();
    let backend = db.get_database_backend();
    let tables = db
        .query_all(Statement::from_string(
            backend,
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        ))
        .await
        .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let name: String = table.try_get("", "name").unwrap();
        let sql = format!("SELECT row_to_json(t)::text AS j FROM \"{name}\" t");
        for row in db
            .query_all(Statement::from_string(backend, sql))
            .await
            .unwrap()
        {
            let line: String = row.try_get("", "j").unwrap();
            out.extend_from_slice(format!("{name}: {line}\n").as_bytes());
        }
    }
    db.close().await.ok();
    out
}

/// The audit rows as text, straight from the table.
async fn audit_rows(database_url: &str) -> Vec<u8> {
    let db = Database::connect(database_url).await.unwrap();
    let backend = db.get_database_backend();
    let rows = db
        .query_all(Statement::from_string(
            backend,
            "SELECT action, target_type, CAST(target_id AS TEXT) AS target, \
             CAST(\"before\" AS TEXT) AS b, CAST(\"after\" AS TEXT) AS a FROM audit_events",
        ))
        .await
        .unwrap();
    db.close().await.ok();
    let mut out = String::new();
    for row in &rows {
        for column in ["action", "target_type", "target", "b", "a"] {
            let value: Option<String> = row.try_get("", column).unwrap();
            out.push_str(value.as_deref().unwrap_or("-"));
            out.push('\t');
        }
        out.push('\n');
    }
    assert!(rows.len() > 20, "the scenario is audited: {out}");
    out.into_bytes()
}

#[test]
fn the_scanner_finds_a_planted_secret_in_every_form() {
    let planted = secret("planted");
    let mut corpus = Corpus::default();
    corpus.add("clean", "nothing to see");
    assert!(corpus.hits(&planted, &[]).is_empty());
    corpus.add("log", format!("{{\"msg\":\"token {planted}\"}}"));
    corpus.add("db", STANDARD.encode(&planted).into_bytes());
    corpus.add("dump", hex::encode(&planted).into_bytes());
    assert_eq!(
        corpus.hits(&planted, &[]),
        vec!["clear in log", "base64 in db", "hex in dump"]
    );
    assert_eq!(
        corpus.hits(&planted, &["log".into(), "db".into()]),
        vec!["hex in dump"]
    );
}

#[tokio::test]
async fn no_secret_of_a_full_scenario_reaches_the_database_logs_streams_audit_or_responses() {
    let Some((ssh_port, client_key)) = common::ssh_test_host() else {
        return;
    };
    let ssh_port_b: u16 = std::env::var("PROVISIO_TEST_SSH_PORT_B")
        .unwrap()
        .parse()
        .unwrap();
    let env =
        |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k}: source /tmp/rt/fakes.env"));
    let scratch: PathBuf = std::env::temp_dir().join(format!(
        "provisio-secret-scan-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&scratch).unwrap();
    let database_url = common::fresh_database_url(&scratch).await;
    let log = scratch.join("provisio.log");

    // Secrets of the scenario, and where each may legitimately appear.
    let admin_password = secret("admin-pw");
    let user_password = secret("user-pw");
    let changed_password = secret("changed-pw");
    let reset_password = secret("reset-pw");
    let wrong_pve_token = format!("root@pam!ci={}", uuid::Uuid::new_v4());
    let hook_secret = secret("hook");
    let env_value = secret("env");
    let script_token = secret("script-token");
    let deploy_key = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        secret("deploy-key-body")
    );

    let out = provisio(&scratch, &database_url, 0, &log)
        .args([
            "create-admin",
            "--username",
            "boss",
            "--email",
            "boss@example.com",
        ])
        .env("PROVISIO_ADMIN_PASSWORD", &admin_password)
        .status()
        .unwrap();
    assert!(out.success());
    let port = common::free_port();
    let _server = Server(
        provisio(&scratch, &database_url, port, &log)
            .arg("serve")
            .spawn()
            .unwrap(),
    );
    let mut api = Client {
        http: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{port}"),
        corpus: Corpus::default(),
        calls: 0,
    };
    let http = api.http.clone();
    let base = api.base.clone();
    wait_until("readiness", Duration::from_secs(30), async || {
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;

    // Passwords: login, a new user, their change, an administrator's reset; refresh rotation.
    let login = |login: &str, password: &str| json!({"login": login, "password": password});
    let (login_label, status, headers, body) = api
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            None,
            Some(login("boss", &admin_password)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let admin = body["access_token"].as_str().unwrap().to_owned();
    let first_cookie = common::refresh_cookie_of(&headers).unwrap();
    let (refresh_label, status, headers, _) = api
        .call(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(&first_cookie),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let second_cookie = common::refresh_cookie_of(&headers).unwrap();
    // The first cookie presented again at once (a second tab): the same successor comes back.
    let (replay_label, status, headers, _) = api
        .call(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(&first_cookie),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        common::refresh_cookie_of(&headers).as_deref(),
        Some(second_cookie.as_str())
    );
    let team = api
        .expect(
            Method::POST,
            "/api/teams",
            &admin,
            Some(json!({"name": "Scanners", "description": ""})),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = api
        .expect(
            Method::POST,
            "/api/users",
            &admin,
            Some(
                json!({"username": "dora", "email": "dora@example.com", "full_name": "Dora",
                        "password": user_password, "roles": ["requester"], "team_ids": [team]}),
            ),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, status, _, body) = api
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            None,
            Some(login("dora", &user_password)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dora = body["access_token"].as_str().unwrap().to_owned();
    api.expect(
        Method::PUT,
        "/api/auth/password",
        &dora,
        Some(json!({"current_password": user_password, "new_password": changed_password})),
        StatusCode::NO_CONTENT,
    )
    .await;
    // The old password no longer signs in.
    let (_, status, _, _) = api
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            None,
            Some(login("dora", &user_password)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    api.expect(
        Method::POST,
        &format!("/api/users/{user}/password"),
        &admin,
        Some(json!({"password": reset_password})),
        StatusCode::NO_CONTENT,
    )
    .await;
    let (_, status, _, _) = api
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            None,
            Some(login("dora", &reset_password)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // An API token, used once.
    let (token_label, status, _, body) = api
        .call(
            Method::POST,
            "/api/me/tokens",
            Some(&admin),
            None,
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let api_token = body["secret"].as_str().unwrap().to_owned();
    api.expect(
        Method::GET,
        "/api/auth/me",
        &api_token,
        None,
        StatusCode::OK,
    )
    .await;

    // Provider accounts: Proxmox and Hetzner fakes, a Proxmox account with a wrong token.
    let pve = api
        .expect(
            Method::POST,
            "/api/provider-accounts",
            &admin,
            Some(json!({"name": "pve", "kind": "proxmox", "endpoint": env("PROVISIO_FAKEPVE_URL"),
                        "catalog": {"currency": "EUR", "locations": [env("PROVISIO_FAKEPVE_NODE")], "images": ["debian-12"],
                                    "custom_limits": {"max_cpu": 8, "max_ram_mb": 16384, "max_disk_gb": 200}},
                        "settings": {"images": {"debian-12": env("PROVISIO_FAKEPVE_TEMPLATE_VMID")}},
                        "credentials": {"api_token": env("PROVISIO_FAKEPVE_TOKEN")}})),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = api
        .expect(
            Method::POST,
            &format!("/api/provider-accounts/{pve}/test"),
            &admin,
            Some(json!({})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(report["ok"], true, "{report}");
    let wrong = api
        .expect(
            Method::POST,
            "/api/provider-accounts",
            &admin,
            Some(json!({"name": "pve-wrong", "kind": "proxmox", "endpoint": env("PROVISIO_FAKEPVE_URL"),
                        "catalog": {"currency": "EUR", "locations": [env("PROVISIO_FAKEPVE_NODE")], "images": ["debian-12"],
                                    "custom_limits": {"max_cpu": 8, "max_ram_mb": 16384, "max_disk_gb": 200}},
                        "settings": {"images": {"debian-12": env("PROVISIO_FAKEPVE_TEMPLATE_VMID")}},
                        "credentials": {"api_token": wrong_pve_token}})),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = api
        .expect(
            Method::POST,
            &format!("/api/provider-accounts/{wrong}/test"),
            &admin,
            Some(json!({})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(report["ok"], false, "the wrong token fails: {report}");
    let (_, status, _, _) = api
        .call(
            Method::GET,
            &format!("/api/provider-accounts/{wrong}/resources"),
            Some(&admin),
            None,
            None,
        )
        .await;
    assert!(!status.is_success());
    let hetzner = api
        .expect(
            Method::POST,
            "/api/provider-accounts",
            &admin,
            Some(json!({"name": "hetzner", "kind": "hetzner", "endpoint": env("PROVISIO_HCLOUD_URL"),
                        "catalog": {"currency": "EUR", "locations": ["abilian"], "images": ["debian-13"],
                                    "server_types": [{"name": "small", "cpu": 1, "ram_mb": 2048, "disk_gb": 20, "monthly_price_cents": 400}]},
                        "credentials": {"api_token": env("PROVISIO_HCLOUD_TOKEN")}})),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A provisioning run on the Hetzner fake, followed live to its end.
    let request = api
        .expect(
            Method::POST,
            "/api/requests",
            &admin,
            Some(json!({"hostname": "scan-1", "team_id": team, "provider_account_id": hetzner,
                        "image": "debian-13", "location": "abilian", "server_type": "small",
                        "purpose": "secret scan",
                        "ssh_public_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIJmC5nIuioju6g+QA2YkLz1TkxlBY1nMvpBhfQpgE9n test"]})),
            StatusCode::CREATED,
        )
        .await["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.expect(
        Method::POST,
        &format!("/api/requests/{request}/approve"),
        &admin,
        Some(json!({})),
        StatusCode::OK,
    )
    .await;

    // The sshd test hosts, reached with an uploaded private key.
    let hosts = api
        .expect(
            Method::POST,
            "/api/provider-accounts",
            &admin,
            Some(json!({"name": "hosts", "kind": "ssh", "endpoint": "",
                        "catalog": {"currency": "EUR", "locations": [], "images": []},
                        "credentials": {"private_key": client_key}})),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut servers = Vec::new();
    for (name, port) in [("scan-a", ssh_port), ("scan-b", ssh_port_b)] {
        let detail = api
            .expect(
                Method::POST,
                "/api/servers/register",
                &admin,
                Some(
                    json!({"name": name, "team_id": team, "provider_account_id": hosts,
                            "address": "127.0.0.1", "port": port, "user": "root"}),
                ),
                StatusCode::CREATED,
            )
            .await;
        servers.push(detail["server"]["id"].as_str().unwrap().to_owned());
    }

    // A script with a secret variable, run on both hosts: the token reaches them.
    let script = api
        .expect(
            Method::POST,
            "/api/scripts",
            &admin,
            Some(json!({"name": "token drop", "content": SCRIPT,
                        "variables": [{"name": "out_dir", "kind": "string", "required": true},
                                      {"name": "token", "kind": "secret", "required": true}]})),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out_dir = scratch.join("hosts");
    std::fs::create_dir_all(&out_dir).unwrap();
    let run = api
        .expect(
            Method::POST,
            &format!("/api/scripts/{script}/run"),
            &admin,
            Some(json!({"server_ids": servers, "variables": {"out_dir": out_dir, "token": script_token}})),
            StatusCode::ACCEPTED,
        )
        .await["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run_stream = api
        .stream(
            &format!("/api/executions/{run}/events"),
            &admin,
            Duration::from_secs(120),
        )
        .await;
    assert!(
        run_stream.contains("event: end"),
        "the run finished: {run_stream}"
    );
    let detail = api
        .expect(
            Method::GET,
            &format!("/api/executions/{run}"),
            &admin,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(detail["execution"]["status"], "succeeded", "{detail:#}");
    for host in ["scan-a", "scan-b"] {
        assert_eq!(
            std::fs::read_to_string(out_dir.join(format!("{host}.token"))).unwrap(),
            format!("{script_token}\n"),
            "the secret reached {host}"
        );
    }

    // A webhook, a project with a deploy key, a deployment with an environment (it fails: the
    // repository does not exist, which scans that error path as well).
    api.expect(
        Method::POST,
        "/api/webhooks",
        &admin,
        Some(json!({"name": "hook", "url": "http://127.0.0.1:9/hook", "secret": hook_secret})),
        StatusCode::CREATED,
    )
    .await;
    let project = api
        .expect(
            Method::POST,
            "/api/projects",
            &admin,
            Some(json!({"name": "shop", "url": format!("ssh://root@127.0.0.1:{ssh_port}/nowhere/shop.git"),
                        "team_id": team, "deploy_key": deploy_key})),
            StatusCode::CREATED,
        )
        .await["project"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deployment = api
        .expect(
            Method::POST,
            "/api/deploy",
            &admin,
            Some(
                json!({"name": "shop", "project_id": project, "server_id": servers[0],
                        "framework": "flask", "env": {"GREETING": env_value}}),
            ),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.stream(
        &format!("/api/deployments/{deployment}/events"),
        &admin,
        Duration::from_secs(30),
    )
    .await;
    api.stream(
        &format!("/api/requests/{request}/events"),
        &admin,
        Duration::from_secs(30),
    )
    .await;
    for path in [
        format!("/api/deployments/{deployment}"),
        format!("/api/requests/{request}"),
        format!("/api/projects/{project}"),
        "/api/provider-accounts".into(),
        "/api/webhooks".into(),
        "/api/audit?per_page=200".into(),
    ] {
        api.expect(Method::GET, &path, &admin, None, StatusCode::OK)
            .await;
    }
    let audit_text = api
        .expect(
            Method::GET,
            "/api/audit/export.csv",
            &admin,
            None,
            StatusCode::OK,
        )
        .await;
    assert!(audit_text.to_string().contains("provider_account.create"));

    // What was written, everywhere.
    let mut corpus = std::mem::take(&mut api.corpus);
    corpus.add("audit rows (SQL)", audit_rows(&database_url).await);
    if common::is_postgres() {
        corpus.add("database dump", dump_database(&database_url).await);
    } else {
        for suffix in ["", "-wal", "-shm"] {
            let file = scratch.join(format!("provisio.db{suffix}"));
            if let Ok(bytes) = std::fs::read(&file) {
                corpus.add(format!("database file provisio.db{suffix}"), bytes);
            }
        }
    }
    drop(_server);
    let log_bytes = std::fs::read(&log).unwrap();
    assert!(
        String::from_utf8_lossy(&log_bytes).contains("\"level\":\"DEBUG\""),
        "the log is at debug level"
    );
    let handled = String::from_utf8_lossy(&log_bytes)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == "handled")
        .filter(|line| {
            line["span"]["request_id"]
                .as_str()
                .is_some_and(|id| !id.is_empty())
        })
        .count();
    assert!(
        handled >= 20,
        "every answered request leaves a JSON line with its request id; found {handled}"
    );
    corpus.add("log file", log_bytes);

    let pve_token = env("PROVISIO_FAKEPVE_TOKEN");
    let key_lines: Vec<String> = client_key
        .lines()
        .chain(deploy_key.lines())
        .filter(|l| l.len() > 20 && !l.starts_with("-----"))
        .map(str::to_owned)
        .collect();
    let mut secrets: Vec<(&str, String, Vec<String>)> = vec![
        ("admin password", admin_password, vec![]),
        ("user password", user_password, vec![]),
        ("changed password", changed_password, vec![]),
        ("reset password", reset_password, vec![]),
        ("Proxmox token", pve_token.clone(), vec![]),
        (
            "Proxmox token secret",
            pve_token.split_once('=').unwrap().1.to_owned(),
            vec![],
        ),
        (
            "wrong Proxmox token",
            wrong_pve_token.split_once('=').unwrap().1.to_owned(),
            vec![],
        ),
        ("Hetzner token", env("PROVISIO_HCLOUD_TOKEN"), vec![]),
        ("webhook secret", hook_secret, vec![]),
        ("deployment environment value", env_value, vec![]),
        ("secret script variable", script_token, vec![]),
        // Issued once, in the response that creates it.
        ("API token", api_token, vec![token_label]),
        ("first refresh cookie", first_cookie, vec![login_label]),
        (
            "second refresh cookie",
            second_cookie,
            vec![refresh_label, replay_label],
        ),
    ];
    for line in key_lines {
        secrets.push(("private key line", line, vec![]));
    }
    let leaks: Vec<String> = secrets
        .iter()
        .flat_map(|(what, value, allowed)| {
            corpus
                .hits(value, allowed)
                .into_iter()
                .map(move |hit| format!("{what}: {hit}"))
        })
        .collect();
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}
