//! A server's header: its name and state, and the power, snapshot and delete actions.

use super::detail::Shown;
use super::list::ServerBadge;
use crate::api::{self, ApiErrorView};
use crate::components::feedback::use_toasts;
use crate::components::form::{apply_problem, Errors, FormBanner, TextField};
use crate::components::modal::{ConfirmDialog, Modal};
use crate::task;
use leptos::prelude::*;
use shared::servers::{Accepted, DeleteServer, PowerAction, PowerRequest, Server, ServerDetail};
use shared::validation::FieldErrors;
use uuid::Uuid;

fn power_label(a: PowerAction) -> &'static str {
    match a {
        PowerAction::Start => "Start",
        PowerAction::Stop => "Stop",
        PowerAction::Reboot => "Reboot",
    }
}

#[component]
pub(super) fn ServerHeader(
    shown: Shown,
    detail: crate::remote::Remote<ServerDetail>,
    selected: RwSignal<Option<Uuid>>,
    can_operate: bool,
) -> impl IntoView {
    let toasts = use_toasts();
    let pending = RwSignal::new(false);
    let confirming = RwSignal::new(None::<PowerAction>);
    let confirm_error = RwSignal::new(None::<ApiErrorView>);
    let deleting = RwSignal::new(false);
    let server = Memo::new(move |_| shown.with(|d| d.as_ref().map(|d| d.server.clone())));
    let actions = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref()
                .map(|d| (d.power_actions.clone(), d.deletable))
                .unwrap_or_default()
        })
    });
    let power = move |action: PowerAction| {
        let Some(id) = server.with_untracked(|s| s.as_ref().map(|s| s.id)) else {
            return;
        };
        confirm_error.set(None);
        task::run(
            pending,
            async move {
                api::post::<_, Accepted>(
                    &format!("/api/servers/{id}/power"),
                    &PowerRequest { action },
                )
                .await
            },
            move |result| match result {
                Ok(a) => {
                    confirming.set(None);
                    toasts.success(format!("{} requested", power_label(action)));
                    selected.set(Some(a.execution_id));
                    detail.refetch();
                }
                Err(e) => {
                    if confirming.get_untracked().is_some() {
                        confirm_error.set(Some(e));
                    } else {
                        toasts.error(e.message());
                    }
                }
            },
        );
    };
    // Snapshot and provider backups: one click each, followed in the execution log.
    let operate = move |path: &'static str, label: &'static str| {
        let Some(id) = server.with_untracked(|s| s.as_ref().map(|s| s.id)) else {
            return;
        };
        task::run(
            pending,
            async move {
                api::post::<_, Accepted>(
                    &format!("/api/servers/{id}/{path}"),
                    &serde_json::json!({"description": "Provisio snapshot"}),
                )
                .await
            },
            move |result| match result {
                Ok(a) => {
                    toasts.success(format!("{label} requested"));
                    selected.set(Some(a.execution_id));
                    detail.refetch();
                }
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    let buttons = move || {
        let (power_actions, deletable) = actions.get();
        if !can_operate {
            return None;
        }
        let power_buttons = power_actions
            .into_iter()
            .map(|a| {
                let class = if a == PowerAction::Start {
                    "btn btn-primary"
                } else {
                    "btn btn-ghost"
                };
                view! {
                    <button
                        type="button"
                        class=class
                        data-testid=format!("power-{}", a.as_str())
                        disabled=move || pending.get()
                        on:click=move |_| {
                            if a == PowerAction::Start {
                                power(a);
                            } else {
                                confirm_error.set(None);
                                confirming.set(Some(a));
                            }
                        }
                    >
                        {power_label(a)}
                    </button>
                }
            })
            .collect_view();
        let (registered, hetzner) = server.with(|s| {
            s.as_ref()
                .map(|s| {
                    (
                        s.origin == shared::servers::ServerOrigin::Registered,
                        matches!(
                            s.provider.kind,
                            shared::providers::ProviderKind::Hetzner
                                | shared::providers::ProviderKind::TerraformHcloud
                        ),
                    )
                })
                .unwrap_or((true, false))
        });
        let extra = (deletable && !registered).then(|| {
            view! {
                <button
                    type="button"
                    class="btn btn-ghost"
                    data-testid="server-snapshot"
                    disabled=move || pending.get()
                    on:click=move |_| operate("snapshot", "Snapshot")
                >
                    "Snapshot"
                </button>
                {hetzner
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="btn btn-ghost"
                                data-testid="server-backups"
                                disabled=move || pending.get()
                                on:click=move |_| operate("backups", "Backups")
                            >
                                "Enable backups"
                            </button>
                        }
                    })}
            }
        });
        Some(view! {
            {power_buttons}
            {extra}
            {deletable
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="btn btn-danger-ghost"
                            data-testid="server-delete"
                            on:click=move |_| deleting.set(true)
                        >
                            "Delete"
                        </button>
                    }
                })}
        })
    };
    view! {
        <header class="page-header">
            {move || {
                server
                    .get()
                    .map(|s| {
                        view! {
                            <div>
                                <h1>{s.name.clone()}</h1>
                                <p class="muted">
                                    <ServerBadge status=s.status />
                                    " "
                                    <span class="badge badge-muted">{s.origin.as_str()}</span>
                                    " On " {s.provider.name.clone()} " for " {s.team.name.clone()}
                                </p>
                            </div>
                        }
                    })
            }}
            <div class="actions">
                {move || {
                    let may_deploy = crate::session::use_session()
                        .can(shared::Permission::DeploymentsManage);
                    server
                        .get()
                        .filter(|s| {
                            may_deploy && s.status == shared::servers::ServerStatus::Running
                                && s.ipv4.is_some()
                        })
                        .map(|s| {
                            view! {
                                <leptos_router::components::A
                                    href=format!("/deploy?server={}", s.id)
                                    attr:class="btn btn-primary"
                                    attr:data-testid="server-deploy"
                                >
                                    "Deploy an app"
                                </leptos_router::components::A>
                            }
                        })
                }}
                {buttons}
            </div>
        </header>
        {move || {
            confirming
                .get()
                .zip(server.get())
                .map(|(action, s)| {
                    let (title, message) = match action {
                        PowerAction::Stop => (
                            format!("Stop {}?", s.name),
                            "The server shuts down; what runs on it is unreachable until it is started again.",
                        ),
                        _ => (
                            format!("Reboot {}?", s.name),
                            "The server restarts; what runs on it is briefly unreachable.",
                        ),
                    };
                    view! {
                        <ConfirmDialog
                            title=title
                            message=message
                            confirm_label=power_label(action)
                            on_confirm=move |_| power(action)
                            on_cancel=move |_| confirming.set(None)
                            pending=pending
                            error=confirm_error
                        />
                    }
                })
        }}
        {move || {
            deleting
                .get()
                .then(|| server.get_untracked())
                .flatten()
                .map(|s| {
                    view! {
                        <DeleteDialog
                            server=s
                            on_done=move |a: Accepted| {
                                deleting.set(false);
                                toasts.success("Deletion started");
                                selected.set(Some(a.execution_id));
                                detail.refetch();
                            }
                            on_cancel=move |_| deleting.set(false)
                        />
                    }
                })
        }}
    }
}

#[component]
fn DeleteDialog(
    server: Server,
    #[prop(into)] on_done: Callback<Accepted>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let confirm = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let id = server.id;
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        banner.set(None);
        let body = DeleteServer {
            confirm_name: confirm.get_untracked().trim().to_owned(),
        };
        task::run(
            pending,
            async move { api::delete_with::<_, Accepted>(&format!("/api/servers/{id}"), &body).await },
            move |result| match result {
                Ok(a) => on_done.run(a),
                Err(e) => banner.set(apply_problem(&e, errors, &["confirm_name"])),
            },
        );
    };
    view! {
        <Modal title=format!("Delete {}", server.name) on_close=on_cancel>
            <form class="form" data-testid="delete-form" on:submit=on_submit novalidate>
                <p class="confirm-text">
                    "This destroys the server at " {server.provider.name.clone()}
                    " with its disks. It cannot be undone. Type "
                    <strong class="mono">{server.name.clone()}</strong> " to confirm."
                </p>
                <FormBanner banner=banner />
                <TextField
                    id="delete-confirm"
                    label="Server name"
                    value=confirm
                    errors=errors
                    field="confirm_name"
                    autocomplete="off"
                />
                <div class="form-actions">
                    <button type="button" class="btn btn-ghost" on:click=move |_| on_cancel.run(())>
                        "Cancel"
                    </button>
                    <button type="submit" class="btn btn-danger" disabled=move || pending.get()>
                        {move || if pending.get() { "Deleting…" } else { "Delete server" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
