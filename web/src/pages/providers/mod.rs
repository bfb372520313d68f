//! Provider accounts: their catalogs, settings and credentials, connection tests, the
//! machines the provider reports and the sync that imports them.

mod discover;
mod draft;
mod form;
mod list;
mod sync;

pub use list::ProvidersPage;

use shared::providers::ProviderKind;

const KINDS: [(ProviderKind, &str); 5] = [
    (ProviderKind::Hetzner, "Hetzner Cloud"),
    (ProviderKind::Proxmox, "Proxmox VE"),
    (ProviderKind::TerraformHcloud, "Terraform (Hetzner Cloud)"),
    (ProviderKind::TerraformProxmox, "Terraform (Proxmox)"),
    (ProviderKind::Ssh, "SSH hosts"),
];

fn kind_label(kind: ProviderKind) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, l)| *l)
        .unwrap_or("")
}
