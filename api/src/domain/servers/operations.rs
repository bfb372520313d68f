//! Operations on a server (power, snapshot, provider backups, delete), each queued as a
//! `server_op` job with its own execution.

use super::views::visible;
use super::{rows, status_of};
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::executions::{self, NewExecution};
use crate::domain::jobs;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use shared::servers::{PowerAction, ServerOrigin, ServerStatus};
use shared::Permission;
use uuid::Uuid;

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
