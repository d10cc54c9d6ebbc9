//! `jobmatch-lambda`: the recommender's shell around `jobmatch`.
//!
//! - [`store`]: the tables it reads and writes (library, recent posts, score items, the CRM).
//! - [`handler`]: the stream batch and the rescore, the one entry of the Lambda and the deployer.
//! - [`local`]: the stream played locally (the emulator runs no event source mapping).
//! - [`score`]: one set of posts scored, stored and screened.

pub mod handler;
pub mod local;
pub mod score;
pub mod store;

pub use handler::{COMPONENT, Handler, Rescore, Summary};
pub use local::{PlayOptions, PlaySummary, play};
