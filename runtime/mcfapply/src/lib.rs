//! Apply for the user on MCF's website (issue 12; components C05 MCF Login and C06 MCF
//! Apply). MCF has no public apply API: the original applied through the website with
//! Playwright (ORIGINAL.md, "Login and apply"). This crate is the pure core so far:
//!
//! - [`session`]: the browser's cookie export (or Playwright's storage state) read and checked
//!   (MCF's cookies only, none expired, valid until the earliest expiry), and the daily check's
//!   state and when the user is told;
//! - [`outcome`]: the original's outcome codes and the ones it lacked (a submit without
//!   MCF's confirmation, a logged-out session, a dry run), what the apply button's error text
//!   means, which resume card holds the CV, and the rule that no job is submitted twice.
//!
//! Not built yet: storing the session encrypted, the daily check function, the browser
//! container and its flow, the applications table's writes, `cargo xtask run apply`.

pub mod outcome;
pub mod session;

pub use outcome::{Latest, Outcome, Skip, apply_error, cv_card, may_attempt};
pub use session::{Cookie, Session, SessionError, State};
