//! A JSON client for provider REST APIs: timeouts, retries on 429 and 502/503/504 honouring Retry-After
//! and Hetzner's RateLimit headers, and problem texts that name the provider's own message.

use super::{ProviderError, ProviderResult, Tuning};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

pub enum Body {
    None,
    Json(Value),
    Form(Vec<(String, String)>),
}

pub struct RestClient {
    client: reqwest::Client,
    base: String,
    auth: (String, String),
    max_retries: u32,
    retry_base: Duration,
    request_timeout: Duration,
}

/// Longest a single back-off may last, whatever the provider asks for.
const MAX_WAIT: Duration = Duration::from_secs(60);

impl RestClient {
    pub fn new(
        client: reqwest::Client,
        base: &str,
        auth_header: &str,
        auth_value: String,
        tuning: &Tuning,
    ) -> Self {
        RestClient {
            client,
            base: base.trim_end_matches('/').to_owned(),
            auth: (auth_header.to_owned(), auth_value),
            max_retries: tuning.max_retries,
            retry_base: tuning.retry_base,
            request_timeout: tuning.request_timeout,
        }
    }

    pub fn url(&self, segments: &[&str]) -> ProviderResult<reqwest::Url> {
        let mut url = reqwest::Url::parse(&self.base)
            .map_err(|e| ProviderError::Config(format!("endpoint is not a URL: {e}")))?;
        url.path_segments_mut()
            .map_err(|_| ProviderError::Config("endpoint cannot be a base URL".into()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Sends the request, retrying what is safe to retry; returns the decoded JSON (Null if empty).
    /// A call that still fails is counted in the metrics by provider host and error kind.
    pub async fn send(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Body,
    ) -> ProviderResult<Value> {
        let result = self.send_with_retries(method, segments, query, body).await;
        if let Err(e) = &result {
            let host = reqwest::Url::parse(&self.base)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default();
            let kind = match e {
                ProviderError::Unauthorized(_) => "unauthorized",
                ProviderError::NotFound(_) => "not_found",
                ProviderError::Unavailable(_) => "unavailable",
                ProviderError::Rejected(_) => "rejected",
                _ => "other",
            };
            crate::server::metrics::provider_error(&host, kind);
        }
        result
    }

    async fn send_with_retries(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Body,
    ) -> ProviderResult<Value> {
        let url = self.url(segments)?;
        let idempotent = method == Method::GET || method == Method::DELETE;
        let mut attempt = 0u32;
        loop {
            let mut req = self
                .client
                .request(method.clone(), url.clone())
                .header(&self.auth.0, &self.auth.1)
                .query(query);
            req = match &body {
                Body::None => req,
                Body::Json(v) => req.json(v),
                Body::Form(pairs) => req.form(pairs),
            };
            let outcome = req.send().await;
            let (wait, error) = match outcome {
                Err(e) => {
                    // The network policy refused the destination: no retry will change that.
                    if let Some(refused) = crate::exec::network_policy::refusal_in(&e) {
                        return Err(ProviderError::Config(refused));
                    }
                    let error = ProviderError::Unavailable(self.transport_failure(
                        &method,
                        &url,
                        &e,
                        attempt + 1,
                    ));
                    // A write that reached the provider may have taken effect; only one that
                    // never connected is safe to send again (the job's idempotent retry, which
                    // looks the server up by its label first, handles the rest).
                    if !idempotent && !e.is_connect() {
                        return Err(error);
                    }
                    (None, error)
                }
                Ok(resp) => {
                    let status = resp.status();
                    let wait = retry_after(resp.headers());
                    let text = resp.text().await.unwrap_or_default();
                    if status.is_success() {
                        return Ok(if text.trim().is_empty() {
                            Value::Null
                        } else {
                            serde_json::from_str(&text).map_err(|e| {
                                ProviderError::Unavailable(format!(
                                    "{} {} answered with invalid JSON: {e}",
                                    method,
                                    url.path()
                                ))
                            })?
                        });
                    }
                    let message = provider_message(&text, status);
                    let error = match status {
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                            return Err(ProviderError::Unauthorized(message))
                        }
                        StatusCode::NOT_FOUND => return Err(ProviderError::NotFound(message)),
                        StatusCode::TOO_MANY_REQUESTS => {
                            ProviderError::Unavailable(format!("rate limited: {message}"))
                        }
                        // Gateways and maintenance are worth waiting for; a plain 500 is an
                        // answer (Proxmox reports "VM 101 does not exist" that way).
                        StatusCode::BAD_GATEWAY
                        | StatusCode::SERVICE_UNAVAILABLE
                        | StatusCode::GATEWAY_TIMEOUT => ProviderError::Unavailable(message),
                        s if s.is_server_error() => {
                            return Err(ProviderError::Unavailable(message))
                        }
                        _ => return Err(ProviderError::Rejected(message)),
                    };
                    // A 429 was not processed, so even a POST may be repeated; a 5xx POST may
                    // have taken effect and is left to the caller's idempotent retry.
                    if status != StatusCode::TOO_MANY_REQUESTS && !idempotent {
                        return Err(error);
                    }
                    (wait, error)
                }
            };
            if attempt >= self.max_retries {
                return Err(error);
            }
            let backoff = self.retry_base * 2u32.pow(attempt);
            let delay = wait.unwrap_or(backoff).min(MAX_WAIT);
            tracing::warn!(url = %url.path(), attempt, ?delay, %error, "provider call will be retried");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Names the provider's host, the call and, for a timeout, how long it waited.
    fn transport_failure(
        &self,
        method: &Method,
        url: &reqwest::Url,
        e: &reqwest::Error,
        tries: u32,
    ) -> String {
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            _ => self.base.clone(),
        };
        let tries = if tries > 1 {
            format!(" ({tries} tries)")
        } else {
            String::new()
        };
        if e.is_timeout() {
            format!(
                "{host} did not answer {method} {} within the {} timeout{tries}",
                url.path(),
                shared::servers::short_duration(self.request_timeout)
            )
        } else if e.is_connect() {
            format!(
                "cannot connect to {host} for {method} {}{tries}",
                url.path()
            )
        } else {
            let cause = std::error::Error::source(e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.to_string());
            format!("{host} failed {method} {}: {cause}{tries}", url.path())
        }
    }

    pub async fn get(&self, segments: &[&str], query: &[(&str, String)]) -> ProviderResult<Value> {
        self.send(Method::GET, segments, query, Body::None).await
    }
}

/// `Retry-After` (seconds) or, when Hetzner's budget is spent, the time until `RateLimit-Reset`.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    if let Some(secs) = number("retry-after") {
        return Some(Duration::from_secs(secs.max(0) as u64));
    }
    if number("ratelimit-remaining") == Some(0) {
        if let Some(reset) = number("ratelimit-reset") {
            let now = chrono::Utc::now().timestamp();
            return Some(Duration::from_secs((reset - now).clamp(1, 60) as u64));
        }
    }
    None
}

/// The provider's own words: Hetzner `error.message`, Proxmox `message` + per-field `errors`.
fn provider_message(body: &str, status: StatusCode) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let mut parts = Vec::new();
    if let Some(v) = &parsed {
        if let Some(m) = v.pointer("/error/message").and_then(Value::as_str) {
            parts.push(m.trim().to_owned());
        }
        if let Some(m) = v.get("message").and_then(Value::as_str) {
            parts.push(m.trim().to_owned());
        }
        if let Some(m) = v.get("detail").and_then(Value::as_str) {
            parts.push(m.trim().to_owned());
        }
        if let Some(errors) = v.get("errors").and_then(Value::as_object) {
            for (field, msg) in errors {
                parts.push(format!(
                    "{field}: {}",
                    msg.as_str().unwrap_or("invalid").trim()
                ));
            }
        }
    }
    if parts.is_empty() {
        let snippet: String = body.chars().take(200).collect();
        parts.push(if snippet.trim().is_empty() {
            status.to_string()
        } else {
            snippet.trim().to_owned()
        });
    }
    format!("HTTP {}: {}", status.as_u16(), parts.join("; "))
}

/// Proxmox sends numbers as strings and booleans as 0/1: read any of them.
pub fn lenient_i64(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f as i64),
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    }
}

pub fn lenient_bool(v: Option<&Value>) -> bool {
    lenient_i64(v).is_some_and(|n| n != 0)
}

pub fn lenient_str(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_sent_as_strings() {
        assert_eq!(lenient_i64(Some(&Value::String("100".into()))), Some(100));
        assert_eq!(lenient_i64(Some(&serde_json::json!(2.0))), Some(2));
        assert!(lenient_bool(Some(&serde_json::json!("1"))));
        assert!(!lenient_bool(Some(&serde_json::json!(0))));
        assert!(!lenient_bool(None));
    }

    #[test]
    fn names_the_provider_message() {
        let pve = r#"{"data":null,"message":"Parameter verification failed.\n","errors":{"newid":"property is missing"}}"#;
        assert_eq!(
            provider_message(pve, StatusCode::BAD_REQUEST),
            "HTTP 400: Parameter verification failed.; newid: property is missing"
        );
        let hz = r#"{"error":{"code":"uniqueness_error","message":"server name is already used"}}"#;
        assert_eq!(
            provider_message(hz, StatusCode::CONFLICT),
            "HTTP 409: server name is already used"
        );
    }

    #[test]
    fn rate_limit_headers_become_waits() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("ratelimit-remaining", "0".parse().unwrap());
        let reset = chrono::Utc::now().timestamp() + 5;
        h.insert("ratelimit-reset", reset.to_string().parse().unwrap());
        let wait = retry_after(&h).unwrap();
        assert!(wait >= Duration::from_secs(4) && wait <= Duration::from_secs(5));
    }
}
