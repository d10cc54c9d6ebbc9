//! Everything the run needs outside MCF, behind one trait: search profiles in, stored post
//! versions, raw documents, quarantined answers and parse messages out, checkpoints and run
//! records. [`MemoryStore`]
//! keeps it all in memory (tests, offline runs); `crate::aws::AwsStore` uses DynamoDB, S3
//! and SQS as docs/data-model.md lays out.

mod memory;

use std::collections::HashMap;
use std::future::Future;

use bytes::Bytes;
use mcfcore::SearchProfile;
use mcfcore::layout::ParseMessage;
use mcfstore::RejectReason;

use crate::summary::{Checkpoint, RunSummary};

pub use memory::MemoryStore;

/// The most messages [`Store::enqueue`] takes at once (SQS `SendMessageBatch`'s limit).
pub const ENQUEUE_BATCH: usize = 10;

/// A store operation that failed; names what it was doing, on which resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {reason}")]
pub struct StoreError {
    /// E.g. "S3 PutObject s3://bucket/raw/2025-05-18/<uuid>.json".
    pub operation: String,
    pub reason: String,
}

impl StoreError {
    pub fn new(operation: impl Into<String>, reason: impl Into<String>) -> StoreError {
        StoreError {
            operation: operation.into(),
            reason: reason.into(),
        }
    }
}

/// The run's view of the world outside MCF.
///
/// Futures are `Send` so a run can be spawned on a multi-threaded runtime.
pub trait Store: Sync {
    /// The search profiles to run, in a stable order.
    fn profiles(&self) -> impl Future<Output = Result<Vec<SearchProfile>, StoreError>> + Send;

    /// `uuid → updated_at` (normalised) for the given posts that the table already holds;
    /// posts it does not hold are absent.
    fn versions(&self, uuids: &[String]) -> impl Future<Output = Result<HashMap<String, String>, StoreError>> + Send;

    /// Writes a raw document under `key` (`layout::raw_key`).
    fn put_raw(&self, key: &str, body: Bytes) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Keeps an answer the run will not pass to the parser (a quarantined post, see
    /// `core::block`): `body` at `key` (under `rejects/`, from `core::block::quarantine_key`) and
    /// `reason` beside it at `layout::reject_reason_key(key)`, in the parser's rejects format.
    fn put_reject(
        &self,
        key: &str,
        body: Bytes,
        reason: &RejectReason,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Queues at most [`ENQUEUE_BATCH`] parse messages; all are queued or an error is returned.
    fn enqueue(&self, messages: &[ParseMessage]) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Saves where the run is (`Some`), or clears it after a completed run (`None`).
    fn checkpoint(&self, checkpoint: Option<&Checkpoint>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The checkpoint an interrupted run left, if any.
    fn resume(&self) -> impl Future<Output = Result<Option<Checkpoint>, StoreError>> + Send;

    /// Keeps the summary of a finished (or stopped) run.
    fn record_run(&self, summary: &RunSummary) -> impl Future<Output = Result<(), StoreError>> + Send;
}
