//! Clients, subscriptions, renewals and revenue. The arithmetic and the renewal rules are pure
//! (`shared::billing`); this module loads rows, scopes them to the caller's teams, records every
//! change as a subscription event and an audit row, and runs the renewal steps as conditional
//! UPDATEs so a step happens once however often the job runs.
//!
//! - `clients`: the companies subscriptions are sold to;
//! - `subscriptions`: what a caller sees of subscriptions, with their costs and margins;
//! - `subscription_changes`: creating, editing, cancelling, suspending and resuming, each an event;
//! - `renewals`: the steps the renewal job takes as their dates come;
//! - `revenue`: MRR, ARR, the monthly history and its CSV export.

mod clients;
mod renewals;
mod revenue;
mod subscription_changes;
mod subscriptions;

use crate::entities::subscriptions as rows;
use shared::billing::{Money, SubscriptionStatus};
use uuid::Uuid;

pub use clients::{client, delete_client, list_clients, save_client, visible_client};
pub use renewals::renew_due;
pub use revenue::{revenue, revenue_csv};
pub use subscription_changes::{change, save};
pub use subscriptions::{detail, linkable, list, to_dtos, visible};

pub fn status_of(row: &rows::Model) -> SubscriptionStatus {
    SubscriptionStatus::parse(&row.status).unwrap_or(SubscriptionStatus::Suspended)
}

fn ids(value: &serde_json::Value) -> Vec<Uuid> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

pub fn price_of(row: &rows::Model) -> Money {
    Money::new(row.monthly_price_cents, &row.currency)
}
