//! Self-registration on the web: the "Create an account" page, the page the e-mailed link opens,
//! and the administrators' card that opens registration and chooses where new accounts land.

use crate::api;
use crate::components::feedback::{use_toasts, Alert};
use crate::components::form::{
    apply_problem, Errors, FormActions, FormBanner, PickField, TextField,
};
use crate::remote::remote;
use crate::task;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use shared::dto::{Page, Team};
use shared::registration::{
    ConfirmEmail, RegisterRequest, Registered, RegistrationInfo, RegistrationMode,
    RegistrationPolicy, RegistrationStep, ResendConfirmation,
};
use shared::validation::FieldErrors;
use shared::Role;

/// Whether the sign-in page offers "Create an account".
pub fn registration_open() -> RwSignal<Option<RegistrationInfo>> {
    let info = RwSignal::new(None::<RegistrationInfo>);
    spawn_local(async move {
        if let Ok(found) = api::get_public::<RegistrationInfo>("/api/auth/registration").await {
            info.set(Some(found));
        }
    });
    info
}

/// The centred card of the pages before signing in (sign-in, registration, confirmation).
#[component]
pub fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="auth-page">
            <div class="auth-card">
                <div class="brand brand-lg">
                    <span class="brand-mark" aria-hidden="true">"P"</span>
                    "Provisio"
                </div>
                <h1>{title}</h1>
                {children()}
            </div>
        </div>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    document().set_title("Create an account · Provisio");
    let info = registration_open();
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let full_name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let done = RwSignal::new(None::<Registered>);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = RegisterRequest {
            username: username.get_untracked().trim().to_lowercase(),
            email: email.get_untracked().trim().to_owned(),
            full_name: full_name.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
        };
        if let Err(problems) = body.validate() {
            errors.set(problems);
            banner.set(Some("Please correct the highlighted fields.".into()));
            return;
        }
        let json = serde_json::to_string(&body).unwrap_or_default();
        task::run(
            pending,
            async move { api::send_public::<Registered>("/api/auth/register", Some(json)).await },
            move |r| match r {
                Ok(registered) => {
                    banner.set(None);
                    done.set(Some(registered));
                }
                Err(e) => banner.set(apply_problem(
                    &e,
                    errors,
                    &["username", "email", "full_name", "password"],
                )),
            },
        );
    };

    view! {
        <AuthCard title="Create an account">
            {move || match (info.get(), done.get()) {
                (_, Some(registered)) => {
                    view! { <RegisteredNote registered=registered email=email.get_untracked() /> }
                        .into_any()
                }
                (None, None) => view! { <p class="muted">"Loading…"</p> }.into_any(),
                (Some(info), None) if !info.open => {
                    view! {
                        <p data-testid="registration-closed">
                            "This server does not take registrations. Ask an administrator to create an account for you."
                        </p>
                        <p>
                            <a href="/login">"Back to sign in"</a>
                        </p>
                    }
                        .into_any()
                }
                (Some(info), None) => {
                    let steps = match (info.needs_email, info.needs_approval) {
                        (true, true) => "We will e-mail you a link to confirm your address; then an administrator lets the account in.",
                        (true, false) => "We will e-mail you a link to confirm your address; then you can sign in.",
                        _ => "An administrator lets each new account in; you will get an e-mail when you can sign in.",
                    };
                    view! {
                        <p class="muted">{steps}</p>
                        <form class="form" on:submit=on_submit novalidate data-testid="register-form">
                            <FormBanner banner=banner />
                            <TextField
                                id="register-username"
                                label="Username"
                                value=username
                                errors=errors
                                field="username"
                                autocomplete="username"
                                required=true
                                autofocus=true
                                hint="3–32 characters: lower-case letters, digits, dots, dashes and underscores."
                            />
                            <TextField
                                id="register-email"
                                label="E-mail"
                                kind="email"
                                value=email
                                errors=errors
                                field="email"
                                autocomplete="email"
                                required=true
                            />
                            <TextField
                                id="register-name"
                                label="Full name"
                                value=full_name
                                errors=errors
                                field="full_name"
                                autocomplete="name"
                            />
                            <TextField
                                id="register-password"
                                label="Password"
                                kind="password"
                                value=password
                                errors=errors
                                field="password"
                                autocomplete="new-password"
                                required=true
                                hint="At least 12 characters."
                            />
                            <FormActions pending=pending label="Create account" busy="Creating…" testid="register-submit" />
                        </form>
                        <p class="muted small">
                            "Already have an account? "
                            <a href="/login">"Sign in"</a>
                        </p>
                    }
                        .into_any()
                }
            }}
        </AuthCard>
    }
}

/// What follows a registration, with "send the link again" while the address waits.
#[component]
fn RegisteredNote(registered: Registered, email: String) -> impl IntoView {
    let resent = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let waits_for_link = registered.next == RegistrationStep::ConfirmEmail;
    let resend = move |_| {
        let body = serde_json::to_string(&ResendConfirmation {
            email: email.clone(),
        })
        .unwrap_or_default();
        task::run(
            pending,
            async move { api::post_public_empty("/api/auth/register/resend", Some(body)).await },
            move |r| {
                resent.set(Some(match r {
                    Ok(_) => "Sent again. Links sent earlier no longer work.".into(),
                    Err(e) => e.message(),
                }))
            },
        );
    };
    view! {
        <div data-testid="registered">
            <Alert message=registered.message kind="success" />
            {waits_for_link
                .then(|| {
                    view! {
                        <p class="muted small">
                            "No e-mail after a few minutes? Look in the spam folder, or "
                            <button
                                type="button"
                                class="btn btn-link"
                                data-testid="register-resend"
                                disabled=move || pending.get()
                                on:click=resend.clone()
                            >
                                "send the link again"
                            </button>
                            "."
                        </p>
                    }
                })}
            {move || resent.get().map(|m| view! { <p class="small" role="status">{m}</p> })}
            <p>
                <a href="/login">"Go to sign in"</a>
            </p>
        </div>
    }
}

/// Opened from the e-mailed link: confirms the address at once and says what follows.
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    document().set_title("Confirm your e-mail · Provisio");
    let query = use_query_map();
    let outcome = RwSignal::new(None::<Result<Registered, String>>);
    let token = query.with_untracked(|q| q.get("token")).unwrap_or_default();
    spawn_local(async move {
        let body = serde_json::to_string(&ConfirmEmail { token }).unwrap_or_default();
        let result = api::send_public::<Registered>("/api/auth/confirm-email", Some(body)).await;
        outcome.set(Some(result.map_err(|e| e.message())));
    });
    view! {
        <AuthCard title="Confirm your e-mail address">
            {move || match outcome.get() {
                None => view! { <p class="muted">"Confirming…"</p> }.into_any(),
                Some(Ok(done)) => {
                    view! {
                        <div data-testid="email-confirmed">
                            <Alert message=done.message kind="success" />
                        </div>
                    }
                        .into_any()
                }
                Some(Err(why)) => {
                    view! {
                        <div data-testid="email-not-confirmed">
                            <Alert message=why />
                            <p>
                                <a href="/register">"Ask for a new link"</a>
                            </p>
                        </div>
                    }
                        .into_any()
                }
            }}
            <p>
                <a href="/login">"Go to sign in"</a>
            </p>
        </AuthCard>
    }
}

/// Administrators: whether people may register, what it takes, and the team and role they get.
#[component]
pub fn RegistrationPolicyCard(
    /// Whether the server can send e-mail (PROVISIO_SMTP_URL is set).
    email_configured: bool,
) -> impl IntoView {
    let toasts = use_toasts();
    let loaded = remote::<RegistrationPolicy>(|| "/api/registration/policy".into());
    let teams = remote::<Page<Team>>(|| "/api/teams?per_page=200".into());
    let mode = RwSignal::new(RegistrationMode::Off.as_str().to_owned());
    let team = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Requester.as_str().to_owned());
    // The form shows once the policy and the teams have answered: a choice made earlier was
    // overwritten by the loaded policy (and a team not yet among the options fell back to the
    // first one), so Save sent what the person had not chosen.
    let ready = RwSignal::new(false);
    Effect::new(move |_| {
        let teams_loaded = teams.get().is_some();
        if let (Some(Ok(policy)), true) = (loaded.get(), teams_loaded) {
            mode.set(policy.mode.as_str().to_owned());
            team.set(policy.team_id.map(|t| t.to_string()).unwrap_or_default());
            role.set(policy.role.as_str().to_owned());
            ready.set(true);
        }
    });
    let modes = Signal::derive(move || {
        RegistrationMode::ALL
            .into_iter()
            .map(|m| (m.as_str().to_owned(), m.label().to_owned()))
            .collect::<Vec<_>>()
    });
    let team_options = Signal::derive(move || {
        let mut options = vec![(String::new(), "The Global team".to_owned())];
        if let Some(Ok(page)) = teams.get() {
            options.extend(
                page.items
                    .into_iter()
                    .filter(|t| t.slug != "global")
                    .map(|t| (t.id.to_string(), t.name)),
            );
        }
        options
    });
    let roles = Signal::derive(|| {
        Role::ALL
            .into_iter()
            .filter(|r| *r != Role::Admin)
            .map(|r| (r.as_str().to_owned(), r.label().to_owned()))
            .collect::<Vec<_>>()
    });
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = RegistrationPolicy {
            mode: RegistrationMode::parse(&mode.get_untracked()).unwrap_or_default(),
            team_id: team.get_untracked().parse().ok(),
            role: Role::ALL
                .into_iter()
                .find(|r| r.as_str() == role.get_untracked())
                .unwrap_or(Role::Requester),
        };
        task::run(
            pending,
            async move { api::put::<_, RegistrationPolicy>("/api/registration/policy", &body).await },
            move |r| match r {
                Ok(_) => {
                    banner.set(None);
                    toasts.success("Registration settings saved");
                }
                Err(e) => banner.set(apply_problem(&e, errors, &["mode", "team_id", "role"])),
            },
        );
    };
    view! {
        <section class="card" data-testid="registration-policy">
            <h2 class="card-title">"Registration"</h2>
            <p class="muted small">
                "When open, the sign-in page offers \"Create an account\". New accounts join the team below with the role below; registration never makes administrators. Approve waiting accounts on the Users page."
            </p>
            {(!email_configured)
                .then(|| {
                    view! {
                        <p class="muted small" data-testid="registration-no-email">
                            "E-mail is not set up (PROVISIO_SMTP_URL), so only approval by an administrator can be chosen."
                        </p>
                    }
                })}
            {move || match loaded.get() {
                Some(Err(e)) => view! { <p class="muted">{e.message()}</p> }.into_any(),
                _ if !ready.get() => view! { <p class="muted">"Loading…"</p> }.into_any(),
                _ => {
                    view! {
                        <form class="form" on:submit=on_submit novalidate>
                            <FormBanner banner=banner />
                            <PickField id="registration-mode" label="Who may register" field="mode" errors=errors value=mode options=modes />
                            <PickField id="registration-team" label="Team of new accounts" field="team_id" errors=errors value=team options=team_options />
                            <PickField id="registration-role" label="Role of new accounts" field="role" errors=errors value=role options=roles />
                            <FormActions pending=pending label="Save" busy="Saving…" testid="registration-policy-save" />
                        </form>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}
