//! The versions of a script, one version's playbook and variables, and a variables summary.

use crate::components::code_editor::CodeEditor;
use crate::components::feedback::{ErrorBanner, SkeletonRows};
use crate::components::modal::Modal;
use crate::components::table::{Col, DataTable};
use crate::format::{datetime, relative};
use crate::pages::script_schema::{kind_label, value_text};
use crate::remote::remote;
use leptos::prelude::*;
use shared::scripts::{Script, ScriptVersion, ScriptVersionRef};
use uuid::Uuid;

#[component]
pub(super) fn VersionsCard(
    saved: RwSignal<Option<Script>>,
    viewing: RwSignal<Option<i32>>,
) -> impl IntoView {
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
pub(super) fn VersionDialog(
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
