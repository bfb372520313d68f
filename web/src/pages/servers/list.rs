//! The server inventory with its filters, and the status badge its rows show.

use super::form::RegisterForm;
use super::labels::label_chips;
use crate::components::list::{
    paged_list, paged_remote, FilterSelect, NewButton, PageHeader, SearchBar,
};
use crate::components::modal::Modal;
use crate::components::table::{Col, DataTable};
use crate::format::server_size;
use crate::format::status_label;
use crate::remote::remote;
use crate::search::use_search;
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::providers::ProviderAccount;
use shared::roles::Permission;
use shared::servers::{Server, ServerDetail, ServerStatus};

const PER_PAGE: u64 = 20;

/// Badge colours shared with the request statuses.
fn server_tone(status: ServerStatus) -> &'static str {
    match status {
        ServerStatus::Running => "deployed",
        ServerStatus::Provisioning => "provisioning",
        ServerStatus::Deleting => "pending",
        ServerStatus::Error => "failed",
        ServerStatus::Stopped | ServerStatus::Deleted | ServerStatus::Unknown => "cancelled",
    }
}

#[component]
pub fn ServerBadge(status: ServerStatus) -> impl IntoView {
    view! {
        <span
            class=format!("badge req req-{}", server_tone(status))
            data-testid="server-status"
            data-status=status.as_str()
        >
            {status_label(status.as_str())}
        </span>
    }
}

#[component]
pub fn ServersPage() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let q = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let provider = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let registering = RwSignal::new(false);

    let servers = paged_remote::<Server>("/api/servers", page, PER_PAGE, move || {
        vec![
            ("status", status.get()),
            ("provider_account_id", provider.get()),
            ("q", q.get()),
        ]
    });
    let accounts = remote::<Vec<ProviderAccount>>(|| "/api/provider-accounts".into());
    let search = use_search(q, page);
    let can_operate = move || session.can(Permission::ServersOperate);
    let filtered =
        move || !q.get().is_empty() || !status.get().is_empty() || !provider.get().is_empty();
    let on_registered = Callback::new(move |d: ServerDetail| {
        registering.set(false);
        navigate(&format!("/servers/{}", d.server.id), Default::default());
    });

    view! {
        <section class="page">
            <PageHeader
                title="Servers"
                description="The machines Provisio manages, where they run and their state."
            >
                {move || {
                    can_operate()
                        .then(|| {
                            view! {
                                <NewButton
                                    label="Register SSH host"
                                    testid="server-register"
                                    on_click=move |_| registering.set(true)
                                />
                            }
                        })
                }}
            </PageHeader>
            <SearchBar
                search=search
                id="server-search"
                label="Search servers"
                placeholder="Name, provider id or IP address"
                name="q"
            >
                <FilterSelect id="server-status-filter" label="Status" name="status" value=status page=page>
                    <option value="">"Any but deleted"</option>
                    {ServerStatus::ALL
                        .into_iter()
                        .map(|s| view! { <option value=s.as_str()>{status_label(s.as_str())}</option> })
                        .collect_view()}
                </FilterSelect>
                <FilterSelect
                    id="server-provider-filter"
                    label="Provider"
                    name="provider_account_id"
                    value=provider
                    page=page
                >
                    <option value="">"Any provider"</option>
                    {move || match accounts.get() {
                        Some(Ok(list)) => {
                            let current = provider.get_untracked();
                            list.into_iter()
                                .map(|a| {
                                    let id = a.id.to_string();
                                    let selected = id == current;
                                    view! {
                                        <option value=id selected=selected>
                                            {a.name}
                                        </option>
                                    }
                                })
                                .collect_view()
                                .into_any()
                        }
                        _ => ().into_any(),
                    }}
                </FilterSelect>
            </SearchBar>
            {paged_list(
                servers,
                page,
                ("server", "servers"),
                move || {
                    if filtered() {
                        ("No servers match", "Try another search term, status or provider.")
                    } else {
                        (
                            "No servers yet",
                            "Approved requests appear here once provisioned; admins can import from a provider.",
                        )
                    }
                },
                |items| view! { <ServerTable items=items /> },
            )}
            {move || {
                registering
                    .get()
                    .then(|| {
                        view! {
                            <Modal title="Register SSH host" on_close=move |_| registering.set(false) wide=true>
                                <RegisterForm on_done=on_registered on_cancel=move |_| registering.set(false) />
                            </Modal>
                        }
                    })
            }}
        </section>
    }
}

#[component]
fn ServerTable(items: Vec<Server>) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|s| {
            let id = s.id;
            let size = server_size(s.cpu, s.ram_mb, s.disk_gb);
            let chips = label_chips(&s.labels);
            view! {
                <tr data-testid="server-row" data-id=id.to_string()>
                    <td>
                        <A href=format!("/servers/{id}")>{s.name}</A>
                    </td>
                    <td>
                        <ServerBadge status=s.status />
                    </td>
                    <td>{s.provider.name}</td>
                    <td>{s.team.name}</td>
                    <td class="mono">
                        <span data-testid="server-ipv4">{s.ipv4.unwrap_or_else(|| "—".into())}</span>
                        {s.ipv6.map(|v6| view! { <span class="muted small ip6">{v6}</span> })}
                    </td>
                    <td class="nowrap">{size}</td>
                    <td>{s.origin.as_str()}</td>
                    <td>{chips}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable columns=&[
                Col::Text("Name"), Col::Text("Status"), Col::Text("Provider"), Col::Text("Team"),
                Col::Text("Address"), Col::Text("Size"), Col::Text("Origin"), Col::Text("Labels")
            ] testid="servers-table">
            {rows}
        </DataTable>
    }
}
