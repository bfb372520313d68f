//! Proxmox VE over its REST API with an API token: clones a cloud-init template VM or creates an
//! LXC container, configures it, follows the UPID tasks, discovers its address and powers it.
//!
//! - `catalogue`: what the cluster offers (nodes, storages, bridges, templates);
//! - `guests`: guest ids, tags as labels, and reading guests into `RemoteServer`s;
//! - `tasks`: following UPID tasks, allocating VM ids and powering guests;
//! - `compute`: the `ComputeProvider` implementation (create, wait, power, snapshot, delete);
//! - `pinned`: TLS for self-signed clusters, trusting one certificate fingerprint.

mod catalogue;
mod compute;
mod guests;
mod pinned;
mod tasks;

use super::http::{Body, RestClient};
use super::{AccountConfig, ProviderError, ProviderResult, Tuning};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

pub struct Proxmox {
    api: RestClient,
    account: AccountConfig,
    poll: Duration,
    task_timeout: Duration,
}

pub fn http_client(account: &AccountConfig, tuning: &Tuning) -> ProviderResult<reqwest::Client> {
    let mut builder = crate::exec::network_policy::guard_client(
        reqwest::Client::builder()
            .timeout(tuning.request_timeout)
            .connect_timeout(Duration::from_secs(10)),
        &tuning.network,
        crate::exec::network_policy::Purpose::Provider,
    );
    if let Some(fingerprint) = &account.settings.tls_fingerprint {
        builder = builder.use_preconfigured_tls(pinned::config(fingerprint)?);
    } else if let Some(pem) = &account.settings.ca_pem {
        let cert = reqwest::Certificate::from_pem(pem.as_bytes())
            .map_err(|e| ProviderError::Config(format!("ca_pem: {e}")))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build()
        .map_err(|e| ProviderError::Config(format!("HTTP client: {e}")))
}

impl Proxmox {
    pub fn new(account: AccountConfig, tuning: &Tuning) -> ProviderResult<Self> {
        let token = account
            .credentials
            .api_token
            .clone()
            .ok_or_else(|| ProviderError::Config("no API token stored".into()))?;
        let mut base = account.endpoint.trim_end_matches('/').to_owned();
        if base.is_empty() {
            return Err(ProviderError::Config("the endpoint is empty".into()));
        }
        if !base.ends_with("/api2/json") {
            base.push_str("/api2/json");
        }
        let client = http_client(&account, tuning)?;
        Ok(Proxmox {
            api: RestClient::new(
                client,
                &base,
                "Authorization",
                format!("PVEAPIToken={token}"),
                tuning,
            ),
            account,
            poll: tuning.poll_interval,
            task_timeout: tuning.task_timeout,
        })
    }

    fn storage(&self) -> &str {
        self.account
            .settings
            .storage
            .as_deref()
            .unwrap_or("local-lvm")
    }

    fn bridge(&self) -> &str {
        self.account.settings.bridge.as_deref().unwrap_or("vmbr0")
    }

    async fn data(&self, segments: &[&str], query: &[(&str, String)]) -> ProviderResult<Value> {
        let v = self.api.get(segments, query).await?;
        Ok(v.get("data").cloned().unwrap_or(Value::Null))
    }

    async fn post(&self, segments: &[&str], form: Vec<(String, String)>) -> ProviderResult<Value> {
        let v = self
            .api
            .send(Method::POST, segments, &[], Body::Form(form))
            .await?;
        Ok(v.get("data").cloned().unwrap_or(Value::Null))
    }

    fn image_ref<'a>(&'a self, image: &'a str) -> &'a str {
        self.account
            .settings
            .images
            .get(image)
            .map(String::as_str)
            .unwrap_or(image)
    }
}
