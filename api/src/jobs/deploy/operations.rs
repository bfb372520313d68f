//! The `stop`, `start` and `remove` steps: the app playbook with another action.

use super::app::{framework_of, run_playbook, variables};
use super::health::{health_check, health_url};
use super::*;

pub(super) async fn operate(
    ctx: &JobContext,
    row: rows::Model,
    step_of: AppStep,
) -> Result<(), JobError> {
    let state = &ctx.state;
    let status = status_of(&row);
    let action = step_of.as_str();
    let wanted = match step_of {
        AppStep::Stop => DeploymentStatus::Running,
        AppStep::Start => DeploymentStatus::Stopped,
        AppStep::Remove | AppStep::Deploy => DeploymentStatus::Deleting,
    };
    if status != wanted {
        ctx.log
            .info(&format!(
                "the deployment is {}; nothing to {action}",
                row.status
            ))
            .await;
        return Ok(());
    }
    step(
        ctx,
        action,
        Stage::Deploying,
        &format!("{action}: running the app playbook"),
    )
    .await?;
    let framework = framework_of(&row).ok();
    let server_gone = match row.server_id {
        Some(id) => server_rows::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .is_none(),
        None => true,
    };
    match framework {
        // Nothing was ever installed (it failed before the framework was known), or the server
        // is gone: there is nothing to remove on a host.
        None | Some(_)
            if step_of == AppStep::Remove && (server_gone || row.commit_sha.is_none()) =>
        {
            ctx.log.info("nothing is installed on a server").await;
        }
        None => return Err(JobError::permanent("the deployment has no framework")),
        Some(framework) => {
            let target = target(ctx, &row).await?;
            let module = row.module.clone().unwrap_or_default();
            // The environment file on the host stays as the last deploy wrote it.
            let vars = variables(
                state,
                &row,
                framework,
                action,
                None,
                &module,
                BTreeMap::new(),
            );
            run_playbook(ctx, &ctx.log, &target, &vars, None).await?;
            if step_of == AppStep::Start {
                step(
                    ctx,
                    "health check",
                    Stage::HealthCheck,
                    "checking the app over HTTP",
                )
                .await?;
                let (_, health) = health_url(&target, &row, framework);
                health_check(ctx, &health).await?;
            }
        }
    }
    let (move_by, done) = match step_of {
        AppStep::Stop => (DeploymentAction::Stop, "stopped"),
        AppStep::Start => (DeploymentAction::Start, "running again"),
        AppStep::Remove | AppStep::Deploy => (DeploymentAction::MarkDeleted, "deleted"),
    };
    let txn = crate::db::begin_write(&state.db).await?;
    transition(
        &txn,
        &row,
        move_by,
        vec![(rows::Column::Error, Expr::value(Option::<String>::None))],
    )
    .await
    .map_err(|e| JobError::permanent(e.to_string()))?;
    // A guest built for this deployment goes with it.
    let mut destroying = None;
    if step_of == AppStep::Remove && row.request_id.is_some() {
        if let Some(server) = match row.server_id {
            Some(id) => server_rows::Entity::find_by_id(id).one(&txn).await?,
            None => None,
        } {
            destroying = crate::domain::servers::enqueue_delete(&txn, &server, row.created_by)
                .await?
                .map(|execution| (server.name, execution));
        }
    }
    // Logged after the commit: the log writes through another connection.
    txn.commit().await?;
    if let Some((server, execution)) = destroying {
        ctx.log
            .info(&format!(
                "destroying {server}, built for this deployment (execution {execution})"
            ))
            .await;
    }
    ctx.log.step(done).await;
    Ok(())
}
