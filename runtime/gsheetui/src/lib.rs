//! Config sync (component C04): the recommender's library (`jobmatch`'s seven tables) from a
//! source, files under `config/seed/library/` (YAML or CSV) or a Google workbook, checked whole
//! and written into the dimensions table all or nothing (docs/data-model.md).
//!
//! `core` is pure: sources → located rows → a checked library → the diff against what is
//! stored. `files` reads a folder, `google` a workbook, `sync` compares and writes,
//! `scheduled` is the sync function's work (`main.rs` its Lambda runtime).

pub mod core;
pub mod files;
pub mod google;
pub mod scheduled;
pub mod sync;

pub use sync::{Report, Source, SyncError, sync};
