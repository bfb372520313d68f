mod common;

use common::{assert_problem, insert_deployment, provider_body, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The signed-out landing page's data: the framework presets for anyone; the platform's figures
/// only once an administrator shows them (and only administrators may), every change audited.
#[tokio::test]
async fn the_landing_page_shows_frameworks_to_anyone_and_figures_only_when_an_admin_says_so() {
    let app = spawn_app().await;
    let provider = app
        .post(
            "/api/provider-accounts",
            &app.admin.token,
            provider_body("Landing"),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let team = app.create_team("Landing").await;
    insert_deployment(&app, &team, &provider, 1).await;
    let anonymous = || app.request(Method::GET, "/api/landing", None, None);

    let landing: Value = anonymous().await.json().await.unwrap();
    let names: Vec<&str> = landing["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Flask") && names.contains(&"Next.js"),
        "{names:?}"
    );
    assert_eq!(landing["statistics"], Value::Null, "hidden by default");

    let agent = app
        .user_with("landing-tech", &[shared::Role::TechnicalAgent], &[team])
        .await;
    let on = json!({"show_statistics": true});
    assert_problem(
        app.put("/api/landing/settings", &agent.token, on.clone())
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_problem(
        app.put(
            "/api/landing/settings",
            &app.admin.token,
            json!({"show_stats": true}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let res = app.put("/api/landing/settings", &app.admin.token, on).await;
    assert_eq!(res.status(), StatusCode::OK);

    let landing: Value = anonymous().await.json().await.unwrap();
    assert_eq!(landing["statistics"]["total"], 1, "{landing:#}");
    assert_eq!(landing["statistics"]["running"], 1, "{landing:#}");
    assert_eq!(
        landing["statistics"]["by_framework"][0]["framework"],
        "flask"
    );
    let audit: Value = app
        .get("/api/audit?action=landing.settings", &app.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        audit.to_string().contains("show_statistics"),
        "the change is audited: {audit:#}"
    );
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let health: Value = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_a_well_formed_one() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id\twith tabs")
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a fresh uuid replaces a malformed id");
}

#[tokio::test]
async fn client_side_routes_fall_back_to_index_html_and_assets_are_served() {
    let app = spawn_app().await;
    for path in ["/", "/users", "/teams/123/members"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(res.text().await.unwrap().contains("provisio test shell"));
    }
    let js = app.client.get(app.url("/web.js")).send().await.unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert_eq!(
        app.client
            .get(app.url("/missing.wasm"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let traversal = app
        .client
        .get(app.url("/..%2F..%2Fetc%2Fpasswd"))
        .send()
        .await
        .unwrap();
    assert!(!traversal.text().await.unwrap().contains("root:"));
}

/// "provisio " 200 times, compressed with brotli and gzip (node's zlib).
const BR: &[u8] = &[
    27, 7, 7, 248, 141, 148, 110, 222, 180, 78, 123, 131, 147, 211, 32, 111, 115, 118, 194, 183,
    96, 96, 174, 237, 132, 0,
];
const GZ: &[u8] = &[
    31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 43, 40, 202, 47, 203, 44, 206, 204, 87, 40, 24, 101, 140, 50,
    70, 25, 163, 140, 81, 198, 40, 99, 228, 49, 0, 217, 138, 147, 216, 8, 7, 0, 0,
];

async fn decompress(body: Vec<u8>, encoding: actix_web::http::header::ContentEncoding) -> Vec<u8> {
    use futures_util::StreamExt;
    let stream = futures_util::stream::once(async move {
        Ok::<_, actix_web::error::PayloadError>(actix_web::web::Bytes::from(body))
    });
    let mut decoder = actix_web::dev::Decompress::new(Box::pin(stream), encoding);
    let mut out = Vec::new();
    while let Some(chunk) = decoder.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

/// `res` answers `accept` with `encoding`, and says the answer varies with Accept-Encoding.
fn assert_encoded(
    res: &reqwest::Response,
    accept: &str,
    encoding: actix_web::http::header::ContentEncoding,
) {
    assert_eq!(res.status(), StatusCode::OK, "{accept}");
    assert_eq!(
        res.headers()["content-encoding"],
        encoding.as_str(),
        "{accept}"
    );
    assert!(res.headers()["vary"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase()
        .contains("accept-encoding"));
}

#[tokio::test]
async fn answers_are_compressed_with_the_coding_the_client_prefers() {
    use actix_web::http::header::ContentEncoding;
    let app = spawn_app().await;
    let get = |accept: Option<&'static str>| {
        let mut req = app.client.get(app.url("/api/openapi.json"));
        if let Some(accept) = accept {
            req = req.header("accept-encoding", accept);
        }
        req.send()
    };
    let plain = get(None).await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap().to_vec();
    assert!(plain.starts_with(b"{"), "the document itself");

    for (accept, encoding) in [
        ("gzip, deflate, br, zstd", ContentEncoding::Brotli),
        ("br;q=0.5, gzip", ContentEncoding::Gzip),
        ("deflate", ContentEncoding::Deflate),
    ] {
        let res = get(Some(accept)).await.unwrap();
        assert_encoded(&res, accept, encoding);
        let body = res.bytes().await.unwrap().to_vec();
        assert!(
            body.len() < plain.len() / 3,
            "{accept}: {} bytes",
            body.len()
        );
        assert_eq!(decompress(body, encoding).await, plain, "{accept}");
    }

    // Codings this server does not have: the answer, uncompressed.
    for accept in ["zstd", "identity"] {
        let res = get(Some(accept)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{accept}");
        assert!(res.headers().get("content-encoding").is_none(), "{accept}");
        assert_eq!(res.bytes().await.unwrap().to_vec(), plain, "{accept}");
    }
}

#[tokio::test]
async fn assets_are_sent_precompressed_to_clients_that_accept_it() {
    use actix_web::http::header::ContentEncoding;
    let app = spawn_app().await;
    let original = "provisio ".repeat(200).into_bytes();
    std::fs::write(app.web_dir.join("web_bg.wasm"), &original).unwrap();
    std::fs::write(app.web_dir.join("web_bg.wasm.br"), BR).unwrap();
    std::fs::write(app.web_dir.join("web_bg.wasm.gz"), GZ).unwrap();
    let get = |accept: Option<&'static str>| {
        let mut req = app.client.get(app.url("/web_bg.wasm"));
        if let Some(accept) = accept {
            req = req.header("accept-encoding", accept);
        }
        req.send()
    };

    for (accept, encoding, variant) in [
        ("gzip, deflate, br, zstd", ContentEncoding::Brotli, BR),
        ("br", ContentEncoding::Brotli, BR),
        ("gzip, deflate", ContentEncoding::Gzip, GZ),
        ("br;q=0, gzip", ContentEncoding::Gzip, GZ),
    ] {
        let res = get(Some(accept)).await.unwrap();
        assert_encoded(&res, accept, encoding);
        assert_eq!(res.headers()["content-type"], "application/wasm");
        assert_eq!(res.headers()["cache-control"], "no-cache");
        let body = res.bytes().await.unwrap().to_vec();
        assert_eq!(body, variant, "the stored variant is sent as it is");
        assert_eq!(decompress(body, encoding).await, original, "{accept}");
    }

    for accept in [None, Some("identity")] {
        let res = get(accept).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers().get("content-encoding").is_none(),
            "{accept:?}"
        );
        assert_eq!(res.headers()["content-type"], "application/wasm");
        assert_eq!(res.bytes().await.unwrap(), original);
    }

    // A variant older than its file (the bundle was rebuilt since) is not used.
    let stale = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for name in ["web_bg.wasm.br", "web_bg.wasm.gz"] {
        std::fs::File::options()
            .write(true)
            .open(app.web_dir.join(name))
            .unwrap()
            .set_modified(stale)
            .unwrap();
    }
    let res = get(Some("br")).await.unwrap();
    let encoding = res.headers().get("content-encoding").cloned();
    let body = res.bytes().await.unwrap().to_vec();
    assert_ne!(body, BR, "a stale variant is never sent");
    // (The compression middleware may still compress the fresh file on the fly.)
    let body = match encoding {
        Some(e) if e == "br" => decompress(body, ContentEncoding::Brotli).await,
        _ => body,
    };
    assert_eq!(body, original);
}

#[tokio::test]
async fn unknown_api_paths_are_problem_json_404() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/api/nope")).send().await.unwrap();
    assert_problem(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_method_an_endpoint_does_not_take_is_405_naming_the_ones_it_does() {
    let app = spawn_app().await;
    let res = app
        .request(Method::DELETE, "/api/users", Some(&app.admin.token), None)
        .await;
    assert_eq!(res.headers()["allow"], "GET, POST");
    let problem = assert_problem(res, StatusCode::METHOD_NOT_ALLOWED).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("GET, POST"),
        "{problem}"
    );
    // With a path parameter too; a path nothing answers stays 404.
    let res = app
        .request(
            Method::POST,
            &format!("/api/deployments/{}", uuid::Uuid::new_v4()),
            Some(&app.admin.token),
            None,
        )
        .await;
    assert_eq!(res.headers()["allow"], "DELETE, GET");
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED).await;
    let res = app
        .request(Method::DELETE, "/api/nothing/here", None, None)
        .await;
    assert_problem(res, StatusCode::NOT_FOUND).await;
    // A path the document spells out is not an id of the templated path beside it.
    let res = app
        .request(
            Method::PUT,
            "/api/scripts/validate",
            Some(&app.admin.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(res.headers()["allow"], "POST");
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED).await;
    // Outside /api too, for the documented probes.
    let res = app
        .request(
            Method::from_bytes(b"TRACE").unwrap(),
            "/healthz",
            None,
            None,
        )
        .await;
    assert_eq!(res.headers()["allow"], "GET");
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn security_headers_are_set() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"));
}

#[tokio::test]
async fn served_openapi_matches_the_committed_file_and_docs_ui_is_offline() {
    let app = spawn_app().await;
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../openapi/openapi.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let served: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served, committed);
    let redirect = app.client.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(redirect.status(), StatusCode::PERMANENT_REDIRECT);
    let docs = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger-ui"));
    assert!(
        !html.contains("https://"),
        "the docs page must not load anything from the network"
    );
}

#[test]
fn committed_openapi_document_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = api::server::openapi::spec_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -p api -- openapi > openapi/openapi.json`"
    );
}

#[tokio::test]
async fn framework_presets_are_listed_with_their_commands() {
    let app = spawn_app().await;
    let res = app.get("/api/frameworks", &app.admin.token).await;
    assert_eq!(res.status(), 200);
    let list: Vec<serde_json::Value> = res.json().await.unwrap();
    assert_eq!(list.len(), 11);
    let next = list.iter().find(|f| f["slug"] == "nextjs").unwrap();
    assert_eq!(next["name"], "Next.js");
    assert_eq!(next["default_port"], 3000);
    assert_eq!(next["build"][0], serde_json::json!(["npm", "run", "build"]));
    let react = list.iter().find(|f| f["slug"] == "react").unwrap();
    assert_eq!(react["runtime"], "static");
    assert_eq!(react["static_dir"], "build");
}

#[tokio::test]
async fn metrics_report_route_latency_and_queue_depth_to_loopback_or_the_token() {
    let app = spawn_app().await;
    let team = app.create_team("Metrics").await;
    for _ in 0..3 {
        assert_eq!(
            app.get("/api/deployments", &app.admin.token).await.status(),
            200
        );
    }
    // A project queues its clone (no workers run here).
    let res = app
        .post(
            "/api/projects",
            &app.admin.token,
            serde_json::json!({"name": "metrics-app", "url": "https://git.example.com/m.git", "team_id": team}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let metrics = |auth: Option<&str>| {
        let mut req = app.client.get(format!("{}/metrics", app.address));
        if let Some(token) = auth {
            req = req.bearer_auth(token);
        }
        req.send()
    };
    let res = metrics(None).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = res.text().await.unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("provisio_http_request_duration_seconds_count{method=\"GET\",route=\"/api/deployments\",status=\"200\"}")
        })
        .unwrap_or_else(|| panic!("{text}"));
    let count: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3, "{line}");
    assert!(
        text.contains("provisio_jobs{kind=\"project_sync\",status=\"queued\"} 1"),
        "{text}"
    );
    assert!(
        !text.contains(&team),
        "raw paths and ids never become labels"
    );
    // A wrong token is refused even from loopback; the right one works.
    assert_eq!(metrics(Some("wrong")).await.unwrap().status(), 401);
    assert_eq!(
        metrics(Some(common::METRICS_TOKEN)).await.unwrap().status(),
        200
    );
}

/// The bounds the server enforces on paging are the ones the document states, on every list.
#[test]
fn the_document_states_the_paging_bounds_the_server_enforces() {
    let spec = serde_json::to_value(api::server::openapi::spec()).unwrap();
    let mut lists = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(params) = item["get"]["parameters"].as_array() else {
            continue;
        };
        for p in params {
            let bound = match p["name"].as_str() {
                Some("page") => api::domain::listing::PAGE_MAX,
                Some("per_page") => shared::dto::PER_PAGE_MAX,
                _ => continue,
            };
            lists += 1;
            assert_eq!(p["schema"]["minimum"], 1, "{path} {}", p["name"]);
            assert_eq!(p["schema"]["maximum"], bound, "{path} {}", p["name"]);
        }
    }
    assert!(lists >= 10, "only {lists} paging parameters found");
}
