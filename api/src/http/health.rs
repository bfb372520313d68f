use super::responses::Unauthenticated;
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use shared::dto::Health;

/// Liveness: the process answers.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
        database: None,
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Readiness: the database answers a query.
#[utoipa::path(tag = "health", responses((status = 200, body = Health), (status = 503, body = Health)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    // Bounded: a connection whose peer vanished without closing it would otherwise hang here.
    let ok = tokio::time::timeout(state.config.db_acquire_timeout, state.db.ping())
        .await
        .is_ok_and(|pinged| pinged.is_ok());
    let body = Health {
        status: if ok { "ok" } else { "unavailable" }.into(),
        database: Some(if ok { "ok" } else { "unreachable" }.into()),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header((
                actix_web::http::header::RETRY_AFTER,
                crate::error::UNAVAILABLE_RETRY_AFTER_SECS,
            ))
            .json(body)
    }
}

/// Prometheus metrics: HTTP latency by route, job durations by kind, provider errors, queue
/// depth. Open to loopback callers; others need `Authorization: Bearer $PROVISIO_METRICS_TOKEN`.
#[utoipa::path(tag = "health", responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String), Unauthenticated))]
#[get("/metrics")]
pub async fn metrics(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> crate::error::ApiResult<HttpResponse> {
    let token = state.config.metrics_token.as_deref();
    let presented = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let loopback = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
    let allowed = match (token, presented) {
        (Some(expected), Some(given)) => {
            crate::auth::secrets::digest(expected) == crate::auth::secrets::digest(given)
        }
        _ => loopback,
    };
    if !allowed {
        return Err(crate::error::ApiError::Unauthenticated(
            "metrics need the metrics token (or a loopback caller)",
        ));
    }
    let queue = crate::domain::jobs::queue_depth(&state.db).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::server::metrics::render(&queue)))
}
