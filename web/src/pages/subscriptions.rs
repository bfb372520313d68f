//! Client subscriptions: the table a client's page lists them in, the form that creates or
//! edits one, and the detail page with its money, the buttons its status allows and its history.

use crate::api;
use crate::components::feedback::{detail_body, use_toasts};
use crate::components::form::{
    send_form, Errors, FormActions, FormBanner, PickField, TextArea, TextField,
};
use crate::components::modal::Modal;
use crate::components::table::{Col, DataTable};
use crate::format::{datetime, period_text, person, relative};
use crate::remote::{use_detail, Detail, Remote};
use chrono::{Local, NaiveDate};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::billing::{
    add_months, parse_amount, Money, SaveSubscription, Subscription, SubscriptionChange,
    SubscriptionDetail, SubscriptionEvent, SubscriptionStatus,
};
use shared::validation::FieldErrors;
use uuid::Uuid;

/// The currencies offered; a subscription in another one keeps it when edited.
const CURRENCIES: [&str; 4] = ["EUR", "USD", "GBP", "CHF"];

/// The plan periods the API accepts.
const PERIODS: [(u32, &str); 4] = [
    (1, "Monthly"),
    (3, "Quarterly (3 months)"),
    (6, "Half-yearly (6 months)"),
    (12, "Yearly (12 months)"),
];

/// Badge colours shared with the request statuses.
fn status_tone(status: SubscriptionStatus) -> &'static str {
    match status {
        SubscriptionStatus::Active => "deployed",
        SubscriptionStatus::Expiring => "pending",
        SubscriptionStatus::Suspended => "provisioning",
        SubscriptionStatus::Expired => "failed",
        SubscriptionStatus::Cancelled => "cancelled",
    }
}

#[component]
pub fn SubscriptionBadge(status: SubscriptionStatus) -> impl IntoView {
    view! {
        <span
            class=format!("badge req req-{}", status_tone(status))
            data-testid="subscription-status"
            data-status=status.as_str()
        >
            {status.as_str()}
        </span>
    }
}

/// An amount, red when it is negative (a margin below cost); `—` when it is not known.
pub fn amount(m: Option<&Money>) -> AnyView {
    match m {
        Some(m) if m.cents < 0 => {
            view! { <span class="amount-negative">{m.display()}</span> }.into_any()
        }
        Some(m) => view! { <span>{m.display()}</span> }.into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// `2026-11-26 → 2026-12-26`.
fn dates(s: &Subscription) -> String {
    format!("{} → {}", s.start_date, s.end_date)
}

/// The subscriptions of one client (or of several, with `show_client`).
#[component]
pub fn SubscriptionTable(
    items: Vec<Subscription>,
    #[prop(optional)] show_client: bool,
) -> impl IntoView {
    let mut columns = vec![Col::Text("Plan")];
    if show_client {
        columns.push(Col::Text("Client"));
    }
    columns.extend([
        Col::Num("Price / month"),
        Col::Text("Period"),
        Col::Text("Dates"),
        Col::Text("Auto-renew"),
        Col::Text("Status"),
        Col::Num("Margin"),
    ]);
    let rows = items
        .into_iter()
        .map(|s| {
            let company = s.client_company.clone();
            let client = show_client.then(|| {
                view! {
                    <td>
                        <A href=format!("/clients/{}", s.client_id)>{company}</A>
                    </td>
                }
            });
            let range = dates(&s);
            let margin = amount(s.margin.as_ref());
            let plan = s.plan_name.clone();
            view! {
                <tr data-testid="subscription-row" data-plan=s.plan_name.clone()>
                    <td>
                        <A href=format!("/subscriptions/{}", s.id)>{plan}</A>
                    </td>
                    {client}
                    <td class="num nowrap" data-testid="subscription-price">{s.price.display()}</td>
                    <td>{period_text(s.period_months)}</td>
                    <td class="nowrap">{range}</td>
                    <td>{if s.auto_renew { "yes" } else { "no" }}</td>
                    <td>
                        <SubscriptionBadge status=s.status />
                    </td>
                    <td class="num nowrap">{margin}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable columns=columns compact=true flat=true testid="subscriptions-table" caption="Subscriptions">
            {rows}
        </DataTable>
    }
}

/// Fields of [`SaveSubscription`] that have an input of their own.
const SUBSCRIPTION_FIELDS: &[&str] = &[
    "plan_name",
    "monthly_price_cents",
    "currency",
    "period_months",
    "start_date",
    "end_date",
    "notice_days",
    "power_off_after_days",
];

/// `12.5` → 1250 cents, or the reason it is not an amount.
fn cents_of(text: &str) -> Result<i64, String> {
    if text.trim().is_empty() {
        return Err("the monthly price, e.g. 49.90".into());
    }
    parse_amount(text)
}

/// A whole number of days; blank is `None`.
fn days_of(text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u32>()
        .map(Some)
        .map_err(|_| "a whole number of days".into())
}

fn date_of(text: &str) -> Result<NaiveDate, String> {
    text.trim()
        .parse::<NaiveDate>()
        .map_err(|_| "a date such as 2026-12-31".into())
}

/// Creates a subscription for `client_id`, or edits `subscription`.
#[component]
pub fn SubscriptionForm(
    client_id: Uuid,
    subscription: Option<Subscription>,
    #[prop(into)] on_done: Callback<SubscriptionDetail>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let is_new = subscription.is_none();
    let existing = subscription.as_ref().map(|s| s.id);
    let today = Local::now().date_naive();
    let text = |f: fn(&Subscription) -> String, default: String| {
        RwSignal::new(subscription.as_ref().map(f).unwrap_or(default))
    };
    let plan = text(|s| s.plan_name.clone(), String::new());
    let price = text(
        |s| {
            let c = s.price.cents.unsigned_abs();
            format!("{}.{:02}", c / 100, c % 100)
        },
        String::new(),
    );
    let currency = text(|s| s.price.currency.clone(), "EUR".into());
    let period = text(|s| s.period_months.to_string(), "1".into());
    let start = text(|s| s.start_date.to_string(), today.to_string());
    let end = text(|s| s.end_date.to_string(), add_months(today, 1).to_string());
    let notice = text(|s| s.notice_days.to_string(), "14".into());
    let power_off = text(
        |s| {
            s.power_off_after_days
                .map(|d| d.to_string())
                .unwrap_or_default()
        },
        String::new(),
    );
    let auto_renew = RwSignal::new(subscription.as_ref().is_none_or(|s| s.auto_renew));
    // Links to servers and deployments are kept as they are.
    let links = subscription
        .as_ref()
        .map(|s| (s.server_ids.clone(), s.deployment_ids.clone()))
        .unwrap_or_default();
    let links = StoredValue::new(links);

    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let mut currency_list: Vec<String> = CURRENCIES.iter().map(|c| c.to_string()).collect();
    if let Some(s) = &subscription {
        if !currency_list.contains(&s.price.currency) {
            currency_list.push(s.price.currency.clone());
        }
    }
    let currency_options = Signal::derive(move || {
        currency_list
            .iter()
            .map(|c| (c.clone(), c.clone()))
            .collect::<Vec<_>>()
    });
    let period_options = Signal::derive(|| {
        PERIODS
            .iter()
            .map(|(m, label)| (m.to_string(), label.to_string()))
            .collect::<Vec<_>>()
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut problems = FieldErrors::new();
        let mut check = |field: &str, result: Result<(), String>| {
            if let Err(m) = result {
                problems.entry(field.to_owned()).or_default().push(m);
            }
        };
        let cents = cents_of(&price.get_untracked());
        check(
            "monthly_price_cents",
            cents.as_ref().map(drop).map_err(Clone::clone),
        );
        let start_date = date_of(&start.get_untracked());
        check(
            "start_date",
            start_date.as_ref().map(drop).map_err(Clone::clone),
        );
        let end_date = date_of(&end.get_untracked());
        check(
            "end_date",
            end_date.as_ref().map(drop).map_err(Clone::clone),
        );
        let notice_days = days_of(&notice.get_untracked());
        check(
            "notice_days",
            notice_days.as_ref().map(drop).map_err(Clone::clone),
        );
        let power_off_days = days_of(&power_off.get_untracked());
        check(
            "power_off_after_days",
            power_off_days.as_ref().map(drop).map_err(Clone::clone),
        );
        let (server_ids, deployment_ids) = links.get_value();
        let body = SaveSubscription {
            client_id,
            plan_name: plan.get_untracked().trim().to_owned(),
            period_months: period.get_untracked().parse().unwrap_or(1),
            monthly_price_cents: cents.unwrap_or(0),
            currency: currency.get_untracked(),
            start_date: start_date.unwrap_or(today),
            end_date: end_date.unwrap_or(today),
            auto_renew: auto_renew.get_untracked(),
            notice_days: notice_days.ok().flatten().unwrap_or(14),
            power_off_after_days: power_off_days.ok().flatten(),
            server_ids,
            deployment_ids,
        };
        if let Err(found) = body.validate() {
            for (field, messages) in found {
                // A field that could not be read says so once, not twice.
                problems.entry(field).or_insert(messages);
            }
        }
        send_form(
            problems,
            pending,
            errors,
            banner,
            SUBSCRIPTION_FIELDS,
            async move {
                match existing {
                    None => api::post::<_, SubscriptionDetail>("/api/subscriptions", &body).await,
                    Some(id) => {
                        api::put::<_, SubscriptionDetail>(
                            &format!("/api/subscriptions/{id}"),
                            &body,
                        )
                        .await
                    }
                }
            },
            move |d| on_done.run(d),
        );
    };

    let submit = if is_new {
        "Create subscription"
    } else {
        "Save changes"
    };
    view! {
        <form class="form" data-testid="subscription-form" on:submit=on_submit novalidate>
            <FormBanner banner=banner />
            <div class="form-grid">
                <TextField
                    id="sub-plan"
                    label="Plan name"
                    value=plan
                    errors=errors
                    field="plan_name"
                    autocomplete="off"
                    placeholder="e.g. Shop hosting S"
                    required=true
                    autofocus=true
                    testid="sub-plan"
                />
                <TextField
                    id="sub-price"
                    label="Monthly price"
                    value=price
                    errors=errors
                    field="monthly_price_cents"
                    autocomplete="off"
                    placeholder="49.90"
                    hint="Per month, with at most two decimals."
                    required=true
                    testid="sub-price"
                />
                <PickField
                    id="sub-currency"
                    label="Currency"
                    field="currency"
                    errors=errors
                    value=currency
                    options=currency_options
                />
                <PickField
                    id="sub-period"
                    label="Period"
                    field="period_months"
                    errors=errors
                    value=period
                    options=period_options
                    hint=Signal::derive(|| "How far each renewal moves the end date.".to_string())
                />
                <TextField
                    id="sub-start"
                    label="Start date"
                    kind="date"
                    value=start
                    errors=errors
                    field="start_date"
                    required=true
                    testid="sub-start"
                />
                <TextField
                    id="sub-end"
                    label="End date"
                    kind="date"
                    value=end
                    errors=errors
                    field="end_date"
                    required=true
                    testid="sub-end"
                />
                <TextField
                    id="sub-notice"
                    label="Notice (days)"
                    kind="number"
                    value=notice
                    errors=errors
                    field="notice_days"
                    hint="The client hears this long before the end date."
                    testid="sub-notice"
                />
                <TextField
                    id="sub-power-off"
                    label="Power off after (days, optional)"
                    kind="number"
                    value=power_off
                    errors=errors
                    field="power_off_after_days"
                    placeholder="never"
                    hint="Days after expiry before its servers are powered off."
                    testid="sub-power-off"
                />
                <label class="check check-field" for="sub-auto-renew">
                    <input
                        type="checkbox"
                        id="sub-auto-renew"
                        name="auto_renew"
                        data-testid="sub-auto-renew"
                        prop:checked=move || auto_renew.get()
                        on:change=move |ev| auto_renew.set(event_target_checked(&ev))
                    />
                    "Renew automatically at the end date"
                </label>
            </div>
            <FormActions
                pending=pending
                label=submit
                busy="Saving…"
                on_cancel=on_cancel
                testid="sub-submit"
            />
        </form>
    }
}

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

type Shown = Memo<Option<SubscriptionDetail>>;

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

/// `price: EUR 49.90 → EUR 59.90`, `status: active → suspended`: what an event changed,
/// one short line per field.
fn changed_fields(e: &SubscriptionEvent) -> Vec<String> {
    use serde_json::Value;
    let empty = serde_json::Map::new();
    let object = |v: &Option<Value>| v.as_ref().and_then(Value::as_object).cloned();
    let (before, after) = (object(&e.before), object(&e.after));
    if before.is_none() {
        // A creation: its starting state is the subscription itself, shown above.
        return Vec::new();
    }
    let before = before.unwrap_or_default();
    let after = after.unwrap_or_else(|| empty.clone());
    let currency = |side: &serde_json::Map<String, Value>| {
        side.get("currency")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let show = |key: &str, side: &serde_json::Map<String, Value>| -> String {
        match (key, side.get(key)) {
            (_, None) | (_, Some(Value::Null)) => "—".into(),
            ("monthly_price_cents", Some(v)) => match (v.as_i64(), currency(side)) {
                (Some(c), Some(cur)) => Money::new(c, &cur).display(),
                _ => v.to_string(),
            },
            (_, Some(Value::String(s))) => s.clone(),
            (_, Some(Value::Array(items))) => format!("{} linked", items.len()),
            (_, Some(v)) => v.to_string(),
        }
    };
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| {
            let label = match k.as_str() {
                "monthly_price_cents" => "price".to_string(),
                other => other.replace('_', " "),
            };
            format!("{label}: {} → {}", show(k, &before), show(k, &after))
        })
        .collect()
}

#[component]
fn History(shown: Shown) -> impl IntoView {
    let events = Memo::new(move |_| shown.with(|d| d.as_ref().map(|d| d.events.clone())));
    move || {
        events.get().map(|events| {
            let items = events
                .into_iter()
                .map(|e| {
                    let who = e
                        .actor
                        .as_ref()
                        .map(person)
                        .unwrap_or_else(|| "renewal job".into());
                    let changes = changed_fields(&e);
                    let at = e.at;
                    let kind = e.kind.replace('_', " ");
                    let detail = e.detail.clone();
                    view! {
                        <li class="event" data-testid="subscription-event" data-kind=e.kind.clone()>
                            <div class="event-head">
                                <strong>{who}</strong>
                                " "
                                {kind}
                                <time class="muted small" title=datetime(&at)>
                                    {relative(&at)}
                                </time>
                            </div>
                            {(!detail.trim().is_empty()).then(|| view! { <p class="event-body">{detail}</p> })}
                            {(!changes.is_empty())
                                .then(|| {
                                    view! {
                                        <ul class="event-changes mono small">
                                            {changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}
                                        </ul>
                                    }
                                })}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div class="card" data-testid="subscription-history">
                    <h2 class="card-title">"History"</h2>
                    <ol class="timeline">{items}</ol>
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

    #[test]
    fn amounts_and_days_are_read_exactly() {
        assert_eq!(cents_of("49.90"), Ok(4990));
        assert!(cents_of("").is_err());
        assert!(cents_of("49.999").is_err());
        assert_eq!(days_of(""), Ok(None));
        assert_eq!(days_of("30"), Ok(Some(30)));
        assert!(days_of("-1").is_err());
    }
}
