//! A team's Git projects: list, create (clones in a job), detail with branches and commits,
//! sync (pull in a job), delete.

use super::responses::{Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::projects;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{delete, get, post, web, HttpResponse};
use shared::projects::{CreateProject, Project, ProjectDetail, PushBranch};
use shared::servers::Accepted;
use shared::Permission;
use uuid::Uuid;

/// Projects of the caller's teams (all for admins), by name.
#[utoipa::path(
    tag = "projects",
    responses((status = 200, body = Vec<Project>), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/projects")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<Vec<Project>>> {
    auth.require(Permission::DeploymentsManage)?;
    Ok(web::Json(projects::list(&state.db, &auth).await?))
}

/// Adds a repository (https or ssh URL; a deploy key for private ones) and starts cloning it;
/// `Location` names the project, the body's `execution_id` follows the clone.
#[utoipa::path(
    tag = "projects",
    request_body = CreateProject,
    responses((status = 201, body = ProjectDetail), Unauthenticated, Forbidden, Invalid),
    security(("bearer" = []))
)]
#[post("/projects")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<CreateProject>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::DeploymentsManage)?;
    let (detail, execution) = projects::create(&state, &auth, body.into_inner()?).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/projects/{}", detail.project.id)))
        .insert_header(("X-Execution-Id", execution.to_string()))
        .json(detail))
}

/// A project with its branches and latest commits.
#[utoipa::path(
    tag = "projects",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ProjectDetail), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/projects/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ProjectDetail>> {
    auth.require(Permission::DeploymentsManage)?;
    let row = projects::visible(&state.db, &auth, id.into_inner()).await?;
    Ok(web::Json(projects::detail(&state, row).await?))
}

/// Pulls the repository again (a job; follow the execution).
#[utoipa::path(
    tag = "projects",
    params(("id" = Uuid, Path)),
    responses((status = 202, body = Accepted), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[post("/projects/{id}/sync")]
pub async fn sync(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::DeploymentsManage)?;
    let execution_id = projects::sync(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}

/// Pushes a branch of the checkout (commits made in the project's terminal, e.g. by a coding
/// assistant) to the repository with the deploy key, or the platform's service key where the Git
/// host lets it write (a job; follow the execution).
#[utoipa::path(
    tag = "projects",
    params(("id" = Uuid, Path)),
    request_body(content = Option<PushBranch>, description = "Optional: without it the checkout's current branch is pushed."),
    responses((status = 202, body = Accepted), Unauthenticated, Forbidden, NotFound, Invalid),
    security(("bearer" = []))
)]
#[post("/projects/{id}/push")]
pub async fn push(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::OptionalJson<PushBranch>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::DeploymentsManage)?;
    let branch = body.into_inner()?.and_then(|b| b.branch);
    let execution_id = projects::push(&state, &auth, id.into_inner(), branch).await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}

/// Deletes the project and its checkout.
#[utoipa::path(
    tag = "projects",
    params(("id" = Uuid, Path)),
    responses((status = 204), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[delete("/projects/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::DeploymentsManage)?;
    projects::remove(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
