//! Deployment scripts: the list, and the editor of one script (playbook, variable schema, the
//! server-side check, versions) from which it is run.

use crate::api::{self, ApiErrorView};
use crate::components::code_editor::CodeEditor;
use crate::components::feedback::{use_toasts, ErrorBanner, LoadStates, SkeletonRows};
use crate::components::form::{apply_problem, Errors, FormBanner, TeamPicker, TextArea, TextField};
use crate::components::list::{paged_list, paged_remote, PageHeader, SearchBar};
use crate::components::modal::Modal;
use crate::components::removal::{use_removal, RemoveButton};
use crate::components::table::{Col, DataTable};
use crate::format::{datetime, relative};
use crate::pages::script_run::{RunScriptDialog, RunTarget};
use crate::pages::script_schema::{kind_label, rows_of, value_text, VariableRow, VariablesEditor};
use crate::remote::{failure_of, remote, use_route_id};
use crate::search::use_search;
use crate::session::use_session;
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use shared::roles::Permission;
use shared::scripts::{SaveScript, Script, ScriptSummary, ScriptVersion, ScriptVersionRef};
use shared::validation::FieldErrors;
use uuid::Uuid;

const PER_PAGE: u64 = 20;

#[component]
pub fn ScriptsPage() -> impl IntoView {
    let q = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let scripts =
        paged_remote::<ScriptSummary>("/api/scripts", page, PER_PAGE, move || vec![("q", q.get())]);
    let search = use_search(q, page);

    view! {
        <section class="page">
            <PageHeader
                title="Scripts"
                description="Ansible playbooks with typed variables, versioned and run on your servers."
            >
                <A href="/scripts/new" attr:class="btn btn-primary" attr:data-testid="script-new">
                    <span aria-hidden="true">"+ "</span>
                    "New script"
                </A>
            </PageHeader>
            <SearchBar
                search=search
                id="script-search"
                label="Search scripts"
                placeholder="Name or description"
                name="q"
            />
            {paged_list(
                scripts,
                page,
                ("script", "scripts"),
                move || {
                    if q.with(String::is_empty) {
                        ("No scripts yet", "Write a playbook with “New script”, then run it on your servers.")
                    } else {
                        ("No scripts match", "Try another search term.")
                    }
                },
                |items| view! { <ScriptTable items=items /> },
            )}
        </section>
    }
}

#[component]
fn ScriptTable(items: Vec<ScriptSummary>) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|s| {
            let updated = s.updated_at;
            let row_name = s.name.clone();
            view! {
                <tr data-testid="script-row" data-name=row_name>
                    <td>
                        <A href=format!("/scripts/{}", s.id)>{s.name}</A>
                        {s.builtin.then(|| view! { <span class="badge badge-muted">"built-in"</span> })}
                        {(!s.description.is_empty())
                            .then(|| view! { <p class="muted small cell-desc">{s.description}</p> })}
                    </td>
                    <td>{s.team.name}</td>
                    <td class="num">{format!("v{}", s.version)}</td>
                    <td class="num">{s.variables}</td>
                    <td title=datetime(&updated)>{relative(&updated)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable columns=&[
                Col::Text("Name"), Col::Text("Team"), Col::Num("Version"), Col::Num("Variables"),
                Col::Text("Updated")
            ] testid="scripts-table">
            {rows}
        </DataTable>
    }
}

#[component]
pub fn NewScriptPage() -> impl IntoView {
    view! {
        <section class="page">
            <A href="/scripts" attr:class="back-link">
                "← Scripts"
            </A>
            <ScriptEditor initial=None show_version=None />
        </section>
    }
}

#[component]
pub fn ScriptPage() -> impl IntoView {
    let query = use_query_map();
    let id = use_route_id();
    let script = remote::<Script>(move || format!("/api/scripts/{}", api::encode(&id.get())));
    // The editor is built once per script, so a reload never throws away what is typed.
    let loaded_id = Memo::new(move |_| match script.get() {
        Some(Ok(s)) => Some(s.id),
        _ => None,
    });
    let failure = failure_of(script);
    let retry = Callback::new(move |_| script.refetch());
    view! {
        <section class="page">
            <A href="/scripts" attr:class="back-link">
                "← Scripts"
            </A>
            <LoadStates failure=failure loaded=Signal::derive(move || loaded_id.get().is_some()) on_retry=retry />
            {move || {
                loaded_id
                    .get()
                    .map(|_| {
                        let show_version = query
                            .with_untracked(|q| q.get("version").and_then(|v| v.parse::<i32>().ok()));
                        view! { <ScriptEditor initial=script.loaded_untracked() show_version=show_version /> }
                    })
            }}
        </section>
    }
}

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

/// Whether `draft` differs from what is stored.
fn differs(saved: &Script, draft: &SaveScript) -> bool {
    saved.name != draft.name
        || saved.description != draft.description
        || saved.current.content != draft.content
        || saved.current.variables != draft.variables
}

#[component]
fn ScriptEditor(initial: Option<Script>, show_version: Option<i32>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let is_new = initial.is_none();
    let name = RwSignal::new(initial.as_ref().map(|s| s.name.clone()).unwrap_or_default());
    let description = RwSignal::new(
        initial
            .as_ref()
            .map(|s| s.description.clone())
            .unwrap_or_default(),
    );
    let content = RwSignal::new(
        initial
            .as_ref()
            .map(|s| s.current.content.clone())
            .unwrap_or_else(|| STARTER_PLAYBOOK.to_owned()),
    );
    let rows = RwSignal::new(
        initial
            .as_ref()
            .map(|s| rows_of(&s.current.variables))
            .unwrap_or_default(),
    );
    let team = RwSignal::new(String::new());
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

    let draft = Memo::new(move |_| SaveScript {
        name: name.get().trim().to_owned(),
        description: description.get().trim().to_owned(),
        content: content.get(),
        variables: rows.with(|r| {
            r.iter()
                .filter(|r| !r.is_blank())
                .map(VariableRow::to_spec)
                .collect()
        }),
        team_id: if is_new {
            team.get().parse().ok()
        } else {
            None
        },
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

/// What a new script starts from: a play that runs everywhere it is sent.
const STARTER_PLAYBOOK: &str = "- name: Describe what this play does
  hosts: all
  become: true
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: \"Hello from {{ inventory_hostname }}\"
";

#[component]
fn VersionsCard(saved: RwSignal<Option<Script>>, viewing: RwSignal<Option<i32>>) -> impl IntoView {
    let versions = Memo::new(move |_| {
        saved.with(|s| {
            s.as_ref()
                .map(|s| (s.current.version, s.versions.clone()))
                .unwrap_or_default()
        })
    });
    view! {
        <aside class="card versions-card" aria-labelledby="versions-title">
            <h2 class="card-title" id="versions-title">
                "Versions"
            </h2>
            {move || {
                let (current, list) = versions.get();
                if list.is_empty() {
                    return view! { <p class="muted small">"Saved versions appear here, newest first."</p> }.into_any();
                }
                view! {
                    <ol class="version-list" data-testid="script-versions">
                        {list
                            .into_iter()
                            .map(|v: ScriptVersionRef| {
                                let number = v.version;
                                let at = v.created_at;
                                view! {
                                    <li>
                                        <button
                                            type="button"
                                            class="version-item"
                                            aria-pressed=move || (viewing.get() == Some(number)).to_string()
                                            on:click=move |_| viewing.set(Some(number))
                                        >
                                            <span class="version-number">
                                                {format!("Version {number}")}
                                                {(number == current)
                                                    .then(|| view! { <span class="badge badge-new">"current"</span> })}
                                            </span>
                                            <span class="muted small" title=datetime(&at)>
                                                {relative(&at)}
                                                {v.created_by.map(|who| format!(" · {who}"))}
                                            </span>
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
                    .into_any()
            }}
        </aside>
    }
}

#[component]
fn VersionDialog(
    script_id: Uuid,
    version: i32,
    current: bool,
    #[prop(into)] on_restore: Callback<ScriptVersion>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let loaded =
        remote::<ScriptVersion>(move || format!("/api/scripts/{script_id}/versions/{version}"));
    let retry = Callback::new(move |_| loaded.refetch());
    view! {
        <Modal title=format!("Version {version}") on_close=on_close wide=true>
            {move || match loaded.get() {
                None => view! { <SkeletonRows rows=6 /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(v)) => {
                    let content = RwSignal::new(v.content.clone());
                    let restored = v.clone();
                    let at = v.created_at;
                    view! {
                        <div class="form" data-testid="version-view">
                            <p class="muted small">
                                {format!("Saved {}", datetime(&at))}
                                {v.created_by.clone().map(|who| format!(" by {who}"))}
                                {current.then_some(" · the current version")}
                            </p>
                            <CodeEditor id="version-content" label="Playbook (read-only)" value=content readonly=true />
                            <VariablesSummary variables=v.variables.clone() />
                            <div class="form-actions">
                                {(!current)
                                    .then(|| {
                                        view! {
                                            <button
                                                type="button"
                                                class="btn btn-ghost"
                                                on:click=move |_| on_restore.run(restored.clone())
                                            >
                                                "Load into editor"
                                            </button>
                                        }
                                    })}
                                <button type="button" class="btn btn-primary" on:click=move |_| on_close.run(())>
                                    "Close"
                                </button>
                            </div>
                        </div>
                    }
                        .into_any()
                }
            }}
        </Modal>
    }
}

#[component]
fn VariablesSummary(variables: Vec<shared::scripts::VariableSpec>) -> impl IntoView {
    if variables.is_empty() {
        return view! { <p class="muted small">"No variables."</p> }.into_any();
    }
    view! {
        <DataTable
            columns=&[
                Col::Text("Variable"), Col::Text("Kind"), Col::Text("Required"), Col::Text("Default"),
                Col::Text("Description")
            ]
            compact=true
            flat=true
            caption="Variables of this version"
        >
                {variables
                    .into_iter()
                    .map(|v| {
                        let kind = if v.options.is_empty() {
                            kind_label(v.kind).to_string()
                        } else {
                            format!("{}: {}", kind_label(v.kind), v.options.join(", "))
                        };
                        view! {
                            <tr>
                                <td class="mono">{v.name}</td>
                                <td>{kind}</td>
                                <td>{if v.required { "yes" } else { "no" }}</td>
                                <td class="mono">{v.default.as_ref().map(value_text).unwrap_or_else(|| "—".into())}</td>
                                <td class="muted">{v.description}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
        </DataTable>
    }
    .into_any()
}
