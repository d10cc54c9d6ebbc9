//! `mcfcore`: the shared model of the mcfpipe runtime, as plain data and pure functions.
//!
//! It owns what we keep of an MyCareersFuture job ([`Post`]), how two observations of the same
//! post combine ([`Post::merge`]), the per-track search settings ([`SearchProfile`]) and the
//! timestamp normalisation that makes `updated_at` comparable as a string, and the one log-line
//! format every component writes ([`log`]). It has no AWS, no HTTP and no parsing of MCF
//! documents: `mcfparse` turns documents into posts, the Lambda and
//! container shells move them around.

pub mod layout;
pub mod log;
mod merge;
mod post;
mod profile;
pub mod time;

pub use merge::MergeOutcome;
pub use post::{Post, PostStatus, Source};
pub use profile::SearchProfile;
