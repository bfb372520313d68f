//! What ran on a server: the executions table, their badge and the live log.

use super::detail::Shown;
use crate::api;
use crate::components::cancel::CancelExecution;
use crate::components::feedback::use_toasts;
use crate::components::log_panel::LogPanel;
use crate::components::table::{Col, DataTable};
use crate::format::status_label;
use crate::format::{datetime, relative};
use crate::live::Link;
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::servers::{Execution, ExecutionStatus, LogLine};
use uuid::Uuid;

#[component]
pub fn ExecutionBadge(status: ExecutionStatus) -> impl IntoView {
    let tone = match status {
        ExecutionStatus::Queued => "pending",
        ExecutionStatus::Running => "provisioning",
        ExecutionStatus::Succeeded => "deployed",
        ExecutionStatus::Failed => "failed",
        ExecutionStatus::Cancelled => "cancelled",
    };
    view! {
        <span class=format!("badge req req-{tone}") data-status=status.as_str()>
            {status_label(status.as_str())}
        </span>
    }
}

/// Executions with a playbook run behind them, whose page shows the recap.
fn has_run_page(kind: &str) -> bool {
    matches!(kind, "playbook" | "backup" | "system_update")
}

#[component]
pub(super) fn Executions(
    shown: Shown,
    selected: RwSignal<Option<Uuid>>,
    can_operate: bool,
) -> impl IntoView {
    let executions = Memo::new(move |_| {
        shown.with(|d| d.as_ref().map(|d| d.executions.clone()).unwrap_or_default())
    });
    view! {
        <div class="card">
            <h2 class="card-title">"Executions"</h2>
            {move || {
                let list = executions.get();
                if list.is_empty() {
                    return view! { <p class="muted">"Nothing has run on this server yet."</p> }.into_any();
                }
                view! {
                    <DataTable columns=&[
                            Col::Text("Kind"), Col::Text("Status"), Col::Text("Step"),
                            Col::Text("Started"), Col::Text("Finished"), Col::Text("Error")
                        ] compact=true flat=true testid="executions-table">
                        {list.into_iter().map(|e| execution_row(e, selected, can_operate)).collect_view()}
                    </DataTable>
                }
                    .into_any()
            }}
        </div>
    }
}

fn execution_row(
    e: Execution,
    selected: RwSignal<Option<Uuid>>,
    can_operate: bool,
) -> impl IntoView {
    let id = e.id;
    let cancellable = can_operate && !e.status.is_finished();
    let is_selected = move || selected.get() == Some(id);
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| match t {
        Some(t) => view! { <span title=datetime(&t)>{relative(&t)}</span> }.into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    };
    view! {
        <tr
            data-testid="execution-row"
            data-id=id.to_string()
            class=move || if is_selected() { "row-selected" } else { "" }
        >
            <td>
                <button
                    type="button"
                    class="link-button"
                    aria-pressed=move || if is_selected() { "true" } else { "false" }
                    title="Show its log"
                    on:click=move |_| {
                        selected.update(|s| *s = if *s == Some(id) { None } else { Some(id) });
                    }
                >
                    {e.kind.clone()}
                </button>
                {has_run_page(&e.kind)
                    .then(|| {
                        view! {
                            " "
                            <A href=format!("/runs/{id}") attr:class="small" attr:data-testid="execution-run-link">
                                "Run details"
                            </A>
                        }
                    })}
            </td>
            <td>
                <ExecutionBadge status=e.status />
            </td>
            <td>{e.step.unwrap_or_else(|| "—".into())}</td>
            <td>{when(e.started_at)}</td>
            <td>{when(e.finished_at)}</td>
            <td class="cell-error">
                {e.error.unwrap_or_default()}
                {cancellable
                    .then(|| view! { <CancelExecution id=id testid="execution-cancel" /> })}
            </td>
        </tr>
    }
}

#[component]
pub(super) fn ServerLog(
    shown: Shown,
    lines: RwSignal<Vec<LogLine>>,
    selected: RwSignal<Option<Uuid>>,
    link: RwSignal<Link>,
    on_retry: Callback<()>,
    can_operate: bool,
) -> impl IntoView {
    let toasts = use_toasts();
    let cancelling = RwSignal::new(false);
    let execution = Memo::new(move |_| {
        let id = selected.get()?;
        shown.with(|d| {
            d.as_ref()
                .and_then(|d| d.executions.iter().find(|e| e.id == id).cloned())
        })
    });
    let visible = Signal::derive(move || match selected.get() {
        None => lines.get(),
        Some(id) => lines.with(|all| {
            all.iter()
                .filter(|l| l.execution_id == id)
                .cloned()
                .collect()
        }),
    });
    let title = Signal::derive(move || match (selected.get(), execution.get()) {
        (None, _) => "Activity".to_string(),
        (Some(_), Some(e)) => format!("Log: {} · {}", e.kind, e.status.as_str()),
        (Some(_), None) => "Log".to_string(),
    });
    let cancel = move |_| {
        let Some(id) = selected.get_untracked() else {
            return;
        };
        task::run(
            cancelling,
            async move { api::post_bare(&format!("/api/executions/{id}/cancel")).await },
            move |result| match result {
                Ok(()) => toasts.success("Cancellation requested"),
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    let actions: ChildrenFn = std::sync::Arc::new(move || {
        view! {
            {move || {
                let running = execution.with(|e| e.as_ref().is_some_and(|e| !e.status.is_finished()));
                (can_operate && running)
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="btn btn-danger-ghost btn-sm"
                                disabled=move || cancelling.get()
                                on:click=cancel
                            >
                                "Cancel execution"
                            </button>
                        }
                    })
            }}
            {move || {
                selected
                    .get()
                    .is_some()
                    .then(|| {
                        view! {
                            <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| selected.set(None)>
                                "All activity"
                            </button>
                        }
                    })
            }}
        }
        .into_any()
    });
    view! {
        <LogPanel
            lines=visible
            link=link
            title=title
            empty="No activity yet. Power actions and deletions log here."
            on_retry=on_retry
            actions=actions
        />
    }
}
