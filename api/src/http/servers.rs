//! The managed inventory: list, detail, labels, power, delete, SSH host registration.

use super::responses::{BadGateway, Conflict, Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::servers::{self, visible, Operation};
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{delete, get, post, put, web, HttpResponse};
use shared::dto::Page;
use shared::servers::{
    Accepted, DeleteServer, PowerRequest, RegisterHost, Server, ServerDetail, ServerListQuery,
    SnapshotRequest, UpdateServerLabels,
};
use shared::Permission;
use uuid::Uuid;

/// Servers the caller may see, filtered, sorted and paginated (deleted ones only when asked for).
#[utoipa::path(
    tag = "servers",
    params(ServerListQuery),
    responses((status = 200, body = Page<Server>), Unauthenticated, Invalid),
    security(("bearer" = []))
)]
#[get("/servers")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ServerListQuery>,
) -> ApiResult<web::Json<Page<Server>>> {
    Ok(web::Json(
        servers::page(&state, &auth, query.into_inner()).await?,
    ))
}

/// One server with the actions it allows now and its recent executions.
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ServerDetail), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/servers/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ServerDetail>> {
    let row = visible(&state.db, &auth, id.into_inner()).await?;
    Ok(web::Json(servers::detail(&state.db, row).await?))
}

/// Starts, stops or reboots the server at its provider (a job; follow the execution).
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    request_body = PowerRequest,
    responses((status = 202, body = Accepted), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/servers/{id}/power")]
pub async fn power(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<PowerRequest>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ServersOperate)?;
    let execution_id = servers::start_operation(
        &state,
        &auth,
        id.into_inner(),
        Operation::Power(body.into_inner()?.action),
    )
    .await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}

/// Takes a provider snapshot of the server (a job; follow the execution).
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    request_body = SnapshotRequest,
    responses((status = 202, body = Accepted), Unauthenticated, Forbidden, NotFound, Conflict, Invalid),
    security(("bearer" = []))
)]
#[post("/servers/{id}/snapshot")]
pub async fn snapshot(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<SnapshotRequest>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ServersOperate)?;
    let op = Operation::Snapshot {
        description: body.into_inner()?.description,
    };
    let execution_id = servers::start_operation(&state, &auth, id.into_inner(), op).await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}

/// Turns on the provider's scheduled backups of the server (Hetzner; a job).
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    responses((status = 202, body = Accepted), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/servers/{id}/backups")]
pub async fn enable_backups(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let execution_id =
        servers::start_operation(&state, &auth, id.into_inner(), Operation::EnableBackups).await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}

/// Destroys the server at its provider (registered hosts are only unregistered). The body must
/// repeat the server's name.
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    request_body = DeleteServer,
    responses((status = 202, body = Accepted), Unauthenticated, Forbidden, NotFound, Conflict, Invalid),
    security(("bearer" = []))
)]
#[delete("/servers/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<DeleteServer>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ServersOperate)?;
    let execution_id = servers::start_operation(
        &state,
        &auth,
        id.into_inner(),
        Operation::Delete {
            confirm_name: body.into_inner()?.confirm_name,
        },
    )
    .await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}

/// Replaces the server's labels in the inventory.
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    request_body = UpdateServerLabels,
    responses((status = 200, body = Server), Unauthenticated, Forbidden, NotFound, Invalid),
    security(("bearer" = []))
)]
#[put("/servers/{id}/labels")]
pub async fn labels(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<UpdateServerLabels>,
) -> ApiResult<web::Json<Server>> {
    auth.require(Permission::ServersOperate)?;
    Ok(web::Json(
        servers::set_labels(&state, &auth, id.into_inner(), body.into_inner()?).await?,
    ))
}

/// Registers an existing machine: checks it answers on SSH, logs in with the account's key and
/// pins its host key.
#[utoipa::path(
    tag = "servers",
    request_body = RegisterHost,
    responses((status = 201, body = ServerDetail), Unauthenticated, Forbidden, Conflict, Invalid, BadGateway),
    security(("bearer" = []))
)]
#[post("/servers/register")]
pub async fn register(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<RegisterHost>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ServersOperate)?;
    let answer = servers::register(&state, &auth, body.into_inner()?).await?;
    Ok(HttpResponse::Created().json(answer))
}
