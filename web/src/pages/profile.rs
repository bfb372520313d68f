//! The signed-in user's account: details and password change.

use crate::api;
use crate::components::form::{
    apply_problem, Errors, FormActions, FormBanner, RoleBadges, TextField,
};
use crate::format::permission_text;
use crate::session::{self, use_session};
use crate::task;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::dto::ChangePassword;
use shared::validation::FieldErrors;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let session = use_session();
    view! {
        <section class="page">
            <header class="page-header">
                <div>
                    <h1>"Your account"</h1>
                    <p class="muted">"Your details, what your roles allow, and your password."</p>
                </div>
            </header>
            <div class="grid-2">
                {move || {
                    session
                        .me
                        .get()
                        .map(|me| {
                            view! {
                                <div class="card">
                                    <h2 class="card-title">"Details"</h2>
                                    <dl class="details">
                                        <dt>"Username"</dt>
                                        <dd class="mono">{me.username.clone()}</dd>
                                        <dt>"Full name"</dt>
                                        <dd>{if me.full_name.is_empty() { "—".to_string() } else { me.full_name.clone() }}</dd>
                                        <dt>"E-mail"</dt>
                                        <dd>{me.email.clone()}</dd>
                                        <dt>"Roles"</dt>
                                        <dd>
                                            <RoleBadges roles=me.roles.clone() />
                                        </dd>
                                        <dt>"Teams"</dt>
                                        <dd>
                                            {if me.teams.is_empty() {
                                                "None".to_string()
                                            } else {
                                                me.teams.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
                                            }}
                                        </dd>
                                    </dl>
                                    <h3 class="subhead">"Your permissions"</h3>
                                    <ul class="check-list">
                                        {me
                                            .permissions
                                            .iter()
                                            .map(|p| view! { <li>{permission_text(*p)}</li> })
                                            .collect_view()}
                                    </ul>
                                    <p class="muted small">"Only an administrator can change your e-mail, name or roles."</p>
                                </div>
                            }
                        })
                }}
                <div class="card">
                    <h2 class="card-title">"Change password"</h2>
                    <ChangePasswordForm />
                </div>
            </div>
        </section>
    }
}

#[component]
fn ChangePasswordForm() -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);

    let pending = RwSignal::new(false);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let body = ChangePassword {
            current_password: current.get_untracked(),
            new_password: new_password.get_untracked(),
        };
        let mut problems = body.validate().err().unwrap_or_default();
        if body.current_password.is_empty() {
            problems.insert(
                "current_password".into(),
                vec!["Enter your current password".into()],
            );
        }
        if confirm.get_untracked() != body.new_password {
            problems.insert(
                "confirm_password".into(),
                vec!["does not match the new password".into()],
            );
        }
        banner.set(None);
        errors.set(problems.clone());
        if problems.is_empty() {
            task::run(
                pending,
                async move { api::put_no_content("/api/auth/password", Some(&body)).await },
                move |result| match result {
                    Ok(()) => spawn_local(async {
                        session::logout(Some("Password changed. Sign in with your new password."))
                            .await;
                    }),
                    Err(e) => banner.set(apply_problem(
                        &e,
                        errors,
                        &["current_password", "new_password", "confirm_password"],
                    )),
                },
            );
        }
    };

    view! {
        <form class="form" on:submit=on_submit novalidate>
            <p class="muted small">"After the change you are signed out everywhere and sign in again with the new password."</p>
            <FormBanner banner=banner />
            <TextField
                id="current-password"
                label="Current password"
                kind="password"
                value=current
                errors=errors
                field="current_password"
                autocomplete="current-password"
                required=true
            />
            <TextField
                id="new-password"
                label="New password"
                kind="password"
                value=new_password
                errors=errors
                field="new_password"
                autocomplete="new-password"
                hint="At least 12 characters. A short sentence is easy to remember and hard to guess."
                required=true
            />
            <TextField
                id="confirm-password"
                label="Confirm new password"
                kind="password"
                value=confirm
                errors=errors
                field="confirm_password"
                autocomplete="new-password"
                required=true
            />
            <FormActions pending=pending label="Change password" busy="Changing…" />
        </form>
    }
}
