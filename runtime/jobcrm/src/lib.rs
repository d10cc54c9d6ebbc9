//! The CRM's pure core (component C07's rules, no I/O): the one table of allowed stage
//! transitions ([`transitions`]), the reasons a job is closed for, and deadlines with what the
//! daily expiry may touch ([`deadline`]). The API, the web page and the daily job all decide
//! through these functions; `docs/crm.md` prints the same table.
//!
//! The stages are `jobmatch::Stage` (the screener creates `SCREENED` jobs with it).

pub mod deadline;
pub mod funnel;
pub mod transitions;

pub use deadline::{DAYS, Facts, deadline, expires};
pub use jobmatch::Stage;
pub use transitions::{CloseReason, Refused, allowed, check};
