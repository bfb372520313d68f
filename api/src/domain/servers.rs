//! The managed inventory: rows for provisioned, imported and registered servers, who may see
//! them, power and delete as jobs, and the idempotent sync with what a provider reports.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::executions::{self, NewExecution};
use crate::domain::listing::paging;
use crate::domain::teams::{to_ref, visible_team_ids};
use crate::domain::{jobs, providers as accounts};
use crate::entities::{provider_accounts, server_requests, servers as rows, teams};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QuerySelect, Select, Set,
};
use sea_orm::{PaginatorTrait, QueryOrder};
use shared::dto::Page;
use shared::providers::ProviderKind;
use shared::requests::ProviderRef;
use shared::servers::{
    PowerAction, RemoteServer, Server, ServerDetail, ServerOrigin, ServerStatus, SyncChange,
    SyncReport,
};
use shared::servers::{RegisterHost, ServerListQuery, UpdateServerLabels};
use shared::Permission;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use uuid::Uuid;

pub fn status_of(row: &rows::Model) -> ServerStatus {
    ServerStatus::parse(&row.status).unwrap_or(ServerStatus::Unknown)
}

/// Servers the caller may see: all (admins), their teams' (server readers), or those their own
/// requests produced.
pub async fn scope<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
) -> Result<Select<rows::Entity>, DbErr> {
    let select = rows::Entity::find();
    if auth.can(Permission::AllTeams) {
        return Ok(select);
    }
    if auth.can(Permission::ServersRead) {
        let teams = visible_team_ids(db, auth).await?.unwrap_or_default();
        return Ok(select.filter(rows::Column::TeamId.is_in(teams)));
    }
    let own: Vec<Uuid> = server_requests::Entity::find()
        .select_only()
        .column(server_requests::Column::Id)
        .filter(server_requests::Column::RequesterId.eq(auth.id()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(select.filter(rows::Column::RequestId.is_in(own)))
}

pub async fn visible<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<rows::Model> {
    super::teams::find_visible(db, scope(db, auth).await?, rows::Column::Id, id).await
}

pub async fn to_dtos<C: ConnectionTrait>(
    db: &C,
    found: Vec<rows::Model>,
) -> Result<Vec<Server>, DbErr> {
    let team_ids: Vec<Uuid> = found.iter().map(|s| s.team_id).collect();
    let account_ids: Vec<Uuid> = found.iter().map(|s| s.provider_account_id).collect();
    let teams: HashMap<Uuid, teams::Model> = teams::Entity::find()
        .filter(teams::Column::Id.is_in(team_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let accounts: HashMap<Uuid, provider_accounts::Model> = provider_accounts::Entity::find()
        .filter(provider_accounts::Column::Id.is_in(account_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    Ok(found
        .into_iter()
        .map(|s| Server {
            id: s.id,
            team: teams
                .get(&s.team_id)
                .map(to_ref)
                .unwrap_or(shared::dto::TeamRef {
                    id: s.team_id,
                    name: "?".into(),
                    slug: "?".into(),
                }),
            provider: accounts
                .get(&s.provider_account_id)
                .map(|a| ProviderRef {
                    id: a.id,
                    name: a.name.clone(),
                    kind: ProviderKind::parse(&a.kind).unwrap_or(ProviderKind::Ssh),
                })
                .unwrap_or(ProviderRef {
                    id: s.provider_account_id,
                    name: "?".into(),
                    kind: ProviderKind::Ssh,
                }),
            status: status_of(&s),
            origin: ServerOrigin::parse(&s.origin).unwrap_or(ServerOrigin::Imported),
            labels: serde_json::from_value(s.labels.clone()).unwrap_or_default(),
            name: s.name,
            provider_id: s.provider_id,
            ipv4: s.ipv4,
            ipv6: s.ipv6,
            cpu: s.cpu,
            ram_mb: s.ram_mb,
            disk_gb: s.disk_gb,
            image: s.image,
            location: s.location,
            ssh_user: s.ssh_user,
            ssh_port: s.ssh_port,
            host_key_fingerprint: s.host_key_fingerprint,
            request_id: s.request_id,
            created_at: s.created_at,
            updated_at: s.updated_at,
            last_synced_at: s.last_synced_at,
        })
        .collect())
}

pub async fn detail<C: ConnectionTrait>(db: &C, row: rows::Model) -> Result<ServerDetail, DbErr> {
    let status = status_of(&row);
    let mut executions = executions::of_target(db, "server", row.id).await?;
    executions.extend(
        crate::domain::scripts::runs_on_server(db, row.id)
            .await?
            .into_iter()
            .map(executions::to_dto),
    );
    executions.sort_by_key(|e| std::cmp::Reverse(e.created_at));
    let registered = row.origin == ServerOrigin::Registered.as_str();
    Ok(ServerDetail {
        server: to_dtos(db, vec![row]).await?.remove(0),
        power_actions: if registered {
            vec![]
        } else {
            status.power_actions()
        },
        deletable: status.deletable(),
        executions,
    })
}

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
    // The sync may have imported it meanwhile: adopt that row.
    if let Some(imported) = rows::Entity::find()
        .filter(rows::Column::ProviderAccountId.eq(request.provider_account_id))
        .filter(rows::Column::ProviderId.eq(remote.provider_id.clone()))
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

fn server_audit(row: &rows::Model) -> serde_json::Value {
    serde_json::json!({"name": row.name, "status": row.status, "provider_id": row.provider_id})
}

/// Queues a power action or a deletion as a job with its own execution (one conditional UPDATE
/// moves the server to `deleting`, so two deletes cannot both start).
pub async fn start_operation(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    op: Operation,
) -> ApiResult<Uuid> {
    auth.require(Permission::ServersOperate)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    let status = status_of(&row);
    let (kind, payload, audit_action) = match op {
        Operation::Power(action) => {
            if row.origin == ServerOrigin::Registered.as_str() {
                return Err(ApiError::Conflict(
                    "registered SSH hosts are not powered through Provisio".into(),
                ));
            }
            if !status.power_actions().contains(&action) {
                return Err(ApiError::Conflict(format!(
                    "a {} server cannot {}",
                    status.as_str(),
                    action.as_str()
                )));
            }
            (
                "power",
                serde_json::json!({"op": "power", "action": action.as_str(), "server_id": row.id}),
                "server.power",
            )
        }
        Operation::Snapshot { description } => {
            if row.origin == ServerOrigin::Registered.as_str() || !status.deletable() {
                return Err(ApiError::Conflict(format!(
                    "a {} {} server cannot be snapshotted",
                    status.as_str(),
                    row.origin
                )));
            }
            let description = description.trim().to_owned();
            if description.chars().count() > 200 || description.chars().any(char::is_control) {
                return Err(ApiError::field(
                    "description",
                    "at most 200 characters on one line",
                ));
            }
            (
                "snapshot",
                serde_json::json!({"op": "snapshot", "server_id": row.id, "description": description}),
                "server.snapshot",
            )
        }
        Operation::EnableBackups => {
            if row.origin == ServerOrigin::Registered.as_str() || !status.deletable() {
                return Err(ApiError::Conflict(format!(
                    "a {} {} server cannot have provider backups",
                    status.as_str(),
                    row.origin
                )));
            }
            (
                "enable_backups",
                serde_json::json!({"op": "enable_backups", "server_id": row.id}),
                "server.enable_backups",
            )
        }
        Operation::Delete { confirm_name } => {
            if confirm_name.trim() != row.name {
                return Err(ApiError::field(
                    "confirm_name",
                    "type the server's name to confirm",
                ));
            }
            if !mark_deleting(&txn, &row).await? {
                return Err(ApiError::Conflict(format!(
                    "a {} server cannot be deleted now",
                    status.as_str()
                )));
            }
            (
                "delete",
                serde_json::json!({"op": "delete", "server_id": row.id, "previous_status": row.status}),
                "server.delete",
            )
        }
    };
    let execution_id = enqueue_op(&txn, &row, kind, payload.clone(), Some(auth.id())).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: audit_action,
            target_type: "server",
            target_id: Some(row.id.to_string()),
            before: Some(server_audit(&row)),
            after: Some(payload),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(execution_id)
}

/// Moves a server to DELETING unless it is being built or already going; false when it did not move.
async fn mark_deleting<C: ConnectionTrait>(db: &C, row: &rows::Model) -> Result<bool, DbErr> {
    Ok(rows::Entity::update_many()
        .col_expr(
            rows::Column::Status,
            Expr::value(ServerStatus::Deleting.as_str()),
        )
        .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(rows::Column::Id.eq(row.id))
        .filter(rows::Column::Status.eq(row.status.clone()))
        .filter(rows::Column::Status.is_not_in([
            ServerStatus::Provisioning.as_str(),
            ServerStatus::Deleting.as_str(),
            ServerStatus::Deleted.as_str(),
        ]))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Destroys a server Provisio built for something that is gone (a deleted deployment's guest).
pub async fn enqueue_delete<C: ConnectionTrait>(
    db: &C,
    row: &rows::Model,
    created_by: Option<Uuid>,
) -> Result<Option<Uuid>, DbErr> {
    if !mark_deleting(db, row).await? {
        return Ok(None);
    }
    let payload =
        serde_json::json!({"op": "delete", "server_id": row.id, "previous_status": row.status});
    Ok(Some(
        enqueue_op(db, row, "delete", payload, created_by).await?,
    ))
}

/// Writes the execution and the `server_op` job of an operation on `row`.
pub async fn enqueue_op<C: ConnectionTrait>(
    db: &C,
    row: &rows::Model,
    kind: &str,
    payload: serde_json::Value,
    created_by: Option<Uuid>,
) -> Result<Uuid, DbErr> {
    let execution_id = executions::create(
        db,
        NewExecution {
            kind,
            target_type: "server",
            target_id: row.id,
            team_id: row.team_id,
            created_by,
            script_version_id: None,
            variables: None,
        },
    )
    .await?;
    jobs::enqueue_with_execution(
        db,
        jobs::JobKind::ServerOp,
        &jobs::server_op_key(execution_id),
        payload,
        Some(execution_id),
    )
    .await?;
    Ok(execution_id)
}

/// A provider snapshot started by the system (a backup schedule), not by a caller.
pub async fn enqueue_snapshot<C: ConnectionTrait>(
    db: &C,
    row: &rows::Model,
    description: &str,
    created_by: Option<Uuid>,
) -> Result<Uuid, DbErr> {
    let payload =
        serde_json::json!({"op": "snapshot", "server_id": row.id, "description": description});
    enqueue_op(db, row, "snapshot", payload, created_by).await
}

pub enum Operation {
    Power(PowerAction),
    Snapshot { description: String },
    EnableBackups,
    Delete { confirm_name: String },
}

fn describe(remote: &RemoteServer, row: &rows::Model) -> Vec<String> {
    let mut changes = Vec::new();
    let status = status_of(row);
    if remote.status != status {
        changes.push(format!(
            "status: {} → {}",
            status.as_str(),
            remote.status.as_str()
        ));
    }
    if remote.name != row.name {
        changes.push(format!("name: {} → {}", row.name, remote.name));
    }
    if remote.ipv4.is_some() && remote.ipv4 != row.ipv4 {
        changes.push(format!(
            "ipv4: {} → {}",
            row.ipv4.as_deref().unwrap_or("none"),
            remote.ipv4.as_deref().unwrap_or("none")
        ));
    }
    if remote.cpu > 0 && remote.cpu != row.cpu {
        changes.push(format!("cpu: {} → {}", row.cpu, remote.cpu));
    }
    if remote.ram_mb > 0 && remote.ram_mb != row.ram_mb {
        changes.push(format!("ram_mb: {} → {}", row.ram_mb, remote.ram_mb));
    }
    let labels: BTreeMap<String, String> =
        serde_json::from_value(row.labels.clone()).unwrap_or_default();
    if labels != remote.labels {
        changes.push("labels changed".into());
    }
    changes
}

/// The account's machines as the provider reports them, each linked to its inventory row.
pub async fn remote_resources(state: &AppState, account_id: Uuid) -> ApiResult<Vec<RemoteServer>> {
    let provider = accounts::provider_for(state, account_id).await?;
    let mut found = provider.list().await.map_err(accounts::provider_problem)?;
    let known: HashMap<String, Uuid> = rows::Entity::find()
        .filter(rows::Column::ProviderAccountId.eq(account_id))
        .filter(rows::Column::Status.ne(ServerStatus::Deleted.as_str()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.provider_id, r.id))
        .collect();
    for s in &mut found {
        s.server_id = known.get(&s.provider_id).copied();
    }
    Ok(found)
}

/// Brings the inventory in line with the provider: imports new machines, updates changed ones,
/// marks vanished ones deleted. Idempotent: a second run reports everything unchanged.
pub async fn sync_account(
    state: &AppState,
    auth: &AuthUser,
    account_id: Uuid,
    team_id: Uuid,
    dry_run: bool,
) -> ApiResult<SyncReport> {
    let account = provider_accounts::Entity::find_by_id(account_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let provider = accounts::provider_for(state, account_id).await?;
    let remote: Vec<RemoteServer> = provider
        .list()
        .await
        .map_err(accounts::provider_problem)?
        .into_iter()
        .filter(|s| !s.template)
        .collect();
    let txn = crate::db::begin_write(&state.db).await?;
    let existing: HashMap<String, rows::Model> = rows::Entity::find()
        .filter(rows::Column::ProviderAccountId.eq(account_id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|r| (r.provider_id.clone(), r))
        .collect();
    let mut report = SyncReport {
        dry_run,
        ..Default::default()
    };
    let now = chrono::Utc::now();
    let settings = accounts::settings_of(&account);
    for s in &remote {
        match existing.get(&s.provider_id) {
            None => {
                let id = Uuid::new_v4();
                report.new.push(SyncChange {
                    provider_id: s.provider_id.clone(),
                    name: s.name.clone(),
                    server_id: Some(id),
                    changes: vec![],
                });
                if !dry_run {
                    rows::ActiveModel {
                        id: Set(id),
                        team_id: Set(team_id),
                        provider_account_id: Set(account_id),
                        provider_id: Set(s.provider_id.clone()),
                        name: Set(s.name.clone()),
                        status: Set(s.status.as_str().into()),
                        origin: Set(ServerOrigin::Imported.as_str().into()),
                        ipv4: Set(s.ipv4.clone()),
                        ipv6: Set(s.ipv6.clone()),
                        cpu: Set(s.cpu),
                        ram_mb: Set(s.ram_mb),
                        disk_gb: Set(s.disk_gb),
                        image: Set(s.image.clone()),
                        location: Set(s.location.clone()),
                        labels: Set(serde_json::to_value(&s.labels).unwrap_or_default()),
                        ssh_user: Set(settings.ssh_user.clone().unwrap_or_else(|| "root".into())),
                        ssh_port: Set(settings.ssh_port.unwrap_or(22) as i32),
                        host_key_fingerprint: Set(None),
                        request_id: Set(None),
                        created_at: Set(now),
                        updated_at: Set(now),
                        last_synced_at: Set(Some(now)),
                    }
                    .insert(&txn)
                    .await?;
                }
            }
            Some(row) => {
                // Rows under Provisio's own change are left to the job doing it.
                let busy = matches!(
                    status_of(row),
                    ServerStatus::Provisioning | ServerStatus::Deleting
                );
                let changes = if busy { vec![] } else { describe(s, row) };
                if changes.is_empty() {
                    report.unchanged += 1;
                    continue;
                }
                report.changed.push(SyncChange {
                    provider_id: s.provider_id.clone(),
                    name: s.name.clone(),
                    server_id: Some(row.id),
                    changes,
                });
                if !dry_run {
                    let mut active: rows::ActiveModel = row.clone().into();
                    active.status = Set(s.status.as_str().into());
                    active.name = Set(s.name.clone());
                    if s.ipv4.is_some() {
                        active.ipv4 = Set(s.ipv4.clone());
                    }
                    if s.ipv6.is_some() {
                        active.ipv6 = Set(s.ipv6.clone());
                    }
                    if s.cpu > 0 {
                        active.cpu = Set(s.cpu);
                    }
                    if s.ram_mb > 0 {
                        active.ram_mb = Set(s.ram_mb);
                    }
                    if s.disk_gb > 0 {
                        active.disk_gb = Set(s.disk_gb);
                    }
                    active.labels = Set(serde_json::to_value(&s.labels).unwrap_or_default());
                    active.updated_at = Set(now);
                    active.last_synced_at = Set(Some(now));
                    active.update(&txn).await?;
                }
            }
        }
    }
    let seen: std::collections::HashSet<&str> =
        remote.iter().map(|s| s.provider_id.as_str()).collect();
    for row in existing.values() {
        let status = status_of(row);
        if seen.contains(row.provider_id.as_str())
            || matches!(status, ServerStatus::Deleted | ServerStatus::Provisioning)
        {
            continue;
        }
        report.gone.push(SyncChange {
            provider_id: row.provider_id.clone(),
            name: row.name.clone(),
            server_id: Some(row.id),
            changes: vec![format!("status: {} → deleted", status.as_str())],
        });
        if !dry_run {
            set_status(&txn, row.id, ServerStatus::Deleted).await?;
        }
    }
    if !dry_run {
        audit::record(
            &txn,
            &auth.context,
            AuditEntry {
                actor: Some(auth.id()),
                action: "provider.sync",
                target_type: "provider_account",
                target_id: Some(account_id.to_string()),
                before: None,
                after: Some(serde_json::json!({
                    "new": report.new.len(), "changed": report.changed.len(),
                    "gone": report.gone.len(), "unchanged": report.unchanged
                })),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(report)
}

/// Text search over name, provider id and addresses.
pub fn matches(q: &str) -> Condition {
    let pattern = super::listing::like_pattern(q);
    Condition::any()
        .add(rows::Column::Name.like(pattern.clone()))
        .add(rows::Column::ProviderId.like(pattern.clone()))
        .add(rows::Column::Ipv4.like(pattern.clone()))
        .add(rows::Column::Ipv6.like(pattern))
}

pub async fn page(
    state: &AppState,
    auth: &AuthUser,
    query: ServerListQuery,
) -> ApiResult<Page<Server>> {
    let (page, per_page) = paging(query.page, query.per_page)?;
    let mut select = scope(&state.db, auth).await?;
    select = match query.status {
        Some(status) => select.filter(rows::Column::Status.eq(status.as_str())),
        None => select.filter(rows::Column::Status.ne(ServerStatus::Deleted.as_str())),
    };
    if let Some(team) = query.team_id {
        select = select.filter(rows::Column::TeamId.eq(team));
    }
    if let Some(account) = query.provider_account_id {
        select = select.filter(rows::Column::ProviderAccountId.eq(account));
    }
    if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        select = select.filter(matches(q));
    }
    let label = query
        .label
        .as_deref()
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| ApiError::field("label", "must be key=value"))
        })
        .transpose()?;
    select = match query.sort.as_deref().unwrap_or("name") {
        "name" => select.order_by_asc(rows::Column::Name),
        "-name" => select.order_by_desc(rows::Column::Name),
        "created_at" => select.order_by_asc(rows::Column::CreatedAt),
        "-created_at" => select.order_by_desc(rows::Column::CreatedAt),
        "status" => select.order_by_asc(rows::Column::Status),
        _ => {
            return Err(ApiError::field(
                "sort",
                "must be one of name, created_at, status, optionally prefixed with -",
            ))
        }
    }
    .order_by_asc(rows::Column::Id);
    if let Some((key, value)) = label {
        // Labels are JSON: filtered here, after the SQL filters, over the caller's scope.
        let all = select.all(&state.db).await?;
        let matching: Vec<rows::Model> = all
            .into_iter()
            .filter(|s| s.labels.get(&key).and_then(|v| v.as_str()) == Some(value.as_str()))
            .collect();
        let total = matching.len() as u64;
        let items: Vec<rows::Model> = matching
            .into_iter()
            .skip(((page - 1) * per_page) as usize)
            .take(per_page as usize)
            .collect();
        return Ok(Page {
            items: to_dtos(&state.db, items).await?,
            total,
            page,
            per_page,
        });
    }
    let paginator = select.paginate(&state.db, per_page);
    let total = paginator.num_items().await?;
    let found = paginator.fetch_page(page - 1).await?;
    Ok(Page {
        items: to_dtos(&state.db, found).await?,
        total,
        page,
        per_page,
    })
}

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
