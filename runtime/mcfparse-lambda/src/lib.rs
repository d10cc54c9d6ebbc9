//! `mcfparse-lambda`: the parser's shell. SQS messages naming raw MCF documents in S3 become
//! posts in the posts table, with SQS partial batch responses for what can be retried.
//!
//! - [`handler`]: the work on one SQS batch, the one function both the Lambda (`src/main.rs`,
//!   `provided.al2023`) and the local poller call.
//! - [`local`]: the local stand-in for Lambda's event source mapping (moto does not run Lambda
//!   code): receive, build the same event, call the handler, delete what succeeded.
//!
//! Parsing itself is `mcfparse` (pure); table and bucket access is `mcfstore`.

pub mod handler;
pub mod local;

pub use handler::{COMPONENT, Handler, Outcome, RecordReport};
pub use local::{DrainError, DrainOptions, DrainSummary, drain, lambda_event};
