//! The scheduled sync function's work, apart from the Lambda runtime (`main.rs`) so that a
//! test runs it in-process against the emulator: the key from SSM, the workbook from Google,
//! the sync into the dimensions table, and, when the version changed and a rescore function is
//! named, an asynchronous invoke of it. One log line per sync (`mcfcore::log`).
//!
//! Settings come from the environment the template sets: `DIMENSIONS_TABLE`, `WORKBOOK_ID`,
//! `KEY_PARAMETER`, `SHEETS_URL` (optional), `TOKEN_URL` (optional) and `RESCORE_FUNCTION`
//! (optional).

use mcfcore::log::{Level, Log};
use mcfstore::{Aws, LibraryStore};
use serde_json::json;

use crate::google::{Endpoints, Google, SHEETS_URL, key_from_ssm};
use crate::sync::{Report, SyncError, sync};

/// What the function needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub dimensions_table: String,
    pub workbook_id: String,
    pub key_parameter: String,
    pub endpoints_sheets_url: String,
    pub token_url: Option<String>,
    /// Invoked (asynchronously) after a sync that changed the version.
    pub rescore_function: Option<String>,
}

impl Settings {
    /// From the variables the template sets; the missing ones named.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let get = |k: &str| lookup(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let need = |k: &str| get(k).ok_or_else(|| format!("{k} is not set (the sync stack sets it)"));
        Ok(Settings {
            dimensions_table: need("DIMENSIONS_TABLE")?,
            workbook_id: need("WORKBOOK_ID")?,
            key_parameter: need("KEY_PARAMETER")?,
            endpoints_sheets_url: get("SHEETS_URL").unwrap_or_else(|| SHEETS_URL.into()),
            token_url: get("TOKEN_URL"),
            rescore_function: get("RESCORE_FUNCTION"),
        })
    }
}

/// One scheduled sync. An invalid workbook is a logged error (every problem in the line) and
/// nothing written; the function fails then, so the failure shows in its metrics.
pub async fn run(aws: &Aws, settings: &Settings, log: &Log) -> Result<Report, String> {
    let key = key_from_ssm(&aws.ssm(), &settings.key_parameter).await?;
    let google = Google::new(Endpoints {
        sheets_url: settings.endpoints_sheets_url.clone(),
        token_url: settings.token_url.clone(),
    })
    .map_err(|e| e.to_string())?;
    let source = google
        .read_workbook(&key, &settings.workbook_id)
        .await
        .map_err(|e| e.to_string())?;
    let store = LibraryStore::new(aws.dynamodb(), &settings.dimensions_table);
    let report = match sync(&store, &source, false).await {
        Ok(r) => r,
        Err(SyncError::Invalid { errors, warnings }) => {
            log.write(
                &log.line(Level::Error, "library invalid: nothing written")
                    .field("source", &source.name)
                    .field("errors", errors.iter().map(ToString::to_string).collect::<Vec<_>>())
                    .field("warnings", warnings.iter().map(ToString::to_string).collect::<Vec<_>>()),
            );
            return Err(format!(
                "the workbook {} has {} error(s); nothing was written",
                settings.workbook_id,
                errors.len()
            ));
        }
        Err(e) => return Err(e.to_string()),
    };
    let changes: Vec<_> = report
        .tables
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| json!({"table": t.table.name(), "added": t.added.len(), "changed": t.changed.len(), "removed": t.removed.len()}))
        .collect();
    let mut line = log
        .line(
            Level::Info,
            if report.written {
                "library updated"
            } else {
                "library unchanged"
            },
        )
        .field("source", &report.source)
        .field("version", &report.version)
        .field("version_before", &report.version_before)
        .field("tables_written", &report.tables_written)
        .field("changes", changes);
    if report.written {
        if let Some(function) = &settings.rescore_function {
            let mut conf = aws_sdk_lambda::config::Builder::from(aws.sdk());
            if let Some(i) = aws.record_interceptor() {
                conf = conf.interceptor(i);
            }
            let lambda = aws_sdk_lambda::Client::from_conf(conf.build());
            let sent = lambda
                .invoke()
                .function_name(function)
                .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
                .payload(aws_sdk_lambda::primitives::Blob::new(
                    rescore_event(&report.version).to_string(),
                ))
                .send()
                .await;
            line = match sent {
                Ok(_) => line.field("rescore", function),
                // The library is written; a missed rescore is told, not a failed sync.
                Err(e) => line.field("rescore_failed", format!("{function}: {}", mcfstore::error_text(&e))),
            };
        }
    }
    log.write(&line);
    Ok(report)
}

/// The recommender's rescore request after a sync that wrote library `version`
/// (`jobmatch_lambda::Rescore`: `{"rescore": {"reason": …}}`; `tests/tests/recommend.rs`
/// holds the two to each other).
pub fn rescore_event(version: &str) -> serde_json::Value {
    json!({"rescore": {"reason": format!("config sync wrote library version {version}")}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_name_what_is_missing() {
        let vars = [
            ("DIMENSIONS_TABLE", "t"),
            ("WORKBOOK_ID", "wb"),
            ("KEY_PARAMETER", "/k"),
            ("RESCORE_FUNCTION", " "),
        ];
        let lookup = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
        let s = Settings::from_lookup(lookup).unwrap();
        assert_eq!(s.endpoints_sheets_url, SHEETS_URL);
        assert_eq!(s.rescore_function, None);
        let e = Settings::from_lookup(|k| if k == "WORKBOOK_ID" { None } else { lookup(k) }).unwrap_err();
        assert!(e.starts_with("WORKBOOK_ID is not set"));
    }
}
