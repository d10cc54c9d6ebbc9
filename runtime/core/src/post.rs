//! The post model: what we keep of one MCF job, whichever document it was read from.

use serde::{Deserialize, Serialize};

/// One MCF job post, keyed by MCF's `uuid` (`md5(jobPostId)`, stable across re-scrapes).
///
/// Fields a source does not carry are `None` or empty: search items have no description,
/// experience, vacancies, expiry or views; rendered pages have no `updated_at` or UEN.
///
/// **Company**: `company_*` is the employer a candidate would work for: the hiring company when
/// the ad was posted on its behalf and its name is not hidden, the posting company otherwise.
/// The posting company (usually a recruitment agency) is then kept in `posted_by_*`, which is
/// `None` whenever it is the employer itself. Scoring and the CRM care about the employer; the
/// agency is kept because applications go through it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// MCF's 32-hex-digit job uuid, lower case; the primary key.
    pub uuid: String,
    /// `MCF-YYYY-NNNNNNN`; a repost gets a new one (and so a new uuid).
    pub job_post_id: Option<String>,
    /// Title with runs of whitespace collapsed.
    pub title: String,
    pub company_name: String,
    pub company_uen: Option<String>,
    pub posted_by_name: Option<String>,
    pub posted_by_uen: Option<String>,
    /// `metadata.isPostedOnBehalf`; `None` when the source does not say (a rendered page).
    pub posted_on_behalf: Option<bool>,
    pub salary_min: Option<u32>,
    pub salary_max: Option<u32>,
    /// MCF's display name: "Monthly", "Annually", ...
    pub salary_type: Option<String>,
    pub hide_salary: Option<bool>,
    /// MCF display names ("Permanent", "Full Time", ...), the values search filters take.
    pub employment_types: Vec<String>,
    pub position_levels: Vec<String>,
    pub categories: Vec<String>,
    pub skills: Vec<String>,
    pub min_years_experience: Option<u32>,
    pub vacancies: Option<u32>,
    /// `metadata.newPostingDate`, `YYYY-MM-DD`: the date the post (re)appeared.
    pub posted_date: Option<String>,
    /// `metadata.originalPostingDate`, `YYYY-MM-DD` (job detail only).
    pub original_posted_date: Option<String>,
    /// `metadata.expiryDate`, `YYYY-MM-DD` (job detail and rendered page only).
    pub expiry_date: Option<String>,
    /// `metadata.updatedAt` normalised to `YYYY-MM-DDTHH:MM:SSZ` (see [`crate::time`]): the
    /// version of the post; writes never replace a newer version with an older one.
    pub updated_at: Option<String>,
    pub applications: Option<u32>,
    pub views: Option<u32>,
    /// District descriptions, e.g. "D01 Cecil, Marina, People’s Park, Raffles Place".
    pub districts: Vec<String>,
    /// Regions of those districts without repeats ("Central", "Islandwide", ...).
    pub regions: Vec<String>,
    /// The description as plain text: one paragraph or list item per line.
    pub description: Option<String>,
    /// The public job page, `metadata.jobDetailsUrl` (ends with the uuid).
    pub url: Option<String>,
    pub status: PostStatus,
    /// MCF's numeric `status.id` (102 open, 103 re-open), whatever its JSON type was.
    pub status_code: Option<u16>,
    pub source: Source,
}

/// Where a post was read from; it decides which fields can be present, and which of two
/// observations with the same `updated_at` is the richer one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// An item of a `POST /v2/search` response.
    SearchItem,
    /// A rendered job page (JSON-LD and DOM): a post added by URL.
    JobPage,
    /// A `GET /v2/jobs/{uuid}` response: a superset of the search item.
    JobDetail,
}

/// The life-cycle state of a post on MCF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostStatus {
    /// `status.id` 102.
    Open,
    /// `status.id` 103: closed once and opened again, so taking applications.
    Reopened,
    /// A status whose label says closed (or expired); no longer takes applications.
    Closed,
    /// A code and label we do not know, or a source without a status (a rendered page).
    Unknown,
}

impl PostStatus {
    /// Maps MCF's `status.id` and `status.jobStatus`: the code decides when known, because
    /// labels are display text; unknown codes fall back to the label.
    pub fn from_mcf(code: Option<u16>, label: Option<&str>) -> Self {
        match code {
            Some(102) => Self::Open,
            Some(103) => Self::Reopened,
            _ => match label.map(|l| l.trim().to_ascii_lowercase()) {
                Some(l) if l == "open" => Self::Open,
                Some(l) if l == "re-open" || l == "reopen" || l == "reopened" => Self::Reopened,
                Some(l) if l.contains("close") || l.contains("expire") => Self::Closed,
                _ => Self::Unknown,
            },
        }
    }

    /// Open and re-opened posts take applications.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Open | Self::Reopened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_win_over_labels() {
        assert_eq!(PostStatus::from_mcf(Some(102), Some("Open")), PostStatus::Open);
        assert_eq!(PostStatus::from_mcf(Some(103), Some("Re-open")), PostStatus::Reopened);
        assert_eq!(PostStatus::from_mcf(Some(102), Some("Closed")), PostStatus::Open);
        assert_eq!(PostStatus::from_mcf(Some(9), Some("Closed")), PostStatus::Closed);
        assert_eq!(PostStatus::from_mcf(None, Some("Re-open")), PostStatus::Reopened);
        assert_eq!(PostStatus::from_mcf(Some(7), None), PostStatus::Unknown);
        assert!(PostStatus::Reopened.is_open() && !PostStatus::Closed.is_open());
    }

    #[test]
    fn serialises_in_snake_case() {
        let json = serde_json::to_string(&(Source::JobDetail, PostStatus::Reopened)).unwrap();
        assert_eq!(json, r#"["job_detail","reopened"]"#);
    }
}
