//! Writing an execution's log: lines redacted of the run's secrets, cut to a bounded length,
//! stored and announced to live streams. The runners, provider adapters and jobs all write
//! through a [`LogSink`]; it knows rows and the live writer, nothing of the domain.

use crate::entities::{execution_logs, executions as rows};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use shared::stages::Stage;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// The longest log line stored; longer ones are cut.
pub const MAX_LINE_CHARS: usize = 8000;

/// A log line of `execution`, ready to insert (`text` already redacted and cut).
pub fn log_row(
    execution: Uuid,
    at: chrono::DateTime<chrono::Utc>,
    stream: &str,
    text: String,
    stage: Option<Stage>,
) -> execution_logs::ActiveModel {
    execution_logs::ActiveModel {
        id: Default::default(),
        execution_id: Set(execution),
        at: Set(at),
        stream: Set(stream.to_owned()),
        text: Set(text),
        stage: Set(stage.map(|s| s.as_str().to_owned())),
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
            self.store("info", text, None).await;
        }
    }

    pub async fn line(&self, stream: &str, text: &str) {
        self.store(stream, self.prepared(text), None).await
    }

    /// What is stored of `text`: secrets replaced, cut at [`MAX_LINE_CHARS`].
    fn prepared(&self, text: &str) -> String {
        self.redact(text).chars().take(MAX_LINE_CHARS).collect()
    }

    async fn store(&self, stream: &str, text: String, stage: Option<Stage>) {
        let stored = log_row(self.execution_id, chrono::Utc::now(), stream, text, stage)
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
        self.step_in(None, text).await
    }

    /// A step that starts a pipeline stage: progress trackers follow `stage`, people read `text`.
    pub async fn stage(&self, stage: Stage, text: &str) {
        self.step_in(Some(stage), text).await
    }

    async fn step_in(&self, stage: Option<Stage>, text: &str) {
        let _ = rows::Entity::update_many()
            .col_expr(rows::Column::Step, Expr::value(text.to_owned()))
            .filter(rows::Column::Id.eq(self.execution_id))
            .exec(&self.writer.db)
            .await;
        self.store("step", self.prepared(text), stage).await
    }
}
