//! Pure validators for single values. Each returns the normalised value or a short reason; the
//! caller names the field. None of them echo the value back: an SSN must never appear in an
//! error message or a log line.

use chrono::NaiveDate;

/// The largest integer a JavaScript client can hold exactly: the upper bound of `giggleId`.
pub const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

/// A JSON number that is a whole number from 0 to 2^53-1. JSON has one number type, so `7`,
/// `7.0` and `7e0` are the same integer (as JSON Schema's `integer` says); `7.5`, a negative or
/// a larger number is not. The value must come from [`parse_json`], which judges a number by its
/// text: `9007199254740990.5` is not an integer although its nearest f64 is.
pub fn json_integer(value: &serde_json::Value) -> Option<u64> {
    value
        .as_number()?
        .as_u64()
        .filter(|u| *u <= MAX_SAFE_INTEGER)
}

/// Parses JSON text, judging every number by its text rather than by its f64: a number written
/// with a fraction or an exponent that is exactly an integer (`77.0`, `7e2`, `7.00E+2`) becomes
/// that integer; any other keeps its f64 and is never taken for an integer. Syntax errors are
/// reported at their place in the text as sent.
pub fn parse_json(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    match exact_integers(text) {
        std::borrow::Cow::Borrowed(_) => Ok(value),
        std::borrow::Cow::Owned(rewritten) => serde_json::from_str(&rewritten),
    }
}

/// The exact integer a number token (`-?int(.frac)?([eE][+-]?exp)?`) stands for, in plain
/// digits, if it is one and has at most 20 digits.
fn integer_text(token: &str) -> Option<String> {
    let (negative, body) = match token.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, token),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i64>().ok()?),
        None => (body, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: String = format!("{int}{frac}");
    let mut exponent = exponent.checked_sub(frac.len() as i64)?;
    while exponent < 0 && digits.ends_with('0') {
        digits.pop();
        exponent += 1;
    }
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some("0".into());
    }
    if exponent < 0 || digits.len() as i64 + exponent > 20 {
        return None;
    }
    let sign = if negative { "-" } else { "" };
    Some(format!("{sign}{digits}{}", "0".repeat(exponent as usize)))
}

/// `text` with every number token that has a fraction or an exponent and is exactly an integer
/// rewritten as plain digits; strings are skipped.
fn exact_integers(text: &str) -> std::borrow::Cow<'_, str> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while i < b.len() && matches!(b[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    i += 1;
                }
                let token = &text[start..i];
                if token.bytes().any(|c| matches!(c, b'.' | b'e' | b'E')) {
                    if let Some(int) = integer_text(token) {
                        let o = out.get_or_insert_with(String::new);
                        o.push_str(&text[copied..start]);
                        o.push_str(&int);
                        copied = i;
                    }
                }
            }
            _ => i += 1,
        }
    }
    match out {
        None => std::borrow::Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied.min(text.len())..]);
            std::borrow::Cow::Owned(o)
        }
    }
}

/// An id written in a URL path: digits only (no sign, no exponent), 1 to 2^53-1.
pub fn path_id(segment: &str) -> Option<u64> {
    if segment.is_empty() || segment.len() > 16 || !segment.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    segment
        .parse()
        .ok()
        .filter(|id| (1..=MAX_SAFE_INTEGER).contains(id))
}

/// `YYYY-MM-DD`, exactly ten characters, and a real calendar date (`2024-02-30` is refused).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    NaiveDate::from_ymd_opt(y as i32, m, d)
}

/// Nine digits from a string (`123456789` or, with `dashed` as the only other accepted
/// writing, e.g. `123-45-6789`) or from a JSON integer, left-padded with zeros.
fn nine_digits(value: &serde_json::Value, dash_after: &[usize]) -> Option<String> {
    match value {
        serde_json::Value::Number(_) => {
            let n = json_integer(value)?;
            (n <= 999_999_999).then(|| format!("{n:09}"))
        }
        serde_json::Value::String(s) => {
            if s.len() == 9 && s.bytes().all(|c| c.is_ascii_digit()) {
                return Some(s.clone());
            }
            // The dashed writing: digits with a '-' exactly at the given positions.
            if s.len() != 9 + dash_after.len() {
                return None;
            }
            let mut out = String::with_capacity(9);
            for (i, c) in s.chars().enumerate() {
                let dash_here = dash_after.iter().enumerate().any(|(k, &pos)| i == pos + k);
                match (dash_here, c) {
                    (true, '-') => {}
                    (false, d) if d.is_ascii_digit() => out.push(d),
                    _ => return None,
                }
            }
            Some(out)
        }
        _ => None,
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum SsnError {
    /// Not nine digits in an accepted writing.
    Format,
    /// Nine digits, but a number the SSA never issues (area 000 or 666, group 00, serial 0000).
    NeverIssued,
}

/// An SSN as nine digits. Accepts `123456789`, `123-45-6789` or an integer (padded).
pub fn ssn(value: &serde_json::Value) -> Result<String, SsnError> {
    let digits = nine_digits(value, &[3, 5]).ok_or(SsnError::Format)?;
    let (area, group, serial) = (&digits[0..3], &digits[3..5], &digits[5..9]);
    if area == "000" || area == "666" || group == "00" || serial == "0000" {
        return Err(SsnError::NeverIssued);
    }
    Ok(digits)
}

/// An EIN as nine digits. Accepts `123456789`, `12-3456789` or an integer (padded).
pub fn ein(value: &serde_json::Value) -> Option<String> {
    nine_digits(value, &[2])
}

/// A US phone number in any usual writing, as its ten digits: `123-456-7890`,
/// `(123) 456-7890`, `123.456.7890`, `+1 123 456 7890`, `1234567890`, or an integer.
pub fn us_phone(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::Number(_) => json_integer(value)?.to_string(),
        serde_json::Value::String(s) => s.clone(),
        _ => return None,
    };
    let trimmed = text.trim();
    let (had_plus, rest) = match trimmed.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, trimmed),
    };
    let mut digits = String::with_capacity(11);
    let mut open_parens = 0;
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' => {}
            '(' => {
                open_parens += 1;
                if open_parens > 1 {
                    return None;
                }
            }
            ')' => {
                if open_parens != 1 {
                    return None;
                }
                open_parens = 2; // one pair at most
            }
            _ => return None,
        }
    }
    if open_parens == 1 {
        return None;
    }
    // A country code 1 stands apart: `+1...`, `1 ...`, `1-...`, `1(...`, or eleven bare digits.
    let country_code_apart = had_plus
        || rest.len() == 11
        || rest.starts_with("1 ")
        || rest.starts_with("1-")
        || rest.starts_with("1.")
        || rest.starts_with("1(");
    let national = match digits.len() {
        10 if !had_plus => digits,
        11 if digits.starts_with('1') && country_code_apart => digits[1..].to_string(),
        _ => return None,
    };
    Some(national)
}

/// A pragmatic email check: one `@`, a dot-atom local part of at most 64 characters, a domain of
/// at least two DNS labels with an alphabetic top level, 254 characters in all.
pub fn email(s: &str) -> bool {
    if s.is_empty() || s.len() > 254 {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    if !local_ok || domain.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let tld = labels[labels.len() - 1];
    labels.iter().all(label_ok) && tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic())
}

/// A US ZIP code: `12345` or `12345-6789`.
pub fn us_zip(s: &str) -> bool {
    let b = s.as_bytes();
    let five = |r: &[u8]| r.iter().all(|c| c.is_ascii_digit());
    match b.len() {
        5 => five(b),
        10 => five(&b[0..5]) && b[5] == b'-' && five(&b[6..10]),
        _ => false,
    }
}

/// Free text: trimmed, `min..=max` characters, no control characters.
pub fn text(s: &str, min: usize, max: usize) -> Option<String> {
    let t = s.trim();
    let n = t.chars().count();
    (n >= min && n <= max && !t.chars().any(char::is_control)).then(|| t.to_string())
}

/// `firstname_lastname`: at least one `_`, no white space or control characters, at most 201
/// characters (two 100-character names and the `_`).
pub fn access_user_name(s: &str) -> bool {
    let n = s.chars().count();
    (2..=201).contains(&n)
        && s.contains('_')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The `accessUserName` derived when none is sent: `name_surname` in lower case, inner white
/// space as `-`, each part at most 100 characters, so that the derived value always passes
/// [`access_user_name`] (lower-casing can lengthen a name, hence the cut).
pub fn derive_access_user_name(name: &str, surname: &str) -> String {
    let part = |s: &str| -> String {
        let lower = s
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-")
            .to_lowercase();
        lower.chars().take(100).collect()
    };
    format!("{}_{}", part(name), part(surname))
}

/// Whole years between `dob` and `today`: the birthday counts from its own day (a 29 February
/// birthday counts from 1 March in other years).
pub fn age_on(dob: NaiveDate, today: NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut years = today.year() - dob.year();
    if (today.month(), today.day()) < (dob.month(), dob.day()) {
        years -= 1;
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn path_ids() {
        assert_eq!(path_id("89043762"), Some(89043762));
        assert_eq!(path_id("007"), Some(7));
        assert_eq!(path_id("9007199254740991"), Some(9007199254740991));
        for bad in [
            "",
            "0",
            "-1",
            "+1",
            "1.5",
            "1e3",
            "abc",
            " 1",
            "9007199254740992",
            "99999999999999999",
        ] {
            assert_eq!(path_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn integers_are_json_integers() {
        assert_eq!(json_integer(&json!(7)), Some(7));
        assert_eq!(json_integer(&parse_json("7.0").unwrap()), Some(7));
        assert_eq!(json_integer(&parse_json("7e2").unwrap()), Some(700));
        assert_eq!(json_integer(&parse_json("7.00E+2").unwrap()), Some(700));
        assert_eq!(json_integer(&parse_json("70e-1").unwrap()), Some(7));
        assert_eq!(json_integer(&parse_json("0.0").unwrap()), Some(0));
        assert_eq!(
            parse_json(r#"{"a": "7.0", "b": [7.0, 7.5], "c": -2.0}"#).unwrap(),
            json!({"a": "7.0", "b": [7, 7.5], "c": -2})
        );
        // Judged by its text: the nearest f64 of this one is an integer, the number is not.
        for bad in ["9007199254740990.5", "9007199254740991.0000001", "1e-400"] {
            assert_eq!(json_integer(&parse_json(bad).unwrap()), None, "{bad}");
        }
        assert_eq!(
            json_integer(&json!(9007199254740991u64)),
            Some(9007199254740991)
        );
        for bad in [
            "7.5",
            "-1",
            "-0.5",
            "9007199254740992",
            "1e300",
            "\"7\"",
            "true",
            "null",
        ] {
            assert_eq!(json_integer(&parse_json(bad).unwrap()), None, "{bad}");
        }
        assert_eq!(
            ssn(&parse_json("671663289.0").unwrap()).unwrap(),
            "671663289"
        );
    }

    #[test]
    fn dates_must_be_real_and_exact() {
        assert!(parse_date("2024-02-29").is_some());
        for bad in [
            "2024-02-30",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-1-01",
            "24-01-01",
            "2024/01/01",
            "2024-01-01T00:00:00",
            "",
            "abcd-ef-gh",
            "2024-01-1a",
            "+024-01-01",
        ] {
            assert!(parse_date(bad).is_none(), "{bad} accepted");
        }
    }

    #[test]
    fn ssn_writings_and_never_issued_numbers() {
        assert_eq!(ssn(&json!("123456789")).unwrap(), "123456789");
        assert_eq!(ssn(&json!("123-45-6789")).unwrap(), "123456789");
        assert_eq!(ssn(&json!(123456789)).unwrap(), "123456789");
        assert_eq!(ssn(&json!(23456789)).unwrap(), "023456789");
        for bad in [
            json!("12345678"),
            json!("1234567890"),
            json!("123-456-789"),
            json!("12-345-6789"),
            json!("123 45 6789"),
            json!(-123456789),
            json!(1234567890),
            json!(1.5),
            json!(true),
            json!("abcdefghi"),
            json!(""),
        ] {
            assert_eq!(ssn(&bad), Err(SsnError::Format), "{bad}");
        }
        for never in [
            "000123456",
            "666123456",
            "123006789",
            "123450000",
            "000-12-3456",
        ] {
            assert_eq!(ssn(&json!(never)), Err(SsnError::NeverIssued), "{never}");
        }
        // An integer with fewer digits is padded, and padding can make it never-issued.
        assert_eq!(ssn(&json!(1234)), Err(SsnError::NeverIssued));
        assert_eq!(ssn(&json!(1234567)).unwrap(), "001234567");
    }

    #[test]
    fn ein_writings() {
        assert_eq!(ein(&json!("12-3456789")).unwrap(), "123456789");
        assert_eq!(ein(&json!(123456789)).unwrap(), "123456789");
        assert_eq!(ein(&json!(3456789)).unwrap(), "003456789");
        assert!(ein(&json!("123-45-6789")).is_none());
        assert!(ein(&json!("1234567890")).is_none());
        assert!(ein(&json!(-1)).is_none());
    }

    #[test]
    fn phone_writings() {
        for ok in [
            "123-456-7890",
            "(123) 456-7890",
            "+1 123 456 7890",
            "1234567890",
            "123.456.7890",
            "1-123-456-7890",
            "+1 (123) 456-7890",
        ] {
            assert_eq!(us_phone(&json!(ok)).as_deref(), Some("1234567890"), "{ok}");
        }
        assert_eq!(
            us_phone(&json!(1234567890u64)).as_deref(),
            Some("1234567890")
        );
        for bad in [
            json!("123-456-789"),
            json!("+44 20 7946 0958"),
            json!("123-456-78901"),
            json!("(123 456-7890"),
            json!("123) 456-7890"),
            json!("abc-def-ghij"),
            json!(true),
            json!("+1234567890"),
            json!("21234567890"),
            json!(123456789),
        ] {
            assert!(us_phone(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert!(email("john.doe@email.com"));
        assert!(email("a+b@sub.example.co"));
        for bad in [
            "",
            "john",
            "john@",
            "@email.com",
            "john@email",
            "jo hn@email.com",
            "john..doe@email.com",
            "john@email.c",
            "john@-email.com",
            "john@@email.com",
            ".john@email.com",
        ] {
            assert!(!email(bad), "{bad}");
        }
        let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(200));
        assert!(!email(&long));
    }

    #[test]
    fn zips_and_text() {
        assert!(us_zip("22222") && us_zip("22222-1234"));
        assert!(
            !us_zip("2222") && !us_zip("22222-123") && !us_zip("2222a") && !us_zip("222221234")
        );
        assert_eq!(text("  John ", 1, 100).as_deref(), Some("John"));
        assert!(text("   ", 1, 100).is_none());
        assert!(text(&"x".repeat(101), 1, 100).is_none());
        assert!(text("a\u{0}b", 1, 100).is_none());
    }

    #[test]
    fn access_user_names() {
        assert!(access_user_name("john_doe"));
        assert!(access_user_name("mary-ann_van_der_berg"));
        assert!(access_user_name("_john") && access_user_name("john_"));
        for bad in ["johndoe", "john doe", "_", "a\tb_c", ""] {
            assert!(!access_user_name(bad), "{bad}");
        }
        for (name, surname) in [
            ("_x", "Doe_"),
            ("İ".repeat(100).as_str(), "Ωmega"),
            ("A", "B"),
        ] {
            let derived = derive_access_user_name(name, surname);
            assert!(access_user_name(&derived), "{derived}");
        }
        let derived = derive_access_user_name("Mary Ann", "O'Brien");
        assert_eq!(derived, "mary-ann_o'brien");
        assert!(access_user_name(&derived));
    }

    #[test]
    fn ages() {
        let d = |s| parse_date(s).unwrap();
        assert_eq!(age_on(d("2000-01-30"), d("2021-01-29")), 20);
        assert_eq!(age_on(d("2000-01-30"), d("2021-01-30")), 21);
        assert_eq!(age_on(d("2000-02-29"), d("2021-02-28")), 20);
        assert_eq!(age_on(d("2000-02-29"), d("2021-03-01")), 21);
    }
}
