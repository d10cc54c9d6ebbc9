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

mod memory;
mod parse;
pub(crate) mod runtime_api;
mod sizes;
pub(crate) use sizes::{arch_name, lambda_zip};

pub use super::Python;
use memory::*;
pub use parse::python_with_bs4;
use parse::*;
use sizes::*;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{machine, mb, median, pin_core, pinned, python_importing, run_json, tempdir, thousands, write_section};
use crate::artifacts::Workspace;
use crate::session::{Project, Session};
use crate::ui::Ui;
use crate::ui::table;

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
        write_section(&project.root, START, END, &report.markdown(runs), ui)?;
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
    pub(crate) fn cells(&self) -> Vec<String> {
        vec![
            self.figure.clone(),
            self.ours.clone(),
            self.peer.clone(),
            self.ratio.clone(),
            self.target.clone(),
            verdict(self.pass).to_string(),
        ]
    }

    pub(crate) fn json(&self) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::last_cpu;

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
