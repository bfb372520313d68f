//! The create, edit and password-reset forms for one account.

use crate::api;
use crate::components::feedback::Alert;
use crate::components::form::{
    apply_problem, Errors, FieldError, FormActions, FormBanner, RolePicker, TextField,
};
use crate::remote::remote;
use crate::session::use_session;
use crate::task;
use leptos::prelude::*;
use shared::dto::{CreateUser, Page, ResetPassword, Team, UpdateUser, User};
use shared::roles::Role;
use shared::validation::FieldErrors;
use uuid::Uuid;

/// The new-user form's fields as typed.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct NewUserDraft {
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub password: String,
    pub roles: Vec<Role>,
    pub team_ids: Vec<Uuid>,
}

impl NewUserDraft {
    /// The password is sent as typed: spaces may be part of it.
    pub fn to_request(&self) -> Result<CreateUser, FieldErrors> {
        let body = CreateUser {
            username: self.username.trim().to_owned(),
            email: self.email.trim().to_owned(),
            full_name: self.full_name.trim().to_owned(),
            password: self.password.clone(),
            roles: self.roles.clone(),
            team_ids: self.team_ids.clone(),
        };
        body.validate()?;
        Ok(body)
    }
}

/// The edit form's fields; the username and the active flag are not edited here.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct UserEdits {
    pub email: String,
    pub full_name: String,
    pub roles: Vec<Role>,
}

impl UserEdits {
    pub fn from_dto(user: &User) -> Self {
        Self {
            email: user.email.clone(),
            full_name: user.full_name.clone(),
            roles: user.roles.clone(),
        }
    }

    /// Only changed fields are sent, so the audit log records what really changed; `None` when
    /// nothing did. Roles compare as sets: ticking them in another order is no change.
    pub fn to_request(&self, original: &User) -> Result<Option<UpdateUser>, FieldErrors> {
        let new_email = self.email.trim().to_owned();
        let new_name = self.full_name.trim().to_owned();
        let mut new_roles = self.roles.clone();
        new_roles.sort();
        let mut old_roles = original.roles.clone();
        old_roles.sort();
        let body = UpdateUser {
            email: (new_email != original.email).then_some(new_email),
            full_name: (new_name != original.full_name).then_some(new_name),
            roles: (new_roles != old_roles).then_some(new_roles),
            active: None,
        };
        if body == UpdateUser::default() {
            return Ok(None);
        }
        body.validate()?;
        Ok(Some(body))
    }
}

#[component]
pub(super) fn NewUserForm(
    #[prop(into)] on_done: Callback<User>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let full_name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let roles = RwSignal::new(Vec::<Role>::new());
    let team_ids = RwSignal::new(Vec::<Uuid>::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);

    let teams = remote::<Page<Team>>(|| "/api/teams?per_page=200".into());

    let pending = RwSignal::new(false);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let draft = NewUserDraft {
            username: username.get_untracked(),
            email: email.get_untracked(),
            full_name: full_name.get_untracked(),
            password: password.get_untracked(),
            roles: roles.get_untracked(),
            team_ids: team_ids.get_untracked(),
        };
        match draft.to_request() {
            Ok(body) => {
                errors.set(FieldErrors::new());
                banner.set(None);
                task::run(
                    pending,
                    async move { api::post::<_, User>("/api/users", &body).await },
                    move |result| match result {
                        Ok(user) => on_done.run(user),
                        Err(e) => banner.set(apply_problem(
                            &e,
                            errors,
                            &["username", "email", "full_name", "password", "roles"],
                        )),
                    },
                );
            }
            Err(problems) => {
                errors.set(problems);
                banner.set(Some("Please correct the highlighted fields.".into()));
            }
        }
    };

    view! {
        <form class="form" on:submit=on_submit novalidate>
            <FormBanner banner=banner />
            <div class="form-grid">
                <TextField
                    id="new-user-username"
                    label="Username"
                    value=username
                    errors=errors
                    field="username"
                    autocomplete="off"
                    hint="3–32 characters: lowercase letters, digits, '.', '_' or '-'."
                    required=true
                />
                <TextField
                    id="new-user-email"
                    label="E-mail"
                    kind="email"
                    value=email
                    errors=errors
                    field="email"
                    autocomplete="off"
                    required=true
                />
                <TextField
                    id="new-user-full-name"
                    label="Full name"
                    value=full_name
                    errors=errors
                    field="full_name"
                    autocomplete="off"
                />
                <TextField
                    id="new-user-password"
                    label="Password"
                    kind="password"
                    value=password
                    errors=errors
                    field="password"
                    autocomplete="new-password"
                    hint="At least 12 characters. Share it with the user through a safe channel."
                    required=true
                />
            </div>
            <RolePicker prefix="new-user" selected=roles errors=errors />
            <fieldset class="field checkbox-group">
                <legend>"Teams"</legend>
                <p class="field-hint">"Leave all unchecked to add the user to the Global team."</p>
                {move || match teams.get() {
                        None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                            Some(Err(e)) => view! { <Alert message=format!("Teams could not be loaded: {}", e.message()) /> }.into_any(),
                            Some(Ok(page)) if page.items.is_empty() => view! { <p class="muted">"No teams yet."</p> }.into_any(),
                            Some(Ok(page)) => view! {
                                <div class="checkbox-list">
                                    {page
                                        .items
                                        .into_iter()
                                        .map(|team| {
                                            let id = format!("new-user-team-{}", team.id);
                                            let label_for = id.clone();
                                            let team_id = team.id;
                                            view! {
                                                <label class="check" for=label_for>
                                                    <input
                                                        type="checkbox"
                                                        id=id
                                                        prop:checked=move || team_ids.with(|t| t.contains(&team_id))
                                                        on:change=move |ev| {
                                                            let on = event_target_checked(&ev);
                                                            team_ids.update(|t| {
                                                                t.retain(|x| *x != team_id);
                                                                if on {
                                                                    t.push(team_id);
                                                                }
                                                            });
                                                        }
                                                    />
                                                    <span>{team.name}</span>
                                                    {team.is_global.then(|| view! { <span class="badge badge-global">"Global"</span> })}
                                                </label>
                                            }
                                        })
                                        .collect_view()}
                                </div>
                            }
                            .into_any(),
                        }
                    }
                <FieldError errors=errors field="team_ids" id="new-user-teams-error".to_string() />
            </fieldset>
            <FormActions pending=pending label="Create user" busy="Creating…" on_cancel=on_cancel />
        </form>
    }
}

#[component]
pub(super) fn EditUserForm(
    user: User,
    #[prop(into)] on_done: Callback<User>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let is_me = session.me.with_untracked(|m| m.as_ref().map(|m| m.id)) == Some(user.id);
    let original = StoredValue::new(user.clone());
    let draft = UserEdits::from_dto(&user);
    let email = RwSignal::new(draft.email);
    let full_name = RwSignal::new(draft.full_name);
    let roles = RwSignal::new(draft.roles);
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let id = user.id;

    let pending = RwSignal::new(false);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let Some(orig) = original.try_get_value() else {
            return;
        };
        let draft = UserEdits {
            email: email.get_untracked(),
            full_name: full_name.get_untracked(),
            roles: roles.get_untracked(),
        };
        match draft.to_request(&orig) {
            Ok(None) => on_cancel.run(()),
            Ok(Some(body)) => {
                errors.set(FieldErrors::new());
                banner.set(None);
                task::run(
                    pending,
                    async move { api::patch::<_, User>(&format!("/api/users/{id}"), &body).await },
                    move |result| match result {
                        Ok(user) => on_done.run(user),
                        Err(e) => {
                            banner.set(apply_problem(&e, errors, &["email", "full_name", "roles"]))
                        }
                    },
                );
            }
            Err(problems) => {
                errors.set(problems);
                banner.set(Some("Please correct the highlighted fields.".into()));
            }
        }
    };

    let losing_admin = move || is_me && !roles.with(|r| r.contains(&Role::Admin));

    view! {
        <form class="form" on:submit=on_submit novalidate>
            <FormBanner banner=banner />
            <p class="muted">
                "Username: " <span class="mono">{user.username.clone()}</span>
            </p>
            <TextField
                id="edit-user-email"
                label="E-mail"
                kind="email"
                value=email
                errors=errors
                field="email"
                autocomplete="off"
                required=true
            />
            <TextField
                id="edit-user-full-name"
                label="Full name"
                value=full_name
                errors=errors
                field="full_name"
                autocomplete="off"
            />
            <RolePicker prefix="edit-user" selected=roles errors=errors />
            {move || {
                losing_admin()
                    .then(|| {
                        view! {
                            <Alert
                                message="You are removing your own administrator role: you will lose access to this page."
                                kind="warning"
                            />
                        }
                    })
            }}
            <FormActions pending=pending label="Save" busy="Saving…" on_cancel=on_cancel />
        </form>
    }
}

#[component]
pub(super) fn ResetPasswordForm(
    user: User,
    #[prop(into)] on_done: Callback<User>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let target = StoredValue::new(user.clone());
    let id = user.id;

    let pending = RwSignal::new(false);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let body = ResetPassword {
            password: password.get_untracked(),
        };
        match body.validate() {
            Ok(()) => {
                errors.set(FieldErrors::new());
                banner.set(None);
                task::run(
                    pending,
                    async move {
                        api::post_no_content(&format!("/api/users/{id}/password"), &body).await
                    },
                    move |result| match result {
                        Ok(()) => {
                            if let Some(user) = target.try_get_value() {
                                on_done.run(user);
                            }
                        }
                        Err(e) => banner.set(apply_problem(&e, errors, &["password"])),
                    },
                );
            }
            Err(problems) => errors.set(problems),
        }
    };

    view! {
        <form class="form" on:submit=on_submit novalidate>
            <FormBanner banner=banner />
            <p class="muted">
                "Set a new password for " <strong>{user.full_name.clone()}</strong> " ("
                <span class="mono">{user.username.clone()}</span> ")."
            </p>
            <TextField
                id="reset-password"
                label="New password"
                kind="password"
                value=password
                errors=errors
                field="password"
                autocomplete="new-password"
                hint="At least 12 characters. Share it with the user through a safe channel."
                required=true
            />
            <FormActions pending=pending label="Reset password" busy="Resetting…" on_cancel=on_cancel />
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::{NewUserDraft, UserEdits};
    use chrono::Utc;
    use shared::dto::User;
    use shared::roles::Role;
    use uuid::Uuid;

    fn ada() -> User {
        User {
            id: Uuid::nil(),
            username: "ada".into(),
            email: "ada@example.com".into(),
            full_name: "Ada Lovelace".into(),
            roles: vec![Role::Requester, Role::Admin],
            active: true,
            created_at: Utc::now(),
            last_login_at: None,
            teams: Vec::new(),
            two_factor: false,
            confirmed: true,
            awaiting_approval: false,
        }
    }

    fn new_user() -> NewUserDraft {
        NewUserDraft {
            username: "  grace ".into(),
            email: " grace@example.com ".into(),
            full_name: " Grace Hopper ".into(),
            password: " correct horse battery ".into(),
            roles: vec![Role::TechnicalAgent],
            team_ids: vec![Uuid::nil()],
        }
    }

    #[test]
    fn new_user_request_trims_names_but_keeps_the_password_as_typed() {
        let body = new_user().to_request().unwrap();
        assert_eq!(body.username, "grace");
        assert_eq!(body.email, "grace@example.com");
        assert_eq!(body.full_name, "Grace Hopper");
        assert_eq!(body.password, " correct horse battery ");
        assert_eq!(body.roles, vec![Role::TechnicalAgent]);
        assert_eq!(body.team_ids, vec![Uuid::nil()]);
    }

    #[test]
    fn new_user_without_roles_or_with_a_short_password_is_refused_per_field() {
        let draft = NewUserDraft {
            password: "short".into(),
            roles: Vec::new(),
            ..new_user()
        };
        let errors = draft.to_request().unwrap_err();
        assert!(errors.contains_key("roles"));
        assert!(errors.contains_key("password"));
        assert!(!errors.contains_key("username"));
    }

    #[test]
    fn unchanged_edit_form_sends_nothing() {
        let user = ada();
        assert_eq!(UserEdits::from_dto(&user).to_request(&user), Ok(None));
    }

    #[test]
    fn reordered_roles_and_padded_text_count_as_unchanged() {
        let user = ada();
        let edits = UserEdits {
            email: " ada@example.com".into(),
            full_name: "Ada Lovelace ".into(),
            roles: vec![Role::Admin, Role::Requester],
        };
        assert_eq!(edits.to_request(&user), Ok(None));
    }

    #[test]
    fn edit_sends_only_the_changed_fields() {
        let user = ada();
        let edits = UserEdits {
            full_name: "Augusta Ada King".into(),
            ..UserEdits::from_dto(&user)
        };
        let body = edits.to_request(&user).unwrap().unwrap();
        assert_eq!(body.full_name.as_deref(), Some("Augusta Ada King"));
        assert_eq!(body.email, None);
        assert_eq!(body.roles, None);
        assert_eq!(body.active, None);
    }

    #[test]
    fn edit_with_a_bad_address_or_no_roles_is_refused_per_field() {
        let user = ada();
        let edits = UserEdits {
            email: "not an address".into(),
            full_name: user.full_name.clone(),
            roles: Vec::new(),
        };
        let errors = edits.to_request(&user).unwrap_err();
        assert!(errors.contains_key("email"));
        assert!(errors.contains_key("roles"));
    }
}
