//! Git projects against real git: a bare repository served over SSH by the sshd test host
//! (scripts/sshd.sh), cloned with a deploy key, detected, pulled and deleted; hostile URLs refused.

mod common;

use common::{git, spawn_app_with, Options, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::Command;
use std::time::{Duration, Instant};

async fn app() -> TestApp {
    let mut options = Options {
        workers: 1,
        ..Options::default()
    };
    options.jobs.lease = Duration::from_secs(5);
    spawn_app_with(options).await
}

/// A bare repository with a Flask app on `main` and a `feature` branch; returns (bare, work).
fn flask_repository() -> (std::path::PathBuf, std::path::PathBuf) {
    let root = std::env::temp_dir().join(format!("provisio-git-{}", uuid::Uuid::new_v4().simple()));
    let bare = root.join("app.git");
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&root, &["init", "-q", "--bare", "-b", "main", "app.git"]);
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(
        work.join("app.py"),
        "from flask import Flask\napp = Flask(__name__)\n",
    )
    .unwrap();
    std::fs::write(work.join("requirements.txt"), "Flask>=3\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "first"]);
    git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
    git(&work, &["push", "-q", "origin", "main"]);
    git(&work, &["push", "-q", "origin", "main:feature"]);
    (bare, work)
}

async fn wait_project(app: &TestApp, id: &str, status: &str) -> Value {
    let started = Instant::now();
    loop {
        let res = app
            .get(&format!("/api/projects/{id}"), &app.admin.token)
            .await;
        let detail: Value = res.json().await.unwrap();
        if detail["project"]["status"] == status {
            return detail;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "project never {status}: {detail:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_repository_over_ssh_is_cloned_detected_pulled_and_deleted() {
    let Some((port, key)) = common::ssh_test_host() else {
        return;
    };
    let app = app().await;
    let team = app.create_team("Apps").await;
    let (bare, work) = flask_repository();
    let url = format!("ssh://root@127.0.0.1:{port}{}", bare.display());
    let res = app
        .post(
            "/api/projects",
            &app.admin.token,
            json!({"name": "shop", "url": url, "team_id": team, "deploy_key": key}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert!(!created.to_string().contains("PRIVATE KEY"));
    assert_eq!(created["project"]["has_deploy_key"], true);
    let id = created["project"]["id"].as_str().unwrap().to_owned();

    let detail = wait_project(&app, &id, "ready").await;
    assert_eq!(detail["project"]["detected_framework"], "flask");
    assert_eq!(detail["project"]["last_commit"]["subject"], "first");
    let branches: Vec<&str> = detail["branches"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        branches.contains(&"main") && branches.contains(&"feature"),
        "{branches:?}"
    );
    assert_eq!(detail["commits"].as_array().unwrap().len(), 1);

    // A new commit upstream arrives with a sync.
    std::fs::write(
        work.join("package.json"),
        r#"{"dependencies": {"next": "14", "react": "18"}}"#,
    )
    .unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "second"]);
    git(&work, &["push", "-q", "origin", "main"]);
    let res = app
        .post(
            &format!("/api/projects/{id}/sync"),
            &app.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let started = Instant::now();
    let detail = loop {
        let d: Value = app
            .get(&format!("/api/projects/{id}"), &app.admin.token)
            .await
            .json()
            .await
            .unwrap();
        if d["project"]["last_commit"]["subject"] == "second" && d["project"]["status"] == "ready" {
            break d;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never pulled: {d:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(detail["project"]["detected_framework"], "nextjs");
    assert_eq!(detail["commits"].as_array().unwrap().len(), 2);

    // The deploy key is sealed at rest and absent from audit rows.
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM projects WHERE deploy_key LIKE 'v1:%'")
            .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) AS n FROM audit_events WHERE CAST(after AS TEXT) LIKE '%PRIVATE KEY%'"
        )
        .await,
        0
    );

    let checkout = app.state.config.projects_dir.join(id.replace('-', ""));
    assert!(checkout.join("app.py").exists());

    // A commit made in the checkout (as a coding assistant in the terminal would) is pushed
    // upstream with the deploy key.
    std::fs::write(checkout.join("NOTES.md"), "written in the checkout\n").unwrap();
    git(&checkout, &["add", "NOTES.md"]);
    git(&checkout, &["commit", "-q", "-m", "from the checkout"]);
    let bad = app
        .post(
            &format!("/api/projects/{id}/push"),
            &app.admin.token,
            json!({"branch": "--force"}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post(
            &format!("/api/projects/{id}/push"),
            &app.admin.token,
            json!({"branch": "main"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let execution = res.json::<Value>().await.unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = Instant::now();
    loop {
        let e: Value = app
            .get(&format!("/api/executions/{execution}"), &app.admin.token)
            .await
            .json()
            .await
            .unwrap();
        match e["execution"]["status"].as_str() {
            Some("succeeded") => break,
            Some("failed") => panic!("push failed: {e:#}"),
            _ => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "push never ended: {e:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let upstream = Command::new("git")
        .args([
            "--git-dir",
            bare.to_str().unwrap(),
            "log",
            "-1",
            "--format=%s",
            "main",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&upstream.stdout).trim(),
        "from the checkout"
    );

    let res = app
        .delete(&format!("/api/projects/{id}"), &app.admin.token)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(!checkout.exists());
}

#[tokio::test]
async fn hostile_urls_are_refused_and_nothing_runs() {
    let app = app().await;
    let team = app.create_team("Apps").await;
    let marker =
        std::env::temp_dir().join(format!("provisio-pwned-{}", uuid::Uuid::new_v4().simple()));
    let m = marker.display();
    for url in [
        format!("ext::sh -c touch% {m}"),
        format!("--upload-pack=touch {m}"),
        "file:///etc".to_owned(),
        "/srv/git/app.git".to_owned(),
        "../../app.git".to_owned(),
        "ssh://-oProxyCommand=touch/x".to_owned(),
        "https://user:password@example.com/app.git".to_owned(),
    ] {
        let res = app
            .post(
                "/api/projects",
                &app.admin.token,
                json!({"name": "evil", "url": url, "team_id": team}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let body: Value = res.json().await.unwrap();
        assert!(body["errors"]["url"].is_array(), "{url}: {body}");
    }
    let res = app
        .post("/api/projects", &app.admin.token, json!({"name": "evil", "url": "https://example.com/a.git", "team_id": team, "default_branch": "--orphan"}))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!marker.exists());
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM projects").await, 0);
}

#[tokio::test]
async fn an_unreachable_repository_leaves_the_project_in_error_with_the_reason() {
    let app = app().await;
    let team = app.create_team("Apps").await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let res = app
        .post(
            "/api/projects",
            &app.admin.token,
            json!({"name": "gone", "url": format!("ssh://git@127.0.0.1:{closed}/srv/app.git"), "team_id": team}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let id = created["project"]["id"].as_str().unwrap();
    let detail = wait_project(&app, id, "error").await;
    let error = detail["project"]["error"].as_str().unwrap();
    assert!(
        error.contains("Connection refused") || error.contains("connect"),
        "{error}"
    );
}
