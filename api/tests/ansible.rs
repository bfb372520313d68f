//! Deployment scripts against real parts: ansible-core from the project's venv runs real
//! playbooks over SSH on the two sshd test hosts (scripts/sshd.sh). Without those hosts the tests
//! say so and pass, unless PROVISIO_REQUIRE_FAKES=1 (the test script sets it).

mod common;

use common::{spawn_app_with, Options, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Hosts {
    port_a: u16,
    port_b: u16,
    fingerprint_a: String,
    client_key: String,
}

fn hosts() -> Option<Hosts> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let found = (|| {
        Some(Hosts {
            port_a: var("PROVISIO_TEST_SSH_PORT")?.parse().ok()?,
            port_b: var("PROVISIO_TEST_SSH_PORT_B")?.parse().ok()?,
            fingerprint_a: var("PROVISIO_TEST_SSH_FINGERPRINT")?,
            client_key: std::fs::read_to_string(var("PROVISIO_TEST_SSH_CLIENT_KEY")?).ok()?,
        })
    })();
    if found.is_none() {
        assert!(
            var("PROVISIO_REQUIRE_FAKES").is_none(),
            "PROVISIO_REQUIRE_FAKES is set but the sshd test hosts' variables are missing"
        );
        eprintln!("skipped: sshd test hosts not running (see scripts/sshd.sh)");
    }
    found
}

async fn app() -> TestApp {
    let mut options = Options {
        workers: 2,
        ..Options::default()
    };
    options.jobs.lease = Duration::from_secs(2);
    spawn_app_with(options).await
}

async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    json_of(app.get(path, &app.admin.token).await, StatusCode::OK).await
}

/// Registers the two sshd test hosts as servers `<prefix>-a` and `<prefix>-b` of a new team;
/// returns their ids and the team's.
async fn register_hosts(app: &TestApp, h: &Hosts, prefix: &str) -> (String, String, String) {
    let account = json_of(
        app.post(
            "/api/provider-accounts",
            &app.admin.token,
            json!({"name": format!("{prefix} hosts"), "kind": "ssh", "endpoint": "",
                   "catalog": {"currency": "EUR", "locations": [], "images": []},
                   "credentials": {"private_key": h.client_key}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let team = app.create_team(&format!("{prefix} team")).await;
    let mut ids = vec![];
    for (suffix, port) in [("a", h.port_a), ("b", h.port_b)] {
        let detail = json_of(
            app.post(
                "/api/servers/register",
                &app.admin.token,
                json!({"name": format!("{prefix}-{suffix}"), "team_id": team,
                       "provider_account_id": account["id"], "address": "127.0.0.1",
                       "port": port, "user": "root"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        ids.push(detail["server"]["id"].as_str().unwrap().to_owned());
    }
    (ids[0].clone(), ids[1].clone(), team)
}

async fn create_script(app: &TestApp, name: &str, content: &str, variables: Value) -> Value {
    json_of(
        app.post(
            "/api/scripts",
            &app.admin.token,
            json!({"name": name, "content": content, "variables": variables}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

async fn run(app: &TestApp, script: &Value, servers: &[&str], variables: Value) -> String {
    let path = format!("/api/scripts/{}/run", script["id"].as_str().unwrap());
    let body = json_of(
        app.post(
            &path,
            &app.admin.token,
            json!({"server_ids": servers, "variables": variables}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    body["execution_id"].as_str().unwrap().to_owned()
}

/// Waits until the run is finished and returns it.
async fn finished(app: &TestApp, id: &str, within: Duration) -> Value {
    let started = Instant::now();
    loop {
        let run = get_json(app, &format!("/api/playbook-runs/{id}")).await;
        let status = run["execution"]["status"].as_str().unwrap_or("").to_owned();
        if ["succeeded", "failed", "cancelled"].contains(&status.as_str()) {
            return run;
        }
        assert!(started.elapsed() < within, "run never finished: {run:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn log_text(app: &TestApp, id: &str) -> String {
    let detail = get_json(app, &format!("/api/executions/{id}")).await;
    detail["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap_or("").to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn recap_of<'a>(run: &'a Value, server: &str) -> &'a Value {
    run["recap"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["server_name"] == server)
        .unwrap_or_else(|| panic!("no recap for {server}: {run:#}"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "provisio-ansible-{name}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const WRITE_FILE: &str = r#"- hosts: all
  gather_facts: false
  tasks:
    - name: Write the greeting
      ansible.builtin.copy:
        dest: "{{ out_dir }}/{{ inventory_hostname }}.txt"
        content: "{{ message }}\n"
        mode: "0600"
    - name: Use the token
      ansible.builtin.debug:
        msg: "token is {{ token }}"
"#;

fn write_file_schema() -> Value {
    json!([
        {"name": "out_dir", "kind": "string", "required": true},
        {"name": "message", "kind": "string", "default": "hello"},
        {"name": "token", "kind": "secret", "required": true}
    ])
}

#[tokio::test]
async fn scripts_are_validated_on_save_and_every_edit_is_a_version() {
    let app = app().await;
    // Shipped samples are seeded and pass Ansible's syntax check.
    let list = get_json(&app, "/api/scripts?per_page=50").await;
    let builtin: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["builtin"] == true)
        .collect();
    assert_eq!(builtin.len(), 5, "{list:#}");
    for sample in builtin {
        let script = get_json(
            &app,
            &format!("/api/scripts/{}", sample["id"].as_str().unwrap()),
        )
        .await;
        let res = app
            .post(
                "/api/scripts/validate",
                &app.admin.token,
                json!({"name": script["name"], "content": script["current"]["content"], "variables": script["current"]["variables"]}),
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::NO_CONTENT,
            "{}: {}",
            script["name"],
            res.text().await.unwrap()
        );
    }

    // A YAML error names its line.
    let res = app
        .post("/api/scripts", &app.admin.token, json!({"name": "broken", "content": "- hosts: all\n  tasks:\n    - name: x\n   bad: [\n"}))
        .await;
    let body = json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    let message = body["errors"]["content"][0].as_str().unwrap();
    assert!(message.starts_with("line 4"), "{message}");
    // So does what only Ansible knows is wrong.
    let res = app
        .post("/api/scripts", &app.admin.token, json!({"name": "broken", "content": "- hosts: all\n  tasks:\n    - name: two actions\n      debug: msg=hi\n      command: id\n"}))
        .await;
    let body = json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    let message = body["errors"]["content"][0].as_str().unwrap();
    assert!(
        message.starts_with("line 3, column 7: conflicting action statements"),
        "{message}"
    );
    // A bad schema is per field.
    let res = app
        .post("/api/scripts", &app.admin.token, json!({"name": "broken", "content": WRITE_FILE, "variables": [{"name": "ansible_host", "kind": "string"}, {"name": "mode", "kind": "choice"}]}))
        .await;
    let body = json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["errors"]["variables[0].name"].is_array(), "{body:#}");
    assert!(
        body["errors"]["variables[1].options"].is_array(),
        "{body:#}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM scripts WHERE builtin = false")
            .await,
        0
    );

    let script = create_script(&app, "greeter", WRITE_FILE, write_file_schema()).await;
    assert_eq!(script["current"]["version"], 1);
    let id = script["id"].as_str().unwrap();
    // Same content, new name: no new version.
    let renamed = json_of(
        app.put(
            &format!("/api/scripts/{id}"),
            &app.admin.token,
            json!({"name": "greeter 2", "content": WRITE_FILE, "variables": write_file_schema()}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["current"]["version"], 1);
    let edited_content = WRITE_FILE.replace("Write the greeting", "Write the greeting file");
    let edited = json_of(
        app.put(&format!("/api/scripts/{id}"), &app.admin.token, json!({"name": "greeter 2", "content": edited_content, "variables": write_file_schema()})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["current"]["version"], 2);
    assert_eq!(edited["versions"].as_array().unwrap().len(), 2);
    let v1 = get_json(&app, &format!("/api/scripts/{id}/versions/1")).await;
    assert_eq!(v1["content"], WRITE_FILE);
    // A failed edit loses nothing.
    let res = app
        .put(
            &format!("/api/scripts/{id}"),
            &app.admin.token,
            json!({"name": "greeter 2", "content": "- hosts: [", "variables": []}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let again = get_json(&app, &format!("/api/scripts/{id}")).await;
    assert_eq!(again["current"]["version"], 2);
    assert_eq!(again["current"]["content"], edited_content);
    // Shipped samples cannot be deleted; own scripts can.
    let sample_id = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["builtin"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.delete(&format!("/api/scripts/{sample_id}"), &app.admin.token)
            .await
            .status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.delete(&format!("/api/scripts/{id}"), &app.admin.token)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/scripts/{id}"), &app.admin.token)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_playbook_runs_on_two_hosts_with_a_recap_and_its_secret_never_logged() {
    let Some(h) = hosts() else { return };
    let app = app().await;
    let (a, b, _) = register_hosts(&app, &h, "twin").await;
    let script = create_script(&app, "greeter", WRITE_FILE, write_file_schema()).await;
    let out = scratch("greet");
    let secret = format!("s3cret-{}", uuid::Uuid::new_v4().simple());
    // A value that would run a command if Ansible templated it.
    let pwned = out.join("pwned");
    let message = format!("{{{{ lookup('pipe', 'touch {}') }}}}", pwned.display());

    // Variables are checked against the schema first.
    let path = format!("/api/scripts/{}/run", script["id"].as_str().unwrap());
    let res = app
        .post(
            &path,
            &app.admin.token,
            json!({"server_ids": [a], "variables": {"out_dir": 5, "extra": 1}}),
        )
        .await;
    let body = json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    for field in ["variables.out_dir", "variables.extra", "variables.token"] {
        assert!(body["errors"][field].is_array(), "{field}: {body:#}");
    }

    let id = run(
        &app,
        &script,
        &[&a, &b],
        json!({"out_dir": out.display().to_string(), "message": message, "token": secret}),
    )
    .await;
    let done = finished(&app, &id, Duration::from_secs(120)).await;
    let log = log_text(&app, &id).await;
    assert_eq!(done["execution"]["status"], "succeeded", "{done:#}\n{log}");
    assert_eq!(done["exit_code"], 0);
    for name in ["twin-a", "twin-b"] {
        let recap = recap_of(&done, name);
        assert_eq!(recap["failed"], 0, "{recap}");
        assert_eq!(recap["unreachable"], 0, "{recap}");
        assert_eq!(recap["changed"], 1, "{recap}");
        assert_eq!(recap["ok"], 2, "{recap}");
        let written = std::fs::read_to_string(out.join(format!("{name}.txt"))).unwrap();
        assert_eq!(
            written,
            format!("{message}\n"),
            "the value must arrive verbatim"
        );
    }
    assert!(
        !pwned.exists(),
        "a variable value was templated and ran a command"
    );
    assert_eq!(done["variables"]["token"], "********");
    assert!(log.contains("TASK [Write the greeting]"), "{log}");
    assert!(log.contains("token is [redacted]"), "{log}");
    assert!(!log.contains(&secret), "{log}");
    // Nor does the live stream (replayed from the start, ending with the run).
    let stream = app
        .get(&format!("/api/executions/{id}/events"), &app.admin.token)
        .await
        .text()
        .await
        .unwrap();
    assert!(stream.contains("event: end"), "{stream}");
    assert!(stream.contains("token is [redacted]"));
    assert!(!stream.contains(&secret));
    // Neither the stored log, nor the stored variables, nor the audit rows hold the secret.
    let leaks = app
        .count(&format!(
            "SELECT COUNT(*) AS n FROM execution_logs WHERE text LIKE '%{secret}%'"
        ))
        .await
        + app.count(&format!("SELECT COUNT(*) AS n FROM executions WHERE CAST(variables AS TEXT) LIKE '%{secret}%'")).await
        + app.count(&format!("SELECT COUNT(*) AS n FROM audit_events WHERE CAST(after AS TEXT) LIKE '%{secret}%'")).await;
    assert_eq!(leaks, 0);
    // The host keys were pinned on first use.
    let server = get_json(&app, &format!("/api/servers/{a}")).await;
    assert_eq!(
        server["server"]["host_key_fingerprint"],
        h.fingerprint_a.as_str()
    );
    assert!(server["executions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == id.as_str()));

    // Re-run: same version, servers and (secret) variables.
    std::fs::remove_file(out.join("twin-a.txt")).unwrap();
    let again = json_of(
        app.post(
            &format!("/api/playbook-runs/{id}/rerun"),
            &app.admin.token,
            json!({}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let again_id = again["execution_id"].as_str().unwrap();
    let done = finished(&app, again_id, Duration::from_secs(120)).await;
    assert_eq!(done["execution"]["status"], "succeeded", "{done:#}");
    assert!(out.join("twin-a.txt").exists());
    assert!(log_text(&app, again_id)
        .await
        .contains("token is [redacted]"));
    let listed = get_json(&app, &format!("/api/playbook-runs?server_id={b}")).await;
    assert_eq!(listed["total"], 2);
}

#[tokio::test]
async fn failing_tasks_unreachable_hosts_and_changed_host_keys_fail_the_run_with_a_recap() {
    let Some(h) = hosts() else { return };
    let app = app().await;
    let (a, b, _) = register_hosts(&app, &h, "flaky").await;
    let failing = create_script(
        &app,
        "fails on b",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: ok everywhere\n      ansible.builtin.ping:\n    - name: fail on b\n      ansible.builtin.fail:\n        msg: b is broken\n      when: inventory_hostname == 'flaky-b'\n",
        json!([]),
    )
    .await;
    let id = run(&app, &failing, &[&a, &b], json!({})).await;
    let done = finished(&app, &id, Duration::from_secs(120)).await;
    assert_eq!(done["execution"]["status"], "failed");
    assert_eq!(done["exit_code"], 2);
    assert!(
        done["execution"]["error"]
            .as_str()
            .unwrap()
            .contains("failed on flaky-b"),
        "{done:#}"
    );
    assert_eq!(recap_of(&done, "flaky-a")["failed"], 0);
    assert_eq!(recap_of(&done, "flaky-b")["failed"], 1);
    assert!(log_text(&app, &id).await.contains("b is broken"));

    // b moves to a closed port: unreachable, a still runs.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    set_server(
        &app,
        &b,
        api::entities::servers::Column::SshPort,
        json!(closed),
    )
    .await;
    let ping = create_script(
        &app,
        "ping",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n",
        json!([]),
    )
    .await;
    let id = run(&app, &ping, &[&a, &b], json!({})).await;
    let done = finished(&app, &id, Duration::from_secs(120)).await;
    assert_eq!(done["execution"]["status"], "failed");
    assert_eq!(recap_of(&done, "flaky-a")["ok"], 1);
    assert_eq!(recap_of(&done, "flaky-b")["unreachable"], 1);
    assert!(log_text(&app, &id).await.contains("flaky-b: unreachable"));

    // A host offering another key than the pinned one is not connected to.
    set_server(
        &app,
        &a,
        api::entities::servers::Column::HostKeyFingerprint,
        json!("SHA256:not-the-key"),
    )
    .await;
    let id = run(&app, &ping, &[&a], json!({})).await;
    let done = finished(&app, &id, Duration::from_secs(60)).await;
    assert_eq!(done["execution"]["status"], "failed");
    assert!(log_text(&app, &id).await.contains("the host key changed"));

    // One run touches the servers of one team only: its log belongs to that team.
    let elsewhere: uuid::Uuid = app.create_team("Elsewhere").await.parse().unwrap();
    {
        use api::entities::servers;
        use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
        servers::Entity::update_many()
            .col_expr(servers::Column::TeamId, Expr::value(elsewhere))
            .filter(servers::Column::Id.eq(b.parse::<uuid::Uuid>().unwrap()))
            .exec(&app.db)
            .await
            .unwrap();
    }
    let path = format!("/api/scripts/{}/run", ping["id"].as_str().unwrap());
    let res = app
        .post(&path, &app.admin.token, json!({"server_ids": [a, b]}))
        .await;
    let body = json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        body["errors"]["server_ids"][0]
            .as_str()
            .unwrap()
            .contains("one team"),
        "{body}"
    );
}

async fn set_server(app: &TestApp, id: &str, column: api::entities::servers::Column, value: Value) {
    use api::entities::servers;
    use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
    let value: sea_orm::Value = match value {
        Value::Number(n) => (n.as_i64().unwrap() as i32).into(),
        Value::String(s) => s.into(),
        other => panic!("unsupported {other}"),
    };
    let changed = servers::Entity::update_many()
        .col_expr(column, Expr::value(value))
        .filter(servers::Column::Id.eq(id.parse::<uuid::Uuid>().unwrap()))
        .exec(&app.db)
        .await
        .unwrap()
        .rows_affected;
    assert_eq!(changed, 1);
}

fn processes_mentioning(marker: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(marker))
        .collect()
}

const SLOW: &str = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: nap\n      ansible.builtin.command:\n        argv: [sleep, \"{{ seconds }}\"]\n    - name: after the nap\n      ansible.builtin.file:\n        path: \"{{ marker }}\"\n        state: touch\n";

fn slow_schema() -> Value {
    json!([{"name": "seconds", "kind": "int", "default": 60}, {"name": "marker", "kind": "string", "required": true}])
}

#[tokio::test]
async fn cancel_kills_the_whole_process_group_and_the_timeout_stops_a_run() {
    let Some(h) = hosts() else { return };
    let app = app().await;
    let (a, _, team) = register_hosts(&app, &h, "slow").await;
    let agent = app
        .user_with(
            "agent",
            &[shared::Role::TechnicalAgent],
            std::slice::from_ref(&team),
        )
        .await;
    let outsider = app
        .user_with("outsider", &[shared::Role::TechnicalAgent], &[])
        .await;
    let script = create_script(&app, "slow", SLOW, slow_schema()).await;
    let out = scratch("cancel");
    let marker = out.join("after-nap");
    let id = run(
        &app,
        &script,
        &[&a],
        json!({"marker": marker.display().to_string()}),
    )
    .await;
    let started = Instant::now();
    while !log_text(&app, &id).await.contains("TASK [nap]") {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run never reached the nap"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let dir_marker = format!("provisio-run-{}", &id.replace('-', "")[..12]);
    assert!(
        !processes_mentioning(&dir_marker).is_empty(),
        "ansible-playbook is not running"
    );
    // A technical agent of the team follows the run and cancels it; an outsider sees nothing.
    for path in [
        format!("/api/executions/{id}"),
        format!("/api/executions/{id}/events"),
        format!("/api/playbook-runs/{id}"),
    ] {
        let res = app.get(&path, &outsider.token).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        if !path.ends_with("/events") {
            let res = app.get(&path, &agent.token).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
        }
    }
    let res = app
        .post(
            &format!("/api/executions/{id}/cancel"),
            &agent.token,
            json!({}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let done = finished(&app, &id, Duration::from_secs(30)).await;
    assert_eq!(done["execution"]["status"], "cancelled");
    let started = Instant::now();
    while !processes_mentioning(&dir_marker).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "left behind: {:?}",
            processes_mentioning(&dir_marker)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!marker.exists());

    // A run over its timeout is stopped and fails saying so.
    let path = format!("/api/scripts/{}/run", script["id"].as_str().unwrap());
    let body = json_of(
        app.post(&path, &app.admin.token, json!({"server_ids": [a], "variables": {"marker": marker.display().to_string()}, "timeout_secs": 5})).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let id = body["execution_id"].as_str().unwrap();
    let done = finished(&app, id, Duration::from_secs(60)).await;
    assert_eq!(done["execution"]["status"], "failed");
    assert!(
        done["execution"]["error"]
            .as_str()
            .unwrap()
            .contains("timeout"),
        "{done:#}"
    );
    assert!(!marker.exists());
}

#[tokio::test]
async fn runs_on_one_server_wait_for_each_other() {
    let Some(h) = hosts() else { return };
    let app = app().await;
    let (a, _, _) = register_hosts(&app, &h, "busy").await;
    let script = create_script(&app, "short nap", SLOW, slow_schema()).await;
    let out = scratch("busy");
    let vars = |n: &str| json!({"seconds": 2, "marker": out.join(n).display().to_string()});
    let first = run(&app, &script, &[&a], vars("one")).await;
    let second = run(&app, &script, &[&a], vars("two")).await;
    let one = finished(&app, &first, Duration::from_secs(120)).await;
    let two = finished(&app, &second, Duration::from_secs(120)).await;
    assert_eq!(one["execution"]["status"], "succeeded");
    assert_eq!(two["execution"]["status"], "succeeded");
    let (earlier, later) =
        if one["execution"]["started_at"].as_str() < two["execution"]["started_at"].as_str() {
            (&one, &two)
        } else {
            (&two, &one)
        };
    let finished_at =
        chrono::DateTime::parse_from_rfc3339(earlier["execution"]["finished_at"].as_str().unwrap())
            .unwrap();
    let started_at =
        chrono::DateTime::parse_from_rfc3339(later["execution"]["started_at"].as_str().unwrap())
            .unwrap();
    assert!(
        started_at >= finished_at - chrono::Duration::milliseconds(500),
        "runs overlapped: {one:#} {two:#}"
    );
    assert!(log_text(&app, later["execution"]["id"].as_str().unwrap())
        .await
        .contains("waiting: another run is using busy-a"));
}

#[tokio::test]
async fn backups_system_updates_and_schedules_run_the_shipped_playbooks() {
    let Some(h) = hosts() else { return };
    let app = app().await;
    let (a, _, _) = register_hosts(&app, &h, "kept").await;
    let out = scratch("backup");
    std::fs::create_dir_all(out.join("data")).unwrap();
    std::fs::write(out.join("data/important.txt"), "keep me").unwrap();
    let backup_vars = json!({"backup_dir": out.join("archives").display().to_string(), "paths": out.join("data").display().to_string(), "include_databases": false});

    let body = json_of(
        app.post(
            &format!("/api/servers/{a}/maintenance"),
            &app.admin.token,
            json!({"operation": "backup", "variables": backup_vars}),
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    let id = body["execution_id"].as_str().unwrap();
    let done = finished(&app, id, Duration::from_secs(120)).await;
    assert_eq!(
        done["execution"]["status"],
        "succeeded",
        "{}",
        log_text(&app, id).await
    );
    assert_eq!(done["execution"]["kind"], "backup");
    assert_eq!(done["script_name"], "Backup");
    let archives: Vec<_> = std::fs::read_dir(out.join("archives"))
        .unwrap()
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(archives.len(), 1);
    let listing = std::process::Command::new("tar")
        .arg("-tzf")
        .arg(archives[0].path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listing.stdout).contains("important.txt"));

    let body = json_of(
        app.post(&format!("/api/servers/{a}/maintenance"), &app.admin.token, json!({"operation": "system_update", "variables": {"check_only": true, "refresh_cache": false}})).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let id = body["execution_id"].as_str().unwrap();
    let done = finished(&app, id, Duration::from_secs(180)).await;
    assert_eq!(
        done["execution"]["status"],
        "succeeded",
        "{}",
        log_text(&app, id).await
    );
    assert_eq!(recap_of(&done, "kept-a")["changed"], 0);
    assert!(log_text(&app, id).await.contains("package(s) to upgrade"));

    // Schedules: a bad cron is a field error; a due schedule fires once through the queue.
    let res = app
        .post(
            &format!("/api/servers/{a}/schedules"),
            &app.admin.token,
            json!({"operation": "backup", "cron": "every day", "variables": backup_vars}),
        )
        .await;
    let body = json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["errors"]["cron"].is_array());
    let schedule = json_of(
        app.post(
            &format!("/api/servers/{a}/schedules"),
            &app.admin.token,
            json!({"operation": "backup", "cron": "0 3 * * *", "variables": backup_vars}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let next =
        chrono::DateTime::parse_from_rfc3339(schedule["next_run_at"].as_str().unwrap()).unwrap();
    assert_eq!(next.format("%H:%M").to_string(), "03:00");
    let schedule_id = schedule["id"].as_str().unwrap();
    {
        use api::entities::schedules;
        use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
        let past = chrono::Utc::now() - chrono::Duration::days(1);
        schedules::Entity::update_many()
            .col_expr(schedules::Column::NextRunAt, Expr::value(past))
            .filter(schedules::Column::Id.eq(schedule_id.parse::<uuid::Uuid>().unwrap()))
            .exec(&app.db)
            .await
            .unwrap();
    }
    let started = Instant::now();
    let fired = loop {
        let list = get_json(&app, &format!("/api/servers/{a}/schedules")).await;
        if let Some(id) = list[0]["last_execution_id"].as_str() {
            break (id.to_owned(), list[0].clone());
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the schedule never fired: {list:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let done = finished(&app, &fired.0, Duration::from_secs(120)).await;
    assert_eq!(done["execution"]["status"], "succeeded");
    assert!(fired.1["last_run_at"].is_string());
    assert_eq!(std::fs::read_dir(out.join("archives")).unwrap().count(), 2);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM executions WHERE kind = 'backup'")
            .await,
        2
    );
    let res = app
        .delete(&format!("/api/schedules/{schedule_id}"), &app.admin.token)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn ssh_keys_are_parsed_fingerprinted_and_unique_and_the_service_key_is_listed() {
    let app = app().await;
    let dir = scratch("keys");
    let key_path = dir.join("k");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "alice@laptop", "-f"])
        .arg(&key_path)
        .status()
        .unwrap();
    assert!(status.success());
    let public = std::fs::read_to_string(dir.join("k.pub")).unwrap();
    let keygen = |hash: &str| {
        let out = std::process::Command::new("ssh-keygen")
            .args(["-E", hash, "-lf"])
            .arg(dir.join("k.pub"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_owned()
    };
    let key = json_of(
        app.post(
            "/api/ssh-keys",
            &app.admin.token,
            json!({"name": "laptop", "public_key": public}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(key["fingerprint_sha256"], keygen("sha256").as_str());
    assert_eq!(key["fingerprint_md5"], keygen("md5").as_str());
    assert_eq!(key["key_type"], "ssh-ed25519");
    let res = app
        .post(
            "/api/ssh-keys",
            &app.admin.token,
            json!({"name": "again", "public_key": public}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app.post("/api/ssh-keys", &app.admin.token, json!({"name": "bad", "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAnotvalidbase64atall="})).await;
    let body = json_of(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["errors"]["public_key"].is_array());
    let keys = get_json(&app, "/api/ssh-keys").await;
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let service = keys.iter().find(|k| k["service"] == true).unwrap();
    assert!(service["public_key"]
        .as_str()
        .unwrap()
        .starts_with("ssh-ed25519 "));
    // The private half is sealed at rest.
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM ssh_keys WHERE private_key LIKE 'v1:%'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM ssh_keys WHERE private_key LIKE '%PRIVATE KEY%'")
            .await,
        0
    );
    let service_id = service["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/ssh-keys/{service_id}"), &app.admin.token)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let id = key["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/ssh-keys/{id}"), &app.admin.token)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

/// A playbook may run tasks on the Provisio host (`delegate_to: localhost`). They run in the
/// sandbox: as nobody, seeing neither the key file nor other runs' directories, reaching no port
/// of the host's, and still able to do their work there (while the play reaches its hosts).
#[tokio::test]
async fn tasks_delegated_to_the_provisio_host_run_in_a_sandbox_without_its_secrets() {
    let Some(h) = hosts() else { return };
    let app = app().await;
    let (a, _, _) = register_hosts(&app, &h, "sandbox").await;
    let key_file = app.state.config.key_file.clone();
    let key = std::fs::read(&key_file).unwrap();
    // Another run's directory, as a concurrent run would leave it.
    let neighbour = tempfile::Builder::new()
        .prefix("provisio-run-neighbour")
        .tempdir()
        .unwrap();
    let playbook = format!(
        r#"- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.ping:
    - name: Work on the Provisio host
      ansible.builtin.shell: "id -un; echo done > result.txt; cat result.txt"
      delegate_to: localhost
      register: work
    - ansible.builtin.debug:
        msg: "controller said {{{{ work.stdout_lines | join(',') }}}}"
    - name: Read the key file
      ansible.builtin.command: cat {key}
      delegate_to: localhost
      register: stolen
      ignore_errors: true
    - ansible.builtin.debug:
        msg: "key file: rc={{{{ stolen.rc }}}} {{{{ stolen.stderr }}}}"
    - name: Look at other runs
      ansible.builtin.command: ls {neighbour}
      delegate_to: localhost
      register: others
      ignore_errors: true
    - ansible.builtin.debug:
        msg: "other runs: rc={{{{ others.rc }}}} {{{{ others.stderr }}}}"
    - name: Reach a service of this host
      ansible.builtin.command: /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', {port}), 3)"
      delegate_to: localhost
      register: reach
      ignore_errors: true
    - ansible.builtin.debug:
        msg: "service port: rc={{{{ reach.rc }}}} {{{{ reach.stderr_lines | last }}}}"
"#,
        key = key_file.display(),
        neighbour = neighbour.path().display(),
        // Provisio's own port stands for the database's: both listen on this host.
        port = app.address.rsplit(':').next().unwrap(),
    );
    let script = create_script(&app, "sandboxed", &playbook, json!([])).await;
    let id = run(&app, &script, &[&a], json!({})).await;
    let finished = finished(&app, &id, Duration::from_secs(90)).await;
    let log = log_text(&app, &id).await;
    assert_eq!(finished["execution"]["status"], "succeeded", "{log}");
    assert!(log.contains("controller said nobody,done"), "{log}");
    assert!(
        log.contains(&format!(
            "key file: rc=1 cat: {}: No such file or directory",
            key_file.display()
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "other runs: rc=2 ls: cannot access '{}': No such file or directory",
            neighbour.path().display()
        )),
        "{log}"
    );
    // The sandbox has a loopback of its own and no other network: nothing listens there.
    assert!(
        log.contains("service port: rc=1 ConnectionRefusedError: [Errno 111] Connection refused"),
        "{log}"
    );
    assert!(!log.contains(String::from_utf8_lossy(&key).trim()), "{log}");
}
