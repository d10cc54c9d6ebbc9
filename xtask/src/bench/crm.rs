//! `bench crm`: the CRM's `GET /jobs` (issue 11) measured in one run: p50 and p99 of lists with
//! filters on the local server over `--items` jobs (target: p99 under 20 ms), against the naive
//! way without the in-memory index; the function's initialisation, its first (cold) request and
//! peak memory, as the parser's are measured; the zip (target: under 5 MB).
//!
//! Set-up: moto on a free port of its own (stopped by PID), the `database` stack deployed into
//! it by the deployer, the starter library written (`library::file_items`), a token's SHA-256
//! in SSM, and `items` synthetic jobs ([`synthetic_jobs`]: stages, two tracks, scores, titles,
//! companies and posting dates over 8 weeks, spread as a hunt leaves them) with one creation
//! event each, written with BatchWriteItem. Then, per run:
//! - `mcfbench crm` (release): the local server on 127.0.0.1 over HTTP, and in the same process
//!   the naive baseline, the refresh alone and the in-memory page alone ([`mcfbench::crm`]);
//! - the release `jobcrm` binary behind the stand-in Lambda Runtime API
//!   ([`runtime_api::invoke_once`]) on one API Gateway proxy event, `GET /jobs` with a stage and
//!   a minimum score: spawn to first `next` (init), the event to its answer (the cold request,
//!   which loads every job), VmRSS at init and VmHWM after.
//!
//! Prints one table; `--write` replaces the crm section of docs/benchmarks.md.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use jobmatch::Day;
use jobmatch_lambda::score::{date_of, singapore_today};
use mcfstore::crm::{Event, Job, Scores};
use mcfstore::library::LibraryStore;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::runtime::runtime_api::{self, Probe};
use super::runtime::{Row, arch_name, lambda_zip};
use super::{load_average, machine, mb, median, run_json, tempdir, thousands, write_section};
use crate::artifacts::{Workspace, cargo_command, sha256_hex};
use crate::local;
use crate::session::{Project, Session};
use crate::ui::{Ui, table};
use crate::workflow::library;
use crate::workflow::recommend::RecommendNames;

pub const START: &str = "<!-- bench:crm:start -->";
pub const END: &str = "<!-- bench:crm:end -->";

/// The issue's targets.
const P99_TARGET_MS: f64 = 20.0;
const ZIP_LIMIT_BYTES: f64 = 5e6;
/// Filters in the request mix (`mcfbench::crm::filters`).
const FILTERS: usize = 6;
/// Where the benchmark's token hash is kept (`auth::token_path` for project mcfpipe, env local).
const TOKEN_PATH: &str = "/mcfpipe/local/crm/tokens/";
const TOKEN_USER: &str = "bench";
/// Days of posting dates the jobs spread over.
const DAYS: i64 = 56;

pub async fn run(project: &Project, ui: &Ui, runs: usize, items: usize, requests: usize, write: bool) -> Result<u8> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    if items < 200 {
        bail!("--items must be at least 200 (a filter needs a second page for the cursor request)");
    }
    let ws = Workspace::load(&project.workspace)?;
    let dir = tempdir()?;
    if requests < FILTERS {
        bail!("--requests must be at least {FILTERS} (one per filter)");
    }
    let result = measure(project, ui, &ws, &dir, runs, items, requests).await;
    let _ = std::fs::remove_dir_all(&dir);
    let report = result?;

    let mut text = vec![HEADER.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    text.extend(report.rows.iter().map(Row::cells));
    ui.print(&table(&text));
    for note in &report.notes {
        ui.info(note);
    }
    let failed: Vec<&str> = report
        .rows
        .iter()
        .filter(|r| r.pass == Some(false))
        .map(|r| r.figure.as_str())
        .collect();
    if !failed.is_empty() {
        ui.warn(&format!("below the issue's target: {}", failed.join("; ")));
    }
    if write {
        write_section(&project.root, START, END, &report.markdown(runs, items, requests), ui)?;
    }
    ui.document(&json!({
        "runs": runs,
        "items": items,
        "machine": report.machine,
        "rows": report.rows.iter().map(Row::json).collect::<Vec<_>>(),
        "notes": report.notes,
        "details": report.details,
    }));
    Ok(0)
}

/// What `mcfbench crm` prints (bench/src/crm.rs), the parts read here.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CrmReport {
    pub jobs: usize,
    pub cold_ms: f64,
    pub server: Way,
    pub naive: Way,
    pub in_memory: Way,
    pub refresh: Latencies,
    pub same_totals: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Way {
    pub latencies: Latencies,
    pub per_filter: Vec<PerFilter>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Latencies {
    pub requests: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PerFilter {
    pub name: String,
    pub query: String,
    pub requests: usize,
    pub median_ms: f64,
    pub total: usize,
    pub items: usize,
}

/// What the runs measured.
struct Measured {
    reports: Vec<CrmReport>,
    probes: Vec<Probe>,
    write_seconds: f64,
    load_before: Option<String>,
    load_after: Option<String>,
    /// Why the function's answer was not the list, per run where it was not.
    refused: Vec<String>,
}

const HEADER: [&str; 6] = [
    "figure",
    "jobcrm",
    "baseline / context",
    "baseline / ours",
    "target (issue)",
    "result",
];

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
    pub machine: BTreeMap<String, String>,
    pub details: Value,
}

impl Report {
    /// The docs section, markers included.
    pub fn markdown(&self, runs: usize, items: usize, requests: usize) -> String {
        let m = |k: &str| self.machine.get(k).cloned().unwrap_or_else(|| "unknown".into());
        let mut md = format!(
            "{START}\nMeasured {} with `cargo xtask bench crm --runs {runs} --items {items} --requests {requests} --write` ({runs} runs, medians; \
             {}, {} cores; {}; cargo-lambda {}; moto {}; load average {} before, {} after).\n\n",
            m("measured_at"),
            m("cpu"),
            m("cores"),
            m("rustc"),
            m("cargo_lambda"),
            m("moto"),
            m("load_before"),
            m("load_after"),
        );
        md.push_str(&format!("| {} |\n| - | -: | - | -: | - | - |\n", HEADER.join(" | ")));
        for row in &self.rows {
            md.push_str(&format!("| {} |\n", row.cells().join(" | ")));
        }
        if !self.notes.is_empty() {
            md.push('\n');
            for note in &self.notes {
                md.push_str(&format!("- {note}\n"));
            }
        }
        md.push_str(END);
        md
    }
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{} ms", thousands(v))
    } else if v >= 1.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.3} ms")
    }
}

fn times(ours: f64, baseline: f64) -> String {
    if ours > 0.0 {
        format!("{:.1}x", baseline / ours)
    } else {
        String::new()
    }
}

fn row(figure: String, value: f64, ours: String, peer: String, ratio: String, target: &str, pass: Option<bool>) -> Row {
    Row {
        figure,
        value,
        unit: "ms",
        ours,
        peer,
        ratio,
        target: target.into(),
        pass,
    }
}

async fn measure(
    project: &Project,
    ui: &Ui,
    ws: &Workspace,
    dir: &Path,
    runs: usize,
    items: usize,
    requests: usize,
) -> Result<Report> {
    let crm = ws.component("crm")?;
    let dev = Session::open(project.clone(), "dev", ui.sibling(), None)?;

    // The host builds first.
    ui.step(
        "bench",
        &format!(
            "cargo build --release -p mcfbench -p {} (host: the measuring binary and the CRM's bootstrap)",
            crm.package
        ),
    );
    crate::artifacts::run(
        cargo_command()
            .args(["build", "--quiet", "--release", "-p", "mcfbench", "--bin", "mcfbench"])
            .args(["-p", &crm.package, "--bin", &crm.binary])
            .current_dir(&ws.root),
    )?;
    let release = ws.target_dir.join("release");
    let (mcfbench, bootstrap) = (release.join("mcfbench"), release.join(&crm.binary));

    let moto = local::moto_command(&project.root, ui)?;
    let (mut child, port) = local::spawn(&moto, &dir.join("moto.log"), false)?;
    ui.info(&format!("moto at http://127.0.0.1:{port} (pid {})", child.id()));
    let result = measure_on(project, ui, &mcfbench, &bootstrap, dir, port, runs, items, requests).await;
    local::terminate(child.id());
    let _ = child.wait();
    let Measured {
        reports,
        probes,
        write_seconds,
        load_before,
        load_after,
        refused,
    } = result?;
    // The zip last: on a first run its cross build is the longest step.
    let zip = lambda_zip(ws, crm, dev.config.compute.architecture, ui)?;

    let mut report = Report::default();
    let pick = |f: &dyn Fn(&CrmReport) -> f64| median(reports.iter().map(f).collect());
    let first = &reports[0];
    let jobs = first.jobs;
    let requests = first.server.latencies.requests;
    let naive_requests = first.naive.latencies.requests;
    let filters = first.server.per_filter.len();

    let (p50, p99) = (
        pick(&|r| r.server.latencies.p50_ms),
        pick(&|r| r.server.latencies.p99_ms),
    );
    let (n50, n99) = (pick(&|r| r.naive.latencies.p50_ms), pick(&|r| r.naive.latencies.p99_ms));
    let naive_label = "naive: stage index queried per request";
    report.rows.push(row(
        format!(
            "`GET /jobs` p50, local server, {thousands} jobs, {requests} requests × {filters} filters",
            thousands = thousands(jobs as f64)
        ),
        p50,
        ms(p50),
        format!("{} ({naive_label})", ms(n50)),
        times(p50, n50),
        "none set",
        None,
    ));
    report.rows.push(row(
        format!("`GET /jobs` p99, local server, {} jobs", thousands(jobs as f64)),
        p99,
        ms(p99),
        format!("{} (naive, p99 of {naive_requests})", ms(n99)),
        times(p99, n99),
        "< 20 ms",
        Some(p99 < P99_TARGET_MS),
    ));
    let maxes = pick(&|r| r.server.latencies.max_ms);
    report.rows.push(row(
        "`GET /jobs` slowest request, local server".into(),
        maxes,
        ms(maxes),
        format!("{} (naive)", ms(pick(&|r| r.naive.latencies.max_ms))),
        String::new(),
        "none set",
        None,
    ));
    for (k, f) in first.server.per_filter.iter().enumerate() {
        let ours = pick(&|r| r.server.per_filter.get(k).map_or(0.0, |f| f.median_ms));
        let naive = pick(&|r| r.naive.per_filter.get(k).map_or(0.0, |f| f.median_ms));
        report.rows.push(row(
            format!(
                "median: {} ({} match, {} on the page)",
                f.name,
                thousands(f.total as f64),
                f.items
            ),
            ours,
            ms(ours),
            format!("{} (naive)", ms(naive)),
            times(ours, naive),
            "none set",
            None,
        ));
    }
    let refresh = |f: fn(&Latencies) -> f64| pick(&|r| f(&r.refresh));
    report.rows.push(row(
        "of a list: the refresh alone, 10 stage-index Queries to moto (p50)".into(),
        refresh(|l| l.p50_ms),
        ms(refresh(|l| l.p50_ms)),
        format!("p99 {}", ms(refresh(|l| l.p99_ms))),
        String::new(),
        "none set",
        None,
    ));
    let (m50, m99) = (
        pick(&|r| r.in_memory.latencies.p50_ms),
        pick(&|r| r.in_memory.latencies.p99_ms),
    );
    report.rows.push(row(
        "of a list: filter, sort, page and JSON in memory alone (p50)".into(),
        m50,
        ms(m50),
        format!("p99 {}", ms(m99)),
        String::new(),
        "none set",
        None,
    ));
    let cold = pick(&|r| r.cold_ms);
    report.rows.push(row(
        format!("local server's first request (loads {} jobs)", thousands(jobs as f64)),
        cold,
        ms(cold),
        String::new(),
        String::new(),
        "none set",
        None,
    ));
    let pm = |f: fn(&Probe) -> f64| median(probes.iter().map(f).collect());
    let init = pm(|p| p.init.as_secs_f64() * 1000.0);
    report.rows.push(row(
        "Lambda init: spawn to first `next` (release binary, host)".into(),
        init,
        ms(init),
        String::new(),
        String::new(),
        "none set",
        None,
    ));
    let handled = pm(|p| p.handled.as_secs_f64() * 1000.0);
    report.rows.push(row(
        format!(
            "Lambda first request, cold: `GET /jobs?stage=SCREENED&min_score=0.5` (loads {} jobs)",
            thousands(jobs as f64)
        ),
        handled,
        ms(handled),
        String::new(),
        String::new(),
        "none set",
        None,
    ));
    let peak = pm(|p| p.peak_kb as f64 * 1024.0);
    let baseline = pm(|p| p.baseline_kb as f64 * 1024.0);
    report.rows.push(Row {
        figure: format!(
            "Lambda peak memory over that request, {} jobs in memory (peak RSS)",
            thousands(jobs as f64)
        ),
        value: peak,
        unit: "bytes",
        ours: mb(peak),
        peer: format!("{} RSS at init", mb(baseline)),
        ratio: String::new(),
        target: "none set".into(),
        pass: None,
    });
    report.rows.push(Row {
        figure: format!("Lambda zip (cargo-lambda release, {})", arch_name(zip.arch)),
        value: zip.bytes as f64,
        unit: "bytes",
        ours: mb(zip.bytes as f64),
        peer: String::new(),
        ratio: String::new(),
        target: "< 5 MB".into(),
        pass: Some((zip.bytes as f64) < ZIP_LIMIT_BYTES),
    });

    let same = reports.iter().all(|r| r.same_totals);
    report.notes.push(format!(
        "The set: {} jobs written with BatchWriteItem in {write_seconds:.1} s (with one creation event each), two tracks (data, software), every stage, scores 0 to 1, 30 titles × 40 companies, posted over the last {DAYS} days; the starter library and one token's SHA-256 in SSM, on the `database` stack deployed into a moto of the benchmark's own.",
        thousands(jobs as f64)
    ));
    report.notes.push(format!(
        "Local server: `mcfbench crm` (release) serves the App that `cargo xtask crm serve` and the Lambda function build, with `jobcrm_lambda::serve` on 127.0.0.1, and sends it {requests} timed requests per run one at a time on one keep-alive connection (reqwest), the {filters} filters in turn ({}), after the first request (which loads the index) and one untimed request of each. Each list first asks moto's stage index for what changed (10 small Queries, nothing new here): the refresh row is that part alone, the in-memory row the rest of the handler without HTTP. On DynamoDB those Queries take a few ms each, concurrently; here moto answers them.",
        first
            .server
            .per_filter
            .iter()
            .map(|f| format!("`{}`", short_query(&f.query)))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    report.notes.push(format!(
        "Naive baseline (same process, same moto, same requests, {naive_requests} per run): per request, every page of the stage index's Query for each stage asked for (all ten when the request names none), then the same filter, sort, page and JSON; no HTTP and no token check (a fraction of a millisecond beside it). Every way gave each filter the same total: {}.",
        if same { "yes" } else { "NO (see the details)" }
    ));
    report.notes.push(format!(
        "Lambda: the release `{}` binary built for the host, run by the stand-in Lambda Runtime API with CRM_TABLE, DIMENSIONS_TABLE, POSTS_TABLE, TOKEN_PATH, MCF_URL and moto's endpoint; one API Gateway REST proxy event with the bearer token. Init is the time from the spawn to its first `GET …/invocation/next` (polled every 2 ms); the first request reads the token hashes from SSM and every job from the stage index, then answers. Memory: VmRSS at that first `next`, VmHWM once it answered (`/proc`). The issue sets no memory target for the CRM (the parser's is 64 MB).",
        crm.binary
    ));
    if !refused.is_empty() {
        report.notes.push(format!(
            "The function did not answer the list in {} of {runs} runs (its figures are still those runs' times and memory): {}",
            refused.len(),
            refused.join("; ")
        ));
    }
    report.notes.extend(zip.note.clone());
    report.notes.push("MB = 1,000,000 bytes.".into());

    report.machine = machine("-", None);
    for (k, v) in [("load_before", load_before), ("load_after", load_after)] {
        report.machine.insert(k.into(), v.unwrap_or_else(|| "unknown".into()));
    }
    report.details = json!({
        "runs": reports,
        "lambda": probes.iter().map(|p| json!({
            "init_ms": p.init.as_secs_f64() * 1000.0,
            "first_request_ms": p.handled.as_secs_f64() * 1000.0,
            "baseline_kb": p.baseline_kb,
            "peak_kb": p.peak_kb,
        })).collect::<Vec<_>>(),
        "zip_bytes": zip.bytes,
        "zip_arch": arch_name(zip.arch),
        "write_seconds": write_seconds,
    });
    Ok(report)
}

/// The cursor query without its cursor's text.
fn short_query(q: &str) -> String {
    match q.split_once("cursor=") {
        Some((head, _)) => format!("{head}cursor=…"),
        None => q.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn measure_on(
    project: &Project,
    ui: &Ui,
    mcfbench: &Path,
    bootstrap: &Path,
    dir: &Path,
    port: u16,
    runs: usize,
    items: usize,
    requests: usize,
) -> Result<Measured> {
    let naive_requests = (requests / 10).max(FILTERS);
    let url = format!("http://127.0.0.1:{port}");
    let (session, aws) = super::database_in_moto(project, ui, dir, &url).await?;
    let names = RecommendNames::deployed(&session, &aws).await?;
    let (tables, version) = library::file_items(&project.root.join("config/seed/library"))?;
    LibraryStore::new(aws.dynamodb(), &names.dimensions_table)
        .replace(&tables, &version, None)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let token = format!(
        "mcfcrm_bench{}",
        &sha256_hex(format!("{}{:?}", std::process::id(), Instant::now()).as_bytes())[..32]
    );
    aws.ssm()
        .put_parameter()
        .name(format!("{TOKEN_PATH}{TOKEN_USER}"))
        .value(sha256_hex(token.as_bytes()))
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .map_err(|e| anyhow!("PutParameter: {}", crate::aws::error_text(&e)))?;

    let today = singapore_today();
    ui.step("bench", &format!("writing {items} CRM jobs and their creation events"));
    let started = Instant::now();
    let mut all = Vec::with_capacity(items * 2);
    for (job, event) in synthetic_jobs(items, today) {
        all.push(mcfstore::crm::job_item(&job).map_err(|e| anyhow!("{e}"))?);
        all.push(mcfstore::crm::event_item(&job.uuid, &job.track, &event).map_err(|e| anyhow!("{e}"))?);
    }
    let mut writers = tokio::task::JoinSet::new();
    let chunk = all.len().div_ceil(8);
    let client = aws.dynamodb();
    while !all.is_empty() {
        let part: Vec<_> = all.drain(..chunk.min(all.len())).collect();
        let (client, table) = (client.clone(), names.crm_table.clone());
        writers.spawn(async move { mcfstore::batch::put(&client, &table, part).await });
    }
    while let Some(done) = writers.join_next().await {
        done.map_err(|e| anyhow!("{e}"))?.map_err(|e| anyhow!("{e}"))?;
    }
    let write_seconds = started.elapsed().as_secs_f64();

    let region = session.config.region.clone().unwrap_or_else(|| "ap-southeast-1".into());
    let aws_env = [
        ("AWS_REGION", region),
        ("AWS_ENDPOINT_URL", url.clone()),
        ("AWS_ACCESS_KEY_ID", "bench".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "bench".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ];
    let posted_since = date_of(Day::from_days(today.days() - 14));
    let load_before = load_average();
    let (mut reports, mut probes, mut refused) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs {
        ui.step(
            "crm",
            &format!(
                "run {}: `mcfbench crm` ({requests} requests on the local server, {naive_requests} naive), then the Lambda binary on one proxy event",
                i + 1
            ),
        );
        let mut cmd = Command::new(mcfbench);
        cmd.env_clear()
            .envs(aws_env.iter().map(|(k, v)| (*k, v.as_str())))
            .arg("crm")
            .args(["--endpoint", &url, "--token", &token])
            .args(["--crm-table", &names.crm_table])
            .args(["--dimensions-table", &names.dimensions_table])
            .args(["--posts-table", &names.posts_table])
            .args(["--token-path", TOKEN_PATH])
            .args(["--requests", &requests.to_string()])
            .args(["--naive-requests", &naive_requests.to_string()])
            .args(["--posted-since", &posted_since]);
        let r: CrmReport = run_json(&mut cmd, "mcfbench crm")?;
        if r.jobs != items {
            bail!("the server listed {} jobs, not the {items} written", r.jobs);
        }
        ui.info(&format!(
            "server p50 {} p99 {} (naive p50 {}); refresh p50 {}; in memory p50 {}",
            ms(r.server.latencies.p50_ms),
            ms(r.server.latencies.p99_ms),
            ms(r.naive.latencies.p50_ms),
            ms(r.refresh.p50_ms),
            ms(r.in_memory.latencies.p50_ms)
        ));
        reports.push(r);

        let event = proxy_event(&token);
        let mut env: Vec<(&str, String)> = aws_env.to_vec();
        env.extend([
            ("CRM_TABLE", names.crm_table.clone()),
            ("DIMENSIONS_TABLE", names.dimensions_table.clone()),
            ("POSTS_TABLE", names.posts_table.clone()),
            ("TOKEN_PATH", TOKEN_PATH.to_string()),
            ("MCF_URL", "http://127.0.0.1:9".to_string()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_string()),
        ]);
        let probe = runtime_api::invoke_once(bootstrap, &env, &event, Duration::from_secs(300), dir)?;
        if let Err(e) = check_answer(&probe) {
            // Reported under the table: the function answered, but not with the list.
            ui.warn(&format!("{e:#}"));
            refused.push(format!("{e:#}").lines().next().unwrap_or_default().to_string());
        }
        ui.info(&format!(
            "Lambda: init {}, first request {}, RSS {} at init, peak {}",
            ms(probe.init.as_secs_f64() * 1000.0),
            ms(probe.handled.as_secs_f64() * 1000.0),
            mb(probe.baseline_kb as f64 * 1024.0),
            mb(probe.peak_kb as f64 * 1024.0)
        ));
        probes.push(probe);
    }
    Ok(Measured {
        reports,
        probes,
        write_seconds,
        load_before,
        load_after: load_average(),
        refused,
    })
}

/// The API Gateway REST proxy event of `GET /jobs?stage=SCREENED&min_score=0.5`.
pub fn proxy_event(token: &str) -> String {
    json!({
        "httpMethod": "GET",
        "path": "/jobs",
        "multiValueQueryStringParameters": {"stage": ["SCREENED"], "min_score": ["0.5"]},
        "headers": {"Authorization": format!("Bearer {token}")},
        "body": null,
        "isBase64Encoded": false,
    })
    .to_string()
}

fn check_answer(probe: &Probe) -> Result<()> {
    let answer: Value = serde_json::from_str(&probe.response)
        .with_context(|| format!("the function's answer is not JSON: {}", probe.response))?;
    let body: Value = answer["body"]
        .as_str()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    if answer["statusCode"] != 200 || body["total"].as_u64().unwrap_or(0) == 0 {
        bail!(
            "the function did not list the jobs: {}\n{}",
            probe.response,
            probe.stdout
        );
    }
    Ok(())
}

/// A small deterministic generator (splitmix64): the same set on every run.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const TITLES: [&str; 30] = [
    "Data Engineer",
    "Senior Data Engineer",
    "Lead Data Engineer",
    "Big Data Engineer",
    "Data Platform Engineer",
    "Analytics Engineer",
    "Data Analyst",
    "Senior Data Analyst",
    "Data Scientist",
    "Machine Learning Engineer",
    "ETL Developer",
    "Business Intelligence Developer",
    "Data Architect",
    "Cloud Data Engineer",
    "Database Administrator",
    "Software Engineer",
    "Senior Software Engineer",
    "Backend Engineer",
    "Full Stack Developer",
    "Frontend Developer",
    "Platform Engineer",
    "Site Reliability Engineer",
    "DevOps Engineer",
    "Java Developer",
    "Python Developer",
    "Rust Engineer",
    "Mobile Developer",
    "QA Automation Engineer",
    "Engineering Manager",
    "Technical Lead",
];

const COMPANY_HEADS: [&str; 8] = [
    "Marina",
    "Straits",
    "Orchid",
    "Lion City",
    "Harbourfront",
    "Tanjong",
    "Raffles",
    "Kallang",
];
const COMPANY_TAILS: [&str; 5] = ["Analytics", "Technologies", "Bank", "Logistics", "Health"];

/// (stage, weight in %): most jobs screened or open, a tail through the funnel, the ended ones.
const STAGES: [(&str, u64); 10] = [
    ("OPEN", 12),
    ("SCREENED", 40),
    ("TOAPPLY", 8),
    ("APPLIED", 12),
    ("CALLBACK", 3),
    ("INTERVIEW", 3),
    ("OFFER", 1),
    ("REJECTED", 8),
    ("CLOSED", 9),
    ("EXPIRED", 4),
];

/// `n` jobs and their creation events, as a hunt of some months leaves the CRM table.
pub fn synthetic_jobs(n: usize, today: Day) -> Vec<(Job, Event)> {
    let mut mix = Mix(0x6d63_6663_726d);
    // Never later than the start of `today` in Singapore: no job changed in the future, so the
    // server's refresh finds nothing new during the benchmark.
    let latest = today.days() * 86_400 - 8 * 3600 - 1;
    let stamp =
        |day: Day, secs: u64| mcfcore::time::timestamp_from_unix((day.days() * 86_400 + secs as i64).min(latest));
    (0..n)
        .map(|i| {
            let mut pick = mix.below(100);
            let stage = STAGES
                .iter()
                .find(|(_, w)| {
                    if pick < *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .map_or("SCREENED", |(s, _)| *s);
            let track = if mix.below(100) < 55 { "data" } else { "software" };
            let age = mix.below(DAYS as u64) as i64;
            let posted = Day::from_days(today.days() - age);
            let moved = Day::from_days(posted.days() + (mix.below(4) as i64).min(age));
            let created_at = stamp(posted, mix.below(86_400));
            let updated_at = stamp(moved, mix.below(86_400)).max(created_at.clone());
            let total = ((mix.unit() + mix.unit()) / 2.0 * 1000.0).round() / 1000.0;
            let title = TITLES[mix.below(TITLES.len() as u64) as usize];
            let company = format!(
                "{} {} Pte. Ltd.",
                COMPANY_HEADS[mix.below(COMPANY_HEADS.len() as u64) as usize],
                COMPANY_TAILS[mix.below(COMPANY_TAILS.len() as u64) as usize]
            );
            let salary_min = 4000 + 500 * mix.below(12) as u32;
            let ended = matches!(stage, "REJECTED" | "CLOSED" | "EXPIRED");
            let job = Job {
                uuid: format!("{:016x}{:016x}", mix.next(), i),
                track: track.into(),
                stage: stage.into(),
                close_reason: (stage == "CLOSED").then(|| "not_interested".into()),
                reached: ended.then(|| "SCREENED".into()),
                revision: 1,
                created_at: created_at.clone(),
                updated_at: updated_at.clone(),
                stage_at: updated_at,
                deadline: matches!(stage, "SCREENED" | "TOAPPLY" | "APPLIED" | "CALLBACK")
                    .then(|| date_of(Day::from_days(posted.days() + 14 + mix.below(28) as i64))),
                scores: Some(Scores {
                    title_score: (mix.unit() * 1000.0).round() / 1000.0,
                    keyword_score: (mix.unit() * 1000.0).round() / 1000.0,
                    seniority_fit: if mix.below(2) == 0 { 1.0 } else { 0.5 },
                    salary_fit: (mix.unit() * 1000.0).round() / 1000.0,
                    recency: (1.0 - age as f64 / DAYS as f64 * 0.5).max(0.0),
                    total,
                }),
                reasons: Some(format!(
                    r#"{{"title":[{{"bigram":"{}","score":{total}}}],"keywords":["sql","python","aws"]}}"#,
                    title.to_lowercase()
                )),
                summary: Some(format!("{} +{} keywords", title.to_lowercase(), 1 + mix.below(6))),
                library_version: Some("bench".into()),
                title: title.into(),
                company: Some(company),
                url: Some(format!("https://www.mycareersfuture.gov.sg/job/bench-{i}")),
                posted_date: Some(date_of(posted)),
                closing_date: Some(date_of(Day::from_days(posted.days() + 30))),
                salary_min: Some(salary_min),
                salary_max: Some(salary_min + 2000),
                cv_version: None,
                notes: (mix.below(10) == 0)
                    .then(|| "Referred by a former colleague; ask about the team's stack.".into()),
                contacts: vec![],
            };
            let event = Event {
                at: job.created_at.clone(),
                from: None,
                to: job.stage.clone(),
                actor: "screener".into(),
                note: None,
                revision: 1,
            };
            (job, event)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_jobs_spread_over_stages_tracks_and_weeks() {
        let today = Day::parse("2026-11-29").unwrap();
        let jobs = synthetic_jobs(2000, today);
        assert_eq!(jobs, synthetic_jobs(2000, today), "the same set every time");
        let ids: std::collections::HashSet<_> = jobs.iter().map(|(j, _)| (&j.uuid, &j.track)).collect();
        assert_eq!(ids.len(), 2000, "no two jobs share an id");
        for (stage, _) in STAGES {
            assert!(jobs.iter().any(|(j, _)| j.stage == stage), "{stage}");
        }
        let screened = jobs.iter().filter(|(j, _)| j.stage == "SCREENED").count();
        assert!((600..1000).contains(&screened), "{screened}");
        let oldest = jobs.iter().filter_map(|(j, _)| j.posted_date.clone()).min().unwrap();
        assert!(
            oldest.as_str() >= "2026-10-04" && oldest.as_str() < "2026-10-10",
            "{oldest}"
        );
        for (job, event) in &jobs {
            assert!(job.updated_at >= job.created_at && job.updated_at.as_str() < "2026-11-28T16:00:00Z");
            assert_eq!((event.to.as_str(), event.revision), (job.stage.as_str(), job.revision));
        }
        assert!(jobs.iter().any(|(j, _)| j.title.contains("Engineer")));
    }

    #[test]
    fn the_proxy_event_reads_as_the_lambda_reads_it() {
        let event: Value = serde_json::from_str(&proxy_event("t")).unwrap();
        assert_eq!(event["multiValueQueryStringParameters"]["stage"][0], "SCREENED");
        assert_eq!(event["headers"]["Authorization"], "Bearer t");
        assert_eq!(short_query("stage=A&cursor=abc"), "stage=A&cursor=…");
        assert_eq!(ms(1234.0), "1,234 ms");
        assert_eq!(ms(12.34), "12.3 ms");
        assert_eq!(times(2.0, 10.0), "5.0x");
    }

    #[test]
    fn the_section_sits_between_its_markers() {
        let md = Report::default().markdown(3, 10_000, 500);
        assert!(md.starts_with(START) && md.ends_with(END), "{md}");
        assert!(
            md.contains("`cargo xtask bench crm --runs 3 --items 10000 --requests 500 --write`"),
            "{md}"
        );
    }
}
