//! The pipeline tracker: which stage a deployment has reached, from its status and the stages
//! its job reported.

use super::Shown;
use crate::components::tracker::Tracker;
use crate::remote::remote;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::deployments::DeploymentStatus;
use shared::policies::approvers_text;
use shared::requests::ServerRequestDetail;
use shared::servers::LogLine;
use shared::stages::Stage;
use uuid::Uuid;

/// The pipeline as the tracker shows it.
const PIPELINE: [&str; 5] = [
    "Pending",
    "Provisioning",
    "Deploying",
    "Health check",
    "Running",
];

/// The stage a failed pipeline stopped in, from the step the job had reached.
fn failed_stage(step: Option<&str>, ever_deployed: bool) -> usize {
    match step.and_then(Stage::parse).and_then(Stage::deployment_step) {
        Some(stage) => stage,
        // The job failed before its first step.
        None if step == Some("deploy") || !ever_deployed => 0,
        // A deletion, stop or start that could not finish, after the app had run.
        None => 4,
    }
}

/// `done`, `current`, `failed` or `pending` for each stage.
fn stage_states(
    status: DeploymentStatus,
    failed_step: Option<&str>,
    ever_deployed: bool,
    checking_health: bool,
) -> [&'static str; 5] {
    let (reached, state) = match status {
        DeploymentStatus::Pending => (0, "current"),
        DeploymentStatus::Provisioning => (1, "current"),
        DeploymentStatus::Deploying if checking_health => (3, "current"),
        DeploymentStatus::Deploying => (2, "current"),
        DeploymentStatus::Failed => (failed_stage(failed_step, ever_deployed), "failed"),
        _ => (PIPELINE.len(), "done"),
    };
    let mut states = ["pending"; 5];
    for (i, s) in states.iter_mut().enumerate() {
        *s = match i.cmp(&reached) {
            std::cmp::Ordering::Less => "done",
            std::cmp::Ordering::Equal => state,
            std::cmp::Ordering::Greater => "pending",
        };
    }
    states
}

#[component]
pub(super) fn Pipeline(shown: Shown, lines: RwSignal<Vec<LogLine>>) -> impl IntoView {
    let facts = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref().map(|d| {
                (
                    d.status,
                    d.failed_step.clone(),
                    d.error.clone(),
                    d.deployed_at.is_some(),
                )
            })
        })
    });
    let checking_health = Memo::new(move |_| {
        lines.with(|all| all.iter().any(|l| l.stage == Some(Stage::HealthCheck)))
    });
    let states = Memo::new(move |_| match facts.get() {
        Some((status, step, _, deployed)) => {
            stage_states(status, step.as_deref(), deployed, checking_health.get())
        }
        None => ["pending"; 5],
    });
    let problem = move || {
        facts.get().and_then(|(status, step, error, _)| {
            let failed = status == DeploymentStatus::Failed;
            if !failed && error.is_none() {
                return None;
            }
            let heading = match (&step, failed) {
                (Some(step), true) => format!("Failed at step “{step}”"),
                (None, true) => "The deployment failed".to_string(),
                // A stop or start that failed leaves the state as it was, and its error stays
                // until the next deploy.
                (_, false) => "Last reported error".to_string(),
            };
            Some(view! {
                <div
                    class=if failed { "alert alert-error" } else { "alert alert-warning" }
                    role="alert"
                    data-testid="deployment-error"
                    data-step=step.clone().unwrap_or_default()
                >
                    <div class="alert-body">
                        <strong>{heading}</strong>
                        {error.map(|e| view! { <p class="mono deployment-error">{e}</p> })}
                    </div>
                </div>
            })
        })
    };
    // A new server's request still waits for someone's approval.
    let waiting_request = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref()
                .filter(|d| d.status == DeploymentStatus::Pending && d.server_id.is_none())
                .and_then(|d| d.request_id)
        })
    });
    view! {
        <div class="card" data-testid="deployment-pipeline">
            <h2 class="card-title">"Pipeline"</h2>
            <Tracker
                label="Deployment steps"
                steps=&PIPELINE
                states=Signal::derive(move || states.get().to_vec())
            />
            {move || waiting_request.get().map(|id| view! { <WaitingForApproval request_id=id /> })}
            {problem}
        </div>
    }
}

/// "Waiting for approval by any administrator", with a link to the server request.
#[component]
fn WaitingForApproval(request_id: Uuid) -> impl IntoView {
    let request = remote::<ServerRequestDetail>(move || format!("/api/requests/{request_id}"));
    let who = move || match request.get() {
        Some(Ok(d)) => d
            .approval_steps
            .iter()
            .find(|s| !s.done)
            .map(|s| {
                format!(
                    "Waiting for approval by {}",
                    approvers_text(&s.approvers, s.rule)
                )
            })
            .unwrap_or_else(|| "Waiting for the server request to be approved".into()),
        _ => "Waiting for the server request to be approved".into(),
    };
    view! {
        <div class="alert alert-info" role="status" data-testid="deployment-waiting">
            <div class="alert-body">
                <strong>{who}</strong>
                <p>
                    "The new server is built once its request is approved; then the app is deployed onto it. "
                    <A href=format!("/requests/{request_id}")>"Open the server request"</A>
                </p>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tracker_follows_the_pipeline() {
        use DeploymentStatus as S;
        assert_eq!(
            stage_states(S::Provisioning, None, false, false),
            ["done", "current", "pending", "pending", "pending"]
        );
        assert_eq!(
            stage_states(S::Deploying, None, false, true),
            ["done", "done", "done", "current", "pending"]
        );
        assert_eq!(
            stage_states(S::Failed, Some("health check"), false, false),
            ["done", "done", "done", "failed", "pending"]
        );
        assert_eq!(
            stage_states(S::Failed, Some("fetching"), false, false),
            ["done", "done", "failed", "pending", "pending"]
        );
        assert_eq!(
            stage_states(S::Failed, Some("stop"), true, false),
            ["done", "done", "done", "done", "failed"]
        );
        assert_eq!(stage_states(S::Running, None, true, false), ["done"; 5]);
    }
}
