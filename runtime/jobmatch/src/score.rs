//! Scoring one post against every track, with the reasons.
//!
//! The post's title is cleaned (stop words, then junk tags) and deranked (rank tags); its
//! description and skills are cleaned (stop words). Then, for each track:
//!
//! - **`title_score`** = Σ over the bigrams of the deranked title of (occurrences × the
//!   bigram's score for the track); a bigram no title tag names counts 0. A track's own row
//!   for a bigram wins over the row for every track.
//! - **`keyword_score`** = clamp(Σ score of each distinct keyword of the track's groups found in
//!   the description or skills ÷ `keyword_saturation`, −1, 1). A keyword counts **once**
//!   however often it appears, so a description that repeats `sql` fifty times, or a 1 MB one,
//!   cannot outweigh the title: the score is bounded by ±1 and saturates at
//!   `keyword_saturation` net distinct keywords (4 by default).
//! - **`seniority_fit`** = max(0, 1 − |rank − track seniority| ÷ `seniority_span`), where the
//!   title's rank is the sum of the weights of the distinct rank tags in its clean title (0
//!   with none; `assistant manager` = −0.23 + 0.5) and the track's seniority is a weight or a
//!   rank tag's weight. 1 is an exact fit, 0 at `seniority_span` (1.5) or further.
//! - **`salary_fit`**: the post's monthly maximum (its minimum when it gives no maximum;
//!   annual salaries ÷ 12) against the track's `salary_target`: 1 when it reaches the target,
//!   else max(0, 1 − shortfall ÷ (target × `salary_tolerance`)), 0 at 50 % below by default.
//!   **Neutral (1)** when the post has no salary, pays by the hour or day, or the track sets
//!   no target: what is unknown neither helps nor hurts.
//! - **`recency`** = 1 − (1 − `recency_floor`) × min(weeks, age_weeks) ÷ age_weeks: 1 for a post
//!   of this week, `recency_floor` (0.5) at the track's `age_weeks`; 1 when the post has no
//!   posting date (the screener skips those).
//! - **`total`**: a post **matches** a track when its title score is positive, or when it is
//!   exactly 0 (no title tag, or tags that cancel) and the keyword score reaches
//!   `keyword_rescue` (0.75): a title the user scored negative is never rescued by keywords.
//!   Then total = max(0, title_score + `keyword_weight` × keyword_score) × seniority_fit ×
//!   salary_fit × recency; otherwise 0. This keeps the original's rule (a non-positive title
//!   score means no match, `(1 + title_score) / q`) except for the rescue of neutral titles.
//!
//! A post's score depends on the post, the library and the day only: nothing about other
//! posts (the original's per-batch `min_df` is gone, see the crate doc).

use mcfcore::Post;
use serde::{Deserialize, Serialize};

use crate::clean::{WordId, remove_phrases};
use crate::compile::{CleanTitle, CompiledLibrary, CompiledTrack};
use crate::day::Day;
use crate::text::{lower_into, tokenize};
use crate::validate::num;

/// What scoring reads of a post.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostView<'a> {
    pub title: &'a str,
    pub description: Option<&'a str>,
    /// MCF's skill tags: scored with the description (search items have no description).
    pub skills: &'a [String],
    pub salary_min: Option<u32>,
    pub salary_max: Option<u32>,
    /// MCF's salary type ("Monthly", "Annually", ...); none is read as monthly.
    pub salary_type: Option<&'a str>,
    /// `YYYY-MM-DD`.
    pub posted_date: Option<&'a str>,
}

impl<'a> From<&'a Post> for PostView<'a> {
    fn from(p: &'a Post) -> Self {
        PostView {
            title: &p.title,
            description: p.description.as_deref(),
            skills: &p.skills,
            salary_min: p.salary_min,
            salary_max: p.salary_max,
            salary_type: p.salary_type.as_deref(),
            posted_date: p.posted_date.as_deref(),
        }
    }
}

/// A post's scores for every track of the library, in the library's track order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostScores {
    pub clean_title: String,
    pub deranked_title: String,
    /// Weeks since the post's posting week (the original's `week`), when it has a date.
    pub weeks: Option<i64>,
    pub tracks: Vec<TrackScore>,
}

impl PostScores {
    pub fn track(&self, id: &str) -> Option<&TrackScore> {
        self.tracks.iter().find(|t| t.track == id)
    }
}

/// One (post, track) score: what the posts table's score item stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackScore {
    pub track: String,
    pub title_score: f64,
    pub keyword_score: f64,
    pub seniority_fit: f64,
    pub salary_fit: f64,
    pub recency: f64,
    pub total: f64,
    pub reasons: Reasons,
}

/// Why a post scored what it did, for the CRM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reasons {
    /// Title bigrams with a score for the track (zeros left out).
    pub title: Vec<Counted>,
    /// The title's rank tags and their weights.
    pub rank: Vec<Counted>,
    /// Keywords found with a score for the track (zeros left out), in order of first mention.
    pub keywords: Vec<KeywordHit>,
    pub salary: SalaryNote,
    /// Why the total is 0, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_match: Option<String>,
    /// One line: `data engineer +1, senior +0.22, keywords: sql, etl; salary fits`.
    pub summary: String,
}

/// A tag that counted: its score (or weight) per occurrence and how often it occurred.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counted {
    pub tag: String,
    pub score: f64,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeywordHit {
    pub keyword: String,
    pub group: String,
    pub score: f64,
}

/// How the salary fit was judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SalaryNote {
    /// The track sets no target.
    NoTarget,
    /// The post gives no salary.
    Unknown,
    /// Paid by the hour, day, ...: not comparable with a monthly target.
    NotMonthly {
        salary_type: String,
    },
    Fits {
        monthly_max: f64,
        target: f64,
    },
    Below {
        monthly_max: f64,
        target: f64,
    },
}

#[derive(Debug, Clone, Copy)]
struct TitleTok {
    id: u32,
    start: u32,
    end: u32,
}

impl WordId for TitleTok {
    #[inline]
    fn word_id(&self) -> u32 {
        self.id
    }
}

/// Scores posts with one compiled library, reusing its buffers from post to post (a post's
/// result never depends on the posts scored before it: every buffer is reset per post).
pub struct Scorer<'l> {
    lib: &'l CompiledLibrary,
    lower: String,
    words: String,
    title: Vec<TitleTok>,
    ids: Vec<u32>,
    /// Per keyword entry, the post (stamp) that last found it.
    seen: Vec<u32>,
    stamp: u32,
    found: Vec<u32>,
}

struct TitleStage {
    clean: String,
    deranked: String,
    /// Rank entries found, distinct, in order.
    ranks: Vec<u32>,
    /// (title entry, occurrences).
    bigrams: Vec<(u32, u32)>,
    /// Whether the clean title has any word at all.
    has_words: bool,
}

impl CompiledLibrary {
    pub fn scorer(&self) -> Scorer<'_> {
        Scorer {
            lib: self,
            lower: String::new(),
            words: String::new(),
            title: Vec::new(),
            ids: Vec::new(),
            seen: vec![0; self.keyword_entries.len()],
            stamp: 0,
            found: Vec::new(),
        }
    }

    /// Scores one post (a [`Scorer`] is cheaper for many).
    pub fn score<'p>(&self, post: impl Into<PostView<'p>>, today: Day) -> PostScores {
        self.scorer().score(post, today)
    }
}

impl Scorer<'_> {
    pub fn score<'p>(&mut self, post: impl Into<PostView<'p>>, today: Day) -> PostScores {
        let post = post.into();
        let title = self.title_stage(post.title);
        self.description_stage(post.description, post.skills);
        let weeks = post.posted_date.and_then(Day::parse).map(|d| today.weeks_since(d));
        let lib = self.lib;
        let tracks = lib
            .tracks
            .iter()
            .enumerate()
            .map(|(t, track)| self.track_score(t, track, &title, &post, weeks))
            .collect();
        PostScores {
            clean_title: title.clean,
            deranked_title: title.deranked,
            weeks,
            tracks,
        }
    }

    /// The title as the scorer cleans it.
    pub fn clean_title(&mut self, title: &str) -> CleanTitle {
        let stage = self.title_stage(title);
        CleanTitle {
            clean: stage.clean,
            deranked: stage.deranked,
        }
    }

    fn title_stage(&mut self, title: &str) -> TitleStage {
        let Scorer {
            lib,
            lower,
            words,
            title: tokens,
            ..
        } = self;
        let cleaner = &lib.cleaner;
        lower.clear();
        lower_into(title, lower);
        words.clear();
        tokens.clear();
        tokenize(lower, &cleaner.symbols, &mut |t| {
            let id = cleaner.vocab.id(t);
            if !cleaner.vocab.is_stop(id) {
                let start = words.len();
                words.push_str(t);
                // Titles are short; a title past 4 GB would only mis-cut its own words.
                tokens.push(TitleTok {
                    id,
                    start: u32::try_from(start).unwrap_or(u32::MAX),
                    end: u32::try_from(words.len()).unwrap_or(u32::MAX),
                });
            }
        });
        remove_phrases(&cleaner.junk, tokens, |_| {});
        let clean = join(words, tokens);
        let has_words = !tokens.is_empty();
        let mut ranks = Vec::new();
        remove_phrases(&cleaner.rank, tokens, |r| {
            if !ranks.contains(&r) {
                ranks.push(r);
            }
        });
        let deranked = join(words, tokens);
        let mut bigrams: Vec<(u32, u32)> = Vec::new();
        for pair in tokens.windows(2) {
            if let Some(entry) = lib.title.get2(pair[0].id, pair[1].id) {
                match bigrams.iter_mut().find(|b| b.0 == entry) {
                    Some(b) => b.1 += 1,
                    None => bigrams.push((entry, 1)),
                }
            }
        }
        TitleStage {
            clean,
            deranked,
            ranks,
            bigrams,
            has_words,
        }
    }

    /// Finds the distinct keywords of the description and skills into `self.found`.
    fn description_stage(&mut self, description: Option<&str>, skills: &[String]) {
        let Scorer {
            lib,
            lower,
            ids,
            seen,
            stamp,
            found,
            ..
        } = self;
        let cleaner = &lib.cleaner;
        found.clear();
        if lib.keywords.is_empty() {
            return;
        }
        lower.clear();
        if let Some(d) = description {
            lower_into(d, lower);
        }
        for skill in skills {
            lower.push('\n');
            lower_into(skill, lower);
        }
        ids.clear();
        tokenize(lower, &cleaner.symbols, &mut |t| {
            let id = cleaner.vocab.id(t);
            if !cleaner.vocab.is_stop(id) {
                ids.push(id);
            }
        });
        *stamp = stamp.wrapping_add(1);
        if *stamp == 0 {
            seen.iter_mut().for_each(|s| *s = 0);
            *stamp = 1;
        }
        for i in 0..ids.len() {
            lib.keywords.each_at(&ids[i..], |k| {
                if let Some(s) = seen.get_mut(k as usize) {
                    if *s != *stamp {
                        *s = *stamp;
                        found.push(k);
                    }
                }
            });
        }
    }

    fn track_score(
        &self,
        t: usize,
        track: &CompiledTrack,
        title: &TitleStage,
        post: &PostView<'_>,
        weeks: Option<i64>,
    ) -> TrackScore {
        let lib = self.lib;
        let cfg = &lib.config;

        let mut title_score = 0.0;
        let mut title_reasons = Vec::new();
        for &(entry, count) in &title.bigrams {
            let Some(e) = lib.title_entries.get(entry as usize) else {
                continue;
            };
            if let Some(score) = e.scores.get(t).copied().flatten() {
                title_score += f64::from(count) * score;
                if score != 0.0 {
                    title_reasons.push(Counted {
                        tag: e.text.to_string(),
                        score,
                        count,
                    });
                }
            }
        }

        let mut raw = 0.0;
        let mut keywords = Vec::new();
        for &k in &self.found {
            let Some(e) = lib.keyword_entries.get(k as usize) else {
                continue;
            };
            if let Some((score, group)) = e.scores.get(t).copied().flatten() {
                raw += score;
                if score != 0.0 {
                    keywords.push(KeywordHit {
                        keyword: e.text.to_string(),
                        group: lib.groups.get(group as usize).map_or(String::new(), |g| g.to_string()),
                        score,
                    });
                }
            }
        }
        let keyword_score = (raw / cfg.keyword_saturation).clamp(-1.0, 1.0);

        let mut rank = 0.0;
        let mut rank_reasons = Vec::new();
        for &r in &title.ranks {
            if let Some((tag, weight, _)) = lib.cleaner.ranks.get(r as usize) {
                rank += weight;
                rank_reasons.push(Counted {
                    tag: tag.to_string(),
                    score: *weight,
                    count: 1,
                });
            }
        }
        let seniority_fit = (1.0 - (rank - track.seniority).abs() / cfg.seniority_span).max(0.0);

        let (salary_fit, salary) = salary_fit(post, track.track.salary_target, cfg.salary_tolerance);

        let recency = match weeks {
            None => 1.0,
            Some(w) => {
                let w = w.max(0) as f64;
                let age = f64::from(track.age_weeks);
                if age == 0.0 {
                    if w == 0.0 { 1.0 } else { cfg.recency_floor }
                } else {
                    1.0 - (1.0 - cfg.recency_floor) * w.min(age) / age
                }
            }
        };

        let relevance = title_score + cfg.keyword_weight * keyword_score;
        let rescued = title_score == 0.0 && keyword_score > 0.0 && keyword_score >= cfg.keyword_rescue;
        let no_match = if title_score < 0.0 {
            Some(format!("the title scores {}", num(title_score)))
        } else if title_score == 0.0 && !rescued {
            let what = if !title.has_words {
                "the title has no words left after cleaning".to_string()
            } else if title.bigrams.iter().any(|(e, _)| {
                lib.title_entries
                    .get(*e as usize)
                    .and_then(|e| e.scores.get(t).copied().flatten())
                    .is_some()
            }) {
                "the title's tags score 0".to_string()
            } else {
                "no title tag".to_string()
            };
            Some(format!(
                "{what}, and keywords {} < {} to match on keywords alone",
                num(keyword_score),
                num(cfg.keyword_rescue)
            ))
        } else if relevance <= 0.0 {
            Some(format!(
                "keywords {} outweigh the title's {}",
                num(keyword_score),
                num(title_score)
            ))
        } else {
            None
        };
        let total = if no_match.is_none() {
            relevance * seniority_fit * salary_fit * recency
        } else {
            0.0
        };

        let summary = summary(&title_reasons, &rank_reasons, &keywords, &salary, no_match.as_deref());
        TrackScore {
            track: track.track.id.clone(),
            title_score,
            keyword_score,
            seniority_fit,
            salary_fit,
            recency,
            total,
            reasons: Reasons {
                title: title_reasons,
                rank: rank_reasons,
                keywords,
                salary,
                no_match,
                summary,
            },
        }
    }
}

fn salary_fit(post: &PostView<'_>, target: Option<f64>, tolerance: f64) -> (f64, SalaryNote) {
    let Some(target) = target else {
        return (1.0, SalaryNote::NoTarget);
    };
    let Some(top) = post.salary_max.or(post.salary_min).filter(|v| *v > 0) else {
        return (1.0, SalaryNote::Unknown);
    };
    let kind = post.salary_type.map(|s| s.trim().to_ascii_lowercase());
    let monthly_max = match kind.as_deref() {
        None | Some("" | "monthly" | "month") => f64::from(top),
        Some("annually" | "annual" | "yearly" | "year") => f64::from(top) / 12.0,
        Some(_) => {
            return (
                1.0,
                SalaryNote::NotMonthly {
                    salary_type: post.salary_type.unwrap_or_default().to_string(),
                },
            );
        }
    };
    if monthly_max >= target {
        (1.0, SalaryNote::Fits { monthly_max, target })
    } else {
        let fit = (1.0 - (target - monthly_max) / (target * tolerance)).max(0.0);
        (fit, SalaryNote::Below { monthly_max, target })
    }
}

fn join(words: &str, tokens: &[TitleTok]) -> String {
    let mut out = String::with_capacity(words.len() + tokens.len());
    for t in tokens {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(words.get(t.start as usize..t.end as usize).unwrap_or_default());
    }
    out
}

/// `+1`, `+0.22`, `-0.23`.
fn signed(v: f64) -> String {
    let n = num(v);
    if n.starts_with('-') { n } else { format!("+{n}") }
}

fn summary(
    title: &[Counted],
    rank: &[Counted],
    keywords: &[KeywordHit],
    salary: &SalaryNote,
    no_match: Option<&str>,
) -> String {
    use std::fmt::Write;
    // One buffer, no list of parts: this runs for every (post, track).
    let mut line = String::with_capacity(96);
    if let Some(why) = no_match {
        let _ = write!(line, "no match: {why}; ");
    }
    let body = line.len();
    let sep = |line: &mut String| {
        if line.len() > body {
            line.push_str(", ");
        }
    };
    for c in title {
        sep(&mut line);
        let _ = write!(line, "{} {}", c.tag, signed(c.score));
        if c.count > 1 {
            let _ = write!(line, " ×{}", c.count);
        }
    }
    for c in rank {
        sep(&mut line);
        let _ = write!(line, "{} {}", c.tag, signed(c.score));
    }
    for (positive, label) in [(true, "keywords: "), (false, "against: ")] {
        let mut first = true;
        for k in keywords.iter().filter(|k| (k.score > 0.0) == positive) {
            if first {
                sep(&mut line);
                line.push_str(label);
                first = false;
            } else {
                line.push_str(", ");
            }
            line.push_str(&k.keyword);
        }
    }
    let salary = match salary {
        SalaryNote::NoTarget => None,
        SalaryNote::Unknown => Some("salary unknown".to_string()),
        SalaryNote::NotMonthly { salary_type } => Some(format!("salary {} not judged", salary_type.to_lowercase())),
        SalaryNote::Fits { .. } => Some("salary fits".to_string()),
        SalaryNote::Below { monthly_max, target } => Some(format!(
            "salary below target ({} < {})",
            num(monthly_max.round()),
            num(*target)
        )),
    };
    if let Some(s) = salary {
        if line.len() > body {
            line.push_str("; ");
        }
        line.push_str(&s);
    }
    if line.len() == body {
        // Nothing after "no match: why; ".
        line.truncate(body.saturating_sub(2));
    }
    line
}
