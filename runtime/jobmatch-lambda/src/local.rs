//! The local stand-in for the posts stream's event source mapping: moto runs no Lambda code
//! (and an event source mapping on a moto table empties its stream on every write, so the
//! emulator's recommend stack has none), so the deployer reads the stream with DynamoDB Streams
//! (DescribeStream, GetShardIterator, GetRecords), builds the event Lambda would send (the same
//! JSON shape: `Records`, `eventName`, `dynamodb.Keys/NewImage/SequenceNumber`) and calls the
//! same [`Handler::handle_stream`].
//!
//! Where a play stopped is kept per shard in the dimensions table (`pk = recommender`,
//! `sk = STREAM#<stream arn>#<shard id>`: the last sequence number handled), so the next play
//! starts after it and a table created anew (a new stream ARN) starts from its beginning.
//! A batch's failed records are retried from the lowest failed one, as Lambda does, at most
//! `retries` times; then they are given up, listed in the summary (Lambda's dead-letter queue)
//! and the play moves on.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue as DdbValue;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use mcfstore::{StoreError, error_text, now_utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::handler::{Handler, RecordOutcome};

/// `pk` of the local player's checkpoints in the dimensions table.
pub const CHECKPOINT_PK: &str = "recommender";

#[derive(Debug, Clone)]
pub struct PlayOptions {
    /// Records per handler call (the mapping's batch size).
    pub batch_size: usize,
    /// Retries of a batch's failed records before they are given up.
    pub retries: u32,
}

impl Default for PlayOptions {
    fn default() -> PlayOptions {
        PlayOptions {
            batch_size: 100,
            retries: 2,
        }
    }
}

/// What a play did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlaySummary {
    /// Stream records read.
    pub records: usize,
    /// Records of posts scored.
    pub scored: usize,
    /// Records that were not a post's insert or change (score items, removals).
    pub skipped: usize,
    pub scores_written: usize,
    pub screened: usize,
    pub refreshed: usize,
    /// Handler calls that reported failures (each retried).
    pub retried_batches: usize,
    /// Records given up after the retries: `<sequence number> post <uuid>: <error>`.
    pub given_up: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    #[error("{operation} on stream {stream}: {message}")]
    Stream {
        operation: &'static str,
        stream: String,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Plays the stream `stream_arn` from the checkpoints in `checkpoint_table` to its end.
pub async fn play(
    handler: &Handler,
    streams: &aws_sdk_dynamodbstreams::Client,
    dynamodb: &aws_sdk_dynamodb::Client,
    stream_arn: &str,
    checkpoint_table: &str,
    options: &PlayOptions,
) -> Result<PlaySummary, PlayError> {
    let err = |operation: &'static str, message: String| PlayError::Stream {
        operation,
        stream: stream_arn.to_string(),
        message,
    };
    let mut summary = PlaySummary::default();
    let mut shards = Vec::new();
    let mut start_shard = None;
    loop {
        let out = streams
            .describe_stream()
            .stream_arn(stream_arn)
            .set_exclusive_start_shard_id(start_shard)
            .send()
            .await
            .map_err(|e| err("DescribeStream", error_text(&e)))?;
        let Some(description) = out.stream_description else {
            break;
        };
        shards.extend(description.shards.unwrap_or_default());
        start_shard = description.last_evaluated_shard_id;
        if start_shard.is_none() {
            break;
        }
    }
    let checkpoints = Checkpoints {
        client: dynamodb,
        table: checkpoint_table,
        stream_arn,
    };
    for shard in shards {
        let Some(shard_id) = shard.shard_id else { continue };
        let after = checkpoints.get(&shard_id).await?;
        let mut request = streams.get_shard_iterator().stream_arn(stream_arn).shard_id(&shard_id);
        request = match &after {
            Some(seq) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(seq),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let mut iterator = request
            .send()
            .await
            .map_err(|e| err("GetShardIterator", error_text(&e)))?
            .shard_iterator;
        let mut pending: Vec<Value> = Vec::new();
        while let Some(it) = iterator.take() {
            let out = streams
                .get_records()
                .shard_iterator(it)
                .limit(1000)
                .send()
                .await
                .map_err(|e| err("GetRecords", error_text(&e)))?;
            let records = out.records.unwrap_or_default();
            let done = records.is_empty();
            summary.records += records.len();
            pending.extend(records.iter().map(|r| lambda_record(r, stream_arn)));
            while pending.len() >= options.batch_size || (done && !pending.is_empty()) {
                let n = pending.len().min(options.batch_size);
                let batch: Vec<Value> = pending.drain(..n).collect();
                run_batch(handler, &batch, options, &mut summary).await;
                if let Some(last) = batch.last().and_then(sequence_of) {
                    checkpoints.put(&shard_id, &last).await?;
                }
            }
            // An open shard answers an iterator for ever; an empty page means its end for now.
            iterator = if done { None } else { out.next_shard_iterator };
        }
    }
    Ok(summary)
}

/// One batch through the handler, failed records retried from the lowest as Lambda does.
async fn run_batch(handler: &Handler, batch: &[Value], options: &PlayOptions, summary: &mut PlaySummary) {
    let mut rest: &[Value] = batch;
    let mut attempt = 0;
    loop {
        let reports = handler.handle_stream(rest).await;
        let first_failed = reports
            .iter()
            .position(|r| matches!(r.outcome, RecordOutcome::Failed { .. }));
        let counted = first_failed.unwrap_or(reports.len());
        for r in &reports[..counted] {
            count(summary, &r.outcome);
        }
        let Some(i) = first_failed else { return };
        summary.retried_batches += 1;
        if attempt == options.retries {
            // Given up: the failed records are listed; the others of the rest were handled.
            for r in &reports[i..] {
                match &r.outcome {
                    RecordOutcome::Failed { error } => summary.given_up.push(format!(
                        "{} post {}: {error}",
                        r.sequence_number,
                        r.uuid.as_deref().unwrap_or("?")
                    )),
                    handled => count(summary, handled),
                }
            }
            return;
        }
        attempt += 1;
        rest = &rest[i..];
    }
}

/// Counts a handled record (skipped or scored) into `summary`; a failure is the caller's.
fn count(summary: &mut PlaySummary, outcome: &RecordOutcome) {
    match outcome {
        RecordOutcome::Skipped { .. } => summary.skipped += 1,
        RecordOutcome::Scored {
            scores_written,
            screened,
            refreshed,
        } => {
            summary.scored += 1;
            summary.scores_written += scores_written;
            summary.screened += screened;
            summary.refreshed += refreshed;
        }
        RecordOutcome::Failed { .. } => {}
    }
}

fn sequence_of(record: &Value) -> Option<String> {
    record
        .get("dynamodb")?
        .get("SequenceNumber")?
        .as_str()
        .map(str::to_string)
}

/// A DynamoDB Streams record as Lambda delivers it to a function.
pub fn lambda_record(record: &Record, stream_arn: &str) -> Value {
    let mut change = Map::new();
    if let Some(c) = &record.dynamodb {
        if let Some(t) = &c.approximate_creation_date_time {
            change.insert("ApproximateCreationDateTime".into(), json!(t.secs()));
        }
        if let Some(keys) = &c.keys {
            change.insert("Keys".into(), image(keys));
        }
        if let Some(new) = &c.new_image {
            change.insert("NewImage".into(), image(new));
        }
        if let Some(old) = &c.old_image {
            change.insert("OldImage".into(), image(old));
        }
        if let Some(seq) = &c.sequence_number {
            change.insert("SequenceNumber".into(), json!(seq));
        }
        change.insert("SizeBytes".into(), json!(c.size_bytes.unwrap_or(0)));
        if let Some(v) = &c.stream_view_type {
            change.insert("StreamViewType".into(), json!(v.as_str()));
        }
    }
    json!({
        "eventID": record.event_id,
        "eventName": record.event_name.as_ref().map(|e| e.as_str()),
        "eventVersion": record.event_version,
        "eventSource": record.event_source.clone().unwrap_or_else(|| "aws:dynamodb".into()),
        "awsRegion": record.aws_region,
        "eventSourceARN": stream_arn,
        "dynamodb": Value::Object(change),
    })
}

fn image(item: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), attribute(v))).collect())
}

/// DynamoDB JSON (`{"S": "…"}`, `{"N": "…"}`, …), as in Lambda's stream events.
fn attribute(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(b) => json!({"NULL": b}),
        AttributeValue::Ss(v) => json!({"SS": v}),
        AttributeValue::Ns(v) => json!({"NS": v}),
        AttributeValue::B(b) => json!({"B": base64(b.as_ref())}),
        AttributeValue::Bs(v) => json!({"BS": v.iter().map(|b| base64(b.as_ref())).collect::<Vec<_>>()}),
        AttributeValue::L(l) => json!({"L": l.iter().map(attribute).collect::<Vec<_>>()}),
        AttributeValue::M(m) => json!({"M": image(m)}),
        // A type this SDK version does not know: kept visible rather than dropped.
        _ => json!({"NULL": true}),
    }
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

struct Checkpoints<'a> {
    client: &'a aws_sdk_dynamodb::Client,
    table: &'a str,
    stream_arn: &'a str,
}

impl Checkpoints<'_> {
    fn sk(&self, shard: &str) -> String {
        format!("STREAM#{}#{shard}", self.stream_arn)
    }

    async fn get(&self, shard: &str) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(self.table)
            .set_key(Some(mcfstore::batch::key(CHECKPOINT_PK, &self.sk(shard))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::Aws {
                operation: "GetItem",
                target: format!("stream checkpoint in table {}", self.table),
                message: error_text(&e),
                transient: true,
            })?;
        Ok(out
            .item
            .and_then(|i| i.get("sequence_number").and_then(|v| v.as_s().ok()).cloned()))
    }

    async fn put(&self, shard: &str, sequence_number: &str) -> Result<(), StoreError> {
        let mut item = mcfstore::batch::key(CHECKPOINT_PK, &self.sk(shard));
        item.insert("stream_arn".into(), DdbValue::S(self.stream_arn.to_string()));
        item.insert("sequence_number".into(), DdbValue::S(sequence_number.to_string()));
        item.insert("updated_at".into(), DdbValue::S(now_utc()));
        self.client
            .put_item()
            .table_name(self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::Aws {
                operation: "PutItem",
                target: format!("stream checkpoint in table {}", self.table),
                message: error_text(&e),
                transient: true,
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_lambda_writes_it() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn records_become_lambda_events() {
        use aws_sdk_dynamodbstreams::types::{OperationType, StreamRecord};
        let record = Record::builder()
            .event_id("e1")
            .event_name(OperationType::Insert)
            .dynamodb(
                StreamRecord::builder()
                    .keys("pk", AttributeValue::S("u1".into()))
                    .keys("sk", AttributeValue::S("POST".into()))
                    .new_image("pk", AttributeValue::S("u1".into()))
                    .new_image("skills", AttributeValue::L(vec![AttributeValue::S("rust".into())]))
                    .new_image("salary_min", AttributeValue::N("5000".into()))
                    .sequence_number("42")
                    .build(),
            )
            .build();
        let v = lambda_record(&record, "arn:stream");
        assert_eq!(v["eventName"], "INSERT");
        assert_eq!(v["dynamodb"]["SequenceNumber"], "42");
        assert_eq!(v["dynamodb"]["Keys"]["sk"], json!({"S": "POST"}));
        assert_eq!(v["dynamodb"]["NewImage"]["skills"], json!({"L": [{"S": "rust"}]}));
        assert_eq!(v["dynamodb"]["NewImage"]["salary_min"], json!({"N": "5000"}));
        assert_eq!(sequence_of(&v).as_deref(), Some("42"));
    }
}
