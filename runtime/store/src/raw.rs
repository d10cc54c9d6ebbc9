//! The data bucket's document prefixes: raw documents (`raw/…`, written by the scraper) and
//! rejects (`rejects/…`: a document the parser could not turn into a post, or an answer the
//! scraper quarantined instead of writing it raw, kept beside a `.reason.json` that says why).
//! Keys come from [`mcfcore::layout`].

use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use mcfcore::layout;
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::aws::sdk_error;

/// Bigger than any MCF document by two orders of magnitude (a job page is ~120 KB), small
/// enough that one stray object cannot take a 128 MB Lambda down.
pub const DEFAULT_MAX_DOCUMENT_BYTES: u64 = 8 * 1024 * 1024;

/// The `.reason.json` stored beside a rejected document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectReason {
    /// Why the document could not become a post, for a person to read.
    pub reason: String,
    /// The raw document's key, when the reject is about a document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_key: Option<String>,
    /// The SQS message id, when the reject is about a message that named no readable document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The request whose answer is kept, when the scraper quarantined it before it became a
    /// raw document (a post answering a verification page while the rest of MCF answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When it was rejected (`YYYY-MM-DDTHH:MM:SSZ`).
    pub at: String,
}

/// The data bucket, one document at a time.
#[derive(Clone, Debug)]
pub struct RawStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    max_bytes: u64,
}

impl RawStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> RawStore {
        RawStore {
            client,
            bucket: bucket.into(),
            max_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
        }
    }

    /// Refuses documents over `max_bytes` in [`RawStore::get`] (never read into memory).
    pub fn with_max_bytes(mut self, max_bytes: u64) -> RawStore {
        self.max_bytes = max_bytes;
        self
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object at `key`, or `None` when there is none (expired, or never written).
    /// Over the size limit: [`StoreError::TooLarge`], before reading the body.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(sdk_error("GetObject", self.url(key), &e)),
        };
        let size = out.content_length().and_then(|n| u64::try_from(n).ok());
        if let Some(size) = size.filter(|n| *n > self.max_bytes) {
            return Err(self.too_large(key, size));
        }
        let body = out.body.collect().await.map_err(|e| StoreError::Aws {
            operation: "GetObject (reading the body)",
            target: self.url(key),
            message: e.to_string(),
            transient: true,
        })?;
        let bytes = body.into_bytes();
        // A missing Content-Length is read whole; the limit still holds for what is kept.
        if bytes.len() as u64 > self.max_bytes {
            return Err(self.too_large(key, bytes.len() as u64));
        }
        Ok(Some(bytes))
    }

    /// Writes an object (the scraper's raw documents; tests).
    pub async fn put(&self, key: &str, body: Bytes) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type(key))
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| sdk_error("PutObject", self.url(key), &e))?;
        Ok(())
    }

    /// Keeps an unreadable document: a copy at [`layout::reject_key`] and the reason beside it
    /// at [`layout::reject_reason_key`]. Returns the reject key. Idempotent: a redelivered
    /// reject overwrites both with the same content (and a later `at`).
    pub async fn put_reject(&self, raw_key: &str, document: Bytes, reason: &str) -> Result<String, StoreError> {
        let reject_key = layout::reject_key(raw_key);
        self.put(&reject_key, document).await?;
        self.put_reject_reason(raw_key, reason).await?;
        Ok(reject_key)
    }

    /// Records why a document was rejected when there is no document to keep (the raw object
    /// is missing): only the `.reason.json`. Returns the reason's key.
    pub async fn put_reject_reason(&self, raw_key: &str, reason: &str) -> Result<String, StoreError> {
        let reason = RejectReason {
            reason: reason.to_string(),
            raw_key: Some(raw_key.to_string()),
            message_id: None,
            url: None,
            at: crate::now_utc(),
        };
        let key = layout::reject_reason_key(&layout::reject_key(raw_key));
        self.put(&key, reason.to_json()).await?;
        Ok(key)
    }

    /// Keeps a queue message that names no readable document (not JSON, not a
    /// [`layout::ParseMessage`]): its body at `rejects/messages/<message id>.json`, the reason
    /// beside it. Returns the reject key.
    pub async fn put_message_reject(&self, message_id: &str, body: Bytes, reason: &str) -> Result<String, StoreError> {
        let reject_key = message_reject_key(message_id);
        self.put(&reject_key, body).await?;
        let reason = RejectReason {
            reason: reason.to_string(),
            raw_key: None,
            message_id: Some(message_id.to_string()),
            url: None,
            at: crate::now_utc(),
        };
        self.put(&layout::reject_reason_key(&reject_key), reason.to_json())
            .await?;
        Ok(reject_key)
    }

    /// Keeps a document under a reject key of the caller's (`layout::reject_key` of the raw key
    /// it would have had) with `reason` beside it at [`layout::reject_reason_key`]: the scraper's
    /// quarantined answers, which never were raw documents.
    pub async fn put_reject_at(
        &self,
        reject_key: &str,
        document: Bytes,
        reason: &RejectReason,
    ) -> Result<(), StoreError> {
        self.put(reject_key, document).await?;
        self.put(&layout::reject_reason_key(reject_key), reason.to_json()).await
    }

    /// The reason stored for a rejected document, if it was rejected (`reject_key` is what
    /// [`RawStore::put_reject`] or [`RawStore::put_message_reject`] returned, or
    /// `layout::reject_key(raw_key)`).
    pub async fn reject_reason(&self, reject_key: &str) -> Result<Option<RejectReason>, StoreError> {
        let key = layout::reject_reason_key(reject_key);
        let Some(bytes) = self.get(&key).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| StoreError::Aws {
            operation: "reading a reject reason",
            target: self.url(&key),
            message: format!("not a reason JSON: {e}"),
            transient: false,
        })
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    fn too_large(&self, key: &str, size: u64) -> StoreError {
        StoreError::TooLarge {
            bucket: self.bucket.clone(),
            key: key.to_string(),
            size,
            limit: self.max_bytes,
        }
    }
}

/// `rejects/messages/<message id>.json`; characters outside `[A-Za-z0-9_-]` become `_`, so
/// an id from an unexpected event cannot escape the prefix.
pub fn message_reject_key(message_id: &str) -> String {
    let id: String = message_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let id = if id.is_empty() { "unknown".to_string() } else { id };
    layout::reject_key(&format!("messages/{id}.json"))
}

impl RejectReason {
    /// The `.reason.json` file's content.
    pub fn to_json(&self) -> Bytes {
        // Serialising a struct of strings cannot fail; an empty object would still be a valid file.
        Bytes::from(serde_json::to_vec_pretty(self).unwrap_or_else(|_| b"{}".to_vec()))
    }
}

fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("json") => "application/json",
        Some("html" | "htm") => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_rejects_stay_under_their_prefix() {
        assert_eq!(
            message_reject_key("059f36b4-87a3-44ab-83d2-661975830a7d"),
            "rejects/messages/059f36b4-87a3-44ab-83d2-661975830a7d.json"
        );
        assert_eq!(message_reject_key("../../x"), "rejects/messages/______x.json");
        assert_eq!(message_reject_key(""), "rejects/messages/unknown.json");
    }

    #[test]
    fn reasons_leave_out_what_they_are_not_about() {
        let r = RejectReason {
            reason: "why".into(),
            raw_key: Some("raw/d/u.json".into()),
            message_id: None,
            url: None,
            at: "2026-01-01T00:00:00Z".into(),
        };
        let json: serde_json::Value = serde_json::from_slice(&r.to_json()).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"reason": "why", "raw_key": "raw/d/u.json", "at": "2026-01-01T00:00:00Z"})
        );
    }
}
