use crate::api::ApiErrorView;
use crate::components::feedback::Alert;
use crate::components::form::{Errors, TextField};
use crate::components::shell::Splash;
use crate::pages::register::AuthCard;
use crate::session::{self, use_session, AuthState};
use crate::task;
use leptos::leptos_dom::helpers::IntervalHandle;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use shared::dto::LoginRequest;
use shared::validation::FieldErrors;
use std::time::Duration;

/// Only same-site paths: an open redirect through `?next=` would help phishing.
fn safe_next(next: Option<String>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/login") => p,
        _ => "/".into(),
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let navigate = use_navigate();

    Effect::new(move |_| {
        if session.state.get() == AuthState::SignedIn {
            let next = safe_next(query.with_untracked(|q| q.get("next")));
            navigate(
                &next,
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });

    move || match session.state.get() {
        AuthState::Checking | AuthState::SignedIn => view! { <Splash /> }.into_any(),
        _ => view! { <LoginForm /> }.into_any(),
    }
}

#[component]
fn LoginForm() -> impl IntoView {
    let session = use_session();
    document().set_title("Sign in · Provisio");
    let login = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    // Shown once the server says the account signs in with a second factor.
    let code = RwSignal::new(String::new());
    let asks_code = RwSignal::new(false);
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let wait_secs = RwSignal::new(0u64);
    let ticker = StoredValue::new_local(None::<IntervalHandle>);

    let stop_ticker = move || {
        if let Some(Some(h)) = ticker.try_update_value(|t| t.take()) {
            h.clear();
        }
    };
    on_cleanup(stop_ticker);

    let start_countdown = move |secs: u64| {
        stop_ticker();
        wait_secs.set(secs);
        let handle = set_interval_with_handle(
            move || {
                let left = wait_secs.try_get_untracked().unwrap_or(0).saturating_sub(1);
                wait_secs.set(left);
                if left == 0 {
                    if let Some(Some(h)) = ticker.try_update_value(|t| t.take()) {
                        h.clear();
                    }
                }
            },
            Duration::from_secs(1),
        )
        .ok();
        ticker.set_value(handle);
    };

    let pending = RwSignal::new(false);
    let registration = crate::pages::register::registration_open();
    let on_failure = move |e: ApiErrorView| {
        if e.fields.contains_key("code") {
            asks_code.set(true);
        }
        errors.set(e.fields.clone());
        let message = match e.status {
            429 => {
                start_countdown(e.retry_after.unwrap_or(60));
                String::new()
            }
            // The password was right: the form now asks for the code, which says why.
            422 if e.fields.len() == 1 && e.fields.contains_key("code") => String::new(),
            422 if !e.fields.is_empty() => "Please correct the highlighted fields.".into(),
            _ => e.message(),
        };
        banner.set((!message.is_empty()).then_some(message));
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() || wait_secs.get_untracked() > 0 {
            return;
        }
        let request = LoginRequest {
            login: login.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
            code: Some(code.get_untracked().trim().to_owned()).filter(|c| !c.is_empty()),
        };
        let mut problems = FieldErrors::new();
        if request.login.is_empty() {
            problems.insert("login".into(), vec!["Enter your username or e-mail".into()]);
        }
        if request.password.is_empty() {
            problems.insert("password".into(), vec!["Enter your password".into()]);
        }
        banner.set(None);
        errors.set(problems.clone());
        if problems.is_empty() {
            session.notice.set(None);
            // Success needs no handling here: the session turns SignedIn and the page redirects.
            task::run(pending, session::login(request), move |r| {
                if let Err(e) = r {
                    on_failure(e);
                }
            });
        }
    };

    let button_label = move || {
        if pending.get() {
            "Signing in…".to_string()
        } else {
            "Sign in".to_string()
        }
    };

    view! {
        <AuthCard title="Sign in to Provisio">
                <p class="muted">
                    {move || {
                        if registration.get().is_some_and(|r| r.open) {
                            "Sign in with your account, or create one."
                        } else {
                            "Use the account your administrator created for you."
                        }
                    }}
                </p>
                {move || session.notice.get().map(|n| view! { <Alert message=n kind="info" /> })}
                {move || banner.get().map(|m| view! { <Alert message=m /> })}
                {move || {
                    (wait_secs.get() > 0)
                        .then(|| {
                            let s = wait_secs.get();
                            let unit = if s == 1 { "second" } else { "seconds" };
                            view! {
                                <Alert
                                    message=format!(
                                        "Too many sign-in attempts. Try again in {s} {unit}.",
                                    )
                                    kind="warning"
                                />
                            }
                        })
                }}
                <form class="form" on:submit=on_submit novalidate>
                    <TextField
                        id="login-name"
                        label="Username or e-mail"
                        value=login
                        errors=errors
                        field="login"
                        autocomplete="username"
                        required=true
                        autofocus=true
                    />
                    <TextField
                        id="login-password"
                        label="Password"
                        kind="password"
                        value=password
                        errors=errors
                        field="password"
                        autocomplete="current-password"
                        required=true
                    />
                    <Show when=move || asks_code.get()>
                        <TextField
                            id="login-code"
                            label="Code from your authenticator app"
                            value=code
                            errors=errors
                            field="code"
                            autocomplete="one-time-code"
                            required=true
                            autofocus=true
                            hint="6 digits, or one of your recovery codes."
                        />
                    </Show>
                    <button
                        type="submit"
                        class="btn btn-primary btn-block"
                        disabled=move || { pending.get() || wait_secs.get() > 0 }
                        aria-busy=move || pending.get().then_some("true")
                    >
                        {button_label}
                    </button>
                </form>
                {move || {
                    registration
                        .get()
                        .filter(|r| r.open)
                        .map(|_| {
                            view! {
                                <p class="muted small auth-alt">
                                    "New here? "
                                    <a href="/register" data-testid="register-link">
                                        "Create an account"
                                    </a>
                                </p>
                            }
                        })
                }}
        </AuthCard>
    }
}
