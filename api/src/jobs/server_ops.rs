//! Power actions and deletions of inventory servers, run as jobs with their own execution log.

use super::{JobContext, JobError};
use crate::domain::{providers as accounts, servers};
use crate::entities::servers as rows;
use sea_orm::EntityTrait;
use shared::servers::{PowerAction, ServerOrigin, ServerStatus};
use uuid::Uuid;

fn server_id(ctx: &JobContext) -> Result<Uuid, JobError> {
    ctx.job
        .payload
        .get("server_id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| JobError::permanent("the job names no server"))
}

fn op(ctx: &JobContext) -> &str {
    ctx.job
        .payload
        .get("op")
        .and_then(|v| v.as_str())
        .unwrap_or("")
}

pub async fn run(ctx: &JobContext) -> Result<(), JobError> {
    let state = &ctx.state;
    let id = server_id(ctx)?;
    let row = rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| JobError::permanent("the server is no longer in the inventory"))?;
    let registered = row.origin == ServerOrigin::Registered.as_str();
    match op(ctx) {
        "power" => {
            let action = ctx
                .job
                .payload
                .get("action")
                .and_then(|v| v.as_str())
                .and_then(PowerAction::parse)
                .ok_or_else(|| JobError::permanent("the job names no power action"))?;
            let provider = accounts::provider_for(state, row.provider_account_id)
                .await
                .map_err(JobError::from)?;
            provider
                .power(&row.provider_id, action, &ctx.log)
                .await
                .map_err(JobError::from)?;
            let after = provider
                .get(&row.provider_id)
                .await
                .map_err(JobError::from)?;
            let status = match (&after, action) {
                (Some(s), _) => s.status,
                (None, _) => ServerStatus::Unknown,
            };
            if let Some(remote) = &after {
                servers::record_remote(&state.db, id, remote).await?;
            }
            servers::set_status(&state.db, id, status).await?;
            ctx.log
                .step(&format!(
                    "{} done; server is {}",
                    action.as_str(),
                    status.as_str()
                ))
                .await;
            Ok(())
        }
        "snapshot" | "enable_backups" => {
            let provider = accounts::provider_for(state, row.provider_account_id)
                .await
                .map_err(JobError::from)?;
            if op(ctx) == "snapshot" {
                let description = ctx
                    .job
                    .payload
                    .get("description")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                let description = if description.is_empty() {
                    "Provisio snapshot"
                } else {
                    description
                };
                provider
                    .snapshot(&row.provider_id, description, &ctx.log)
                    .await
                    .map_err(JobError::from)?;
            } else {
                provider
                    .enable_backups(&row.provider_id, &ctx.log)
                    .await
                    .map_err(JobError::from)?;
            }
            ctx.log
                .step(&format!("{} done", op(ctx).replace('_', " ")))
                .await;
            Ok(())
        }
        "delete" => {
            if !registered {
                let provider = accounts::provider_for(state, row.provider_account_id)
                    .await
                    .map_err(JobError::from)?;
                provider
                    .delete(&row.provider_id, &ctx.log)
                    .await
                    .map_err(JobError::from)?;
            } else {
                ctx.log
                    .info("registered host: removed from the inventory only")
                    .await;
            }
            servers::set_status(&state.db, id, ServerStatus::Deleted).await?;
            ctx.log.step("deleted").await;
            Ok(())
        }
        other => Err(JobError::permanent(format!(
            "unknown server operation `{other}`"
        ))),
    }
}

/// A failed delete puts the server back to what it was, so it can be retried or inspected.
pub async fn on_failure(ctx: &JobContext, _message: &str) -> Result<(), JobError> {
    let id = server_id(ctx)?;
    if op(ctx) == "delete" {
        let previous = ctx
            .job
            .payload
            .get("previous_status")
            .and_then(|v| v.as_str())
            .and_then(ServerStatus::parse)
            .unwrap_or(ServerStatus::Error);
        servers::set_status(&ctx.state.db, id, previous).await?;
    }
    Ok(())
}
