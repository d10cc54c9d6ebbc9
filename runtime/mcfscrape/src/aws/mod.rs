//! The AWS store: profiles and run bookkeeping in the `dimensions` table, post versions from
//! the `posts` table, raw documents and quarantined answers in the data bucket, parse messages
//! on the parse queue.
//! The SDK connection is `mcfstore::Aws`'s (one hyper + rustls/ring client), as in the parser.

mod items;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use bytes::Bytes;
use mcfcore::SearchProfile;
use mcfcore::layout::{PK, POST_SK, ParseMessage, SK, UPDATED_AT, dimension};
use mcfstore::{RawStore, RejectReason};

pub use items::{
    CHECKPOINT_SK, checkpoint_from_item, checkpoint_item, profile_from_item, profile_item, run_item, run_sk,
};

use crate::store::{ENQUEUE_BATCH, Store, StoreError};
use crate::summary::{Checkpoint, RunSummary};

/// Where the scraper's data lives.
#[derive(Debug, Clone)]
pub struct AwsNames {
    /// `mcfpipe-<env>-posts`
    pub posts_table: String,
    /// `mcfpipe-<env>-dimensions`
    pub dimensions_table: String,
    /// `mcfpipe-<env>-data-<account>-<region>`
    pub bucket: String,
    /// The parse queue's URL, or its name (`mcfpipe-<env>-parse`) to look the URL up.
    pub queue: String,
}

fn sdk_error<E>(operation: impl Into<String>, e: &SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    StoreError::new(operation, mcfstore::error_text(e))
}

/// Writes search profiles to the dimensions table (upserts; profiles not given are left
/// alone). The deployer's seed command calls this.
pub async fn put_profiles(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    profiles: &[SearchProfile],
    updated_at: &str,
) -> Result<(), StoreError> {
    for profile in profiles {
        client
            .put_item()
            .table_name(table)
            .set_item(Some(profile_item(profile, updated_at)))
            .send()
            .await
            .map_err(|e| sdk_error(format!("DynamoDB PutItem {table} search_profile/{}", profile.name), &e))?;
    }
    Ok(())
}

/// The newest run record of the dimensions table (`pk = scrape_run`, `sk = RUN#…`, newest
/// first), as its summary: what `status` shows as the last search.
pub async fn last_run(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<Option<RunSummary>, StoreError> {
    let res = client
        .query()
        .table_name(table)
        .key_condition_expression("#pk = :pk AND begins_with(#sk, :run)")
        .expression_attribute_names("#pk", PK)
        .expression_attribute_names("#sk", SK)
        .expression_attribute_values(":pk", AttributeValue::S(dimension::SCRAPE_RUN.into()))
        .expression_attribute_values(":run", AttributeValue::S(items::run_sk("")))
        .scan_index_forward(false)
        .limit(1)
        .send()
        .await
        .map_err(|e| sdk_error(format!("DynamoDB Query {table} scrape_run"), &e))?;
    let Some(item) = res.items().first() else {
        return Ok(None);
    };
    let Some(AttributeValue::S(json)) = item.get("summary") else {
        return Err(StoreError::new(
            format!("run record in {table}"),
            "has no summary attribute",
        ));
    };
    serde_json::from_str(json).map(Some).map_err(|e| {
        StoreError::new(
            format!("run record in {table}"),
            format!("its summary is not a run summary: {e}"),
        )
    })
}

/// The store on DynamoDB, S3 and SQS.
#[derive(Debug, Clone)]
pub struct AwsStore {
    ddb: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    /// The data bucket through `mcfstore`, so quarantined answers are kept exactly as the
    /// parser keeps its rejects.
    rejects: RawStore,
    names: AwsNames,
    queue_url: String,
}

impl AwsStore {
    /// Clients from the connection; looks the queue URL up when given a name.
    pub async fn connect(aws: &mcfstore::Aws, names: AwsNames) -> Result<AwsStore, StoreError> {
        let sqs = aws.sqs();
        let queue_url = if names.queue.starts_with("https://") || names.queue.starts_with("http://") {
            names.queue.clone()
        } else {
            let found = sqs.get_queue_url().queue_name(&names.queue).send().await.map_err(|e| {
                sdk_error(
                    format!("SQS GetQueueUrl {} (is the database stack deployed?)", names.queue),
                    &e,
                )
            })?;
            found.queue_url().unwrap_or_default().to_string()
        };
        let s3 = aws.s3();
        Ok(AwsStore {
            ddb: aws.dynamodb(),
            rejects: RawStore::new(s3.clone(), names.bucket.clone()),
            s3,
            sqs,
            names,
            queue_url,
        })
    }

    async fn put_dimension(&self, item: items::Item, what: &str) -> Result<(), StoreError> {
        let table = &self.names.dimensions_table;
        self.ddb
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_error(format!("DynamoDB PutItem {table} {what}"), &e))?;
        Ok(())
    }
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    mcfcore::time::timestamp_from_unix(i64::try_from(secs).unwrap_or(0))
}

impl Store for AwsStore {
    async fn profiles(&self) -> Result<Vec<SearchProfile>, StoreError> {
        let table = &self.names.dimensions_table;
        let operation = || format!("DynamoDB Query {table} pk = {}", dimension::SEARCH_PROFILE);
        let mut profiles = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .ddb
                .query()
                .table_name(table)
                .key_condition_expression("#pk = :kind")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":kind", AttributeValue::S(dimension::SEARCH_PROFILE.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(operation(), &e))?;
            for item in page.items() {
                profiles.push(profile_from_item(item).map_err(|e| StoreError::new(operation(), e))?);
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(profiles);
            }
        }
    }

    async fn versions(&self, uuids: &[String]) -> Result<HashMap<String, String>, StoreError> {
        let table = &self.names.posts_table;
        let mut versions = HashMap::new();
        for chunk in uuids.chunks(100) {
            let keys = chunk
                .iter()
                .map(|uuid| {
                    HashMap::from([
                        (PK.to_string(), AttributeValue::S(uuid.clone())),
                        (SK.to_string(), AttributeValue::S(POST_SK.into())),
                    ])
                })
                .collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .projection_expression("#pk, #v")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#v", UPDATED_AT)
                    .build()
                    .map_err(|e| StoreError::new(format!("DynamoDB BatchGetItem {table}"), e.to_string()))?,
            );
            // DynamoDB may answer part of a batch and return the rest as unprocessed.
            for round in 0..8u32 {
                let Some(keys) = request.take() else { break };
                if round > 0 {
                    tokio::time::sleep(Duration::from_millis(50 << round.min(5))).await;
                }
                let out = self
                    .ddb
                    .batch_get_item()
                    .request_items(table, keys)
                    .send()
                    .await
                    .map_err(|e| sdk_error(format!("DynamoDB BatchGetItem {table} ({} posts)", chunk.len()), &e))?;
                for item in out.responses().and_then(|r| r.get(table)).into_iter().flatten() {
                    if let (Some(AttributeValue::S(uuid)), Some(AttributeValue::S(version))) =
                        (item.get(PK), item.get(UPDATED_AT))
                    {
                        versions.insert(uuid.clone(), version.clone());
                    }
                }
                request = out.unprocessed_keys().and_then(|u| u.get(table)).cloned();
            }
            if request.is_some() {
                return Err(StoreError::new(
                    format!("DynamoDB BatchGetItem {table}"),
                    "keys still unprocessed after 8 rounds: the table is throttled",
                ));
            }
        }
        Ok(versions)
    }

    async fn put_raw(&self, key: &str, body: Bytes) -> Result<(), StoreError> {
        let bucket = &self.names.bucket;
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
            .body(aws_sdk_s3::primitives::ByteStream::from(body))
            .send()
            .await
            .map_err(|e| sdk_error(format!("S3 PutObject s3://{bucket}/{key}"), &e))?;
        Ok(())
    }

    async fn put_reject(&self, key: &str, body: Bytes, reason: &RejectReason) -> Result<(), StoreError> {
        // mcfstore's error names the operation and the object already.
        self.rejects
            .put_reject_at(key, body, reason)
            .await
            .map_err(|e| StoreError::new("keeping a quarantined answer under rejects/", e.to_string()))
    }

    async fn enqueue(&self, messages: &[ParseMessage]) -> Result<(), StoreError> {
        let operation = || format!("SQS SendMessageBatch {}", self.queue_url);
        for batch in messages.chunks(ENQUEUE_BATCH) {
            let mut entries = Vec::with_capacity(batch.len());
            for (i, message) in batch.iter().enumerate() {
                let body = serde_json::to_string(message).map_err(|e| StoreError::new(operation(), e.to_string()))?;
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .build()
                    .map_err(|e| StoreError::new(operation(), e.to_string()))?;
                entries.push(entry);
            }
            // Entries can fail one by one (throttling): send those again, a few times.
            for round in 0..4u32 {
                if round > 0 {
                    tokio::time::sleep(Duration::from_millis(100 << round)).await;
                }
                let out = self
                    .sqs
                    .send_message_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(entries.clone()))
                    .send()
                    .await
                    .map_err(|e| sdk_error(operation(), &e))?;
                if out.failed().is_empty() {
                    entries.clear();
                    break;
                }
                let failed: Vec<&str> = out.failed().iter().map(|f| f.id()).collect();
                entries.retain(|e| failed.contains(&e.id()));
                if out.failed().iter().any(|f| f.sender_fault()) {
                    let why: Vec<String> = out
                        .failed()
                        .iter()
                        .map(|f| format!("{}: {}", f.code(), f.message().unwrap_or("")))
                        .collect();
                    return Err(StoreError::new(operation(), why.join("; ")));
                }
            }
            if !entries.is_empty() {
                return Err(StoreError::new(
                    operation(),
                    format!("{} messages still failing after 4 tries", entries.len()),
                ));
            }
        }
        Ok(())
    }

    async fn checkpoint(&self, checkpoint: Option<&Checkpoint>) -> Result<(), StoreError> {
        let table = &self.names.dimensions_table;
        match checkpoint {
            Some(checkpoint) => {
                let item = checkpoint_item(checkpoint, &now()).map_err(|e| StoreError::new("checkpoint", e))?;
                self.put_dimension(item, "scrape_run/CHECKPOINT").await
            }
            None => {
                self.ddb
                    .delete_item()
                    .table_name(table)
                    .key(PK, AttributeValue::S(dimension::SCRAPE_RUN.into()))
                    .key(SK, AttributeValue::S(CHECKPOINT_SK.into()))
                    .send()
                    .await
                    .map_err(|e| sdk_error(format!("DynamoDB DeleteItem {table} scrape_run/CHECKPOINT"), &e))?;
                Ok(())
            }
        }
    }

    async fn resume(&self) -> Result<Option<Checkpoint>, StoreError> {
        let table = &self.names.dimensions_table;
        let operation = || format!("DynamoDB GetItem {table} scrape_run/CHECKPOINT");
        let out = self
            .ddb
            .get_item()
            .table_name(table)
            .key(PK, AttributeValue::S(dimension::SCRAPE_RUN.into()))
            .key(SK, AttributeValue::S(CHECKPOINT_SK.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(operation(), &e))?;
        out.item()
            .map(|item| checkpoint_from_item(item).map_err(|e| StoreError::new(operation(), e)))
            .transpose()
    }

    async fn record_run(&self, summary: &RunSummary) -> Result<(), StoreError> {
        let item = run_item(summary).map_err(|e| StoreError::new("run record", e))?;
        self.put_dimension(item, &format!("scrape_run/{}", run_sk(&summary.run_id)))
            .await
    }
}
