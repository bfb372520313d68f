//! The deploy dialog's fields for a new guest: the provider account, its location and image,
//! the size (a fixed server type, or cores, memory and disk within the account's limits) and
//! what it costs a month by the account's catalog.

use super::draft::Target;
use crate::components::form::{Errors, PickField, TextField};
use crate::remote::{remote, Remote};
use leptos::prelude::*;
use shared::providers::{Catalog, ProviderAccount};
use shared::scripts::SshKey;

/// The guest fields' signals, owned by the deploy dialog.
#[derive(Clone, Copy)]
pub(crate) struct GuestSignals {
    pub account: RwSignal<String>,
    pub location: RwSignal<String>,
    pub image: RwSignal<String>,
    pub server_type: RwSignal<String>,
    pub cpu: RwSignal<String>,
    pub ram_mb: RwSignal<String>,
    pub disk_gb: RwSignal<String>,
    /// A saved public key picked (its text), blank for a generated pair.
    pub saved_key: RwSignal<String>,
    /// A public key pasted; it wins over the saved one.
    pub pasted_key: RwSignal<String>,
}

impl GuestSignals {
    pub fn new() -> Self {
        Self {
            account: RwSignal::new(String::new()),
            location: RwSignal::new(String::new()),
            image: RwSignal::new(String::new()),
            server_type: RwSignal::new(String::new()),
            cpu: RwSignal::new("2".into()),
            ram_mb: RwSignal::new("2048".into()),
            disk_gb: RwSignal::new("20".into()),
            saved_key: RwSignal::new(String::new()),
            pasted_key: RwSignal::new(String::new()),
        }
    }

    /// The public key to send: the pasted one, else the saved one picked, else blank (a pair
    /// is generated).
    pub fn public_key(&self) -> String {
        let pasted = self.pasted_key.get_untracked();
        if pasted.trim().is_empty() {
            self.saved_key.get_untracked()
        } else {
            pasted
        }
    }
}

/// The images of the account that make the guest `target` asks for.
pub(crate) fn images_for(account: &ProviderAccount, target: Target) -> Vec<String> {
    let container = target == Target::NewContainer;
    account
        .catalog
        .images
        .iter()
        .filter(|i| account.settings.is_container_image(i) == container)
        .cloned()
        .collect()
}

/// "≈ 12.34 EUR a month" for what the fields describe, or why there is no estimate.
pub(super) fn estimate(
    catalog: &Catalog,
    server_type: &str,
    cpu: &str,
    ram: &str,
    disk: &str,
) -> String {
    let number = |t: &str| t.trim().parse::<u32>().ok();
    let server_type = (!server_type.is_empty()).then_some(server_type);
    match catalog.resolve(server_type, number(cpu), number(ram), number(disk)) {
        Ok(size) => match size.monthly_cents {
            Some(cents) => format!(
                "≈ {}.{:02} {} a month ({} cores, {} MB memory, {} GB disk)",
                cents / 100,
                cents % 100,
                catalog.currency,
                size.cpu,
                size.ram_mb,
                size.disk_gb
            ),
            None => "This account's catalog has no prices.".into(),
        },
        Err((_, message)) => format!("No estimate yet: {message}."),
    }
}

#[component]
pub(crate) fn GuestFields(
    target: Memo<Target>,
    accounts: Remote<Vec<ProviderAccount>>,
    fields: GuestSignals,
    errors: Errors,
    /// What choosing no key means: a generated pair to download (a deployment's guest), or
    /// only Provisio's own key (a server for a managed resource).
    #[prop(default = true)]
    generated_pair: bool,
) -> impl IntoView {
    // Accounts that can build the guest asked for (ready, and containers only on Proxmox).
    let usable = Memo::new(move |_| match accounts.get() {
        Some(Ok(found)) => found
            .into_iter()
            .filter(|a| a.ready && !images_for(a, target.get()).is_empty())
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    });
    let chosen = Memo::new(move |_| {
        let id = fields.account.get();
        usable.get().into_iter().find(|a| a.id.to_string() == id)
    });
    let account_options = Signal::derive(move || {
        let mut options = vec![(String::new(), "The team's default account".to_string())];
        options.extend(usable.get().into_iter().map(|a| (a.id.to_string(), a.name)));
        options
    });
    let list = move |values: Vec<String>| -> Vec<(String, String)> {
        values.into_iter().map(|v| (v.clone(), v)).collect()
    };
    let location_options = Signal::derive(move || {
        list(
            chosen
                .get()
                .map(|a| a.catalog.locations)
                .unwrap_or_default(),
        )
    });
    let image_options = Signal::derive(move || {
        list(
            chosen
                .get()
                .map(|a| images_for(&a, target.get()))
                .unwrap_or_default(),
        )
    });
    let fixed_sizes = Memo::new(move |_| {
        chosen.get().is_some_and(|a| {
            a.catalog.custom_limits.is_none() && !a.catalog.server_types.is_empty()
        })
    });
    // A type picked at a fixed-size account is no size at one with custom sizes.
    Effect::new(move |_| {
        if !fixed_sizes.get() && !fields.server_type.get_untracked().is_empty() {
            fields.server_type.set(String::new());
        }
    });
    let type_options = Signal::derive(move || {
        chosen
            .get()
            .map(|a| {
                a.catalog
                    .server_types
                    .into_iter()
                    .map(|t| {
                        let label = format!(
                            "{} · {} cores, {} MB, {} GB",
                            t.name, t.cpu, t.ram_mb, t.disk_gb
                        );
                        (t.name, label)
                    })
                    .collect()
            })
            .unwrap_or_default()
    });
    let limits_hint =
        Signal::derive(
            move || match chosen.get().and_then(|a| a.catalog.custom_limits) {
                Some(l) => format!(
                    "Up to {} cores, {} MB memory and {} GB disk at this account.",
                    l.max_cpu, l.max_ram_mb, l.max_disk_gb
                ),
                None => {
                    "The first location and image of the team's default account are used.".into()
                }
            },
        );
    let saved_keys = remote::<Vec<SshKey>>(|| "/api/ssh-keys".into());
    let key_options = Signal::derive(move || {
        let none = match generated_pair {
            true => "Generate a key pair for me (download the private key once)",
            false => "None: only Provisio signs in to it",
        };
        let mut options = vec![(String::new(), none.to_string())];
        if let Some(Ok(keys)) = saved_keys.get() {
            options.extend(keys.into_iter().filter(|k| !k.service).map(|k| {
                (
                    k.public_key,
                    format!("Your key {} ({})", k.name, k.key_type),
                )
            }));
        }
        options
    });
    let estimate_text = Signal::derive(move || match chosen.get() {
        Some(a) => {
            let server_type = if fixed_sizes.get() {
                fields.server_type.get()
            } else {
                String::new()
            };
            estimate(
                &a.catalog,
                &server_type,
                &fields.cpu.get(),
                &fields.ram_mb.get(),
                &fields.disk_gb.get(),
            )
        }
        None => "The cost follows the team's default account's prices.".into(),
    });

    view! {
        <div class="form-grid">
            <PickField
                id="deploy-account"
                label="Provider account"
                field="provider_account_id"
                errors=errors
                value=fields.account
                options=account_options
                hint=limits_hint
            />
            <Show when=move || chosen.get().is_some()>
                <PickField
                    id="deploy-location"
                    label="Location"
                    field="location"
                    errors=errors
                    value=fields.location
                    options=location_options
                />
                <PickField
                    id="deploy-image"
                    label="Image"
                    field="image"
                    errors=errors
                    value=fields.image
                    options=image_options
                />
            </Show>
            <Show
                when=move || fixed_sizes.get()
                fallback=move || {
                    view! {
                        <TextField id="deploy-cpu" label="CPU cores" kind="number" value=fields.cpu errors=errors field="cpu" testid="deploy-cpu" />
                        <TextField id="deploy-ram" label="Memory (MB)" kind="number" value=fields.ram_mb errors=errors field="ram_mb" testid="deploy-ram" />
                        <TextField id="deploy-disk" label="Disk (GB)" kind="number" value=fields.disk_gb errors=errors field="disk_gb" testid="deploy-disk" />
                    }
                }
            >
                <PickField
                    id="deploy-server-type"
                    label="Server type"
                    field="server_type"
                    errors=errors
                    value=fields.server_type
                    options=type_options
                />
            </Show>
        </div>
        <p class="muted" data-testid="deploy-estimate" aria-live="polite">{move || estimate_text.get()}</p>
        <div class="form-grid">
            <PickField
                id="deploy-ssh-key"
                label="SSH access to the new server"
                field="ssh_public_key"
                errors=errors
                value=fields.saved_key
                options=key_options
                hint="Your saved keys are on your profile page."
            />
            <TextField
                id="deploy-ssh-paste"
                label="Or paste a public key (optional)"
                value=fields.pasted_key
                errors=errors
                field="ssh_public_key"
                autocomplete="off"
                placeholder="ssh-ed25519 AAAA… you@laptop"
                hint="The .pub file's line. It wins over the choice above."
                testid="deploy-ssh-paste"
            />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::providers::{ServerTypeOffer, SizeLimits, UnitPrices};

    fn account() -> ProviderAccount {
        serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::nil(), "name": "lab", "kind": "proxmox", "endpoint": "https://pve:8006",
            "catalog": {"currency": "EUR", "locations": ["pve1"], "images": ["debian-12", "debian-ct"],
                        "custom_limits": {"max_cpu": 8, "max_ram_mb": 16384, "max_disk_gb": 200},
                        "unit_prices": {"cpu_cents": 300, "ram_gb_cents": 150, "disk_gb_cents": 5}},
            "settings": {"images": {"debian-12": "9000", "debian-ct": "local:vztmpl/debian-12.tar.zst"}},
            "has_credentials": true, "created_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn images_are_offered_by_the_kind_of_guest_they_make() {
        let a = account();
        assert_eq!(images_for(&a, Target::NewVm), ["debian-12"]);
        assert_eq!(images_for(&a, Target::NewContainer), ["debian-ct"]);
    }

    #[test]
    fn the_estimate_follows_the_catalog_prices_and_says_what_is_missing() {
        let mut catalog = account().catalog;
        // 2 × 3.00 + 2 GB × 1.50 + 20 GB × 0.05 = 10.00 EUR.
        assert_eq!(
            estimate(&catalog, "", "2", "2048", "20"),
            "≈ 10.00 EUR a month (2 cores, 2048 MB memory, 20 GB disk)"
        );
        assert_eq!(
            estimate(&catalog, "", "", "2048", "20"),
            "No estimate yet: is required without a server type."
        );
        catalog.custom_limits = None::<SizeLimits>;
        catalog.unit_prices = None::<UnitPrices>;
        catalog.server_types = vec![ServerTypeOffer {
            name: "cx22".into(),
            cpu: 2,
            ram_mb: 4096,
            disk_gb: 40,
            monthly_price_cents: Some(459),
        }];
        assert_eq!(
            estimate(&catalog, "cx22", "", "", ""),
            "≈ 4.59 EUR a month (2 cores, 4096 MB memory, 40 GB disk)"
        );
    }
}
