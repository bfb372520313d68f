//! What a provider account reports: its machines, and the sync that imports them.

use crate::api::{self, ApiErrorView};
use crate::components::feedback::{use_toasts, Alert, Empty, ErrorBanner, Loading};
use crate::components::form::{Errors, Select};
use crate::components::table::{Col, DataTable};
use crate::format::server_size;
use crate::pages::servers::ServerBadge;
use crate::remote::remote;
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::dto::{Page, Team};
use shared::providers::ProviderAccount;
use shared::servers::{RemoteServer, SyncChange, SyncReport, SyncRequest};
use shared::validation::FieldErrors;
use uuid::Uuid;

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
pub(super) fn Resources(account: ProviderAccount) -> impl IntoView {
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
pub(super) fn SyncPanel(
    account: ProviderAccount,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
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
