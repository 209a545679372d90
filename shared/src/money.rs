//! Money: exact decimals, never binary floating point. In JSON it is read from the number's own
//! text (or a string) and written with exactly two decimals (`100.00`); in DynamoDB it is a
//! Number attribute, which DynamoDB keeps as an exact decimal.

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use std::str::FromStr;

/// Amounts at or above this are refused: ten trillion is far beyond any loan, and the bound
/// keeps every value exact in every system downstream.
const LIMIT: i64 = 10_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// From decimal text: an optional `-`, digits, and at most two decimals. No exponent, no
    /// `+`, no white space, nothing that would need rounding.
    pub fn parse(text: &str) -> Option<Money> {
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let (int, frac) = match unsigned.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (unsigned, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
        if !digits(int) || frac.is_some_and(|f| !digits(f) || f.len() > 2) || int.len() > 16 {
            return None;
        }
        let d = Decimal::from_str_exact(text).ok()?;
        (d.abs() < Decimal::from(LIMIT)).then_some(Money(d))
    }

    /// From a JSON value's own text: a number (`100.5`) or a string (`"100.50"`).
    pub fn from_json_text(raw: &str) -> Option<Money> {
        let raw = raw.trim();
        match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(inner) => Money::parse(inner),
            None => Money::parse(raw),
        }
    }

    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Exactly two decimals: `100.00`, `0.50`, `-3.10`.
    pub fn to_2dp(self) -> String {
        let mut d = self.0;
        d.rescale(2);
        d.to_string()
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// As DynamoDB stores it: a Number.
    pub fn to_dynamo(self) -> String {
        self.0.normalize().to_string()
    }

    /// What DynamoDB gave back ("100", "99.9", "1E+2" never happens for our writes, but the
    /// scientific form is accepted too).
    pub fn from_dynamo(n: &str) -> Option<Money> {
        Decimal::from_str(n)
            .or_else(|_| Decimal::from_scientific(n))
            .ok()
            .map(Money)
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_2dp())
    }
}

/// A JSON number with two decimals: `100.00`.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(self.to_2dp()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

/// A JSON string with two decimals: `"25.99"` (the seeds' `discountSavings`, `disbursementFee`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoneyString(pub Money);

impl Serialize for MoneyString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_2dp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly_and_writes_two_decimals() {
        for (text, out) in [
            ("100", "100.00"),
            ("100.0", "100.00"),
            ("100.00", "100.00"),
            ("0.5", "0.50"),
            ("1000000.11", "1000000.11"),
            ("0", "0.00"),
            ("-3.1", "-3.10"),
            ("9999999999999.99", "9999999999999.99"),
        ] {
            assert_eq!(Money::parse(text).unwrap().to_2dp(), out, "{text}");
        }
        for bad in [
            "",
            "1.005",
            "1e2",
            "+1",
            " 1",
            "1.",
            ".5",
            "abc",
            "1,00",
            "10000000000000",
            "NaN",
            "0x10",
            "--1",
        ] {
            assert!(Money::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn json_text_numbers_and_strings() {
        assert_eq!(Money::from_json_text("25.99").unwrap().to_2dp(), "25.99");
        assert_eq!(
            Money::from_json_text("\"25.99\"").unwrap().to_2dp(),
            "25.99"
        );
        assert!(Money::from_json_text("true").is_none());
        assert!(Money::from_json_text("\"x\"").is_none());
    }

    #[test]
    fn arithmetic_is_exact() {
        // 0.1 + 0.2 style traps: binary floating point would not give 0.30 here.
        let a = Money::parse("100000.30").unwrap();
        let b = Money::parse("99999.99").unwrap();
        assert_eq!(a.checked_sub(b).unwrap().to_2dp(), "0.31");
    }

    #[test]
    fn dynamo_round_trip() {
        for t in ["100.00", "0.01", "1000000.11", "0"] {
            let m = Money::parse(t).unwrap();
            assert_eq!(Money::from_dynamo(&m.to_dynamo()).unwrap(), m);
        }
        assert_eq!(Money::from_dynamo("100").unwrap().to_2dp(), "100.00");
    }

    #[test]
    fn serialises_as_a_two_decimal_number_and_string() {
        let m = Money::parse("100").unwrap();
        assert_eq!(
            crate::json::to_body(&serde_json::json!({"a": 1})),
            r#"{"a": 1}"#
        );
        #[derive(Serialize)]
        struct T {
            amount: Money,
            fee: MoneyString,
        }
        assert_eq!(
            crate::json::to_body(&T {
                amount: m,
                fee: MoneyString(m)
            }),
            r#"{"amount": 100.00, "fee": "100.00"}"#
        );
    }
}
