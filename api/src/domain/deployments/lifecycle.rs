//! Stop, start, redeploy and delete: conditional UPDATEs plus the job that does the work.

use super::{dto, enqueue, status_of, visible};
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::entities::{deployments as rows, executions as execution_rows};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use shared::deployments::{
    next_status, AppStep, Deployment, DeploymentAction, DeploymentStatus, Redeploy,
};
use shared::Permission;
use uuid::Uuid;

/// One conditional UPDATE: the row moves only from the state `action` allows.
pub async fn transition<C: ConnectionTrait>(
    db: &C,
    row: &rows::Model,
    action: DeploymentAction,
    extra: Vec<(rows::Column, SimpleExpr)>,
) -> ApiResult<DeploymentStatus> {
    let from = status_of(row);
    let to = next_status(from, action).ok_or_else(|| not_now(from, action))?;
    let mut update = rows::Entity::update_many()
        .col_expr(rows::Column::Status, Expr::value(to.as_str()))
        .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()));
    for (column, value) in extra {
        update = update.col_expr(column, value);
    }
    if to == DeploymentStatus::Deleted {
        // A key nobody downloaded is of no use once its server is gone.
        update = update.col_expr(rows::Column::SshPrivateKey, Expr::value(None::<String>));
    }
    let moved = update
        .filter(rows::Column::Id.eq(row.id))
        .filter(rows::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?
        .rows_affected;
    if moved == 1 {
        Ok(to)
    } else {
        Err(ApiError::Conflict(
            "the deployment changed meanwhile; reload it".into(),
        ))
    }
}

/// A step (stop, start) already queued or running for the deployment.
async fn busy<C: ConnectionTrait>(db: &C, row: &rows::Model) -> Result<bool, DbErr> {
    let Some(id) = row.execution_id else {
        return Ok(false);
    };
    Ok(execution_rows::Entity::find_by_id(id)
        .one(db)
        .await?
        .is_some_and(|e| {
            !shared::servers::ExecutionStatus::parse(&e.status).is_some_and(|s| s.is_finished())
        }))
}

#[derive(Debug, Clone)]
pub enum UserAction {
    Stop,
    Start,
    Redeploy(Redeploy),
    Delete,
}

/// Stop, start, redeploy or delete: checks the state, moves it where the action moves it at once
/// (redeploy → DEPLOYING, delete → DELETING) and queues the job that does the work.
pub async fn act(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    action: UserAction,
) -> ApiResult<(Deployment, Option<Uuid>)> {
    auth.require(Permission::DeploymentsManage)?;
    if let UserAction::Redeploy(r) = &action {
        r.validate()?;
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    let from = status_of(&row);
    if busy(&txn, &row).await? {
        return Err(ApiError::Conflict(
            "another step of this deployment is still running".into(),
        ));
    }
    if row.server_id.is_none() && !matches!(action, UserAction::Delete) {
        return Err(ApiError::Conflict(
            "the deployment has no server yet: follow (or retry) its server request".into(),
        ));
    }
    let (name, job_action) = match &action {
        UserAction::Stop => ("deployment.stop", AppStep::Stop),
        UserAction::Start => ("deployment.start", AppStep::Start),
        UserAction::Redeploy(_) => ("deployment.redeploy", AppStep::Deploy),
        UserAction::Delete => ("deployment.delete", AppStep::Remove),
    };
    match &action {
        UserAction::Stop => {
            next_status(from, DeploymentAction::Stop)
                .ok_or_else(|| not_now(from, DeploymentAction::Stop))?;
        }
        UserAction::Start => {
            next_status(from, DeploymentAction::Start)
                .ok_or_else(|| not_now(from, DeploymentAction::Start))?;
        }
        UserAction::Redeploy(r) => {
            let mut extra = vec![
                (rows::Column::CommitSha, Expr::value(r.commit.clone())),
                (
                    rows::Column::FailedStep,
                    Expr::value(Option::<String>::None),
                ),
                (rows::Column::Error, Expr::value(Option::<String>::None)),
            ];
            if let Some(branch) = &r.branch {
                extra.push((rows::Column::Branch, Expr::value(branch.clone())));
            }
            transition(&txn, &row, DeploymentAction::Redeploy, extra).await?;
        }
        UserAction::Delete if from == DeploymentStatus::Pending => {
            transition(&txn, &row, DeploymentAction::Discard, vec![]).await?;
        }
        UserAction::Delete => {
            transition(&txn, &row, DeploymentAction::Delete, vec![]).await?;
        }
    }
    // A deployment still waiting for its server is gone already: no job, and the request it
    // waited for goes with it.
    let execution = if matches!(action, UserAction::Delete) && from == DeploymentStatus::Pending {
        if let Some(request) = row.request_id {
            crate::domain::requests::cancel_in(&txn, state, auth, request).await?;
        }
        None
    } else {
        Some(enqueue(&txn, &row, job_action, Some(auth.id())).await?)
    };
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: name,
            target_type: "deployment",
            target_id: Some(row.id.to_string()),
            before: Some(serde_json::json!({"status": from.as_str(), "commit": row.commit_sha})),
            after: match &action {
                UserAction::Redeploy(r) => {
                    Some(serde_json::json!({"commit": r.commit, "branch": r.branch}))
                }
                _ => None,
            },
        },
    )
    .await?;
    txn.commit().await?;
    let row = rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((dto(&state.db, row).await?, execution))
}

/// "a running deployment cannot be started": the refusal of every move the state does not allow.
fn not_now(from: DeploymentStatus, action: DeploymentAction) -> ApiError {
    ApiError::Conflict(format!(
        "a {} deployment cannot be {}",
        from.as_str().to_lowercase(),
        action.past_tense()
    ))
}
