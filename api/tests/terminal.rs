//! Project terminals over a real WebSocket: programs from the allowlist run in a PTY in the
//! checkout (resize, input, Ctrl-C), anything else is refused and audited, idle sessions close.

mod common;

use common::{assert_problem, git, spawn_app_with, Options, TestApp};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::Role;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A team's project cloned over SSH; returns (team, project id).
async fn project(app: &TestApp, port: u16, key: &str) -> (String, String) {
    let root =
        std::env::temp_dir().join(format!("provisio-term-{}", uuid::Uuid::new_v4().simple()));
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&root, &["init", "-q", "--bare", "-b", "main", "app.git"]);
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(work.join("README.md"), "terminal test\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "first words"]);
    git(
        &work,
        &["push", "-q", root.join("app.git").to_str().unwrap(), "main"],
    );
    let team = app.create_team("Term").await;
    let url = format!(
        "ssh://root@127.0.0.1:{port}{}",
        root.join("app.git").display()
    );
    let res = app
        .post(
            "/api/projects",
            &app.admin.token,
            json!({"name": "term", "url": url, "team_id": team, "deploy_key": key}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["project"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = Instant::now();
    loop {
        let detail: Value = app
            .get(&format!("/api/projects/{id}"), &app.admin.token)
            .await
            .json()
            .await
            .unwrap();
        if detail["project"]["status"] == "ready" {
            return (team, id);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never cloned: {detail:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn connect(app: &TestApp, project: &str, token: &str) -> Result<Socket, u16> {
    let path = format!("/api/projects/{project}/terminal");
    let path = if token.is_empty() {
        path
    } else {
        app.ticketed(&path, token).await
    };
    let url = format!("{}{path}", app.address.replacen("http", "ws", 1));
    match tokio_tungstenite::connect_async(url).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(e) => panic!("{e}"),
    }
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// Reads messages until one of type `until` arrives; returns it and the output text before it.
async fn read_until(socket: &mut Socket, until: &str) -> (Value, String) {
    let mut output = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .unwrap_or_else(|_| panic!("no {until} message; output so far: {output:?}"))
            .expect("the socket closed")
            .unwrap();
        let Message::Text(text) = message else {
            continue;
        };
        let value: Value = serde_json::from_str(&text).unwrap();
        if value["type"] == until {
            return (value, output);
        }
        if value["type"] == "output" {
            output.push_str(value["data"].as_str().unwrap());
        }
        assert_ne!(value["type"], "closed", "closed early: {value}");
    }
}

#[tokio::test]
async fn a_terminal_runs_only_allowed_programs_in_the_checkout_and_audits_them() {
    let Some((port, key)) = common::ssh_test_host() else {
        return;
    };
    let mut options = Options {
        workers: 1,
        ..Options::default()
    };
    options.jobs.lease = Duration::from_secs(5);
    let app = spawn_app_with(options).await;
    let (team, id) = project(&app, port, &key).await;

    // Administrators set the allowlist; a technical agent may read it, not change it.
    let agent = app
        .user_with(
            "agent",
            &[Role::TechnicalAgent],
            std::slice::from_ref(&team),
        )
        .await;
    let settings = json!({"allowed_commands": ["git", "cat", "stty"], "idle_timeout_secs": 3});
    assert_problem(
        app.put("/api/terminal/settings", &agent.token, settings.clone())
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let bad = assert_problem(
        app.put(
            "/api/terminal/settings",
            &app.admin.token,
            json!({"allowed_commands": ["/bin/sh"], "idle_timeout_secs": 3}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(bad["errors"]["allowed_commands"].is_array());
    assert_eq!(
        app.put("/api/terminal/settings", &app.admin.token, settings.clone())
            .await
            .status(),
        StatusCode::OK
    );
    let read: Value = app
        .get("/api/terminal/settings", &agent.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, settings);

    let mut socket = connect(&app, &id, &agent.token)
        .await
        .expect("the agent may open a terminal");
    let (ready, _) = read_until(&mut socket, "ready").await;
    assert_eq!(ready["allowed_commands"], json!(["git", "cat", "stty"]));

    // A PTY of the size the browser asked for.
    send(
        &mut socket,
        json!({"type": "resize", "cols": 100, "rows": 40}),
    )
    .await;
    send(
        &mut socket,
        json!({"type": "run", "argv": ["stty", "size"]}),
    )
    .await;
    let (exit, output) = read_until(&mut socket, "exit").await;
    assert_eq!(exit["code"], 0);
    assert!(output.contains("40 100"), "{output:?}");

    // In the checkout.
    send(
        &mut socket,
        json!({"type": "run", "argv": ["git", "log", "--format=%s", "-1"]}),
    )
    .await;
    let (exit, output) = read_until(&mut socket, "exit").await;
    assert_eq!(exit["code"], 0);
    assert!(output.contains("first words"), "{output:?}");

    // Programs run in the sandbox: a pager set on the command line runs too, but the key file
    // is not there for it to read; other projects' checkouts are not either.
    let key_file = app.state.config.key_file.clone();
    let key = std::fs::read_to_string(&key_file).unwrap_or_default();
    send(
        &mut socket,
        json!({"type": "run", "argv": [
            "git", "-c", format!("core.pager=cat {}", key_file.display()), "-p", "log", "--format=%s", "-1"
        ]}),
    )
    .await;
    let (_, output) = read_until(&mut socket, "exit").await;
    assert!(
        output.contains(&format!(
            "{}: No such file or directory",
            key_file.display()
        )),
        "{output:?}"
    );
    assert!(
        key.trim().is_empty() || !output.contains(key.trim()),
        "{output:?}"
    );
    send(
        &mut socket,
        json!({"type": "run", "argv": ["cat", app.state.config.projects_dir.join("known_hosts").display().to_string()]}),
    )
    .await;
    let (exit, _) = read_until(&mut socket, "exit").await;
    assert_eq!(exit["code"], 0, "the known hosts are readable");
    let neighbour = app.state.config.projects_dir.join("another-project");
    std::fs::create_dir_all(&neighbour).unwrap();
    std::fs::write(neighbour.join("README"), "another team's code").unwrap();
    send(
        &mut socket,
        json!({"type": "run", "argv": ["cat", neighbour.join("README").display().to_string()]}),
    )
    .await;
    let (exit, output) = read_until(&mut socket, "exit").await;
    assert_ne!(exit["code"], 0, "{output:?}");
    assert!(output.contains("No such file or directory"), "{output:?}");

    // Not on the list: refused, nothing runs; shell syntax is just text.
    let marker =
        std::env::temp_dir().join(format!("provisio-term-{}", uuid::Uuid::new_v4().simple()));
    send(
        &mut socket,
        json!({"type": "run", "argv": ["sh", "-c", format!("touch {}", marker.display())]}),
    )
    .await;
    let (error, _) = read_until(&mut socket, "error").await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("sh is not allowed"),
        "{error}"
    );
    send(
        &mut socket,
        json!({"type": "run", "argv": ["/usr/bin/git", "status"]}),
    )
    .await;
    read_until(&mut socket, "error").await;
    send(
        &mut socket,
        json!({"type": "run", "argv": ["git", "log", ";", "touch", marker.display().to_string()]}),
    )
    .await;
    read_until(&mut socket, "exit").await;
    assert!(!marker.exists(), "a refused command ran");

    // Interactive: input reaches the program, Ctrl-C stops it.
    send(&mut socket, json!({"type": "run", "argv": ["cat"]})).await;
    read_until(&mut socket, "started").await;
    send(
        &mut socket,
        json!({"type": "run", "argv": ["git", "status"]}),
    )
    .await;
    let (busy, _) = read_until(&mut socket, "error").await;
    assert!(busy["message"].as_str().unwrap().contains("still running"));
    send(
        &mut socket,
        json!({"type": "input", "data": "hello terminal\n"}),
    )
    .await;
    let started = Instant::now();
    let mut seen = String::new();
    while !seen.contains("hello terminal") {
        assert!(started.elapsed() < Duration::from_secs(10), "{seen:?}");
        let (out, _) = read_until(&mut socket, "output").await;
        seen.push_str(out["data"].as_str().unwrap());
    }
    send(&mut socket, json!({"type": "interrupt"})).await;
    let (exit, _) = read_until(&mut socket, "exit").await;
    assert!(exit["code"] != 0 || exit["signal"].is_string(), "{exit}");

    // Left alone, the session closes.
    let (closed, _) = read_until(&mut socket, "closed").await;
    assert!(
        closed["reason"].as_str().unwrap().contains("idle"),
        "{closed}"
    );

    let audit: Value = app
        .get("/api/audit?per_page=100", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    let rows: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            let action = e["action"].as_str().unwrap_or("");
            action.starts_with("terminal.") && action != "terminal.settings"
        })
        .collect();
    let count = |action: &str| rows.iter().filter(|e| e["action"] == action).count();
    assert_eq!(count("terminal.open"), 1);
    assert_eq!(count("terminal.run"), 7, "{rows:#?}");
    assert_eq!(count("terminal.refused"), 2);
    assert_eq!(count("terminal.exit"), 7);
    assert!(
        rows.iter().all(|e| e["actor"]["id"] == agent.id.as_str()),
        "{rows:#?}"
    );
    assert!(audit.to_string().contains("\"stty\""));

    // Other teams, other roles, no token.
    let outsider = app
        .user_with(
            "outsider",
            &[Role::TechnicalAgent],
            &[app.create_team("Elsewhere").await],
        )
        .await;
    assert_eq!(connect(&app, &id, &outsider.token).await.err(), Some(404));
    let requester = app
        .user_with("req", &[Role::Requester], std::slice::from_ref(&team))
        .await;
    assert_eq!(connect(&app, &id, &requester.token).await.err(), Some(403));
    assert_eq!(connect(&app, &id, "").await.err(), Some(401));
}

/// Terminal programs have no network of their own: git over ssh and tunnels through the proxy
/// go where the network policy lets Git go, a direct connection goes nowhere, and the database's
/// port is refused whatever the allowlist says.
#[tokio::test]
async fn terminal_programs_reach_the_network_only_through_the_policy() {
    let Some((port, key)) = common::ssh_test_host() else {
        return;
    };
    let app = spawn_app_with(Options {
        workers: 1,
        ..Options::default()
    })
    .await;
    assert!(
        app.state.config.sandbox.is_some(),
        "this test needs the sandbox (PROVISIO_SANDBOX is off)"
    );
    let (_, id) = project(&app, port, &key).await;
    let settings = json!({"allowed_commands": ["git", "curl"], "idle_timeout_secs": 30});
    let res = app
        .put("/api/terminal/settings", &app.admin.token, settings)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut socket = connect(&app, &id, &app.admin.token).await.unwrap();
    read_until(&mut socket, "ready").await;

    // git over ssh, through the proxy, to the test host (loopback is allowlisted in tests).
    send(
        &mut socket,
        json!({"type": "run", "argv": ["git", "fetch", "origin"]}),
    )
    .await;
    let (exit, output) = read_until(&mut socket, "exit").await;
    assert_eq!(exit["code"], 0, "{output:?}");

    // A service of this host's answering plain HTTP: reached through a tunnel the policy allows,
    // never directly.
    let service = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let service_port = service.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut stream, _)) = service.accept().await {
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
            let _ = stream
                .write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 14\r\n\r\nfrom the host\n")
                .await;
        }
    });
    let url = format!("http://127.0.0.1:{service_port}/");
    send(
        &mut socket,
        json!({"type": "run", "argv": ["curl", "-sS", "--max-time", "10", "--proxytunnel", &url]}),
    )
    .await;
    let (exit, output) = read_until(&mut socket, "exit").await;
    assert_eq!(exit["code"], 0, "{output:?}");
    assert!(output.contains("from the host"), "{output:?}");
    send(
        &mut socket,
        json!({"type": "run", "argv": ["curl", "-sS", "--max-time", "10", "--noproxy", "*", &url]}),
    )
    .await;
    let (exit, output) = read_until(&mut socket, "exit").await;
    assert_eq!(exit["code"], 7, "curl: could not connect: {output:?}");
    // Plain HTTP through the proxy is not forwarded either.
    send(
        &mut socket,
        json!({"type": "run", "argv": ["curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", &url]}),
    )
    .await;
    let (_, output) = read_until(&mut socket, "exit").await;
    assert!(output.contains("405"), "{output:?}");

    // The database's port, on PostgreSQL (SQLite is a file the sandbox does not hold).
    let database = reqwest::Url::parse(&app.state.config.database_url).unwrap();
    if database.scheme().starts_with("postgres") {
        let url = format!(
            "http://{}:{}/",
            database.host_str().unwrap(),
            database.port().unwrap_or(5432)
        );
        send(
            &mut socket,
            json!({"type": "run", "argv": ["curl", "-sS", "--max-time", "10", "--proxytunnel", &url]}),
        )
        .await;
        let (exit, output) = read_until(&mut socket, "exit").await;
        assert_ne!(exit["code"], 0, "{output:?}");
        assert!(output.contains("403"), "{output:?}");
    }
}
