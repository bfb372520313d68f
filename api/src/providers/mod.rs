//! The `ComputeProvider` trait and its adapters: Hetzner Cloud and Proxmox VE over their REST
//! APIs, Terraform modules, and existing machines reached over SSH.

pub mod hetzner;
pub mod http;
pub mod proxmox;
pub mod ssh_host;
pub mod terraform;

use crate::exec::log::LogSink;
use crate::exec::network_policy::Purpose;
use async_trait::async_trait;
use shared::providers::discovery::DiscoveredCatalog;
use shared::providers::{ProviderCredentials, ProviderKind, ProviderSettings};
use shared::servers::{ConnectionReport, PowerAction, RemoteServer};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the provider rejected the credentials: {0}")]
    Unauthorized(String),
    #[error("not found at the provider: {0}")]
    NotFound(String),
    #[error("the provider refused the request: {0}")]
    Rejected(String),
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    #[error("the provider task failed: {0}")]
    TaskFailed(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("misconfigured provider account: {0}")]
    Config(String),
}

impl ProviderError {
    /// Worth another attempt later (the job queue backs off and retries).
    pub fn is_transient(&self) -> bool {
        matches!(self, ProviderError::Unavailable(_))
    }
}

pub type ProviderResult<T> = Result<T, ProviderError>;

/// What to build. `labels` always include `provisio-request=<uuid>` so a retry finds the server.
#[derive(Debug, Clone)]
pub struct CreateSpec {
    pub name: String,
    pub location: String,
    pub server_type: Option<String>,
    pub cpu: u32,
    pub ram_mb: u32,
    pub disk_gb: u32,
    /// Catalog image name (the adapter maps it through the account settings).
    pub image: String,
    pub ssh_public_keys: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// A provider id chosen before an earlier attempt crashed (Proxmox VM id).
    pub reserved_id: Option<String>,
}

/// Hands the adapter a place to checkpoint ids before side effects (stored on the job row).
#[async_trait]
pub trait Checkpoint: Send + Sync {
    async fn save(&self, key: &str, value: &str);
}

#[async_trait]
pub trait ComputeProvider: Send + Sync {
    /// Checks the endpoint, the credentials and the permissions the pipeline needs.
    async fn test_connection(&self) -> ConnectionReport;
    /// What the provider offers the account: locations, images, sizes, and for Proxmox its
    /// storages and bridges.
    /// None when there is nothing to read (existing machines over SSH, a Terraform module
    /// without the provider's API).
    async fn discover(&self) -> ProviderResult<Option<DiscoveredCatalog>> {
        Ok(None)
    }
    /// Every machine the account can see (templates flagged).
    async fn list(&self) -> ProviderResult<Vec<RemoteServer>>;
    async fn get(&self, provider_id: &str) -> ProviderResult<Option<RemoteServer>>;
    async fn find_by_label(&self, key: &str, value: &str) -> ProviderResult<Option<RemoteServer>>;
    /// Creates the server unless one with the spec's request label exists; waits for the
    /// provider's own task or action to finish.
    async fn create(
        &self,
        spec: &CreateSpec,
        checkpoint: &dyn Checkpoint,
        log: &LogSink,
    ) -> ProviderResult<RemoteServer>;
    /// Waits until the server runs and reports an address.
    async fn wait_ready(
        &self,
        provider_id: &str,
        timeout: Duration,
        log: &LogSink,
    ) -> ProviderResult<RemoteServer>;
    async fn power(
        &self,
        provider_id: &str,
        action: PowerAction,
        log: &LogSink,
    ) -> ProviderResult<()>;
    async fn snapshot(
        &self,
        provider_id: &str,
        description: &str,
        log: &LogSink,
    ) -> ProviderResult<()>;
    /// Turns on the provider's own scheduled backups of the server.
    async fn enable_backups(&self, _provider_id: &str, _log: &LogSink) -> ProviderResult<()> {
        Err(ProviderError::Rejected(
            "this provider has no managed backups; use a backup playbook".into(),
        ))
    }
    /// Destroys the server; a server that is already gone is success.
    async fn delete(&self, provider_id: &str, log: &LogSink) -> ProviderResult<()>;
}

/// Everything needed to build an adapter for an account (credentials already opened).
#[derive(Debug, Clone)]
pub struct AccountConfig {
    pub kind: ProviderKind,
    pub endpoint: String,
    pub settings: ProviderSettings,
    pub credentials: ProviderCredentials,
}

/// Tunables shared by the HTTP adapters; tests shorten the waits.
#[derive(Debug, Clone)]
pub struct Tuning {
    pub request_timeout: Duration,
    pub max_retries: u32,
    pub retry_base: Duration,
    pub poll_interval: Duration,
    pub task_timeout: Duration,
    pub terraform_root: std::path::PathBuf,
    pub database_url: Option<String>,
    /// Copied from `Config::network` at startup: which endpoints the adapters may reach.
    pub network: crate::exec::network_policy::NetworkPolicy,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            request_timeout: Duration::from_secs(30),
            max_retries: 4,
            retry_base: Duration::from_millis(500),
            poll_interval: Duration::from_secs(2),
            task_timeout: Duration::from_secs(900),
            terraform_root: std::path::PathBuf::from("./provisio-terraform"),
            database_url: None,
            network: Default::default(),
        }
    }
}

pub fn build(account: AccountConfig, tuning: &Tuning) -> ProviderResult<Box<dyn ComputeProvider>> {
    tuning
        .network
        .check_url_literal(Purpose::Provider, &account.endpoint)
        .map_err(|refused| ProviderError::Config(refused.0))?;
    Ok(match account.kind {
        ProviderKind::Hetzner => Box::new(hetzner::Hetzner::new(account, tuning)?),
        ProviderKind::Proxmox => Box::new(proxmox::Proxmox::new(account, tuning)?),
        ProviderKind::TerraformHcloud | ProviderKind::TerraformProxmox => {
            Box::new(terraform::TerraformProvider::new(account, tuning)?)
        }
        ProviderKind::Ssh => Box::new(ssh_host::SshHosts::new(account)),
    })
}
