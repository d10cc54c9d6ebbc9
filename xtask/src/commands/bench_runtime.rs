//! `bench runtime`: the jobs-search runtime measured in one run, against the issue's targets.
//!
//! - Parse throughput: the release `mcfbench parse` (mcfparse) and `bench/parse_python.py`
//!   (`json` + BeautifulSoup, the original pipeline's way) on the same prepared captures,
//!   pinned to the same core with `taskset`, with the same time budget per kind and run.
//! - Peak memory of a batch of 10: the parser's real Lambda binary (host release build) run
//!   against a stand-in Runtime API ([`runtime_api`]) on one SQS event of 10 real documents,
//!   with the database layer deployed into a moto server of its own; VmRSS before the event and
//!   VmHWM after the answer, from /proc.
//! - The Lambda zip, built by the deployer's own [`lambda::build`] with cargo-lambda for the
//!   architecture of the `dev` config (arm64), or x86_64 when arm64 cannot be built here.
//! - The scraper image, built by the deployer's own [`image`] functions as for a real
//!   environment (static release binary + CA bundle, FROM scratch): the engine's size when a
//!   Docker engine answers, else the uncompressed layer (the build context's tar).
//! - The scraper's own overhead per post: `mcfbench scrape` (mcfscrape with the memory store
//!   against the fixture server, no rate limit), from the run summary's timing.
//!
//! Prints one table; `--write` replaces the runtime section of docs/benchmarks.md.

mod runtime_api;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use serde_json::{Value, json};

use super::bench::{median, replace_section, tempdir, version, which};
use super::{table, write_file};
use crate::artifacts::{Component, Workspace, cargo, image, lambda};
use crate::config::{Architecture, LambdaBuild};
use crate::local;
use crate::session::{Project, Session};
use crate::ui::{Format, Ui};

pub const START: &str = "<!-- bench:runtime:start -->";
pub const END: &str = "<!-- bench:runtime:end -->";

/// Time budget per document kind and run, for each side of the parse comparison.
const PARSE_SECONDS: &str = "1.0";
/// The issue's targets.
const SPEEDUP_TARGET: f64 = 20.0;
const ZIP_LIMIT_BYTES: f64 = 5e6;
const IMAGE_LIMIT_BYTES: f64 = 20e6;
const MEMORY_LIMIT_BYTES: f64 = 64e6;
/// The Lambda's batch size the issue names (`compute.parser.batch_size`).
const BATCH: usize = 10;

const KINDS: [(&str, &str); 3] = [
    ("search_item", "search items"),
    ("job_detail", "job detail"),
    ("job_page", "rendered job page"),
];

pub async fn run(project: &Project, ui: &Ui, runs: usize, write: bool) -> Result<u8> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let ws = Workspace::load(&project.workspace)?;
    let dir = tempdir()?;
    let result = measure(project, ui, &ws, &dir, runs).await;
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
        let file = project.root.join("docs/benchmarks.md");
        let old = std::fs::read_to_string(&file).unwrap_or_default();
        write_file(&file, &replace_section(&old, START, END, &report.markdown(runs)))?;
        ui.info(&format!("written to {}", file.display()));
    }
    // Last: in JSON mode the result is the last line.
    ui.document(&json!({
        "runs": runs,
        "machine": report.machine,
        "rows": report.rows.iter().map(Row::json).collect::<Vec<_>>(),
        "notes": report.notes,
        "details": report.details,
    }));
    Ok(0)
}

const HEADER: [&str; 6] = [
    "figure",
    "mcfpipe",
    "peer / context",
    "ratio",
    "target (issue)",
    "result",
];

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub figure: String,
    pub value: f64,
    pub unit: &'static str,
    pub ours: String,
    pub peer: String,
    pub ratio: String,
    pub target: String,
    /// `None` when the issue sets no target.
    pub pass: Option<bool>,
}

impl Row {
    fn cells(&self) -> Vec<String> {
        vec![
            self.figure.clone(),
            self.ours.clone(),
            self.peer.clone(),
            self.ratio.clone(),
            self.target.clone(),
            verdict(self.pass).to_string(),
        ]
    }

    fn json(&self) -> Value {
        json!({
            "figure": self.figure, "value": self.value, "unit": self.unit, "peer": self.peer,
            "ratio": self.ratio, "target": self.target, "pass": self.pass,
        })
    }
}

fn verdict(pass: Option<bool>) -> &'static str {
    match pass {
        Some(true) => "pass",
        Some(false) => "FAIL",
        None => "—",
    }
}

/// Everything one run of the benchmark found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
    /// Machine and tool versions, for the docs' caption.
    pub machine: BTreeMap<String, String>,
    pub details: Value,
}

impl Report {
    /// The docs section, markers included.
    pub fn markdown(&self, runs: usize) -> String {
        let m = |k: &str| self.machine.get(k).cloned().unwrap_or_else(|| "unknown".into());
        let mut md = format!(
            "{START}\nMeasured {} with `cargo xtask bench runtime --runs {runs} --write` ({runs} runs, medians; \
             {}, {} cores; {}; {}; cargo-lambda {}; moto {}).\n\n",
            m("measured_at"),
            m("cpu"),
            m("cores"),
            m("rustc"),
            m("python"),
            m("cargo_lambda"),
            m("moto"),
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

async fn measure(project: &Project, ui: &Ui, ws: &Workspace, dir: &Path, runs: usize) -> Result<Report> {
    let parser = ws.component("mcfparse")?;
    let scraper = ws.component("mcfscrape")?;
    let dev = Session::open(project.clone(), "dev", ui.sibling(), None)?;
    let mut report = Report::default();
    let mut details = serde_json::Map::new();

    // Builds first: the slow part of a first run (cargo keeps reruns incremental).
    let (mcfbench, bootstrap) = build_host_release(ws, parser, ui)?;
    let zip = lambda_zip(ws, parser, dev.config.compute.architecture, ui)?;
    let image = image_size(ws, scraper, ui).await?;

    // The documents both parsers read.
    let docs = dir.join("docs");
    let fixtures = ws.root.join("tests/fixtures/mcf");
    let manifest: Vec<Entry> = run_json(
        Command::new(&mcfbench)
            .arg("prepare")
            .arg("--fixtures")
            .arg(&fixtures)
            .arg("--out")
            .arg(&docs),
        "mcfbench prepare",
    )?;

    // Parse throughput, both sides on one core, one process each per run, taking turns to go
    // first so that whatever else the machine does is spread over both.
    let core = pin_core();
    let python = python_with_bs4(&project.root, ui)?;
    ui.step(
        "parse",
        &format!(
            "mcfparse (release) and Python on the same {} documents, {} s per kind and run, {}",
            manifest.len(),
            PARSE_SECONDS,
            core.map_or("not pinned (no taskset)".to_string(), |c| format!("pinned to CPU {c}"))
        ),
    );
    // Side 0 is mcfparse; the others are the Python peer with each of BeautifulSoup's tree
    // builders (`PEERS`).
    let side = |which: usize| -> Result<Throughput> {
        let mut cmd = match which.checked_sub(1) {
            None => {
                let mut cmd = pinned(&mcfbench, core);
                cmd.arg("parse");
                cmd
            }
            Some(peer) => {
                let mut cmd = pinned(&python.python, core);
                cmd.arg(ws.root.join("bench/parse_python.py"))
                    .args(["--parser", PEERS[peer].0]);
                cmd
            }
        };
        cmd.arg("--docs")
            .arg(&docs)
            .args(["--seconds", PARSE_SECONDS, "--runs", "1"]);
        run_json(
            &mut cmd,
            if which == 0 {
                "mcfbench parse"
            } else {
                "bench/parse_python.py"
            },
        )
    };
    let mut sides: Vec<Option<Throughput>> = vec![None; PEERS.len() + 1];
    for i in 0..runs {
        // Each side goes first in turn.
        for k in 0..sides.len() {
            let which = (i + k) % sides.len();
            let measured = side(which)?;
            match &mut sides[which] {
                Some(t) => t.absorb(measured),
                slot => *slot = Some(measured),
            }
        }
    }
    let mut sides = sides
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .context("no parse measurement")?;
    let ours = sides.remove(0);
    let peers: Vec<(&str, Throughput)> = PEERS.iter().map(|p| p.1).zip(sides).collect();
    report.rows.extend(parse_rows(&ours, &peers)?);
    details.insert(
        "parse".into(),
        json!({
            "set": ours.set,
            "mcfparse": ours.runs,
            "python": peers.iter().map(|(_, t)| json!({"implementation": t.implementation, "runs": t.runs})).collect::<Vec<_>>(),
        }),
    );
    let python_implementation = python_label(&peers);

    // Peak memory of the parser's Lambda binary on a batch of 10.
    let probes = memory_probes(project, ui, &bootstrap, &docs, &manifest, &dev, dir, runs).await?;
    let peak = median(probes.iter().map(|p| p.peak_kb as f64 * 1024.0).collect());
    let baseline = median(probes.iter().map(|p| p.baseline_kb as f64 * 1024.0).collect());
    report.rows.push(Row {
        figure: format!("parser peak memory, batch of {BATCH} (peak RSS)"),
        value: peak,
        unit: "bytes",
        ours: mb(peak),
        peer: format!("{} RSS before the batch", mb(baseline)),
        ratio: String::new(),
        target: "< 64 MB".into(),
        pass: Some(peak < MEMORY_LIMIT_BYTES),
    });
    details.insert(
        "memory_kb".into(),
        json!(
            probes
                .iter()
                .map(|p| json!({"baseline": p.baseline_kb, "peak": p.peak_kb}))
                .collect::<Vec<_>>()
        ),
    );

    // Sizes.
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
    report.notes.extend(zip.note.clone());
    report.rows.push(Row {
        figure: "scraper image (FROM scratch, static release)".into(),
        value: image.bytes as f64,
        unit: "bytes",
        ours: mb(image.bytes as f64),
        peer: image.what.clone(),
        ratio: String::new(),
        target: "< 20 MB".into(),
        pass: Some((image.bytes as f64) < IMAGE_LIMIT_BYTES),
    });
    details.insert(
        "sizes".into(),
        json!({"zip_bytes": zip.bytes, "zip_arch": arch_name(zip.arch), "image_bytes": image.bytes,
               "image_measure": image.what, "scraper_binary_bytes": image.binary_bytes}),
    );

    // The scraper's own overhead per post.
    ui.step(
        "scrape",
        "mcfscrape (release, memory store) against the fixture server, rate limit off",
    );
    let scrape: ScrapeReport = run_json(
        Command::new(&mcfbench).args(["scrape", "--runs", &runs.to_string()]),
        "mcfbench scrape",
    )?;
    let pick = |f: fn(&ScrapeRun) -> f64| median(scrape.runs.iter().map(f).collect());
    let overhead = pick(|r| r.overhead_ms_per_post);
    report.rows.push(Row {
        figure: "scraper's own overhead per post (rate limit off)".into(),
        value: overhead,
        unit: "ms",
        ours: format!("{overhead:.3} ms"),
        peer: format!(
            "fixture server {:.3} ms per request; waiting on it {:.3} ms per request",
            pick(|r| r.fixture_ms_per_request),
            pick(|r| r.mcf_ms / f64::from(r.requests.max(1)))
        ),
        ratio: String::new(),
        target: "none set".into(),
        pass: None,
    });
    details.insert("scrape".into(), json!(scrape.runs));

    report.notes.push(format!(
        "Parse: {python_implementation} on the repository's captures ({}); every side {}, {} s per kind and run after one untimed pass, taking turns to go first; overall = all {} documents once each. Search items have no HTML, so both peers are `json` there.",
        KINDS
            .iter()
            .map(|(k, name)| format!("{} {name}", ours.set.get(*k).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join(", "),
        core.map_or("unpinned (no taskset)".to_string(), |c| format!("pinned to CPU {c} with taskset")),
        PARSE_SECONDS,
        ours.set.values().sum::<u64>(),
    ));
    report.notes.push(format!(
        "Memory: the parser's Lambda binary (`{}`, release, built for the host) run by a stand-in Lambda Runtime API on one SQS event of {BATCH} documents (6 × the 124 KB job page, the job detail, 3 search items), each read from S3 and stored in the posts table of the `database` stack deployed into moto; all {BATCH} stored.",
        parser.binary
    ));
    if let Some(installed) = &python.installed {
        report.notes.push(installed.clone());
    }
    report.notes.push("MB = 1,000,000 bytes.".into());

    report.machine = machine(&python_implementation, image.engine.as_deref());
    report.details = Value::Object(details);
    Ok(report)
}

/// `cargo build --release` of the bench binary and the parser's Lambda binary for the host.
fn build_host_release(ws: &Workspace, parser: &Component, ui: &Ui) -> Result<(PathBuf, PathBuf)> {
    ui.step(
        "bench",
        &format!(
            "cargo build --release -p mcfbench -p {} (host: the measuring binary and the parser's bootstrap)",
            parser.package
        ),
    );
    crate::artifacts::run(
        Command::new(cargo())
            .args(["build", "--quiet", "--release", "-p", "mcfbench", "--bin", "mcfbench"])
            .args(["-p", &parser.package, "--bin", &parser.binary])
            .current_dir(&ws.root),
    )?;
    let release = ws.target_dir.join("release");
    Ok((release.join("mcfbench"), release.join(&parser.binary)))
}

struct Zip {
    bytes: usize,
    arch: Architecture,
    note: Option<String>,
}

/// The zip the deployer builds for dev and prod; x86_64 when `arch` cannot be built here.
fn lambda_zip(ws: &Workspace, c: &Component, arch: Architecture, ui: &Ui) -> Result<Zip> {
    match lambda::build(ws, c, arch, LambdaBuild::CargoLambda, ui) {
        Ok(zip) => Ok(Zip {
            bytes: zip.len(),
            arch,
            note: None,
        }),
        Err(e) if arch != Architecture::X86_64 => {
            let reason = format!("{e:#}");
            let reason = reason.lines().next().unwrap_or_default().to_string();
            ui.warn(&format!(
                "{}: the {} zip cannot be built here ({reason}); measuring x86_64",
                c.name,
                arch_name(arch)
            ));
            let zip = lambda::build(ws, c, Architecture::X86_64, LambdaBuild::CargoLambda, ui)?;
            Ok(Zip {
                bytes: zip.len(),
                arch: Architecture::X86_64,
                note: Some(format!(
                    "Lambda zip: measured for x86_64 because the configured {} could not be built on this machine ({reason}).",
                    arch_name(arch)
                )),
            })
        }
        Err(e) => Err(e),
    }
}

fn arch_name(arch: Architecture) -> &'static str {
    match arch {
        Architecture::Arm64 => "arm64",
        Architecture::X86_64 => "x86_64",
    }
}

struct ImageSize {
    bytes: u64,
    what: String,
    binary_bytes: u64,
    engine: Option<String>,
}

/// The scraper image as real environments get it: the engine's image size when a Docker engine
/// answers, else the uncompressed layer (the build context's tar).
async fn image_size(ws: &Workspace, c: &Component, ui: &Ui) -> Result<ImageSize> {
    let (binary, libs) = image::build_binary(ws, c, image::Binary::StaticRelease, ui)?;
    let binary_bytes = std::fs::metadata(&binary)?.len();
    let context = image::context(&binary, &libs, &c.binary)?;
    match image::engine().await {
        Ok(docker) => {
            let tag = format!("mcfpipe-bench/{}:{}", c.name, image::content_tag(&context));
            image::build(&docker, context, &tag, &c.name, ui).await?;
            let inspected = docker
                .inspect_image(&tag)
                .await
                .map_err(|e| anyhow!("cannot inspect {tag}: {e}"))?;
            let engine = docker.version().await.ok().and_then(|v| v.version);
            Ok(ImageSize {
                bytes: inspected.size.unwrap_or(0).max(0) as u64,
                what: format!(
                    "size reported by the Docker engine{}",
                    engine.as_deref().map(|v| format!(" {v}")).unwrap_or_default()
                ),
                binary_bytes,
                engine: Some(engine.unwrap_or_else(|| "unknown".into())),
            })
        }
        Err(reason) => {
            ui.info(&format!(
                "{reason}: reporting the uncompressed layer (the build context's tar) instead of an image size"
            ));
            Ok(ImageSize {
                bytes: context.len() as u64,
                what: "uncompressed layer: tar of the build context (no Docker engine here)".into(),
                binary_bytes,
                engine: None,
            })
        }
    }
}

/// A prepared document (mcfbench's manifest entry).
#[derive(Debug, Clone, Deserialize)]
struct Entry {
    file: String,
    kind: String,
    uuid: String,
}

#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize)]
struct Measured {
    docs: u64,
    seconds: f64,
}

/// What each side of the parse comparison prints.
#[derive(Debug, Clone, Deserialize)]
struct Throughput {
    implementation: String,
    set: BTreeMap<String, u64>,
    runs: Vec<BTreeMap<String, Measured>>,
}

impl Throughput {
    /// Appends another process's runs (same implementation, same set).
    fn absorb(&mut self, other: Throughput) {
        self.runs.extend(other.runs);
    }

    /// Median documents per second of `kind`.
    fn rate(&self, kind: &str) -> Option<f64> {
        let rates: Vec<f64> = self
            .runs
            .iter()
            .filter_map(|run| run.get(kind))
            .filter(|m| m.seconds > 0.0)
            .map(|m| m.docs as f64 / m.seconds)
            .collect();
        (!rates.is_empty()).then(|| median(rates))
    }

    /// Median over runs of the rate on the whole set, each document once: the set's documents
    /// over the time the run's rates say they take.
    fn overall(&self) -> Option<f64> {
        let per_run: Vec<f64> = self
            .runs
            .iter()
            .filter_map(|run| {
                let mut time = 0.0;
                for (kind, n) in &self.set {
                    let m = run.get(kind)?;
                    time += *n as f64 * m.seconds / m.docs as f64;
                }
                (time > 0.0).then(|| self.set.values().sum::<u64>() as f64 / time)
            })
            .collect();
        (!per_run.is_empty()).then(|| median(per_run))
    }
}

/// The Python peer's BeautifulSoup tree builders: `--parser` value and how the table names it.
const PEERS: [(&str, &str); 2] = [("lxml", "lxml"), ("html.parser", "html.parser")];

/// "Python 3.11.7, json + BeautifulSoup 4.15.0 (lxml; html.parser)" from the peers' own words.
fn python_label(peers: &[(&str, Throughput)]) -> String {
    let first = peers
        .first()
        .map(|(_, t)| t.implementation.as_str())
        .unwrap_or("Python");
    let base = first.split(" (").next().unwrap_or(first);
    let builders: Vec<&str> = peers.iter().map(|(label, _)| *label).collect();
    format!("{base} ({})", builders.join("; "))
}

/// One row per kind and peer, then the overall rate per peer: each peer is judged against the
/// target on its own.
fn parse_rows(ours: &Throughput, peers: &[(&str, Throughput)]) -> Result<Vec<Row>> {
    for (label, theirs) in peers {
        if ours.set != theirs.set {
            bail!(
                "the two sides parsed different document sets: {:?} vs {:?} ({label})",
                ours.set,
                theirs.set
            );
        }
    }
    let mut rows = Vec::new();
    let mut add = |figure: String, ours: Option<f64>, theirs: Option<f64>| -> Result<()> {
        let (o, t) = ours.zip(theirs).ok_or_else(|| anyhow!("no measurement for {figure}"))?;
        let ratio = o / t;
        rows.push(Row {
            figure,
            value: o,
            unit: "documents/s",
            ours: format!("{} docs/s", thousands(o)),
            peer: format!("{} docs/s", thousands(t)),
            ratio: format!("{ratio:.1}x"),
            target: format!("≥ {SPEEDUP_TARGET:.0}x Python"),
            pass: Some(ratio >= SPEEDUP_TARGET),
        });
        Ok(())
    };
    for (kind, name) in KINDS {
        let n = ours.set.get(kind).copied().unwrap_or(0);
        for (label, theirs) in peers {
            add(
                format!("parse: {name} ({n} doc{}) vs {label}", if n == 1 { "" } else { "s" }),
                ours.rate(kind),
                theirs.rate(kind),
            )?;
        }
    }
    for (label, theirs) in peers {
        add(
            format!(
                "parse: overall ({} captures) vs {label}",
                ours.set.values().sum::<u64>()
            ),
            ours.overall(),
            theirs.overall(),
        )?;
    }
    Ok(rows)
}

#[derive(Debug, Clone, Deserialize)]
struct ScrapeReport {
    runs: Vec<ScrapeRun>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
struct ScrapeRun {
    fetched: u32,
    requests: u32,
    total_ms: f64,
    mcf_ms: f64,
    rate_wait_ms: f64,
    backoff_ms: f64,
    store_ms: f64,
    overhead_ms_per_post: f64,
    fixture_requests: u64,
    fixture_ms_per_request: f64,
}

/// Per run: a fresh moto state, the `database` stack deployed by the deployer, the batch's
/// documents in the data bucket, then one invocation of the parser's binary.
#[allow(clippy::too_many_arguments)]
async fn memory_probes(
    project: &Project,
    ui: &Ui,
    bootstrap: &Path,
    docs: &Path,
    manifest: &[Entry],
    dev: &Session,
    dir: &Path,
    runs: usize,
) -> Result<Vec<runtime_api::Probe>> {
    let batch = batch(docs, manifest)?;
    // A copy of the project, so that the deploy's outputs file is not the user's.
    let copy = Project {
        root: dir.join("project"),
        workspace: project.workspace.clone(),
    };
    for sub in ["config", "stacks", "templates"] {
        copy_dir(&project.root.join(sub), &copy.root.join(sub))?;
    }
    let moto = local::moto_command(&project.root, ui)?;
    let (mut child, port) = local::spawn(&moto, &dir.join("moto.log"), false)?;
    let url = format!("http://127.0.0.1:{port}");
    ui.step(
        "memory",
        &format!(
            "{runs} batch(es) of {BATCH} through the parser's Lambda binary, moto at {url} (pid {})",
            child.id()
        ),
    );
    let mut probes = Vec::new();
    let mut result = Ok(());
    for i in 0..runs {
        match probe_once(&copy, bootstrap, &batch, dev, &url, port, dir).await {
            Ok(p) => {
                ui.info(&format!(
                    "run {}: RSS {} before the batch, peak {}",
                    i + 1,
                    mb(p.baseline_kb as f64 * 1024.0),
                    mb(p.peak_kb as f64 * 1024.0)
                ));
                probes.push(p);
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    local::terminate(child.id());
    let _ = child.wait();
    result.map(|()| probes)
}

/// The batch: six copies of the rendered job page (the heaviest parse) under different days,
/// the job detail, and search items to make ten.
fn batch(docs: &Path, manifest: &[Entry]) -> Result<Vec<(mcfcore::layout::ParseMessage, Vec<u8>)>> {
    let read = |e: &Entry| std::fs::read(docs.join(&e.file)).with_context(|| format!("cannot read {}", e.file));
    let of = |kind: &'static str| manifest.iter().filter(move |e| e.kind == kind);
    let page = of("job_page").next().context("no job page among the documents")?;
    let mut out = Vec::new();
    for day in 1..=6 {
        let key = mcfcore::layout::raw_key(&format!("2026-11-0{day}"), &page.uuid, "html");
        out.push((message(&page.uuid, key), read(page)?));
    }
    for e in of("job_detail").chain(of("search_item")).take(BATCH - out.len()) {
        let key = mcfcore::layout::raw_key("2026-11-28", &e.uuid, "json");
        out.push((message(&e.uuid, key), read(e)?));
    }
    if out.len() != BATCH {
        bail!("only {} documents for a batch of {BATCH}", out.len());
    }
    Ok(out)
}

fn message(uuid: &str, key: String) -> mcfcore::layout::ParseMessage {
    mcfcore::layout::ParseMessage {
        uuid: uuid.to_string(),
        key,
    }
}

async fn probe_once(
    copy: &Project,
    bootstrap: &Path,
    batch: &[(mcfcore::layout::ParseMessage, Vec<u8>)],
    dev: &Session,
    url: &str,
    port: u16,
    dir: &Path,
) -> Result<runtime_api::Probe> {
    local::reset(port)?;
    let buffer = Arc::new(Mutex::new(String::new()));
    let session = Session::open(
        copy.clone(),
        "local",
        Ui::captured(Format::Text, buffer.clone()),
        Some(url.to_string()),
    )?;
    let deployed = super::deploy::run(
        &session,
        "database",
        super::deploy::Options {
            yes: true,
            ..Default::default()
        },
    )
    .await;
    if !matches!(deployed, Ok(0)) {
        let log = buffer.lock().map(|b| b.clone()).unwrap_or_default();
        bail!("cannot deploy the database layer into moto: {deployed:?}\n{log}");
    }
    let outputs_file = super::outputs::outputs_file(&copy.out_dir(), "local");
    let outputs: Value = serde_json::from_str(&std::fs::read_to_string(&outputs_file)?)?;
    let output = |name: &str| {
        outputs["database"][name]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("the database stack has no {name} output"))
    };
    let (table, bucket, queue_arn) = (
        output("PostsTableName")?,
        output("DataBucketName")?,
        output("ParseQueueArn")?,
    );
    let region = session.config.region.clone().unwrap_or_else(|| "ap-southeast-1".into());

    let aws = session.aws().await?;
    let s3 = aws.s3();
    for (m, bytes) in batch {
        s3.put_object()
            .bucket(&bucket)
            .key(&m.key)
            .body(bytes.clone().into())
            .send()
            .await
            .map_err(|e| anyhow!("cannot put s3://{bucket}/{}: {}", m.key, crate::aws::error_text(&e)))?;
    }
    let event = sqs_event(batch, &queue_arn, &region)?;
    let env = [
        ("AWS_REGION", region),
        ("AWS_ENDPOINT_URL", url.to_string()),
        ("AWS_ACCESS_KEY_ID", "bench".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "bench".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("POSTS_TABLE", table),
        ("DATA_BUCKET", bucket),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            dev.config.compute.parser.memory_mb.to_string(),
        ),
    ];
    let probe = runtime_api::invoke_once(bootstrap, &env, &event, Duration::from_secs(120), dir)?;
    let answer: Value = serde_json::from_str(&probe.response)
        .with_context(|| format!("the function's answer is not JSON: {}", probe.response))?;
    let failures = answer["batchItemFailures"].as_array().map_or(0, Vec::len);
    let stored = probe
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["outcome"] == "stored")
        .count();
    if failures != 0 || stored != batch.len() {
        bail!(
            "the batch was not handled cleanly: {stored} of {} stored, answer {}; log:\n{}",
            batch.len(),
            probe.response,
            probe.stdout
        );
    }
    Ok(probe)
}

/// The event Lambda's SQS event source mapping sends for these messages.
fn sqs_event(batch: &[(mcfcore::layout::ParseMessage, Vec<u8>)], queue_arn: &str, region: &str) -> Result<String> {
    let records: Vec<Value> = batch
        .iter()
        .enumerate()
        .map(|(i, (m, _))| {
            Ok(json!({
                "messageId": format!("00000000-0000-4000-8000-{i:012}"),
                "receiptHandle": format!("bench-{i}"),
                "body": serde_json::to_string(m)?,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1764316800000",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1764316800002"
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }))
        })
        .collect::<Result<_>>()?;
    Ok(json!({ "Records": records }).to_string())
}

/// Copies a folder tree (the benchmarks' throw-away project copies).
pub(crate) fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// A Python that imports BeautifulSoup and lxml.
pub struct Python {
    pub python: PathBuf,
    /// Set when this run installed them, saying where.
    pub installed: Option<String>,
}

/// `python3` when it imports `bs4` and `lxml`; else the virtualenv `target/mcfpipe/venv-bench`,
/// created with both from PyPI on first use (and said so).
pub fn python_with_bs4(root: &Path, ui: &Ui) -> Result<Python> {
    let imports = |python: &Path| {
        Command::new(python)
            .args(["-c", "import bs4, lxml"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let system = which("python3").context("the Python peer needs python3 on PATH")?;
    if imports(&system) {
        return Ok(Python {
            python: system,
            installed: None,
        });
    }
    let venv = root.join("target/mcfpipe/venv-bench");
    let python = venv.join("bin/python");
    if python.is_file() && imports(&python) {
        return Ok(Python {
            python,
            installed: None,
        });
    }
    let what = format!(
        "python3 does not import bs4 and lxml: installed beautifulsoup4 and lxml from PyPI into {}",
        venv.display()
    );
    ui.info(&format!("{what} (once)"));
    crate::artifacts::run(Command::new(&system).args(["-m", "venv"]).arg(&venv))?;
    crate::artifacts::run(Command::new(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "beautifulsoup4>=4.12",
        "lxml>=5",
    ]))?;
    if !imports(&python) {
        bail!("{} still cannot import bs4 and lxml", python.display());
    }
    Ok(Python {
        python,
        installed: Some(format!("{what}.")),
    })
}

/// The last CPU this process may run on, when `taskset` can pin to it.
fn pin_core() -> Option<usize> {
    which("taskset")?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let list = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:"))?;
    last_cpu(list)
}

/// `0-1` → 1, `0,2-3` → 3.
fn last_cpu(list: &str) -> Option<usize> {
    list.trim().rsplit(',').next()?.rsplit('-').next()?.trim().parse().ok()
}

fn pinned(program: &Path, core: Option<usize>) -> Command {
    match core {
        Some(c) => {
            let mut cmd = Command::new("taskset");
            cmd.arg("-c").arg(c.to_string()).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// Runs `cmd` and reads the last line of its stdout as JSON.
fn run_json<T: serde::de::DeserializeOwned>(cmd: &mut Command, what: &str) -> Result<T> {
    let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("{what} printed no JSON result: {stdout}"))
}

fn machine(python: &str, engine: Option<&str>) -> BTreeMap<String, String> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mut m = BTreeMap::new();
    m.insert("measured_at".into(), local::now_rfc3339());
    m.insert("cpu".into(), cpu);
    m.insert(
        "cores".into(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
            .to_string(),
    );
    m.insert("rustc".into(), version("rustc", &["--version"]));
    m.insert("python".into(), python.to_string());
    m.insert(
        "cargo_lambda".into(),
        version("cargo-lambda", &["lambda", "--version"])
            .trim_start_matches("cargo-lambda ")
            .to_string(),
    );
    m.insert(
        "moto".into(),
        version("python3", &["-c", "import moto; print(moto.__version__)"]),
    );
    if let Some(engine) = engine {
        m.insert("docker_engine".into(), engine.to_string());
    }
    m
}

/// Bytes as MB (10^6), two decimals.
fn mb(bytes: f64) -> String {
    format!("{:.2} MB", bytes / 1e6)
}

/// 12345.6 → "12,346"
fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throughput(implementation: &str, rates: &[(&str, u64, f64)]) -> Throughput {
        let set = BTreeMap::from([
            ("job_detail".to_string(), 1),
            ("job_page".to_string(), 1),
            ("search_item".to_string(), 100),
        ]);
        let run: BTreeMap<String, Measured> = rates
            .iter()
            .map(|(k, docs, seconds)| {
                (
                    k.to_string(),
                    Measured {
                        docs: *docs,
                        seconds: *seconds,
                    },
                )
            })
            .collect();
        Throughput {
            implementation: implementation.into(),
            set,
            runs: vec![run],
        }
    }

    #[test]
    fn parse_rows_compare_per_kind_and_overall_against_the_target() {
        let ours = throughput(
            "mcfparse",
            &[
                ("search_item", 100_000, 1.0),
                ("job_detail", 20_000, 1.0),
                ("job_page", 1_000, 1.0),
            ],
        );
        let theirs = throughput(
            "python",
            &[
                ("search_item", 4_000, 1.0),
                ("job_detail", 500, 1.0),
                ("job_page", 100, 1.0),
            ],
        );
        let slower = throughput(
            "python",
            &[
                ("search_item", 4_000, 1.0),
                ("job_detail", 250, 1.0),
                ("job_page", 50, 1.0),
            ],
        );
        let peers = [("lxml", theirs.clone()), ("html.parser", slower)];
        let rows = parse_rows(&ours, &peers).unwrap();
        let verdicts: Vec<_> = rows.iter().map(|r| (r.ratio.as_str(), r.pass)).collect();
        // Overall: the 102 documents take 100/100000 + 1/20000 + 1/1000 = 0.00205 s against
        // 100/4000 + 1/500 + 1/100 = 0.037 s (18.0x, below the target though two kinds pass)
        // and 100/4000 + 1/250 + 1/50 = 0.049 s (23.9x).
        assert_eq!(
            verdicts,
            [
                ("25.0x", Some(true)),
                ("25.0x", Some(true)),
                ("40.0x", Some(true)),
                ("80.0x", Some(true)),
                ("10.0x", Some(false)),
                ("20.0x", Some(true)),
                ("18.0x", Some(false)),
                ("23.9x", Some(true)),
            ]
        );
        assert_eq!(rows[0].ours, "100,000 docs/s");
        assert_eq!(rows[0].figure, "parse: search items (100 docs) vs lxml");
        assert_eq!(rows[3].figure, "parse: job detail (1 doc) vs html.parser");
        assert_eq!(rows[6].figure, "parse: overall (102 captures) vs lxml");
        assert_eq!(
            python_label(&peers[..1]),
            "python (lxml)",
            "the label keeps the implementation and names the builders"
        );
        let other = Throughput {
            set: BTreeMap::new(),
            ..theirs
        };
        assert!(
            parse_rows(&ours, &[("lxml", other)]).is_err(),
            "different document sets are refused"
        );
    }

    #[test]
    fn the_section_lists_every_row_with_its_verdict_between_the_markers() {
        let report = Report {
            rows: vec![Row {
                figure: "Lambda zip (cargo-lambda release, arm64)".into(),
                value: 3.2e6,
                unit: "bytes",
                ours: mb(3.2e6),
                peer: String::new(),
                ratio: String::new(),
                target: "< 5 MB".into(),
                pass: Some(true),
            }],
            notes: vec!["MB = 1,000,000 bytes.".into()],
            ..Report::default()
        };
        let md = report.markdown(3);
        assert!(md.starts_with(START) && md.ends_with(END), "{md}");
        assert!(md.contains("`cargo xtask bench runtime --runs 3 --write`"), "{md}");
        assert!(
            md.contains("| Lambda zip (cargo-lambda release, arm64) | 3.20 MB |  |  | < 5 MB | pass |"),
            "{md}"
        );
        assert!(md.contains("\n- MB = 1,000,000 bytes.\n"), "{md}");
    }

    #[test]
    fn helpers() {
        assert_eq!(last_cpu("0-1\n"), Some(1));
        assert_eq!(last_cpu("0,2-3"), Some(3));
        assert_eq!(last_cpu("5"), Some(5));
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(verdict(None), "—");
    }

    #[test]
    fn the_event_carries_one_parse_message_per_document() {
        let batch = vec![(message("ab", "raw/2026-11-28/ab.json".into()), b"{}".to_vec())];
        let event: Value = serde_json::from_str(&sqs_event(&batch, "arn:aws:sqs:r:1:q", "r").unwrap()).unwrap();
        let record = &event["Records"][0];
        assert_eq!(record["eventSource"], "aws:sqs");
        let body: Value = serde_json::from_str(record["body"].as_str().unwrap()).unwrap();
        assert_eq!(body, json!({"uuid": "ab", "key": "raw/2026-11-28/ab.json"}));
    }
}
