//! Adding a project, and what its form holds as a plain draft.

use crate::api;
use crate::components::form::{
    send_draft, Errors, FormActions, FormBanner, TeamPicker, TextArea, TextField,
};
use leptos::prelude::*;
use shared::projects::{CreateProject, ProjectDetail};
use shared::validation::FieldErrors;
use uuid::Uuid;

/// The answer header that names the execution cloning a new project.
const EXECUTION_HEADER: &str = "X-Execution-Id";

/// Fields of [`CreateProject`] that have an input of their own.
const CREATE_FIELDS: &[&str] = &["name", "url", "default_branch", "team_id", "deploy_key"];

#[component]
pub(super) fn CreateForm(
    /// The new project, and the execution cloning it when the server named it.
    #[prop(into)]
    on_done: Callback<(ProjectDetail, Option<Uuid>)>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let draft = ProjectDraft::default();
    let name = RwSignal::new(draft.name);
    let team = RwSignal::new(draft.team);
    let url = RwSignal::new(draft.url);
    let branch = RwSignal::new(draft.branch);
    let deploy_key = RwSignal::new(draft.deploy_key);
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let draft = ProjectDraft {
            name: name.get_untracked(),
            team: team.get_untracked(),
            url: url.get_untracked(),
            branch: branch.get_untracked(),
            deploy_key: deploy_key.get_untracked(),
        };
        send_draft(
            draft.to_request(),
            (pending, errors, banner),
            CREATE_FIELDS,
            |body| async move {
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
                    placeholder="e.g. main"
                    hint="Blank: the repository's own default branch, read at the first sync."
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

/// What the new-project form holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct ProjectDraft {
    pub name: String,
    pub team: String,
    pub url: String,
    pub branch: String,
    pub deploy_key: String,
}

impl ProjectDraft {
    pub fn to_request(&self) -> Result<CreateProject, FieldErrors> {
        let body = CreateProject {
            name: self.name.trim().to_owned(),
            url: self.url.trim().to_owned(),
            default_branch: self.branch.trim().to_owned(),
            team_id: self.team.parse().unwrap_or_default(),
            // Sent as pasted: OpenSSH wants the key's final newline.
            deploy_key: (!self.deploy_key.trim().is_empty()).then(|| self.deploy_key.clone()),
        };
        let mut problems = body.validate().err().unwrap_or_default();
        if body.team_id.is_nil() {
            problems.insert("team_id".into(), vec!["Choose a team".into()]);
        }
        problems.is_empty().then_some(body).ok_or(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----\n";

    fn draft() -> ProjectDraft {
        ProjectDraft {
            name: " Shop front ".into(),
            team: Uuid::new_v4().to_string(),
            url: " https://git.example.com/team/shop.git ".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_new_project_trims_its_fields_and_leaves_the_branch_to_the_repository() {
        let mut draft = draft();
        let body = draft.to_request().unwrap();
        assert_eq!(body.name, "Shop front");
        assert_eq!(body.url, "https://git.example.com/team/shop.git");
        assert_eq!(body.default_branch, "", "the remote's default branch");
        draft.branch = " release/2 ".into();
        assert_eq!(draft.to_request().unwrap().default_branch, "release/2");
        assert_eq!(body.team_id.to_string(), draft.team);
        assert_eq!(body.deploy_key, None);
    }

    #[test]
    fn the_deploy_key_is_sent_as_pasted_with_its_final_newline() {
        let mut draft = draft();
        draft.deploy_key = KEY.into();
        assert_eq!(draft.to_request().unwrap().deploy_key.as_deref(), Some(KEY));
    }

    #[test]
    fn a_project_without_a_team_or_url_is_refused_per_field() {
        let mut draft = draft();
        draft.team.clear();
        draft.url = "  ".into();
        let problems = draft.to_request().unwrap_err();
        assert_eq!(problems["team_id"], ["Choose a team"]);
        assert!(problems.contains_key("url"));
        assert!(!problems.contains_key("name"));
    }
}
