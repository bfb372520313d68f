//! Clients, subscriptions and revenue, as pure rules: money is integer cents with an ISO 4217
//! currency (never floats, never two currencies in one sum), plan periods move end dates by
//! calendar months (clamped to the month's last day), subscription states follow from dates, and
//! revenue figures are computed from subscription rows.

use crate::validation::{FieldErrors, Validator};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// An amount of one currency.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Money {
    pub cents: i64,
    /// ISO 4217, upper case (`EUR`).
    pub currency: String,
}

impl Money {
    pub fn new(cents: i64, currency: &str) -> Self {
        Money {
            cents,
            currency: currency.to_owned(),
        }
    }

    /// The sum, or an error when the currencies differ (they are never converted) or the
    /// result does not fit.
    pub fn checked_add(&self, other: &Money) -> Result<Money, String> {
        self.same_currency(other)?;
        self.cents
            .checked_add(other.cents)
            .map(|cents| Money::new(cents, &self.currency))
            .ok_or_else(too_large)
    }

    pub fn checked_sub(&self, other: &Money) -> Result<Money, String> {
        self.same_currency(other)?;
        // Subtracting directly: negating i64::MIN first would overflow.
        self.cents
            .checked_sub(other.cents)
            .map(|cents| Money::new(cents, &self.currency))
            .ok_or_else(too_large)
    }

    fn same_currency(&self, other: &Money) -> Result<(), String> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(format!(
                "cannot add {} to {}: currencies are never mixed",
                other.currency, self.currency
            ))
        }
    }

    /// `EUR 1,234.50`, `-EUR 3.05`.
    pub fn display(&self) -> String {
        let sign = if self.cents < 0 { "-" } else { "" };
        let abs = self.cents.unsigned_abs();
        let units = (abs / 100).to_string();
        let mut grouped = String::new();
        for (i, c) in units.chars().enumerate() {
            if i > 0 && (units.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{sign}{} {grouped}.{:02}", self.currency, abs % 100)
    }
}

pub fn currency_code(code: &str) -> Result<(), String> {
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err("an ISO 4217 code such as EUR or USD".into())
    }
}

/// `"12.5"` or `"12,50"` → 1250 cents; more than two decimals, signs, or anything else is refused
/// rather than rounded.
pub fn parse_amount(text: &str) -> Result<i64, String> {
    let text = text.trim().replace(',', ".");
    let refuse = || format!("{text:?}: an amount such as 49 or 49.90");
    let (units, fraction) = match text.split_once('.') {
        Some((u, f)) => (u, f),
        None => (text.as_str(), ""),
    };
    if units.is_empty()
        || fraction.len() > 2
        || !units.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return Err(refuse());
    }
    let units: i64 = units.parse().map_err(|_| refuse())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| refuse())?;
    units
        .checked_mul(100)
        .and_then(|c| c.checked_add(fraction))
        .ok_or_else(refuse)
}

/// Totals per currency.
pub type Totals = BTreeMap<String, i64>;

fn too_large() -> String {
    "the amount is too large".into()
}

/// Adds `money` to its currency's total; a total that would not fit is refused and left as it was.
pub fn add_to(totals: &mut Totals, money: &Money) -> Result<(), String> {
    let total = totals.entry(money.currency.clone()).or_default();
    *total = total.checked_add(money.cents).ok_or_else(too_large)?;
    Ok(())
}

pub fn totals_list(totals: &Totals) -> Vec<Money> {
    totals
        .iter()
        .map(|(currency, cents)| Money::new(*cents, currency))
        .collect()
}

/// `monthly × days / days_in_month`, rounded half away from zero, in integer arithmetic. A part
/// of a month: more days than the month has cost the whole month, never more.
pub fn prorate(monthly_cents: i64, days: u32, days_in_month: u32) -> i64 {
    if days_in_month == 0 {
        return 0;
    }
    let days = days.min(days_in_month);
    let numerator = i128::from(monthly_cents) * i128::from(days) * 2;
    let denominator = i128::from(days_in_month) * 2;
    let half = i128::from(days_in_month);
    let rounded = if numerator >= 0 {
        (numerator + half) / denominator
    } else {
        (numerator - half) / denominator
    };
    i64::try_from(rounded).expect("at most the monthly amount")
}

/// The share of days `from_day..to_day` (counted from the month's start, `to_day` exclusive) of a
/// month. Rounded as the difference of the rounded shares up to each end, so the pieces of a month
/// split at any days add up to the monthly amount exactly: rounding each piece on its own could
/// lose or create a cent (two halves of 0.15 would make 0.08 + 0.08).
pub fn prorate_span(monthly_cents: i64, from_day: u32, to_day: u32, days_in_month: u32) -> i64 {
    prorate(monthly_cents, to_day, days_in_month) - prorate(monthly_cents, from_day, days_in_month)
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    let first = NaiveDate::from_ymd_opt(year, month, 1).expect("a month");
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .expect("a month");
    (next - first).num_days() as u32
}

/// The same day `months` later, or that month's last day when it is shorter (31 January + 1
/// month = 28 or 29 February).
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    let total = date.year() * 12 + date.month0() as i32 + months as i32;
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    let day = date.day().min(days_in_month(year, month));
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid day")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    Active,
    /// Within the notice window before its end date, not (yet) renewed.
    Expiring,
    Expired,
    Suspended,
    Cancelled,
}

impl SubscriptionStatus {
    pub const ALL: [SubscriptionStatus; 5] = [
        SubscriptionStatus::Active,
        SubscriptionStatus::Expiring,
        SubscriptionStatus::Expired,
        SubscriptionStatus::Suspended,
        SubscriptionStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Expiring => "expiring",
            SubscriptionStatus::Expired => "expired",
            SubscriptionStatus::Suspended => "suspended",
            SubscriptionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Counted in MRR: the client is being served and billed.
    pub fn is_billed(self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Active | SubscriptionStatus::Expiring
        )
    }
}

/// What the renewal job does for one subscription on `today`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenewalStep {
    /// Tell the sales owner and the client contact the end is near (once per end date).
    Notify { end: NaiveDate },
    /// Extend the end date by the plan's period.
    Renew { from: NaiveDate, to: NaiveDate },
    /// The end passed without renewal.
    Expire,
    /// The grace period after expiry passed: power the servers off (when the policy says so).
    PowerOff,
}

/// The facts the renewal job reads from a subscription row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalFacts {
    pub status: SubscriptionStatus,
    pub end_date: NaiveDate,
    pub auto_renew: bool,
    pub period_months: u32,
    pub notice_days: u32,
    /// The end date the last notice was sent for.
    pub notified_for: Option<NaiveDate>,
    /// Days after expiry before servers are powered off; None = never.
    pub power_off_after_days: Option<u32>,
    pub powered_off: bool,
}

/// The steps due on `today`, in order. Each step leaves a trace in the facts (notified_for, a
/// later end date, the status, powered_off), so running the job again never repeats a step. A
/// step can make the next one due the same day (a renewal whose new end is within the notice
/// window, an expiry with no grace period before power-off); the next run takes it, so the job
/// settles within three runs.
pub fn renewal_steps(f: &RenewalFacts, today: NaiveDate) -> Vec<RenewalStep> {
    use SubscriptionStatus as S;
    let mut steps = Vec::new();
    match f.status {
        S::Active | S::Expiring => {
            if f.auto_renew && today >= f.end_date {
                // Several periods may have passed while the job did not run.
                let mut to = f.end_date;
                while to <= today {
                    to = add_months(to, f.period_months.max(1));
                }
                steps.push(RenewalStep::Renew {
                    from: f.end_date,
                    to,
                });
            } else if today >= f.end_date {
                steps.push(RenewalStep::Expire);
            } else if today + chrono::Duration::days(i64::from(f.notice_days)) >= f.end_date
                && f.notified_for != Some(f.end_date)
            {
                steps.push(RenewalStep::Notify { end: f.end_date });
            }
        }
        S::Expired => {
            if let Some(grace) = f.power_off_after_days {
                if !f.powered_off && today >= f.end_date + chrono::Duration::days(i64::from(grace))
                {
                    steps.push(RenewalStep::PowerOff);
                }
            }
        }
        S::Suspended | S::Cancelled => {}
    }
    steps
}

/// One subscription as the revenue figures see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Billed {
    pub client: String,
    pub plan: String,
    pub price: Money,
    pub start: NaiveDate,
    /// Billing stops here (exclusive): the end date, or the day it was cancelled/expired.
    pub stop: Option<NaiveDate>,
}

impl Billed {
    /// The days of the month starting `first` it was billed, as offsets from `first`
    /// (`from..to`); None when it was not billed in that month.
    fn days_in(&self, first: NaiveDate, next: NaiveDate) -> Option<(u32, u32)> {
        let from = self.start.max(first);
        let to = self.stop.map_or(next, |s| s.min(next));
        let offset = |day: NaiveDate| (day - first).num_days() as u32;
        (from < to).then(|| (offset(from), offset(to)))
    }
}

/// The first day of each of the `count` months ending with `today`'s, oldest first.
pub fn months_back(today: NaiveDate, count: u32) -> Vec<NaiveDate> {
    let this = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).expect("a month");
    (0..count)
        .rev()
        .map(|back| {
            let total = this.year() * 12 + this.month0() as i32 - back as i32;
            NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1)
                .expect("a month")
        })
        .collect()
}

/// Revenue of each month (prorated by the days billed in it), per currency; an error when a
/// month's total does not fit in i64 cents.
pub fn revenue_by_month(
    billed: &[Billed],
    months: &[NaiveDate],
) -> Result<Vec<(NaiveDate, Totals)>, String> {
    months
        .iter()
        .map(|first| {
            let next = add_months(*first, 1);
            let length = days_in_month(first.year(), first.month());
            let mut totals = Totals::new();
            for b in billed {
                if let Some((from, to)) = b.days_in(*first, next) {
                    let share = prorate_span(b.price.cents, from, to, length);
                    add_to(&mut totals, &Money::new(share, &b.price.currency))?;
                }
            }
            Ok((*first, totals))
        })
        .collect()
}

/// Share of the subscriptions billed on a month's first day that stopped within the month,
/// in percent with one decimal; None when none was billed.
pub fn churn(billed: &[Billed], first: NaiveDate) -> Option<f64> {
    let next = add_months(first, 1);
    let at_start: Vec<&Billed> = billed
        .iter()
        .filter(|b| b.start <= first && b.stop.is_none_or(|s| s > first))
        .collect();
    if at_start.is_empty() {
        return None;
    }
    let stopped = at_start
        .iter()
        .filter(|b| b.stop.is_some_and(|s| s < next))
        .count();
    Some((stopped as f64 * 1000.0 / at_start.len() as f64).round() / 10.0)
}

// ---- wire types ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Contact {
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Client {
    pub id: Uuid,
    pub team: crate::dto::TeamRef,
    pub company: String,
    pub contacts: Vec<Contact>,
    pub billing_email: String,
    pub notes: String,
    pub subscriptions: u64,
    /// MRR of its billed subscriptions, per currency.
    pub mrr: Vec<Money>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SaveClient {
    pub team_id: Uuid,
    pub company: String,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    pub billing_email: String,
    #[serde(default)]
    pub notes: String,
}

impl SaveClient {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut v = Validator::new();
        v.check(
            "company",
            crate::validation::display_text(&self.company, 2, 200),
        );
        v.check(
            "billing_email",
            crate::validation::email(&self.billing_email),
        );
        v.check(
            "notes",
            crate::validation::display_text(&self.notes, 0, 4000),
        );
        for (i, c) in self.contacts.iter().enumerate() {
            v.check(
                &format!("contacts[{i}].name"),
                crate::validation::display_text(&c.name, 1, 200),
            );
            if !c.email.is_empty() {
                v.check(
                    &format!("contacts[{i}].email"),
                    crate::validation::email(&c.email),
                );
            }
        }
        if self.contacts.len() > 20 {
            v.check("contacts", Err("at most 20 contacts".into()));
        }
        v.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Subscription {
    pub id: Uuid,
    pub client_id: Uuid,
    pub client_company: String,
    pub team: crate::dto::TeamRef,
    pub plan_name: String,
    pub period_months: u32,
    pub price: Money,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub auto_renew: bool,
    pub status: SubscriptionStatus,
    pub notice_days: u32,
    pub power_off_after_days: Option<u32>,
    pub owner_id: Option<Uuid>,
    pub server_ids: Vec<Uuid>,
    pub deployment_ids: Vec<Uuid>,
    /// What the linked servers cost at the provider's catalog prices, per month (same currency
    /// only); None when unknown.
    pub cost: Option<Money>,
    /// Price minus cost; None when the cost is unknown or in another currency.
    pub margin: Option<Money>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SaveSubscription {
    pub client_id: Uuid,
    pub plan_name: String,
    /// 1, 3, 6 or 12.
    pub period_months: u32,
    pub monthly_price_cents: i64,
    pub currency: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    #[serde(default = "yes")]
    pub auto_renew: bool,
    #[serde(default = "default_notice")]
    pub notice_days: u32,
    #[serde(default)]
    pub power_off_after_days: Option<u32>,
    #[serde(default)]
    pub server_ids: Vec<Uuid>,
    #[serde(default)]
    pub deployment_ids: Vec<Uuid>,
}

fn yes() -> bool {
    true
}

fn default_notice() -> u32 {
    14
}

impl SaveSubscription {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut v = Validator::new();
        v.check(
            "plan_name",
            crate::validation::display_text(&self.plan_name, 2, 100),
        );
        v.check(
            "period_months",
            if [1, 3, 6, 12].contains(&self.period_months) {
                Ok(())
            } else {
                Err("1, 3, 6 or 12 months".into())
            },
        );
        v.check(
            "monthly_price_cents",
            if (0..=10_000_000_000).contains(&self.monthly_price_cents) {
                Ok(())
            } else {
                Err("0 to 100,000,000.00".into())
            },
        );
        v.check("currency", currency_code(&self.currency));
        v.check(
            "end_date",
            if self.end_date > self.start_date {
                Ok(())
            } else {
                Err("after the start date".into())
            },
        );
        v.check(
            "notice_days",
            if self.notice_days <= 365 {
                Ok(())
            } else {
                Err("at most 365 days".into())
            },
        );
        if let Some(days) = self.power_off_after_days {
            v.check(
                "power_off_after_days",
                if days <= 365 {
                    Ok(())
                } else {
                    Err("at most 365 days".into())
                },
            );
        }
        v.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SubscriptionEvent {
    pub at: DateTime<Utc>,
    /// None for the renewal job.
    pub actor: Option<crate::requests::UserRef>,
    /// `created`, `updated`, `notified`, `renewed`, `expired`, `powered_off`, `cancelled`,
    /// `suspended`, `resumed`.
    pub kind: String,
    pub detail: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SubscriptionDetail {
    pub subscription: Subscription,
    /// Newest first.
    pub events: Vec<SubscriptionEvent>,
}

/// `POST /api/subscriptions/{id}/{action}` body: why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SubscriptionChange {
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MonthRevenue {
    /// `2026-11`.
    pub month: String,
    pub totals: Vec<Money>,
    /// Percent of the subscriptions billed on the month's first day that stopped in it.
    pub churn: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RevenueShare {
    pub name: String,
    /// MRR now, per currency.
    pub mrr: Vec<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MarginRow {
    pub subscription_id: Uuid,
    pub client: String,
    pub plan: String,
    pub price: Money,
    pub cost: Option<Money>,
    pub margin: Option<Money>,
}

/// `GET /api/revenue`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Revenue {
    pub today: NaiveDate,
    pub mrr: Vec<Money>,
    pub arr: Vec<Money>,
    /// The last 12 months, oldest first.
    pub by_month: Vec<MonthRevenue>,
    pub by_client: Vec<RevenueShare>,
    pub by_plan: Vec<RevenueShare>,
    pub margins: Vec<MarginRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn currencies_are_never_mixed() {
        let eur = Money::new(1999, "EUR");
        assert_eq!(
            eur.checked_add(&Money::new(1, "EUR")),
            Ok(Money::new(2000, "EUR"))
        );
        assert!(eur.checked_add(&Money::new(1, "USD")).is_err());
        assert!(eur.checked_sub(&Money::new(1, "CHF")).is_err());
        assert!(Money::new(i64::MAX, "EUR")
            .checked_add(&Money::new(1, "EUR"))
            .is_err());
        let mut totals = Totals::new();
        add_to(&mut totals, &eur).unwrap();
        add_to(&mut totals, &Money::new(500, "USD")).unwrap();
        add_to(&mut totals, &Money::new(1, "EUR")).unwrap();
        assert_eq!(
            totals_list(&totals),
            [Money::new(2000, "EUR"), Money::new(500, "USD")]
        );
    }

    #[test]
    fn amounts_parse_exactly_or_not_at_all() {
        assert_eq!(parse_amount("49"), Ok(4900));
        assert_eq!(parse_amount("49.9"), Ok(4990));
        assert_eq!(parse_amount("49,95"), Ok(4995));
        assert_eq!(parse_amount("0.07"), Ok(7));
        for bad in [
            "49.999",
            "-3",
            "1e3",
            "",
            ".5",
            "12.3.4",
            "99999999999999999999",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
        assert_eq!(Money::new(123_456_789, "EUR").display(), "EUR 1,234,567.89");
        assert_eq!(Money::new(-305, "USD").display(), "-USD 3.05");
    }

    // Found by the property tests (shared/tests/properties.rs).
    #[test]
    fn subtracting_the_smallest_amount_is_refused_not_a_panic() {
        let zero = Money::new(0, "EUR");
        assert!(zero.checked_sub(&Money::new(i64::MIN, "EUR")).is_err());
        assert!(zero.checked_sub(&Money::new(i64::MIN, "USD")).is_err());
        assert_eq!(
            Money::new(-1, "EUR").checked_sub(&Money::new(i64::MAX, "EUR")),
            Ok(Money::new(i64::MIN, "EUR"))
        );
    }

    #[test]
    fn totals_refuse_to_overflow_and_keep_what_they_had() {
        let mut totals = Totals::new();
        add_to(&mut totals, &Money::new(i64::MAX, "EUR")).unwrap();
        assert!(add_to(&mut totals, &Money::new(1, "EUR")).is_err());
        assert_eq!(totals["EUR"], i64::MAX);
        let whole_month = |cents| Billed {
            client: "c".into(),
            plan: "p".into(),
            price: Money::new(cents, "EUR"),
            start: d(2026, 1, 1),
            stop: None,
        };
        let billed = [whole_month(i64::MAX), whole_month(1)];
        assert!(revenue_by_month(&billed, &[d(2026, 11, 1)]).is_err());
    }

    #[test]
    fn more_days_than_the_month_cost_the_whole_month() {
        assert_eq!(prorate(-3, 34, 28), -3);
        assert_eq!(prorate(i64::MAX, 40, 28), i64::MAX);
    }

    #[test]
    fn a_month_split_in_two_halves_bills_no_extra_cent() {
        // 49.99 a month, replaced on 16 November (30 days) by the same price: 15 days each.
        // Rounding each half on its own gave 25.00 + 25.00 = 50.00.
        assert_eq!(
            prorate_span(4999, 0, 15, 30) + prorate_span(4999, 15, 30, 30),
            4999
        );
        let old = Billed {
            client: "Acme".into(),
            plan: "Small".into(),
            price: Money::new(4999, "EUR"),
            start: d(2026, 1, 1),
            stop: Some(d(2026, 11, 16)),
        };
        let new = Billed {
            plan: "Small v2".into(),
            start: d(2026, 11, 16),
            stop: None,
            ..old.clone()
        };
        let november = revenue_by_month(&[old, new], &[d(2026, 11, 1)]).unwrap();
        assert_eq!(november[0].1, Totals::from([("EUR".into(), 4999)]));
    }

    #[test]
    fn proration_rounds_half_away_from_zero() {
        // 10.00 for 1 of 3 days = 3.333… → 3.33; 0.05 for 1 of 2 days = 0.025 → 0.03.
        assert_eq!(prorate(1000, 1, 3), 333);
        assert_eq!(prorate(5, 1, 2), 3);
        assert_eq!(prorate(-5, 1, 2), -3);
        assert_eq!(prorate(4999, 31, 31), 4999);
        assert_eq!(prorate(4999, 0, 31), 0);
        assert_eq!(prorate(2900, 14, 28), 1450);
    }

    #[test]
    fn renewal_dates_across_month_ends_and_leap_years() {
        let table = [
            (d(2026, 1, 31), 1, d(2026, 2, 28)),
            (d(2028, 1, 31), 1, d(2028, 2, 29)),
            (d(2028, 2, 29), 12, d(2029, 2, 28)),
            (d(2026, 8, 31), 3, d(2026, 11, 30)),
            (d(2026, 11, 30), 3, d(2027, 2, 28)),
            (d(2026, 12, 15), 1, d(2027, 1, 15)),
            (d(2026, 10, 31), 6, d(2027, 4, 30)),
        ];
        for (from, months, to) in table {
            assert_eq!(add_months(from, months), to, "{from} + {months}");
        }
        assert_eq!(days_in_month(2028, 2), 29);
        assert_eq!(days_in_month(2100, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
    }

    fn facts(end: NaiveDate) -> RenewalFacts {
        RenewalFacts {
            status: SubscriptionStatus::Active,
            end_date: end,
            auto_renew: false,
            period_months: 1,
            notice_days: 14,
            notified_for: None,
            power_off_after_days: Some(7),
            powered_off: false,
        }
    }

    #[test]
    fn renewal_steps_happen_once() {
        let end = d(2026, 12, 31);
        let mut f = facts(end);
        assert!(renewal_steps(&f, d(2026, 12, 1)).is_empty(), "too early");
        assert_eq!(
            renewal_steps(&f, d(2026, 12, 17)),
            [RenewalStep::Notify { end }]
        );
        f.notified_for = Some(end);
        assert!(
            renewal_steps(&f, d(2026, 12, 18)).is_empty(),
            "notified once"
        );
        assert_eq!(renewal_steps(&f, end), [RenewalStep::Expire]);
        f.status = SubscriptionStatus::Expired;
        assert!(
            renewal_steps(&f, d(2027, 1, 6)).is_empty(),
            "in the grace period"
        );
        assert_eq!(renewal_steps(&f, d(2027, 1, 7)), [RenewalStep::PowerOff]);
        f.powered_off = true;
        assert!(renewal_steps(&f, d(2027, 1, 8)).is_empty());

        let mut auto = facts(d(2026, 1, 31));
        auto.auto_renew = true;
        assert_eq!(
            renewal_steps(&auto, d(2026, 1, 31)),
            [RenewalStep::Renew {
                from: d(2026, 1, 31),
                to: d(2026, 2, 28)
            }]
        );
        // Missed runs: it catches up in one step to the first end after today.
        assert_eq!(
            renewal_steps(&auto, d(2026, 4, 2)),
            [RenewalStep::Renew {
                from: d(2026, 1, 31),
                to: d(2026, 4, 28)
            }]
        );
        auto.status = SubscriptionStatus::Cancelled;
        assert!(renewal_steps(&auto, d(2026, 4, 2)).is_empty());
    }

    #[test]
    fn revenue_is_prorated_per_month_and_churn_counts_stops() {
        let billed = vec![
            Billed {
                client: "Acme".into(),
                plan: "Small".into(),
                price: Money::new(3100, "EUR"),
                start: d(2026, 10, 16),
                stop: None,
            },
            Billed {
                client: "Beta".into(),
                plan: "Large".into(),
                price: Money::new(9000, "USD"),
                start: d(2026, 9, 1),
                stop: Some(d(2026, 11, 16)),
            },
        ];
        let months = months_back(d(2026, 11, 20), 3);
        assert_eq!(months, [d(2026, 9, 1), d(2026, 10, 1), d(2026, 11, 1)]);
        let by_month = revenue_by_month(&billed, &months).unwrap();
        assert_eq!(by_month[0].1, Totals::from([("USD".into(), 9000)]));
        assert_eq!(
            by_month[1].1,
            Totals::from([("EUR".into(), 1600), ("USD".into(), 9000)])
        );
        // November: EUR whole month; USD 15 of 30 days.
        assert_eq!(
            by_month[2].1,
            Totals::from([("EUR".into(), 3100), ("USD".into(), 4500)])
        );
        assert_eq!(churn(&billed, d(2026, 11, 1)), Some(50.0));
        assert_eq!(churn(&billed, d(2026, 10, 1)), Some(0.0));
        assert_eq!(churn(&billed, d(2026, 8, 1)), None);
        assert_eq!(
            months_back(d(2027, 1, 5), 2),
            [d(2026, 12, 1), d(2027, 1, 1)]
        );
    }

    #[test]
    fn subscriptions_are_validated() {
        let s = SaveSubscription {
            client_id: Uuid::nil(),
            plan_name: "S".into(),
            period_months: 2,
            monthly_price_cents: -1,
            currency: "eur".into(),
            start_date: d(2026, 1, 1),
            end_date: d(2026, 1, 1),
            auto_renew: true,
            notice_days: 400,
            power_off_after_days: None,
            server_ids: vec![],
            deployment_ids: vec![],
        };
        let errors = s.validate().unwrap_err();
        for field in [
            "plan_name",
            "period_months",
            "monthly_price_cents",
            "currency",
            "end_date",
            "notice_days",
        ] {
            assert!(errors.contains_key(field), "{field}");
        }
    }
}
