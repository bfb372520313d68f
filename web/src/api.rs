//! Typed access to the REST API. Every call goes through [`send`], which attaches the access
//! token, turns problem+json answers into [`ApiErrorView`] and, on a 401, refreshes the
//! session once and retries the call once.

use crate::session;
use gloo_net::http::{Method, RequestBuilder, Response};
use serde::{de::DeserializeOwned, Serialize};
use shared::dto::Problem;
use shared::validation::FieldErrors;

/// An API failure in the shape the views need: a message, per-field messages, and the
/// status to decide how to react (0 means the server could not be reached).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApiErrorView {
    pub status: u16,
    pub title: String,
    pub detail: Option<String>,
    pub fields: FieldErrors,
    /// Seconds to wait before retrying, from a 429's Retry-After header.
    pub retry_after: Option<u64>,
}

impl ApiErrorView {
    fn network() -> Self {
        Self {
            status: 0,
            title: "Can't reach the Provisio server".into(),
            detail: Some("Check your connection, then try again.".into()),
            ..Self::default()
        }
    }

    fn unreadable(status: u16) -> Self {
        Self {
            status,
            title: "Unexpected response".into(),
            detail: Some(format!(
                "The server answered with status {status} and a body the app could not read."
            )),
            ..Self::default()
        }
    }

    /// The sentence to show to the user.
    pub fn message(&self) -> String {
        match &self.detail {
            Some(d) if !d.trim().is_empty() => capitalize(d),
            _ => self.title.clone(),
        }
    }

    pub fn is_unreachable(&self) -> bool {
        self.status == 0 || self.status >= 500
    }
}

/// The headline of a refusal in a person's words, by what the status means for them (the HTTP
/// reason phrase, "Conflict" or "Bad Gateway", says nothing to most people).
pub fn headline(status: u16) -> &'static str {
    match status {
        0 => "Can't reach the Provisio server",
        400 | 422 => "Some of this needs correcting",
        401 => "You are signed out",
        403 => "Your roles do not allow this",
        404 => "This does not exist, or is not yours to see",
        409 => "This cannot be done right now",
        410 => "This is no longer available",
        413 => "This is too large to send",
        429 => "Too many attempts",
        502 => "The provider or host did not answer as expected",
        503 => "Provisio is unavailable for a moment",
        s if s >= 500 => "Something went wrong on the server",
        _ => "The request was refused",
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => std::iter::once(first.to_ascii_uppercase())
            .chain(chars)
            .collect(),
        None => String::new(),
    }
}

/// Appends `params` to `path` as a query string, skipping empty values.
pub fn with_query(path: &str, params: &[(&str, String)]) -> String {
    let mut url = path.to_owned();
    let mut first = true;
    for (key, value) in params {
        if value.is_empty() {
            continue;
        }
        url.push(if first { '?' } else { '&' });
        first = false;
        url.push_str(key);
        url.push('=');
        url.push_str(&encode(value));
    }
    url
}

pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn send_once(
    method: &Method,
    url: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> Result<Response, ApiErrorView> {
    let mut builder = RequestBuilder::new(url)
        .method(method.clone())
        .header("Accept", "application/json, application/problem+json");
    if let Some(token) = token {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(json) => builder
            .header("Content-Type", "application/json")
            .body(json.to_owned()),
        None => builder.build(),
    }
    .map_err(|_| ApiErrorView::network())?;
    request.send().await.map_err(|_| ApiErrorView::network())
}

async fn problem_of(response: Response) -> ApiErrorView {
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.trim().parse().ok());
    let text = response.text().await.unwrap_or_default();
    let mut view = match serde_json::from_str::<Problem>(&text) {
        Ok(p) => ApiErrorView {
            status,
            title: headline(status).into(),
            detail: p.detail,
            fields: p.errors.unwrap_or_default(),
            retry_after: None,
        },
        Err(_) => ApiErrorView {
            status,
            title: headline(status).into(),
            detail: None,
            ..ApiErrorView::default()
        },
    };
    if view.title.is_empty() {
        view.title = format!("Request failed ({status})");
    }
    view.retry_after = retry_after;
    view
}

/// Sends an authenticated request; a 401 triggers one shared refresh and one retry.
async fn send(method: Method, url: &str, body: Option<String>) -> Result<Response, ApiErrorView> {
    let token = session::access_token();
    let mut response = send_once(&method, url, body.as_deref(), token.as_deref()).await?;
    if response.status() == 401 {
        match session::refresh().await {
            Ok(()) => {
                let token = session::access_token();
                response = send_once(&method, url, body.as_deref(), token.as_deref()).await?;
                if response.status() == 401 {
                    session::expire();
                }
            }
            Err(e) if e.status == 401 => session::expire(),
            Err(e) => return Err(e),
        }
    }
    if response.ok() {
        Ok(response)
    } else {
        Err(problem_of(response).await)
    }
}

/// Sends a request without the access token and without the refresh-and-retry dance:
/// the auth endpoints themselves.
pub async fn send_public<T: DeserializeOwned>(
    url: &str,
    body: Option<String>,
) -> Result<T, ApiErrorView> {
    parse(public_text(Method::POST, url, body).await?)
}

/// A POST without the access token whose answer has no body.
pub async fn post_public_empty(url: &str, body: Option<String>) -> Result<(), ApiErrorView> {
    public_text(Method::POST, url, body).await.map(drop)
}

/// A GET that needs no sign-in (the landing page's data).
pub async fn get_public<T: DeserializeOwned>(url: &str) -> Result<T, ApiErrorView> {
    parse(public_text(Method::GET, url, None).await?)
}

async fn public_text(
    method: Method,
    url: &str,
    body: Option<String>,
) -> Result<(u16, String), ApiErrorView> {
    let response = send_once(&method, url, body.as_deref(), None).await?;
    if response.ok() {
        Ok((response.status(), response.text().await.unwrap_or_default()))
    } else {
        Err(problem_of(response).await)
    }
}

/// The body of a successful authenticated call. Not generic: only the final parse is, which
/// keeps one copy of the request machinery in the wasm instead of one per response type.
async fn text(
    method: Method,
    url: &str,
    body: Option<String>,
) -> Result<(u16, String), ApiErrorView> {
    body_of(send(method, url, body).await?).await
}

async fn body_of(response: Response) -> Result<(u16, String), ApiErrorView> {
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|_| ApiErrorView::unreadable(status))?;
    Ok((status, text))
}

pub fn parse<T: DeserializeOwned>((status, text): (u16, String)) -> Result<T, ApiErrorView> {
    serde_json::from_str(&text).map_err(|_| ApiErrorView::unreadable(status))
}

pub fn to_json<B: Serialize>(body: &B) -> Result<String, ApiErrorView> {
    serde_json::to_string(body).map_err(|_| ApiErrorView {
        title: "Could not prepare the request".into(),
        ..ApiErrorView::default()
    })
}

pub async fn post<B: Serialize, T: DeserializeOwned>(
    url: &str,
    body: &B,
) -> Result<T, ApiErrorView> {
    let body = to_json(body)?;
    parse(text(Method::POST, url, Some(body)).await?)
}

/// A POST whose answer also carries a header the view needs (e.g. `X-Execution-Id`).
pub async fn post_with_header<B: Serialize, T: DeserializeOwned>(
    url: &str,
    body: &B,
    header: &str,
) -> Result<(T, Option<String>), ApiErrorView> {
    let body = to_json(body)?;
    let response = send(Method::POST, url, Some(body)).await?;
    let value = response.headers().get(header);
    Ok((parse(body_of(response).await?)?, value))
}

pub async fn patch<B: Serialize, T: DeserializeOwned>(
    url: &str,
    body: &B,
) -> Result<T, ApiErrorView> {
    let body = to_json(body)?;
    parse(text(Method::PATCH, url, Some(body)).await?)
}

pub async fn put<B: Serialize, T: DeserializeOwned>(
    url: &str,
    body: &B,
) -> Result<T, ApiErrorView> {
    let body = to_json(body)?;
    parse(text(Method::PUT, url, Some(body)).await?)
}

/// A DELETE with a body (e.g. a typed confirmation) that answers with JSON.
pub async fn delete_with<B: Serialize, T: DeserializeOwned>(
    url: &str,
    body: &B,
) -> Result<T, ApiErrorView> {
    let body = to_json(body)?;
    parse(text(Method::DELETE, url, Some(body)).await?)
}

/// A POST without a body (workflow actions) that answers with JSON.
/// `path?ticket=…`, which opens a live stream or terminal once. EventSource and WebSocket
/// cannot send the access token as a header, and a token in a URL would end up in logs; the
/// ticket is asked for with the token (refreshed first if it expired) and is spent on use.
pub async fn with_ticket(path: &str) -> Result<String, ApiErrorView> {
    let ticket: shared::dto::StreamTicket = post(
        "/api/auth/stream-tickets",
        &shared::dto::StreamTicketRequest { path: path.into() },
    )
    .await?;
    Ok(format!("{path}?ticket={}", encode(&ticket.ticket)))
}

pub async fn post_empty<T: DeserializeOwned>(url: &str) -> Result<T, ApiErrorView> {
    parse(text(Method::POST, url, None).await?)
}

/// A POST without a body whose answer is not needed.
pub async fn post_bare(url: &str) -> Result<(), ApiErrorView> {
    send(Method::POST, url, None).await.map(drop)
}

/// Status and body of an authenticated GET, parsed later with [`parse`].
pub async fn get_raw(url: &str) -> Result<(u16, String), ApiErrorView> {
    text(Method::GET, url, None).await
}

/// The raw body of an authenticated GET (e.g. a CSV export).
pub async fn get_text(url: &str) -> Result<String, ApiErrorView> {
    text(Method::GET, url, None).await.map(|(_, t)| t)
}

/// A call answered with 204 No Content.
pub async fn post_no_content<B: Serialize>(url: &str, body: &B) -> Result<(), ApiErrorView> {
    let body = to_json(body)?;
    send(Method::POST, url, Some(body)).await.map(drop)
}

pub async fn put_no_content<B: Serialize>(url: &str, body: Option<&B>) -> Result<(), ApiErrorView> {
    let body = body.map(to_json).transpose()?;
    send(Method::PUT, url, body).await.map(drop)
}

pub async fn delete(url: &str) -> Result<(), ApiErrorView> {
    send(Method::DELETE, url, None).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::headline;

    #[test]
    fn refusals_are_headed_in_plain_words_not_reason_phrases() {
        for (status, reason) in [
            (409, "Conflict"),
            (502, "Bad Gateway"),
            (422, "Unprocessable"),
        ] {
            assert!(!headline(status).contains(reason), "{status}");
        }
        assert_eq!(headline(409), "This cannot be done right now");
        assert_eq!(headline(500), "Something went wrong on the server");
        assert_eq!(headline(418), "The request was refused");
    }
}
