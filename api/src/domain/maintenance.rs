//! Maintenance of servers by technical agents: backup (a provider snapshot where the provider
//! takes them, otherwise the Backup playbook) and system update (the System update playbook),
//! run now or on cron schedules that the job workers fire.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::{scripts, servers};
use crate::entities::{provider_accounts, schedules as rows, servers as server_rows};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use serde_json::Value;
use shared::providers::ProviderKind;
use shared::scripts::{Maintenance, RunMaintenance, RunScript, SaveSchedule, Schedule};
use std::collections::BTreeMap;
use uuid::Uuid;

pub const BACKUP_SCRIPT: &str = "Backup";
pub const UPDATE_SCRIPT: &str = "System update";

/// The next time `cron` (five fields, UTC) fires after `after`.
pub fn next_run(
    cron: &str,
    after: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let fields = cron.split_whitespace().count();
    if fields != 5 {
        return Err("must have five fields: minute hour day-of-month month day-of-week".into());
    }
    let parsed = croner::Cron::new(cron)
        .parse()
        .map_err(|e| format!("is not a cron expression: {e}"))?;
    parsed
        .find_next_occurrence(&after, false)
        .map_err(|e| format!("never fires: {e}"))
}

fn to_dto(row: rows::Model) -> Schedule {
    Schedule {
        id: row.id,
        server_id: row.server_id,
        operation: Maintenance::parse(&row.operation).unwrap_or(Maintenance::Backup),
        cron: row.cron,
        enabled: row.enabled,
        variables: scripts::masked(&row.variables),
        next_run_at: row.next_run_at,
        last_run_at: row.last_run_at,
        last_execution_id: row.last_execution_id,
        created_at: row.created_at,
    }
}

async fn takes_snapshots<C: ConnectionTrait>(
    db: &C,
    server: &server_rows::Model,
) -> Result<bool, DbErr> {
    let kind = provider_accounts::Entity::find_by_id(server.provider_account_id)
        .one(db)
        .await?
        .and_then(|a| ProviderKind::parse(&a.kind));
    let registered = server.origin == shared::servers::ServerOrigin::Registered.as_str();
    Ok(!registered && matches!(kind, Some(k) if k != ProviderKind::Ssh))
}

fn script_name(operation: Maintenance) -> &'static str {
    match operation {
        Maintenance::Backup => BACKUP_SCRIPT,
        Maintenance::SystemUpdate => UPDATE_SCRIPT,
    }
}

async fn shipped_script<C: ConnectionTrait>(
    db: &C,
    operation: Maintenance,
) -> ApiResult<crate::entities::scripts::Model> {
    let name = script_name(operation);
    scripts::builtin(db, name)
        .await?
        .ok_or_else(|| ApiError::Conflict(format!("the shipped “{name}” script is missing")))
}

/// A schedule's variables as sent, with each secret sent back masked (every answer shows secrets
/// masked, so an edit form returns the mask) replaced by the value already stored.
fn keep_stored_secrets(
    state: &AppState,
    stored: &Value,
    mut sent: BTreeMap<String, Value>,
) -> ApiResult<BTreeMap<String, Value>> {
    let opened = scripts::open_variables(state, stored).map_err(ApiError::Conflict)?;
    for (name, value) in sent.iter_mut() {
        let masked = value.as_str() == Some(shared::scripts::SECRET_MASK);
        let was_secret = stored
            .get(name)
            .is_some_and(|v| v.get(scripts::SEALED).is_some());
        if masked && was_secret {
            if let Some(kept) = opened.get(name) {
                *value = kept.clone();
            }
        }
    }
    Ok(sent)
}

/// The stored form of a schedule's variables: the secrets of the operation's playbook sealed, as
/// they are for runs, so a schedule keeps no secret in clear and shows none.
async fn sealed_variables<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    operation: Maintenance,
    values: &BTreeMap<String, Value>,
) -> ApiResult<Value> {
    let schema = scripts::current_variables(db, &shipped_script(db, operation).await?).await?;
    scripts::seal_secrets(state, &schema, values.clone())
}

/// Plans the playbook run of `operation` on `server` (the variables checked against the script).
async fn plan<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    server: &server_rows::Model,
    operation: Maintenance,
    variables: BTreeMap<String, Value>,
    created_by: Option<Uuid>,
) -> ApiResult<scripts::RunPlan> {
    let kind = match operation {
        Maintenance::Backup => "backup",
        Maintenance::SystemUpdate => "system_update",
    };
    let script = shipped_script(db, operation).await?;
    let input = RunScript {
        server_ids: vec![server.id],
        variables,
        version: None,
        timeout_secs: None,
    };
    let only_this = server_rows::Entity::find().filter(server_rows::Column::Id.eq(server.id));
    scripts::plan_run(db, state, kind, script, &input, only_this, created_by).await
}

/// Starts a maintenance operation now; returns its execution.
pub async fn start(
    state: &AppState,
    auth: &AuthUser,
    server_id: Uuid,
    input: RunMaintenance,
) -> ApiResult<Uuid> {
    let server = servers::visible(&state.db, auth, server_id).await?;
    if input.operation == Maintenance::Backup && takes_snapshots(&state.db, &server).await? {
        return servers::start_operation(
            state,
            auth,
            server.id,
            servers::Operation::Snapshot {
                description: format!("backup {}", chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")),
            },
        )
        .await;
    }
    let plan = plan(
        &state.db,
        state,
        &server,
        input.operation,
        input.variables,
        Some(auth.id()),
    )
    .await?;
    scripts::start_planned(state, auth, plan).await
}

/// Checks a schedule's variables against its playbook now, so it never fires into a validation
/// error (a provider snapshot takes none).
async fn check_variables<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    server: &server_rows::Model,
    input: &SaveSchedule,
) -> ApiResult<()> {
    if input.operation == Maintenance::SystemUpdate || !takes_snapshots(db, server).await? {
        plan(
            db,
            state,
            server,
            input.operation,
            input.variables.clone(),
            None,
        )
        .await?;
    }
    Ok(())
}

fn check_schedule(input: &SaveSchedule) -> ApiResult<chrono::DateTime<chrono::Utc>> {
    next_run(input.cron.trim(), chrono::Utc::now()).map_err(|e| ApiError::field("cron", e))
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    server_id: Uuid,
) -> ApiResult<Vec<Schedule>> {
    let server = servers::visible(db, auth, server_id).await?;
    Ok(rows::Entity::find()
        .filter(rows::Column::ServerId.eq(server.id))
        .order_by_asc(rows::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(to_dto)
        .collect())
}

fn schedule_audit(row: &rows::Model) -> Value {
    serde_json::json!({"operation": row.operation, "cron": row.cron, "enabled": row.enabled, "server_id": row.server_id})
}

pub async fn create(
    state: &AppState,
    auth: &AuthUser,
    server_id: Uuid,
    input: SaveSchedule,
) -> ApiResult<Schedule> {
    let next = check_schedule(&input)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let server = servers::visible(&txn, auth, server_id).await?;
    check_variables(&txn, state, &server, &input).await?;
    let variables = sealed_variables(&txn, state, input.operation, &input.variables).await?;
    let row = rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        server_id: Set(server.id),
        team_id: Set(server.team_id),
        operation: Set(input.operation.as_str().into()),
        cron: Set(input.cron.trim().to_owned()),
        enabled: Set(input.enabled),
        variables: Set(variables),
        next_run_at: Set(input.enabled.then_some(next)),
        last_run_at: Set(None),
        last_execution_id: Set(None),
        created_by: Set(Some(auth.id())),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "schedule.create",
            target_type: "schedule",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(schedule_audit(&row)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(to_dto(row))
}

async fn visible_schedule<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<(rows::Model, server_rows::Model)> {
    let row = rows::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let server = servers::visible(db, auth, row.server_id).await?;
    Ok((row, server))
}

pub async fn update(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    input: SaveSchedule,
) -> ApiResult<Schedule> {
    let next = check_schedule(&input)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let (row, server) = visible_schedule(&txn, auth, id).await?;
    let input = SaveSchedule {
        variables: keep_stored_secrets(state, &row.variables, input.variables)?,
        ..input
    };
    check_variables(&txn, state, &server, &input).await?;
    let variables = sealed_variables(&txn, state, input.operation, &input.variables).await?;
    let before = schedule_audit(&row);
    let mut active: rows::ActiveModel = row.into();
    active.operation = Set(input.operation.as_str().into());
    active.cron = Set(input.cron.trim().to_owned());
    active.enabled = Set(input.enabled);
    active.variables = Set(variables);
    active.next_run_at = Set(input.enabled.then_some(next));
    let row = active.update(&txn).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "schedule.update",
            target_type: "schedule",
            target_id: Some(row.id.to_string()),
            before: Some(before),
            after: Some(schedule_audit(&row)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(to_dto(row))
}

pub async fn remove(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&state.db).await?;
    let (row, _) = visible_schedule(&txn, auth, id).await?;
    rows::Entity::delete_by_id(row.id).exec(&txn).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "schedule.delete",
            target_type: "schedule",
            target_id: Some(row.id.to_string()),
            before: Some(schedule_audit(&row)),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Fires the schedules that are due. Each is claimed by moving its `next_run_at` forward in one
/// conditional UPDATE, so two workers ticking at once fire it once.
pub async fn tick(state: &AppState) -> Result<usize, DbErr> {
    let now = chrono::Utc::now();
    let due = rows::Entity::find()
        .filter(rows::Column::Enabled.eq(true))
        .filter(rows::Column::NextRunAt.lte(now))
        .all(&state.db)
        .await?;
    let mut fired = 0;
    for row in due {
        let next = next_run(&row.cron, now).ok();
        let txn = crate::db::begin_write(&state.db).await?;
        let claimed = rows::Entity::update_many()
            .col_expr(rows::Column::NextRunAt, Expr::value(next))
            .col_expr(rows::Column::LastRunAt, Expr::value(now))
            .filter(rows::Column::Id.eq(row.id))
            .filter(rows::Column::NextRunAt.eq(row.next_run_at))
            .exec(&txn)
            .await?
            .rows_affected;
        if claimed == 0 {
            continue;
        }
        match fire(&txn, state, &row).await {
            Ok(execution_id) => {
                rows::Entity::update_many()
                    .col_expr(rows::Column::LastExecutionId, Expr::value(execution_id))
                    .filter(rows::Column::Id.eq(row.id))
                    .exec(&txn)
                    .await?;
                txn.commit().await?;
                fired += 1;
            }
            Err(e) => {
                // The schedule still moves on; the reason is in the log for the operator.
                tracing::warn!(schedule = %row.id, error = %e, "a scheduled operation could not start");
                txn.commit().await?;
            }
        }
    }
    Ok(fired)
}

async fn fire<C: ConnectionTrait>(db: &C, state: &AppState, row: &rows::Model) -> ApiResult<Uuid> {
    let server = server_rows::Entity::find_by_id(row.server_id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let operation = Maintenance::parse(&row.operation).unwrap_or(Maintenance::Backup);
    if operation == Maintenance::Backup && takes_snapshots(db, &server).await? {
        return servers::enqueue_snapshot(db, &server, "scheduled backup", None)
            .await
            .map_err(ApiError::from);
    }
    let variables = scripts::open_variables(state, &row.variables).map_err(ApiError::Conflict)?;
    let plan = plan(db, state, &server, operation, variables, row.created_by).await?;
    Ok(scripts::enqueue_run(db, &plan).await?)
}

/// Runs `tick` every `every` until `shutdown` flips (inside each worker process).
pub async fn scheduler_loop(
    state: AppState,
    every: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        if let Err(e) = tick(&state).await {
            tracing::warn!(error = %e, "schedules could not be checked");
        }
        if let Err(e) = crate::domain::resources::backups::tick(&state).await {
            tracing::warn!(error = %e, "resource backups could not be checked");
        }
        let today = chrono::Utc::now().date_naive();
        if let Err(e) = crate::domain::billing::renew_due(&state, today).await {
            tracing::warn!(error = %e, "subscription renewals could not be checked");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cron_expressions_fire_when_expected() {
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        let from = chrono::Utc
            .with_ymd_and_hms(2026, 11, 25, 12, 30, 0)
            .unwrap();
        for (cron, expected) in [
            ("0 3 * * *", "2026-11-26T03:00:00Z"),
            ("*/15 * * * *", "2026-11-25T12:45:00Z"),
            ("30 2 1 * *", "2026-12-01T02:30:00Z"),
            ("0 0 29 2 *", "2028-02-29T00:00:00Z"),
            ("0 4 * * 0", "2026-11-29T04:00:00Z"),
        ] {
            assert_eq!(next_run(cron, from).unwrap(), at(expected), "{cron}");
        }
        assert!(next_run("every day", from).is_err());
        assert!(next_run("0 3 * *", from).is_err());
        assert!(next_run("61 3 * * *", from).is_err());
    }
}
