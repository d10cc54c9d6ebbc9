//! What a sync changes: each table's rows against the stored ones, by row key (added, changed,
//! removed), and the hashes that decide what is written (docs/data-model.md): a table item's
//! `sha256` is the SHA-256 of its `rows` text, and the library's `version` the first 16 hex
//! digits of the SHA-256 of the seven tables' `sha256` (lowercase hex, concatenated without a
//! separator) in table-name order (`config`, `junk_tags`, `keep_tags`, `keyword_tags`,
//! `rank_tags`, `title_tags`, `tracks`).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Table;

/// The most JSON a table item's `rows` may hold: DynamoDB's item limit is 400 KB, and the rest
/// of the item and a margin take the difference.
pub const MAX_TABLE_BYTES: usize = 350 * 1024;

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The library's version from each table's name and `sha256` (any order given).
pub fn version<'a>(tables: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let sorted: BTreeMap<&str, &str> = tables.into_iter().collect();
    let mut hasher = Sha256::new();
    for sha in sorted.values() {
        hasher.update(sha.as_bytes());
    }
    hex::encode(hasher.finalize())[..16].to_string()
}

/// What identifies a row within its table, as a report names it: the tag (with its track
/// when it has one), `group: tag` of a keyword, a track's id, `group.parameter` of a config
/// row. Tags compare without case or extra spaces, as matching does.
pub fn row_key(table: Table, row: &Value) -> String {
    let text = |k: &str| row[k].as_str().unwrap_or_default().to_string();
    let tag = || {
        text("tag")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    match table {
        Table::TitleTags => match row["track"].as_str() {
            Some(track) => format!("{} (track {track})", tag()),
            None => tag(),
        },
        Table::KeywordTags => format!("{}: {}", text("group"), tag()),
        Table::Tracks => text("id"),
        Table::Config => format!("{}.{}", text("group"), text("parameter")),
        Table::RankTags | Table::JunkTags | Table::KeepTags => tag(),
    }
}

/// One table's changes, rows named by [`row_key`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableDiff {
    pub table: Table,
    /// Rows in the new table.
    pub rows: usize,
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    /// The same rows in another order (the order is kept: it is the source's).
    pub reordered: bool,
}

impl TableDiff {
    /// Nothing to write for this table.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty() && !self.reordered
    }
}

/// `new` against `old` (`None`: the table was never stored). A key that repeats (a harmless
/// duplicate) pairs its occurrences in order.
pub fn diff(table: Table, old: Option<&[Value]>, new: &[Value]) -> TableDiff {
    let keyed = |rows: &[Value]| -> Vec<(String, Value)> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        rows.iter()
            .map(|r| {
                let key = row_key(table, r);
                let n = seen.entry(key.clone()).or_default();
                *n += 1;
                let key = if *n == 1 { key } else { format!("{key} #{n}") };
                (key, r.clone())
            })
            .collect()
    };
    let new_keyed = keyed(new);
    let old_keyed = keyed(old.unwrap_or_default());
    let old_map: HashMap<&str, &Value> = old_keyed.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let new_map: HashMap<&str, &Value> = new_keyed.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut out = TableDiff {
        table,
        rows: new.len(),
        added: Vec::new(),
        changed: Vec::new(),
        removed: Vec::new(),
        reordered: false,
    };
    for (key, row) in &new_keyed {
        match old_map.get(key.as_str()) {
            None => out.added.push(key.clone()),
            Some(before) if *before != row => out.changed.push(key.clone()),
            Some(_) => {}
        }
    }
    for (key, _) in &old_keyed {
        if !new_map.contains_key(key.as_str()) {
            out.removed.push(key.clone());
        }
    }
    out.reordered =
        out.added.is_empty() && out.changed.is_empty() && out.removed.is_empty() && old.is_some_and(|old| old != new);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_are_matched_by_key_and_compared_whole() {
        let old = vec![
            json!({"tag": "software engineer", "score": 1.0}),
            json!({"tag": "java developer", "score": -1.0}),
            json!({"tag": "data engineer", "score": 1.0, "track": "data"}),
            json!({"tag": "sales engineer", "score": -1.0}),
        ];
        let new = vec![
            json!({"tag": "Software  Engineer", "score": 1.0}),
            json!({"tag": "java developer", "score": 0.5}),
            json!({"tag": "data engineer", "score": 1.0, "track": "data"}),
            json!({"tag": "data engineer", "score": 2.0}),
        ];
        let d = diff(Table::TitleTags, Some(&old), &new);
        assert_eq!(d.added, ["data engineer"]);
        // The tag's case changed: same key, another row.
        assert_eq!(d.changed, ["software engineer", "java developer"]);
        assert_eq!(d.removed, ["sales engineer"]);
        assert!(!d.reordered && !d.is_empty());
        assert_eq!(d.rows, 4);

        let same = diff(Table::TitleTags, Some(&old), &old);
        assert!(same.is_empty(), "{same:?}");
        let mut swapped = old.clone();
        swapped.swap(0, 1);
        let d = diff(Table::TitleTags, Some(&old), &swapped);
        assert!(d.reordered && !d.is_empty());

        let first = diff(Table::JunkTags, None, &[json!({"tag": "a"}), json!({"tag": "a"})]);
        assert_eq!(first.added, ["a", "a #2"]);
    }

    #[test]
    fn keys_name_rows_as_the_user_does() {
        assert_eq!(
            row_key(
                Table::KeywordTags,
                &json!({"group": "data engineer", "tag": "SQL", "score": 1.0})
            ),
            "data engineer: sql"
        );
        assert_eq!(
            row_key(
                Table::Config,
                &json!({"group": "match", "parameter": "age_weeks", "value": 4.0})
            ),
            "match.age_weeks"
        );
        assert_eq!(row_key(Table::Tracks, &json!({"id": "data", "name": "D"})), "data");
    }

    #[test]
    fn the_version_follows_every_table_in_name_order() {
        let tables = [("tracks", "b"), ("config", "a")];
        let v = version(tables);
        assert_eq!(v.len(), 16);
        assert_eq!(v, version([("config", "a"), ("tracks", "b")]), "any order given");
        assert_eq!(v, sha256_hex("ab")[..16], "concatenated in name order");
        assert_ne!(v, version([("config", "a"), ("tracks", "c")]));
        assert_eq!(
            sha256_hex("[]"),
            "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
        );
    }
}
