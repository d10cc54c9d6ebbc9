//! `GET|PUT /config/{key}`: one value of the library's config table (`key` is
//! `<group>.<parameter>`, e.g. `match.match_score_min`), changed through config sync's own
//! checks: the stored library is read back as sync sources, the row changed, the whole library
//! checked (`gsheetui::sync::check`, the schema and `jobmatch::validate`), and the changed
//! table written with a new version in one transaction conditional on the version read
//! (`gsheetui::sync::plan`, `LibraryStore::replace`). A value the library refuses is a 400
//! with config sync's message; a library changed in between is a 409.
//!
//! The next scheduled sync from the workbook (or `cargo xtask sync`) replaces the library with
//! its source's: change the source too, or the value goes back.

use gsheetui::core::{TABLES, yaml};
use mcfstore::{LibraryStore, ReplaceError, StoredLibrary};
use serde_json::{Map, Value};

use crate::api::unavailable;
use crate::http::Response;
use crate::types::ConfigEntry;

fn split(key: &str) -> Result<(&str, &str), Response> {
    key.split_once('.')
        .filter(|(g, p)| !g.is_empty() && !p.is_empty())
        .ok_or_else(|| {
            Response::error(
                404,
                "not_found",
                Some("key"),
                format!("{key:?} is not a config key: keys are <group>.<parameter>, e.g. match.match_score_min"),
            )
        })
}

fn rows(library: &StoredLibrary) -> Vec<Value> {
    library
        .tables
        .get("config")
        .and_then(|t| serde_json::from_str(&t.rows).ok())
        .unwrap_or_default()
}

fn is(row: &Value, group: &str, parameter: &str) -> bool {
    row["group"] == group && row["parameter"] == parameter
}

/// The value of `key`, or a 404 naming the keys there are.
pub fn get(library: &StoredLibrary, key: &str) -> Result<Value, Response> {
    let (group, parameter) = split(key)?;
    let rows = rows(library);
    rows.iter()
        .find(|r| is(r, group, parameter))
        .map(|r| r["value"].clone())
        .ok_or_else(|| {
            let keys: Vec<String> = rows
                .iter()
                .filter_map(|r| Some(format!("{}.{}", r["group"].as_str()?, r["parameter"].as_str()?)))
                .collect();
            Response::error(
                404,
                "not_found",
                Some("key"),
                format!("no config key {key}; the keys are {}", keys.join(", ")),
            )
        })
}

/// Sets `key` to `value` (a new key is added to the config table), checked whole.
pub async fn put(store: &LibraryStore, key: &str, value: Value, actor: &str, now: &str) -> Response {
    let (group, parameter) = match split(key) {
        Ok(k) => k,
        Err(r) => return r,
    };
    if !(value.is_number() || value.is_string()) {
        return Response::error(
            400,
            "bad_request",
            Some("value"),
            "a config value is a number or a text",
        );
    }
    let stored = match store.load().await {
        Ok(l) => l,
        Err(e) => return unavailable(e.to_string()),
    };
    let mut config = rows(&stored);
    match config.iter_mut().find(|r| is(r, group, parameter)) {
        Some(row) => row["value"] = value.clone(),
        None => {
            let mut row = Map::new();
            row.insert("group".into(), group.into());
            row.insert("parameter".into(), parameter.into());
            row.insert("value".into(), value.clone());
            config.push(Value::Object(row));
        }
    }
    let source_name = format!("crm:{actor}");
    let mut tables = Vec::new();
    for table in TABLES {
        let (text, source) = match (table.name(), stored.tables.get(table.name())) {
            ("config", _) => (serde_json::to_string(&config).unwrap_or_default(), source_name.clone()),
            (_, Some(item)) => (item.rows.clone(), item.source.clone()),
            (_, None) => ("[]".to_string(), source_name.clone()),
        };
        let mut raw = yaml::table(table, &format!("stored {} table", table.name()), &text);
        raw.source = source;
        tables.push(raw);
    }
    let source = gsheetui::Source {
        name: source_name.clone(),
        tables,
        problems: Vec::new(),
    };
    let loaded = match gsheetui::sync::check(&source) {
        Ok(l) => l,
        Err(gsheetui::SyncError::Invalid { errors, .. }) => {
            let reasons: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
            return Response::error(
                400,
                "bad_request",
                Some("value"),
                format!("the library refuses {key} = {value}: {}", reasons.join("; ")),
            );
        }
        Err(e) => return unavailable(e.to_string()),
    };
    let (report, items, version) = gsheetui::sync::plan(&source_name, &loaded, &stored, now);
    if report.changed
        && let Err(e) = store.replace(&items, &version, report.version_before.as_deref()).await
    {
        return match e {
            ReplaceError::Conflict { .. } => {
                Response::error(409, "conflict", Some("key"), format!("{e}; read the value again"))
            }
            ReplaceError::Store(e) => unavailable(e.to_string()),
        };
    }
    Response::json(
        200,
        &ConfigEntry {
            key: key.to_string(),
            value,
            version: Some(report.version),
        },
    )
}
