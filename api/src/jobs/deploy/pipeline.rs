//! The `deploy` step: check the server, fetch, resolve the commit, ship it, run the app
//! playbook, check health.

use super::app::{detect_module, framework_of, run_playbook, variables};
use super::health::{health_check, health_url};
use super::*;

/// How often a deployment waiting for a bound resource looks again without being woken.
const RESOURCE_CHECK: std::time::Duration = std::time::Duration::from_secs(300);

pub(super) async fn deploy(ctx: &JobContext, row: rows::Model) -> Result<(), JobError> {
    let state = &ctx.state;
    let mut row = row;
    // A resource asked for with the app: it is woken when the resource is ready or refused.
    use crate::domain::resources::binding::{readiness, Readiness};
    match readiness(&state.db, row.id).await? {
        Readiness::Ready => {}
        Readiness::Waiting(what) => return Err(JobError::deferred(what, RESOURCE_CHECK)),
        Readiness::Never(why) => return Err(JobError::permanent(why)),
    }
    if status_of(&row) == DeploymentStatus::Pending {
        transition(&state.db, &row, DeploymentAction::StartProvisioning, vec![])
            .await
            .map_err(|e| JobError::permanent(e.to_string()))?;
        row = load(state, row.id).await?;
    }
    // The server checked while provisioning is the one deployed to: its host key is read once.
    let mut checked = None;
    if status_of(&row) == DeploymentStatus::Provisioning {
        step(
            ctx,
            "provisioning",
            Stage::Provisioning,
            "checking the server",
        )
        .await?;
        let target = target(ctx, &row).await?;
        ctx.log
            .info(&format!(
                "{} at {}:{} answers on SSH with the pinned host key",
                target.server.name, target.host.address, target.host.port
            ))
            .await;
        transition(&state.db, &row, DeploymentAction::StartDeploying, vec![])
            .await
            .map_err(|e| JobError::permanent(e.to_string()))?;
        row = load(state, row.id).await?;
        checked = Some(target);
    }
    if status_of(&row) != DeploymentStatus::Deploying {
        ctx.log
            .info(&format!(
                "the deployment is {}; nothing to deploy",
                row.status
            ))
            .await;
        return Ok(());
    }

    step(ctx, "fetching", Stage::Fetching, "fetching the repository").await?;
    let project = project_rows::Entity::find_by_id(row.project_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| JobError::permanent("the project no longer exists"))?;
    let dir = projects::fetch(state, &project, &ctx.log)
        .await
        .map_err(JobError::permanent)?;
    if row.branch.is_empty() {
        // Deployed from the remote's default branch, which the fetch has just learnt.
        let learnt = project_rows::Entity::find_by_id(row.project_id)
            .one(&state.db)
            .await?
            .map(|p| p.default_branch)
            .filter(|b| !b.is_empty())
            .ok_or_else(|| JobError::permanent("the remote's default branch is unknown"))?;
        set(&state.db, row.id, rows::Column::Branch, learnt).await?;
        row = load(state, row.id).await?;
    }
    let head = git::log(&dir, 1).await.ok().and_then(|mut l| l.pop());
    let facts = projects::facts_of(&dir);
    let detected = shared::frameworks::detect(frameworks::all(), &facts).map(|f| f.slug.clone());
    projects::record_sync(&state.db, project.id, head.as_ref(), detected.as_deref()).await?;
    if row.framework.is_empty() {
        let slug = detected.ok_or_else(|| {
            JobError::permanent("no framework detected in the repository; choose one and redeploy")
        })?;
        ctx.log.info(&format!("framework detected: {slug}")).await;
        set(&state.db, row.id, rows::Column::Framework, slug).await?;
        row = load(state, row.id).await?;
    }
    let framework = framework_of(&row)?;
    let commit = git::resolve(&dir, &row.branch, row.commit_sha.as_deref())
        .await
        .map_err(JobError::permanent)?;
    set(&state.db, row.id, rows::Column::CommitSha, commit.clone()).await?;
    row = load(state, row.id).await?;
    let module = row
        .module
        .clone()
        .or_else(|| detect_module(framework, &dir))
        .or_else(|| framework.default_module.clone());
    let module = match module {
        Some(m) => m,
        None if framework.needs_module() => {
            return Err(JobError::permanent(format!(
                "{} needs a module (e.g. the folder holding wsgi.py); redeploy naming one",
                framework.name
            )))
        }
        None => String::new(),
    };
    // Kept for stop and start, which rebuild the service's command line.
    set(&state.db, row.id, rows::Column::Module, module.clone()).await?;
    let work = tempfile::Builder::new()
        .prefix("provisio-release-")
        .tempdir()
        .map_err(|e| JobError::permanent(e.to_string()))?;
    let archive = work.path().join(format!("{commit}.tar.gz"));
    git::archive(&dir, &commit, &archive)
        .await
        .map_err(JobError::permanent)?;
    ctx.log
        .info(&format!(
            "release {} of {} ({}, {})",
            &commit[..12],
            row.branch,
            framework.name,
            std::fs::metadata(&archive)
                .map(|m| format!("{} KiB", m.len().div_ceil(1024)))
                .unwrap_or_default()
        ))
        .await;

    step(
        ctx,
        "deploying",
        Stage::Deploying,
        "running the app playbook",
    )
    .await?;
    let target = match checked {
        Some(target) => target,
        None => target(ctx, &row).await?,
    };
    let mut env = domain::open_env(state, &row).map_err(JobError::permanent)?;
    // The bound resources' connections, passwords included, opened for this run only.
    env.extend(
        crate::domain::resources::binding::environment(&state.db, &state.keys, row.id)
            .await
            .map_err(JobError::permanent)?,
    );
    let log = ctx.log.with_secrets(env.values().cloned());
    let vars = variables(
        state,
        &row,
        framework,
        "deploy",
        Some(&archive),
        &module,
        env,
    );
    run_playbook(ctx, &log, &target, &vars, Some(&archive)).await?;

    step(
        ctx,
        "health check",
        Stage::HealthCheck,
        "checking the app over HTTP",
    )
    .await?;
    let (url, health) = health_url(&target, &row, framework);
    health_check(ctx, &health).await?;

    let txn = crate::db::begin_write(&state.db).await?;
    transition(
        &txn,
        &row,
        DeploymentAction::MarkRunning,
        vec![
            (rows::Column::Url, Expr::value(url.clone())),
            (rows::Column::DeployedAt, Expr::value(chrono::Utc::now())),
            (
                rows::Column::FailedStep,
                Expr::value(Option::<String>::None),
            ),
            (rows::Column::Error, Expr::value(Option::<String>::None)),
        ],
    )
    .await
    .map_err(|e| JobError::permanent(e.to_string()))?;
    tell_creator(
        &txn,
        state,
        &row,
        "deployment.running",
        format!("Deployed: {}", row.name),
        format!("{} ({}) is running at {url}", row.name, &commit[..12]),
    )
    .await?;
    txn.commit().await?;
    ctx.log
        .stage(Stage::Running, &format!("running at {url}"))
        .await;
    Ok(())
}
