//! The caller's SSH public keys and the platform's service key (public half only).

use super::responses::{Conflict, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::ssh_keys;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{delete, get, post, web, HttpResponse};
use shared::scripts::{AddSshKey, SshKey};
use shared::Permission;
use uuid::Uuid;

/// The caller's keys, then the platform's service key (`service: true`).
#[utoipa::path(
    tag = "ssh-keys",
    responses((status = 200, body = Vec<SshKey>), Unauthenticated),
    security(("bearer" = []))
)]
#[get("/ssh-keys")]
pub async fn list(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<web::Json<Vec<SshKey>>> {
    auth.require(Permission::DashboardView)?;
    ssh_keys::service_key(&state).await?;
    Ok(web::Json(ssh_keys::list(&state.db, &auth).await?))
}

/// Adds a public key (OpenSSH format); the same key twice is a 409.
#[utoipa::path(
    tag = "ssh-keys",
    request_body = AddSshKey,
    responses((status = 201, body = SshKey), Unauthenticated, Conflict, Invalid),
    security(("bearer" = []))
)]
#[post("/ssh-keys")]
pub async fn add(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<AddSshKey>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::DashboardView)?;
    let key = ssh_keys::add(&state, &auth, body.into_inner()?).await?;
    Ok(HttpResponse::Created().json(key))
}

/// Removes one of the caller's keys (the service key is not theirs to remove).
#[utoipa::path(
    tag = "ssh-keys",
    params(("id" = Uuid, Path)),
    responses((status = 204), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[delete("/ssh-keys/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::DashboardView)?;
    ssh_keys::remove(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
