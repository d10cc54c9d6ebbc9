//! The recommender benchmark's measuring side (`cargo xtask bench recommend`): jobmatch scoring
//! posts (title and description, three tracks), against `bench/match_python.py`, the original's
//! way in pandas and scikit-learn, on the same posts and library.
//!
//! - [`prepare_score`] writes the score set both sides read: `posts.json`, the 102 captures
//!   (100 search items, the job detail, the job page) with what scoring reads of them, each
//!   search item given a description built from the two real ones (search items carry none);
//!   and `library.json`, the starter library plus a third track (`analytics`).
//! - [`score_throughput`] scores the set pass after pass for a time budget per run.
//! - [`score_check`] prints every (post, track) score, for the test that holds both sides to
//!   the same answers.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use jobmatch::{CompiledLibrary, Day, Library, PostView, Seniority, TitleTag, Track};
use serde::{Deserialize, Serialize};

use crate::Measured;

/// The day both sides score as of: the Monday after the captures were taken.
pub const TODAY: &str = "2025-05-19";

const SEARCH: &str = "api/search_page0_limit100.json";
const DETAIL: &str = "api/job_76d3310ae51348c561935cb2472f2883.json";
const PAGE: &str = "html/job_page_5624187c437fddd00296eecc783ed4cd.html";

/// One post of the score set: what scoring reads of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorePost {
    pub uuid: String,
    pub title: String,
    pub description: Option<String>,
    pub skills: Vec<String>,
    pub salary_min: Option<u32>,
    pub salary_max: Option<u32>,
    pub salary_type: Option<String>,
    pub posted_date: Option<String>,
}

impl ScorePost {
    fn view(&self) -> PostView<'_> {
        PostView {
            title: &self.title,
            description: self.description.as_deref(),
            skills: &self.skills,
            salary_min: self.salary_min,
            salary_max: self.salary_max,
            salary_type: self.salary_type.as_deref(),
            posted_date: self.posted_date.as_deref(),
        }
    }
}

/// The library tables as files, one YAML list per table (config/seed/library).
pub fn load_library(dir: &Path) -> Result<Library> {
    fn table<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> Result<Vec<T>> {
        let path = dir.join(format!("{name}.yaml"));
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_norway::from_str(&text).with_context(|| format!("{} is not a list of {name} rows", path.display()))
    }
    Ok(Library {
        title_tags: table(dir, "title_tags")?,
        rank_tags: table(dir, "rank_tags")?,
        junk_tags: table(dir, "junk_tags")?,
        keep_tags: table(dir, "keep_tags")?,
        keyword_tags: table(dir, "keyword_tags")?,
        tracks: table(dir, "tracks")?,
        config: table(dir, "config")?,
    })
}

/// The starter library with the benchmark's third track, `analytics` (the starter's `data
/// analyst` keyword group, which no starter track uses, and title rows of its own), so that
/// each post is scored for three tracks.
pub fn bench_library(mut library: Library) -> Library {
    for (tag, score) in [
        ("data analyst", 1.0),
        ("data analytics", 1.0),
        ("business analyst", 0.5),
    ] {
        library.title_tags.push(TitleTag {
            tag: tag.into(),
            industry: Some("IT".into()),
            count: None,
            score,
            track: Some("analytics".into()),
        });
    }
    library.tracks.push(Track {
        id: "analytics".into(),
        name: "Data analytics (benchmark)".into(),
        role: Some("data analyst".into()),
        keyword_groups: vec!["data analyst".into()],
        seniority: Some(Seniority::Tag("senior".into())),
        salary_target: Some(6000.0),
        match_score_min: None,
        age_weeks: None,
        cv_version: Some("analytics-1.0".into()),
    });
    library
}

fn compile(library: &Library) -> Result<CompiledLibrary> {
    Ok(CompiledLibrary::compile(library)?.library)
}

/// What [`prepare_score`] wrote.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreSetInfo {
    pub posts: usize,
    pub tracks: Vec<String>,
    pub description_bytes: usize,
}

/// Writes `posts.json` and `library.json` to `out` (see the module doc).
pub fn prepare_score(fixtures: &Path, library_dir: &Path, out: &Path) -> Result<ScoreSetInfo> {
    let read = |rel: &str| {
        let path = fixtures.join(rel);
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    let mut posts = mcfparse::parse_search_response(&read(SEARCH)?)
        .context("the search capture does not parse")?
        .posts;
    let detail = mcfparse::parse_document(&read(DETAIL)?).context("the job detail does not parse")?;
    let page = mcfparse::parse_document(&read(PAGE)?).context("the job page does not parse")?;
    let real: Vec<String> = [&detail, &page]
        .iter()
        .map(|p| p.description.clone().context("a capture lost its description"))
        .collect::<Result<_>>()?;
    // A search item has no description: it gets its title over one of the two real ones,
    // alternately, so every post has a description of a real post's size and shape.
    for (i, post) in posts.iter_mut().enumerate() {
        post.description = Some(format!("{}\n{}", post.title, real[i % real.len()]));
    }
    posts.push(detail);
    posts.push(page);
    let set: Vec<ScorePost> = posts
        .into_iter()
        .map(|p| ScorePost {
            uuid: p.uuid,
            title: p.title,
            description: p.description,
            skills: p.skills,
            salary_min: p.salary_min,
            salary_max: p.salary_max,
            salary_type: p.salary_type,
            posted_date: p.posted_date,
        })
        .collect();
    let library = bench_library(load_library(library_dir)?);
    compile(&library).context("the benchmark's library")?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    std::fs::write(out.join("posts.json"), serde_json::to_vec(&set)?)?;
    std::fs::write(out.join("library.json"), serde_json::to_vec_pretty(&library)?)?;
    Ok(ScoreSetInfo {
        posts: set.len(),
        tracks: library.tracks.iter().map(|t| t.id.clone()).collect(),
        description_bytes: set.iter().map(|p| p.description.as_ref().map_or(0, String::len)).sum(),
    })
}

/// Reads what [`prepare_score`] wrote.
pub fn load_score_set(dir: &Path) -> Result<(Vec<ScorePost>, Library)> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    let posts = serde_json::from_slice(&read("posts.json")?).context("posts.json")?;
    let library = serde_json::from_slice(&read("library.json")?).context("library.json")?;
    Ok((posts, library))
}

fn today() -> Result<Day> {
    Day::parse(TODAY).context("TODAY is not a date")
}

/// What each side of the score comparison prints (the Python peer prints the same shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScoreReport {
    pub implementation: String,
    /// Posts in one pass over the set.
    pub posts: u64,
    pub tracks: Vec<String>,
    /// One figure per run: posts scored (each for every track) and the time it took.
    pub runs: Vec<Measured>,
}

/// Scores the set once (a check and a warm-up), then per run pass after pass until `budget`.
pub fn score_throughput(posts: &[ScorePost], library: &Library, budget: Duration, runs: usize) -> Result<ScoreReport> {
    let lib = compile(library)?;
    let today = today()?;
    let mut scorer = lib.scorer();
    if posts.is_empty() {
        bail!("the score set has no posts");
    }
    for p in posts {
        std::hint::black_box(scorer.score(p.view(), today));
    }
    let mut report = ScoreReport {
        implementation: format!("jobmatch {}", env!("CARGO_PKG_VERSION")),
        posts: posts.len() as u64,
        tracks: lib.tracks().iter().map(|t| t.track.id.clone()).collect(),
        runs: Vec::new(),
    };
    for _ in 0..runs {
        let started = Instant::now();
        let mut scored = 0u64;
        loop {
            for p in posts {
                std::hint::black_box(scorer.score(std::hint::black_box(p).view(), today));
                scored += 1;
            }
            if started.elapsed() >= budget {
                break;
            }
        }
        report.runs.push(Measured {
            docs: scored,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    Ok(report)
}

/// One (post, track) score, as both sides print it with `--check`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRow {
    pub uuid: String,
    pub track: String,
    pub title_score: f64,
    pub keyword_score: f64,
    pub seniority_fit: f64,
    pub salary_fit: f64,
    pub recency: f64,
    pub total: f64,
}

pub fn score_check(posts: &[ScorePost], library: &Library) -> Result<Vec<CheckRow>> {
    let lib = compile(library)?;
    let today = today()?;
    let mut scorer = lib.scorer();
    let mut rows = Vec::new();
    for p in posts {
        for s in scorer.score(p.view(), today).tracks {
            rows.push(CheckRow {
                uuid: p.uuid.clone(),
                track: s.track,
                title_score: s.title_score,
                keyword_score: s.keyword_score,
                seniority_fit: s.seniority_fit,
                salary_fit: s.salary_fit,
                recency: s.recency,
                total: s.total,
            });
        }
    }
    Ok(rows)
}
