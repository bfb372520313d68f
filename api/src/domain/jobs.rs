//! Job rows, enqueued in the same transaction as the change that causes them; `crate::jobs`
//! claims and runs them.

use crate::auth::AuthUser;
use crate::entities::{executions, jobs, server_requests};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use shared::requests::JobSummary;
use uuid::Uuid;

/// A job's `status`.
pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";
pub const CANCELLED: &str = "cancelled";

/// What a job does; stored as its `kind` and dispatched on in one place (`crate::jobs`), where a
/// kind without a handler does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Creates the server a request asked for and waits until it answers over SSH.
    Provision,
    /// Power, snapshot, backup or delete on an existing server.
    ServerOp,
    /// Runs a playbook (also backups and system updates) on servers.
    Playbook,
    /// Clones or fetches a project's repository and detects its framework.
    ProjectSync,
    /// Pushes a generated scaffold to a project's repository.
    ProjectPush,
    /// Deploys, starts, stops, redeploys or deletes an app.
    Deploy,
    /// Runs a managed resource's recipe: creates it, sets a new password, or removes it.
    Resource,
    /// Only proves a worker answers.
    Probe,
}

impl JobKind {
    pub const ALL: [JobKind; 8] = [
        JobKind::Provision,
        JobKind::ServerOp,
        JobKind::Playbook,
        JobKind::ProjectSync,
        JobKind::ProjectPush,
        JobKind::Deploy,
        JobKind::Resource,
        JobKind::Probe,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Provision => "provision",
            JobKind::ServerOp => "server_op",
            JobKind::Playbook => "playbook",
            JobKind::ProjectSync => "project_sync",
            JobKind::ProjectPush => "project_push",
            JobKind::Deploy => "deploy",
            JobKind::Resource => "resource",
            JobKind::Probe => "probe",
        }
    }

    pub fn parse(stored: &str) -> Option<JobKind> {
        JobKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == stored)
    }
}
const PROVISION_KEY_PREFIX: &str = "provision:";

/// Inserts the job unless a row with the same dedupe key exists (then nothing changes).
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    kind: JobKind,
    dedupe_key: &str,
    payload: serde_json::Value,
) -> Result<(), DbErr> {
    enqueue_with_execution(db, kind, dedupe_key, payload, None).await
}

/// `enqueue` for work whose execution (and log) exists before it runs, e.g. a pressed button.
pub async fn enqueue_with_execution<C: ConnectionTrait>(
    db: &C,
    kind: JobKind,
    dedupe_key: &str,
    payload: serde_json::Value,
    execution_id: Option<Uuid>,
) -> Result<(), DbErr> {
    let now = chrono::Utc::now();
    jobs::Entity::insert(jobs::ActiveModel {
        id: Set(Uuid::new_v4()),
        kind: Set(kind.as_str().to_owned()),
        dedupe_key: Set(dedupe_key.to_owned()),
        payload: Set(payload),
        status: Set(QUEUED.into()),
        attempts: Set(0),
        run_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        locked_by: Set(None),
        progress: Set(None),
        cancel_requested: Set(false),
        execution_id: Set(execution_id),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(jobs::Column::DedupeKey)
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec(db)
    .await?;
    Ok(())
}

/// Runs the queued jobs of `executions` now rather than at their deferred time (what they
/// waited for has happened).
pub async fn wake<C: ConnectionTrait>(db: &C, executions: Vec<Uuid>) -> Result<(), DbErr> {
    if executions.is_empty() {
        return Ok(());
    }
    jobs::Entity::update_many()
        .col_expr(jobs::Column::RunAt, Expr::value(chrono::Utc::now()))
        .filter(jobs::Column::ExecutionId.is_in(executions))
        .filter(jobs::Column::Status.eq(QUEUED))
        .exec(db)
        .await?;
    Ok(())
}

/// Puts a finished or failed job back in the queue (a retry reuses the same row and its
/// checkpoints, with a fresh attempt count and a new execution log).
pub async fn requeue<C: ConnectionTrait>(db: &C, dedupe_key: &str) -> Result<u64, DbErr> {
    Ok(jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::value(QUEUED))
        .col_expr(jobs::Column::Attempts, Expr::value(0))
        .col_expr(jobs::Column::CancelRequested, Expr::value(false))
        .col_expr(jobs::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(jobs::Column::ExecutionId, Expr::value(Option::<Uuid>::None))
        .col_expr(jobs::Column::LastError, Expr::value(Option::<String>::None))
        .col_expr(jobs::Column::RunAt, Expr::value(chrono::Utc::now()))
        .col_expr(
            jobs::Column::LockedUntil,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(jobs::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(jobs::Column::DedupeKey.eq(dedupe_key))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn summary<C: ConnectionTrait>(
    db: &C,
    dedupe_key: &str,
) -> Result<Option<JobSummary>, DbErr> {
    Ok(jobs::Entity::find()
        .filter(jobs::Column::DedupeKey.eq(dedupe_key))
        .one(db)
        .await?
        .map(|j| JobSummary {
            id: j.id,
            kind: j.kind,
            status: j.status,
            attempts: j.attempts,
        }))
}

/// Queued and running jobs the caller may know of. A job names its team through its execution;
/// a provisioning job gets one only when it starts, so until then its request's team counts.
/// Those who see only their own teams count only the jobs of those teams.
pub async fn open_count<C: ConnectionTrait>(db: &C, auth: &AuthUser) -> Result<u64, DbErr> {
    let open = jobs::Entity::find().filter(jobs::Column::Status.is_in([QUEUED, "running"]));
    let Some(teams) = crate::domain::teams::visible_team_ids(db, auth).await? else {
        return open.count(db).await;
    };
    let of_executions = open
        .clone()
        .filter(
            jobs::Column::ExecutionId.in_subquery(
                Query::select()
                    .column(executions::Column::Id)
                    .from(executions::Entity)
                    .and_where(executions::Column::TeamId.is_in(teams.clone()))
                    .to_owned(),
            ),
        )
        .count(db)
        .await?;
    let waiting_requests: Vec<Uuid> = open
        .filter(jobs::Column::ExecutionId.is_null())
        .filter(jobs::Column::Kind.eq(JobKind::Provision.as_str()))
        .select_only()
        .column(jobs::Column::DedupeKey)
        .into_tuple::<String>()
        .all(db)
        .await?
        .iter()
        .filter_map(|key| key.strip_prefix(PROVISION_KEY_PREFIX)?.parse().ok())
        .collect();
    let of_requests = if waiting_requests.is_empty() {
        0
    } else {
        server_requests::Entity::find()
            .filter(server_requests::Column::Id.is_in(waiting_requests))
            .filter(server_requests::Column::TeamId.is_in(teams))
            .count(db)
            .await?
    };
    Ok(of_executions + of_requests)
}

pub fn provision_key(request_id: Uuid) -> String {
    format!("{PROVISION_KEY_PREFIX}{request_id}")
}

/// Power and delete jobs are keyed by their execution: each press is its own job.
pub fn server_op_key(execution_id: Uuid) -> String {
    format!("server-op:{execution_id}")
}

/// Asks for a job to stop: a queued one is cancelled at once, a running one at its next heartbeat.
pub async fn request_cancel<C: ConnectionTrait>(db: &C, job_id: Uuid) -> Result<bool, DbErr> {
    let queued = jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::value(CANCELLED))
        .filter(jobs::Column::Id.eq(job_id))
        .filter(jobs::Column::Status.eq(QUEUED))
        .exec(db)
        .await?
        .rows_affected;
    if queued == 1 {
        return Ok(true);
    }
    Ok(jobs::Entity::update_many()
        .col_expr(jobs::Column::CancelRequested, Expr::value(true))
        .filter(jobs::Column::Id.eq(job_id))
        .filter(jobs::Column::Status.eq(RUNNING))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// How many jobs there are of each kind in each status, for the metrics.
pub async fn queue_depth<C: ConnectionTrait>(db: &C) -> Result<Vec<(String, String, i64)>, DbErr> {
    jobs::Entity::find()
        .select_only()
        .column(jobs::Column::Kind)
        .column(jobs::Column::Status)
        .column_as(Expr::col(jobs::Column::Id).count(), "n")
        .group_by(jobs::Column::Kind)
        .group_by(jobs::Column::Status)
        .into_tuple()
        .all(db)
        .await
}
