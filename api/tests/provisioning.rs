//! The provisioning pipeline, inventory and sync against third-party fakes started by
//! `scripts/fakes.sh` (fakepve for Proxmox, cloudalone for Hetzner, Prism validating every request
//! against the vendor specs) and a real sshd from `scripts/sshd.sh`. Without those environment
//! variables the tests say so and pass, unless PROVISIO_REQUIRE_FAKES=1 (the test script sets it).

mod common;

use common::{assert_problem, spawn_app_with, Options, Session, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::Role;
use std::time::{Duration, Instant};

struct Fakes {
    pve_url: String,
    pve_direct_url: String,
    pve_token: String,
    pve_ca: String,
    node: String,
    template: String,
    ct_template: String,
    hcloud_url: String,
    hcloud_token: String,
    ssh_port: u16,
    ssh_fingerprint: String,
    admin_url: String,
}

fn fakes() -> Option<Fakes> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let found = (|| {
        Some(Fakes {
            pve_url: var("PROVISIO_FAKEPVE_URL")?,
            pve_direct_url: var("PROVISIO_FAKEPVE_DIRECT_URL")?,
            pve_token: var("PROVISIO_FAKEPVE_TOKEN")?,
            pve_ca: var("PROVISIO_FAKEPVE_CA")?,
            node: var("PROVISIO_FAKEPVE_NODE")?,
            template: var("PROVISIO_FAKEPVE_TEMPLATE_VMID")?,
            ct_template: var("PROVISIO_FAKEPVE_CT_TEMPLATE")?,
            hcloud_url: var("PROVISIO_HCLOUD_URL")?,
            hcloud_token: var("PROVISIO_HCLOUD_TOKEN")?,
            ssh_port: var("PROVISIO_TEST_SSH_PORT")?.parse().ok()?,
            ssh_fingerprint: var("PROVISIO_TEST_SSH_FINGERPRINT")?,
            admin_url: var("PROVISIO_FAKEPVE_ADMIN_URL")?,
        })
    })();
    if found.is_none() {
        assert!(
            var("PROVISIO_REQUIRE_FAKES").is_none(),
            "PROVISIO_REQUIRE_FAKES is set but the fakes' variables are missing"
        );
        eprintln!("skipped: provider fakes not running (see scripts/fakes.sh)");
    }
    found
}

fn options(workers: usize) -> Options {
    let mut o = Options {
        workers,
        ..Options::default()
    };
    o.jobs.lease = Duration::from_secs(2);
    o
}

async fn proxmox_account(app: &TestApp, f: &Fakes, name: &str, wait_for_ssh: bool) -> String {
    proxmox_account_with(
        app,
        f,
        name,
        json!({"wait_for_ssh": wait_for_ssh}),
        &f.pve_token,
    )
    .await
}

/// A Proxmox account on the fake: `settings` override the defaults, `token` may be a wrong one.
async fn proxmox_account_with(
    app: &TestApp,
    f: &Fakes,
    name: &str,
    settings: Value,
    token: &str,
) -> String {
    let pin = pin_of(f);
    let mut merged = json!({"images": {"debian-12": f.template, "debian-ct": f.ct_template},
                            "ssh_port": f.ssh_port, "ready_timeout_secs": 30, "tls_fingerprint": pin});
    for (k, v) in settings.as_object().unwrap() {
        merged[k] = v.clone();
    }
    let res = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            json!({
                "name": name, "kind": "proxmox", "endpoint": f.pve_url,
                "catalog": {"currency": "EUR", "locations": [f.node], "images": ["debian-12", "debian-ct"],
                            "custom_limits": {"max_cpu": 8, "max_ram_mb": 16384, "max_disk_gb": 200}},
                "settings": merged,
                "credentials": {"api_token": token}
            }),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["has_credentials"], true);
    assert!(
        !body.to_string().contains(token),
        "credentials must never be returned"
    );
    body["id"].as_str().unwrap().to_owned()
}

async fn hetzner_account(app: &TestApp, f: &Fakes, name: &str, settings: Value) -> String {
    let res = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            json!({
                "name": name, "kind": "hetzner", "endpoint": f.hcloud_url,
                "catalog": {"currency": "EUR", "locations": ["abilian"], "images": ["debian-13"],
                            "server_types": [{"name": "small", "cpu": 1, "ram_mb": 2048, "disk_gb": 20, "monthly_price_cents": 400}]},
                "settings": settings,
                "credentials": {"api_token": f.hcloud_token}
            }),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A requester in a fresh team files the request; the admin approves it.
async fn file_and_approve(
    app: &TestApp,
    account: &str,
    hostname: &str,
    extra: Value,
) -> (String, Session) {
    let team = app.create_team(&format!("Team {hostname}")).await;
    let owner = app
        .user_with(
            &format!("u-{hostname}"),
            &[Role::Requester],
            std::slice::from_ref(&team),
        )
        .await;
    let mut body = json!({
        "hostname": hostname, "team_id": team, "provider_account_id": account,
        "image": "debian-12", "purpose": "provisioning test",
        "ssh_public_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIJmC5nIuioju6g+QA2YkLz1TkxlBY1nMvpBhfQpgE9n test"]
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = app.post("/api/requests", &owner.token, body).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let id = res.json::<Value>().await.unwrap()["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .post(
            &format!("/api/requests/{id}/approve"),
            &app.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    (id, owner)
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    app.get(path, &app.admin.token).await.json().await.unwrap()
}

async fn post_json(app: &TestApp, path: &str, body: Value) -> Value {
    app.post(path, &app.admin.token, body)
        .await
        .json()
        .await
        .unwrap()
}

/// The account's "test connection" report.
async fn connection_report(app: &TestApp, account: &str) -> Value {
    post_json(
        app,
        &format!("/api/provider-accounts/{account}/test"),
        json!({}),
    )
    .await
}

async fn delete_server(app: &TestApp, id: &str, confirm: &str) -> reqwest::Response {
    app.request(
        reqwest::Method::DELETE,
        &format!("/api/servers/{id}"),
        Some(&app.admin.token),
        Some(json!({"confirm_name": confirm})),
    )
    .await
}

/// Polls `probe` until it yields a value, failing the test after `within`.
async fn eventually<F, Fut, T>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(last) => assert!(started.elapsed() < within, "{what}: {last}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_server_status(app: &TestApp, id: &str, wanted: &str) {
    eventually(
        &format!("server never {wanted}"),
        Duration::from_secs(30),
        || async {
            let s = get_json(app, &format!("/api/servers/{id}")).await;
            if s["server"]["status"] == wanted {
                Ok(())
            } else {
                Err(s.to_string())
            }
        },
    )
    .await
}

/// Waits for an execution to succeed; returns its detail with the log.
async fn wait_execution(app: &TestApp, id: &str) -> Value {
    eventually(
        "execution did not succeed",
        Duration::from_secs(60),
        || async {
            let e = get_json(app, &format!("/api/executions/{id}")).await;
            assert_ne!(e["execution"]["status"], "failed", "{e:#}");
            if e["execution"]["status"] == "succeeded" {
                Ok(e)
            } else {
                Err(e.to_string())
            }
        },
    )
    .await
}

async fn wait_for_status(app: &TestApp, id: &str, wanted: &[&str], within: Duration) -> Value {
    let started = Instant::now();
    loop {
        let detail: Value = get_json(app, &format!("/api/requests/{id}")).await;
        let status = detail["request"]["status"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        // The request settles a moment before its job row is closed: wait for both.
        let job_open = matches!(detail["job"]["status"].as_str(), Some("queued" | "running"));
        if wanted.contains(&status.as_str()) && !job_open {
            return detail;
        }
        assert!(
            started.elapsed() < within,
            "request {id} still {status} after {within:?}: {detail:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn log_of(app: &TestApp, execution: &str) -> Vec<Value> {
    let detail: Value = get_json(app, &format!("/api/executions/{execution}")).await;
    detail["lines"].as_array().cloned().unwrap_or_default()
}

/// What fakepve itself answers at `path` (straight to the fake, not through Provisio).
async fn pve_get(f: &Fakes, path: &str) -> Value {
    common::fakepve_get(&f.pve_direct_url, &f.pve_token, &f.pve_ca, path).await
}

async fn pve_guests(f: &Fakes) -> Vec<Value> {
    pve_get(f, "/cluster/resources?type=vm")
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn an_approved_proxmox_request_becomes_a_running_server_with_a_pinned_host_key() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(1)).await;
    let account = proxmox_account(&app, &f, "PVE e2e", true).await;
    let (id, owner) = file_and_approve(
        &app,
        &account,
        "pve-web-1",
        json!({"location": f.node, "cpu": 2, "ram_mb": 2048, "disk_gb": 10}),
    )
    .await;
    let detail = wait_for_status(&app, &id, &["deployed", "failed"], Duration::from_secs(90)).await;
    assert_eq!(detail["request"]["status"], "deployed", "{detail:#}");
    let server_id = detail["server_id"]
        .as_str()
        .expect("the request links its server");

    let server: Value = app
        .get(&format!("/api/servers/{server_id}"), &owner.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(server["server"]["status"], "running");
    assert_eq!(server["server"]["ipv4"], "127.0.0.1");
    assert_eq!(
        server["server"]["host_key_fingerprint"],
        f.ssh_fingerprint.as_str()
    );
    assert_eq!(server["server"]["origin"], "provisioned");
    assert_eq!(server["server"]["cpu"], 2);
    let provider_id = server["server"]["provider_id"].as_str().unwrap();
    assert!(
        provider_id.starts_with(&format!("{}/qemu/", f.node)),
        "{provider_id}"
    );

    // The fake holds exactly one guest of that name, tagged with the request.
    let guests = pve_guests(&f).await;
    let ours: Vec<&Value> = guests.iter().filter(|g| g["name"] == "pve-web-1").collect();
    assert_eq!(ours.len(), 1, "{guests:#?}");
    // The platform's service key went onto the guest (cloud-init sshkeys), so playbooks can log in.
    let keys = get_json(&app, "/api/ssh-keys").await;
    let service_key = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["service"] == true)
        .unwrap()["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let config = pve_get(&f, &format!("/nodes/{provider_id}/config")).await;
    let injected = percent_decode(config["sshkeys"].as_str().unwrap_or_default());
    assert!(injected.contains(&service_key), "{config:#}");

    // The execution log tells the story in order, and never shows the token's secret.
    let execution = detail["executions"][0]["id"].as_str().unwrap();
    let lines = log_of(&app, execution).await;
    let steps: Vec<String> = lines
        .iter()
        .filter(|l| l["stream"] == "step")
        .map(|l| l["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        steps.iter().any(|s| s.starts_with("cloning template")),
        "{steps:?}"
    );
    assert!(
        steps.iter().any(|s| s.starts_with("waiting for SSH")),
        "{steps:?}"
    );
    assert_eq!(steps.last().map(String::as_str), Some("deployed"));
    // The tracker's stages, in order, each on the step line that starts it.
    let stages: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.get("stage").and_then(|s| s.as_str()))
        .collect();
    assert_eq!(
        stages,
        [
            "creating",
            "waiting_for_address",
            "waiting_for_ssh",
            "provisioned"
        ]
    );
    let secret = f.pve_token.split_once('=').unwrap().1;
    assert!(lines
        .iter()
        .all(|l| !l["text"].as_str().unwrap().contains(secret)));

    // The requester was told.
    let notes: Value = app
        .get("/api/notifications", &owner.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        notes.to_string().contains("Server ready: pve-web-1"),
        "{notes:#}"
    );

    // Power: stop, then start, each a job with its own log; the status follows the provider.
    for (action, expect) in [("stop", "stopped"), ("start", "running")] {
        let res = app
            .post(
                &format!("/api/servers/{server_id}/power"),
                &app.admin.token,
                json!({"action": action}),
            )
            .await;
        assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
        wait_server_status(&app, server_id, expect).await;
    }

    // A snapshot is a job too, and reaches the provider.
    let res = app
        .post(
            &format!("/api/servers/{server_id}/snapshot"),
            &app.admin.token,
            json!({"description": "before upgrade"}),
        )
        .await;
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
    let execution = res.json::<Value>().await.unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let e = wait_execution(&app, &execution).await;
    assert!(
        e["lines"].to_string().contains("snapshot provisio"),
        "{e:#}"
    );

    // A backup of a Proxmox guest is a provider snapshot.
    let res = app
        .post(
            &format!("/api/servers/{server_id}/maintenance"),
            &app.admin.token,
            json!({"operation": "backup"}),
        )
        .await;
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
    let execution = res.json::<Value>().await.unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let e = wait_execution(&app, &execution).await;
    assert_eq!(e["execution"]["kind"], "snapshot", "{e:#}");

    // Deleting needs the name repeated, then destroys the guest at the provider.
    let res = delete_server(&app, server_id, "wrong").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = delete_server(&app, server_id, "pve-web-1").await;
    assert_eq!(res.status(), 202);
    let started = Instant::now();
    while pve_guests(&f)
        .await
        .iter()
        .any(|g| g["name"] == "pve-web-1")
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the guest was never destroyed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_server_status(&app, server_id, "deleted").await;
}

#[tokio::test]
async fn a_worker_killed_mid_pipeline_is_replaced_and_no_second_server_appears() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(0)).await;
    let account = proxmox_account(&app, &f, "PVE crash", false).await;
    let (id, _) = file_and_approve(
        &app,
        &account,
        "pve-crash-1",
        json!({"location": f.node, "cpu": 1, "ram_mb": 1024, "disk_gb": 8}),
    )
    .await;
    let job = api::jobs::claim(&app.db, "doomed-worker", Duration::from_secs(2))
        .await
        .unwrap()
        .expect("the approval queued a job");
    let state = app.state.clone();
    let doomed =
        tokio::spawn(async move { api::jobs::run_claimed(&state, "doomed-worker", job).await });
    // Kill it once the guest exists at the provider but before it was configured.
    let started = Instant::now();
    loop {
        let detail: Value = get_json(&app, &format!("/api/requests/{id}")).await;
        if let Some(execution) = detail["executions"][0]["id"].as_str() {
            let lines = log_of(&app, execution).await;
            if lines
                .iter()
                .any(|l| l["text"].as_str().unwrap_or("").starts_with("configuring"))
            {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the pipeline never reached configuration"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    doomed.abort();
    let _ = doomed.await;
    // A fresh worker reclaims the job once the lease lapses, and finishes it.
    std::mem::forget(api::jobs::spawn_workers(&app.state, 1));
    let detail = wait_for_status(&app, &id, &["deployed", "failed"], Duration::from_secs(60)).await;
    let lines = log_of(&app, detail["executions"][0]["id"].as_str().unwrap()).await;
    assert_eq!(detail["request"]["status"], "deployed", "{lines:#?}");
    // By this request's tag: the fake keeps the guests of earlier runs of this test, same name.
    let tag = format!("provisio-request.{id}");
    let named: Vec<Value> = pve_guests(&f)
        .await
        .into_iter()
        .filter(|g| {
            g["tags"]
                .as_str()
                .is_some_and(|t| t.split(';').any(|t| t == tag))
        })
        .collect();
    assert_eq!(named.len(), 1, "a duplicate guest was created: {named:#?}");
    let rows = app
        .count(
            "SELECT COUNT(*) AS n FROM servers WHERE name = 'pve-crash-1' AND status <> 'deleted'",
        )
        .await;
    assert_eq!(rows, 1);
    let job = api::domain::jobs::summary(
        &app.db,
        &api::domain::jobs::provision_key(id.parse().unwrap()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(job.status, "succeeded");
    assert!(job.attempts >= 2, "the job was not resumed: {job:?}");
}

#[tokio::test]
async fn a_provider_task_failure_fails_the_request_with_the_reason_and_retry_succeeds() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(1)).await;
    let account = proxmox_account(&app, &f, "PVE faults", false).await;
    let admin = reqwest::Client::new();
    let res = admin
        .post(format!("{}/fail", f.admin_url))
        .json(&json!({"method": "POST", "path": "/nodes/{node}/qemu/{vmid}/status/start", "error": "start_failed", "times": 1}))
        .send()
        .await
        .unwrap();
    let armed = res.status().is_success();
    if !armed {
        // The catalogue names errors differently: fail the start with a plain 500 once instead.
        let res = admin
            .post(format!("{}/fail", f.admin_url))
            .json(&json!({"method": "POST", "path": "/status/start", "status": 500, "message": "QEMU exited with code 1", "times": 1}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }
    // A name of this run's own: the fake keeps the guest the retry below builds.
    let name = format!(
        "pve-fault-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let (id, owner) = file_and_approve(
        &app,
        &account,
        &name,
        json!({"location": f.node, "cpu": 1, "ram_mb": 1024, "disk_gb": 8}),
    )
    .await;
    let detail = wait_for_status(&app, &id, &["deployed", "failed"], Duration::from_secs(60)).await;
    assert_eq!(detail["request"]["status"], "failed", "{detail:#}");
    let reason = detail["request"]["failure_reason"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(!reason.is_empty(), "{detail:#}");
    // The half-built guest was removed.
    let started = Instant::now();
    while pve_guests(&f)
        .await
        .iter()
        .any(|g| g["name"] == name.as_str())
    {
        if started.elapsed() > Duration::from_secs(20) {
            let lines = log_of(&app, detail["executions"][0]["id"].as_str().unwrap()).await;
            panic!("the half-built guest stayed: {lines:#?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let notes: Value = app
        .get("/api/notifications", &owner.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(notes
        .to_string()
        .contains(&format!("Provisioning failed: {name}")));

    let res = app
        .post(
            &format!("/api/requests/{id}/retry"),
            &app.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let detail = wait_for_status(&app, &id, &["deployed", "failed"], Duration::from_secs(60)).await;
    assert_eq!(detail["request"]["status"], "deployed", "{detail:#}");
    assert_eq!(
        detail["executions"].as_array().unwrap().len(),
        2,
        "each attempt has its own log"
    );
}

#[tokio::test]
async fn a_bad_token_is_reported_by_test_connection_and_fails_provisioning_for_good() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(0)).await;
    let good = proxmox_account(&app, &f, "PVE good", false).await;
    let report: Value = connection_report(&app, &good).await;
    assert_eq!(report["ok"], true, "{report:#}");

    let bad = proxmox_account_with(
        &app,
        &f,
        "PVE bad",
        json!({"wait_for_ssh": false}),
        "root@pam!ci=00000000-0000-0000-0000-000000000000",
    )
    .await;
    let report: Value = connection_report(&app, &bad).await;
    assert_eq!(report["ok"], false);
    assert!(
        report["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("401"),
        "{report:#}"
    );
    // Saved, but not offered to requesters, and a request against it says why.
    let team = app.create_team("Bad token team").await;
    let requester = app
        .user_with(
            "badtokenuser",
            &[Role::Requester],
            std::slice::from_ref(&team),
        )
        .await;
    let offered: Value = app
        .get("/api/provider-accounts", &requester.token)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = offered
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["PVE good"], "{offered:#}");
    // They see what they may request from, not how Provisio reaches the provider.
    let seen = &offered[0];
    assert_eq!(seen["endpoint"], "", "{seen:#}");
    assert_eq!(seen["settings"]["wait_for_ssh"], Value::Null, "{seen:#}");
    assert!(!seen["catalog"]["locations"].as_array().unwrap().is_empty());
    let listed = get_json(&app, "/api/provider-accounts").await;
    let bad_row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == bad.as_str())
        .unwrap();
    assert_eq!(bad_row["ready"], false);
    // Those who manage providers see the whole account.
    let good_row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == good.as_str())
        .unwrap();
    assert_eq!(good_row["settings"]["wait_for_ssh"], false, "{good_row:#}");
    assert_ne!(good_row["endpoint"], "", "{good_row:#}");
    assert_eq!(
        bad_row["not_ready_reason"],
        "its last connection test failed"
    );
    let problem = common::assert_problem(
        app.post(
            "/api/requests",
            &requester.token,
            json!({"hostname": "pve-refused", "team_id": team, "provider_account_id": bad,
                   "location": f.node, "image": "debian-12", "cpu": 1, "ram_mb": 1024,
                   "disk_gb": 8, "purpose": "bad token"}),
        )
        .await,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        problem["errors"]["provider_account_id"][0]
            .as_str()
            .unwrap()
            .contains("connection test failed"),
        "{problem:#}"
    );

    // A token revoked after approval fails the provisioning for good.
    let (id, _) = file_and_approve(
        &app,
        &good,
        "pve-badtoken",
        json!({"location": f.node, "cpu": 1, "ram_mb": 1024, "disk_gb": 8}),
    )
    .await;
    common::break_provider_then_work(
        &app,
        &good,
        &f.pve_url,
        "root@pam!ci=00000000-0000-0000-0000-000000000000",
        1,
    )
    .await;
    let detail = wait_for_status(&app, &id, &["deployed", "failed"], Duration::from_secs(30)).await;
    assert_eq!(detail["request"]["status"], "failed");
    assert!(
        detail["request"]["failure_reason"]
            .as_str()
            .unwrap()
            .contains("credentials"),
        "{detail:#}"
    );
    let job = detail["job"].clone();
    assert_eq!(job["attempts"], 1, "a rejected token is not retried: {job}");
}

#[tokio::test]
async fn the_proxmox_api_is_reached_over_tls_with_a_pinned_certificate() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(0)).await;
    let fingerprint = common::pem_sha256(&f.pve_ca);
    let account = |name: &str, fp: &str| {
        json!({"name": name, "kind": "proxmox", "endpoint": f.pve_direct_url,
               "catalog": {"currency": "EUR", "locations": [f.node], "images": ["debian-12"],
                           "custom_limits": {"max_cpu": 8, "max_ram_mb": 16384, "max_disk_gb": 200}},
               "settings": {"tls_fingerprint": fp, "images": {"debian-12": "9000"}},
               "credentials": {"api_token": f.pve_token}})
    };
    let report_with = |name: &'static str, fp: String| {
        let body = account(name, &fp);
        let app = &app;
        async move {
            let created = post_json(app, "/api/provider-accounts", body).await;
            connection_report(app, created["id"].as_str().unwrap()).await
        }
    };
    let report = report_with("Pinned", fingerprint).await;
    assert_eq!(report["ok"], true, "{report:#}");
    let report = report_with("Wrong pin", "ab".repeat(32)).await;
    assert_eq!(
        report["ok"], false,
        "a certificate that does not match the pin must be refused"
    );
}

#[tokio::test]
async fn sync_imports_new_guests_once_and_marks_vanished_ones() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(0)).await;
    let account = proxmox_account(&app, &f, "PVE sync", false).await;
    // A guest made outside Provisio, straight at the fake.
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let auth = format!("PVEAPIToken={}", f.pve_token);
    let next = pve_get(&f, "/cluster/nextid").await;
    let vmid = next
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| next.to_string());
    let res = client
        .post(format!(
            "{}/nodes/{}/qemu/{}/clone",
            f.pve_direct_url, f.node, f.template
        ))
        .header("Authorization", &auth)
        .form(&[("newid", vmid.as_str()), ("name", "outside-1")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;

    let listed: Value = app
        .get(
            &format!("/api/proxmox/resources?provider_account_id={account}"),
            &app.admin.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let outside = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "outside-1")
        .cloned()
        .expect("listed");
    assert!(outside["server_id"].is_null());
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["template"] == true),
        "templates are listed, flagged"
    );

    let dry: Value = post_json(
        &app,
        "/api/proxmox/sync",
        json!({"provider_account_id": account, "dry_run": true}),
    )
    .await;
    assert!(
        dry["new"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "outside-1"),
        "{dry:#}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM servers WHERE name = 'outside-1'")
            .await,
        0,
        "a dry run writes nothing"
    );

    let first: Value = post_json(
        &app,
        "/api/proxmox/sync",
        json!({"provider_account_id": account}),
    )
    .await;
    assert!(
        first["new"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "outside-1"),
        "{first:#}"
    );
    let second: Value = post_json(
        &app,
        "/api/proxmox/sync",
        json!({"provider_account_id": account}),
    )
    .await;
    assert!(
        second["new"].as_array().unwrap().is_empty(),
        "idempotent: {second:#}"
    );
    assert!(
        second["changed"].as_array().unwrap().is_empty(),
        "idempotent: {second:#}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM servers WHERE name = 'outside-1'")
            .await,
        1
    );
    let servers: Value = get_json(&app, "/api/servers?q=outside-1").await;
    assert_eq!(servers["items"][0]["origin"], "imported");

    let res = client
        .delete(format!(
            "{}/nodes/{}/qemu/{}",
            f.pve_direct_url, f.node, vmid
        ))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let third: Value = post_json(
        &app,
        "/api/proxmox/sync",
        json!({"provider_account_id": account}),
    )
    .await;
    assert!(
        third["gone"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "outside-1"),
        "{third:#}"
    );
    let servers: Value = get_json(&app, "/api/servers?q=outside-1").await;
    assert_eq!(
        servers["total"], 0,
        "deleted servers leave the default list"
    );
}

#[tokio::test]
async fn a_hetzner_server_that_never_answers_on_ssh_fails_and_is_cleaned_up() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(1)).await;
    let account = hetzner_account(
        &app,
        &f,
        "Hetzner fake",
        json!({"wait_for_ssh": true, "ready_timeout_secs": 10}),
    )
    .await;
    let report: Value = connection_report(&app, &account).await;
    assert_eq!(report["ok"], true, "{report:#}");
    let (id, _) = file_and_approve(
        &app,
        &account,
        "hz-unreachable",
        json!({"location": "abilian", "server_type": "small", "image": "debian-13"}),
    )
    .await;
    let detail = wait_for_status(&app, &id, &["deployed", "failed"], Duration::from_secs(90)).await;
    assert_eq!(detail["request"]["status"], "failed", "{detail:#}");
    assert!(
        detail["request"]["failure_reason"]
            .as_str()
            .unwrap()
            .contains("never answered on SSH"),
        "{detail:#}"
    );
    let client = reqwest::Client::new();
    let listed: Value = client
        .get(format!("{}/servers?name=hz-unreachable", f.hcloud_url))
        .bearer_auth(&f.hcloud_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["servers"].as_array().unwrap().len(),
        0,
        "the server was left behind: {listed:#}"
    );
}

#[tokio::test]
async fn a_hetzner_server_is_created_powered_and_deleted_through_the_api() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(1)).await;
    let account = hetzner_account(&app, &f, "Hetzner ok", json!({"wait_for_ssh": false})).await;
    let (id, _) = file_and_approve(
        &app,
        &account,
        "hz-web-1",
        json!({"location": "abilian", "server_type": "small", "image": "debian-13"}),
    )
    .await;
    let detail = wait_for_status(&app, &id, &["deployed", "failed"], Duration::from_secs(60)).await;
    assert_eq!(detail["request"]["status"], "deployed", "{detail:#}");
    let server_id = detail["server_id"].as_str().unwrap();
    let server: Value = get_json(&app, &format!("/api/servers/{server_id}")).await;
    assert!(
        server["server"]["ipv6"].as_str().unwrap().contains(':'),
        "{server:#}"
    );
    let res = app
        .post(
            &format!("/api/servers/{server_id}/power"),
            &app.admin.token,
            json!({"action": "reboot"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    let execution = res.json::<Value>().await.unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let e = wait_execution(&app, &execution).await;
    assert!(e["lines"].to_string().contains("reboot"), "{e:#}");
    let res = delete_server(&app, server_id, "hz-web-1").await;
    assert_eq!(res.status(), 202);
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let listed: Value = client
            .get(format!("{}/servers?name=hz-web-1", f.hcloud_url))
            .bearer_auth(&f.hcloud_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if listed["servers"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never deleted at the provider"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_request_event_stream_replays_after_last_event_id() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(1)).await;
    let account = proxmox_account(&app, &f, "PVE sse", false).await;
    let (id, owner) = file_and_approve(
        &app,
        &account,
        "pve-sse-1",
        json!({"location": f.node, "cpu": 1, "ram_mb": 1024, "disk_gb": 8}),
    )
    .await;
    wait_for_status(&app, &id, &["deployed", "failed"], Duration::from_secs(60)).await;
    // A finished request: the stream replays everything, then ends. A browser opens it with a
    // single-use ticket; no token travels in the URL.
    let path = format!("/api/requests/{id}/events");
    let url = app.url(&app.ticketed(&path, &owner.token).await);
    let full = app.client.get(&url).send().await.unwrap();
    assert_eq!(full.headers()["content-type"], "text/event-stream");
    let full = full.text().await.unwrap();
    assert!(full.contains("event: request"), "{full}");
    assert!(full.contains("event: end"), "{full}");
    let ids: Vec<i64> = full
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(ids.len() > 3, "{full}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase");
    // The ticket was spent; the access token in the query is not accepted any more.
    let again = app.client.get(&url).send().await.unwrap();
    assert_problem(again, StatusCode::UNAUTHORIZED).await;
    let in_query = app
        .client
        .get(app.url(&format!("{path}?access_token={}", owner.token)))
        .send()
        .await
        .unwrap();
    assert_problem(in_query, StatusCode::UNAUTHORIZED).await;
    // A ticket opens only the path it was asked for.
    let other = app
        .ticketed(&format!("/api/servers/{id}/events"), &owner.token)
        .await;
    let ticket = other.split_once("?ticket=").unwrap().1;
    let elsewhere = app
        .client
        .get(app.url(&format!("{path}?ticket={ticket}")))
        .send()
        .await
        .unwrap();
    assert_problem(elsewhere, StatusCode::UNAUTHORIZED).await;
    // Reconnecting with Last-Event-ID replays only what came after it.
    let after = ids[ids.len() - 2];
    let rest = app
        .client
        .get(app.url(&app.ticketed(&path, &owner.token).await))
        .header("Last-Event-ID", after.to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rest_ids: Vec<i64> = rest
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(rest_ids, vec![ids[ids.len() - 1]]);
    // Someone else's request is not found, and a token is required.
    let stranger = app.user_with("stranger-sse", &[Role::Requester], &[]).await;
    let res = app
        .client
        .get(app.url(&app.ticketed(&path, &stranger.token).await))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .client
        .get(app.url(&format!("/api/requests/{id}/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_terraform_account_applies_its_module_and_destroys_it_on_delete() {
    let Some(f) = fakes() else { return };
    if std::process::Command::new("terraform")
        .arg("version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("PROVISIO_REQUIRE_FAKES").is_err(),
            "terraform is required"
        );
        return;
    }
    let app = spawn_app_with(options(1)).await;
    let module = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../terraform-templates/testing/builtin-server");
    let res = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            json!({"name": "Terraform builtin", "kind": "terraform_proxmox", "endpoint": "",
                   "catalog": {"currency": "EUR", "locations": ["pve1"], "images": ["debian-12"],
                               "custom_limits": {"max_cpu": 8, "max_ram_mb": 16384, "max_disk_gb": 200}},
                   "settings": {"terraform_module": module.canonicalize().unwrap().display().to_string(),
                                "ssh_port": f.ssh_port, "wait_for_ssh": true, "ready_timeout_secs": 30}}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let account = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (id, _) = file_and_approve(
        &app,
        &account,
        "tf-web-1",
        json!({"location": "pve1", "cpu": 1, "ram_mb": 1024, "disk_gb": 8}),
    )
    .await;
    let detail =
        wait_for_status(&app, &id, &["deployed", "failed"], Duration::from_secs(120)).await;
    let execution = detail["executions"][0]["id"].as_str().unwrap().to_owned();
    let lines = log_of(&app, &execution).await;
    assert_eq!(detail["request"]["status"], "deployed", "{lines:#?}");
    let texts: Vec<&str> = lines.iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert!(
        texts.iter().any(|t| t.contains("server tf-web-1 is up")),
        "the provisioner's output is streamed: {texts:#?}"
    );
    assert!(texts.contains(&"terraform apply"));
    let server_id = detail["server_id"].as_str().unwrap();
    let server: Value = get_json(&app, &format!("/api/servers/{server_id}")).await;
    assert_eq!(server["server"]["ipv4"], "127.0.0.1");
    assert_eq!(
        server["server"]["host_key_fingerprint"],
        f.ssh_fingerprint.as_str()
    );
    assert!(
        server["server"]["provider_id"]
            .as_str()
            .unwrap()
            .starts_with(&id),
        "{server:#}"
    );

    let res = delete_server(&app, server_id, "tf-web-1").await;
    assert_eq!(res.status(), 202);
    let execution = res.json::<Value>().await.unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let e = wait_execution(&app, &execution).await;
    assert!(
        e["lines"].to_string().contains("deleting server tf-web-1"),
        "{e:#}"
    );
}

#[tokio::test]
async fn an_existing_host_is_registered_over_ssh_with_its_host_key_pinned() {
    let Some(f) = fakes() else { return };
    let Ok(key_path) = std::env::var("PROVISIO_TEST_SSH_CLIENT_KEY") else {
        return;
    };
    let app = spawn_app_with(options(0)).await;
    let key = std::fs::read_to_string(&key_path).unwrap();
    let account = |name: &str, key: &str| {
        json!({"name": name, "kind": "ssh", "endpoint": "",
               "catalog": {"currency": "EUR", "locations": [], "images": []},
               "credentials": {"private_key": key}})
    };
    let res = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            account("Lab hosts", &key),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let body: Value = res.json().await.unwrap();
    assert!(!body.to_string().contains("PRIVATE KEY"));
    let ssh_account = body["id"].as_str().unwrap().to_owned();
    let team = app.create_team("Lab").await;
    let res = app
        .post("/api/servers/register", &app.admin.token, json!({"name": "lab-1", "team_id": team, "provider_account_id": ssh_account, "address": "127.0.0.1", "port": f.ssh_port, "user": "root"}))
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let detail: Value = res.json().await.unwrap();
    assert_eq!(
        detail["server"]["host_key_fingerprint"],
        f.ssh_fingerprint.as_str()
    );
    assert_eq!(detail["server"]["origin"], "registered");
    assert!(detail["power_actions"].as_array().unwrap().is_empty());
    // Registering the same address twice is refused.
    let res = app
        .post("/api/servers/register", &app.admin.token, json!({"name": "lab-1b", "team_id": team, "provider_account_id": ssh_account, "address": "127.0.0.1", "port": f.ssh_port}))
        .await;
    assert_eq!(res.status(), 409);
    // A key the host does not accept fails the check and registers nothing.
    let other = std::env::temp_dir().join(format!("provisio-otherkey-{}", uuid::Uuid::new_v4()));
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .unwrap();
    assert!(made.success());
    let res = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            account("Wrong key", &std::fs::read_to_string(&other).unwrap()),
        )
        .await;
    let wrong = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .post("/api/servers/register", &app.admin.token, json!({"name": "lab-2", "team_id": team, "provider_account_id": wrong, "address": "127.0.0.1", "port": f.ssh_port}))
        .await;
    assert_eq!(res.status(), 502);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM servers WHERE name = 'lab-2'")
            .await,
        0
    );
    // Bad input is a per-field 422, never a shell or SSH option.
    let res = app
        .post("/api/servers/register", &app.admin.token, json!({"name": "lab-3", "team_id": team, "provider_account_id": ssh_account, "address": "-oProxyCommand=touch /tmp/x", "port": 22}))
        .await;
    let problem = common::assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(problem["errors"]["address"].is_array(), "{problem:#}");
}

#[tokio::test]
async fn an_unreachable_provider_is_retried_with_back_off_then_fails() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(0)).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let account = hetzner_account(&app, &f, "Down", json!({})).await;
    let (id, _) = file_and_approve(
        &app,
        &account,
        "hz-down",
        json!({"location": "abilian", "server_type": "small", "image": "debian-13"}),
    )
    .await;
    // Approved while the provider answered; then its host goes away.
    common::break_provider_then_work(
        &app,
        &account,
        &format!("http://127.0.0.1:{closed}/v1"),
        "token-of-a-dead-endpoint",
        1,
    )
    .await;
    let detail = wait_for_status(&app, &id, &["failed", "deployed"], Duration::from_secs(60)).await;
    assert_eq!(detail["request"]["status"], "failed");
    assert_eq!(
        detail["job"]["attempts"], 3,
        "max_attempts transient tries: {detail:#}"
    );
    let lines = log_of(&app, detail["executions"][0]["id"].as_str().unwrap()).await;
    let retries = lines
        .iter()
        .filter(|l| l["text"].as_str().unwrap().contains("retrying in"))
        .count();
    assert_eq!(retries, 2, "{lines:#?}");
}

#[tokio::test]
async fn an_lxc_container_is_created_from_its_template_and_reached_over_ssh() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(1)).await;
    let account = proxmox_account(&app, &f, "PVE containers", true).await;
    let (id, _) = file_and_approve(
        &app,
        &account,
        "ct-web-1",
        json!({"location": f.node, "cpu": 1, "ram_mb": 512, "disk_gb": 4, "image": "debian-ct"}),
    )
    .await;
    let detail = wait_for_status(&app, &id, &["deployed", "failed"], Duration::from_secs(90)).await;
    let lines = log_of(&app, detail["executions"][0]["id"].as_str().unwrap()).await;
    assert_eq!(detail["request"]["status"], "deployed", "{lines:#?}");
    let server = get_json(
        &app,
        &format!("/api/servers/{}", detail["server_id"].as_str().unwrap()),
    )
    .await;
    assert!(
        server["server"]["provider_id"]
            .as_str()
            .unwrap()
            .contains("/lxc/"),
        "{server:#}"
    );
    assert_eq!(server["server"]["ipv4"], "127.0.0.1");
    assert_eq!(
        server["server"]["host_key_fingerprint"],
        f.ssh_fingerprint.as_str()
    );
    assert!(lines.iter().any(|l| l["text"]
        .as_str()
        .unwrap()
        .starts_with("creating container")));
}

#[tokio::test]
async fn cancelling_a_running_provisioning_stops_it_and_removes_the_half_built_guest() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(1)).await;
    // SSH on a closed port: the pipeline waits there until it is cancelled.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let account = proxmox_account_with(
        &app,
        &f,
        "PVE cancel",
        json!({"ssh_port": closed, "ready_timeout_secs": 600}),
        &f.pve_token,
    )
    .await;
    let (id, _) = file_and_approve(
        &app,
        &account,
        "pve-cancel-1",
        json!({"location": f.node, "cpu": 1, "ram_mb": 1024, "disk_gb": 8}),
    )
    .await;
    let execution = eventually("never waited for SSH", Duration::from_secs(30), || async {
        let detail = get_json(&app, &format!("/api/requests/{id}")).await;
        let Some(execution) = detail["executions"][0]["id"].as_str().map(str::to_owned) else {
            return Err("no execution yet".to_owned());
        };
        let lines = log_of(&app, &execution).await;
        if lines
            .iter()
            .any(|l| l["text"].as_str().unwrap().starts_with("waiting for SSH"))
        {
            Ok(execution)
        } else {
            Err(format!("{lines:?}"))
        }
    })
    .await;
    let res = app
        .post(
            &format!("/api/executions/{execution}/cancel"),
            &app.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
    let detail = wait_for_status(&app, &id, &["failed"], Duration::from_secs(30)).await;
    assert_eq!(detail["request"]["failure_reason"], "cancelled");
    assert_eq!(detail["executions"][0]["status"], "cancelled");
    assert_eq!(detail["job"]["status"], "cancelled");
    eventually("the guest stayed", Duration::from_secs(20), || async {
        let guests = pve_guests(&f).await;
        if guests.iter().any(|g| g["name"] == "pve-cancel-1") {
            Err("still there".to_owned())
        } else {
            Ok(())
        }
    })
    .await;
    let res = app
        .post(
            &format!("/api/executions/{execution}/cancel"),
            &app.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(
        res.status(),
        409,
        "a finished execution cannot be cancelled"
    );
}

#[tokio::test]
async fn provider_credentials_are_sealed_at_rest_and_never_leave_the_server() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(0)).await;
    let account = proxmox_account(&app, &f, "PVE secrets", false).await;
    let secret = f.pve_token.split_once('=').unwrap().1.to_owned();
    // Replacing the settings without credentials keeps the stored ones.
    let res = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/provider-accounts/{account}"),
            Some(&app.admin.token),
            Some(json!({"name": "PVE secrets", "kind": "proxmox", "endpoint": f.pve_url,
                        "catalog": {"currency": "EUR", "locations": [f.node], "images": ["debian-12"],
                                    "custom_limits": {"max_cpu": 8, "max_ram_mb": 16384, "max_disk_gb": 200}},
                        "settings": {"images": {"debian-12": f.template},
                                     "tls_fingerprint": f.pve_url.starts_with("https").then(|| common::pem_sha256(&f.pve_ca))}})),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let report = connection_report(&app, &account).await;
    assert_eq!(
        report["ok"], true,
        "the stored token still works: {report:#}"
    );
    let like = format!("%{secret}%");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM provider_accounts WHERE credentials LIKE '{like}'"
        ))
        .await,
        0,
        "stored in clear"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM provider_accounts WHERE credentials LIKE 'v1:%'")
            .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE CAST(after AS TEXT) LIKE '{like}' OR CAST(before AS TEXT) LIKE '{like}'"
        ))
        .await,
        0,
        "a secret reached the audit log"
    );
    let listed = get_json(&app, "/api/provider-accounts").await;
    assert!(!listed.to_string().contains(&secret));
    // A malformed Proxmox token is a per-field error.
    let res = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            json!({"name": "PVE typo", "kind": "proxmox", "endpoint": f.pve_url,
                   "catalog": {"currency": "EUR", "locations": [f.node], "images": ["debian-12"],
                               "custom_limits": {"max_cpu": 8, "max_ram_mb": 16384, "max_disk_gb": 200}},
                   "credentials": {"api_token": "just-a-secret"}}),
        )
        .await;
    let problem = common::assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(problem["errors"]["credentials"].is_array(), "{problem:#}");
}

async fn pve_send(f: &Fakes, method: reqwest::Method, path: &str, form: &[(&str, &str)]) -> Value {
    common::fakepve_send(
        &f.pve_direct_url,
        &f.pve_token,
        &f.pve_ca,
        method,
        path,
        form,
    )
    .await
}

/// Waits until VM `vmid` at the fake is as `wanted` says (None: not listed).
async fn await_vm(f: &Fakes, vmid: &str, what: &str, wanted: impl Fn(Option<&Value>) -> bool) {
    let started = Instant::now();
    loop {
        let listed = pve_get(f, &format!("/nodes/{}/qemu", f.node)).await;
        let vm = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|vm| vm["vmid"].to_string().trim_matches('"') == vmid)
            .cloned();
        if wanted(vm.as_ref()) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "VM {vmid}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn pin_of(f: &Fakes) -> Option<String> {
    // Through Prism the URL is plain http; straight to the fake it is TLS with a pinned certificate.
    f.pve_url
        .starts_with("https")
        .then(|| common::pem_sha256(&f.pve_ca))
}

#[tokio::test]
async fn the_catalogue_is_read_from_the_provider_and_a_saved_one_must_match_it() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(0)).await;
    let pin = pin_of(&f);
    let draft = |token: &str| {
        json!({"kind": "proxmox", "endpoint": f.pve_url, "settings": {"tls_fingerprint": pin},
               "credentials": {"api_token": token}})
    };
    let found = post_json(&app, "/api/provider-accounts/discover", draft(&f.pve_token)).await;
    assert_eq!(found["report"]["ok"], true, "{found:#}");
    let catalog = &found["catalog"];
    assert!(catalog["locations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["name"] == f.node.as_str()));
    let images = catalog["images"].as_array().unwrap();
    let template = images
        .iter()
        .find(|i| i["reference"] == f.template.as_str())
        .unwrap_or_else(|| panic!("template VM {} not offered: {catalog:#}", f.template));
    assert_eq!(template["kind"], "vm_template");
    assert!(images
        .iter()
        .any(|i| i["reference"] == f.ct_template.as_str() && i["kind"] == "container_template"));
    assert!(catalog["storages"]
        .as_array()
        .unwrap()
        .contains(&json!("local-lvm")));
    assert_eq!(catalog["bridges"], json!(["vmbr0"]));
    assert!(catalog["largest"]["max_cpu"].as_u64().unwrap() >= 1);

    // A wrong token: the report says so and nothing is read.
    let refused = post_json(
        &app,
        "/api/provider-accounts/discover",
        draft("root@pam!ci=00000000-0000-0000-0000-000000000000"),
    )
    .await;
    assert_eq!(refused["report"]["ok"], false);
    assert!(refused["catalog"].is_null());

    // Hetzner: locations, server types and system images.
    let hetzner = post_json(
        &app,
        "/api/provider-accounts/discover",
        json!({"kind": "hetzner", "endpoint": f.hcloud_url, "credentials": {"api_token": f.hcloud_token}}),
    )
    .await;
    assert_eq!(hetzner["report"]["ok"], true, "{hetzner:#}");
    assert_eq!(hetzner["catalog"]["locations"][0]["name"], "abilian");
    let medium = hetzner["catalog"]["server_types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "medium")
        .cloned()
        .unwrap();
    assert_eq!(
        (medium["cpu"].clone(), medium["ram_mb"].clone()),
        (json!(2), json!(4096))
    );
    assert!(hetzner["catalog"]["images"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["reference"] == "debian-13" && i["kind"] == "system_image"));

    // Saving a catalogue the cluster does not have is refused, naming what is missing.
    let res = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            json!({"name": "Typo", "kind": "proxmox", "endpoint": f.pve_url,
                   "catalog": {"currency": "EUR", "locations": [f.node, "pve9"], "images": ["debian-12"],
                               "custom_limits": {"max_cpu": 2, "max_ram_mb": 2048, "max_disk_gb": 20}},
                   "settings": {"tls_fingerprint": pin, "images": {"debian-12": "9999"}, "bridge": "vmbr7"},
                   "credentials": {"api_token": f.pve_token}}),
        )
        .await;
    let problem = common::assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    let catalog_errors = problem["errors"]["catalog"].to_string();
    assert!(
        catalog_errors.contains("`pve9` is not a node"),
        "{problem:#}"
    );
    assert!(catalog_errors.contains("maps to `9999`"), "{problem:#}");
    assert!(
        problem["errors"]["settings"].to_string().contains("vmbr7"),
        "{problem:#}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM provider_accounts WHERE name = 'Typo'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_request_for_a_template_that_vanished_is_refused_before_approval() {
    let Some(f) = fakes() else { return };
    let app = spawn_app_with(options(0)).await;
    // An operator adds a template at the cluster; the account offers it.
    let vmid = pve_get(&f, "/cluster/nextid")
        .await
        .to_string()
        .trim_matches('"')
        .to_owned();
    pve_send(
        &f,
        reqwest::Method::POST,
        &format!("/nodes/{}/qemu/{}/clone", f.node, f.template),
        &[("newid", &vmid), ("name", "web-template")],
    )
    .await;
    await_vm(&f, &vmid, "cloned", |vm| vm.is_some()).await;
    pve_send(
        &f,
        reqwest::Method::POST,
        &format!("/nodes/{}/qemu/{vmid}/template", f.node),
        &[],
    )
    .await;
    await_vm(&f, &vmid, "a template", |vm| {
        vm.is_some_and(|vm| vm["template"] == 1)
    })
    .await;
    let pin = pin_of(&f);
    let account = post_json(
        &app,
        "/api/provider-accounts",
        json!({"name": "PVE templates", "kind": "proxmox", "endpoint": f.pve_url,
               "catalog": {"currency": "EUR", "locations": [f.node], "images": ["web"],
                           "custom_limits": {"max_cpu": 2, "max_ram_mb": 2048, "max_disk_gb": 20}},
               "settings": {"tls_fingerprint": pin, "images": {"web": vmid}},
               "credentials": {"api_token": f.pve_token}}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let team = app.create_team("Template team").await;
    let owner = app
        .user_with("tplowner", &[Role::Requester], std::slice::from_ref(&team))
        .await;
    let res = app
        .post(
            "/api/requests",
            &owner.token,
            json!({"hostname": "web-from-template", "team_id": team, "provider_account_id": account,
                   "location": f.node, "image": "web", "cpu": 1, "ram_mb": 1024, "disk_gb": 8,
                   "purpose": "template check"}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let id = res.json::<Value>().await.unwrap()["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let preflight = get_json(&app, &format!("/api/requests/{id}/preflight")).await;
    assert_eq!(preflight, json!({"ok": true, "problems": []}));

    // The template is removed at the cluster before anyone approves.
    pve_send(
        &f,
        reqwest::Method::DELETE,
        &format!("/nodes/{}/qemu/{vmid}", f.node),
        &[],
    )
    .await;
    await_vm(&f, &vmid, "removed", |vm| vm.is_none()).await;
    let preflight = get_json(&app, &format!("/api/requests/{id}/preflight")).await;
    assert_eq!(preflight["ok"], false);
    let problem = preflight["problems"][0].as_str().unwrap();
    assert!(
        problem.contains("Image `web` maps to `") && problem.contains(&vmid),
        "{preflight:#}"
    );
    let res = app
        .post(
            &format!("/api/requests/{id}/approve"),
            &app.admin.token,
            json!({}),
        )
        .await;
    let refused = common::assert_problem(res, StatusCode::CONFLICT).await;
    assert!(
        refused["detail"].as_str().unwrap().contains(&vmid),
        "{refused:#}"
    );
    let detail = get_json(&app, &format!("/api/requests/{id}")).await;
    assert_eq!(detail["request"]["status"], "pending");
}

/// Proxmox hands a freed VM id out again: a new guest built under the id of a deleted one gets a
/// server row of its own, named after its request, rather than taking over the deleted guest's
/// row (its name and its request).
#[tokio::test]
async fn a_vm_id_handed_out_again_gets_a_server_row_of_its_own() {
    use api::entities::{server_requests, servers};
    use sea_orm::EntityTrait;
    let Some(f) = fakes() else { return };
    // No worker: the requests stay approved and nothing is built at the fake.
    let app = spawn_app_with(options(0)).await;
    let account = proxmox_account(&app, &f, "PVE reused ids", true).await;
    let (first, _) = file_and_approve(
        &app,
        &account,
        "reused-1",
        json!({"location": f.node, "cpu": 1, "ram_mb": 1024, "disk_gb": 10}),
    )
    .await;
    let (second, _) = file_and_approve(
        &app,
        &account,
        "reused-2",
        json!({"location": f.node, "cpu": 1, "ram_mb": 1024, "disk_gb": 10}),
    )
    .await;
    let request = |id: &str| {
        let id: uuid::Uuid = id.parse().unwrap();
        let db = app.db.clone();
        async move {
            server_requests::Entity::find_by_id(id)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let remote = |name: &str| shared::servers::RemoteServer {
        provider_id: format!("{}/qemu/4242", f.node),
        name: name.to_owned(),
        status: shared::servers::ServerStatus::Running,
        ipv4: Some("127.0.0.1".into()),
        ipv6: None,
        cpu: 1,
        ram_mb: 1024,
        disk_gb: 10,
        image: "debian-12".into(),
        location: f.node.clone(),
        labels: Default::default(),
        template: false,
        server_id: None,
    };
    let origin = shared::servers::ServerOrigin::Provisioned;
    let old = api::domain::servers::upsert_for_request(
        &app.db,
        &request(&first).await,
        &remote("reused-1"),
        origin,
        "root",
        22,
    )
    .await
    .unwrap();
    api::domain::servers::set_status(&app.db, old, shared::servers::ServerStatus::Deleted)
        .await
        .unwrap();
    let new = api::domain::servers::upsert_for_request(
        &app.db,
        &request(&second).await,
        &remote("reused-2"),
        origin,
        "root",
        22,
    )
    .await
    .unwrap();
    assert_ne!(new, old, "the deleted guest's row was taken over");
    let rows = servers::Entity::find().all(&app.db).await.unwrap();
    let by_id = |id| rows.iter().find(|r| r.id == id).unwrap();
    assert_eq!(by_id(new).name, "reused-2");
    assert_eq!(by_id(new).request_id, Some(second.parse().unwrap()));
    assert_eq!(by_id(old).name, "reused-1");
    assert_eq!(by_id(old).request_id, Some(first.parse().unwrap()));
}
