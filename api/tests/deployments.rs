//! App deployments with real parts: bare Git repositories served over SSH by the sshd test host,
//! real ansible-core running the app playbook on the test host, real pip/npm installs, a real
//! Flask app behind a real nginx, a real React build — each answered over HTTP from the host.

mod common;

use common::{assert_problem, git, spawn_app_with, Options, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::Role;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Host {
    port: u16,
    client_key: String,
}

fn host() -> Option<Host> {
    let tools = ["nginx", "start-stop-daemon", "python3", "npm"]
        .iter()
        .all(|t| {
            Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if !tools {
        assert!(
            std::env::var("PROVISIO_REQUIRE_FAKES").is_err(),
            "PROVISIO_REQUIRE_FAKES is set but nginx, start-stop-daemon, python3 or npm is missing"
        );
        eprintln!("skipped: nginx, python3 or npm missing (see scripts/setup.sh)");
        return None;
    }
    let (port, client_key) = common::ssh_test_host()?;
    Some(Host { port, client_key })
}

async fn app(health_timeout: Duration) -> TestApp {
    let mut options = Options {
        workers: 2,
        ..Options::default()
    };
    options.jobs.lease = Duration::from_secs(5);
    options.deploy.health_timeout = health_timeout;
    spawn_app_with(options).await
}

async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

/// A bare repository and a working copy pushing to it; `files` make the first commit.
fn repository(files: &[(&str, &str)]) -> (PathBuf, PathBuf) {
    let root =
        std::env::temp_dir().join(format!("provisio-deploy-{}", uuid::Uuid::new_v4().simple()));
    let bare = root.join("app.git");
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&root, &["init", "-q", "--bare", "-b", "main", "app.git"]);
    git(&work, &["init", "-q", "-b", "main"]);
    commit(&work, files, "first");
    git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
    git(&work, &["push", "-q", "origin", "main"]);
    (bare, work)
}

fn commit(work: &Path, files: &[(&str, &str)], message: &str) -> String {
    for (name, content) in files {
        let path = work.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    git(work, &["add", "."]);
    git(work, &["commit", "-q", "-m", message]);
    git(work, &["rev-parse", "HEAD"])
}

fn flask_app(version: &str) -> String {
    format!(
        "import os\nfrom flask import Flask\napp = Flask(__name__)\n\n@app.get('/')\ndef index():\n    return 'hello from {version}, greeting=' + os.environ.get('GREETING', '?')\n"
    )
}

/// A team with the sshd test host registered as its server and a project for `bare` (cloned over
/// SSH with the test key as deploy key); returns (team, server, project).
async fn team_server_project(
    app: &TestApp,
    h: &Host,
    prefix: &str,
    bare: &Path,
) -> (String, String, String) {
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
    let server = json_of(
        app.post(
            "/api/servers/register",
            &app.admin.token,
            json!({"name": format!("{prefix}-host"), "team_id": team,
                   "provider_account_id": account["id"], "address": "127.0.0.1",
                   "port": h.port, "user": "root"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["server"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("ssh://root@127.0.0.1:{}{}", h.port, bare.display());
    let project = json_of(
        app.post(
            "/api/projects",
            &app.admin.token,
            json!({"name": format!("{prefix}-repo"), "url": url, "team_id": team, "deploy_key": h.client_key}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["project"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (team, server, project)
}

async fn deployment(app: &TestApp, id: &str) -> Value {
    json_of(
        app.get(&format!("/api/deployments/{id}"), &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await
}

/// Waits until the deployment reaches one of `statuses` (seen through GET) and returns it.
async fn settle(app: &TestApp, id: &str, statuses: &[&str], within: Duration) -> Value {
    let started = Instant::now();
    loop {
        let d = deployment(app, id).await;
        if statuses.contains(&d["status"].as_str().unwrap_or("")) {
            return d;
        }
        assert!(
            started.elapsed() < within,
            "deployment never {statuses:?}: {d:#}\n{}",
            log_text(app, id).await
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn log_text(app: &TestApp, id: &str) -> String {
    let logs = json_of(
        app.get(&format!("/api/deployments/{id}/logs"), &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    logs["lines"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .map(|l| l["text"].as_str().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

async fn fetch(url: &str) -> Result<(StatusCode, String), reqwest::Error> {
    let res = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(5))
        .send()
        .await?;
    let status = res.status();
    Ok((status, res.text().await.unwrap_or_default()))
}

/// Waits for the deployment to run and checks that its URL answers with `greeting`; the answer.
async fn running_app(app: &TestApp, id: &str, greeting: &str) -> Value {
    let running = settle(app, id, &["RUNNING", "FAILED"], DEPLOY_TIME).await;
    assert_eq!(
        running["status"],
        "RUNNING",
        "{running:#}\n{}",
        log_text(app, id).await
    );
    let (_, body) = fetch(running["url"].as_str().unwrap()).await.unwrap();
    assert!(body.starts_with(greeting), "{body}");
    running
}

/// Deletes the deployment and waits until it is DELETED.
async fn delete_deployment(app: &TestApp, id: &str, token: &str) {
    json_of(
        app.delete(&format!("/api/deployments/{id}"), token).await,
        StatusCode::ACCEPTED,
    )
    .await;
    settle(app, id, &["DELETED"], Duration::from_secs(60)).await;
}

async fn act(app: &TestApp, id: &str, action: &str, body: Value) -> Value {
    json_of(
        app.post(
            &format!("/api/deployments/{id}/{action}"),
            &app.admin.token,
            body,
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await
}

const DEPLOY_TIME: Duration = Duration::from_secs(240);

#[tokio::test]
async fn a_flask_app_runs_behind_nginx_is_redeployed_stopped_started_and_deleted() {
    let Some(h) = host() else {
        return;
    };
    let app = app(Duration::from_secs(30)).await;
    let (bare, work) = repository(&[
        ("app.py", &flask_app("v1")),
        ("requirements.txt", "Flask>=3\n"),
    ]);
    let first = git(&work, &["rev-parse", "HEAD"]);
    let (team, server, project) = team_server_project(&app, &h, "flask", &bare).await;

    let res = app
        .post(
            "/api/deploy",
            &app.admin.token,
            json!({"name": "shop", "project_id": project, "server_id": server,
                   "env": {"GREETING": "sesame-open-4711"}}),
        )
        .await;
    let execution = res
        .headers()
        .get("x-execution-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let created = json_of(res, StatusCode::CREATED).await;
    let execution = execution.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["status"], "PENDING");
    assert_eq!(created["team"]["id"], team.as_str());
    assert_eq!(created["env"], json!(["GREETING"]));
    assert!(!created.to_string().contains("sesame"));
    assert_eq!(created["execution_id"], execution.as_str());

    let running = settle(&app, &id, &["RUNNING", "FAILED"], DEPLOY_TIME).await;
    let log = log_text(&app, &id).await;
    assert_eq!(running["status"], "RUNNING", "{running:#}\n{log}");
    assert_eq!(
        running["framework"], "flask",
        "detected from the repository"
    );
    assert_eq!(running["commit"], first.as_str());
    let url = running["url"].as_str().unwrap().to_owned();
    let port = running["port"].as_i64().unwrap();
    assert_eq!(url, format!("http://127.0.0.1:{port}/"));
    for step in [
        "checking the server",
        "running the app playbook",
        "checking the app over HTTP",
        "running at",
    ] {
        assert!(log.contains(step), "{step} missing from\n{log}");
    }
    // The tracker's stages, in order, each on the step line that starts it.
    let lines = json_of(
        app.get(&format!("/api/deployments/{id}/logs"), &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    let stages: Vec<String> = lines["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.get("stage").and_then(|s| s.as_str()).map(str::to_owned))
        .collect();
    assert_eq!(
        stages,
        [
            "provisioning",
            "fetching",
            "deploying",
            "health_check",
            "running"
        ],
        "{log}"
    );
    assert!(
        !log.contains("sesame-open-4711"),
        "the environment value leaked into the log"
    );

    // nginx answers on the public port and proxies to gunicorn, which sees the environment.
    let (status, body) = fetch(&url).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "hello from v1, greeting=sesame-open-4711");
    let server_header = reqwest::get(&url).await.unwrap().headers()["server"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(server_header.starts_with("nginx"), "{server_header}");
    let app_dir = PathBuf::from(app.state.config.deploy.apps_root.clone())
        .join(format!("provisio-shop-{}", &id.replace('-', "")[..8]));
    let env_file = app_dir.join("env");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&env_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(std::fs::read_link(app_dir.join("current"))
        .unwrap()
        .ends_with(&first));

    // A new commit on the branch, then redeploy: the head is deployed.
    let second = commit(&work, &[("app.py", &flask_app("v2"))], "second");
    git(&work, &["push", "-q", "origin", "main"]);
    let pending = act(&app, &id, "redeploy", json!({})).await;
    assert_eq!(pending["status"], "DEPLOYING");
    let again = settle(&app, &id, &["RUNNING", "FAILED"], DEPLOY_TIME).await;
    assert_eq!(again["status"], "RUNNING", "{}", log_text(&app, &id).await);
    assert_eq!(again["commit"], second.as_str());
    assert_eq!(again["port"], port, "the port stays with the deployment");
    assert!(fetch(&url).await.unwrap().1.starts_with("hello from v2"));

    // Back to the first commit by its id.
    act(&app, &id, "redeploy", json!({"commit": first})).await;
    let back = settle(&app, &id, &["RUNNING", "FAILED"], DEPLOY_TIME).await;
    assert_eq!(
        back["commit"],
        first.as_str(),
        "{}",
        log_text(&app, &id).await
    );
    assert!(fetch(&url).await.unwrap().1.starts_with("hello from v1"));

    // Stop: nothing answers; a second stop is a conflict; start: it answers again.
    act(&app, &id, "stop", json!({})).await;
    let stopped = settle(&app, &id, &["STOPPED"], Duration::from_secs(60)).await;
    assert_eq!(stopped["status"], "STOPPED");
    assert!(fetch(&url).await.is_err(), "a stopped app still answers");
    assert_problem(
        app.post(
            &format!("/api/deployments/{id}/stop"),
            &app.admin.token,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    act(&app, &id, "start", json!({})).await;
    settle(&app, &id, &["RUNNING"], Duration::from_secs(60)).await;
    assert!(fetch(&url).await.unwrap().1.starts_with("hello from v1"));
    // Each step is listed by what it did, newest first.
    let steps = json_of(
        app.get(&format!("/api/deployments/{id}/logs"), &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    let kinds: Vec<&str> = steps["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["start", "stop", "deploy", "deploy", "deploy"]);

    // The list, the statistics and the steps.
    let page = json_of(
        app.get("/api/deployments?per_page=10", &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], id.as_str());
    let stats = json_of(
        app.get("/api/statistics", &app.admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stats["total"], 1);
    assert_eq!(stats["running"], 1);
    assert_eq!(stats["success_rate"], 100.0);
    assert_eq!(stats["by_framework"][0]["framework"], "flask");
    let logs = json_of(
        app.get(&format!("/api/deployments/{id}/logs"), &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        logs["executions"].as_array().unwrap().len(),
        5,
        "deploy, 2 redeploys, stop, start"
    );

    // Delete: the service, the site and the files go; the port closes.
    let deleting = json_of(
        app.delete(&format!("/api/deployments/{id}"), &app.admin.token)
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(deleting["status"], "DELETING");
    settle(&app, &id, &["DELETED"], Duration::from_secs(60)).await;
    assert!(fetch(&url).await.is_err(), "a deleted app still answers");
    assert!(!app_dir.exists(), "{} is still there", app_dir.display());
    let page = json_of(
        app.get("/api/deployments", &app.admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        page["total"], 0,
        "deleted deployments leave the default list"
    );
    let audit = json_of(
        app.get("/api/audit?per_page=100", &app.admin.token).await,
        StatusCode::OK,
    )
    .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "deployment.create",
        "deployment.redeploy",
        "deployment.stop",
        "deployment.start",
        "deployment.delete",
    ] {
        assert!(
            actions.contains(&action),
            "{action} not audited: {actions:?}"
        );
    }
    assert!(!audit.to_string().contains("sesame"));
}

fn fixture_files(dir: &Path, prefix: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            fixture_files(&path, prefix, out);
        } else {
            out.push((
                path.strip_prefix(prefix).unwrap().display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

#[tokio::test]
async fn a_react_app_is_built_on_the_host_and_served_by_nginx() {
    let Some(h) = host() else {
        return;
    };
    let app = app(Duration::from_secs(30)).await;
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/react-app");
    let mut files = vec![];
    fixture_files(&fixture, &fixture, &mut files);
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let (bare, _work) = repository(&files);
    let (_, server, project) = team_server_project(&app, &h, "react", &bare).await;
    let created = json_of(
        app.post(
            "/api/deploy",
            &app.admin.token,
            json!({"name": "front", "project_id": project, "server_id": server, "framework": "react"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let running = settle(&app, id, &["RUNNING", "FAILED"], DEPLOY_TIME).await;
    assert_eq!(
        running["status"],
        "RUNNING",
        "{running:#}\n{}",
        log_text(&app, id).await
    );
    let url = running["url"].as_str().unwrap();
    let (status, index) = fetch(url).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(index.contains("<div id=\"root\"></div>"), "{index}");
    let (status, bundle) = fetch(&format!("{url}app.js")).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(bundle.contains("Hello from a React build deployed by Provisio"));
    assert!(bundle.len() > 50_000, "the bundle holds React itself");
    // The deployment's own stream replays the steps' log lines and its state.
    // Clients that can send headers use the bearer token on streams too.
    let events = app
        .client
        .get(app.url(&format!("/api/deployments/{id}/events")))
        .bearer_auth(&app.admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let mut body = events;
    let mut seen = String::new();
    let started = Instant::now();
    while !(seen.contains("event: deployment") && seen.contains("checking the app over HTTP")) {
        assert!(started.elapsed() < Duration::from_secs(10), "{seen}");
        match tokio::time::timeout(Duration::from_secs(5), body.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    assert!(
        seen.contains("event: deployment") && seen.contains("\"status\":\"RUNNING\""),
        "{seen}"
    );
    assert!(
        seen.contains("event: log") && seen.contains("checking the app over HTTP"),
        "{seen}"
    );
    drop(body);
    // Client-side routes fall back to the app.
    let (status, route) = fetch(&format!("{url}clients/42")).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(route, index);
    json_of(
        app.delete(&format!("/api/deployments/{id}"), &app.admin.token)
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    settle(&app, id, &["DELETED"], Duration::from_secs(60)).await;
    assert!(fetch(url).await.is_err());
}

#[tokio::test]
async fn a_failing_build_and_a_failing_health_check_end_failed_naming_the_step() {
    let Some(h) = host() else {
        return;
    };
    let app = app(Duration::from_secs(4)).await;
    let (bare, work) = repository(&[
        ("app.py", &flask_app("v1")),
        // A line pip refuses before asking any index: the build fails at once, not after
        // pip's network retries.
        (
            "requirements.txt",
            "provisio-no-such-distribution (==9.9.9\n",
        ),
    ]);
    let (_, server, project) = team_server_project(&app, &h, "broken", &bare).await;
    let created = json_of(
        app.post(
            "/api/deploy",
            &app.admin.token,
            json!({"name": "broken", "project_id": project, "server_id": server, "framework": "flask"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let failed = settle(&app, &id, &["FAILED", "RUNNING"], DEPLOY_TIME).await;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["failed_step"], "deploying");
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("app playbook failed"),
        "{failed:#}"
    );
    let log = log_text(&app, &id).await;
    assert!(
        log.contains("provisio-no-such-distribution"),
        "pip's complaint is in the log:\n{log}"
    );
    let notes = json_of(
        app.get("/api/notifications", &app.admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        notes.to_string().contains("Deployment failed: broken"),
        "{notes}"
    );

    // The app starts but answers 500 on its health path.
    commit(
        &work,
        &[
            ("requirements.txt", "Flask>=3\n"),
            ("app.py", "from flask import Flask\napp = Flask(__name__)\n\n@app.get('/')\ndef index():\n    return 'broken', 500\n"),
        ],
        "answers 500",
    );
    git(&work, &["push", "-q", "origin", "main"]);
    act(&app, &id, "redeploy", json!({})).await;
    let failed = settle(&app, &id, &["FAILED", "RUNNING"], DEPLOY_TIME).await;
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    assert_eq!(failed["failed_step"], "health check");
    assert!(
        failed["error"].as_str().unwrap().contains("answered 500"),
        "{failed:#}"
    );
    let stats = json_of(
        app.get("/api/statistics", &app.admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stats["failed"], 1);
    assert_eq!(stats["success_rate"], 0.0);

    // A failed deployment can be deleted; what it installed goes.
    let port = failed["port"].as_i64().unwrap();
    delete_deployment(&app, &id, &app.admin.token).await;
    assert!(fetch(&format!("http://127.0.0.1:{port}/")).await.is_err());
}

#[tokio::test]
async fn deploy_requests_are_validated_and_scoped_to_teams() {
    let app = app(Duration::from_secs(5)).await;
    let team = app.create_team("Scoped").await;
    let other = app.create_team("Other").await;
    // Hostile or incomplete input: one 422 naming every field, nothing stored.
    let res = app
        .post(
            "/api/deploy",
            &app.admin.token,
            json!({"name": "-x", "git_url": "ext::sh -c id", "module": "--config=/etc/passwd",
                   "port": 80, "env": {"lower": "x"}}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    for field in ["name", "git_url", "module", "port", "env"] {
        assert!(problem["errors"][field].is_array(), "{field}: {problem:#}");
    }
    // Neither a server nor an account, and the team names no default account for new guests.
    let problem = assert_problem(
        app.post(
            "/api/deploy",
            &app.admin.token,
            json!({"git_url": "https://git.example.com/a.git", "team_id": team}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        problem["errors"]["provider_account_id"][0]
            .as_str()
            .unwrap()
            .contains("this team has no default account"),
        "{problem:#}"
    );
    for (body, field) in [
        (
            json!({"name": "app", "git_url": "https://git.example.com/a.git", "server_id": uuid::Uuid::new_v4(), "team_id": team}),
            "server_id",
        ),
        (
            json!({"name": "app", "git_url": "https://git.example.com/a.git", "server_id": uuid::Uuid::new_v4(), "framework": "cobol"}),
            "framework",
        ),
        (
            json!({"name": "app", "git_url": "--upload-pack=touch /tmp/x", "server_id": uuid::Uuid::new_v4()}),
            "git_url",
        ),
        (
            json!({"name": "app", "git_url": "https://git.example.com/a.git", "server_id": uuid::Uuid::new_v4(), "commit": "HEAD~1"}),
            "commit",
        ),
    ] {
        let problem = assert_problem(
            app.post("/api/deploy", &app.admin.token, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(problem["errors"][field].is_array(), "{field}: {problem:#}");
    }
    let page = json_of(
        app.get("/api/deployments", &app.admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["total"], 0);
    let projects = json_of(
        app.get("/api/projects", &app.admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        projects,
        json!([]),
        "a refused deployment leaves no project behind"
    );

    // Requesters and sales agents cannot deploy; another team's agent sees nothing.
    let requester = app
        .user_with("req", &[Role::Requester], std::slice::from_ref(&team))
        .await;
    let sales = app
        .user_with("sales", &[Role::SalesAgent], std::slice::from_ref(&team))
        .await;
    for token in [&requester.token, &sales.token] {
        assert_problem(
            app.get("/api/deployments", token).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_problem(
            app.get("/api/statistics", token).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_problem(
            app.post("/api/deploy", token, json!({"name": "x", "git_url": "https://git.example.com/a.git", "server_id": uuid::Uuid::new_v4()})).await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let outsider = app
        .user_with(
            "outsider",
            &[Role::TechnicalAgent],
            std::slice::from_ref(&other),
        )
        .await;
    let missing = uuid::Uuid::new_v4();
    for path in [
        format!("/api/deployments/{missing}"),
        format!("/api/deployments/{missing}/logs"),
    ] {
        assert_problem(app.get(&path, &outsider.token).await, StatusCode::NOT_FOUND).await;
    }
    assert_problem(
        app.delete(&format!("/api/deployments/{missing}"), &outsider.token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let stats = json_of(
        app.get("/api/statistics", &outsider.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stats["total"], 0);
    assert_eq!(stats["success_rate"], Value::Null);
}

async fn pve_guest_names(f: &common::guests::Pve) -> Vec<String> {
    common::fakepve_get(&f.direct_url, &f.token, &f.ca, "/cluster/resources?type=vm")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["name"].as_str().map(str::to_owned))
        .collect()
}

/// The six fields of the PaaS description, as a client written from it sends them: the type in
/// upper case, the framework by its name, `github_url`, `cpu_cores`, `memory_mb`, no name, no
/// team, no branch, no account. The team's default account builds a VM at the Proxmox fake, the
/// repository's default branch (`master`) is deployed, and the answer shows the guest's address
/// and VM id. A second one, deleted while it waits for approval, cancels its server request.
#[tokio::test]
async fn the_six_fields_of_the_paas_form_deploy_a_repository_onto_a_new_vm() {
    let (Some(h), Some(f)) = (host(), common::guests::pve()) else {
        return;
    };
    let app = app(Duration::from_secs(30)).await;
    common::guests::authorize_service_key(&app).await;
    // The container template first: a VM deployment must skip it for the first VM image.
    let account = common::guests::pve_account(
        &app,
        h.port,
        &f,
        "PVE six fields",
        &["debian-ct", "debian-12"],
    )
    .await;
    let team = app.create_team("Six fields").await;
    let set = json_of(
        app.patch(
            &format!("/api/teams/{team}"),
            &app.admin.token,
            json!({"default_provider_account_id": account}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(set["default_provider_account_id"], account.as_str());
    let agent = app
        .user_with(
            "sixfields",
            &[Role::TechnicalAgent],
            std::slice::from_ref(&team),
        )
        .await;

    // A repository whose default branch is master; its project names no branch.
    let root =
        std::env::temp_dir().join(format!("provisio-deploy-{}", uuid::Uuid::new_v4().simple()));
    let (bare, work) = (root.join("hello-paas.git"), root.join("work"));
    std::fs::create_dir_all(&work).unwrap();
    git(
        &root,
        &["init", "-q", "--bare", "-b", "master", "hello-paas.git"],
    );
    git(&work, &["init", "-q", "-b", "master"]);
    commit(
        &work,
        &[
            ("app.py", &flask_app("master")),
            ("requirements.txt", "Flask>=3\n"),
        ],
        "first",
    );
    git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
    git(&work, &["push", "-q", "origin", "master"]);
    let url = format!("ssh://root@127.0.0.1:{}{}", h.port, bare.display());
    json_of(
        app.post(
            "/api/projects",
            &app.admin.token,
            json!({"name": "hello-paas", "url": url, "team_id": team, "deploy_key": h.client_key}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    let six = json!({"deployment_type": "VM", "framework": "Flask", "github_url": url,
                     "cpu_cores": 2, "memory_mb": 2048, "disk_gb": 20});
    // A wrong value is reported under its own field, an unknown field is refused.
    let mut wrong = six.clone();
    wrong["deployment_type"] = json!("docker");
    let problem = assert_problem(
        app.post("/api/deploy", &agent.token, wrong).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        problem["errors"]["deployment_type"].is_array(),
        "{problem:#}"
    );
    let mut unknown = six.clone();
    unknown["memory_gb"] = json!(2);
    let problem = assert_problem(
        app.post("/api/deploy", &agent.token, unknown).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        problem["errors"]
            .to_string()
            .contains("unknown field `memory_gb`"),
        "{problem:#}"
    );

    let created = json_of(
        app.post("/api/deploy", &agent.token, six.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["name"], "hello-paas", "{created:#}");
    assert_eq!(created["team"]["id"], team.as_str());
    assert_eq!(created["framework"], "flask");
    assert_eq!(created["deployment_type"], "vm");
    assert_eq!(
        (
            created["cpu"].clone(),
            created["ram_mb"].clone(),
            created["disk_gb"].clone()
        ),
        (json!(2), json!(2048), json!(20))
    );
    assert_eq!(created["status"], "PENDING");
    let id = created["id"].as_str().unwrap().to_owned();
    let request = created["request_id"].as_str().unwrap().to_owned();

    // A second one waits for approval too; deleting it cancels its server request.
    let second = json_of(
        app.post("/api/deploy", &agent.token, six).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(second["name"], "hello-paas-2");
    let second_request = second["request_id"].as_str().unwrap().to_owned();
    let gone = json_of(
        app.delete(
            &format!("/api/deployments/{}", second["id"].as_str().unwrap()),
            &agent.token,
        )
        .await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(gone["status"], "DELETED");
    let cancelled = json_of(
        app.get(&format!("/api/requests/{second_request}"), &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cancelled["request"]["status"], "cancelled", "{cancelled:#}");

    // The agent may not approve; an administrator does, and the pipeline runs to the end.
    json_of(
        app.post(
            &format!("/api/requests/{request}/approve"),
            &app.admin.token,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let running = settle(&app, &id, &["RUNNING", "FAILED"], DEPLOY_TIME).await;
    assert_eq!(
        running["status"],
        "RUNNING",
        "{running:#}\n{}",
        log_text(&app, &id).await
    );
    assert_eq!(running["branch"], "master");
    assert!(fetch(running["url"].as_str().unwrap())
        .await
        .unwrap()
        .1
        .starts_with("hello from master"));
    assert!(running["ip_address"].is_string(), "{running:#}");
    assert!(running["vmid"].as_u64().is_some(), "{running:#}");
    assert!(
        running["provider_guest_id"]
            .as_str()
            .unwrap()
            .contains("/qemu/"),
        "{running:#}"
    );
    assert!(pve_guest_names(&f).await.contains(&"hello-paas".to_owned()));

    // Its provisioning is in its logs, before the deploy steps.
    let logs = json_of(
        app.get(&format!("/api/deployments/{id}/logs"), &agent.token)
            .await,
        StatusCode::OK,
    )
    .await;
    let kinds: Vec<&str> = logs["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["deploy", "provision"], "{logs:#}");
    let provision = logs["executions"][1]["id"].as_str().unwrap();
    let lines = logs["lines"].as_array().unwrap();
    let first_deploy_line = lines
        .iter()
        .position(|l| l["execution_id"] != provision)
        .expect("deploy lines follow");
    assert!(first_deploy_line > 0, "the provisioning lines come first");
    assert!(lines[first_deploy_line..]
        .iter()
        .all(|l| l["execution_id"] != provision));

    // No public key was given: a generated pair's public half went to the guest, the private
    // half waits for its one download by the agent who deployed.
    let public = running["ssh_public_key"].as_str().unwrap().to_owned();
    assert!(public.starts_with("ssh-ed25519 "), "{running:#}");
    assert_eq!(running["private_key_available"], true);
    login_with_generated_key(&app, &agent, &h, &f, &running, &public).await;

    json_of(
        app.delete(&format!("/api/deployments/{id}"), &agent.token)
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    settle(&app, &id, &["DELETED"], Duration::from_secs(60)).await;
}

/// The generated key pair of a deployment onto a new guest: the fake received its public half
/// in the guest's cloud-init (which the test applies to the sshd host standing in for the guest,
/// as cloud-init would), the private key is downloaded once and logs in, a second download is
/// refused, and the key is nowhere in the database, logs or audit rows in clear.
async fn login_with_generated_key(
    app: &TestApp,
    agent: &common::Session,
    h: &Host,
    f: &common::guests::Pve,
    running: &Value,
    public: &str,
) {
    let id = running["id"].as_str().unwrap();
    let guest = running["provider_guest_id"].as_str().unwrap();
    let config = common::fakepve_get(
        &f.direct_url,
        &f.token,
        &f.ca,
        &format!(
            "/nodes/{}/qemu/{}/config",
            guest.split('/').next().unwrap(),
            running["vmid"]
        ),
    )
    .await;
    let injected =
        percent_encoding::percent_decode_str(config["sshkeys"].as_str().expect("cloud-init keys"))
            .decode_utf8()
            .unwrap()
            .into_owned();
    assert!(injected.contains(public.trim()), "{injected}");
    common::guests::authorize_key(public);

    let url = format!("/api/deployments/{id}/private-key");
    // Someone else of the team may see the deployment but not take its key.
    let hidden = app.post(&url, &app.admin.token, json!({})).await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let res = app.post(&url, &agent.token, json!({})).await;
    assert_eq!(
        res.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    let download = json_of(res, StatusCode::OK).await;
    let pem = download["private_key"].as_str().unwrap().to_owned();
    assert!(pem.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
    let again = assert_problem(
        app.post(&url, &agent.token, json!({})).await,
        StatusCode::GONE,
    )
    .await;
    assert!(
        again["detail"]
            .as_str()
            .unwrap()
            .contains("downloaded once"),
        "{again:#}"
    );
    let shown = json_of(
        app.get(&format!("/api/deployments/{id}"), &agent.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(shown["private_key_available"], false);

    let file = std::env::temp_dir().join(format!("provisio-key-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, &pem).unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let login = Command::new("ssh")
        .args(["-i", file.to_str().unwrap(), "-p", &h.port.to_string()])
        .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .arg(format!(
            "{}@{}",
            download["login_user"].as_str().unwrap(),
            download["ip_address"].as_str().unwrap()
        ))
        .arg("echo logged-in")
        .output()
        .unwrap();
    std::fs::remove_file(&file).ok();
    assert_eq!(
        String::from_utf8_lossy(&login.stdout).trim(),
        "logged-in",
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );

    // A random line of the key's body: in clear nowhere the server writes.
    let needle = pem.lines().nth(2).unwrap().to_owned();
    for sql in [
        "SELECT COUNT(*) AS n FROM deployments WHERE ssh_private_key IS NOT NULL OR \
         CAST(env AS TEXT) LIKE $1",
        "SELECT COUNT(*) AS n FROM audit_events WHERE CAST(\"before\" AS TEXT) LIKE $1 \
         OR CAST(\"after\" AS TEXT) LIKE $1",
        "SELECT COUNT(*) AS n FROM execution_logs WHERE text LIKE $1",
        "SELECT COUNT(*) AS n FROM jobs WHERE CAST(payload AS TEXT) LIKE $1",
        "SELECT COUNT(*) AS n FROM server_requests WHERE CAST(ssh_public_keys AS TEXT) LIKE $1",
    ] {
        use sea_orm::ConnectionTrait;
        let backend = app.state.db.get_database_backend();
        let sql = match backend {
            sea_orm::DatabaseBackend::Postgres => sql.to_owned(),
            _ => sql.replace("$1", "?"),
        };
        let row = app
            .state
            .db
            .query_one(sea_orm::Statement::from_sql_and_values(
                backend,
                &sql,
                [format!("%{needle}%").into()],
            ))
            .await
            .unwrap()
            .unwrap();
        let n: i64 = row.try_get("", "n").unwrap();
        assert_eq!(n, 0, "{sql}");
    }
    let audit = json_of(
        app.get(
            "/api/audit?action=deployment.private_key_downloaded",
            &app.admin.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        audit.to_string().contains(id),
        "the download is audited: {audit:#}"
    );
}

/// PROVISIONING at a provider: the Proxmox fake creates the LXC guest (its address and SSH port
/// lead to the sshd test host), then the app is deployed onto it; deleting the deployment
/// destroys the guest.
#[tokio::test]
async fn a_deployment_onto_a_new_proxmox_lxc_guest_provisions_deploys_and_destroys_it() {
    let (Some(h), Some(f)) = (host(), common::guests::pve()) else {
        return;
    };
    let app = app(Duration::from_secs(30)).await;
    common::guests::authorize_service_key(&app).await;
    let account =
        common::guests::pve_account(&app, h.port, &f, "PVE apps", &["debian-12", "debian-ct"])
            .await;
    let (bare, _work) = repository(&[
        ("app.py", &flask_app("lxc")),
        ("requirements.txt", "Flask>=3\n"),
    ]);
    let team = app.create_team("Guests").await;
    let url = format!("ssh://root@127.0.0.1:{}{}", h.port, bare.display());
    let project = json_of(
        app.post(
            "/api/projects",
            &app.admin.token,
            json!({"name": "guest-repo", "url": url, "team_id": team, "deploy_key": h.client_key}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["project"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let name = format!("ct-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let body = |kind: &str, image: &str| {
        json!({"name": name, "project_id": project, "team_id": team, "provider_account_id": account,
               "location": f.node, "image": image, "deployment_type": kind,
               "cpu": 1, "ram_mb": 1024, "disk_gb": 8})
    };
    // The type must match the image.
    let problem = assert_problem(
        app.post("/api/deploy", &app.admin.token, body("vm", "debian-ct"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(problem["errors"]["image"].is_array(), "{problem:#}");

    let res = app
        .post("/api/deploy", &app.admin.token, body("lxc", "debian-ct"))
        .await;
    assert!(
        res.headers().get("x-execution-id").is_none(),
        "the pipeline waits for the server"
    );
    let created = json_of(res, StatusCode::CREATED).await;
    assert_eq!(created["deployment_type"], "lxc");
    let request = created["request_id"]
        .as_str()
        .expect("a server request was filed")
        .to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let running = running_app(&app, &id, "hello from lxc").await;
    let req = json_of(
        app.get(&format!("/api/requests/{request}"), &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(req["request"]["status"], "deployed", "{req:#}");
    let server_id = running["server_id"].as_str().unwrap();
    let server = json_of(
        app.get(&format!("/api/servers/{server_id}"), &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        server["server"]["provider_id"]
            .as_str()
            .unwrap()
            .contains("/lxc/"),
        "{server:#}"
    );
    assert!(pve_guest_names(&f).await.contains(&name));

    // Deleting the deployment removes the app and destroys the guest built for it.
    delete_deployment(&app, &id, &app.admin.token).await;
    let started = Instant::now();
    while pve_guest_names(&f).await.contains(&name) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the guest was never destroyed"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// A new VM built by a Terraform account (the offline built-in module standing in for the
/// bpg/proxmox one): the deployment's logs hold Terraform's init, plan and apply before the deploy
/// steps, and deleting the deployment destroys what Terraform built.
#[tokio::test]
async fn a_deployment_onto_a_terraform_built_vm_shows_the_plan_and_apply_in_its_logs() {
    let (Some(h), Some(_)) = (host(), common::guests::pve()) else {
        return;
    };
    let app = app(Duration::from_secs(30)).await;
    common::guests::authorize_service_key(&app).await;
    let module = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../terraform-templates/testing/builtin-server")
        .canonicalize()
        .unwrap();
    let account = json_of(
        app.post(
            "/api/provider-accounts",
            &app.admin.token,
            json!({"name": "Terraform apps", "kind": "terraform_proxmox", "endpoint": "",
                   "catalog": {"currency": "EUR", "locations": ["pve1"], "images": ["debian-12"],
                               "custom_limits": {"max_cpu": 8, "max_ram_mb": 16384, "max_disk_gb": 200}},
                   "settings": {"terraform_module": module.display().to_string(),
                                "ssh_port": h.port, "wait_for_ssh": true, "ready_timeout_secs": 30}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (bare, _work) = repository(&[
        ("app.py", &flask_app("terraform")),
        ("requirements.txt", "Flask>=3\n"),
    ]);
    let team = app.create_team("Terraform apps").await;
    let url = format!("ssh://root@127.0.0.1:{}{}", h.port, bare.display());
    json_of(
        app.post(
            "/api/projects",
            &app.admin.token,
            json!({"name": "tf-repo", "url": url, "team_id": team, "deploy_key": h.client_key}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let created = json_of(
        app.post(
            "/api/deploy",
            &app.admin.token,
            json!({"git_url": url, "team_id": team, "provider_account_id": account,
                   "framework": "flask", "deployment_type": "vm",
                   "cpu_cores": 1, "memory_mb": 1024, "disk_gb": 8}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let running = running_app(&app, &id, "hello from terraform").await;

    let logs = json_of(
        app.get(&format!("/api/deployments/{id}/logs"), &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    let texts: Vec<&str> = logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    let at = |wanted: &str| {
        texts
            .iter()
            .position(|t| *t == wanted)
            .unwrap_or_else(|| panic!("no line {wanted:?} in {texts:#?}"))
    };
    let (init, plan, apply) = (
        at("terraform init"),
        at("terraform plan"),
        at("terraform apply"),
    );
    let first_deploy = logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .position(|l| l["execution_id"] == logs["execution_id"])
        .expect("the deploy step's lines follow");
    assert!(
        init < plan && plan < apply && apply < first_deploy,
        "{texts:#?}"
    );

    delete_deployment(&app, &id, &app.admin.token).await;
    let server_id = running["server_id"].as_str().unwrap();
    let started = Instant::now();
    loop {
        let server = json_of(
            app.get(&format!("/api/servers/{server_id}"), &app.admin.token)
                .await,
            StatusCode::OK,
        )
        .await;
        if server["server"]["status"] == "deleted" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the Terraform-built server was never destroyed: {server:#}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The administrator's first steps on a fresh install tick themselves from the data: a provider
/// account counts once its connection test passed, a team once it has people, then a policy and
/// the administrator's own SSH key.
#[tokio::test]
async fn the_first_steps_tick_themselves_from_the_data() {
    let (Some(h), Some(f)) = (host(), common::guests::pve()) else {
        return;
    };
    let app = app(Duration::from_secs(30)).await;
    let progress = || async {
        json_of(
            app.get("/api/stats/setup", &app.admin.token).await,
            StatusCode::OK,
        )
        .await
    };
    let nothing = json!({"provider_tested": false, "team_with_members": false,
                         "approval_policy": false, "ssh_key": false});
    assert_eq!(progress().await, nothing);

    // Saving an account with a token tests it: the step ticks at once.
    let account =
        common::guests::pve_account(&app, h.port, &f, "First steps", &["debian-12"]).await;
    assert_eq!(progress().await["provider_tested"], true);
    let report = json_of(
        app.post(
            &format!("/api/provider-accounts/{account}/test"),
            &app.admin.token,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(progress().await["provider_tested"], true);
    let listed = json_of(
        app.get("/api/provider-accounts", &app.admin.token).await,
        StatusCode::OK,
    )
    .await;
    let shown = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == account.as_str())
        .unwrap();
    assert_eq!(shown["last_test_ok"], true);
    assert!(shown["last_tested_at"].is_string());

    let team = app.create_team("First steps").await;
    assert_eq!(progress().await["team_with_members"], false, "no one in it");
    app.user_with(
        "first-steps",
        &[Role::Requester],
        std::slice::from_ref(&team),
    )
    .await;
    assert_eq!(progress().await["team_with_members"], true);
    json_of(
        app.put(
            &format!("/api/teams/{team}/approval-policy"),
            &app.admin.token,
            json!({"steps": [{"approvers": {"kind": "role", "role": "admin"}, "rule": "any"}],
                   "auto_approve": null}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    json_of(
        app.post(
            "/api/ssh-keys",
            &app.admin.token,
            json!({"name": "laptop", "public_key": common::public_key(1)}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        progress().await,
        json!({"provider_tested": true, "team_with_members": true,
               "approval_policy": true, "ssh_key": true})
    );
}

#[tokio::test]
async fn the_app_playbook_passes_ansibles_syntax_check() {
    let binary = api::config::AnsibleSettings::default().playbook_bin;
    let found = Command::new(&binary)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("PROVISIO_REQUIRE_FAKES").is_err(),
            "PROVISIO_REQUIRE_FAKES is set but ansible-playbook is missing"
        );
        eprintln!("skipped: ansible-playbook missing (see scripts/setup.sh)");
        return;
    }
    api::exec::ansible::syntax_check(&binary, api::jobs::deploy::APP_PLAYBOOK)
        .await
        .unwrap();
}

/// A Flask app bound to a PostgreSQL resource of its team reads the resource's rows through
/// `DATABASE_URL`. The app is deployed as soon as the database is asked for (the deploy form's
/// offer): its job waits, saying so in its log, until the resource is approved and the recipe
/// created the database on the team's server; psql writes a row with the revealed connection,
/// the deployment names the resource, and the app answers with the row. The password is in no
/// line of the deploy log; the resource cannot be deleted while bound. A deployment bound to a
/// resource that is then rejected fails with the reason, without fetching anything.
#[tokio::test]
async fn a_flask_app_bound_to_a_postgresql_resource_reads_its_rows_through_database_url() {
    let Some(h) = host() else {
        return;
    };
    if !Path::new("/usr/bin/pg_createcluster").exists() {
        assert!(
            std::env::var("PROVISIO_REQUIRE_FAKES").is_err(),
            "PROVISIO_REQUIRE_FAKES is set but PostgreSQL (postgresql-common) is missing"
        );
        return;
    }
    let app = app(Duration::from_secs(60)).await;
    let (bare, _work) = repository(&[
        (
            "app.py",
            "import os\nimport psycopg\nfrom flask import Flask\napp = Flask(__name__)\n\n@app.get('/')\ndef index():\n    with psycopg.connect(os.environ['DATABASE_URL']) as conn:\n        rows = conn.execute('SELECT body FROM notes ORDER BY body').fetchall()\n    return 'notes: ' + ', '.join(r[0] for r in rows)\n",
        ),
        ("requirements.txt", "Flask>=3\npsycopg[binary]>=3.1\n"),
    ]);
    let (team, server, project) = team_server_project(&app, &h, "bound", &bare).await;
    let cluster = format!("pv{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let dropped = cluster.clone();
    let _cleanup = scopeguard(move || {
        let version = std::fs::read_dir("/usr/lib/postgresql")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .max()
            .unwrap();
        let _ = Command::new("pg_dropcluster")
            .args(["--stop", &version.to_string(), &dropped])
            .output();
    });
    let db_port = common::free_port();
    let resource = json_of(
        app.post(
            "/api/resources",
            &app.admin.token,
            json!({"team_id": team, "resource_type": "db-postgresql", "name": "notes",
                   "server_id": server, "purpose": "the app's notes",
                   "parameters": {"port": db_port, "cluster": cluster}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Bound twice, or in a variable the deployment sets itself: refused per field.
    let refused = common::assert_problem(
        app.post(
            "/api/deploy",
            &app.admin.token,
            json!({"name": "notes", "project_id": project, "server_id": server,
                   "env": {"DATABASE_URL": "sqlite:///x"}, "resources": [resource]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(refused["errors"]["resources[0]"][0]
        .as_str()
        .unwrap()
        .contains("would set DATABASE_URL"));
    let created = json_of(
        app.post(
            "/api/deploy",
            &app.admin.token,
            json!({"name": "notes", "project_id": project, "server_id": server,
                   "framework": "flask", "resources": [resource]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        created["resources"],
        json!([{"id": resource, "name": "notes", "env_var": "DATABASE_URL"}])
    );
    let id = created["id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    while !log_text(&app, &id)
        .await
        .contains("waiting for the resource notes to be approved")
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{}",
            log_text(&app, &id).await
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let waiting = json_of(
        app.get(&format!("/api/deployments/{id}"), &app.admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(waiting["status"], "PENDING", "{waiting:#}");
    json_of(
        app.post(
            &format!("/api/resources/{resource}/approve"),
            &app.admin.token,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let started = Instant::now();
    loop {
        let r = json_of(
            app.get(&format!("/api/resources/{resource}"), &app.admin.token)
                .await,
            StatusCode::OK,
        )
        .await;
        match r["status"].as_str().unwrap() {
            "ready" => break,
            "failed" => panic!("the recipe failed: {r:#}"),
            _ => {}
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{r:#}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let secret = json_of(
        app.post(
            &format!("/api/resources/{resource}/reveal"),
            &app.admin.token,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let url = secret["connection"].as_str().unwrap();
    let password = secret["secret"].as_str().unwrap();
    let written = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            url,
            "-c",
            "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('written with psql')",
        ])
        .output()
        .unwrap();
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );

    running_app(&app, &id, "notes: written with psql").await;
    let log = log_text(&app, &id).await;
    assert!(!log.contains(password), "{log}");

    let bound = common::assert_problem(
        app.post(
            &format!("/api/resources/{resource}/delete"),
            &app.admin.token,
            json!({"confirm": "notes"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        bound["detail"],
        "notes is bound to the deployment notes: delete it first"
    );
    delete_deployment(&app, &id, &app.admin.token).await;

    // Bound while asked for, then rejected: the waiting deployment fails with the reason.
    let refused = json_of(
        app.post(
            "/api/resources",
            &app.admin.token,
            json!({"team_id": team, "resource_type": "db-postgresql", "name": "spare",
                   "server_id": server, "purpose": "a second database"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let waiting = json_of(
        app.post(
            "/api/deploy",
            &app.admin.token,
            json!({"name": "spare", "project_id": project, "server_id": server,
                   "framework": "flask", "resources": [refused]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    json_of(
        app.post(
            &format!("/api/resources/{refused}/reject"),
            &app.admin.token,
            json!({"reason": "one database is enough"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let started = Instant::now();
    let failed = loop {
        let d = json_of(
            app.get(&format!("/api/deployments/{waiting}"), &app.admin.token)
                .await,
            StatusCode::OK,
        )
        .await;
        if d["status"] == "FAILED" {
            break d;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{d:#}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("spare is rejected: one database is enough"),
        "{failed:#}"
    );
    assert!(!log_text(&app, &waiting).await.contains("fetching"));
}

/// Runs `f` when dropped, whatever the test's outcome.
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}
