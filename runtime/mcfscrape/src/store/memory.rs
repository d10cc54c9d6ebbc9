//! The in-memory store: for tests, and for running the scraper without AWS. It can also play
//! the parser ([`MemoryStore::parse_queued`]) so reruns see the posts as stored.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use mcfcore::SearchProfile;
use mcfcore::layout::{ParseMessage, reject_reason_key};
use mcfstore::RejectReason;

use super::{ENQUEUE_BATCH, Store, StoreError};
use crate::summary::{Checkpoint, RunSummary};

#[derive(Debug, Default)]
struct Inner {
    profiles: Vec<SearchProfile>,
    versions: HashMap<String, String>,
    raw: BTreeMap<String, Bytes>,
    rejects: BTreeMap<String, Bytes>,
    queue: Vec<ParseMessage>,
    batch_sizes: Vec<usize>,
    parsed: usize,
    checkpoint: Option<Checkpoint>,
    checkpoint_writes: u32,
    runs: Vec<RunSummary>,
}

/// Profiles, posts table versions, bucket, queue and run records in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    pub fn new(profiles: Vec<SearchProfile>) -> MemoryStore {
        MemoryStore {
            inner: Mutex::new(Inner {
                profiles,
                ..Inner::default()
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread leaves consistent data behind: every change is one statement.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every message ever queued, in order.
    pub fn queue(&self) -> Vec<ParseMessage> {
        self.lock().queue.clone()
    }

    /// The size of each `enqueue` call.
    pub fn batch_sizes(&self) -> Vec<usize> {
        self.lock().batch_sizes.clone()
    }

    /// Raw documents by key.
    pub fn raw(&self) -> BTreeMap<String, Bytes> {
        self.lock().raw.clone()
    }

    /// The `rejects/` prefix by key: kept answers and their `.reason.json`.
    pub fn rejects(&self) -> BTreeMap<String, Bytes> {
        self.lock().rejects.clone()
    }

    pub fn saved_checkpoint(&self) -> Option<Checkpoint> {
        self.lock().checkpoint.clone()
    }

    pub fn checkpoint_writes(&self) -> u32 {
        self.lock().checkpoint_writes
    }

    pub fn runs(&self) -> Vec<RunSummary> {
        self.lock().runs.clone()
    }

    /// Marks a post as stored at `updated_at`, as the parser would.
    pub fn set_version(&self, uuid: &str, updated_at: &str) {
        self.lock().versions.insert(uuid.into(), updated_at.into());
    }

    /// Plays the parser on the messages queued since the last call: each raw document is
    /// parsed as a job detail and its `updated_at` stored, never replacing a newer one.
    /// Returns how many documents were parsed.
    pub fn parse_queued(&self) -> Result<usize, String> {
        let mut inner = self.lock();
        let pending: Vec<ParseMessage> = inner.queue[inner.parsed..].to_vec();
        for message in &pending {
            let raw = inner.raw.get(&message.key).ok_or_else(|| {
                format!(
                    "message for {} points at {}, which was never written",
                    message.uuid, message.key
                )
            })?;
            let post = mcfparse::parse_job_detail(raw).map_err(|e| format!("{}: {e}", message.key))?;
            let version = post.updated_at.unwrap_or_default();
            let stored = inner.versions.entry(post.uuid).or_default();
            if version > *stored {
                *stored = version;
            }
        }
        inner.parsed = inner.queue.len();
        Ok(pending.len())
    }
}

impl Store for MemoryStore {
    async fn profiles(&self) -> Result<Vec<SearchProfile>, StoreError> {
        Ok(self.lock().profiles.clone())
    }

    async fn versions(&self, uuids: &[String]) -> Result<HashMap<String, String>, StoreError> {
        let inner = self.lock();
        Ok(uuids
            .iter()
            .filter_map(|u| inner.versions.get(u).map(|v| (u.clone(), v.clone())))
            .collect())
    }

    async fn put_raw(&self, key: &str, body: Bytes) -> Result<(), StoreError> {
        self.lock().raw.insert(key.to_string(), body);
        Ok(())
    }

    async fn put_reject(&self, key: &str, body: Bytes, reason: &RejectReason) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.rejects.insert(key.to_string(), body);
        inner.rejects.insert(reject_reason_key(key), reason.to_json());
        Ok(())
    }

    async fn enqueue(&self, messages: &[ParseMessage]) -> Result<(), StoreError> {
        if messages.len() > ENQUEUE_BATCH {
            return Err(StoreError::new(
                "memory enqueue",
                format!("{} messages in one batch, at most {ENQUEUE_BATCH}", messages.len()),
            ));
        }
        let mut inner = self.lock();
        inner.queue.extend_from_slice(messages);
        inner.batch_sizes.push(messages.len());
        Ok(())
    }

    async fn checkpoint(&self, checkpoint: Option<&Checkpoint>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.checkpoint = checkpoint.cloned();
        inner.checkpoint_writes += 1;
        Ok(())
    }

    async fn resume(&self) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self.lock().checkpoint.clone())
    }

    async fn record_run(&self, summary: &RunSummary) -> Result<(), StoreError> {
        self.lock().runs.push(summary.clone());
        Ok(())
    }
}
