//! What a provider account can offer, read from the provider itself (Proxmox nodes, storages,
//! bridges and templates; Hetzner locations, server types and images), and the comparison of an
//! account's catalogue with it: the check that runs when an account is saved and before a request
//! is approved.

use super::{Catalog, CreateProviderAccount, ProviderKind, ProviderSettings, ServerTypeOffer};
use crate::servers::ConnectionReport;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    /// A Proxmox template VM, cloned for each new server.
    VmTemplate,
    /// A Proxmox LXC template volume: the server is a container.
    ContainerTemplate,
    /// A Hetzner system image.
    SystemImage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DiscoveredImage {
    /// What the account's image mapping points at: a template VM id (`9000`), an LXC volume
    /// (`local:vztmpl/…`) or a Hetzner image name.
    pub reference: String,
    /// A catalogue name to offer it under (`debian-12`).
    pub suggested_name: String,
    pub kind: ImageKind,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DiscoveredLocation {
    /// A Proxmox node or a Hetzner location.
    pub name: String,
    pub description: String,
}

/// Everything the provider offers this account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DiscoveredCatalog {
    pub locations: Vec<DiscoveredLocation>,
    pub images: Vec<DiscoveredImage>,
    /// Hetzner server types, priced in `currency` (the cheapest location's gross monthly price).
    pub server_types: Vec<ServerTypeOffer>,
    pub currency: Option<String>,
    /// Proxmox storages that hold VM disks or container volumes.
    pub storages: Vec<String>,
    /// Proxmox network bridges.
    pub bridges: Vec<String>,
    /// Proxmox: the largest node's cores and memory and the largest storage's size, as upper
    /// bounds for custom sizes.
    pub largest: Option<super::SizeLimits>,
}

/// `POST /api/provider-accounts/discover`: the account as typed in the form; without
/// credentials, those stored for `account_id` are used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DiscoverCatalog {
    pub kind: ProviderKind,
    #[serde(default)]
    pub endpoint: String,
    #[serde(default)]
    pub settings: ProviderSettings,
    #[serde(default)]
    pub credentials: Option<super::ProviderCredentials>,
    #[serde(default)]
    pub account_id: Option<Uuid>,
}

impl DiscoverCatalog {
    pub fn of(account: &CreateProviderAccount, account_id: Option<Uuid>) -> Self {
        DiscoverCatalog {
            kind: account.kind,
            endpoint: account.endpoint.clone(),
            settings: account.settings.clone(),
            credentials: account.credentials.clone(),
            account_id,
        }
    }
}

/// The connection test and, when it passed, what the provider offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CatalogDiscovery {
    pub report: ConnectionReport,
    pub catalog: Option<DiscoveredCatalog>,
}

/// The catalogue entries a request uses, to be checked against the provider's live state.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    pub location: &'a str,
    pub image: &'a str,
    pub server_type: Option<&'a str>,
}

impl DiscoveredCatalog {
    fn has_location(&self, name: &str) -> bool {
        self.locations.iter().any(|l| l.name == name)
    }

    fn has_image(&self, reference: &str) -> bool {
        self.images.iter().any(|i| i.reference == reference)
    }

    fn names<'a>(items: impl Iterator<Item = &'a str>) -> String {
        let all: Vec<&str> = items.collect();
        if all.is_empty() {
            "none".into()
        } else {
            all.join(", ")
        }
    }

    fn location_problem(&self, kind: ProviderKind, location: &str) -> Option<String> {
        (!self.has_location(location)).then(|| {
            let what = match kind {
                ProviderKind::Proxmox | ProviderKind::TerraformProxmox => "a node of this cluster",
                _ => "a location of this project",
            };
            format!(
                "Location `{location}` is not {what} (the provider has: {}).",
                Self::names(self.locations.iter().map(|l| l.name.as_str()))
            )
        })
    }

    fn image_problem(&self, settings: &ProviderSettings, image: &str) -> Option<String> {
        let reference = settings.images.get(image).map_or(image, String::as_str);
        (!self.has_image(reference)).then(|| {
            let target = if reference == image {
                format!("Image `{image}`")
            } else {
                format!("Image `{image}` maps to `{reference}`, which")
            };
            format!(
                "{target} does not exist at the provider (it has: {}).",
                Self::names(self.images.iter().map(|i| i.reference.as_str()))
            )
        })
    }

    fn server_type_problem(&self, name: &str) -> Option<String> {
        (!self.server_types.iter().any(|t| t.name == name)).then(|| {
            format!(
                "Server type `{name}` is not offered by the provider (it has: {}).",
                Self::names(self.server_types.iter().map(|t| t.name.as_str()))
            )
        })
    }

    fn proxmox_settings_problems(&self, settings: &ProviderSettings) -> Vec<(String, String)> {
        let storage = settings.storage.as_deref().unwrap_or("local-lvm");
        let bridge = settings.bridge.as_deref().unwrap_or("vmbr0");
        let mut found = Vec::new();
        if !self.storages.iter().any(|s| s == storage) {
            found.push((
                "settings".to_owned(),
                format!(
                    "Storage `{storage}` does not hold disks on this cluster (storages: {}).",
                    Self::names(self.storages.iter().map(String::as_str))
                ),
            ));
        }
        if !self.bridges.iter().any(|b| b == bridge) {
            found.push((
                "settings".to_owned(),
                format!(
                    "Bridge `{bridge}` does not exist on this cluster (bridges: {}).",
                    Self::names(self.bridges.iter().map(String::as_str))
                ),
            ));
        }
        found
    }

    /// What of an account's catalogue and settings the provider does not have, as
    /// (field, sentence) pairs for the form.
    pub fn mismatches(
        &self,
        kind: ProviderKind,
        catalog: &Catalog,
        settings: &ProviderSettings,
    ) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = Vec::new();
        let mut catalogue = |message: Option<String>| {
            if let Some(m) = message {
                found.push(("catalog".to_owned(), m));
            }
        };
        for location in &catalog.locations {
            catalogue(self.location_problem(kind, location));
        }
        for image in &catalog.images {
            catalogue(self.image_problem(settings, image));
        }
        if matches!(kind, ProviderKind::Hetzner | ProviderKind::TerraformHcloud) {
            for offer in &catalog.server_types {
                catalogue(self.server_type_problem(&offer.name));
            }
        }
        if matches!(kind, ProviderKind::Proxmox | ProviderKind::TerraformProxmox) {
            found.extend(self.proxmox_settings_problems(settings));
        }
        found
    }

    /// Why a request for `wanted` cannot be built at the provider now, in sentences.
    pub fn request_problems(
        &self,
        kind: ProviderKind,
        settings: &ProviderSettings,
        wanted: Wanted<'_>,
    ) -> Vec<String> {
        let mut found: Vec<String> = [
            self.location_problem(kind, wanted.location),
            self.image_problem(settings, wanted.image),
            wanted
                .server_type
                .filter(|_| matches!(kind, ProviderKind::Hetzner | ProviderKind::TerraformHcloud))
                .and_then(|t| self.server_type_problem(t)),
        ]
        .into_iter()
        .flatten()
        .collect();
        if matches!(kind, ProviderKind::Proxmox | ProviderKind::TerraformProxmox) {
            found.extend(
                self.proxmox_settings_problems(settings)
                    .into_iter()
                    .map(|(_, m)| m),
            );
        }
        found
    }

    /// The catalogue entries for what the admin ticked: locations and server types by name,
    /// images by reference (offered under their suggested names, mapped when those differ).
    pub fn offer(&self, picked: &Picked) -> Offer {
        let mut offer = Offer {
            locations: self
                .locations
                .iter()
                .filter(|l| picked.locations.contains(&l.name))
                .map(|l| l.name.clone())
                .collect(),
            ..Offer::default()
        };
        for image in self
            .images
            .iter()
            .filter(|i| picked.images.contains(&i.reference))
        {
            // Two templates with one name stay apart under their references.
            let name = if offer.images.contains(&image.suggested_name) {
                image.reference.clone()
            } else {
                image.suggested_name.clone()
            };
            if name != image.reference {
                offer
                    .image_map
                    .insert(name.clone(), image.reference.clone());
            }
            offer.images.push(name);
        }
        offer.server_types = self
            .server_types
            .iter()
            .filter(|t| picked.server_types.contains(&t.name))
            .cloned()
            .collect();
        offer
    }
}

/// What the admin ticked of a discovered catalogue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Picked {
    pub locations: std::collections::BTreeSet<String>,
    /// Image references.
    pub images: std::collections::BTreeSet<String>,
    pub server_types: std::collections::BTreeSet<String>,
}

impl Picked {
    /// Everything discovered, the form's starting point.
    pub fn all(found: &DiscoveredCatalog) -> Self {
        Picked {
            locations: found.locations.iter().map(|l| l.name.clone()).collect(),
            images: found.images.iter().map(|i| i.reference.clone()).collect(),
            server_types: found.server_types.iter().map(|t| t.name.clone()).collect(),
        }
    }
}

/// Catalogue entries and the image mapping they need.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Offer {
    pub locations: Vec<String>,
    pub images: Vec<String>,
    pub image_map: std::collections::BTreeMap<String, String>,
    pub server_types: Vec<ServerTypeOffer>,
}

/// A catalogue name for a Proxmox LXC template volume:
/// `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst` → `debian-12-standard`.
pub fn container_image_name(volid: &str) -> String {
    let file = volid.rsplit('/').next().unwrap_or(volid);
    let stem = file.split('_').next().unwrap_or(file);
    let stem = stem.split('.').next().unwrap_or(stem);
    if stem.is_empty() {
        volid.to_owned()
    } else {
        stem.to_owned()
    }
}

/// Why an account cannot take requests, or None when it can: only accounts that order new
/// servers and whose last connection test passed are offered to requesters.
pub fn not_ready_reason(
    kind: ProviderKind,
    has_credentials: bool,
    last_test_ok: Option<bool>,
) -> Option<&'static str> {
    if kind == ProviderKind::Ssh {
        return Some(
            "it registers existing machines over SSH; new servers are not ordered from it",
        );
    }
    let terraform = matches!(
        kind,
        ProviderKind::TerraformHcloud | ProviderKind::TerraformProxmox
    );
    // A Terraform module may carry its own credentials.
    if !has_credentials && !terraform {
        return Some("no API token is stored for it");
    }
    match last_test_ok {
        Some(true) => None,
        Some(false) => Some("its last connection test failed"),
        None => Some("its connection has not been tested since it was last changed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::SizeLimits;

    fn pve() -> DiscoveredCatalog {
        DiscoveredCatalog {
            locations: vec![DiscoveredLocation {
                name: "pve1".into(),
                description: String::new(),
            }],
            images: vec![
                DiscoveredImage {
                    reference: "9000".into(),
                    suggested_name: "debian12-cloudinit".into(),
                    kind: ImageKind::VmTemplate,
                    description: String::new(),
                },
                DiscoveredImage {
                    reference: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst".into(),
                    suggested_name: "debian-12-standard".into(),
                    kind: ImageKind::ContainerTemplate,
                    description: String::new(),
                },
            ],
            storages: vec!["local-lvm".into()],
            bridges: vec!["vmbr0".into()],
            ..Default::default()
        }
    }

    fn catalog(locations: &[&str], images: &[&str]) -> Catalog {
        Catalog {
            currency: "EUR".into(),
            locations: locations.iter().map(|s| s.to_string()).collect(),
            images: images.iter().map(|s| s.to_string()).collect(),
            server_types: vec![],
            custom_limits: Some(SizeLimits {
                max_cpu: 4,
                max_ram_mb: 8192,
                max_disk_gb: 100,
            }),
            unit_prices: None,
        }
    }

    #[test]
    fn a_catalogue_matching_the_cluster_has_no_mismatches() {
        let mut settings = ProviderSettings::default();
        settings.images.insert("debian-12".into(), "9000".into());
        let found = pve().mismatches(
            ProviderKind::Proxmox,
            &catalog(&["pve1"], &["debian-12"]),
            &settings,
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn unknown_nodes_templates_storages_and_bridges_are_named() {
        let mut settings = ProviderSettings::default();
        settings.images.insert("debian-12".into(), "9001".into());
        settings.bridge = Some("vmbr9".into());
        let found = pve().mismatches(
            ProviderKind::Proxmox,
            &catalog(&["fsn1"], &["debian-12"]),
            &settings,
        );
        let text: Vec<&str> = found.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(found.len(), 3, "{text:?}");
        assert!(text[0].contains("`fsn1` is not a node of this cluster (the provider has: pve1)"));
        assert!(text[1].contains("`debian-12` maps to `9001`, which does not exist"));
        assert!(text[2].contains("Bridge `vmbr9`"));
    }

    #[test]
    fn a_request_for_a_vanished_template_is_explained() {
        let mut settings = ProviderSettings::default();
        settings.images.insert("web".into(), "9123".into());
        let problems = pve().request_problems(
            ProviderKind::Proxmox,
            &settings,
            Wanted {
                location: "pve1",
                image: "web",
                server_type: None,
            },
        );
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("`9123`"), "{problems:?}");
    }

    #[test]
    fn readiness_needs_an_ordering_kind_credentials_and_a_passed_test() {
        assert!(not_ready_reason(ProviderKind::Ssh, true, Some(true)).is_some());
        assert!(not_ready_reason(ProviderKind::Proxmox, false, None).is_some());
        assert!(not_ready_reason(ProviderKind::Proxmox, true, Some(false)).is_some());
        assert!(not_ready_reason(ProviderKind::Proxmox, true, None).is_some());
        assert_eq!(
            not_ready_reason(ProviderKind::Hetzner, true, Some(true)),
            None
        );
    }

    #[test]
    fn ticked_templates_become_catalogue_images_with_their_mapping() {
        let found = pve();
        let mut picked = Picked::all(&found);
        picked
            .images
            .remove("local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst");
        let offer = found.offer(&picked);
        assert_eq!(offer.locations, ["pve1"]);
        assert_eq!(offer.images, ["debian12-cloudinit"]);
        assert_eq!(offer.image_map["debian12-cloudinit"], "9000");
        // What the offer says passes the save-time comparison.
        let settings = ProviderSettings {
            images: offer.image_map.clone(),
            ..Default::default()
        };
        let mut c = catalog(&[], &[]);
        c.locations = offer.locations;
        c.images = offer.images;
        assert!(found
            .mismatches(ProviderKind::Proxmox, &c, &settings)
            .is_empty());
    }

    #[test]
    fn container_templates_get_short_names() {
        assert_eq!(
            container_image_name("local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"),
            "debian-12-standard"
        );
        assert_eq!(container_image_name("local:vztmpl/alpine.tar.xz"), "alpine");
    }
}
