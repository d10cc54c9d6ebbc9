//! Apply for the user on MCF's website (issue 12; components C05 MCF Login and C06 MCF
//! Apply). MCF has no public apply API: the original applied through the website with
//! Playwright (ORIGINAL.md, "Login and apply"). Pure core, then the shells:
//!
//! - [`session`]: the browser's cookie export (or Playwright's storage state) read and checked
//!   (MCF's cookies only, none expired, valid until the earliest expiry), and the session's
//!   state and when the user is told;
//! - [`outcome`]: the original's outcome codes and the ones it lacked (a submit without
//!   MCF's confirmation, a logged-out session, a dry run), what the apply button's error text
//!   means, which resume card holds the CV, and the rule that no job is submitted twice;
//! - [`cdp`]: a headless Chromium over the DevTools protocol (its pipe, no port);
//! - [`flow`]: one application in a page, step by step, with its evidence;
//! - [`run`]: a run over the CRM's `TOAPPLY` jobs: the session from the data bucket, every
//!   attempt recorded (claimed before a submit, so never twice), `APPLIED` on a confirmation,
//!   a stop and a notification at MCF's login page. The container's `main.rs` and
//!   `cargo xtask run apply` call it;
//! - [`check`]: the daily session check against MCF (an authenticated page; the login page
//!   means expired).

pub mod cdp;
pub mod check;
pub mod flow;
pub mod outcome;
pub mod run;
pub mod session;

pub use outcome::{Latest, Outcome, Skip, apply_error, cv_card, may_attempt};
pub use session::{Cookie, Session, SessionError, State};
