//! Clones a project's repository on first sync, pulls it afterwards, and records the newest
//! commit and the framework its files declare.

use super::{JobContext, JobError};
use crate::domain::{frameworks, projects};
use crate::entities::projects as rows;
use crate::exec::git;
use sea_orm::EntityTrait;
use uuid::Uuid;

fn project_id(ctx: &JobContext) -> Result<Uuid, JobError> {
    ctx.job
        .payload
        .get("project_id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| JobError::permanent("the job names no project"))
}

pub async fn run(ctx: &JobContext) -> Result<(), JobError> {
    let state = &ctx.state;
    let id = project_id(ctx)?;
    let row = rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| JobError::permanent("the project no longer exists"))?;
    let dir = projects::fetch(state, &row, &ctx.log)
        .await
        .map_err(JobError::permanent)?;
    let commit = git::log(&dir, 1)
        .await
        .map_err(JobError::permanent)?
        .into_iter()
        .next();
    let facts = projects::facts_of(&dir);
    let framework = shared::frameworks::detect(frameworks::all(), &facts).map(|f| f.slug.clone());
    if let Some(c) = &commit {
        ctx.log
            .info(&format!(
                "at {} {} — {}",
                &c.sha[..12.min(c.sha.len())],
                c.author,
                c.subject
            ))
            .await;
    }
    ctx.log
        .step(&match &framework {
            Some(f) => format!("ready; framework detected: {f}"),
            None => "ready; no framework detected".to_owned(),
        })
        .await;
    projects::record_sync(&state.db, id, commit.as_ref(), framework.as_deref()).await?;
    Ok(())
}

pub async fn on_failure(ctx: &JobContext, message: &str) -> Result<(), JobError> {
    let id = project_id(ctx)?;
    projects::record_failure(&ctx.state.db, id, message).await?;
    Ok(())
}

/// `project_push`: sends a branch of the checkout upstream.
pub async fn push(ctx: &JobContext) -> Result<(), JobError> {
    let id = project_id(ctx)?;
    let branch = ctx
        .job
        .payload
        .get("branch")
        .and_then(|v| v.as_str())
        .ok_or_else(|| JobError::permanent("the job names no branch"))?
        .to_owned();
    let row = rows::Entity::find_by_id(id)
        .one(&ctx.state.db)
        .await?
        .ok_or_else(|| JobError::permanent("the project no longer exists"))?;
    ctx.log
        .step(&format!("pushing {branch} to {}", row.url))
        .await;
    let report = projects::push_checkout(&ctx.state, &row, &branch)
        .await
        .map_err(JobError::permanent)?;
    for line in report.lines().filter(|l| !l.trim().is_empty()) {
        ctx.log.line("stdout", line).await;
    }
    ctx.log.step("pushed").await;
    Ok(())
}
