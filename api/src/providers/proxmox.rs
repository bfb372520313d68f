//! Proxmox VE over its REST API with an API token: clones a cloud-init template VM or creates an
//! LXC container, configures it, follows the UPID tasks, discovers its address and powers it.

use super::http::{lenient_bool, lenient_i64, lenient_str, Body, RestClient};
use super::{
    AccountConfig, Checkpoint, ComputeProvider, CreateSpec, ProviderError, ProviderResult, Tuning,
};
use crate::exec::log::LogSink;
use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;
use shared::servers::{
    ConnectionCheck, ConnectionReport, PowerAction, RemoteServer, ServerStatus, REQUEST_LABEL,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub struct Proxmox {
    api: RestClient,
    account: AccountConfig,
    poll: Duration,
    task_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guest {
    Qemu,
    Lxc,
}

impl Guest {
    fn as_str(self) -> &'static str {
        match self {
            Guest::Qemu => "qemu",
            Guest::Lxc => "lxc",
        }
    }
}

/// `node/qemu/101` ↔ its parts.
struct GuestId {
    node: String,
    guest: Guest,
    vmid: String,
}

impl GuestId {
    fn parse(provider_id: &str) -> ProviderResult<Self> {
        let mut parts = provider_id.split('/');
        let (Some(node), Some(kind), Some(vmid), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ProviderError::NotFound(format!(
                "`{provider_id}` is not node/qemu|lxc/vmid"
            )));
        };
        let guest = match kind {
            "qemu" => Guest::Qemu,
            "lxc" => Guest::Lxc,
            _ => {
                return Err(ProviderError::NotFound(format!(
                    "`{provider_id}`: unknown guest type"
                )))
            }
        };
        if vmid.is_empty() || !vmid.chars().all(|c| c.is_ascii_digit()) {
            return Err(ProviderError::NotFound(format!(
                "`{provider_id}`: bad VM id"
            )));
        }
        Ok(GuestId {
            node: node.to_owned(),
            guest,
            vmid: vmid.to_owned(),
        })
    }

    fn to_id(&self) -> String {
        format!("{}/{}/{}", self.node, self.guest.as_str(), self.vmid)
    }
}

/// Proxmox tags allow `[a-z0-9_+.-]`: a label `key=value` is stored as the tag `key.value`.
fn tag_of(key: &str, value: &str) -> String {
    if value.is_empty() {
        key.to_lowercase()
    } else {
        format!("{}.{}", key.to_lowercase(), value.to_lowercase())
    }
}

fn labels_of(tags: &str) -> BTreeMap<String, String> {
    tags.split([';', ',', ' '])
        .filter(|t| !t.is_empty())
        .map(|t| match t.split_once('.') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (t.to_owned(), String::new()),
        })
        .collect()
}

fn status_of(s: &str) -> ServerStatus {
    match s {
        "running" => ServerStatus::Running,
        "stopped" => ServerStatus::Stopped,
        _ => ServerStatus::Unknown,
    }
}

fn mb(bytes: Option<i64>) -> i32 {
    (bytes.unwrap_or(0) / (1024 * 1024)) as i32
}

fn gb(bytes: Option<i64>) -> i32 {
    (bytes.unwrap_or(0) / (1024 * 1024 * 1024)) as i32
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

    async fn resources(&self) -> ProviderResult<Vec<Value>> {
        let v = self
            .data(&["cluster", "resources"], &[("type", "vm".into())])
            .await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    fn remote_of(&self, item: &Value) -> Option<RemoteServer> {
        let guest = match item.get("type").and_then(Value::as_str)? {
            "qemu" => Guest::Qemu,
            "lxc" => Guest::Lxc,
            _ => return None,
        };
        let node = item.get("node").and_then(Value::as_str)?.to_owned();
        let vmid = lenient_str(item.get("vmid"))?;
        let id = GuestId {
            node: node.clone(),
            guest,
            vmid: vmid.clone(),
        };
        Some(RemoteServer {
            provider_id: id.to_id(),
            name: item
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&vmid)
                .to_owned(),
            status: status_of(item.get("status").and_then(Value::as_str).unwrap_or("")),
            ipv4: None,
            ipv6: None,
            cpu: lenient_i64(item.get("maxcpu")).unwrap_or(0) as i32,
            ram_mb: mb(lenient_i64(item.get("maxmem"))),
            disk_gb: gb(lenient_i64(item.get("maxdisk"))),
            image: guest.as_str().to_owned(),
            location: node,
            labels: labels_of(item.get("tags").and_then(Value::as_str).unwrap_or("")),
            template: lenient_bool(item.get("template")),
            server_id: None,
        })
    }

    /// The first non-loopback addresses the guest agent (VM) or the container reports.
    async fn addresses(&self, id: &GuestId) -> (Option<String>, Option<String>) {
        let segments: Vec<&str> = match id.guest {
            Guest::Qemu => vec![
                "nodes",
                &id.node,
                "qemu",
                &id.vmid,
                "agent",
                "network-get-interfaces",
            ],
            Guest::Lxc => vec!["nodes", &id.node, "lxc", &id.vmid, "interfaces"],
        };
        let Ok(data) = self.data(&segments, &[]).await else {
            return (None, None);
        };
        let interfaces = data
            .get("result")
            .cloned()
            .unwrap_or(data)
            .as_array()
            .cloned()
            .unwrap_or_default();
        let (mut v4, mut v6) = (None, None);
        for iface in interfaces
            .iter()
            .filter(|i| i.get("name").and_then(Value::as_str) != Some("lo"))
        {
            for addr in iface
                .get("ip-addresses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let ip = addr.get("ip-address").and_then(Value::as_str).unwrap_or("");
                match addr.get("ip-address-type").and_then(Value::as_str) {
                    Some("ipv4" | "inet") if v4.is_none() && !ip.is_empty() => {
                        v4 = Some(ip.to_owned())
                    }
                    Some("ipv6" | "inet6")
                        if v6.is_none() && !ip.is_empty() && !ip.starts_with("fe80") =>
                    {
                        v6 = Some(ip.to_owned())
                    }
                    _ => {}
                }
            }
            if v4.is_none() {
                if let Some(inet) = iface.get("inet").and_then(Value::as_str) {
                    v4 = Some(inet.split('/').next().unwrap_or(inet).to_owned());
                }
            }
        }
        (v4, v6)
    }

    async fn guest(&self, id: &GuestId) -> ProviderResult<Option<RemoteServer>> {
        let current = match self
            .data(
                &[
                    "nodes",
                    &id.node,
                    id.guest.as_str(),
                    &id.vmid,
                    "status",
                    "current",
                ],
                &[],
            )
            .await
        {
            Ok(v) => v,
            Err(ProviderError::NotFound(_)) => return Ok(None),
            Err(ProviderError::Unavailable(m)) | Err(ProviderError::Rejected(m))
                if m.contains("does not exist") =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        let config = self
            .data(
                &["nodes", &id.node, id.guest.as_str(), &id.vmid, "config"],
                &[],
            )
            .await
            .unwrap_or(Value::Null);
        let status = status_of(current.get("status").and_then(Value::as_str).unwrap_or(""));
        let (ipv4, ipv6) = if status == ServerStatus::Running {
            self.addresses(id).await
        } else {
            (None, None)
        };
        let tags = config
            .get("tags")
            .and_then(Value::as_str)
            .or_else(|| current.get("tags").and_then(Value::as_str))
            .unwrap_or("");
        Ok(Some(RemoteServer {
            provider_id: id.to_id(),
            name: current
                .get("name")
                .and_then(Value::as_str)
                .or_else(|| config.get("name").and_then(Value::as_str))
                .or_else(|| config.get("hostname").and_then(Value::as_str))
                .unwrap_or(&id.vmid)
                .to_owned(),
            status,
            ipv4,
            ipv6,
            cpu: lenient_i64(current.get("cpus").or_else(|| current.get("maxcpu"))).unwrap_or(0)
                as i32,
            ram_mb: mb(lenient_i64(current.get("maxmem"))),
            disk_gb: gb(lenient_i64(current.get("maxdisk"))),
            image: id.guest.as_str().to_owned(),
            location: id.node.clone(),
            labels: labels_of(tags),
            template: lenient_bool(current.get("template")) || lenient_bool(config.get("template")),
            server_id: None,
        }))
    }

    /// Follows a UPID task to its end, copying its log lines into the execution log.
    async fn wait_task(&self, node: &str, upid: &Value, log: &LogSink) -> ProviderResult<()> {
        let Some(upid) = upid.as_str() else {
            return Ok(()); // synchronous call: nothing to follow
        };
        let started = Instant::now();
        let mut seen = 0i64;
        loop {
            let status = self
                .data(&["nodes", node, "tasks", upid, "status"], &[])
                .await?;
            let lines = self
                .data(
                    &["nodes", node, "tasks", upid, "log"],
                    &[("start", seen.to_string()), ("limit", "500".into())],
                )
                .await
                .unwrap_or(Value::Null);
            for line in lines.as_array().into_iter().flatten() {
                let n = lenient_i64(line.get("n")).unwrap_or(seen + 1);
                if n > seen {
                    seen = n;
                    if let Some(t) = line.get("t").and_then(Value::as_str) {
                        if !t.is_empty() && t != "no content" {
                            log.line("stdout", t).await;
                        }
                    }
                }
            }
            if status.get("status").and_then(Value::as_str) == Some("stopped") {
                let exit = status
                    .get("exitstatus")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                return if exit == "OK" {
                    Ok(())
                } else {
                    Err(ProviderError::TaskFailed(format!("task {upid}: {exit}")))
                };
            }
            if started.elapsed() > self.task_timeout {
                return Err(ProviderError::Timeout(format!("task {upid} still running")));
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    async fn next_vmid(&self) -> ProviderResult<String> {
        let v = self.data(&["cluster", "nextid"], &[]).await?;
        lenient_str(Some(&v))
            .ok_or_else(|| ProviderError::Unavailable("cluster/nextid returned nothing".into()))
    }

    /// `status/start|stop|reboot` of a guest, followed to the end of its task.
    async fn set_power(&self, id: &GuestId, verb: &str, log: &LogSink) -> ProviderResult<()> {
        let upid = self
            .post(
                &[
                    "nodes",
                    &id.node,
                    id.guest.as_str(),
                    &id.vmid,
                    "status",
                    verb,
                ],
                vec![],
            )
            .await?;
        self.wait_task(&id.node, &upid, log).await
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

/// TLS for self-signed clusters: trust exactly the certificate with the pinned SHA-256.
mod pinned {
    use super::{ProviderError, ProviderResult};
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};
    use sha2::{Digest, Sha256};
    use std::sync::Arc;

    #[derive(Debug)]
    struct Pinned {
        sha256: Vec<u8>,
        provider: Arc<CryptoProvider>,
    }

    impl ServerCertVerifier for Pinned {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            if Sha256::digest(end_entity.as_ref())[..] == self.sha256[..] {
                Ok(ServerCertVerified::assertion())
            } else {
                Err(rustls::Error::General(
                    "the server certificate does not match the pinned fingerprint".into(),
                ))
            }
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    }

    pub fn config(fingerprint: &str) -> ProviderResult<rustls::ClientConfig> {
        let hex: String = fingerprint.chars().filter(|c| *c != ':').collect();
        let sha256 = hex::decode(hex.to_lowercase())
            .map_err(|_| ProviderError::Config("tls_fingerprint is not hex".into()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ProviderError::Config(format!("TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Pinned { sha256, provider }))
            .with_no_client_auth();
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_survive_the_tag_charset() {
        let tag = tag_of(REQUEST_LABEL, "0b8e7c3a-1111-2222-3333-444455556666");
        assert_eq!(tag, "provisio-request.0b8e7c3a-1111-2222-3333-444455556666");
        let labels = labels_of(&format!("{tag};web"));
        assert_eq!(
            labels[REQUEST_LABEL],
            "0b8e7c3a-1111-2222-3333-444455556666"
        );
        assert_eq!(labels["web"], "");
    }

    #[test]
    fn guest_ids_round_trip_and_reject_junk() {
        let id = GuestId::parse("pve1/qemu/101").unwrap();
        assert_eq!(id.to_id(), "pve1/qemu/101");
        assert!(GuestId::parse("pve1/qemu/../1").is_err());
        assert!(GuestId::parse("pve1/kvm/101").is_err());
        assert!(GuestId::parse("101").is_err());
    }

    #[test]
    fn ssh_keys_are_encoded_for_proxmox() {
        assert_eq!(
            pve_encode("ssh-ed25519 AAA+/=\n"),
            "ssh-ed25519%20AAA%2B%2F%3D%0A"
        );
    }
}
