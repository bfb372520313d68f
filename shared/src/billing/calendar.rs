//! Days and months: the share of a monthly price for some of a month's days, and plan periods
//! that move dates by calendar months.

use chrono::{Datelike, NaiveDate};

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

#[cfg(test)]
mod tests {
    use super::super::d;
    use super::*;

    #[test]
    fn more_days_than_the_month_cost_the_whole_month() {
        assert_eq!(prorate(-3, 34, 28), -3);
        assert_eq!(prorate(i64::MAX, 40, 28), i64::MAX);
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
}
