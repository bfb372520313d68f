//! The durable job queue and its workers. A worker claims one row at a time (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL; SQLite has a single writer), holds a lease it renews by heartbeat,
//! retries transient failures with exponential back-off, and reclaims rows whose lease lapsed
//! because their worker died. Job kinds: `provision`, `server_op`, `playbook`, `project_sync`,
//! `project_push`, `deploy`, `probe`.

pub mod deploy;
pub mod playbook;
pub mod probe;
pub mod project_sync;
pub mod provision;
pub mod resource;
pub mod server_ops;

use crate::domain::executions;
use crate::domain::jobs::JobKind;
use crate::entities::jobs;
use crate::exec::log::LogSink;
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, Statement,
};
use shared::servers::ExecutionStatus;
use std::time::Duration;
use uuid::Uuid;

pub use crate::domain::jobs::{CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED};

/// How `last_error` of a job taken over from a lapsed lease begins (see [`claim`]).
pub const INTERRUPTED: &str = "interrupted: worker ";

/// Why a job stopped short.
#[derive(Debug)]
pub struct JobError {
    pub message: String,
    /// Worth retrying later (provider unavailable, rate limited); otherwise final.
    pub transient: bool,
    /// Not a failure: the job waits for something (a busy server) and runs again after this
    /// delay without spending an attempt.
    pub defer: Option<Duration>,
}

impl JobError {
    pub fn permanent(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            transient: false,
            defer: None,
        }
    }
    pub fn transient(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            transient: true,
            defer: None,
        }
    }
    pub fn deferred(message: impl Into<String>, delay: Duration) -> Self {
        JobError {
            message: message.into(),
            transient: true,
            defer: Some(delay),
        }
    }
}

impl From<crate::providers::ProviderError> for JobError {
    fn from(e: crate::providers::ProviderError) -> Self {
        if e.is_transient() {
            JobError::transient(e.to_string())
        } else {
            JobError::permanent(e.to_string())
        }
    }
}

/// A conflict is worth another attempt: either SQLite's single writer was busy, or the row really
/// changed, and the next attempt reads it afresh and acts on what it finds.
impl From<crate::error::ApiError> for JobError {
    fn from(e: crate::error::ApiError) -> Self {
        match e {
            crate::error::ApiError::Conflict(m) | crate::error::ApiError::Unavailable(m) => {
                JobError::transient(m)
            }
            other => JobError::permanent(other.to_string()),
        }
    }
}

impl From<DbErr> for JobError {
    fn from(e: DbErr) -> Self {
        JobError::transient(format!("database: {e}"))
    }
}

/// Claims the oldest due job, or one whose worker stopped renewing its lease.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    worker: &str,
    lease: Duration,
) -> Result<Option<jobs::Model>, DbErr> {
    Ok(claim_job(db, worker, lease, false)
        .await?
        .map(|(job, _)| job))
}

/// [`claim`], and on PostgreSQL in the same statement the start of the job's execution while it
/// is open (the second value says whether it was). Run it through the batched live writer: the
/// statement then notifies nobody, and the caller publishes the start.
async fn claim_job<C: ConnectionTrait>(
    db: &C,
    worker: &str,
    lease: Duration,
    start_execution: bool,
) -> Result<Option<(jobs::Model, bool)>, DbErr> {
    let now = chrono::Utc::now();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let backend = db.get_database_backend();
    let postgres = backend == DatabaseBackend::Postgres;
    // Two index range scans, each stopping at its first row: an expired lease first (a dead
    // worker's job, the oldest work there is), else the next due job. A single `OR` would sort
    // every queued row on each claim.
    let lock = if postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    // A job taken over from a lapsed lease says so in `last_error` (SET reads the old row on
    // both databases), so its handler knows the previous attempt was cut short.
    let update = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, \
         locked_until = $2, updated_at = $3, \
         last_error = CASE WHEN status = 'running' THEN '{INTERRUPTED}' || COALESCE(locked_by, '') \
           || ' stopped before the job finished' ELSE last_error END \
         WHERE id = (SELECT id FROM ( \
           SELECT id FROM (SELECT id FROM jobs WHERE status = 'running' AND locked_until < $3 \
             ORDER BY locked_until LIMIT 1{lock}) AS expired \
           UNION ALL \
           SELECT id FROM (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= $3 \
             ORDER BY run_at LIMIT 1{lock}) AS due \
         ) AS candidates LIMIT 1) \
         RETURNING *"
    );
    let starts = postgres && start_execution;
    let sql = if starts {
        format!(
            "WITH claimed AS ({update}), \
             started AS (UPDATE executions SET status = 'running', started_at = $3 \
               WHERE id = (SELECT execution_id FROM claimed) \
               AND status IN ('queued', 'running') RETURNING id) \
             SELECT claimed.*, EXISTS (SELECT 1 FROM started) AS execution_started \
             FROM claimed"
        )
    } else {
        update
    };
    let Some(row) = db
        .query_one(Statement::from_sql_and_values(
            backend,
            sql,
            [worker.into(), until.into(), now.into()],
        ))
        .await?
    else {
        return Ok(None);
    };
    let job = jobs::Model::from_query_result(&row, "")?;
    let execution_started = starts && row.try_get::<bool>("", "execution_started")?;
    Ok(Some((job, execution_started)))
}

/// Renews the lease; false when another worker took the job over or it was cancelled.
pub async fn heartbeat<C: ConnectionTrait>(
    db: &C,
    job_id: Uuid,
    worker: &str,
    lease: Duration,
) -> Result<bool, DbErr> {
    let until = chrono::Utc::now()
        + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let renewed = jobs::Entity::update_many()
        .col_expr(jobs::Column::LockedUntil, Expr::value(until))
        .filter(jobs::Column::Id.eq(job_id))
        .filter(jobs::Column::LockedBy.eq(worker))
        .filter(jobs::Column::Status.eq(RUNNING))
        .filter(jobs::Column::CancelRequested.eq(false))
        .exec(db)
        .await?
        .rows_affected;
    Ok(renewed == 1)
}

/// Ends the claim: `succeeded`, `failed`, `cancelled`, or back to `queued` at `retry_at`.
pub async fn release<C: ConnectionTrait>(
    db: &C,
    job_id: Uuid,
    worker: &str,
    status: &str,
    error: Option<&str>,
    retry_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<bool, DbErr> {
    let now = chrono::Utc::now();
    let mut update = jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::value(status))
        .col_expr(jobs::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(
            jobs::Column::LockedUntil,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(
            jobs::Column::LastError,
            Expr::value(error.map(|e| e.chars().take(4000).collect::<String>())),
        )
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now));
    if let Some(at) = retry_at {
        update = update.col_expr(jobs::Column::RunAt, Expr::value(at));
    }
    Ok(update
        .filter(jobs::Column::Id.eq(job_id))
        .filter(jobs::Column::LockedBy.eq(worker))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Stores a checkpoint of an idempotent step on the job row.
pub async fn save_progress<C: ConnectionTrait>(
    db: &C,
    job_id: Uuid,
    key: &str,
    value: &str,
) -> Result<(), DbErr> {
    let row = jobs::Entity::find_by_id(job_id).one(db).await?;
    let mut progress = row
        .and_then(|r| r.progress)
        .and_then(|p| p.as_object().cloned())
        .unwrap_or_default();
    progress.insert(key.to_owned(), serde_json::Value::String(value.to_owned()));
    jobs::Entity::update_many()
        .col_expr(
            jobs::Column::Progress,
            Expr::value(serde_json::Value::Object(progress)),
        )
        .filter(jobs::Column::Id.eq(job_id))
        .exec(db)
        .await?;
    Ok(())
}

/// What a job handler receives.
pub struct JobContext {
    pub state: AppState,
    pub job: jobs::Model,
    pub log: LogSink,
}

impl JobContext {
    /// Why the previous attempt ended without a result (its worker died or lost the lease), when
    /// this attempt took the job over.
    pub fn interrupted(&self) -> Option<&str> {
        self.job
            .last_error
            .as_deref()
            .filter(|e| e.starts_with(INTERRUPTED))
    }

    pub fn progress(&self, key: &str) -> Option<String> {
        self.job
            .progress
            .as_ref()
            .and_then(|p| p.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    }
}

/// Starts the execution a job writes to: the job's current one while it is open (one UPDATE
/// both checks and starts it, or the claim did already), else a new one.
async fn start_execution(
    state: &AppState,
    job: &jobs::Model,
    started_by_claim: bool,
) -> Result<Uuid, JobError> {
    if let Some(id) = job.execution_id {
        if started_by_claim {
            return Ok(id);
        }
        if executions::move_to(&state.live_writer.db, id, ExecutionStatus::Running, None).await? {
            state.live_writer.publish();
            return Ok(id);
        }
    }
    let id = match kind_of(job)? {
        JobKind::Provision => provision::new_execution(state, job).await?,
        JobKind::Probe => {
            let new = crate::domain::probes::new_execution(&state.db, None).await?;
            executions::create(&state.db, new).await?
        }
        other => {
            return Err(JobError::permanent(format!(
                "job kind `{}` has no execution",
                other.as_str()
            )))
        }
    };
    jobs::Entity::update_many()
        .col_expr(jobs::Column::ExecutionId, Expr::value(id))
        .filter(jobs::Column::Id.eq(job.id))
        .exec(&state.db)
        .await?;
    executions::set_status(&state.db, id, ExecutionStatus::Running, None).await?;
    Ok(id)
}

/// Records a job that succeeded: its closing log line stored, the job released and its
/// execution finished, together. On PostgreSQL one statement does all three (the queue's hot
/// path: one commit instead of a transaction's round trips); SQLite cannot UPDATE inside WITH, so
/// it uses a transaction.
async fn finish_succeeded(
    state: &AppState,
    job_id: Uuid,
    worker: &str,
    log: &LogSink,
) -> Result<(), DbErr> {
    let execution_id = log.execution_id;
    let closing = log.take_closing();
    let now = chrono::Utc::now();
    if state.db.get_database_backend() == DatabaseBackend::Postgres {
        state
            .live_writer
            .db
            .execute(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "WITH released AS ( \
                   UPDATE jobs SET status = $1, locked_by = NULL, locked_until = NULL, \
                     last_error = NULL, updated_at = $2 \
                   WHERE id = $3 AND locked_by = $4 RETURNING id), \
                 logged AS ( \
                   INSERT INTO execution_logs (execution_id, at, stream, text) \
                   SELECT $6, $2, 'info', CAST($9 AS text) WHERE $9 IS NOT NULL) \
                 UPDATE executions SET status = $5, finished_at = $2, error = NULL \
                 WHERE id = $6 AND status IN ($7, $8) AND EXISTS (SELECT 1 FROM released)",
                [
                    SUCCEEDED.into(),
                    now.into(),
                    job_id.into(),
                    worker.into(),
                    ExecutionStatus::Succeeded.as_str().into(),
                    execution_id.into(),
                    ExecutionStatus::Queued.as_str().into(),
                    ExecutionStatus::Running.as_str().into(),
                    closing.into(),
                ],
            ))
            .await?;
        state.live_writer.publish();
        return Ok(());
    }
    let txn = crate::db::begin_write(&state.live_writer.db).await?;
    if let Some(text) = closing {
        crate::exec::log::log_row(execution_id, now, "info", text, None)
            .insert(&txn)
            .await?;
    }
    if release(&txn, job_id, worker, SUCCEEDED, None, None).await? {
        executions::set_status(&txn, execution_id, ExecutionStatus::Succeeded, None).await?;
    }
    txn.commit().await?;
    state.live_writer.publish();
    Ok(())
}

/// The job's kind; a row of a kind this build does not know fails for good.
fn kind_of(job: &jobs::Model) -> Result<JobKind, JobError> {
    JobKind::parse(&job.kind)
        .ok_or_else(|| JobError::permanent(format!("unknown job kind `{}`", job.kind)))
}

/// The one place a job's kind chooses its handler.
async fn dispatch(ctx: &JobContext) -> Result<(), JobError> {
    match kind_of(&ctx.job)? {
        JobKind::Provision => provision::run(ctx).await,
        JobKind::ServerOp => server_ops::run(ctx).await,
        JobKind::Playbook => playbook::run(ctx).await,
        JobKind::ProjectSync => project_sync::run(ctx).await,
        JobKind::Deploy => deploy::run(ctx).await,
        JobKind::Resource => resource::run(ctx).await,
        JobKind::ProjectPush => project_sync::push(ctx).await,
        JobKind::Probe => probe::run(ctx).await,
    }
}

/// Called once a job is final (failed for good or cancelled): lets the handler record the outcome.
async fn on_final_failure(ctx: &JobContext, message: &str) {
    let result = match JobKind::parse(&ctx.job.kind) {
        Some(JobKind::Provision) => provision::on_failure(ctx, message).await,
        Some(JobKind::ServerOp) => server_ops::on_failure(ctx, message).await,
        Some(JobKind::ProjectSync) => project_sync::on_failure(ctx, message).await,
        Some(JobKind::Deploy) => deploy::on_failure(ctx, message).await,
        Some(JobKind::Resource) => resource::on_failure(ctx, message).await,
        // Their executions carry the failure; nothing else records it.
        Some(JobKind::Playbook | JobKind::ProjectPush | JobKind::Probe) | None => Ok(()),
    };
    if let Err(e) = result {
        tracing::error!(job = %ctx.job.id, error = %e.message, "recording a failed job");
    }
}

/// Runs one claimed job to its end, renewing the lease meanwhile.
pub async fn run_claimed(state: &AppState, worker: &str, job: jobs::Model) {
    run_job(state, worker, job, false).await
}

async fn run_job(state: &AppState, worker: &str, job: jobs::Model, execution_started: bool) {
    let settings = state.config.jobs.clone();
    let execution_id = match start_execution(state, &job, execution_started).await {
        Ok(id) => id,
        Err(e) => {
            let _ = release(&state.db, job.id, worker, FAILED, Some(&e.message), None).await;
            return;
        }
    };
    let log = LogSink::with_writer(
        state.live_writer.clone(),
        execution_id,
        state_secrets(state, &job).await,
    );
    if job.attempts > 1 {
        log.info(&format!("attempt {} (worker {worker})", job.attempts))
            .await;
    }
    let ctx = JobContext {
        state: state.clone(),
        job: job.clone(),
        log,
    };
    if let Some(why) = ctx.interrupted() {
        ctx.log.info(&format!("previous attempt {why}")).await;
        // What the dead attempt left running on this host (an ansible-playbook and its ssh
        // children) goes before anything runs again.
        crate::exec::ansible::reap_interrupted(&crate::exec::ansible::run_label(execution_id));
    }

    let beat = async {
        let every = settings.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            match heartbeat(&state.db, job.id, worker, settings.lease).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => tracing::warn!(job = %job.id, error = %e, "heartbeat failed"),
            }
        }
    };
    let started = std::time::Instant::now();
    let outcome = tokio::select! {
        r = dispatch(&ctx) => Some(r),
        _ = beat => None,
    };
    let observed = match &outcome {
        Some(Ok(())) => "succeeded",
        Some(Err(JobError { defer: Some(_), .. })) => "deferred",
        Some(Err(e)) if e.transient && job.attempts < settings.max_attempts => "retried",
        Some(Err(_)) => "failed",
        None => "interrupted",
    };
    crate::server::metrics::observe_job(&job.kind, observed, started.elapsed().as_secs_f64());
    if !matches!(outcome, Some(Ok(()))) {
        ctx.log.flush_closing().await;
    }
    match outcome {
        Some(Ok(())) => {
            if let Err(e) = finish_succeeded(state, job.id, worker, &ctx.log).await {
                tracing::warn!(job = %job.id, error = %e, "recording a finished job failed");
            }
        }
        Some(Err(JobError {
            message,
            defer: Some(delay),
            ..
        })) => {
            ctx.log.info(&message).await;
            let _ = executions::set_status(&state.db, execution_id, ExecutionStatus::Queued, None)
                .await;
            let at = chrono::Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
            let _ = release(&state.db, job.id, worker, "queued", None, Some(at)).await;
            let _ = jobs::Entity::update_many()
                .col_expr(
                    jobs::Column::Attempts,
                    Expr::col(jobs::Column::Attempts).sub(1),
                )
                .filter(jobs::Column::Id.eq(job.id))
                .filter(jobs::Column::Status.eq("queued"))
                .exec(&state.db)
                .await;
        }
        Some(Err(e)) if e.transient && job.attempts < settings.max_attempts => {
            let delay = settings.retry_base * 2u32.saturating_pow((job.attempts - 1).max(0) as u32);
            let delay = delay.min(Duration::from_secs(3600));
            ctx.log
                .error(&format!(
                    "{} — retrying in {} (attempt {} of {})",
                    e.message,
                    shared::servers::short_duration(delay),
                    job.attempts,
                    settings.max_attempts
                ))
                .await;
            let at = chrono::Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
            let _ = release(
                &state.db,
                job.id,
                worker,
                "queued",
                Some(&e.message),
                Some(at),
            )
            .await;
        }
        Some(Err(e)) => {
            ctx.log.error(&e.message).await;
            on_final_failure(&ctx, &e.message).await;
            let _ = release(&state.db, job.id, worker, FAILED, Some(&e.message), None).await;
            let _ = executions::set_status(
                &state.db,
                execution_id,
                ExecutionStatus::Failed,
                Some(&e.message),
            )
            .await;
        }
        None => {
            // Lease lost or cancellation requested: find out which.
            let row = jobs::Entity::find_by_id(job.id)
                .one(&state.db)
                .await
                .ok()
                .flatten();
            if row
                .as_ref()
                .is_some_and(|r| r.cancel_requested && r.locked_by.as_deref() == Some(worker))
            {
                ctx.log.error("cancelled").await;
                on_final_failure(&ctx, "cancelled").await;
                let _ = release(
                    &state.db,
                    job.id,
                    worker,
                    CANCELLED,
                    Some("cancelled"),
                    None,
                )
                .await;
                let _ = executions::set_status(
                    &state.db,
                    execution_id,
                    ExecutionStatus::Cancelled,
                    Some("cancelled"),
                )
                .await;
            } else {
                tracing::warn!(job = %job.id, worker, "lease lost; another worker owns the job now");
            }
        }
    }
}

/// Strings no log line may show: the credentials of the account the job touches.
async fn state_secrets(state: &AppState, job: &jobs::Model) -> Vec<String> {
    if JobKind::parse(&job.kind) == Some(JobKind::Probe) {
        // A probe touches no account, runs no playbook and prints nothing it was given.
        return Vec::new();
    }
    crate::domain::providers::secrets_for_job(state, job).await
}

/// One worker: claims and runs jobs until `shutdown` flips.
pub async fn worker_loop(
    state: AppState,
    name: String,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    tracing::info!(worker = %name, "job worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        match claim_job(&state.live_writer.db, &name, state.config.jobs.lease, true).await {
            Ok(Some((job, execution_started))) => {
                if execution_started {
                    state.live_writer.publish();
                }
                tracing::info!(worker = %name, job = %job.id, kind = %job.kind, attempt = job.attempts, "job claimed");
                run_job(&state, &name, job, execution_started).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(worker = %name, error = %e, "claiming a job failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(state.config.jobs.poll) => {}
            // A dropped sender means the owner is gone: stop too.
            changed = shutdown.changed() => if changed.is_err() { break },
        }
    }
    tracing::info!(worker = %name, "job worker stopped");
}

/// Starts `count` workers named after this process; returns the sender that stops them.
pub fn spawn_workers(state: &AppState, count: usize) -> tokio::sync::watch::Sender<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    let pid = std::process::id();
    let tag = &Uuid::new_v4().simple().to_string()[..6];
    for n in 0..count {
        let name = format!("{host}:{pid}:{tag}:{n}");
        tokio::spawn(worker_loop(state.clone(), name, rx.clone()));
    }
    if count > 0 {
        tokio::spawn(crate::domain::maintenance::scheduler_loop(
            state.clone(),
            state.config.jobs.poll.max(Duration::from_millis(200)),
            rx,
        ));
    }
    tx
}
