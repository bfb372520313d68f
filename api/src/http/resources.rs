//! Managed resources: requested by a team, approved by its policy, provided by a recipe or by
//! hand, used through a revealed (audited) connection.

use super::responses::{Conflict, Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::resources;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, post, put, web, HttpResponse};
use serde::Deserialize;
use shared::dto::{Page, PageQuery};
use shared::resources::{
    BackupSchedule, CreateResource, DeleteResource, FulfilResource, RejectResource, ResizeResource,
    Resource, ResourceBackup, ResourceSecret, ResourceStatus, RestoreResource, ServerRef,
};
use shared::Permission;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResourceListQuery {
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// Only resources in this status (deleted ones are listed only when asked for).
    pub status: Option<ResourceStatus>,
}

/// The resources of the caller's teams (a requester's own), newest first.
#[utoipa::path(tag = "resources", params(ResourceListQuery), responses((status = 200, body = Page<Resource>), Unauthenticated, Forbidden, Invalid), security(("bearer" = [])))]
#[get("/resources")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ResourceListQuery>,
) -> ApiResult<web::Json<Page<Resource>>> {
    let q = query.into_inner();
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
        q: None,
    };
    Ok(web::Json(
        resources::list(&state.db, &auth, page, q.status).await?,
    ))
}

/// Asks for a resource of a catalogue type on one of the team's servers; it waits for the team's
/// approval policy like a server request.
#[utoipa::path(tag = "resources", request_body = CreateResource, responses((status = 201, body = Resource), Unauthenticated, Forbidden, Invalid), security(("bearer" = [])))]
#[post("/resources")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<CreateResource>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::RequestsCreate)?;
    let created = resources::create(&state, &auth, body.into_inner()?).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/resources/{}", created.id)))
        .json(created))
}

#[utoipa::path(tag = "resources", params(("id" = Uuid, Path)), responses((status = 200, body = Resource), Unauthenticated, Forbidden, NotFound), security(("bearer" = [])))]
#[get("/resources/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Resource>> {
    Ok(web::Json(
        resources::get(&state.db, &auth, id.into_inner()).await?,
    ))
}

async fn answer(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<web::Json<Resource>> {
    Ok(web::Json(resources::get(&state.db, auth, id).await?))
}

/// Approves the step the request waits on; the last one starts the recipe (or queues the task
/// for the team's technical agents).
#[utoipa::path(tag = "resources", params(("id" = Uuid, Path)), responses((status = 200, body = Resource), Unauthenticated, Forbidden, NotFound, Conflict), security(("bearer" = [])))]
#[post("/resources/{id}/approve")]
pub async fn approve_resource(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Resource>> {
    let id = id.into_inner();
    resources::approve(&state, &auth, id).await?;
    answer(&state, &auth, id).await
}

#[utoipa::path(tag = "resources", params(("id" = Uuid, Path)), request_body = RejectResource, responses((status = 200, body = Resource), Unauthenticated, Forbidden, NotFound, Conflict, Invalid), security(("bearer" = [])))]
#[post("/resources/{id}/reject")]
pub async fn reject_resource(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<RejectResource>,
) -> ApiResult<web::Json<Resource>> {
    let id = id.into_inner();
    resources::reject(&state, &auth, id, body.into_inner()).await?;
    answer(&state, &auth, id).await
}

/// Withdraws a request not yet set up (its requester, or an approver of the team).
#[utoipa::path(tag = "resources", params(("id" = Uuid, Path)), responses((status = 200, body = Resource), Unauthenticated, Forbidden, NotFound, Conflict), security(("bearer" = [])))]
#[post("/resources/{id}/cancel")]
pub async fn cancel_resource(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Resource>> {
    let id = id.into_inner();
    resources::cancel(&state, &auth, id).await?;
    answer(&state, &auth, id).await
}

/// A technical agent enters the connection details of a resource set up by hand.
#[utoipa::path(tag = "resources", params(("id" = Uuid, Path)), request_body = FulfilResource, responses((status = 200, body = Resource), Unauthenticated, Forbidden, NotFound, Conflict, Invalid), security(("bearer" = [])))]
#[post("/resources/{id}/fulfil")]
pub async fn fulfil(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<FulfilResource>,
) -> ApiResult<web::Json<Resource>> {
    auth.require(Permission::ResourcesFulfil)?;
    let id = id.into_inner();
    resources::fulfil(&state, &auth, id, body.into_inner()?).await?;
    answer(&state, &auth, id).await
}

/// The password or key, and the connection with it ready to paste. Each reveal is audited.
#[utoipa::path(tag = "resources", params(("id" = Uuid, Path)), responses((status = 200, body = ResourceSecret), Unauthenticated, Forbidden, NotFound, Conflict), security(("bearer" = [])))]
#[post("/resources/{id}/reveal")]
pub async fn reveal(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let secret = resources::reveal(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(secret))
}

/// Sets a new password through the recipe; the old one works until it has run.
#[utoipa::path(tag = "resources", params(("id" = Uuid, Path)), responses((status = 202, body = Resource), Unauthenticated, Forbidden, NotFound, Conflict), security(("bearer" = [])))]
#[post("/resources/{id}/rotate")]
pub async fn rotate(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let execution = resources::rotate(&state, &auth, id).await?;
    accepted(&state, &auth, id, execution).await
}

/// Runs a failed recipe again.
#[utoipa::path(tag = "resources", params(("id" = Uuid, Path)), responses((status = 202, body = Resource), Unauthenticated, Forbidden, NotFound, Conflict), security(("bearer" = [])))]
#[post("/resources/{id}/retry")]
pub async fn retry_resource(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let execution = resources::retry(&state, &auth, id).await?;
    accepted(&state, &auth, id, execution).await
}

async fn accepted(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    execution: Uuid,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Accepted()
        .insert_header(("X-Execution-Id", execution.to_string()))
        .json(resources::get(&state.db, auth, id).await?))
}

/// Deletes the resource and its data (`confirm`: its name typed again): the recipe drops it
/// from its server; one set up by hand is marked deleted.
#[utoipa::path(tag = "resources", params(("id" = Uuid, Path)), request_body = DeleteResource, responses((status = 200, body = Resource), Unauthenticated, Forbidden, NotFound, Conflict, Invalid), security(("bearer" = [])))]
#[post("/resources/{id}/delete")]
pub async fn delete_resource(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<DeleteResource>,
) -> ApiResult<web::Json<Resource>> {
    let id = id.into_inner();
    resources::delete(&state, &auth, id, body.into_inner()).await?;
    answer(&state, &auth, id).await
}

/// The resource's backups, newest first: dumps its recipe wrote on its server.
#[utoipa::path(tag = "resources", params(("id" = Uuid, Path)), responses((status = 200, body = Vec<ResourceBackup>), Unauthenticated, Forbidden, NotFound), security(("bearer" = [])))]
#[get("/resources/{id}/backups")]
pub async fn backups(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Vec<ResourceBackup>>> {
    Ok(web::Json(
        resources::backups::list(&state.db, &auth, id.into_inner()).await?,
    ))
}

/// Writes a backup now (a dump on the resource's server, where its recipe takes backups).
#[utoipa::path(tag = "resources", params(("id" = Uuid, Path)), responses((status = 202, body = Resource), Unauthenticated, Forbidden, NotFound, Conflict), security(("bearer" = [])))]
#[post("/resources/{id}/backup")]
pub async fn backup(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let execution = resources::backups::backup(&state, &auth, id).await?;
    accepted(&state, &auth, id, execution).await
}

/// Loads one of its backups back; what was written since is lost.
#[utoipa::path(tag = "resources", params(("id" = Uuid, Path)), request_body = RestoreResource, responses((status = 202, body = Resource), Unauthenticated, Forbidden, NotFound, Conflict, Invalid), security(("bearer" = [])))]
#[post("/resources/{id}/restore")]
pub async fn restore(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<RestoreResource>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let execution = resources::backups::restore(&state, &auth, id, body.into_inner()).await?;
    accepted(&state, &auth, id, execution).await
}

/// Backs it up on a schedule (`cron`, five fields, UTC), or no more (`cron: null`).
#[utoipa::path(tag = "resources", params(("id" = Uuid, Path)), request_body = BackupSchedule, responses((status = 200, body = Resource), Unauthenticated, Forbidden, NotFound, Conflict, Invalid), security(("bearer" = [])))]
#[put("/resources/{id}/backup-schedule")]
pub async fn backup_schedule(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<BackupSchedule>,
) -> ApiResult<web::Json<Resource>> {
    let id = id.into_inner();
    resources::backups::schedule(&state, &auth, id, body.into_inner()).await?;
    answer(&state, &auth, id).await
}

/// Changes the settings that may change in place (`resizable` in the type's recipe, e.g. the
/// connection limit) through the recipe; the others stay as created.
#[utoipa::path(tag = "resources", params(("id" = Uuid, Path)), request_body = ResizeResource, responses((status = 202, body = Resource), Unauthenticated, Forbidden, NotFound, Conflict, Invalid), security(("bearer" = [])))]
#[post("/resources/{id}/resize")]
pub async fn resize(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<ResizeResource>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let execution = resources::resize(&state, &auth, id, body.into_inner()).await?;
    accepted(&state, &auth, id, execution).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetQuery {
    pub team_id: Uuid,
}

/// The team's servers a resource can go on (running, with an address): what the request form
/// offers, also to requesters, who do not see the server inventory.
#[utoipa::path(tag = "resources", params(TargetQuery), responses((status = 200, body = Vec<ServerRef>), Unauthenticated, Forbidden, NotFound, Invalid), security(("bearer" = [])))]
#[get("/resource-targets")]
pub async fn targets(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<TargetQuery>,
) -> ApiResult<web::Json<Vec<ServerRef>>> {
    Ok(web::Json(
        resources::targets(&state.db, &auth, query.team_id).await?,
    ))
}
