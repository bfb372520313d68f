//! Live progress as Server-Sent Events: persisted log lines replayed after `Last-Event-ID`
//! (header, or `last_event_id` query for clients that reconnect by hand), then followed, with
//! the watched object's status whenever it changes. Reads the database, so every process of a
//! scaled-out deployment serves the same stream; `crate::live` says when to read again.

use super::responses::{Forbidden, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::{executions, requests, servers};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::web::Bytes;
use actix_web::{get, web, HttpRequest, HttpResponse};
use shared::servers::ServerStatus;
use shared::workflow::RequestStatus;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The safety net: streams re-read this often even when nothing woke them.
const POLL: Duration = Duration::from_secs(1);
/// After a wake-up, waits this long so a burst of writes is read in one look.
const GATHER: Duration = Duration::from_millis(15);
const KEEPALIVE: Duration = Duration::from_secs(15);

#[derive(Clone, Copy)]
enum Watch {
    Execution(Uuid),
    Request(Uuid),
    Server(Uuid),
    Deployment(Uuid),
}

struct Follow {
    state: AppState,
    auth: AuthUser,
    watch: Watch,
    last_id: i64,
    last_snapshot: String,
    pending: VecDeque<Bytes>,
    ended: bool,
    polled_once: bool,
    last_sent: Instant,
    changes: tokio::sync::watch::Receiver<u64>,
}

fn frame(event: &str, id: Option<i64>, data: &str) -> Bytes {
    let mut out = String::new();
    if let Some(id) = id {
        out.push_str(&format!("id: {id}\n"));
    }
    out.push_str(&format!("event: {event}\n"));
    for line in data.lines() {
        out.push_str(&format!("data: {line}\n"));
    }
    out.push('\n');
    Bytes::from(out)
}

impl Follow {
    /// One look at the database: queues new lines, a changed snapshot, and the end.
    async fn poll(&mut self) -> Result<(), ApiError> {
        let db = &self.state.db.clone();
        // What to send when it changed (`data`), how to tell it changed (`fingerprint`: the
        // object and its executions), whose log lines to follow, and whether the stream ends.
        let (event, data, fingerprint, execution_ids, done) = match self.watch {
            Watch::Execution(id) => {
                let dto = executions::to_dto(executions::find(db, id).await?);
                let data = serde_json::to_string(&dto).unwrap_or_default();
                (
                    "execution",
                    data.clone(),
                    data,
                    vec![id],
                    dto.status.is_finished(),
                )
            }
            Watch::Request(id) => {
                let row = requests::visible(db, &self.auth, id).await?;
                let status = requests::status_of(&row);
                let runs = executions::of_target(db, "server_request", id).await?;
                let dto = requests::to_dtos(db, &self.auth, vec![row])
                    .await?
                    .remove(0);
                let done = runs.iter().all(|e| e.status.is_finished())
                    && matches!(
                        status,
                        RequestStatus::Deployed
                            | RequestStatus::Failed
                            | RequestStatus::Rejected
                            | RequestStatus::Cancelled
                    );
                let data = serde_json::to_string(&dto).unwrap_or_default();
                let fingerprint = data.clone() + &serde_json::to_string(&runs).unwrap_or_default();
                (
                    "request",
                    data,
                    fingerprint,
                    runs.iter().map(|e| e.id).collect(),
                    done,
                )
            }
            Watch::Server(id) => {
                let row = servers::visible(db, &self.auth, id).await?;
                let deleted = servers::status_of(&row) == ServerStatus::Deleted;
                let runs = executions::of_target(db, "server", id).await?;
                let dto = servers::to_dtos(db, vec![row]).await?.remove(0);
                let done = deleted && runs.iter().all(|e| e.status.is_finished());
                let data = serde_json::to_string(&dto).unwrap_or_default();
                let fingerprint = data.clone() + &serde_json::to_string(&runs).unwrap_or_default();
                (
                    "server",
                    data,
                    fingerprint,
                    runs.iter().map(|e| e.id).collect(),
                    done,
                )
            }
            Watch::Deployment(id) => {
                let row = crate::domain::deployments::visible(db, &self.auth, id).await?;
                let deleted = crate::domain::deployments::status_of(&row)
                    == shared::deployments::DeploymentStatus::Deleted;
                let runs = executions::of_target(db, "deployment", id).await?;
                let dto = crate::domain::deployments::dto(db, row).await?;
                let done = deleted && runs.iter().all(|e| e.status.is_finished());
                let data = serde_json::to_string(&dto).unwrap_or_default();
                let fingerprint = data.clone() + &serde_json::to_string(&runs).unwrap_or_default();
                (
                    "deployment",
                    data,
                    fingerprint,
                    runs.iter().map(|e| e.id).collect(),
                    done,
                )
            }
        };
        if fingerprint != self.last_snapshot {
            self.last_snapshot = fingerprint;
            self.pending.push_back(frame(event, None, &data));
        }
        loop {
            let lines = executions::lines_after(db, &execution_ids, self.last_id, 500).await?;
            let full = lines.len() == 500;
            for line in lines {
                self.last_id = line.id;
                self.pending.push_back(frame(
                    "log",
                    Some(line.id),
                    &serde_json::to_string(&line).unwrap_or_default(),
                ));
            }
            if !full {
                break;
            }
        }
        if done {
            self.pending.push_back(frame("end", None, "{}"));
            self.ended = true;
        }
        Ok(())
    }

    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(b) = self.pending.pop_front() {
                self.last_sent = Instant::now();
                return Some(b);
            }
            if self.ended {
                return None;
            }
            if self.polled_once {
                tokio::select! {
                    woken = self.changes.changed() => {
                        if woken.is_ok() {
                            tokio::time::sleep(GATHER).await;
                        }
                    }
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
            self.polled_once = true;
            if let Err(e) = self.poll().await {
                let msg = match e {
                    ApiError::NotFound => "gone".to_owned(),
                    other => {
                        tracing::warn!(error = %other, "live stream poll failed");
                        "temporarily unavailable".to_owned()
                    }
                };
                self.pending.push_back(frame(
                    "error",
                    None,
                    &serde_json::json!({"detail": msg}).to_string(),
                ));
                self.ended = true;
                continue;
            }
            if self.pending.is_empty() && self.last_sent.elapsed() > KEEPALIVE {
                self.last_sent = Instant::now();
                return Some(Bytes::from_static(b": keep-alive\n\n"));
            }
        }
    }
}

fn last_event_id(req: &HttpRequest) -> i64 {
    req.headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .or_else(|| {
            req.query_string()
                .split('&')
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| *k == "last_event_id")
                .and_then(|(_, v)| v.parse().ok())
        })
        .unwrap_or(0)
}

fn stream(state: &AppState, auth: AuthUser, watch: Watch, req: &HttpRequest) -> HttpResponse {
    let follow = Follow {
        state: state.clone(),
        auth,
        watch,
        last_id: last_event_id(req),
        last_snapshot: String::new(),
        pending: VecDeque::new(),
        ended: false,
        polled_once: false,
        last_sent: Instant::now(),
        changes: crate::live::subscribe(),
    };
    let body = futures_util::stream::unfold(follow, |mut f| async move {
        f.next().await.map(|b| (Ok::<_, actix_web::Error>(b), f))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body)
}

/// Live log and status of one execution (SSE; a browser opens it with `?ticket=` from `POST /api/auth/stream-tickets`).
#[utoipa::path(
    tag = "executions",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "text/event-stream of `log`, `execution` and `end` events", content_type = "text/event-stream", body = String), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/executions/{id}/events")]
pub async fn execution_events(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    executions::visible(&state.db, &auth, id).await?;
    Ok(stream(&state, auth, Watch::Execution(id), &req))
}

/// Live status and provisioning log of a request (SSE; a browser opens it with `?ticket=` from `POST /api/auth/stream-tickets`).
#[utoipa::path(
    tag = "requests",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "text/event-stream of `request`, `log` and `end` events", content_type = "text/event-stream", body = String), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/requests/{id}/events")]
pub async fn request_events(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    requests::visible(&state.db, &auth, id).await?;
    Ok(stream(&state, auth, Watch::Request(id), &req))
}

/// Live status and operation logs of a server (SSE; a browser opens it with `?ticket=` from `POST /api/auth/stream-tickets`).
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "text/event-stream of `server`, `log` and `end` events", content_type = "text/event-stream", body = String), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/servers/{id}/events")]
pub async fn server_events(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    servers::visible(&state.db, &auth, id).await?;
    Ok(stream(&state, auth, Watch::Server(id), &req))
}

/// Live status and the logs of every step of a deployment (SSE; a browser opens it with `?ticket=` from `POST /api/auth/stream-tickets`):
/// `deployment` events when it changes, `log` lines of all its executions, `end` once deleted.
#[utoipa::path(
    tag = "deployments",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "text/event-stream of `deployment`, `log` and `end` events", content_type = "text/event-stream", body = String), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/deployments/{id}/events")]
pub async fn deployment_events(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(shared::Permission::DeploymentsManage)?;
    let id = id.into_inner();
    crate::domain::deployments::visible(&state.db, &auth, id).await?;
    Ok(stream(&state, auth, Watch::Deployment(id), &req))
}
