//! "Today" for a lender in the US: the calendar date in a time zone, America/Chicago unless the
//! caller names another.

use chrono::NaiveDate;
use chrono_tz::Tz;

pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::America::Chicago;

pub fn today_in(tz: Tz) -> NaiveDate {
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

/// Today in America/Chicago: the date `dob` and `age` are judged against.
pub fn today() -> NaiveDate {
    today_in(DEFAULT_TIME_ZONE)
}
