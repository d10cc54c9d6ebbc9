//! Parse throughput: the captures as single documents, mcfbench's timings, the Python peer.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, anyhow, bail};
use serde::Deserialize;

use super::*;
use crate::ui::Ui;

/// A prepared document (mcfbench's manifest entry).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Entry {
    pub(crate) file: String,
    pub(crate) kind: String,
    pub(crate) uuid: String,
}

#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize)]
pub(crate) struct Measured {
    pub(crate) docs: u64,
    pub(crate) seconds: f64,
}

/// What each side of the parse comparison prints.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Throughput {
    pub(crate) implementation: String,
    pub(crate) set: BTreeMap<String, u64>,
    pub(crate) runs: Vec<BTreeMap<String, Measured>>,
}

impl Throughput {
    /// Appends another process's runs (same implementation, same set).
    pub(crate) fn absorb(&mut self, other: Throughput) {
        self.runs.extend(other.runs);
    }

    /// Median documents per second of `kind`.
    pub(crate) fn rate(&self, kind: &str) -> Option<f64> {
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
    pub(crate) fn overall(&self) -> Option<f64> {
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
pub(crate) const PEERS: [(&str, &str); 2] = [("lxml", "lxml"), ("html.parser", "html.parser")];

/// "Python 3.11.7, json + BeautifulSoup 4.15.0 (lxml; html.parser)" from the peers' own words.
pub(crate) fn python_label(peers: &[(&str, Throughput)]) -> String {
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
pub(crate) fn parse_rows(ours: &Throughput, peers: &[(&str, Throughput)]) -> Result<Vec<Row>> {
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
pub(crate) struct ScrapeReport {
    pub(crate) runs: Vec<ScrapeRun>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub(crate) struct ScrapeRun {
    pub(crate) fetched: u32,
    pub(crate) requests: u32,
    pub(crate) total_ms: f64,
    pub(crate) mcf_ms: f64,
    pub(crate) rate_wait_ms: f64,
    pub(crate) backoff_ms: f64,
    pub(crate) store_ms: f64,
    pub(crate) overhead_ms_per_post: f64,
    pub(crate) fixture_requests: u64,
    pub(crate) fixture_ms_per_request: f64,
}

/// `python3` when it imports `bs4` and `lxml`; else the virtualenv `target/mcfpipe/venv-bench`,
/// created with both from PyPI on first use (and said so).
pub fn python_with_bs4(root: &Path, ui: &Ui) -> Result<Python> {
    python_importing(
        root,
        ui,
        "bs4, lxml",
        "venv-bench",
        &["beautifulsoup4>=4.12", "lxml>=5"],
    )
}
