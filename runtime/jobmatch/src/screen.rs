//! The screener: whether a scored post enters the CRM for a track, as a pure decision.
//!
//! Rules, in order:
//!
//! 1. **An item already exists for (post, track).** In `SCREENED` (the screener's own stage,
//!    the user has not acted): [`Decision::UpdateScores`], scores only. In any other stage
//!    (the user or the apply step moved it, or put it there by hand): [`Decision::KeepUserStage`]:
//!    scores may be refreshed, the stage never moves. A rescore never moves, demotes or
//!    duplicates an item, whatever the new score, age or status.
//! 2. **No item yet**: the post is screened when it is still open, recent and good enough:
//!    - MCF status: `closed` is skipped; `open` and `reopened` are open; `unknown` (a rendered
//!      page) is open only if its closing date says so;
//!    - closing date (`expiry_date`) today or later; a post without one is judged on its
//!      status alone (search items carry none);
//!    - posted within `age_weeks` (weeks between Mondays, as the original); a post without a
//!      posting date is skipped;
//!    - a total above 0 (it matches at all) and at least the track's `match_score_min`.

use std::fmt;

use mcfcore::{Post, PostStatus};
use serde::{Deserialize, Serialize};

use crate::compile::CompiledTrack;
use crate::day::Day;
use crate::score::TrackScore;
use crate::validate::num;

/// The CRM's stages. Which moves between them are allowed is the CRM's business
/// (`jobcrm::transitions`); the screener only creates `SCREENED` and never moves an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Stage {
    Open,
    Screened,
    ToApply,
    Applied,
    Callback,
    Interview,
    Offer,
    Rejected,
    Closed,
    Expired,
}

impl Stage {
    /// Every stage, in the order of the hunt: the lead, the way to an offer, then the ends.
    pub const ALL: [Stage; 10] = [
        Stage::Open,
        Stage::Screened,
        Stage::ToApply,
        Stage::Applied,
        Stage::Callback,
        Stage::Interview,
        Stage::Offer,
        Stage::Rejected,
        Stage::Closed,
        Stage::Expired,
    ];

    /// The stored name (`SCREENED`, `TOAPPLY`, …), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Open => "OPEN",
            Stage::Screened => "SCREENED",
            Stage::ToApply => "TOAPPLY",
            Stage::Applied => "APPLIED",
            Stage::Callback => "CALLBACK",
            Stage::Interview => "INTERVIEW",
            Stage::Offer => "OFFER",
            Stage::Rejected => "REJECTED",
            Stage::Closed => "CLOSED",
            Stage::Expired => "EXPIRED",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do with (post, track).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Decision {
    /// Put a new item in the CRM in `SCREENED`.
    Screen,
    /// The item is still `SCREENED`: refresh its scores.
    UpdateScores,
    /// The item is in a stage someone chose: scores may be refreshed, the stage stays.
    KeepUserStage(Stage),
    /// Not for the CRM (no item exists).
    Skip(SkipReason),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SkipReason {
    /// MCF says closed.
    Closed,
    /// The closing date has passed.
    PastClosingDate {
        closing: String,
    },
    /// Neither MCF's status nor a closing date says the post is open.
    OpenUnknown,
    NoPostingDate,
    TooOld {
        weeks: i64,
        age_weeks: u32,
    },
    NoMatch,
    BelowMin {
        total: f64,
        min: f64,
    },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Closed => write!(f, "MCF says the post is closed"),
            SkipReason::PastClosingDate { closing } => write!(f, "it closed on {closing}"),
            SkipReason::OpenUnknown => write!(f, "no status or closing date says it is open"),
            SkipReason::NoPostingDate => write!(f, "it has no posting date"),
            SkipReason::TooOld { weeks, age_weeks } => {
                write!(f, "posted {weeks} weeks ago, more than the track's {age_weeks}")
            }
            SkipReason::NoMatch => write!(f, "it does not match the track"),
            SkipReason::BelowMin { total, min } => {
                write!(f, "total {} is below the track's minimum {}", num(*total), num(*min))
            }
        }
    }
}

/// Decides for one (post, track): `score` is the post's score for `track`, `existing` the
/// stage of the CRM item for (post, track) if there is one.
pub fn screen(post: &Post, score: &TrackScore, track: &CompiledTrack, today: Day, existing: Option<Stage>) -> Decision {
    match existing {
        Some(Stage::Screened) => return Decision::UpdateScores,
        Some(stage) => return Decision::KeepUserStage(stage),
        None => {}
    }
    let closing = post
        .expiry_date
        .as_deref()
        .and_then(|d| Day::parse(d).map(|day| (d, day)));
    match (post.status, closing) {
        (PostStatus::Closed, _) => return Decision::Skip(SkipReason::Closed),
        (_, Some((date, day))) if day < today => {
            return Decision::Skip(SkipReason::PastClosingDate {
                closing: date.to_string(),
            });
        }
        (PostStatus::Unknown, None) => return Decision::Skip(SkipReason::OpenUnknown),
        _ => {}
    }
    let Some(posted) = post.posted_date.as_deref().and_then(Day::parse) else {
        return Decision::Skip(SkipReason::NoPostingDate);
    };
    let weeks = today.weeks_since(posted);
    if weeks > i64::from(track.age_weeks) {
        return Decision::Skip(SkipReason::TooOld {
            weeks,
            age_weeks: track.age_weeks,
        });
    }
    if score.total <= 0.0 {
        return Decision::Skip(SkipReason::NoMatch);
    }
    if score.total < track.match_score_min {
        return Decision::Skip(SkipReason::BelowMin {
            total: score.total,
            min: track.match_score_min,
        });
    }
    Decision::Screen
}
