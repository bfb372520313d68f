//! A resource's backups: take one now, restore one (what was written since is lost, so it asks
//! first), and the schedule they are taken on.

use crate::api::{self, ApiErrorView};
use crate::components::feedback::use_toasts;
use crate::components::form::{apply_problem, Errors, FormActions, FormBanner, TextField};
use crate::components::modal::ConfirmDialog;
use crate::format::{datetime, relative};
use crate::remote::{remote, Remote};
use crate::task;
use leptos::prelude::*;
use shared::resources::{
    BackupKind, BackupSchedule, Resource, ResourceBackup, ResourceStatus, RestoreResource,
};
use shared::validation::FieldErrors;

fn kind_label(kind: BackupKind) -> &'static str {
    match kind {
        BackupKind::Manual => "taken by hand",
        BackupKind::Scheduled => "scheduled",
        BackupKind::Final => "before deletion",
    }
}

#[component]
pub(super) fn BackupsCard(resource: Resource, remote_resource: Remote<Resource>) -> impl IntoView {
    let toasts = use_toasts();
    let id = resource.id;
    let backups = remote::<Vec<ResourceBackup>>(move || format!("/api/resources/{id}/backups"));
    // A backup or restore that ends brings a new list.
    Effect::new(move |_| {
        if remote_resource
            .get()
            .is_some_and(|r| r.is_ok_and(|r| r.status == ResourceStatus::Ready))
        {
            backups.refetch();
        }
    });
    let pending = RwSignal::new(false);
    let restoring = RwSignal::new(None::<ResourceBackup>);
    let failure = RwSignal::new(None::<ApiErrorView>);
    let ready = resource.status == ResourceStatus::Ready;
    let start = move |path: String, body: Option<RestoreResource>, done: &'static str| {
        task::run(
            pending,
            async move {
                match body {
                    Some(b) => api::post::<_, Resource>(&path, &b).await,
                    None => api::post_empty::<Resource>(&path).await,
                }
            },
            move |result| match result {
                Ok(r) => {
                    toasts.success(format!("{} {done}", r.name));
                    restoring.set(None);
                    remote_resource.set(r);
                }
                Err(e) => {
                    if restoring.get_untracked().is_some() {
                        failure.set(Some(e));
                    } else {
                        toasts.error(e.message());
                    }
                }
            },
        );
    };
    let list = move || match backups.get() {
        Some(Ok(list)) if list.is_empty() => {
            view! { <p class="muted">"No backup yet."</p> }.into_any()
        }
        Some(Ok(list)) => view! {
            <ul class="plain-list" data-testid="resource-backups">
                {list
                    .into_iter()
                    .map(|b| {
                        let at = b.created_at;
                        let chosen = b.clone();
                        view! {
                            <li class="backup-row">
                                <span title=datetime(&at)>{relative(&at)}</span>
                                " · " {kind_label(b.kind)} " · "
                                <span class="mono small">{b.file.clone()}</span>
                                {ready.then(|| view! {
                                    " "
                                    <button
                                        type="button"
                                        class="btn btn-ghost btn-sm"
                                        on:click=move |_| {
                                            failure.set(None);
                                            restoring.set(Some(chosen.clone()));
                                        }
                                    >
                                        "Restore"
                                    </button>
                                })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any(),
        Some(Err(e)) => view! { <p class="muted">{e.message()}</p> }.into_any(),
        None => view! { <p class="muted">"Loading…"</p> }.into_any(),
    };
    view! {
        <div class="card" data-testid="resource-backups-card">
            <h2 class="card-title">"Backups"</h2>
            <p class="muted small">"Dumps the recipe writes on the resource's server."</p>
            {ready.then(|| view! {
                <button
                    type="button"
                    class="btn btn-primary btn-sm"
                    data-testid="resource-backup"
                    disabled=move || pending.get()
                    on:click=move |_| start(format!("/api/resources/{id}/backup"), None, "is being backed up")
                >
                    "Back up now"
                </button>
            })}
            {list}
            <ScheduleForm resource=resource remote_resource=remote_resource />
        </div>
        {move || restoring.get().map(|b| {
            let at = datetime(&b.created_at);
            view! {
                <ConfirmDialog
                    title="Restore this backup?"
                    message=format!("The database goes back to how it was at {at}: what was written since is lost.")
                    confirm_label="Restore"
                    on_confirm=move |_| start(
                        format!("/api/resources/{id}/restore"),
                        Some(RestoreResource { backup_id: b.id }),
                        "is being restored",
                    )
                    on_cancel=move |_| restoring.set(None)
                    pending=pending
                    error=failure
                />
            }
        })}
    }
}

#[component]
fn ScheduleForm(resource: Resource, remote_resource: Remote<Resource>) -> impl IntoView {
    let toasts = use_toasts();
    let cron = RwSignal::new(resource.backup_cron.clone().unwrap_or_default());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let id = resource.id;
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = cron.get_untracked().trim().to_owned();
        let body = BackupSchedule {
            cron: (!text.is_empty()).then_some(text),
        };
        task::run(
            pending,
            async move {
                api::put::<_, Resource>(&format!("/api/resources/{id}/backup-schedule"), &body)
                    .await
            },
            move |result| match result {
                Ok(r) => {
                    toasts.success(match &r.backup_cron {
                        Some(_) => "Backup schedule saved",
                        None => "Scheduled backups stopped",
                    });
                    errors.set(FieldErrors::new());
                    banner.set(None);
                    remote_resource.set(r);
                }
                Err(e) => banner.set(apply_problem(&e, errors, &["cron"])),
            },
        );
    };
    let next = resource
        .next_backup_at
        .map(|at| format!("Next backup {} ({}).", relative(&at), datetime(&at)));
    view! {
        <form class="form" on:submit=on_submit novalidate data-testid="backup-schedule">
            <FormBanner banner=banner />
            <TextField
                id="backup-cron"
                label="Schedule (cron, UTC)"
                value=cron
                errors=errors
                field="cron"
                placeholder="0 3 * * *"
                hint="Five fields: minute hour day month weekday; 0 3 * * * is every night at 03:00. Empty: no scheduled backups."
            />
            {next.map(|n| view! { <p class="muted small">{n}</p> })}
            <FormActions pending=pending label="Save schedule" busy="Saving…" />
        </form>
    }
}
