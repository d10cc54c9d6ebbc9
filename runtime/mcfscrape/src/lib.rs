//! `mcfscrape`: the Webscraper. It pages MyCareersFuture's search API for each search
//! profile, fetches the job detail of every new or changed post, writes it raw to the data
//! bucket and queues a parse message, politely (rate limit, backoff, stop when blocked, one
//! odd post quarantined rather than taken for a block) and incrementally (a rerun fetches only
//! what changed; a killed run resumes).
//!
//! - [`core`]: the pure decisions (plan, category split, incremental decision, retry policy,
//!   token bucket, block or odd post), tested without I/O.
//! - [`client`] and [`fetch`]: one HTTP attempt, then pacing and retries around it.
//! - [`store`]: the [`Store`] trait for everything outside MCF, and [`MemoryStore`];
//!   [`aws`]: the DynamoDB/S3/SQS implementation and the profile item format.
//! - [`run`]: one run, top to bottom, logging through [`RunOptions::log`] in the format
//!   every component writes (`mcfcore::log`); [`summary`]: what it reports and checkpoints.
//!
//! The `mcfscrape` binary (`src/main.rs`) wires these from flags and environment variables.

pub mod aws;
pub mod client;
pub mod core;
pub mod fetch;
pub mod run;
pub mod store;
pub mod summary;

/// The component name in log lines and log groups (`/ecs/mcfpipe-<env>-mcfscrape`).
pub const COMPONENT: &str = "mcfscrape";

pub use client::{ClientConfig, McfClient};
pub use core::retry::RetryPolicy;
pub use fetch::Fetcher;
pub use run::{RunOptions, run};
pub use store::{MemoryStore, Store, StoreError};
pub use summary::{Checkpoint, Outcome, Quarantined, RunSummary};
