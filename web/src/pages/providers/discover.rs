//! Setting up an account from the provider itself: the connection test, then what the provider
//! offers (nodes or locations, templates or images, server types, storages and bridges), ticked
//! by the admin and written into the form's catalogue instead of typed by hand.

use super::list::ConnectionChecks;
use crate::api::{self, ApiErrorView};
use crate::components::feedback::{ErrorBanner, Loading};
use crate::format::{money, size};
use crate::task;
use leptos::prelude::*;
use shared::providers::discovery::{
    CatalogDiscovery, DiscoverCatalog, DiscoveredCatalog, ImageKind, Offer, Picked,
};

/// What the form takes from the provider when the admin applies the ticked items.
#[derive(Clone)]
pub(super) struct Applied {
    pub offer: Offer,
    pub storage: Option<String>,
    pub bridge: Option<String>,
    pub found: DiscoveredCatalog,
}

fn image_kind(kind: ImageKind) -> &'static str {
    match kind {
        ImageKind::VmTemplate => "VM template",
        ImageKind::ContainerTemplate => "LXC template",
        ImageKind::SystemImage => "image",
    }
}

/// A ticked set of names, one checkbox each.
fn ticks(
    testid: &'static str,
    items: Vec<(String, String)>,
    picked: RwSignal<Picked>,
    of: fn(&mut Picked) -> &mut std::collections::BTreeSet<String>,
) -> impl IntoView {
    view! {
        <ul class="pick-list" data-testid=testid>
            {items
                .into_iter()
                .map(|(key, label)| {
                    let k = key.clone();
                    let checked = move || of(&mut picked.get()).contains(&k);
                    let k2 = key.clone();
                    view! {
                        <li>
                            <label class="check">
                                <input
                                    type="checkbox"
                                    value=key
                                    prop:checked=checked
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        picked.update(|p| {
                                            let set = of(p);
                                            if on { set.insert(k2.clone()); } else { set.remove(&k2); }
                                        });
                                    }
                                />
                                {label}
                            </label>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
pub(super) fn DiscoverPanel(
    /// The account as typed so far (credentials, or the stored ones when editing).
    draft: Callback<(), DiscoverCatalog>,
    on_apply: Callback<Applied>,
) -> impl IntoView {
    let running = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<CatalogDiscovery, ApiErrorView>>);
    let picked = RwSignal::new(Picked::default());
    let storage = RwSignal::new(String::new());
    let bridge = RwSignal::new(String::new());
    let applied = RwSignal::new(false);
    let run = move |_| {
        let body = draft.run(());
        result.set(None);
        applied.set(false);
        task::run(
            running,
            async move {
                api::post::<_, CatalogDiscovery>("/api/provider-accounts/discover", &body).await
            },
            move |r: Result<CatalogDiscovery, ApiErrorView>| {
                if let Ok(CatalogDiscovery {
                    catalog: Some(found),
                    ..
                }) = &r
                {
                    picked.set(Picked::all(found));
                    storage.set(found.storages.first().cloned().unwrap_or_default());
                    bridge.set(found.bridges.first().cloned().unwrap_or_default());
                }
                result.set(Some(r));
            },
        );
    };
    let offered = move |found: DiscoveredCatalog| {
        let currency = found.currency.clone().unwrap_or_else(|| "EUR".into());
        let locations: Vec<(String, String)> = found
            .locations
            .iter()
            .map(|l| (l.name.clone(), format!("{} — {}", l.name, l.description)))
            .collect();
        let images: Vec<(String, String)> = found
            .images
            .iter()
            .map(|i| {
                (
                    i.reference.clone(),
                    format!(
                        "{} — {} {}",
                        i.suggested_name,
                        image_kind(i.kind),
                        i.reference
                    ),
                )
            })
            .collect();
        let types: Vec<(String, String)> = found
            .server_types
            .iter()
            .map(|t| {
                let price = t
                    .monthly_price_cents
                    .map(|c| format!(", {} a month", money(c, &currency)))
                    .unwrap_or_default();
                (
                    t.name.clone(),
                    format!("{} — {}{price}", t.name, size(t.cpu, t.ram_mb, t.disk_gb)),
                )
            })
            .collect();
        let choose = |id: &'static str,
                      label: &'static str,
                      options: Vec<String>,
                      value: RwSignal<String>| {
            (!options.is_empty()).then(|| {
                view! {
                    <label class="field" for=id>
                        <span class="field-label">{label}</span>
                        <select
                            id=id
                            class="input"
                            prop:value=move || value.get()
                            on:change=move |ev| value.set(event_target_value(&ev))
                        >
                            {options.into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                }
            })
        };
        let storages = found.storages.clone();
        let bridges = found.bridges.clone();
        let for_apply = found.clone();
        let apply = move |_| {
            let found = for_apply.clone();
            let text = |s: String| (!s.is_empty()).then_some(s);
            on_apply.run(Applied {
                offer: found.offer(&picked.get_untracked()),
                storage: text(storage.get_untracked()),
                bridge: text(bridge.get_untracked()),
                found,
            });
            applied.set(true);
        };
        view! {
            <div class="discovered" data-testid="discovered">
                <h4 class="subhead">"Locations"</h4>
                {ticks("discovered-locations", locations, picked, |p| &mut p.locations)}
                <h4 class="subhead">"Images and templates"</h4>
                {if images.is_empty() {
                    view! { <p class="muted">"The provider has no templates or images to offer; add one there first."</p> }.into_any()
                } else {
                    ticks("discovered-images", images, picked, |p| &mut p.images).into_any()
                }}
                {(!types.is_empty())
                    .then(|| {
                        view! {
                            <h4 class="subhead">"Server types"</h4>
                            {ticks("discovered-types", types, picked, |p| &mut p.server_types)}
                        }
                    })}
                <div class="form-grid">
                    {choose("discovered-storage", "Storage for disks", storages, storage)}
                    {choose("discovered-bridge", "Network bridge", bridges, bridge)}
                </div>
                <button type="button" class="btn btn-primary btn-sm" data-testid="discover-apply" on:click=apply>
                    "Offer the ticked items"
                </button>
                {move || applied.get().then(|| view! {
                    <p class="muted" role="status">"The catalogue below now offers them; set your prices, then save."</p>
                })}
            </div>
        }
    };
    view! {
        <fieldset class="field fieldset" data-testid="discover">
            <legend>"Catalogue from the provider"</legend>
            <p class="field-hint">
                "Tests the endpoint and token above, then lists what the provider has. Tick what requesters may order."
            </p>
            <button
                type="button"
                class="btn btn-secondary btn-sm"
                data-testid="discover-run"
                disabled=move || running.get()
                on:click=run
            >
                {move || if running.get() { "Reading…" } else { "Test and read the catalogue" }}
            </button>
            {move || running.get().then(|| view! { <Loading label="Asking the provider…" /> })}
            {move || match result.get() {
                Some(Ok(found)) => Some(view! {
                    <ConnectionChecks report=found.report />
                    {found.catalog.map(offered)}
                }.into_any()),
                Some(Err(e)) => Some(view! { <ErrorBanner error=e /> }.into_any()),
                None => None,
            }}
        </fieldset>
    }
}
