//! The detail page of a project: its facts, branches, latest commits and the live log of a sync.

use super::{
    busy, framework_label, framework_names, moment, short_sha, FrameworkNames, ProjectBadge,
};
use crate::api;
use crate::components::feedback::{detail_body, use_toasts};
use crate::components::list::PageHeader;
use crate::components::log_panel::{push_line, LogPanel};
use crate::components::removal::{use_removal, Removal, RemoveButton};
use crate::components::table::{Col, DataTable};
use crate::format::{datetime, relative};
use crate::live::follow;
use crate::remote::{poll_every, use_detail, Detail, Remote};
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::projects::{Commit, Project, ProjectDetail};
use shared::servers::{Accepted, LogLine};
use std::time::Duration;
use uuid::Uuid;

/// How often an open project is reloaded while git works on it.
const SYNC_POLL: Duration = Duration::from_millis(1500);

type Shown = Memo<Option<ProjectDetail>>;

#[component]
pub fn ProjectPage() -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let query = use_query_map();
    let project_page = use_detail::<ProjectDetail>("/api/projects", |d| d.project.id);
    let Detail {
        id,
        remote: detail,
        shown,
        ..
    } = project_page;
    poll_every(
        detail,
        SYNC_POLL,
        |d| matches!(d.get_untracked(), Some(Ok(d)) if busy(&d.project.status)),
    );
    // The execution whose log is shown: the clone when coming from the form, then each sync.
    let execution = RwSignal::new(
        query.with_untracked(|q| q.get("execution").and_then(|e| e.parse::<Uuid>().ok())),
    );
    Effect::new(move |prev: Option<String>| {
        let current = id.get();
        if prev.is_some_and(|p| p != current) {
            execution.set(None);
        }
        current
    });
    let names = framework_names();
    let removal = use_removal::<Uuid>();
    let delete = move |project: Uuid| {
        let navigate = navigate.clone();
        removal.delete(format!("/api/projects/{project}"), move |_| {
            toasts.success("Project deleted");
            navigate("/projects", Default::default());
        });
    };

    view! {
        <section class="page">
            <A href="/projects" attr:class="back-link">
                "← Projects"
            </A>
            {detail_body(
                project_page,
                move |d| {
                        view! {
                            <ProjectHeader
                                project=d.project
                                shown=shown
                                detail=detail
                                execution=execution
                                removal=removal
                            />
                            <div class="grid-2">
                                <ProjectFacts shown=shown names=names />
                                <Branches shown=shown />
                            </div>
                            {move || {
                                execution
                                    .get()
                                    .map(|e| {
                                        view! {
                                            <SyncLog
                                                execution=e
                                                on_change=move |_| detail.refetch()
                                                on_close=move |_| execution.set(None)
                                            />
                                        }
                                    })
                            }}
                            <Commits shown=shown />
                        }
                },
            )}
            {removal
                .dialog(
                    "Delete project",
                    move |_| {
                        let name = shown
                            .with_untracked(|d| d.as_ref().map(|d| d.project.name.clone()).unwrap_or_default());
                        (
                            format!("Delete {name}?"),
                            "The project and its checkout on the Provisio server are deleted. The repository itself is not touched."
                                .into(),
                        )
                    },
                    delete,
                )}
        </section>
    }
}

#[component]
fn ProjectHeader(
    project: Project,
    shown: Shown,
    detail: Remote<ProjectDetail>,
    execution: RwSignal<Option<Uuid>>,
    removal: Removal<Uuid>,
) -> impl IntoView {
    let toasts = use_toasts();
    let pending = RwSignal::new(false);
    let project_id = project.id;
    let syncing =
        Memo::new(move |_| shown.with(|d| d.as_ref().is_some_and(|d| busy(&d.project.status))));
    let sync = move |_| {
        task::run(
            pending,
            async move {
                api::post_empty::<Accepted>(&format!("/api/projects/{project_id}/sync")).await
            },
            move |result| match result {
                Ok(a) => {
                    toasts.success("Sync started");
                    execution.set(Some(a.execution_id));
                    detail.refetch();
                }
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    view! {
        <PageHeader title=project.name description=format!("{} · {}", project.team.name, project.url)>
            <div class="actions">
                <A
                    href=format!("/deploy?project={project_id}")
                    attr:class="btn btn-primary"
                    attr:data-testid="project-deploy"
                >
                    "Deploy"
                </A>
                <button
                    type="button"
                    class="btn btn-ghost"
                    data-testid="project-sync"
                    disabled=move || pending.get() || syncing.get()
                    aria-busy=move || (pending.get() || syncing.get()).then_some("true")
                    on:click=sync
                >
                    {move || if syncing.get() { "Syncing…" } else { "Sync now" }}
                </button>
                <A
                    href=format!("/projects/{project_id}/terminal")
                    attr:class="btn btn-ghost"
                    attr:data-testid="project-terminal"
                >
                    "Terminal"
                </A>
                <RemoveButton removal=removal item=project_id testid="project-delete" large=true />
            </div>
        </PageHeader>
    }
}

#[component]
fn ProjectFacts(shown: Shown, names: FrameworkNames) -> impl IntoView {
    let project = Memo::new(move |_| shown.with(|d| d.as_ref().map(|d| d.project.clone())));
    move || {
        project.get().map(|p| {
            view! {
                <div class="card">
                    <h2 class="card-title">"Details"</h2>
                    <dl class="details details-wide">
                        <dt>"Repository"</dt>
                        <dd class="mono">{p.url}</dd>
                        <dt>"Default branch"</dt>
                        <dd class="mono">{super::branch_shown(p.default_branch)}</dd>
                        <dt>"Team"</dt>
                        <dd>{p.team.name}</dd>
                        <dt>"Status"</dt>
                        <dd>
                            <ProjectBadge status=p.status />
                        </dd>
                        {p
                            .error
                            .map(|e| {
                                view! {
                                    <dt>"Error"</dt>
                                    <dd class="cell-error" data-testid="project-error">
                                        {e}
                                    </dd>
                                }
                            })}
                        <dt>"Framework"</dt>
                        <dd data-testid="project-framework">{framework_label(names, p.detected_framework)}</dd>
                        <dt>"Deploy key"</dt>
                        <dd>{if p.has_deploy_key { "stored, encrypted" } else { "none" }}</dd>
                        <dt>"Last synced"</dt>
                        <dd>{moment(p.last_synced_at)}</dd>
                        <dt>"Added"</dt>
                        <dd>{datetime(&p.created_at)}</dd>
                    </dl>
                </div>
            }
        })
    }
}

#[component]
fn Branches(shown: Shown) -> impl IntoView {
    let branches = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref()
                .map(|d| (d.project.default_branch.clone(), d.branches.clone()))
                .unwrap_or_default()
        })
    });
    view! {
        <div class="card">
            <h2 class="card-title">"Branches"</h2>
            {move || {
                let (default, list) = branches.get();
                if list.is_empty() {
                    return view! { <p class="muted">"Branches appear once the repository is cloned."</p> }
                        .into_any();
                }
                view! {
                    <ul class="chip-list" data-testid="project-branches">
                        {list
                            .into_iter()
                            .map(|b| {
                                let is_default = b == default;
                                view! {
                                    <li class="chip mono">
                                        {b}
                                        {is_default.then(|| view! { <span class="badge badge-new">"default"</span> })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </div>
    }
}

#[component]
fn Commits(shown: Shown) -> impl IntoView {
    let commits = Memo::new(move |_| {
        shown.with(|d| d.as_ref().map(|d| d.commits.clone()).unwrap_or_default())
    });
    view! {
        <div class="card">
            <h2 class="card-title">"Latest commits"</h2>
            {move || {
                let list = commits.get();
                if list.is_empty() {
                    return view! { <p class="muted">"No commits yet: they appear after the first sync."</p> }
                        .into_any();
                }
                view! {
                    <DataTable
                        columns=&[Col::Text("Commit"), Col::Text("Subject"), Col::Text("Author"), Col::Text("Date")]
                        compact=true
                        flat=true
                        testid="project-commits"
                        caption="Latest commits of the default branch"
                    >
                        {list.into_iter().map(commit_row).collect_view()}
                    </DataTable>
                }
                    .into_any()
            }}
        </div>
    }
}

fn commit_row(c: Commit) -> impl IntoView {
    let at = c.date;
    view! {
        <tr data-testid="project-commit" data-sha=c.sha.clone()>
            <td class="mono" title=c.sha.clone()>
                {short_sha(&c.sha)}
            </td>
            <td>{c.subject}</td>
            <td>{c.author}</td>
            <td class="nowrap" title=datetime(&at)>
                {relative(&at)}
            </td>
        </tr>
    }
}

/// The live git output of one clone or sync; status changes reload the project.
#[component]
fn SyncLog(
    execution: Uuid,
    #[prop(into)] on_change: Callback<()>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let lines = RwSignal::new(Vec::<LogLine>::new());
    let stream = follow(
        move || Some(format!("/api/executions/{execution}/events")),
        move |event, data| match event {
            "log" => push_line(lines, data),
            "execution" | "end" => on_change.run(()),
            _ => {}
        },
    );
    let actions: ChildrenFn = std::sync::Arc::new(move || {
        view! {
            <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| on_close.run(())>
                "Hide"
            </button>
        }
        .into_any()
    });
    view! {
        <LogPanel
            lines=lines
            link=stream.link
            title=Signal::derive(|| "Git output".to_string())
            empty="Waiting for git to start…"
            on_retry=Callback::new(move |_| stream.restart())
            actions=actions
        />
    }
}
