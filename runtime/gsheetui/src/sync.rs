//! One sync: a source's tables checked whole, compared with what the dimensions table holds,
//! and written all or nothing (docs/data-model.md, "Library table item").
//!
//! - Any error in any table: nothing is written, and every error is returned, located.
//! - The same library as stored (every table's SHA-256 and the version): nothing is written.
//! - Otherwise the tables whose rows changed and the version item go in one
//!   `TransactWriteItems` ([`LibraryStore::replace`]), conditional on the version read at the
//!   start: rows the source no longer has are gone with the table item they were in, and a
//!   reader never sees half a sync.

use mcfstore::library::{StoredLibrary, TableItem, VersionItem};
use mcfstore::{LibraryStore, ReplaceError, StoreError};
use serde::Serialize;
use serde_json::Value;

use crate::core::diff::{self, TableDiff};
use crate::core::load::{self, Loaded};
use crate::core::{Located, RawTable};

/// What a source gave: its tables and its own problems (a missing file, a missing tab).
#[derive(Debug, Clone)]
pub struct Source {
    /// The version item's `source`: `file:<folder>` or `sheets:<workbook id>`.
    pub name: String,
    pub tables: Vec<RawTable>,
    pub problems: Vec<Located>,
}

/// What a sync did, or would do with `--dry-run`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub source: String,
    /// Every table, in [`crate::core::TABLES`] order.
    pub tables: Vec<TableDiff>,
    /// The stored version before the sync (`None`: no library stored yet).
    pub version_before: Option<String>,
    /// The source's version.
    pub version: String,
    /// The stored library differs from the source's: a valid sync writes, and scores computed
    /// with the old version are stale (a rescore is due).
    pub changed: bool,
    /// Whether this sync wrote (false on a dry run or when nothing changed).
    pub written: bool,
    pub dry_run: bool,
    /// Tables whose item was (or would be) written.
    pub tables_written: Vec<String>,
    pub warnings: Vec<Located>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{}", invalid_text(errors))]
    Invalid {
        errors: Vec<Located>,
        warnings: Vec<Located>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Replace(#[from] ReplaceError),
}

fn invalid_text(errors: &[Located]) -> String {
    let mut out = format!(
        "the library has {} error{}; nothing was written:",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for e in errors {
        out.push_str("\n  ");
        out.push_str(&e.to_string());
    }
    out
}

/// The source checked whole: its library, or every error.
pub fn check(source: &Source) -> Result<Loaded, SyncError> {
    let loaded = load::load(&source.tables, source.problems.clone());
    if loaded.has_errors() {
        let (errors, warnings) = loaded.problems.into_iter().partition(Located::is_error);
        return Err(SyncError::Invalid { errors, warnings });
    }
    Ok(loaded)
}

/// What to write to turn `stored` into `loaded`: the report (not yet written), the table items
/// and the version item.
pub fn plan(source: &str, loaded: &Loaded, stored: &StoredLibrary, now: &str) -> (Report, Vec<TableItem>, VersionItem) {
    let version = diff::version(loaded.tables.iter().map(|t| (t.table.name(), t.sha256.as_str())));
    let version_before = stored.version.as_ref().map(|v| v.version.clone());
    let mut tables = Vec::new();
    let mut items = Vec::new();
    for t in &loaded.tables {
        let old = stored.tables.get(t.table.name());
        let old_rows: Option<Vec<Value>> = old.and_then(|o| serde_json::from_str(&o.rows).ok());
        tables.push(diff::diff(t.table, old_rows.as_deref(), &t.rows));
        if old.is_none_or(|o| o.sha256 != t.sha256) {
            items.push(TableItem {
                table: t.table.name().to_string(),
                rows: t.json.clone(),
                row_count: t.rows.len() as u64,
                sha256: t.sha256.clone(),
                source: t.source.clone(),
                updated_at: now.to_string(),
            });
        }
    }
    let changed = !items.is_empty() || version_before.as_deref() != Some(version.as_str());
    let report = Report {
        source: source.to_string(),
        tables,
        version_before,
        version: version.clone(),
        changed,
        written: false,
        dry_run: false,
        tables_written: items.iter().map(|i| i.table.clone()).collect(),
        warnings: loaded.problems.iter().filter(|p| !p.is_error()).cloned().collect(),
    };
    let version = VersionItem {
        version,
        updated_at: now.to_string(),
        source: source.to_string(),
    };
    (report, items, version)
}

/// Checks `source`, compares it with the stored library and writes the difference (unless
/// `dry_run`), all or nothing.
pub async fn sync(store: &LibraryStore, source: &Source, dry_run: bool) -> Result<Report, SyncError> {
    let loaded = check(source)?;
    let stored = store.load().await?;
    let (mut report, items, version) = plan(&source.name, &loaded, &stored, &mcfstore::now_utc());
    report.dry_run = dry_run;
    if report.changed && !dry_run {
        store
            .replace(&items, &version, report.version_before.as_deref())
            .await?;
        report.written = true;
    }
    Ok(report)
}
