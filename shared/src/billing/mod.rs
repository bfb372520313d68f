//! Clients, subscriptions and revenue, as pure rules: money is integer cents with an ISO 4217
//! currency (never floats, never two currencies in one sum), plan periods move end dates by
//! calendar months (clamped to the month's last day), subscription states follow from dates, and
//! revenue figures are computed from subscription rows.
//!
//! - `money`: amounts of one currency, parsing them, and totals per currency;
//! - `calendar`: proration by days and calendar-month arithmetic;
//! - `lifecycle`: subscription states and the renewal steps due on a day;
//! - `revenue`: monthly revenue and churn from the billed subscriptions;
//! - `wire`: clients, subscriptions and revenue as the API sends and receives them.

mod calendar;
mod lifecycle;
mod money;
mod revenue;
mod wire;

/// The billing periods a subscription may have, in months.
pub const PERIODS_MONTHS: [u32; 4] = [1, 3, 6, 12];

pub use calendar::{add_months, days_in_month, prorate, prorate_span};
pub use lifecycle::{renewal_steps, RenewalFacts, RenewalStep, SubscriptionStatus};
pub use money::{add_to, currency_code, parse_amount, totals_list, Money, Totals};
pub use revenue::{churn, months_back, revenue_by_month, Billed};
pub use wire::{
    Client, Contact, LinkTarget, Linkable, MarginRow, MonthRevenue, Revenue, RevenueShare,
    SaveClient, SaveSubscription, Subscription, SubscriptionChange, SubscriptionDetail,
    SubscriptionEvent,
};

/// A date, for the unit tests.
#[cfg(test)]
fn d(y: i32, m: u32, day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap()
}
