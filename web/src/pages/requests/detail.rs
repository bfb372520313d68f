//! The detail page of a request: the workflow actions the caller may take, the facts, the
//! timeline, the comments and, once approved, the provisioning.

use super::tracker::Provisioning;
use super::{act, req_size, RejectDialog, StatusBadge};
use crate::api::{self, ApiErrorView};
use crate::components::feedback::{use_toasts, Alert, ErrorBanner, SkeletonRows};
use crate::components::form::{apply_problem, Errors, FormActions, TextArea};
use crate::components::log_panel::push_line;
use crate::format::{datetime, estimate, person, relative};
use crate::live::{follow, Link};
use crate::pages::subscriptions::amount;
use crate::remote::{poll, remote, use_route_id, Remote};
use crate::session::use_session;
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::billing::Subscription;
use shared::requests::{CommentRequest, RequestEvent, RequestPreflight, ServerRequestDetail};
use shared::roles::Permission;
use shared::servers::LogLine;
use shared::validation::FieldErrors;
use shared::workflow::{RequestAction, RequestStatus};

fn is_live(status: RequestStatus) -> bool {
    matches!(
        status,
        RequestStatus::Pending | RequestStatus::Approved | RequestStatus::Provisioning
    )
}

#[component]
pub fn RequestDetailPage() -> impl IntoView {
    let toasts = use_toasts();
    let id = use_route_id();
    let detail =
        remote::<ServerRequestDetail>(move || format!("/api/requests/{}", api::encode(&id.get())));
    // Reloads that bring nothing new don't re-render the page.
    let shown = Memo::new(move |_| detail.get());
    let loaded = Memo::new(move |_| shown.with(|d| matches!(d, Some(Ok(_)))));
    let status = Memo::new(move |_| match shown.get() {
        Some(Ok(d)) => Some(d.request.status),
        _ => None,
    });
    let rejecting = RwSignal::new(false);
    let retry = Callback::new(move |_| detail.refetch());

    // Live status and provisioning log instead of polling: every `request` event means the
    // request or its executions changed, and the detail brings both.
    let lines = RwSignal::new(Vec::<LogLine>::new());
    Effect::new(move |prev: Option<String>| {
        let current = id.get();
        if prev.is_some_and(|p| p != current) {
            lines.set(Vec::new());
        }
        current
    });
    let followed = Memo::new(move |_| {
        status
            .get()
            .is_some_and(|s| !matches!(s, RequestStatus::Rejected | RequestStatus::Cancelled))
    });
    let stream = follow(
        move || {
            followed
                .get()
                .then(|| format!("/api/requests/{}/events", api::encode(&id.get())))
        },
        move |event, data| match event {
            "log" => push_line(lines, data),
            "request" | "end" => detail.refetch(),
            _ => {}
        },
    );
    // Should the stream give up (the server unreachable for long), poll as before.
    poll(detail, 10, move |d| {
        stream.link.try_get_untracked() == Some(Link::Failed)
            && d.loaded_untracked()
                .is_some_and(|d| is_live(d.request.status))
    });
    // A retried request is live again after its stream ended.
    Effect::new(move |_| {
        if status.get().is_some_and(is_live) && stream.link.get_untracked() == Link::Ended {
            stream.restart();
        }
    });
    let provisioning = Memo::new(move |_| {
        status.get().is_some_and(|s| {
            matches!(
                s,
                RequestStatus::Approved
                    | RequestStatus::Provisioning
                    | RequestStatus::Deployed
                    | RequestStatus::Failed
            )
        })
    });
    let timeline = Memo::new(move |_| match shown.get() {
        Some(Ok(d)) => Some(d.timeline),
        _ => None,
    });
    view! {
        <section class="page">
            <A href="/requests" attr:class="back-link">
                "← Requests"
            </A>
            {move || match shown.get() {
                None => view! { <SkeletonRows /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(d)) => view! { <Detail d=d remote=detail rejecting=rejecting /> }.into_any(),
            }}
            {move || {
                provisioning
                    .get()
                    .then(|| {
                        view! {
                            <Provisioning
                                shown=shown
                                lines=lines
                                link=stream.link
                                on_retry=Callback::new(move |_| stream.restart())
                            />
                        }
                    })
            }}
            {move || timeline.get().map(|events| view! { <TimelineCard events=events /> })}
            {move || loaded.get().then(|| view! { <CommentForm remote=detail /> })}
            {move || {
                rejecting
                    .get()
                    .then(|| detail.loaded_untracked())
                    .flatten()
                    .map(|d| {
                        view! {
                            <RejectDialog
                                request=d.request
                                on_done=move |d: ServerRequestDetail| {
                                    rejecting.set(false);
                                    toasts.success("Request rejected");
                                    detail.set(d);
                                }
                                on_cancel=move |_| rejecting.set(false)
                            />
                        }
                    })
            }}
        </section>
    }
}

#[component]
fn CommentForm(remote: Remote<ServerRequestDetail>) -> impl IntoView {
    let toasts = use_toasts();
    let comment = RwSignal::new(String::new());
    let pending = RwSignal::new(false);
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let on_comment = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(id) = remote.loaded_untracked().map(|d| d.request.id) else {
            return;
        };
        let body = comment.get_untracked().trim().to_owned();
        if body.is_empty() {
            errors.set(FieldErrors::from([(
                "body".to_string(),
                vec!["Write a comment first".to_string()],
            )]));
            return;
        }
        let body = CommentRequest { body };
        task::run(
            pending,
            async move {
                api::post::<_, ServerRequestDetail>(&format!("/api/requests/{id}/comments"), &body)
                    .await
            },
            move |result| match result {
                Ok(d) => {
                    comment.set(String::new());
                    errors.set(FieldErrors::new());
                    remote.set(d);
                }
                Err(e) => {
                    if let Some(m) = apply_problem(&e, errors, &["body"]) {
                        toasts.error(m);
                    }
                }
            },
        );
    };
    view! {
        <form class="card form comment-form" on:submit=on_comment novalidate>
            <TextArea id="req-comment" label="Comment" value=comment errors=errors field="body" rows=2 />
            <FormActions pending=pending label="Add comment" busy="Adding…" />
        </form>
    }
}

#[component]
fn Detail(
    d: ServerRequestDetail,
    remote: Remote<ServerRequestDetail>,
    rejecting: RwSignal<bool>,
) -> impl IntoView {
    let toasts = use_toasts();
    let r = d.request;
    let id = r.id;
    let pending = RwSignal::new(false);
    let on_result = move |verb: &'static str| {
        move |result: Result<ServerRequestDetail, ApiErrorView>| match result {
            Ok(d) => {
                toasts.success(format!("Request {verb}"));
                remote.set(d);
            }
            Err(e) => toasts.error(e.message()),
        }
    };
    // Before approval can be clicked, the provider is asked whether it can build this now.
    let preflight = r
        .allowed_actions
        .contains(&RequestAction::Approve)
        .then(|| {
            crate::remote::remote::<RequestPreflight>(move || {
                format!("/api/requests/{id}/preflight")
            })
        });
    let blocked =
        move || preflight.is_some_and(|p| matches!(p.get(), Some(Ok(found)) if !found.ok));
    let preflight_view = move || {
        preflight.map(|p| match p.get() {
            None => view! { <p class="muted preflight" role="status">"Checking with the provider that it can build this…"</p> }.into_any(),
            Some(Ok(found)) if found.ok => view! {
                <p class="muted preflight" data-testid="preflight-ok" role="status">
                    "✓ The provider has the node, template and size this request needs."
                </p>
            }.into_any(),
            Some(Ok(found)) => view! {
                <div class="alert alert-warning preflight" data-testid="preflight-problems" role="alert">
                    <div>
                        <p><strong>"This request cannot be approved now:"</strong></p>
                        {found.problems.into_iter().map(|m| view! { <p>{m}</p> }).collect_view()}
                        <p>"Fix the provider account under Providers, or reject the request with a reason."</p>
                    </div>
                </div>
            }.into_any(),
            Some(Err(e)) => view! { <ErrorBanner error=e /> }.into_any(),
        })
    };
    let buttons = r
        .allowed_actions
        .iter()
        .filter_map(|a| {
            let approving = *a == RequestAction::Approve;
            let (label, path, verb, class) = match a {
                RequestAction::Approve => ("Approve", "approve", "approved", "btn btn-primary"),
                RequestAction::Reject => ("Reject", "", "", "btn btn-danger"),
                RequestAction::Cancel => ("Cancel request", "cancel", "cancelled", "btn btn-ghost"),
                RequestAction::Retry => ("Retry", "retry", "retried", "btn btn-primary"),
                _ => return None,
            };
            Some(view! {
                <button
                    type="button"
                    class=class
                    disabled=move || pending.get() || (approving && blocked())
                    on:click=move |_| {
                        if path.is_empty() {
                            rejecting.set(true);
                        } else {
                            act(pending, id, path, on_result(verb));
                        }
                    }
                >
                    {label}
                </button>
            })
        })
        .collect_view();

    let fact = |label: &'static str, value: String| {
        view! {
            <dt>{label}</dt>
            <dd>{value}</dd>
        }
    };
    let steps = d
        .approval_steps
        .iter()
        .map(|s| {
            // Only a pending request waits for anyone; a rejected or cancelled one waits no more.
            let current = !s.done
                && s.index == d.current_step
                && r.status == shared::workflow::RequestStatus::Pending;
            let who = if s.approved_by.is_empty() {
                String::new()
            } else {
                format!(
                    " — approved by {}",
                    s.approved_by
                        .iter()
                        .map(person)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            view! {
                <li class=if s.done {
                    "step step-done"
                } else if current {
                    "step step-current"
                } else {
                    "step"
                }>
                    <span class="step-mark" aria-hidden="true">
                        {if s.done { "✓" } else { "•" }}
                    </span>
                    {format!(
                        "Step {}: {}{who}{}",
                        s.index + 1,
                        shared::policies::approvers_text(&s.approvers, s.rule),
                        if s.done { " (done)" } else if current { " (waiting)" } else { "" },
                    )}
                </li>
            }
        })
        .collect_view();
    let job = d.job.map(|j| {
        let attempts = if j.attempts > 1 {
            format!(" (attempt {})", j.attempts)
        } else {
            String::new()
        };
        view! {
            <p class="job">
                {format!("Provisioning job: {}{attempts}", j.status)}
            </p>
        }
    });
    let keys = if r.ssh_public_keys.is_empty() {
        "none".to_string()
    } else {
        format!("{}", r.ssh_public_keys.len())
    };

    view! {
        <header class="page-header">
            <div>
                <h1>{r.hostname.clone()}</h1>
                <p class="muted">
                    <StatusBadge status=r.status />
                    " Requested by " {person(&r.requester)} " for " {r.team.name.clone()}
                </p>
            </div>
            <div class="actions">{buttons}</div>
        </header>
        {preflight_view}
        {r
            .rejection_reason
            .clone()
            .map(|m| view! { <Alert message=format!("Rejected: {m}") kind="warning" /> })}
        {r.failure_reason.clone().map(|m| view! { <Alert message=format!("Failed: {m}") /> })}
        {d.subscription.map(|s| view! { <ForSubscription subscription=s margin=d.margin_with_server /> })}
        <div class="grid-2">
            <div class="card">
                <h2 class="card-title">"Details"</h2>
                <dl class="details">
                    {fact("Estimated cost", estimate(r.estimated_monthly.as_ref()))}
                    {fact("Size", req_size(&r))}
                    {fact("Server type", r.server_type.clone().unwrap_or_else(|| "custom".into()))}
                    {fact("Provider", r.provider_account.name.clone())}
                    {fact("Location", r.location.clone())}
                    {fact("Image", r.image.clone())}
                    {fact("Purpose", r.purpose.clone())}
                    {fact("SSH keys", keys)}
                    {(!r.notes.is_empty()).then(|| fact("Notes", r.notes.clone()))}
                    {fact("Created", datetime(&r.created_at))}
                    {fact("Updated", datetime(&r.updated_at))}
                </dl>
            </div>
            <div class="card">
                <h2 class="card-title">"Approval"</h2>
                {if d.approval_steps.is_empty() {
                    view! { <p class="muted">"No approval steps."</p> }.into_any()
                } else {
                    view! { <ol class="steps">{steps}</ol> }.into_any()
                }}
                {job}
            </div>
        </div>
    }
}

/// The client subscription a request is for, and the margin it keeps once this server's
/// catalog price is paid.
#[component]
fn ForSubscription(
    subscription: Subscription,
    margin: Option<shared::billing::Money>,
) -> impl IntoView {
    let s = subscription;
    let name = format!("{} — {}", s.client_company, s.plan_name);
    let name = if use_session().can(Permission::SubscriptionsManage) {
        view! { <A href=format!("/subscriptions/{}", s.id)>{name}</A> }.into_any()
    } else {
        view! { <strong>{name}</strong> }.into_any()
    };
    let margin = match margin {
        Some(m) => amount(Some(&m)),
        None => {
            view! { <span class="muted">"unknown (no price in this currency)"</span> }.into_any()
        }
    };
    view! {
        <div class="card subscription-note" data-testid="request-subscription">
            "For subscription: " {name} ", price " {s.price.display()} ", margin with this server "
            <span data-testid="request-margin">{margin}</span>
        </div>
    }
}

#[component]
fn TimelineCard(events: Vec<RequestEvent>) -> impl IntoView {
    let timeline = events
        .iter()
        .rev()
        .map(|e| {
            let actor = e
                .actor
                .as_ref()
                .map(person)
                .unwrap_or_else(|| "Provisio".into());
            let what = match (e.kind.as_str(), e.from_status, e.to_status) {
                ("created", ..) => "created the request".to_string(),
                ("transition", Some(f), Some(t)) => {
                    format!("moved it from {} to {}", f.as_str(), t.as_str())
                }
                ("transition", _, Some(t)) => format!("moved it to {}", t.as_str()),
                ("approval", ..) => "approved".to_string(),
                ("comment", ..) => "commented".to_string(),
                (k, ..) => k.replace('_', " "),
            };
            let at = e.at;
            let body = e.body.clone();
            view! {
                <li class=format!("event event-{}", e.kind)>
                    <div class="event-head">
                        <strong>{actor}</strong>
                        " "
                        {what}
                        <time class="muted small" title=datetime(&at)>
                            {relative(&at)}
                        </time>
                    </div>
                    {(!body.trim().is_empty()).then(|| view! { <p class="event-body">{body}</p> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="card">
            <h2 class="card-title">"Timeline"</h2>
            <ol class="timeline">{timeline}</ol>
        </div>
    }
}
