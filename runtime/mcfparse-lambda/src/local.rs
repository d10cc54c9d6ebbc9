//! The local stand-in for Lambda's SQS event source mapping, for environments where nothing
//! runs the function (moto stores Lambda functions but does not run them).
//!
//! It keeps the mapping's contract: batches of up to 10 messages, the same [`SqsEvent`] JSON
//! shape (messageId, receiptHandle, body, attributes with ApproximateReceiveCount,
//! eventSource `aws:sqs`, eventSourceARN), the same [`Handler`], and partial batch responses:
//! messages in `batchItemFailures` are left alone, so the queue's visibility timeout and
//! redrive policy (dead-letter queue after `max_receive_count`) apply as in AWS; the others are
//! deleted. It stops when a receive comes back empty.

use std::collections::{HashMap, HashSet};

use aws_lambda_events::encodings::Base64Data;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName, QueueAttributeName};
use mcfstore::{PutOutcome, error_text};
use serde::Serialize;

use crate::handler::{Handler, Outcome, RecordReport};

/// How [`drain`] polls.
#[derive(Debug, Clone)]
pub struct DrainOptions {
    /// Long-poll wait of each receive; an empty answer ends the drain.
    pub wait_time_seconds: i32,
    /// Overrides the queue's visibility timeout for received messages (tests use 0 to see
    /// redelivery and dead-lettering without waiting); `None` keeps the queue's.
    pub visibility_timeout: Option<i32>,
    /// Stops after this many batches even if messages keep coming.
    pub max_batches: usize,
}

impl Default for DrainOptions {
    fn default() -> DrainOptions {
        DrainOptions {
            wait_time_seconds: 1,
            visibility_timeout: None,
            max_batches: 10_000,
        }
    }
}

/// What a drain did, message by message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DrainSummary {
    pub batches: usize,
    pub received: usize,
    pub inserted: usize,
    pub replaced: usize,
    pub filled: usize,
    pub unchanged: usize,
    pub rejected: usize,
    /// Left on the queue for redelivery.
    pub failed: usize,
    /// Handled, but the delete did not go through: SQS will deliver them again (harmless,
    /// the handler is idempotent).
    pub undeleted: usize,
    /// Where each rejected document was kept, and why.
    pub rejects: Vec<Reject>,
    /// The last error of each record left on the queue.
    pub failures: Vec<String>,
}

/// A document the parser kept under `rejects/` instead of storing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    pub uuid: Option<String>,
    pub reject_key: String,
    pub reason: String,
}

impl DrainSummary {
    /// Messages that changed the table.
    pub fn written(&self) -> usize {
        self.inserted + self.replaced + self.filled
    }

    fn count(&mut self, report: &RecordReport) {
        match &report.outcome {
            Outcome::Stored { put } => match put {
                PutOutcome::Inserted => self.inserted += 1,
                PutOutcome::Replaced => self.replaced += 1,
                PutOutcome::Filled => self.filled += 1,
                PutOutcome::Unchanged => self.unchanged += 1,
            },
            Outcome::Rejected { reject_key, reason } => {
                self.rejected += 1;
                self.rejects.push(Reject {
                    uuid: report.uuid.clone(),
                    reject_key: reject_key.clone(),
                    reason: reason.clone(),
                });
            }
            Outcome::Failed { error } => {
                self.failed += 1;
                self.failures.push(error.clone());
            }
        }
    }
}

/// SQS refused or could not be reached; names the queue and the call.
#[derive(Debug, thiserror::Error)]
#[error("{operation} on {queue_url}: {message}")]
pub struct DrainError {
    pub operation: &'static str,
    pub queue_url: String,
    pub message: String,
}

/// Feeds every message of `queue_url` to `handler` in Lambda-shaped batches until the queue
/// answers empty (see the module docs).
pub async fn drain(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    handler: &Handler,
    options: &DrainOptions,
) -> Result<DrainSummary, DrainError> {
    let error = |operation, message| DrainError {
        operation,
        queue_url: queue_url.to_string(),
        message,
    };
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| error("GetQueueAttributes", error_text(&e)))?;
    let arn = attributes
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| error("GetQueueAttributes", "the answer has no QueueArn".into()))?;
    let source = EventSource::from_arn(arn);

    let mut summary = DrainSummary::default();
    while summary.batches < options.max_batches {
        let received = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(options.wait_time_seconds)
            .set_visibility_timeout(options.visibility_timeout)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| error("ReceiveMessage", error_text(&e)))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        summary.batches += 1;
        summary.received += messages.len();

        let event = source.event(&messages);
        let reports = handler.handle_batch(&event).await;
        reports.iter().for_each(|r| summary.count(r));
        let response = crate::handler::response(&reports);
        let failed: HashSet<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();

        let entries: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| !failed.contains(m.message_id().unwrap_or_default()))
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .set_receipt_handle(m.receipt_handle.clone())
                    .build()
                    .ok()
            })
            .collect();
        if entries.is_empty() {
            continue;
        }
        let deleted = sqs
            .delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| error("DeleteMessageBatch", error_text(&e)))?;
        summary.undeleted += deleted.failed.len();
    }
    Ok(summary)
}

/// The event the Lambda service would send for `messages` received from the queue `queue_arn`.
pub fn lambda_event(queue_arn: &str, messages: &[Message]) -> SqsEvent {
    EventSource::from_arn(queue_arn.to_string()).event(messages)
}

/// The queue as Lambda names it in each record.
struct EventSource {
    arn: String,
    region: Option<String>,
}

impl EventSource {
    fn from_arn(arn: String) -> EventSource {
        // arn:aws:sqs:<region>:<account>:<name>
        let region = arn.split(':').nth(3).map(str::to_string);
        EventSource { arn, region }
    }

    /// The event Lambda would send for these messages.
    fn event(&self, messages: &[Message]) -> SqsEvent {
        let mut event = SqsEvent::default();
        event.records = messages.iter().map(|m| self.record(m)).collect();
        event
    }

    fn record(&self, message: &Message) -> SqsMessage {
        let mut record = SqsMessage::default();
        record.message_id = message.message_id.clone();
        record.receipt_handle = message.receipt_handle.clone();
        record.body = message.body.clone();
        record.md5_of_body = message.md5_of_body.clone();
        record.md5_of_message_attributes = message.md5_of_message_attributes.clone();
        record.attributes = message
            .attributes()
            .map(|a| a.iter().map(|(k, v)| (k.as_str().to_string(), v.clone())).collect())
            .unwrap_or_default();
        record.message_attributes = message
            .message_attributes()
            .map(|attributes| {
                attributes
                    .iter()
                    .map(|(name, value)| (name.clone(), message_attribute(value)))
                    .collect::<HashMap<_, _>>()
            })
            .unwrap_or_default();
        record.event_source = Some("aws:sqs".into());
        record.event_source_arn = Some(self.arn.clone());
        record.aws_region = self.region.clone();
        record
    }
}

fn message_attribute(value: &aws_sdk_sqs::types::MessageAttributeValue) -> SqsMessageAttribute {
    // Base64Data is non-exhaustive: built through Default and its Vec.
    let blob = |b: &aws_sdk_sqs::primitives::Blob| {
        let mut data = Base64Data::default();
        data.extend_from_slice(b.as_ref());
        data
    };
    let mut attribute = SqsMessageAttribute::default();
    attribute.string_value = value.string_value.clone();
    attribute.binary_value = value.binary_value.as_ref().map(blob);
    attribute.string_list_values = value.string_list_values().to_vec();
    attribute.binary_list_values = value.binary_list_values().iter().map(blob).collect();
    attribute.data_type = Some(value.data_type.clone());
    attribute
}
