//! Running a script: the servers to run it on and one typed input per variable, checked with the
//! shared `resolve_values` before the run is queued.

use crate::api;
use crate::components::feedback::{Alert, SkeletonRows};
use crate::components::form::{
    apply_problem, described_by, field_message, Errors, FieldError, FormActions, FormBanner,
};
use crate::components::modal::Modal;
use crate::pages::script_schema::{kind_label, value_text};
use crate::pages::servers::ServerBadge;
use crate::remote::remote;
use crate::task;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use serde_json::Value;
use shared::dto::Page;
use shared::scripts::{resolve_values, RunScript, VariableKind, VariableSpec};
use shared::servers::{Accepted, Server, ServerStatus};
use shared::validation::FieldErrors;
use std::collections::BTreeMap;
use uuid::Uuid;

/// What the run form needs of the script: its saved, current version.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTarget {
    pub script_id: Uuid,
    pub name: String,
    pub version: i32,
    pub variables: Vec<VariableSpec>,
}

/// The inputs start from the defaults; a checkbox always has a value.
fn initial_values(schema: &[VariableSpec]) -> BTreeMap<String, String> {
    schema
        .iter()
        .map(|spec| {
            let text = spec.default.as_ref().map(value_text).unwrap_or_default();
            let text = match spec.kind {
                VariableKind::Bool if text != "true" => "false".to_string(),
                _ => text,
            };
            (spec.name.clone(), text)
        })
        .collect()
}

#[component]
pub fn RunScriptDialog(
    target: RunTarget,
    /// The editor holds changes that are not saved, so not part of the run.
    #[prop(into)]
    unsaved: Signal<bool>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let navigate = use_navigate();
    let servers = remote::<Page<Server>>(|| "/api/servers?per_page=200".into());
    let selected = RwSignal::new(Vec::<Uuid>::new());
    let values = RwSignal::new(initial_values(&target.variables));
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let schema = StoredValue::new(target.variables.clone());
    let script_id = target.script_id;

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // Blank inputs are left out, so that defaults apply and required ones are reported.
        let given: BTreeMap<String, Value> = values
            .get_untracked()
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let mut problems = FieldErrors::new();
        let variables = schema
            .with_value(|s| resolve_values(s, &given))
            .unwrap_or_else(|e| {
                problems.extend(e);
                BTreeMap::new()
            });
        let body = RunScript {
            server_ids: selected.get_untracked(),
            variables,
            version: None,
            timeout_secs: None,
        };
        if body.server_ids.is_empty() {
            problems.insert(
                "server_ids".into(),
                vec!["choose at least one server".into()],
            );
        } else if let Err(e) = body.validate() {
            problems.extend(e);
        }
        errors.set(problems.clone());
        if !problems.is_empty() {
            banner.set(Some("Please correct the highlighted fields.".into()));
            return;
        }
        banner.set(None);
        let navigate = navigate.clone();
        task::run(
            pending,
            async move {
                api::post::<_, Accepted>(&format!("/api/scripts/{script_id}/run"), &body).await
            },
            move |result| match result {
                Ok(accepted) => navigate(
                    &format!("/runs/{}", accepted.execution_id),
                    Default::default(),
                ),
                Err(e) => {
                    let mut known: Vec<&str> = vec!["server_ids"];
                    known.extend(
                        e.fields
                            .keys()
                            .map(String::as_str)
                            .filter(|k| k.starts_with("variables.")),
                    );
                    banner.set(apply_problem(&e, errors, &known));
                }
            },
        );
    };

    let summary = move || {
        let count = selected.with(Vec::len);
        let servers = if count == 1 {
            "1 server".to_string()
        } else {
            format!("{count} servers")
        };
        format!("Runs version {} on {servers}.", target.version)
    };

    view! {
        <Modal title=format!("Run {}", target.name) on_close=on_close wide=true>
            <form class="form" data-testid="run-form" on:submit=on_submit novalidate>
                {move || {
                    unsaved
                        .get()
                        .then(|| {
                            view! {
                                <Alert
                                    kind="warning"
                                    message="The editor has unsaved changes. The run uses the saved version; save first to run your changes."
                                />
                            }
                        })
                }}
                <FormBanner banner=banner />
                <fieldset class="field checkbox-group">
                    <legend>"Servers"</legend>
                    {move || match servers.get() {
                        None => view! { <SkeletonRows rows=2 /> }.into_any(),
                        Some(Err(e)) => {
                            view! { <Alert message=format!("The servers could not be loaded: {}", e.message()) /> }
                                .into_any()
                        }
                        Some(Ok(page)) if page.items.is_empty() => {
                            view! { <p class="muted">"There is no server to run on yet."</p> }.into_any()
                        }
                        Some(Ok(page)) => {
                            view! { <ServerChecklist servers=page.items selected=selected errors=errors /> }
                                .into_any()
                        }
                    }}
                    <FieldError errors=errors field="server_ids" id="run-servers-error".to_string() />
                </fieldset>
                {(!target.variables.is_empty())
                    .then(|| {
                        view! {
                            <fieldset class="field checkbox-group">
                                <legend>"Variables"</legend>
                                <div class="form-grid">
                                    {target
                                        .variables
                                        .iter()
                                        .cloned()
                                        .map(|spec| view! { <VariableInput spec=spec values=values errors=errors /> })
                                        .collect_view()}
                                </div>
                            </fieldset>
                        }
                    })}
                <p class="muted small" aria-live="polite">{summary}</p>
                <FormActions
                    pending=pending
                    label="Run playbook"
                    busy="Starting…"
                    on_cancel=on_close
                    testid="run-submit"
                />
            </form>
        </Modal>
    }
}

/// Only running servers can be reached; the others are listed, disabled, with their status.
#[component]
fn ServerChecklist(
    servers: Vec<Server>,
    selected: RwSignal<Vec<Uuid>>,
    errors: Errors,
) -> impl IntoView {
    let running: Vec<Uuid> = servers
        .iter()
        .filter(|s| s.status == ServerStatus::Running)
        .map(|s| s.id)
        .collect();
    let none_running = running.is_empty();
    let running = StoredValue::new(running);
    let all_chosen = move || {
        running
            .with_value(|r| !r.is_empty() && selected.with(|s| r.iter().all(|id| s.contains(id))))
    };
    let toggle_all = move |_| {
        let choose = !all_chosen();
        selected.set(if choose {
            running.get_value()
        } else {
            Vec::new()
        });
        errors.update(|e| {
            e.remove("server_ids");
        });
    };
    view! {
        {if none_running {
            view! { <p class="muted small">"No server is running: start one to run the playbook on it."</p> }
                .into_any()
        } else {
            view! {
                <div>
                    <button type="button" class="btn btn-ghost btn-sm" on:click=toggle_all>
                        {move || if all_chosen() { "Clear selection" } else { "Select all running" }}
                    </button>
                </div>
            }
                .into_any()
        }}
        <div class="checkbox-list run-servers">
            {servers
                .into_iter()
                .map(|s| {
                    let id = s.id;
                    let input_id = format!("run-server-{id}");
                    let label_for = input_id.clone();
                    let reachable = s.status == ServerStatus::Running;
                    view! {
                        <label class="check" class:check-disabled=!reachable for=label_for>
                            <input
                                type="checkbox"
                                id=input_id
                                data-testid=format!("run-server-{}", s.name)
                                disabled=!reachable
                                prop:checked=move || selected.with(|v| v.contains(&id))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    selected.update(|v| {
                                        v.retain(|x| *x != id);
                                        if on {
                                            v.push(id);
                                        }
                                    });
                                    errors.update(|e| {
                                        e.remove("server_ids");
                                    });
                                }
                            />
                            <span class="mono">{s.name}</span>
                            <ServerBadge status=s.status />
                            <span class="muted small">{s.team.name}</span>
                        </label>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// One input of the type the variable declares; its messages are keyed `variables.<name>`.
#[component]
fn VariableInput(
    spec: VariableSpec,
    values: RwSignal<BTreeMap<String, String>>,
    errors: Errors,
) -> impl IntoView {
    let name = spec.name.clone();
    let field = format!("variables.{name}");
    let input_id = format!("run-var-input-{name}");
    let error_id = format!("{input_id}-error");
    let hint_id = format!("{input_id}-hint");
    let testid = format!("run-var-{name}");
    let current = {
        let name = name.clone();
        move || values.with(|v| v.get(&name).cloned().unwrap_or_default())
    };
    let set = {
        let (name, field) = (name.clone(), field.clone());
        move |text: String| {
            values.update(|v| {
                v.insert(name.clone(), text);
            });
            if errors.with_untracked(|e| e.contains_key(&field)) {
                errors.update(|e| {
                    e.remove(&field);
                });
            }
        }
    };
    let invalid = {
        let field = field.clone();
        move || field_message(errors, &field).is_some().then_some("true")
    };
    let described = {
        let field = field.clone();
        described_by(
            (!spec.description.is_empty()).then(|| hint_id.clone()),
            error_id.clone(),
            move || field_message(errors, &field).is_some(),
        )
    };
    let required_mark = spec.required.then(|| {
        view! {
            <span class="required-mark" aria-hidden="true">" *"</span>
            <span class="sr-only">" (required)"</span>
        }
    });
    let caption = view! {
        <span class="mono">{name.clone()}</span>
        {required_mark}
        <span class="badge badge-muted var-kind">{kind_label(spec.kind)}</span>
    };
    let control = match spec.kind {
        VariableKind::Bool => view! {
            <label class="check" for=input_id.clone()>
                <input
                    type="checkbox"
                    id=input_id.clone()
                    data-testid=testid
                    aria-invalid=invalid
                    aria-describedby=described
                    prop:checked=move || current() == "true"
                    on:change=move |ev| set(event_target_checked(&ev).to_string())
                />
                {caption}
            </label>
        }
        .into_any(),
        VariableKind::Choice => {
            let placeholder = if spec.required && spec.default.is_none() {
                "Choose…"
            } else {
                "—"
            };
            let chosen = values.with_untracked(|v| v.get(&name).cloned().unwrap_or_default());
            view! {
                <label for=input_id.clone()>{caption}</label>
                <select
                    id=input_id.clone()
                    data-testid=testid
                    aria-invalid=invalid
                    aria-describedby=described
                    on:change=move |ev| set(event_target_value(&ev))
                >
                    <option value="" selected=chosen.is_empty()>{placeholder}</option>
                    {spec
                        .options
                        .iter()
                        .map(|o| {
                            let selected = *o == chosen;
                            view! { <option value=o.clone() selected=selected>{o.clone()}</option> }
                        })
                        .collect_view()}
                </select>
            }
            .into_any()
        }
        kind => {
            let (input_type, autocomplete) = match kind {
                VariableKind::Int => ("number", "off"),
                VariableKind::Secret => ("password", "new-password"),
                _ => ("text", "off"),
            };
            view! {
                <label for=input_id.clone()>{caption}</label>
                <input
                    type=input_type
                    id=input_id.clone()
                    data-testid=testid
                    step=(kind == VariableKind::Int).then_some("1")
                    autocomplete=autocomplete
                    required=spec.required
                    aria-invalid=invalid
                    aria-describedby=described
                    prop:value=current
                    on:input=move |ev| set(event_target_value(&ev))
                />
            }
            .into_any()
        }
    };
    let hint = (!spec.description.is_empty()).then(|| {
        view! { <p class="field-hint" id=hint_id>{spec.description.clone()}</p> }
    });
    view! {
        <div class="field">
            {control}
            {hint}
            <FieldError errors=errors field=field id=error_id />
        </div>
    }
}
