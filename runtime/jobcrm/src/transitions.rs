//! Which stage a job may move to from which: one table, [`TRANSITIONS`]. Anything else is
//! refused, naming the moves that are allowed. A move to `CLOSED` needs a [`CloseReason`];
//! no other move takes one.
//!
//! | from | to |
//! | - | - |
//! | `OPEN` (a lead typed in) | `SCREENED`, `TOAPPLY`, `CLOSED` |
//! | `SCREENED` | `TOAPPLY`, `CLOSED`, `EXPIRED` |
//! | `TOAPPLY` | `APPLIED`, `SCREENED`, `CLOSED`, `EXPIRED` |
//! | `APPLIED` | `CALLBACK`, `INTERVIEW`, `REJECTED`, `CLOSED`, `EXPIRED` |
//! | `CALLBACK` | `INTERVIEW`, `REJECTED`, `CLOSED` |
//! | `INTERVIEW` | `OFFER`, `REJECTED`, `CLOSED` |
//! | `OFFER` | `REJECTED`, `CLOSED` |
//! | `EXPIRED` | `SCREENED`, `TOAPPLY` (taken up again) |
//! | `REJECTED`, `CLOSED` | none: ends |
//!
//! `EXPIRED` is set by the daily job only for stages that wait on a deadline
//! ([`crate::deadline::expires`]); a user moves a job there by closing it instead.

use std::fmt;

use jobmatch::Stage;
use serde::{Deserialize, Serialize};

use Stage::*;

/// The allowed moves, from each stage (every stage has a row).
pub const TRANSITIONS: [(Stage, &[Stage]); 10] = [
    (Open, &[Screened, ToApply, Closed]),
    (Screened, &[ToApply, Closed, Expired]),
    (ToApply, &[Applied, Screened, Closed, Expired]),
    (Applied, &[Callback, Interview, Rejected, Closed, Expired]),
    (Callback, &[Interview, Rejected, Closed]),
    (Interview, &[Offer, Rejected, Closed]),
    (Offer, &[Rejected, Closed]),
    (Rejected, &[]),
    (Closed, &[]),
    (Expired, &[Screened, ToApply]),
];

/// Why a job was closed (required by a move to `CLOSED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The user withdrew (an application, or an offer declined).
    Withdrawn,
    NotInterested,
    /// The post closed before the user applied.
    PostClosed,
    /// The apply step could not apply.
    ApplyFailed,
}

impl CloseReason {
    pub const ALL: [CloseReason; 4] = [
        CloseReason::Withdrawn,
        CloseReason::NotInterested,
        CloseReason::PostClosed,
        CloseReason::ApplyFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Withdrawn => "withdrawn",
            CloseReason::NotInterested => "not_interested",
            CloseReason::PostClosed => "post_closed",
            CloseReason::ApplyFailed => "apply_failed",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a move is refused; the message names what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{from} → {to} is not allowed; from {from} a job moves to {}", list(allowed(*from)))]
    NotAllowed { from: Stage, to: Stage },
    #[error("{from} → {from}: the job is already {from}")]
    Same { from: Stage },
    #[error("a move to CLOSED needs a reason: one of {}", CloseReason::ALL.map(CloseReason::as_str).join(", "))]
    NoReason,
    #[error("only a move to CLOSED takes a reason ({reason} given for {to})")]
    UnexpectedReason { to: Stage, reason: CloseReason },
}

fn list(stages: &[Stage]) -> String {
    if stages.is_empty() {
        return "nothing: it is an end".into();
    }
    stages.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// The stages a job in `from` may move to.
pub fn allowed(from: Stage) -> &'static [Stage] {
    TRANSITIONS
        .iter()
        .find(|(stage, _)| *stage == from)
        .map_or(&[], |(_, to)| *to)
}

/// Whether `from` → `to` (with `reason`) is allowed.
pub fn check(from: Stage, to: Stage, reason: Option<CloseReason>) -> Result<(), Refused> {
    if from == to {
        return Err(Refused::Same { from });
    }
    if !allowed(from).contains(&to) {
        return Err(Refused::NotAllowed { from, to });
    }
    match (to, reason) {
        (Closed, None) => Err(Refused::NoReason),
        (Closed, Some(_)) | (_, None) => Ok(()),
        (to, Some(reason)) => Err(Refused::UnexpectedReason { to, reason }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_table_has_one_row_per_stage_and_no_move_in_place() {
        for stage in Stage::ALL {
            assert_eq!(TRANSITIONS.iter().filter(|(s, _)| *s == stage).count(), 1, "{stage}");
            assert!(!allowed(stage).contains(&stage), "{stage}");
        }
    }

    #[test]
    fn the_hunt_moves_forward_and_refusals_name_what_is_allowed() {
        let path = [Screened, ToApply, Applied, Callback, Interview, Offer];
        for pair in path.windows(2) {
            assert_eq!(check(pair[0], pair[1], None), Ok(()), "{pair:?}");
        }
        let e = check(Screened, Offer, None).unwrap_err().to_string();
        assert_eq!(
            e,
            "SCREENED → OFFER is not allowed; from SCREENED a job moves to TOAPPLY, CLOSED, EXPIRED"
        );
        let e = check(Rejected, Screened, None).unwrap_err().to_string();
        assert!(e.ends_with("moves to nothing: it is an end"), "{e}");
        assert_eq!(check(Applied, Applied, None), Err(Refused::Same { from: Applied }));
    }

    #[test]
    fn closing_needs_a_reason_and_nothing_else_takes_one() {
        assert_eq!(check(ToApply, Closed, None), Err(Refused::NoReason));
        assert!(
            Refused::NoReason
                .to_string()
                .contains("withdrawn, not_interested, post_closed, apply_failed")
        );
        assert_eq!(check(ToApply, Closed, Some(CloseReason::PostClosed)), Ok(()));
        assert_eq!(
            check(ToApply, Applied, Some(CloseReason::Withdrawn)),
            Err(Refused::UnexpectedReason {
                to: Applied,
                reason: CloseReason::Withdrawn
            })
        );
    }

    #[test]
    fn the_users_stages_are_never_expired_by_a_move() {
        for stage in [Callback, Interview, Offer] {
            assert!(!allowed(stage).contains(&Expired), "{stage}");
        }
    }

    fn stage() -> impl Strategy<Value = Stage> {
        (0..Stage::ALL.len()).prop_map(|i| Stage::ALL[i])
    }

    proptest! {
        /// A random sequence of requested moves: each is taken only when the table allows it,
        /// so the stage is always one the table can reach, and the ends stay ends.
        #[test]
        fn any_sequence_of_requests_follows_the_table(
            requests in proptest::collection::vec((stage(), proptest::option::of(0..4usize)), 0..40)
        ) {
            let mut at = Screened;
            for (to, reason) in requests {
                let reason = reason.map(|i| CloseReason::ALL[i]);
                let before = at;
                if check(at, to, reason).is_ok() {
                    prop_assert!(allowed(before).contains(&to));
                    prop_assert_eq!(to == Closed, reason.is_some());
                    at = to;
                }
                if matches!(before, Rejected | Closed) {
                    prop_assert_eq!(at, before);
                }
            }
        }
    }
}
