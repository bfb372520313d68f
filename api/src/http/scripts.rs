//! Deployment scripts and their runs: CRUD with versions, validation, run, re-run, run history.

use super::responses::{Conflict, Forbidden, Invalid, NotFound, Unauthenticated, Unavailable};
use crate::auth::AuthUser;
use crate::domain::scripts::{self, RunFilter};
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{delete, get, post, put, web, HttpResponse};
use shared::dto::{Page, PageQuery};
use shared::scripts::{PlaybookRun, RunScript, SaveScript, Script, ScriptSummary, ScriptVersion};
use shared::servers::Accepted;
use shared::Permission;
use uuid::Uuid;

/// Scripts of the caller's teams (all teams for admins), by name.
#[utoipa::path(
    tag = "scripts",
    params(PageQuery),
    responses((status = 200, body = Page<ScriptSummary>), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/scripts")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<ScriptSummary>>> {
    scripts::require_scripts(&auth)?;
    Ok(web::Json(scripts::list(&state.db, &auth, &query).await?))
}

/// Creates a script (version 1) after checking its fields, YAML and Ansible syntax.
#[utoipa::path(
    tag = "scripts",
    request_body = SaveScript,
    responses((status = 201, body = Script), Unauthenticated, Forbidden, Invalid, Unavailable),
    security(("bearer" = []))
)]
#[post("/scripts")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<SaveScript>,
) -> ApiResult<HttpResponse> {
    scripts::require_scripts(&auth)?;
    let script = scripts::create(&state, &auth, body.into_inner()?).await?;
    Ok(HttpResponse::Created().json(script))
}

/// Checks a script without saving it: 204 when it would be accepted, else the 422 a save gives.
#[utoipa::path(
    tag = "scripts",
    request_body = SaveScript,
    responses((status = 204), Unauthenticated, Forbidden, Invalid, Unavailable),
    security(("bearer" = []))
)]
#[post("/scripts/validate")]
pub async fn validate(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<SaveScript>,
) -> ApiResult<HttpResponse> {
    scripts::require_scripts(&auth)?;
    scripts::check(&state, &body.into_inner()?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A script with its current version and the list of versions.
#[utoipa::path(
    tag = "scripts",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Script), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/scripts/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Script>> {
    scripts::require_scripts(&auth)?;
    let row = scripts::visible(&state.db, &auth, id.into_inner()).await?;
    Ok(web::Json(scripts::detail(&state.db, row).await?))
}

/// Saves an edit; a changed playbook or variable schema becomes a new version.
#[utoipa::path(
    tag = "scripts",
    params(("id" = Uuid, Path)),
    request_body = SaveScript,
    responses((status = 200, body = Script), Unauthenticated, Forbidden, NotFound, Conflict, Invalid, Unavailable),
    security(("bearer" = []))
)]
#[put("/scripts/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<SaveScript>,
) -> ApiResult<web::Json<Script>> {
    scripts::require_scripts(&auth)?;
    Ok(web::Json(
        scripts::update(&state, &auth, id.into_inner(), body.into_inner()?).await?,
    ))
}

/// Deletes a script (past runs keep the versions they ran); shipped samples cannot be deleted.
#[utoipa::path(
    tag = "scripts",
    params(("id" = Uuid, Path)),
    responses((status = 204), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[delete("/scripts/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    scripts::require_scripts(&auth)?;
    scripts::remove(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One version of a script.
#[utoipa::path(
    tag = "scripts",
    params(("id" = Uuid, Path), ("version" = i32, Path)),
    responses((status = 200, body = ScriptVersion), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/scripts/{id}/versions/{version}")]
pub async fn version(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(Uuid, i32)>,
) -> ApiResult<web::Json<ScriptVersion>> {
    scripts::require_scripts(&auth)?;
    let (id, version) = path.into_inner();
    let row = scripts::visible(&state.db, &auth, id).await?;
    let found = scripts::version_of(&state.db, row.id, version).await?;
    Ok(web::Json(scripts::version_dto(&state.db, found).await?))
}

/// Runs a version of the script on servers (a job; follow the execution's events).
#[utoipa::path(
    tag = "scripts",
    params(("id" = Uuid, Path)),
    request_body = RunScript,
    responses((status = 202, body = Accepted), Unauthenticated, Forbidden, NotFound, Invalid),
    security(("bearer" = []))
)]
#[post("/scripts/{id}/run")]
pub async fn run(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<RunScript>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ExecutionsRun)?;
    let execution_id =
        scripts::start_run(&state, &auth, id.into_inner(), body.into_inner()?).await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}

/// Playbook runs (scripts, backups, system updates), newest first.
#[utoipa::path(
    tag = "scripts",
    params(RunFilter),
    responses((status = 200, body = Page<PlaybookRun>), Unauthenticated, Forbidden, Invalid),
    security(("bearer" = []))
)]
#[get("/playbook-runs")]
pub async fn runs(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<RunFilter>,
) -> ApiResult<web::Json<Page<PlaybookRun>>> {
    auth.require(Permission::ServersRead)?;
    Ok(web::Json(
        scripts::list_runs(&state.db, &auth, &query).await?,
    ))
}

/// One playbook run with its variables (secrets masked) and per-host recap.
#[utoipa::path(
    tag = "scripts",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PlaybookRun), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/playbook-runs/{id}")]
pub async fn get_run(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<PlaybookRun>> {
    auth.require(Permission::ServersRead)?;
    let row = scripts::visible_run(&state.db, &auth, id.into_inner()).await?;
    Ok(web::Json(
        scripts::run_dtos(&state.db, vec![row]).await?.remove(0),
    ))
}

/// Runs the same version on the same servers with the same variables again.
#[utoipa::path(
    tag = "scripts",
    params(("id" = Uuid, Path)),
    responses((status = 202, body = Accepted), Unauthenticated, Forbidden, NotFound, Conflict, Invalid),
    security(("bearer" = []))
)]
#[post("/playbook-runs/{id}/rerun")]
pub async fn rerun(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ExecutionsRun)?;
    let execution_id = scripts::rerun(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}
