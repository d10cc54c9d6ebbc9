//! The scraper's pure core: plain functions over plain types, no I/O and no clock of its own.
//! What to ask MCF for ([`plan`]), whether a post needs fetching ([`decide`]), when to try a
//! request again ([`retry`]), how fast to send ([`rate`]) and whether a bot check is a block
//! or one odd post ([`block`]). The shell (`client`, `fetch`, `run`, the stores) does the
//! talking and the waiting.

pub mod block;
pub mod categories;
pub mod decide;
pub mod plan;
pub mod rate;
pub mod retry;
