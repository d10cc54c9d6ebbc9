//! Calendar days for ages and deadlines, as day numbers (no date-time crate).

use serde::{Deserialize, Serialize};

/// A calendar day (days since 1970-01-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Day(i64);

impl Day {
    /// `YYYY-MM-DD` (or a timestamp's date part); `None` when it is not a valid date.
    pub fn parse(date: &str) -> Option<Day> {
        mcfcore::time::day_number(date).map(Day)
    }

    pub fn from_days(days: i64) -> Day {
        Day(days)
    }

    pub fn days(self) -> i64 {
        self.0
    }

    /// The Monday of this day's week.
    fn monday(self) -> i64 {
        // 1970-01-01 was a Thursday: 3 days after a Monday.
        self.0 - (self.0 + 3).rem_euclid(7)
    }

    /// The original's `week`: whole weeks between the Monday of `earlier`'s week and the
    /// Monday of this day's week (0 for a post of this week, whatever the weekday); negative
    /// when `earlier` is later.
    pub fn weeks_since(self, earlier: Day) -> i64 {
        (self.monday() - earlier.monday()).div_euclid(7)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_count_mondays_as_the_original() {
        let day = |s| Day::parse(s).expect("a date");
        // 2025-05-19 is a Monday.
        assert_eq!(day("2025-05-19").weeks_since(day("2025-05-19")), 0);
        assert_eq!(day("2025-05-25").weeks_since(day("2025-05-19")), 0, "Sunday, same week");
        assert_eq!(
            day("2025-05-19").weeks_since(day("2025-05-18")),
            1,
            "Sunday before: last week"
        );
        assert_eq!(day("2025-05-19").weeks_since(day("2025-05-12")), 1);
        assert_eq!(day("2025-05-19").weeks_since(day("2025-04-28")), 3);
        assert_eq!(day("2025-05-19").weeks_since(day("2025-05-26")), -1);
        assert_eq!(Day::parse("2025-02-30"), None);
    }
}
