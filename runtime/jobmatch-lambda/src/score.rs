//! One set of posts scored, stored and screened: the work the stream's batches and a rescore's
//! pages share.
//!
//! For every post and every track of the library: the score ([`jobmatch::Scorer`]); its score
//! item written when it differs from the stored one (so a rescore that changes nothing writes
//! nothing); then the screener's decision ([`jobmatch::screen`]) on the CRM job, if any:
//!
//! - **screen**: the job is created as `SCREENED` with its creation event, in one transaction
//!   that fails if a job appeared meanwhile (then the job is read again and decided again);
//! - **a job exists**, in any stage: its scores, reasons, summary and library version are
//!   refreshed when they changed, conditional on the revision read (a lost race reads and
//!   decides again). The stage is never written: a job the user moved stays where it is;
//! - **skip**: nothing.
//!
//! Reads are batched (the stored score items, the jobs); each post's outcome is its own, so one
//! post's failure does not fail the others.

use jobmatch::{CompiledTrack, Day, Decision, Stage, TrackScore};
use mcfcore::Post;
use mcfstore::crm::{Event, Job, ScoreUpdate, Scores};
use mcfstore::{StoreError, now_utc};
use serde::Serialize;

use crate::store::{LoadedLibrary, ScoreRecord, Store};

/// Lost races on one job before giving up (a writer rewriting it in a loop).
const MAX_ATTEMPTS: u32 = 5;
/// Changes listed in a [`Tally`] (all are counted).
pub const CHANGES_LISTED: usize = 500;
/// Days from posting to the deadline of a post without a closing date (the CRM's rule).
const DEADLINE_DAYS: i64 = 28;

/// What the screener did for one (post, track).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decided {
    /// Put in the CRM as `SCREENED` now.
    Screened,
    /// A job existed: its scores were refreshed.
    Refreshed,
    /// A job existed with these very scores: nothing written.
    Unchanged,
    /// Not for the CRM (no job exists).
    Skipped,
}

/// One (post, track).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackReport {
    pub track: String,
    pub total: f64,
    pub decision: Decided,
    /// The stage of the job, when one exists (it is never changed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Why the post was not screened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The reasons on one line (for screened and refreshed jobs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// One post, every track.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostReport {
    pub uuid: String,
    pub title: String,
    pub tracks: Vec<TrackReport>,
    /// Score items written (the others were already as computed).
    pub scores_written: usize,
}

/// A change to the CRM, for the report of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub uuid: String,
    pub track: String,
    pub title: String,
    pub total: f64,
    pub decision: Decided,
    pub stage: String,
    pub summary: String,
}

/// What a set of runs did, counted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tally {
    /// Posts scored (each for every track).
    pub posts: usize,
    /// Posts that failed (left for a retry).
    pub failed: usize,
    pub scores_written: usize,
    pub scores_unchanged: usize,
    pub screened: usize,
    pub refreshed: usize,
    pub unchanged: usize,
    /// Jobs in a stage the user (or the apply step) chose: their stage stayed.
    pub kept: usize,
    pub skipped: usize,
    /// The screened and refreshed jobs (the first [`CHANGES_LISTED`]).
    pub changes: Vec<Change>,
    /// The errors of the failed posts (the first [`CHANGES_LISTED`]).
    pub failures: Vec<String>,
}

impl Tally {
    pub fn add(&mut self, post: &PostReport, tracks: usize) {
        self.posts += 1;
        self.scores_written += post.scores_written;
        self.scores_unchanged += tracks.saturating_sub(post.scores_written);
        for t in &post.tracks {
            match t.decision {
                Decided::Screened => self.screened += 1,
                Decided::Refreshed => self.refreshed += 1,
                Decided::Unchanged => self.unchanged += 1,
                Decided::Skipped => self.skipped += 1,
            }
            let stage = t.stage.clone().unwrap_or_else(|| "SCREENED".into());
            if t.stage.is_some() && stage != "SCREENED" {
                self.kept += 1;
            }
            if matches!(t.decision, Decided::Screened | Decided::Refreshed) && self.changes.len() < CHANGES_LISTED {
                self.changes.push(Change {
                    uuid: post.uuid.clone(),
                    track: t.track.clone(),
                    title: post.title.clone(),
                    total: t.total,
                    decision: t.decision,
                    stage,
                    summary: t.summary.clone().unwrap_or_default(),
                });
            }
        }
    }

    pub fn add_failure(&mut self, subject: &str, error: &str) {
        self.failed += 1;
        if self.failures.len() < CHANGES_LISTED {
            self.failures.push(format!("{subject}: {error}"));
        }
    }

    pub fn merge(&mut self, other: Tally) {
        self.posts += other.posts;
        self.failed += other.failed;
        self.scores_written += other.scores_written;
        self.scores_unchanged += other.scores_unchanged;
        self.screened += other.screened;
        self.refreshed += other.refreshed;
        self.unchanged += other.unchanged;
        self.kept += other.kept;
        self.skipped += other.skipped;
        let room = CHANGES_LISTED.saturating_sub(self.changes.len());
        self.changes.extend(other.changes.into_iter().take(room));
        let room = CHANGES_LISTED.saturating_sub(self.failures.len());
        self.failures.extend(other.failures.into_iter().take(room));
    }
}

/// Scores, stores and screens `posts` (see the module docs); one result per post, in order.
pub async fn score_posts(
    store: &Store,
    lib: &LoadedLibrary,
    posts: &[Post],
    today: Day,
) -> Vec<Result<PostReport, String>> {
    let tracks = lib.compiled.tracks();
    let mut scorer = lib.compiled.scorer();
    let scored: Vec<_> = posts.iter().map(|p| scorer.score(p, today)).collect();
    let wanted: Vec<(String, String)> = posts
        .iter()
        .flat_map(|p| tracks.iter().map(move |t| (p.uuid.clone(), t.track.id.clone())))
        .collect();
    // One read of each kind for the whole set; if one fails, every post waits for a retry.
    let (stored, jobs) = match (store.score_records(&wanted).await, store.crm().get_many(&wanted).await) {
        (Ok(s), Ok(j)) => (s, j),
        (Err(e), _) | (_, Err(e)) => return posts.iter().map(|_| Err(e.to_string())).collect(),
    };

    // Score items first, in batches: those that differ from the stored ones.
    let scored_at = now_utc();
    let mut writes = Vec::new();
    let mut written = vec![0usize; posts.len()];
    let mut results: Vec<Result<(), String>> = vec![Ok(()); posts.len()];
    for (i, (post, scores)) in posts.iter().zip(&scored).enumerate() {
        for score in &scores.tracks {
            let record = match ScoreRecord::new(post, score, &lib.version) {
                Ok(r) => r,
                Err(e) => {
                    results[i] = Err(e.to_string());
                    break;
                }
            };
            if stored.get(&(post.uuid.clone(), score.track.clone())) == Some(&record) {
                continue;
            }
            match record.item(post, &score.track, &scored_at) {
                Ok(item) => {
                    writes.push((i, item));
                    written[i] += 1;
                }
                Err(e) => results[i] = Err(e.to_string()),
            }
        }
    }
    let (owners, items): (Vec<usize>, Vec<_>) = writes.into_iter().unzip();
    if let Err(e) = store.put_scores(items).await {
        for i in owners {
            results[i] = Err(e.to_string());
        }
    }

    let mut out = Vec::with_capacity(posts.len());
    for (i, (post, scores)) in posts.iter().zip(&scored).enumerate() {
        if let Err(e) = &results[i] {
            out.push(Err(e.clone()));
            continue;
        }
        let mut report = PostReport {
            uuid: post.uuid.clone(),
            title: post.title.clone(),
            tracks: Vec::with_capacity(tracks.len()),
            scores_written: written[i],
        };
        let mut failed = None;
        for (track, score) in tracks.iter().zip(&scores.tracks) {
            let existing = jobs.get(&(post.uuid.clone(), track.track.id.clone())).cloned();
            match decide_and_write(store, lib, post, track, score, today, existing).await {
                Ok(t) => report.tracks.push(t),
                Err(e) => {
                    failed = Some(e.to_string());
                    break;
                }
            }
        }
        out.push(match failed {
            Some(e) => Err(e),
            None => Ok(report),
        });
    }
    out
}

/// The screener's decision for (post, track) and its CRM write, again after a lost race.
async fn decide_and_write(
    store: &Store,
    lib: &LoadedLibrary,
    post: &Post,
    track: &CompiledTrack,
    score: &TrackScore,
    today: Day,
    mut existing: Option<Job>,
) -> Result<TrackReport, StoreError> {
    let crm = store.crm();
    let id = &track.track.id;
    let report = |decision, stage: Option<String>, reason: Option<String>, summary: Option<String>| TrackReport {
        track: id.clone(),
        total: score.total,
        decision,
        stage,
        reason,
        summary,
    };
    let update = ScoreUpdate {
        scores: scores_of(score),
        reasons: serde_json::to_string(&score.reasons).map_err(|e| StoreError::Encode {
            uuid: post.uuid.clone(),
            reason: e.to_string(),
        })?,
        summary: score.reasons.summary.clone(),
        library_version: lib.version.clone(),
    };
    for _ in 0..MAX_ATTEMPTS {
        let stage = existing.as_ref().map(|j| stage_of(&j.stage));
        match jobmatch::screen(post, score, track, today, stage) {
            Decision::Skip(why) => return Ok(report(Decided::Skipped, None, Some(why.to_string()), None)),
            Decision::Screen => {
                let (job, event) = new_job(post, track, score, &update, today);
                if crm.create(&job, &event).await? {
                    return Ok(report(Decided::Screened, None, None, Some(update.summary.clone())));
                }
                existing = crm.get(&post.uuid, id).await?;
            }
            Decision::UpdateScores | Decision::KeepUserStage(_) => {
                // screen() answers these only for an existing job; were it ever otherwise, read
                // it again rather than guess.
                let Some(job) = existing.take() else {
                    existing = crm.get(&post.uuid, id).await?;
                    continue;
                };
                if update.is_on(&job) {
                    return Ok(report(Decided::Unchanged, Some(job.stage), None, None));
                }
                if crm.refresh_scores(&job, &update).await? {
                    return Ok(report(
                        Decided::Refreshed,
                        Some(job.stage),
                        None,
                        Some(update.summary.clone()),
                    ));
                }
                existing = crm.get(&post.uuid, id).await?;
            }
        }
    }
    Err(StoreError::Contended {
        table: crm.table().to_string(),
        uuid: post.uuid.clone(),
        attempts: MAX_ATTEMPTS,
    })
}

/// The stage a job's text names; one this version does not know is someone else's choice,
/// kept like any stage the user picked (`OPEN` stands for it in the decision).
fn stage_of(text: &str) -> Stage {
    serde_json::from_value(serde_json::Value::String(text.to_string())).unwrap_or(Stage::Open)
}

pub fn scores_of(score: &TrackScore) -> Scores {
    Scores {
        title_score: score.title_score,
        keyword_score: score.keyword_score,
        seniority_fit: score.seniority_fit,
        salary_fit: score.salary_fit,
        recency: score.recency,
        total: score.total,
    }
}

/// A new `SCREENED` job for (post, track) and its creation event.
fn new_job(post: &Post, track: &CompiledTrack, score: &TrackScore, update: &ScoreUpdate, today: Day) -> (Job, Event) {
    let now = now_utc();
    let deadline = post.expiry_date.clone().or_else(|| {
        post.posted_date
            .as_deref()
            .and_then(Day::parse)
            .map(|d| date_of(Day::from_days(d.days() + DEADLINE_DAYS)))
    });
    let stage = "SCREENED".to_string();
    let job = Job {
        uuid: post.uuid.clone(),
        track: track.track.id.clone(),
        stage: stage.clone(),
        close_reason: None,
        reached: None,
        revision: 1,
        created_at: now.clone(),
        updated_at: now.clone(),
        stage_at: now.clone(),
        deadline,
        scores: Some(update.scores),
        reasons: Some(update.reasons.clone()),
        summary: Some(update.summary.clone()),
        library_version: Some(update.library_version.clone()),
        title: post.title.clone(),
        company: Some(post.company_name.clone()).filter(|c| !c.is_empty()),
        url: post.url.clone(),
        posted_date: post.posted_date.clone(),
        closing_date: post.expiry_date.clone(),
        salary_min: post.salary_min,
        salary_max: post.salary_max,
        cv_version: track.track.cv_version.clone(),
        notes: None,
        contacts: Vec::new(),
    };
    let event = Event {
        at: now,
        from: None,
        to: stage,
        actor: "screener".into(),
        note: Some(format!(
            "screened on {}: total {} (the track's minimum {}), library {}: {}",
            date_of(today),
            num(score.total),
            num(track.match_score_min),
            update.library_version,
            update.summary
        )),
        revision: 1,
    };
    (job, event)
}

/// A number for people: at most 4 decimals, no trailing zeros (`1`, `0.22`), as jobmatch's
/// summaries write them.
pub fn num(v: f64) -> String {
    let r = (v * 10_000.0).round() / 10_000.0;
    if r == 0.0 { "0".into() } else { format!("{r}") }
}

/// `YYYY-MM-DD` of a day.
pub fn date_of(day: Day) -> String {
    mcfcore::time::timestamp_from_unix(day.days() * 86_400)[..10].to_string()
}

/// Today in Singapore (UTC+8), MCF's calendar: a post closing today is open until midnight
/// there.
pub fn singapore_today() -> Day {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let secs = i64::try_from(secs).unwrap_or(i64::MAX - 8 * 3600);
    Day::from_days((secs + 8 * 3600).div_euclid(86_400))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(decisions: &[(Decided, Option<&str>)]) -> PostReport {
        PostReport {
            uuid: "u".into(),
            title: "Data Engineer".into(),
            tracks: decisions
                .iter()
                .enumerate()
                .map(|(i, (d, stage))| TrackReport {
                    track: format!("t{i}"),
                    total: 1.0,
                    decision: *d,
                    stage: stage.map(str::to_string),
                    reason: None,
                    summary: Some("data engineer +1".into()),
                })
                .collect(),
            scores_written: 1,
        }
    }

    #[test]
    fn a_tally_counts_decisions_kept_stages_and_lists_changes() {
        let mut t = Tally::default();
        t.add(
            &report(&[
                (Decided::Screened, None),
                (Decided::Refreshed, Some("TOAPPLY")),
                (Decided::Unchanged, Some("SCREENED")),
                (Decided::Skipped, None),
            ]),
            4,
        );
        assert_eq!(
            (t.posts, t.screened, t.refreshed, t.unchanged, t.skipped, t.kept),
            (1, 1, 1, 1, 1, 1)
        );
        assert_eq!((t.scores_written, t.scores_unchanged), (1, 3));
        let listed: Vec<(&str, Decided, &str)> = t
            .changes
            .iter()
            .map(|c| (c.track.as_str(), c.decision, c.stage.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                ("t0", Decided::Screened, "SCREENED"),
                ("t1", Decided::Refreshed, "TOAPPLY")
            ]
        );
        let mut other = Tally::default();
        other.add_failure("post v", "throttled");
        t.merge(other);
        assert_eq!((t.failed, t.failures.len()), (1, 1));
        assert_eq!(t.failures[0], "post v: throttled");
    }

    #[test]
    fn stages_read_as_jobmatch_names_them_and_unknown_ones_are_kept() {
        assert_eq!(stage_of("SCREENED"), Stage::Screened);
        assert_eq!(stage_of("TOAPPLY"), Stage::ToApply);
        assert_eq!(stage_of("SOMETHING_NEW"), Stage::Open);
        assert_ne!(
            stage_of("SOMETHING_NEW"),
            Stage::Screened,
            "never treated as the screener's"
        );
    }

    #[test]
    fn days_print_as_dates() {
        let d = Day::parse("2025-05-19").unwrap();
        assert_eq!(date_of(d), "2025-05-19");
        assert_eq!(date_of(Day::from_days(d.days() + DEADLINE_DAYS)), "2025-06-16");
        let today = singapore_today();
        assert!(today.days() > Day::parse("2025-01-01").unwrap().days());
    }
}
