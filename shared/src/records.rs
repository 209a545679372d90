//! Loans and pay dates: the servicing system's records, read-only through the API and loaded by
//! the import. Both are described by a field table (name, JSON type, required), in the seeds'
//! order, and one code path reads them from an import line, writes them to DynamoDB, reads them
//! back and writes them out with the seeds' types exactly: integers, `YYYY-MM-DD` dates, amounts
//! as two-decimal numbers, and the two fields the seeds show as two-decimal strings.

use crate::money::{Money, MoneyString};
use crate::validate::{self, MAX_SAFE_INTEGER};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A positive integer identifier (1 to 2^53-1).
    Id,
    /// A whole number from 0 to 2^53-1 (terms, scores, days).
    Count,
    /// An amount: a two-decimal JSON number, zero or more.
    Money,
    /// An amount written as a two-decimal JSON string (`"25.99"`).
    MoneyString,
    /// `YYYY-MM-DD`, a real date.
    Date,
    /// Text of 1 to 100 characters.
    Text,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// Written out by the API (`giggleId` of a loan is stored, not shown in `loanData`).
    pub shown: bool,
    /// The attribute's name in DynamoDB (a loan's `id` is the loans table's key, `loanId`).
    pub attribute: &'static str,
}

const fn f(name: &'static str, kind: Kind, required: bool) -> Field {
    Field {
        name,
        kind,
        required,
        shown: true,
        attribute: name,
    }
}

/// A loan, in the order of the seeds' `loanData`; `giggleId` ties it to its customer.
pub const LOAN_FIELDS: &[Field] = &[
    Field {
        name: "id",
        kind: Kind::Id,
        required: true,
        shown: true,
        attribute: "loanId",
    },
    f("state", Kind::Text, true),
    f("loanAmount", Kind::Money, true),
    f("loanTerm", Kind::Count, true),
    f("contractDate", Kind::Date, true),
    f("firstPaymentDate", Kind::Date, false),
    f("loanClass", Kind::Text, false),
    f("loanType", Kind::Text, false),
    f("oFee", Kind::Money, false),
    f("disbursementAmount", Kind::Money, false),
    f("discountSavings", Kind::MoneyString, false),
    f("discountDate", Kind::Date, false),
    f("renewalIncrement", Kind::Count, false),
    f("applicationId", Kind::Id, false),
    f("disbursementFee", Kind::MoneyString, false),
    f("fundedDate", Kind::Date, false),
    f("partnerId", Kind::Id, false),
    f("leadId", Kind::Id, false),
    f("ccrScore", Kind::Count, false),
    f("clarityScore", Kind::Count, false),
    f("daysOverDue", Kind::Count, false),
    f("amountOverdue", Kind::Money, false),
    f("contractBalance", Kind::Money, false),
    Field {
        name: "giggleId",
        kind: Kind::Id,
        required: true,
        shown: false,
        attribute: "giggleId",
    },
];

/// A pay date, in the order of the seeds' single response.
pub const PAY_DATE_FIELDS: &[Field] = &[
    f("id", Kind::Id, true),
    f("state", Kind::Text, true),
    f("date", Kind::Date, true),
    f("amount", Kind::Money, true),
    f("amountOwed", Kind::Money, true),
    f("amountPaid", Kind::Money, true),
    f("startingCapital", Kind::Money, true),
    f("endingCapital", Kind::Money, true),
    f("loanBalance", Kind::Money, true),
    f("loanId", Kind::Id, true),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Int(u64),
    Money(Money),
    Text(String),
    Null,
}

/// One loan or pay date: a value per field of its table, in the table's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub fields: &'static [Field],
    pub values: Vec<FieldValue>,
}

fn parse_value(kind: Kind, raw: &str) -> Result<FieldValue, &'static str> {
    let raw = raw.trim();
    if raw == "null" {
        return Ok(FieldValue::Null);
    }
    match kind {
        Kind::Id | Kind::Count => {
            let min = if kind == Kind::Id { 1 } else { 0 };
            match validate::parse_json(raw)
                .ok()
                .and_then(|v| validate::json_integer(&v))
            {
                Some(n) if (min..=MAX_SAFE_INTEGER).contains(&n) => Ok(FieldValue::Int(n)),
                _ if kind == Kind::Id => Err("must be an integer from 1 to 9007199254740991"),
                _ => Err("must be an integer from 0 to 9007199254740991"),
            }
        }
        Kind::Money | Kind::MoneyString => match Money::from_json_text(raw) {
            Some(m) if !m.is_negative() => Ok(FieldValue::Money(m)),
            _ => Err("must be an amount of zero or more with at most two decimals"),
        },
        Kind::Date => match serde_json::from_str::<String>(raw)
            .ok()
            .filter(|s| validate::parse_date(s).is_some())
        {
            Some(s) => Ok(FieldValue::Text(s)),
            None => Err("must be a real date written YYYY-MM-DD"),
        },
        Kind::Text => match serde_json::from_str::<String>(raw)
            .ok()
            .and_then(|s| validate::text(&s, 1, 100))
        {
            Some(s) => Ok(FieldValue::Text(s)),
            None => Err("must be a string of 1 to 100 characters"),
        },
    }
}

impl Record {
    /// Reads one JSON object (an import line) against a field table. Errors name the field.
    pub fn from_json_line(fields: &'static [Field], line: &str) -> Result<Record, String> {
        let obj: HashMap<String, Box<RawValue>> =
            match serde_json::from_str::<HashMap<String, Box<RawValue>>>(line) {
                Ok(o) => o,
                Err(_) => {
                    return Err(match serde_json::from_str::<serde_json::Value>(line) {
                        Ok(_) => "not a JSON object".to_string(),
                        Err(e) => format!("not valid JSON ({e})"),
                    })
                }
            };
        let mut unknown: Vec<&String> = obj
            .keys()
            .filter(|k| !fields.iter().any(|f| f.name == k.as_str()))
            .collect();
        unknown.sort();
        if let Some(k) = unknown.first() {
            return Err(format!("unknown field '{k}'"));
        }
        let missing: Vec<String> = fields
            .iter()
            .filter(|f| f.required && obj.get(f.name).is_none_or(|v| v.get().trim() == "null"))
            .map(|f| format!("'{}'", f.name))
            .collect();
        if !missing.is_empty() {
            return Err(format!("did not provide {}", missing.join(", ")));
        }
        let mut values = Vec::with_capacity(fields.len());
        for field in fields {
            let value = match obj.get(field.name) {
                None => FieldValue::Null,
                Some(raw) => parse_value(field.kind, raw.get())
                    .map_err(|rule| format!("'{}' {rule}", field.name))?,
            };
            values.push(value);
        }
        Ok(Record { fields, values })
    }

    fn index(&self, name: &str) -> usize {
        self.fields
            .iter()
            .position(|f| f.name == name)
            .unwrap_or_else(|| panic!("no field {name}"))
    }

    pub fn get(&self, name: &str) -> &FieldValue {
        &self.values[self.index(name)]
    }

    pub fn int(&self, name: &str) -> u64 {
        match self.get(name) {
            FieldValue::Int(n) => *n,
            _ => 0,
        }
    }

    pub fn money(&self, name: &str) -> Money {
        match self.get(name) {
            FieldValue::Money(m) => *m,
            _ => Money::ZERO,
        }
    }

    pub fn text(&self, name: &str) -> &str {
        match self.get(name) {
            FieldValue::Text(s) => s,
            _ => "",
        }
    }

    /// As a DynamoDB item: numbers and amounts as Number attributes (exact decimals), dates and
    /// text as Strings; absent values are not stored.
    pub fn to_item(&self) -> HashMap<String, AttributeValue> {
        self.fields
            .iter()
            .zip(&self.values)
            .filter_map(|(f, v)| {
                let av = match v {
                    FieldValue::Int(n) => AttributeValue::N(n.to_string()),
                    FieldValue::Money(m) => AttributeValue::N(m.to_dynamo()),
                    FieldValue::Text(s) => AttributeValue::S(s.clone()),
                    FieldValue::Null => return None,
                };
                Some((f.attribute.to_string(), av))
            })
            .collect()
    }

    /// From a DynamoDB item written by [`Record::to_item`].
    pub fn from_item(
        fields: &'static [Field],
        item: &HashMap<String, AttributeValue>,
    ) -> Result<Record, String> {
        let mut values = Vec::with_capacity(fields.len());
        for f in fields {
            let v = match (f.kind, item.get(f.attribute)) {
                (_, None) => FieldValue::Null,
                (Kind::Id | Kind::Count, Some(AttributeValue::N(n))) => FieldValue::Int(
                    n.parse()
                        .map_err(|_| format!("{}: not an integer", f.name))?,
                ),
                (Kind::Money | Kind::MoneyString, Some(AttributeValue::N(n))) => FieldValue::Money(
                    Money::from_dynamo(n).ok_or_else(|| format!("{}: not a number", f.name))?,
                ),
                (Kind::Date | Kind::Text, Some(AttributeValue::S(s))) => {
                    FieldValue::Text(s.clone())
                }
                _ => return Err(format!("{}: unexpected attribute type", f.name)),
            };
            values.push(v);
        }
        Ok(Record { fields, values })
    }
}

/// Written with the seeds' types, in the table's order, every shown field present (`null` for a
/// value the servicing system did not give).
impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let shown = self.fields.iter().filter(|f| f.shown).count();
        let mut map = s.serialize_map(Some(shown))?;
        for (f, v) in self.fields.iter().zip(&self.values) {
            if !f.shown {
                continue;
            }
            match v {
                FieldValue::Int(n) => map.serialize_entry(f.name, n)?,
                FieldValue::Money(m) if f.kind == Kind::MoneyString => {
                    map.serialize_entry(f.name, &MoneyString(*m))?
                }
                FieldValue::Money(m) => map.serialize_entry(f.name, m)?,
                FieldValue::Text(t) => map.serialize_entry(f.name, t)?,
                FieldValue::Null => map.serialize_entry(f.name, &())?,
            }
        }
        map.end()
    }
}

/// The state of a pay date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PayState {
    Paid,
    Partial,
    Open,
}

impl PayState {
    pub fn parse(s: &str) -> Option<PayState> {
        match s {
            "paid" => Some(PayState::Paid),
            "partial" => Some(PayState::Partial),
            "open" => Some(PayState::Open),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PayState::Paid => "paid",
            PayState::Partial => "partial",
            PayState::Open => "open",
        }
    }
}

/// The rules that tie a pay date's fields together: `amountOwed = amount − amountPaid`, and the
/// state says how much was paid (`paid` in full, `partial`, `open` nothing).
pub fn check_pay_date(r: &Record) -> Result<(), String> {
    let state =
        PayState::parse(r.text("state")).ok_or("'state' must be 'paid', 'partial' or 'open'")?;
    let (amount, owed, paid) = (
        r.money("amount"),
        r.money("amountOwed"),
        r.money("amountPaid"),
    );
    if amount.is_zero() {
        return Err("'amount' must be more than zero".into());
    }
    if paid > amount {
        return Err(format!(
            "'amountPaid' {paid} is more than 'amount' {amount}"
        ));
    }
    if amount.checked_sub(paid) != Some(owed) {
        return Err(format!(
            "'amountOwed' {owed} is not 'amount' {amount} minus 'amountPaid' {paid}"
        ));
    }
    let expected = if paid == amount {
        PayState::Paid
    } else if paid.is_zero() {
        PayState::Open
    } else {
        PayState::Partial
    };
    if state != expected {
        return Err(format!(
            "'state' is '{}' but amountPaid {paid} of amount {amount} makes it '{}'",
            state.as_str(),
            expected.as_str()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_LOAN: &str = r#"{"id": 768943, "state": "draft", "loanAmount": 1000000.11, "loanTerm": 52, "contractDate": "2024-05-22", "firstPaymentDate": "2024-06-22", "loanClass": "gold", "loanType": "instalment", "oFee": 200.55, "disbursementAmount": 800000.88, "discountSavings": "0.00", "discountDate": "2024-05-27", "renewalIncrement": 8, "applicationId": 79834, "disbursementFee": "25.99", "fundedDate": "2024-06-13", "partnerId": 75475, "leadId": 456312, "ccrScore": 800, "clarityScore": 788, "daysOverDue": 12, "amountOverdue": 1987.32, "contractBalance": 421123.33, "giggleId": 123456}"#;

    #[test]
    fn a_seed_loan_round_trips_with_the_seed_types() {
        let r = Record::from_json_line(LOAN_FIELDS, SEED_LOAN).unwrap();
        let back = Record::from_item(LOAN_FIELDS, &r.to_item()).unwrap();
        assert_eq!(back, r);
        let out = crate::json::to_body(&back);
        assert_eq!(
            out,
            r#"{"id": 768943, "state": "draft", "loanAmount": 1000000.11, "loanTerm": 52, "contractDate": "2024-05-22", "firstPaymentDate": "2024-06-22", "loanClass": "gold", "loanType": "instalment", "oFee": 200.55, "disbursementAmount": 800000.88, "discountSavings": "0.00", "discountDate": "2024-05-27", "renewalIncrement": 8, "applicationId": 79834, "disbursementFee": "25.99", "fundedDate": "2024-06-13", "partnerId": 75475, "leadId": 456312, "ccrScore": 800, "clarityScore": 788, "daysOverDue": 12, "amountOverdue": 1987.32, "contractBalance": 421123.33}"#
        );
    }

    #[test]
    fn bad_lines_name_the_field() {
        let cases = [
            ("{", "not valid JSON"),
            ("[1]", "not a JSON object"),
            (
                r#"{"id": 1}"#,
                "did not provide 'state', 'loanAmount', 'loanTerm', 'contractDate', 'giggleId'",
            ),
        ];
        for (line, expect) in cases {
            let e = Record::from_json_line(LOAN_FIELDS, line).unwrap_err();
            assert!(e.contains(expect), "{line}: {e}");
        }
        for (field, value) in [
            ("id", "0"),
            ("id", "1.5"),
            ("loanAmount", "1.001"),
            ("loanAmount", "-1"),
            ("contractDate", "\"2024-02-30\""),
            ("loanTerm", "\"52\""),
            ("state", "\"\""),
            ("ccrScore", "-1"),
            ("discountSavings", "\"abc\""),
            ("extra", "1"),
        ] {
            let line = SEED_LOAN.replacen('}', &format!(", \"{field}\": {value}}}"), 1);
            let line = if field == "extra" {
                line
            } else {
                // Replace the existing value rather than duplicate the key.
                let v: serde_json::Value = serde_json::from_str(SEED_LOAN).unwrap();
                let mut m = v.as_object().unwrap().clone();
                m.insert(field.into(), serde_json::from_str(value).unwrap());
                serde_json::to_string(&m).unwrap()
            };
            let e = Record::from_json_line(LOAN_FIELDS, &line).unwrap_err();
            assert!(e.contains(&format!("'{field}'")), "{field}={value}: {e}");
        }
    }

    #[test]
    fn money_keeps_its_text_exactly() {
        let line = SEED_LOAN.replace("1000000.11", "1000000.10");
        let r = Record::from_json_line(LOAN_FIELDS, &line).unwrap();
        assert_eq!(r.money("loanAmount").to_2dp(), "1000000.10");
        let big = SEED_LOAN.replace("1000000.11", "9007199254740993.01");
        assert!(
            Record::from_json_line(LOAN_FIELDS, &big).is_err(),
            "too large an amount"
        );
        let precise = SEED_LOAN.replace("1000000.11", "123456789012.34");
        let r = Record::from_json_line(LOAN_FIELDS, &precise).unwrap();
        assert_eq!(r.money("loanAmount").to_2dp(), "123456789012.34");
    }

    fn pay_date(state: &str, amount: &str, owed: &str, paid: &str) -> Record {
        let line = format!(
            r#"{{"id": 1, "state": "{state}", "date": "2024-05-16", "amount": {amount}, "amountOwed": {owed}, "amountPaid": {paid}, "startingCapital": 100000.00, "endingCapital": 99900.00, "loanBalance": 100000.00, "loanId": 123}}"#
        );
        Record::from_json_line(PAY_DATE_FIELDS, &line).unwrap()
    }

    #[test]
    fn pay_date_amounts_and_states_must_agree() {
        assert!(check_pay_date(&pay_date("open", "100.00", "100.00", "0.00")).is_ok());
        assert!(check_pay_date(&pay_date("paid", "100.00", "0.00", "100.00")).is_ok());
        assert!(check_pay_date(&pay_date("partial", "100.00", "50.00", "50.00")).is_ok());
        // The seed's own malformed sample: partial, owed 0.00 after paying 50.00 of 100.00.
        assert!(
            check_pay_date(&pay_date("partial", "100.00", "0.00", "50.00"))
                .unwrap_err()
                .contains("'amountOwed'")
        );
        assert!(
            check_pay_date(&pay_date("paid", "100.00", "50.00", "50.00"))
                .unwrap_err()
                .contains("'state'")
        );
        assert!(
            check_pay_date(&pay_date("open", "100.00", "0.00", "100.00"))
                .unwrap_err()
                .contains("'state'")
        );
        assert!(
            check_pay_date(&pay_date("late", "100.00", "100.00", "0.00"))
                .unwrap_err()
                .contains("'state'")
        );
        assert!(
            check_pay_date(&pay_date("paid", "100.00", "0.00", "120.00"))
                .unwrap_err()
                .contains("'amountPaid'")
        );
        let negative = r#"{"id": 1, "state": "paid", "date": "2024-05-16", "amount": 100, "amountOwed": -20, "amountPaid": 120, "startingCapital": 1, "endingCapital": 1, "loanBalance": 1, "loanId": 1}"#;
        assert!(Record::from_json_line(PAY_DATE_FIELDS, negative)
            .unwrap_err()
            .contains("'amountOwed'"));
        assert!(check_pay_date(&pay_date("open", "0.00", "0.00", "0.00")).is_err());
        let out = crate::json::to_body(&pay_date("open", "100", "100", "0"));
        assert_eq!(
            out,
            r#"{"id": 1, "state": "open", "date": "2024-05-16", "amount": 100.00, "amountOwed": 100.00, "amountPaid": 0.00, "startingCapital": 100000.00, "endingCapital": 99900.00, "loanBalance": 100000.00, "loanId": 123}"#
        );
    }
}
