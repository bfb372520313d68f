//! Hostile values at every field that reaches git, ssh, Ansible, Terraform or the filesystem:
//! each answers 422 problem+json naming the field, stores nothing, queues no job and runs
//! nothing (the marker files the values would create never appear, even after the workers ran).
//! Bodies that are not UTF-8, not JSON or too large answer 400/413. Values that are legitimately
//! accepted (playbook variables) reach the target verbatim, as data.

mod common;

use common::{spawn_app_with, Options, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const VALID_PLAYBOOK: &str =
    "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n";

async fn app() -> TestApp {
    spawn_app_with(Options {
        workers: 1,
        ..Options::default()
    })
    .await
}

fn marker_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("provisio-hostile-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Values that would run a command, become an option, leave a folder or break a line if any
/// part of the path from the request to a program treated them as more than data. `m` is the
/// marker file a successful injection would create.
fn hostile(m: &Path) -> Vec<String> {
    let m = m.display();
    vec![
        format!("; touch {m}"),
        format!("$(touch {m})"),
        format!("`touch {m}`"),
        format!("| touch {m}"),
        format!("&& touch {m}"),
        format!("--upload-pack=touch {m}"),
        format!("-oProxyCommand=touch {m}"),
        format!("ext::sh -c touch% {m}"),
        format!("{{{{ lookup('pipe', 'touch {m}') }}}}"),
        "file:///etc/passwd".into(),
        "../../etc/passwd".into(),
        "a\0b".into(),
        "a\nb".into(),
        "x".repeat(10_000),
    ]
}

/// Line breaks, NUL, escapes and sheer length, for fields where punctuation is fine.
fn controls() -> Vec<String> {
    vec![
        "a\0b".into(),
        "a\nb".into(),
        "a\rb".into(),
        "a\u{1b}[2Jb".into(),
        "x".repeat(10_000),
    ]
}

const TABLES: [&str; 12] = [
    "projects",
    "jobs",
    "executions",
    "deployments",
    "scripts",
    "script_versions",
    "ssh_keys",
    "server_requests",
    "servers",
    "provider_accounts",
    "webhooks",
    "audit_events",
];

async fn row_counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut counts = vec![];
    for table in TABLES {
        counts.push((
            table,
            app.count(&format!("SELECT COUNT(*) AS n FROM {table}"))
                .await,
        ));
    }
    counts
}

/// One field under attack: where it is sent and the body carrying a value in it.
struct Field {
    name: &'static str,
    method: Method,
    path: String,
    body: Box<dyn Fn(&str) -> Value>,
    values: fn(&Path) -> Vec<String>,
}

fn field(
    name: &'static str,
    method: Method,
    path: &str,
    values: fn(&Path) -> Vec<String>,
    body: impl Fn(&str) -> Value + 'static,
) -> Field {
    Field {
        name,
        method,
        path: path.to_owned(),
        body: Box::new(body),
        values,
    }
}

#[tokio::test]
async fn hostile_values_are_refused_at_every_field_and_nothing_runs() {
    let app = app().await;
    let team = app.create_team("Apps").await;
    // A project (its host does not resolve offline, so its sync just fails) to push from.
    let res = app
        .post(
            "/api/projects",
            &app.admin.token,
            json!({"name": "target", "url": "https://git.example.com/team/app.git", "team_id": team}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let project: Value = res.json().await.unwrap();
    let project = project["project"]["id"].as_str().unwrap().to_owned();
    let account = uuid::Uuid::new_v4().to_string();
    let server = uuid::Uuid::new_v4().to_string();
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0b3RzLW9mLWJhc2U2NC1kYXRhLWhlcmU";
    let catalog = json!({"currency": "EUR", "locations": ["pve1"], "images": ["debian-12"],
                         "server_types": [{"name": "small", "cpu": 1, "ram_mb": 1024, "disk_gb": 10}]});

    let t = team.clone();
    let t2 = team.clone();
    let t3 = team.clone();
    let t4 = team.clone();
    let t5 = team.clone();
    let (a1, a2, a3, a4) = (
        account.clone(),
        account.clone(),
        account.clone(),
        account.clone(),
    );
    let (s1, s2, s3, s4, s5) = (
        server.clone(),
        server.clone(),
        server.clone(),
        server.clone(),
        server.clone(),
    );
    let (c1, c2, c3, c4) = (catalog.clone(), catalog.clone(), catalog.clone(), catalog);
    let deploy = move |server: String, extra: Value| {
        let mut body =
            json!({"name": "app", "git_url": "https://git.example.com/a.git", "server_id": server});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let fields = vec![
        field(
            "url",
            Method::POST,
            "/api/projects",
            hostile,
            move |v| json!({"name": "evil", "url": v, "team_id": t}),
        ),
        field(
            "default_branch",
            Method::POST,
            "/api/projects",
            hostile,
            move |v| json!({"name": "evil", "url": "https://git.example.com/a.git", "default_branch": v, "team_id": t2}),
        ),
        field(
            "deploy_key",
            Method::POST,
            "/api/projects",
            hostile,
            move |v| json!({"name": "evil", "url": "https://git.example.com/a.git", "deploy_key": v, "team_id": t3}),
        ),
        field(
            "branch",
            Method::POST,
            &format!("/api/projects/{project}/push"),
            hostile,
            |v| json!({ "branch": v }),
        ),
        field("name", Method::POST, "/api/deploy", hostile, move |v| {
            deploy(s1.clone(), json!({ "name": v }))
        }),
        field("git_url", Method::POST, "/api/deploy", hostile, move |v| {
            deploy(s2.clone(), json!({ "git_url": v }))
        }),
        field("branch", Method::POST, "/api/deploy", hostile, move |v| {
            deploy(s3.clone(), json!({ "branch": v }))
        }),
        field("commit", Method::POST, "/api/deploy", hostile, move |v| {
            deploy(s4.clone(), json!({ "commit": v }))
        }),
        field("module", Method::POST, "/api/deploy", hostile, move |v| {
            deploy(s5.clone(), json!({ "module": v }))
        }),
        field("env", Method::POST, "/api/deploy", hostile, {
            let server = server.clone();
            move |v| deploy(server.clone(), json!({"env": {v: "1"}}))
        }),
        field("env", Method::POST, "/api/deploy", |_| controls(), {
            let server = server.clone();
            let deploy = move |server: String, v: &str| json!({"name": "app", "git_url": "https://git.example.com/a.git", "server_id": server, "env": {"GREETING": v}});
            move |v| deploy(server.clone(), v)
        }),
        field(
            "variables[0].name",
            Method::POST,
            "/api/scripts",
            hostile,
            |v| json!({"name": "evil", "content": VALID_PLAYBOOK, "variables": [{"name": v, "kind": "string"}]}),
        ),
        field(
            "public_key",
            Method::POST,
            "/api/ssh-keys",
            hostile,
            |v| json!({"name": "evil", "public_key": v}),
        ),
        field(
            "public_key",
            Method::POST,
            "/api/ssh-keys",
            |_| controls(),
            move |v| json!({"name": "evil", "public_key": format!("{key} {v}")}),
        ),
        field(
            "hostname",
            Method::POST,
            "/api/requests",
            hostile,
            move |v| {
                json!({"hostname": v, "team_id": t4, "provider_account_id": a1, "location": "pve1",
                   "image": "debian-12", "purpose": "hostile input"})
            },
        ),
        field(
            "ssh_public_keys[0]",
            Method::POST,
            "/api/requests",
            hostile,
            move |v| {
                json!({"hostname": "web-1", "team_id": t5, "provider_account_id": a2, "location": "pve1",
                   "image": "debian-12", "purpose": "hostile input", "ssh_public_keys": [v]})
            },
        ),
        field("name", Method::POST, "/api/servers/register", hostile, {
            let (team, account) = (team.clone(), a3);
            move |v| json!({"name": v, "team_id": team, "provider_account_id": account, "address": "10.0.0.9"})
        }),
        field("address", Method::POST, "/api/servers/register", hostile, {
            let (team, account) = (team.clone(), a4);
            move |v| json!({"name": "web-1", "team_id": team, "provider_account_id": account, "address": v})
        }),
        field("user", Method::POST, "/api/servers/register", hostile, {
            let (team, account) = (team.clone(), account.clone());
            move |v| json!({"name": "web-1", "team_id": team, "provider_account_id": account, "address": "10.0.0.9", "user": v})
        }),
        field("labels", Method::POST, "/api/servers/register", hostile, {
            let (team, account) = (team.clone(), account.clone());
            move |v| json!({"name": "web-1", "team_id": team, "provider_account_id": account, "address": "10.0.0.9", "labels": {v: "x"}})
        }),
        field(
            "endpoint",
            Method::POST,
            "/api/provider-accounts",
            hostile,
            move |v| json!({"name": "evil", "kind": "proxmox", "endpoint": v, "catalog": c1}),
        ),
        field(
            "settings",
            Method::POST,
            "/api/provider-accounts",
            hostile,
            move |v| json!({"name": "evil", "kind": "proxmox", "endpoint": "", "catalog": c2, "settings": {"storage": v}}),
        ),
        field(
            "settings",
            Method::POST,
            "/api/provider-accounts",
            hostile,
            move |v| json!({"name": "evil", "kind": "terraform_proxmox", "endpoint": "", "catalog": c3, "settings": {"terraform_module": v}}),
        ),
        field(
            "settings",
            Method::POST,
            "/api/provider-accounts",
            hostile,
            move |v| json!({"name": "evil", "kind": "proxmox", "endpoint": "", "catalog": c4, "settings": {"ssh_user": v}}),
        ),
        field(
            "url",
            Method::POST,
            "/api/webhooks",
            hostile,
            |v| json!({"name": "evil", "url": v, "secret": "0123456789abcdef0123"}),
        ),
        field(
            "allowed_commands",
            Method::PUT,
            "/api/terminal/settings",
            hostile,
            |v| json!({"allowed_commands": ["git", v], "idle_timeout_secs": 900}),
        ),
    ];

    let terminal_before: Value = app
        .get("/api/terminal/settings", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    // The platform's own key is made on first use (by any job's log redaction): make it now, so
    // the counts below only move if a hostile request stored something.
    api::domain::ssh_keys::service_key(&app.state)
        .await
        .unwrap();
    let before = row_counts(&app).await;
    let markers = marker_dir();
    let mut tried = 0;
    let mut failures = vec![];
    for (i, f) in fields.iter().enumerate() {
        let marker = markers.join(format!("pwned-{i}-{}", f.name));
        for value in (f.values)(&marker) {
            let res = app
                .request(
                    f.method.clone(),
                    &f.path,
                    Some(&app.admin.token),
                    Some((f.body)(&value)),
                )
                .await;
            let shown: String = value.chars().take(60).collect();
            let status = res.status();
            let json = res
                .headers()
                .get("content-type")
                .is_some_and(|c| c == "application/problem+json");
            let body: Value = res.json().await.unwrap_or(Value::Null);
            if status != StatusCode::UNPROCESSABLE_ENTITY
                || !json
                || !body["errors"][f.name].is_array()
            {
                failures.push(format!(
                    "{} {} `{}` = {shown:?}: {status} {body}",
                    f.method, f.path, f.name
                ));
            }
            tried += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "not refused with a problem naming the field:\n{}",
        failures.join("\n")
    );
    assert!(tried > 300, "only {tried} values were tried");
    assert_eq!(
        row_counts(&app).await,
        before,
        "a hostile request stored rows"
    );
    let terminal_after: Value = app
        .get("/api/terminal/settings", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(terminal_after, terminal_before);

    // Whatever was queued has run once a probe queued after it has: nothing left a marker.
    let res = app.post("/api/probes", &app.admin.token, json!({})).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let probe: Value = res.json().await.unwrap();
    let execution = probe["execution_id"].as_str().unwrap();
    let started = Instant::now();
    loop {
        let detail: Value = app
            .get(&format!("/api/executions/{execution}"), &app.admin.token)
            .await
            .json()
            .await
            .unwrap();
        if detail["execution"]["status"] == "succeeded" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the probe never ran: {detail}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left: Vec<_> = std::fs::read_dir(&markers)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "a hostile value ran a command: {left:?}");
}

#[tokio::test]
async fn bodies_that_are_not_utf8_json_or_small_enough_are_refused() {
    let app = app().await;
    let team = app.create_team("Apps").await;
    let before = row_counts(&app).await;
    let mut invalid_utf8 =
        format!(r#"{{"name": "bad", "team_id": "{team}", "url": "https://git.example.com/"#)
            .into_bytes();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    invalid_utf8.extend_from_slice(br#"a.git"}"#);
    for (path, body) in [
        ("/api/projects", invalid_utf8.clone()),
        ("/api/scripts", vec![0x80, 0x81, 0x82]),
        ("/api/projects", b"{\"name\": ".to_vec()),
        ("/api/deploy", b"[1, 2, 3]".to_vec()),
    ] {
        let res = app.post_raw(path, &app.admin.token, body).await;
        let status = res.status();
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {status}"
        );
        let problem = common::assert_problem(res, status).await;
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            assert!(problem["errors"]["body"].is_array(), "{problem}");
        }
    }
    // Over the 256 KiB limit: 413.
    let huge = json!({"name": "huge", "team_id": team, "url": "https://git.example.com/a.git",
                      "deploy_key": "k".repeat(300 * 1024)});
    let res = app
        .post_raw("/api/projects", &app.admin.token, huge.to_string())
        .await;
    common::assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(row_counts(&app).await, before);
}

#[tokio::test]
async fn a_yaml_bomb_playbook_is_refused_without_being_expanded() {
    let app = app().await;
    // Billion laughs: nine levels of ten aliases each, 10^9 strings once expanded.
    let mut bomb = String::from("- hosts: all\n  vars:\n    l0: &l0 \"lol\"\n");
    for level in 1..=9 {
        let refs = vec![format!("*l{}", level - 1); 10].join(", ");
        bomb.push_str(&format!("    l{level}: &l{level} [{refs}]\n"));
    }
    bomb.push_str("  tasks:\n    - ansible.builtin.debug:\n        var: l9\n");
    let before = row_counts(&app).await;
    for path in ["/api/scripts", "/api/scripts/validate"] {
        let res = app
            .post(
                path,
                &app.admin.token,
                json!({"name": "bomb", "content": bomb, "variables": []}),
            )
            .await;
        let body = common::assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(body["errors"]["content"].is_array(), "{path}: {body}");
    }
    assert_eq!(row_counts(&app).await, before);
}

/// Playbook variables legitimately take any text: each hostile value reaches the target
/// verbatim as data (Ansible gets them as `!unsafe`), and none runs anything.
#[tokio::test]
async fn shell_and_template_syntax_in_playbook_variables_arrive_verbatim_as_data() {
    let Some((port, key)) = common::ssh_test_host() else {
        return;
    };
    let app = app().await;
    let markers = marker_dir();
    let out = marker_dir();
    let m = markers.join("pwned");
    let values: Vec<String> = vec![
        format!("; touch {}", m.display()),
        format!("$(touch {})", m.display()),
        format!("`touch {}`", m.display()),
        format!("' ; touch {} ; '", m.display()),
        format!("\" && touch {} && \"", m.display()),
        format!("{{{{ lookup('pipe', 'touch {}') }}}}", m.display()),
        format!(
            "{{% for x in [1] %}}{{{{ lookup('pipe', 'touch {}') }}}}{{% endfor %}}",
            m.display()
        ),
        format!("--upload-pack=touch {}", m.display()),
        "!unsafe 'quoted' \\ back\\slash".into(),
    ];
    let mut playbook = String::from("- hosts: all\n  gather_facts: false\n  tasks:\n");
    let mut schema = vec![json!({"name": "out_dir", "kind": "string", "required": true})];
    let mut variables = json!({"out_dir": out.display().to_string()});
    for (i, value) in values.iter().enumerate() {
        playbook.push_str(&format!(
            "    - ansible.builtin.copy:\n        dest: \"{{{{ out_dir }}}}/v{i}.txt\"\n        content: \"{{{{ v{i} }}}}\"\n        mode: \"0600\"\n"
        ));
        schema.push(json!({"name": format!("v{i}"), "kind": "string", "required": true}));
        variables[format!("v{i}")] = json!(value);
    }
    let res = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            json!({"name": "hosts", "kind": "ssh", "endpoint": "",
                   "catalog": {"currency": "EUR", "locations": [], "images": []},
                   "credentials": {"private_key": key}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let account: Value = res.json().await.unwrap();
    let team = app.create_team("Ops").await;
    let res = app
        .post(
            "/api/servers/register",
            &app.admin.token,
            json!({"name": "target", "team_id": team, "provider_account_id": account["id"],
                   "address": "127.0.0.1", "port": port, "user": "root"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let server: Value = res.json().await.unwrap();
    let res = app
        .post(
            "/api/scripts",
            &app.admin.token,
            json!({"name": "verbatim", "content": playbook, "variables": schema}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let script: Value = res.json().await.unwrap();
    let res = app
        .post(
            &format!("/api/scripts/{}/run", script["id"].as_str().unwrap()),
            &app.admin.token,
            json!({"server_ids": [server["server"]["id"]], "variables": variables}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let run: Value = res.json().await.unwrap();
    let id = run["execution_id"].as_str().unwrap();
    let started = Instant::now();
    let done = loop {
        let run: Value = app
            .get(&format!("/api/playbook-runs/{id}"), &app.admin.token)
            .await
            .json()
            .await
            .unwrap();
        let status = run["execution"]["status"].as_str().unwrap_or("").to_owned();
        if ["succeeded", "failed", "cancelled"].contains(&status.as_str()) {
            break run;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "never finished: {run:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(done["execution"]["status"], "succeeded", "{done:#}");
    for (i, value) in values.iter().enumerate() {
        let written = std::fs::read_to_string(out.join(format!("v{i}.txt"))).unwrap();
        assert_eq!(&written, value, "v{i} did not arrive verbatim");
    }
    assert!(!m.exists(), "a variable value ran a command");
}
