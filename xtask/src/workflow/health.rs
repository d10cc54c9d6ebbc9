//! How the workflows are doing, for `status`: the last run of each, and what waits in the
//! dead-letter queues (documents a component gave up on). Read from the deployed `database`
//! stack's outputs; nothing is read when it is not deployed.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use crate::aws::{Aws, error_text};

/// The last run of one workflow.
#[derive(Debug, Clone, Serialize)]
pub struct LastRun {
    pub workflow: &'static str,
    pub run_id: String,
    pub finished_at: String,
    pub outcome: String,
    /// One line of counts.
    pub summary: String,
}

/// One dead-letter queue and how many messages wait in it.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetters {
    pub queue: String,
    pub url: String,
    /// `None` when SQS could not say (the reason is in `error`).
    pub messages: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The outputs of the database stack that hold dead-letter queues: `<Name>DeadLetterQueueUrl`.
/// Every later component's queue gets one by the same naming, and is shown without a change
/// here.
const DLQ_SUFFIX: &str = "DeadLetterQueueUrl";

/// The last run of each workflow that records runs (today: the jobs search).
pub async fn last_runs(aws: &Aws, database: &BTreeMap<String, String>) -> Vec<Result<Option<LastRun>, String>> {
    let mut out = Vec::new();
    if let Some(table) = database.get("DimensionsTableName") {
        let run = mcfscrape::aws::last_run(&aws.dynamodb(), table)
            .await
            .map_err(|e| e.to_string())
            .map(|r| {
                r.map(|r| LastRun {
                    workflow: "search",
                    outcome: serde_json::to_value(r.outcome)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    summary: format!(
                        "{} seen, {} fetched, {} failed, {} quarantined, {} gone",
                        r.posts_seen, r.fetched, r.failed, r.quarantined, r.gone
                    ),
                    run_id: r.run_id,
                    finished_at: r.finished_at,
                })
            });
        out.push(run);
    }
    out
}

/// Every dead-letter queue of the database stack, with its depth.
pub async fn dead_letters(aws: &Aws, database: &BTreeMap<String, String>) -> Result<Vec<DeadLetters>> {
    let sqs = aws.sqs();
    let mut out = Vec::new();
    for (key, url) in database.iter().filter(|(k, _)| k.ends_with(DLQ_SUFFIX)) {
        let queue = url.rsplit('/').next().unwrap_or(key).to_string();
        let got = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await;
        let (messages, error) = match got {
            Ok(a) => (
                a.attributes()
                    .and_then(|m| m.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages))
                    .and_then(|n| n.parse().ok()),
                None,
            ),
            Err(e) => (None, Some(error_text(&e))),
        };
        out.push(DeadLetters {
            queue,
            url: url.clone(),
            messages,
            error,
        });
    }
    Ok(out)
}
