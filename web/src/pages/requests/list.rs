//! The requests list with its filters, and the approvals queue.

use super::form::NewRequestForm;
use super::{act, req_size, RejectDialog, StatusBadge};
use crate::api::ApiErrorView;
use crate::components::feedback::{use_toasts, Empty, ErrorBanner, SkeletonRows};
use crate::components::list::{
    paged_list, paged_remote, FilterSelect, NewButton, PageHeader, SearchBar,
};
use crate::components::modal::DialogWhile;
use crate::components::table::{Col, DataTable};
use crate::format::status_label;
use crate::format::{datetime, estimate, person, relative};
use crate::remote::{remote, Remote};
use crate::search::use_search;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::dto::Page;
use shared::requests::{ServerRequest, ServerRequestDetail};
use shared::workflow::{RequestAction, RequestStatus};

const PER_PAGE: u64 = 20;

#[component]
pub fn RequestsPage() -> impl IntoView {
    let navigate = use_navigate();
    let q = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let creating = RwSignal::new(false);

    let requests = paged_remote::<ServerRequest>("/api/requests", page, PER_PAGE, move || {
        vec![("status", status.get()), ("q", q.get())]
    });
    let search = use_search(q, page);

    let on_created = Callback::new(move |d: ServerRequestDetail| {
        creating.set(false);
        navigate(&format!("/requests/{}", d.request.id), Default::default());
    });
    let filtered = move || !q.get().is_empty() || !status.get().is_empty();

    view! {
        <section class="page">
            <PageHeader title="Requests" description="Servers requested by your teams and where they stand.">
                <NewButton label="New request" on_click=move |_| creating.set(true) />
            </PageHeader>
            <SearchBar search=search id="request-search" label="Search requests" placeholder="Hostname or purpose">
                <FilterSelect id="request-status-filter" label="Status" value=status page=page>
                    <option value="">"Any status"</option>
                    {RequestStatus::ALL
                        .into_iter()
                        .map(|s| view! { <option value=s.as_str()>{status_label(s.as_str())}</option> })
                        .collect_view()}
                </FilterSelect>
            </SearchBar>
            {paged_list(
                requests,
                page,
                ("request", "requests"),
                move || {
                    if filtered() {
                        ("No requests match", "Try another search term or status.")
                    } else {
                        ("No requests yet", "Ask for a server with “New request”.")
                    }
                },
                |items| view! { <RequestTable items=items queue=None /> },
            )}
            <DialogWhile open=creating title="New request" wide=true>
                <NewRequestForm on_done=on_created on_cancel=move |_| creating.set(false) />
            </DialogWhile>
        </section>
    }
}

/// The request table; with `queue` (the approvals page) each row gets Approve and Reject.
#[component]
fn RequestTable(
    items: Vec<ServerRequest>,
    queue: Option<Remote<Page<ServerRequest>>>,
) -> impl IntoView {
    let toasts = use_toasts();
    let pending = RwSignal::new(false);
    let rejecting = RwSignal::new(None::<ServerRequest>);
    let after = move |verb: &'static str, result: Result<ServerRequestDetail, ApiErrorView>| {
        match result {
            Ok(d) => toasts.success(format!("{} {verb}", d.request.hostname)),
            Err(e) => toasts.error(e.message()),
        }
        if let Some(q) = queue {
            q.refetch();
        }
    };
    // The approvals queue has no status (all are pending) but the row's buttons.
    let mut columns = vec![
        Col::Text("Hostname"),
        Col::Text("Team"),
        Col::Text("Requester"),
        Col::Text("Size"),
        Col::Text("Estimated cost"),
    ];
    if queue.is_none() {
        columns.push(Col::Text("Status"));
    }
    columns.push(Col::Text("Created"));
    if queue.is_some() {
        columns.push(Col::Actions);
    }
    let rows = items
        .into_iter()
        .map(|r| {
            let id = r.id;
            let created = r.created_at;
            let buttons = queue.map(|_| {
                let for_reject = r.clone();
                view! {
                    <td class="actions">
                        <button
                            type="button"
                            class="btn btn-primary btn-sm"
                            disabled=move || pending.get()
                            on:click=move |_| act(pending, id, "approve", move |res| after("approved", res))
                        >
                            "Approve"
                        </button>
                        <button
                            type="button"
                            class="btn btn-danger-ghost btn-sm"
                            on:click=move |_| rejecting.set(Some(for_reject.clone()))
                        >
                            "Reject"
                        </button>
                    </td>
                }
            });
            let (who, sz, cost, status) = (
                person(&r.requester),
                req_size(&r),
                estimate(r.estimated_monthly.as_ref()),
                r.status,
            );
            view! {
                <tr>
                    <td>
                        <A href=format!("/requests/{id}")>{r.hostname}</A>
                    </td>
                    <td>{r.team.name}</td>
                    <td>{who}</td>
                    <td class="nowrap">{sz}</td>
                    <td class="num">{cost}</td>
                    {queue.is_none().then(|| view! { <td><StatusBadge status=status /></td> })}
                    <td title=datetime(&created)>{relative(&created)}</td>
                    {buttons}
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable columns=columns>{rows}</DataTable>
        {move || {
            rejecting
                .get()
                .map(|r| {
                    view! {
                        <RejectDialog
                            request=r
                            on_done=move |d: ServerRequestDetail| {
                                rejecting.set(None);
                                after("rejected", Ok(d));
                            }
                            on_cancel=move |_| rejecting.set(None)
                        />
                    }
                })
        }}
    }
}

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let queue =
        remote::<Page<ServerRequest>>(|| "/api/requests?status=pending&per_page=100".into());
    let retry = Callback::new(move |_| queue.refetch());
    view! {
        <section class="page">
            <PageHeader title="Approvals" description="Requests waiting for your decision." />
            {move || match queue.get() {
                None => view! { <SkeletonRows /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(p)) => {
                    let items: Vec<ServerRequest> = p
                        .items
                        .into_iter()
                        .filter(|r| r.allowed_actions.contains(&RequestAction::Approve))
                        .collect();
                    if items.is_empty() {
                        view! { <Empty title="Nothing waits for your approval" /> }.into_any()
                    } else {
                        view! { <RequestTable items=items queue=Some(queue) /> }.into_any()
                    }
                }
            }}
        </section>
    }
}
