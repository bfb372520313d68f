//! The seed-compatible endpoints `GET /api/proxmox/resources` and `POST /api/proxmox/sync`, and
//! their Hetzner twins: the same as the per-account calls, over every account of the kind.

use super::providers::sync_team;
use crate::auth::AuthUser;
use crate::domain::servers::{remote_resources, sync_account};
use crate::entities::provider_accounts as rows;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, post, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use shared::dto::Problem;
use shared::requests::ProviderKind;
use shared::servers::{RemoteServer, SyncReport, SyncRequest};
use shared::Permission;
use uuid::Uuid;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountFilter {
    /// Only this account (default: every account of the kind).
    pub provider_account_id: Option<Uuid>,
}

async fn accounts(
    state: &AppState,
    kind: ProviderKind,
    only: Option<Uuid>,
) -> ApiResult<Vec<Uuid>> {
    let mut select = rows::Entity::find()
        .filter(rows::Column::Kind.eq(kind.as_str()))
        .order_by_asc(rows::Column::Name);
    if let Some(id) = only {
        select = select.filter(rows::Column::Id.eq(id));
    }
    // Accounts without credentials cannot be asked; they are skipped unless named.
    let found: Vec<Uuid> = select
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|a| only.is_some() || a.credentials.is_some())
        .map(|a| a.id)
        .collect();
    if only.is_some() && found.is_empty() {
        return Err(ApiError::field(
            "provider_account_id",
            format!("not a {} account", kind.as_str()),
        ));
    }
    Ok(found)
}

async fn resources_of(
    state: &AppState,
    auth: &AuthUser,
    kind: ProviderKind,
    only: Option<Uuid>,
) -> ApiResult<Vec<RemoteServer>> {
    auth.require(Permission::ProvidersManage)?;
    let mut all = Vec::new();
    for id in accounts(state, kind, only).await? {
        all.extend(remote_resources(state, id).await?);
    }
    Ok(all)
}

async fn sync_of(
    state: &AppState,
    auth: &AuthUser,
    kind: ProviderKind,
    body: SyncRequest,
) -> ApiResult<SyncReport> {
    auth.require(Permission::ProvidersManage)?;
    let team = sync_team(state, body.team_id).await?;
    let mut merged = SyncReport {
        dry_run: body.dry_run,
        ..Default::default()
    };
    for id in accounts(state, kind, body.provider_account_id).await? {
        let r = sync_account(state, auth, id, team, body.dry_run).await?;
        merged.new.extend(r.new);
        merged.changed.extend(r.changed);
        merged.gone.extend(r.gone);
        merged.unchanged += r.unchanged;
    }
    if !body.dry_run {
        crate::domain::audit::record(
            &state.db,
            &auth.context,
            crate::domain::audit::AuditEntry {
                actor: Some(auth.id()),
                action: "provider.sync_all",
                target_type: "provider_kind",
                target_id: Some(kind.as_str().to_owned()),
                before: None,
                after: Some(serde_json::json!({
                    "new": merged.new.len(), "changed": merged.changed.len(),
                    "gone": merged.gone.len(), "unchanged": merged.unchanged
                })),
            },
        )
        .await?;
    }
    Ok(merged)
}

/// Guests of every Proxmox account (or one), as the clusters report them.
#[utoipa::path(
    tag = "providers",
    params(AccountFilter),
    responses((status = 200, body = Vec<RemoteServer>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 502, body = Problem, content_type = "application/problem+json")),
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
    responses((status = 200, body = SyncReport), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 502, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/proxmox/sync")]
pub async fn proxmox_sync(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<SyncRequest>,
) -> ApiResult<web::Json<SyncReport>> {
    Ok(web::Json(
        sync_of(&state, &auth, ProviderKind::Proxmox, body.into_inner()).await?,
    ))
}

/// Servers of every Hetzner account (or one), as the projects report them.
#[utoipa::path(
    tag = "providers",
    params(AccountFilter),
    responses((status = 200, body = Vec<RemoteServer>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 502, body = Problem, content_type = "application/problem+json")),
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
    responses((status = 200, body = SyncReport), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 502, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/hetzner/sync")]
pub async fn hetzner_sync(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<SyncRequest>,
) -> ApiResult<web::Json<SyncReport>> {
    Ok(web::Json(
        sync_of(&state, &auth, ProviderKind::Hetzner, body.into_inner()).await?,
    ))
}
