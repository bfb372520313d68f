//! App deployments: the figures and the list, the deploy dialog, and the detail page with the
//! pipeline tracker, the buttons the state allows, the live log of the current step and the
//! logs of the earlier ones.

use crate::api;
use crate::components::chart::{Bar, BarChart};
use crate::components::feedback::{detail_body, use_toasts, Alert, Empty, SkeletonRows};
use crate::components::form::{
    rows_to_pairs, send_form, Errors, FormActions, FormBanner, PickField, Row, RowsEditor,
    TextField,
};
use crate::components::list::{
    paged_list, paged_remote, FilterSelect, NewButton, PageHeader, SearchBar,
};
use crate::components::log_panel::{push_line, LogPanel};
use crate::components::modal::{DialogWhile, Modal};
use crate::components::removal::{use_removal, Removal, RemoveButton};
use crate::components::table::{Col, DataTable};
use crate::components::tracker::Tracker;
use crate::format::{datetime, duration, relative};
use crate::live::{follow, Link};
use crate::pages::projects::{framework_names, moment, short_sha, FrameworkNames};
use crate::pages::servers::ExecutionBadge;
use crate::remote::{poll, poll_every, remote, use_detail, Detail, Remote};
use crate::search::use_search;
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::deployments::{
    user_actions, DeployRequest, Deployment, DeploymentAction, DeploymentLogs, DeploymentStatus,
    Redeploy, Statistics,
};
use shared::dto::{Page, Team};
use shared::frameworks::Framework;
use shared::projects::Project;
use shared::servers::{Execution, LogLine, Server};
use shared::stages::Stage;
use shared::validation::FieldErrors;
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;

const PER_PAGE: u64 = 20;

/// How often an open deployment is reloaded while one of its steps is under way.
const BUSY_POLL: Duration = Duration::from_secs(2);

/// Badge colours shared with the request statuses.
fn status_tone(status: DeploymentStatus) -> &'static str {
    match status {
        DeploymentStatus::Pending => "pending",
        DeploymentStatus::Provisioning
        | DeploymentStatus::Deploying
        | DeploymentStatus::Deleting => "provisioning",
        DeploymentStatus::Running => "deployed",
        DeploymentStatus::Failed => "failed",
        DeploymentStatus::Stopped | DeploymentStatus::Deleted => "cancelled",
    }
}

#[component]
pub fn DeploymentBadge(status: DeploymentStatus) -> impl IntoView {
    let busy = if status.is_busy() { " status-busy" } else { "" };
    view! {
        <span
            class=format!("badge status req-{}{busy}", status_tone(status))
            data-testid="deployment-status"
            data-status=status.as_str()
        >
            {status.as_str()}
        </span>
    }
}

/// The framework's name, its slug until the presets load, or a note while none is known yet.
fn framework_text(names: FrameworkNames, slug: String) -> impl IntoView {
    move || {
        if slug.is_empty() {
            view! { <span class="muted">"detected when deployed"</span> }.into_any()
        } else {
            names
                .with(|n| n.get(&slug).cloned())
                .unwrap_or_else(|| slug.clone())
                .into_any()
        }
    }
}

/// Where the app lives: its server, or the request for a new one.
fn server_cell(d: &Deployment) -> AnyView {
    match (d.server_id, &d.server_name, d.request_id) {
        (Some(id), name, _) => {
            let name = name.clone().unwrap_or_else(|| "server".into());
            view! { <A href=format!("/servers/{id}")>{name}</A> }.into_any()
        }
        (None, _, Some(request)) => view! {
            <A href=format!("/requests/{request}")>"new server (request)"</A>
        }
        .into_any(),
        _ => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// The app's address: a link opening a new tab while it runs, plain text otherwise.
fn url_cell(status: DeploymentStatus, url: Option<String>) -> AnyView {
    match url {
        Some(url) if status == DeploymentStatus::Running => view! {
            <a href=url.clone() target="_blank" rel="noopener noreferrer" class="mono">
                {url.clone()}
            </a>
        }
        .into_any(),
        Some(url) => view! { <span class="mono muted">{url}</span> }.into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

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
                    (!nothing.get())
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
                                        .map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })
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

/// Fields of [`DeployRequest`] that have an input of their own.
const DEPLOY_FIELDS: &[&str] = &[
    "name",
    "project_id",
    "git_url",
    "team_id",
    "branch",
    "commit",
    "framework",
    "module",
    "server_id",
    "port",
    "env",
];

/// The trimmed text of an input, `None` when blank.
fn given(value: RwSignal<String>) -> Option<String> {
    let text = value.get_untracked().trim().to_owned();
    (!text.is_empty()).then_some(text)
}

#[component]
fn DeployForm(
    #[prop(into)] on_done: Callback<Deployment>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let projects = remote::<Vec<Project>>(|| "/api/projects".into());
    let frameworks = remote::<Vec<Framework>>(|| "/api/frameworks".into());
    let servers = remote::<Page<Server>>(|| "/api/servers?status=running&per_page=200".into());
    let teams = remote::<Page<Team>>(|| "/api/teams?per_page=200".into());

    let name = RwSignal::new(String::new());
    let project = RwSignal::new(String::new());
    let git_url = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let branch = RwSignal::new(String::new());
    let commit = RwSignal::new(String::new());
    let framework = RwSignal::new(String::new());
    let module = RwSignal::new(String::new());
    let server = RwSignal::new(String::new());
    let port = RwSignal::new(String::new());
    let env = RwSignal::new(Vec::<Row>::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let chosen = Memo::new(move |_| {
        let id = project.get();
        match projects.get() {
            Some(Ok(list)) => list.into_iter().find(|p| p.id.to_string() == id),
            _ => None,
        }
    });
    let from_url = Memo::new(move |_| project.with(String::is_empty));
    let framework_name = move |slug: &str| match frameworks.get() {
        Some(Ok(list)) => list
            .into_iter()
            .find(|f| f.slug == slug)
            .map(|f| f.name)
            .unwrap_or_else(|| slug.to_owned()),
        _ => slug.to_owned(),
    };

    let project_options = Signal::derive(move || {
        let mut options = vec![(String::new(), "None: deploy from a Git URL".to_string())];
        if let Some(Ok(list)) = projects.get() {
            options.extend(
                list.into_iter()
                    .map(|p| (p.id.to_string(), format!("{} ({})", p.name, p.team.name))),
            );
        }
        options
    });
    let project_hint = Signal::derive(move || match chosen.get() {
        Some(p) => match &p.detected_framework {
            Some(slug) => format!("{} · detected framework: {}", p.url, framework_name(slug)),
            None => format!("{} · no framework detected yet", p.url),
        },
        None => "Or leave it empty and give a Git URL below.".into(),
    });
    let team_options = Signal::derive(move || {
        let mut options = vec![(String::new(), "The server's team".to_string())];
        if let Some(Ok(page)) = teams.get() {
            options.extend(page.items.into_iter().map(|t| (t.id.to_string(), t.name)));
        }
        options
    });
    let framework_options = Signal::derive(move || {
        let detect = match chosen.get().and_then(|p| p.detected_framework) {
            Some(slug) => format!("Detect from the repository ({})", framework_name(&slug)),
            None => "Detect from the repository".to_string(),
        };
        let mut options = vec![(String::new(), detect)];
        if let Some(Ok(list)) = frameworks.get() {
            options.extend(list.into_iter().map(|f| (f.slug, f.name)));
        }
        options
    });
    // The app, its project and its server belong to one team.
    let team_of_app = Memo::new(move |_| match chosen.get() {
        Some(p) => Some(p.team.id),
        None => team.get().parse::<Uuid>().ok(),
    });
    let server_options = Signal::derive(move || {
        let usable: Vec<Server> = match servers.get() {
            Some(Ok(page)) => page
                .items
                .into_iter()
                .filter(|s| s.ipv4.is_some())
                .filter(|s| team_of_app.get().is_none_or(|t| s.team.id == t))
                .collect(),
            _ => Vec::new(),
        };
        let first = if usable.is_empty() {
            "No running server available"
        } else {
            "Choose a server…"
        };
        let mut options = vec![(String::new(), first.to_string())];
        options.extend(usable.into_iter().map(|s| {
            let address = s.ipv4.unwrap_or_default();
            (
                s.id.to_string(),
                format!("{} · {} · {address}", s.name, s.team.name),
            )
        }));
        options
    });
    let server_hint = Signal::derive(move || match chosen.get() {
        Some(p) => format!("Running servers of {} with an address.", p.team.name),
        None => "Running servers with an address.".into(),
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut problems = FieldErrors::new();
        let env = rows_to_pairs(&env.get_untracked(), "variable").unwrap_or_else(|e| {
            problems.insert("env".into(), vec![e]);
            BTreeMap::new()
        });
        let port = given(port).and_then(|p| match p.parse::<u16>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.insert("port".into(), vec!["a number from 1024 to 65535".into()]);
                None
            }
        });
        let project_id = project.get_untracked().parse::<Uuid>().ok();
        let by_url = project_id.is_none();
        let body = DeployRequest {
            name: name.get_untracked().trim().to_owned(),
            team_id: team.get_untracked().parse().ok().filter(|_| by_url),
            project_id,
            git_url: given(git_url).filter(|_| by_url),
            branch: given(branch),
            commit: given(commit),
            framework: given(framework),
            module: given(module),
            server_id: server.get_untracked().parse().ok(),
            port,
            env,
            ..Default::default()
        };
        if let Err(found) = body.validate() {
            for (field, messages) in found {
                problems.entry(field).or_default().extend(messages);
            }
        }
        send_form(
            problems,
            pending,
            errors,
            banner,
            DEPLOY_FIELDS,
            async move { api::post::<_, Deployment>("/api/deploy", &body).await },
            move |d| on_done.run(d),
        );
    };

    view! {
        <form class="form" data-testid="deploy-form" on:submit=on_submit novalidate>
            <p class="muted">
                "Provisio checks out the branch, installs and builds the app with its framework's preset, runs it as a service behind nginx and checks its health."
            </p>
            <FormBanner banner=banner />
            <div class="form-grid">
                <TextField
                    id="deploy-name"
                    label="Name"
                    value=name
                    errors=errors
                    field="name"
                    autocomplete="off"
                    placeholder="e.g. shop"
                    hint="Lower-case letters, digits and '-'; it names the app's service."
                    required=true
                    autofocus=true
                    testid="deploy-name"
                />
                <PickField
                    id="deploy-project"
                    label="Project"
                    field="project_id"
                    errors=errors
                    value=project
                    options=project_options
                    hint=project_hint
                />
            </div>
            {move || {
                from_url
                    .get()
                    .then(|| {
                        view! {
                            <div class="form-grid">
                                <TextField
                                    id="deploy-git-url"
                                    label="Git URL"
                                    value=git_url
                                    errors=errors
                                    field="git_url"
                                    autocomplete="off"
                                    placeholder="https://git.example.com/team/app.git"
                                    hint="https://… or ssh://… / git@host:path; a project is created for it."
                                    testid="deploy-git-url"
                                />
                                <PickField
                                    id="deploy-team"
                                    label="Team"
                                    field="team_id"
                                    errors=errors
                                    value=team
                                    options=team_options
                                />
                            </div>
                        }
                    })
            }}
            <div class="form-grid">
                <TextField
                    id="deploy-branch"
                    label="Branch (optional)"
                    value=branch
                    errors=errors
                    field="branch"
                    autocomplete="off"
                    placeholder="the default branch"
                    testid="deploy-branch"
                />
                <TextField
                    id="deploy-commit"
                    label="Commit (optional)"
                    value=commit
                    errors=errors
                    field="commit"
                    autocomplete="off"
                    placeholder="the branch head"
                    testid="deploy-commit"
                />
                <PickField
                    id="deploy-framework"
                    label="Framework"
                    field="framework"
                    errors=errors
                    value=framework
                    options=framework_options
                />
                <TextField
                    id="deploy-module"
                    label="Module or entry file (optional)"
                    value=module
                    errors=errors
                    field="module"
                    autocomplete="off"
                    placeholder="the framework's default"
                    hint="e.g. app for Flask's app:app, or server.js"
                    testid="deploy-module"
                />
                <PickField
                    id="deploy-server"
                    label="Server"
                    field="server_id"
                    errors=errors
                    value=server
                    options=server_options
                    hint=server_hint
                />
                <TextField
                    id="deploy-port"
                    label="Port (optional)"
                    kind="number"
                    value=port
                    errors=errors
                    field="port"
                    autocomplete="off"
                    placeholder="the first free one from 8000"
                    hint="The public port nginx listens on."
                    testid="deploy-port"
                />
            </div>
            <RowsEditor
                legend="Environment variables"
                columns=&[("env_name", "Name", "text"), ("env_value", "Value", "text")]
                rows=env
                errors=errors
                field="env"
                add_label="Add variable"
                hint="Names in upper case, e.g. DATABASE_URL. Values are stored encrypted and never shown again."
            />
            <FormActions
                pending=pending
                label="Deploy"
                busy="Deploying…"
                on_cancel=on_cancel
                testid="deploy-submit"
            />
        </form>
    }
}

type Shown = Memo<Option<Deployment>>;

#[component]
pub fn DeploymentPage() -> impl IntoView {
    let toasts = use_toasts();
    let detail = use_detail::<Deployment>("/api/deployments", |d| d.id);
    let Detail {
        id,
        remote: deployment,
        shown,
        ..
    } = detail;
    let logs = remote::<DeploymentLogs>(move || {
        format!("/api/deployments/{}/logs", api::encode(&id.get()))
    });

    // The live log of the current (or last) step.
    let execution = Memo::new(move |_| shown.with(|d| d.as_ref().and_then(|d| d.execution_id)));
    let lines = RwSignal::new(Vec::<LogLine>::new());
    // The current step's execution has not finished, as its stream last said.
    let step_running = RwSignal::new(false);
    Effect::new(move |prev: Option<Option<Uuid>>| {
        let current = execution.get();
        if prev.is_some_and(|p| p != current) {
            lines.set(Vec::new());
        }
        current
    });
    let stream = follow(
        move || {
            execution
                .get()
                .map(|e| format!("/api/executions/{e}/events"))
        },
        move |event, data| match event {
            "log" => {
                push_line(lines, data);
                // A new pipeline step moves the status on.
                if serde_json::from_str::<LogLine>(data).is_ok_and(|l| l.stream == "step") {
                    deployment.refetch();
                }
            }
            "execution" => {
                if let Ok(e) = serde_json::from_str::<Execution>(data) {
                    step_running.set(!e.status.is_finished());
                }
                deployment.refetch();
            }
            "end" => {
                step_running.set(false);
                deployment.refetch();
                logs.refetch();
            }
            _ => {}
        },
    );
    poll_every(deployment, BUSY_POLL, move |d| {
        step_running.try_get_untracked().unwrap_or(false)
            || matches!(d.get_untracked(), Some(Ok(d)) if d.status.is_busy())
    });
    // The list of steps follows each new step and each change of state.
    Effect::new(
        move |prev: Option<Option<(DeploymentStatus, Option<Uuid>)>>| {
            let current = shown.with(|d| d.as_ref().map(|d| (d.status, d.execution_id)));
            if prev.is_some_and(|p| p.is_some() && p != current) {
                logs.refetch();
            }
            current
        },
    );

    let removal = use_removal::<Uuid>();
    let delete = move |target: Uuid| {
        removal.delete(format!("/api/deployments/{target}"), move |_| {
            toasts.success("Deletion started");
            step_running.set(true);
            deployment.refetch();
        });
    };

    view! {
        <section class="page">
            <A href="/deployments" attr:class="back-link">
                "← Deployments"
            </A>
            {detail_body(
                detail,
                move |d| {
                    let deployment_id = d.id;
                    view! {
                        <DeploymentHeader
                            name=d.name
                            id=deployment_id
                            shown=shown
                            deployment=deployment
                            step_running=step_running
                            removal=removal
                        />
                        <Pipeline shown=shown lines=lines />
                        <DeploymentFacts shown=shown />
                        <LogPanel
                            lines=lines
                            link=stream.link
                            title=Signal::derive(|| "Current step".to_string())
                            empty="Waiting for the step to start…"
                            on_retry=Callback::new(move |_| stream.restart())
                        />
                        <PastSteps id=deployment_id logs=logs current=execution />
                    }
                },
            )}
            {removal
                .dialog(
                    "Delete deployment",
                    move |_| {
                        let name = shown
                            .with_untracked(|d| d.as_ref().map(|d| d.name.clone()).unwrap_or_default());
                        (
                            format!("Delete {name}?"),
                            "The app's service, its nginx site and its files are removed from the server. The project and the server stay."
                                .into(),
                        )
                    },
                    delete,
                )}
        </section>
    }
}

#[component]
fn DeploymentHeader(
    name: String,
    id: Uuid,
    shown: Shown,
    deployment: Remote<Deployment>,
    step_running: RwSignal<bool>,
    removal: Removal<Uuid>,
) -> impl IntoView {
    let toasts = use_toasts();
    let acting = RwSignal::new(false);
    let redeploying = RwSignal::new(false);
    let status = Memo::new(move |_| shown.with(|d| d.as_ref().map(|d| d.status)));
    let open_url = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref()
                .filter(|d| d.status == DeploymentStatus::Running)
                .and_then(|d| d.url.clone())
        })
    });
    let subtitle = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref()
                .map(|d| format!("{} · {}", d.team.name, d.project_name))
                .unwrap_or_default()
        })
    });
    let actions = Memo::new(move |_| status.get().map(user_actions).unwrap_or_default());
    let act = move |verb: &'static str, done: &'static str| {
        task::run(
            acting,
            async move { api::post_empty::<Deployment>(&format!("/api/deployments/{id}/{verb}")).await },
            move |result| match result {
                Ok(d) => {
                    toasts.success(done);
                    step_running.set(true);
                    deployment.set(d);
                }
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    let on_redeployed = Callback::new(move |d: Deployment| {
        redeploying.set(false);
        toasts.success("Redeploy started");
        step_running.set(true);
        deployment.set(d);
    });

    view! {
        <header class="page-header">
            <div>
                <h1>{name.clone()}</h1>
                <p class="muted deployment-subtitle">
                    {move || status.get().map(|s| view! { <DeploymentBadge status=s /> })}
                    <span>{move || subtitle.get()}</span>
                </p>
            </div>
            <div class="actions">
                {move || {
                    open_url
                        .get()
                        .map(|url| {
                            view! {
                                <a
                                    href=url
                                    target="_blank"
                                    rel="noopener noreferrer"
                                    class="btn btn-primary"
                                    data-testid="deployment-open"
                                >
                                    "Open app"
                                </a>
                            }
                        })
                }}
                {move || {
                    actions
                        .get()
                        .into_iter()
                        .filter_map(|a| {
                            let (label, verb, done, testid) = match a {
                                DeploymentAction::Stop => ("Stop", "stop", "Stopping the app", "deployment-stop"),
                                DeploymentAction::Start => {
                                    ("Start", "start", "Starting the app", "deployment-start")
                                }
                                DeploymentAction::Redeploy => {
                                    return Some(
                                        view! {
                                            <button
                                                type="button"
                                                class="btn btn-ghost"
                                                data-testid="deployment-redeploy"
                                                disabled=move || acting.get()
                                                on:click=move |_| redeploying.set(true)
                                            >
                                                "Redeploy"
                                            </button>
                                        }
                                            .into_any(),
                                    );
                                }
                                DeploymentAction::Delete => {
                                    return Some(
                                        view! {
                                            <RemoveButton
                                                removal=removal
                                                item=id
                                                testid="deployment-delete"
                                                large=true
                                            />
                                        }
                                            .into_any(),
                                    );
                                }
                                _ => return None,
                            };
                            Some(
                                view! {
                                    <button
                                        type="button"
                                        class="btn btn-ghost"
                                        data-testid=testid
                                        disabled=move || acting.get()
                                        aria-busy=move || acting.get().then_some("true")
                                        on:click=move |_| act(verb, done)
                                    >
                                        {label}
                                    </button>
                                }
                                    .into_any(),
                            )
                        })
                        .collect_view()
                }}
            </div>
        </header>
        {move || {
            redeploying
                .get()
                .then(|| {
                    let branch = shown.with_untracked(|d| d.as_ref().map(|d| d.branch.clone()).unwrap_or_default());
                    view! {
                        <Modal title=format!("Redeploy {name}") on_close=move |_| redeploying.set(false)>
                            <RedeployForm
                                id=id
                                branch=branch
                                on_done=on_redeployed
                                on_cancel=move |_| redeploying.set(false)
                            />
                        </Modal>
                    }
                })
        }}
    }
}

#[component]
fn RedeployForm(
    id: Uuid,
    /// The branch deployed now.
    branch: String,
    #[prop(into)] on_done: Callback<Deployment>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let commit = RwSignal::new(String::new());
    let new_branch = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = Redeploy {
            commit: given(commit),
            branch: given(new_branch),
        };
        send_form(
            body.validate().err().unwrap_or_default(),
            pending,
            errors,
            banner,
            &["commit", "branch"],
            async move {
                api::post::<_, Deployment>(&format!("/api/deployments/{id}/redeploy"), &body).await
            },
            move |d| on_done.run(d),
        );
    };
    view! {
        <form class="form" data-testid="redeploy-form" on:submit=on_submit novalidate>
            <p class="muted">
                {format!(
                    "Runs the pipeline again for the head of {branch}, or for the commit you name.",
                )}
            </p>
            <FormBanner banner=banner />
            <TextField
                id="redeploy-commit"
                label="Commit (optional)"
                value=commit
                errors=errors
                field="commit"
                autocomplete="off"
                placeholder="the branch head"
                hint="A commit id of the branch, 7 to 40 hex digits."
                autofocus=true
                testid="redeploy-commit"
            />
            <TextField
                id="redeploy-branch"
                label="Branch (optional)"
                value=new_branch
                errors=errors
                field="branch"
                autocomplete="off"
                placeholder="the same branch"
                testid="redeploy-branch"
            />
            <FormActions
                pending=pending
                label="Redeploy"
                busy="Starting…"
                on_cancel=on_cancel
                testid="redeploy-submit"
            />
        </form>
    }
}

/// The pipeline as the tracker shows it.
const PIPELINE: [&str; 5] = [
    "Pending",
    "Provisioning",
    "Deploying",
    "Health check",
    "Running",
];

/// The stage a failed pipeline stopped in, from the step the job had reached.
fn failed_stage(step: Option<&str>, ever_deployed: bool) -> usize {
    match step.and_then(Stage::parse).and_then(Stage::deployment_step) {
        Some(stage) => stage,
        // The job failed before its first step.
        None if step == Some("deploy") || !ever_deployed => 0,
        // A deletion, stop or start that could not finish, after the app had run.
        None => 4,
    }
}

/// `done`, `current`, `failed` or `pending` for each stage.
fn stage_states(
    status: DeploymentStatus,
    failed_step: Option<&str>,
    ever_deployed: bool,
    checking_health: bool,
) -> [&'static str; 5] {
    let (reached, state) = match status {
        DeploymentStatus::Pending => (0, "current"),
        DeploymentStatus::Provisioning => (1, "current"),
        DeploymentStatus::Deploying if checking_health => (3, "current"),
        DeploymentStatus::Deploying => (2, "current"),
        DeploymentStatus::Failed => (failed_stage(failed_step, ever_deployed), "failed"),
        _ => (PIPELINE.len(), "done"),
    };
    let mut states = ["pending"; 5];
    for (i, s) in states.iter_mut().enumerate() {
        *s = match i.cmp(&reached) {
            std::cmp::Ordering::Less => "done",
            std::cmp::Ordering::Equal => state,
            std::cmp::Ordering::Greater => "pending",
        };
    }
    states
}

#[component]
fn Pipeline(shown: Shown, lines: RwSignal<Vec<LogLine>>) -> impl IntoView {
    let facts = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref().map(|d| {
                (
                    d.status,
                    d.failed_step.clone(),
                    d.error.clone(),
                    d.deployed_at.is_some(),
                )
            })
        })
    });
    let checking_health = Memo::new(move |_| {
        lines.with(|all| all.iter().any(|l| l.stage == Some(Stage::HealthCheck)))
    });
    let states = Memo::new(move |_| match facts.get() {
        Some((status, step, _, deployed)) => {
            stage_states(status, step.as_deref(), deployed, checking_health.get())
        }
        None => ["pending"; 5],
    });
    let problem = move || {
        facts.get().and_then(|(status, step, error, _)| {
            let failed = status == DeploymentStatus::Failed;
            if !failed && error.is_none() {
                return None;
            }
            let heading = match (&step, failed) {
                (Some(step), true) => format!("Failed at step “{step}”"),
                (None, true) => "The deployment failed".to_string(),
                // A stop or start that failed leaves the state as it was, and its error stays
                // until the next deploy.
                (_, false) => "Last reported error".to_string(),
            };
            Some(view! {
                <div
                    class=if failed { "alert alert-error" } else { "alert alert-warning" }
                    role="alert"
                    data-testid="deployment-error"
                    data-step=step.clone().unwrap_or_default()
                >
                    <div class="alert-body">
                        <strong>{heading}</strong>
                        {error.map(|e| view! { <p class="mono deployment-error">{e}</p> })}
                    </div>
                </div>
            })
        })
    };
    view! {
        <div class="card" data-testid="deployment-pipeline">
            <h2 class="card-title">"Pipeline"</h2>
            <Tracker
                label="Deployment steps"
                steps=&PIPELINE
                states=Signal::derive(move || states.get().to_vec())
            />
            {problem}
        </div>
    }
}

#[component]
fn DeploymentFacts(shown: Shown) -> impl IntoView {
    let names = framework_names();
    move || {
        shown.get().map(|d| {
            let server = server_cell(&d);
            let url = url_cell(d.status, d.url.clone());
            let commit = match &d.commit {
                Some(sha) => view! {
                    <span class="mono" title=sha.clone() data-testid="deployment-commit">
                        {short_sha(sha)}
                    </span>
                }
                .into_any(),
                None => view! { <span class="muted">"the branch head"</span> }.into_any(),
            };
            let port = match (d.port, d.app_port) {
                (Some(p), Some(a)) => format!("{p} (the app listens on {a})"),
                (Some(p), None) => p.to_string(),
                _ => "—".into(),
            };
            let env = if d.env.is_empty() {
                view! { <span class="muted">"none"</span> }.into_any()
            } else {
                view! {
                    <ul class="chip-list chip-list-tight" data-testid="deployment-env">
                        {d
                            .env
                            .iter()
                            .map(|n| view! { <li class="chip chip-sm mono">{n.clone()}</li> })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            };
            view! {
                <div class="card">
                    <h2 class="card-title">"Details"</h2>
                    <dl class="details details-wide" data-testid="deployment-facts">
                        <dt>"Project"</dt>
                        <dd>
                            <A href=format!("/projects/{}", d.project_id)>{d.project_name.clone()}</A>
                        </dd>
                        <dt>"Team"</dt>
                        <dd>{d.team.name.clone()}</dd>
                        <dt>"Git URL"</dt>
                        <dd class="mono">{d.git_url.clone()}</dd>
                        <dt>"Branch"</dt>
                        <dd class="mono">{d.branch.clone()}</dd>
                        <dt>"Commit"</dt>
                        <dd>{commit}</dd>
                        <dt>"Framework"</dt>
                        <dd data-testid="deployment-framework">{framework_text(names, d.framework.clone())}</dd>
                        <dt>"Server"</dt>
                        <dd>{server}</dd>
                        <dt>"Port"</dt>
                        <dd class="mono">{port}</dd>
                        <dt>"URL"</dt>
                        <dd>{url}</dd>
                        <dt>"Environment"</dt>
                        <dd>{env}</dd>
                        <dt>"Created"</dt>
                        <dd>{moment(Some(d.created_at))}</dd>
                        <dt>"Last deployed"</dt>
                        <dd>{moment(d.deployed_at)}</dd>
                    </dl>
                </div>
            }
        })
    }
}

/// Every step the deployment went through, newest first; the log of one of them on demand.
#[component]
fn PastSteps(id: Uuid, logs: Remote<DeploymentLogs>, current: Memo<Option<Uuid>>) -> impl IntoView {
    let viewing = RwSignal::new(None::<Execution>);
    let viewed_lines = RwSignal::new(Vec::<LogLine>::new());
    let loading = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let view_log = move |e: Execution| {
        let url = format!("/api/deployments/{id}/logs?execution_id={}", e.id);
        failure.set(None);
        viewed_lines.set(Vec::new());
        viewing.set(Some(e));
        task::run(
            loading,
            async move { api::parse::<DeploymentLogs>(api::get_raw(&url).await?) },
            move |result| match result {
                Ok(l) => viewed_lines.set(l.lines),
                Err(e) => failure.set(Some(e.message())),
            },
        );
    };
    let executions = Memo::new(move |_| match logs.get() {
        Some(Ok(l)) => Some(l.executions),
        _ => None,
    });
    view! {
        <div class="card" data-testid="deployment-steps">
            <h2 class="card-title">"Steps"</h2>
            {move || match executions.get() {
                None => view! { <SkeletonRows rows=2 /> }.into_any(),
                Some(list) if list.is_empty() => {
                    view! { <p class="muted">"No step has run yet."</p> }.into_any()
                }
                Some(list) => {
                    let rows = list
                        .into_iter()
                        .map(|e| {
                            let started = e.started_at.unwrap_or(e.created_at);
                            let took = e
                                .started_at
                                .zip(e.finished_at)
                                .map(|(from, to)| duration(&from, &to))
                                .unwrap_or_else(|| "—".into());
                            let is_current = current.get_untracked() == Some(e.id);
                            let exec_id = e.id.to_string();
                            let step = e.step.clone().unwrap_or_else(|| "—".into());
                            let chosen = e.clone();
                            view! {
                                <tr data-testid="deployment-step" data-execution=exec_id>
                                    <td class="nowrap" title=datetime(&started)>
                                        {relative(&started)}
                                        {is_current.then(|| view! { <span class="badge badge-new">"current"</span> })}
                                    </td>
                                    <td>
                                        <ExecutionBadge status=e.status />
                                    </td>
                                    <td>{step}</td>
                                    <td class="nowrap">{took}</td>
                                    <td class="cell-desc cell-error">{e.error.clone().unwrap_or_default()}</td>
                                    <td class="actions">
                                        <button
                                            type="button"
                                            class="btn btn-ghost btn-sm"
                                            aria-pressed=move || {
                                                viewing
                                                    .with(|v| v.as_ref().is_some_and(|v| v.id == chosen.id))
                                                    .to_string()
                                            }
                                            on:click={
                                                let e = e.clone();
                                                move |_| view_log(e.clone())
                                            }
                                        >
                                            "View log"
                                        </button>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <DataTable
                            columns=&[
                                Col::Text("Started"), Col::Text("Status"), Col::Text("Last step"),
                                Col::Text("Took"), Col::Text("Error"), Col::Actions
                            ]
                            compact=true
                            flat=true
                            caption="Steps of this deployment, newest first"
                        >
                            {rows}
                        </DataTable>
                    }
                        .into_any()
                }
            }}
            {move || failure.get().map(|m| view! { <Alert message=m /> })}
            {move || {
                viewing
                    .get()
                    .map(|e| {
                        let started = e.started_at.unwrap_or(e.created_at);
                        let title = format!("Log of the step started {}", datetime(&started));
                        let close: ChildrenFn = std::sync::Arc::new(move || {
                            view! {
                                <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| viewing.set(None)>
                                    "Close"
                                </button>
                            }
                                .into_any()
                        });
                        view! {
                            <LogPanel
                                lines=viewed_lines
                                link=Signal::derive(move || if loading.get() { Link::Connecting } else { Link::Ended })
                                title=Signal::derive(move || title.clone())
                                empty="This step wrote no output."
                                actions=close
                            />
                        }
                    })
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tracker_follows_the_pipeline() {
        use DeploymentStatus as S;
        assert_eq!(
            stage_states(S::Provisioning, None, false, false),
            ["done", "current", "pending", "pending", "pending"]
        );
        assert_eq!(
            stage_states(S::Deploying, None, false, true),
            ["done", "done", "done", "current", "pending"]
        );
        assert_eq!(
            stage_states(S::Failed, Some("health check"), false, false),
            ["done", "done", "done", "failed", "pending"]
        );
        assert_eq!(
            stage_states(S::Failed, Some("fetching"), false, false),
            ["done", "done", "failed", "pending", "pending"]
        );
        assert_eq!(
            stage_states(S::Failed, Some("stop"), true, false),
            ["done", "done", "done", "done", "failed"]
        );
        assert_eq!(stage_states(S::Running, None, true, false), ["done"; 5]);
    }
}
