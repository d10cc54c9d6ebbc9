//! `jobmatch-lambda`: the recommender's shell around `jobmatch`.
//!
//! - [`store`]: the tables it reads and writes (library, recent posts, score items, the CRM).
//! - [`score`]: one set of posts scored, stored and screened.

pub mod score;
pub mod store;
