//! The form that creates or edits a client's subscription.

use crate::api;
use crate::components::form::{send_draft, Errors, FormActions, FormBanner, PickField, TextField};
use chrono::{Local, NaiveDate};
use leptos::prelude::*;
use shared::billing::{
    add_months, parse_amount, SaveSubscription, Subscription, SubscriptionDetail,
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

/// The subscription form's fields as typed; links to servers and deployments ride along unchanged.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct SubscriptionDraft {
    pub plan: String,
    pub price: String,
    pub currency: String,
    pub period: String,
    pub start: String,
    pub end: String,
    pub notice: String,
    pub power_off: String,
    pub auto_renew: bool,
    pub server_ids: Vec<Uuid>,
    pub deployment_ids: Vec<Uuid>,
}

impl SubscriptionDraft {
    /// A new subscription: monthly in euros from `today`, renewing, with two weeks' notice.
    pub fn new(today: NaiveDate) -> Self {
        Self {
            plan: String::new(),
            price: String::new(),
            currency: "EUR".into(),
            period: "1".into(),
            start: today.to_string(),
            end: add_months(today, 1).to_string(),
            notice: "14".into(),
            power_off: String::new(),
            auto_renew: true,
            server_ids: Vec::new(),
            deployment_ids: Vec::new(),
        }
    }

    pub fn from_dto(s: &Subscription) -> Self {
        let c = s.price.cents.unsigned_abs();
        Self {
            plan: s.plan_name.clone(),
            price: format!("{}.{:02}", c / 100, c % 100),
            currency: s.price.currency.clone(),
            period: s.period_months.to_string(),
            start: s.start_date.to_string(),
            end: s.end_date.to_string(),
            notice: s.notice_days.to_string(),
            power_off: s
                .power_off_after_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
            auto_renew: s.auto_renew,
            server_ids: s.server_ids.clone(),
            deployment_ids: s.deployment_ids.clone(),
        }
    }

    /// `today` stands in for a date that could not be read; that field's message is reported.
    pub fn to_request(
        &self,
        client_id: Uuid,
        today: NaiveDate,
    ) -> Result<SaveSubscription, FieldErrors> {
        let mut problems = FieldErrors::new();
        let cents = cents_of(&self.price);
        let start_date = date_of(&self.start);
        let end_date = date_of(&self.end);
        let notice_days = days_of(&self.notice);
        let power_off_days = days_of(&self.power_off);
        let unread = [
            ("monthly_price_cents", cents.as_ref().err()),
            ("start_date", start_date.as_ref().err()),
            ("end_date", end_date.as_ref().err()),
            ("notice_days", notice_days.as_ref().err()),
            ("power_off_after_days", power_off_days.as_ref().err()),
        ];
        for (field, message) in unread {
            if let Some(m) = message {
                problems
                    .entry(field.to_owned())
                    .or_default()
                    .push(m.clone());
            }
        }
        let body = SaveSubscription {
            client_id,
            plan_name: self.plan.trim().to_owned(),
            period_months: self.period.parse().unwrap_or(1),
            monthly_price_cents: cents.unwrap_or(0),
            currency: self.currency.clone(),
            start_date: start_date.unwrap_or(today),
            end_date: end_date.unwrap_or(today),
            auto_renew: self.auto_renew,
            notice_days: notice_days.ok().flatten().unwrap_or(14),
            power_off_after_days: power_off_days.ok().flatten(),
            server_ids: self.server_ids.clone(),
            deployment_ids: self.deployment_ids.clone(),
        };
        if let Err(found) = body.validate() {
            for (field, messages) in found {
                // A field that could not be read says so once, not twice.
                problems.entry(field).or_insert(messages);
            }
        }
        if problems.is_empty() {
            Ok(body)
        } else {
            Err(problems)
        }
    }
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
    let draft = subscription.as_ref().map_or_else(
        || SubscriptionDraft::new(today),
        SubscriptionDraft::from_dto,
    );
    let plan = RwSignal::new(draft.plan);
    let price = RwSignal::new(draft.price);
    let currency = RwSignal::new(draft.currency);
    let period = RwSignal::new(draft.period);
    let start = RwSignal::new(draft.start);
    let end = RwSignal::new(draft.end);
    let notice = RwSignal::new(draft.notice);
    let power_off = RwSignal::new(draft.power_off);
    let auto_renew = RwSignal::new(draft.auto_renew);
    let links = StoredValue::new((draft.server_ids, draft.deployment_ids));

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
        let (server_ids, deployment_ids) = links.get_value();
        let draft = SubscriptionDraft {
            plan: plan.get_untracked(),
            price: price.get_untracked(),
            currency: currency.get_untracked(),
            period: period.get_untracked(),
            start: start.get_untracked(),
            end: end.get_untracked(),
            notice: notice.get_untracked(),
            power_off: power_off.get_untracked(),
            auto_renew: auto_renew.get_untracked(),
            server_ids,
            deployment_ids,
        };
        send_draft(
            draft.to_request(client_id, today),
            (pending, errors, banner),
            SUBSCRIPTION_FIELDS,
            move |body| async move {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use shared::billing::{Money, SubscriptionStatus};
    use shared::dto::TeamRef;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn hosting() -> Subscription {
        Subscription {
            id: Uuid::nil(),
            client_id: Uuid::nil(),
            client_company: "Acme".into(),
            team: TeamRef {
                id: Uuid::nil(),
                name: "Sales".into(),
                slug: "sales".into(),
            },
            plan_name: "Shop hosting S".into(),
            period_months: 3,
            price: Money::new(4990, "CHF"),
            start_date: day("2026-01-31"),
            end_date: day("2026-04-30"),
            auto_renew: false,
            status: SubscriptionStatus::Active,
            notice_days: 30,
            power_off_after_days: Some(7),
            owner_id: None,
            server_ids: vec![Uuid::from_u128(1)],
            deployment_ids: vec![Uuid::from_u128(2)],
            cost: None,
            margin: None,
            created_at: Utc::now(),
        }
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

    #[test]
    fn new_subscription_runs_one_month_from_today_in_euros() {
        let draft = SubscriptionDraft::new(day("2026-01-31"));
        assert_eq!(draft.currency, "EUR");
        assert_eq!(draft.period, "1");
        assert_eq!(draft.start, "2026-01-31");
        assert_eq!(draft.end, "2026-02-28");
        assert_eq!(draft.notice, "14");
        assert!(draft.auto_renew);
    }

    #[test]
    fn edited_subscription_is_sent_back_as_it_was_with_its_links() {
        let s = hosting();
        let draft = SubscriptionDraft::from_dto(&s);
        assert_eq!(draft.price, "49.90");
        assert_eq!(draft.power_off, "7");
        let body = draft.to_request(s.client_id, day("2030-01-01")).unwrap();
        assert_eq!(
            body,
            SaveSubscription {
                client_id: s.client_id,
                plan_name: "Shop hosting S".into(),
                period_months: 3,
                monthly_price_cents: 4990,
                currency: "CHF".into(),
                start_date: day("2026-01-31"),
                end_date: day("2026-04-30"),
                auto_renew: false,
                notice_days: 30,
                power_off_after_days: Some(7),
                server_ids: vec![Uuid::from_u128(1)],
                deployment_ids: vec![Uuid::from_u128(2)],
            }
        );
    }

    #[test]
    fn blank_notice_means_fourteen_days_and_blank_power_off_means_never() {
        let draft = SubscriptionDraft {
            plan: " Shop hosting M ".into(),
            price: "12,5".into(),
            notice: " ".into(),
            ..SubscriptionDraft::new(day("2026-03-01"))
        };
        let body = draft.to_request(Uuid::nil(), day("2026-03-01")).unwrap();
        assert_eq!(body.plan_name, "Shop hosting M");
        assert_eq!(body.monthly_price_cents, 1250);
        assert_eq!(body.notice_days, 14);
        assert_eq!(body.power_off_after_days, None);
    }

    #[test]
    fn unreadable_fields_are_reported_once_each() {
        let today = day("2026-03-01");
        let draft = SubscriptionDraft {
            plan: "Shop hosting S".into(),
            price: "lots".into(),
            end: "soon".into(),
            notice: "a week".into(),
            ..SubscriptionDraft::new(today)
        };
        let errors = draft.to_request(Uuid::nil(), today).unwrap_err();
        assert_eq!(
            errors["end_date"],
            vec!["a date such as 2026-12-31".to_string()]
        );
        assert_eq!(
            errors["notice_days"],
            vec!["a whole number of days".to_string()]
        );
        assert_eq!(errors["monthly_price_cents"].len(), 1);
        assert!(!errors.contains_key("start_date"));
    }

    #[test]
    fn end_date_before_the_start_is_refused_by_the_shared_rules() {
        let draft = SubscriptionDraft {
            plan: "Shop hosting S".into(),
            price: "10".into(),
            start: "2026-05-01".into(),
            end: "2026-04-01".into(),
            ..SubscriptionDraft::new(day("2026-03-01"))
        };
        let errors = draft
            .to_request(Uuid::nil(), day("2026-03-01"))
            .unwrap_err();
        assert_eq!(errors["end_date"], vec!["after the start date".to_string()]);
    }
}
