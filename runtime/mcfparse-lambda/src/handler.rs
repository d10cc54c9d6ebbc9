//! One SQS batch → posts, rejects and the partial batch response.
//!
//! Each record ends in one of three ways, and only the last one is retried:
//! - **stored** (inserted, replaced, filled or unchanged): the post is in the table;
//! - **rejected**: the message or the document can never become a post (malformed message,
//!   missing object, unparseable document, an item DynamoDB refuses). It is kept under
//!   `rejects/` with the reason and the message is consumed: retrying cannot help;
//! - **failed**: S3, DynamoDB or the network failed, or the table or bucket is misconfigured.
//!   The message id goes into `batchItemFailures`, SQS redelivers it after the visibility
//!   timeout and moves it to the dead-letter queue after `max_receive_count` receives.
//!
//! Records are handled one after the other, so at most one raw document is in memory.
//!
//! Each record's report is one log line in the format every component writes
//! ([`mcfcore::log`]): `info` stored, `warn` rejected, `error` failed, with the report's fields.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use bytes::Bytes;
use mcfcore::layout::ParseMessage;
use mcfcore::log::{Level, Log, LogLine, Stdout};
use mcfstore::{Aws, Names, PostStore, PutOutcome, RawStore, StoreError};
use serde::Serialize;

/// What the parser needs: the posts table and the data bucket.
#[derive(Clone, Debug)]
pub struct Handler {
    posts: PostStore,
    raw: RawStore,
    /// Where the line of each record goes: stdout in Lambda (CloudWatch Logs), a collecting
    /// sink when the deployer runs the handler; `None`: nowhere.
    log: Option<Log>,
}

/// The component name in log lines and log groups (`/aws/lambda/mcfpipe-<env>-mcfparse`).
pub const COMPONENT: &str = "mcfparse";

/// How one record ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The post is in the table; `put` says whether that took a write.
    Stored {
        #[serde(serialize_with = "put_name")]
        put: PutOutcome,
    },
    /// Kept under `rejects/` with its reason; the message is consumed.
    Rejected { reject_key: String, reason: String },
    /// Left for SQS to redeliver (and, eventually, to dead-letter).
    Failed { error: String },
}

/// One record's result, as logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordReport {
    pub message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl RecordReport {
    /// The record's log line: its fields as they are, a level by how it ended, and a message
    /// for people.
    pub fn log_line(&self, component: &str) -> LogLine {
        let subject = match &self.uuid {
            Some(uuid) => format!("post {uuid}"),
            None => format!("message {}", self.message_id),
        };
        let (level, message) = match &self.outcome {
            Outcome::Stored { put } => (Level::Info, format!("{subject} {}", put.as_str())),
            Outcome::Rejected { reject_key, .. } => (Level::Warn, format!("{subject} rejected, kept at {reject_key}")),
            Outcome::Failed { .. } => (
                Level::Error,
                format!("{subject} failed, left on the queue for redelivery"),
            ),
        };
        LogLine::new(component, level, message).fields_of(self)
    }
}

impl Handler {
    pub fn new(posts: PostStore, raw: RawStore) -> Handler {
        Handler {
            posts,
            raw,
            log: Some(Log::new(COMPONENT, Arc::new(Stdout))),
        }
    }

    /// The handler for the resources `names` gives (`POSTS_TABLE`, `DATA_BUCKET`).
    pub fn from_names(aws: &Aws, names: &Names) -> Result<Handler, StoreError> {
        Ok(Handler::new(
            PostStore::new(aws.dynamodb(), names.posts_table()?),
            RawStore::new(aws.s3(), names.data_bucket()?),
        ))
    }

    /// Turns the per-record JSON log lines on stdout on or off (the local poller's caller
    /// may prefer its own summary).
    pub fn with_log(mut self, log: bool) -> Handler {
        self.log = log.then(|| Log::new(COMPONENT, Arc::new(Stdout)));
        self
    }

    /// Sends the per-record log lines to `log` instead (a collecting sink: the deployer ships
    /// them to the function's log group itself).
    pub fn with_logger(mut self, log: Log) -> Handler {
        self.log = Some(log);
        self
    }

    pub fn posts(&self) -> &PostStore {
        &self.posts
    }

    pub fn raw(&self) -> &RawStore {
        &self.raw
    }

    /// The Lambda's answer to a batch: the ids of the failed records only.
    pub async fn handle(&self, event: &SqsEvent) -> SqsBatchResponse {
        response(&self.handle_batch(event).await)
    }

    /// Handles every record of `event` in order and reports each.
    pub async fn handle_batch(&self, event: &SqsEvent) -> Vec<RecordReport> {
        let mut reports = Vec::with_capacity(event.records.len());
        for message in &event.records {
            let report = self.handle_record(message).await;
            if let Some(log) = &self.log {
                log.write(&report.log_line(log.component()));
            }
            reports.push(report);
        }
        reports
    }

    async fn handle_record(&self, message: &SqsMessage) -> RecordReport {
        let message_id = message.message_id.clone().unwrap_or_default();
        let body = message.body.as_deref().unwrap_or_default();
        let parse_message = match read_message(body) {
            Ok(m) => m,
            Err(reason) => {
                let body = Bytes::copy_from_slice(body.as_bytes());
                let outcome = match self.raw.put_message_reject(&message_id, body, &reason).await {
                    Ok(reject_key) => Outcome::Rejected { reject_key, reason },
                    Err(e) => failed(format!("cannot keep the malformed message ({reason}): {e}")),
                };
                return RecordReport {
                    message_id,
                    uuid: None,
                    key: None,
                    outcome,
                };
            }
        };
        let outcome = self.handle_document(&parse_message).await;
        RecordReport {
            message_id,
            uuid: Some(parse_message.uuid),
            key: Some(parse_message.key),
            outcome,
        }
    }

    async fn handle_document(&self, message: &ParseMessage) -> Outcome {
        let key = &message.key;
        let document = match self.raw.get(key).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                let reason = format!(
                    "s3://{}/{key} does not exist: it expired (raw documents are kept a limited number of days) \
                     or was never written; run the search again to fetch post {} anew",
                    self.raw.bucket(),
                    message.uuid
                );
                return self.reject_without_document(key, reason).await;
            }
            Err(e) if e.is_transient() => return failed(e.to_string()),
            Err(e) => return self.reject_without_document(key, e.to_string()).await,
        };
        let post = match mcfparse::parse_document(&document) {
            Ok(post) => post,
            Err(e) => return self.reject(key, document, e.to_string()).await,
        };
        if !post.uuid.eq_ignore_ascii_case(&message.uuid) {
            let reason = format!(
                "the message is for post {} but the document is post {}: the scraper queued the wrong key",
                message.uuid, post.uuid
            );
            return self.reject(key, document, reason).await;
        }
        match self.posts.put_if_newer(&post, Some(key)).await {
            Ok(put) => Outcome::Stored { put },
            Err(e) if e.is_transient() => failed(e.to_string()),
            Err(e) => self.reject(key, document, e.to_string()).await,
        }
    }

    async fn reject(&self, key: &str, document: Bytes, reason: String) -> Outcome {
        match self.raw.put_reject(key, document, &reason).await {
            Ok(reject_key) => Outcome::Rejected { reject_key, reason },
            Err(e) => failed(format!("cannot keep the rejected document ({reason}): {e}")),
        }
    }

    async fn reject_without_document(&self, key: &str, reason: String) -> Outcome {
        match self.raw.put_reject_reason(key, &reason).await {
            Ok(_) => Outcome::Rejected {
                reject_key: mcfcore::layout::reject_key(key),
                reason,
            },
            Err(e) => failed(format!("cannot record the reject ({reason}): {e}")),
        }
    }
}

/// The partial batch response for `reports`: the message ids of the failed records.
pub fn response(reports: &[RecordReport]) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for report in reports {
        if matches!(report.outcome, Outcome::Failed { .. }) {
            response.add_failure(report.message_id.clone());
        }
    }
    response
}

/// A message body as a [`ParseMessage`] for a raw document, or why it is not one.
fn read_message(body: &str) -> Result<ParseMessage, String> {
    let message: ParseMessage = serde_json::from_str(body)
        .map_err(|e| format!(r#"the message body is not a parse message {{"uuid": …, "key": "raw/…"}}: {e}"#))?;
    if message.uuid.trim().is_empty() {
        return Err("the message has an empty `uuid`".into());
    }
    // Only raw documents: a message must not make the parser read (and copy to rejects/)
    // the reports or another component's objects.
    if !message.key.starts_with("raw/") || message.key.contains("..") {
        return Err(format!(
            "the message's key `{}` is not under raw/: the parser reads raw documents only",
            message.key
        ));
    }
    Ok(message)
}

fn failed(error: String) -> Outcome {
    Outcome::Failed { error }
}

fn put_name<S: serde::Serializer>(put: &PutOutcome, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(put.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_must_name_a_raw_document() {
        let ok = read_message(r#"{"uuid":"u","key":"raw/2026-01-01/u.json"}"#).expect("valid");
        assert_eq!(ok.key, "raw/2026-01-01/u.json");
        for (body, needle) in [
            ("not json", "not a parse message"),
            (r#"{"uuid":"u"}"#, "missing field `key`"),
            (r#"{"uuid":" ","key":"raw/x.json"}"#, "empty `uuid`"),
            (r#"{"uuid":"u","key":"reports/mcfpipe.sqlite"}"#, "not under raw/"),
            (r#"{"uuid":"u","key":"raw/../reports/x"}"#, "not under raw/"),
        ] {
            let err = read_message(body).expect_err(body);
            assert!(err.contains(needle), "{body}: {err}");
        }
    }

    #[test]
    fn only_failed_records_are_reported_to_sqs() {
        let report = |id: &str, outcome| RecordReport {
            message_id: id.into(),
            uuid: None,
            key: None,
            outcome,
        };
        let reports = [
            report(
                "a",
                Outcome::Stored {
                    put: PutOutcome::Inserted,
                },
            ),
            report("b", failed("throttled".into())),
            report(
                "c",
                Outcome::Rejected {
                    reject_key: "rejects/x".into(),
                    reason: "bad".into(),
                },
            ),
        ];
        let json = serde_json::to_value(response(&reports)).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "b"}]})
        );
        let line = serde_json::to_value(&reports[0]).expect("json");
        assert_eq!(
            line,
            serde_json::json!({"message_id": "a", "outcome": "stored", "put": "inserted"})
        );
    }

    #[test]
    fn each_record_logs_one_line_with_its_report_and_a_level_by_outcome() {
        let report = |outcome| RecordReport {
            message_id: "m1".into(),
            uuid: Some("u1".into()),
            key: Some("raw/2026-01-01/u1.json".into()),
            outcome,
        };
        let stored = report(Outcome::Stored {
            put: PutOutcome::Inserted,
        })
        .log_line(COMPONENT)
        .to_value();
        let fields = |v: &serde_json::Value| {
            let mut v = v.clone();
            v.as_object_mut().unwrap().remove("time");
            v
        };
        assert_eq!(
            fields(&stored),
            serde_json::json!({"level": "info", "component": "mcfparse", "message": "post u1 inserted",
                "message_id": "m1", "uuid": "u1", "key": "raw/2026-01-01/u1.json", "outcome": "stored", "put": "inserted"})
        );
        assert!(mcfcore::time::unix_millis(stored["time"].as_str().unwrap()).is_ok());
        let rejected = report(Outcome::Rejected {
            reject_key: "rejects/x".into(),
            reason: "bad".into(),
        })
        .log_line(COMPONENT);
        assert_eq!(
            (rejected.level, rejected.fields["reason"].as_str()),
            (Level::Warn, Some("bad"))
        );
        let mut failed = report(failed("throttled".into()));
        failed.uuid = None;
        let failed = failed.log_line(COMPONENT);
        assert_eq!(failed.level, Level::Error);
        assert_eq!(failed.message, "message m1 failed, left on the queue for redelivery");
        assert_eq!(failed.fields["error"], "throttled");
    }
}
