//! Creating and editing a team: its name, description and, once it exists, the provider account
//! its deployments' new guests go to by default.

use crate::api::{self, ApiErrorView};
use crate::components::form::{
    apply_problem, Errors, FormActions, FormBanner, PickField, TextArea, TextField,
};
use crate::remote::remote;
use crate::task;
use leptos::prelude::*;
use shared::dto::{CreateTeam, Team, UpdateTeam};
use shared::providers::ProviderAccount;
use shared::validation::FieldErrors;

/// The team form's fields as typed.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct TeamDraft {
    pub name: String,
    pub description: String,
    /// The default provider account's id as text; blank for none.
    pub default_account: String,
}

impl TeamDraft {
    /// Empty fields for a new team.
    pub fn from_dto(team: Option<&Team>) -> Self {
        team.map(|t| Self {
            name: t.name.clone(),
            description: t.description.clone(),
            default_account: t
                .default_provider_account_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
        })
        .unwrap_or_default()
    }

    pub fn to_create(&self) -> Result<CreateTeam, FieldErrors> {
        let body = CreateTeam {
            name: self.name.trim().to_owned(),
            description: self.description.trim().to_owned(),
        };
        body.validate()?;
        Ok(body)
    }

    /// Only changed fields are sent, so the audit log records what really changed; `None` when
    /// nothing did.
    pub fn to_update(&self, original: &Team) -> Result<Option<UpdateTeam>, FieldErrors> {
        let name = self.name.trim().to_owned();
        let description = self.description.trim().to_owned();
        let account = self.default_account.parse().ok();
        let body = UpdateTeam {
            name: (name != original.name).then_some(name),
            description: (description != original.description).then_some(description),
            default_provider_account_id: (account != original.default_provider_account_id)
                .then_some(account),
        };
        if body == UpdateTeam::default() {
            return Ok(None);
        }
        body.validate()?;
        Ok(Some(body))
    }
}

#[component]
pub(super) fn TeamForm(
    team: Option<Team>,
    #[prop(into)] on_done: Callback<(Team, bool)>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let is_new = team.is_none();
    let original = StoredValue::new(team.clone());
    let draft = TeamDraft::from_dto(team.as_ref());
    let name = RwSignal::new(draft.name);
    let description = RwSignal::new(draft.description);
    let default_account = RwSignal::new(draft.default_account);
    // Only an existing team has a default account; the list is read for the edit form only.
    let accounts =
        (!is_new).then(|| remote::<Vec<ProviderAccount>>(|| "/api/provider-accounts".into()));
    let account_options = Signal::derive(move || {
        let mut options = vec![(String::new(), "None".to_owned())];
        if let Some(Ok(found)) = accounts.as_ref().and_then(|a| a.get()) {
            options.extend(found.into_iter().map(|a| (a.id.to_string(), a.name)));
        }
        options
    });
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);

    let pending = RwSignal::new(false);
    let finish = move |result: Result<Team, ApiErrorView>| match result {
        Ok(team) => on_done.run((team, is_new)),
        Err(e) => banner.set(apply_problem(
            &e,
            errors,
            &["name", "description", "default_provider_account_id"],
        )),
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let draft = TeamDraft {
            name: name.get_untracked(),
            description: description.get_untracked(),
            default_account: default_account.get_untracked(),
        };
        let problems = match original.try_get_value().flatten() {
            None => match draft.to_create() {
                Ok(body) => {
                    task::run(
                        pending,
                        async move { api::post::<_, Team>("/api/teams", &body).await },
                        finish,
                    );
                    None
                }
                Err(problems) => Some(problems),
            },
            Some(orig) => match draft.to_update(&orig) {
                Ok(None) => {
                    on_cancel.run(());
                    return;
                }
                Ok(Some(body)) => {
                    let id = orig.id;
                    task::run(
                        pending,
                        async move { api::patch::<_, Team>(&format!("/api/teams/{id}"), &body).await },
                        finish,
                    );
                    None
                }
                Err(problems) => Some(problems),
            },
        };
        banner.set(None);
        errors.set(problems.unwrap_or_default());
    };

    let submit_label = if is_new { "Create team" } else { "Save" };
    view! {
        <form class="form" on:submit=on_submit novalidate>
            <FormBanner banner=banner />
            <TextField
                id="team-name"
                label="Name"
                value=name
                errors=errors
                field="name"
                autocomplete="off"
                hint="2–64 characters. The team's URL name is derived from it."
                required=true
            />
            <TextArea id="team-description" label="Description" value=description errors=errors field="description" />
            // Shown once the accounts are in: a select without its options would fall back to
            // its first one ("None") and clear the setting on save.
            <Show when=move || accounts.as_ref().is_some_and(|a| a.get().is_some())>
                <PickField
                    id="team-default-account"
                    label="Default provider account"
                    field="default_provider_account_id"
                    errors=errors
                    value=default_account
                    options=account_options
                    hint=Signal::derive(|| {
                        "Where a deployment of this team gets its new VM or container when it names neither a server nor an account.".to_owned()
                    })
                />
            </Show>
            <FormActions pending=pending label=submit_label busy="Saving…" on_cancel=on_cancel />
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::TeamDraft;
    use shared::dto::Team;
    use uuid::Uuid;

    // Read from JSON as the API sends it, so fields this form does not edit keep their defaults.
    fn ops() -> Team {
        serde_json::from_value(serde_json::json!({
            "id": Uuid::nil(),
            "name": "Operations",
            "slug": "operations",
            "description": "Keeps the lights on",
            "is_global": false,
            "member_count": 3,
            "created_at": "2026-01-01T00:00:00Z",
        }))
        .unwrap()
    }

    #[test]
    fn new_team_form_starts_empty_and_edit_form_starts_from_the_team() {
        assert_eq!(TeamDraft::from_dto(None), TeamDraft::default());
        let draft = TeamDraft::from_dto(Some(&ops()));
        assert_eq!(draft.name, "Operations");
        assert_eq!(draft.description, "Keeps the lights on");
    }

    #[test]
    fn create_request_trims_both_fields() {
        let draft = TeamDraft {
            name: "  Sales ".into(),
            description: " Sells things\n".into(),
            ..TeamDraft::default()
        };
        let body = draft.to_create().unwrap();
        assert_eq!(body.name, "Sales");
        assert_eq!(body.description, "Sells things");
    }

    #[test]
    fn create_request_with_a_one_letter_name_is_refused_on_the_name() {
        let draft = TeamDraft {
            name: "x".into(),
            description: String::new(),
            ..TeamDraft::default()
        };
        let errors = draft.to_create().unwrap_err();
        assert!(errors.contains_key("name"));
        assert!(!errors.contains_key("description"));
    }

    #[test]
    fn unchanged_or_only_padded_edit_sends_nothing() {
        let team = ops();
        assert_eq!(TeamDraft::from_dto(Some(&team)).to_update(&team), Ok(None));
        let padded = TeamDraft {
            name: " Operations ".into(),
            description: "Keeps the lights on ".into(),
            ..TeamDraft::default()
        };
        assert_eq!(padded.to_update(&team), Ok(None));
    }

    #[test]
    fn the_default_account_is_sent_when_chosen_and_cleared_when_blanked() {
        let mut team = ops();
        let account = Uuid::new_v4();
        let draft = TeamDraft {
            default_account: account.to_string(),
            ..TeamDraft::from_dto(Some(&team))
        };
        let body = draft.to_update(&team).unwrap().unwrap();
        assert_eq!(body.default_provider_account_id, Some(Some(account)));
        assert_eq!(body.name, None);
        team.default_provider_account_id = Some(account);
        assert_eq!(TeamDraft::from_dto(Some(&team)).to_update(&team), Ok(None));
        let cleared = TeamDraft {
            default_account: String::new(),
            ..TeamDraft::from_dto(Some(&team))
        };
        let body = cleared.to_update(&team).unwrap().unwrap();
        assert_eq!(body.default_provider_account_id, Some(None));
    }

    #[test]
    fn edit_sends_only_the_changed_description() {
        let team = ops();
        let draft = TeamDraft {
            description: "On call around the clock".into(),
            ..TeamDraft::from_dto(Some(&team))
        };
        let body = draft.to_update(&team).unwrap().unwrap();
        assert_eq!(body.name, None);
        assert_eq!(
            body.description.as_deref(),
            Some("On call around the clock")
        );
    }
}
