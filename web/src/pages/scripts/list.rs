//! The scripts list.

use crate::components::list::{paged_list, paged_remote, PageHeader, SearchBar};
use crate::components::table::{Col, DataTable};
use crate::format::{datetime, relative};
use crate::search::use_search;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::scripts::ScriptSummary;

const PER_PAGE: u64 = 20;

#[component]
pub fn ScriptsPage() -> impl IntoView {
    let q = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let scripts =
        paged_remote::<ScriptSummary>("/api/scripts", page, PER_PAGE, move || vec![("q", q.get())]);
    let search = use_search(q, page);

    view! {
        <section class="page">
            <PageHeader
                title="Scripts"
                description="Ansible playbooks with typed variables, versioned and run on your servers."
            >
                <A href="/scripts/new" attr:class="btn btn-primary" attr:data-testid="script-new">
                    <span aria-hidden="true">"+ "</span>
                    "New script"
                </A>
            </PageHeader>
            <SearchBar
                search=search
                id="script-search"
                label="Search scripts"
                placeholder="Name or description"
                name="q"
            />
            {paged_list(
                scripts,
                page,
                ("script", "scripts"),
                move || {
                    if q.with(String::is_empty) {
                        ("No scripts yet", "Write a playbook with “New script”, then run it on your servers.")
                    } else {
                        ("No scripts match", "Try another search term.")
                    }
                },
                |items| view! { <ScriptTable items=items /> },
            )}
        </section>
    }
}

#[component]
fn ScriptTable(items: Vec<ScriptSummary>) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|s| {
            let updated = s.updated_at;
            let row_name = s.name.clone();
            view! {
                <tr data-testid="script-row" data-name=row_name>
                    <td>
                        <A href=format!("/scripts/{}", s.id)>{s.name}</A>
                        {s.builtin.then(|| view! { <span class="badge badge-muted">"built-in"</span> })}
                        {(!s.description.is_empty())
                            .then(|| view! { <p class="muted small cell-desc">{s.description}</p> })}
                    </td>
                    <td>{s.team.name}</td>
                    <td class="num">{format!("v{}", s.version)}</td>
                    <td class="num">{s.variables}</td>
                    <td title=datetime(&updated)>{relative(&updated)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable columns=&[
                Col::Text("Name"), Col::Text("Team"), Col::Num("Version"), Col::Num("Variables"),
                Col::Text("Updated")
            ] testid="scripts-table">
            {rows}
        </DataTable>
    }
}
