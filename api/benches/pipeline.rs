//! The provisioning pipeline's own overhead per server: N approved requests provisioned against
//! an in-process Hetzner-shaped endpoint that answers at once (no provider latency, SSH wait
//! off), so what is measured is Provisio's work — job claims, transitions, inventory rows, log
//! lines, notifications and its HTTP client. Prints ms/server with 1 and 4 workers and the ratio.
//! `PROVISIO_BENCH_PG_URL` adds a PostgreSQL run. Run: `cargo bench -p api --bench pipeline`.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use api::config::Config;
use api::keys::Keys;
use api::server::startup::{build_state, prepare_database};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

const SERVERS: usize = 60;

/// Just enough of the Hetzner API: create answers with a finished action; servers are listed
/// by label and read back running with an address.
async fn fake_hetzner() -> String {
    let next = Arc::new(AtomicI64::new(1));
    let servers: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let server = HttpServer::new(move || {
        let next = next.clone();
        let servers = servers.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let next = next.clone();
            let servers = servers.clone();
            async move {
                let path = req.path().to_owned();
                if req.method() == "POST" && path == "/v1/servers" {
                    let b: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                    let id = next.fetch_add(1, Ordering::SeqCst);
                    let s = json!({"id": id, "name": b["name"], "status": "running", "labels": b["labels"],
                        "public_net": {"ipv4": {"ip": format!("10.0.{}.{}", id / 250, id % 250 + 1)}, "ipv6": null},
                        "server_type": {"name": b["server_type"], "cores": 2, "memory": 4.0, "disk": 40},
                        "datacenter": {"location": {"name": "fsn1"}}, "image": {"name": b["image"]}});
                    servers.lock().unwrap().push(s.clone());
                    return HttpResponse::Created().json(json!({"server": s, "action": {"id": id, "status": "success", "progress": 100}, "next_actions": []}));
                }
                if path == "/v1/servers" {
                    let selector = req.query_string().split('&').find_map(|p| p.strip_prefix("label_selector=")).map(|s| s.replace("%3D%3D", "=="));
                    let all = servers.lock().unwrap().clone();
                    let found: Vec<_> = all
                        .into_iter()
                        .filter(|s| match &selector {
                            Some(sel) => sel.split_once("==").is_some_and(|(k, v)| s["labels"][k] == v),
                            None => true,
                        })
                        .collect();
                    return HttpResponse::Ok().json(json!({"servers": found, "meta": {"pagination": {"next_page": null}}}));
                }
                if let Some(id) = path.strip_prefix("/v1/actions/") {
                    return HttpResponse::Ok().json(json!({"action": {"id": id.parse::<i64>().unwrap_or(0), "command": "create_server", "status": "success", "progress": 100}}));
                }
                if let Some(id) = path.strip_prefix("/v1/servers/") {
                    let all = servers.lock().unwrap().clone();
                    return match all.into_iter().find(|s| s["id"].as_i64().map(|n| n.to_string()).as_deref() == Some(id)) {
                        Some(s) => HttpResponse::Ok().json(json!({"server": s})),
                        None => HttpResponse::NotFound().json(json!({"error": {"code": "not_found", "message": "no"}})),
                    };
                }
                HttpResponse::Ok().json(json!({"ssh_keys": [], "meta": {"pagination": {"next_page": null}}}))
            }
        }))
    })
    .workers(2)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    format!("http://127.0.0.1:{port}/v1")
}

async fn run(label: &str, database_url: String, endpoint: &str, workers: usize) -> f64 {
    let scratch = std::env::temp_dir().join(format!("provisio-bench-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut config = Config::from_env().unwrap();
    config.database_url = database_url;
    config.key_file = scratch.join("k");
    config.jobs.poll = Duration::from_millis(20);
    config.jobs.retry_base = Duration::from_millis(50);
    config.providers.poll_interval = Duration::from_millis(10);
    let keys = Keys::load_or_create(&config.key_file).unwrap();
    let db = prepare_database(&config).await.unwrap();
    if config.database_url.starts_with("postgres") {
        use migrations::MigratorTrait;
        migrations::Migrator::fresh(&db).await.unwrap();
        api::domain::seed::seed_baseline(&db).await.unwrap();
    }
    let state = build_state(config, db.clone(), keys);
    let team = api::domain::teams::global_team(&db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let context = api::auth::RequestContext {
        ip: std::net::IpAddr::from([127, 0, 0, 1]),
        request_id: None,
    };
    let user = api::domain::users::create(
        &db,
        &context,
        None,
        shared::dto::CreateUser {
            username: format!("bench{}", &Uuid::new_v4().simple().to_string()[..8]),
            email: format!("{}@example.com", Uuid::new_v4().simple()),
            full_name: "Bench".into(),
            password: "bench-password-123".into(),
            roles: vec![shared::Role::Requester],
            team_ids: vec![],
        },
        api::domain::users::Admission::READY,
    )
    .await
    .unwrap();
    let account = Uuid::new_v4();
    let now = chrono::Utc::now();
    let credentials = api::domain::providers::seal_credentials(
        &state.keys,
        &shared::providers::ProviderCredentials {
            api_token: Some("bench-token".into()),
            private_key: None,
        },
    )
    .unwrap();
    api::entities::provider_accounts::ActiveModel {
        id: Set(account),
        name: Set(format!("bench {account}")),
        kind: Set("hetzner".into()),
        endpoint: Set(endpoint.to_owned()),
        catalog: Set(json!({"currency": "EUR", "locations": ["fsn1"], "images": ["debian-12"], "server_types": []})),
        settings: Set(Some(json!({"wait_for_ssh": false}))),
        credentials: Set(Some(credentials)),
        created_at: Set(now),
        updated_at: Set(now),
        last_tested_at: Set(None),
        last_test_ok: Set(None),
    }
    .insert(&db)
    .await
    .unwrap();
    let tag = &Uuid::new_v4().simple().to_string()[..6];
    for i in 0..SERVERS {
        let id = Uuid::new_v4();
        api::entities::server_requests::ActiveModel {
            id: Set(id),
            requester_id: Set(user.id),
            team_id: Set(team),
            provider_account_id: Set(account),
            hostname: Set(format!("bench-{tag}-{i}")),
            location: Set("fsn1".into()),
            server_type: Set(Some("cx22".into())),
            cpu: Set(2),
            ram_mb: Set(4096),
            disk_gb: Set(40),
            image: Set("debian-12".into()),
            purpose: Set("bench".into()),
            ssh_public_keys: Set(json!([])),
            notes: Set(String::new()),
            status: Set("approved".into()),
            estimated_monthly_cents: Set(None),
            currency: Set(None),
            rejection_reason: Set(None),
            policy_step: Set(0),
            failure_reason: Set(None),
            subscription_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&db)
        .await
        .unwrap();
        api::domain::jobs::enqueue(
            &db,
            api::domain::jobs::JobKind::Provision,
            &api::domain::jobs::provision_key(id),
            json!({"request_id": id}),
        )
        .await
        .unwrap();
    }
    let started = Instant::now();
    let stop = api::jobs::spawn_workers(&state, workers);
    loop {
        let done = api::entities::server_requests::Entity::find()
            .filter(api::entities::server_requests::Column::ProviderAccountId.eq(account))
            .filter(api::entities::server_requests::Column::Status.is_in(["deployed", "failed"]))
            .count(&db)
            .await
            .unwrap();
        if done as usize == SERVERS {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let stuck: Vec<(String, String)> = api::entities::jobs::Entity::find()
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .filter(|j| j.status != "succeeded")
                .map(|j| (j.status, j.last_error.unwrap_or_default()))
                .take(3)
                .collect();
            panic!("{label}: only {done} of {SERVERS} finished; jobs: {stuck:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let _ = stop.send(true);
    // Let this run's workers finish their loop before the next run starts its own.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let failed = api::entities::server_requests::Entity::find()
        .filter(api::entities::server_requests::Column::ProviderAccountId.eq(account))
        .filter(api::entities::server_requests::Column::Status.eq("failed"))
        .count(&db)
        .await
        .unwrap();
    if failed > 0 {
        let reasons: Vec<Option<String>> = api::entities::server_requests::Entity::find()
            .filter(api::entities::server_requests::Column::ProviderAccountId.eq(account))
            .filter(api::entities::server_requests::Column::Status.eq("failed"))
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.failure_reason)
            .take(3)
            .collect();
        panic!("{label}: {failed} of {SERVERS} failed: {reasons:?}");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = std::fs::remove_dir_all(scratch);
    elapsed.as_secs_f64() * 1000.0 / SERVERS as f64
}

#[actix_web::main]
async fn main() {
    let endpoint = fake_hetzner().await;
    let mut targets = vec![];
    if let Some(pg) = std::env::var("PROVISIO_BENCH_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        targets.push(("PostgreSQL", pg));
    }
    let dir = std::env::temp_dir().join(format!("provisio-bench-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    targets.push((
        "SQLite",
        format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
    ));
    for (label, url) in targets {
        let one = run(label, url.clone(), &endpoint, 1).await;
        let four = run(label, url, &endpoint, 4).await;
        println!(
            "{label}: {SERVERS} servers — 1 worker {one:.1} ms/server, 4 workers {four:.1} ms/server, speed-up {:.2}x",
            one / four
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}
