use crate::entities::provider_accounts as rows;
use shared::requests::{Catalog, ProviderAccount, ProviderKind};

pub fn catalog_of(row: &rows::Model) -> Catalog {
    serde_json::from_value(row.catalog.clone()).unwrap_or(Catalog {
        currency: "EUR".into(),
        locations: vec![],
        images: vec![],
        server_types: vec![],
        custom_limits: None,
        unit_prices: None,
    })
}

pub fn to_dto(row: rows::Model) -> ProviderAccount {
    ProviderAccount {
        id: row.id,
        catalog: catalog_of(&row),
        kind: ProviderKind::parse(&row.kind).unwrap_or(ProviderKind::Ssh),
        name: row.name,
        endpoint: row.endpoint,
        created_at: row.created_at,
    }
}

/// The catalog of the demo Hetzner account: public list prices of a few shared-vCPU types.
pub fn demo_hetzner_catalog() -> Catalog {
    use shared::requests::ServerTypeOffer;
    let offer = |name: &str, cpu, ram_mb, disk_gb, cents| ServerTypeOffer {
        name: name.into(),
        cpu,
        ram_mb,
        disk_gb,
        monthly_price_cents: Some(cents),
    };
    Catalog {
        currency: "EUR".into(),
        locations: vec!["fsn1".into(), "nbg1".into(), "hel1".into()],
        images: vec!["debian-12".into(), "ubuntu-24.04".into()],
        server_types: vec![
            offer("cx22", 2, 4096, 40, 459),
            offer("cx32", 4, 8192, 80, 799),
            offer("cx42", 8, 16384, 160, 1899),
        ],
        custom_limits: None,
        unit_prices: None,
    }
}

/// The catalog of the demo Proxmox account: custom sizes within limits, internal unit prices.
pub fn demo_proxmox_catalog() -> Catalog {
    use shared::requests::{SizeLimits, UnitPrices};
    Catalog {
        currency: "EUR".into(),
        locations: vec!["pve1".into()],
        images: vec![
            "debian-12-cloudinit".into(),
            "ubuntu-24.04-cloudinit".into(),
        ],
        server_types: vec![],
        custom_limits: Some(SizeLimits {
            max_cpu: 16,
            max_ram_mb: 65536,
            max_disk_gb: 1000,
        }),
        unit_prices: Some(UnitPrices {
            cpu_cents: 300,
            ram_gb_cents: 150,
            disk_gb_cents: 5,
        }),
    }
}
