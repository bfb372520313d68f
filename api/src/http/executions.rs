//! Executions: one run of background work with its log.

use super::events::visible_execution;
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::executions::{self, lines_after};
use crate::entities::jobs;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use shared::dto::Problem;
use shared::servers::{Accepted, ExecutionDetail, SendProbe};
use shared::Permission;
use uuid::Uuid;

/// An execution with its whole log.
#[utoipa::path(
    tag = "executions",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ExecutionDetail), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/executions/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ExecutionDetail>> {
    let row = visible_execution(&state, &auth, id.into_inner()).await?;
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
    responses((status = 202, body = Accepted), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/executions/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ServersOperate)?;
    let row = visible_execution(&state, &auth, id.into_inner()).await?;
    let job = jobs::Entity::find()
        .filter(jobs::Column::ExecutionId.eq(row.id))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::Conflict("this execution has no job to cancel".into()))?;
    if !crate::jobs::request_cancel(&state.db, job.id).await? {
        return Err(ApiError::Conflict("the execution already finished".into()));
    }
    if job.status == "queued" {
        executions::set_status(
            &state.db,
            row.id,
            shared::servers::ExecutionStatus::Cancelled,
            Some("cancelled before it started"),
        )
        .await?;
    }
    audit::record(
        &state.db,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "execution.cancel",
            target_type: "execution",
            target_id: Some(row.id.to_string()),
            before: None,
            after: None,
        },
    )
    .await?;
    Ok(HttpResponse::Accepted().json(Accepted {
        execution_id: row.id,
    }))
}

/// Sends a probe through the job queue (administrators): a worker claims it, waits `wait_ms`,
/// prints `lines` log lines `interval_ms` apart, logs which worker answered and succeeds. Follow it at `/api/executions/{id}/events`.
#[utoipa::path(
    tag = "executions",
    request_body = SendProbe,
    responses((status = 202, body = Accepted), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/probes")]
pub async fn probe(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<SendProbe>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::AllTeams)?;
    let execution_id = crate::domain::probes::send(&state, &auth, body.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}
