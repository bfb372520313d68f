//! The create and edit form of a provider account.

use super::discover::{Applied, DiscoverPanel};
use super::draft::{type_rows, AccountDraft};
use super::KINDS;
use crate::api;
use crate::components::form::pair_rows;
use crate::components::form::{
    field_message, send_draft, Column, Errors, FieldError, FormActions, FormBanner, RowsEditor,
    Select, TextArea, TextField,
};
use leptos::prelude::*;
use shared::providers::discovery::DiscoverCatalog;
use shared::providers::{ProviderAccount, ProviderCredentials, ProviderKind, ProviderSettings};
use shared::validation::FieldErrors;

const IMAGE_MAP_COLUMNS: &[Column] = &[
    ("image_map.catalog", "Catalog image", "text"),
    ("image_map.provider", "Provider image or template", "text"),
];

const TYPE_COLUMNS: &[Column] = &[
    ("server_types.name", "Name", "text"),
    ("server_types.cpu", "vCPU", "number"),
    ("server_types.ram_mb", "RAM (MB)", "number"),
    ("server_types.disk_gb", "Disk (GB)", "number"),
    ("server_types.monthly_price", "Price / month", "text"),
];

const ACCOUNT_FIELDS: &[&str] = &[
    "name",
    "kind",
    "endpoint",
    "catalog",
    "settings",
    "credentials",
];

#[component]
pub(super) fn AccountForm(
    account: Option<ProviderAccount>,
    #[prop(into)] on_done: Callback<ProviderAccount>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let editing = account.as_ref().map(|a| a.id);
    let stored = account.as_ref().is_some_and(|a| a.has_credentials);
    let draft = AccountDraft::from_dto(account.as_ref());
    let name = RwSignal::new(draft.name);
    let kind = RwSignal::new(draft.kind);
    let endpoint = RwSignal::new(draft.endpoint);
    let api_token = RwSignal::new(draft.api_token);
    let private_key = RwSignal::new(draft.private_key);
    let image_map = RwSignal::new(draft.image_map);
    let storage = RwSignal::new(draft.storage);
    let bridge = RwSignal::new(draft.bridge);
    let tls_fingerprint = RwSignal::new(draft.tls_fingerprint);
    let ca_pem = RwSignal::new(draft.ca_pem);
    let ssh_user = RwSignal::new(draft.ssh_user);
    let ssh_port = RwSignal::new(draft.ssh_port);
    let wait_for_ssh = RwSignal::new(draft.wait_for_ssh);
    let ready_timeout = RwSignal::new(draft.ready_timeout);
    let terraform_module = RwSignal::new(draft.terraform_module);
    let currency = RwSignal::new(draft.currency);
    let locations = RwSignal::new(draft.locations);
    let images = RwSignal::new(draft.images);
    let types = RwSignal::new(draft.types);
    let max_cpu = RwSignal::new(draft.max_cpu);
    let max_ram = RwSignal::new(draft.max_ram);
    let max_disk = RwSignal::new(draft.max_disk);
    let cpu_price = RwSignal::new(draft.cpu_price);
    let ram_price = RwSignal::new(draft.ram_price);
    let disk_price = RwSignal::new(draft.disk_price);

    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let kind_of = move || ProviderKind::parse(&kind.get()).unwrap_or(ProviderKind::Hetzner);
    let is_ssh = move || kind_of() == ProviderKind::Ssh;
    let is_proxmox = move || {
        matches!(
            kind_of(),
            ProviderKind::Proxmox | ProviderKind::TerraformProxmox
        )
    };
    let is_terraform = move || {
        matches!(
            kind_of(),
            ProviderKind::TerraformHcloud | ProviderKind::TerraformProxmox
        )
    };
    let kind_opts = Signal::derive(|| {
        KINDS
            .iter()
            .map(|(k, l)| (k.as_str().to_string(), format!("{l} ({})", k.as_str())))
            .collect::<Vec<_>>()
    });
    let token_placeholder = if stored {
        "stored — leave empty to keep"
    } else {
        ""
    };

    // The account as typed so far, for the provider to be asked what it offers.
    let discover_draft = Callback::new(move |()| {
        let token = api_token.get_untracked().trim().to_owned();
        let text = |s: String| {
            let t = s.trim().to_owned();
            (!t.is_empty()).then_some(t)
        };
        DiscoverCatalog {
            kind: kind_of(),
            endpoint: endpoint.get_untracked().trim().to_owned(),
            settings: ProviderSettings {
                tls_fingerprint: text(tls_fingerprint.get_untracked()),
                ca_pem: text(ca_pem.get_untracked()),
                terraform_module: text(terraform_module.get_untracked()),
                ..Default::default()
            },
            credentials: (!token.is_empty()).then_some(ProviderCredentials {
                api_token: Some(token),
                private_key: None,
            }),
            account_id: editing,
        }
    });
    let apply_discovered = Callback::new(move |applied: Applied| {
        let Applied {
            offer,
            storage: picked_storage,
            bridge: picked_bridge,
            found,
        } = applied;
        locations.set(offer.locations.join(", "));
        images.set(offer.images.join(", "));
        image_map.set(pair_rows(&offer.image_map));
        if !offer.server_types.is_empty() {
            types.set(type_rows(&offer.server_types));
        }
        if let Some(s) = picked_storage {
            storage.set(s);
        }
        if let Some(b) = picked_bridge {
            bridge.set(b);
        }
        if let Some(c) = found.currency {
            currency.set(c);
        }
        // Custom sizes up to the largest node, unless the admin set tighter bounds.
        if let Some(l) = found
            .largest
            .filter(|_| max_cpu.get_untracked().trim().is_empty())
        {
            max_cpu.set(l.max_cpu.to_string());
            max_ram.set(l.max_ram_mb.to_string());
            max_disk.set(l.max_disk_gb.to_string());
        }
        errors.update(|e| {
            e.remove("catalog");
            e.remove("settings");
        });
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let draft = AccountDraft {
            name: name.get_untracked(),
            kind: kind.get_untracked(),
            endpoint: endpoint.get_untracked(),
            api_token: api_token.get_untracked(),
            private_key: private_key.get_untracked(),
            image_map: image_map.get_untracked(),
            storage: storage.get_untracked(),
            bridge: bridge.get_untracked(),
            tls_fingerprint: tls_fingerprint.get_untracked(),
            ca_pem: ca_pem.get_untracked(),
            ssh_user: ssh_user.get_untracked(),
            ssh_port: ssh_port.get_untracked(),
            wait_for_ssh: wait_for_ssh.get_untracked(),
            ready_timeout: ready_timeout.get_untracked(),
            terraform_module: terraform_module.get_untracked(),
            currency: currency.get_untracked(),
            locations: locations.get_untracked(),
            images: images.get_untracked(),
            types: types.get_untracked(),
            max_cpu: max_cpu.get_untracked(),
            max_ram: max_ram.get_untracked(),
            max_disk: max_disk.get_untracked(),
            cpu_price: cpu_price.get_untracked(),
            ram_price: ram_price.get_untracked(),
            disk_price: disk_price.get_untracked(),
        };
        send_draft(
            draft.to_request(),
            (pending, errors, banner),
            ACCOUNT_FIELDS,
            move |body| async move {
                match editing {
                    Some(id) => {
                        api::put::<_, ProviderAccount>(
                            &format!("/api/provider-accounts/{id}"),
                            &body,
                        )
                        .await
                    }
                    None => api::post::<_, ProviderAccount>("/api/provider-accounts", &body).await,
                }
            },
            move |a| on_done.run(a),
        );
    };

    view! {
        <form class="form" data-testid="provider-form" on:submit=on_submit novalidate>
            <FormBanner banner=banner />
            <div class="form-grid">
                <TextField
                    id="account-name"
                    label="Name"
                    value=name
                    errors=errors
                    field="name"
                    autocomplete="off"
                    required=true
                />
                <Select
                    id="account-kind"
                    label="Kind"
                    field="kind"
                    errors=errors
                    value=Signal::derive(move || kind.get())
                    on_pick=move |v| kind.set(v)
                    options=kind_opts
                />
            </div>
            {move || {
                (!is_ssh())
                    .then(|| {
                        view! {
                            <div class="form-grid">
                                <TextField
                                    id="account-endpoint"
                                    label="Endpoint"
                                    value=endpoint
                                    errors=errors
                                    field="endpoint"
                                    kind="url"
                                    autocomplete="off"
                                    placeholder="https://pve.example.com:8006"
                                    hint="Empty: the provider's public API."
                                />
                                <TextField
                                    id="account-token"
                                    label="API token"
                                    value=api_token
                                    errors=errors
                                    field="api_token"
                                    kind="password"
                                    autocomplete="new-password"
                                    placeholder=token_placeholder
                                    hint="Proxmox: user@realm!tokenid=secret. Write-only: it is never shown again."
                                />
                            </div>
                        }
                    })
            }}
            {move || {
                is_ssh()
                    .then(|| {
                        view! {
                            <TextArea
                                id="account-private-key"
                                label="Private key"
                                value=private_key
                                errors=errors
                                field="private_key"
                                rows=5
                            />
                            <p class="field-hint">
                                {if stored {
                                    "A key is stored — leave empty to keep it. Write-only: it is never shown again."
                                } else {
                                    "OpenSSH private key Provisio logs in to registered hosts with. Write-only."
                                }}
                            </p>
                        }
                    })
            }}
            <FieldError errors=errors field="credentials" id="account-credentials-error".to_string() />
            {move || (!is_ssh()).then(|| view! { <DiscoverPanel draft=discover_draft on_apply=apply_discovered /> })}

            {move || {
                (!is_ssh())
                    .then(|| {
                        view! {
                            <fieldset class="field fieldset">
                                <legend>"Provisioning settings"</legend>
                                <RowsEditor
                                    legend="Image map"
                                    columns=IMAGE_MAP_COLUMNS
                                    rows=image_map
                                    errors=errors
                                    field="image_map"
                                    add_label="Map an image"
                                    hint="Catalog image → provider image name, template VM id (9000) or LXC template (local:vztmpl/…). Unmapped images are used as named."
                                />
                                {move || {
                                    is_proxmox()
                                        .then(|| {
                                            view! {
                                                <div class="form-grid">
                                                    <TextField
                                                        id="account-storage"
                                                        label="Storage"
                                                        value=storage
                                                        errors=errors
                                                        field="storage"
                                                        placeholder="local-lvm"
                                                    />
                                                    <TextField
                                                        id="account-bridge"
                                                        label="Bridge"
                                                        value=bridge
                                                        errors=errors
                                                        field="bridge"
                                                        placeholder="vmbr0"
                                                    />
                                                </div>
                                                <TextField
                                                    id="account-tls"
                                                    label="TLS fingerprint"
                                                    value=tls_fingerprint
                                                    errors=errors
                                                    field="tls_fingerprint"
                                                    autocomplete="off"
                                                    hint="SHA-256 of the API's certificate, for self-signed clusters."
                                                />
                                                <TextArea id="account-ca" label="CA certificate (PEM)" value=ca_pem errors=errors field="ca_pem" rows=3 />
                                            }
                                        })
                                }}
                                {move || {
                                    is_terraform()
                                        .then(|| {
                                            view! {
                                                <TextField
                                                    id="account-module"
                                                    label="Terraform module"
                                                    value=terraform_module
                                                    errors=errors
                                                    field="terraform_module"
                                                    hint="A module directory of your own; empty: the built-in one."
                                                />
                                            }
                                        })
                                }}
                                <div class="form-grid">
                                    <TextField
                                        id="account-ssh-user"
                                        label="SSH user"
                                        value=ssh_user
                                        errors=errors
                                        field="ssh_user"
                                        placeholder="root"
                                    />
                                    <TextField
                                        id="account-ssh-port"
                                        label="SSH port"
                                        value=ssh_port
                                        errors=errors
                                        field="ssh_port"
                                        kind="number"
                                        placeholder="22"
                                    />
                                    <TextField
                                        id="account-ready"
                                        label="Ready timeout (seconds)"
                                        value=ready_timeout
                                        errors=errors
                                        field="ready_timeout_secs"
                                        kind="number"
                                        placeholder="600"
                                    />
                                    <label class="check check-field" for="account-wait">
                                        <input
                                            type="checkbox"
                                            id="account-wait"
                                            name="wait_for_ssh"
                                            prop:checked=move || wait_for_ssh.get()
                                            on:change=move |ev| wait_for_ssh.set(event_target_checked(&ev))
                                        />
                                        "Wait for SSH and pin the host key"
                                    </label>
                                </div>
                                <FieldError errors=errors field="settings" id="account-settings-error".to_string() />
                            </fieldset>
                        }
                    })
            }}

            <fieldset class="field fieldset">
                <legend>"Catalog"</legend>
                <div class="form-grid">
                    <TextField
                        id="account-locations"
                        label="Locations"
                        value=locations
                        errors=errors
                        field="locations"
                        hint="Comma-separated: Hetzner locations or Proxmox nodes. Filled by \"Offer the ticked items\" above."
                    />
                    <TextField
                        id="account-images"
                        label="Images"
                        value=images
                        errors=errors
                        field="images"
                        placeholder="debian-12, ubuntu-24.04"
                        hint="Comma-separated catalog image names."
                    />
                    <TextField
                        id="account-currency"
                        label="Currency"
                        value=currency
                        errors=errors
                        field="currency"
                        placeholder="EUR"
                    />
                </div>
                <RowsEditor
                    legend="Server types"
                    columns=TYPE_COLUMNS
                    rows=types
                    errors=errors
                    field="server_types"
                    add_label="Add server type"
                    hint="Fixed sizes; the price per month is an amount like 4.59 and may stay empty."
                />
                <fieldset class="field rows-editor">
                    <legend>"Custom sizes"</legend>
                    <p class="field-hint">"Leave empty to offer only the server types above."</p>
                    <div class="form-grid form-grid-3">
                        <TextField id="account-max-cpu" label="Max vCPU" value=max_cpu errors=errors field="max_cpu" kind="number" />
                        <TextField
                            id="account-max-ram"
                            label="Max RAM (MB)"
                            value=max_ram
                            errors=errors
                            field="max_ram_mb"
                            kind="number"
                        />
                        <TextField
                            id="account-max-disk"
                            label="Max disk (GB)"
                            value=max_disk
                            errors=errors
                            field="max_disk_gb"
                            kind="number"
                        />
                    </div>
                    <FieldError errors=errors field="custom_limits" id="account-limits-error".to_string() />
                    <div class="form-grid form-grid-3">
                        <TextField id="account-cpu-price" label="Price per vCPU" value=cpu_price errors=errors field="cpu_price" />
                        <TextField
                            id="account-ram-price"
                            label="Price per GB RAM"
                            value=ram_price
                            errors=errors
                            field="ram_gb_price"
                        />
                        <TextField
                            id="account-disk-price"
                            label="Price per GB disk"
                            value=disk_price
                            errors=errors
                            field="disk_gb_price"
                        />
                    </div>
                    <FieldError errors=errors field="unit_prices" id="account-prices-error".to_string() />
                </fieldset>
                <FieldError errors=errors field="catalog" id="account-catalog-error".to_string() />
            </fieldset>
            {move || {
                (is_ssh() && field_message(errors, "settings").is_some())
                    .then(|| view! { <FieldError errors=errors field="settings" id="account-settings-error".to_string() /> })
            }}
            <FormActions
                pending=pending
                label=if editing.is_some() { "Save account" } else { "Add account" }
                busy="Saving…"
                on_cancel=on_cancel
            />
        </form>
    }
}
