//! `GET /jobs`: the query (filters, sort, cursor) and the page, over jobs held in memory.
//!
//! The function keeps every job of the CRM table in memory ([`Index`]), loaded on the first
//! list. It catches up with other writers by asking the stage index for what changed
//! (`gsi1sk`, which starts with `updated_at`, greater than [`Index::refresh_from`]: a margin
//! before the previous catch-up, for clocks and the index's propagation), in the background
//! (`api::Refresh`); its own writes go in at once. So a list costs no DynamoDB call after the
//! first, and filters and sorts run on the whole set (DynamoDB cannot sort by score or search
//! text).
//!
//! Cursors name the last job of a page by its sort value and id, not by a position, so a job
//! that moves between two pages neither repeats nor hides another.

use std::cmp::Ordering;
use std::collections::HashMap;

use base64::Engine;
use mcfstore::crm::Job;
use serde::{Deserialize, Serialize};

use crate::types::{DEFAULT_PAGE, MAX_PAGE};

/// How far before the previous refresh began a refresh looks again: writers' clocks differ a
/// little, and the stage index is eventually consistent (it lags its table by well under a
/// second in the normal course).
pub const MARGIN_SECONDS: i64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    Score,
    Posted,
    Updated,
    Deadline,
    Title,
    Company,
}

impl Sort {
    pub const ALL: [(&str, Sort); 6] = [
        ("score", Sort::Score),
        ("posted", Sort::Posted),
        ("updated", Sort::Updated),
        ("deadline", Sort::Deadline),
        ("title", Sort::Title),
        ("company", Sort::Company),
    ];

    /// The order when none is asked for: best, newest and nearest first; names A to Z.
    fn default_descending(self) -> bool {
        matches!(self, Sort::Score | Sort::Posted | Sort::Updated)
    }
}

/// A parsed `GET /jobs` query.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Empty: every stage.
    pub stages: Vec<String>,
    pub track: Option<String>,
    pub min_score: Option<f64>,
    /// Lower case; matched against title, company, notes and the score's summary.
    pub text: Option<String>,
    /// `YYYY-MM-DD`.
    pub posted_since: Option<String>,
    pub sort: Sort,
    pub descending: bool,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

/// Where a page ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub sort: Sort,
    #[serde(rename = "d")]
    pub descending: bool,
    #[serde(rename = "k")]
    pub key: Option<Key>,
    #[serde(rename = "i")]
    pub id: String,
}

/// A job's sort value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Key {
    Num(f64),
    Text(String),
}

/// A refused parameter: (`query.<name>`, why).
pub type Refusal = (String, String);

impl ListQuery {
    /// The query of `GET /jobs`'s parameters; unknown parameters are refused (a typo would
    /// otherwise silently list everything).
    pub fn parse(params: &[(String, String)]) -> Result<ListQuery, Refusal> {
        let refuse = |name: &str, why: String| (format!("query.{name}"), why);
        let mut q = ListQuery {
            stages: Vec::new(),
            track: None,
            min_score: None,
            text: None,
            posted_since: None,
            sort: Sort::Score,
            descending: true,
            limit: DEFAULT_PAGE,
            cursor: None,
        };
        let mut order = None;
        let mut cursor = None;
        for (name, value) in params {
            let value = value.trim();
            match name.as_str() {
                "stage" => {
                    for s in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        let upper = s.to_ascii_uppercase();
                        if !jobmatch::Stage::ALL.iter().any(|st| st.as_str() == upper) {
                            let all: Vec<&str> = jobmatch::Stage::ALL.iter().map(|s| s.as_str()).collect();
                            return Err(refuse(
                                "stage",
                                format!("no stage {s:?}; the stages are {}", all.join(", ")),
                            ));
                        }
                        q.stages.push(upper);
                    }
                }
                "track" => q.track = Some(value.to_string()).filter(|v| !v.is_empty()),
                "min_score" => {
                    let n: f64 = value
                        .parse()
                        .ok()
                        .filter(|n: &f64| n.is_finite())
                        .ok_or_else(|| refuse("min_score", format!("{value:?} is not a number")))?;
                    q.min_score = Some(n);
                }
                "q" => q.text = Some(value.to_lowercase()).filter(|v| !v.is_empty()),
                "posted_since" => {
                    if jobmatch::Day::parse(value).is_none() {
                        return Err(refuse("posted_since", format!("{value:?} is not a date (YYYY-MM-DD)")));
                    }
                    q.posted_since = Some(value.to_string());
                }
                "sort" => {
                    q.sort = Sort::ALL
                        .iter()
                        .find(|(n, _)| *n == value)
                        .map(|(_, s)| *s)
                        .ok_or_else(|| {
                            let names: Vec<&str> = Sort::ALL.iter().map(|(n, _)| *n).collect();
                            refuse("sort", format!("no sort {value:?}; sort by {}", names.join(", ")))
                        })?;
                }
                "order" => {
                    order = Some(match value {
                        "asc" => false,
                        "desc" => true,
                        _ => return Err(refuse("order", format!("{value:?}: the order is asc or desc"))),
                    })
                }
                "limit" => {
                    q.limit = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_PAGE).contains(n))
                        .ok_or_else(|| refuse("limit", format!("{value:?}: the limit is 1 to {MAX_PAGE}")))?;
                }
                "cursor" => cursor = Some(value.to_string()),
                other => {
                    return Err(refuse(
                        other,
                        "unknown parameter; GET /jobs takes stage, track, min_score, q, posted_since, sort, order, limit, cursor".into(),
                    ));
                }
            }
        }
        q.descending = order.unwrap_or(q.sort.default_descending());
        if let Some(text) = cursor {
            let c = decode_cursor(&text).ok_or_else(|| refuse("cursor", "not a cursor this API gave".into()))?;
            if c.sort != q.sort || c.descending != q.descending {
                return Err(refuse(
                    "cursor",
                    "the cursor belongs to another sort or order; start again without it".into(),
                ));
            }
            q.cursor = Some(c);
        }
        Ok(q)
    }
}

fn decode_cursor(text: &str) -> Option<Cursor> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn encode_cursor(c: &Cursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).unwrap_or_default())
}

/// A job held for listing, with its text to search in.
#[derive(Debug, Clone)]
pub struct Entry {
    pub job: Job,
    pub id: String,
    haystack: String,
}

impl Entry {
    pub fn new(job: Job) -> Entry {
        let haystack = [
            Some(job.title.as_str()),
            job.company.as_deref(),
            job.notes.as_deref(),
            job.summary.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase();
        Entry {
            id: mcfcore::layout::crm::job_id(&job.uuid, &job.track),
            job,
            haystack,
        }
    }

    fn key(&self, sort: Sort) -> Option<Key> {
        let j = &self.job;
        let text = |s: Option<&str>| s.map(|s| Key::Text(s.to_lowercase()));
        match sort {
            Sort::Score => j.scores.map(|s| Key::Num(s.total)),
            Sort::Posted => text(j.posted_date.as_deref()),
            Sort::Updated => text(Some(&j.updated_at)),
            Sort::Deadline => text(j.deadline.as_deref()),
            Sort::Title => text(Some(&j.title)),
            Sort::Company => text(j.company.as_deref()),
        }
    }

    fn matches(&self, q: &ListQuery) -> bool {
        let j = &self.job;
        (q.stages.is_empty() || q.stages.contains(&j.stage))
            && q.track.as_ref().is_none_or(|t| *t == j.track)
            && q.min_score.is_none_or(|min| j.scores.is_some_and(|s| s.total >= min))
            && q.posted_since
                .as_ref()
                .is_none_or(|since| j.posted_date.as_ref().is_some_and(|p| p >= since))
            && q.text.as_ref().is_none_or(|t| self.haystack.contains(t.as_str()))
    }
}

/// Values first in the order asked for, missing values last, then ids A to Z.
fn compare(a: (&Option<Key>, &str), b: (&Option<Key>, &str), descending: bool) -> Ordering {
    let by_key = match (a.0, b.0) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let o = match (x, y) {
                (Key::Num(x), Key::Num(y)) => x.total_cmp(y),
                (Key::Text(x), Key::Text(y)) => x.cmp(y),
                (Key::Num(_), Key::Text(_)) => Ordering::Less,
                (Key::Text(_), Key::Num(_)) => Ordering::Greater,
            };
            if descending { o.reverse() } else { o }
        }
    };
    by_key.then_with(|| a.1.cmp(b.1))
}

/// Every job of the CRM table, by id.
#[derive(Debug, Default)]
pub struct Index {
    entries: HashMap<String, Entry>,
    /// The newest `updated_at` seen.
    pub watermark: Option<String>,
    /// When the last refresh began (the function's clock).
    pub refreshed_at: Option<String>,
}

impl Index {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Takes `job` unless the index holds the same or a later revision of it.
    pub fn put(&mut self, job: Job) {
        if self.watermark.as_ref().is_none_or(|w| job.updated_at > *w) {
            self.watermark = Some(job.updated_at.clone());
        }
        let id = mcfcore::layout::crm::job_id(&job.uuid, &job.track);
        if self.entries.get(&id).is_some_and(|e| e.job.revision >= job.revision) {
            return;
        }
        self.entries.insert(id, Entry::new(job));
    }

    /// Forgets a job (moved to another track's id).
    pub fn remove(&mut self, id: &str) {
        self.entries.remove(id);
    }

    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.entries.values().map(|e| &e.job)
    }

    /// Where a refresh starts: [`MARGIN_SECONDS`] before the previous one began, or before
    /// the newest change seen if that is earlier (`None`: read all). A change written since
    /// then has a later `updated_at`, give or take the margin.
    pub fn refresh_from(&self) -> Option<String> {
        let at = match (&self.refreshed_at, &self.watermark) {
            (Some(r), Some(w)) => r.min(w),
            (Some(r), None) => r,
            (None, _) => return None,
        };
        let millis = mcfcore::time::unix_millis(at).ok()?;
        Some(mcfcore::time::timestamp_from_unix(millis / 1000 - MARGIN_SECONDS))
    }

    /// One page of the jobs matching `q`, how many match in all, and the next page's cursor.
    pub fn page(&self, q: &ListQuery) -> (Vec<&Job>, usize, Option<String>) {
        let mut hits: Vec<(Option<Key>, &Entry)> = self
            .entries
            .values()
            .filter(|e| e.matches(q))
            .map(|e| (e.key(q.sort), e))
            .collect();
        let total = hits.len();
        hits.sort_unstable_by(|a, b| compare((&a.0, &a.1.id), (&b.0, &b.1.id), q.descending));
        let start = q.cursor.as_ref().map_or(0, |c| {
            hits.partition_point(|h| compare((&h.0, &h.1.id), (&c.key, &c.id), q.descending) != Ordering::Greater)
        });
        let end = (start + q.limit).min(hits.len());
        let next = (end < hits.len() && end > start).then(|| {
            let (key, last) = &hits[end - 1];
            encode_cursor(&Cursor {
                sort: q.sort,
                descending: q.descending,
                key: key.clone(),
                id: last.id.clone(),
            })
        });
        (hits[start..end].iter().map(|(_, e)| &e.job).collect(), total, next)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use mcfstore::crm::Scores;
    use proptest::prelude::*;

    pub(crate) fn job(uuid: &str, stage: &str, total: Option<f64>, title: &str) -> Job {
        Job {
            uuid: uuid.into(),
            track: "data".into(),
            stage: stage.into(),
            close_reason: None,
            reached: None,
            revision: 1,
            created_at: "2026-11-01T00:00:00Z".into(),
            updated_at: "2026-11-01T00:00:00Z".into(),
            stage_at: "2026-11-01T00:00:00Z".into(),
            deadline: None,
            scores: total.map(|total| Scores {
                title_score: 0.0,
                keyword_score: 0.0,
                seniority_fit: 0.0,
                salary_fit: 0.0,
                recency: 0.0,
                total,
            }),
            reasons: None,
            summary: None,
            library_version: None,
            title: title.into(),
            company: Some("ACME".into()),
            url: None,
            posted_date: Some("2026-10-20".into()),
            closing_date: None,
            salary_min: None,
            salary_max: None,
            cv_version: None,
            notes: None,
            contacts: vec![],
        }
    }

    fn query(params: &[(&str, &str)]) -> Result<ListQuery, Refusal> {
        let owned: Vec<(String, String)> = params.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        ListQuery::parse(&owned)
    }

    #[test]
    fn filters_sort_and_pages() {
        let mut index = Index::default();
        index.put(job("a", "SCREENED", Some(0.9), "Data Engineer"));
        index.put(job("b", "SCREENED", Some(0.4), "Analyst"));
        index.put(job("c", "TOAPPLY", Some(0.7), "Data Scientist"));
        index.put(job("d", "SCREENED", None, "Data Lead"));
        let ids = |q: &ListQuery| {
            let (jobs, total, next) = index.page(q);
            (
                jobs.iter().map(|j| j.uuid.as_str()).collect::<Vec<_>>().join(""),
                total,
                next,
            )
        };
        assert_eq!(ids(&query(&[]).unwrap()).0, "acbd", "best first, unscored last");
        assert_eq!(
            ids(&query(&[("order", "asc")]).unwrap()).0,
            "bcad",
            "unscored still last"
        );
        assert_eq!(ids(&query(&[("stage", "screened")]).unwrap()).0, "abd");
        assert_eq!(
            ids(&query(&[("stage", "TOAPPLY,SCREENED"), ("min_score", "0.5")]).unwrap()).0,
            "ac"
        );
        assert_eq!(ids(&query(&[("q", "DATA")]).unwrap()).0, "acd");
        assert_eq!(ids(&query(&[("sort", "title")]).unwrap()).0, "badc");
        let (first, total, next) = ids(&query(&[("limit", "3")]).unwrap());
        assert_eq!((first.as_str(), total), ("acb", 4));
        let next = next.expect("a second page");
        let (second, _, last) = ids(&query(&[("limit", "3"), ("cursor", &next)]).unwrap());
        assert_eq!((second.as_str(), last), ("d", None));
    }

    #[test]
    fn bad_parameters_are_named() {
        let field = |p: &[(&str, &str)]| query(p).unwrap_err().0;
        assert_eq!(field(&[("stage", "LIMBO")]), "query.stage");
        assert_eq!(field(&[("limit", "0")]), "query.limit");
        assert_eq!(field(&[("limit", "201")]), "query.limit");
        assert_eq!(field(&[("min_score", "NaN")]), "query.min_score");
        assert_eq!(field(&[("posted_since", "yesterday")]), "query.posted_since");
        assert_eq!(field(&[("sort", "salary")]), "query.sort");
        assert_eq!(field(&[("cursor", "!!")]), "query.cursor");
        assert_eq!(field(&[("colour", "red")]), "query.colour");
        let mut index = Index::default();
        for u in ["a", "b", "c"] {
            index.put(job(u, "SCREENED", Some(0.5), u));
        }
        let (_, _, next) = index.page(&query(&[("limit", "1")]).unwrap());
        let c = next.unwrap();
        assert!(
            query(&[("cursor", &c), ("sort", "title")])
                .unwrap_err()
                .1
                .contains("another sort")
        );
    }

    #[test]
    fn an_older_revision_never_replaces_a_newer_one() {
        let mut index = Index::default();
        let mut j = job("a", "TOAPPLY", None, "x");
        j.revision = 3;
        index.put(j.clone());
        j.revision = 2;
        j.stage = "SCREENED".into();
        index.put(j);
        assert_eq!(index.jobs().next().unwrap().stage, "TOAPPLY");
        assert_eq!(index.refresh_from(), None, "never refreshed: read all");
        index.refreshed_at = Some("2026-11-02T00:00:00Z".into());
        assert_eq!(
            index.refresh_from().as_deref(),
            Some("2026-10-31T23:59:50Z"),
            "the newest change seen is earlier than the refresh"
        );
        let mut later = job("b", "SCREENED", None, "y");
        later.updated_at = "2026-11-03T00:00:00Z".into();
        index.put(later);
        assert_eq!(index.refresh_from().as_deref(), Some("2026-11-01T23:59:50Z"));
    }

    proptest! {
        /// Walking the pages with their cursors lists every match exactly once, in order.
        #[test]
        fn pages_list_every_match_once(
            scores in proptest::collection::vec(proptest::option::of(0u8..5), 0..40),
            limit in 1usize..7,
            sort in 0usize..6,
            asc in any::<bool>(),
        ) {
            let mut index = Index::default();
            for (i, s) in scores.iter().enumerate() {
                let mut j = job(&format!("{i:02}"), "SCREENED", s.map(f64::from), &format!("t{}", i % 3));
                j.posted_date = s.map(|s| format!("2026-10-0{}", s + 1));
                index.put(j);
            }
            let (name, _) = Sort::ALL[sort];
            let order = if asc { "asc" } else { "desc" };
            let limit = limit.to_string();
            let all = index.page(&query(&[("sort", name), ("order", order), ("limit", "200")]).unwrap()).0;
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut p = vec![("sort", name), ("order", order), ("limit", limit.as_str())];
                if let Some(c) = &cursor { p.push(("cursor", c.as_str())); }
                let (jobs, total, next) = index.page(&query(&p).unwrap());
                prop_assert_eq!(total, scores.len());
                seen.extend(jobs.iter().map(|j| j.uuid.clone()));
                match next { Some(n) => cursor = Some(n), None => break }
            }
            let expected: Vec<String> = all.iter().map(|j| j.uuid.clone()).collect();
            prop_assert_eq!(seen, expected);
        }
    }
}
