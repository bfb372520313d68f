//! The detail page of a deployment: its header with the actions the state allows, its facts
//! and the live log of the current step.

use super::access::SshAccess;
use super::form::RedeployForm;
use super::steps::PastSteps;
use super::tracker::Pipeline;
use super::{framework_text, server_cell, url_cell, DeploymentBadge, Shown};
use crate::api;
use crate::components::feedback::{detail_body, use_toasts};
use crate::components::log_panel::{push_line, LogPanel};
use crate::components::modal::Modal;
use crate::components::removal::{use_removal, Removal, RemoveButton};
use crate::live::follow;
use crate::pages::projects::{framework_names, moment, short_sha};
use crate::remote::{poll_every, remote, use_detail, Detail, Remote};
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::deployments::{
    user_actions, Deployment, DeploymentAction, DeploymentLogs, DeploymentStatus,
};
use shared::servers::{Execution, LogLine};
use std::time::Duration;
use uuid::Uuid;

/// How often an open deployment is reloaded while one of its steps is under way.
const BUSY_POLL: Duration = Duration::from_secs(2);

#[component]
pub fn DeploymentPage() -> impl IntoView {
    let toasts = use_toasts();
    let detail = use_detail::<Deployment>("/api/deployments", |d| d.id);
    let Detail {
        id,
        remote: deployment,
        shown,
        ..
    } = detail;
    let logs = remote::<DeploymentLogs>(move || {
        format!("/api/deployments/{}/logs", api::encode(&id.get()))
    });

    // The live log of the current (or last) step.
    let execution = Memo::new(move |_| shown.with(|d| d.as_ref().and_then(|d| d.execution_id)));
    let lines = RwSignal::new(Vec::<LogLine>::new());
    // The current step's execution has not finished, as its stream last said.
    let step_running = RwSignal::new(false);
    Effect::new(move |prev: Option<Option<Uuid>>| {
        let current = execution.get();
        if prev.is_some_and(|p| p != current) {
            lines.set(Vec::new());
        }
        current
    });
    let stream = follow(
        move || {
            execution
                .get()
                .map(|e| format!("/api/executions/{e}/events"))
        },
        move |event, data| match event {
            "log" => {
                push_line(lines, data);
                // A new pipeline step moves the status on.
                if serde_json::from_str::<LogLine>(data).is_ok_and(|l| l.stream == "step") {
                    deployment.refetch();
                }
            }
            "execution" => {
                if let Ok(e) = serde_json::from_str::<Execution>(data) {
                    step_running.set(!e.status.is_finished());
                }
                deployment.refetch();
            }
            "end" => {
                step_running.set(false);
                deployment.refetch();
                logs.refetch();
            }
            _ => {}
        },
    );
    poll_every(deployment, BUSY_POLL, move |d| {
        step_running.try_get_untracked().unwrap_or(false)
            || matches!(d.get_untracked(), Some(Ok(d)) if d.status.is_busy())
    });
    // The list of steps follows each new step and each change of state.
    Effect::new(
        move |prev: Option<Option<(DeploymentStatus, Option<Uuid>)>>| {
            let current = shown.with(|d| d.as_ref().map(|d| (d.status, d.execution_id)));
            if prev.is_some_and(|p| p.is_some() && p != current) {
                logs.refetch();
            }
            current
        },
    );

    let removal = use_removal::<Uuid>();
    let delete = move |target: Uuid| {
        removal.delete(format!("/api/deployments/{target}"), move |_| {
            toasts.success("Deletion started");
            step_running.set(true);
            deployment.refetch();
        });
    };

    view! {
        <section class="page">
            <A href="/deployments" attr:class="back-link">
                "← Deployments"
            </A>
            {detail_body(
                detail,
                move |d| {
                    let deployment_id = d.id;
                    view! {
                        <DeploymentHeader
                            name=d.name
                            id=deployment_id
                            shown=shown
                            deployment=deployment
                            step_running=step_running
                            removal=removal
                        />
                        <Pipeline shown=shown lines=lines />
                        <DeploymentFacts shown=shown />
                        <SshAccess shown=shown deployment=deployment />
                        <LogPanel
                            lines=lines
                            link=stream.link
                            title=Signal::derive(|| "Current step".to_string())
                            empty=if d.server_id.is_none() && d.request_id.is_some() {
                                "Nothing runs until the new server's request is approved (see Pipeline above)."
                            } else {
                                "Waiting for the step to start…"
                            }
                            on_retry=Callback::new(move |_| stream.restart())
                        />
                        <PastSteps id=deployment_id logs=logs current=execution />
                    }
                },
            )}
            {removal
                .dialog(
                    "Delete deployment",
                    move |_| {
                        let name = shown
                            .with_untracked(|d| d.as_ref().map(|d| d.name.clone()).unwrap_or_default());
                        let waiting = shown
                            .with_untracked(|d| d.as_ref().is_some_and(|d| d.status == DeploymentStatus::Pending));
                        let what = if waiting {
                            "Nothing was deployed yet: the deployment is removed, and the server request it waits for is cancelled."
                        } else {
                            "The app's service, its nginx site and its files are removed from the server. The project and the server stay."
                        };
                        (format!("Delete {name}?"), what.into())
                    },
                    delete,
                )}
        </section>
    }
}

#[component]
fn DeploymentHeader(
    name: String,
    id: Uuid,
    shown: Shown,
    deployment: Remote<Deployment>,
    step_running: RwSignal<bool>,
    removal: Removal<Uuid>,
) -> impl IntoView {
    let toasts = use_toasts();
    let acting = RwSignal::new(false);
    let redeploying = RwSignal::new(false);
    let status = Memo::new(move |_| shown.with(|d| d.as_ref().map(|d| d.status)));
    let open_url = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref()
                .filter(|d| d.status == DeploymentStatus::Running)
                .and_then(|d| d.url.clone())
        })
    });
    let subtitle = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref()
                .map(|d| format!("{} · {}", d.team.name, d.project_name))
                .unwrap_or_default()
        })
    });
    let actions = Memo::new(move |_| status.get().map(user_actions).unwrap_or_default());
    let act = move |verb: &'static str, done: &'static str| {
        task::run(
            acting,
            async move { api::post_empty::<Deployment>(&format!("/api/deployments/{id}/{verb}")).await },
            move |result| match result {
                Ok(d) => {
                    toasts.success(done);
                    step_running.set(true);
                    deployment.set(d);
                }
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    let on_redeployed = Callback::new(move |d: Deployment| {
        redeploying.set(false);
        toasts.success("Redeploy started");
        step_running.set(true);
        deployment.set(d);
    });

    view! {
        <header class="page-header">
            <div>
                <h1>{name.clone()}</h1>
                <p class="muted deployment-subtitle">
                    {move || status.get().map(|s| view! { <DeploymentBadge status=s /> })}
                    <span>{move || subtitle.get()}</span>
                </p>
            </div>
            <div class="actions">
                {move || {
                    open_url
                        .get()
                        .map(|url| {
                            view! {
                                <a
                                    href=url
                                    target="_blank"
                                    rel="noopener noreferrer"
                                    class="btn btn-primary"
                                    data-testid="deployment-open"
                                >
                                    "Open app"
                                </a>
                            }
                        })
                }}
                {move || {
                    actions
                        .get()
                        .into_iter()
                        .filter_map(|a| {
                            let (label, verb, done, testid) = match a {
                                DeploymentAction::Stop => ("Stop", "stop", "Stopping the app", "deployment-stop"),
                                DeploymentAction::Start => {
                                    ("Start", "start", "Starting the app", "deployment-start")
                                }
                                DeploymentAction::Redeploy => {
                                    return Some(
                                        view! {
                                            <button
                                                type="button"
                                                class="btn btn-ghost"
                                                data-testid="deployment-redeploy"
                                                disabled=move || acting.get()
                                                on:click=move |_| redeploying.set(true)
                                            >
                                                "Redeploy"
                                            </button>
                                        }
                                            .into_any(),
                                    );
                                }
                                DeploymentAction::Delete | DeploymentAction::Discard => {
                                    return Some(
                                        view! {
                                            <RemoveButton
                                                removal=removal
                                                item=id
                                                testid="deployment-delete"
                                                large=true
                                            />
                                        }
                                            .into_any(),
                                    );
                                }
                                _ => return None,
                            };
                            Some(
                                view! {
                                    <button
                                        type="button"
                                        class="btn btn-ghost"
                                        data-testid=testid
                                        disabled=move || acting.get()
                                        aria-busy=move || acting.get().then_some("true")
                                        on:click=move |_| act(verb, done)
                                    >
                                        {label}
                                    </button>
                                }
                                    .into_any(),
                            )
                        })
                        .collect_view()
                }}
            </div>
        </header>
        {move || {
            redeploying
                .get()
                .then(|| {
                    let branch = shown.with_untracked(|d| d.as_ref().map(|d| d.branch.clone()).unwrap_or_default());
                    view! {
                        <Modal title=format!("Redeploy {name}") on_close=move |_| redeploying.set(false)>
                            <RedeployForm
                                id=id
                                branch=branch
                                on_done=on_redeployed
                                on_cancel=move |_| redeploying.set(false)
                            />
                        </Modal>
                    }
                })
        }}
    }
}

/// What the provider knows the guest by: its type, size, address and (Proxmox) VM id.
fn guest_text(d: &Deployment) -> String {
    let kind = match d.deployment_type {
        shared::deployments::DeploymentType::Vm => "VM",
        shared::deployments::DeploymentType::Lxc => "LXC container",
    };
    let mut parts = vec![kind.to_owned()];
    if let (Some(cpu), Some(ram), Some(disk)) = (d.cpu, d.ram_mb, d.disk_gb) {
        parts.push(format!("{cpu} cores, {ram} MB, {disk} GB"));
    }
    match &d.ip_address {
        Some(ip) => parts.push(ip.clone()),
        None if d.server_id.is_none() => parts.push("no address yet".into()),
        None => {}
    }
    if let Some(vmid) = d.vmid {
        parts.push(format!("VM id {vmid}"));
    }
    parts.join(" · ")
}

#[component]
fn DeploymentFacts(shown: Shown) -> impl IntoView {
    let names = framework_names();
    move || {
        shown.get().map(|d| {
            let server = server_cell(&d);
            let guest = guest_text(&d);
            let url = url_cell(d.status, d.url.clone());
            let commit = match &d.commit {
                Some(sha) => view! {
                    <span class="mono" title=sha.clone() data-testid="deployment-commit">
                        {short_sha(sha)}
                    </span>
                }
                .into_any(),
                None => view! { <span class="muted">"the branch head"</span> }.into_any(),
            };
            let port = match (d.port, d.app_port) {
                (Some(p), Some(a)) => format!("{p} (the app listens on {a})"),
                (Some(p), None) => p.to_string(),
                _ => "—".into(),
            };
            let env = if d.env.is_empty() {
                view! { <span class="muted">"none"</span> }.into_any()
            } else {
                view! {
                    <ul class="chip-list chip-list-tight" data-testid="deployment-env">
                        {d
                            .env
                            .iter()
                            .map(|n| view! { <li class="chip chip-sm mono">{n.clone()}</li> })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            };
            let resources = d.resources.clone();
            let bound = (!resources.is_empty()).then(move || {
                let items = resources
                    .into_iter()
                    .map(|r| {
                        view! {
                            <li>
                                <A href=format!("/resources/{}", r.id)>{r.name.clone()}</A>
                                " → "
                                <span class="mono">{r.env_var.clone()}</span>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <dt>"Resources"</dt>
                    <dd>
                        <ul class="plain-list" data-testid="deployment-resources">{items}</ul>
                    </dd>
                }
            });
            view! {
                <div class="card">
                    <h2 class="card-title">"Details"</h2>
                    <dl class="details details-wide" data-testid="deployment-facts">
                        <dt>"Project"</dt>
                        <dd>
                            <A href=format!("/projects/{}", d.project_id)>{d.project_name.clone()}</A>
                        </dd>
                        <dt>"Team"</dt>
                        <dd>{d.team.name.clone()}</dd>
                        <dt>"Git URL"</dt>
                        <dd class="mono">{d.git_url.clone()}</dd>
                        <dt>"Branch"</dt>
                        <dd class="mono">
                            {if d.branch.is_empty() {
                                "the repository's default (read when deployed)".to_owned()
                            } else {
                                d.branch.clone()
                            }}
                        </dd>
                        <dt>"Commit"</dt>
                        <dd>{commit}</dd>
                        <dt>"Framework"</dt>
                        <dd data-testid="deployment-framework">{framework_text(names, d.framework.clone())}</dd>
                        <dt>"Server"</dt>
                        <dd>{server}</dd>
                        <dt>"Guest"</dt>
                        <dd data-testid="deployment-guest">{guest}</dd>
                        <dt>"Port"</dt>
                        <dd class="mono">{port}</dd>
                        <dt>"URL"</dt>
                        <dd>{url}</dd>
                        <dt>"Environment"</dt>
                        <dd>{env}</dd>
                        {bound}
                        <dt>"Created"</dt>
                        <dd>{moment(Some(d.created_at))}</dd>
                        <dt>"Last deployed"</dt>
                        <dd>{moment(d.deployed_at)}</dd>
                    </dl>
                </div>
            }
        })
    }
}
