//! What changes a request's status and what every change leaves behind: the conditional UPDATE,
//! the timeline event and the audit entry.

use super::status_of;
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::entities::{request_events, server_requests as rows};
use crate::error::{ApiError, ApiResult};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use shared::workflow::{transition, RequestAction, RequestStatus};
use uuid::Uuid;

pub(crate) async fn event<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
    actor: Option<Uuid>,
    kind: &str,
    from: Option<RequestStatus>,
    to: Option<RequestStatus>,
    body: &str,
) -> Result<(), DbErr> {
    request_events::ActiveModel {
        id: Set(Uuid::new_v4()),
        request_id: Set(request_id),
        at: Set(chrono::Utc::now()),
        actor_id: Set(actor),
        kind: Set(kind.to_owned()),
        from_status: Set(from.map(|s| s.as_str().to_owned())),
        to_status: Set(to.map(|s| s.as_str().to_owned())),
        body: Set(body.to_owned()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Applies `action` with one conditional UPDATE on the status it was read in: of two concurrent
/// callers exactly one changes the row; the other gets a 409.
pub(crate) async fn apply<C: ConnectionTrait>(
    db: &C,
    row: &rows::Model,
    action: RequestAction,
    actor: Option<Uuid>,
    columns: Vec<(rows::Column, sea_orm::sea_query::SimpleExpr)>,
    body: &str,
) -> ApiResult<RequestStatus> {
    let from = status_of(row);
    let to = transition(from, action).ok_or_else(|| {
        ApiError::Conflict(format!(
            "a {} request cannot be {}",
            from.as_str(),
            past_tense(action)
        ))
    })?;
    let mut update = rows::Entity::update_many()
        .col_expr(rows::Column::Status, Expr::value(to.as_str()))
        .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()));
    for (col, value) in columns {
        update = update.col_expr(col, value);
    }
    let changed = update
        .filter(rows::Column::Id.eq(row.id))
        .filter(rows::Column::Status.eq(from.as_str()))
        .filter(rows::Column::PolicyStep.eq(row.policy_step))
        .exec(db)
        .await?
        .rows_affected;
    if changed == 0 {
        return Err(ApiError::Conflict(
            "the request changed while you were acting on it; reload and try again".into(),
        ));
    }
    event(db, row.id, actor, "transition", Some(from), Some(to), body).await?;
    crate::domain::deployments::follow_request(db, row.id, to, body).await?;
    crate::domain::resources::new_server::follow_request(db, row.id, to, body).await?;
    Ok(to)
}

fn past_tense(action: RequestAction) -> &'static str {
    match action {
        RequestAction::Approve => "approved",
        RequestAction::Reject => "rejected",
        RequestAction::Cancel => "cancelled",
        RequestAction::Retry => "retried",
        RequestAction::StartProvisioning => "provisioned",
        RequestAction::MarkDeployed => "marked deployed",
        RequestAction::MarkFailed => "marked failed",
    }
}

fn audit_view(row: &rows::Model) -> serde_json::Value {
    serde_json::json!({
        "hostname": row.hostname, "status": row.status, "team_id": row.team_id,
        "provider_account_id": row.provider_account_id, "cpu": row.cpu, "ram_mb": row.ram_mb,
        "disk_gb": row.disk_gb, "policy_step": row.policy_step,
    })
}

pub(super) async fn audit_change<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    action: &str,
    before: Option<&rows::Model>,
    after_id: Uuid,
) -> ApiResult<()> {
    let after = rows::Entity::find_by_id(after_id).one(db).await?;
    audit::record(
        db,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action,
            target_type: "server_request",
            target_id: Some(after_id.to_string()),
            before: before.map(audit_view),
            after: after.as_ref().map(audit_view),
        },
    )
    .await?;
    Ok(())
}
