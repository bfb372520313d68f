//! Which servers and deployments of the client's team a subscription is for, ticked on its own
//! page: the margin counts the linked servers' catalog prices, and expiry powers them off.

use super::detail::Shown;
use super::form::SubscriptionDraft;
use crate::api::{self, ApiErrorView};
use crate::components::feedback::{use_toasts, ErrorBanner, Loading};
use crate::remote::{remote, Remote};
use crate::task;
use leptos::prelude::*;
use shared::billing::{LinkTarget, Linkable, SubscriptionDetail};
use std::collections::BTreeSet;
use uuid::Uuid;

fn choices(
    testid: &'static str,
    items: Vec<LinkTarget>,
    picked: RwSignal<BTreeSet<Uuid>>,
    empty: &'static str,
) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="muted small">{empty}</p> }.into_any();
    }
    view! {
        <ul class="pick-list" data-testid=testid>
            {items
                .into_iter()
                .map(|item| {
                    let id = item.id;
                    view! {
                        <li>
                            <label class="check">
                                <input
                                    type="checkbox"
                                    prop:checked=move || picked.with(|p| p.contains(&id))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        picked.update(|p| {
                                            if on { p.insert(id); } else { p.remove(&id); }
                                        });
                                    }
                                />
                                {item.name}
                                <span class="muted small">{item.status}</span>
                            </label>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
pub(super) fn SubscriptionLinks(
    shown: Shown,
    remote_detail: Remote<SubscriptionDetail>,
) -> impl IntoView {
    let toasts = use_toasts();
    let id = Memo::new(move |_| shown.with(|d| d.as_ref().map(|d| d.subscription.id)));
    let linkable: Remote<Linkable> = remote(move || {
        id.get()
            .map(|id| format!("/api/subscriptions/{id}/linkable"))
            .unwrap_or_default()
    });
    let servers = RwSignal::new(BTreeSet::<Uuid>::new());
    let deployments = RwSignal::new(BTreeSet::<Uuid>::new());
    Effect::new(move |_| {
        if let Some(Ok(found)) = linkable.get() {
            servers.set(
                found
                    .servers
                    .iter()
                    .filter(|t| t.linked)
                    .map(|t| t.id)
                    .collect(),
            );
            deployments.set(
                found
                    .deployments
                    .iter()
                    .filter(|t| t.linked)
                    .map(|t| t.id)
                    .collect(),
            );
        }
    });
    let saving = RwSignal::new(false);
    let failed = RwSignal::new(None::<ApiErrorView>);
    let save = move |_| {
        let Some(d) = shown.get_untracked() else {
            return;
        };
        let s = d.subscription;
        let mut draft = SubscriptionDraft::from_dto(&s);
        draft.server_ids = servers.get_untracked().into_iter().collect();
        draft.deployment_ids = deployments.get_untracked().into_iter().collect();
        let body = match draft.to_request(s.client_id, chrono::Local::now().date_naive()) {
            Ok(body) => body,
            Err(problems) => {
                toasts.error(
                    problems
                        .into_values()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" "),
                );
                return;
            }
        };
        failed.set(None);
        let sid = s.id;
        task::run(
            saving,
            async move {
                api::put::<_, SubscriptionDetail>(&format!("/api/subscriptions/{sid}"), &body).await
            },
            move |result| match result {
                Ok(saved) => {
                    toasts.success("Links saved");
                    remote_detail.set(saved);
                    linkable.refetch();
                }
                Err(e) => failed.set(Some(e)),
            },
        );
    };
    view! {
        <div class="card" data-testid="subscription-links">
            <h2 class="card-title">"What it pays for"</h2>
            <p class="muted small">
                "The team's servers and deployments this subscription covers: their catalog prices make its cost, and they are powered off when it expires unpaid."
            </p>
            {move || match linkable.get() {
                None => view! { <Loading label="Loading the team's servers…" /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e /> }.into_any(),
                Some(Ok(found)) => view! {
                    <h3 class="subhead">"Servers"</h3>
                    {choices("link-servers", found.servers, servers, "The team has no servers yet.")}
                    <h3 class="subhead">"Deployments"</h3>
                    {choices("link-deployments", found.deployments, deployments, "The team has no deployments yet.")}
                    <button
                        type="button"
                        class="btn btn-primary btn-sm"
                        data-testid="links-save"
                        disabled=move || saving.get()
                        on:click=save
                    >
                        {move || if saving.get() { "Saving…" } else { "Save links" }}
                    </button>
                }
                .into_any(),
            }}
            {move || failed.get().map(|e| view! { <ErrorBanner error=e /> })}
        </div>
    }
}
