//! Provider accounts: their catalogs, settings and credentials, connection tests, the
//! machines the provider reports and the sync that imports them; webhooks.

use crate::api::{self, ApiErrorView};
use crate::components::feedback::{use_toasts, Alert, Empty, ErrorBanner, Loading, SkeletonRows};
use crate::components::form::{
    apply_problem, field_message, pair_rows, rows_to_pairs, send_form, Column, Errors, FieldError,
    FormActions, FormBanner, Row, RowsEditor, Select, TextArea, TextField,
};
use crate::components::list::{loaded_list, NewButton, PageHeader};
use crate::components::modal::{ConfirmDialog, Modal};
use crate::components::removal::{use_removal, RemoveButton};
use crate::components::table::{Col, DataTable};
use crate::format::{date, datetime, money, server_size, size};
use crate::pages::servers::ServerBadge;
use crate::remote::remote;
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::dto::{Page, Team};
use shared::notifications::{CreateWebhook, Delivery, Webhook};
use shared::providers::{
    Catalog, CreateProviderAccount, ProviderAccount, ProviderCredentials, ProviderKind,
    ProviderSettings, ServerTypeOffer, SizeLimits, UnitPrices,
};
use shared::servers::{ConnectionReport, RemoteServer, SyncChange, SyncReport, SyncRequest};
use shared::validation::FieldErrors;
use uuid::Uuid;

fn chips(items: Vec<String>) -> impl IntoView {
    view! {
        <ul class="chip-list">
            {items.into_iter().map(|i| view! { <li class="chip">{i}</li> }).collect_view()}
        </ul>
    }
}

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

/// What the card's action buttons opened.
#[derive(Clone, PartialEq)]
enum Panel {
    Edit(Option<ProviderAccount>),
    Resources(ProviderAccount),
    Sync(ProviderAccount),
    Delete(ProviderAccount),
}

#[component]
fn AccountCard(account: ProviderAccount, panel: RwSignal<Option<Panel>>) -> impl IntoView {
    let testing = RwSignal::new(false);
    let report = RwSignal::new(None::<Result<ConnectionReport, ApiErrorView>>);
    let id = account.id;
    let test = move |_| {
        report.set(None);
        task::run(
            testing,
            async move {
                api::post_empty::<ConnectionReport>(&format!("/api/provider-accounts/{id}/test"))
                    .await
            },
            move |result| report.set(Some(result)),
        );
    };
    let open = move |p: Panel| move |_| panel.set(Some(p.clone()));
    let (for_edit, for_resources, for_sync, for_delete) = (
        Panel::Edit(Some(account.clone())),
        Panel::Resources(account.clone()),
        Panel::Sync(account.clone()),
        Panel::Delete(account.clone()),
    );
    let is_ssh = account.kind == ProviderKind::Ssh;
    let c = account.catalog;
    let currency = c.currency.clone();
    let types = (!c.server_types.is_empty()).then(|| {
        view! {
            <table class="table table-compact">
                <thead>
                    <tr>
                        <th scope="col">"Server type"</th>
                        <th scope="col">"Size"</th>
                        <th scope="col">"Price"</th>
                    </tr>
                </thead>
                <tbody>
                    {c
                        .server_types
                        .into_iter()
                        .map(|t| {
                            view! {
                                <tr>
                                    <td class="mono">{t.name}</td>
                                    <td>{size(t.cpu, t.ram_mb, t.disk_gb)}</td>
                                    <td class="num">
                                        {t
                                            .monthly_price_cents
                                            .map(|p| money(p, &currency))
                                            .unwrap_or_else(|| "—".into())}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        }
    });
    let custom = c.custom_limits.map(|l| {
        let prices = c
            .unit_prices
            .map(|p| {
                format!(
                    " Prices: {} per vCPU, {} per GB RAM, {} per GB disk.",
                    money(p.cpu_cents, &c.currency),
                    money(p.ram_gb_cents, &c.currency),
                    money(p.disk_gb_cents, &c.currency),
                )
            })
            .unwrap_or_default();
        view! {
            <p>
                {format!(
                    "Custom sizes up to {}.{prices}",
                    size(l.max_cpu, l.max_ram_mb, l.max_disk_gb),
                )}
            </p>
        }
    });
    let mapped = account.settings.images.len();
    let card_name = account.name.clone();
    view! {
        <div class="card" data-testid="provider-card" data-name=card_name>
            <div class="card-title-row">
                <h2 class="card-title">{account.name}</h2>
                <span class="badge badge-muted" title=kind_label(account.kind)>
                    {account.kind.as_str()}
                </span>
            </div>
            <dl class="details">
                <dt>"Endpoint"</dt>
                <dd class="mono">
                    {if account.endpoint.is_empty() { "default".to_string() } else { account.endpoint }}
                </dd>
                <dt>"Credentials"</dt>
                <dd>{if account.has_credentials { "stored" } else { "none" }}</dd>
                <dt>"Currency"</dt>
                <dd>{c.currency.clone()}</dd>
                {(mapped > 0)
                    .then(|| {
                        view! {
                            <dt>"Image map"</dt>
                            <dd>{format!("{mapped} image(s) mapped to provider images")}</dd>
                        }
                    })}
                <dt>"Added"</dt>
                <dd>{date(&account.created_at)}</dd>
            </dl>
            <h3 class="subhead">"Locations"</h3>
            {chips(c.locations)}
            <h3 class="subhead">"Images"</h3>
            {chips(c.images)}
            <h3 class="subhead">"Sizes"</h3>
            {types}
            {custom}
            <div class="card-actions">
                <button type="button" class="btn btn-ghost btn-sm" data-testid="provider-edit" on:click=open(for_edit)>
                    "Edit"
                </button>
                <button
                    type="button"
                    class="btn btn-ghost btn-sm"
                    data-testid="provider-test"
                    disabled=move || testing.get()
                    on:click=test
                >
                    {move || if testing.get() { "Testing…" } else { "Test connection" }}
                </button>
                {(!is_ssh)
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="btn btn-ghost btn-sm"
                                data-testid="provider-resources"
                                on:click=open(for_resources.clone())
                            >
                                "Resources"
                            </button>
                            <button
                                type="button"
                                class="btn btn-ghost btn-sm"
                                data-testid="provider-sync"
                                on:click=open(for_sync.clone())
                            >
                                "Sync"
                            </button>
                        }
                    })}
                <button
                    type="button"
                    class="btn btn-danger-ghost btn-sm"
                    data-testid="provider-delete"
                    on:click=open(for_delete)
                >
                    "Delete"
                </button>
            </div>
            {move || testing.get().then(|| view! { <Loading label="Testing the connection…" /> })}
            {move || match report.get() {
                Some(Ok(r)) => Some(view! { <ConnectionChecks report=r /> }.into_any()),
                Some(Err(e)) => Some(view! { <ErrorBanner error=e /> }.into_any()),
                None => None,
            }}
        </div>
    }
}

#[component]
fn ConnectionChecks(report: ConnectionReport) -> impl IntoView {
    view! {
        <div class="checks" data-testid="connection-report" data-ok=report.ok.to_string() role="status">
            <p class=if report.ok { "checks-summary ok" } else { "checks-summary bad" }>
                {if report.ok { "✓ The connection works" } else { "✗ The connection has problems" }}
            </p>
            <ul class="checks-list">
                {report
                    .checks
                    .into_iter()
                    .map(|c| {
                        view! {
                            <li
                                class=if c.ok { "check-row ok" } else { "check-row bad" }
                                data-testid="connection-check"
                                data-ok=c.ok.to_string()
                            >
                                <span class="check-mark" aria-hidden="true">
                                    {if c.ok { "✓" } else { "✗" }}
                                </span>
                                <span class="sr-only">{if c.ok { "passed: " } else { "failed: " }}</span>
                                <strong>{c.name}</strong>
                                {(!c.detail.is_empty()).then(|| view! { <span class="muted">{c.detail}</span> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}

#[component]
pub fn ProvidersPage() -> impl IntoView {
    let toasts = use_toasts();
    let accounts = remote::<Vec<ProviderAccount>>(|| "/api/provider-accounts".into());
    let retry = Callback::new(move |_| accounts.refetch());
    let panel = RwSignal::new(None::<Panel>);
    let close = Callback::new(move |_| panel.set(None));
    let delete_pending = RwSignal::new(false);
    let delete_error = RwSignal::new(None::<ApiErrorView>);
    let delete = move |a: ProviderAccount| {
        task::run(
            delete_pending,
            async move { api::delete(&format!("/api/provider-accounts/{}", a.id)).await },
            move |result| match result {
                Ok(()) => {
                    toasts.success("Provider account deleted");
                    panel.set(None);
                    accounts.refetch();
                }
                Err(e) => delete_error.set(Some(e)),
            },
        );
    };
    view! {
        <section class="page">
            <PageHeader
                title="Providers"
                description="Infrastructure accounts servers are provisioned on, and their catalogs."
            >
                <NewButton
                    label="Add provider account"
                    testid="provider-add"
                    on_click=move |_| panel.set(Some(Panel::Edit(None)))
                />
            </PageHeader>
            {move || match accounts.get() {
                None => view! { <SkeletonRows /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(list)) if list.is_empty() => {
                    view! {
                        <Empty
                            title="No provider accounts yet"
                            hint="Add one with “Add provider account” to start provisioning servers."
                        />
                    }
                        .into_any()
                }
                Some(Ok(list)) => {
                    view! {
                        <div class="grid-2">
                            {list
                                .into_iter()
                                .map(|a| view! { <AccountCard account=a panel=panel /> })
                                .collect_view()}
                        </div>
                    }
                        .into_any()
                }
            }}
            {move || {
                panel
                    .get()
                    .map(|p| match p {
                        Panel::Edit(account) => {
                            let title = match &account {
                                Some(a) => format!("Edit {}", a.name),
                                None => "Add provider account".to_string(),
                            };
                            view! {
                                <Modal title=title on_close=close wide=true>
                                    <AccountForm
                                        account=account
                                        on_done=move |a: ProviderAccount| {
                                            toasts.success(format!("Provider account {} saved", a.name));
                                            panel.set(None);
                                            accounts.refetch();
                                        }
                                        on_cancel=close
                                    />
                                </Modal>
                            }
                                .into_any()
                        }
                        Panel::Resources(account) => {
                            view! {
                                <Modal title=format!("Resources at {}", account.name) on_close=close wide=true>
                                    <Resources account=account />
                                </Modal>
                            }
                                .into_any()
                        }
                        Panel::Sync(account) => {
                            view! {
                                <Modal title=format!("Sync {}", account.name) on_close=close wide=true>
                                    <SyncPanel account=account on_close=close />
                                </Modal>
                            }
                                .into_any()
                        }
                        Panel::Delete(account) => {
                            delete_error.set(None);
                            view! {
                                <ConfirmDialog
                                    title=format!("Delete {}?", account.name)
                                    message="The account, its catalog and its stored credentials are removed. Accounts that requests refer to cannot be deleted."
                                    confirm_label="Delete account"
                                    on_confirm=move |_| delete(account.clone())
                                    on_cancel=close
                                    pending=delete_pending
                                    error=delete_error
                                />
                            }
                                .into_any()
                        }
                    })
            }}
            <Webhooks />
        </section>
    }
}

/// `4.59` → 459 cents; at most two decimals, never negative, never through a float.
fn parse_cents(text: &str) -> Result<Option<i64>, ()> {
    let t = text.trim().replace(',', ".");
    if t.is_empty() {
        return Ok(None);
    }
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() && frac.is_empty() {
        return Err(());
    }
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !digits(frac) || frac.len() > 2 || whole.len() > 12 {
        return Err(());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| ())?
    };
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| ())? * 10,
        _ => frac.parse().map_err(|_| ())?,
    };
    Ok(Some(whole * 100 + frac))
}

fn cents_text(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn list_text(items: &[String]) -> String {
    items.join(", ")
}

fn text_list(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

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

fn opt_text(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn opt_num<T: ToString>(n: Option<T>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// Adds a message under `field` unless it already has one.
fn complain(problems: &mut FieldErrors, field: &str, message: &str) {
    problems
        .entry(field.to_owned())
        .or_insert_with(|| vec![message.to_owned()]);
}

#[component]
fn AccountForm(
    account: Option<ProviderAccount>,
    #[prop(into)] on_done: Callback<ProviderAccount>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let editing = account.as_ref().map(|a| a.id);
    let stored = account.as_ref().is_some_and(|a| a.has_credentials);
    let s = account
        .as_ref()
        .map(|a| a.settings.clone())
        .unwrap_or_default();
    let c = account.as_ref().map(|a| a.catalog.clone());
    let name = RwSignal::new(account.as_ref().map(|a| a.name.clone()).unwrap_or_default());
    let kind = RwSignal::new(
        account
            .as_ref()
            .map(|a| a.kind)
            .unwrap_or(ProviderKind::Hetzner)
            .as_str()
            .to_string(),
    );
    let endpoint = RwSignal::new(
        account
            .as_ref()
            .map(|a| a.endpoint.clone())
            .unwrap_or_default(),
    );
    let api_token = RwSignal::new(String::new());
    let private_key = RwSignal::new(String::new());
    let image_map = RwSignal::new(pair_rows(&s.images));
    let storage = RwSignal::new(opt_text(&s.storage));
    let bridge = RwSignal::new(opt_text(&s.bridge));
    let tls_fingerprint = RwSignal::new(opt_text(&s.tls_fingerprint));
    let ca_pem = RwSignal::new(opt_text(&s.ca_pem));
    let ssh_user = RwSignal::new(opt_text(&s.ssh_user));
    let ssh_port = RwSignal::new(opt_num(s.ssh_port));
    let wait_for_ssh = RwSignal::new(s.wait_for_ssh.unwrap_or(true));
    let ready_timeout = RwSignal::new(opt_num(s.ready_timeout_secs));
    let terraform_module = RwSignal::new(opt_text(&s.terraform_module));
    let currency = RwSignal::new(
        c.as_ref()
            .map(|c| c.currency.clone())
            .unwrap_or_else(|| "EUR".into()),
    );
    let locations = RwSignal::new(
        c.as_ref()
            .map(|c| list_text(&c.locations))
            .unwrap_or_default(),
    );
    let images = RwSignal::new(c.as_ref().map(|c| list_text(&c.images)).unwrap_or_default());
    let types = RwSignal::new(
        c.as_ref()
            .map(|c| {
                c.server_types
                    .iter()
                    .map(|t| {
                        Row::new(vec![
                            t.name.clone(),
                            t.cpu.to_string(),
                            t.ram_mb.to_string(),
                            t.disk_gb.to_string(),
                            t.monthly_price_cents.map(cents_text).unwrap_or_default(),
                        ])
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default(),
    );
    let limits = c.as_ref().and_then(|c| c.custom_limits.clone());
    let max_cpu = RwSignal::new(opt_num(limits.as_ref().map(|l| l.max_cpu)));
    let max_ram = RwSignal::new(opt_num(limits.as_ref().map(|l| l.max_ram_mb)));
    let max_disk = RwSignal::new(opt_num(limits.as_ref().map(|l| l.max_disk_gb)));
    let prices = c.as_ref().and_then(|c| c.unit_prices.clone());
    let cpu_price = RwSignal::new(
        prices
            .as_ref()
            .map(|p| cents_text(p.cpu_cents))
            .unwrap_or_default(),
    );
    let ram_price = RwSignal::new(
        prices
            .as_ref()
            .map(|p| cents_text(p.ram_gb_cents))
            .unwrap_or_default(),
    );
    let disk_price = RwSignal::new(
        prices
            .as_ref()
            .map(|p| cents_text(p.disk_gb_cents))
            .unwrap_or_default(),
    );

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

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let mut problems = FieldErrors::new();
        let text = |s: RwSignal<String>| {
            let t = s.get_untracked().trim().to_owned();
            (!t.is_empty()).then_some(t)
        };
        let number = |s: RwSignal<String>, field: &str, problems: &mut FieldErrors| {
            let t = s.get_untracked();
            let t = t.trim();
            if t.is_empty() {
                None
            } else {
                match t.parse::<u32>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        complain(problems, field, "must be a whole number");
                        None
                    }
                }
            }
        };
        let kind_now = ProviderKind::parse(&kind.get_untracked()).unwrap_or(ProviderKind::Hetzner);
        let images_map = rows_to_pairs(&image_map.get_untracked(), "image").unwrap_or_else(|m| {
            complain(&mut problems, "image_map", &m);
            Default::default()
        });
        let port = number(ssh_port, "ssh_port", &mut problems);
        if port.is_some_and(|p| p == 0 || p > 65535) {
            complain(&mut problems, "ssh_port", "must be 1–65535");
        }
        let settings = ProviderSettings {
            images: images_map,
            storage: text(storage),
            bridge: text(bridge),
            tls_fingerprint: text(tls_fingerprint),
            ca_pem: text(ca_pem),
            ssh_user: text(ssh_user),
            ssh_port: port.and_then(|p| u16::try_from(p).ok()),
            wait_for_ssh: (!wait_for_ssh.get_untracked()).then_some(false),
            ready_timeout_secs: number(ready_timeout, "ready_timeout_secs", &mut problems),
            terraform_module: text(terraform_module),
        };
        let mut server_types = Vec::new();
        for row in types.get_untracked().iter().filter(|r| !r.is_blank()) {
            let n = |i: usize| row.cell(i).parse::<u32>().ok();
            match (row.cell(0), n(1), n(2), n(3), parse_cents(row.cell(4))) {
                ("", ..) => complain(
                    &mut problems,
                    "server_types",
                    "every server type needs a name",
                ),
                (name, Some(cpu), Some(ram_mb), Some(disk_gb), Ok(price)) => {
                    server_types.push(ServerTypeOffer {
                        name: name.to_owned(),
                        cpu,
                        ram_mb,
                        disk_gb,
                        monthly_price_cents: price,
                    })
                }
                (name, _, _, _, Err(())) => complain(
                    &mut problems,
                    "server_types",
                    &format!("{name}: the price is an amount like 4.59"),
                ),
                (name, ..) => complain(
                    &mut problems,
                    "server_types",
                    &format!("{name}: vCPU, RAM and disk are whole numbers"),
                ),
            }
        }
        let limit_values = [
            number(max_cpu, "custom_limits", &mut problems),
            number(max_ram, "custom_limits", &mut problems),
            number(max_disk, "custom_limits", &mut problems),
        ];
        let custom_limits = match limit_values {
            [None, None, None] => None,
            [Some(max_cpu), Some(max_ram_mb), Some(max_disk_gb)] => Some(SizeLimits {
                max_cpu,
                max_ram_mb,
                max_disk_gb,
            }),
            _ => {
                complain(
                    &mut problems,
                    "custom_limits",
                    "fill in all three limits, or none",
                );
                None
            }
        };
        let price_values = [
            parse_cents(&cpu_price.get_untracked()),
            parse_cents(&ram_price.get_untracked()),
            parse_cents(&disk_price.get_untracked()),
        ];
        let unit_prices = match price_values {
            [Ok(None), Ok(None), Ok(None)] => None,
            [Ok(Some(cpu_cents)), Ok(Some(ram_gb_cents)), Ok(Some(disk_gb_cents))] => {
                Some(UnitPrices {
                    cpu_cents,
                    ram_gb_cents,
                    disk_gb_cents,
                })
            }
            _ => {
                complain(
                    &mut problems,
                    "unit_prices",
                    "fill in all three prices (amounts like 0.50), or none",
                );
                None
            }
        };
        let catalog = Catalog {
            currency: currency.get_untracked().trim().to_ascii_uppercase(),
            locations: text_list(&locations.get_untracked()),
            images: text_list(&images.get_untracked()),
            server_types,
            custom_limits,
            unit_prices,
        };
        let token = text(api_token).filter(|_| kind_now != ProviderKind::Ssh);
        let key = text(private_key).filter(|_| kind_now == ProviderKind::Ssh);
        let credentials = (token.is_some() || key.is_some()).then_some(ProviderCredentials {
            api_token: token,
            private_key: key,
        });
        let body = CreateProviderAccount {
            name: name.get_untracked().trim().to_owned(),
            kind: kind_now,
            endpoint: if kind_now == ProviderKind::Ssh {
                String::new()
            } else {
                endpoint.get_untracked().trim().to_owned()
            },
            catalog,
            settings,
            credentials,
        };
        for (k, v) in body.validate().err().unwrap_or_default() {
            problems.entry(k).or_insert(v);
        }
        send_form(
            problems,
            pending,
            errors,
            banner,
            ACCOUNT_FIELDS,
            async move {
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
                        placeholder="fsn1, nbg1"
                        hint="Comma-separated."
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

fn resource_state(r: &RemoteServer) -> impl IntoView {
    if r.template {
        view! {
            <span class="badge badge-muted" data-testid="resource-state" data-state="template">
                "template"
            </span>
        }
        .into_any()
    } else if let Some(id) = r.server_id {
        view! {
            <A href=format!("/servers/{id}") attr:class="badge badge-new" attr:data-testid="resource-state" attr:data-state="managed">
                "managed"
            </A>
        }
        .into_any()
    } else {
        view! {
            <span class="badge req req-pending" data-testid="resource-state" data-state="not_imported">
                "not imported"
            </span>
        }
        .into_any()
    }
}

#[component]
fn Resources(account: ProviderAccount) -> impl IntoView {
    let id = account.id;
    let list =
        remote::<Vec<RemoteServer>>(move || format!("/api/provider-accounts/{id}/resources"));
    let retry = Callback::new(move |_| list.refetch());
    move || match list.get() {
        None => view! { <Loading label="Asking the provider…" /> }.into_any(),
        Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
        Some(Ok(items)) if items.is_empty() => {
            view! { <Empty title="The provider reports no machines" /> }.into_any()
        }
        Some(Ok(items)) => {
            let unimported = items
                .iter()
                .filter(|r| !r.template && r.server_id.is_none())
                .count();
            view! {
                <p class="muted">
                    {format!("{} machine(s); {unimported} not imported yet.", items.len())}
                </p>
                <DataTable columns=&[
                        Col::Text("Name"), Col::Text("Provider id"), Col::Text("Status"),
                        Col::Text("Address"), Col::Text("Size"), Col::Text("Location"),
                        Col::Text("Inventory")
                    ] compact=true testid="resources-table">
                    {items
                        .into_iter()
                        .map(|r| {
                            let state = resource_state(&r);
                            let size = server_size(r.cpu, r.ram_mb, r.disk_gb);
                            view! {
                                <tr data-testid="resource-row">
                                    <td>{r.name}</td>
                                    <td class="mono">{r.provider_id}</td>
                                    <td>
                                        <ServerBadge status=r.status />
                                    </td>
                                    <td class="mono">{r.ipv4.or(r.ipv6).unwrap_or_else(|| "—".into())}</td>
                                    <td class="nowrap">{size}</td>
                                    <td>{r.location}</td>
                                    <td>{state}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </DataTable>
            }
                .into_any()
        }
    }
}

fn change_list(testid: &'static str, title: &'static str, items: Vec<SyncChange>) -> impl IntoView {
    let count = items.len();
    view! {
        <section class="sync-section" data-testid=testid data-count=count.to_string()>
            <h3 class="subhead">{format!("{title} ({count})")}</h3>
            {if items.is_empty() {
                view! { <p class="muted">"None."</p> }.into_any()
            } else {
                view! {
                    <ul class="sync-list">
                        {items
                            .into_iter()
                            .map(|c| {
                                view! {
                                    <li>
                                        <strong>{c.name}</strong>
                                        " "
                                        <span class="mono muted">{c.provider_id}</span>
                                        {(!c.changes.is_empty())
                                            .then(|| {
                                                view! {
                                                    <ul class="sync-changes">
                                                        {c.changes.into_iter().map(|x| view! { <li>{x}</li> }).collect_view()}
                                                    </ul>
                                                }
                                            })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn SyncReportView(report: SyncReport) -> impl IntoView {
    let summary = format!(
        "{} new · {} changed · {} gone · {} unchanged",
        report.new.len(),
        report.changed.len(),
        report.gone.len(),
        report.unchanged
    );
    view! {
        <div class="sync-report" data-testid="sync-report" data-dry-run=report.dry_run.to_string()>
            {if report.dry_run {
                view! { <Alert kind="info" message=format!("Preview — nothing was changed yet: {summary}.") /> }
            } else {
                view! { <Alert kind="success" message=format!("Sync applied: {summary}.") /> }
            }}
            {change_list("sync-new", "New — will be imported", report.new)}
            {change_list("sync-changed", "Changed", report.changed)}
            {change_list("sync-gone", "Gone — will be marked deleted", report.gone)}
        </div>
    }
}

#[component]
fn SyncPanel(account: ProviderAccount, #[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let id = account.id;
    let teams = remote::<Page<Team>>(|| "/api/teams?per_page=200".into());
    let team = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let pending = RwSignal::new(false);
    let report = RwSignal::new(None::<Result<SyncReport, ApiErrorView>>);
    let run = move |dry_run: bool| {
        let team_id = team.get_untracked().parse::<Uuid>().ok();
        let body = SyncRequest {
            provider_account_id: None,
            team_id,
            dry_run,
        };
        task::run(
            pending,
            async move {
                api::post::<_, SyncReport>(&format!("/api/provider-accounts/{id}/sync"), &body)
                    .await
            },
            move |result| {
                if let Ok(r) = &result {
                    if !r.dry_run {
                        toasts.success(format!(
                            "Sync applied: {} imported, {} updated, {} marked deleted",
                            r.new.len(),
                            r.changed.len(),
                            r.gone.len()
                        ));
                    }
                }
                if let Err(e) = &result {
                    errors.set(e.fields.clone());
                }
                report.set(Some(result));
            },
        );
    };
    // The preview runs as soon as the dialog opens.
    run(true);
    let team_opts = Signal::derive(move || {
        let mut opts = vec![(String::new(), "Global (default)".to_string())];
        if let Some(Ok(p)) = teams.get() {
            opts.extend(p.items.into_iter().map(|t| (t.id.to_string(), t.name)));
        }
        opts
    });
    let applied = move || report.with(|r| matches!(r, Some(Ok(r)) if !r.dry_run));
    view! {
        <div class="form">
            <p class="muted">
                "Compares the machines at the provider with the inventory. New machines are imported, changed ones updated, vanished ones marked deleted."
            </p>
            <Select
                id="sync-team"
                label="Team for imported servers"
                field="team_id"
                errors=errors
                value=Signal::derive(move || team.get())
                on_pick=move |v| team.set(v)
                options=team_opts
            />
            {move || pending.get().then(|| view! { <Loading label="Comparing with the provider…" /> })}
            {move || match report.get() {
                Some(Ok(r)) => Some(view! { <SyncReportView report=r /> }.into_any()),
                Some(Err(e)) => {
                    Some(view! { <ErrorBanner error=e on_retry=Callback::new(move |_| run(true)) /> }.into_any())
                }
                None => None,
            }}
            <div class="form-actions">
                <button type="button" class="btn btn-ghost" on:click=move |_| on_close.run(())>
                    {move || if applied() { "Close" } else { "Cancel" }}
                </button>
                {move || {
                    if applied() {
                        view! {
                            <button type="button" class="btn btn-ghost" disabled=move || pending.get() on:click=move |_| run(true)>
                                "Preview again"
                            </button>
                        }
                            .into_any()
                    } else {
                        view! {
                            <button
                                type="button"
                                class="btn btn-primary"
                                data-testid="sync-apply"
                                disabled=move || pending.get() || !matches!(report.get(), Some(Ok(_)))
                                on:click=move |_| run(false)
                            >
                                {move || if pending.get() { "Working…" } else { "Apply sync" }}
                            </button>
                        }
                            .into_any()
                    }
                }}
            </div>
        </div>
    }
}

fn delivery_badge(status: String) -> impl IntoView {
    let kind = match status.as_str() {
        "delivered" => "deployed",
        "failed" => "failed",
        _ => "pending",
    };
    view! { <span class=format!("badge req req-{kind}")>{status}</span> }
}

/// Webhook endpoints notifications are posted to, and the latest delivery attempts.
#[component]
fn Webhooks() -> impl IntoView {
    let toasts = use_toasts();
    let hooks = remote::<Vec<Webhook>>(|| "/api/webhooks".into());
    let deliveries = remote::<Vec<Delivery>>(|| "/api/notification-deliveries".into());

    let name = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CreateWebhook {
            name: name.get_untracked().trim().to_owned(),
            url: url.get_untracked().trim().to_owned(),
            secret: secret.get_untracked(),
        };
        banner.set(None);
        if let Err(e) = body.validate() {
            errors.set(e);
            return;
        }
        errors.set(FieldErrors::new());
        task::run(
            pending,
            async move { api::post_no_content("/api/webhooks", &body).await },
            move |result| match result {
                Ok(()) => {
                    toasts.success(format!("Webhook {} added", name.get_untracked().trim()));
                    for s in [name, url, secret] {
                        s.set(String::new());
                    }
                    hooks.refetch();
                }
                Err(e) => banner.set(apply_problem(&e, errors, &["name", "url", "secret"])),
            },
        );
    };

    let removal = use_removal::<Webhook>();
    let delete = move |w: Webhook| {
        removal.delete(format!("/api/webhooks/{}", w.id), move |_| {
            toasts.success("Webhook deleted");
            hooks.refetch();
        });
    };

    view! {
        <h2 class="subhead">"Webhooks"</h2>
        {loaded_list(
            hooks,
            2,
            || view! { <Empty title="No webhooks yet" hint="Add one below to receive notifications." /> },
            move |list| {
                view! {
                    <DataTable columns=&[
                            Col::Text("Name"), Col::Text("URL"), Col::Text("Active"),
                            Col::Text("Created"), Col::Actions
                        ]>
                        {list
                            .into_iter()
                            .map(|w| {
                                let created = date(&w.created_at);
                                let (name, url, active) = (w.name.clone(), w.url.clone(), w.active);
                                view! {
                                    <tr>
                                        <td>{name}</td>
                                        <td class="mono">{url}</td>
                                        <td>{if active { "Yes" } else { "No" }}</td>
                                        <td>{created}</td>
                                        <td class="actions">
                                            <RemoveButton removal=removal item=w.clone() />
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </DataTable>
                }
            },
        )}
        <form class="card form" on:submit=on_submit novalidate>
            <h3 class="card-title">"Add webhook"</h3>
            <FormBanner banner=banner />
            <div class="form-grid">
                <TextField id="hook-name" label="Name" value=name errors=errors field="name" required=true />
                <TextField id="hook-url" label="URL" value=url errors=errors field="url" kind="url" required=true />
            </div>
            <TextField
                id="hook-secret"
                label="Secret"
                value=secret
                errors=errors
                field="secret"
                kind="password"
                autocomplete="new-password"
                hint="16–200 characters; signs each delivery. It cannot be read back."
                required=true
            />
            <FormActions pending=pending label="Add webhook" busy="Adding…" />
        </form>
        <h2 class="subhead">"Recent deliveries"</h2>
        {loaded_list(
            deliveries,
            2,
            || view! { <Empty title="No deliveries yet" /> },
            |list| {
                view! {
                    <DataTable columns=&[
                            Col::Text("Time"), Col::Text("Channel"), Col::Text("Target"),
                            Col::Text("Status"), Col::Num("Attempts"), Col::Text("Last error")
                        ] compact=true>
                        {list
                            .into_iter()
                            .map(|d| {
                                view! {
                                    <tr>
                                        <td>{datetime(&d.updated_at)}</td>
                                        <td>{d.channel}</td>
                                        <td class="mono">{d.target}</td>
                                        <td>{delivery_badge(d.status)}</td>
                                        <td class="num">{d.attempts}</td>
                                        <td>{d.last_error.unwrap_or_else(|| "—".into())}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </DataTable>
                }
            },
        )}
        {removal
            .dialog(
                "Delete webhook",
                |w| {
                    (
                        format!("Delete webhook {}?", w.name),
                        format!("Notifications will no longer be posted to {}.", w.url),
                    )
                },
                delete,
            )}
    }
}
