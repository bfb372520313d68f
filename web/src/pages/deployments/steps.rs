//! The steps a deployment went through, and the log of one of them on demand.

use crate::api;
use crate::components::feedback::{Alert, SkeletonRows};
use crate::components::log_panel::LogPanel;
use crate::components::table::{Col, DataTable};
use crate::format::{datetime, duration, relative};
use crate::live::Link;
use crate::pages::servers::ExecutionBadge;
use crate::remote::Remote;
use crate::task;
use leptos::prelude::*;
use shared::deployments::DeploymentLogs;
use shared::servers::{Execution, LogLine};
use uuid::Uuid;

/// What a step did, from its execution's kind.
fn kind_label(kind: &str) -> String {
    match kind {
        "provision" => "Build the server".into(),
        "deploy" => "Deploy".into(),
        "stop" => "Stop".into(),
        "start" => "Start".into(),
        "delete" => "Delete".into(),
        other => other.to_owned(),
    }
}

/// Every step the deployment went through, newest first; the log of one of them on demand.
#[component]
pub(super) fn PastSteps(
    id: Uuid,
    logs: Remote<DeploymentLogs>,
    current: Memo<Option<Uuid>>,
) -> impl IntoView {
    let viewing = RwSignal::new(None::<Execution>);
    let viewed_lines = RwSignal::new(Vec::<LogLine>::new());
    let loading = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let view_log = move |e: Execution| {
        let url = format!("/api/deployments/{id}/logs?execution_id={}", e.id);
        failure.set(None);
        viewed_lines.set(Vec::new());
        viewing.set(Some(e));
        task::run(
            loading,
            async move { api::parse::<DeploymentLogs>(api::get_raw(&url).await?) },
            move |result| match result {
                Ok(l) => viewed_lines.set(l.lines),
                Err(e) => failure.set(Some(e.message())),
            },
        );
    };
    let executions = Memo::new(move |_| match logs.get() {
        Some(Ok(l)) => Some(l.executions),
        _ => None,
    });
    view! {
        <div class="card" data-testid="deployment-steps">
            <h2 class="card-title">"Steps"</h2>
            {move || match executions.get() {
                None => view! { <SkeletonRows rows=2 /> }.into_any(),
                Some(list) if list.is_empty() => {
                    view! { <p class="muted">"No step has run yet."</p> }.into_any()
                }
                Some(list) => {
                    let rows = list
                        .into_iter()
                        .map(|e| {
                            let started = e.started_at.unwrap_or(e.created_at);
                            let took = e
                                .started_at
                                .zip(e.finished_at)
                                .map(|(from, to)| duration(&from, &to))
                                .unwrap_or_else(|| "—".into());
                            let is_current = current.get_untracked() == Some(e.id);
                            let exec_id = e.id.to_string();
                            let step = e.step.clone().unwrap_or_else(|| "—".into());
                            let kind = kind_label(&e.kind);
                            let chosen = e.clone();
                            view! {
                                <tr data-testid="deployment-step" data-execution=exec_id>
                                    <td>{kind}</td>
                                    <td class="nowrap" title=datetime(&started)>
                                        {relative(&started)}
                                        {is_current.then(|| view! { <span class="badge badge-new">"current"</span> })}
                                    </td>
                                    <td>
                                        <ExecutionBadge status=e.status />
                                    </td>
                                    <td>{step}</td>
                                    <td class="nowrap">{took}</td>
                                    <td class="cell-desc cell-error">{e.error.clone().unwrap_or_default()}</td>
                                    <td class="actions">
                                        <button
                                            type="button"
                                            class="btn btn-ghost btn-sm"
                                            aria-pressed=move || {
                                                viewing
                                                    .with(|v| v.as_ref().is_some_and(|v| v.id == chosen.id))
                                                    .to_string()
                                            }
                                            on:click={
                                                let e = e.clone();
                                                move |_| view_log(e.clone())
                                            }
                                        >
                                            "View log"
                                        </button>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <DataTable
                            columns=&[
                                Col::Text("Step"), Col::Text("Started"), Col::Text("Status"), Col::Text("Last stage"),
                                Col::Text("Took"), Col::Text("Error"), Col::Actions
                            ]
                            compact=true
                            flat=true
                            caption="Steps of this deployment, newest first"
                        >
                            {rows}
                        </DataTable>
                    }
                        .into_any()
                }
            }}
            {move || failure.get().map(|m| view! { <Alert message=m /> })}
            {move || {
                viewing
                    .get()
                    .map(|e| {
                        let started = e.started_at.unwrap_or(e.created_at);
                        let title = format!("Log of the step started {}", datetime(&started));
                        let close: ChildrenFn = std::sync::Arc::new(move || {
                            view! {
                                <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| viewing.set(None)>
                                    "Close"
                                </button>
                            }
                                .into_any()
                        });
                        view! {
                            <LogPanel
                                lines=viewed_lines
                                link=Signal::derive(move || if loading.get() { Link::Connecting } else { Link::Ended })
                                title=Signal::derive(move || title.clone())
                                empty="This step wrote no output."
                                actions=close
                            />
                        }
                    })
            }}
        </div>
    }
}
