//! The deploy dialog and the redeploy dialog, with what their fields hold as plain drafts.

use crate::api::{self, ApiErrorView};
use crate::components::form::{
    rows_to_pairs, send_form, show_problems, Errors, FormActions, FormBanner, PickField, Row,
    RowsEditor, TextField,
};
use crate::remote::remote;
use leptos::prelude::*;
use shared::deployments::{DeployRequest, Deployment, Redeploy};
use shared::dto::{Page, Team};
use shared::frameworks::Framework;
use shared::projects::Project;
use shared::servers::Server;
use shared::validation::FieldErrors;
use std::collections::BTreeMap;
use std::future::Future;
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
];

/// The trimmed text of an input, `None` when blank.
fn given(value: &str) -> Option<String> {
    let text = value.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Sends the request a draft converted to, or shows the problems that kept it back.
fn send_draft<B, T: 'static, F: Future<Output = Result<T, ApiErrorView>> + 'static>(
    request: Result<B, FieldErrors>,
    (pending, errors, banner): (RwSignal<bool>, Errors, RwSignal<Option<String>>),
    known: &'static [&'static str],
    call: impl FnOnce(B) -> F,
    done: impl FnOnce(T) + 'static,
) {
    match request {
        Ok(body) => send_form(
            FieldErrors::new(),
            pending,
            errors,
            banner,
            known,
            call(body),
            done,
        ),
        Err(problems) => {
            show_problems(problems, errors, banner);
        }
    }
}

/// What the deploy form's inputs hold: ids of the picked options as their text, blank for
/// none.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct DeployDraft {
    pub name: String,
    pub project: String,
    pub git_url: String,
    pub team: String,
    pub branch: String,
    pub commit: String,
    pub framework: String,
    pub module: String,
    pub server: String,
    pub port: String,
    pub env: Vec<Row>,
}

impl DeployDraft {
    /// The request to send, or every problem found, the server's own rules included.
    pub fn to_request(&self) -> Result<DeployRequest, FieldErrors> {
        let mut problems = FieldErrors::new();
        let env = rows_to_pairs(&self.env, "variable").unwrap_or_else(|e| {
            problems.insert("env".into(), vec![e]);
            BTreeMap::new()
        });
        let port = given(&self.port).and_then(|p| match p.parse::<u16>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.insert("port".into(), vec!["a number from 1024 to 65535".into()]);
                None
            }
        });
        let project_id = self.project.parse::<Uuid>().ok();
        // A project brings its own repository and team; the URL and team fields then stay
        // unsent even when they still hold text.
        let by_url = project_id.is_none();
        let body = DeployRequest {
            name: given(&self.name),
            team_id: self.team.parse().ok().filter(|_| by_url),
            project_id,
            git_url: given(&self.git_url).filter(|_| by_url),
            branch: given(&self.branch),
            commit: given(&self.commit),
            framework: given(&self.framework),
            module: given(&self.module),
            server_id: self.server.parse().ok(),
            port,
            env,
            ..Default::default()
        };
        if let Err(found) = body.validate() {
            for (field, messages) in found {
                problems.entry(field).or_default().extend(messages);
            }
        }
        // This form deploys onto a running server; a new guest is filed through a request.
        if body.server_id.is_none() {
            problems
                .entry("server_id".into())
                .or_default()
                .push("choose the server the app runs on".into());
        }
        if problems.is_empty() {
            Ok(body)
        } else {
            Err(problems)
        }
    }
}

/// What the redeploy form's inputs hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct RedeployDraft {
    pub commit: String,
    pub branch: String,
}

impl RedeployDraft {
    pub fn to_request(&self) -> Result<Redeploy, FieldErrors> {
        let body = Redeploy {
            commit: given(&self.commit),
            branch: given(&self.branch),
        };
        body.validate().map(|()| body)
    }
}

#[component]
pub(super) fn DeployForm(
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
        let draft = DeployDraft {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> DeployDraft {
        DeployDraft {
            name: " shop ".into(),
            git_url: "https://git.example.com/team/shop.git".into(),
            server: "6f2c6a9e-3b1c-4d6e-9a57-0c7b7e3f1a11".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_deploy_from_a_git_url_sends_the_trimmed_fields_and_leaves_blanks_unset() {
        let mut draft = draft();
        draft.branch = "  main ".into();
        draft.port = "8080".into();
        draft.env = vec![Row::new(vec![
            "DATABASE_URL".into(),
            "postgres://db".into(),
        ])];
        let body = draft.to_request().unwrap();
        assert_eq!(body.name.as_deref(), Some("shop"));
        assert_eq!(
            body.git_url.as_deref(),
            Some("https://git.example.com/team/shop.git")
        );
        assert_eq!(body.branch.as_deref(), Some("main"));
        assert_eq!(body.commit, None);
        assert_eq!(body.framework, None);
        assert_eq!(body.port, Some(8080));
        assert_eq!(body.server_id.unwrap().to_string(), draft.server);
        assert_eq!(
            body.env.get("DATABASE_URL").map(String::as_str),
            Some("postgres://db")
        );
    }

    #[test]
    fn a_chosen_project_drops_the_git_url_and_team_still_typed_in() {
        let mut draft = draft();
        draft.project = "0b6d1c52-58f1-4b8e-b0e4-4c9d3c7c2a10".into();
        draft.team = "9d1f7c3a-2e4b-4f1a-8c6d-5b3a2e1f0c9d".into();
        let body = draft.to_request().unwrap();
        assert_eq!(body.project_id.unwrap().to_string(), draft.project);
        assert_eq!(body.git_url, None);
        assert_eq!(body.team_id, None);
    }

    #[test]
    fn a_bad_port_and_a_nameless_variable_are_reported_with_the_servers_rules() {
        let mut draft = draft();
        draft.port = "eighty".into();
        draft.server.clear();
        draft.env = vec![Row::new(vec![String::new(), "value".into()])];
        let problems = draft.to_request().unwrap_err();
        assert_eq!(problems["port"], ["a number from 1024 to 65535"]);
        assert_eq!(problems["env"], ["every variable needs a name"]);
        assert_eq!(problems["server_id"], ["choose the server the app runs on"]);
    }

    #[test]
    fn a_blank_name_is_left_to_the_server_which_takes_the_repositorys() {
        let mut draft = draft();
        draft.name = "  ".into();
        assert_eq!(draft.to_request().unwrap().name, None);
    }

    #[test]
    fn a_redeploy_sends_only_what_was_typed() {
        let draft = RedeployDraft {
            commit: " 0a1b2c3d ".into(),
            branch: String::new(),
        };
        let body = draft.to_request().unwrap();
        assert_eq!(body.commit.as_deref(), Some("0a1b2c3d"));
        assert_eq!(body.branch, None);
        let bad = RedeployDraft {
            commit: "not-a-sha".into(),
            branch: String::new(),
        };
        assert!(bad.to_request().unwrap_err().contains_key("commit"));
    }
}
