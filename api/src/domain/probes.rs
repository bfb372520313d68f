//! Probe jobs (see `crate::jobs::probe`), sent by administrators to check the workers.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::executions::{self, NewExecution};
use crate::error::{ApiError, ApiResult};
use crate::jobs::probe::MAX_WAIT_MS;
use crate::state::AppState;
use sea_orm::TransactionTrait;
use uuid::Uuid;

/// Queues one probe in the Global team; its execution tells who answered and when.
pub async fn send(state: &AppState, auth: &AuthUser, wait_ms: u32) -> ApiResult<Uuid> {
    if wait_ms > MAX_WAIT_MS {
        return Err(ApiError::field(
            "wait_ms",
            format!("at most {MAX_WAIT_MS} milliseconds"),
        ));
    }
    let txn = state.db.begin().await?;
    let team = crate::domain::teams::global_team(&txn)
        .await?
        .ok_or_else(|| ApiError::Unavailable("the Global team is missing".into()))?;
    let execution = executions::create_with_job(
        &txn,
        NewExecution {
            kind: "probe",
            target_type: "team",
            target_id: team.id,
            team_id: team.id,
            created_by: Some(auth.id()),
            script_version_id: None,
            variables: None,
        },
        serde_json::json!({ "wait_ms": wait_ms }),
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
            after: Some(serde_json::json!({ "wait_ms": wait_ms })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(execution)
}
