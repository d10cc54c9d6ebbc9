//! The recommender's two events, the one function both the Lambda (`src/main.rs`) and the
//! deployer (the local stream player, `run recommend --rescore`) call:
//!
//! - a **DynamoDB stream batch** from the posts table (`{"Records": [...]}`): each INSERT or
//!   MODIFY of a `sk = POST` item (its `NewImage`) is scored for every track, its score items
//!   written when they changed, and screened into the CRM ([`crate::score`]). Other records
//!   (score items, removals) are skipped. A record that fails is reported by its sequence number
//!   in `batchItemFailures` (the partial batch response of a stream event source): Lambda
//!   retries from the lowest reported one, bisects, and after `MaximumRetryAttempts` sends the
//!   batch's description to the dead-letter queue. One post never fails the batch;
//! - a **rescore** (`{"rescore": {"reason": "...", "weeks": N}}`): every post posted in the last
//!   `weeks` weeks (default: `RESCORE_WEEKS`, else [`DEFAULT_RESCORE_WEEKS`]), read by posting
//!   month from the posts table's `gsi1`, page by page, and the same work; the answer is a
//!   [`Summary`].
//!
//! The library is loaded once per event: a library that cannot be used fails every record
//! (stream) or the rescore, with the reason.

use std::sync::Arc;

use jobmatch::Day;
use mcfcore::Post;
use mcfcore::layout;
use mcfcore::log::{Level, Log, LogLine, Stdout};
use mcfstore::batch::Item;
use mcfstore::{Aws, Names, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::score::{Tally, date_of, score_posts, singapore_today};
use crate::store::{LibraryError, LoadedLibrary, Store, months_between};

/// The component name in log lines, the log group (`/aws/lambda/mcfpipe-<env>-recommend`) and
/// the artifact.
pub const COMPONENT: &str = "recommend";
/// Weeks a rescore reaches back when neither the event nor `RESCORE_WEEKS` says.
pub const DEFAULT_RESCORE_WEEKS: u32 = 6;
/// Posts per page of a rescore (one BatchGetItem of scores and jobs per page and track set).
const PAGE: i32 = 100;

/// The recommender: its tables and where its log lines go.
#[derive(Clone, Debug)]
pub struct Handler {
    store: Store,
    rescore_weeks: u32,
    /// The day posts are scored and screened as of; `None`: today in Singapore.
    as_of: Option<Day>,
    log: Option<Log>,
}

/// A rescore request: `{"rescore": {"reason": "...", "weeks": N}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rescore {
    #[serde(default)]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weeks: Option<u32>,
}

/// What a rescore did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub reason: String,
    /// The first posting date read (`YYYY-MM-DD`).
    pub since: String,
    pub library_version: String,
    /// Posts read.
    pub posts: usize,
    pub tracks: usize,
    /// (post, track) scores computed.
    pub scored: usize,
    /// Score items written because they changed.
    pub changed: usize,
    /// New CRM jobs (`SCREENED`).
    pub screened: usize,
    /// Existing CRM jobs whose scores changed (their stage never does).
    pub refreshed: usize,
    /// Existing jobs in a stage the user chose, left there.
    pub kept: usize,
    /// Posts that could not be scored or stored, or not read as posts.
    pub failed: usize,
    /// The first failures, each with its reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
}

/// How one stream record ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RecordOutcome {
    /// Not a post's INSERT or MODIFY (a score item, a removal, another item): nothing to do.
    Skipped { why: String },
    /// Scored for every track; `screened` and `refreshed` count CRM jobs.
    Scored {
        scores_written: usize,
        screened: usize,
        refreshed: usize,
    },
    /// Reported in `batchItemFailures`.
    Failed { error: String },
}

/// One stream record's result, as logged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordReport {
    /// The record's sequence number: its `itemIdentifier` in a partial batch response.
    pub sequence_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(flatten)]
    pub outcome: RecordOutcome,
}

impl RecordReport {
    pub fn log_line(&self, component: &str) -> LogLine {
        let subject = match &self.uuid {
            Some(uuid) => format!("post {uuid}"),
            None => format!("record {}", self.sequence_number),
        };
        let (level, message) = match &self.outcome {
            RecordOutcome::Skipped { .. } => (Level::Debug, format!("{subject} skipped")),
            RecordOutcome::Scored { screened, .. } => (
                Level::Info,
                format!("{subject} scored, {screened} track(s) screened into the CRM"),
            ),
            RecordOutcome::Failed { .. } => (Level::Error, format!("{subject} failed, reported for a retry")),
        };
        LogLine::new(component, level, message).fields_of(self)
    }
}

/// Why an event is not one of the two the recommender takes.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error(
        "the event is neither a DynamoDB stream batch ({{\"Records\": [...]}}) nor a rescore \
         ({{\"rescore\": {{\"reason\": \"...\", \"weeks\": N}}}}): {0}"
    )]
    Unknown(String),
    #[error("rescore: {0}")]
    Library(#[from] LibraryError),
    #[error("rescore: {0}")]
    Store(#[from] StoreError),
}

/// The answer to a stream batch: the partial batch response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    pub item_identifier: String,
}

impl Handler {
    pub fn new(store: Store) -> Handler {
        Handler {
            store,
            rescore_weeks: DEFAULT_RESCORE_WEEKS,
            as_of: None,
            log: Some(Log::new(COMPONENT, Arc::new(Stdout))),
        }
    }

    /// The handler for the tables `names` gives (`POSTS_TABLE`, `DIMENSIONS_TABLE`,
    /// `CRM_TABLE`); `RESCORE_WEEKS` when set.
    pub fn from_names(aws: &Aws, names: &Names) -> Result<Handler, StoreError> {
        let mut handler = Handler::new(Store::from_names(aws, names)?);
        if let Some(weeks) = std::env::var("RESCORE_WEEKS").ok().and_then(|w| w.trim().parse().ok()) {
            handler.rescore_weeks = weeks;
        }
        Ok(handler)
    }

    pub fn with_rescore_weeks(mut self, weeks: u32) -> Handler {
        self.rescore_weeks = weeks;
        self
    }

    /// Scores and screens as of `day` instead of today: a replay of old posts (the repository's
    /// MCF captures) as the day they were taken. The Lambda never sets it.
    pub fn with_as_of(mut self, day: Option<Day>) -> Handler {
        self.as_of = day;
        self
    }

    /// The day scores and the screener's recency and "still open" are computed for.
    pub fn today(&self) -> Day {
        self.as_of.unwrap_or_else(singapore_today)
    }

    /// Log lines to `log` (a collecting sink in the deployer), or nowhere.
    pub fn with_logger(mut self, log: Option<Log>) -> Handler {
        self.log = log;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The Lambda's entry: a stream batch answers its partial batch response, a rescore its
    /// summary. Anything else is an error naming both shapes.
    pub async fn handle(&self, event: Value) -> Result<Value, EventError> {
        if let Some(request) = event.get("rescore") {
            let request: Rescore =
                serde_json::from_value(request.clone()).map_err(|e| EventError::Unknown(e.to_string()))?;
            let summary = self.rescore(&request).await?;
            return Ok(serde_json::to_value(summary).unwrap_or(Value::Null));
        }
        match event.get("Records").and_then(Value::as_array) {
            Some(records) => {
                let reports = self.handle_stream(records).await;
                Ok(serde_json::to_value(response(&reports)).unwrap_or(Value::Null))
            }
            None => Err(EventError::Unknown("it has neither `Records` nor `rescore`".into())),
        }
    }

    /// Every record of a stream batch, one report each, in order.
    pub async fn handle_stream(&self, records: &[Value]) -> Vec<RecordReport> {
        let mut reports: Vec<RecordReport> = Vec::with_capacity(records.len());
        // (index in reports, post) of the records to score.
        let mut posts: Vec<(usize, Post)> = Vec::new();
        for record in records {
            let (sequence_number, read) = read_record(record);
            let (uuid, outcome) = match read {
                Read::Post(post) => {
                    let uuid = post.uuid.clone();
                    posts.push((reports.len(), *post));
                    // Filled in below.
                    (Some(uuid), RecordOutcome::Skipped { why: String::new() })
                }
                Read::Skip(why) => (None, RecordOutcome::Skipped { why }),
                Read::Bad { uuid, error } => (uuid, RecordOutcome::Failed { error }),
            };
            reports.push(RecordReport {
                sequence_number,
                uuid,
                outcome,
            });
        }
        if !posts.is_empty() {
            match self.store.load_library().await {
                Err(e) => {
                    let error = e.to_string();
                    for (i, _) in &posts {
                        reports[*i].outcome = RecordOutcome::Failed { error: error.clone() };
                    }
                }
                Ok(lib) => {
                    let only: Vec<Post> = posts.iter().map(|(_, p)| p.clone()).collect();
                    let results = score_posts(&self.store, &lib, &only, self.today()).await;
                    for ((i, _), result) in posts.iter().zip(results) {
                        reports[*i].outcome = match result {
                            Ok(r) => RecordOutcome::Scored {
                                scores_written: r.scores_written,
                                screened: r
                                    .tracks
                                    .iter()
                                    .filter(|t| t.decision == crate::score::Decided::Screened)
                                    .count(),
                                refreshed: r
                                    .tracks
                                    .iter()
                                    .filter(|t| t.decision == crate::score::Decided::Refreshed)
                                    .count(),
                            },
                            Err(error) => RecordOutcome::Failed { error },
                        };
                    }
                }
            }
        }
        if let Some(log) = &self.log {
            for report in &reports {
                log.write(&report.log_line(log.component()));
            }
        }
        reports
    }

    /// The library as the recommender reads it (for the deployer's shortlist and checks).
    pub async fn library(&self) -> Result<LoadedLibrary, LibraryError> {
        self.store.load_library().await
    }

    /// Rescores the posts posted in the last `weeks` weeks (see the module docs).
    pub async fn rescore(&self, request: &Rescore) -> Result<Summary, EventError> {
        let lib = self.store.load_library().await?;
        let today = self.today();
        let weeks = request.weeks.unwrap_or(self.rescore_weeks);
        let since = date_of(Day::from_days(today.days() - 7 * i64::from(weeks)));
        let mut tally = Tally::default();
        let mut read = 0usize;
        for month in months_between(&since, &date_of(today)) {
            let mut start: Option<Item> = None;
            loop {
                let (page, next) = self.store.recent_posts_page(&month, &since, start, PAGE).await?;
                let mut posts = Vec::with_capacity(page.len());
                for post in page {
                    read += 1;
                    match post {
                        Ok(p) => posts.push(p),
                        Err((uuid, why)) => tally.add_failure(&format!("post {uuid}"), &format!("not a post: {why}")),
                    }
                }
                for (post, result) in posts.iter().zip(score_posts(&self.store, &lib, &posts, today).await) {
                    match result {
                        Ok(report) => tally.add(&report, lib.compiled.tracks().len()),
                        Err(e) => tally.add_failure(&format!("post {}", post.uuid), &e),
                    }
                }
                start = next;
                if start.is_none() {
                    break;
                }
            }
        }
        let tracks = lib.compiled.tracks().len();
        let summary = Summary {
            reason: request.reason.clone(),
            since,
            library_version: lib.version.clone(),
            posts: read,
            tracks,
            scored: tally.posts * tracks,
            changed: tally.scores_written,
            screened: tally.screened,
            refreshed: tally.refreshed,
            kept: tally.kept,
            failed: tally.failed,
            failures: tally.failures.iter().take(20).cloned().collect(),
        };
        if let Some(log) = &self.log {
            let level = if summary.failed > 0 { Level::Warn } else { Level::Info };
            log.write(
                &LogLine::new(
                    log.component(),
                    level,
                    format!(
                        "rescore: {} post(s) × {} track(s), {} score(s) changed, {} screened, {} refreshed, {} failed",
                        summary.posts, tracks, summary.changed, summary.screened, summary.refreshed, summary.failed
                    ),
                )
                .fields_of(&summary),
            );
        }
        Ok(summary)
    }
}

/// The partial batch response for `reports`: the sequence numbers of the failed records.
pub fn response(reports: &[RecordReport]) -> BatchResponse {
    BatchResponse {
        batch_item_failures: reports
            .iter()
            .filter(|r| matches!(r.outcome, RecordOutcome::Failed { .. }))
            .map(|r| ItemFailure {
                item_identifier: r.sequence_number.clone(),
            })
            .collect(),
    }
}

enum Read {
    Post(Box<Post>),
    Skip(String),
    Bad { uuid: Option<String>, error: String },
}

/// A stream record (Lambda's JSON shape) as the post of its new image, or why not.
fn read_record(record: &Value) -> (String, Read) {
    let change = record.get("dynamodb");
    let sequence_number = change
        .and_then(|c| c.get("SequenceNumber"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(change) = change else {
        return (
            sequence_number,
            Read::Bad {
                uuid: None,
                error: "the record has no `dynamodb` change".into(),
            },
        );
    };
    let key = |image: &str, attr: &str| -> Option<String> {
        change.get(image)?.get(attr)?.get("S")?.as_str().map(str::to_string)
    };
    let uuid = key("Keys", layout::PK);
    let sk = key("Keys", layout::SK);
    if sk.as_deref() != Some(layout::POST_SK) {
        return (sequence_number, Read::Skip(format!("not a post item (sk {sk:?})")));
    }
    let event = record.get("eventName").and_then(Value::as_str).unwrap_or_default();
    if !matches!(event, "INSERT" | "MODIFY") {
        return (sequence_number, Read::Skip(format!("event {event:?}")));
    }
    let Some(image) = change.get("NewImage") else {
        return (
            sequence_number,
            Read::Bad {
                uuid,
                error: "the record has no NewImage: the posts table's stream must be NEW_IMAGE or NEW_AND_OLD_IMAGES"
                    .into(),
            },
        );
    };
    let post = serde_json::from_value::<serde_dynamo::Item>(image.clone())
        .map_err(|e| format!("the NewImage is not DynamoDB JSON: {e}"))
        .and_then(|item| mcfstore::post_from_item(item.into()).map_err(|e| format!("the NewImage is not a post: {e}")));
    match post {
        Ok(post) => (sequence_number, Read::Post(Box::new(post))),
        Err(error) => (sequence_number, Read::Bad { uuid, error }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(seq: &str, event: &str, sk: &str, image: Option<Value>) -> Value {
        let mut change = json!({"SequenceNumber": seq, "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES",
            "Keys": {"pk": {"S": "u1"}, "sk": {"S": sk}}});
        if let Some(image) = image {
            change["NewImage"] = image;
        }
        json!({"eventID": "e", "eventName": event, "eventSource": "aws:dynamodb", "dynamodb": change})
    }

    #[test]
    fn only_inserted_or_modified_posts_are_read_and_bad_images_say_why() {
        let (seq, read) = read_record(&record("1", "INSERT", "SCORE#data", None));
        assert_eq!(seq, "1");
        assert!(matches!(read, Read::Skip(w) if w.contains("SCORE#data")));
        assert!(matches!(
            read_record(&record("2", "REMOVE", "POST", None)).1,
            Read::Skip(_)
        ));
        match read_record(&record("3", "MODIFY", "POST", None)).1 {
            Read::Bad { uuid, error } => {
                assert_eq!(uuid.as_deref(), Some("u1"));
                assert!(error.contains("NewImage"), "{error}");
            }
            _ => panic!("no image is bad"),
        }
        match read_record(&record(
            "4",
            "INSERT",
            "POST",
            Some(json!({"pk": {"S": "u1"}, "title": {"N": "x"}})),
        ))
        .1
        {
            Read::Bad { error, .. } => assert!(error.contains("not"), "{error}"),
            _ => panic!("a broken image is bad"),
        }
        match read_record(&json!({"eventName": "INSERT"})) {
            (seq, Read::Bad { error, .. }) => assert!(seq.is_empty() && error.contains("dynamodb")),
            _ => panic!("a record without its change is bad"),
        }
    }

    #[test]
    fn only_failed_records_are_reported_by_sequence_number() {
        let r = |seq: &str, outcome| RecordReport {
            sequence_number: seq.into(),
            uuid: None,
            outcome,
        };
        let reports = [
            r("10", RecordOutcome::Skipped { why: "x".into() }),
            r(
                "11",
                RecordOutcome::Failed {
                    error: "throttled".into(),
                },
            ),
            r(
                "12",
                RecordOutcome::Scored {
                    scores_written: 2,
                    screened: 1,
                    refreshed: 0,
                },
            ),
        ];
        assert_eq!(
            serde_json::to_value(response(&reports)).unwrap(),
            json!({"batchItemFailures": [{"itemIdentifier": "11"}]})
        );
        assert_eq!(reports[1].log_line(COMPONENT).level, Level::Error);
    }

    #[test]
    fn rescore_requests_are_strict() {
        let ok: Rescore = serde_json::from_value(json!({"reason": "library", "weeks": 2})).unwrap();
        assert_eq!(ok.weeks, Some(2));
        assert!(serde_json::from_value::<Rescore>(json!({"weeks": "two"})).is_err());
        assert!(serde_json::from_value::<Rescore>(json!({"wekes": 2})).is_err());
    }
}
