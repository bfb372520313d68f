//! The deployment pipeline and its later steps, one `deploy` job each:
//! `deploy`: PENDING → PROVISIONING (the server is checked: running, reachable, host key as
//! pinned) → DEPLOYING (fetch the project, resolve the commit, ship `git archive` of it, run the
//! app playbook: runtime, install, build, service, nginx) → health check over HTTP → RUNNING with
//! its URL; any failure → FAILED naming the step. `stop`, `start` and `remove` run the same
//! playbook with another action.

use super::playbook::{checked_host_key, inventory_name, login_key, take_slot, ServerSlots};
use super::{JobContext, JobError};
use crate::domain::deployments::{self as domain, status_of, transition};
use crate::domain::notify::{notify, NewNotification};
use crate::domain::{frameworks, projects, ssh_keys};
use crate::entities::{
    deployments as rows, jobs, projects as project_rows, servers as server_rows,
};
use crate::exec::{ansible, git};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use shared::deployments::{DeploymentAction, DeploymentStatus};
use shared::frameworks::Framework;
use shared::stages::Stage;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub const APP_PLAYBOOK: &str = include_str!("../../../playbooks/app/deploy.yml");

fn payload(ctx: &JobContext) -> Result<(Uuid, String), JobError> {
    let id = ctx
        .job
        .payload
        .get("deployment_id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| JobError::permanent("the job names no deployment"))?;
    let action = ctx
        .job
        .payload
        .get("action")
        .and_then(|v| v.as_str())
        .unwrap_or("deploy")
        .to_owned();
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
    match action.as_str() {
        "deploy" => deploy(ctx, row).await,
        "stop" | "start" | "remove" => operate(ctx, row, &action).await,
        other => Err(JobError::permanent(format!(
            "unknown deployment step `{other}`"
        ))),
    }
}

/// The server a deployment lives on, with what logs into it.
struct Target {
    server: server_rows::Model,
    host: ansible::Host,
}

async fn target(ctx: &JobContext, row: &rows::Model) -> Result<Target, JobError> {
    let state = &ctx.state;
    let server_id = row
        .server_id
        .ok_or_else(|| JobError::permanent("the deployment has no server"))?;
    let server = server_rows::Entity::find_by_id(server_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| JobError::permanent("the server is no longer in the inventory"))?;
    let address = server
        .ipv4
        .clone()
        .ok_or_else(|| JobError::permanent(format!("{} has no address", server.name)))?;
    let host_key = checked_host_key(state, &server, &address, &ctx.log)
        .await
        .map_err(|e| JobError::permanent(format!("{}: {e}", server.name)))?;
    let (_, service_key) = ssh_keys::service_key(state)
        .await
        .map_err(|e| JobError::permanent(format!("the service key: {e}")))?;
    let host = ansible::Host {
        inventory_name: inventory_name(&server),
        address,
        port: u16::try_from(server.ssh_port).unwrap_or(22),
        user: server.ssh_user.clone(),
        host_key,
        private_key: login_key(state, &server, &service_key).await,
    };
    Ok(Target { server, host })
}

fn app_name(row: &rows::Model) -> String {
    format!(
        "provisio-{}-{}",
        row.name,
        &row.id.simple().to_string()[..8]
    )
}

/// What must be on the host for the runtime: a probe argv and the Debian package that provides it.
fn probes(framework: &Framework) -> Vec<Value> {
    let mut found = vec![json!({"argv": ["nginx", "-v"], "package": "nginx"})];
    match framework.runtime.as_str() {
        "python" => found.push(
            json!({"argv": ["python3", "-c", "import venv, ensurepip"], "package": "python3-venv"}),
        ),
        "php" => found.push(json!({"argv": ["php", "--version"], "package": "php-cli"})),
        _ => {}
    }
    let argv0s: Vec<&str> = framework
        .install
        .iter()
        .chain(&framework.build)
        .filter_map(|argv| argv.first().map(String::as_str))
        .chain(framework.start.first().map(String::as_str))
        .collect();
    if argv0s.iter().any(|a| matches!(*a, "npm" | "npx" | "node")) {
        found.push(json!({"argv": ["node", "--version"], "package": "nodejs"}));
        found.push(json!({"argv": ["npm", "--version"], "package": "npm"}));
    }
    if argv0s.contains(&"composer") {
        found.push(json!({"argv": ["composer", "--version"], "package": "composer"}));
    }
    found
}

/// The playbook's variables for one action.
fn variables(
    state: &AppState,
    row: &rows::Model,
    framework: &Framework,
    action: &str,
    archive: Option<&Path>,
    module: &str,
    env: BTreeMap<String, String>,
) -> BTreeMap<String, Value> {
    let app_port = row.app_port.unwrap_or(0);
    let mut env = env;
    if !framework.is_static() {
        env.entry("PORT".into()).or_insert(app_port.to_string());
        env.entry("HOST".into()).or_insert("127.0.0.1".into());
    }
    let name = app_name(row);
    let mut vars = BTreeMap::new();
    vars.insert("app_action".into(), json!(action));
    vars.insert(
        "app_dir".into(),
        json!(format!(
            "{}/{name}",
            state.config.deploy.apps_root.trim_end_matches('/')
        )),
    );
    vars.insert("app_name".into(), json!(name));
    // System user names stop at 32 characters.
    vars.insert(
        "app_user".into(),
        json!(format!("pv-{}", &row.id.simple().to_string()[..12])),
    );
    vars.insert(
        "release".into(),
        json!(row.commit_sha.clone().unwrap_or_default()),
    );
    vars.insert(
        "archive".into(),
        json!(archive.map(|a| a.display().to_string()).unwrap_or_default()),
    );
    vars.insert("install".into(), json!(framework.install));
    vars.insert("build".into(), json!(framework.build));
    vars.insert(
        "start".into(),
        json!(framework.start_command(module, u16::try_from(app_port).unwrap_or(0))),
    );
    vars.insert(
        "static_dir".into(),
        json!(framework.static_dir.clone().unwrap_or_else(|| ".".into())),
    );
    vars.insert("public_port".into(), json!(row.port.unwrap_or(0)));
    vars.insert("app_port".into(), json!(app_port));
    vars.insert("env".into(), json!(env));
    vars.insert("probes".into(), json!(probes(framework)));
    vars
}

fn framework_of(row: &rows::Model) -> Result<&'static Framework, JobError> {
    frameworks::all()
        .iter()
        .find(|f| f.slug == row.framework)
        .ok_or_else(|| JobError::permanent(format!("unknown framework `{}`", row.framework)))
}

/// Django names its settings package after the project: the folder that holds `wsgi.py`.
fn detect_module(framework: &Framework, dir: &Path) -> Option<String> {
    if framework.slug == "django" {
        let entries = std::fs::read_dir(dir).ok()?;
        for entry in entries.flatten() {
            if entry.path().join("wsgi.py").is_file() {
                return entry.file_name().to_str().map(str::to_owned);
            }
        }
    }
    None
}

async fn run_playbook(
    ctx: &JobContext,
    log: &crate::exec::log::LogSink,
    target: &Target,
    variables: &BTreeMap<String, Value>,
) -> Result<(), JobError> {
    let state = &ctx.state;
    let timeout = state.config.deploy.playbook_timeout;
    let until = chrono::Utc::now()
        + chrono::Duration::from_std(timeout + state.config.jobs.lease * 2).unwrap_or_default();
    let execution_id = log.execution_id;
    let slots = ServerSlots {
        state: state.clone(),
        execution_id,
    };
    if !take_slot(
        &state.db,
        target.server.id,
        state.config.ansible.per_server,
        execution_id,
        until,
    )
    .await?
    {
        drop(slots);
        return Err(JobError::deferred(
            format!("waiting: another run is using {}", target.server.name),
            Duration::from_secs(2),
        ));
    }
    let outcome = ansible::run(
        ansible::PlaybookRun {
            ansible_playbook: &state.config.ansible.playbook_bin,
            label: ansible::run_label(execution_id),
            playbook: APP_PLAYBOOK,
            hosts: std::slice::from_ref(&target.host),
            variables,
            timeout,
        },
        log,
    )
    .await
    .map_err(JobError::permanent)?;
    drop(slots);
    if outcome.timed_out {
        return Err(JobError::permanent(format!(
            "the app playbook stopped after the {} s timeout",
            timeout.as_secs()
        )));
    }
    match outcome.exit_code {
        Some(0) => Ok(()),
        Some(code) => Err(JobError::permanent(format!(
            "the app playbook failed (exit {code}); see the log"
        ))),
        None => Err(JobError::permanent("the app playbook was killed")),
    }
}

/// Asks the app over HTTP until it answers below 400 or the time is up.
async fn health_check(ctx: &JobContext, url: &str) -> Result<(), JobError> {
    let timeout = ctx.state.config.deploy.health_timeout;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| JobError::permanent(e.to_string()))?;
    let started = Instant::now();
    let mut last = String::new();
    loop {
        let answer = match client.get(url).send().await {
            Ok(response) if response.status().as_u16() < 400 => {
                ctx.log
                    .info(&format!("{url} answered {}", response.status()))
                    .await;
                return Ok(());
            }
            Ok(response) => format!("answered {}", response.status()),
            Err(e) => format!("no answer: {}", without_url(&e)),
        };
        if answer != last {
            ctx.log.info(&format!("{url} {answer}")).await;
            last = answer;
        }
        if started.elapsed() >= timeout {
            return Err(JobError::permanent(format!(
                "{url} {last} after {} s",
                timeout.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Why a request failed, without repeating the URL.
fn without_url(e: &reqwest::Error) -> &'static str {
    if e.is_connect() {
        "connection refused or unreachable"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "request failed"
    }
}

fn health_url(target: &Target, row: &rows::Model, framework: &Framework) -> (String, String) {
    let host = if target.host.address.contains(':') {
        format!("[{}]", target.host.address)
    } else {
        target.host.address.clone()
    };
    let base = format!("http://{host}:{}", row.port.unwrap_or(80));
    let path = if framework.health_path.starts_with('/') {
        framework.health_path.clone()
    } else {
        format!("/{}", framework.health_path)
    };
    (format!("{base}/"), format!("{base}{path}"))
}

async fn deploy(ctx: &JobContext, row: rows::Model) -> Result<(), JobError> {
    let state = &ctx.state;
    let mut row = row;
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
    let env = domain::open_env(state, &row).map_err(JobError::permanent)?;
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
    run_playbook(ctx, &log, &target, &vars).await?;

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

async fn operate(ctx: &JobContext, row: rows::Model, action: &str) -> Result<(), JobError> {
    let state = &ctx.state;
    let status = status_of(&row);
    let wanted = match action {
        "stop" => DeploymentStatus::Running,
        "start" => DeploymentStatus::Stopped,
        _ => DeploymentStatus::Deleting,
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
        None | Some(_) if action == "remove" && (server_gone || row.commit_sha.is_none()) => {
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
            run_playbook(ctx, &ctx.log, &target, &vars).await?;
            if action == "start" {
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
    let (move_by, done) = match action {
        "stop" => (DeploymentAction::Stop, "stopped"),
        "start" => (DeploymentAction::Start, "running again"),
        _ => (DeploymentAction::MarkDeleted, "deleted"),
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
    if action == "remove" && row.request_id.is_some() {
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
        .unwrap_or_else(|| action.clone());
    let error: String = message.chars().take(2000).collect();
    if matches!(action.as_str(), "stop" | "start") {
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
