//! The deploy dialog and the redeploy dialog, with what their fields hold as plain drafts.

use super::bindings::{AppServer, ResourcePicker};
use super::draft::{DeployDraft, RedeployDraft, Target};
use super::guest::{GuestFields, GuestSignals};
use crate::api;
use crate::components::form::{
    send_draft, Errors, FormActions, FormBanner, PickField, Row, RowsEditor, TextField,
};
use crate::remote::remote;
use leptos::prelude::*;
use shared::deployments::Deployment;
use shared::dto::{Page, Team};
use shared::frameworks::Framework;
use shared::projects::Project;
use shared::providers::ProviderAccount;
use shared::servers::Server;
use shared::validation::FieldErrors;
use uuid::Uuid;

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
    "deployment_type",
    "provider_account_id",
    "location",
    "image",
    "server_type",
    "cpu",
    "ram_mb",
    "disk_gb",
    "ssh_public_key",
];

#[component]
pub(super) fn DeployForm(
    #[prop(into)] on_done: Callback<Deployment>,
    #[prop(into)] on_cancel: Callback<()>,
    /// A project to deploy, chosen already (the project page's Deploy button).
    #[prop(default = None)]
    project: Option<Uuid>,
    /// A server to deploy onto, chosen already (the server page's Deploy button).
    #[prop(default = None)]
    server: Option<Uuid>,
) -> impl IntoView {
    let preset_project = project;
    let preset_server = server;
    let projects = remote::<Vec<Project>>(|| "/api/projects".into());
    let frameworks = remote::<Vec<Framework>>(|| "/api/frameworks".into());
    let servers = remote::<Page<Server>>(|| "/api/servers?status=running&per_page=200".into());
    let teams = remote::<Page<Team>>(|| "/api/teams?per_page=200".into());
    let accounts = remote::<Vec<ProviderAccount>>(|| "/api/provider-accounts".into());
    let target_key = RwSignal::new(Target::Server.key().to_owned());
    let target = Memo::new(move |_| Target::parse(&target_key.get()));
    let guest = GuestSignals::new();
    let target_options = Signal::derive(|| {
        Target::ALL
            .into_iter()
            .map(|t| (t.key().to_owned(), t.label().to_owned()))
            .collect::<Vec<_>>()
    });
    // With no running server to offer, a new guest is what is left.
    Effect::new(move |_| {
        if let Some(Ok(page)) = servers.get() {
            if preset_server.is_none()
                && page.items.iter().all(|s| s.ipv4.is_none())
                && target.get_untracked() == Target::Server
            {
                target_key.set(Target::NewVm.key().to_owned());
            }
        }
    });

    let name = RwSignal::new(String::new());
    let project = RwSignal::new(preset_project.map(|p| p.to_string()).unwrap_or_default());
    let git_url = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let branch = RwSignal::new(String::new());
    let commit = RwSignal::new(String::new());
    let framework = RwSignal::new(String::new());
    let module = RwSignal::new(String::new());
    let server = RwSignal::new(preset_server.map(|s| s.to_string()).unwrap_or_default());
    let port = RwSignal::new(String::new());
    let env = RwSignal::new(Vec::<Row>::new());
    let bound = RwSignal::new(Vec::<String>::new());
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
        match projects.get() {
            Some(Ok(list)) => options.extend(
                list.into_iter()
                    .map(|p| (p.id.to_string(), format!("{} ({})", p.name, p.team.name))),
            ),
            // The project chosen on its page stays chosen while the list loads.
            _ => options.extend(
                preset_project.map(|p| (p.to_string(), "Loading the project…".to_string())),
            ),
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
    // The running server the app goes on, with its team: a database may be asked for there.
    let app_server = Memo::new(move |_| {
        if target.get() != Target::Server {
            return None;
        }
        let id = server.get().parse::<Uuid>().ok()?;
        match servers.get() {
            Some(Ok(page)) => page
                .items
                .into_iter()
                .find(|s| s.id == id)
                .map(|s| AppServer {
                    server: s.id,
                    team: s.team.id,
                }),
            _ => None,
        }
    });
    let app_name = Signal::derive(move || {
        let typed = name.get();
        if !typed.trim().is_empty() {
            return typed;
        }
        match chosen.get() {
            Some(p) => p.name,
            None => shared::deployments::name_from_url(&git_url.get()).unwrap_or_default(),
        }
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
            // The server chosen on its page stays chosen while the list loads.
            _ => {
                return std::iter::once((String::new(), "Loading servers…".to_string()))
                    .chain(preset_server.map(|s| (s.to_string(), "Loading the server…".into())))
                    .collect();
            }
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
        let draft = DeployDraft {
            target: target.get_untracked(),
            account: guest.account.get_untracked(),
            location: guest.location.get_untracked(),
            image: guest.image.get_untracked(),
            server_type: guest.server_type.get_untracked(),
            cpu: guest.cpu.get_untracked(),
            ram_mb: guest.ram_mb.get_untracked(),
            disk_gb: guest.disk_gb.get_untracked(),
            ssh_public_key: guest.public_key(),
            name: name.get_untracked(),
            project: project.get_untracked(),
            git_url: git_url.get_untracked(),
            team: team.get_untracked(),
            branch: branch.get_untracked(),
            commit: commit.get_untracked(),
            framework: framework.get_untracked(),
            module: module.get_untracked(),
            server: server.get_untracked(),
            port: port.get_untracked(),
            env: env.get_untracked(),
            resources: bound.get_untracked(),
        };
        send_draft(
            draft.to_request(),
            (pending, errors, banner),
            DEPLOY_FIELDS,
            |body| async move { api::post::<_, Deployment>("/api/deploy", &body).await },
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
                    hint="Lower-case letters, digits and '-'; it names the app's service. Blank: the repository's name."
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
                    id="deploy-target"
                    label="Where it runs"
                    field="deployment_type"
                    errors=errors
                    value=target_key
                    options=target_options
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
            <Show
                when=move || target.get() == Target::Server
                fallback=move || view! { <GuestFields target=target accounts=accounts fields=guest errors=errors /> }
            >
                <div class="form-grid">
                    <PickField
                        id="deploy-server"
                        label="Server"
                        field="server_id"
                        errors=errors
                        value=server
                        options=server_options
                        hint=server_hint
                    />
                </div>
            </Show>
            <RowsEditor
                legend="Environment variables"
                columns=&[("env_name", "Name", "text"), ("env_value", "Value", "text")]
                rows=env
                errors=errors
                field="env"
                add_label="Add variable"
                hint="Names in upper case, e.g. DATABASE_URL. Values are stored encrypted and never shown again."
            />
            <ResourcePicker team=team_of_app framework=framework chosen=bound app_server=app_server app_name=app_name />
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

#[component]
pub(super) fn RedeployForm(
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
        let draft = RedeployDraft {
            commit: commit.get_untracked(),
            branch: new_branch.get_untracked(),
        };
        send_draft(
            draft.to_request(),
            (pending, errors, banner),
            &["commit", "branch"],
            move |body| async move {
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
