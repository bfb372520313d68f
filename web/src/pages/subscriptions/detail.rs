//! A subscription's page: its facts, its money, the status changes it allows and its history.

use super::form::SubscriptionForm;
use super::history::History;
use super::links::SubscriptionLinks;
use super::list::{amount, SubscriptionBadge};
use crate::api;
use crate::components::feedback::{detail_body, use_toasts};
use crate::components::form::{send_form, Errors, FormBanner, TextArea};
use crate::components::modal::Modal;
use crate::format::{datetime, period_text, relative};
use crate::remote::{use_detail, Detail, Remote};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::billing::{SubscriptionChange, SubscriptionDetail, SubscriptionStatus};
use shared::validation::FieldErrors;
use uuid::Uuid;

/// A status change the subscription's buttons offer.
#[derive(Clone, Copy, PartialEq)]
enum Change {
    Suspend,
    Resume,
    Cancel,
}

impl Change {
    fn path(self) -> &'static str {
        match self {
            Change::Suspend => "suspend",
            Change::Resume => "resume",
            Change::Cancel => "cancel",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Change::Suspend => "Suspend",
            Change::Resume => "Resume",
            Change::Cancel => "Cancel subscription",
        }
    }

    fn done(self) -> &'static str {
        match self {
            Change::Suspend => "Subscription suspended",
            Change::Resume => "Subscription resumed",
            Change::Cancel => "Subscription cancelled",
        }
    }

    fn explain(self) -> &'static str {
        match self {
            Change::Suspend => {
                "Billing pauses and the subscription leaves MRR until it is resumed. Its servers keep running."
            }
            Change::Resume => "Billing starts again from today.",
            Change::Cancel => {
                "Billing stops today for good; a cancelled subscription cannot be resumed. Its servers keep running."
            }
        }
    }
}

/// The changes a status allows (the API's rules, which answer 409 to any other).
fn changes_for(status: SubscriptionStatus) -> &'static [Change] {
    match status {
        SubscriptionStatus::Active | SubscriptionStatus::Expiring => {
            &[Change::Suspend, Change::Cancel]
        }
        SubscriptionStatus::Suspended => &[Change::Resume, Change::Cancel],
        SubscriptionStatus::Expired => &[Change::Cancel],
        SubscriptionStatus::Cancelled => &[],
    }
}

pub(super) type Shown = Memo<Option<SubscriptionDetail>>;

#[component]
pub fn SubscriptionPage() -> impl IntoView {
    let toasts = use_toasts();
    let detail = use_detail::<SubscriptionDetail>("/api/subscriptions", |d| d.subscription.id);
    let Detail { remote, shown, .. } = detail;
    let editing = RwSignal::new(false);
    let changing = RwSignal::new(None::<Change>);
    let back = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref().map(|d| {
                (
                    d.subscription.client_id,
                    d.subscription.client_company.clone(),
                )
            })
        })
    });
    let on_saved = Callback::new(move |d: SubscriptionDetail| {
        editing.set(false);
        toasts.success("Subscription saved");
        remote.set(d);
    });

    view! {
        <section class="page">
            {move || match back.get() {
                Some((id, company)) => view! {
                    <A href=format!("/clients/{id}") attr:class="back-link">
                        {format!("← {company}")}
                    </A>
                }
                .into_any(),
                None => view! {
                    <A href="/clients" attr:class="back-link">
                        "← Clients"
                    </A>
                }
                .into_any(),
            }}
            {detail_body(
                detail,
                move |_| {
                    view! {
                        <SubscriptionHeader shown=shown editing=editing changing=changing />
                        <div class="grid-2">
                            <SubscriptionFacts shown=shown />
                            <MoneyCard shown=shown />
                        </div>
                        <SubscriptionLinks shown=shown remote_detail=remote />
                        <History shown=shown />
                    }
                },
            )}
            {move || {
                editing
                    .get()
                    .then(|| shown.get_untracked())
                    .flatten()
                    .map(|d| {
                        let s = d.subscription;
                        view! {
                            <Modal title=format!("Edit {}", s.plan_name) on_close=move |_| editing.set(false) wide=true>
                                <SubscriptionForm
                                    client_id=s.client_id
                                    subscription=Some(s.clone())
                                    on_done=on_saved
                                    on_cancel=move |_| editing.set(false)
                                />
                            </Modal>
                        }
                    })
            }}
            {move || {
                changing
                    .get()
                    .zip(shown.get_untracked())
                    .map(|(change, d)| {
                        view! {
                            <ChangeDialog
                                change=change
                                id=d.subscription.id
                                plan=d.subscription.plan_name
                                remote=remote
                                on_close=move |_| changing.set(None)
                            />
                        }
                    })
            }}
        </section>
    }
}

#[component]
fn SubscriptionHeader(
    shown: Shown,
    editing: RwSignal<bool>,
    changing: RwSignal<Option<Change>>,
) -> impl IntoView {
    let head = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref().map(|d| {
                let s = &d.subscription;
                (
                    s.plan_name.clone(),
                    format!("{} · {}", s.client_company, s.team.name),
                    s.status,
                )
            })
        })
    });
    move || {
        head.get().map(|(plan, subtitle, status)| {
            let buttons = changes_for(status)
                .iter()
                .map(|&change| {
                    let class = if change == Change::Cancel {
                        "btn btn-danger-ghost"
                    } else {
                        "btn btn-ghost"
                    };
                    view! {
                        <button
                            type="button"
                            class=class
                            data-testid=format!("subscription-{}", change.path())
                            on:click=move |_| changing.set(Some(change))
                        >
                            {change.label()}
                        </button>
                    }
                })
                .collect_view();
            view! {
                <header class="page-header">
                    <div>
                        <h1>{plan}</h1>
                        <p class="muted deployment-subtitle">
                            <SubscriptionBadge status=status />
                            <span>{subtitle}</span>
                        </p>
                    </div>
                    <div class="actions">
                        {(status != SubscriptionStatus::Cancelled)
                            .then(|| {
                                view! {
                                    <button
                                        type="button"
                                        class="btn btn-ghost"
                                        data-testid="subscription-edit"
                                        on:click=move |_| editing.set(true)
                                    >
                                        "Edit"
                                    </button>
                                }
                            })}
                        {buttons}
                    </div>
                </header>
            }
        })
    }
}

#[component]
fn SubscriptionFacts(shown: Shown) -> impl IntoView {
    move || {
        shown.get().map(|d| {
            let s = d.subscription;
            let count = |n: usize, one: &str, many: &str| match n {
                0 => "none".to_string(),
                1 => format!("1 {one}"),
                n => format!("{n} {many}"),
            };
            view! {
                <div class="card">
                    <h2 class="card-title">"Details"</h2>
                    <dl class="details" data-testid="subscription-facts">
                        <dt>"Client"</dt>
                        <dd>
                            <A href=format!("/clients/{}", s.client_id)>{s.client_company.clone()}</A>
                        </dd>
                        <dt>"Team"</dt>
                        <dd>{s.team.name.clone()}</dd>
                        <dt>"Price"</dt>
                        <dd>{format!("{} per month", s.price.display())}</dd>
                        <dt>"Period"</dt>
                        <dd>{period_text(s.period_months)}</dd>
                        <dt>"Start"</dt>
                        <dd>{s.start_date.to_string()}</dd>
                        <dt>"End"</dt>
                        <dd>{s.end_date.to_string()}</dd>
                        <dt>"Auto-renew"</dt>
                        <dd>{if s.auto_renew { "yes" } else { "no" }}</dd>
                        <dt>"Notice"</dt>
                        <dd>{format!("{} days before the end", s.notice_days)}</dd>
                        <dt>"Power off"</dt>
                        <dd>
                            {s
                                .power_off_after_days
                                .map(|d| format!("{d} days after expiry"))
                                .unwrap_or_else(|| "never".into())}
                        </dd>
                        <dt>"Servers"</dt>
                        <dd>{count(s.server_ids.len(), "server", "servers")}</dd>
                        <dt>"Deployments"</dt>
                        <dd>{count(s.deployment_ids.len(), "deployment", "deployments")}</dd>
                        <dt>"Created"</dt>
                        <dd title=datetime(&s.created_at)>{relative(&s.created_at)}</dd>
                    </dl>
                </div>
            }
        })
    }
}

#[component]
fn MoneyCard(shown: Shown) -> impl IntoView {
    move || {
        shown.get().map(|d| {
            let s = d.subscription;
            let cost_note = if s.cost.is_none() {
                "No linked server with a catalog price in this currency."
            } else {
                "Monthly catalog price of the linked servers."
            };
            view! {
                <div class="card">
                    <h2 class="card-title">"Cost and margin"</h2>
                    <dl class="details" data-testid="subscription-money">
                        <dt>"Price"</dt>
                        <dd>{s.price.display()}</dd>
                        <dt>"Cost"</dt>
                        <dd>{amount(s.cost.as_ref())}</dd>
                        <dt>"Margin"</dt>
                        <dd data-testid="subscription-margin">{amount(s.margin.as_ref())}</dd>
                    </dl>
                    <p class="muted small">{cost_note}</p>
                </div>
            }
        })
    }
}

#[component]
fn ChangeDialog(
    change: Change,
    id: Uuid,
    plan: String,
    remote: Remote<SubscriptionDetail>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let reason = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = SubscriptionChange {
            reason: reason.get_untracked().trim().to_owned(),
        };
        let url = format!("/api/subscriptions/{id}/{}", change.path());
        send_form(
            FieldErrors::new(),
            pending,
            errors,
            banner,
            &["reason"],
            async move { api::post::<_, SubscriptionDetail>(&url, &body).await },
            move |d| {
                toasts.success(change.done());
                remote.set(d);
                on_close.run(());
            },
        );
    };
    let title = format!("{} {plan}?", change.label());
    view! {
        <Modal title=title on_close=on_close>
            <form class="form" on:submit=on_submit novalidate>
                <p class="confirm-text">{change.explain()}</p>
                <FormBanner banner=banner />
                <TextArea
                    id="sub-change-reason"
                    label="Reason (optional)"
                    value=reason
                    errors=errors
                    field="reason"
                    rows=2
                />
                <div class="form-actions">
                    <button type="button" class="btn btn-ghost" on:click=move |_| on_close.run(())>
                        "Back"
                    </button>
                    <button
                        type="submit"
                        class=if change == Change::Cancel { "btn btn-danger" } else { "btn btn-primary" }
                        data-testid="sub-change-confirm"
                        disabled=move || pending.get()
                    >
                        {change.label()}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_follow_the_status() {
        use SubscriptionStatus as S;
        assert!(changes_for(S::Active) == [Change::Suspend, Change::Cancel]);
        assert!(changes_for(S::Expiring) == [Change::Suspend, Change::Cancel]);
        assert!(changes_for(S::Suspended) == [Change::Resume, Change::Cancel]);
        assert!(changes_for(S::Expired) == [Change::Cancel]);
        assert!(changes_for(S::Cancelled).is_empty());
    }
}
