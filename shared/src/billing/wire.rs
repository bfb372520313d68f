//! The wire types: clients, subscriptions, their events and the revenue figures as the API sends
//! them, and the bodies it receives with their validation.

use super::lifecycle::SubscriptionStatus;
use super::money::{currency_code, Money};
use crate::validation::{FieldErrors, Validator};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

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
    #[cfg_attr(feature = "openapi", schema(schema_with = period_months_schema))]
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
            if crate::billing::PERIODS_MONTHS.contains(&self.period_months) {
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

/// A server or deployment of the subscription's team, and whether the subscription names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LinkTarget {
    pub id: Uuid,
    pub name: String,
    pub status: String,
    pub linked: bool,
}

/// `GET /api/subscriptions/{id}/linkable`: what the subscription may name, by name, for the
/// people who manage subscriptions (they need not see the servers' pages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Linkable {
    pub servers: Vec<LinkTarget>,
    pub deployments: Vec<LinkTarget>,
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

/// The billing periods a subscription may have, as the document's enum.
#[cfg(feature = "openapi")]
fn period_months_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .enum_values(Some(crate::billing::PERIODS_MONTHS))
        .description(Some("1, 3, 6 or 12."))
        .build()
}

#[cfg(test)]
mod tests {
    use super::super::d;
    use super::*;

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
