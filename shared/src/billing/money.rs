//! Money is integer cents with an ISO 4217 currency: never floats, never two currencies in one
//! sum, and a sum that does not fit is refused rather than wrapped.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
