//! Probe jobs (see `crate::jobs::probe`), sent by administrators to check the workers.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::executions::{self, NewExecution};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::ConnectionTrait;
use shared::servers::SendProbe;
use shared::validation::Validator;
use uuid::Uuid;

/// The longest a probe may hold a worker before answering.
pub const MAX_WAIT_MS: u32 = 60_000;
/// The most log lines a probe prints, and the longest pause between them.
pub const MAX_LINES: u32 = 10_000;
pub const MAX_INTERVAL_MS: u32 = 1_000;

/// Queues one probe in the Global team; its execution tells who answered and when.
pub async fn send(state: &AppState, auth: &AuthUser, probe: SendProbe) -> ApiResult<Uuid> {
    let mut checks = Validator::new();
    for (field, value, max) in [
        ("wait_ms", probe.wait_ms, MAX_WAIT_MS),
        ("lines", probe.lines, MAX_LINES),
        ("interval_ms", probe.interval_ms, MAX_INTERVAL_MS),
    ] {
        let within = if value > max {
            Err(format!("at most {max}"))
        } else {
            Ok(())
        };
        checks.check(field, within);
    }
    checks.finish()?;
    let payload = serde_json::to_value(&probe).unwrap_or_default();
    let txn = crate::db::begin_write(&state.db).await?;
    let execution = executions::create_with_job(
        &txn,
        crate::domain::jobs::JobKind::Probe,
        new_execution(&txn, Some(auth.id())).await?,
        payload.clone(),
    )
    .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "probe.send",
            target_type: "execution",
            target_id: Some(execution.to_string()),
            before: None,
            after: Some(payload),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(execution)
}

/// A probe's execution, in the Global team; also made for probe jobs queued without one.
pub async fn new_execution<C: ConnectionTrait>(
    db: &C,
    created_by: Option<Uuid>,
) -> ApiResult<NewExecution<'static>> {
    let team = crate::domain::teams::global_team(db)
        .await?
        .ok_or_else(|| ApiError::Unavailable("the Global team is missing".into()))?;
    Ok(NewExecution {
        kind: "probe",
        target_type: "team",
        target_id: team.id,
        team_id: team.id,
        created_by,
        script_version_id: None,
        variables: None,
    })
}
