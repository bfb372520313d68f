//! App deployments, the seed API verbatim: `POST /api/deploy`, `GET /api/deployments`,
//! `GET|DELETE /api/deployments/{id}`, `GET /api/deployments/{id}/logs`, `GET /api/statistics`;
//! plus stop, start and redeploy. Every step is a job; its execution streams over SSE.

use super::responses::{Conflict, Forbidden, Gone, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::deployments::{self, ListQuery, UserAction};
use crate::error::{retry_stale, ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{delete, get, post, web, HttpResponse};
use serde::Deserialize;
use shared::deployments::{
    DeployRequest, Deployment, DeploymentLogs, DeploymentPage, DeploymentStatus,
    PrivateKeyDownload, Redeploy, Statistics,
};
use shared::Permission;
use utoipa::IntoParams;
use uuid::Uuid;

/// 202 with the step's execution; a deployment deleted before anything was deployed has none.
fn accepted(deployment: Deployment, execution: Option<Uuid>) -> HttpResponse {
    let mut response = HttpResponse::Accepted();
    if let Some(execution) = execution {
        response.insert_header(("X-Execution-Id", execution.to_string()));
    }
    response.json(deployment)
}

/// Deploys a Git repository (a project of the team or a URL) with a framework preset onto an
/// existing server (`server_id`) or a new VM/LXC guest (`provider_account_id`, `location`, `image`,
/// resources; a server request is filed, and approved at once when the caller may): PENDING → PROVISIONING → DEPLOYING → RUNNING (or FAILED naming the step). The answer's
/// `execution_id` (also `X-Execution-Id`) streams the progress at `/api/executions/{id}/events`.
#[utoipa::path(
    tag = "deployments",
    request_body(
        content = DeployRequest,
        examples(
            ("The six fields of the PaaS form" = (
                summary = "A new VM at the team's default provider account",
                value = json!({"deployment_type": "VM", "framework": "Flask",
                               "github_url": "https://github.com/example/hello-flask.git",
                               "cpu_cores": 2, "memory_mb": 2048, "disk_gb": 20})
            )),
            ("An LXC container at a named account" = (
                value = json!({"name": "shop-api", "team_id": "6f1c2b8e-2f44-4f7e-9a51-0c3e1d2a9b10",
                               "git_url": "https://github.com/example/shop-api.git", "branch": "main",
                               "framework": "express", "deployment_type": "lxc",
                               "provider_account_id": "0b7e4c1a-58d2-4b8f-a0f3-7d9e2c6b1a44",
                               "location": "pve1", "image": "debian-12-ct",
                               "cpu": 1, "ram_mb": 1024, "disk_gb": 8})
            )),
            ("A Hetzner server type" = (
                value = json!({"git_url": "https://github.com/example/site.git", "framework": "Next.js",
                               "provider_account_id": "0b7e4c1a-58d2-4b8f-a0f3-7d9e2c6b1a44",
                               "server_type": "cx22"})
            )),
            ("A project onto a running server" = (
                value = json!({"project_id": "2a9d7c5e-1b3f-4e6a-8c0d-9f8e7d6c5b4a",
                               "server_id": "7c3e5a1f-9b2d-4c8e-a6f0-1d2e3f4a5b6c",
                               "env": {"DATABASE_URL": "postgres://db/shop"}})
            ))
        )
    ),
    responses((status = 201, body = Deployment), Unauthenticated, Forbidden, Invalid),
    security(("bearer" = []))
)]
#[post("/deploy")]
pub async fn deploy(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<DeployRequest>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::DeploymentsManage)?;
    let input = body.into_inner()?;
    let (deployment, execution) =
        retry_stale(|| deployments::create(&state, &auth, input.clone())).await?;
    let mut response = HttpResponse::Created();
    response.insert_header(("Location", format!("/api/deployments/{}", deployment.id)));
    if let Some(execution) = execution {
        response.insert_header(("X-Execution-Id", execution.to_string()));
    }
    Ok(response.json(deployment))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeploymentQuery {
    /// Ignored with `after`.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// The `next` of the previous page: continues right after its last row, as fast at page 200
    /// as at page 1.
    pub after: Option<String>,
    /// At most 200.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// One status (upper case); without it DELETED ones are left out.
    pub status: Option<String>,
    pub framework: Option<String>,
    /// Part of the name.
    pub q: Option<String>,
}

/// Deployments of the caller's teams, newest first.
#[utoipa::path(
    tag = "deployments",
    params(DeploymentQuery),
    responses((status = 200, body = DeploymentPage), Unauthenticated, Forbidden, Invalid),
    security(("bearer" = []))
)]
#[get("/deployments")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<DeploymentQuery>,
) -> ApiResult<web::Json<DeploymentPage>> {
    let query = query.into_inner();
    let (page, per_page) = crate::domain::listing::paging(query.page, query.per_page)?;
    let status = match query.status.as_deref() {
        Some(s) => Some(DeploymentStatus::parse(s).ok_or_else(|| {
            ApiError::field(
                "status",
                "one of PENDING, PROVISIONING, DEPLOYING, RUNNING, STOPPED, FAILED, DELETING, DELETED",
            )
        })?),
        None => None,
    };
    let after = match query.after.as_deref() {
        Some(text) => Some(deployments::Cursor::decode(text).ok_or_else(|| {
            ApiError::field("after", "not a `next` value from a page of this list")
        })?),
        None => None,
    };
    let query = ListQuery {
        page,
        per_page,
        after,
        status,
        framework: query.framework,
        q: query.q,
        include_deleted: false,
    };
    Ok(web::Json(deployments::list(&state.db, &auth, query).await?))
}

#[utoipa::path(
    tag = "deployments",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Deployment), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/deployments/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Deployment>> {
    auth.require(Permission::DeploymentsManage)?;
    let row = deployments::visible(&state.db, &auth, id.into_inner()).await?;
    Ok(web::Json(deployments::dto(&state.db, row).await?))
}

/// Removes the app from its server (service, nginx site, files): DELETING, then DELETED. A
/// deployment still waiting for its server (PENDING) is DELETED at once and the server request it
/// waited for is cancelled.
#[utoipa::path(
    tag = "deployments",
    params(("id" = Uuid, Path)),
    responses((status = 202, body = Deployment), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[delete("/deployments/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (deployment, execution) =
        retry_stale(|| deployments::act(&state, &auth, id, UserAction::Delete)).await?;
    Ok(accepted(deployment, execution))
}

/// Stops the app's service and takes its site off nginx (RUNNING → STOPPED).
#[utoipa::path(
    tag = "deployments",
    params(("id" = Uuid, Path)),
    responses((status = 202, body = Deployment), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/deployments/{id}/stop")]
pub async fn stop(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (deployment, execution) =
        retry_stale(|| deployments::act(&state, &auth, id, UserAction::Stop)).await?;
    Ok(accepted(deployment, execution))
}

/// Starts a stopped app again and checks its health (STOPPED → RUNNING).
#[utoipa::path(
    tag = "deployments",
    params(("id" = Uuid, Path)),
    responses((status = 202, body = Deployment), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/deployments/{id}/start")]
pub async fn start(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (deployment, execution) =
        retry_stale(|| deployments::act(&state, &auth, id, UserAction::Start)).await?;
    Ok(accepted(deployment, execution))
}

/// Deploys another commit (or the branch's new head) through the pipeline again.
#[utoipa::path(
    tag = "deployments",
    params(("id" = Uuid, Path)),
    request_body = Redeploy,
    responses((status = 202, body = Deployment), Unauthenticated, Forbidden, NotFound, Conflict, Invalid),
    security(("bearer" = []))
)]
#[post("/deployments/{id}/redeploy")]
pub async fn redeploy(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::OptionalJson<Redeploy>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::DeploymentsManage)?;
    let body = body.into_inner()?.unwrap_or_default();
    let id = id.into_inner();
    let (deployment, execution) =
        retry_stale(|| deployments::act(&state, &auth, id, UserAction::Redeploy(body.clone())))
            .await?;
    Ok(accepted(deployment, execution))
}

/// The private key Provisio generated for the new guest, once, to the person who made the
/// deployment; the server forgets it as it answers (a second call gets 410).
#[utoipa::path(
    tag = "deployments",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PrivateKeyDownload), Unauthenticated, Forbidden, NotFound, Gone),
    security(("bearer" = []))
)]
#[post("/deployments/{id}/private-key")]
pub async fn private_key(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let key = deployments::take_private_key(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(key))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogsQuery {
    /// One of the deployment's executions (default: the newest, after the server's provisioning).
    pub execution_id: Option<Uuid>,
}

/// The deployment's steps and the log lines of one of them. Naming none: the newest step's, after
/// the provisioning of the deployment's own new server (Terraform plan/apply lines included).
#[utoipa::path(
    tag = "deployments",
    params(("id" = Uuid, Path), LogsQuery),
    responses((status = 200, body = DeploymentLogs), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/deployments/{id}/logs")]
pub async fn logs(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    query: web::Query<LogsQuery>,
) -> ApiResult<web::Json<DeploymentLogs>> {
    Ok(web::Json(
        deployments::logs(&state.db, &auth, id.into_inner(), query.execution_id).await?,
    ))
}

/// Totals of the caller's deployments: active, running, failed, success rate, by framework.
#[utoipa::path(
    tag = "deployments",
    responses((status = 200, body = Statistics), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/statistics")]
pub async fn statistics(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<Statistics>> {
    Ok(web::Json(deployments::statistics(&state.db, &auth).await?))
}
