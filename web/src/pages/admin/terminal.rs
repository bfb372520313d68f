//! The programs a project's terminal may start, and how long an idle session stays open.

use super::AdminHeader;
use crate::api;
use crate::components::feedback::{use_toasts, ErrorBanner, SkeletonRows};
use crate::components::form::{
    apply_problem, Errors, FieldError, FormActions, FormBanner, TextField,
};
use crate::remote::remote;
use crate::task;
use leptos::prelude::*;
use shared::terminal::{program_name, TerminalSettings};
use shared::validation::FieldErrors;

#[component]
pub fn TerminalProgramsPage() -> impl IntoView {
    let saved = remote::<TerminalSettings>(|| "/api/terminal/settings".into());
    let retry = Callback::new(move |_| saved.refetch());
    view! {
        <section class="page">
            <AdminHeader
                title="Terminal programs"
                intro="Technical agents open a terminal in a project's checkout and may start only these programs, by name, with no shell in between. Whatever a listed program can do, they can do on this machine: list only what you trust them with."
            />
            {move || match saved.get() {
                None => view! { <SkeletonRows rows=3 /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(settings)) => {
                    view! { <ProgramsForm settings=settings on_saved=move |s| saved.set(s) /> }
                        .into_any()
                }
            }}
        </section>
    }
}

#[component]
fn ProgramsForm(
    settings: TerminalSettings,
    #[prop(into)] on_saved: Callback<TerminalSettings>,
) -> impl IntoView {
    let toasts = use_toasts();
    let programs = RwSignal::new(settings.allowed_commands);
    let new_program = RwSignal::new(String::new());
    let idle_minutes = RwSignal::new((settings.idle_timeout_secs / 60).max(1).to_string());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let refuse = move |field: &str, message: String| {
        errors.update(|e| {
            e.insert(field.to_owned(), vec![message]);
        })
    };
    let add = move || {
        let name = new_program.get_untracked().trim().to_owned();
        if name.is_empty() {
            refuse("new_program", "Type a program's name, e.g. npm.".into());
            return;
        }
        if let Err(e) = program_name(&name) {
            refuse("new_program", e);
            return;
        }
        if programs.with_untracked(|p| p.contains(&name)) {
            refuse("new_program", format!("{name} is already allowed."));
            return;
        }
        programs.update(|p| p.push(name));
        new_program.set(String::new());
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        banner.set(None);
        errors.set(FieldErrors::new());
        let Ok(minutes) = idle_minutes.get_untracked().trim().parse::<u32>() else {
            refuse(
                "idle_timeout_secs",
                "Enter whole minutes, from 1 to 1440.".into(),
            );
            return;
        };
        let body = TerminalSettings {
            allowed_commands: programs.get_untracked(),
            idle_timeout_secs: minutes.saturating_mul(60),
        };
        if let Err(e) = body.validate() {
            errors.set(e);
            return;
        }
        task::run(
            pending,
            async move { api::put::<_, TerminalSettings>("/api/terminal/settings", &body).await },
            move |result| match result {
                Ok(saved) => {
                    toasts.success("Terminal programs saved");
                    on_saved.run(saved);
                }
                Err(e) => banner.set(apply_problem(
                    &e,
                    errors,
                    &["allowed_commands", "idle_timeout_secs"],
                )),
            },
        );
    };
    view! {
        <form class="card form" on:submit=on_submit novalidate>
            <FormBanner banner=banner />
            <h2 class="card-title">"Allowed programs"</h2>
            {move || {
                let list = programs.get();
                if list.is_empty() {
                    view! {
                        <p class="muted" data-testid="terminal-programs">
                            "None: terminals open, but every program is refused."
                        </p>
                    }
                        .into_any()
                } else {
                    view! {
                        <ul class="chip-list" data-testid="terminal-programs">
                            {list
                                .into_iter()
                                .map(|name| {
                                    let label = format!("Remove {name}");
                                    let gone = name.clone();
                                    view! {
                                        <li class="chip">
                                            <span>{name}</span>
                                            <button
                                                type="button"
                                                class="btn btn-ghost btn-sm"
                                                aria-label=label
                                                on:click=move |_| programs.update(|p| p.retain(|n| *n != gone))
                                            >
                                                "×"
                                            </button>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }
            }}
            <FieldError errors=errors field="allowed_commands" id="allowed-commands-error".to_owned() />
            <div class="form-row" on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                // Enter in the name field adds the program instead of saving the form.
                if ev.key() == "Enter" {
                    ev.prevent_default();
                    add();
                }
            }>
                <TextField
                    id="terminal-new-program"
                    label="Program to allow"
                    value=new_program
                    errors=errors
                    field="new_program"
                    placeholder="npm"
                    hint="A name looked up on the server's PATH, not a path: git, make, npm, python3."
                />
                <div class="form-actions">
                    <button type="button" class="btn btn-ghost" on:click=move |_| add()>
                        "Add program"
                    </button>
                </div>
            </div>
            <TextField
                id="terminal-idle"
                label="Close idle sessions after (minutes)"
                value=idle_minutes
                errors=errors
                field="idle_timeout_secs"
                kind="number"
                required=true
                hint="A session with neither input nor output for this long is closed; 1 to 1440 minutes."
            />
            <FormActions pending=pending label="Save programs" busy="Saving…" testid="terminal-save" />
        </form>
    }
}
