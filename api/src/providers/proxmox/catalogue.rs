//! Reading what a cluster offers: online nodes, storages for disks, bridges, template VMs and
//! LXC templates, from `cluster/resources` plus each node's network and template volumes.

use super::Proxmox;
use crate::providers::http::{lenient_i64, lenient_str};
use crate::providers::ProviderResult;
use serde_json::Value;
use shared::providers::discovery::{
    container_image_name, DiscoveredCatalog, DiscoveredImage, DiscoveredLocation, ImageKind,
};
use shared::providers::SizeLimits;

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

fn text<'a>(item: &'a Value, key: &str) -> &'a str {
    item.get(key).and_then(Value::as_str).unwrap_or("")
}

fn number(item: &Value, key: &str) -> u64 {
    lenient_i64(item.get(key)).map_or(0, |n| n.max(0) as u64)
}

fn holds(item: &Value, content: &str) -> bool {
    text(item, "content").split(',').any(|c| c == content)
}

impl Proxmox {
    pub(super) async fn read_catalogue(&self) -> ProviderResult<DiscoveredCatalog> {
        let resources = self.data(&["cluster", "resources"], &[]).await?;
        let resources = resources.as_array().cloned().unwrap_or_default();
        let of_type = |t: &'static str| {
            resources
                .iter()
                .filter(move |r| text(r, "type") == t)
                .collect::<Vec<_>>()
        };
        let nodes: Vec<&Value> = of_type("node")
            .into_iter()
            .filter(|n| text(n, "status") == "online")
            .collect();
        let mut found = DiscoveredCatalog::default();
        for node in &nodes {
            found.locations.push(DiscoveredLocation {
                name: text(node, "node").to_owned(),
                description: format!(
                    "{} cores, {} GiB memory",
                    number(node, "maxcpu"),
                    number(node, "maxmem") / GIB
                ),
            });
        }
        let storages = of_type("storage");
        let disk_storages: Vec<&&Value> = storages
            .iter()
            .filter(|s| holds(s, "images") || holds(s, "rootdir"))
            .collect();
        for storage in &disk_storages {
            let name = text(storage, "storage").to_owned();
            if !found.storages.contains(&name) {
                found.storages.push(name);
            }
        }
        for template in of_type("qemu")
            .into_iter()
            .filter(|q| number(q, "template") == 1)
        {
            let Some(vmid) = lenient_str(template.get("vmid")) else {
                continue;
            };
            let name = text(template, "name");
            found.images.push(DiscoveredImage {
                suggested_name: if name.is_empty() {
                    format!("template-{vmid}")
                } else {
                    name.to_owned()
                },
                description: format!("template VM {vmid} on {}", text(template, "node")),
                reference: vmid,
                kind: ImageKind::VmTemplate,
            });
        }
        for node in &nodes {
            let node_name = text(node, "node");
            let network = self
                .data(
                    &["nodes", node_name, "network"],
                    &[("type", "bridge".into())],
                )
                .await?;
            for bridge in network.as_array().into_iter().flatten() {
                let iface = text(bridge, "iface").to_owned();
                if text(bridge, "type") == "bridge" && !found.bridges.contains(&iface) {
                    found.bridges.push(iface);
                }
            }
            for storage in storages
                .iter()
                .filter(|s| text(s, "node") == node_name && holds(s, "vztmpl"))
            {
                let content = self
                    .data(
                        &[
                            "nodes",
                            node_name,
                            "storage",
                            text(storage, "storage"),
                            "content",
                        ],
                        &[("content", "vztmpl".into())],
                    )
                    .await?;
                for volume in content.as_array().into_iter().flatten() {
                    let volid = text(volume, "volid");
                    if text(volume, "content") != "vztmpl"
                        || found.images.iter().any(|i| i.reference == volid)
                    {
                        continue;
                    }
                    found.images.push(DiscoveredImage {
                        reference: volid.to_owned(),
                        suggested_name: container_image_name(volid),
                        kind: ImageKind::ContainerTemplate,
                        description: format!("LXC template on {node_name}"),
                    });
                }
            }
        }
        found.largest = (!nodes.is_empty()).then(|| SizeLimits {
            max_cpu: nodes.iter().map(|n| number(n, "maxcpu")).max().unwrap_or(1) as u32,
            max_ram_mb: (nodes.iter().map(|n| number(n, "maxmem")).max().unwrap_or(0) / MIB) as u32,
            max_disk_gb: (disk_storages
                .iter()
                .map(|s| number(s, "maxdisk"))
                .max()
                .unwrap_or(0)
                / GIB) as u32,
        });
        Ok(found)
    }
}
