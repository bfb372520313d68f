//! Managed resources: the list of the team's resources (and the technical agents' queue of
//! those to set up by hand), the request form built from the type's recipe, and the page of one
//! resource with its connection, live recipe log and the actions its status allows.

mod backups;
mod detail;
mod form;
mod resize;

pub use detail::ResourcePage;

use crate::components::list::{paged_list, paged_remote, FilterSelect, NewButton, PageHeader};
use crate::components::modal::DialogWhile;
use crate::components::table::{Col, DataTable};
use crate::format::{datetime, person, relative};
use crate::session::use_session;
use form::NewResourceForm;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::resources::{Resource, ResourceStatus};
use shared::Permission;

const PER_PAGE: u64 = 20;

#[component]
pub fn ResourceStatusBadge(status: ResourceStatus) -> impl IntoView {
    let tone = match status {
        ResourceStatus::Pending | ResourceStatus::AwaitingFulfilment => "req-pending",
        ResourceStatus::Provisioning | ResourceStatus::Updating | ResourceStatus::Deleting => {
            "req-provisioning"
        }
        ResourceStatus::Ready => "req-deployed",
        ResourceStatus::Failed | ResourceStatus::Rejected => "req-failed",
        ResourceStatus::Cancelled | ResourceStatus::Deleted => "req-cancelled",
    };
    view! {
        <span class=format!("badge req {tone}") data-status=status.as_str()>
            {status.label()}
        </span>
    }
}

#[component]
pub fn ResourcesPage() -> impl IntoView {
    let navigate = use_navigate();
    let session = use_session();
    let status = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let creating = RwSignal::new(false);
    let resources = paged_remote::<Resource>("/api/resources", page, PER_PAGE, move || {
        vec![("status", status.get())]
    });
    let on_created = Callback::new(move |r: Resource| {
        creating.set(false);
        navigate(&format!("/resources/{}", r.id), Default::default());
    });
    let fulfils = session.can(Permission::ResourcesFulfil);
    let asks = session.can(Permission::RequestsCreate);
    view! {
        <section class="page">
            <PageHeader
                title="Resources"
                description="Databases, storage and clusters your teams asked for, and how to reach them."
            >
                {asks.then(|| view! {
                    <NewButton label="Request a resource" on_click=move |_| creating.set(true) testid="new-resource" />
                })}
            </PageHeader>
            <div class="toolbar">
                <FilterSelect id="resource-status-filter" label="Status" value=status page=page>
                    <option value="">"Any status but deleted"</option>
                    {ResourceStatus::ALL
                        .into_iter()
                        .map(|s| view! { <option value=s.as_str()>{s.label()}</option> })
                        .collect_view()}
                </FilterSelect>
                {fulfils.then(|| view! {
                    <button
                        type="button"
                        class="btn btn-ghost btn-sm"
                        data-testid="fulfil-queue"
                        on:click=move |_| {
                            page.set(1);
                            status.set(ResourceStatus::AwaitingFulfilment.as_str().into());
                        }
                    >
                        "Waiting to be set up by hand"
                    </button>
                })}
            </div>
            {paged_list(
                resources,
                page,
                ("resource", "resources"),
                move || {
                    if status.get().is_empty() {
                        (
                            "No resources yet",
                            "Ask for a database, storage or a cluster with “Request a resource”: it goes to your team's approvers, then Provisio sets it up on your server.",
                        )
                    } else {
                        ("No resources in this status", "Choose another status.")
                    }
                },
                |items| view! { <ResourceTable items=items /> },
            )}
            <DialogWhile open=creating title="Request a resource" wide=true>
                <NewResourceForm on_done=on_created on_cancel=move |_| creating.set(false) />
            </DialogWhile>
        </section>
    }
}

#[component]
fn ResourceTable(items: Vec<Resource>) -> impl IntoView {
    let columns = vec![
        Col::Text("Name"),
        Col::Text("Type"),
        Col::Text("Team"),
        Col::Text("Server"),
        Col::Text("Requested by"),
        Col::Text("Status"),
        Col::Text("Created"),
    ];
    let rows = items
        .into_iter()
        .map(|r| {
            let created = r.created_at;
            view! {
                <tr>
                    <td>
                        <A href=format!("/resources/{}", r.id)>{r.name}</A>
                    </td>
                    <td>{r.resource_type.name}</td>
                    <td>{r.team.name}</td>
                    <td>{match (r.server, r.server_request) {
                        (Some(s), _) => s.name,
                        (None, Some(q)) => format!("{} (new)", q.hostname),
                        (None, None) => "—".into(),
                    }}</td>
                    <td>{person(&r.requested_by)}</td>
                    <td><ResourceStatusBadge status=r.status /></td>
                    <td title=datetime(&created)>{relative(&created)}</td>
                </tr>
            }
        })
        .collect_view();
    view! { <DataTable columns=columns>{rows}</DataTable> }
}
