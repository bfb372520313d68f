//! The inventory rows the jobs write: a request's server inserted once and updated after, what
//! the provider reports, the status, the pinned host key, and a failed attempt's leftovers.

use super::rows;
use crate::entities::server_requests;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use shared::servers::{RemoteServer, ServerOrigin, ServerStatus};
use uuid::Uuid;

pub async fn of_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<rows::Model>, DbErr> {
    rows::Entity::find()
        .filter(rows::Column::RequestId.eq(request_id))
        .one(db)
        .await
}

/// The inventory row of a request's server: inserted once, then updated (idempotent by request).
pub async fn upsert_for_request<C: ConnectionTrait>(
    db: &C,
    request: &server_requests::Model,
    remote: &RemoteServer,
    origin: ServerOrigin,
    ssh_user: &str,
    ssh_port: u16,
) -> Result<Uuid, DbErr> {
    if let Some(existing) = of_request(db, request.id).await? {
        let mut active: rows::ActiveModel = existing.clone().into();
        active.provider_id = Set(remote.provider_id.clone());
        active.updated_at = Set(chrono::Utc::now());
        active.update(db).await?;
        return Ok(existing.id);
    }
    // The sync may have imported it meanwhile: adopt that row. Only a live import: Proxmox hands
    // a freed VM id out again, and a deleted guest's row (or another request's) is not this one.
    if let Some(imported) = rows::Entity::find()
        .filter(rows::Column::ProviderAccountId.eq(request.provider_account_id))
        .filter(rows::Column::ProviderId.eq(remote.provider_id.clone()))
        .filter(rows::Column::Status.ne(ServerStatus::Deleted.as_str()))
        .filter(rows::Column::RequestId.is_null())
        .one(db)
        .await?
    {
        let mut active: rows::ActiveModel = imported.clone().into();
        active.request_id = Set(Some(request.id));
        active.team_id = Set(request.team_id);
        active.origin = Set(origin.as_str().into());
        active.update(db).await?;
        return Ok(imported.id);
    }
    let now = chrono::Utc::now();
    let id = Uuid::new_v4();
    rows::ActiveModel {
        id: Set(id),
        team_id: Set(request.team_id),
        provider_account_id: Set(request.provider_account_id),
        provider_id: Set(remote.provider_id.clone()),
        name: Set(request.hostname.clone()),
        status: Set(ServerStatus::Provisioning.as_str().into()),
        origin: Set(origin.as_str().into()),
        ipv4: Set(remote.ipv4.clone()),
        ipv6: Set(remote.ipv6.clone()),
        cpu: Set(if remote.cpu > 0 {
            remote.cpu
        } else {
            request.cpu
        }),
        ram_mb: Set(if remote.ram_mb > 0 {
            remote.ram_mb
        } else {
            request.ram_mb
        }),
        disk_gb: Set(if remote.disk_gb > 0 {
            remote.disk_gb
        } else {
            request.disk_gb
        }),
        image: Set(request.image.clone()),
        location: Set(request.location.clone()),
        labels: Set(serde_json::to_value(&remote.labels).unwrap_or_default()),
        ssh_user: Set(ssh_user.to_owned()),
        ssh_port: Set(ssh_port as i32),
        host_key_fingerprint: Set(None),
        request_id: Set(Some(request.id)),
        created_at: Set(now),
        updated_at: Set(now),
        last_synced_at: Set(Some(now)),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// Copies what the provider reports (addresses, size) onto the row; status is the caller's.
pub async fn record_remote<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    remote: &RemoteServer,
) -> Result<(), DbErr> {
    let mut update = rows::Entity::update_many()
        .col_expr(rows::Column::Ipv4, Expr::value(remote.ipv4.clone()))
        .col_expr(rows::Column::Ipv6, Expr::value(remote.ipv6.clone()))
        .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .col_expr(rows::Column::LastSyncedAt, Expr::value(chrono::Utc::now()));
    if remote.cpu > 0 {
        update = update.col_expr(rows::Column::Cpu, Expr::value(remote.cpu));
    }
    if remote.ram_mb > 0 {
        update = update.col_expr(rows::Column::RamMb, Expr::value(remote.ram_mb));
    }
    if remote.disk_gb > 0 {
        update = update.col_expr(rows::Column::DiskGb, Expr::value(remote.disk_gb));
    }
    update.filter(rows::Column::Id.eq(id)).exec(db).await?;
    Ok(())
}

pub async fn set_status<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    status: ServerStatus,
) -> Result<(), DbErr> {
    rows::Entity::update_many()
        .col_expr(rows::Column::Status, Expr::value(status.as_str()))
        .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(rows::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn pin_host_key<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    fingerprint: &str,
) -> Result<(), DbErr> {
    rows::Entity::update_many()
        .col_expr(
            rows::Column::HostKeyFingerprint,
            Expr::value(fingerprint.to_owned()),
        )
        .filter(rows::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A server destroyed after a failed attempt: kept as history, detached from its request.
pub async fn forget_request<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), DbErr> {
    rows::Entity::update_many()
        .col_expr(
            rows::Column::Status,
            Expr::value(ServerStatus::Deleted.as_str()),
        )
        .col_expr(rows::Column::RequestId, Expr::value(Option::<Uuid>::None))
        .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(rows::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
