//! The cursor: where the next page starts (a keyset position: the last row's date, amount,
//! `loanId` and `id`), signed with the deployment's MAC key over the query it belongs to.
//!
//! Opaque to the caller. On the way back in it is checked for its form (cheaply, while the
//! parameters are read), then for its signature and its dates, before anything is read: an
//! altered cursor, one made with another key or the old constant, or one from another query is a
//! 400 at once, and a cursor can never widen its query (its dates stay inside the query's).

use super::query::{bad, Dates, PayDateQuery, RowKey};
use crate::error::ApiError;
use crate::secrets::MacKey;
use crate::validate;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Days, NaiveDate};

/// Separates the cursor's MAC from every other MAC made with the same key.
const DOMAIN: &[u8] = b"tasksuite/paydates-cursor/v2";
/// A genuine cursor is about 120 characters; anything much longer is refused unread.
const MAX_LEN: usize = 256;
const TAG_LEN: usize = 32;

/// A cursor whose form is right; its signature is checked by [`SignedCursor::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignedCursor {
    payload: String,
    tag: Vec<u8>,
    /// For `date=today`: the day the first page resolved.
    pinned: Option<NaiveDate>,
    after: RowKey,
}

fn invalid() -> ApiError {
    bad(
        "Invalid 'cursor': it was altered or belongs to another query; start again without it."
            .into(),
    )
}

/// `v2|pinned day or -|date|cents|loanId|id`.
fn payload(pinned: Option<NaiveDate>, after: &RowKey) -> String {
    let pinned = pinned.map_or_else(|| "-".to_string(), |d| d.to_string());
    format!(
        "v2|{pinned}|{}|{}|{}|{}",
        after.date, after.cents, after.loan_id, after.id
    )
}

fn parts<'a>(binding: &'a str, payload: &'a str) -> [&'a [u8]; 3] {
    [DOMAIN, binding.as_bytes(), payload.as_bytes()]
}

impl SignedCursor {
    /// Checks the form only: two base64url parts, a payload of the current version, a tag of
    /// the right length. The old constant-based cursors fail here (their tag is 12 bytes).
    pub fn parse(text: &str) -> Result<SignedCursor, ApiError> {
        if text.len() > MAX_LEN {
            return Err(invalid());
        }
        let (payload, tag) = text.split_once('.').ok_or_else(invalid)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(invalid)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        if tag.len() != TAG_LEN {
            return Err(invalid());
        }
        let fields: Vec<&str> = payload.split('|').collect();
        let [version, pinned, date, cents, loan_id, id] = fields.as_slice() else {
            return Err(invalid());
        };
        let day = |s: &str| validate::parse_date(s).ok_or_else(invalid);
        let number = |s: &str| s.parse::<u64>().map_err(|_| invalid());
        if *version != "v2" {
            return Err(invalid());
        }
        let pinned = match *pinned {
            "-" => None,
            d => Some(day(d)?),
        };
        let after = RowKey {
            date: day(date)?,
            cents: number(cents)?,
            loan_id: number(loan_id)?,
            id: number(id)?,
        };
        Ok(SignedCursor {
            payload,
            tag,
            pinned,
            after,
        })
    }

    /// Checks the signature against this query, and the cursor's dates against the dates the
    /// query resolved. Returns the dates to read (for `date=today`, the day the walk started
    /// on) and the last row already given.
    pub fn verify(&self, key: &MacKey, query: &PayDateQuery) -> Result<(Dates, RowKey), ApiError> {
        if !key.verify(&parts(&query.binding, &self.payload), &self.tag) {
            return Err(invalid());
        }
        let dates = match (query.today, self.pinned, query.dates) {
            // date=today moves at midnight: a walk keeps the day it started on, which is today
            // or, just after midnight, the day next to it.
            (true, Some(pinned), Dates::Day(today)) => {
                let near = |a: NaiveDate, b: NaiveDate| a.checked_add_days(Days::new(1)) >= Some(b);
                if !(near(pinned, today) && near(today, pinned)) {
                    return Err(invalid());
                }
                Dates::Day(pinned)
            }
            (false, None, dates) => dates,
            _ => return Err(invalid()),
        };
        if !dates.contains(self.after.date) {
            return Err(invalid());
        }
        Ok((dates, self.after))
    }
}

/// The cursor of the page that follows `after`, in the walk over `dates`.
pub(crate) fn sign(key: &MacKey, query: &PayDateQuery, dates: Dates, after: &RowKey) -> String {
    let pinned = match (query.today, dates) {
        (true, Dates::Day(d)) => Some(d),
        _ => None,
    };
    let payload = payload(pinned, after);
    let tag = key.mac(&parts(&query.binding, &payload));
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload.as_bytes()),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

impl PayDateQuery {
    /// The dates a page reads and the row it starts after: the query's own dates from the
    /// start, or what a verified cursor says.
    pub(crate) fn resume(&self, key: &MacKey) -> Result<(Dates, Option<RowKey>), ApiError> {
        match &self.cursor {
            None => Ok((self.dates, None)),
            Some(c) => c.verify(key, self).map(|(d, after)| (d, Some(after))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paydates::query::Route;
    use chrono::TimeZone;
    use sha2::{Digest, Sha256};

    fn key() -> std::sync::Arc<MacKey> {
        std::sync::Arc::new(MacKey::new(b"a unit test's MAC key of 32 bytes!".to_vec()).unwrap())
    }

    /// The query as a request at `now` (UTC) would read it.
    fn q_at(pairs: &[(&str, &str)], now: (u32, u32)) -> Result<PayDateQuery, ApiError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        PayDateQuery::parse(&pairs, Route::AllLoans, |tz| {
            chrono::Utc
                .with_ymd_and_hms(2024, 5, now.0, now.1, 0, 0)
                .unwrap()
                .with_timezone(&tz)
                .date_naive()
        })
    }

    fn q(pairs: &[(&str, &str)]) -> PayDateQuery {
        q_at(pairs, (17, 3)).unwrap()
    }

    fn with_cursor(pairs: &[(&str, &str)], cursor: &str) -> Result<PayDateQuery, ApiError> {
        let mut pairs = pairs.to_vec();
        pairs.push(("cursor", cursor));
        q_at(&pairs, (17, 3))
    }

    fn row(date: &str, loan_id: u64) -> RowKey {
        RowKey {
            date: validate::parse_date(date).unwrap(),
            cents: 10000,
            loan_id,
            id: 9,
        }
    }

    fn refused(query: Result<PayDateQuery, ApiError>) -> bool {
        let check = query.and_then(|q| q.resume(&key()).map(|_| ()));
        matches!(check, Err(ApiError::BadRequest(m)) if m.contains("'cursor'"))
    }

    #[test]
    fn a_cursor_resumes_its_own_query() {
        let day = [("date", "2024-05-16")];
        let query = q(&day);
        let c = sign(&key(), &query, query.dates, &row("2024-05-16", 5));
        let again = with_cursor(&day, &c).unwrap();
        assert_eq!(
            again.resume(&key()).unwrap(),
            (query.dates, Some(row("2024-05-16", 5)))
        );
        assert!(c.len() < 160, "{c}");
    }

    #[test]
    fn another_query_altered_bytes_another_key_and_the_old_scheme_are_refused() {
        let day = [("date", "2024-05-16")];
        let query = q(&day);
        let c = sign(&key(), &query, query.dates, &row("2024-05-16", 5));
        // Another query: another day, filter, sort or order.
        for other in [
            vec![("date", "2024-05-17")],
            vec![("date", "2024-05-16"), ("state", "open")],
            vec![("date", "2024-05-16"), ("sort", "amount")],
            vec![("date", "2024-05-16"), ("order", "desc")],
            vec![("start_date", "2024-05-16"), ("end_date", "2024-05-16")],
        ] {
            assert!(refused(with_cursor(&other, &c)), "{other:?}");
        }
        // Any byte changed.
        for i in 0..c.len() {
            let mut bytes = c.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes).unwrap();
            assert!(refused(with_cursor(&day, &altered)), "byte {i}");
        }
        // A payload that widens the walk, signed with another key.
        let (payload, _) = c.split_once('.').unwrap();
        let forged_payload = "v2|-|1990-01-01|0|0|0";
        let other_key = {
            use hmac::{Hmac, Mac};
            let mut mac = Hmac::<Sha256>::new_from_slice(&[7u8; 32]).unwrap();
            for part in parts(&query.binding, forged_payload) {
                mac.update(&(part.len() as u64).to_be_bytes());
                mac.update(part);
            }
            mac.finalize().into_bytes()
        };
        let foreign = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(forged_payload),
            URL_SAFE_NO_PAD.encode(other_key)
        );
        assert!(refused(with_cursor(&day, &foreign)));
        // The genuine tag on another payload.
        let (_, tag) = c.split_once('.').unwrap();
        let moved = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(forged_payload));
        assert!(refused(with_cursor(&day, &moved)));
        // The old scheme: SHA-256 over a constant in the source, 12 bytes of it.
        let mut h = Sha256::new();
        h.update(b"tasksuite-paydates-cursor-v1");
        h.update(payload.as_bytes());
        let old = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&h.finalize()[..12]));
        assert!(refused(with_cursor(&day, &old)));
        for junk in ["", ".", "abc", "a.b", &"A".repeat(300)] {
            assert!(refused(with_cursor(&day, junk)), "{junk}");
        }
    }

    #[test]
    fn a_cursor_cannot_leave_its_dates() {
        // Signed with the right key for this very query, but its row lies outside the range:
        // only a bug could make one; it is refused all the same.
        let range = [("start_date", "2024-05-16"), ("end_date", "2024-05-20")];
        let query = q(&range);
        for (date, ok) in [
            ("2024-05-15", false),
            ("2024-05-16", true),
            ("2024-05-20", true),
            ("2024-05-21", false),
        ] {
            let c = sign(&key(), &query, query.dates, &row(date, 1));
            assert_eq!(!refused(with_cursor(&range, &c)), ok, "{date}");
        }
    }

    #[test]
    fn today_keeps_its_day_across_midnight_but_not_longer() {
        let today = [("date", "today")];
        // 2024-05-17 03:00 UTC is the 16th in Chicago.
        let first = q_at(&today, (17, 3)).unwrap();
        assert_eq!(
            first.dates,
            Dates::Day(validate::parse_date("2024-05-16").unwrap())
        );
        let c = sign(&key(), &first, first.dates, &row("2024-05-16", 5));
        let mut pairs = today.to_vec();
        pairs.push(("cursor", &c));
        // In Chicago: the 16th, the 17th, the 18th, the 15th, the 14th.
        for (now, ok) in [
            ((17, 3), true),
            ((18, 3), true),
            ((19, 3), false),
            ((16, 3), true),
            ((15, 3), false),
        ] {
            let later = q_at(&pairs, now).unwrap();
            let resumed = later.resume(&key());
            assert_eq!(resumed.is_ok(), ok, "{now:?}");
            if let Ok((dates, _)) = resumed {
                assert_eq!(dates, first.dates, "the walk stays on its day");
            }
        }
        // A cursor of date=2024-05-16 is not one of date=today, even on that day.
        let fixed = q(&[("date", "2024-05-16")]);
        let c = sign(&key(), &fixed, fixed.dates, &row("2024-05-16", 5));
        let mut pairs = today.to_vec();
        pairs.push(("cursor", &c));
        assert!(refused(q_at(&pairs, (17, 3))));
    }
}
