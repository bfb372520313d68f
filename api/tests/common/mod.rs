//! `spawn_app()`: the whole server on a free port with a fresh database of its own.
//! SQLite by default; PostgreSQL when PROVISIO_TEST_PG_URL names a server (a database per test).

#![allow(dead_code)]

pub mod guests;
pub mod mail;

use api::config::{Config, LoginLimits};
use api::keys::Keys;
use api::server::startup::{prepare_database, Application};
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{json, Value};
use shared::Role;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

pub struct TestApp {
    pub state: api::state::AppState,
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub admin: Session,
    pub keys: Keys,
    pub web_dir: PathBuf,
    _scratch: Scratch,
}

/// A test's own directory, removed when the test is done with it. A failing test keeps it (and
/// says where) so its database and files can be looked at.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("provisio-{label}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept for inspection: {}", self.0.display());
        } else {
            std::fs::remove_dir_all(&self.0).ok();
        }
    }
}

#[derive(Clone, Debug)]
pub struct Session {
    pub username: String,
    pub password: String,
    pub token: String,
    pub refresh_cookie: Option<String>,
    pub id: String,
}

pub struct Options {
    pub login_limits: LoginLimits,
    pub smtp_url: Option<String>,
    /// Job workers started inside the test app (0: jobs stay queued).
    pub workers: usize,
    pub jobs: api::config::JobSettings,
    pub providers: api::providers::Tuning,
    /// `apps_root` empty: a folder in the test's scratch directory.
    pub deploy: api::config::DeploySettings,
    /// Last changes to the config before the app starts (trusted proxies, cookie flags...).
    pub adjust_config: fn(&mut Config),
    /// The Git hosts and provider fakes of the tests listen on loopback, which the default
    /// policy refuses for Git: loopback is allowed explicitly.
    pub network: api::exec::network_policy::NetworkPolicy,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            login_limits: LoginLimits {
                free_failures: 1000,
                max_delay: Duration::from_secs(900),
                account_failures: 1000,
                account_window: Duration::from_secs(900),
                ip_attempts: 10_000,
                ip_window: Duration::from_secs(60),
                registrations_per_hour: 1000,
            },
            smtp_url: None,
            workers: 0,
            jobs: api::config::JobSettings {
                workers: 0,
                poll: Duration::from_millis(50),
                lease: Duration::from_secs(5),
                max_attempts: 3,
                retry_base: Duration::from_millis(200),
            },
            providers: api::providers::Tuning {
                request_timeout: Duration::from_secs(15),
                max_retries: 3,
                retry_base: Duration::from_millis(50),
                poll_interval: Duration::from_millis(100),
                task_timeout: Duration::from_secs(60),
                ..Default::default()
            },
            deploy: api::config::DeploySettings {
                apps_root: String::new(),
                health_timeout: Duration::from_secs(30),
                playbook_timeout: Duration::from_secs(600),
                first_port: free_deploy_ports(),
            },
            adjust_config: |_| {},
            network: loopback_allowed(),
        }
    }
}

/// The default network policy plus loopback (IPv4 and IPv6) on the allowlist.
pub fn loopback_allowed() -> api::exec::network_policy::NetworkPolicy {
    use api::exec::network_policy::{Allowed, NetworkPolicy};
    NetworkPolicy {
        allowlist: vec![
            Allowed::parse("127.0.0.0/8").unwrap(),
            Allowed::parse("::1").unwrap(),
        ],
        ..Default::default()
    }
}

/// Tests run side by side on one machine, so each picks its own block of ten public ports.
/// Blocks lie in 12000..22000 so the apps behind them (+10000) stay in 22000..32000: the two
/// ranges never overlap and both stay below the kernel's ephemeral ports (32768+), which
/// outgoing connections take at random.
pub fn free_deploy_ports() -> u16 {
    let offset = api::domain::deployments::APP_PORT_OFFSET as u16;
    let free = |port: u16| std::net::TcpListener::bind(("0.0.0.0", port)).is_ok();
    loop {
        let first = 12_000 + (uuid::Uuid::new_v4().as_u128() % 1_000) as u16 * 10;
        if (first..first + 10).all(|port| free(port) && free(port + offset)) {
            return first;
        }
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
#[allow(dead_code)]
pub const METRICS_TOKEN: &str = "metrics-token-for-tests";

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn fresh_database_url(scratch: &std::path::Path) -> String {
    match std::env::var("PROVISIO_TEST_PG_URL") {
        Ok(base) if !base.is_empty() => {
            let name = format!("provisio_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(format!("{base}/postgres"))
                .await
                .expect("PROVISIO_TEST_PG_URL must reach a PostgreSQL server");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create the test database");
            admin.close().await.ok();
            format!("{base}/{name}")
        }
        _ => format!(
            "sqlite://{}?mode=rwc",
            scratch.join("provisio.db").display()
        ),
    }
}

pub fn is_postgres() -> bool {
    std::env::var("PROVISIO_TEST_PG_URL").is_ok_and(|v| !v.is_empty())
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let scratch_dir = Scratch::new("test");
    let scratch = scratch_dir.path();
    let web_dir = scratch.join("web");
    std::fs::create_dir_all(&web_dir).unwrap();
    std::fs::write(
        web_dir.join("index.html"),
        "<!DOCTYPE html><html><body>provisio test shell</body></html>",
    )
    .unwrap();
    std::fs::write(web_dir.join("web.js"), "console.log('provisio')").unwrap();
    let mut config = Config {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        database_url: fresh_database_url(scratch).await,
        db_max_connections: 5,
        db_acquire_timeout: Duration::from_secs(5),
        key_file: scratch.join("provisio.key"),
        web_dir: Some(web_dir.clone()),
        log_json: false,
        secure_cookies: false,
        trusted_proxies: vec![],
        access_token_ttl: Duration::from_secs(900),
        refresh_token_ttl: Duration::from_secs(3600),
        login_limits: options.login_limits,
        smtp_url: options.smtp_url.clone(),
        smtp_from: "Provisio <provisio@example.com>".into(),
        public_url: "http://provisio.test".into(),
        delivery_interval: Duration::from_secs(3600),
        delivery_retry_base: Duration::ZERO,
        jobs: options.jobs.clone(),
        providers: api::providers::Tuning {
            terraform_root: scratch.join("terraform"),
            ..options.providers.clone()
        },
        ansible: api::config::AnsibleSettings::default(),
        projects_dir: scratch.join("projects"),
        deploy: api::config::DeploySettings {
            apps_root: if options.deploy.apps_root.is_empty() {
                scratch.join("apps").display().to_string()
            } else {
                options.deploy.apps_root.clone()
            },
            ..options.deploy.clone()
        },
        metrics_token: Some(METRICS_TOKEN.into()),
        http: api::config::HttpLimits::default(),
        network: options.network.clone(),
        sandbox: api::config::sandbox_from_env(),
    };
    (options.adjust_config)(&mut config);
    let keys = Keys::load_or_create(&config.key_file).unwrap();
    let db = prepare_database(&config)
        .await
        .expect("prepare the database");
    let listener = TcpListener::bind(config.bind).unwrap();
    let app = Application::with_listener(config, keys.clone(), db.clone(), listener).unwrap();
    let state = app.state.clone();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());

    let context = api::auth::RequestContext {
        ip: std::net::IpAddr::from([127, 0, 0, 1]),
        request_id: None,
    };
    api::domain::users::create(
        &db,
        &context,
        None,
        shared::dto::CreateUser {
            username: "root".into(),
            email: "root@example.com".into(),
            full_name: "Root Admin".into(),
            password: ADMIN_PASSWORD.into(),
            roles: vec![Role::Admin],
            team_ids: vec![],
        },
        api::domain::users::Admission::READY,
    )
    .await
    .expect("create the first admin");
    // Workers start after the first write: on SQLite their queue polls would otherwise race it.
    if options.workers > 0 {
        std::mem::forget(api::jobs::spawn_workers(&state, options.workers));
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut app = TestApp {
        state,
        address,
        client,
        db,
        admin: Session {
            username: String::new(),
            password: String::new(),
            token: String::new(),
            refresh_cookie: None,
            id: String::new(),
        },
        keys,
        web_dir,
        _scratch: scratch_dir,
    };
    app.admin = app.login("root", ADMIN_PASSWORD).await;
    app
}

pub fn refresh_cookie_of(headers: &HeaderMap) -> Option<String> {
    headers.get_all(SET_COOKIE).iter().find_map(|v| {
        let text = v.to_str().ok()?;
        let pair = text.split(';').next()?;
        let (name, value) = pair.split_once('=')?;
        (name == "provisio_refresh" && !value.is_empty()).then(|| value.to_owned())
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request failed")
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    /// A POST with a body sent as it is, labelled JSON (broken or hostile bodies).
    pub async fn post_raw(
        &self,
        path: &str,
        token: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.request(Method::PUT, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> reqwest::Response {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// `path?ticket=…` with a fresh single-use ticket, the way a browser opens a live stream or
    /// terminal (it cannot send an Authorization header there).
    pub async fn ticketed(&self, path: &str, token: &str) -> String {
        let res = self
            .post("/api/auth/stream-tickets", token, json!({ "path": path }))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        format!("{path}?ticket={}", body["ticket"].as_str().unwrap())
    }

    pub async fn try_login(&self, login: &str, password: &str) -> reqwest::Response {
        self.request(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"login": login, "password": password})),
        )
        .await
    }

    pub async fn login(&self, login: &str, password: &str) -> Session {
        let res = self.try_login(login, password).await;
        assert_eq!(res.status(), StatusCode::OK, "login of {login} failed");
        let cookie = refresh_cookie_of(res.headers());
        let body: Value = res.json().await.unwrap();
        Session {
            username: login.to_owned(),
            password: password.to_owned(),
            token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_cookie: cookie,
            id: body["user"]["id"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn refresh(&self, cookie: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/auth/refresh"))
            .header("Cookie", format!("provisio_refresh={cookie}"))
            .send()
            .await
            .unwrap()
    }

    /// Creates a user holding `roles` through the API, then signs them in.
    pub async fn user_with(&self, username: &str, roles: &[Role], team_ids: &[String]) -> Session {
        let password = format!("{username}-password-123");
        let res = self
            .post(
                "/api/users",
                &self.admin.token,
                json!({
                    "username": username,
                    "email": format!("{username}@example.com"),
                    "full_name": username,
                    "password": password,
                    "roles": roles,
                    "team_ids": team_ids,
                }),
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{}",
            res.text().await.unwrap()
        );
        self.login(username, &password).await
    }

    pub async fn create_team(&self, name: &str) -> String {
        let res = self
            .post(
                "/api/teams",
                &self.admin.token,
                json!({"name": name, "description": ""}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        use sea_orm::{FromQueryResult, Statement};
        #[derive(FromQueryResult)]
        struct Row {
            n: i64,
        }
        let backend = self.db.get_database_backend();
        Row::find_by_statement(Statement::from_string(backend, sql.to_owned()))
            .one(&self.db)
            .await
            .unwrap()
            .unwrap()
            .n
    }
}

/// The JSON body of an answer that must have `status` (the body is shown when it has not).
pub async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

/// The audit rows of `action`, newest first, as an administrator reads them.
pub async fn audit_rows(app: &TestApp, action: &str) -> Vec<Value> {
    json_of(
        app.get(&format!("/api/audit?action={action}"), &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

pub async fn assert_problem(res: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status);
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(body["title"].is_string());
    assert!(body["type"].is_string());
    body
}

/// The sshd test host (scripts/sshd.sh): its port and the private key it accepts; None (and a
/// note) when it is not running, a failure when PROVISIO_REQUIRE_FAKES says it must be.
#[allow(dead_code)]
pub fn ssh_test_host() -> Option<(u16, String)> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let found = (|| {
        Some((
            var("PROVISIO_TEST_SSH_PORT")?.parse().ok()?,
            std::fs::read_to_string(var("PROVISIO_TEST_SSH_CLIENT_KEY")?).ok()?,
        ))
    })();
    if found.is_none() {
        assert!(
            var("PROVISIO_REQUIRE_FAKES").is_none(),
            "PROVISIO_REQUIRE_FAKES is set but the sshd test host's variables are missing"
        );
        eprintln!("skipped: sshd test host not running (see scripts/sshd.sh)");
    }
    found
}

/// Runs git with a fixed identity in `dir`; its stdout, trimmed.
#[allow(dead_code)]
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A running server of `team` at `provider`, straight into the inventory (10.0.0.5, port 22).
#[allow(dead_code)]
pub async fn insert_server(
    app: &TestApp,
    team: &str,
    provider: &str,
    name: &str,
    provider_id: &str,
) -> uuid::Uuid {
    use sea_orm::{ActiveModelTrait, Set};
    let id = uuid::Uuid::new_v4();
    let now = chrono::Utc::now();
    api::entities::servers::ActiveModel {
        id: Set(id),
        team_id: Set(team.parse().unwrap()),
        provider_account_id: Set(provider.parse().unwrap()),
        provider_id: Set(provider_id.into()),
        name: Set(name.into()),
        status: Set("running".into()),
        origin: Set("imported".into()),
        ipv4: Set(Some("10.0.0.5".into())),
        ipv6: Set(None),
        cpu: Set(1),
        ram_mb: Set(1024),
        disk_gb: Set(10),
        image: Set("qemu".into()),
        location: Set("pve1".into()),
        labels: Set(serde_json::json!({})),
        ssh_user: Set("root".into()),
        ssh_port: Set(22),
        host_key_fingerprint: Set(None),
        request_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        last_synced_at: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();
    id
}

/// SHA-256 (hex) of the certificate in a PEM file, as a pinned TLS fingerprint.
#[allow(dead_code)]
pub fn pem_sha256(path: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let pem = std::fs::read_to_string(path).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    hex::encode(sha2::Sha256::digest(&der))
}

// Rows of a team written straight into the database, shared by the access-matrix and IDOR tests.

/// A variable written by scripts/fakes.sh: the provider fakes must be running.
pub fn fake_var(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            panic!("{name} is not set: start the provider fakes (scripts/fakes.sh start DIR, then source DIR/fakes.env)")
        })
}

/// A Proxmox account at the fake cluster that passes the save-time check (node pve1, image
/// debian-12 cloned from template 9000), so requests may be made and approved against it.
pub fn provider_body(name: &str) -> Value {
    json!({
        "name": name,
        "kind": "proxmox",
        "endpoint": fake_var("PROVISIO_FAKEPVE_URL"),
        "catalog": {"currency": "EUR", "locations": ["pve1"], "images": ["debian-12"],
                    "custom_limits": {"max_cpu": 8, "max_ram_mb": 16384, "max_disk_gb": 200}},
        "settings": {"images": {"debian-12": fake_var("PROVISIO_FAKEPVE_TEMPLATE_VMID")}},
        "credentials": {"api_token": fake_var("PROVISIO_FAKEPVE_TOKEN")}
    })
}

/// A Hetzner account at the fake (cloudalone: location abilian, types medium and large, image
/// debian-13 offered as debian-12) with the admin's own prices.
pub fn hetzner_body(name: &str) -> Value {
    json!({
        "name": name,
        "kind": "hetzner",
        "endpoint": fake_var("PROVISIO_HCLOUD_URL"),
        "catalog": {
            "currency": "EUR",
            "locations": ["abilian"],
            "images": ["debian-12"],
            "server_types": [
                {"name": "medium", "cpu": 2, "ram_mb": 4096, "disk_gb": 40, "monthly_price_cents": 459},
                {"name": "large", "cpu": 4, "ram_mb": 8192, "disk_gb": 80, "monthly_price_cents": 799}
            ],
            "custom_limits": {"max_cpu": 8, "max_ram_mb": 16384, "max_disk_gb": 200},
            "unit_prices": {"cpu_cents": 300, "ram_gb_cents": 150, "disk_gb_cents": 5}
        },
        "settings": {"images": {"debian-12": "debian-13"}},
        "credentials": {"api_token": fake_var("PROVISIO_HCLOUD_TOKEN")}
    })
}

pub const PLAYBOOK: &str =
    "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n";

/// A distinct, well-formed ed25519 public key per `n`.
pub fn public_key(n: usize) -> String {
    use base64::Engine;
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&(n as u64).to_be_bytes());
    let mut blob = Vec::new();
    for part in [b"ssh-ed25519".as_slice(), key.as_slice()] {
        blob.extend((part.len() as u32).to_be_bytes());
        blob.extend(part);
    }
    format!(
        "ssh-ed25519 {} matrix@test",
        base64::engine::general_purpose::STANDARD.encode(blob)
    )
}
/// A script of `team` (version 1) and a queued run of it on `server`.
pub async fn insert_script_and_run(
    app: &TestApp,
    team: &str,
    server: uuid::Uuid,
) -> (uuid::Uuid, uuid::Uuid) {
    use api::entities::{script_versions, scripts, servers};
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let now = chrono::Utc::now();
    let script = scripts::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        team_id: Set(team.parse().unwrap()),
        name: Set(format!("script of {team}")),
        description: Set(String::new()),
        current_version: Set(1),
        builtin: Set(false),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let version = script_versions::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        script_id: Set(script.id),
        version: Set(1),
        content: Set(PLAYBOOK.into()),
        variables: Set(json!([])),
        created_by: Set(None),
        created_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let server = servers::Entity::find_by_id(server)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let plan = api::domain::scripts::RunPlan {
        team_id: server.team_id,
        kind: "playbook",
        script: script.clone(),
        version,
        servers: vec![server],
        variables: json!({}),
        timeout_secs: 60,
        created_by: None,
    };
    let run = api::domain::scripts::enqueue_run(&app.db, &plan)
        .await
        .unwrap();
    (script.id, run)
}

pub async fn insert_project(app: &TestApp, team: &str) -> uuid::Uuid {
    use sea_orm::{ActiveModelTrait, Set};
    let id = uuid::Uuid::new_v4();
    api::entities::projects::ActiveModel {
        id: Set(id),
        team_id: Set(team.parse().unwrap()),
        name: Set(format!("matrix app {}", &id.simple().to_string()[..8])),
        url: Set("https://git.example.com/team/app.git".into()),
        default_branch: Set("main".into()),
        deploy_key: Set(None),
        status: Set("ready".into()),
        error: Set(None),
        last_commit: Set(None),
        detected_framework: Set(None),
        last_synced_at: Set(None),
        created_by: Set(None),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(&app.db)
    .await
    .unwrap();
    id
}

/// A client of the team with one active subscription.
pub async fn insert_client_and_subscription(
    app: &TestApp,
    team: &str,
    n: usize,
) -> (uuid::Uuid, uuid::Uuid) {
    use sea_orm::{ActiveModelTrait, Set};
    let now = chrono::Utc::now();
    let client = api::entities::clients::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        team_id: Set(team.parse().unwrap()),
        company: Set(format!("Matrix client {n}")),
        contacts: Set(json!([])),
        billing_email: Set("billing@matrix.example".into()),
        notes: Set(String::new()),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let today = now.date_naive();
    let subscription = api::entities::subscriptions::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        team_id: Set(client.team_id),
        client_id: Set(client.id),
        plan_name: Set("Matrix plan".into()),
        period_months: Set(1),
        monthly_price_cents: Set(1000),
        currency: Set("EUR".into()),
        start_date: Set(today),
        end_date: Set(today + chrono::Duration::days(60)),
        auto_renew: Set(true),
        status: Set("active".into()),
        notice_days: Set(14),
        power_off_after_days: Set(None),
        owner_id: Set(None),
        notified_for: Set(None),
        powered_off_at: Set(None),
        stopped_on: Set(None),
        server_ids: Set(json!([])),
        deployment_ids: Set(json!([])),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    (client.id, subscription.id)
}

/// A RUNNING deployment of the team on a server of the team.
pub async fn insert_deployment(app: &TestApp, team: &str, provider: &str, n: usize) -> uuid::Uuid {
    use sea_orm::{ActiveModelTrait, Set};
    let project = insert_project(app, team).await;
    let server = insert_server(
        app,
        team,
        provider,
        &format!("matrix-srv-{}", 50_000 + n),
        &format!("pve1/qemu/{}", 1000 + 50_000 + n),
    )
    .await;
    let id = uuid::Uuid::new_v4();
    let now = chrono::Utc::now();
    api::entities::deployments::ActiveModel {
        id: Set(id),
        team_id: Set(team.parse().unwrap()),
        name: Set(format!("matrix-app-{n}")),
        project_id: Set(project),
        branch: Set("main".into()),
        commit_sha: Set(Some("0123456789abcdef0123456789abcdef01234567".into())),
        framework: Set("flask".into()),
        module: Set(Some("app".into())),
        deployment_type: Set("vm".into()),
        cpu: Set(None),
        ram_mb: Set(None),
        disk_gb: Set(None),
        status: Set("RUNNING".into()),
        failed_step: Set(None),
        error: Set(None),
        server_id: Set(Some(server)),
        request_id: Set(None),
        port: Set(Some(8000)),
        app_port: Set(Some(18000)),
        url: Set(Some("http://10.0.0.5:8000/".into())),
        env: Set(None),
        execution_id: Set(None),
        ssh_public_key: Set(None),
        ssh_private_key: Set(None),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        deployed_at: Set(Some(now)),
    }
    .insert(&app.db)
    .await
    .unwrap();
    id
}

/// A resource of the catalogue type `type_slug` in `status`, asked for by `owner`, named `name`;
/// a usable one (ready) has its connection and a sealed password, `resource-password-1`.
pub async fn insert_resource(
    app: &TestApp,
    team: &str,
    owner: &str,
    type_slug: &str,
    status: &str,
    server: Option<uuid::Uuid>,
    name: &str,
) -> uuid::Uuid {
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    let kind = api::entities::resource_types::Entity::find()
        .filter(api::entities::resource_types::Column::Slug.eq(type_slug))
        .one(&app.db)
        .await
        .unwrap()
        .expect("a seeded type");
    let usable = matches!(status, "ready" | "updating");
    let id = uuid::Uuid::new_v4();
    let now = chrono::Utc::now();
    api::entities::resources::ActiveModel {
        id: Set(id),
        team_id: Set(team.parse().unwrap()),
        type_id: Set(kind.id),
        name: Set(name.to_owned()),
        purpose: Set("matrix resource".into()),
        status: Set(status.to_owned()),
        server_id: Set(server),
        request_id: Set(None),
        parameters: Set(serde_json::json!({})),
        host: Set(usable.then(|| "10.0.0.5".to_owned())),
        port: Set(usable.then_some(5432)),
        database: Set(usable.then(|| name.to_owned())),
        username: Set(usable.then(|| name.to_owned())),
        secret: Set(usable.then(|| app.state.keys.seal("resource-password-1").unwrap())),
        requested_by: Set(owner.parse().unwrap()),
        policy_step: Set(0),
        execution_id: Set(None),
        error: Set((status == "failed").then(|| "the recipe failed".to_owned())),
        rejection_reason: Set(None),
        backup_cron: Set(None),
        next_backup_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    id
}

pub async fn insert_schedule(app: &TestApp, team: &str, server: uuid::Uuid) -> uuid::Uuid {
    use sea_orm::{ActiveModelTrait, Set};
    let id = uuid::Uuid::new_v4();
    api::entities::schedules::ActiveModel {
        id: Set(id),
        server_id: Set(server),
        team_id: Set(team.parse().unwrap()),
        operation: Set("backup".into()),
        cron: Set("0 3 * * *".into()),
        enabled: Set(true),
        variables: Set(json!({})),
        next_run_at: Set(None),
        last_run_at: Set(None),
        last_execution_id: Set(None),
        created_by: Set(None),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(&app.db)
    .await
    .unwrap();
    id
}

/// A `provisio` process started from the built binary (`serve`, `worker`, ...), killed with
/// SIGKILL when dropped: what a crash or `kill -9` does.
pub struct Process {
    pub child: std::process::Child,
}

impl Process {
    /// SIGKILL, then reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The built binary with exactly `env` (and PATH), its output appended to `log`.
pub fn provisio_command(
    env: &[(&str, String)],
    args: &[&str],
    log: &std::path::Path,
) -> std::process::Command {
    program_command(&provisio_binary(), env, args, log)
}

/// The built binary: where nextest says it is at run time (a copied or archived build), else
/// where cargo built it.
pub fn provisio_binary() -> PathBuf {
    std::env::var_os("NEXTEST_BIN_EXE_provisio")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_provisio")))
}

/// A copy of the built binary in `dir`: a test that starts the server again and again keeps
/// running the same build even if the target directory is rebuilt meanwhile.
pub fn provisio_snapshot(dir: &std::path::Path) -> PathBuf {
    let copy = dir.join("provisio");
    std::fs::copy(provisio_binary(), &copy).unwrap();
    copy
}

/// `program` with exactly `env` (and PATH), its output appended to `log`.
pub fn program_command(
    program: &std::path::Path,
    env: &[(&str, String)],
    args: &[&str],
    log: &std::path::Path,
) -> std::process::Command {
    use std::process::Stdio;
    let mut command = std::process::Command::new(program);
    let output = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap()
    };
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // The suite gives each run a temporary directory of its own (scripts/test.sh); the
        // server's run directories belong there too, where the tests look for leftovers.
        .envs(std::env::var("TMPDIR").map(|dir| ("TMPDIR", dir)))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(output())
        .stderr(output());
    command
}

/// Waits until `base/readyz` answers 200.
pub async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if let Ok(res) = client.get(format!("{base}/readyz")).send().await {
            if res.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} did not become ready");
}

/// What the Proxmox fake itself answers at `path` (its `data`), straight from the fake rather
/// than through Provisio: `direct_url`, `token` and `ca` are its PROVISIO_FAKEPVE_DIRECT_URL,
/// PROVISIO_FAKEPVE_TOKEN and PROVISIO_FAKEPVE_CA.
pub async fn fakepve_get(direct_url: &str, token: &str, ca: &str, path: &str) -> Value {
    fakepve_send(direct_url, token, ca, reqwest::Method::GET, path, &[]).await
}

/// A call to the Proxmox fake's own API (what an operator does there behind Provisio's back).
pub async fn fakepve_send(
    direct_url: &str,
    token: &str,
    ca: &str,
    method: reqwest::Method,
    path: &str,
    form: &[(&str, &str)],
) -> Value {
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap())
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let mut call = client
        .request(method, format!("{direct_url}{path}"))
        .header("Authorization", format!("PVEAPIToken={token}"));
    if !form.is_empty() {
        call = call.form(form);
    }
    let answer: Value = call.send().await.unwrap().json().await.unwrap();
    answer["data"].clone()
}

/// The provider breaks after a request was approved (its token revoked, its host gone silent):
/// the account's endpoint and token change in the database behind Provisio's back, then
/// `workers` job workers start and meet the broken provider. The app must start with none.
#[allow(dead_code)]
pub async fn break_provider_then_work(
    app: &TestApp,
    account: &str,
    endpoint: &str,
    token: &str,
    workers: usize,
) {
    use api::entities::provider_accounts as rows;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let sealed = api::domain::providers::seal_credentials(
        &app.state.keys,
        &shared::providers::ProviderCredentials {
            api_token: Some(token.into()),
            private_key: None,
        },
    )
    .unwrap();
    rows::Entity::update_many()
        .col_expr(rows::Column::Endpoint, Expr::value(endpoint))
        .col_expr(rows::Column::Credentials, Expr::value(sealed))
        .filter(rows::Column::Id.eq(account.parse::<uuid::Uuid>().unwrap()))
        .exec(&app.db)
        .await
        .unwrap();
    std::mem::forget(api::jobs::spawn_workers(&app.state, workers));
}
