//! "Today" for a lender in the US: the calendar date in a time zone, America/Chicago unless the
//! caller names another. The one place that knows the default zone.
//!
//! Handlers take a [`Clock`] as a parameter: the system clock in Lambda, a fixed instant in tests
//! (so a test can stand at a moment when Chicago and New York are on different days).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::America::Chicago;

/// Where "now" comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Clock {
    /// The machine's clock (what `main.rs` passes).
    #[default]
    System,
    /// Always this instant (tests).
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => at,
        }
    }

    /// The calendar date in `tz` now.
    pub fn today_in(self, tz: Tz) -> NaiveDate {
        self.now().with_timezone(&tz).date_naive()
    }

    /// Today in America/Chicago: the date `dob` and `age` are judged against, and `date=today`
    /// without a `timezone`.
    pub fn today(self) -> NaiveDate {
        self.today_in(DEFAULT_TIME_ZONE)
    }
}

/// Today in `tz` by the system clock.
pub fn today_in(tz: Tz) -> NaiveDate {
    Clock::System.today_in(tz)
}

/// Today in America/Chicago by the system clock.
pub fn today() -> NaiveDate {
    Clock::System.today()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_fixed_clock_puts_chicago_and_new_york_on_different_days() {
        // 04:30 UTC on 10 March 2026: 00:30 on the 10th in New York (EDT since the 8th), 23:30
        // on the 9th in Chicago (CDT).
        let clock = Clock::Fixed(Utc.with_ymd_and_hms(2026, 3, 10, 4, 30, 0).unwrap());
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            clock.today(),
            day("2026-03-09"),
            "the default zone is Chicago"
        );
        assert_eq!(
            clock.today_in(chrono_tz::America::New_York),
            day("2026-03-10")
        );
        assert_eq!(
            clock.today_in(chrono_tz::America::Chicago),
            day("2026-03-09")
        );
        assert_eq!(clock.now(), clock.now(), "a fixed clock does not move");
    }
}
