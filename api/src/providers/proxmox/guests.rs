//! Guests as Proxmox names them (`node/qemu|lxc/vmid`), labels stored as tags, and reading a
//! guest's status, size and addresses into a `RemoteServer`.

use super::Proxmox;
use crate::providers::http::{lenient_bool, lenient_i64, lenient_str};
use crate::providers::{ProviderError, ProviderResult};
use serde_json::Value;
use shared::servers::{RemoteServer, ServerStatus};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Guest {
    Qemu,
    Lxc,
}

impl Guest {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Guest::Qemu => "qemu",
            Guest::Lxc => "lxc",
        }
    }
}

/// `node/qemu/101` ↔ its parts.
pub(super) struct GuestId {
    pub(super) node: String,
    pub(super) guest: Guest,
    pub(super) vmid: String,
}

impl GuestId {
    pub(super) fn parse(provider_id: &str) -> ProviderResult<Self> {
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

    pub(super) fn to_id(&self) -> String {
        format!("{}/{}/{}", self.node, self.guest.as_str(), self.vmid)
    }
}

/// Proxmox tags allow `[a-z0-9_+.-]`: a label `key=value` is stored as the tag `key.value`.
pub(super) fn tag_of(key: &str, value: &str) -> String {
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

impl Proxmox {
    pub(super) async fn resources(&self) -> ProviderResult<Vec<Value>> {
        let v = self
            .data(&["cluster", "resources"], &[("type", "vm".into())])
            .await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    pub(super) fn remote_of(&self, item: &Value) -> Option<RemoteServer> {
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

    pub(super) async fn guest(&self, id: &GuestId) -> ProviderResult<Option<RemoteServer>> {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::servers::REQUEST_LABEL;

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
}
