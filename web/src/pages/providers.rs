//! Provider accounts and what their catalogs offer (read-only).

use crate::api::{self, ApiErrorView};
use crate::components::feedback::{use_toasts, Empty, ErrorBanner, SkeletonRows};
use crate::components::form::{apply_problem, Errors, FormActions, FormBanner, TextField};
use crate::components::modal::ConfirmDialog;
use crate::format::{date, datetime, money, size};
use crate::remote::remote;
use crate::task;
use leptos::prelude::*;
use shared::requests::{CreateWebhook, Delivery, ProviderAccount, Webhook};
use shared::validation::FieldErrors;

fn chips(items: Vec<String>) -> impl IntoView {
    view! {
        <ul class="chip-list">
            {items.into_iter().map(|i| view! { <li class="chip">{i}</li> }).collect_view()}
        </ul>
    }
}

#[component]
fn AccountCard(account: ProviderAccount) -> impl IntoView {
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
    view! {
        <div class="card">
            <div class="card-title-row">
                <h2 class="card-title">{account.name}</h2>
                <span class="badge badge-muted">{account.kind.as_str()}</span>
            </div>
            <dl class="details">
                <dt>"Endpoint"</dt>
                <dd class="mono">
                    {if account.endpoint.is_empty() { "default".to_string() } else { account.endpoint }}
                </dd>
                <dt>"Currency"</dt>
                <dd>{c.currency.clone()}</dd>
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
        </div>
    }
}

#[component]
pub fn ProvidersPage() -> impl IntoView {
    let accounts = remote::<Vec<ProviderAccount>>(|| "/api/provider-accounts".into());
    let retry = Callback::new(move |_| accounts.refetch());
    view! {
        <section class="page">
            <header class="page-header">
                <div>
                    <h1>"Providers"</h1>
                    <p class="muted">"Infrastructure accounts servers are provisioned on, and their catalogs."</p>
                </div>
            </header>
            {move || match accounts.get() {
                None => view! { <SkeletonRows /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(list)) if list.is_empty() => {
                    view! {
                        <Empty
                            title="No provider accounts yet"
                            hint="Add one through the API; see the API documentation."
                        />
                    }
                        .into_any()
                }
                Some(Ok(list)) => {
                    view! {
                        <div class="grid-2">
                            {list.into_iter().map(|a| view! { <AccountCard account=a /> }).collect_view()}
                        </div>
                    }
                        .into_any()
                }
            }}
            <Webhooks />
        </section>
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
    let retry = Callback::new(move |_| hooks.refetch());
    let retry_deliveries = Callback::new(move |_| deliveries.refetch());

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

    let deleting = RwSignal::new(None::<Webhook>);
    let delete_pending = RwSignal::new(false);
    let delete_error = RwSignal::new(None::<ApiErrorView>);
    let delete = move |w: Webhook| {
        task::run(
            delete_pending,
            async move { api::delete(&format!("/api/webhooks/{}", w.id)).await },
            move |result| match result {
                Ok(()) => {
                    toasts.success("Webhook deleted");
                    deleting.set(None);
                    hooks.refetch();
                }
                Err(e) => delete_error.set(Some(e)),
            },
        );
    };

    view! {
        <h2 class="subhead">"Webhooks"</h2>
        {move || match hooks.get() {
            None => view! { <SkeletonRows rows=2 /> }.into_any(),
            Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
            Some(Ok(list)) if list.is_empty() => {
                view! { <Empty title="No webhooks yet" hint="Add one below to receive notifications." /> }.into_any()
            }
            Some(Ok(list)) => {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"URL"</th>
                                    <th scope="col">"Active"</th>
                                    <th scope="col">"Created"</th>
                                    <th scope="col">
                                        <span class="sr-only">"Actions"</span>
                                    </th>
                                </tr>
                            </thead>
                            <tbody>
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
                                                    <button
                                                        type="button"
                                                        class="btn btn-danger-ghost btn-sm"
                                                        on:click=move |_| {
                                                            delete_error.set(None);
                                                            deleting.set(Some(w.clone()));
                                                        }
                                                    >
                                                        "Delete"
                                                    </button>
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }
        }}
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
        {move || match deliveries.get() {
            None => view! { <SkeletonRows rows=2 /> }.into_any(),
            Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry_deliveries /> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! { <Empty title="No deliveries yet" /> }.into_any(),
            Some(Ok(list)) => {
                view! {
                    <div class="table-wrap">
                        <table class="table table-compact">
                            <thead>
                                <tr>
                                    <th scope="col">"Time"</th>
                                    <th scope="col">"Channel"</th>
                                    <th scope="col">"Target"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col" class="num">"Attempts"</th>
                                    <th scope="col">"Last error"</th>
                                </tr>
                            </thead>
                            <tbody>
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
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }
        }}
        {move || {
            deleting
                .get()
                .map(|w| {
                    view! {
                        <ConfirmDialog
                            title=format!("Delete webhook {}?", w.name)
                            message=format!("Notifications will no longer be posted to {}.", w.url)
                            confirm_label="Delete webhook"
                            on_confirm=move |_| delete(w.clone())
                            on_cancel=move |_| deleting.set(None)
                            pending=delete_pending
                            error=delete_error
                        />
                    }
                })
        }}
    }
}
