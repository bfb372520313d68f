//! The projects list.

use super::form::CreateForm;
use super::{
    busy, framework_label, framework_names, moment, short_sha, FrameworkNames, ProjectBadge,
};
use crate::components::feedback::Empty;
use crate::components::list::{loaded_list, NewButton, PageHeader};
use crate::components::modal::DialogWhile;
use crate::components::table::{Col, DataTable};
use crate::remote::{poll, remote};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::projects::{Project, ProjectDetail};
use uuid::Uuid;

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let navigate = use_navigate();
    let creating = RwSignal::new(false);
    let projects = remote::<Vec<Project>>(|| "/api/projects".into());
    let names = framework_names();
    poll(
        projects,
        5,
        |p| matches!(p.get_untracked(), Some(Ok(list)) if list.iter().any(|p| busy(&p.status))),
    );
    let on_created = Callback::new(move |(detail, execution): (ProjectDetail, Option<Uuid>)| {
        creating.set(false);
        let follow = execution
            .map(|e| format!("?execution={e}"))
            .unwrap_or_default();
        navigate(
            &format!("/projects/{}{follow}", detail.project.id),
            Default::default(),
        );
    });

    view! {
        <section class="page">
            <PageHeader
                title="Projects"
                description="Git repositories of your teams, kept in sync and ready to deploy."
            >
                <NewButton label="New project" testid="project-new" on_click=move |_| creating.set(true) />
            </PageHeader>
            {loaded_list(
                projects,
                4,
                || {
                    view! {
                        <Empty
                            title="No projects yet"
                            hint="Add a repository with “New project”: Provisio clones it and detects its framework."
                        />
                    }
                },
                move |items| view! { <ProjectTable items=items names=names /> },
            )}
            <DialogWhile open=creating title="New project" wide=true>
                <CreateForm on_done=on_created on_cancel=move |_| creating.set(false) />
            </DialogWhile>
        </section>
    }
}

#[component]
fn ProjectTable(items: Vec<Project>, names: FrameworkNames) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|p| {
            let row_name = p.name.clone();
            view! {
                <tr data-testid="project-row" data-name=row_name>
                    <td>
                        <A href=format!("/projects/{}", p.id)>{p.name}</A>
                    </td>
                    <td>{p.team.name}</td>
                    <td class="mono cell-desc">{p.url}</td>
                    <td class="mono">{super::branch_shown(p.default_branch)}</td>
                    <td>
                        <ProjectBadge status=p.status />
                    </td>
                    <td>{framework_label(names, p.detected_framework)}</td>
                    <td>
                        {match p.last_commit {
                            Some(c) => {
                                view! {
                                    {c.subject}
                                    " "
                                    <span class="mono muted small" title=c.sha.clone()>
                                        {short_sha(&c.sha)}
                                    </span>
                                }
                                    .into_any()
                            }
                            None => view! { <span class="muted">"—"</span> }.into_any(),
                        }}
                    </td>
                    <td class="nowrap">{moment(p.last_synced_at)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable columns=&[
                Col::Text("Name"), Col::Text("Team"), Col::Text("Repository"), Col::Text("Branch"),
                Col::Text("Status"), Col::Text("Framework"), Col::Text("Last commit"), Col::Text("Last synced")
            ] testid="projects-table">
            {rows}
        </DataTable>
    }
}
