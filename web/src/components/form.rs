//! Form fields wired to shared validation: every input has a label, and its messages are
//! linked with aria-describedby so screen readers read them with the field.

use crate::api::ApiErrorView;
use crate::format::role_class;
use crate::remote::remote;
use crate::task;
use leptos::prelude::*;
use shared::dto::{Page, Team};
use shared::roles::Role;
use shared::validation::FieldErrors;
use std::future::Future;

pub type Errors = RwSignal<FieldErrors>;

pub fn field_message(errors: Errors, field: &str) -> Option<String> {
    errors.with(|e| e.get(field).filter(|m| !m.is_empty()).map(|m| m.join("; ")))
}

/// Splits a failed submission into messages under known fields and a banner for the rest.
pub fn apply_problem(error: &ApiErrorView, errors: Errors, known: &[&str]) -> Option<String> {
    errors.set(error.fields.clone());
    let stray: Vec<String> = error
        .fields
        .iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| format!("{}: {}", k.replace('_', " "), v.join("; ")))
        .collect();
    if error.fields.is_empty() {
        Some(error.message())
    } else if stray.is_empty() {
        Some("Please correct the highlighted fields.".into())
    } else {
        Some(stray.join(". "))
    }
}

/// Before a form is sent: shows the `problems` found (and says no), or clears the messages
/// of an earlier try.
pub fn show_problems(
    problems: FieldErrors,
    errors: Errors,
    banner: RwSignal<Option<String>>,
) -> bool {
    if !problems.is_empty() {
        errors.set(problems);
        banner.set(Some("Please correct the highlighted fields.".into()));
        return false;
    }
    errors.set(FieldErrors::new());
    banner.set(None);
    true
}

/// Sends a form with `call` unless `problems` were found before: `done` gets the answer; a
/// refusal's messages go under the `known` fields and the rest into the banner.
pub fn send_form<T: 'static>(
    problems: FieldErrors,
    pending: RwSignal<bool>,
    errors: Errors,
    banner: RwSignal<Option<String>>,
    known: &'static [&'static str],
    call: impl Future<Output = Result<T, ApiErrorView>> + 'static,
    done: impl FnOnce(T) + 'static,
) {
    if !show_problems(problems, errors, banner) {
        return;
    }
    task::run(pending, call, move |result| match result {
        Ok(answer) => done(answer),
        Err(e) => banner.set(apply_problem(&e, errors, known)),
    });
}

/// Sends the request a draft converted to, or shows the problems that kept it back.
pub fn send_draft<B, T: 'static, F: Future<Output = Result<T, ApiErrorView>> + 'static>(
    request: Result<B, FieldErrors>,
    (pending, errors, banner): (RwSignal<bool>, Errors, RwSignal<Option<String>>),
    known: &'static [&'static str],
    call: impl FnOnce(B) -> F,
    done: impl FnOnce(T) + 'static,
) {
    match request {
        Ok(body) => send_form(
            FieldErrors::new(),
            pending,
            errors,
            banner,
            known,
            call(body),
            done,
        ),
        Err(problems) => {
            show_problems(problems, errors, banner);
        }
    }
}

/// The `aria-describedby` of an input: its hint, when it has one, and its message while one is shown.
pub fn described_by(
    hint_id: Option<String>,
    error_id: String,
    has_error: impl Fn() -> bool + Send + Sync + 'static,
) -> impl Fn() -> Option<String> + Send + Sync + 'static {
    move || {
        let ids: Vec<&str> = hint_id
            .iter()
            .map(String::as_str)
            .chain(has_error().then_some(error_id.as_str()))
            .collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}

#[component]
pub fn FieldError(errors: Errors, #[prop(into)] field: String, id: String) -> impl IntoView {
    move || {
        field_message(errors, &field).map(|m| {
            view! {
                <p class="field-error" id=id.clone()>
                    {m}
                </p>
            }
        })
    }
}

#[component]
pub fn TextField(
    /// Unique DOM id of the input.
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    errors: Errors,
    /// The name of the field in FieldErrors.
    field: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] placeholder: Option<&'static str>,
    #[prop(optional)] autofocus: bool,
    /// `data-testid` of the input, for the browser tests.
    #[prop(optional)]
    testid: Option<&'static str>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = described_by(hint.map(|_| hint_id.clone()), error_id.clone(), move || {
        field_message(errors, field).is_some()
    });
    let invalid = move || field_message(errors, field).is_some().then_some("true");
    view! {
        <div class="field">
            // The mark stays outside the label: the field's name is its label alone, and the
            // input's `required` tells assistive technology.
            {if required {
                view! {
                    <div class="field-head">
                        <label for=id>{label}</label>
                        <span class="required-mark" aria-hidden="true" title="required">"*"</span>
                    </div>
                }
                    .into_any()
            } else {
                view! { <label for=id>{label}</label> }.into_any()
            }}
            <input
                id=id
                name=field
                type=kind
                autocomplete=autocomplete
                placeholder=placeholder
                required=required
                autofocus=autofocus
                data-testid=testid
                aria-invalid=invalid
                aria-describedby=described
                bind:value=value
                on:input=move |_| {
                    if errors.with_untracked(|e| e.contains_key(field)) {
                        errors.update(|e| {
                            e.remove(field);
                        });
                    }
                }
            />
            {hint.map(|h| view! { <p class="field-hint" id=hint_id>{h}</p> })}
            <FieldError errors=errors field=field id=error_id />
        </div>
    }
}

#[component]
pub fn TextArea(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    errors: Errors,
    field: &'static str,
    #[prop(default = 3)] rows: u32,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] placeholder: Option<&'static str>,
    #[prop(optional)] class: Option<&'static str>,
    /// `data-testid` of the textarea, for the browser tests.
    #[prop(optional)]
    testid: Option<&'static str>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = described_by(hint.map(|_| hint_id.clone()), error_id.clone(), move || {
        field_message(errors, field).is_some()
    });
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <textarea
                id=id
                name=field
                rows=rows
                class=class
                placeholder=placeholder
                data-testid=testid
                aria-invalid=move || field_message(errors, field).is_some().then_some("true")
                aria-describedby=described
                bind:value=value
            ></textarea>
            {hint.map(|h| view! { <p class="field-hint" id=hint_id>{h}</p> })}
            <FieldError errors=errors field=field id=error_id />
        </div>
    }
}

/// One checkbox per role, labelled with `Role::label()`.
#[component]
pub fn RolePicker(
    /// Prefix for the checkbox ids, unique per form.
    prefix: &'static str,
    selected: RwSignal<Vec<Role>>,
    errors: Errors,
) -> impl IntoView {
    let error_id = format!("{prefix}-roles-error");
    view! {
        <fieldset class="field checkbox-group">
            <legend>"Roles"</legend>
            <div class="checkbox-grid">
                {Role::ALL
                    .into_iter()
                    .map(|role| {
                        let id = format!("{prefix}-role-{}", role.as_str());
                        let label_for = id.clone();
                        view! {
                            <label class="check" for=label_for>
                                <input
                                    type="checkbox"
                                    id=id
                                    prop:checked=move || selected.with(|s| s.contains(&role))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        selected
                                            .update(|s| {
                                                s.retain(|r| *r != role);
                                                if on {
                                                    s.push(role);
                                                    s.sort();
                                                }
                                            });
                                        errors
                                            .update(|e| {
                                                e.remove("roles");
                                            });
                                    }
                                />
                                <span class=role_class(role)>{role.label()}</span>
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
            <FieldError errors=errors field="roles" id=error_id />
        </fieldset>
    }
}

#[component]
pub fn RoleBadges(roles: Vec<Role>) -> impl IntoView {
    view! {
        <span class="badges">
            {roles
                .into_iter()
                .map(|r| view! { <span class=role_class(r)>{r.label()}</span> })
                .collect_view()}
        </span>
    }
}

/// The error summary above a form.
#[component]
pub fn FormBanner(banner: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        banner.get().map(|m| {
            view! {
                <div class="alert alert-error" role="alert">
                    <div class="alert-body">{m}</div>
                </div>
            }
        })
    }
}

/// Cancel (when given) and submit buttons; the submit label changes while the call runs.
#[component]
pub fn FormActions(
    pending: RwSignal<bool>,
    label: &'static str,
    busy: &'static str,
    #[prop(optional, into)] on_cancel: Option<Callback<()>>,
    /// `data-testid` of the submit button, for the browser tests.
    #[prop(optional)]
    testid: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="form-actions">
            {on_cancel
                .map(|cancel| {
                    view! {
                        <button type="button" class="btn btn-ghost" on:click=move |_| cancel.run(())>
                            "Cancel"
                        </button>
                    }
                })}
            <button
                type="submit"
                class="btn btn-primary"
                data-testid=testid
                disabled=move || pending.get()
                aria-busy=move || pending.get().then_some("true")
            >
                {move || if pending.get() { busy } else { label }}
            </button>
        </div>
    }
}

/// A labelled select whose options follow the loaded data; shows the first option when
/// the chosen value is not (or no longer) among them.
#[component]
pub fn Select(
    id: &'static str,
    label: &'static str,
    /// The name of the field in FieldErrors.
    field: &'static str,
    errors: Errors,
    value: Signal<String>,
    #[prop(into)] on_pick: Callback<String>,
    options: Signal<Vec<(String, String)>>,
    #[prop(optional_no_strip)] hint: Option<Signal<String>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = described_by(hint.map(|_| hint_id.clone()), error_id.clone(), move || {
        field_message(errors, field).is_some()
    });
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select
                id=id
                name=field
                prop:value=move || value.get()
                aria-invalid=move || field_message(errors, field).is_some().then_some("true")
                aria-describedby=described
                on:change=move |ev| {
                    errors.update(|e| {
                        e.remove(field);
                    });
                    on_pick.run(event_target_value(&ev));
                }
            >
                {move || {
                    // Freshly inserted options would otherwise show the first one, whatever the value.
                    let current = value.get_untracked();
                    options
                        .get()
                        .into_iter()
                        .map(|(v, l)| {
                            let selected = v == current;
                            view! {
                                <option value=v selected=selected>
                                    {l}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
            {hint
                .map(|h| {
                    view! {
                        <p class="field-hint" id=hint_id>
                            {move || h.get()}
                        </p>
                    }
                })}
            <FieldError errors=errors field=field id=error_id />
        </div>
    }
}

/// A [`Select`] of `value` itself. When the value is not (or no longer) among the options,
/// the first option is chosen: what the select shows is what is sent.
#[component]
pub fn PickField(
    id: &'static str,
    label: &'static str,
    /// The name of the field in FieldErrors.
    field: &'static str,
    errors: Errors,
    value: RwSignal<String>,
    #[prop(into)] options: Signal<Vec<(String, String)>>,
    #[prop(optional, into)] hint: Option<Signal<String>>,
) -> impl IntoView {
    Effect::new(move |_| {
        let ids: Vec<String> = options.get().into_iter().map(|o| o.0).collect();
        let chosen = pick(value.get_untracked(), &ids);
        if chosen != value.get_untracked() {
            value.set(chosen);
        }
    });
    view! {
        <Select
            id=id
            label=label
            field=field
            errors=errors
            value=value.into()
            on_pick=move |v| value.set(v)
            options=options
            hint=hint
        />
    }
}

pub fn pick(choice: String, options: &[String]) -> String {
    if options.contains(&choice) {
        choice
    } else {
        options.first().cloned().unwrap_or_default()
    }
}

/// One row of a [`RowsEditor`]: a stable id (the DOM key) and one text per column.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: u32,
    pub cells: Vec<String>,
}

static NEXT_ROW: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

/// A fresh id for a row of an editable list, used as its DOM key.
pub fn next_row_id() -> u32 {
    NEXT_ROW.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Row {
    pub fn new(cells: Vec<String>) -> Self {
        Self {
            id: next_row_id(),
            cells,
        }
    }

    pub fn cell(&self, i: usize) -> &str {
        self.cells.get(i).map(|c| c.trim()).unwrap_or("")
    }

    /// Rows whose cells are all blank are ignored on submit.
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// Rows from `key → value` pairs.
pub fn pair_rows(pairs: &std::collections::BTreeMap<String, String>) -> Vec<Row> {
    pairs
        .iter()
        .map(|(k, v)| Row::new(vec![k.clone(), v.clone()]))
        .collect()
}

/// `key → value` pairs from two-column rows; a repeated or missing key is an error.
pub fn rows_to_pairs(
    rows: &[Row],
    what: &str,
) -> Result<std::collections::BTreeMap<String, String>, String> {
    let mut out = std::collections::BTreeMap::new();
    for row in rows.iter().filter(|r| !r.is_blank()) {
        let key = row.cell(0);
        if key.is_empty() {
            return Err(format!("every {what} needs a name"));
        }
        if out.insert(key.to_owned(), row.cell(1).to_owned()).is_some() {
            return Err(format!("{what} `{key}` appears twice"));
        }
    }
    Ok(out)
}

/// A column of a [`RowsEditor`]: the input's name attribute, its label, and its type.
pub type Column = (&'static str, &'static str, &'static str);

/// Editable rows of inputs (labels, image mappings, server types) with add and remove
/// buttons; messages under `field` appear below the rows.
#[component]
pub fn RowsEditor(
    legend: &'static str,
    columns: &'static [Column],
    rows: RwSignal<Vec<Row>>,
    errors: Errors,
    field: &'static str,
    add_label: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let error_id = format!("rows-{field}-error");
    let template = format!(
        "grid-template-columns: repeat({}, minmax(0, 1fr)) auto",
        columns.len()
    );
    let clear_error = move || {
        if errors.with_untracked(|e| e.contains_key(field)) {
            errors.update(|e| {
                e.remove(field);
            });
        }
    };
    view! {
        <fieldset class="field rows-editor">
            <legend>{legend}</legend>
            {hint.map(|h| view! { <p class="field-hint">{h}</p> })}
            <div class="rows-grid" style=template>
                {move || {
                    (!rows.with(Vec::is_empty))
                        .then(|| {
                            view! {
                                {columns
                                    .iter()
                                    .map(|c| view! { <span class="rows-head" aria-hidden="true">{c.1}</span> })
                                    .collect_view()}
                                <span></span>
                            }
                        })
                }}
                <For
                    each=move || rows.get()
                    key=|r| r.id
                    children=move |row| {
                        let id = row.id;
                        let number = move || {
                            rows.with(|all| all.iter().position(|r| r.id == id).map(|p| p + 1).unwrap_or(0))
                        };
                        let inputs = columns
                            .iter()
                            .enumerate()
                            .map(|(i, (name, label, kind))| {
                                view! {
                                    <input
                                        type=*kind
                                        name=*name
                                        aria-label=move || format!("{label} {}", number())
                                        prop:value=move || {
                                            rows.with(|all| {
                                                all.iter()
                                                    .find(|r| r.id == id)
                                                    .map(|r| r.cells.get(i).cloned().unwrap_or_default())
                                                    .unwrap_or_default()
                                            })
                                        }
                                        on:input=move |ev| {
                                            let text = event_target_value(&ev);
                                            rows.update(|all| {
                                                if let Some(r) = all.iter_mut().find(|r| r.id == id) {
                                                    if r.cells.len() <= i {
                                                        r.cells.resize(i + 1, String::new());
                                                    }
                                                    r.cells[i] = text;
                                                }
                                            });
                                            clear_error();
                                        }
                                    />
                                }
                            })
                            .collect_view();
                        view! {
                            {inputs}
                            <button
                                type="button"
                                class="btn btn-ghost btn-sm rows-remove"
                                aria-label=move || format!("Remove row {}", number())
                                on:click=move |_| rows.update(|all| all.retain(|r| r.id != id))
                            >
                                "×"
                            </button>
                        }
                    }
                />
            </div>
            <div>
                <button
                    type="button"
                    class="btn btn-ghost btn-sm"
                    on:click=move |_| rows.update(|all| all.push(Row::new(vec![String::new(); columns.len()])))
                >
                    {format!("+ {add_label}")}
                </button>
            </div>
            <FieldError errors=errors field=field id=error_id />
        </fieldset>
    }
}

/// The owning team of a new item. What the select shows is what is sent: the first team
/// until another is picked.
#[component]
pub fn TeamPicker(id: &'static str, team: RwSignal<String>, errors: Errors) -> impl IntoView {
    let teams = remote::<Page<Team>>(|| "/api/teams?per_page=200".into());
    let options = Signal::derive(move || match teams.get() {
        Some(Ok(p)) => p
            .items
            .into_iter()
            .map(|t| (t.id.to_string(), t.name))
            .collect(),
        _ => Vec::new(),
    });
    view! { <PickField id=id label="Team" field="team_id" errors=errors value=team options=options /> }
}
