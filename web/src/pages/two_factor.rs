//! Two-factor sign-in on the web: the profile card that sets it up (the QR code for an
//! authenticator app, its first code, the recovery codes shown once), and the administrators'
//! card naming the roles that must use it.

use crate::api;
use crate::components::feedback::{use_toasts, Alert};
use crate::components::form::{
    apply_problem, Errors, FormActions, FormBanner, RolePicker, TextField,
};
use crate::remote::remote;
use crate::session::{self, use_session};
use crate::task;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::two_factor::{RecoveryCodes, TotpCode, TotpEnrolment, TwoFactorPolicy};
use shared::validation::FieldErrors;
use shared::Role;

#[component]
pub fn TwoFactorCard() -> impl IntoView {
    let session = use_session();
    let enrolment = RwSignal::new(None::<TotpEnrolment>);
    let codes = RwSignal::new(None::<Vec<String>>);
    let code = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let state = move || session.me.get().map(|m| m.two_factor).unwrap_or_default();

    let begin = move |_| {
        banner.set(None);
        task::run(
            pending,
            api::post_empty::<TotpEnrolment>("/api/auth/two-factor"),
            move |r| match r {
                Ok(started) => {
                    codes.set(None);
                    enrolment.set(Some(started));
                }
                Err(e) => banner.set(Some(e.message())),
            },
        );
    };
    let on_confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = TotpCode {
            code: code.get_untracked().trim().to_owned(),
        };
        if body.code.is_empty() {
            errors.set(FieldErrors::from([(
                "code".to_owned(),
                vec!["enter the 6-digit code your app shows".to_owned()],
            )]));
            return;
        }
        task::run(
            pending,
            async move { api::post::<_, RecoveryCodes>("/api/auth/two-factor/confirm", &body).await },
            move |r| match r {
                Ok(made) => {
                    enrolment.set(None);
                    code.set(String::new());
                    errors.set(FieldErrors::new());
                    banner.set(None);
                    codes.set(Some(made.codes));
                    // The next token no longer limits the session to this set-up; the new
                    // answer also brings the updated account.
                    spawn_local(async {
                        let _ = session::refresh().await;
                    });
                }
                Err(e) => banner.set(apply_problem(&e, errors, &["code"])),
            },
        );
    };
    let on_cancel = Callback::new(move |_| {
        enrolment.set(None);
        errors.set(FieldErrors::new());
    });

    view! {
        <div class="card" data-testid="two-factor">
            <h2 class="card-title">"Two-factor sign-in"</h2>
            {move || {
                let s = state();
                match (s.enabled, s.required) {
                    (true, _) => view! {
                        <p data-testid="two-factor-status">
                            {format!(
                                "On: signing in asks for the code of your authenticator app. {} recovery codes left.",
                                s.recovery_codes_left
                            )}
                        </p>
                    }.into_any(),
                    (false, true) => view! {
                        <Alert
                            kind="warning"
                            message="Your role signs in with a second factor. Set it up here to use Provisio: until then, other pages answer that it is missing.".to_string()
                        />
                    }.into_any(),
                    (false, false) => view! {
                        <p class="muted" data-testid="two-factor-status">
                            "Off. With it on, signing in also asks for a code from an app on your phone (any TOTP app: FreeOTP, Aegis, Google Authenticator…)."
                        </p>
                    }.into_any(),
                }
            }}
            <FormBanner banner=banner />
            {move || match (enrolment.get(), codes.get()) {
                (_, Some(list)) => view! {
                    <p>
                        "Keep these recovery codes somewhere safe: each signs you in once without your phone. They are shown only now."
                    </p>
                    <ol class="recovery-codes mono" data-testid="recovery-codes">
                        {list.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}
                    </ol>
                    <button type="button" class="btn btn-ghost" on:click=move |_| codes.set(None)>
                        "I have saved them"
                    </button>
                }.into_any(),
                (Some(started), None) => view! {
                    <p>
                        "Scan this code with your authenticator app, or type the key below into it. Then enter the 6-digit code the app shows."
                    </p>
                    <div class="qr-code" role="img" aria-label="QR code of the key" inner_html=started.qr_svg.clone()></div>
                    <p class="small">
                        "Key: " <span class="mono" data-testid="two-factor-secret">{started.secret.clone()}</span>
                    </p>
                    <form class="form" on:submit=on_confirm novalidate>
                        <TextField
                            id="two-factor-code"
                            label="Code from the app"
                            value=code
                            errors=errors
                            field="code"
                            autocomplete="one-time-code"
                            required=true
                            autofocus=true
                        />
                        <FormActions
                            pending=pending
                            label="Turn on"
                            busy="Checking…"
                            on_cancel=on_cancel
                            testid="two-factor-confirm"
                        />
                    </form>
                }.into_any(),
                (None, None) => view! {
                    <button
                        type="button"
                        class="btn btn-primary"
                        data-testid="two-factor-start"
                        disabled=move || pending.get()
                        on:click=begin
                    >
                        {move || if state().enabled { "Set it up again (a new phone)" } else { "Set up two-factor sign-in" }}
                    </button>
                }.into_any(),
            }}
        </div>
    }
}

/// The administrators' card: which roles must sign in with a second factor.
#[component]
pub fn TwoFactorPolicyCard() -> impl IntoView {
    let toasts = use_toasts();
    let loaded = remote::<TwoFactorPolicy>(|| "/api/two-factor/policy".into());
    let selected = RwSignal::new(Vec::<Role>::new());
    Effect::new(move |_| {
        if let Some(Ok(policy)) = loaded.get() {
            selected.set(policy.required_roles);
        }
    });
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = TwoFactorPolicy {
            required_roles: selected.get_untracked(),
        };
        task::run(
            pending,
            async move { api::put::<_, TwoFactorPolicy>("/api/two-factor/policy", &body).await },
            move |r| match r {
                Ok(saved) => {
                    banner.set(None);
                    selected.set(saved.required_roles);
                    toasts.success("Two-factor policy saved");
                }
                Err(e) => banner.set(apply_problem(&e, errors, &["required_roles"])),
            },
        );
    };
    view! {
        <section class="card" data-testid="two-factor-policy">
            <h2 class="card-title">"Two-factor sign-in"</h2>
            <p class="muted small">
                "Members of the roles ticked must sign in with a code from an authenticator app. Until they set it up on their profile page, that is all their session may do. API tokens are not asked for a code; an administrator can reset a user's second factor from the Users page."
            </p>
            <form class="form" on:submit=on_submit novalidate>
                <FormBanner banner=banner />
                <RolePicker prefix="two-factor" selected=selected errors=errors />
                <FormActions pending=pending label="Save" busy="Saving…" testid="two-factor-policy-save" />
            </form>
        </section>
    }
}
