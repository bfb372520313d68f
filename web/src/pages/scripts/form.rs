//! The script editor (playbook, variables, the server-side check, saving) and what it holds
//! as a plain draft.

use super::draft::{differs, ScriptDraft};
use super::versions::{VersionDialog, VersionsCard};
use crate::api::{self, ApiErrorView};
use crate::components::code_editor::CodeEditor;
use crate::components::feedback::use_toasts;
use crate::components::form::{apply_problem, Errors, FormBanner, TeamPicker, TextArea, TextField};
use crate::components::removal::{use_removal, RemoveButton};
use crate::pages::script_run::{RunScriptDialog, RunTarget};
use crate::pages::script_schema::{rows_of, VariablesEditor};
use crate::session::use_session;
use crate::task;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use shared::roles::Permission;
use shared::scripts::{SaveScript, Script, ScriptVersion};
use shared::validation::FieldErrors;
use uuid::Uuid;

/// Fields of [`SaveScript`] that have an input of their own; `variables[i].…` go on their row.
const SCRIPT_FIELDS: &[&str] = &["name", "description", "content", "team_id", "variables"];

fn show_problem(error: &ApiErrorView, errors: Errors, banner: RwSignal<Option<String>>) {
    let mut known = SCRIPT_FIELDS.to_vec();
    known.extend(
        error
            .fields
            .keys()
            .map(String::as_str)
            .filter(|k| k.starts_with("variables[")),
    );
    banner.set(apply_problem(error, errors, &known));
}

#[component]
pub(super) fn ScriptEditor(initial: Option<Script>, show_version: Option<i32>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let is_new = initial.is_none();
    let start = ScriptDraft::from_dto(initial.as_ref());
    let name = RwSignal::new(start.name);
    let description = RwSignal::new(start.description);
    let content = RwSignal::new(start.content);
    let rows = RwSignal::new(start.rows);
    let team = RwSignal::new(start.team);
    let saved = RwSignal::new(initial);
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let checking = RwSignal::new(false);
    // The draft that last passed the server's check.
    let checked = RwSignal::new(None::<SaveScript>);
    let viewing = RwSignal::new(show_version);
    let running = RwSignal::new(false);
    let removal = use_removal::<Uuid>();

    let draft = Memo::new(move |_| {
        ScriptDraft {
            name: name.get(),
            description: description.get(),
            content: content.get(),
            rows: rows.get(),
            team: team.get(),
        }
        .to_request(is_new)
    });
    let unsaved = Memo::new(move |_| {
        saved.with(|s| s.as_ref().is_none_or(|s| draft.with(|d| differs(s, d))))
    });
    let passed_check = Memo::new(move |_| checked.with(|c| c.as_ref() == Some(&draft.get())));
    let script_id = Memo::new(move |_| saved.with(|s| s.as_ref().map(|s| s.id)));

    // Checks in the browser first; `None` when there is something to correct.
    let prepared = move || {
        rows.update(|r| r.retain(|r| !r.is_blank()));
        let body = draft.get_untracked();
        match body.validate() {
            Ok(()) => {
                errors.set(FieldErrors::new());
                banner.set(None);
                Some(body)
            }
            Err(problems) => {
                errors.set(problems);
                banner.set(Some("Please correct the highlighted fields.".into()));
                None
            }
        }
    };
    let check = move |_| {
        let Some(body) = prepared() else {
            return;
        };
        let sent = body.clone();
        task::run(
            checking,
            async move { api::post_no_content("/api/scripts/validate", &sent).await },
            move |result| match result {
                Ok(()) => {
                    checked.set(Some(body));
                    toasts.success("No problems found");
                }
                Err(e) => show_problem(&e, errors, banner),
            },
        );
    };
    let navigate_away = navigate.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(body) = prepared() else {
            return;
        };
        let navigate = navigate.clone();
        let previous = saved.with_untracked(|s| s.as_ref().map(|s| (s.id, s.current.version)));
        task::run(
            saving,
            async move {
                match previous {
                    None => api::post::<_, Script>("/api/scripts", &body).await,
                    Some((id, _)) => {
                        api::put::<_, Script>(&format!("/api/scripts/{id}"), &body).await
                    }
                }
            },
            move |result| match result {
                Ok(script) => match previous {
                    None => {
                        toasts.success(format!("Script {} created", script.name));
                        navigate(
                            &format!("/scripts/{}", script.id),
                            NavigateOptions {
                                replace: true,
                                ..Default::default()
                            },
                        );
                    }
                    Some((_, version)) => {
                        toasts.success(if script.current.version > version {
                            format!("Saved as version {}", script.current.version)
                        } else {
                            "Saved".to_string()
                        });
                        saved.set(Some(script));
                    }
                },
                Err(e) => show_problem(&e, errors, banner),
            },
        );
    };
    let delete = move |id: Uuid| {
        let navigate = navigate_away.clone();
        removal.delete(format!("/api/scripts/{id}"), move |_| {
            toasts.success("Script deleted");
            navigate("/scripts", Default::default());
        });
    };
    let restore = Callback::new(move |version: ScriptVersion| {
        content.set(version.content);
        rows.set(rows_of(&version.variables));
        errors.set(FieldErrors::new());
        viewing.set(None);
        toasts.success(format!(
            "Version {} is in the editor: save to make it current",
            version.version
        ));
    });
    let run_target = move || {
        saved.with(|s| {
            s.as_ref().map(|s| RunTarget {
                script_id: s.id,
                name: s.name.clone(),
                version: s.current.version,
                variables: s.current.variables.clone(),
            })
        })
    };

    view! {
        <header class="page-header">
            <div>
                <h1>
                    {move || saved.with(|s| s.as_ref().map(|s| s.name.clone()).unwrap_or_else(|| "New script".into()))}
                </h1>
                <p class="muted">
                    {move || match saved.get() {
                        Some(s) => {
                            view! {
                                <span data-testid="script-version" data-version=s.current.version>
                                    {format!("version {}", s.current.version)}
                                </span>
                                " · "
                                {s.team.name.clone()}
                                {s.builtin.then(|| view! { <span class="badge badge-muted">"built-in"</span> })}
                            }
                                .into_any()
                        }
                        None => "Write the playbook and declare its variables; every saved change is a new version."
                            .into_any(),
                    }}
                </p>
            </div>
            {move || {
                script_id
                    .get()
                    .map(|id| {
                        view! {
                            <div class="actions">
                                {session
                                    .can(Permission::ExecutionsRun)
                                    .then(|| {
                                        view! {
                                            <button
                                                type="button"
                                                class="btn btn-primary"
                                                data-testid="script-run"
                                                on:click=move |_| running.set(true)
                                            >
                                                "Run"
                                            </button>
                                        }
                                    })}
                                <RemoveButton removal=removal item=id testid="script-delete" large=true />
                            </div>
                        }
                    })
            }}
        </header>
        <div class="script-layout">
            <form class="card form" data-testid="script-form" on:submit=save novalidate>
                <FormBanner banner=banner />
                <div class="form-grid">
                    <TextField
                        id="script-name"
                        label="Name"
                        value=name
                        errors=errors
                        field="name"
                        autocomplete="off"
                        placeholder="e.g. install-nginx"
                        required=true
                        testid="script-name"
                    />
                    {is_new.then(|| view! { <TeamPicker id="script-team" team=team errors=errors /> })}
                </div>
                <TextArea
                    id="script-description"
                    label="Description"
                    value=description
                    errors=errors
                    field="description"
                    rows=2
                    placeholder="What the playbook does, and when to run it"
                />
                <CodeEditor
                    id="script-content"
                    label="Playbook (YAML)"
                    value=content
                    errors=errors
                    field="content"
                    testid="script-content"
                    hint="Runs against the servers chosen at run time: target `hosts: all`."
                />
                <VariablesEditor rows=rows errors=errors />
                <div class="form-actions">
                    <span class="check-status" role="status">
                        {move || {
                            if passed_check.get() {
                                "✓ The server found no problems"
                            } else if script_id.get().is_some() && unsaved.get() {
                                "Unsaved changes"
                            } else {
                                ""
                            }
                        }}
                    </span>
                    <button
                        type="button"
                        class="btn btn-ghost"
                        data-testid="script-check"
                        disabled=move || checking.get()
                        aria-busy=move || checking.get().then_some("true")
                        on:click=check
                    >
                        {move || if checking.get() { "Checking…" } else { "Check" }}
                    </button>
                    <button
                        type="submit"
                        class="btn btn-primary"
                        data-testid="script-save"
                        disabled=move || saving.get()
                        aria-busy=move || saving.get().then_some("true")
                    >
                        {move || if saving.get() { "Saving…" } else if is_new { "Create script" } else { "Save" }}
                    </button>
                </div>
            </form>
            <VersionsCard saved=saved viewing=viewing />
        </div>
        {move || {
            viewing
                .get()
                .zip(script_id.get())
                .map(|(version, id)| {
                    let current = saved.with_untracked(|s| s.as_ref().map(|s| s.current.version)) == Some(version);
                    view! {
                        <VersionDialog
                            script_id=id
                            version=version
                            current=current
                            on_restore=restore
                            on_close=move |_| viewing.set(None)
                        />
                    }
                })
        }}
        {move || {
            running
                .get()
                .then(run_target)
                .flatten()
                .map(|target| {
                    view! { <RunScriptDialog target=target unsaved=unsaved on_close=move |_| running.set(false) /> }
                })
        }}
        {removal
            .dialog(
                "Delete script",
                move |_| {
                    let name = saved.with_untracked(|s| s.as_ref().map(|s| s.name.clone()).unwrap_or_default());
                    (
                        format!("Delete {name}?"),
                        "The script and all its versions are deleted. Past runs keep their logs.".into(),
                    )
                },
                delete,
            )}
    }
}
