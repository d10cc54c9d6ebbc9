//! What a run reports and what it leaves for the next one: the [`RunSummary`] (printed as one
//! JSON line, recorded in the store) and the [`Checkpoint`] a killed run resumes from.

use serde::{Deserialize, Serialize};

/// How a run ended; the binary's exit code follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every query was paged to its end (some details may still have failed: see `failed`).
    #[default]
    Completed,
    /// MCF blocked the run (`core::block`): a search page answered 403 or a verification
    /// page, or a post did and the confirming probe answered the same way, or more posts did
    /// than a run may quarantine. The run stopped at once.
    Blocked,
    /// An error stopped the run (the store, a search page that kept failing, no profiles).
    Failed,
    /// The run fetched the most details it was allowed (`--max-posts`) and stopped there; its
    /// checkpoint is kept, so the next run goes on where this one stopped.
    Limited,
}

impl Outcome {
    /// The binary's exit code: 0 completed, 1 failed, 3 blocked.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Completed | Outcome::Limited => 0,
            Outcome::Failed => 1,
            Outcome::Blocked => 3,
        }
    }
}

impl RunSummary {
    /// The run's last log line: how it ended (`info`, `warn` when posts were quarantined or
    /// details failed, `error` when it failed or was blocked) with every field of the summary.
    /// The binary prints it as its one line on stdout; the deployer ships it with the rest.
    pub fn log_line(&self) -> mcfcore::log::LogLine {
        use mcfcore::log::{Level, LogLine};
        let (level, how) = match self.outcome {
            Outcome::Completed if self.quarantined > 0 || self.failed > 0 => (Level::Warn, "completed"),
            Outcome::Completed => (Level::Info, "completed"),
            Outcome::Limited => (Level::Info, "stopped at its limit"),
            Outcome::Failed => (Level::Error, "failed"),
            Outcome::Blocked => (Level::Error, "blocked"),
        };
        let message = format!(
            "run {} {how}: {} post(s) seen, {} new, {} changed, {} fetched, {} failed, {} quarantined",
            self.run_id, self.posts_seen, self.new, self.changed, self.fetched, self.failed, self.quarantined
        );
        LogLine::new(crate::COMPONENT, level, message).fields_of(self)
    }
}

/// Counts and timings of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The start time, `YYYY-MM-DDTHH:MM:SSZ`; also the run's id.
    pub run_id: String,
    pub finished_at: String,
    pub outcome: Outcome,
    /// What stopped the run, or the last store error while recording it.
    pub error: Option<String>,
    /// The URL that answered "blocked".
    pub blocked_url: Option<String>,
    /// The id of the interrupted run this one resumed, if any.
    pub resumed_from: Option<String>,
    pub profiles: u32,
    /// Queries paged (a capped profile counts once per category it was split into).
    pub queries: u32,
    /// Queries that reached MCF's 10,000 cap and were split by category.
    pub split_queries: u32,
    /// Single-category queries still at the cap: posts past the 10,000th were not reachable.
    pub capped_queries: u32,
    pub pages: u32,
    /// Distinct posts seen in search results this run.
    pub posts_seen: u32,
    pub new: u32,
    pub changed: u32,
    pub unchanged: u32,
    /// Posts an interrupted run had already enqueued, skipped when resuming.
    pub already_done: u32,
    /// Search items that did not parse (their uuid, when readable, is still fetched).
    pub rejected_items: u32,
    /// Job details fetched and written.
    pub fetched: u32,
    pub enqueued: u32,
    /// Details that answered 404: taken down since the search.
    pub gone: u32,
    /// Details given up after retries; the next run tries them again.
    pub failed: u32,
    /// Posts whose detail kept answering a block sign (403 or a verification page) while
    /// other requests answered well: kept under `rejects/`, not done, asked again next run.
    #[serde(default)]
    pub quarantined: u32,
    /// Which posts were quarantined, and why.
    #[serde(default)]
    pub quarantine: Vec<Quarantined>,
    /// Confirming probes sent after a post answered a block sign (counted in `requests`).
    #[serde(default)]
    pub probes: u32,
    /// HTTP requests sent, retries included.
    pub requests: u32,
    pub retries: u32,
    pub blocked: bool,
    pub timing: Timing,
}

/// A post the run quarantined.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantined {
    pub uuid: String,
    /// The detail's URL.
    pub url: String,
    /// Why, as in the `.reason.json` beside the kept answer.
    pub reason: String,
    /// Where its last answer is kept (`rejects/<date>/<uuid>.<ext>`).
    pub reject_key: String,
}

/// Where the time went, in milliseconds. `total_ms − mcf_ms − rate_wait_ms − backoff_ms` is the
/// scraper's own work (parsing, deciding, the store), so overhead per post is that divided by
/// `fetched`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub total_ms: f64,
    /// Waiting on MCF: from sending a request to having its whole body, all attempts.
    pub mcf_ms: f64,
    /// Held back by the rate limiter.
    pub rate_wait_ms: f64,
    /// Sleeping between retries.
    pub backoff_ms: f64,
    /// Waiting on the store (DynamoDB, S3, SQS, or memory).
    pub store_ms: f64,
}

/// Where an interrupted run was, so the next run skips what it finished.
///
/// Whole queries are listed once paged to the end; within the query in progress, the page
/// and the posts of that page already enqueued. Posts before that page need no list: their
/// pages are not requested again. Anything fetched but not yet enqueued when the run died is
/// simply fetched again (the parser's writes are idempotent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The interrupted run's id.
    pub run_id: String,
    /// Its start, seconds since the Unix epoch (a stale checkpoint is not resumed).
    pub started_unix: u64,
    /// Query keys paged to the end (`Query::key`).
    pub done: Vec<String>,
    /// Query keys that hit the cap and were split into per-category queries.
    pub split: Vec<String>,
    pub current: Option<Position>,
}

/// The query in progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub query: String,
    /// The page to request next.
    pub page: u32,
    /// uuids of that page already enqueued (or gone).
    pub done_uuids: Vec<String>,
    /// The page size `page` counts in (0: written before this was recorded, assume the
    /// current one). A run resumed with another page size starts at the page that holds the
    /// same result, so no post is skipped.
    #[serde(default)]
    pub page_limit: u32,
}

impl Position {
    /// `self` counted in pages of `limit` results: the page holding the first result not yet
    /// done, so results are at worst seen twice (the incremental check skips them), never
    /// skipped.
    pub fn in_pages_of(mut self, limit: u32) -> Position {
        if self.page_limit != 0 && self.page_limit != limit && limit != 0 {
            let first = u64::from(self.page) * u64::from(self.page_limit);
            self.page = u32::try_from(first / u64::from(limit)).unwrap_or(u32::MAX);
        }
        self.page_limit = limit;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_resumed_with_another_page_size_skips_nothing() {
        let at = |page, page_limit| Position {
            page,
            page_limit,
            ..Position::default()
        };
        // Page 3 of 30 starts at result 90: page 0 of 100 holds it, page 9 of 10 starts there.
        assert_eq!(at(3, 30).in_pages_of(100).page, 0);
        assert_eq!(at(3, 30).in_pages_of(10).page, 9);
        assert_eq!(at(3, 30).in_pages_of(30).page, 3);
        // Checkpoints from before the page size was recorded keep their page.
        assert_eq!(at(3, 0).in_pages_of(100), at(3, 100));
    }

    #[test]
    fn summary_is_one_json_object_with_snake_case_outcome() {
        let summary = RunSummary {
            outcome: Outcome::Blocked,
            ..RunSummary::default()
        };
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["outcome"], "blocked");
        assert!(json["timing"]["mcf_ms"].is_number());
        assert_eq!(serde_json::from_value::<RunSummary>(json).unwrap(), summary);
        assert_eq!(
            [Outcome::Completed, Outcome::Failed, Outcome::Blocked].map(Outcome::exit_code),
            [0, 1, 3]
        );
    }

    #[test]
    fn the_summary_is_a_log_line_carrying_every_field() {
        use mcfcore::log::{Level, LogLine};
        let summary = RunSummary {
            run_id: "2026-11-28T18:11:08Z".into(),
            posts_seen: 10,
            fetched: 4,
            ..RunSummary::default()
        };
        let line = summary.log_line();
        assert_eq!((line.level, line.component.as_str()), (Level::Info, "mcfscrape"));
        assert!(
            line.message
                .starts_with("run 2026-11-28T18:11:08Z completed: 10 post(s) seen"),
            "{}",
            line.message
        );
        let json = line.to_json();
        // Readers of the summary line still read a summary from it.
        assert_eq!(serde_json::from_str::<RunSummary>(&json).unwrap(), summary);
        assert_eq!(
            LogLine::parse(&json).map(|l| l.fields["fetched"].clone()),
            Some(4.into())
        );
        let level = |outcome, failed| {
            RunSummary {
                outcome,
                failed,
                ..RunSummary::default()
            }
            .log_line()
            .level
        };
        assert_eq!(
            [
                level(Outcome::Completed, 1),
                level(Outcome::Limited, 0),
                level(Outcome::Failed, 0),
                level(Outcome::Blocked, 0)
            ],
            [Level::Warn, Level::Info, Level::Error, Level::Error]
        );
    }
}
