//! The scraper's DynamoDB items, as pure conversions (docs/data-model.md, `dimensions`):
//! search profiles (`pk = search_profile`), the checkpoint and run records (`pk = scrape_run`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use mcfcore::SearchProfile;
use mcfcore::layout::{PK, SK, dimension};

use crate::summary::{Checkpoint, RunSummary};

pub type Item = HashMap<String, AttributeValue>;

/// `sk` of the checkpoint item (one per environment: runs do not overlap).
pub const CHECKPOINT_SK: &str = "CHECKPOINT";

/// `sk` of a run record: `RUN#<run id>` (the start time, so they sort by time).
pub fn run_sk(run_id: &str) -> String {
    format!("RUN#{run_id}")
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

fn list(values: &[String]) -> AttributeValue {
    AttributeValue::L(values.iter().map(|v| s(v)).collect())
}

/// A search profile as a dimensions item: `pk = search_profile`, `sk = <name>`, `track` (S),
/// `keywords`, `categories`, `employment_types`, `position_levels` (L of S, order kept:
/// keywords are joined in order, and a string set cannot be empty), `min_salary` (N, absent
/// when there is no floor), `updated_at` (S, when it was written).
pub fn profile_item(profile: &SearchProfile, updated_at: &str) -> Item {
    let mut item = Item::from([
        (PK.into(), s(dimension::SEARCH_PROFILE)),
        (SK.into(), s(&profile.name)),
        ("track".into(), s(&profile.track)),
        ("keywords".into(), list(&profile.keywords)),
        ("categories".into(), list(&profile.categories)),
        ("employment_types".into(), list(&profile.employment_types)),
        ("position_levels".into(), list(&profile.position_levels)),
        ("updated_at".into(), s(updated_at)),
    ]);
    if let Some(salary) = profile.min_salary {
        item.insert("min_salary".into(), AttributeValue::N(salary.to_string()));
    }
    item
}

/// Reads a profile item back. Missing list attributes are empty; other attributes are
/// ignored (config sync may add its own). The error names the item and the attribute.
pub fn profile_from_item(item: &Item) -> Result<SearchProfile, String> {
    let name = string(item, SK, "?")?;
    let strings = |attr: &str| -> Result<Vec<String>, String> {
        match item.get(attr) {
            None | Some(AttributeValue::Null(_)) => Ok(Vec::new()),
            Some(AttributeValue::L(values)) => values
                .iter()
                .map(|v| match v {
                    AttributeValue::S(text) => Ok(text.clone()),
                    other => Err(format!(
                        "search profile `{name}`: `{attr}` holds {other:?}, not strings"
                    )),
                })
                .collect(),
            Some(AttributeValue::Ss(values)) => Ok(values.clone()),
            Some(other) => Err(format!(
                "search profile `{name}`: `{attr}` should be a list of strings, found {other:?}"
            )),
        }
    };
    let min_salary = match item.get("min_salary") {
        None | Some(AttributeValue::Null(_)) => None,
        Some(AttributeValue::N(n)) => Some(
            n.parse::<u32>()
                .map_err(|_| format!("search profile `{name}`: `min_salary` {n} is not a whole number of SGD"))?,
        ),
        Some(other) => {
            return Err(format!(
                "search profile `{name}`: `min_salary` should be a number, found {other:?}"
            ));
        }
    };
    Ok(SearchProfile {
        track: string(item, "track", &name)?,
        keywords: strings("keywords")?,
        categories: strings("categories")?,
        employment_types: strings("employment_types")?,
        position_levels: strings("position_levels")?,
        min_salary,
        name,
    })
}

fn string(item: &Item, attr: &str, name: &str) -> Result<String, String> {
    match item.get(attr) {
        Some(AttributeValue::S(text)) => Ok(text.clone()),
        Some(other) => Err(format!(
            "search profile `{name}`: `{attr}` should be a string, found {other:?}"
        )),
        None => Err(format!("search profile `{name}`: attribute `{attr}` is missing")),
    }
}

/// The checkpoint item: `pk = scrape_run`, `sk = CHECKPOINT`, `run_id`, `updated_at` and the
/// checkpoint itself as JSON in `checkpoint` (S).
pub fn checkpoint_item(checkpoint: &Checkpoint, updated_at: &str) -> Result<Item, String> {
    let json = serde_json::to_string(checkpoint).map_err(|e| format!("checkpoint to JSON: {e}"))?;
    Ok(Item::from([
        (PK.into(), s(dimension::SCRAPE_RUN)),
        (SK.into(), s(CHECKPOINT_SK)),
        ("run_id".into(), s(&checkpoint.run_id)),
        ("updated_at".into(), s(updated_at)),
        ("checkpoint".into(), s(&json)),
    ]))
}

pub fn checkpoint_from_item(item: &Item) -> Result<Checkpoint, String> {
    match item.get("checkpoint") {
        Some(AttributeValue::S(json)) => serde_json::from_str(json)
            .map_err(|e| format!("the checkpoint item's `checkpoint` is not a checkpoint: {e}")),
        _ => Err("the checkpoint item has no `checkpoint` string".into()),
    }
}

/// A run record: `pk = scrape_run`, `sk = RUN#<run id>`, `outcome`, `finished_at`, the main
/// counts as numbers (`fetched`, `enqueued`, `failed`, `gone`, `quarantined`, `posts_seen`) for
/// a glance in the console, and the whole summary as JSON in `summary` (S).
pub fn run_item(summary: &RunSummary) -> Result<Item, String> {
    let json = serde_json::to_value(summary).map_err(|e| format!("run summary to JSON: {e}"))?;
    let outcome = json["outcome"].as_str().unwrap_or_default().to_string();
    let n = |v: u32| AttributeValue::N(v.to_string());
    Ok(Item::from([
        (PK.into(), s(dimension::SCRAPE_RUN)),
        (SK.into(), s(&run_sk(&summary.run_id))),
        ("outcome".into(), s(&outcome)),
        ("finished_at".into(), s(&summary.finished_at)),
        ("posts_seen".into(), n(summary.posts_seen)),
        ("fetched".into(), n(summary.fetched)),
        ("enqueued".into(), n(summary.enqueued)),
        ("failed".into(), n(summary.failed)),
        ("gone".into(), n(summary.gone)),
        ("quarantined".into(), n(summary.quarantined)),
        ("summary".into(), s(&json.to_string())),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_round_trip_through_items() {
        let profile = SearchProfile {
            name: "data-eng".into(),
            track: "data".into(),
            keywords: vec!["data".into(), "engineer".into()],
            categories: vec!["Information Technology".into()],
            employment_types: vec![],
            position_levels: vec!["Senior Executive".into()],
            min_salary: Some(6000),
        };
        let item = profile_item(&profile, "2026-11-28T00:00:00Z");
        assert_eq!(item["pk"], s("search_profile"));
        assert_eq!(item["sk"], s("data-eng"));
        assert_eq!(item["min_salary"], AttributeValue::N("6000".into()));
        assert_eq!(profile_from_item(&item).unwrap(), profile);
        let no_floor = SearchProfile {
            min_salary: None,
            ..profile
        };
        let item = profile_item(&no_floor, "t");
        assert!(!item.contains_key("min_salary"));
        assert_eq!(profile_from_item(&item).unwrap(), no_floor);
    }

    #[test]
    fn bad_profile_items_name_the_profile_and_attribute() {
        let mut item = profile_item(
            &SearchProfile {
                name: "p".into(),
                track: "t".into(),
                keywords: vec![],
                categories: vec![],
                employment_types: vec![],
                position_levels: vec![],
                min_salary: None,
            },
            "t",
        );
        item.insert("min_salary".into(), AttributeValue::N("6000.5".into()));
        let err = profile_from_item(&item).unwrap_err();
        assert!(err.contains("`p`") && err.contains("min_salary"), "{err}");
        item.remove("min_salary");
        item.remove("track");
        assert!(profile_from_item(&item).unwrap_err().contains("track"));
    }

    #[test]
    fn checkpoints_and_runs_are_scrape_run_items() {
        let checkpoint = Checkpoint {
            run_id: "2026-11-28T01:00:00Z".into(),
            done: vec!["p#*".into()],
            ..Checkpoint::default()
        };
        let item = checkpoint_item(&checkpoint, "now").unwrap();
        assert_eq!((&item["pk"], &item["sk"]), (&s("scrape_run"), &s("CHECKPOINT")));
        assert_eq!(checkpoint_from_item(&item).unwrap(), checkpoint);
        let run = run_item(&RunSummary {
            run_id: "2026-11-28T01:00:00Z".into(),
            fetched: 7,
            ..RunSummary::default()
        })
        .unwrap();
        assert_eq!(run["sk"], s("RUN#2026-11-28T01:00:00Z"));
        assert_eq!(run["fetched"], AttributeValue::N("7".into()));
        assert_eq!(run["outcome"], s("completed"));
    }
}
