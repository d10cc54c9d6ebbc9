//! What can go wrong talking to the tables and the bucket, and whose fault it is.

/// A failed store operation. Every message names the table, bucket, key or uuid concerned.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{var} is not set: it names {what} (the compute stack sets it; for a local run, export it)")]
    MissingSetting { var: &'static str, what: &'static str },

    #[error("{operation} {target}: {message}")]
    Aws {
        operation: &'static str,
        target: String,
        message: String,
        /// False for requests AWS refuses as such (validation, an item over 400 KB): sending
        /// the same request again cannot succeed.
        transient: bool,
    },

    #[error("s3://{bucket}/{key} is {size} bytes, over the {limit}-byte limit for one raw document")]
    TooLarge {
        bucket: String,
        key: String,
        size: u64,
        limit: u64,
    },

    #[error(
        "post {uuid} in table {table}: the stored item is not a post ({reason}); fix or delete the item, \
         then redrive the message from the dead-letter queue"
    )]
    BadItem {
        table: String,
        uuid: String,
        reason: String,
    },

    #[error(
        "{key} in table {table}: the stored item cannot be read ({reason}); fix or delete the item, then run again"
    )]
    BadRecord { table: String, key: String, reason: String },

    #[error("table {table}, item pk = library, sk = {sk}: {reason}; run `cargo xtask sync` to write the library again")]
    BadLibraryItem { table: String, sk: String, reason: String },

    #[error("post {uuid}: cannot be written as a DynamoDB item: {reason}")]
    Encode { uuid: String, reason: String },

    #[error("post {uuid} in table {table}: changed by another writer {attempts} times while merging; retry later")]
    Contended { table: String, uuid: String, attempts: u32 },
}

impl StoreError {
    /// True when the document is not to blame and the same call may succeed later (network,
    /// throttling, permissions or a table being fixed, a concurrent writer): the caller should
    /// retry the message, and after `max_receive_count` receives SQS parks it in the
    /// dead-letter queue. False when the document itself cannot be stored (too large, refused
    /// by validation): the caller should reject it instead of retrying forever.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Aws { transient, .. } => *transient,
            Self::MissingSetting { .. }
            | Self::BadItem { .. }
            | Self::BadRecord { .. }
            | Self::BadLibraryItem { .. }
            | Self::Contended { .. } => true,
            Self::TooLarge { .. } | Self::Encode { .. } => false,
        }
    }
}
