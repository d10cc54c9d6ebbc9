//! `run recommend`: score what the posts table's stream holds since the last play (an emulator;
//! on AWS the deployed function's stream mapping does it), or rescore the recent posts
//! (`--rescore`: in this process on an emulator, the deployed function invoked on AWS); then
//! the shortlist per track.

use anyhow::Result;
use serde_json::json;

use crate::session::Session;
use crate::workflow::recommend::{self, RecommendNames, SHORTLIST};

#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub rescore: bool,
    /// Weeks a rescore reads back (default: compute.recommender.rescore_weeks).
    pub weeks: Option<u32>,
    /// Score and screen as of this day (`YYYY-MM-DD`, an emulator only): old posts replayed.
    pub as_of: Option<String>,
}

pub async fn run(s: &Session, flags: &Flags) -> Result<u8> {
    let aws = s.aws().await?;
    let names = RecommendNames::deployed(s, &aws).await?;
    let as_of = flags.as_of.as_deref().map(recommend::parse_day).transpose()?;
    let mut failed = 0usize;
    let mut doc = json!({"env": s.env});
    if flags.rescore {
        let summary = recommend::rescore_as_of(s, &aws, "run recommend --rescore", flags.weeks, as_of).await?;
        s.ui.print(&recommend::summary_text(&summary));
        failed += summary.failed;
        doc["rescore"] = json!(summary);
    } else if aws.is_emulator() {
        s.ui.info("playing the posts stream through the recommender's handler (the emulator runs no Lambda code)");
        let shipping = recommend::start_shipping(s, &aws).await;
        let played = recommend::play(s, &aws, &aws, &names, as_of, shipping.log(jobmatch_lambda::COMPONENT)).await;
        recommend::finish_shipping(s, shipping).await;
        let played = played?;
        s.ui.print(&recommend::play_text(&played));
        failed += played.given_up.len();
        doc["play"] = json!(played);
    } else {
        s.ui.info(&format!(
            "on AWS the recommender scores new posts from the stream itself; `cargo xtask run recommend --env {} --rescore` rescores the recent ones",
            s.env
        ));
    }
    let lists = recommend::shortlist(&aws, &names, as_of, SHORTLIST).await?;
    s.ui.print(&recommend::shortlist_text(&lists));
    doc["ok"] = json!(failed == 0);
    doc["shortlist"] = json!(lists);
    s.ui.emit("result", doc);
    if failed > 0 {
        s.ui.error(&format!(
            "{failed} post(s) could not be scored (listed above); `cargo xtask logs recommend --env {}` says why",
            s.env
        ));
        return Ok(1);
    }
    Ok(0)
}
