//! Revenue figures from subscription rows: each month's revenue prorated by the days billed in
//! it, per currency, and the month's churn.

use super::calendar::{add_months, days_in_month, prorate_span};
use super::money::{add_to, Money, Totals};
use chrono::{Datelike, NaiveDate};

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

#[cfg(test)]
mod tests {
    use super::super::d;
    use super::*;

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
}
