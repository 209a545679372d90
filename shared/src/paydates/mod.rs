//! Pay dates: what both pay-date routes read, and the counts that stay exact as they are
//! written.
//!
//! - [`query`]: the query parameters of both routes, and the order they ask for.
//! - [`cursor`]: the signed keyset cursor.
//! - [`counters`]: each day's counts, and the one write of pay dates, which keeps them exact.
//! - [`reads`]: the pages: one loan's from the table, every loan's from an index a day at a
//!   time, never with a Scan and never a whole day at once.

pub mod counters;
mod cursor;
pub mod query;
mod reads;

pub use counters::{write_pay_dates, DayCounts};
pub use query::{
    time_zone, Dates, PayDateQuery, Route, SortBy, DEFAULT_LIMIT, MAX_LIMIT, MAX_RANGE_DAYS,
};
pub use reads::{for_all_loans, for_loan, Metadata};

/// A day's pay dates by loanId.
pub const BY_DATE_INDEX: &str = "byDate";
/// A day's pay dates by amount, then loanId.
pub const BY_DATE_AMOUNT_INDEX: &str = "byDateAmount";
/// The sort key of [`BY_DATE_AMOUNT_INDEX`].
pub const AMOUNT_KEY: &str = "amountKey";

/// The key of a pay date in [`BY_DATE_AMOUNT_INDEX`]: the amount in cents and the loanId, both
/// zero-padded, so that the text order is the order of (amount, loanId). Amounts are below ten
/// trillion (15 digits of cents); ids below 2^53 (16 digits).
pub fn amount_key(cents: u64, loan_id: u64) -> String {
    format!("{cents:015}#{loan_id:016}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_keys_sort_as_amount_then_loan() {
        let mut keys = vec![
            amount_key(10000, 2),
            amount_key(950, 30),
            amount_key(10000, 1),
            amount_key(999_999_999_999_999, 9_007_199_254_740_991),
            amount_key(1, 1),
        ];
        keys.sort();
        assert_eq!(
            keys,
            vec![
                amount_key(1, 1),
                amount_key(950, 30),
                amount_key(10000, 1),
                amount_key(10000, 2),
                amount_key(999_999_999_999_999, 9_007_199_254_740_991),
            ]
        );
        assert_eq!(amount_key(950, 30).len(), 32);
    }
}
