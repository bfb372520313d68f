//! The provisioning tracker: the stages of the latest attempt, from the stage its job
//! reported on each step line, and the live log.

use crate::components::cancel::CancelExecution;
use crate::components::log_panel::LogPanel;
use crate::components::tracker::Tracker;
use crate::live::Link;
use crate::remote::Loaded;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::requests::ServerRequestDetail;
use shared::servers::LogLine;
use shared::stages::Stage;
use shared::workflow::RequestStatus;
use uuid::Uuid;

/// The provisioning pipeline: each `step` line that starts a stage (`Stage::provisioning_step`)
/// moves the tracker on; provider-specific steps (cloning a template, terraform apply, …) carry
/// no stage and happen while the server is being created.
const PIPELINE: [&str; 5] = [
    "Queued",
    "Creating at the provider",
    "Waiting for an address",
    "Waiting for SSH",
    "Deployed",
];

/// `done`, `current`, `failed` or `pending` for each stage of the latest attempt.
fn stage_states(
    status: RequestStatus,
    lines: &[LogLine],
    execution: Option<Uuid>,
) -> [&'static str; 5] {
    let reached = lines
        .iter()
        .filter(|l| execution.is_none_or(|e| l.execution_id == e))
        .filter_map(|l| l.stage.and_then(Stage::provisioning_step))
        .max()
        .unwrap_or(0);
    let mut states = ["pending"; 5];
    for (i, state) in states.iter_mut().enumerate() {
        *state = match status {
            RequestStatus::Deployed => "done",
            _ if i < reached => "done",
            RequestStatus::Failed if i == reached => "failed",
            RequestStatus::Approved | RequestStatus::Provisioning if i == reached => "current",
            _ => "pending",
        };
    }
    states
}

#[component]
pub(super) fn Provisioning(
    shown: Memo<Loaded<ServerRequestDetail>>,
    lines: RwSignal<Vec<LogLine>>,
    link: RwSignal<Link>,
    on_retry: Callback<()>,
) -> impl IntoView {
    let facts = Memo::new(move |_| match shown.get() {
        Some(Ok(d)) => Some((
            d.request.status,
            d.server_id,
            d.executions
                .iter()
                .map(|e| (e.id, e.status.is_finished()))
                .collect::<Vec<_>>(),
        )),
        _ => None,
    });
    let states = Memo::new(move |_| {
        let Some((status, _, executions)) = facts.get() else {
            return ["pending"; 5];
        };
        lines.with(|lines| {
            // The newest attempt: the detail lists executions newest first, but a line of an
            // execution it doesn't know yet is newer still.
            let from_lines = lines.last().map(|l| l.execution_id);
            match from_lines {
                Some(e) if !executions.iter().any(|x| x.0 == e) => {
                    stage_states(status, lines, Some(e))
                }
                // Approved again after a failed attempt: the retry is queued.
                _ if status == RequestStatus::Approved
                    && executions.first().is_some_and(|x| x.1) =>
                {
                    stage_states(status, &[], None)
                }
                _ => stage_states(
                    status,
                    lines,
                    executions.first().map(|x| x.0).or(from_lines),
                ),
            }
        })
    });
    let server_id = Memo::new(move |_| facts.get().and_then(|f| f.1));
    let session = crate::session::use_session();
    // The attempt under way, when the viewer may stop it.
    let running = Memo::new(move |_| {
        facts
            .get()
            .and_then(|f| f.2.first().filter(|e| !e.1).map(|e| e.0))
            .filter(|_| session.can(shared::Permission::ServersOperate))
    });
    view! {
        <div class="card" data-testid="provisioning">
            <div class="card-title-row">
                <h2 class="card-title">"Provisioning"</h2>
                {move || {
                    running
                        .get()
                        .map(|id| view! { <CancelExecution id=id testid="provisioning-cancel" /> })
                }}
                {move || {
                    server_id
                        .get()
                        .map(|id| {
                            view! {
                                <A href=format!("/servers/{id}") attr:class="btn btn-ghost btn-sm" attr:data-testid="view-server">
                                    "View server"
                                </A>
                            }
                        })
                }}
            </div>
            <Tracker
                label="Provisioning steps"
                steps=&PIPELINE
                states=Signal::derive(move || states.get().to_vec())
            />
            <LogPanel
                lines=lines
                link=link
                title="Provisioning log"
                empty="Waiting for the provisioning job to start…"
                on_retry=on_retry
            />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(execution: Uuid, stage: Option<Stage>, text: &str) -> LogLine {
        LogLine {
            id: 0,
            execution_id: execution,
            at: chrono::Utc::now(),
            stream: "step".into(),
            text: text.into(),
            stage,
        }
    }

    #[test]
    fn the_tracker_follows_the_stages_of_the_latest_attempt_not_the_wording() {
        let (old, new) = (Uuid::new_v4(), Uuid::new_v4());
        let lines = [
            step(
                old,
                Some(Stage::WaitingForSsh),
                "waiting for SSH on 10.0.0.5:22",
            ),
            step(new, Some(Stage::Creating), "creating web-1 at the provider"),
            // A provider's own step, reworded or not, moves nothing.
            step(new, None, "Waiting for SSH, said the template"),
        ];
        assert_eq!(
            stage_states(RequestStatus::Provisioning, &lines, Some(new)),
            ["done", "current", "pending", "pending", "pending"]
        );
        assert_eq!(
            stage_states(RequestStatus::Failed, &lines, Some(old)),
            ["done", "done", "done", "failed", "pending"]
        );
        assert_eq!(
            stage_states(RequestStatus::Deployed, &lines, Some(new)),
            ["done"; 5]
        );
    }
}
