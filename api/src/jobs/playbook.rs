//! Runs a deployment script version on its target servers: takes a per-server slot (the
//! concurrency limit), reads and checks every host key against the pinned fingerprint, runs
//! ansible-playbook, and stores the per-host recap and the exit code.

use super::{JobContext, JobError};
use crate::domain::{providers as accounts, scripts, servers, ssh_keys};
use crate::entities::{
    execution_targets, executions, script_versions, server_locks, servers as server_rows,
};
use crate::exec::ansible::{self, Host};
use crate::state::AppState;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use shared::providers::ProviderKind;
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;

fn payload_execution(ctx: &JobContext) -> Result<Uuid, JobError> {
    ctx.job
        .payload
        .get("execution_id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| JobError::permanent("the job names no execution"))
}

/// Slots held on servers for one execution; released when dropped (also when the job is
/// cancelled and its future dropped).
pub(super) struct ServerSlots {
    pub(super) state: AppState,
    pub(super) execution_id: Uuid,
}

impl Drop for ServerSlots {
    fn drop(&mut self) {
        let db = self.state.db.clone();
        let execution_id = self.execution_id;
        tokio::spawn(async move {
            let _ = server_locks::Entity::delete_many()
                .filter(server_locks::Column::ExecutionId.eq(execution_id))
                .exec(&db)
                .await;
        });
    }
}

/// Takes a free slot on one server: a new row, or one whose holder's time ran out.
pub(super) async fn take_slot<C: ConnectionTrait>(
    db: &C,
    server_id: Uuid,
    slots: u32,
    execution_id: Uuid,
    until: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let now = chrono::Utc::now();
    for slot in 0..slots as i32 {
        let inserted = server_locks::Entity::insert(server_locks::ActiveModel {
            server_id: Set(server_id),
            slot: Set(slot),
            execution_id: Set(execution_id),
            locked_until: Set(until),
        })
        .on_conflict(
            OnConflict::columns([server_locks::Column::ServerId, server_locks::Column::Slot])
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(db)
        .await?;
        if matches!(inserted, sea_orm::TryInsertResult::Inserted(_)) {
            return Ok(true);
        }
        let taken_over = server_locks::Entity::update_many()
            .col_expr(server_locks::Column::ExecutionId, Expr::value(execution_id))
            .col_expr(server_locks::Column::LockedUntil, Expr::value(until))
            .filter(server_locks::Column::ServerId.eq(server_id))
            .filter(server_locks::Column::Slot.eq(slot))
            .filter(
                server_locks::Column::LockedUntil
                    .lt(now)
                    .or(server_locks::Column::ExecutionId.eq(execution_id)),
            )
            .exec(db)
            .await?
            .rows_affected;
        if taken_over == 1 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A name Ansible accepts as an inventory host, unique per run.
pub(super) fn inventory_name(server: &server_rows::Model) -> String {
    let clean = server
        .name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if clean && !server.name.is_empty() {
        server.name.clone()
    } else {
        format!("server-{}", server.id.simple())
    }
}

/// Reads the server's host key and checks it against the pinned fingerprint (pinning it on
/// first use); the key to trust for this connection, or why not to connect.
pub(super) async fn checked_host_key(
    state: &AppState,
    server: &server_rows::Model,
    address: &str,
    log: &crate::exec::log::LogSink,
) -> Result<String, String> {
    let port = u16::try_from(server.ssh_port).unwrap_or(22);
    let key = crate::exec::ssh::probe(address.to_owned(), port, Duration::from_secs(10), None)
        .await
        .map_err(|e| format!("unreachable: {e}"))?;
    match &server.host_key_fingerprint {
        Some(pinned) if pinned != &key.fingerprint => Err(format!(
            "the host key changed (pinned {pinned}, offered {}); not connecting",
            key.fingerprint
        )),
        Some(_) => Ok(key.public_key),
        None => {
            servers::pin_host_key(&state.db, server.id, &key.fingerprint)
                .await
                .map_err(|e| e.to_string())?;
            log.info(&format!(
                "{}: host key {} pinned on first use",
                server.name, key.fingerprint
            ))
            .await;
            Ok(key.public_key)
        }
    }
}

pub(super) async fn login_key(
    state: &AppState,
    server: &server_rows::Model,
    service_key: &str,
) -> String {
    if let Ok(account) = accounts::open_account(state, server.provider_account_id).await {
        if account.kind == ProviderKind::Ssh {
            if let Some(key) = account.credentials.private_key {
                return key;
            }
        }
    }
    service_key.to_owned()
}

/// A server a job runs a shipped playbook on, with what logs into it.
pub(super) struct Target {
    pub(super) server: server_rows::Model,
    pub(super) host: Host,
}

/// Loads the server, reads and checks its host key, and picks the key that logs in.
pub(super) async fn server_target(ctx: &JobContext, server_id: Uuid) -> Result<Target, JobError> {
    let state = &ctx.state;
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
    let host = Host {
        inventory_name: inventory_name(&server),
        address,
        port: u16::try_from(server.ssh_port).unwrap_or(22),
        user: server.ssh_user.clone(),
        host_key,
        private_key: login_key(state, &server, &service_key).await,
    };
    Ok(Target { server, host })
}

/// Runs one of Provisio's own playbooks (`what` names it in errors) on `target`, in a slot of
/// the server's concurrency limit (deferred while none is free); `readable` are the files of
/// this host the sandboxed playbook reads.
pub(super) async fn run_on_server(
    ctx: &JobContext,
    log: &crate::exec::log::LogSink,
    target: &Target,
    what: &str,
    playbook: &str,
    variables: &BTreeMap<String, serde_json::Value>,
    readable: &[&std::path::Path],
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
            sandbox: state.config.sandbox.as_deref(),
            readable,
            label: ansible::run_label(execution_id),
            playbook,
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
            "{what} stopped after the {} s timeout",
            timeout.as_secs()
        )));
    }
    match outcome.exit_code {
        Some(0) => Ok(()),
        Some(code) => Err(JobError::permanent(format!(
            "{what} failed (exit {code}); see the log"
        ))),
        None => Err(JobError::permanent(format!("{what} was killed"))),
    }
}

pub async fn run(ctx: &JobContext) -> Result<(), JobError> {
    let state = &ctx.state;
    let execution_id = payload_execution(ctx)?;
    if let Some(why) = ctx.interrupted() {
        // Unlike provisioning and app deploys, a user's playbook is not known to be safe to
        // run twice (it may append, migrate, restart): a run cut short ends failed and says so.
        server_locks::Entity::delete_many()
            .filter(server_locks::Column::ExecutionId.eq(execution_id))
            .exec(&state.db)
            .await?;
        return Err(JobError::permanent(format!(
            "{why}; a playbook is not run again by itself because it may not be safe to repeat: \
             check the hosts, then run it again"
        )));
    }
    let timeout = Duration::from_secs(
        ctx.job
            .payload
            .get("timeout_secs")
            .and_then(|v| v.as_u64())
            .unwrap_or(scripts::DEFAULT_TIMEOUT_SECS as u64),
    );
    let execution = executions::Entity::find_by_id(execution_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| JobError::permanent("the execution no longer exists"))?;
    let version =
        script_versions::Entity::find_by_id(execution.script_version_id.unwrap_or_default())
            .one(&state.db)
            .await?
            .ok_or_else(|| JobError::permanent("the script version no longer exists"))?;
    let targets = execution_targets::Entity::find()
        .filter(execution_targets::Column::ExecutionId.eq(execution_id))
        .all(&state.db)
        .await?;
    let variables = scripts::open_variables(
        state,
        execution
            .variables
            .as_ref()
            .unwrap_or(&serde_json::Value::Null),
    )
    .map_err(JobError::permanent)?;

    let until = chrono::Utc::now()
        + chrono::Duration::from_std(timeout + state.config.jobs.lease * 2).unwrap_or_default();
    let slots = ServerSlots {
        state: state.clone(),
        execution_id,
    };
    for target in &targets {
        if !take_slot(
            &state.db,
            target.server_id,
            state.config.ansible.per_server,
            execution_id,
            until,
        )
        .await?
        {
            drop(slots);
            return Err(JobError::deferred(
                format!("waiting: another run is using {}", target.server_name),
                Duration::from_secs(2),
            ));
        }
    }

    let (_, service_key) = ssh_keys::service_key(state)
        .await
        .map_err(|e| JobError::permanent(format!("the service key: {e}")))?;
    let mut hosts = Vec::new();
    let mut names: BTreeMap<String, Uuid> = BTreeMap::new();
    let mut refused = Vec::new();
    for target in &targets {
        let Some(server) = server_rows::Entity::find_by_id(target.server_id)
            .one(&state.db)
            .await?
        else {
            refused.push(format!(
                "{} is no longer in the inventory",
                target.server_name
            ));
            continue;
        };
        let Some(address) = server.ipv4.clone() else {
            refused.push(format!("{} has no address", server.name));
            continue;
        };
        let port = u16::try_from(server.ssh_port).unwrap_or(22);
        let host_key = match checked_host_key(state, &server, &address, &ctx.log).await {
            Ok(key) => key,
            Err(e) => {
                ctx.log.error(&format!("{}: {e}", server.name)).await;
                mark_unreachable(state, execution_id, server.id).await?;
                continue;
            }
        };
        let name = inventory_name(&server);
        names.insert(name.clone(), server.id);
        hosts.push(Host {
            inventory_name: name,
            address,
            port,
            user: server.ssh_user.clone(),
            host_key,
            private_key: login_key(state, &server, &service_key).await,
        });
    }
    if !refused.is_empty() {
        return Err(JobError::permanent(refused.join("; ")));
    }
    if hosts.is_empty() {
        return Err(JobError::permanent("no target server could be reached"));
    }

    ctx.log
        .step(&format!(
            "running {} on {} host(s)",
            version_label(&version),
            hosts.len()
        ))
        .await;
    let outcome = ansible::run(
        ansible::PlaybookRun {
            ansible_playbook: &state.config.ansible.playbook_bin,
            sandbox: state.config.sandbox.as_deref(),
            readable: &[],
            // Short: the directory also holds the SSH control sockets.
            label: ansible::run_label(execution_id),
            playbook: &version.content,
            hosts: &hosts,
            variables: &variables,
            timeout,
        },
        &ctx.log,
    )
    .await
    .map_err(JobError::permanent)?;
    drop(slots);

    for (name, stats) in &outcome.recap {
        let Some(server_id) = names.get(name) else {
            continue;
        };
        execution_targets::Entity::update_many()
            .col_expr(execution_targets::Column::Ok, Expr::value(stats.ok))
            .col_expr(
                execution_targets::Column::Changed,
                Expr::value(stats.changed),
            )
            .col_expr(execution_targets::Column::Failed, Expr::value(stats.failed))
            .col_expr(
                execution_targets::Column::Unreachable,
                Expr::value(stats.unreachable),
            )
            .col_expr(
                execution_targets::Column::Skipped,
                Expr::value(stats.skipped),
            )
            .col_expr(
                execution_targets::Column::Rescued,
                Expr::value(stats.rescued),
            )
            .col_expr(
                execution_targets::Column::Ignored,
                Expr::value(stats.ignored),
            )
            .filter(execution_targets::Column::ExecutionId.eq(execution_id))
            .filter(execution_targets::Column::ServerId.eq(*server_id))
            .exec(&state.db)
            .await?;
    }
    executions::Entity::update_many()
        .col_expr(executions::Column::ExitCode, Expr::value(outcome.exit_code))
        .filter(executions::Column::Id.eq(execution_id))
        .exec(&state.db)
        .await?;

    if outcome.timed_out {
        return Err(JobError::permanent(format!(
            "stopped after the {} s timeout",
            timeout.as_secs()
        )));
    }
    let failing: Vec<&str> = outcome
        .recap
        .iter()
        .filter(|(_, s)| s.failed > 0 || s.unreachable > 0)
        .map(|(n, _)| n.as_str())
        .collect();
    match outcome.exit_code {
        Some(0) if !failing.is_empty() || hosts.len() < targets.len() => {
            Err(JobError::permanent("some hosts could not be reached"))
        }
        Some(0) => Ok(()),
        Some(code) if failing.is_empty() => Err(JobError::permanent(format!(
            "ansible-playbook exited with {code}"
        ))),
        Some(code) => Err(JobError::permanent(format!(
            "ansible-playbook exited with {code}; failed on {}",
            failing.join(", ")
        ))),
        None => Err(JobError::permanent("ansible-playbook was killed")),
    }
}

fn version_label(version: &script_versions::Model) -> String {
    format!("version {}", version.version)
}

async fn mark_unreachable(
    state: &AppState,
    execution_id: Uuid,
    server_id: Uuid,
) -> Result<(), DbErr> {
    execution_targets::Entity::update_many()
        .col_expr(execution_targets::Column::Unreachable, Expr::value(1))
        .filter(execution_targets::Column::ExecutionId.eq(execution_id))
        .filter(execution_targets::Column::ServerId.eq(server_id))
        .exec(&state.db)
        .await?;
    Ok(())
}
