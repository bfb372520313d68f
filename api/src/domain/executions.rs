//! Executions: one run of background work with a persisted, redacted, streamable log.

use crate::auth::AuthUser;
use crate::entities::{execution_logs, executions as rows, jobs};
use crate::error::{ApiError, ApiResult};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use shared::servers::{Execution, ExecutionStatus, LogLine};
use shared::stages::Stage;
use shared::Permission;
use uuid::Uuid;

pub struct NewExecution<'a> {
    pub kind: &'a str,
    pub target_type: &'a str,
    pub target_id: Uuid,
    pub team_id: Uuid,
    pub created_by: Option<Uuid>,
    pub script_version_id: Option<Uuid>,
    pub variables: Option<serde_json::Value>,
}

pub async fn create<C: ConnectionTrait>(db: &C, new: NewExecution<'_>) -> Result<Uuid, DbErr> {
    let id = Uuid::new_v4();
    rows::ActiveModel {
        id: Set(id),
        kind: Set(new.kind.to_owned()),
        status: Set(ExecutionStatus::Queued.as_str().into()),
        target_type: Set(new.target_type.to_owned()),
        target_id: Set(new.target_id),
        team_id: Set(new.team_id),
        step: Set(None),
        error: Set(None),
        created_by: Set(new.created_by),
        created_at: Set(chrono::Utc::now()),
        started_at: Set(None),
        finished_at: Set(None),
        script_version_id: Set(new.script_version_id),
        variables: Set(new.variables),
        exit_code: Set(None),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// Moves an execution to `to` unless it already finished (a finished log never reopens).
/// An execution and the job that writes it, for work started by a person (a pressed button):
/// the job's dedupe key names its kind, target and execution, so each press is one job.
pub async fn create_with_job<C: ConnectionTrait>(
    db: &C,
    job: crate::domain::jobs::JobKind,
    new: NewExecution<'_>,
    payload: serde_json::Value,
) -> Result<Uuid, DbErr> {
    let (kind, target) = (new.kind, new.target_id);
    let execution = create(db, new).await?;
    crate::domain::jobs::enqueue_with_execution(
        db,
        job,
        &format!("{kind}:{target}:{execution}"),
        payload,
        Some(execution),
    )
    .await?;
    Ok(execution)
}

pub async fn set_status<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    to: ExecutionStatus,
    error: Option<&str>,
) -> Result<(), DbErr> {
    move_to(db, id, to, error).await.map(|_| ())
}

/// `set_status` that says whether the execution was still open (and so moved).
pub async fn move_to<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    to: ExecutionStatus,
    error: Option<&str>,
) -> Result<bool, DbErr> {
    let now = chrono::Utc::now();
    let mut update = rows::Entity::update_many()
        .col_expr(rows::Column::Status, Expr::value(to.as_str()))
        .filter(rows::Column::Id.eq(id))
        .filter(rows::Column::Status.is_in([
            ExecutionStatus::Queued.as_str(),
            ExecutionStatus::Running.as_str(),
        ]));
    if to == ExecutionStatus::Running {
        update = update.col_expr(rows::Column::StartedAt, Expr::value(now));
    }
    if to.is_finished() {
        update = update
            .col_expr(rows::Column::FinishedAt, Expr::value(now))
            .col_expr(
                rows::Column::Error,
                Expr::value(error.map(|e| e.chars().take(4000).collect::<String>())),
            );
    }
    let moved = update.exec(db).await?.rows_affected == 1;
    // Inside a transaction this wakes streams early; they poll again later and see the commit.
    crate::live::changed();
    Ok(moved)
}

pub fn to_dto(row: rows::Model) -> Execution {
    Execution {
        id: row.id,
        status: ExecutionStatus::parse(&row.status).unwrap_or(ExecutionStatus::Failed),
        kind: row.kind,
        target_type: row.target_type,
        target_id: row.target_id,
        step: row.step,
        error: row.error,
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
    }
}

pub fn line_dto(row: execution_logs::Model) -> LogLine {
    LogLine {
        id: row.id,
        execution_id: row.execution_id,
        at: row.at,
        stream: row.stream,
        text: row.text,
        stage: row.stage.as_deref().and_then(Stage::parse),
    }
}

/// Executions about one target, newest first.
pub async fn of_target<C: ConnectionTrait>(
    db: &C,
    target_type: &str,
    target_id: Uuid,
) -> Result<Vec<Execution>, DbErr> {
    Ok(rows::Entity::find()
        .filter(rows::Column::TargetType.eq(target_type))
        .filter(rows::Column::TargetId.eq(target_id))
        .order_by_desc(rows::Column::CreatedAt)
        .limit(50)
        .all(db)
        .await?
        .into_iter()
        .map(to_dto)
        .collect())
}

/// Log lines of `executions` with an id above `after`, oldest first.
pub async fn lines_after<C: ConnectionTrait>(
    db: &C,
    executions: &[Uuid],
    after: i64,
    limit: u64,
) -> Result<Vec<LogLine>, DbErr> {
    if executions.is_empty() {
        return Ok(vec![]);
    }
    Ok(execution_logs::Entity::find()
        .filter(execution_logs::Column::ExecutionId.is_in(executions.iter().copied()))
        .filter(execution_logs::Column::Id.gt(after))
        .order_by_asc(execution_logs::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(line_dto)
        .collect())
}

pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<rows::Model> {
    rows::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// An execution the caller may read: through the request, server, resource or playbook run it
/// belongs to.
pub async fn visible<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<rows::Model> {
    let row = find(db, id).await?;
    match row.target_type.as_str() {
        "server_request" => {
            super::requests::visible(db, auth, row.target_id).await?;
        }
        "server" => {
            super::servers::visible(db, auth, row.target_id).await?;
        }
        "project" => {
            super::projects::visible(db, auth, row.target_id).await?;
        }
        "deployment" => {
            auth.require(shared::Permission::DeploymentsManage)?;
            super::deployments::visible(db, auth, row.target_id).await?;
        }
        "script" => {
            super::scripts::visible_run(db, auth, row.id).await?;
        }
        "resource" => {
            super::resources::visible(db, auth, row.target_id).await?;
        }
        _ if auth.can(shared::Permission::AllTeams) => {}
        _ => return Err(ApiError::NotFound),
    }
    Ok(row)
}

/// Stops the job behind a queued or running execution (a running one stops at its next
/// heartbeat); a queued one's execution ends as cancelled at once.
pub async fn cancel<C: ConnectionTrait>(db: &C, auth: &AuthUser, id: Uuid) -> ApiResult<Uuid> {
    auth.require(Permission::ServersOperate)?;
    let row = visible(db, auth, id).await?;
    let job = jobs::Entity::find()
        .filter(jobs::Column::ExecutionId.eq(row.id))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::Conflict("this execution has no job to cancel".into()))?;
    if !super::jobs::request_cancel(db, job.id).await? {
        return Err(ApiError::Conflict("the execution already finished".into()));
    }
    if job.status == super::jobs::QUEUED {
        set_status(
            db,
            row.id,
            ExecutionStatus::Cancelled,
            Some("cancelled before it started"),
        )
        .await?;
    }
    super::audit::record(
        db,
        &auth.context,
        super::audit::AuditEntry {
            actor: Some(auth.id()),
            action: "execution.cancel",
            target_type: "execution",
            target_id: Some(row.id.to_string()),
            before: None,
            after: None,
        },
    )
    .await?;
    Ok(row.id)
}
