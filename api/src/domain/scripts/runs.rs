//! Starting playbook runs: a run is planned (servers and variables checked), then written as one
//! execution, one target row per server and one `playbook` job.

use super::run_history::visible_run;
use super::variables::{masked, open_variables, seal_secrets};
use super::views::{variables_of, version_of, visible};
use super::RUN_KINDS;
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::executions::{self, NewExecution};
use crate::domain::{jobs, servers};
use crate::entities::{
    execution_targets, script_versions, scripts as rows, servers as server_rows,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Select, Set};
use serde_json::Value;
use shared::scripts::{self as rules, RunScript};
use shared::servers::ServerStatus;
use uuid::Uuid;

/// What a run is: checked by `plan_run`, then written by `enqueue_run`.
pub struct RunPlan {
    /// The servers' team, which the run belongs to.
    pub team_id: Uuid,
    pub kind: &'static str,
    pub script: rows::Model,
    pub version: script_versions::Model,
    pub servers: Vec<server_rows::Model>,
    /// Stored form (secrets sealed).
    pub variables: Value,
    pub timeout_secs: u32,
    pub created_by: Option<Uuid>,
}

pub const DEFAULT_TIMEOUT_SECS: u32 = 1800;

/// Checks servers and variables of a run; `servers_in_scope` are the servers the caller may use.
pub async fn plan_run<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    kind: &'static str,
    script: rows::Model,
    input: &RunScript,
    servers_in_scope: Select<server_rows::Entity>,
    created_by: Option<Uuid>,
) -> ApiResult<RunPlan> {
    input.validate()?;
    let version = match input.version {
        Some(v) => version_of(db, script.id, v)
            .await
            .map_err(|_| ApiError::field("version", format!("version {v} does not exist")))?,
        None => version_of(db, script.id, script.current_version).await?,
    };
    let schema = variables_of(&version);
    let values = rules::resolve_values(&schema, &input.variables).map_err(ApiError::Validation)?;
    let found = servers_in_scope
        .filter(server_rows::Column::Id.is_in(input.server_ids.iter().copied()))
        .all(db)
        .await?;
    let mut problems = Vec::new();
    for id in &input.server_ids {
        match found.iter().find(|s| &s.id == id) {
            None => problems.push(format!("server {id} does not exist")),
            Some(s) if s.ipv4.is_none() => problems.push(format!("{} has no address", s.name)),
            Some(s) if servers::status_of(s) != ServerStatus::Running => {
                problems.push(format!("{} is {}, not running", s.name, s.status))
            }
            Some(_) => {}
        }
    }
    // A run belongs to its servers' team: whoever may see it may see every server it touched.
    let mut teams: Vec<Uuid> = found.iter().map(|s| s.team_id).collect();
    teams.sort_unstable();
    teams.dedup();
    if teams.len() > 1 {
        problems.push("the servers of one run must belong to one team".into());
    }
    if !problems.is_empty() {
        return Err(ApiError::field("server_ids", problems.join("; ")));
    }
    let mut servers = found;
    servers.sort_by_key(|s| input.server_ids.iter().position(|id| id == &s.id));
    servers.dedup_by_key(|s| s.id);
    Ok(RunPlan {
        team_id: teams[0],
        kind,
        variables: seal_secrets(state, &schema, values)?,
        script,
        version,
        servers,
        timeout_secs: input.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS),
        created_by,
    })
}

/// Writes the execution, its targets and its job in the caller's transaction.
pub async fn enqueue_run<C: ConnectionTrait>(db: &C, plan: &RunPlan) -> Result<Uuid, DbErr> {
    let execution_id = executions::create(
        db,
        NewExecution {
            kind: plan.kind,
            target_type: "script",
            target_id: plan.script.id,
            team_id: plan.team_id,
            created_by: plan.created_by,
            script_version_id: Some(plan.version.id),
            variables: Some(plan.variables.clone()),
        },
    )
    .await?;
    execution_targets::Entity::insert_many(plan.servers.iter().map(|s| {
        execution_targets::ActiveModel {
            execution_id: Set(execution_id),
            server_id: Set(s.id),
            server_name: Set(s.name.clone()),
            ok: Set(0),
            changed: Set(0),
            failed: Set(0),
            unreachable: Set(0),
            skipped: Set(0),
            rescued: Set(0),
            ignored: Set(0),
        }
    }))
    .exec(db)
    .await?;
    jobs::enqueue_with_execution(
        db,
        jobs::JobKind::Playbook,
        &format!("playbook:{execution_id}"),
        serde_json::json!({"execution_id": execution_id, "timeout_secs": plan.timeout_secs}),
        Some(execution_id),
    )
    .await?;
    Ok(execution_id)
}

fn run_audit(plan: &RunPlan) -> Value {
    serde_json::json!({
        "kind": plan.kind,
        "script": plan.script.name,
        "version": plan.version.version,
        "servers": plan.servers.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        "variables": masked(&plan.variables),
    })
}

/// Writes a planned run with its audit row; returns the execution id.
pub async fn start_planned(state: &AppState, auth: &AuthUser, plan: RunPlan) -> ApiResult<Uuid> {
    let txn = crate::db::begin_write(&state.db).await?;
    let execution_id = enqueue_run(&txn, &plan).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "script.run",
            target_type: "execution",
            target_id: Some(execution_id.to_string()),
            before: None,
            after: Some(run_audit(&plan)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(execution_id)
}

pub async fn start_run(
    state: &AppState,
    auth: &AuthUser,
    script_id: Uuid,
    input: RunScript,
) -> ApiResult<Uuid> {
    let script = visible(&state.db, auth, script_id).await?;
    let scope = servers::scope(&state.db, auth).await?;
    let plan = plan_run(
        &state.db,
        state,
        "playbook",
        script,
        &input,
        scope,
        Some(auth.id()),
    )
    .await?;
    start_planned(state, auth, plan).await
}

pub async fn rerun(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<Uuid> {
    let previous = visible_run(&state.db, auth, id).await?;
    let version =
        script_versions::Entity::find_by_id(previous.script_version_id.unwrap_or_default())
            .one(&state.db)
            .await?
            .ok_or_else(|| {
                ApiError::Conflict("the script version of this run no longer exists".into())
            })?;
    let script = visible(&state.db, auth, version.script_id)
        .await
        .map_err(|_| ApiError::Conflict("the script of this run no longer exists".into()))?;
    let server_ids: Vec<Uuid> = execution_targets::Entity::find()
        .filter(execution_targets::Column::ExecutionId.eq(previous.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|t| t.server_id)
        .collect();
    let stored = previous.variables.clone().unwrap_or(Value::Null);
    let values = open_variables(state, &stored).map_err(ApiError::Unavailable)?;
    let input = RunScript {
        server_ids,
        variables: values,
        version: Some(version.version),
        timeout_secs: None,
    };
    let kind = RUN_KINDS
        .into_iter()
        .find(|k| *k == previous.kind)
        .unwrap_or("playbook");
    let scope = servers::scope(&state.db, auth).await?;
    let plan = plan_run(
        &state.db,
        state,
        kind,
        script,
        &input,
        scope,
        Some(auth.id()),
    )
    .await?;
    start_planned(state, auth, plan).await
}
