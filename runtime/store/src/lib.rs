//! `mcfstore`: the AWS access that more than one runtime component shares, thin and typed.
//!
//! It owns the SDK connection ([`Aws`]: one hyper + rustls/ring HTTP client, the endpoint
//! override for the local emulator), the resource names a component is given through its
//! environment ([`Names`]), the posts table ([`PostStore`]: idempotent, never-regressing
//! writes of [`mcfcore::Post`]s) and the data bucket's raw and rejects prefixes
//! ([`RawStore`]), and the recommender's library items ([`LibraryStore`]: read them, replace
//! them in one transaction). It holds no business rule of its own: keys and formats come from
//! [`mcfcore::layout`], the order of two versions of a post from [`mcfcore::Post::merge`].
//! [`crm`] maps the CRM table's job and event items and writes them the way every writer must
//! (created once, each change conditional on the revision read). [`record`] notes the calls of a connection made with [`Aws::recording`], for the permission
//! check of the end-to-end tests.
//!
//! Environment variables read by [`Names::from_env`] (set by the compute stack on each function
//! and container, or by the deployer for local runs):
//!
//! | variable | what |
//! | - | - |
//! | `POSTS_TABLE` | the posts table (`mcfpipe-<env>-posts`) |
//! | `DIMENSIONS_TABLE` | the dimensions table (`mcfpipe-<env>-dimensions`) |
//! | `DATA_BUCKET` | the data bucket (`mcfpipe-<env>-data-<account>-<region>`) |
//! | `PARSE_QUEUE_URL` | the parse queue's URL |
//! | `CRM_TABLE` | the CRM table (`mcfpipe-<env>-crm`) |
//!
//! plus the SDK's own: `AWS_REGION`, credentials, and `AWS_ENDPOINT_URL` (an emulator).

pub mod applications;
mod aws;
pub mod batch;
pub mod crm;
mod error;
pub mod library;
pub mod mcf_session;
mod names;
mod posts;
mod raw;
pub mod record;

pub use applications::{Application, ApplicationStore};
pub use aws::{Aws, Options as AwsOptions, error_code, error_text, is_loopback, is_not_found};
pub use error::StoreError;
pub use library::{LibraryStore, ReplaceError, StoredLibrary};
pub use names::Names;
pub use posts::{PostStore, PutOutcome, RAW_KEY, REVISION, WRITTEN_AT, post_from_item, post_item};
pub use raw::{DEFAULT_MAX_DOCUMENT_BYTES, RawStore, RejectReason, message_reject_key};

/// Now, as `YYYY-MM-DDTHH:MM:SSZ` (the form of every timestamp we store: sorts as a string).
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    aws_smithy_types::DateTime::from_secs(secs)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}
