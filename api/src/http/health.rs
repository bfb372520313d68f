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
    let ok = state.db.ping().await.is_ok();
    let body = Health {
        status: if ok { "ok" } else { "unavailable" }.into(),
        database: Some(if ok { "ok" } else { "unreachable" }.into()),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
