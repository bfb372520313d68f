//! Provider accounts and their catalog: kinds, server types and sizes with prices and limits,
//! settings and credentials, and the form that creates or edits an account.

pub mod discovery;

use crate::validation::{self as v, FieldErrors, Validator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    Hetzner,
    Proxmox,
    TerraformProxmox,
    TerraformHcloud,
    Ssh,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Hetzner => "hetzner",
            ProviderKind::Proxmox => "proxmox",
            ProviderKind::TerraformProxmox => "terraform_proxmox",
            ProviderKind::TerraformHcloud => "terraform_hcloud",
            ProviderKind::Ssh => "ssh",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ProviderKind::Hetzner,
            ProviderKind::Proxmox,
            ProviderKind::TerraformProxmox,
            ProviderKind::TerraformHcloud,
            ProviderKind::Ssh,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServerTypeOffer {
    pub name: String,
    pub cpu: u32,
    pub ram_mb: u32,
    pub disk_gb: u32,
    pub monthly_price_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SizeLimits {
    pub max_cpu: u32,
    pub max_ram_mb: u32,
    pub max_disk_gb: u32,
}

/// Prices for custom sizes (Proxmox), per month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UnitPrices {
    pub cpu_cents: i64,
    pub ram_gb_cents: i64,
    pub disk_gb_cents: i64,
}

/// What a provider account offers; issue-4 adapters refresh it from the provider's API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Catalog {
    pub currency: String,
    pub locations: Vec<String>,
    pub images: Vec<String>,
    /// Fixed sizes (Hetzner server types); empty when only custom sizes are offered.
    #[serde(default)]
    pub server_types: Vec<ServerTypeOffer>,
    /// Limits for custom sizes; None when only fixed server types are offered.
    #[serde(default)]
    pub custom_limits: Option<SizeLimits>,
    #[serde(default)]
    pub unit_prices: Option<UnitPrices>,
}

impl Catalog {
    pub fn validate(&self) -> Result<(), String> {
        if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err("use a three-letter currency code such as EUR or USD".into());
        }
        if self.locations.is_empty() || self.images.is_empty() {
            return Err("needs at least one location and one image".into());
        }
        if self.server_types.is_empty() && self.custom_limits.is_none() {
            return Err("needs server types or custom size limits".into());
        }
        if self
            .server_types
            .iter()
            .any(|t| t.monthly_price_cents.is_some_and(|p| p < 0))
        {
            return Err("prices cannot be negative".into());
        }
        Ok(())
    }

    /// The cheapest fixed size with at least the cores, memory and disk asked for (what is not
    /// asked for does not count); a type without a price comes after every priced one.
    pub fn cheapest_fitting(
        &self,
        cpu: Option<u32>,
        ram_mb: Option<u32>,
        disk_gb: Option<u32>,
    ) -> Option<&ServerTypeOffer> {
        let at_least = |have: u32, want: Option<u32>| want.is_none_or(|w| have >= w);
        self.server_types
            .iter()
            .filter(|t| {
                at_least(t.cpu, cpu) && at_least(t.ram_mb, ram_mb) && at_least(t.disk_gb, disk_gb)
            })
            .min_by_key(|t| (t.monthly_price_cents.unwrap_or(i64::MAX), t.cpu, t.ram_mb))
    }

    /// The resolved size and monthly estimate of a request, or a field error.
    pub fn resolve(
        &self,
        server_type: Option<&str>,
        cpu: Option<u32>,
        ram_mb: Option<u32>,
        disk_gb: Option<u32>,
    ) -> Result<ResolvedSize, (&'static str, String)> {
        if let Some(name) = server_type {
            let offer = self.server_types.iter().find(|t| t.name == name).ok_or((
                "server_type",
                format!("`{name}` is not offered by this provider account"),
            ))?;
            return Ok(ResolvedSize {
                cpu: offer.cpu,
                ram_mb: offer.ram_mb,
                disk_gb: offer.disk_gb,
                monthly_cents: offer.monthly_price_cents,
            });
        }
        let limits = self.custom_limits.as_ref().ok_or((
            "server_type",
            "choose one of this provider account's server types".to_string(),
        ))?;
        let cpu = cpu.ok_or(("cpu", "is required without a server type".to_string()))?;
        let ram_mb = ram_mb.ok_or(("ram_mb", "is required without a server type".to_string()))?;
        let disk_gb =
            disk_gb.ok_or(("disk_gb", "is required without a server type".to_string()))?;
        if !(1..=limits.max_cpu).contains(&cpu) {
            return Err(("cpu", format!("must be between 1 and {}", limits.max_cpu)));
        }
        if !(256..=limits.max_ram_mb).contains(&ram_mb) {
            return Err((
                "ram_mb",
                format!("must be between 256 and {}", limits.max_ram_mb),
            ));
        }
        if !(1..=limits.max_disk_gb).contains(&disk_gb) {
            return Err((
                "disk_gb",
                format!("must be between 1 and {}", limits.max_disk_gb),
            ));
        }
        let monthly_cents = self.unit_prices.as_ref().map(|p| {
            p.cpu_cents * i64::from(cpu)
                + (p.ram_gb_cents * i64::from(ram_mb) + 1023) / 1024
                + p.disk_gb_cents * i64::from(disk_gb)
        });
        Ok(ResolvedSize {
            cpu,
            ram_mb,
            disk_gb,
            monthly_cents,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedSize {
    pub cpu: u32,
    pub ram_mb: u32,
    pub disk_gb: u32,
    pub monthly_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProviderAccount {
    pub id: Uuid,
    pub name: String,
    pub kind: ProviderKind,
    pub endpoint: String,
    pub catalog: Catalog,
    pub settings: ProviderSettings,
    /// Credentials are write-only: the API only says whether some are stored.
    pub has_credentials: bool,
    pub created_at: DateTime<Utc>,
    /// When its connection was last tested, and whether every check passed then.
    #[serde(default)]
    pub last_tested_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_test_ok: Option<bool>,
    /// Offered to requesters: it orders new servers and its last connection test passed.
    #[serde(default)]
    pub ready: bool,
    /// Why it is not offered, in words, when it is not.
    #[serde(default)]
    pub not_ready_reason: Option<String>,
}

/// How Provisio talks to a provider account and builds servers there (nothing secret).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProviderSettings {
    /// Catalog image name → provider image: a Hetzner image name, a Proxmox template VM id
    /// (`9000`, cloned) or an LXC template volume (`local:vztmpl/…`); absent = used as is.
    #[serde(default)]
    pub images: BTreeMap<String, String>,
    /// Proxmox: storage for new disks and containers (default `local-lvm`).
    pub storage: Option<String>,
    /// Proxmox: network bridge (default `vmbr0`).
    pub bridge: Option<String>,
    /// Proxmox: SHA-256 fingerprint of the API's TLS certificate, for self-signed clusters.
    pub tls_fingerprint: Option<String>,
    /// Proxmox: PEM CA certificate that signed the API's TLS certificate.
    pub ca_pem: Option<String>,
    /// User the servers accept SSH logins for (default `root`).
    pub ssh_user: Option<String>,
    /// SSH port of new servers (default 22).
    pub ssh_port: Option<u16>,
    /// Wait until a new server answers on SSH and pin its host key (default true).
    pub wait_for_ssh: Option<bool>,
    /// Give up on a new server after this many seconds (default 600).
    pub ready_timeout_secs: Option<u32>,
    /// Terraform accounts: a module directory of your own instead of the built-in one; it takes
    /// `name` (and the usual variables) and outputs `server_id` and `ipv4`.
    pub terraform_module: Option<String>,
}

impl ProviderSettings {
    /// Whether the catalog image makes an LXC container here: it maps to a Proxmox LXC
    /// template volume (`local:vztmpl/…`), or is named as one itself.
    pub fn is_container_image(&self, image: &str) -> bool {
        self.images
            .get(image)
            .map_or(image, String::as_str)
            .contains("vztmpl")
    }

    pub fn validate(&self) -> Result<(), String> {
        if let Some(fp) = &self.tls_fingerprint {
            let hex: String = fp.chars().filter(|c| *c != ':').collect();
            if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(
                    "tls_fingerprint must be a SHA-256 fingerprint (64 hex digits, colons allowed)"
                        .into(),
                );
            }
        }
        if let Some(pem) = &self.ca_pem {
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err("paste the CA certificate in PEM form, from -----BEGIN CERTIFICATE----- to the END line".into());
            }
        }
        for name in [&self.storage, &self.bridge].into_iter().flatten() {
            if name.is_empty()
                || name.len() > 64
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(
                    "storage and bridge are names of letters, digits, `-`, `_` or `.`".into(),
                );
            }
        }
        if self
            .ready_timeout_secs
            .is_some_and(|t| !(10..=7200).contains(&t))
        {
            return Err("choose 10 to 7200 seconds".into());
        }
        if let Some(module) = &self.terraform_module {
            // Terraform is run on it with -chdir: an absolute folder, named without tricks.
            let ok = module.starts_with('/')
                && module.len() <= 500
                && !module.chars().any(|c| c.is_control())
                && module
                    .split('/')
                    .all(|part| part != ".." && !part.starts_with('-'));
            if !ok {
                return Err(
                    "terraform_module must be an absolute directory path without `..`".into(),
                );
            }
        }
        if let Some(user) = &self.ssh_user {
            // It becomes ansible_user in inventories, which Ansible templates.
            crate::servers::unix_user(user).map_err(|e| format!("ssh_user {e}"))?;
        }
        for (name, image) in &self.images {
            if name.is_empty()
                || image.is_empty()
                || image.len() > 200
                || image.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(format!(
                    "image mapping `{name}` must name a provider image without spaces"
                ));
            }
        }
        Ok(())
    }
}

/// Secrets of a provider account. Sent on create or to replace them; never returned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProviderCredentials {
    /// Hetzner: the project API token. Proxmox: `user@realm!tokenid=secret`.
    pub api_token: Option<String>,
    /// SSH hosts: the private key (OpenSSH format) Provisio logs in with.
    pub private_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreateProviderAccount {
    pub name: String,
    pub kind: ProviderKind,
    #[serde(default)]
    pub endpoint: String,
    pub catalog: Catalog,
    #[serde(default)]
    pub settings: ProviderSettings,
    /// Absent on update: the stored credentials stay.
    #[serde(default)]
    pub credentials: Option<ProviderCredentials>,
}

impl CreateProviderAccount {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("name", v::display_text(&self.name, 2, 64))
            .check("endpoint", endpoint(&self.endpoint))
            .check(
                "catalog",
                // Registered SSH hosts are not ordered from a catalog.
                if self.kind == ProviderKind::Ssh {
                    Ok(())
                } else {
                    self.catalog.validate()
                },
            )
            .check("settings", self.settings.validate())
            .check("credentials", self.credentials_shape());
        val.finish()
    }

    fn credentials_shape(&self) -> Result<(), String> {
        let Some(c) = &self.credentials else {
            return Ok(());
        };
        let token = c.api_token.as_deref().unwrap_or("");
        if token.len() > 500
            || token
                .chars()
                .any(|ch| ch.is_whitespace() || ch.is_control())
        {
            return Err("paste the token as one line, without spaces".into());
        }
        match self.kind {
            ProviderKind::Proxmox | ProviderKind::TerraformProxmox if !token.is_empty() => {
                let ok = token.split_once('!').is_some_and(|(user, rest)| {
                    user.contains('@')
                        && rest
                            .split_once('=')
                            .is_some_and(|(id, secret)| !id.is_empty() && !secret.is_empty())
                });
                if !ok {
                    return Err("a Proxmox API token looks like user@realm!tokenid=secret".into());
                }
            }
            _ => {}
        }
        if let Some(key) = &c.private_key {
            if key.len() > 16_000 || !key.contains("PRIVATE KEY-----") {
                return Err(
                    "paste the whole private key, from its -----BEGIN line to its -----END line"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

pub(crate) fn endpoint(value: &str) -> Result<(), String> {
    if value.is_empty() || value.starts_with("https://") || value.starts_with("http://") {
        if value.len() > 500 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must be a URL without spaces".into());
        }
        Ok(())
    } else {
        Err("must start with https:// or http://".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog {
            currency: "EUR".into(),
            locations: vec!["fsn1".into()],
            images: vec!["debian-12".into()],
            server_types: vec![ServerTypeOffer {
                name: "cx22".into(),
                cpu: 2,
                ram_mb: 4096,
                disk_gb: 40,
                monthly_price_cents: Some(459),
            }],
            custom_limits: Some(SizeLimits {
                max_cpu: 8,
                max_ram_mb: 32768,
                max_disk_gb: 500,
            }),
            unit_prices: Some(UnitPrices {
                cpu_cents: 300,
                ram_gb_cents: 150,
                disk_gb_cents: 5,
            }),
        }
    }

    #[test]
    fn the_cheapest_server_type_that_fits_is_chosen() {
        let offer = |name: &str, cpu, ram_mb, disk_gb, price| ServerTypeOffer {
            name: name.into(),
            cpu,
            ram_mb,
            disk_gb,
            monthly_price_cents: price,
        };
        let mut c = catalog();
        c.server_types = vec![
            offer("big", 8, 16384, 160, Some(3000)),
            offer("unpriced", 2, 4096, 40, None),
            offer("cx22", 2, 4096, 40, Some(459)),
            offer("cx32", 4, 8192, 80, Some(799)),
        ];
        let fit = |cpu, ram, disk| c.cheapest_fitting(cpu, ram, disk).map(|t| t.name.as_str());
        assert_eq!(fit(None, None, None), Some("cx22"));
        assert_eq!(fit(Some(2), Some(2048), Some(20)), Some("cx22"));
        assert_eq!(fit(Some(3), None, None), Some("cx32"));
        assert_eq!(fit(None, Some(9000), None), Some("big"));
        assert_eq!(fit(Some(16), None, None), None);
    }

    #[test]
    fn catalog_resolves_types_and_custom_sizes_within_limits() {
        let c = catalog();
        assert_eq!(
            c.resolve(Some("cx22"), None, None, None)
                .unwrap()
                .monthly_cents,
            Some(459)
        );
        assert_eq!(
            c.resolve(Some("nope"), None, None, None).unwrap_err().0,
            "server_type"
        );
        let custom = c.resolve(None, Some(2), Some(1536), Some(20)).unwrap();
        // 2×300 + ceil(1536×150/1024)=225 + 20×5
        assert_eq!(custom.monthly_cents, Some(600 + 225 + 100));
        assert_eq!(
            c.resolve(None, Some(9), Some(1024), Some(10))
                .unwrap_err()
                .0,
            "cpu"
        );
        assert_eq!(
            c.resolve(None, Some(1), Some(100), Some(10)).unwrap_err().0,
            "ram_mb"
        );
        assert_eq!(
            c.resolve(None, Some(1), Some(1024), None).unwrap_err().0,
            "disk_gb"
        );
    }
}
