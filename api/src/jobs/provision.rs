//! The provisioning pipeline: approved request → create the server at the provider (idempotent by
//! the `provisio-request` label and a checkpointed VM id) → wait for the provider → wait for SSH
//! and pin the host key → request `deployed`. A failure marks the request `failed` with the
//! reason, removes a half-built server, and leaves retry to a person.

use super::{JobContext, JobError};
use crate::domain::executions::{self, NewExecution};
use crate::domain::notify::{notify, NewNotification};
use crate::domain::requests::{apply, event, link, status_of};
use crate::domain::{providers as accounts, servers};
use crate::entities::{jobs, server_requests};
use crate::providers::{Checkpoint, CreateSpec};
use crate::state::AppState;
use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use shared::servers::{ServerOrigin, ServerStatus, REQUEST_LABEL};
use shared::stages::Stage;
use shared::workflow::{RequestAction, RequestStatus};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use uuid::Uuid;

fn request_id(job: &jobs::Model) -> Result<Uuid, JobError> {
    job.payload
        .get("request_id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| JobError::permanent("the job names no request"))
}

pub async fn new_execution(state: &AppState, job: &jobs::Model) -> Result<Uuid, JobError> {
    let id = request_id(job)?;
    let row = server_requests::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| JobError::permanent("the request no longer exists"))?;
    Ok(executions::create(
        &state.db,
        NewExecution {
            kind: "provision",
            target_type: "server_request",
            target_id: row.id,
            team_id: row.team_id,
            created_by: None,
            script_version_id: None,
            variables: None,
        },
    )
    .await?)
}

struct JobCheckpoint<'a> {
    ctx: &'a JobContext,
}

#[async_trait]
impl Checkpoint for JobCheckpoint<'_> {
    async fn save(&self, key: &str, value: &str) {
        if let Err(e) = super::save_progress(&self.ctx.state.db, self.ctx.job.id, key, value).await
        {
            tracing::warn!(job = %self.ctx.job.id, error = %e, "checkpoint not saved");
        }
    }
}

pub async fn run(ctx: &JobContext) -> Result<(), JobError> {
    let state = &ctx.state;
    let log = &ctx.log;
    let id = request_id(&ctx.job)?;
    let row = server_requests::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| JobError::permanent("the request no longer exists"))?;
    let row = match status_of(&row) {
        RequestStatus::Approved => {
            let txn = crate::db::begin_write(&state.db).await?;
            apply(
                &txn,
                &row,
                RequestAction::StartProvisioning,
                None,
                vec![],
                "provisioning started",
            )
            .await
            .map_err(JobError::from)?;
            crate::domain::deployments::follow_provisioning(&txn, id, log.execution_id).await?;
            txn.commit().await?;
            server_requests::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .ok_or_else(|| JobError::permanent("request vanished"))?
        }
        RequestStatus::Provisioning => {
            // Resumed after an interruption: the deployments follow this attempt.
            crate::domain::deployments::follow_provisioning(&state.db, id, log.execution_id)
                .await?;
            row
        }
        other => {
            log.info(&format!(
                "the request is {}; nothing to provision",
                other.as_str()
            ))
            .await;
            return Ok(());
        }
    };

    let account = accounts::open_account(state, row.provider_account_id)
        .await
        .map_err(JobError::permanent)?;
    let settings = account.settings.clone();
    let provider =
        crate::providers::build(account, &state.config.providers).map_err(JobError::from)?;

    let mut labels = BTreeMap::new();
    labels.insert(REQUEST_LABEL.to_owned(), row.id.to_string());
    labels.insert("managed-by".to_owned(), "provisio".to_owned());
    // The service key goes onto every server so playbooks can log in.
    let (service_key, _) = crate::domain::ssh_keys::service_key(state)
        .await
        .map_err(|e| JobError::permanent(format!("the service key: {e}")))?;
    let mut ssh_public_keys: Vec<String> =
        serde_json::from_value(row.ssh_public_keys.clone()).unwrap_or_default();
    ssh_public_keys.push(service_key);
    let spec = CreateSpec {
        name: row.hostname.clone(),
        location: row.location.clone(),
        server_type: row.server_type.clone(),
        cpu: row.cpu.max(0) as u32,
        ram_mb: row.ram_mb.max(0) as u32,
        disk_gb: row.disk_gb.max(0) as u32,
        image: row.image.clone(),
        ssh_public_keys,
        labels: labels.clone(),
        reserved_id: ctx.progress("vmid"),
    };

    log.stage(
        Stage::Creating,
        &format!("creating {} at the provider", row.hostname),
    )
    .await;
    let created = provider
        .create(&spec, &JobCheckpoint { ctx }, log)
        .await
        .map_err(JobError::from)?;
    let ssh_user = settings.ssh_user.clone().unwrap_or_else(|| "root".into());
    let ssh_port = settings.ssh_port.unwrap_or(22);
    let server_id = servers::upsert_for_request(
        &state.db,
        &row,
        &created,
        ServerOrigin::Provisioned,
        &ssh_user,
        ssh_port,
    )
    .await?;
    log.info(&format!(
        "server {} is {} at the provider",
        created.provider_id,
        created.status.as_str()
    ))
    .await;

    let timeout = Duration::from_secs(settings.ready_timeout_secs.unwrap_or(600) as u64);
    log.stage(
        Stage::WaitingForAddress,
        "waiting for the server to run and report an address",
    )
    .await;
    let ready = provider
        .wait_ready(&created.provider_id, timeout, log)
        .await
        .map_err(JobError::from)?;
    servers::record_remote(&state.db, server_id, &ready).await?;
    let address = ready
        .ipv4
        .clone()
        .or(ready.ipv6.clone())
        .unwrap_or_default();
    log.info(&format!("address {address}")).await;

    if settings.wait_for_ssh.unwrap_or(true) {
        log.stage(
            Stage::WaitingForSsh,
            &format!("waiting for SSH on {address}:{ssh_port}"),
        )
        .await;
        let started = Instant::now();
        let mut last_error = String::new();
        let key = loop {
            match crate::exec::ssh::probe(address.clone(), ssh_port, Duration::from_secs(10), None)
                .await
            {
                Ok(key) => break key,
                Err(e) => {
                    if e != last_error {
                        log.info(&format!("not reachable yet: {e}")).await;
                        last_error = e;
                    }
                }
            }
            if started.elapsed() > timeout {
                return Err(JobError::permanent(format!(
                    "{address}:{ssh_port} never answered on SSH within {}s: {last_error}",
                    timeout.as_secs()
                )));
            }
            tokio::time::sleep(state.config.providers.poll_interval).await;
        };
        log.info(&format!(
            "host key pinned: {} {}",
            key.key_type, key.fingerprint
        ))
        .await;
        servers::pin_host_key(&state.db, server_id, &key.fingerprint).await?;
    }

    let txn = crate::db::begin_write(&state.db).await?;
    let row = server_requests::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| JobError::permanent("request vanished"))?;
    apply(
        &txn,
        &row,
        RequestAction::MarkDeployed,
        None,
        vec![],
        &format!("server ready at {address}"),
    )
    .await
    .map_err(JobError::from)?;
    servers::set_status(&txn, server_id, ServerStatus::Running).await?;
    crate::domain::deployments::server_ready(&txn, state, row.id, server_id).await?;
    crate::domain::resources::new_server::server_ready(&txn, row.id, server_id).await?;
    notify(
        &txn,
        state.config.smtp_url.is_some(),
        &[row.requester_id],
        None,
        &NewNotification {
            kind: "request.deployed",
            title: format!("Server ready: {}", row.hostname),
            body: format!("{} is running at {address}.", row.hostname),
            link: link(row.id),
        },
    )
    .await?;
    txn.commit().await?;
    log.stage(Stage::Provisioned, "deployed").await;
    Ok(())
}

/// Marks the request failed with the reason and destroys a half-built server, so a retry starts
/// clean (the job keeps no VM id checkpoint of a destroyed guest).
pub async fn on_failure(ctx: &JobContext, message: &str) -> Result<(), JobError> {
    let state = &ctx.state;
    let id = request_id(&ctx.job)?;
    let row = server_requests::Entity::find_by_id(id)
        .one(&state.db)
        .await?;
    let inventory = servers::of_request(&state.db, id).await?;
    let account = inventory
        .as_ref()
        .map(|s| s.provider_account_id)
        .or(row.as_ref().map(|r| r.provider_account_id));
    let provider = match account {
        Some(account) => accounts::open_account(state, account).await.and_then(|a| {
            crate::providers::build(a, &state.config.providers).map_err(|e| e.to_string())
        }),
        None => Err("the request no longer exists".to_owned()),
    };
    // Without an inventory row the failure came inside the provider's create: the guest is
    // looked up by its label.
    let half_built = match (&inventory, &provider) {
        (Some(server), _) => Some(server.provider_id.clone()),
        (None, Ok(provider)) => provider
            .find_by_label(REQUEST_LABEL, &id.to_string())
            .await
            .ok()
            .flatten()
            .map(|s| s.provider_id),
        (None, Err(_)) => None,
    };
    if let Some(provider_id) = half_built {
        ctx.log.step("removing the half-built server").await;
        let cleaned = match &provider {
            Ok(provider) => provider
                .delete(&provider_id, &ctx.log)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        match (cleaned, &inventory) {
            (Ok(()), inventory) => {
                if let Some(server) = inventory {
                    servers::forget_request(&state.db, server.id).await?;
                }
                ctx.log
                    .info(&format!("{provider_id} destroyed at the provider"))
                    .await;
            }
            (Err(e), Some(server)) => {
                servers::set_status(&state.db, server.id, ServerStatus::Error).await?;
                ctx.log
                    .error(&format!(
                        "clean-up failed, the server stays in the inventory as error: {e}"
                    ))
                    .await;
            }
            (Err(e), None) => {
                ctx.log
                    .error(&format!("clean-up of {provider_id} failed: {e}"))
                    .await
            }
        }
    }
    jobs::Entity::update_many()
        .col_expr(
            jobs::Column::Progress,
            Expr::value(Option::<serde_json::Value>::None),
        )
        .filter(jobs::Column::Id.eq(ctx.job.id))
        .exec(&state.db)
        .await?;
    let txn = crate::db::begin_write(&state.db).await?;
    if let Some(row) = server_requests::Entity::find_by_id(id).one(&txn).await? {
        if status_of(&row) == RequestStatus::Provisioning {
            let reason: String = message.chars().take(1000).collect();
            apply(
                &txn,
                &row,
                RequestAction::MarkFailed,
                None,
                vec![(
                    server_requests::Column::FailureReason,
                    Expr::value(reason.clone()),
                )],
                &reason,
            )
            .await
            .map_err(JobError::from)?;
            notify(
                &txn,
                state.config.smtp_url.is_some(),
                &[row.requester_id],
                None,
                &NewNotification {
                    kind: "request.failed",
                    title: format!("Provisioning failed: {}", row.hostname),
                    body: reason,
                    link: link(row.id),
                },
            )
            .await?;
        } else {
            event(
                &txn,
                row.id,
                None,
                "note",
                None,
                None,
                &format!("provisioning stopped: {message}"),
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(())
}
