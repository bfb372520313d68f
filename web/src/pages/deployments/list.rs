//! The deployments page: the figures, the search and the table.

use super::form::DeployForm;
use super::{framework_text, server_cell, url_cell, DeploymentBadge};
use crate::components::chart::{Bar, BarChart};
use crate::components::feedback::{Alert, Empty};
use crate::components::list::{
    paged_list, paged_remote, FilterSelect, NewButton, PageHeader, SearchBar,
};
use crate::components::modal::DialogWhile;
use crate::components::table::{Col, DataTable};
use crate::format::status_label;
use crate::format::{datetime, relative};
use crate::pages::projects::{framework_names, FrameworkNames};
use crate::remote::{poll, remote, Remote};
use crate::search::use_search;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::deployments::{Deployment, DeploymentStatus, Statistics};

const PER_PAGE: u64 = 20;

#[component]
pub fn DeploymentsPage() -> impl IntoView {
    let navigate = use_navigate();
    let q = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let creating = RwSignal::new(false);
    let deployments = paged_remote::<Deployment>("/api/deployments", page, PER_PAGE, move || {
        vec![("status", status.get()), ("q", q.get())]
    });
    let stats = remote::<Statistics>(|| "/api/statistics".into());
    let names = framework_names();
    let search = use_search(q, page);
    // A list with work under way is reloaded, and the figures with it.
    poll(deployments, 3, move |d| {
        let busy =
            matches!(d.get_untracked(), Some(Ok(p)) if p.items.iter().any(|x| x.status.is_busy()));
        if busy {
            stats.refetch();
        }
        busy
    });
    let filtered = move || !q.get().is_empty() || !status.get().is_empty();
    // Nothing deployed at all: the empty state carries the one call to action.
    let nothing =
        Memo::new(move |_| !filtered() && matches!(deployments.get(), Some(Ok(p)) if p.total == 0));
    // The header's button only once the list has answered: shown while loading, it jumped into
    // the empty state under the pointer of whoever reached for it.
    let listed = Memo::new(move |_| matches!(deployments.get(), Some(Ok(_))) && !nothing.get());
    let open = Callback::new(move |_| creating.set(true));
    let on_created = Callback::new(move |d: Deployment| {
        creating.set(false);
        navigate(&format!("/deployments/{}", d.id), Default::default());
    });

    view! {
        <section class="page">
            <PageHeader
                title="Deployments"
                description="Apps deployed from your projects onto your servers, and how they are doing."
            >
                {move || {
                    listed
                        .get()
                        .then(|| view! { <NewButton label="Deploy an app" testid="deployment-new" on_click=open /> })
                }}
            </PageHeader>
            {move || (!nothing.get()).then(|| view! { <StatsSection stats=stats names=names /> })}
            {move || {
                (!nothing.get())
                    .then(|| {
                        view! {
                            <SearchBar
                                search=search
                                id="deployment-search"
                                label="Search deployments"
                                placeholder="Part of the name"
                                name="q"
                            >
                                <FilterSelect
                                    id="deployment-status-filter"
                                    label="Status"
                                    name="status"
                                    value=status
                                    page=page
                                >
                                    <option value="">"Any but deleted"</option>
                                    {DeploymentStatus::ALL
                                        .into_iter()
                                        .map(|s| view! { <option value=s.as_str()>{status_label(s.as_str())}</option> })
                                        .collect_view()}
                                </FilterSelect>
                            </SearchBar>
                        }
                    })
            }}
            {move || {
                if nothing.get() {
                    view! {
                        <Empty
                            icon="⇪"
                            testid="deployments-empty"
                            title="No deployments yet"
                            hint="Deploy an app from a project or a Git URL onto one of your running servers."
                        >
                            <button
                                type="button"
                                class="btn btn-primary"
                                data-testid="deployment-new"
                                on:click=move |_| open.run(())
                            >
                                "Deploy an app"
                            </button>
                        </Empty>
                    }
                        .into_any()
                } else {
                    paged_list(
                            deployments,
                            page,
                            ("deployment", "deployments"),
                            || ("No deployments match", "Try another name or status."),
                            move |items| view! { <DeploymentTable items=items names=names /> },
                        )
                        .into_any()
                }
            }}
            <DialogWhile open=creating title="Deploy an app" wide=true>
                <DeployForm on_done=on_created on_cancel=move |_| creating.set(false) />
            </DialogWhile>
        </section>
    }
}

#[component]
fn Stat(label: &'static str, value: String, hint: String, testid: &'static str) -> impl IntoView {
    view! {
        <div class="card stat" data-testid=testid>
            <span class="stat-label">{label}</span>
            <span class="stat-value">{value}</span>
            <span class="stat-hint muted">{hint}</span>
        </div>
    }
}

#[component]
fn StatsSection(stats: Remote<Statistics>, names: FrameworkNames) -> impl IntoView {
    move || {
        match stats.get() {
        None => view! {
            <div class="stats" aria-hidden="true">
                {(0..4).map(|_| view! { <div class="card stat skeleton-card"></div> }).collect_view()}
            </div>
        }
        .into_any(),
        Some(Err(e)) => view! {
            <Alert message=format!("The figures could not be loaded: {}", e.message()) />
        }
        .into_any(),
        Some(Ok(s)) => {
            // Rounded to whole percents: no float formatting in the wasm.
            let rate = s
                .success_rate
                .map(|r| format!("{}%", r.clamp(0.0, 100.0).round() as u64))
                .unwrap_or_else(|| "—".into());
            let rate_hint = if s.success_rate.is_some() {
                "of the pipelines that ended"
            } else {
                "no pipeline has ended yet"
            };
            let chart = (!s.by_framework.is_empty()).then(|| {
                let bars: Vec<Bar> = s
                    .by_framework
                    .iter()
                    .map(|f| Bar {
                        label: if f.framework.is_empty() {
                            "not detected yet".into()
                        } else {
                            names
                                .with(|n| n.get(&f.framework).cloned())
                                .unwrap_or_else(|| f.framework.clone())
                        },
                        value: f.total,
                        class: "bar-deployed",
                    })
                    .collect();
                view! {
                    <div class="card" data-testid="deployments-by-framework">
                        <h2 class="card-title">"Deployments by framework"</h2>
                        <BarChart title="Deployments by framework" bars=bars />
                    </div>
                }
            });
            view! {
                <div class="stats" data-testid="deployment-stats">
                    <Stat
                        label="Total"
                        value=s.total.to_string()
                        hint=format!("{} active", s.active)
                        testid="stat-total"
                    />
                    <Stat
                        label="Running"
                        value=s.running.to_string()
                        hint="serving their app".into()
                        testid="stat-running"
                    />
                    <Stat
                        label="Failed"
                        value=s.failed.to_string()
                        hint="need a look or a redeploy".into()
                        testid="stat-failed"
                    />
                    <Stat label="Success rate" value=rate hint=rate_hint.into() testid="stat-success-rate" />
                </div>
                {chart}
            }
            .into_any()
        }
    }
    }
}

#[component]
fn DeploymentTable(items: Vec<Deployment>, names: FrameworkNames) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|d| {
            let row_name = d.name.clone();
            let server = server_cell(&d);
            let updated = d.updated_at;
            view! {
                <tr data-testid="deployment-row" data-name=row_name>
                    <td>
                        <A href=format!("/deployments/{}", d.id)>{d.name}</A>
                    </td>
                    <td>{framework_text(names, d.framework)}</td>
                    <td>
                        <DeploymentBadge status=d.status />
                    </td>
                    <td>{server}</td>
                    <td class="cell-desc">{url_cell(d.status, d.url)}</td>
                    <td class="nowrap" title=datetime(&updated)>
                        {relative(&updated)}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable
            columns=&[
                Col::Text("Name"), Col::Text("Framework"), Col::Text("Status"), Col::Text("Server"),
                Col::Text("URL"), Col::Text("Updated")
            ]
            testid="deployments-table"
        >
            {rows}
        </DataTable>
    }
}
