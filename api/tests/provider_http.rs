//! The provider REST client's retry rules, against a scripted HTTP server: 429 waits for
//! Retry-After, 5xx on reads is retried with back-off, writes are not repeated after a 5xx,
//! 401 is final.

use actix_web::{web, App, HttpResponse, HttpServer};
use api::providers::http::{Body, RestClient};
use api::providers::{ProviderError, Tuning};
use reqwest::Method;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Serves `script[n]` (status, Retry-After) for the n-th call, then 200 `{"ok":true}`.
async fn scripted(script: Vec<(u16, Option<u64>)>) -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let script = Arc::new(script);
    let server = HttpServer::new(move || {
        let counter = counter.clone();
        let script = script.clone();
        App::new().default_service(web::to(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let step = script.get(n).copied();
            async move {
                match step {
                    Some((status, retry)) => {
                        let mut res = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
                        if let Some(secs) = retry {
                            res.insert_header(("Retry-After", secs.to_string()));
                        }
                        res.json(serde_json::json!({"error": {"code": "scripted", "message": format!("scripted {status}")}}))
                    }
                    None => HttpResponse::Ok().json(serde_json::json!({"ok": true})),
                }
            }
        }))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}/v1"), calls)
}

fn client(base: &str) -> RestClient {
    let tuning = Tuning {
        max_retries: 4,
        retry_base: Duration::from_millis(20),
        ..Tuning::default()
    };
    RestClient::new(
        reqwest::Client::new(),
        base,
        "Authorization",
        "Bearer t".into(),
        &tuning,
    )
}

#[actix_web::test]
async fn rate_limits_wait_for_retry_after_and_server_errors_are_retried() {
    let (base, calls) = scripted(vec![(429, Some(1)), (503, None), (502, None)]).await;
    let started = Instant::now();
    let v = client(&base).get(&["servers"], &[]).await.unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
}

#[actix_web::test]
async fn a_write_is_not_repeated_after_a_server_error_but_is_after_a_rate_limit() {
    let (base, calls) = scripted(vec![(500, None)]).await;
    let err = client(&base)
        .send(
            Method::POST,
            &["servers"],
            &[],
            Body::Json(serde_json::json!({})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProviderError::Unavailable(ref m) if m.contains("scripted 500")),
        "{err}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let (base, calls) = scripted(vec![(429, Some(0))]).await;
    client(&base)
        .send(
            Method::POST,
            &["servers"],
            &[],
            Body::Json(serde_json::json!({})),
        )
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[actix_web::test]
async fn bad_credentials_are_final() {
    let (base, calls) = scripted(vec![(401, None), (401, None)]).await;
    let err = client(&base).get(&["servers"], &[]).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unauthorized(_)), "{err}");
    assert!(!err.is_transient());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[actix_web::test]
async fn persistent_outages_give_up_after_the_retry_budget() {
    let (base, calls) = scripted(vec![(503, None); 10]).await;
    let err = client(&base).get(&["servers"], &[]).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 5, "one call and four retries");
}

/// Records what the Hetzner adapter sends for snapshot and backups, and answers like Hetzner.
#[actix_web::test]
async fn hetzner_snapshot_and_backups_send_the_documented_actions() {
    use api::providers::{build, AccountConfig};
    use std::sync::Mutex;
    let seen: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let log = seen.clone();
    let server = HttpServer::new(move || {
        let log = log.clone();
        App::new().default_service(web::to(move |req: actix_web::HttpRequest, body: web::Bytes| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push((
                    req.method().to_string(),
                    req.path().to_owned(),
                    String::from_utf8_lossy(&body).into_owned(),
                ));
                if req.path().starts_with("/v1/actions/") {
                    HttpResponse::Ok().json(serde_json::json!({"action": {"id": 7, "command": "x", "status": "success", "progress": 100}}))
                } else {
                    HttpResponse::Created().json(serde_json::json!({"action": {"id": 7, "command": "x", "status": "running", "progress": 0}}))
                }
            }
        }))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    let provider = build(
        AccountConfig {
            kind: shared::providers::ProviderKind::Hetzner,
            endpoint: format!("http://127.0.0.1:{port}/v1"),
            settings: Default::default(),
            credentials: shared::providers::ProviderCredentials {
                api_token: Some("t0ken".into()),
                private_key: None,
            },
        },
        &Tuning {
            poll_interval: Duration::from_millis(10),
            ..Tuning::default()
        },
    )
    .unwrap();
    let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
    let sink = api::exec::log::LogSink::new(db, uuid::Uuid::new_v4(), vec![]);
    provider
        .snapshot("42", "before upgrade", &sink)
        .await
        .unwrap();
    provider.enable_backups("42", &sink).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0].0, "POST");
    assert_eq!(seen[0].1, "/v1/servers/42/actions/create_image");
    let body: serde_json::Value = serde_json::from_str(&seen[0].2).unwrap();
    assert_eq!(body["type"], "snapshot");
    assert_eq!(body["description"], "before upgrade");
    assert_eq!(
        seen[1].1, "/v1/actions/7",
        "the action is followed to its end"
    );
    assert_eq!(seen[2].1, "/v1/servers/42/actions/enable_backup");
}

#[actix_web::test]
async fn a_plain_500_is_an_answer_not_an_outage() {
    let (base, calls) = scripted(vec![(500, None), (500, None)]).await;
    let err = client(&base)
        .get(&["nodes", "pve1", "qemu", "101", "status", "current"], &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProviderError::Unavailable(ref m) if m.contains("scripted 500")),
        "{err}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "not repeated");
}
