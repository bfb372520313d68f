//! The network policy against SSRF: with the default settings, Git URLs pointing at loopback,
//! private, link-local (metadata) or other non-public addresses are refused when saved and again
//! right before git connects (a name may start resolving elsewhere); provider endpoints follow
//! the same rule when `PROVISIO_PROVIDER_PRIVATE_NETWORKS=deny`, redirects included.

mod common;

use api::exec::network_policy::{Allowed, NetworkPolicy, PrivateNetworks};
use common::{git, spawn_app_with, Options, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::ErrorKind;
use std::time::{Duration, Instant};

async fn app_with(network: NetworkPolicy, workers: usize) -> TestApp {
    spawn_app_with(Options {
        workers,
        network,
        ..Options::default()
    })
    .await
}

async fn wait_project(app: &TestApp, id: &str, status: &str) -> Value {
    let started = Instant::now();
    loop {
        let detail: Value = app
            .get(&format!("/api/projects/{id}"), &app.admin.token)
            .await
            .json()
            .await
            .unwrap();
        if detail["project"]["status"] == status {
            return detail;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "project never {status}: {detail:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A bare repository with one commit on `main`.
fn repository() -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("provisio-git-{}", uuid::Uuid::new_v4().simple()));
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&root, &["init", "-q", "--bare", "-b", "main", "app.git"]);
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(work.join("README"), "hello\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "first"]);
    let bare = root.join("app.git");
    git(&work, &["push", "-q", bare.to_str().unwrap(), "main"]);
    bare
}

/// A loopback listener the test can later ask whether anyone connected.
fn listener(ip: &str) -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind((ip, 0)).unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

fn nobody_connected(l: &std::net::TcpListener) -> bool {
    matches!(l.accept(), Err(e) if e.kind() == ErrorKind::WouldBlock)
}

#[tokio::test]
async fn private_git_urls_are_refused_on_save_by_default() {
    let app = app_with(NetworkPolicy::default(), 0).await;
    let team = app.create_team("Apps").await;
    for url in [
        "ssh://root@127.0.0.1:2222/srv/git/app.git",
        "ssh://git@localhost/srv/git/app.git",
        "https://169.254.169.254/latest/meta-data.git",
        "https://[::1]/app.git",
        "https://[fd00:ec2::254]/app.git",
        "https://[::ffff:127.0.0.1]/app.git",
        "git@10.0.0.5:team/app.git",
        "https://192.168.1.10:8443/team/app.git",
        "https://100.64.0.1/app.git",
        "https://0.0.0.0/app.git",
    ] {
        let res = app
            .post(
                "/api/projects",
                &app.admin.token,
                json!({"name": "inside", "url": url, "team_id": team}),
            )
            .await;
        let body = common::assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        let message = body["errors"]["url"][0].as_str().unwrap_or_default();
        assert!(
            message.contains("PROVISIO_GIT_PRIVATE_NETWORKS"),
            "{url}: {body}"
        );
        // The same rule holds where a deployment names a Git URL directly.
        let res = app
            .post(
                "/api/deploy",
                &app.admin.token,
                json!({"name": "inside", "git_url": url, "team_id": team,
                       "server_id": uuid::Uuid::new_v4()}),
            )
            .await;
        let body = common::assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(body["errors"]["git_url"].is_array(), "{url}: {body}");
    }
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM projects").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM jobs").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM deployments").await, 0);
}

#[tokio::test]
async fn the_allowlist_lets_named_networks_and_hosts_through() {
    let app = app_with(
        NetworkPolicy {
            allowlist: vec![
                Allowed::parse("10.1.0.0/16").unwrap(),
                Allowed::parse("localhost").unwrap(),
            ],
            ..Default::default()
        },
        0,
    )
    .await;
    let team = app.create_team("Apps").await;
    for (url, status) in [
        ("ssh://git@10.1.2.3/srv/app.git", StatusCode::CREATED),
        ("ssh://git@localhost/srv/app.git", StatusCode::CREATED),
        (
            "ssh://git@10.2.0.1/srv/app.git",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let res = app
            .post(
                "/api/projects",
                &app.admin.token,
                json!({"name": format!("p-{}", uuid::Uuid::new_v4().simple()), "url": url, "team_id": team}),
            )
            .await;
        assert_eq!(res.status(), status, "{url}: {}", res.text().await.unwrap());
    }
}

#[tokio::test]
async fn a_name_that_starts_resolving_to_loopback_is_refused_before_git_connects() {
    let Some((port, key)) = common::ssh_test_host() else {
        return;
    };
    let bare = repository();
    // Saved while the name did not resolve (nothing to judge yet, so accepted)...
    let app = app_with(NetworkPolicy::default(), 0).await;
    let team = app.create_team("Apps").await;
    let later = format!(
        "ssh://root@provisio-rebinding.invalid:{port}{}",
        bare.display()
    );
    let res = app
        .post(
            "/api/projects",
            &app.admin.token,
            json!({"name": "rebinding", "url": later, "team_id": team, "deploy_key": key}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let id = created["project"]["id"].as_str().unwrap().to_owned();
    // ...the name now resolves to loopback. Offline, DNS cannot be changed, so the row takes a
    // name that already does: what git would reach is the same sshd that serves the repository.
    let uuid: uuid::Uuid = id.parse().unwrap();
    let rebound = format!("ssh://root@localhost:{port}{}", bare.display());
    {
        use sea_orm::{ActiveModelTrait, Set};
        api::entities::projects::ActiveModel {
            id: Set(uuid),
            url: Set(rebound.clone()),
            ..Default::default()
        }
        .update(&app.db)
        .await
        .unwrap();
    }
    std::mem::forget(api::jobs::spawn_workers(&app.state, 1));
    let detail = wait_project(&app, &id, "error").await;
    let error = detail["project"]["error"].as_str().unwrap();
    assert!(
        error.contains("localhost (") && error.contains("PROVISIO_GIT_PRIVATE_NETWORKS"),
        "{error}"
    );
    let projects = &app.state.config.projects_dir;
    assert!(!projects.join(uuid.simple().to_string()).exists());
    let known_hosts = std::fs::read_to_string(projects.join("known_hosts")).unwrap_or_default();
    assert!(
        known_hosts.is_empty(),
        "ssh reached the host: {known_hosts}"
    );

    // With loopback allowed the very same URL clones: the refusal above was the policy. The
    // name is pinned to the address that was checked, its host key filed under the name.
    let allowed = app_with(common::loopback_allowed(), 1).await;
    let team = allowed.create_team("Apps").await;
    let res = allowed
        .post(
            "/api/projects",
            &allowed.admin.token,
            json!({"name": "pinned", "url": rebound, "team_id": team, "deploy_key": key}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let id = created["project"]["id"].as_str().unwrap();
    let detail = wait_project(&allowed, id, "ready").await;
    assert_eq!(detail["project"]["last_commit"]["subject"], "first");
    let known_hosts = std::fs::canonicalize(&allowed.state.config.projects_dir)
        .unwrap()
        .join("known_hosts");
    // ssh-keygen -F also finds hashed entries.
    let filed = std::process::Command::new("ssh-keygen")
        .arg("-F")
        .arg(format!("[localhost]:{port}"))
        .arg("-f")
        .arg(&known_hosts)
        .output()
        .unwrap();
    assert!(
        filed.status.success() && !filed.stdout.is_empty(),
        "no host key filed under the name: {}",
        std::fs::read_to_string(&known_hosts).unwrap_or_default()
    );
}

#[tokio::test]
async fn an_unresolvable_git_host_fails_the_sync_without_running_git() {
    let app = app_with(NetworkPolicy::default(), 1).await;
    let team = app.create_team("Apps").await;
    let res = app
        .post(
            "/api/projects",
            &app.admin.token,
            json!({"name": "nowhere", "url": "https://no-such-host.invalid/app.git", "team_id": team}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let detail = wait_project(&app, created["project"]["id"].as_str().unwrap(), "error").await;
    let error = detail["project"]["error"].as_str().unwrap();
    assert!(
        error.contains("no-such-host.invalid does not resolve"),
        "{error}"
    );
}

fn deny_providers(allowlist: &[&str]) -> NetworkPolicy {
    NetworkPolicy {
        providers: PrivateNetworks::Deny,
        allowlist: allowlist
            .iter()
            .map(|a| Allowed::parse(a).unwrap())
            .collect(),
        ..Default::default()
    }
}

fn proxmox_account(name: &str, endpoint: &str) -> Value {
    json!({"name": name, "kind": "proxmox", "endpoint": endpoint,
           "catalog": {"currency": "EUR", "locations": ["pve1"], "images": ["debian-12"],
                       "server_types": [{"name": "small", "cpu": 1, "ram_mb": 1024, "disk_gb": 10}]},
           "credentials": {"api_token": "root@pam!provisio=secret"}})
}

#[tokio::test]
async fn private_provider_endpoints_are_refused_on_save_when_denied() {
    let app = app_with(deny_providers(&[]), 0).await;
    for endpoint in [
        "https://127.0.0.1:8006",
        "https://localhost:8006",
        "http://169.254.169.254/",
        "https://[fd00:ec2::254]/",
        "https://10.0.0.2:8006",
    ] {
        let res = app
            .post(
                "/api/provider-accounts",
                &app.admin.token,
                proxmox_account("lan", endpoint),
            )
            .await;
        let body = common::assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        let message = body["errors"]["endpoint"][0].as_str().unwrap_or_default();
        assert!(
            message.contains("PROVISIO_PROVIDER_PRIVATE_NETWORKS"),
            "{endpoint}: {body}"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM provider_accounts WHERE name = 'lan'")
            .await,
        0
    );
    // By default (a self-hosted Proxmox on the LAN) the same endpoint is fine.
    let lan = app_with(NetworkPolicy::default(), 0).await;
    let res = lan
        .post(
            "/api/provider-accounts",
            &lan.admin.token,
            proxmox_account("lan", "https://10.0.0.2:8006"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// Stores an account straight into the database, as if its endpoint had been saved while it
/// still pointed somewhere allowed.
async fn stored_account(app: &TestApp, endpoint: &str) -> String {
    let res = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            proxmox_account(
                &format!("pve-{}", uuid::Uuid::new_v4().simple()),
                "https://pve.example.com:8006",
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id: Value = res.json().await.unwrap();
    let id = id["id"].as_str().unwrap().to_owned();
    use sea_orm::{ActiveModelTrait, Set};
    api::entities::provider_accounts::ActiveModel {
        id: Set(id.parse().unwrap()),
        endpoint: Set(endpoint.to_owned()),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn provider_connections_check_the_resolved_address_and_every_redirect() {
    // A name resolving to loopback is refused by the client's resolver, before connecting.
    let app = app_with(deny_providers(&[]), 0).await;
    let (inside, port) = listener("127.0.0.1");
    let id = stored_account(&app, &format!("http://localhost:{port}")).await;
    let res = app
        .post(
            &format!("/api/provider-accounts/{id}/test"),
            &app.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["ok"], false);
    let detail = report["checks"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("PROVISIO_PROVIDER_PRIVATE_NETWORKS"),
        "{report}"
    );
    assert!(nobody_connected(&inside));

    // A literal private address never reaches the resolver: refused when the adapter is built,
    // and reported as the failed first check.
    let id = stored_account(&app, &format!("http://127.0.0.1:{port}")).await;
    let res = app
        .post(
            &format!("/api/provider-accounts/{id}/test"),
            &app.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["ok"], false);
    assert!(
        report["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("PROVISIO_PROVIDER_PRIVATE_NETWORKS"),
        "{report}"
    );
    assert!(nobody_connected(&inside));

    // An allowed endpoint that redirects to a refused address: the redirect is not followed.
    let app = app_with(deny_providers(&["127.0.0.1"]), 0).await;
    let (target, target_port) = listener("127.0.0.2");
    let redirector = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirector_port = redirector.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = redirector.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let answer = format!(
                "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:{target_port}/api2/json/version\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    let res = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            proxmox_account(
                "redirecting",
                &format!("http://127.0.0.1:{redirector_port}"),
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id: Value = res.json().await.unwrap();
    let res = app
        .post(
            &format!("/api/provider-accounts/{}/test", id["id"].as_str().unwrap()),
            &app.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["ok"], false);
    let detail = report["checks"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("127.0.0.2"), "{report}");
    assert!(nobody_connected(&target));
}
