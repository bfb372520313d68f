//! One playbook run: the script version and values it ran with, its status, the recap per host
//! and the live Ansible output. An execution that is no playbook run (a server's list links every
//! maintenance execution here) shows its status and log only.

use crate::api::{self, ApiErrorView};
use crate::components::cancel::CancelExecution;
use crate::components::feedback::{use_toasts, LoadStates};
use crate::components::log_panel::{push_line, LogPanel};
use crate::format::{datetime, duration, relative};
use crate::live::follow;
use crate::pages::script_schema::value_text;
use crate::pages::servers::ExecutionBadge;
use crate::remote::{poll, remote, shown_at, use_route_id};
use crate::session::use_session;
use crate::task;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use serde_json::Value;
use shared::roles::Permission;
use shared::scripts::{HostRecap, Maintenance, PlaybookRun};
use shared::servers::{Accepted, Execution, ExecutionDetail, LogLine};
use std::collections::BTreeMap;

/// How long after the end a run without a recap is still reloaded, in case the recap is stored
/// a moment after the status.
const RECAP_GRACE_SECS: i64 = 10;

fn still_changing(run: &PlaybookRun) -> bool {
    let e = &run.execution;
    !e.status.is_finished()
        || (run.recap.is_empty()
            && e.finished_at
                .is_some_and(|t| (Utc::now() - t).num_seconds() < RECAP_GRACE_SECS))
}

/// `Backup`, `System update` or the raw kind.
fn kind_title(kind: &str) -> String {
    Maintenance::parse(kind)
        .map(|m| m.label().to_owned())
        .unwrap_or_else(|| kind.replace('_', " "))
}

#[component]
pub fn RunPage() -> impl IntoView {
    let session = use_session();
    let id = use_route_id();
    let run =
        remote::<PlaybookRun>(move || format!("/api/playbook-runs/{}", api::encode(&id.get())));
    let shown = shown_at(run, id, |r| r.execution.id);
    let not_a_run = Memo::new(move |_| matches!(run.get(), Some(Err(e)) if e.status == 404));
    // Set when the id is no execution either (or not one the caller may see).
    let missing = RwSignal::new(None::<ApiErrorView>);
    let failure = Memo::new(move |_| match run.get() {
        Some(Err(e)) if e.status != 404 => Some(e),
        _ => missing.get(),
    });

    let lines = RwSignal::new(Vec::<LogLine>::new());
    // The execution as its stream reports it: all there is to show when it is no playbook run.
    let streamed = RwSignal::new(None::<Execution>);
    Effect::new(move |prev: Option<String>| {
        let current = id.get();
        if prev.is_some_and(|p| p != current) {
            lines.set(Vec::new());
            streamed.set(None);
            missing.set(None);
        }
        current
    });
    let probing = RwSignal::new(false);
    Effect::new(move |_| {
        if !not_a_run.get() {
            return;
        }
        let url = format!("/api/executions/{}", api::encode(&id.get()));
        task::run(
            probing,
            async move { api::parse::<ExecutionDetail>(api::get_raw(&url).await?) },
            move |result| match result {
                Ok(d) if streamed.with_untracked(Option::is_none) => {
                    streamed.set(Some(d.execution))
                }
                Ok(_) => {}
                Err(e) => missing.set(Some(e)),
            },
        );
    });
    let stream = follow(
        move || {
            let id = id.get();
            (!id.is_empty()).then(|| format!("/api/executions/{}/events", api::encode(&id)))
        },
        move |event, data| match event {
            "log" => push_line(lines, data),
            "execution" => {
                if let Ok(e) = serde_json::from_str::<Execution>(data) {
                    streamed.set(Some(e));
                }
                if !not_a_run.get_untracked() {
                    run.refetch();
                }
            }
            "end" if !not_a_run.get_untracked() => run.refetch(),
            _ => {}
        },
    );
    // The stream says when the status moves; polling also brings the recap, written at the end.
    poll(run, 2, |r| match r.get_untracked() {
        Some(Ok(r)) => still_changing(&r),
        Some(Err(e)) => e.status != 404,
        None => false,
    });

    let execution = Memo::new(move |_| {
        shown
            .with(|r| r.as_ref().map(|r| r.execution.clone()))
            .or_else(|| streamed.get().filter(|e| e.id.to_string() == id.get()))
    });
    let known = Memo::new(move |_| execution.with(Option::is_some));
    let retry = Callback::new(move |_| run.refetch());
    let can_operate = move || session.can(Permission::ServersOperate);
    let can_run = move || session.can(Permission::ExecutionsRun);

    view! {
        <section class="page">
            {move || match (shown.get(), execution.get()) {
                (Some(r), _) => {
                    view! {
                        <A href=format!("/scripts/{}", r.script_id) attr:class="back-link">
                            {format!("← {}", r.script_name)}
                        </A>
                    }
                        .into_any()
                }
                (None, Some(e)) if e.target_type == "server" => {
                    view! {
                        <A href=format!("/servers/{}", e.target_id) attr:class="back-link">
                            "← Server"
                        </A>
                    }
                        .into_any()
                }
                _ => {
                    view! {
                        <A href="/scripts" attr:class="back-link">
                            "← Scripts"
                        </A>
                    }
                        .into_any()
                }
            }}
            <LoadStates failure=failure loaded=known on_retry=retry />
            {move || {
                execution
                    .get()
                    .map(|e| {
                        view! {
                            <RunHeader
                                execution=e
                                run=shown
                                can_cancel=can_operate()
                                can_rerun=can_run()
                            />
                        }
                    })
            }}
            {move || {
                execution
                    .get()
                    .map(|e| {
                        let run = shown.get();
                        view! {
                            <div class="grid-2">
                                <RunFacts execution=e exit_code=run.as_ref().and_then(|r| r.exit_code) />
                                {run.as_ref().map(|r| view! { <RunVariables variables=r.variables.clone() /> })}
                            </div>
                        }
                    })
            }}
            {move || shown.get().map(|r| view! { <RecapCard run=r /> })}
            {move || {
                known
                    .get()
                    .then(|| {
                        let title = Signal::derive(move || {
                            if shown.with(Option::is_some) { "Ansible output".to_string() } else { "Log".to_string() }
                        });
                        view! {
                            <LogPanel
                                lines=lines
                                link=stream.link
                                title=title
                                empty="Waiting for the run to start…"
                                on_retry=Callback::new(move |_| stream.restart())
                            />
                        }
                    })
            }}
        </section>
    }
}

#[component]
fn RunHeader(
    execution: Execution,
    run: Memo<Option<PlaybookRun>>,
    can_cancel: bool,
    can_rerun: bool,
) -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let rerunning = RwSignal::new(false);
    let id = execution.id;
    let finished = execution.status.is_finished();
    let title = move || {
        run.with(|r| {
            r.as_ref()
                .map(|r| r.script_name.clone())
                .unwrap_or_else(|| kind_title(&execution.kind))
        })
    };
    let version = move || {
        run.with(|r| {
            r.as_ref().map(|r| {
                view! {
                    <A href=format!("/scripts/{}?version={}", r.script_id, r.version)>
                        {format!("version {}", r.version)}
                    </A>
                    " · "
                }
            })
        })
    };
    let rerun = move |_| {
        let navigate = navigate.clone();
        task::run(
            rerunning,
            async move { api::post_empty::<Accepted>(&format!("/api/playbook-runs/{id}/rerun")).await },
            move |result| match result {
                Ok(a) => {
                    toasts.success("Run started again");
                    navigate(&format!("/runs/{}", a.execution_id), Default::default());
                }
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    let is_run = move || run.with(Option::is_some);
    view! {
        <header class="page-header">
            <div>
                <h1>{title}</h1>
                <p class="muted">
                    {version}
                    <span data-testid="run-status" data-status=execution.status.as_str()>
                        <ExecutionBadge status=execution.status />
                    </span>
                    {execution.step.clone().filter(|_| !finished).map(|s| view! { <span class="run-step">{s}</span> })}
                </p>
            </div>
            <div class="actions">
                {(can_cancel && !finished).then(|| view! { <CancelExecution id=id testid="run-cancel" /> })}
                {move || {
                    (can_rerun && finished && is_run())
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="btn btn-primary"
                                    data-testid="run-rerun"
                                    disabled=move || rerunning.get()
                                    on:click=rerun.clone()
                                >
                                    {move || if rerunning.get() { "Starting…" } else { "Re-run" }}
                                </button>
                            }
                        })
                }}
            </div>
        </header>
    }
}

#[component]
fn RunFacts(execution: Execution, exit_code: Option<i32>) -> impl IntoView {
    let when = |t: Option<DateTime<Utc>>| match t {
        Some(t) => view! { <span title=datetime(&t)>{relative(&t)}</span> }.into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    };
    let took = execution
        .started_at
        .zip(execution.finished_at)
        .map(|(from, to)| duration(&from, &to));
    view! {
        <div class="card">
            <h2 class="card-title">"Details"</h2>
            <dl class="details">
                <dt>"Queued"</dt>
                <dd>{when(Some(execution.created_at))}</dd>
                <dt>"Started"</dt>
                <dd>{when(execution.started_at)}</dd>
                <dt>"Finished"</dt>
                <dd>{when(execution.finished_at)}</dd>
                {took
                    .map(|t| {
                        view! {
                            <dt>"Took"</dt>
                            <dd>{t}</dd>
                        }
                    })}
                {exit_code
                    .map(|code| {
                        view! {
                            <dt>"Exit code"</dt>
                            <dd class="mono">{code}</dd>
                        }
                    })}
                {execution
                    .error
                    .map(|e| {
                        view! {
                            <dt>"Error"</dt>
                            <dd class="cell-error">{e}</dd>
                        }
                    })}
            </dl>
        </div>
    }
}

#[component]
fn RunVariables(variables: BTreeMap<String, Value>) -> impl IntoView {
    view! {
        <div class="card">
            <h2 class="card-title">"Variables"</h2>
            {if variables.is_empty() {
                view! { <p class="muted">"This run took no variables."</p> }.into_any()
            } else {
                view! {
                    <dl class="details" data-testid="run-variables">
                        {variables
                            .into_iter()
                            .map(|(name, value)| {
                                view! {
                                    <dt class="mono">{name}</dt>
                                    <dd class="mono">{value_text(&value)}</dd>
                                }
                            })
                            .collect_view()}
                    </dl>
                    <p class="muted small">"Secret values are masked."</p>
                }
                    .into_any()
            }}
        </div>
    }
}

#[component]
fn RecapCard(run: PlaybookRun) -> impl IntoView {
    let finished = run.execution.status.is_finished();
    let body = if run.recap.is_empty() {
        let message = if finished {
            "Ansible reported no recap: the run ended before any host was played."
        } else {
            "The recap per server appears when the run finishes."
        };
        view! { <p class="muted">{message}</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap table-flat">
                <table class="table table-compact" data-testid="recap-table">
                    <thead>
                        <tr>
                            <th scope="col">"Server"</th>
                            <th scope="col" class="num">"OK"</th>
                            <th scope="col" class="num">"Changed"</th>
                            <th scope="col" class="num">"Failed"</th>
                            <th scope="col" class="num">"Unreachable"</th>
                            <th scope="col" class="num">"Skipped"</th>
                            <th scope="col" class="num">"Rescued"</th>
                            <th scope="col" class="num">"Ignored"</th>
                        </tr>
                    </thead>
                    <tbody>{run.recap.into_iter().map(recap_row).collect_view()}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <div class="card">
            <h2 class="card-title">"Recap"</h2>
            {body}
        </div>
    }
}

fn recap_row(h: HostRecap) -> impl IntoView {
    let ok = h.succeeded();
    let count = |n: i32, testid: &'static str, bad_when_nonzero: bool| {
        let flagged = bad_when_nonzero && n > 0;
        view! {
            <td class="num" class:cell-bad=flagged data-testid=testid>
                {n}
            </td>
        }
    };
    let row_testid = format!("recap-row-{}", h.server_name);
    let server_link = format!("/servers/{}", h.server_id);
    let server_name = h.server_name.clone();
    view! {
        <tr data-testid=row_testid data-ok=ok.to_string()>
            <th scope="row">
                <span class=if ok { "recap-mark recap-ok" } else { "recap-mark recap-bad" } aria-hidden="true">
                    {if ok { "✓" } else { "✗" }}
                </span>
                <A href=server_link>{server_name}</A>
                <span class="sr-only">{if ok { " (succeeded)" } else { " (failed)" }}</span>
            </th>
            {count(h.ok, "recap-ok", false)}
            {count(h.changed, "recap-changed", false)}
            {count(h.failed, "recap-failed", true)}
            {count(h.unreachable, "recap-unreachable", true)}
            {count(h.skipped, "recap-skipped", false)}
            {count(h.rescued, "recap-rescued", false)}
            {count(h.ignored, "recap-ignored", false)}
        </tr>
    }
}
