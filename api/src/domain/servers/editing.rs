//! What callers change on the inventory directly: a server's labels, and SSH hosts registered by
//! hand after their host key is verified.

use super::rows;
use super::views::{detail, to_dtos, visible};
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::entities::provider_accounts;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use shared::providers::ProviderKind;
use shared::servers::{
    RegisterHost, Server, ServerDetail, ServerOrigin, ServerStatus, UpdateServerLabels,
};
use shared::Permission;
use std::time::Duration;
use uuid::Uuid;

pub async fn set_labels(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    body: UpdateServerLabels,
) -> ApiResult<Server> {
    auth.require(Permission::ServersOperate)?;
    body.validate()?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    let before = row.labels.clone();
    let after = serde_json::to_value(&body.labels).map_err(|e| ApiError::Internal(e.into()))?;
    rows::Entity::update_many()
        .col_expr(rows::Column::Labels, Expr::value(after.clone()))
        .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(rows::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "server.labels",
            target_type: "server",
            target_id: Some(row.id.to_string()),
            before: Some(before),
            after: Some(after),
        },
    )
    .await?;
    let row = rows::Entity::find_by_id(row.id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    txn.commit().await?;
    Ok(to_dtos(&state.db, vec![row]).await?.remove(0))
}

pub async fn register(
    state: &AppState,
    auth: &AuthUser,
    body: RegisterHost,
) -> ApiResult<ServerDetail> {
    auth.require(Permission::ServersOperate)?;
    body.validate()?;
    let teams = crate::domain::teams::visible_team_ids(&state.db, auth).await?;
    if teams.is_some_and(|t| !t.contains(&body.team_id)) {
        return Err(ApiError::field(
            "team_id",
            "you are not a member of this team",
        ));
    }
    let account = provider_accounts::Entity::find_by_id(body.provider_account_id)
        .one(&state.db)
        .await?
        .filter(|a| a.kind == ProviderKind::Ssh.as_str())
        .ok_or_else(|| ApiError::field("provider_account_id", "must be an SSH host account"))?;
    let credentials = crate::domain::providers::credentials_of(&state.keys, &account)
        .map_err(ApiError::Unavailable)?;
    let login = credentials.private_key.map(|k| (body.user.clone(), k));
    let key = crate::exec::ssh::probe(
        body.address.clone(),
        body.port,
        Duration::from_secs(10),
        login,
    )
    .await
    .map_err(|e| ApiError::BadGateway(format!("the host could not be verified: {e}")))?;
    let provider_id = format!("{}:{}", body.address, body.port);
    let txn = crate::db::begin_write(&state.db).await?;
    let clash = rows::Entity::find()
        .filter(rows::Column::ProviderAccountId.eq(account.id))
        .filter(rows::Column::ProviderId.eq(provider_id.clone()))
        .filter(rows::Column::Status.ne(ServerStatus::Deleted.as_str()))
        .one(&txn)
        .await?;
    if clash.is_some() {
        return Err(ApiError::Conflict(format!(
            "{provider_id} is already registered"
        )));
    }
    let is_v6 = body.address.parse::<std::net::Ipv6Addr>().is_ok();
    let now = chrono::Utc::now();
    let row = rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        team_id: Set(body.team_id),
        provider_account_id: Set(account.id),
        provider_id: Set(provider_id),
        name: Set(body.name.clone()),
        status: Set(ServerStatus::Running.as_str().into()),
        origin: Set(ServerOrigin::Registered.as_str().into()),
        ipv4: Set((!is_v6).then(|| body.address.clone())),
        ipv6: Set(is_v6.then(|| body.address.clone())),
        cpu: Set(0),
        ram_mb: Set(0),
        disk_gb: Set(0),
        image: Set(String::new()),
        location: Set(String::new()),
        labels: Set(serde_json::to_value(&body.labels).unwrap_or_default()),
        ssh_user: Set(body.user.clone()),
        ssh_port: Set(body.port as i32),
        host_key_fingerprint: Set(Some(key.fingerprint.clone())),
        request_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        last_synced_at: Set(Some(now)),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "server.register",
            target_type: "server",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(serde_json::json!({"name": row.name, "address": body.address, "port": body.port, "host_key": key.fingerprint})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(detail(&state.db, row).await?)
}
