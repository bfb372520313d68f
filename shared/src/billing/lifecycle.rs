//! A subscription's states and the renewal steps that follow from its dates.

use super::calendar::add_months;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

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

#[cfg(test)]
mod tests {
    use super::super::d;
    use super::*;

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
}
