//! Existing machines reached over SSH: nothing to create or power at a provider; Provisio
//! verifies reachability, proves its key logs in and pins the host key.

use super::{
    AccountConfig, Checkpoint, ComputeProvider, CreateSpec, ProviderError, ProviderResult,
};
use crate::exec::log::LogSink;
use async_trait::async_trait;
use shared::servers::{ConnectionCheck, ConnectionReport, PowerAction, RemoteServer};
use std::time::Duration;

pub struct SshHosts {
    account: AccountConfig,
}

impl SshHosts {
    pub fn new(account: AccountConfig) -> Self {
        SshHosts { account }
    }
}

#[async_trait]
impl ComputeProvider for SshHosts {
    async fn test_connection(&self) -> ConnectionReport {
        let check = match &self.account.credentials.private_key {
            Some(key) if key.contains("PRIVATE KEY-----") => ConnectionCheck {
                name: "private key stored".into(),
                ok: true,
                detail: "hosts are checked one by one when registered".into(),
            },
            _ => ConnectionCheck {
                name: "private key stored".into(),
                ok: false,
                detail: "store the private key Provisio logs in with".into(),
            },
        };
        ConnectionReport::of(vec![check])
    }

    async fn list(&self) -> ProviderResult<Vec<RemoteServer>> {
        Ok(vec![])
    }

    async fn get(&self, _provider_id: &str) -> ProviderResult<Option<RemoteServer>> {
        Ok(None)
    }

    async fn find_by_label(
        &self,
        _key: &str,
        _value: &str,
    ) -> ProviderResult<Option<RemoteServer>> {
        Ok(None)
    }

    async fn create(
        &self,
        _spec: &CreateSpec,
        _checkpoint: &dyn Checkpoint,
        _log: &LogSink,
    ) -> ProviderResult<RemoteServer> {
        Err(ProviderError::Config(
            "SSH host accounts register existing machines; they cannot create servers".into(),
        ))
    }

    async fn wait_ready(
        &self,
        provider_id: &str,
        _timeout: Duration,
        _log: &LogSink,
    ) -> ProviderResult<RemoteServer> {
        Err(ProviderError::NotFound(provider_id.to_owned()))
    }

    async fn power(
        &self,
        _provider_id: &str,
        _action: PowerAction,
        _log: &LogSink,
    ) -> ProviderResult<()> {
        Err(ProviderError::Rejected(
            "registered SSH hosts are powered by their owners, not through Provisio".into(),
        ))
    }

    async fn snapshot(&self, _provider_id: &str, _d: &str, _log: &LogSink) -> ProviderResult<()> {
        Err(ProviderError::Rejected(
            "registered SSH hosts have no provider snapshots".into(),
        ))
    }

    async fn delete(&self, _provider_id: &str, log: &LogSink) -> ProviderResult<()> {
        log.info("unregistered; the machine itself is left untouched")
            .await;
        Ok(())
    }
}
