//! The signed-in user's account: details, password change, two-factor sign-in and SSH keys.

use crate::api;
use crate::components::feedback::use_toasts;
use crate::components::form::{
    apply_problem, Errors, FormActions, FormBanner, RoleBadges, TextArea, TextField,
};
use crate::components::list::{loaded_list, PageHeader};
use crate::components::removal::{use_removal, RemoveButton};
use crate::components::table::{Col, DataTable};
use crate::format::{datetime, permission_text, relative};
use crate::remote::remote;
use crate::session::{self, use_session};
use crate::task;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::dto::ChangePassword;
use shared::scripts::{AddSshKey, SshKey};
use shared::validation::FieldErrors;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let session = use_session();
    view! {
        <section class="page">
            <PageHeader title="Your account" description="Your details, what your roles allow, and your password." />
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
            <crate::pages::two_factor::TwoFactorCard />
            <SshKeysCard />
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

#[component]
fn SshKeysCard() -> impl IntoView {
    let toasts = use_toasts();
    let keys = remote::<Vec<SshKey>>(|| "/api/ssh-keys".into());
    let removal = use_removal::<SshKey>();
    let remove = move |k: SshKey| {
        removal.delete(format!("/api/ssh-keys/{}", k.id), move |k| {
            if let Some(k) = k {
                toasts.success(format!("Key {} removed", k.name));
            }
            keys.refetch();
        });
    };

    view! {
        <div class="card" data-testid="ssh-keys">
            <h2 class="card-title">"SSH keys"</h2>
            <p class="muted small">
                "Your public keys are installed on the servers you provision. The platform key is how Provisio itself reaches them."
            </p>
            {loaded_list(
                keys,
                2,
                || view! { <p class="muted">"No SSH keys yet: add your public key below."</p> },
                move |list| {
                    view! {
                        <DataTable columns=&[
                                Col::Text("Name"), Col::Text("Type"), Col::Text("Fingerprints"),
                                Col::Text("Added"), Col::Actions
                            ] compact=true flat=true testid="ssh-keys-table">
                            {list
                                .into_iter()
                                .map(|k| {
                                    let for_remove = k.clone();
                                    let at = k.created_at;
                                    view! {
                                        <tr data-testid="ssh-key-row" data-name=k.name.clone()>
                                            <td>
                                                <strong>{k.name.clone()}</strong>
                                                {k.service.then(|| view! { <span class="badge badge-global">"Platform key"</span> })}
                                            </td>
                                            <td class="mono">{k.key_type.clone()}</td>
                                            <td class="mono small fingerprints">
                                                <span>{k.fingerprint_sha256.clone()}</span>
                                                <span class="muted">{k.fingerprint_md5.clone()}</span>
                                            </td>
                                            <td title=datetime(&at)>{relative(&at)}</td>
                                            <td class="actions">
                                                {(!k.service)
                                                    .then(|| {
                                                        view! {
                                                            <RemoveButton
                                                                removal=removal
                                                                item=for_remove
                                                                label="Remove"
                                                                aria_label=format!("Remove key {}", k.name)
                                                            />
                                                        }
                                                    })}
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </DataTable>
                    }
                },
            )}
            <h3 class="subhead">"Add a key"</h3>
            <AddSshKeyForm on_done=move |_| keys.refetch() />
            {removal
                .dialog(
                    "Remove key",
                    |k| {
                        (
                            format!("Remove key {}?", k.name),
                            "Servers provisioned from now on no longer get this key. Servers that already have it keep it."
                                .into(),
                        )
                    },
                    remove,
                )}
        </div>
    }
}

#[component]
fn AddSshKeyForm(#[prop(into)] on_done: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let public_key = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = AddSshKey {
            name: name.get_untracked().trim().to_owned(),
            public_key: public_key.get_untracked().trim().to_owned(),
        };
        banner.set(None);
        if let Err(problems) = body.validate() {
            errors.set(problems);
            return;
        }
        errors.set(FieldErrors::new());
        task::run(
            pending,
            async move { api::post::<_, SshKey>("/api/ssh-keys", &body).await },
            move |result| match result {
                Ok(key) => {
                    toasts.success(format!("Key {} added", key.name));
                    name.set(String::new());
                    public_key.set(String::new());
                    on_done.run(());
                }
                Err(e) => banner.set(apply_problem(&e, errors, &["name", "public_key"])),
            },
        );
    };
    view! {
        <form class="form" data-testid="ssh-key-form" on:submit=on_submit novalidate>
            <FormBanner banner=banner />
            <TextField
                id="ssh-key-name"
                label="Key name"
                value=name
                errors=errors
                field="name"
                autocomplete="off"
                placeholder="e.g. work laptop"
                required=true
                testid="ssh-key-name"
            />
            <TextArea
                id="ssh-key-public"
                label="Public key"
                value=public_key
                errors=errors
                field="public_key"
                rows=3
                class="mono"
                placeholder="ssh-ed25519 AAAA… you@laptop"
                hint="The one line of your .pub file, e.g. ~/.ssh/id_ed25519.pub. Never paste the private key."
                testid="ssh-key-public"
            />
            <FormActions pending=pending label="Add key" busy="Adding…" testid="ssh-key-add" />
        </form>
    }
}
