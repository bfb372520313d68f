//! Provider accounts and what their catalogs offer (read-only).

use crate::components::feedback::{Empty, ErrorBanner, SkeletonRows};
use crate::format::{date, money, size};
use crate::remote::remote;
use leptos::prelude::*;
use shared::requests::ProviderAccount;

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
        </section>
    }
}
