//! `sync`: the recommender's library (title, rank, junk, keep and keyword tags, tracks,
//! config) from files or the Google workbook into the environment's dimensions table, all or
//! nothing; `sync key`: the Google service-account key into SSM Parameter Store.
//!
//! Exit 0: synced, unchanged, or a dry run; 1: the library has errors (every one listed,
//! located; nothing written) or the source or AWS failed. A sync that wrote a new version
//! rescores the recent posts with it (`workflow::recommend::rescore`), unless told not to; the
//! result says what it did (`rescore`), or that one is due (`rescore_due`).

use std::path::Path;

use anyhow::Result;
use gsheetui::core::diff::TableDiff;
use gsheetui::{Report, SyncError};
use serde_json::json;

use crate::session::Session;
use crate::ui;
use crate::workflow::DataNames;
use crate::workflow::library::{self, Origin};
use crate::workflow::recommend;

/// The rescore a sync that wrote a new version runs.
#[derive(Debug, Clone, Default)]
pub struct Rescore {
    /// As of this day (`YYYY-MM-DD`, an emulator only); `None`: today.
    pub as_of: Option<String>,
}

/// Rows a table's detail line names before it says "and N more".
const NAMED: usize = 6;

pub async fn run(s: &Session, from: Option<&str>, dry_run: bool, rescore: Option<Rescore>) -> Result<u8> {
    let from = Origin::choose(s, from)?;
    let as_of = rescore
        .as_ref()
        .and_then(|r| r.as_of.as_deref())
        .map(recommend::parse_day)
        .transpose()?;
    s.ui.step("sync", &format!("reading the library from {}", from.describe()));
    // Files are read and checked before any AWS call: a bad row is told without a deployed
    // environment (the sync checks again, whole, before it writes).
    let early = library::read_files(&from);
    if let Some(source) = &early {
        if let Err(SyncError::Invalid { errors, warnings }) = gsheetui::sync::check(source) {
            return Ok(invalid(s, &from, source, None, &errors, &warnings));
        }
    }
    let aws = s.aws().await?;
    let names = DataNames::deployed(s, &aws).await?;
    let source = match early {
        Some(source) => source,
        None => library::read(s, &aws, &from).await?,
    };
    match library::sync(&aws, &names.dimensions_table, &source, dry_run).await {
        Ok(report) => {
            let mut doc = show(s, &names.dimensions_table, &report);
            if !(report.written && rescore.is_some()) {
                s.ui.document(&doc);
                return Ok(0);
            }
            let reason = format!("config sync wrote library version {}", report.version);
            s.ui.step("sync", "rescoring the recent posts with the new library");
            match recommend::rescore_as_of(s, &aws, &reason, None, as_of).await {
                Ok(summary) => {
                    s.ui.print(&recommend::summary_text(&summary));
                    let failed = summary.failed;
                    doc["rescore_due"] = json!(failed > 0);
                    doc["rescore"] = json!(summary);
                    s.ui.document(&doc);
                    Ok(u8::from(failed > 0))
                }
                Err(e) => {
                    s.ui.error(&format!(
                        "the library is written (version {}), but the rescore failed: {e:#}; `cargo xtask run recommend --env {} --rescore` retries it",
                        report.version, s.env
                    ));
                    doc["ok"] = json!(false);
                    doc["rescore_error"] = json!(format!("{e:#}"));
                    s.ui.document(&doc);
                    Ok(1)
                }
            }
        }
        Err(SyncError::Invalid { errors, warnings }) => Ok(invalid(
            s,
            &from,
            &source,
            Some(&names.dimensions_table),
            &errors,
            &warnings,
        )),
        Err(e) => Err(e.into()),
    }
}

/// Every error and warning of an invalid library, and the result; exit code 1.
fn invalid(
    s: &Session,
    from: &Origin,
    source: &gsheetui::Source,
    table: Option<&str>,
    errors: &[gsheetui::core::Located],
    warnings: &[gsheetui::core::Located],
) -> u8 {
    for w in warnings {
        s.ui.warn(&format!("{}: {}", w.at, w.message));
    }
    for e in errors {
        s.ui.error(&e.to_string());
    }
    s.ui.error(&format!(
        "the library from {} has {} error{}: nothing was written{}",
        from.describe(),
        errors.len(),
        if errors.len() == 1 { "" } else { "s" },
        table.map(|t| format!(" to {t}")).unwrap_or_default()
    ));
    s.ui.document(&json!({
        "ok": false,
        "env": s.env,
        "table": table,
        "source": source.name,
        "written": false,
        "errors": errors,
        "warnings": warnings,
    }));
    1
}

/// The report's table and verdict printed; its JSON result returned (the caller adds the
/// rescore and emits it).
fn show(s: &Session, table: &str, r: &Report) -> serde_json::Value {
    for w in &r.warnings {
        s.ui.warn(&format!("{}: {}", w.at, w.message));
    }
    let mut rows = vec![vec![
        "TABLE".to_string(),
        "ROWS".into(),
        "ADDED".into(),
        "CHANGED".into(),
        "REMOVED".into(),
        "".into(),
    ]];
    for t in &r.tables {
        rows.push(vec![
            t.table.name().to_string(),
            t.rows.to_string(),
            t.added.len().to_string(),
            t.changed.len().to_string(),
            t.removed.len().to_string(),
            if r.tables_written.iter().any(|w| w == t.table.name()) {
                if t.is_empty() {
                    "rewritten".into()
                } else if t.reordered {
                    "reordered".into()
                } else {
                    "changed".into()
                }
            } else {
                "unchanged".into()
            },
        ]);
    }
    let mut text = ui::table(&rows);
    for t in r.tables.iter().filter(|t| !t.is_empty()) {
        text.push_str(&detail(t));
    }
    let before = r.version_before.as_deref().unwrap_or("none");
    let verdict = if !r.changed {
        format!("library unchanged (version {}): nothing written to {table}", r.version)
    } else if r.dry_run {
        format!(
            "dry run: would write {} table(s) and version {} (now {before}) to {table}; nothing written",
            r.tables_written.len(),
            r.version
        )
    } else {
        format!(
            "library updated: version {before} → {} ({} table(s) written to {table})",
            r.version,
            r.tables_written.len(),
        )
    };
    text.push_str(&verdict);
    text.push('\n');
    s.ui.print(&text);
    json!({
        "ok": true,
        "env": s.env,
        "table": table,
        "source": r.source,
        "version_before": r.version_before,
        "version": r.version,
        "changed": r.changed,
        "written": r.written,
        "dry_run": r.dry_run,
        "rescore_due": r.written,
        "tables_written": r.tables_written,
        "tables": r.tables,
        "warnings": r.warnings,
    })
}

/// `  title_tags: + a, b; ~ c; - d` with at most [`NAMED`] names per kind.
fn detail(t: &TableDiff) -> String {
    let names = |sign: &str, keys: &[String]| -> Option<String> {
        if keys.is_empty() {
            return None;
        }
        let mut shown: Vec<&str> = keys.iter().take(NAMED).map(String::as_str).collect();
        let more = keys.len().saturating_sub(NAMED);
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        shown.dedup();
        Some(format!("{sign} {}{tail}", shown.join(", ")))
    };
    let parts: Vec<String> = [names("+", &t.added), names("~", &t.changed), names("-", &t.removed)]
        .into_iter()
        .flatten()
        .chain(t.reordered.then(|| "rows reordered".to_string()))
        .collect();
    format!("  {}: {}\n", t.table.name(), parts.join("; "))
}

/// `sync key`: the key of `file` into SSM as a SecureString (never printed).
pub async fn key(s: &Session, file: &Path) -> Result<u8> {
    let aws = s.aws().await?;
    let (client_email, parameter) = library::store_key(s, &aws, file).await?;
    s.ui.info(&format!(
        "stored the service-account key of {client_email} in SSM parameter {parameter} (SecureString); share the workbook with {client_email} (Viewer)"
    ));
    s.ui.document(&json!({
        "ok": true,
        "env": s.env,
        "parameter": parameter,
        "client_email": client_email,
    }));
    Ok(0)
}
