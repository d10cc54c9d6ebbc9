//! What one application attempt ended in: the original's outcome codes (ORIGINAL.md, "Login
//! and apply"), kept so its records read the same, and the ones it lacked. The flow's
//! decisions that need no browser live here too: which card holds the CV, what the apply
//! button's error text means, and whether a job may be attempted at all (never twice).

use serde::{Deserialize, Serialize};

/// The end of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// MCF showed its confirmation (or said the job was applied to already).
    #[serde(rename = "01_applied")]
    Applied,
    /// A step after the CV (a questionnaire) stood between the review and the submit.
    #[serde(rename = "02_questionnaire")]
    Questionnaire,
    #[serde(rename = "03_cv_selector_error")]
    CvSelectorError,
    /// The apply button never became usable and MCF said nothing we know.
    #[serde(rename = "04_unable_to_apply")]
    UnableToApply,
    /// The job's page did not load.
    #[serde(rename = "05_post_unavailable")]
    PostUnavailable,
    /// No resume card holds the CV version.
    #[serde(rename = "06_cv_not_found")]
    CvNotFound,
    #[serde(rename = "07_post_closed")]
    PostClosed,
    /// Submitted, and MCF showed no confirmation: not claimed as applied.
    #[serde(rename = "08_submitted_unconfirmed")]
    SubmittedUnconfirmed,
    /// MCF sent the login page: the run stops, the rest stay `TOAPPLY`.
    #[serde(rename = "09_session_expired")]
    SessionExpired,
    /// A dry run reached the submit button.
    #[serde(rename = "dry_run_ok")]
    DryRunOk,
    /// The job lacks its id, URL or CV version.
    #[serde(rename = "91_invalid_input")]
    InvalidInput,
}

impl Outcome {
    pub const ALL: [Outcome; 11] = [
        Outcome::Applied,
        Outcome::Questionnaire,
        Outcome::CvSelectorError,
        Outcome::UnableToApply,
        Outcome::PostUnavailable,
        Outcome::CvNotFound,
        Outcome::PostClosed,
        Outcome::SubmittedUnconfirmed,
        Outcome::SessionExpired,
        Outcome::DryRunOk,
        Outcome::InvalidInput,
    ];

    /// The code as stored.
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Applied => "01_applied",
            Outcome::Questionnaire => "02_questionnaire",
            Outcome::CvSelectorError => "03_cv_selector_error",
            Outcome::UnableToApply => "04_unable_to_apply",
            Outcome::PostUnavailable => "05_post_unavailable",
            Outcome::CvNotFound => "06_cv_not_found",
            Outcome::PostClosed => "07_post_closed",
            Outcome::SubmittedUnconfirmed => "08_submitted_unconfirmed",
            Outcome::SessionExpired => "09_session_expired",
            Outcome::DryRunOk => "dry_run_ok",
            Outcome::InvalidInput => "91_invalid_input",
        }
    }

    /// Whether the job is applied to: the CRM item moves to `APPLIED`.
    pub fn applied(self) -> bool {
        self == Outcome::Applied
    }

    /// Whether a submit may have reached MCF: such a job is never submitted again by the
    /// task (the user looks at MCF and decides).
    pub fn maybe_submitted(self) -> bool {
        matches!(self, Outcome::Applied | Outcome::SubmittedUnconfirmed)
    }

    /// Whether the run stops after it (the rest would fail the same way).
    pub fn stops_the_run(self) -> bool {
        self == Outcome::SessionExpired
    }

    /// Whether its evidence (a screenshot and the page's HTML) is kept: every failure and every
    /// dry run.
    pub fn keeps_evidence(self) -> bool {
        !matches!(self, Outcome::Applied | Outcome::InvalidInput)
    }
}

/// What `p[data-testid="job-apply-error"]` says, when the apply button is not usable.
pub fn apply_error(text: &str) -> Outcome {
    let t = text.to_lowercase();
    if t.contains("already") || t.contains("applied") {
        Outcome::Applied
    } else if t.contains("closed") || t.contains("no longer") {
        Outcome::PostClosed
    } else {
        Outcome::UnableToApply
    }
}

/// The index of the first resume card whose link text holds `cv_version` (`11.4` in
/// `Resume v11.4.pdf`), compared without case.
pub fn cv_card(card_texts: &[String], cv_version: &str) -> Option<usize> {
    let want = cv_version.trim().to_lowercase();
    if want.is_empty() {
        return None;
    }
    card_texts.iter().position(|t| t.to_lowercase().contains(&want))
}

/// The applications table's record of a job's latest attempt, as far as deciding goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latest {
    /// An outcome's code, or `in_progress` while an attempt runs.
    pub outcome: String,
    /// When the attempt began (`YYYY-MM-DDTHH:MM:SSZ`).
    pub started_at: String,
}

/// The marker of an attempt that began and has not ended.
pub const IN_PROGRESS: &str = "in_progress";

/// Why a job is not attempted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Skip {
    #[error("applied already ({0})")]
    Applied(String),
    #[error("an attempt began at {0} and never ended: it may have submitted; look at MCF, then clear it")]
    InProgress(String),
    #[error("submitted at {0} without a confirmation: look at MCF before trying again")]
    Unconfirmed(String),
}

/// Whether a job whose latest record is `latest` may be attempted (dry run or submit). Never a
/// job applied to, one whose submit may have gone through, or one with an attempt in progress,
/// whatever crashed or reran: the attempt itself is claimed by a conditional write on the
/// record read here.
pub fn may_attempt(latest: Option<&Latest>) -> Result<(), Skip> {
    let Some(l) = latest else {
        return Ok(());
    };
    match l.outcome.as_str() {
        IN_PROGRESS => Err(Skip::InProgress(l.started_at.clone())),
        "01_applied" => Err(Skip::Applied(l.started_at.clone())),
        "08_submitted_unconfirmed" => Err(Skip::Unconfirmed(l.started_at.clone())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_the_originals() {
        for o in Outcome::ALL {
            let json = serde_json::to_value(o).unwrap();
            assert_eq!(json, o.code(), "{o:?}");
            assert_eq!(serde_json::from_value::<Outcome>(json).unwrap(), o);
        }
        assert!(Outcome::Applied.applied() && !Outcome::SubmittedUnconfirmed.applied());
        assert!(Outcome::SubmittedUnconfirmed.maybe_submitted());
        assert!(Outcome::DryRunOk.keeps_evidence() && Outcome::CvNotFound.keeps_evidence());
        assert!(Outcome::SessionExpired.stops_the_run());
    }

    #[test]
    fn the_apply_buttons_error_and_the_cv_card() {
        assert_eq!(apply_error("You have already applied for this job"), Outcome::Applied);
        assert_eq!(apply_error("This job is no longer available"), Outcome::PostClosed);
        assert_eq!(apply_error("Applications have closed"), Outcome::PostClosed);
        assert_eq!(apply_error(""), Outcome::UnableToApply);
        let cards = vec!["Resume v11.3.pdf".to_string(), "Resume v11.4.PDF".into()];
        assert_eq!(cv_card(&cards, "11.4"), Some(1));
        assert_eq!(cv_card(&cards, "12.0"), None);
        assert_eq!(cv_card(&cards, " "), None);
    }

    #[test]
    fn never_twice() {
        let at = |o: &str| Latest {
            outcome: o.into(),
            started_at: "2026-11-29T01:00:00Z".into(),
        };
        assert_eq!(may_attempt(None), Ok(()));
        assert_eq!(may_attempt(Some(&at("dry_run_ok"))), Ok(()));
        assert_eq!(may_attempt(Some(&at("06_cv_not_found"))), Ok(()), "fixable: try again");
        assert!(matches!(may_attempt(Some(&at("01_applied"))), Err(Skip::Applied(_))));
        assert!(matches!(may_attempt(Some(&at(IN_PROGRESS))), Err(Skip::InProgress(_))));
        assert!(matches!(
            may_attempt(Some(&at("08_submitted_unconfirmed"))),
            Err(Skip::Unconfirmed(_))
        ));
    }
}
