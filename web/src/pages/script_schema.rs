//! The variable schema of a script as editable rows (name, kind, required, default, options,
//! description). The shared schema check keys its messages `variables[i].cell`; they are shown
//! on the row they concern.

use crate::components::form::{next_row_id, Errors, FieldError};
use leptos::prelude::*;
use serde_json::Value;
use shared::scripts::{VariableKind, VariableSpec};

/// One variable as typed: every cell a string until it becomes a [`VariableSpec`].
#[derive(Debug, Clone, PartialEq)]
pub struct VariableRow {
    pub id: u32,
    pub name: String,
    pub kind: VariableKind,
    pub required: bool,
    pub default: String,
    /// Comma separated, for a choice.
    pub options: String,
    pub description: String,
}

impl VariableRow {
    pub fn blank() -> Self {
        Self {
            id: next_row_id(),
            name: String::new(),
            kind: VariableKind::String,
            required: false,
            default: String::new(),
            options: String::new(),
            description: String::new(),
        }
    }

    pub fn of(spec: &VariableSpec) -> Self {
        Self {
            id: next_row_id(),
            name: spec.name.clone(),
            kind: spec.kind,
            required: spec.required,
            default: spec.default.as_ref().map(value_text).unwrap_or_default(),
            options: spec.options.join(", "),
            description: spec.description.clone(),
        }
    }

    /// Rows never touched are dropped before saving.
    pub fn is_blank(&self) -> bool {
        self.name.trim().is_empty()
            && self.default.trim().is_empty()
            && self.options.trim().is_empty()
            && self.description.trim().is_empty()
    }

    /// The spec as the API takes it. Text that is not of the declared type is kept as a
    /// string, so that the schema check names the problem on its cell.
    pub fn to_spec(&self) -> VariableSpec {
        let raw = self.default.trim();
        let default = if raw.is_empty() {
            None
        } else {
            Some(match self.kind {
                VariableKind::Int => raw
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(raw.to_owned())),
                VariableKind::Bool if raw == "true" || raw == "false" => Value::Bool(raw == "true"),
                VariableKind::String => Value::String(self.default.clone()),
                _ => Value::String(raw.to_owned()),
            })
        };
        let options = if self.kind == VariableKind::Choice {
            self.options
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect()
        } else {
            Vec::new()
        };
        VariableSpec {
            name: self.name.trim().to_owned(),
            kind: self.kind,
            required: self.required,
            default,
            options,
            description: self.description.trim().to_owned(),
        }
    }
}

/// A JSON value as a person types it: strings without quotes.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn rows_of(specs: &[VariableSpec]) -> Vec<VariableRow> {
    specs.iter().map(VariableRow::of).collect()
}

pub fn kind_label(kind: VariableKind) -> &'static str {
    match kind {
        VariableKind::String => "Text",
        VariableKind::Int => "Whole number",
        VariableKind::Bool => "Yes / no",
        VariableKind::Choice => "Choice",
        VariableKind::Secret => "Secret",
    }
}

/// The cells of a row, in column order: the suffix of their error keys and their heading.
const CELLS: [(&str, &str); 6] = [
    ("name", "Name"),
    ("kind", "Kind"),
    ("required", "Required"),
    ("default", "Default"),
    ("options", "Options"),
    ("description", "Description"),
];

#[component]
pub fn VariablesEditor(rows: RwSignal<Vec<VariableRow>>, errors: Errors) -> impl IntoView {
    let has_rows = Memo::new(move |_| rows.with(|r| !r.is_empty()));
    view! {
        <fieldset class="field schema-editor">
            <legend>"Variables"</legend>
            <p class="field-hint">
                "Passed to Ansible as extra vars of the same name. Secrets are stored sealed, never shown again and masked in logs."
            </p>
            {move || {
                (!has_rows.get()).then(|| view! { <p class="muted small">"This playbook takes no variables."</p> })
            }}
            <div class="schema-scroll">
                <div class="schema-grid">
                    {move || {
                        has_rows
                            .get()
                            .then(|| {
                                view! {
                                    {CELLS
                                        .iter()
                                        .map(|(_, heading)| {
                                            view! { <span class="rows-head" aria-hidden="true">{*heading}</span> }
                                        })
                                        .collect_view()}
                                    <span></span>
                                }
                            })
                    }}
                    <For
                        each=move || rows.get()
                        key=|r| r.id
                        children=move |row| view! { <VariableRowCells id=row.id rows=rows errors=errors /> }
                    />
                </div>
            </div>
            <div>
                <button
                    type="button"
                    class="btn btn-ghost btn-sm"
                    on:click=move |_| rows.update(|all| all.push(VariableRow::blank()))
                >
                    "+ Add variable"
                </button>
            </div>
            <FieldError errors=errors field="variables" id="variables-error".to_string() />
        </fieldset>
    }
}

/// Applies `change` to the row `id` and drops the message about its `cell`, now out of date.
fn update_row(
    rows: RwSignal<Vec<VariableRow>>,
    errors: Errors,
    id: u32,
    cell: &str,
    change: impl FnOnce(&mut VariableRow),
) {
    let mut position = None;
    rows.update(|all| {
        if let Some((i, r)) = all.iter_mut().enumerate().find(|(_, r)| r.id == id) {
            change(r);
            position = Some(i);
        }
    });
    if let Some(i) = position {
        let key = format!("variables[{i}].{cell}");
        if errors.with_untracked(|e| e.contains_key(&key)) {
            errors.update(|e| {
                e.remove(&key);
            });
        }
    }
}

#[component]
fn VariableRowCells(id: u32, rows: RwSignal<Vec<VariableRow>>, errors: Errors) -> impl IntoView {
    let position = Memo::new(move |_| rows.with(|all| all.iter().position(|r| r.id == id)));
    let row = Memo::new(move |_| rows.with(|all| all.iter().find(|r| r.id == id).cloned()));
    let kind =
        Memo::new(move |_| row.with(|r| r.as_ref().map_or(VariableKind::String, |r| r.kind)));
    let read = move |f: fn(&VariableRow) -> String| {
        move || row.with(|r| r.as_ref().map(f).unwrap_or_default())
    };
    let number = move || position.get().map_or(0, |i| i + 1);
    let label = move |what: &'static str| move || format!("Variable {} {what}", number());
    let message = move |cell: &str| {
        let key = format!("variables[{}].{cell}", position.get()?);
        errors.with(|e| e.get(&key).map(|m| m.join("; ")))
    };
    let invalid = move |cell: &'static str| move || message(cell).is_some().then_some("true");
    let problems = move || {
        CELLS
            .iter()
            .filter_map(|(cell, heading)| message(cell).map(|m| format!("{heading}: {m}")))
            .collect::<Vec<_>>()
    };

    view! {
        <input
            type="text"
            class="mono"
            autocomplete="off"
            spellcheck="false"
            placeholder="e.g. message"
            aria-label=label("name")
            aria-invalid=invalid("name")
            prop:value=read(|r| r.name.clone())
            on:input=move |ev| {
                let text = event_target_value(&ev);
                update_row(rows, errors, id, "name", |r| r.name = text);
            }
        />
        <select
            aria-label=label("kind")
            aria-invalid=invalid("kind")
            prop:value=move || kind.get().as_str()
            on:change=move |ev| {
                let Some(next) = VariableKind::parse(&event_target_value(&ev)) else {
                    return;
                };
                update_row(rows, errors, id, "kind", |r| {
                    r.kind = next;
                    // A default typed for the old kind would not fit these inputs.
                    if matches!(next, VariableKind::Secret | VariableKind::Bool) {
                        r.default.clear();
                    }
                });
            }
        >
            {VariableKind::ALL
                .into_iter()
                .map(|k| {
                    view! {
                        <option value=k.as_str() selected=move || kind.get() == k>
                            {kind_label(k)}
                        </option>
                    }
                })
                .collect_view()}
        </select>
        <label class="check schema-required">
            <input
                type="checkbox"
                aria-label=label("required")
                prop:checked=move || row.with(|r| r.as_ref().is_some_and(|r| r.required))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    update_row(rows, errors, id, "required", |r| r.required = on);
                }
            />
            <span aria-hidden="true">"Required"</span>
        </label>
        {move || match kind.get() {
            VariableKind::Bool => {
                let current = row.with_untracked(|r| r.as_ref().map(|r| r.default.clone()).unwrap_or_default());
                view! {
                    <select
                        aria-label=label("default")
                        aria-invalid=invalid("default")
                        on:change=move |ev| {
                            let text = event_target_value(&ev);
                            update_row(rows, errors, id, "default", |r| r.default = text);
                        }
                    >
                        {[("", "No default"), ("true", "Yes"), ("false", "No")]
                            .into_iter()
                            .map(|(value, text)| {
                                view! {
                                    <option value=value selected=current == value>
                                        {text}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                }
                    .into_any()
            }
            current => {
                let secret = current == VariableKind::Secret;
                view! {
                    <input
                        type=if current == VariableKind::Int { "number" } else { "text" }
                        autocomplete="off"
                        disabled=secret
                        placeholder=if secret { "Secrets have no default" } else { "None" }
                        aria-label=label("default")
                        aria-invalid=invalid("default")
                        prop:value=read(|r| r.default.clone())
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            update_row(rows, errors, id, "default", |r| r.default = text);
                        }
                    />
                }
                    .into_any()
            }
        }}
        <input
            type="text"
            autocomplete="off"
            disabled=move || kind.get() != VariableKind::Choice
            placeholder=move || {
                if kind.get() == VariableKind::Choice { "small, medium, large" } else { "Only for a choice" }
            }
            aria-label=label("options")
            aria-invalid=invalid("options")
            prop:value=read(|r| r.options.clone())
            on:input=move |ev| {
                let text = event_target_value(&ev);
                update_row(rows, errors, id, "options", |r| r.options = text);
            }
        />
        <input
            type="text"
            autocomplete="off"
            aria-label=label("description")
            aria-invalid=invalid("description")
            prop:value=read(|r| r.description.clone())
            on:input=move |ev| {
                let text = event_target_value(&ev);
                update_row(rows, errors, id, "description", |r| r.description = text);
            }
        />
        <button
            type="button"
            class="btn btn-ghost btn-sm rows-remove"
            aria-label=move || format!("Remove variable {}", number())
            title="Remove this variable"
            on:click=move |_| {
                rows.update(|all| all.retain(|r| r.id != id));
                // Messages are keyed by position, which just shifted.
                errors.update(|e| e.retain(|k, _| !k.starts_with("variables[")));
            }
        >
            "×"
        </button>
        {move || {
            let list = problems();
            (!list.is_empty())
                .then(|| {
                    view! {
                        <div class="schema-row-errors">
                            {list.into_iter().map(|m| view! { <p class="field-error">{m}</p> }).collect_view()}
                        </div>
                    }
                })
        }}
    }
}
