//! Browser-facing hardening: security headers on every kind of response, the CSP's script hashes
//! against the served index.html, HSTS only over TLS from a trusted proxy, CORS closed, body
//! limits (413/408 as problem+json), refresh-cookie attributes and the same-origin check.

mod common;

use base64::Engine;
use common::{assert_problem, refresh_cookie_of, spawn_app, spawn_app_with, Options, TestApp};
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing in {headers:?}"))
        .to_str()
        .unwrap()
}

fn directive<'a>(policy: &'a str, name: &str) -> &'a str {
    policy
        .split(';')
        .map(str::trim)
        .find(|d| d.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} in {policy}"))
}

/// The headers every response carries, whatever produced it.
fn assert_common(headers: &HeaderMap, what: &str) {
    assert_eq!(
        header(headers, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
    assert_eq!(header(headers, "x-frame-options"), "DENY", "{what}");
    assert_eq!(header(headers, "referrer-policy"), "no-referrer", "{what}");
    assert_eq!(
        header(headers, "cross-origin-resource-policy"),
        "same-origin",
        "{what}"
    );
    assert!(
        headers.get("strict-transport-security").is_none(),
        "{what}: HSTS over plain http"
    );
    for (name, _) in headers {
        assert!(
            !name.as_str().starts_with("access-control-"),
            "{what}: {name}"
        );
    }
}

/// An answer under /api: data a browser must neither render with anything loaded nor frame, and
/// never cache.
fn assert_api_hardened(headers: &HeaderMap, what: &str) {
    assert_common(headers, what);
    assert_eq!(
        header(headers, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'",
        "{what}"
    );
    assert_eq!(header(headers, "cache-control"), "no-store", "{what}");
    for documents_only in ["permissions-policy", "cross-origin-opener-policy"] {
        assert!(
            headers.get(documents_only).is_none(),
            "{what}: {documents_only}"
        );
    }
}

/// A document (the app, its files, the API docs): the full set.
fn assert_hardened(headers: &HeaderMap, what: &str) {
    assert_common(headers, what);
    assert_eq!(
        header(headers, "cross-origin-opener-policy"),
        "same-origin",
        "{what}"
    );
    let permissions = header(headers, "permissions-policy");
    for feature in ["camera=()", "microphone=()", "geolocation=()"] {
        assert!(permissions.contains(feature), "{what}: {permissions}");
    }
    let policy = header(headers, "content-security-policy");
    for required in [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
    ] {
        assert!(
            policy.contains(required),
            "{what}: {required} not in {policy}"
        );
    }
    let scripts = directive(policy, "script-src");
    for source in scripts.split_whitespace() {
        assert!(
            ![
                "'unsafe-inline'",
                "'unsafe-eval'",
                "*",
                "data:",
                "http:",
                "https:"
            ]
            .contains(&source),
            "{what}: {scripts}"
        );
    }
}

#[tokio::test]
async fn documents_carry_the_full_security_headers_and_api_answers_the_data_set() {
    let app = spawn_app().await;
    let token = &app.admin.token;

    let index = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    assert_hardened(index.headers(), "SPA index");
    let route = app
        .client
        .get(app.url("/servers/123"))
        .send()
        .await
        .unwrap();
    assert_eq!(route.status(), StatusCode::OK);
    assert_hardened(route.headers(), "client route");
    let asset = app.client.get(app.url("/web.js")).send().await.unwrap();
    assert_hardened(asset.headers(), "static asset");

    let me = app.get("/api/auth/me", token).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_api_hardened(me.headers(), "/api JSON");

    let unauthenticated = app
        .client
        .get(app.url("/api/auth/me"))
        .send()
        .await
        .unwrap();
    assert_api_hardened(unauthenticated.headers(), "401 problem");
    assert_problem(unauthenticated, StatusCode::UNAUTHORIZED).await;

    let missing = app.get("/api/no-such-thing", token).await;
    assert_api_hardened(missing.headers(), "404 problem");
    assert_problem(missing, StatusCode::NOT_FOUND).await;

    let invalid = app.post("/api/teams", token, json!({"name": ""})).await;
    assert_api_hardened(invalid.headers(), "422 problem");
    assert_problem(invalid, StatusCode::UNPROCESSABLE_ENTITY).await;

    let docs = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert_hardened(docs.headers(), "Swagger UI");
    let docs_policy = header(docs.headers(), "content-security-policy").to_owned();
    assert_eq!(directive(&docs_policy, "script-src"), "script-src 'self'");
    let docs_html = docs.text().await.unwrap();
    assert!(docs_html.contains("swagger-ui"), "{docs_html}");
    assert!(
        script_hashes(&docs_html).is_empty(),
        "the Swagger UI page has inline scripts its policy would block"
    );
    let initializer = app
        .client
        .get(app.url("/api/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(initializer.status(), StatusCode::OK);
    assert_hardened(initializer.headers(), "Swagger UI script");
}

/// Base64 SHA-256 of each inline script of an HTML page, found independently of the server's parser.
fn script_hashes(html: &str) -> BTreeSet<String> {
    let mut hashes = BTreeSet::new();
    for (i, _) in html.match_indices("<script") {
        let element = &html[i..];
        let open_end = element.find('>').unwrap();
        if element[..open_end].contains(" src=") {
            continue;
        }
        let content = &element[open_end + 1..element.find("</script>").unwrap()];
        if content.trim().is_empty() {
            continue;
        }
        let digest = Sha256::digest(content.as_bytes());
        hashes.insert(base64::engine::general_purpose::STANDARD.encode(digest));
    }
    hashes
}

fn policy_hashes(policy: &str) -> BTreeSet<String> {
    directive(policy, "script-src")
        .split_whitespace()
        .filter_map(|source| source.strip_prefix("'sha256-"))
        .map(|hash| hash.trim_end_matches('\'').to_owned())
        .collect()
}

const TRUNK_LIKE_INDEX: &str = r#"<!DOCTYPE html><html><head>
<link rel="stylesheet" href="/style.css"/>
<script type="module">
import init, * as bindings from '/web.js';
const wasm = await init({ module_or_path: '/web_bg.wasm' });
window.wasmBindings = bindings;
</script>
<script src="/other.js"></script>
<script>dispatchEvent(new CustomEvent("Started"));</script>
</head><body></body></html>"#;

#[tokio::test]
async fn csp_script_hashes_are_exactly_the_inline_scripts_of_the_served_index() {
    let app = spawn_app().await;
    let built = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/dist/index.html");
    let mut pages = vec![TRUNK_LIKE_INDEX.to_owned()];
    if let Ok(real) = std::fs::read_to_string(built) {
        pages.push(real);
    }
    for page in pages {
        std::fs::write(app.web_dir.join("index.html"), &page).unwrap();
        let res = app
            .client
            .get(app.url("/deployments"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let policy = header(res.headers(), "content-security-policy").to_owned();
        let served = res.text().await.unwrap();
        assert_eq!(served, page);
        let expected = script_hashes(&served);
        assert!(
            !expected.is_empty(),
            "the page has no inline script: {served}"
        );
        assert_eq!(policy_hashes(&policy), expected, "{policy}");
        let scripts = directive(&policy, "script-src");
        assert!(scripts.contains("'self'") && scripts.contains("'wasm-unsafe-eval'"));
        assert!(
            !policy.contains("script-src 'unsafe-inline'") && !scripts.contains("unsafe-inline")
        );
    }
    // One changed byte in a script no longer matches.
    std::fs::write(
        app.web_dir.join("index.html"),
        TRUNK_LIKE_INDEX.replace("Started", "Started!"),
    )
    .unwrap();
    let res = app.client.get(app.url("/")).send().await.unwrap();
    let policy = header(res.headers(), "content-security-policy").to_owned();
    assert_ne!(policy_hashes(&policy), script_hashes(TRUNK_LIKE_INDEX));
}

fn trust_loopback_proxy(config: &mut api::config::Config) {
    config.trusted_proxies = vec![std::net::IpAddr::from([127, 0, 0, 1])];
}

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app.client.get(app.url(path));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn hsts_only_when_a_trusted_proxy_says_the_client_used_https() {
    let untrusted = spawn_app().await;
    for path in ["/", "/api/auth/me", "/healthz"] {
        let plain = get_with(&untrusted, path, &[]).await;
        assert!(plain.headers().get("strict-transport-security").is_none());
        let claimed = get_with(&untrusted, path, &[("x-forwarded-proto", "https")]).await;
        assert!(
            claimed.headers().get("strict-transport-security").is_none(),
            "{path}: HSTS believed an untrusted X-Forwarded-Proto"
        );
    }

    let behind_proxy = spawn_app_with(Options {
        adjust_config: trust_loopback_proxy,
        ..Options::default()
    })
    .await;
    for path in ["/", "/api/auth/me", "/api/docs/", "/healthz"] {
        let tls = get_with(&behind_proxy, path, &[("x-forwarded-proto", "https")]).await;
        assert_eq!(
            header(tls.headers(), "strict-transport-security"),
            "max-age=63072000; includeSubDomains",
            "{path}"
        );
        let forwarded = get_with(
            &behind_proxy,
            path,
            &[("forwarded", "for=1.2.3.4;proto=https")],
        )
        .await;
        assert!(
            forwarded
                .headers()
                .get("strict-transport-security")
                .is_some(),
            "{path}"
        );
        let plain = get_with(&behind_proxy, path, &[("x-forwarded-proto", "http")]).await;
        assert!(
            plain.headers().get("strict-transport-security").is_none(),
            "{path}"
        );
        // The proxy appended its own view after a value the client made up.
        let spoofed = get_with(&behind_proxy, path, &[("x-forwarded-proto", "https, http")]).await;
        assert!(
            spoofed.headers().get("strict-transport-security").is_none(),
            "{path}"
        );
        let none = get_with(&behind_proxy, path, &[]).await;
        assert!(
            none.headers().get("strict-transport-security").is_none(),
            "{path}"
        );
    }
}

#[tokio::test]
async fn cors_stays_closed_to_other_origins() {
    let app = spawn_app().await;
    for path in ["/api/auth/login", "/api/auth/refresh", "/api/teams", "/"] {
        let preflight = app
            .client
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, authorization",
            )
            .send()
            .await
            .unwrap();
        for (name, _) in preflight.headers() {
            assert!(
                !name.as_str().starts_with("access-control-"),
                "{path}: {name}"
            );
        }
    }
    let read = app
        .client
        .get(app.url("/api/auth/me"))
        .bearer_auth(&app.admin.token)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    for (name, _) in read.headers() {
        assert!(!name.as_str().starts_with("access-control-"), "{name}");
    }
}

/// Sends raw bytes over one connection and returns the whole answer (status line, headers, body).
/// The server may answer before the request is complete, so writing and reading run side by side.
async fn raw_exchange(app: &TestApp, request: Vec<Vec<u8>>) -> String {
    let address = app.address.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        for part in request {
            if writer.write_all(&part).await.is_err() {
                return;
            }
        }
        // Keep the connection open: a slow client never finishes its body.
        std::future::pending::<()>().await;
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(60), reader.read(&mut buffer))
            .await
            .expect("the server never answered")
            .unwrap_or(0);
        if read == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap())
            });
            if length.is_some_and(|length| body.len() >= length) {
                break;
            }
        }
    }
    writing.abort();
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_and_body(answer: &str) -> (u16, String, Value) {
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    (
        status,
        content_type,
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

fn chunked_request(
    path: &str,
    content_type: &str,
    token: &str,
    chunks: usize,
    chunk: &[u8],
) -> Vec<Vec<u8>> {
    let mut parts = vec![format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()];
    for _ in 0..chunks {
        let mut part = format!("{:x}\r\n", chunk.len()).into_bytes();
        part.extend_from_slice(chunk);
        part.extend_from_slice(b"\r\n");
        parts.push(part);
    }
    parts
}

/// Heads the HTTP layer cannot read were answered by actix-http itself with an empty body: a URL
/// over 64 KiB (400), a malformed header line (400), a head over 128 KiB (431).
#[tokio::test]
async fn unreadable_request_heads_answer_problem_json() {
    let app = spawn_app().await;
    let long_query = format!(
        "GET /api/deployments?search={} HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "a".repeat(100_000)
    );
    let broken_header = "GET /api/deployments HTTP/1.1\r\nHo st: x\r\n\r\n".to_owned();
    let huge_head = format!(
        "GET /api/deployments HTTP/1.1\r\nHost: localhost\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(140_000)
    );
    for (request, status, detail) in [
        (long_query, 400, "longer than 64 KiB"),
        (broken_header, 400, "malformed"),
        (huge_head, 431, "larger than 128 KiB"),
    ] {
        let answer = raw_exchange(&app, vec![request.into_bytes()]).await;
        let (got, content_type, body) = status_and_body(&answer);
        assert_eq!(got, status, "{answer}");
        assert_eq!(content_type, "application/problem+json", "{answer}");
        assert_eq!(body["status"], status, "{answer}");
        assert!(
            body["detail"].as_str().unwrap().contains(detail),
            "{answer}"
        );
    }
    // The connection type passes everything else through: an answer of the application keeps its
    // own body.
    let res = app.get("/api/deployments?page=x", &app.admin.token).await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(problem["errors"]["query"].is_array(), "{problem}");
}

#[tokio::test]
async fn oversized_bodies_answer_413_problem_json_for_every_body_kind() {
    let app = spawn_app().await;
    let token = app.admin.token.clone();
    let limit = api::config::HttpLimits::default().max_body_bytes;
    let padding = "x".repeat(limit + 1);

    // Declared length, JSON.
    let res = app
        .post(
            "/api/teams",
            &token,
            json!({"name": "Big", "description": padding}),
        )
        .await;
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let problem = assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&limit.to_string()),
        "{problem}"
    );

    // Declared length, raw bytes and a form, on the same endpoint.
    for content_type in [
        "application/octet-stream",
        "application/x-www-form-urlencoded",
        "text/plain",
    ] {
        let res = app
            .client
            .post(app.url("/api/teams"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(format!("name={padding}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{content_type}"
        );
        assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    }

    // Chunked without end: reading stops at the limit.
    let chunk = [b' '; 16 * 1024];
    let answer = raw_exchange(
        &app,
        chunked_request(
            "/api/teams",
            "application/json",
            &token,
            limit / chunk.len() + 8,
            &chunk,
        ),
    )
    .await;
    let (status, kind, problem) = status_and_body(&answer);
    assert_eq!(status, 413, "{answer}");
    assert_eq!(kind, "application/problem+json", "{answer}");
    assert_eq!(problem["status"], 413, "{answer}");

    // A small chunked body is still read normally.
    let body = br#"{"name": "Chunked team", "description": ""}"#;
    let mut request = chunked_request("/api/teams", "application/json", &token, 1, body);
    request.push(b"0\r\n\r\n".to_vec());
    let (status, _, team) = status_and_body(&raw_exchange(&app, request).await);
    assert_eq!(status, 201, "{team}");
    assert_eq!(team["name"], "Chunked team");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM teams WHERE name IN ('Big', 'Chunked team')")
            .await,
        1
    );
}

#[tokio::test]
async fn a_body_that_never_finishes_answers_408() {
    let app = spawn_app_with(Options {
        adjust_config: |config| config.http.body_read_timeout = Duration::from_secs(1),
        ..Options::default()
    })
    .await;
    let token = app.admin.token.clone();
    let teams_before = app.count("SELECT COUNT(*) AS n FROM teams").await;
    for (framing, first_part) in [
        ("Content-Length: 500", br#"{"name": "#.to_vec()),
        (
            "Transfer-Encoding: chunked",
            b"9\r\n{\"name\": \r\n".to_vec(),
        ),
    ] {
        let head = format!(
            "POST /api/teams HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n"
        );
        let answer = raw_exchange(&app, vec![head.into_bytes(), first_part]).await;
        let (status, kind, problem) = status_and_body(&answer);
        assert_eq!(status, 408, "{framing}: {answer}");
        assert_eq!(kind, "application/problem+json");
        assert_eq!(problem["status"], 408);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM teams").await,
        teams_before
    );
}

/// The attributes of the refresh cookie in a response, lowercased names mapped to values.
fn refresh_cookie_attributes(headers: &HeaderMap) -> (String, Vec<(String, String)>) {
    let cookie = headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("provisio_refresh="))
        .expect("a refresh cookie");
    let mut parts = cookie.split(';').map(str::trim);
    let value = parts
        .next()
        .unwrap()
        .trim_start_matches("provisio_refresh=")
        .to_owned();
    let attributes = parts
        .map(|a| match a.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), v.to_owned()),
            None => (a.to_ascii_lowercase(), String::new()),
        })
        .collect();
    (value, attributes)
}

fn attribute<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn login_with(app: &TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"login": "root", "password": common::ADMIN_PASSWORD}));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

async fn logout_with(app: &TestApp, cookie: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/api/auth/logout"))
        .header("cookie", format!("provisio_refresh={cookie}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn refresh_cookie_is_http_only_strict_path_scoped_and_cleared_alike() {
    let app = spawn_app().await;
    let login = login_with(&app, &[]).await;
    assert_eq!(login.status(), StatusCode::OK);
    let (value, set) = refresh_cookie_attributes(login.headers());
    assert!(value.len() > 20);
    assert_eq!(attribute(&set, "httponly"), Some(""));
    assert_eq!(attribute(&set, "samesite"), Some("Strict"));
    assert_eq!(attribute(&set, "path"), Some("/api/auth"));
    assert_eq!(attribute(&set, "max-age"), Some("3600"));
    assert_eq!(attribute(&set, "domain"), None);
    assert_eq!(
        attribute(&set, "secure"),
        None,
        "Secure over plain http without the setting"
    );

    let logout = logout_with(&app, &value, &[]).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let (cleared, clear) = refresh_cookie_attributes(logout.headers());
    assert_eq!(cleared, "");
    assert_eq!(attribute(&clear, "max-age"), Some("0"));
    for name in ["httponly", "samesite", "path", "domain", "secure"] {
        assert_eq!(attribute(&clear, name), attribute(&set, name), "{name}");
    }
    assert_eq!(app.refresh(&value).await.status(), StatusCode::UNAUTHORIZED);

    // Secure when configured, and when a trusted proxy says the client used HTTPS.
    let configured = spawn_app_with(Options {
        adjust_config: |config| config.secure_cookies = true,
        ..Options::default()
    })
    .await;
    let (value, set) = refresh_cookie_attributes(login_with(&configured, &[]).await.headers());
    assert_eq!(attribute(&set, "secure"), Some(""));
    let (_, clear) =
        refresh_cookie_attributes(logout_with(&configured, &value, &[]).await.headers());
    assert_eq!(attribute(&clear, "secure"), Some(""));

    let behind_proxy = spawn_app_with(Options {
        adjust_config: trust_loopback_proxy,
        ..Options::default()
    })
    .await;
    let https = [("x-forwarded-proto", "https")];
    let (value, set) = refresh_cookie_attributes(login_with(&behind_proxy, &https).await.headers());
    assert_eq!(attribute(&set, "secure"), Some(""));
    let (_, clear) =
        refresh_cookie_attributes(logout_with(&behind_proxy, &value, &https).await.headers());
    assert_eq!(attribute(&clear, "secure"), Some(""));
    let (_, plain) = refresh_cookie_attributes(login_with(&behind_proxy, &[]).await.headers());
    assert_eq!(attribute(&plain, "secure"), None);
    // An untrusted peer's claim changes nothing.
    let (_, claimed) = refresh_cookie_attributes(login_with(&app, &https).await.headers());
    assert_eq!(attribute(&claimed, "secure"), None);
}

async fn refresh_with(app: &TestApp, cookie: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/api/auth/refresh"))
        .header("cookie", format!("provisio_refresh={cookie}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn cookie_endpoints_refuse_requests_from_a_foreign_origin() {
    let app = spawn_app().await;
    let cookie = app.admin.refresh_cookie.clone().unwrap();
    let own_origin = app.address.clone();
    let foreign: [&[(&str, &str)]; 4] = [
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
        &[("origin", "http://127.0.0.1.evil.example")],
        &[("sec-fetch-site", "cross-site")],
    ];
    for headers in foreign {
        let res = refresh_with(&app, &cookie, headers).await;
        assert!(res.headers().get(SET_COOKIE).is_none(), "{headers:?}");
        let problem = assert_problem(res, StatusCode::FORBIDDEN).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("another site"),
            "{problem}"
        );
        assert_problem(
            logout_with(&app, &cookie, headers).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_problem(login_with(&app, headers).await, StatusCode::FORBIDDEN).await;
    }
    // Nothing above used or ended the session: the same cookie still refreshes, from our own
    // origin, from the public URL's origin, and without Origin (API clients).
    let res = refresh_with(
        &app,
        &cookie,
        &[("origin", &own_origin), ("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = refresh_cookie_of(res.headers()).unwrap();
    let res = refresh_with(&app, &cookie, &[("origin", "http://provisio.test")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = refresh_cookie_of(res.headers()).unwrap();
    let res = refresh_with(&app, &cookie, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = refresh_cookie_of(res.headers()).unwrap();
    assert_eq!(
        login_with(&app, &[("origin", &own_origin)]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        logout_with(&app, &cookie, &[("origin", &own_origin)])
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        refresh_with(&app, &cookie, &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
}
