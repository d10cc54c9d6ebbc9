//! Deadlines and the daily expiry (the original expired whatever the stage; this does not):
//!
//! - before applying (`OPEN`, `SCREENED`, `TOAPPLY`): the post's closing date, or posted +
//!   [`DAYS`] days when it has none;
//! - `APPLIED`: applied + [`DAYS`];
//! - from `CALLBACK` on (`CALLBACK`, `INTERVIEW`, `OFFER`): [`DAYS`] after the latest event, a
//!   follow-up, never an expiry;
//! - the ends have none.
//!
//! The daily job expires a job only when it waits on a deadline that passed and its stage is
//! `SCREENED`, `TOAPPLY` or `APPLIED` ([`expires`]).

use jobmatch::{Day, Stage};

/// Days to a deadline or a follow-up when no closing date says otherwise.
pub const DAYS: i64 = 28;

/// What a job's deadline depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub stage: Stage,
    /// The post's closing date (MCF's `expiry_date`).
    pub closing: Option<Day>,
    pub posted: Option<Day>,
    /// When it moved to `APPLIED`.
    pub applied: Option<Day>,
    /// Its latest event.
    pub last_event: Option<Day>,
}

/// The job's deadline (or follow-up day, from `CALLBACK` on); `None` for the ends, or when the
/// dates it needs are missing.
pub fn deadline(f: &Facts) -> Option<Day> {
    let after = |day: Option<Day>| day.map(|d| Day::from_days(d.days() + DAYS));
    match f.stage {
        Stage::Open | Stage::Screened | Stage::ToApply => f.closing.or_else(|| after(f.posted)),
        Stage::Applied => after(f.applied.or(f.last_event)),
        Stage::Callback | Stage::Interview | Stage::Offer => after(f.last_event),
        Stage::Rejected | Stage::Closed | Stage::Expired => None,
    }
}

/// Whether the daily job moves the job to `EXPIRED` on `today`: a stage that waits on a
/// deadline (`SCREENED`, `TOAPPLY`, `APPLIED`) whose deadline has passed. Never a job in
/// `INTERVIEW` or `OFFER`, never a lead (`OPEN`), never an end.
pub fn expires(f: &Facts, today: Day) -> bool {
    matches!(f.stage, Stage::Screened | Stage::ToApply | Stage::Applied) && deadline(f).is_some_and(|d| d < today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    fn facts(stage: Stage) -> Facts {
        Facts {
            stage,
            closing: None,
            posted: Some(day("2026-11-01")),
            applied: Some(day("2026-11-10")),
            last_event: Some(day("2026-11-20")),
        }
    }

    #[test]
    fn deadlines_follow_the_stage() {
        assert_eq!(
            deadline(&facts(Stage::Screened)),
            Some(day("2026-11-29")),
            "posted + 28"
        );
        let closing = Facts {
            closing: Some(day("2026-12-05")),
            ..facts(Stage::ToApply)
        };
        assert_eq!(deadline(&closing), Some(day("2026-12-05")), "the closing date first");
        assert_eq!(
            deadline(&facts(Stage::Applied)),
            Some(day("2026-12-08")),
            "applied + 28"
        );
        assert_eq!(
            deadline(&facts(Stage::Interview)),
            Some(day("2026-12-18")),
            "latest event + 28"
        );
        assert_eq!(deadline(&facts(Stage::Closed)), None);
    }

    #[test]
    fn only_waiting_stages_expire_and_only_after_their_deadline() {
        let today = day("2026-11-30");
        assert!(expires(&facts(Stage::Screened), today));
        assert!(
            !expires(&facts(Stage::Screened), day("2026-11-29")),
            "on the day itself: not yet"
        );
        assert!(!expires(&facts(Stage::Applied), today));
        let late = day("2027-06-01");
        for stage in [
            Stage::Open,
            Stage::Callback,
            Stage::Interview,
            Stage::Offer,
            Stage::Rejected,
            Stage::Closed,
            Stage::Expired,
        ] {
            assert!(!expires(&facts(stage), late), "{stage}");
        }
    }

    proptest! {
        #[test]
        fn interview_and_offer_never_expire(stage in 0..Stage::ALL.len(), days in 0i64..100_000, t in 0i64..100_000) {
            let stage = Stage::ALL[stage];
            let f = Facts {
                stage,
                closing: Some(Day::from_days(days)),
                posted: Some(Day::from_days(days)),
                applied: Some(Day::from_days(days)),
                last_event: Some(Day::from_days(days)),
            };
            let today = Day::from_days(t);
            if expires(&f, today) {
                prop_assert!(matches!(stage, Stage::Screened | Stage::ToApply | Stage::Applied));
                prop_assert!(deadline(&f).unwrap() < today);
                // And the move it makes is one the table allows.
                prop_assert!(crate::transitions::allowed(stage).contains(&Stage::Expired));
            }
        }
    }
}
