//! The `ComputeProvider` implementation: connection checks, listing, and creating (a clone of a
//! template VM or a new LXC container, resumable after a crash), waiting for, powering,
//! snapshotting and deleting guests.

use super::guests::{tag_of, Guest, GuestId};
use super::Proxmox;
use crate::exec::log::LogSink;
use crate::providers::http::Body;
use crate::providers::{Checkpoint, ComputeProvider, CreateSpec, ProviderError, ProviderResult};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;
use shared::providers::discovery::DiscoveredCatalog;
use shared::servers::{
    ConnectionCheck, ConnectionReport, PowerAction, RemoteServer, ServerStatus, REQUEST_LABEL,
};
use std::time::{Duration, Instant};

#[async_trait]
impl ComputeProvider for Proxmox {
    async fn test_connection(&self) -> ConnectionReport {
        let mut checks = Vec::new();
        let mut check = |name: &str, result: Result<String, ProviderError>| {
            checks.push(ConnectionCheck::of(name, result))
        };
        let version = self.data(&["version"], &[]).await.map(|v| {
            format!(
                "Proxmox VE {}",
                v.get("version").and_then(Value::as_str).unwrap_or("?")
            )
        });
        let reachable = version.is_ok();
        check("API reachable and token accepted", version);
        if reachable {
            let resources = self.resources().await;
            let templates: Vec<String> = resources
                .as_ref()
                .map(|r| {
                    r.iter()
                        .filter_map(|i| self.remote_of(i))
                        .filter(|s| s.template)
                        .map(|s| s.provider_id)
                        .collect()
                })
                .unwrap_or_default();
            check(
                "may list guests (VM.Audit)",
                resources.map(|r| format!("{} guests visible", r.len())),
            );
            check(
                "may allocate ids (cluster/nextid)",
                self.next_vmid()
                    .await
                    .map(|id| format!("next free id {id}")),
            );
            for (name, reference) in &self.account.settings.images {
                if reference.chars().all(|c| c.is_ascii_digit()) {
                    let found = templates
                        .iter()
                        .any(|t| t.ends_with(&format!("/qemu/{reference}")));
                    check(
                        &format!("template for image {name}"),
                        if found {
                            Ok(format!("template VM {reference} found"))
                        } else {
                            Err(ProviderError::NotFound(format!(
                                "no template VM {reference}"
                            )))
                        },
                    );
                }
            }
        }
        ConnectionReport::of(checks)
    }

    async fn discover(&self) -> ProviderResult<Option<DiscoveredCatalog>> {
        self.read_catalogue().await.map(Some)
    }

    async fn list(&self) -> ProviderResult<Vec<RemoteServer>> {
        Ok(self
            .resources()
            .await?
            .iter()
            .filter_map(|i| self.remote_of(i))
            .collect())
    }

    async fn get(&self, provider_id: &str) -> ProviderResult<Option<RemoteServer>> {
        self.guest(&GuestId::parse(provider_id)?).await
    }

    async fn find_by_label(&self, key: &str, value: &str) -> ProviderResult<Option<RemoteServer>> {
        let wanted = tag_of(key, value);
        let hit = self.list().await?.into_iter().find(|s| {
            !s.template
                && s.labels.get(&key.to_lowercase()).map(String::as_str)
                    == Some(&wanted[key.len() + 1..])
        });
        match hit {
            Some(s) => self.get(&s.provider_id).await,
            None => Ok(None),
        }
    }

    async fn create(
        &self,
        spec: &CreateSpec,
        checkpoint: &dyn Checkpoint,
        log: &LogSink,
    ) -> ProviderResult<RemoteServer> {
        let request = spec.labels.get(REQUEST_LABEL).cloned().unwrap_or_default();
        let node = spec.location.clone();
        let reference = self.image_ref(&spec.image).to_owned();
        let guest = if reference.chars().all(|c| c.is_ascii_digit()) {
            Guest::Qemu
        } else if reference.contains(":vztmpl/") {
            Guest::Lxc
        } else {
            return Err(ProviderError::Config(format!(
                "image `{}` maps to `{reference}`, which is neither a template VM id nor an LXC template",
                spec.image
            )));
        };
        let tags = spec
            .labels
            .iter()
            .map(|(k, v)| tag_of(k, v))
            .collect::<Vec<_>>()
            .join(";");
        // An earlier attempt may have got as far as tagging the guest, or only as far as
        // creating it under the VM id it checkpointed: either way it is continued, not duplicated.
        let (id, adopted) =
            if let Some(existing) = self.find_by_label(REQUEST_LABEL, &request).await? {
                log.info(&format!(
                    "found {} from an earlier attempt; continuing with it",
                    existing.provider_id
                ))
                .await;
                (GuestId::parse(&existing.provider_id)?, true)
            } else {
                let vmid = match &spec.reserved_id {
                    Some(id) => id.clone(),
                    None => {
                        let id = self.next_vmid().await?;
                        checkpoint.save("vmid", &id).await;
                        id
                    }
                };
                let id = GuestId {
                    node: node.clone(),
                    guest,
                    vmid: vmid.clone(),
                };
                let adopted = match self.guest(&id).await? {
                    Some(found) if found.name == spec.name => {
                        log.info(&format!(
                            "VM id {vmid} already holds {}; continuing with it",
                            spec.name
                        ))
                        .await;
                        true
                    }
                    Some(found) => {
                        return Err(ProviderError::Rejected(format!(
                            "VM id {vmid} reserved for {} is taken by {}",
                            spec.name, found.name
                        )))
                    }
                    None => false,
                };
                (id, adopted)
            };
        let node = id.node.clone();
        let vmid = id.vmid.clone();
        let guest = id.guest;
        let keys = spec.ssh_public_keys.join("\n");
        match guest {
            Guest::Qemu => {
                if !adopted {
                    log.step(&format!(
                        "cloning template {reference} to VM {vmid} on {node}"
                    ))
                    .await;
                    let upid = self
                        .post(
                            &["nodes", &node, "qemu", &reference, "clone"],
                            vec![
                                ("newid".into(), vmid.clone()),
                                ("name".into(), spec.name.clone()),
                                ("full".into(), "1".into()),
                            ],
                        )
                        .await?;
                    self.wait_task(&node, &upid, log).await?;
                }
                log.step("configuring CPU, memory, cloud-init and SSH keys")
                    .await;
                let mut form = vec![
                    ("cores".to_string(), spec.cpu.max(1).to_string()),
                    ("memory".into(), spec.ram_mb.max(256).to_string()),
                    ("agent".into(), "1".into()),
                    ("ipconfig0".into(), "ip=dhcp".into()),
                    (
                        "ciuser".into(),
                        self.account
                            .settings
                            .ssh_user
                            .clone()
                            .unwrap_or_else(|| "root".into()),
                    ),
                    ("tags".into(), tags.clone()),
                    ("net0".into(), format!("virtio,bridge={}", self.bridge())),
                ];
                if !keys.is_empty() {
                    // Proxmox wants this one value URL-encoded a second time.
                    form.push(("sshkeys".into(), pve_encode(&keys)));
                }
                let upid = self
                    .post(&["nodes", &node, "qemu", &vmid, "config"], form)
                    .await?;
                self.wait_task(&node, &upid, log).await?;
                if spec.disk_gb > 0 {
                    let resized = self
                        .api
                        .send(
                            Method::PUT,
                            &["nodes", &node, "qemu", &vmid, "resize"],
                            &[],
                            Body::Form(vec![
                                ("disk".into(), "scsi0".into()),
                                ("size".into(), format!("{}G", spec.disk_gb)),
                            ]),
                        )
                        .await;
                    match resized {
                        Ok(v) => {
                            self.wait_task(&node, v.get("data").unwrap_or(&Value::Null), log)
                                .await?
                        }
                        // Shrinking is refused by Proxmox: the template's larger disk stays.
                        Err(ProviderError::Rejected(m)) | Err(ProviderError::Unavailable(m))
                            if m.contains("shrink") =>
                        {
                            log.info(&format!("disk kept at the template's size: {m}"))
                                .await
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            Guest::Lxc => {
                if !adopted {
                    log.step(&format!(
                        "creating container {vmid} from {reference} on {node}"
                    ))
                    .await;
                    let mut form = vec![
                        ("vmid".to_string(), vmid.clone()),
                        ("ostemplate".into(), reference.clone()),
                        ("hostname".into(), spec.name.clone()),
                        ("cores".into(), spec.cpu.max(1).to_string()),
                        ("memory".into(), spec.ram_mb.max(128).to_string()),
                        (
                            "rootfs".into(),
                            format!("{}:{}", self.storage(), spec.disk_gb.max(1)),
                        ),
                        (
                            "net0".into(),
                            format!("name=eth0,bridge={},ip=dhcp", self.bridge()),
                        ),
                        ("unprivileged".into(), "1".into()),
                        ("tags".into(), tags.clone()),
                    ];
                    if !keys.is_empty() {
                        form.push(("ssh-public-keys".into(), keys.clone()));
                    }
                    let upid = self.post(&["nodes", &node, "lxc"], form).await?;
                    self.wait_task(&node, &upid, log).await?;
                }
            }
        }
        let current = self
            .guest(&id)
            .await?
            .ok_or_else(|| ProviderError::NotFound(id.to_id()))?;
        if current.status != ServerStatus::Running {
            log.step("starting").await;
            self.set_power(&id, "start", log).await?;
        }
        self.guest(&id)
            .await?
            .ok_or_else(|| ProviderError::NotFound(id.to_id()))
    }

    async fn wait_ready(
        &self,
        provider_id: &str,
        timeout: Duration,
        log: &LogSink,
    ) -> ProviderResult<RemoteServer> {
        let id = GuestId::parse(provider_id)?;
        let started = Instant::now();
        let mut said = false;
        loop {
            if let Some(s) = self.guest(&id).await? {
                if s.status == ServerStatus::Running && (s.ipv4.is_some() || s.ipv6.is_some()) {
                    return Ok(s);
                }
                if !said {
                    log.info(match id.guest {
                        Guest::Qemu => "waiting for the guest agent to report an address",
                        Guest::Lxc => "waiting for the container to report an address",
                    })
                    .await;
                    said = true;
                }
            } else {
                return Err(ProviderError::NotFound(provider_id.to_owned()));
            }
            if started.elapsed() > timeout {
                return Err(ProviderError::Timeout(format!(
                    "{provider_id} reported no address"
                )));
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    async fn power(
        &self,
        provider_id: &str,
        action: PowerAction,
        log: &LogSink,
    ) -> ProviderResult<()> {
        let id = GuestId::parse(provider_id)?;
        let verb = match action {
            PowerAction::Start => "start",
            PowerAction::Stop => "stop",
            PowerAction::Reboot => "reboot",
        };
        log.step(&format!("{verb} {provider_id}")).await;
        self.set_power(&id, verb, log).await
    }

    async fn snapshot(
        &self,
        provider_id: &str,
        description: &str,
        log: &LogSink,
    ) -> ProviderResult<()> {
        let id = GuestId::parse(provider_id)?;
        // Unique per guest: two snapshots within one second must not collide.
        let name = format!("provisio{}", chrono::Utc::now().format("%Y%m%d%H%M%S%3f"));
        log.step(&format!("snapshot {name} of {provider_id}")).await;
        let upid = self
            .post(
                &["nodes", &id.node, id.guest.as_str(), &id.vmid, "snapshot"],
                vec![
                    ("snapname".into(), name),
                    ("description".into(), description.to_owned()),
                ],
            )
            .await?;
        self.wait_task(&id.node, &upid, log).await
    }

    async fn delete(&self, provider_id: &str, log: &LogSink) -> ProviderResult<()> {
        let id = GuestId::parse(provider_id)?;
        let Some(current) = self.guest(&id).await? else {
            log.info(&format!("{provider_id} is already gone")).await;
            return Ok(());
        };
        if current.status == ServerStatus::Running {
            log.step(&format!("stopping {provider_id}")).await;
            self.set_power(&id, "stop", log).await?;
        }
        log.step(&format!("destroying {provider_id}")).await;
        let upid = self
            .api
            .send(
                Method::DELETE,
                &["nodes", &id.node, id.guest.as_str(), &id.vmid],
                &[("purge", "1".into())],
                Body::None,
            )
            .await?;
        self.wait_task(&id.node, upid.get("data").unwrap_or(&Value::Null), log)
            .await
    }
}

/// Percent-encodes everything outside the unreserved set (what Proxmox expects of `sshkeys`).
fn pve_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_keys_are_encoded_for_proxmox() {
        assert_eq!(
            pve_encode("ssh-ed25519 AAA+/=\n"),
            "ssh-ed25519%20AAA%2B%2F%3D%0A"
        );
    }
}
