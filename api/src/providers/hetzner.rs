//! Hetzner Cloud over its REST API with a bearer token: servers, actions, SSH keys, labels.

use super::http::{lenient_bool, lenient_i64, Body, RestClient};
use super::{
    AccountConfig, Checkpoint, ComputeProvider, CreateSpec, ProviderError, ProviderResult, Tuning,
};
use crate::exec::log::LogSink;
use async_trait::async_trait;
use md5::{Digest, Md5};
use reqwest::Method;
use serde_json::{json, Value};
use shared::providers::discovery::{
    DiscoveredCatalog, DiscoveredImage, DiscoveredLocation, ImageKind,
};
use shared::providers::ServerTypeOffer;
use shared::servers::{
    ConnectionCheck, ConnectionReport, PowerAction, RemoteServer, ServerStatus, REQUEST_LABEL,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub const DEFAULT_ENDPOINT: &str = "https://api.hetzner.cloud/v1";

pub struct Hetzner {
    api: RestClient,
    account: AccountConfig,
    poll: Duration,
    task_timeout: Duration,
}

/// A server type at its cheapest location's gross monthly price (Hetzner prices in EUR,
/// as decimal strings).
fn server_type_offer(t: &Value) -> ServerTypeOffer {
    let cents = t
        .get("prices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.pointer("/price_monthly/gross").and_then(Value::as_str))
        .filter_map(|gross| gross.parse::<f64>().ok())
        .map(|eur| (eur * 100.0).round() as i64)
        .min();
    let number = |key: &str| lenient_i64(t.get(key)).unwrap_or(0).max(0);
    ServerTypeOffer {
        name: t
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        cpu: number("cores") as u32,
        ram_mb: (t.get("memory").and_then(Value::as_f64).unwrap_or(0.0) * 1024.0) as u32,
        disk_gb: number("disk") as u32,
        monthly_price_cents: cents,
    }
}

fn status_of(s: &str) -> ServerStatus {
    match s {
        "running" => ServerStatus::Running,
        "off" => ServerStatus::Stopped,
        "initializing" | "starting" | "rebuilding" | "migrating" => ServerStatus::Provisioning,
        "stopping" => ServerStatus::Running,
        "deleting" => ServerStatus::Deleting,
        _ => ServerStatus::Unknown,
    }
}

/// Hetzner reports the server's IPv6 network (`2001:db8::/64`); the server answers on `::1` of it.
fn ipv6_host(network: &str) -> String {
    match network.split_once('/') {
        Some((prefix, _)) if prefix.ends_with("::") => format!("{prefix}1"),
        Some((prefix, _)) => prefix.to_owned(),
        None => network.to_owned(),
    }
}

fn remote_of(server: &Value) -> Option<RemoteServer> {
    let id = server.get("id")?.as_i64()?.to_string();
    let text = |ptr: &str| {
        server
            .pointer(ptr)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let labels = server
        .get("labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                .collect::<BTreeMap<_, _>>()
        })
        .unwrap_or_default();
    Some(RemoteServer {
        provider_id: id,
        name: text("/name").unwrap_or_default(),
        status: status_of(&text("/status").unwrap_or_default()),
        ipv4: text("/public_net/ipv4/ip"),
        ipv6: text("/public_net/ipv6/dns_ptr/0/ip")
            .or_else(|| text("/public_net/ipv6/ip").map(|n| ipv6_host(&n))),
        cpu: server
            .pointer("/server_type/cores")
            .and_then(Value::as_i64)
            .unwrap_or(0) as i32,
        ram_mb: (server
            .pointer("/server_type/memory")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
            * 1024.0) as i32,
        disk_gb: server
            .pointer("/server_type/disk")
            .and_then(Value::as_f64)
            .unwrap_or(0.0) as i32,
        image: text("/image/name")
            .or_else(|| text("/image/description"))
            .unwrap_or_default(),
        location: text("/datacenter/location/name")
            .or_else(|| text("/location/name"))
            .unwrap_or_default(),
        labels,
        template: false,
        server_id: None,
    })
}

/// The MD5 fingerprint Hetzner files SSH keys under (`aa:bb:…` of the key blob).
pub fn md5_fingerprint(public_key: &str) -> Option<String> {
    use base64::Engine;
    let blob = public_key.split_whitespace().nth(1)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .ok()?;
    let digest = Md5::digest(&bytes);
    Some(
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

impl Hetzner {
    pub fn new(account: AccountConfig, tuning: &Tuning) -> ProviderResult<Self> {
        let token = account
            .credentials
            .api_token
            .clone()
            .ok_or_else(|| ProviderError::Config("no API token stored".into()))?;
        let base = if account.endpoint.trim().is_empty() {
            DEFAULT_ENDPOINT.to_owned()
        } else {
            account.endpoint.trim().to_owned()
        };
        let client = crate::exec::network_policy::guard_client(
            reqwest::Client::builder()
                .timeout(tuning.request_timeout)
                .connect_timeout(Duration::from_secs(10)),
            &tuning.network,
            crate::exec::network_policy::Purpose::Provider,
        )
        .build()
        .map_err(|e| ProviderError::Config(format!("HTTP client: {e}")))?;
        Ok(Hetzner {
            api: RestClient::new(
                client,
                &base,
                "Authorization",
                format!("Bearer {token}"),
                tuning,
            ),
            account,
            poll: tuning.poll_interval,
            task_timeout: tuning.task_timeout,
        })
    }

    /// Every page of a list endpoint.
    async fn all(
        &self,
        resource: &str,
        key: &str,
        query: &[(&str, String)],
    ) -> ProviderResult<Vec<Value>> {
        let mut items = Vec::new();
        let mut page = 1u64;
        loop {
            let mut q: Vec<(&str, String)> = query.to_vec();
            q.push(("page", page.to_string()));
            q.push(("per_page", "50".into()));
            let v = self.api.get(&[resource], &q).await?;
            items.extend(
                v.get(key)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            );
            match v
                .pointer("/meta/pagination/next_page")
                .and_then(Value::as_u64)
            {
                Some(next) if next > page && page < 1000 => page = next,
                _ => return Ok(items),
            }
        }
    }

    async fn wait_action(&self, action: &Value, log: &LogSink) -> ProviderResult<()> {
        let Some(id) = action.get("id").and_then(Value::as_i64) else {
            return Ok(());
        };
        let command = action
            .get("command")
            .and_then(Value::as_str)
            .unwrap_or("action")
            .to_owned();
        let started = Instant::now();
        let mut last_progress = -1;
        loop {
            let v = self.api.get(&["actions", &id.to_string()], &[]).await?;
            let a = v.get("action").cloned().unwrap_or(Value::Null);
            let progress = a.get("progress").and_then(Value::as_i64).unwrap_or(0);
            if progress != last_progress {
                log.line("stdout", &format!("{command}: {progress}%")).await;
                last_progress = progress;
            }
            match a.get("status").and_then(Value::as_str) {
                Some("success") => return Ok(()),
                Some("error") => {
                    let msg = a
                        .pointer("/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or("failed");
                    return Err(ProviderError::TaskFailed(format!("{command}: {msg}")));
                }
                _ => {}
            }
            if started.elapsed() > self.task_timeout {
                return Err(ProviderError::Timeout(format!(
                    "{command} (action {id}) still running"
                )));
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// Hetzner key names for the public keys, uploading the ones the project does not have.
    async fn ssh_key_names(&self, keys: &[String], log: &LogSink) -> ProviderResult<Vec<String>> {
        let mut names = Vec::new();
        for key in keys {
            let fingerprint = md5_fingerprint(key)
                .ok_or_else(|| ProviderError::Rejected("an SSH public key is malformed".into()))?;
            let found = self
                .all(
                    "ssh_keys",
                    "ssh_keys",
                    &[("fingerprint", fingerprint.clone())],
                )
                .await?;
            if let Some(name) = found
                .first()
                .and_then(|k| k.get("name"))
                .and_then(Value::as_str)
            {
                names.push(name.to_owned());
                continue;
            }
            let name = format!(
                "provisio-{}",
                fingerprint
                    .replace(':', "")
                    .chars()
                    .take(16)
                    .collect::<String>()
            );
            log.info(&format!("uploading SSH key {fingerprint} as {name}"))
                .await;
            let body = json!({"name": name, "public_key": key.trim(), "labels": {"managed-by": "provisio"}});
            match self
                .api
                .send(Method::POST, &["ssh_keys"], &[], Body::Json(body))
                .await
            {
                Ok(_) => names.push(name),
                // Uploaded meanwhile by another attempt: the name is ours.
                Err(ProviderError::Rejected(m))
                    if m.contains("409") || m.contains("uniqueness") =>
                {
                    names.push(name)
                }
                Err(e) => return Err(e),
            }
        }
        Ok(names)
    }
}

#[async_trait]
impl ComputeProvider for Hetzner {
    async fn test_connection(&self) -> ConnectionReport {
        let types = self
            .api
            .get(&["server_types"], &[("per_page", "50".into())])
            .await;
        let reachable = types.is_ok();
        let mut checks = vec![ConnectionCheck::of(
            "API reachable and token accepted",
            types.map(|v| {
                let n = v
                    .get("server_types")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                format!("{n} server types offered")
            }),
        )];
        if reachable {
            let servers = self
                .api
                .get(&["servers"], &[("per_page", "1".into())])
                .await;
            checks.push(ConnectionCheck::of(
                "may list servers",
                servers.map(|v| {
                    let n = v
                        .pointer("/meta/pagination/total_entries")
                        .and_then(Value::as_i64)
                        .unwrap_or(0);
                    format!("{n} servers in the project")
                }),
            ));
            let images = self
                .api
                .get(&["images"], &[("per_page", "50".into())])
                .await;
            let names: Vec<String> = images
                .as_ref()
                .ok()
                .and_then(|v| v.get("images").and_then(Value::as_array).cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|i| i.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect();
            checks.push(ConnectionCheck::of(
                "may list images",
                images.map(|_| format!("{} images", names.len())),
            ));
            for (name, reference) in &self.account.settings.images {
                let found = names.iter().any(|n| n == reference);
                checks.push(ConnectionCheck::of(
                    format!("image for {name}"),
                    if found {
                        Ok(format!("{reference} available"))
                    } else {
                        Err(format!("{reference} not offered"))
                    },
                ));
            }
        }
        ConnectionReport::of(checks)
    }

    async fn discover(&self) -> ProviderResult<Option<DiscoveredCatalog>> {
        let text =
            |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let locations = self.all("locations", "locations", &[]).await?;
        let types = self.all("server_types", "server_types", &[]).await?;
        let images = self
            .all("images", "images", &[("type", "system".into())])
            .await?;
        Ok(Some(DiscoveredCatalog {
            locations: locations
                .iter()
                .map(|l| DiscoveredLocation {
                    name: text(l, "name"),
                    description: format!("{}, {}", text(l, "city"), text(l, "country")),
                })
                .collect(),
            images: images
                .iter()
                .filter(|i| {
                    text(i, "status") == "available"
                        && i.get("deprecated").is_none_or(Value::is_null)
                })
                .map(|i| DiscoveredImage {
                    reference: text(i, "name"),
                    suggested_name: text(i, "name"),
                    kind: ImageKind::SystemImage,
                    description: text(i, "description"),
                })
                .collect(),
            server_types: types
                .iter()
                .filter(|t| !lenient_bool(t.get("deprecated")))
                .map(server_type_offer)
                .collect(),
            currency: Some("EUR".into()),
            ..Default::default()
        }))
    }

    async fn list(&self) -> ProviderResult<Vec<RemoteServer>> {
        Ok(self
            .all("servers", "servers", &[])
            .await?
            .iter()
            .filter_map(remote_of)
            .collect())
    }

    async fn get(&self, provider_id: &str) -> ProviderResult<Option<RemoteServer>> {
        if provider_id.is_empty() || !provider_id.chars().all(|c| c.is_ascii_digit()) {
            return Ok(None);
        }
        match self.api.get(&["servers", provider_id], &[]).await {
            Ok(v) => Ok(v.get("server").and_then(remote_of)),
            Err(ProviderError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn find_by_label(&self, key: &str, value: &str) -> ProviderResult<Option<RemoteServer>> {
        let found = self
            .all(
                "servers",
                "servers",
                &[("label_selector", format!("{key}=={value}"))],
            )
            .await?;
        Ok(found
            .iter()
            .filter_map(remote_of)
            .find(|s| s.labels.get(key).map(String::as_str) == Some(value)))
    }

    async fn create(
        &self,
        spec: &CreateSpec,
        _checkpoint: &dyn Checkpoint,
        log: &LogSink,
    ) -> ProviderResult<RemoteServer> {
        let request = spec.labels.get(REQUEST_LABEL).cloned().unwrap_or_default();
        if let Some(existing) = self.find_by_label(REQUEST_LABEL, &request).await? {
            log.info(&format!(
                "found server {} from an earlier attempt; not creating another",
                existing.provider_id
            ))
            .await;
            return Ok(existing);
        }
        let keys = self.ssh_key_names(&spec.ssh_public_keys, log).await?;
        let image = self
            .account
            .settings
            .images
            .get(&spec.image)
            .cloned()
            .unwrap_or_else(|| spec.image.clone());
        let server_type = spec
            .server_type
            .clone()
            .ok_or_else(|| ProviderError::Config("Hetzner servers need a server type".into()))?;
        log.step(&format!(
            "creating {} ({server_type}, {image}) in {}",
            spec.name, spec.location
        ))
        .await;
        let body = json!({
            "name": spec.name,
            "server_type": server_type,
            "image": image,
            "location": spec.location,
            "ssh_keys": keys,
            "labels": spec.labels,
            "start_after_create": true,
        });
        let created = match self
            .api
            .send(Method::POST, &["servers"], &[], Body::Json(body))
            .await
        {
            Ok(v) => v,
            Err(ProviderError::Rejected(m)) if m.contains("HTTP 409") => {
                // The name is taken: ours only if it carries this request's label.
                let found = self
                    .all("servers", "servers", &[("name", spec.name.clone())])
                    .await?;
                let ours = found
                    .iter()
                    .filter_map(remote_of)
                    .find(|s| s.labels.get(REQUEST_LABEL) == Some(&request));
                return match ours {
                    Some(s) => Ok(s),
                    None => Err(ProviderError::Rejected(format!(
                        "a server named {} exists that Provisio did not create ({m})",
                        spec.name
                    ))),
                };
            }
            Err(e) => return Err(e),
        };
        if let Some(action) = created.get("action") {
            self.wait_action(action, log).await?;
        }
        for next in created
            .get("next_actions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.wait_action(next, log).await?;
        }
        let id = created
            .pointer("/server/id")
            .and_then(Value::as_i64)
            .ok_or_else(|| {
                ProviderError::Unavailable("create answered without a server id".into())
            })?;
        self.get(&id.to_string())
            .await?
            .ok_or_else(|| ProviderError::NotFound(id.to_string()))
    }

    async fn wait_ready(
        &self,
        provider_id: &str,
        timeout: Duration,
        log: &LogSink,
    ) -> ProviderResult<RemoteServer> {
        let started = Instant::now();
        let mut said = false;
        loop {
            let s = self
                .get(provider_id)
                .await?
                .ok_or_else(|| ProviderError::NotFound(provider_id.to_owned()))?;
            if s.status == ServerStatus::Running && (s.ipv4.is_some() || s.ipv6.is_some()) {
                return Ok(s);
            }
            if !said {
                log.info(&format!(
                    "waiting for server {provider_id} to run (now {})",
                    s.status.as_str()
                ))
                .await;
                said = true;
            }
            if started.elapsed() > timeout {
                return Err(ProviderError::Timeout(format!(
                    "server {provider_id} is not running"
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
        let verb = match action {
            PowerAction::Start => "poweron",
            PowerAction::Stop => "poweroff",
            PowerAction::Reboot => "reboot",
        };
        log.step(&format!("{verb} server {provider_id}")).await;
        let v = self
            .api
            .send(
                Method::POST,
                &["servers", provider_id, "actions", verb],
                &[],
                Body::None,
            )
            .await?;
        self.wait_action(v.get("action").unwrap_or(&Value::Null), log)
            .await
    }

    async fn snapshot(
        &self,
        provider_id: &str,
        description: &str,
        log: &LogSink,
    ) -> ProviderResult<()> {
        log.step(&format!("snapshot of server {provider_id}")).await;
        let body = json!({"type": "snapshot", "description": description, "labels": {"managed-by": "provisio"}});
        let v = self
            .api
            .send(
                Method::POST,
                &["servers", provider_id, "actions", "create_image"],
                &[],
                Body::Json(body),
            )
            .await?;
        self.wait_action(v.get("action").unwrap_or(&Value::Null), log)
            .await
    }

    async fn enable_backups(&self, provider_id: &str, log: &LogSink) -> ProviderResult<()> {
        log.step(&format!("enabling backups of server {provider_id}"))
            .await;
        let v = self
            .api
            .send(
                Method::POST,
                &["servers", provider_id, "actions", "enable_backup"],
                &[],
                Body::None,
            )
            .await?;
        self.wait_action(v.get("action").unwrap_or(&Value::Null), log)
            .await
    }

    async fn delete(&self, provider_id: &str, log: &LogSink) -> ProviderResult<()> {
        log.step(&format!("deleting server {provider_id}")).await;
        match self
            .api
            .send(Method::DELETE, &["servers", provider_id], &[], Body::None)
            .await
        {
            Ok(v) => {
                self.wait_action(v.get("action").unwrap_or(&Value::Null), log)
                    .await
            }
            Err(ProviderError::NotFound(_)) => {
                log.info(&format!("server {provider_id} is already gone"))
                    .await;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_server_object() {
        let v = json!({
            "id": 42, "name": "web-1", "status": "running",
            "public_net": {"ipv4": null, "ipv6": {"ip": "2001:db8:1::/64"}},
            "server_type": {"name": "cx22", "cores": 2, "memory": 4.0, "disk": 40},
            "datacenter": {"location": {"name": "fsn1"}},
            "image": {"name": "debian-12"},
            "labels": {"provisio-request": "abc"}
        });
        let s = remote_of(&v).unwrap();
        assert_eq!(s.provider_id, "42");
        assert_eq!(s.ipv6.as_deref(), Some("2001:db8:1::1"));
        assert_eq!((s.cpu, s.ram_mb, s.disk_gb), (2, 4096, 40));
        assert_eq!(s.location, "fsn1");
        assert_eq!(s.labels["provisio-request"], "abc");
        assert_eq!(status_of("off"), ServerStatus::Stopped);
    }

    #[test]
    fn fingerprints_like_hetzner() {
        // ssh-keygen -E md5 -lf of this key prints this fingerprint.
        let key =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIJmC5nIuioju6g+QA2YkLz1TkxlBY1nMvpBhfQpgE9n test";
        assert_eq!(
            md5_fingerprint(key).unwrap(),
            "26:ee:df:f4:8d:b6:ff:a3:ef:61:45:75:9e:05:7d:70"
        );
        assert!(md5_fingerprint("garbage").is_none());
    }
}
