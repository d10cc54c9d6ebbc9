//! The way to an offer: where a job stands on it, and the furthest stage it has reached (what
//! the funnel counts an ended job at).

use crate::Stage;

/// The stage named `name` (as the table holds it).
pub fn stage_named(name: &str) -> Option<Stage> {
    Stage::ALL.into_iter().find(|s| s.as_str() == name)
}

/// The way to an offer, in order: `OPEN` … `OFFER`, the first seven of `Stage::ALL` (the
/// ends follow them there).
pub const MAIN_LINE: &[Stage] = Stage::ALL.split_at(7).0;

pub fn rank(stage: Stage) -> Option<usize> {
    MAIN_LINE.iter().position(|s| *s == stage)
}

/// The new `reached` when a job that reached `before` moves to `to`, if it changes.
pub fn furthest(before: &str, to: Stage) -> Option<Stage> {
    let to_rank = rank(to)?;
    let before_rank = stage_named(before).and_then(rank);
    (before_rank.is_none_or(|b| to_rank > b)).then_some(to)
}
