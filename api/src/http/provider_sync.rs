//! The seed-compatible endpoints `GET /api/proxmox/resources` and `POST /api/proxmox/sync`, and
//! their Hetzner twins: the same as the per-account calls, over every account of the kind.

use super::responses::{BadGateway, Forbidden, Invalid, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::providers::{resources_of, sync_of};
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, post, web};
use serde::Deserialize;
use shared::providers::ProviderKind;
use shared::servers::{RemoteServer, SyncReport, SyncRequest};
use shared::Permission;
use uuid::Uuid;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountFilter {
    /// Only this account (default: every account of the kind).
    pub provider_account_id: Option<Uuid>,
}

/// Guests of every Proxmox account (or one), as the clusters report them.
#[utoipa::path(
    tag = "providers",
    params(AccountFilter),
    responses((status = 200, body = Vec<RemoteServer>), Unauthenticated, Forbidden, Invalid, BadGateway),
    security(("bearer" = []))
)]
#[get("/proxmox/resources")]
pub async fn proxmox_resources(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<AccountFilter>,
) -> ApiResult<web::Json<Vec<RemoteServer>>> {
    Ok(web::Json(
        resources_of(&state, &auth, ProviderKind::Proxmox, q.provider_account_id).await?,
    ))
}

/// Syncs the inventory with every Proxmox account (or one).
#[utoipa::path(
    tag = "providers",
    request_body = SyncRequest,
    responses((status = 200, body = SyncReport), Unauthenticated, Forbidden, Invalid, BadGateway),
    security(("bearer" = []))
)]
#[post("/proxmox/sync")]
pub async fn proxmox_sync(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<SyncRequest>,
) -> ApiResult<web::Json<SyncReport>> {
    auth.require(Permission::ProvidersManage)?;
    Ok(web::Json(
        sync_of(&state, &auth, ProviderKind::Proxmox, body.into_inner()?).await?,
    ))
}

/// Servers of every Hetzner account (or one), as the projects report them.
#[utoipa::path(
    tag = "providers",
    params(AccountFilter),
    responses((status = 200, body = Vec<RemoteServer>), Unauthenticated, Forbidden, Invalid, BadGateway),
    security(("bearer" = []))
)]
#[get("/hetzner/resources")]
pub async fn hetzner_resources(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<AccountFilter>,
) -> ApiResult<web::Json<Vec<RemoteServer>>> {
    Ok(web::Json(
        resources_of(&state, &auth, ProviderKind::Hetzner, q.provider_account_id).await?,
    ))
}

/// Syncs the inventory with every Hetzner account (or one).
#[utoipa::path(
    tag = "providers",
    request_body = SyncRequest,
    responses((status = 200, body = SyncReport), Unauthenticated, Forbidden, Invalid, BadGateway),
    security(("bearer" = []))
)]
#[post("/hetzner/sync")]
pub async fn hetzner_sync(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<SyncRequest>,
) -> ApiResult<web::Json<SyncReport>> {
    auth.require(Permission::ProvidersManage)?;
    Ok(web::Json(
        sync_of(&state, &auth, ProviderKind::Hetzner, body.into_inner()?).await?,
    ))
}
