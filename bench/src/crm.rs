//! The CRM benchmark's measuring side (`cargo xtask bench crm`): `GET /jobs` with filters on
//! the local server, in a release build, against a CRM table that the deployer filled on moto.
//!
//! - [`measure`] builds the [`App`] the Lambda function and `cargo xtask crm serve` build,
//!   serves it with [`jobcrm_lambda::serve::serve`] on 127.0.0.1, and sends it the requests of
//!   [`filters`] one at a time over one keep-alive HTTP/1.1 connection (reqwest): the first
//!   request loads every job into memory (timed on its own, `cold_ms`), each filter is then
//!   sent once untimed, then `requests` are timed, the filters in turn. Each list brings the
//!   index up to date first with one Query per stage of the stage index (ten small Queries to
//!   moto): that is part of what is timed.
//! - The baseline, [`naive_list`]: what a list costs without the in-memory index. Per request,
//!   every page of the stage index's Query for each stage asked for (all ten when the request
//!   names none), then the same filter, sort and page ([`Index::page`]) and the same JSON. It
//!   runs in this process on the same moto and the same requests, without HTTP and the token
//!   check (a few hundred microseconds on 127.0.0.1, against its hundreds of milliseconds).
//! - Two parts of a list, for reading the figures: the in-memory filter, sort, page and JSON
//!   alone ([`in_memory`]), and the refresh alone ([`App::refresh`]: the ten Queries).
//!
//! Every way answers each request with the same `total`, which the report says.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use jobcrm_lambda::list::{Index, ListQuery};
use jobcrm_lambda::types::{JobPage, JobView};
use jobcrm_lambda::{App, Request, Settings};
use mcfcore::log::{Log, LogLine, LogSink};
use mcfstore::crm::CrmStore;
use serde::{Deserialize, Serialize};

/// Where the benchmark's App finds its tables and tokens.
#[derive(Debug, Clone)]
pub struct CrmSetup {
    /// moto's URL.
    pub endpoint: String,
    pub token: String,
    pub settings: Settings,
    /// Timed requests on the server (the filters in turn).
    pub requests: usize,
    /// Timed requests of the baseline, which is slow on moto.
    pub naive_requests: usize,
    /// `posted_since` of the filter that takes one (`YYYY-MM-DD`).
    pub posted_since: String,
}

/// The request mix: (name, query string). The last one is the second page of the first,
/// through the cursor its first page gave (filled in by [`measure`]).
pub fn filters(posted_since: &str) -> Vec<(&'static str, String)> {
    vec![
        ("stage + min_score", "stage=SCREENED&min_score=0.5".to_string()),
        ("track, newest first", "track=data&sort=posted".to_string()),
        ("text search", "q=engineer".to_string()),
        (
            "posted since, deadline soonest",
            format!("posted_since={posted_since}&sort=deadline&order=asc"),
        ),
        ("two stages", "stage=TOAPPLY,APPLIED".to_string()),
        (
            "second page (cursor)",
            "stage=SCREENED&min_score=0.5&cursor=".to_string(),
        ),
    ]
}

/// Latencies of many requests, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Latencies {
    pub requests: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Latencies {
    /// Nearest-rank percentiles of `ms`.
    pub fn of(ms: &[f64]) -> Latencies {
        let mut v = ms.to_vec();
        v.sort_by(|a, b| a.total_cmp(b));
        let rank = |p: f64| {
            if v.is_empty() {
                0.0
            } else {
                v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
            }
        };
        Latencies {
            requests: v.len(),
            p50_ms: rank(0.50),
            p99_ms: rank(0.99),
            max_ms: v.last().copied().unwrap_or(0.0),
            mean_ms: if v.is_empty() {
                0.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            },
        }
    }
}

/// One filter's figures in one way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerFilter {
    pub name: String,
    pub query: String,
    pub requests: usize,
    pub median_ms: f64,
    /// How many jobs match.
    pub total: usize,
    /// Jobs on the page.
    pub items: usize,
}

/// One way of answering the requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Way {
    pub latencies: Latencies,
    pub per_filter: Vec<PerFilter>,
}

/// What `mcfbench crm` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrmReport {
    /// Jobs in the index (the total of an unfiltered list).
    pub jobs: usize,
    /// The server's first request: the index loaded from the table (every page of the ten
    /// stages) and the token's hash read from SSM.
    pub cold_ms: f64,
    /// `GET /jobs` over HTTP on the local server, index warm.
    pub server: Way,
    /// The baseline: the stage index queried per request, filtered after.
    pub naive: Way,
    /// Filter, sort, page and JSON over the in-memory index alone (no moto, no HTTP).
    pub in_memory: Way,
    /// `App::refresh` alone: the ten stage-index Queries to moto with nothing new.
    pub refresh: Latencies,
    /// Whether every way gave each filter the same total.
    pub same_totals: bool,
}

/// Log lines dropped: the benchmark measures the handler, not a terminal.
struct Discard;

impl LogSink for Discard {
    fn write(&self, _: &LogLine) {}
}

/// The whole measurement (see the module's documentation).
pub async fn measure(setup: &CrmSetup) -> Result<CrmReport> {
    // The deployer's per-attempt limit (60 s, as `cargo xtask` connects), not the Lambda's
    // 20 s: moto walks every item of the table for each index Query, and its first load of
    // 10,000 jobs (ten stages read at once, each in pages) can take longer than 20 s.
    let aws = mcfstore::Aws::options()
        .endpoint(Some(setup.endpoint.clone()))
        .timeouts(Duration::from_secs(5), Duration::from_secs(60))
        .connect()
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let app = Arc::new(App::new(&aws, setup.settings.clone()).with_log(Log::new("crm", Arc::new(Discard))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/jobs", listener.local_addr()?);
    let server = tokio::spawn(jobcrm_lambda::serve::serve(listener, app.clone()));
    let result = measure_on(setup, &app, &aws, &base).await;
    server.abort();
    result
}

async fn measure_on(setup: &CrmSetup, app: &App, aws: &mcfstore::Aws, base: &str) -> Result<CrmReport> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(120))
        .build()?;
    let get = |query: String| {
        let (client, token) = (client.clone(), setup.token.clone());
        let url = format!("{base}?{query}");
        async move {
            let started = Instant::now();
            let response = client.get(&url).bearer_auth(token).send().await?;
            let status = response.status();
            let body = response.bytes().await?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            if !status.is_success() {
                bail!("GET {url}: {status} {}", String::from_utf8_lossy(&body));
            }
            let page: Page = serde_json::from_slice(&body).with_context(|| format!("GET {url}: not a page"))?;
            anyhow::Ok((ms, page))
        }
    };

    // Cold: the first request loads every job.
    let (cold_ms, all) = get("limit=1".into()).await?;
    let mut queries = filters(&setup.posted_since);
    let first = get(queries[0].1.clone()).await?.1;
    let cursor = first
        .next
        .context("the first filter has a single page: no cursor to follow (too few jobs?)")?;
    if let Some(last) = queries.last_mut() {
        last.1.push_str(&cursor);
    }
    for (_, q) in &queries {
        get(q.clone()).await?;
    }

    // The server, warm, the filters in turn.
    let mut server = Samples::new(&queries);
    for i in 0..setup.requests {
        let k = i % queries.len();
        let (ms, page) = get(queries[k].1.clone()).await?;
        server.add(k, ms, page.total, page.items.len());
    }

    // The refresh alone: what each list above did before filtering.
    let mut refresh = Vec::new();
    for _ in 0..setup.requests.clamp(1, 100) {
        let started = Instant::now();
        app.refresh().await.map_err(|e| anyhow!("refresh: {e}"))?;
        refresh.push(started.elapsed().as_secs_f64() * 1000.0);
    }

    // The baseline, on the same moto and the same requests.
    let crm = CrmStore::new(aws.dynamodb(), &setup.settings.crm_table);
    let mut naive = Samples::new(&queries);
    for i in 0..setup.naive_requests {
        let k = i % queries.len();
        let started = Instant::now();
        let (total, items, _) = naive_list(&crm, &queries[k].1).await?;
        naive.add(k, started.elapsed().as_secs_f64() * 1000.0, total, items);
    }

    // The in-memory part alone, over every job read once.
    let mut index = Index::default();
    for job in read_stages(&crm, &[]).await? {
        index.put(job);
    }
    let mut memory = Samples::new(&queries);
    for i in 0..setup.requests {
        let k = i % queries.len();
        let started = Instant::now();
        let (total, items, _) = in_memory(&index, &queries[k].1)?;
        memory.add(k, started.elapsed().as_secs_f64() * 1000.0, total, items);
    }

    let (server, naive, in_memory) = (server.way(), naive.way(), memory.way());
    let totals = |w: &Way| w.per_filter.iter().map(|f| f.total).collect::<Vec<_>>();
    let same_totals =
        totals(&server) == totals(&in_memory) && (setup.naive_requests == 0 || totals(&server) == totals(&naive));
    Ok(CrmReport {
        jobs: all.total,
        cold_ms,
        server,
        naive,
        in_memory,
        refresh: Latencies::of(&refresh),
        same_totals,
    })
}

/// The part of a page the benchmark reads.
#[derive(Debug, Deserialize)]
struct Page {
    items: Vec<serde_json::Value>,
    total: usize,
    #[serde(default)]
    next: Option<String>,
}

/// Per-request times, per filter.
struct Samples {
    names: Vec<(String, String)>,
    ms: Vec<Vec<f64>>,
    totals: Vec<(usize, usize)>,
}

impl Samples {
    fn new(queries: &[(&'static str, String)]) -> Samples {
        Samples {
            names: queries.iter().map(|(n, q)| (n.to_string(), q.clone())).collect(),
            ms: vec![Vec::new(); queries.len()],
            totals: vec![(0, 0); queries.len()],
        }
    }

    fn add(&mut self, k: usize, ms: f64, total: usize, items: usize) {
        self.ms[k].push(ms);
        self.totals[k] = (total, items);
    }

    fn way(&self) -> Way {
        let all: Vec<f64> = self.ms.iter().flatten().copied().collect();
        let per_filter = (0..self.names.len())
            .filter(|&k| !self.ms[k].is_empty())
            .map(|k| PerFilter {
                name: self.names[k].0.clone(),
                query: self.names[k].1.clone(),
                requests: self.ms[k].len(),
                median_ms: Latencies::of(&self.ms[k]).p50_ms,
                total: self.totals[k].0,
                items: self.totals[k].1,
            })
            .collect();
        Way {
            latencies: Latencies::of(&all),
            per_filter,
        }
    }
}

fn parse(query: &str) -> Result<ListQuery> {
    let request = Request::new("GET", "/jobs").with_query_string(query);
    ListQuery::parse(&request.query).map_err(|(field, why)| anyhow!("{field}: {why}"))
}

/// Every job of `stages` (all ten when empty), each stage's Query with all its pages, the
/// stages read concurrently as the function's refresh reads them.
async fn read_stages(crm: &CrmStore, stages: &[String]) -> Result<Vec<mcfstore::crm::Job>> {
    let all: Vec<String> = if stages.is_empty() {
        jobmatch::Stage::ALL.iter().map(|s| s.as_str().to_string()).collect()
    } else {
        stages.to_vec()
    };
    let pages = futures_util::future::join_all(all.iter().map(|s| crm.stage_since(s, None))).await;
    let mut jobs = Vec::new();
    for page in pages {
        jobs.extend(page.map_err(|e| anyhow!("{e}"))?);
    }
    Ok(jobs)
}

/// The baseline list: the stages' jobs read from the table for this request, then the same
/// filter, sort, page and JSON as the function. (total, jobs on the page, the body.)
pub async fn naive_list(crm: &CrmStore, query: &str) -> Result<(usize, usize, Vec<u8>)> {
    let q = parse(query)?;
    let mut index = Index::default();
    for job in read_stages(crm, &q.stages).await? {
        index.put(job);
    }
    in_memory_page(&index, &q)
}

/// Filter, sort, page and JSON over `index` alone.
pub fn in_memory(index: &Index, query: &str) -> Result<(usize, usize, Vec<u8>)> {
    in_memory_page(index, &parse(query)?)
}

fn in_memory_page(index: &Index, q: &ListQuery) -> Result<(usize, usize, Vec<u8>)> {
    let (jobs, total, next) = index.page(q);
    let items = jobs.len();
    let body = serde_json::to_vec(&JobPage {
        items: jobs.into_iter().map(JobView::from).collect(),
        total,
        next,
    })?;
    Ok((total, items, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let ms: Vec<f64> = (1..=200).map(f64::from).collect();
        let l = Latencies::of(&ms);
        assert_eq!((l.p50_ms, l.p99_ms, l.max_ms, l.requests), (100.0, 198.0, 200.0, 200));
        assert_eq!(Latencies::of(&[3.0]).p99_ms, 3.0);
        assert_eq!(Latencies::of(&[]).requests, 0);
    }

    #[test]
    fn every_filter_parses_and_the_cursor_comes_last() {
        let all = filters("2026-11-01");
        for (_, q) in &all[..all.len() - 1] {
            parse(q).unwrap();
        }
        assert!(all.last().unwrap().1.ends_with("cursor="));
    }
}
