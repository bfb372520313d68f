//! Browser-facing hardening: the security headers every response carries (documents the full set,
//! API answers the short one data needs), whether a request
//! reached us over TLS, the same-origin check for cookie-authenticated endpoints, and the bounds
//! on request bodies (size and read time).
//!
//! TLS: the server itself speaks plain HTTP, so a request counts as TLS only when a proxy listed
//! in `PROVISIO_TRUSTED_PROXIES` says so with `X-Forwarded-Proto: https` (or `Forwarded:
//! proto=https`). `PROVISIO_PUBLIC_URL` alone does not count: it says where users should go, not
//! how this request came, and HSTS sent over plain HTTP is ignored by browsers anyway.

use crate::config::{Config, HttpLimits};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{web, HttpMessage, HttpRequest, ResponseError};
use futures_util::Stream;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The policy of the Swagger UI under /api/docs/: its scripts are files (no inline ones), and
/// React sets inline styles.
pub const DOCS_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The policy of answers under /api other than the docs: data, not documents, so nothing may load
/// from them and nothing may frame them should a browser ever render one (the OWASP REST
/// security headers). Document-only headers (Permissions-Policy, COOP) are left off them.
pub const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Browser features neither the app nor the docs use.
pub const PERMISSIONS_POLICY: &str =
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), \
     geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()";

pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// The policy of the web app (and of every response that has no policy of its own): scripts only
/// from this origin plus, by hash, the exact inline bootstrap scripts Trunk writes into
/// index.html, so scripts never need `unsafe-inline`. Inline styles stay allowed because the app
/// sets `style` attributes (the rows editor's grid columns).
pub fn app_policy(index_html: &[u8]) -> String {
    let hashes: String = inline_script_hashes(index_html)
        .iter()
        .map(|hash| format!(" 'sha256-{hash}'"))
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Base64 SHA-256 of the content of each inline `<script>` element, in document order.
pub fn inline_script_hashes(html: &[u8]) -> Vec<String> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let html = String::from_utf8_lossy(html);
    let mut hashes = Vec::new();
    let mut rest = html.as_ref();
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let (Some(open_end), Some(close)) = (after.find('>'), after.find("</script>")) else {
            break;
        };
        let tag = &after[..open_end];
        let content = &after[open_end + 1..close];
        if !tag.contains("src=") && !content.trim().is_empty() {
            let digest = Sha256::digest(content.as_bytes());
            hashes.push(base64::engine::general_purpose::STANDARD.encode(digest));
        }
        rest = &after[close + "</script>".len()..];
    }
    hashes
}

/// The app policy for responses that set none, computed once from the index.html being served.
#[derive(Clone)]
pub struct DefaultPolicy(pub HeaderValue);

impl DefaultPolicy {
    pub fn from_index(index_html: Option<&[u8]>) -> Self {
        let policy = app_policy(index_html.unwrap_or_default());
        DefaultPolicy(HeaderValue::try_from(policy).expect("the policy is ASCII"))
    }
}

/// True when the peer is a trusted proxy that says the client connected over HTTPS. The last
/// value counts: it is the one the proxy next to us wrote, earlier ones came from the client.
pub fn over_tls(req: &HttpRequest, trusted: &[IpAddr]) -> bool {
    let peer_trusted = req.peer_addr().is_some_and(|a| trusted.contains(&a.ip()));
    if !peer_trusted {
        return false;
    }
    let last_value = |name: &str| {
        req.headers()
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .map(|v| v.trim().to_ascii_lowercase())
    };
    if let Some(proto) = last_value("x-forwarded-proto") {
        return proto == "https";
    }
    last_value("forwarded").is_some_and(|element| {
        element
            .split(';')
            .filter_map(|pair| pair.split_once('='))
            .any(|(key, value)| key.trim() == "proto" && value.trim().trim_matches('"') == "https")
    })
}

/// Refuses a request a browser sent from another site: an `Origin` that is neither the public
/// URL's origin nor this request's own host, or `Sec-Fetch-Site: cross-site`. Requests without
/// these headers (API clients, curl) pass; browsers always send `Origin` on a POST.
pub fn require_same_origin(req: &HttpRequest, config: &Config) -> ApiResult<()> {
    let headers = req.headers();
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return Err(ApiError::CrossOrigin);
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().map_err(|_| ApiError::CrossOrigin)?;
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    if origin == origin_of(&config.public_url) {
        return Ok(());
    }
    let Some((scheme, authority)) = origin.split_once("://") else {
        return Err(ApiError::CrossOrigin);
    };
    let own_hosts = own_hosts(req, &config.trusted_proxies);
    if matches!(scheme, "http" | "https") && own_hosts.iter().any(|h| h == authority) {
        return Ok(());
    }
    Err(ApiError::CrossOrigin)
}

/// `scheme://host[:port]` of a URL, lowercased.
fn origin_of(url: &str) -> String {
    let url = url.trim().to_ascii_lowercase();
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            format!("{scheme}://{authority}")
        }
        None => url,
    }
}

/// The names this request was addressed to: its `Host`, and `X-Forwarded-Host` from a trusted proxy.
fn own_hosts(req: &HttpRequest, trusted: &[IpAddr]) -> Vec<String> {
    let mut hosts = Vec::new();
    let mut add = |headers: &HeaderMap, name: HeaderName| {
        if let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) {
            if let Some(last) = value.split(',').next_back() {
                hosts.push(last.trim().to_ascii_lowercase());
            }
        }
    };
    add(req.headers(), header::HOST);
    if req.peer_addr().is_some_and(|a| trusted.contains(&a.ip())) {
        add(req.headers(), HeaderName::from_static("x-forwarded-host"));
    }
    hosts
}

/// Middleware: the security headers on every response, error responses included.
pub async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // Read before routing: a clone of the request kept across `next.call` would make the router panic.
    let path = req.path().to_owned();
    let tls = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| over_tls(req.request(), &state.config.trusted_proxies));
    let default_policy = req.app_data::<DefaultPolicy>().cloned();
    // Handlers and extractors turn their errors into responses; only a failing middleware would
    // end here with an error, and none of ours does.
    let mut res = next.call(req).await?.map_into_boxed_body();
    let headers = res.headers_mut();
    let set = |headers: &mut HeaderMap, name: HeaderName, value: HeaderValue| {
        if !headers.contains_key(&name) {
            headers.insert(name, value);
        }
    };
    let docs = path.starts_with("/api/docs");
    let api = path == "/api" || path.starts_with("/api/");
    if docs {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_POLICY),
        );
    } else if api {
        set(
            headers,
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(API_POLICY),
        );
    } else if let Some(DefaultPolicy(policy)) = default_policy {
        set(headers, header::CONTENT_SECURITY_POLICY, policy);
    }
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CROSS_ORIGIN_RESOURCE_POLICY, "same-origin"),
    ];
    for (name, value) in fixed {
        set(headers, name, HeaderValue::from_static(value));
    }
    if docs || !api {
        let documents_only = [
            (
                HeaderName::from_static("permissions-policy"),
                PERMISSIONS_POLICY,
            ),
            (header::CROSS_ORIGIN_OPENER_POLICY, "same-origin"),
        ];
        for (name, value) in documents_only {
            set(headers, name, HeaderValue::from_static(value));
        }
    }
    if api {
        set(
            headers,
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
    }
    if tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    Ok(res)
}

/// Middleware: a declared body over the limit answers 413 before any handler runs; any other
/// body is read through [`BoundedBody`], so a chunked one cannot exceed the limit either and a
/// slow one ends at the deadline. WebSocket upgrades keep their stream (frames are bounded).
pub async fn limit_body(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limits = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.config.http)
        .unwrap_or_default();
    let headers = req.headers();
    if headers.contains_key(header::UPGRADE) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_body_bytes as u64) {
        let response = ApiError::PayloadTooLarge {
            limit: limits.max_body_bytes,
        }
        .error_response();
        return Ok(req.into_response(response));
    }
    let has_body = declared.is_some_and(|length| length > 0)
        || headers.contains_key(header::TRANSFER_ENCODING);
    if has_body {
        let inner = req.take_payload();
        let bounded: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(BoundedBody::new(inner, limits));
        req.set_payload(Payload::from(bounded));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// A request body that fails with `Overflow` past the size limit and with a `TimedOut` I/O error
/// when it has not ended by the deadline.
struct BoundedBody {
    inner: Payload,
    read: usize,
    limit: usize,
    deadline: Pin<Box<tokio::time::Sleep>>,
    finished: bool,
}

impl BoundedBody {
    fn new(inner: Payload, limits: HttpLimits) -> Self {
        BoundedBody {
            inner,
            read: 0,
            limit: limits.max_body_bytes,
            deadline: Box::pin(tokio::time::sleep(limits.body_read_timeout)),
            finished: false,
        }
    }
}

impl Stream for BoundedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.read += chunk.len();
                if self.read > self.limit {
                    self.finished = true;
                    return Poll::Ready(Some(Err(PayloadError::Overflow)));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => {
                self.finished = other.is_none();
                Poll::Ready(other)
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.finished = true;
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the request body did not arrive in time",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// How a body that could not be read answers, for the JSON and form extractors.
pub fn payload_error(error: &PayloadError, limits: HttpLimits) -> ApiError {
    match error {
        PayloadError::Overflow => ApiError::PayloadTooLarge {
            limit: limits.max_body_bytes,
        },
        PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => ApiError::RequestTimeout,
        other => ApiError::BadRequest(format!("the body could not be read: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::{app_policy, inline_script_hashes, origin_of};

    #[test]
    fn app_policy_hashes_inline_scripts_and_never_allows_unsafe_inline_scripts() {
        let html = b"<html><script type=\"module\">import init from '/web.js';</script><script src=\"/x.js\"></script></html>";
        let policy = app_policy(html);
        let script_src = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!script_src.contains("unsafe-inline"));
        assert_eq!(inline_script_hashes(html).len(), 1);
        assert!(
            script_src.contains(&format!("'sha256-{}'", inline_script_hashes(html)[0])),
            "{script_src}"
        );
        assert!(policy.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn origin_of_keeps_scheme_host_and_port_only() {
        assert_eq!(
            origin_of("https://Portal.Example:8443/app/?x#y"),
            "https://portal.example:8443"
        );
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }
}
