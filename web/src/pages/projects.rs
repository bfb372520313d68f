//! Git projects of the teams: the list, adding a repository (cloned by a job), and the detail
//! page with its branches, latest commits, the sync with its live log, and removal.

use crate::api;
use crate::components::feedback::{detail_body, use_toasts, Empty};
use crate::components::form::{
    send_form, Errors, FormActions, FormBanner, TeamPicker, TextArea, TextField,
};
use crate::components::list::{loaded_list, NewButton, PageHeader};
use crate::components::log_panel::{push_line, LogPanel};
use crate::components::modal::DialogWhile;
use crate::components::removal::{use_removal, Removal, RemoveButton};
use crate::components::table::{Col, DataTable};
use crate::format::{datetime, relative};
use crate::live::follow;
use crate::remote::{poll, poll_every, remote, use_detail, Detail, Remote};
use crate::task;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::frameworks::Framework;
use shared::projects::{Commit, CreateProject, Project, ProjectDetail};
use shared::servers::{Accepted, LogLine};
use shared::validation::FieldErrors;
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;

/// How often an open project is reloaded while git works on it.
const SYNC_POLL: Duration = Duration::from_millis(1500);

/// The answer header that names the execution cloning a new project.
const EXECUTION_HEADER: &str = "X-Execution-Id";

/// Whether git still has to bring the checkout up to date (`new` is the moment before the
/// clone job starts).
fn busy(status: &str) -> bool {
    matches!(status, "new" | "syncing")
}

/// Badge colours shared with the request statuses.
fn status_tone(status: &str) -> &'static str {
    match status {
        "ready" => "deployed",
        "syncing" => "provisioning",
        "error" => "failed",
        _ => "pending",
    }
}

#[component]
fn ProjectBadge(status: String) -> impl IntoView {
    let class = format!("badge req req-{}", status_tone(&status));
    let data = status.clone();
    view! {
        <span
            class=class
            data-testid="project-status"
            data-status=data
        >
            {status}
        </span>
    }
}

/// `a1b2c3d`: the abbreviation git itself shows.
pub(crate) fn short_sha(sha: &str) -> String {
    sha.chars().take(7).collect()
}

/// "3 minutes ago", with the exact time on hover; "never" without a time.
pub(crate) fn moment(at: Option<DateTime<Utc>>) -> AnyView {
    match at {
        Some(t) => view! { <span title=datetime(&t)>{relative(&t)}</span> }.into_any(),
        None => view! { <span class="muted">"never"</span> }.into_any(),
    }
}

/// Framework names by slug, for what a checkout was detected as.
pub(crate) type FrameworkNames = Memo<BTreeMap<String, String>>;

pub(crate) fn framework_names() -> FrameworkNames {
    let frameworks = remote::<Vec<Framework>>(|| "/api/frameworks".into());
    Memo::new(move |_| match frameworks.get() {
        Some(Ok(list)) => list.into_iter().map(|f| (f.slug, f.name)).collect(),
        _ => BTreeMap::new(),
    })
}

/// The framework's name (its slug until the presets load), or "none detected".
fn framework_label(names: FrameworkNames, slug: Option<String>) -> impl IntoView {
    move || match &slug {
        Some(s) => names
            .with(|n| n.get(s).cloned())
            .unwrap_or_else(|| s.clone())
            .into_any(),
        None => view! { <span class="muted">"none detected"</span> }.into_any(),
    }
}

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
                    <td class="mono">{p.default_branch}</td>
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

/// Fields of [`CreateProject`] that have an input of their own.
const CREATE_FIELDS: &[&str] = &["name", "url", "default_branch", "team_id", "deploy_key"];

#[component]
fn CreateForm(
    /// The new project, and the execution cloning it when the server named it.
    #[prop(into)]
    on_done: Callback<(ProjectDetail, Option<Uuid>)>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let branch = RwSignal::new("main".to_string());
    let deploy_key = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let key = deploy_key.get_untracked();
        let body = CreateProject {
            name: name.get_untracked().trim().to_owned(),
            url: url.get_untracked().trim().to_owned(),
            default_branch: branch.get_untracked().trim().to_owned(),
            team_id: team.get_untracked().parse().unwrap_or_default(),
            // Sent as pasted: OpenSSH wants the key's final newline.
            deploy_key: (!key.trim().is_empty()).then_some(key),
        };
        let mut problems = body.validate().err().unwrap_or_default();
        if body.team_id.is_nil() {
            problems.insert("team_id".into(), vec!["Choose a team".into()]);
        }
        send_form(
            problems,
            pending,
            errors,
            banner,
            CREATE_FIELDS,
            async move {
                api::post_with_header::<_, ProjectDetail>("/api/projects", &body, EXECUTION_HEADER)
                    .await
            },
            move |(detail, execution)| {
                on_done.run((detail, execution.and_then(|e| e.parse().ok())))
            },
        );
    };

    view! {
        <form class="form" data-testid="project-form" on:submit=on_submit novalidate>
            <p class="muted">
                "Provisio clones the repository on its own server, then keeps the default branch in sync on demand."
            </p>
            <FormBanner banner=banner />
            <div class="form-grid">
                <TextField
                    id="project-name"
                    label="Name"
                    value=name
                    errors=errors
                    field="name"
                    autocomplete="off"
                    placeholder="e.g. Shop front"
                    required=true
                    autofocus=true
                    testid="project-name"
                />
                <TeamPicker id="project-team" team=team errors=errors />
                <TextField
                    id="project-url"
                    label="Git URL"
                    value=url
                    errors=errors
                    field="url"
                    autocomplete="off"
                    placeholder="https://git.example.com/team/app.git"
                    hint="https://… or ssh://… / git@host:path"
                    required=true
                    testid="project-url"
                />
                <TextField
                    id="project-branch"
                    label="Default branch"
                    value=branch
                    errors=errors
                    field="default_branch"
                    autocomplete="off"
                    required=true
                    testid="project-branch"
                />
            </div>
            <TextArea
                id="project-deploy-key"
                label="Deploy key (optional)"
                value=deploy_key
                errors=errors
                field="deploy_key"
                rows=6
                class="mono"
                placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
                hint="An OpenSSH private key with read access, for private repositories. It is stored encrypted and never shown again."
                testid="project-deploy-key"
            />
            <FormActions
                pending=pending
                label="Add project"
                busy="Adding…"
                on_cancel=on_cancel
                testid="project-create"
            />
        </form>
    }
}

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
                <button
                    type="button"
                    class="btn btn-primary"
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
                        <dd class="mono">{p.default_branch}</dd>
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
