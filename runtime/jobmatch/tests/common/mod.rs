//! What the integration tests share: the starter library read from config/seed/library (the
//! way config sync will: one YAML file per table), the MCF captures as posts, and a post builder.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::{Path, PathBuf};

use jobmatch::{CompiledLibrary, Day, Library};
use mcfcore::{Post, PostStatus, Source};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn seed_dir() -> PathBuf {
    workspace().join("config/seed/library")
}

/// The line of the `row`-th top-level entry (`- `) of a YAML list file, 1-based.
pub fn row_line(text: &str, row: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("- "))
        .nth(row)
        .map(|(i, _)| i + 1)
}

fn table<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> Result<(Vec<T>, String), String> {
    let path = dir.join(format!("{name}.yaml"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let rows = serde_norway::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((rows, text))
}

/// Reads a library folder; errors name the file (and serde's line and column).
pub fn load_library(dir: &Path) -> Result<(Library, Vec<(String, String)>), String> {
    let (title_tags, t1) = table(dir, "title_tags")?;
    let (rank_tags, t2) = table(dir, "rank_tags")?;
    let (junk_tags, t3) = table(dir, "junk_tags")?;
    let (keep_tags, t4) = table(dir, "keep_tags")?;
    let (keyword_tags, t5) = table(dir, "keyword_tags")?;
    let (tracks, t6) = table(dir, "tracks")?;
    let (config, t7) = table(dir, "config")?;
    let texts = [
        ("title_tags", t1),
        ("rank_tags", t2),
        ("junk_tags", t3),
        ("keep_tags", t4),
        ("keyword_tags", t5),
        ("tracks", t6),
        ("config", t7),
    ]
    .map(|(n, t)| (n.to_string(), t))
    .to_vec();
    Ok((
        Library {
            title_tags,
            rank_tags,
            junk_tags,
            keep_tags,
            keyword_tags,
            tracks,
            config,
        },
        texts,
    ))
}

/// A problem as `config/seed/library/<table>.yaml:<line>: ...`.
pub fn locate(problem: &jobmatch::Problem, texts: &[(String, String)]) -> String {
    let name = problem.table.name();
    let line = texts
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, t)| row_line(t, problem.row))
        .map_or(String::new(), |l| format!(":{l}"));
    format!("config/seed/library/{name}.yaml{line}: {problem}")
}

pub fn starter_library() -> Library {
    load_library(&seed_dir()).expect("the starter library reads").0
}

pub fn starter() -> CompiledLibrary {
    match CompiledLibrary::compile(&starter_library()) {
        Ok(compiled) => compiled.library,
        Err(e) => panic!("{e}"),
    }
}

/// The day the captures were taken after (a Monday).
pub fn today() -> Day {
    Day::parse("2025-05-19").expect("a date")
}

const SEARCH: &[u8] = include_bytes!("../../../../tests/fixtures/mcf/api/search_page0_limit100.json");
const DETAIL: &[u8] = include_bytes!("../../../../tests/fixtures/mcf/api/job_76d3310ae51348c561935cb2472f2883.json");
const PAGE: &[u8] =
    include_bytes!("../../../../tests/fixtures/mcf/html/job_page_5624187c437fddd00296eecc783ed4cd.html");

/// The 100 search items, the job detail and the rendered job page, as mcfparse reads them.
pub fn captures() -> Vec<Post> {
    let mut posts = mcfparse::parse_search_response(SEARCH)
        .expect("the search capture parses")
        .posts;
    posts.push(mcfparse::parse_document(DETAIL).expect("the detail parses"));
    posts.push(mcfparse::parse_document(PAGE).expect("the page parses"));
    posts
}

pub fn capture(title: &str) -> Post {
    captures()
        .into_iter()
        .find(|p| p.title == title)
        .unwrap_or_else(|| panic!("no capture titled {title:?}"))
}

/// A post with this title and nothing else but an open status.
pub fn post(title: &str) -> Post {
    Post {
        uuid: "0".repeat(32),
        job_post_id: None,
        title: title.to_string(),
        company_name: "ACME".into(),
        company_uen: None,
        posted_by_name: None,
        posted_by_uen: None,
        posted_on_behalf: None,
        salary_min: None,
        salary_max: None,
        salary_type: None,
        hide_salary: None,
        employment_types: vec![],
        position_levels: vec![],
        categories: vec![],
        skills: vec![],
        min_years_experience: None,
        vacancies: None,
        posted_date: None,
        original_posted_date: None,
        expiry_date: None,
        updated_at: None,
        applications: None,
        views: None,
        districts: vec![],
        regions: vec![],
        description: None,
        url: None,
        status: PostStatus::Open,
        status_code: Some(102),
        source: Source::JobDetail,
    }
}
