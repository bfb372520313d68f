//! Terraform accounts: the built-in modules (hcloud-server, proxmox-vm, proxmox-lxc) or a module
//! of the operator's own create and destroy servers, one workspace and state per request; power,
//! status and listing go through the provider's REST API with the same credentials.

use super::{
    AccountConfig, Checkpoint, ComputeProvider, CreateSpec, ProviderError, ProviderResult, Tuning,
};
use crate::exec::log::LogSink;
use crate::exec::terraform::{Backend, LogLine, TerraformRunner, Workspace};
use async_trait::async_trait;
use rust_embed::RustEmbed;
use serde_json::{json, Value};
use shared::providers::discovery::DiscoveredCatalog;
use shared::providers::ProviderKind;
use shared::servers::{
    ConnectionCheck, ConnectionReport, PowerAction, RemoteServer, ServerStatus, REQUEST_LABEL,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(RustEmbed)]
#[folder = "../terraform-templates/"]
#[exclude = "testing/*"]
struct Modules;

pub struct TerraformProvider {
    account: AccountConfig,
    runner: TerraformRunner,
    root: PathBuf,
    rest: Option<Box<dyn ComputeProvider>>,
    database_url: Option<String>,
    network: crate::exec::network_policy::NetworkPolicy,
}

/// `provider_id` of a Terraform server: `<workspace>/<the REST provider's id>`.
fn split_id(provider_id: &str) -> ProviderResult<(&str, &str)> {
    provider_id
        .split_once('/')
        .filter(|(ws, _)| ws.parse::<uuid::Uuid>().is_ok())
        .ok_or_else(|| {
            ProviderError::NotFound(format!("`{provider_id}` is not a Terraform server id"))
        })
}

impl TerraformProvider {
    pub fn new(account: AccountConfig, tuning: &Tuning) -> ProviderResult<Self> {
        let rest_kind = match account.kind {
            ProviderKind::TerraformHcloud => ProviderKind::Hetzner,
            _ => ProviderKind::Proxmox,
        };
        let rest = if account.credentials.api_token.is_some() && !account.endpoint.is_empty() {
            Some(super::build(
                AccountConfig {
                    kind: rest_kind,
                    ..account.clone()
                },
                tuning,
            )?)
        } else {
            None
        };
        Ok(TerraformProvider {
            network: tuning.network.clone(),
            runner: TerraformRunner::new(tuning.terraform_root.clone()),
            root: tuning.terraform_root.clone(),
            database_url: tuning.database_url.clone(),
            account,
            rest,
        })
    }

    /// Terraform's providers resolve the endpoint themselves: check what it resolves to now,
    /// right before terraform runs.
    async fn clear_endpoint(&self) -> ProviderResult<()> {
        if let Some((host, port)) =
            crate::exec::network_policy::url_destination(&self.account.endpoint)
        {
            self.network
                .resolve(crate::exec::network_policy::Purpose::Provider, &host, port)
                .await
                .map_err(|refused| ProviderError::Config(refused.0))?;
        }
        Ok(())
    }

    fn module_for(&self, image_ref: &str) -> ProviderResult<PathBuf> {
        if let Some(custom) = &self.account.settings.terraform_module {
            return Ok(PathBuf::from(custom));
        }
        let name = match self.account.kind {
            ProviderKind::TerraformHcloud => "hcloud-server",
            _ if image_ref.contains(":vztmpl/") => "proxmox-lxc",
            _ => "proxmox-vm",
        };
        let dir = std::path::absolute(self.root.join("modules").join(name))
            .map_err(|e| ProviderError::Config(format!("terraform dir: {e}")))?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| ProviderError::Config(format!("terraform dir: {e}")))?;
        for file in Modules::iter().filter(|f| f.starts_with(&format!("{name}/"))) {
            let content = Modules::get(&file).expect("listed by iter");
            let target = dir.join(file.trim_start_matches(&format!("{name}/")));
            std::fs::write(&target, content.data.as_ref())
                .map_err(|e| ProviderError::Config(format!("writing {}: {e}", target.display())))?;
        }
        Ok(dir)
    }

    fn backend(&self, workspace: &str) -> Backend {
        match &self.database_url {
            Some(url) if url.starts_with("postgres") => Backend::Postgres {
                conn_str: url.clone(),
                schema: format!("tf_{}", workspace.replace('-', "")),
            },
            _ => Backend::Local,
        }
    }

    fn vars(&self, spec: &CreateSpec, image_ref: &str) -> Value {
        let token = self
            .account
            .credentials
            .api_token
            .clone()
            .unwrap_or_default();
        let s = &self.account.settings;
        match self.account.kind {
            ProviderKind::TerraformHcloud => json!({
                "hcloud_token": token,
                "endpoint": if self.account.endpoint.is_empty() { super::hetzner::DEFAULT_ENDPOINT } else { &self.account.endpoint },
                "name": spec.name,
                "server_type": spec.server_type.clone().unwrap_or_default(),
                "image": image_ref,
                "location": spec.location,
                "ssh_public_keys": spec.ssh_public_keys,
                "labels": spec.labels,
            }),
            _ if image_ref.contains(":vztmpl/") => json!({
                "endpoint": self.account.endpoint,
                "api_token": token,
                "insecure": s.tls_fingerprint.is_some(),
                "node": spec.location,
                "template_file_id": image_ref,
                "hostname": spec.name,
                "cores": spec.cpu.max(1),
                "memory": spec.ram_mb.max(128),
                "disk": spec.disk_gb.max(1),
                "keys": spec.ssh_public_keys,
                "tags": spec.labels.iter().map(|(k, v)| format!("{k}.{v}")).collect::<Vec<_>>(),
            }),
            _ => json!({
                "endpoint": self.account.endpoint,
                "api_token": token,
                "insecure": s.tls_fingerprint.is_some(),
                "node": spec.location,
                "template_vm_id": image_ref.parse::<u64>().unwrap_or(0),
                "name": spec.name,
                "cores": spec.cpu.max(1),
                "memory_mb": spec.ram_mb.max(256),
                "disk_gb": spec.disk_gb.max(1),
                "ssh_public_keys": spec.ssh_public_keys,
                "tags": spec.labels.iter().map(|(k, v)| format!("{k}.{v}")).collect::<Vec<_>>(),
            }),
        }
    }

    /// Runs a Terraform step, copying each event into the execution log as it arrives.
    async fn streamed<T, F, Fut>(&self, log: &LogSink, step: F) -> ProviderResult<T>
    where
        F: FnOnce(tokio::sync::mpsc::UnboundedSender<LogLine>) -> Fut,
        Fut: std::future::Future<Output = Result<T, crate::exec::terraform::TerraformError>>,
    {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<LogLine>();
        let copy = async {
            while let Some(line) = rx.recv().await {
                let stream = match line.event.as_ref().map(|e| e.level) {
                    Some(crate::exec::terraform::Level::Error) => "error",
                    _ => line.stream.as_str(),
                };
                log.line(stream, &line.text).await;
            }
        };
        let (result, ()) = tokio::join!(step(tx), copy);
        result.map_err(|e| ProviderError::TaskFailed(e.to_string()))
    }

    async fn workspace(
        &self,
        name: &str,
        module: &Path,
        vars: &Value,
    ) -> ProviderResult<Workspace> {
        let secrets: Vec<String> = self.account.credentials.api_token.iter().cloned().collect();
        Ok(self
            .runner
            .prepare(
                module,
                Path::new("servers").join(name).as_path(),
                vars,
                self.backend(name),
            )
            .await
            .map_err(|e| ProviderError::Config(e.to_string()))?
            .with_secrets(secrets))
    }

    fn stored_vars(&self, name: &str) -> Option<Value> {
        let path = self
            .root
            .join("servers")
            .join(name)
            .join("terraform.tfvars.json");
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    fn remote_from_outputs(
        &self,
        workspace: &str,
        spec_name: &str,
        outputs: &std::collections::BTreeMap<String, Value>,
        node: &str,
    ) -> ProviderResult<RemoteServer> {
        let raw = outputs
            .get("server_id")
            .and_then(|v| v.get("value").cloned().or(Some(v.clone())))
            .and_then(|v| match v {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .ok_or_else(|| {
                ProviderError::TaskFailed("the module produced no server_id output".into())
            })?;
        let ipv4 = outputs
            .get("ipv4")
            .and_then(|v| v.get("value").cloned().or(Some(v.clone())))
            .and_then(|v| v.as_str().map(str::to_owned))
            .filter(|s| !s.is_empty());
        let inner = match (self.account.kind, &self.account.settings.terraform_module) {
            (ProviderKind::TerraformProxmox, None) => format!("{node}/qemu/{raw}"),
            _ => raw,
        };
        Ok(RemoteServer {
            provider_id: format!("{workspace}/{inner}"),
            name: spec_name.to_owned(),
            status: ServerStatus::Running,
            ipv4,
            ipv6: None,
            cpu: 0,
            ram_mb: 0,
            disk_gb: 0,
            image: String::new(),
            location: node.to_owned(),
            labels: Default::default(),
            template: false,
            server_id: None,
        })
    }

    fn prefixed(workspace: &str, mut s: RemoteServer) -> RemoteServer {
        s.provider_id = format!("{workspace}/{}", s.provider_id);
        s
    }

    /// The workspace an earlier create left, prepared again from its own variables.
    async fn stored_workspace(&self, name: &str) -> ProviderResult<Option<(Value, Workspace)>> {
        let Some(vars) = self.stored_vars(name) else {
            return Ok(None);
        };
        let module = self.module_for(
            vars.get("image")
                .or(vars.get("template_file_id"))
                .and_then(Value::as_str)
                .unwrap_or(""),
        )?;
        let ws = self.workspace(name, &module, &vars).await?;
        Ok(Some((vars, ws)))
    }

    /// The REST adapter and its own id for a Terraform server, for what Terraform does not do.
    fn rest_for<'a>(
        &'a self,
        provider_id: &'a str,
        what: &str,
    ) -> ProviderResult<(&'a dyn ComputeProvider, &'a str)> {
        let (_, inner) = split_id(provider_id)?;
        match &self.rest {
            Some(rest) => Ok((rest.as_ref(), inner)),
            None => Err(ProviderError::Rejected(format!(
                "{what} need the account's API endpoint and token"
            ))),
        }
    }

    async fn outputs_of(&self, workspace: &str) -> ProviderResult<Option<RemoteServer>> {
        let Some((vars, ws)) = self.stored_workspace(workspace).await? else {
            return Ok(None);
        };
        let outputs = self
            .runner
            .output(&ws, |_| {})
            .await
            .map_err(|e| ProviderError::TaskFailed(e.to_string()))?;
        if outputs.is_empty() {
            return Ok(None);
        }
        let name = vars
            .get("name")
            .or(vars.get("hostname"))
            .and_then(Value::as_str)
            .unwrap_or(workspace)
            .to_owned();
        let node = vars
            .get("node")
            .or(vars.get("location"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        self.remote_from_outputs(workspace, &name, &outputs, &node)
            .map(Some)
    }
}

#[async_trait]
impl ComputeProvider for TerraformProvider {
    async fn test_connection(&self) -> ConnectionReport {
        let version = tokio::process::Command::new(&self.runner.binary)
            .arg("version")
            .output()
            .await
            .map_err(|e| e.to_string())
            .and_then(|out| {
                if out.status.success() {
                    Ok(String::from_utf8_lossy(&out.stdout)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_owned())
                } else {
                    Err(String::from_utf8_lossy(&out.stderr).into_owned())
                }
            });
        let mut checks = vec![ConnectionCheck::of("terraform installed", version)];
        if let Some(rest) = &self.rest {
            checks.extend(rest.test_connection().await.checks);
        }
        ConnectionReport::of(checks)
    }

    async fn discover(&self) -> ProviderResult<Option<DiscoveredCatalog>> {
        match &self.rest {
            Some(rest) => rest.discover().await,
            None => Ok(None),
        }
    }

    async fn list(&self) -> ProviderResult<Vec<RemoteServer>> {
        // The REST listing has no workspaces; Terraform servers are tracked from their creation.
        Ok(vec![])
    }

    async fn get(&self, provider_id: &str) -> ProviderResult<Option<RemoteServer>> {
        let (workspace, inner) = split_id(provider_id)?;
        if let Some(rest) = &self.rest {
            if let Some(s) = rest.get(inner).await? {
                return Ok(Some(Self::prefixed(workspace, s)));
            }
        }
        self.outputs_of(workspace).await
    }

    async fn find_by_label(&self, key: &str, value: &str) -> ProviderResult<Option<RemoteServer>> {
        if key != REQUEST_LABEL || value.parse::<uuid::Uuid>().is_err() {
            return Ok(None);
        }
        self.outputs_of(value).await
    }

    async fn create(
        &self,
        spec: &CreateSpec,
        _checkpoint: &dyn Checkpoint,
        log: &LogSink,
    ) -> ProviderResult<RemoteServer> {
        let workspace = spec
            .labels
            .get(REQUEST_LABEL)
            .filter(|v| v.parse::<uuid::Uuid>().is_ok())
            .cloned()
            .ok_or_else(|| {
                ProviderError::Config("a Terraform server needs its request label".into())
            })?;
        let image_ref = self
            .account
            .settings
            .images
            .get(&spec.image)
            .cloned()
            .unwrap_or_else(|| spec.image.clone());
        self.clear_endpoint().await?;
        let module = self.module_for(&image_ref)?;
        let vars = self.vars(spec, &image_ref);
        let ws = self.workspace(&workspace, &module, &vars).await?;
        log.step("terraform init").await;
        self.streamed(log, |tx| {
            self.runner.init(&ws, move |l| {
                let _ = tx.send(l);
            })
        })
        .await?;
        log.step("terraform plan").await;
        self.streamed(log, |tx| {
            self.runner.plan(&ws, move |l| {
                let _ = tx.send(l);
            })
        })
        .await?;
        log.step("terraform apply").await;
        self.streamed(log, |tx| {
            self.runner.apply(&ws, move |l| {
                let _ = tx.send(l);
            })
        })
        .await?;
        let outputs = self
            .streamed(log, |tx| {
                self.runner.output(&ws, move |l| {
                    let _ = tx.send(l);
                })
            })
            .await?;
        self.remote_from_outputs(&workspace, &spec.name, &outputs, &spec.location)
    }

    async fn wait_ready(
        &self,
        provider_id: &str,
        timeout: Duration,
        log: &LogSink,
    ) -> ProviderResult<RemoteServer> {
        let (workspace, inner) = split_id(provider_id)?;
        if let Some(rest) = &self.rest {
            if self.account.settings.terraform_module.is_none() {
                return rest
                    .wait_ready(inner, timeout, log)
                    .await
                    .map(|s| Self::prefixed(workspace, s));
            }
        }
        self.outputs_of(workspace)
            .await?
            .ok_or_else(|| ProviderError::NotFound(provider_id.to_owned()))
    }

    async fn power(
        &self,
        provider_id: &str,
        action: PowerAction,
        log: &LogSink,
    ) -> ProviderResult<()> {
        let (rest, inner) = self.rest_for(provider_id, "power actions")?;
        rest.power(inner, action, log).await
    }

    async fn snapshot(
        &self,
        provider_id: &str,
        description: &str,
        log: &LogSink,
    ) -> ProviderResult<()> {
        let (rest, inner) = self.rest_for(provider_id, "snapshots")?;
        rest.snapshot(inner, description, log).await
    }

    async fn enable_backups(&self, provider_id: &str, log: &LogSink) -> ProviderResult<()> {
        let (rest, inner) = self.rest_for(provider_id, "backups")?;
        rest.enable_backups(inner, log).await
    }

    async fn delete(&self, provider_id: &str, log: &LogSink) -> ProviderResult<()> {
        let (workspace, _) = split_id(provider_id)?;
        let Some((_, ws)) = self.stored_workspace(workspace).await? else {
            log.info("no Terraform workspace left; nothing to destroy")
                .await;
            return Ok(());
        };
        self.clear_endpoint().await?;
        log.step("terraform destroy").await;
        self.streamed(log, |tx| {
            self.runner.destroy(&ws, move |l| {
                let _ = tx.send(l);
            })
        })
        .await
    }
}
