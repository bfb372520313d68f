//! Backups and system updates of a server, now or on cron schedules.

use super::responses::{Conflict, Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::maintenance;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{delete, get, post, put, web, HttpResponse};
use shared::scripts::{RunMaintenance, SaveSchedule, Schedule};
use shared::servers::Accepted;
use shared::Permission;
use uuid::Uuid;

/// Starts a backup (provider snapshot, or the Backup playbook) or a system update.
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    request_body = RunMaintenance,
    responses((status = 202, body = Accepted), Unauthenticated, Forbidden, NotFound, Conflict, Invalid),
    security(("bearer" = []))
)]
#[post("/servers/{id}/maintenance")]
pub async fn run(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<RunMaintenance>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ServersOperate)?;
    let execution_id =
        maintenance::start(&state, &auth, id.into_inner(), body.into_inner()?).await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}

/// The server's maintenance schedules.
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Schedule>), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/servers/{id}/schedules")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Vec<Schedule>>> {
    auth.require(Permission::ServersOperate)?;
    Ok(web::Json(
        maintenance::list(&state.db, &auth, id.into_inner()).await?,
    ))
}

/// Schedules a maintenance operation with a five-field cron expression (UTC).
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    request_body = SaveSchedule,
    responses((status = 201, body = Schedule), Unauthenticated, Forbidden, NotFound, Invalid),
    security(("bearer" = []))
)]
#[post("/servers/{id}/schedules")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<SaveSchedule>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ServersOperate)?;
    let schedule = maintenance::create(&state, &auth, id.into_inner(), body.into_inner()?).await?;
    Ok(HttpResponse::Created().json(schedule))
}

/// Changes a schedule (operation, cron, enabled, variables).
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    request_body = SaveSchedule,
    responses((status = 200, body = Schedule), Unauthenticated, Forbidden, NotFound, Invalid),
    security(("bearer" = []))
)]
#[put("/schedules/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<SaveSchedule>,
) -> ApiResult<web::Json<Schedule>> {
    auth.require(Permission::ServersOperate)?;
    Ok(web::Json(
        maintenance::update(&state, &auth, id.into_inner(), body.into_inner()?).await?,
    ))
}

/// Deletes a schedule.
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    responses((status = 204), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[delete("/schedules/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ServersOperate)?;
    maintenance::remove(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
