//! The deployment pipeline and its later steps, one `deploy` job each:
//! `deploy`: PENDING → PROVISIONING (the server is checked: running, reachable, host key as
//! pinned) → DEPLOYING (fetch the project, resolve the commit, ship `git archive` of it, run the
//! app playbook: runtime, install, build, service, nginx) → health check over HTTP → RUNNING with
//! its URL; any failure → FAILED naming the step. `stop`, `start` and `remove` run the same
//! playbook with another action.

use super::playbook::{run_on_server, server_target, Target};
use super::{JobContext, JobError};
use crate::domain::deployments::{self as domain, status_of, transition};
use crate::domain::notify::{notify, NewNotification};
use crate::domain::{frameworks, projects};
use crate::entities::{
    deployments as rows, jobs, projects as project_rows, servers as server_rows,
};
use crate::exec::git;
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use shared::deployments::{AppStep, DeploymentAction, DeploymentStatus};
use shared::frameworks::Framework;
use shared::stages::Stage;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use uuid::Uuid;

mod app;
mod health;
mod operations;
mod pipeline;

use operations::operate;
use pipeline::deploy;

pub const APP_PLAYBOOK: &str = include_str!("../../../../playbooks/app/deploy.yml");

fn payload(ctx: &JobContext) -> Result<(Uuid, AppStep), JobError> {
    let id = ctx
        .job
        .payload
        .get("deployment_id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| JobError::permanent("the job names no deployment"))?;
    let action = match ctx.job.payload.get("action").and_then(|v| v.as_str()) {
        None => AppStep::Deploy,
        Some(text) => AppStep::parse(text)
            .ok_or_else(|| JobError::permanent(format!("unknown deployment step `{text}`")))?,
    };
    Ok((id, action))
}

async fn load(state: &AppState, id: Uuid) -> Result<rows::Model, JobError> {
    rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| JobError::permanent("the deployment no longer exists"))
}

/// Remembers the step under way, so a failure names it (`failed_step`), and logs the line with
/// the pipeline stage it starts.
async fn step(ctx: &JobContext, name: &str, stage: Stage, line: &str) -> Result<(), JobError> {
    super::save_progress(&ctx.state.db, ctx.job.id, "step", name).await?;
    ctx.log.stage(stage, line).await;
    Ok(())
}

async fn set<C: sea_orm::ConnectionTrait>(
    db: &C,
    id: Uuid,
    column: rows::Column,
    value: impl Into<sea_orm::Value>,
) -> Result<(), JobError> {
    rows::Entity::update_many()
        .col_expr(column, Expr::value(value))
        .filter(rows::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn run(ctx: &JobContext) -> Result<(), JobError> {
    let (id, action) = payload(ctx)?;
    let row = load(&ctx.state, id).await?;
    match action {
        AppStep::Deploy => deploy(ctx, row).await,
        AppStep::Stop | AppStep::Start | AppStep::Remove => operate(ctx, row, action).await,
    }
}

/// The server a deployment lives on, with what logs into it.
async fn target(ctx: &JobContext, row: &rows::Model) -> Result<Target, JobError> {
    let server_id = row
        .server_id
        .ok_or_else(|| JobError::permanent("the deployment has no server"))?;
    server_target(ctx, server_id).await
}

/// Notifies whoever started the deployment.
async fn tell_creator<C: sea_orm::ConnectionTrait>(
    db: &C,
    state: &AppState,
    row: &rows::Model,
    kind: &'static str,
    title: String,
    body: String,
) -> Result<(), JobError> {
    if let Some(user) = row.created_by {
        notify(
            db,
            state.config.smtp_url.is_some(),
            &[user],
            None,
            &NewNotification {
                kind,
                title,
                body,
                link: Some(format!("/deployments/{}", row.id)),
            },
        )
        .await?;
    }
    Ok(())
}

/// A failed pipeline or deletion marks the deployment FAILED with the step it failed in; a failed
/// stop or start keeps the state and records the error.
pub async fn on_failure(ctx: &JobContext, message: &str) -> Result<(), JobError> {
    let state = &ctx.state;
    let (id, action) = payload(ctx)?;
    let Some(row) = rows::Entity::find_by_id(id).one(&state.db).await? else {
        return Ok(());
    };
    let step = jobs::Entity::find_by_id(ctx.job.id)
        .one(&state.db)
        .await?
        .and_then(|j| j.progress)
        .and_then(|p| p.get("step").and_then(|s| s.as_str()).map(str::to_owned))
        .unwrap_or_else(|| action.as_str().to_owned());
    let error: String = message.chars().take(2000).collect();
    if matches!(action, AppStep::Stop | AppStep::Start) {
        set(&state.db, id, rows::Column::Error, error).await?;
        return Ok(());
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let moved = transition(
        &txn,
        &row,
        DeploymentAction::MarkFailed,
        vec![
            (rows::Column::FailedStep, Expr::value(step.clone())),
            (rows::Column::Error, Expr::value(error.clone())),
        ],
    )
    .await;
    if moved.is_ok() {
        tell_creator(
            &txn,
            state,
            &row,
            "deployment.failed",
            format!("Deployment failed: {}", row.name),
            format!("{step}: {error}"),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
