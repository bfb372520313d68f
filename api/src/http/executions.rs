//! Executions: one run of background work with its log.

use super::responses::{Conflict, Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::executions::{self, lines_after};
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use shared::servers::{Accepted, ExecutionDetail, SendProbe};
use shared::Permission;
use uuid::Uuid;

/// An execution with its whole log.
#[utoipa::path(
    tag = "executions",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ExecutionDetail), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/executions/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ExecutionDetail>> {
    let row = executions::visible(&state.db, &auth, id.into_inner()).await?;
    let lines = lines_after(&state.db, &[row.id], 0, 20_000).await?;
    Ok(web::Json(ExecutionDetail {
        execution: executions::to_dto(row),
        lines,
    }))
}

/// Stops the job behind a queued or running execution (a running one stops at its next heartbeat).
#[utoipa::path(
    tag = "executions",
    params(("id" = Uuid, Path)),
    responses((status = 202, body = Accepted), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/executions/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let execution_id = executions::cancel(&state.db, &auth, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}

/// Sends a probe through the job queue (administrators): a worker claims it, waits `wait_ms`,
/// prints `lines` log lines `interval_ms` apart, logs which worker answered and succeeds. Follow it at `/api/executions/{id}/events`.
#[utoipa::path(
    tag = "executions",
    request_body = SendProbe,
    responses((status = 202, body = Accepted), Unauthenticated, Forbidden, Invalid),
    security(("bearer" = []))
)]
#[post("/probes")]
pub async fn probe(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<SendProbe>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::AllTeams)?;
    let execution_id = crate::domain::probes::send(&state, &auth, body.into_inner()?).await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}
