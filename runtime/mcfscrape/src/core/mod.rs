//! The scraper's pure core: plain functions over plain types, no I/O and no clock of its own.
//! What to ask MCF for ([`plan`]), whether a post needs fetching ([`decide`]), when to try a
//! request again ([`retry`]) and how fast to send ([`rate`]). The shell (`client`, `fetch`,
//! `run`, the stores) does the talking and the waiting.

pub mod categories;
pub mod decide;
pub mod plan;
pub mod rate;
pub mod retry;
