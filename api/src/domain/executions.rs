//! Executions: one run of background work with a persisted, redacted, streamable log.

use crate::entities::{execution_logs, executions as rows};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use shared::servers::{Execution, ExecutionStatus, LogLine};
use std::sync::{Arc, Mutex};
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
    new: NewExecution<'_>,
    payload: serde_json::Value,
) -> Result<Uuid, DbErr> {
    let (kind, target) = (new.kind, new.target_id);
    let execution = create(db, new).await?;
    crate::domain::jobs::enqueue_with_execution(
        db,
        kind,
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

/// The longest log line stored; longer ones are cut.
pub const MAX_LINE_CHARS: usize = 8000;

/// A log line of `execution`, ready to insert (`text` already redacted and cut).
pub fn log_row(
    execution: Uuid,
    at: chrono::DateTime<chrono::Utc>,
    stream: &str,
    text: String,
) -> execution_logs::ActiveModel {
    execution_logs::ActiveModel {
        id: Default::default(),
        execution_id: Set(execution),
        at: Set(at),
        stream: Set(stream.to_owned()),
        text: Set(text),
    }
}

/// Where a running job writes its log. Secrets are replaced before anything is stored.
#[derive(Clone)]
pub struct LogSink {
    writer: crate::live::Writer,
    pub execution_id: Uuid,
    secrets: Vec<String>,
    /// See [`LogSink::closing`]; shared by the sinks derived with [`LogSink::with_secrets`].
    closing: Arc<Mutex<Option<String>>>,
}

impl LogSink {
    pub fn new(db: DatabaseConnection, execution_id: Uuid, secrets: Vec<String>) -> Self {
        Self::with_writer(crate::live::Writer::notifying(db), execution_id, secrets)
    }

    pub fn with_writer(
        writer: crate::live::Writer,
        execution_id: Uuid,
        secrets: Vec<String>,
    ) -> Self {
        LogSink {
            writer,
            execution_id,
            secrets: secrets.into_iter().filter(|s| s.len() >= 4).collect(),
            closing: Arc::default(),
        }
    }

    /// The same sink, also redacting `more` (values opened while the job runs).
    pub fn with_secrets(&self, more: impl IntoIterator<Item = String>) -> Self {
        let mut sink = self.clone();
        sink.secrets
            .extend(more.into_iter().filter(|s| s.len() >= 4));
        sink
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), "[redacted]");
        }
        out
    }

    /// The line that ends a successful run: stored in the same commit as the job's finish (one
    /// commit less per job); should the job not succeed, stored on its own before the failure.
    pub fn closing(&self, text: &str) {
        *self.closing.lock().unwrap_or_else(|e| e.into_inner()) = Some(self.prepared(text));
    }

    /// The closing line, for the statement that finishes the job.
    pub(crate) fn take_closing(&self) -> Option<String> {
        self.closing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Stores the closing line now (the job ends some other way than by succeeding).
    pub async fn flush_closing(&self) {
        if let Some(text) = self.take_closing() {
            self.store("info", text).await;
        }
    }

    pub async fn line(&self, stream: &str, text: &str) {
        self.store(stream, self.prepared(text)).await
    }

    /// What is stored of `text`: secrets replaced, cut at [`MAX_LINE_CHARS`].
    fn prepared(&self, text: &str) -> String {
        self.redact(text).chars().take(MAX_LINE_CHARS).collect()
    }

    async fn store(&self, stream: &str, text: String) {
        let stored = log_row(self.execution_id, chrono::Utc::now(), stream, text)
            .insert(&self.writer.db)
            .await;
        match stored {
            Ok(_) => self.writer.publish(),
            Err(e) => {
                tracing::warn!(execution = %self.execution_id, error = %e, "log line not stored")
            }
        }
    }

    pub async fn info(&self, text: &str) {
        self.line("info", text).await
    }

    pub async fn error(&self, text: &str) {
        self.line("error", text).await
    }

    /// Names the step under way on the execution and logs it.
    pub async fn step(&self, text: &str) {
        let _ = rows::Entity::update_many()
            .col_expr(rows::Column::Step, Expr::value(text.to_owned()))
            .filter(rows::Column::Id.eq(self.execution_id))
            .exec(&self.writer.db)
            .await;
        self.line("step", text).await
    }
}
