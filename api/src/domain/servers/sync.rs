//! The inventory and what a provider reports: its machines linked to their rows, and the
//! idempotent sync that imports, updates and marks vanished servers.

use super::inventory::set_status;
use super::{rows, status_of};
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::providers as accounts;
use crate::entities::provider_accounts;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use shared::servers::{RemoteServer, ServerOrigin, ServerStatus, SyncChange, SyncReport};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

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
