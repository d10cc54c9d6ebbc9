//! `mcfbench`: the measuring side of `cargo xtask bench runtime`, built with `--release`.
//!
//! - [`prepare`] lays the repository's MCF captures out as single documents, one file each,
//!   with a `manifest.json`: the 100 search items (each result of the captured search page as
//!   a document of its own, as the parser receives it), the job detail and the rendered job
//!   page. mcfparse here and `bench/parse_python.py` read the same files.
//! - [`throughput`] parses them with `mcfparse::parse_document` (what the Lambda calls), per
//!   kind, for a time budget per run.
//! - [`scrape_run`] runs the scraper with the in-memory store against the fixture server with
//!   no rate limit and reads its own overhead per post from the run summary's timing.
//!
//! - [`score`] is the recommender benchmark's side (`cargo xtask bench recommend`): jobmatch
//!   scoring the captures for three tracks, against `bench/match_python.py`.
//!
//! - [`crm`] is the CRM benchmark's side (`cargo xtask bench crm`): `GET /jobs` with filters on
//!   the local server against the naive way, on a CRM table on moto.
//!
//! Figures are printed as JSON by the `mcfbench` binary; medians, targets and the table are the
//! deployer's (`xtask/src/bench/`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

pub mod crm;
pub mod score;

/// The kinds of document, in the order they are measured.
pub const KINDS: [&str; 3] = ["search_item", "job_detail", "job_page"];

const SEARCH: &str = "api/search_page0_limit100.json";
const DETAIL: &str = "api/job_76d3310ae51348c561935cb2472f2883.json";
const PAGE: &str = "html/job_page_5624187c437fddd00296eecc783ed4cd.html";

/// One prepared document, as listed in `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub file: String,
    /// One of [`KINDS`].
    pub kind: String,
    /// The post's uuid, as mcfparse reads it.
    pub uuid: String,
}

/// A prepared document in memory.
#[derive(Debug, Clone)]
pub struct Doc {
    pub entry: Entry,
    pub bytes: Vec<u8>,
}

/// Writes the captures under `fixtures` (tests/fixtures/mcf) to `out` as single documents and
/// a manifest; `items` limits the search items (all 100 when `None`).
pub fn prepare(fixtures: &Path, out: &Path, items: Option<usize>) -> Result<Vec<Entry>> {
    let read = |rel: &str| {
        let path = fixtures.join(rel);
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let search: serde_json::Value = serde_json::from_slice(&read(SEARCH)?).context("the search capture is not JSON")?;
    let results = search["results"]
        .as_array()
        .context("the search capture has no `results` array")?;
    let mut docs: Vec<(String, &str, Vec<u8>)> = Vec::new();
    for (i, item) in results.iter().take(items.unwrap_or(usize::MAX)).enumerate() {
        docs.push((
            format!("search_item_{i:03}.json"),
            "search_item",
            serde_json::to_vec(item)?,
        ));
    }
    docs.push(("job_detail.json".into(), "job_detail", read(DETAIL)?));
    docs.push(("job_page.html".into(), "job_page", read(PAGE)?));
    let mut manifest = Vec::new();
    for (file, kind, bytes) in docs {
        let post = mcfparse::parse_document(&bytes).with_context(|| format!("{file} does not parse"))?;
        std::fs::write(out.join(&file), &bytes)?;
        manifest.push(Entry {
            file,
            kind: kind.to_string(),
            uuid: post.uuid,
        });
    }
    std::fs::write(out.join("manifest.json"), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// Reads the documents [`prepare`] wrote.
pub fn load(dir: &Path) -> Result<Vec<Doc>> {
    let manifest = dir.join("manifest.json");
    let text = std::fs::read(&manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    let entries: Vec<Entry> = serde_json::from_slice(&text).context("manifest.json")?;
    entries
        .into_iter()
        .map(|entry| {
            let path: PathBuf = dir.join(&entry.file);
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            Ok(Doc { entry, bytes })
        })
        .collect()
}

/// Documents parsed and the time it took, for one kind in one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    pub docs: u64,
    pub seconds: f64,
}

impl Measured {
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.docs as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// What the parse side prints (the Python peer prints the same shape).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ThroughputReport {
    pub implementation: String,
    /// Documents of each kind in one pass over the set.
    pub set: BTreeMap<String, u64>,
    /// One map per run: kind → measured.
    pub runs: Vec<BTreeMap<String, Measured>>,
}

/// Parses every document once (a check and a warm-up), then for each run and kind parses the
/// kind's documents pass after pass until `budget` has elapsed.
pub fn throughput(docs: &[Doc], budget: Duration, runs: usize) -> Result<ThroughputReport> {
    for doc in docs {
        if let Err(e) = mcfparse::parse_document(&doc.bytes) {
            bail!("{} does not parse: {e}", doc.entry.file);
        }
    }
    let by_kind = |kind: &str| -> Vec<&[u8]> {
        docs.iter()
            .filter(|d| d.entry.kind == kind)
            .map(|d| d.bytes.as_slice())
            .collect()
    };
    let mut report = ThroughputReport {
        implementation: "mcfparse".into(),
        ..ThroughputReport::default()
    };
    for kind in KINDS {
        report.set.insert(kind.into(), by_kind(kind).len() as u64);
    }
    for _ in 0..runs {
        let mut run = BTreeMap::new();
        for kind in KINDS {
            let set = by_kind(kind);
            if set.is_empty() {
                continue;
            }
            let started = Instant::now();
            let mut parsed = 0u64;
            loop {
                for bytes in &set {
                    let post = mcfparse::parse_document(std::hint::black_box(bytes));
                    std::hint::black_box(&post);
                    parsed += 1;
                }
                if started.elapsed() >= budget {
                    break;
                }
            }
            run.insert(
                kind.to_string(),
                Measured {
                    docs: parsed,
                    seconds: started.elapsed().as_secs_f64(),
                },
            );
        }
        report.runs.push(run);
    }
    Ok(report)
}

/// One scraper run against the fixture server, from its summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScrapeRun {
    pub fetched: u32,
    pub requests: u32,
    pub total_ms: f64,
    pub mcf_ms: f64,
    pub rate_wait_ms: f64,
    pub backoff_ms: f64,
    pub store_ms: f64,
    /// (total − mcf − rate wait − backoff) / fetched.
    pub overhead_ms_per_post: f64,
    /// Requests the fixture server answered, and the time it spent per request.
    pub fixture_requests: u64,
    pub fixture_ms_per_request: f64,
}

/// One run of every captured post (one search page of 100, 100 job details) with the memory
/// store and no rate limit.
pub async fn scrape_run(server: &mcffixture::FixtureServer) -> Result<ScrapeRun> {
    use mcffixture::Route;
    use mcfscrape::{ClientConfig, Fetcher, McfClient, MemoryStore, RetryPolicy, RunOptions};

    server.reset_counts();
    let client = McfClient::new(&ClientConfig {
        base_url: server.url().to_string(),
        ..ClientConfig::default()
    })
    .map_err(anyhow::Error::msg)?;
    let mut fetcher = Fetcher::new(client, RetryPolicy::default(), 0.0);
    let store = MemoryStore::new(vec![mcfcore::SearchProfile {
        name: "all".into(),
        track: "bench".into(),
        keywords: vec![],
        categories: vec![],
        employment_types: vec![],
        position_levels: vec![],
        min_salary: None,
    }]);
    let options = RunOptions {
        quiet: true,
        ..RunOptions::default()
    };
    let summary = mcfscrape::run(&mut fetcher, &store, &options).await;
    if summary.outcome != mcfscrape::Outcome::Completed || summary.fetched == 0 {
        bail!(
            "the scraper run did not complete: {}",
            serde_json::to_string(&summary).unwrap_or_default()
        );
    }
    let t = &summary.timing;
    let own = t.total_ms - t.mcf_ms - t.rate_wait_ms - t.backoff_ms;
    let requests = server.count(Route::Search) + server.count(Route::Detail) + server.count(Route::Other);
    let served =
        server.service_time(Route::Search) + server.service_time(Route::Detail) + server.service_time(Route::Other);
    Ok(ScrapeRun {
        fetched: summary.fetched,
        requests: summary.requests,
        total_ms: t.total_ms,
        mcf_ms: t.mcf_ms,
        rate_wait_ms: t.rate_wait_ms,
        backoff_ms: t.backoff_ms,
        store_ms: t.store_ms,
        overhead_ms_per_post: own / f64::from(summary.fetched),
        fixture_requests: requests,
        fixture_ms_per_request: if requests > 0 {
            served.as_secs_f64() * 1000.0 / requests as f64
        } else {
            0.0
        },
    })
}
