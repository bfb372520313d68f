//! The providers page: one card per account with its catalog and actions, and the dialogs
//! those actions open.

use super::form::AccountForm;
use super::kind_label;
use super::sync::{Resources, SyncPanel};
use crate::api::{self, ApiErrorView};
use crate::components::feedback::{use_toasts, Empty, ErrorBanner, Loading, SkeletonRows};
use crate::components::list::{NewButton, PageHeader};
use crate::components::modal::{ConfirmDialog, Modal};
use crate::format::{date, money, size};
use crate::remote::remote;
use crate::task;
use leptos::prelude::*;
use shared::providers::{ProviderAccount, ProviderKind};
use shared::servers::ConnectionReport;

fn chips(items: Vec<String>) -> impl IntoView {
    view! {
        <ul class="chip-list">
            {items.into_iter().map(|i| view! { <li class="chip">{i}</li> }).collect_view()}
        </ul>
    }
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
    let readiness = if account.ready {
        view! { <span class="badge badge-ok" data-testid="provider-ready">"Offered to requesters"</span> }.into_any()
    } else {
        let reason = account.not_ready_reason.clone().unwrap_or_default();
        view! {
            <p class="muted" data-testid="provider-not-ready">
                <span class="badge badge-warn">"Not offered to requesters"</span>
                " "
                {reason}
                {(!is_ssh).then_some(": fix it with Edit, or run Test connection.")}
            </p>
        }
        .into_any()
    };
    view! {
        <div class="card" data-testid="provider-card" data-name=card_name>
            <div class="card-title-row">
                <h2 class="card-title">{account.name}</h2>
                <span class="badge badge-muted" title=kind_label(account.kind)>
                    {account.kind.as_str()}
                </span>
            </div>
            {readiness}
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
pub(super) fn ConnectionChecks(report: ConnectionReport) -> impl IntoView {
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
        </section>
    }
}
