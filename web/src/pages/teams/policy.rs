//! A team's approval policy in words, with the form to edit it for those who manage teams.

use super::policy_form::{euros, PolicyForm};
use crate::components::feedback::{ErrorBanner, SkeletonRows};
use crate::remote::remote;
use leptos::prelude::*;
use shared::dto::{Page, User};
use shared::policies::{ApprovalPolicy, ApprovalRule, ApprovalStep, Approvers, AutoApproveRule};
use uuid::Uuid;

fn user_name(users: &[User], id: Uuid) -> String {
    users
        .iter()
        .find(|u| u.id == id)
        .map(|u| u.username.clone())
        .unwrap_or_else(|| "unknown user".into())
}

fn policy_step_text(step: &ApprovalStep, users: &[User]) -> String {
    let all = step.rule == ApprovalRule::All;
    match &step.approvers {
        Approvers::Role { role } => {
            let r = role.label().to_ascii_lowercase();
            if all {
                format!("all {r}s")
            } else {
                format!("any {r}")
            }
        }
        Approvers::Users { user_ids } if users.is_empty() => format!(
            "{} {} named user{}",
            if all { "all of" } else { "any of" },
            user_ids.len(),
            if user_ids.len() == 1 { "" } else { "s" }
        ),
        Approvers::Users { user_ids } => format!(
            "{} {}",
            if all { "all of" } else { "any of" },
            user_ids
                .iter()
                .map(|id| user_name(users, *id))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn auto_text(rule: &Option<AutoApproveRule>) -> String {
    let Some(r) = rule else {
        return "No auto-approval: every request goes through the steps.".into();
    };
    let mut limits = Vec::new();
    if let Some(c) = r.max_cpu {
        limits.push(format!("{c} vCPU"));
    }
    if let Some(c) = r.max_monthly_cents {
        limits.push(format!("€{}/month", euros(c)));
    }
    format!("Auto-approve up to {}.", limits.join(" and "))
}

/// A team's approval chain in words; admins edit it inline.
#[component]
pub fn PolicyPanel(team_id: Uuid, manage: bool) -> impl IntoView {
    let policy = remote::<ApprovalPolicy>(move || format!("/api/teams/{team_id}/approval-policy"));
    let users = manage.then(|| remote::<Page<User>>(|| "/api/users?per_page=200".into()));
    let user_list = move || {
        users
            .and_then(|u| u.get())
            .and_then(Result::ok)
            .map(|p| p.items)
            .unwrap_or_default()
    };
    let editing = RwSignal::new(false);
    let retry = Callback::new(move |_| policy.refetch());
    view! {
        <section class="card policy">
            <div class="card-title-row">
                <h3 class="card-title">"Approval policy"</h3>
                {move || {
                    (manage && !editing.get() && policy.get().is_some_and(|p| p.is_ok()))
                        .then(|| {
                            view! {
                                <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| editing.set(true)>
                                    "Edit policy"
                                </button>
                            }
                        })
                }}
            </div>
            {move || match policy.get() {
                None => view! { <SkeletonRows rows=2 /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(p)) if editing.get() => {
                    view! {
                        <PolicyForm
                            team_id=team_id
                            policy=p
                            users=Signal::derive(user_list)
                            on_done=move |saved: ApprovalPolicy| {
                                policy.set(saved);
                                editing.set(false);
                            }
                            on_cancel=move |_| editing.set(false)
                        />
                    }
                        .into_any()
                }
                Some(Ok(p)) => {
                    let list = user_list();
                    view! {
                        <ol class="steps">
                            {p
                                .steps
                                .iter()
                                .enumerate()
                                .map(|(i, s)| {
                                    view! {
                                        <li class="step">{format!("Step {}: {}", i + 1, policy_step_text(s, &list))}</li>
                                    }
                                })
                                .collect_view()}
                        </ol>
                        <p class="muted">{auto_text(&p.auto_approve)}</p>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}
