//! Notification delivery through the outside channels: signed webhooks and SMTP e-mail,
//! every attempt recorded, failures retried with backoff until they give up.

mod common;

use common::{spawn_app, spawn_app_with, Options, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A webhook receiver on a free port that answers `status` and records what it got.
async fn receiver(status: u16) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let sink = sink.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                let mut headers = Vec::new();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end().to_owned();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(": ") {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.parse().unwrap_or(0);
                        }
                        headers.push((k.to_lowercase(), v.to_owned()));
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).await.unwrap();
                sink.lock().unwrap().push(Received { headers, body });
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = reader.into_inner().write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

async fn add_webhook(app: &TestApp, url: &str) -> String {
    let res = app
        .post(
            "/api/webhooks",
            &app.admin.token,
            json!({"name": "ops", "url": url, "secret": "a-very-secret-hmac-key"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert!(body.get("secret").is_none(), "the secret is write-only");
    body["id"].as_str().unwrap().to_owned()
}

/// Every delivery, newest first, as the administrator sees them.
async fn deliveries_of(app: &TestApp) -> Value {
    app.get("/api/notification-deliveries", &app.admin.token)
        .await
        .json()
        .await
        .unwrap()
}

/// Files a server request, which notifies the administrator (the harness account `root`).
async fn trigger_notification(app: &TestApp) {
    let team = app.create_team("Hooks").await;
    let user = app
        .user_with(
            "hank",
            &[shared::Role::Requester],
            std::slice::from_ref(&team),
        )
        .await;
    let provider: Value = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            common::hetzner_body("Provider P"),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .post(
            "/api/requests",
            &user.token,
            json!({"hostname": "hook-1", "team_id": team, "provider_account_id": provider["id"], "location": "abilian", "server_type": "medium", "image": "debian-12", "purpose": "webhook test"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn webhooks_receive_hmac_signed_notifications_and_the_secret_is_encrypted_at_rest() {
    let app = spawn_app().await;
    let (url, seen) = receiver(200).await;
    add_webhook(&app, &url).await;
    trigger_notification(&app).await;
    let attempted = api::domain::notify::deliver_due(&app.state).await.unwrap();
    assert_eq!(attempted, 1);
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let signature = got[0]
        .headers
        .iter()
        .find(|(k, _)| k == "x-provisio-signature")
        .unwrap()
        .1
        .clone();
    assert_eq!(
        signature,
        api::domain::notify::signature("a-very-secret-hmac-key", &got[0].body)
    );
    let payload: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(payload["title"], "New server request: hook-1");
    assert_eq!(payload["recipient"], "root");
    assert!(payload["url"]
        .as_str()
        .unwrap()
        .starts_with("http://provisio.test/requests/"));

    let deliveries = deliveries_of(&app).await;
    assert_eq!(deliveries[0]["status"], "delivered");
    assert_eq!(deliveries[0]["attempts"], 1);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM webhooks WHERE secret LIKE '%a-very-secret%'")
            .await,
        0
    );
    assert_eq!(
        api::domain::notify::deliver_due(&app.state).await.unwrap(),
        0,
        "delivered once only"
    );
}

#[tokio::test]
async fn failing_webhooks_are_retried_with_the_error_recorded_then_given_up() {
    let app = spawn_app().await;
    let (url, seen) = receiver(503).await;
    add_webhook(&app, &url).await;
    trigger_notification(&app).await;
    api::domain::notify::deliver_due(&app.state).await.unwrap();
    let deliveries = deliveries_of(&app).await;
    assert_eq!(deliveries[0]["status"], "retrying");
    assert_eq!(deliveries[0]["attempts"], 1);
    assert!(deliveries[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("503"));
    for _ in 0..10 {
        api::domain::notify::deliver_due(&app.state).await.unwrap();
    }
    let deliveries = deliveries_of(&app).await;
    assert_eq!(deliveries[0]["status"], "failed");
    assert_eq!(deliveries[0]["attempts"], api::domain::notify::MAX_ATTEMPTS);
    assert_eq!(
        seen.lock().unwrap().len(),
        api::domain::notify::MAX_ATTEMPTS as usize
    );
}

#[tokio::test]
async fn e_mail_notifications_go_out_over_smtp() {
    let scratch = common::Scratch::new("mail");
    let Some(mail) = common::mail::MailServer::start(scratch.path()).await else {
        return;
    };
    let app = spawn_app_with(Options {
        smtp_url: Some(mail.url.clone()),
        ..Options::default()
    })
    .await;
    trigger_notification(&app).await;
    assert_eq!(
        api::domain::notify::deliver_due(&app.state).await.unwrap(),
        1
    );
    let got = mail.messages();
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("To: root@example.com"), "{}", got[0]);
    assert!(got[0].contains("Subject: [Provisio] New server request: hook-1"));
    assert!(got[0].contains("http://provisio.test/requests/"));
    let deliveries = deliveries_of(&app).await;
    assert_eq!(deliveries[0]["channel"], "email");
    assert_eq!(deliveries[0]["status"], "delivered");
}

/// Administrators see the e-mail channel and the limits in effect; the SMTP URL's credentials
/// never leave the server.
#[tokio::test]
async fn the_settings_show_the_mail_server_without_its_password() {
    let app = spawn_app_with(Options {
        smtp_url: Some("smtps://mailer:hunter2-secret@mail.example.com:465".into()),
        ..Options::default()
    })
    .await;
    let answer = app.get("/api/settings", &app.admin.token).await;
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["email"]["smtp_server"], "mail.example.com:465");
    assert!(!body.to_string().contains("hunter2"), "{body}");
    assert!(body["sign_in"]["account_failures"].as_u64().unwrap() > 0);
    assert!(body["network"]["allowlist"].is_array());
    // Where user code runs: the sandbox the tests run under (bubblewrap, installed by setup.sh).
    assert_eq!(
        body["sandbox"]["program"].as_str().is_some(),
        app.state.config.sandbox.is_some(),
        "{body}"
    );
    assert_eq!(
        body["sandbox"]["installed"],
        app.state.config.sandbox.is_some(),
        "{body}"
    );
    let plain = spawn_app_with(Options::default()).await;
    let body: serde_json::Value = plain
        .get("/api/settings", &plain.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["email"]["smtp_server"], serde_json::Value::Null);
}

/// A webhook is a URL typed by an administrator that the server then POSTs to: under the default
/// policy it may not point at loopback, the LAN or a metadata service, neither when it is saved
/// nor when a delivery goes out (the policy may have changed since it was saved, or the name may
/// resolve elsewhere by then).
#[tokio::test]
async fn webhooks_to_private_networks_are_refused_on_save_and_before_sending() {
    use sea_orm::{ActiveModelTrait, Set};
    let app = spawn_app_with(Options {
        network: api::exec::network_policy::NetworkPolicy::default(),
        ..Options::default()
    })
    .await;
    let (url, seen) = receiver(204).await;
    let port = url.rsplit(':').next().unwrap().split('/').next().unwrap();
    let named = format!("http://localhost:{port}/hook");
    for refused in [
        url.as_str(),
        named.as_str(),
        "http://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "http://10.1.2.3:8080/hook",
    ] {
        let res = app
            .post(
                "/api/webhooks",
                &app.admin.token,
                json!({"name": "inside", "url": refused, "secret": "a-very-secret-hmac-key"}),
            )
            .await;
        let body = common::assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        let message = body["errors"]["url"][0].as_str().unwrap_or_default();
        assert!(
            message.contains("PROVISIO_WEBHOOK_PRIVATE_NETWORKS"),
            "{refused}: {body}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM webhooks").await, 0);

    // Rows saved before the policy applied to them: a literal address and a name.
    for target in [url.as_str(), named.as_str()] {
        api::entities::webhooks::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            name: Set(format!("old {target}")),
            url: Set(target.to_owned()),
            secret: Set(api::crypto::seal(&app.keys.master_key, "a-very-secret-hmac-key").unwrap()),
            active: Set(true),
            created_at: Set(chrono::Utc::now()),
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
    trigger_notification(&app).await;
    assert_eq!(
        api::domain::notify::deliver_due(&app.state).await.unwrap(),
        2
    );
    let deliveries = deliveries_of(&app).await;
    let webhook_deliveries: Vec<&Value> = deliveries
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["channel"] == "webhook")
        .collect();
    assert_eq!(webhook_deliveries.len(), 2, "{deliveries:#}");
    for delivery in webhook_deliveries {
        assert_eq!(delivery["status"], "retrying", "{delivery:#}");
        assert!(
            delivery["last_error"]
                .as_str()
                .unwrap()
                .contains("PROVISIO_WEBHOOK_PRIVATE_NETWORKS"),
            "{delivery:#}"
        );
    }
    assert!(seen.lock().unwrap().is_empty(), "the receiver was reached");
}
