//! Maintenance of one server: a backup or a system update now, and the schedules that run them
//! (five-field cron expressions, evaluated in UTC).

use crate::api;
use crate::components::feedback::use_toasts;
use crate::components::form::{
    apply_problem, Errors, FieldError, FormActions, FormBanner, Select, TextField,
};
use crate::components::list::loaded_list;
use crate::components::removal::{use_removal, RemoveButton};
use crate::components::table::{Col, DataTable};
use crate::format::{datetime, relative, until};
use crate::remote::{remote, Remote};
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::scripts::{Maintenance, RunMaintenance, SaveSchedule, Schedule};
use shared::servers::Accepted;
use shared::validation::FieldErrors;
use std::collections::BTreeMap;
use uuid::Uuid;

const OPERATIONS: [Maintenance; 2] = [Maintenance::Backup, Maintenance::SystemUpdate];

#[component]
pub fn MaintenanceCard(
    server_id: Uuid,
    /// Called with the execution a "now" button started, so the page can show its log.
    #[prop(into)]
    on_started: Callback<Uuid>,
) -> impl IntoView {
    let toasts = use_toasts();
    let pending = RwSignal::new(false);
    let started = RwSignal::new(None::<(Maintenance, Uuid)>);
    let schedules = remote::<Vec<Schedule>>(move || format!("/api/servers/{server_id}/schedules"));
    let run_now = move |operation: Maintenance| {
        let body = RunMaintenance {
            operation,
            variables: BTreeMap::new(),
        };
        task::run(
            pending,
            async move {
                api::post::<_, Accepted>(&format!("/api/servers/{server_id}/maintenance"), &body)
                    .await
            },
            move |result| match result {
                Ok(a) => {
                    toasts.success(format!("{} started", operation.label()));
                    started.set(Some((operation, a.execution_id)));
                    on_started.run(a.execution_id);
                }
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    let button = move |operation: Maintenance, label: &'static str, testid: &'static str| {
        view! {
            <button
                type="button"
                class="btn btn-ghost"
                data-testid=testid
                disabled=move || pending.get()
                on:click=move |_| run_now(operation)
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="card" data-testid="maintenance">
            <h2 class="card-title">"Maintenance"</h2>
            <p class="muted small">
                "A backup takes a provider snapshot where the provider has them, else runs the backup playbook. A system update installs the pending package updates."
            </p>
            <div class="maintenance-actions">
                {button(Maintenance::Backup, "Back up now", "maintenance-backup")}
                {button(Maintenance::SystemUpdate, "System update", "maintenance-update")}
                {move || {
                    started
                        .get()
                        .map(|(operation, id)| {
                            view! {
                                <span class="muted small" role="status">
                                    {format!("{} started: ", operation.label())}
                                    <A href=format!("/runs/{id}") attr:data-testid="maintenance-run-link">
                                        "follow the run →"
                                    </A>
                                </span>
                            }
                        })
                }}
            </div>
            <h3 class="subhead">"Schedules"</h3>
            <ScheduleTable schedules=schedules />
            <h3 class="subhead">"Add a schedule"</h3>
            <ScheduleForm server_id=server_id on_done=move |_| schedules.refetch() />
        </div>
    }
}

#[component]
fn ScheduleTable(schedules: Remote<Vec<Schedule>>) -> impl IntoView {
    let toasts = use_toasts();
    let toggling = RwSignal::new(false);
    let removal = use_removal::<Schedule>();

    let toggle = move |s: Schedule| {
        let body = SaveSchedule {
            operation: s.operation,
            cron: s.cron.clone(),
            enabled: !s.enabled,
            variables: s.variables.clone(),
        };
        let id = s.id;
        task::run(
            toggling,
            async move { api::put::<_, Schedule>(&format!("/api/schedules/{id}"), &body).await },
            move |result| match result {
                Ok(updated) => {
                    toasts.success(if updated.enabled {
                        "Schedule enabled"
                    } else {
                        "Schedule paused"
                    });
                    schedules.refetch();
                }
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    let remove = move |s: Schedule| {
        removal.delete(format!("/api/schedules/{}", s.id), move |_| {
            toasts.success("Schedule deleted");
            schedules.refetch();
        });
    };

    view! {
        {loaded_list(
            schedules,
            2,
            || view! { <p class="muted">"Nothing is scheduled on this server."</p> },
            move |list| {
                view! {
                    <DataTable columns=&[
                            Col::Text("Operation"), Col::Text("Cron (UTC)"), Col::Text("Enabled"),
                            Col::Text("Next run"), Col::Text("Last run"), Col::Actions
                        ] compact=true flat=true testid="schedules-table">
                        {list
                            .into_iter()
                            .map(|s| {
                                let for_toggle = s.clone();
                                let for_remove = s.clone();
                                let label = s.operation.label();
                                view! {
                                    <tr data-testid="schedule-row" class:row-inactive=!s.enabled>
                                        <td>{label}</td>
                                        <td class="mono">{s.cron.clone()}</td>
                                        <td>
                                            <button
                                                type="button"
                                                class="btn btn-ghost btn-sm"
                                                role="switch"
                                                aria-checked=s.enabled.to_string()
                                                aria-label=format!("{label} schedule enabled")
                                                data-testid="schedule-toggle"
                                                disabled=move || toggling.get()
                                                on:click=move |_| toggle(for_toggle.clone())
                                            >
                                                {if s.enabled { "On" } else { "Off" }}
                                            </button>
                                        </td>
                                        <td>
                                            {match (s.enabled, s.next_run_at) {
                                                (true, Some(next)) => {
                                                    view! { <span title=until(&next)>{datetime(&next)}</span> }.into_any()
                                                }
                                                _ => view! { <span class="muted">"—"</span> }.into_any(),
                                            }}
                                        </td>
                                        <td>
                                            {match (s.last_run_at, s.last_execution_id) {
                                                (Some(at), Some(run)) => {
                                                    view! {
                                                        <A href=format!("/runs/{run}") attr:title=datetime(&at)>
                                                            {relative(&at)}
                                                        </A>
                                                    }
                                                        .into_any()
                                                }
                                                (Some(at), None) => {
                                                    view! { <span title=datetime(&at)>{relative(&at)}</span> }.into_any()
                                                }
                                                _ => view! { <span class="muted">"never"</span> }.into_any(),
                                            }}
                                        </td>
                                        <td class="actions">
                                            <RemoveButton removal=removal item=for_remove />
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </DataTable>
                }
            },
        )}
        {removal
            .dialog(
                "Delete schedule",
                |s| {
                    (
                        format!("Delete the {} schedule?", s.operation.label().to_lowercase()),
                        format!("“{}” stops running. Past runs keep their logs.", s.cron),
                    )
                },
                remove,
            )}
    }
}

/// Five whitespace-separated fields; the server parses the expression itself.
fn cron_shape(cron: &str) -> Result<(), String> {
    match cron.split_whitespace().count() {
        5 => Ok(()),
        0 => Err("enter a cron expression".into()),
        n => Err(format!(
            "needs five fields (minute hour day month weekday), not {n}"
        )),
    }
}

#[component]
fn ScheduleForm(server_id: Uuid, #[prop(into)] on_done: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let operation = RwSignal::new(Maintenance::Backup.as_str().to_string());
    let cron = RwSignal::new(String::new());
    let enabled = RwSignal::new(true);
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let options = Signal::derive(|| {
        OPERATIONS
            .iter()
            .map(|m| (m.as_str().to_string(), m.label().to_string()))
            .collect()
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let expression = cron
            .get_untracked()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if let Err(m) = cron_shape(&expression) {
            errors.set(FieldErrors::from([("cron".to_string(), vec![m])]));
            return;
        }
        let body = SaveSchedule {
            operation: Maintenance::parse(&operation.get_untracked())
                .unwrap_or(Maintenance::Backup),
            cron: expression,
            enabled: enabled.get_untracked(),
            variables: BTreeMap::new(),
        };
        errors.set(FieldErrors::new());
        banner.set(None);
        task::run(
            pending,
            async move {
                api::post::<_, Schedule>(&format!("/api/servers/{server_id}/schedules"), &body)
                    .await
            },
            move |result| match result {
                Ok(s) => {
                    toasts.success(format!("{} scheduled", s.operation.label()));
                    cron.set(String::new());
                    on_done.run(());
                }
                Err(e) => banner.set(apply_problem(&e, errors, &["operation", "cron", "enabled"])),
            },
        );
    };
    view! {
        <form class="form" data-testid="schedule-form" on:submit=on_submit novalidate>
            <FormBanner banner=banner />
            <div class="form-grid form-grid-3">
                <Select
                    id="schedule-operation"
                    label="Operation"
                    field="operation"
                    errors=errors
                    value=operation.into()
                    on_pick=move |v| operation.set(v)
                    options=options
                />
                <TextField
                    id="schedule-cron"
                    label="When (cron)"
                    value=cron
                    errors=errors
                    field="cron"
                    autocomplete="off"
                    placeholder="0 3 * * 0"
                    hint="min hour day month weekday, UTC"
                    required=true
                    testid="schedule-cron"
                />
                <div class="field check-field">
                    <label class="check" for="schedule-enabled">
                        <input
                            type="checkbox"
                            id="schedule-enabled"
                            prop:checked=move || enabled.get()
                            on:change=move |ev| enabled.set(event_target_checked(&ev))
                        />
                        "Enabled"
                    </label>
                    <FieldError errors=errors field="enabled" id="schedule-enabled-error".to_string() />
                </div>
            </div>
            <FormActions pending=pending label="Add schedule" busy="Adding…" testid="schedule-add" />
        </form>
    }
}
