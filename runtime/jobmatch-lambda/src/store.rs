//! The recommender's reads and writes (docs/data-model.md, access patterns 7–11), all through
//! the clients of one [`mcfstore::Aws`] connection, so a recording connection sees every call:
//!
//! - the **library** from the dimensions table through [`mcfstore::library::LibraryStore::load`]
//!   (one item per table, its rows as JSON, and the `VERSION` item), its rows read into
//!   `jobmatch`'s types and compiled by [`jobmatch::CompiledLibrary::compile`];
//! - the **recent posts** by posting month from the posts table's `gsi1` (a rescore);
//! - the **score items** (`sk = SCORE#<track>`) read in batches and written only when they
//!   changed;
//! - the **CRM** through [`mcfstore::crm`].

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use jobmatch::{CompiledLibrary, Library, Problem, TrackScore};
use mcfcore::layout::{self, dimension};
use mcfcore::{Post, PostStatus};
use mcfstore::batch::{self, Item};
use mcfstore::crm::CrmStore;
use mcfstore::library::LibraryStore;
use mcfstore::{Aws, Names, StoreError, error_text};
use serde::{Deserialize, Serialize};

/// A library as loaded from the dimensions table, compiled.
#[derive(Debug)]
pub struct LoadedLibrary {
    pub library: Library,
    /// The `VERSION` item's `version`: every score item records it.
    pub version: String,
    pub compiled: CompiledLibrary,
    /// What validation warned about (harmless repeats).
    pub warnings: Vec<Problem>,
}

/// Why the library cannot be used. Every message names the table and what to do next.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error(
        "table {table} holds no library (no item with pk = library): load one with `cargo xtask sync --env <env>` \
         (`cargo xtask up` loads the starter library of config/seed/library when there is none)"
    )]
    Missing { table: String },
    #[error(
        "the library in table {table} is incomplete, it lacks {}: run `cargo xtask sync --env <env>` again, which writes every table in one transaction",
        missing.join(", ")
    )]
    Incomplete { table: String, missing: Vec<String> },
    #[error(
        "library item `{name}` in table {table}: {reason}; fix the sheet (or config/seed/library/{name}.yaml) and run `cargo xtask sync --env <env>`"
    )]
    BadItem {
        table: String,
        name: String,
        reason: String,
    },
    #[error(
        "the library in table {table} (version {version}) is refused: {invalid}\nfix it and run `cargo xtask sync --env <env>`"
    )]
    Invalid {
        table: String,
        version: String,
        invalid: jobmatch::Invalid,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The tables the recommender works on.
#[derive(Clone, Debug)]
pub struct Store {
    dynamodb: aws_sdk_dynamodb::Client,
    posts_table: String,
    dimensions_table: String,
    crm: CrmStore,
    library: LibraryStore,
}

/// A score item as stored (posts table, `sk = SCORE#<track>`), without its `scored_at`: two
/// equal records mean the write can be skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRecord {
    pub title_score: f64,
    pub keyword_score: f64,
    pub seniority_fit: f64,
    pub salary_fit: f64,
    pub recency: f64,
    pub total: f64,
    /// `jobmatch::Reasons` as JSON.
    pub reasons: String,
    pub summary: String,
    pub library_version: String,
    /// Copies of the post's status and closing date, so a list of scores needs no second read.
    pub status: PostStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<String>,
}

impl ScoreRecord {
    pub fn new(post: &Post, score: &TrackScore, library_version: &str) -> Result<ScoreRecord, StoreError> {
        Ok(ScoreRecord {
            title_score: score.title_score,
            keyword_score: score.keyword_score,
            seniority_fit: score.seniority_fit,
            salary_fit: score.salary_fit,
            recency: score.recency,
            total: score.total,
            reasons: reasons_json(post, score)?,
            summary: score.reasons.summary.clone(),
            library_version: library_version.to_string(),
            status: post.status,
            expiry_date: post.expiry_date.clone(),
        })
    }

    /// The item: the record, `scored_at`, and the keys (the track's index keys only when the
    /// post has a posting date, as the post's own: the index stays sparse).
    pub fn item(&self, post: &Post, track: &str, scored_at: &str) -> Result<Item, StoreError> {
        let mut item: Item = serde_dynamo::aws_sdk_dynamodb_1::to_item(self).map_err(|e| StoreError::Encode {
            uuid: post.uuid.clone(),
            reason: e.to_string(),
        })?;
        item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
        let s = |v: String| AttributeValue::S(v);
        item.insert(layout::PK.into(), s(post.uuid.clone()));
        item.insert(layout::SK.into(), s(layout::score_sk(track)));
        if let Some(date) = &post.posted_date {
            item.insert(layout::GSI1PK.into(), s(layout::score_gsi1pk(track)));
            item.insert(layout::GSI1SK.into(), s(layout::post_gsi1sk(date, &post.uuid)));
        }
        item.insert(SCORED_AT.into(), s(scored_at.to_string()));
        Ok(item)
    }

    /// The record of a stored score item; `None` when it cannot be read as one (it is then
    /// simply written again).
    pub fn from_item(item: Item) -> Option<ScoreRecord> {
        serde_dynamo::aws_sdk_dynamodb_1::from_item(item).ok()
    }
}

/// When a score item was last written.
pub const SCORED_AT: &str = "scored_at";

fn reasons_json(post: &Post, score: &TrackScore) -> Result<String, StoreError> {
    serde_json::to_string(&score.reasons).map_err(|e| StoreError::Encode {
        uuid: post.uuid.clone(),
        reason: e.to_string(),
    })
}

impl Store {
    pub fn new(aws: &Aws, posts_table: &str, dimensions_table: &str, crm_table: &str) -> Store {
        let dynamodb = aws.dynamodb();
        Store {
            crm: CrmStore::new(dynamodb.clone(), crm_table),
            library: LibraryStore::new(dynamodb.clone(), dimensions_table),
            dynamodb,
            posts_table: posts_table.to_string(),
            dimensions_table: dimensions_table.to_string(),
        }
    }

    /// The store for the tables `names` gives (`POSTS_TABLE`, `DIMENSIONS_TABLE`, `CRM_TABLE`).
    pub fn from_names(aws: &Aws, names: &Names) -> Result<Store, StoreError> {
        Ok(Store::new(
            aws,
            names.posts_table()?,
            names.dimensions_table()?,
            names.crm_table()?,
        ))
    }

    pub fn posts_table(&self) -> &str {
        &self.posts_table
    }

    pub fn dimensions_table(&self) -> &str {
        &self.dimensions_table
    }

    pub fn crm(&self) -> &CrmStore {
        &self.crm
    }

    /// The library (access pattern 7): read by [`LibraryStore::load`] (the one reader of
    /// that layout), every table's rows read into `jobmatch`'s types, checked and compiled.
    pub async fn load_library(&self) -> Result<LoadedLibrary, LibraryError> {
        let table = &self.dimensions_table;
        let stored = self.library.load().await?;
        if stored.tables.is_empty() && stored.version.is_none() {
            return Err(LibraryError::Missing { table: table.clone() });
        }
        let missing: Vec<String> = dimension::LIBRARY_TABLES
            .iter()
            .filter(|name| !stored.tables.contains_key(**name))
            .chain(stored.version.is_none().then_some(&dimension::LIBRARY_VERSION))
            .map(|name| name.to_string())
            .collect();
        let Some(version) = stored
            .version
            .as_ref()
            .map(|v| v.version.clone())
            .filter(|_| missing.is_empty())
        else {
            return Err(LibraryError::Incomplete {
                table: table.clone(),
                missing,
            });
        };
        fn rows<T: serde::de::DeserializeOwned>(
            table: &str,
            stored: &mcfstore::library::StoredLibrary,
            name: &str,
        ) -> Result<Vec<T>, LibraryError> {
            let text = stored.tables.get(name).map(|t| t.rows.as_str()).unwrap_or("[]");
            serde_json::from_str(text).map_err(|e| LibraryError::BadItem {
                table: table.to_string(),
                name: name.to_string(),
                reason: format!("its rows are not this table's rows: {e}"),
            })
        }
        let library = Library {
            title_tags: rows(table, &stored, "title_tags")?,
            rank_tags: rows(table, &stored, "rank_tags")?,
            junk_tags: rows(table, &stored, "junk_tags")?,
            keep_tags: rows(table, &stored, "keep_tags")?,
            keyword_tags: rows(table, &stored, "keyword_tags")?,
            tracks: rows(table, &stored, "tracks")?,
            config: rows(table, &stored, "config")?,
        };
        match CompiledLibrary::compile(&library) {
            Ok(compiled) => Ok(LoadedLibrary {
                library,
                version,
                compiled: compiled.library,
                warnings: compiled.warnings,
            }),
            Err(invalid) => Err(LibraryError::Invalid {
                table: table.clone(),
                version,
                invalid,
            }),
        }
    }

    /// One page of the posts posted in `month` (`YYYY-MM`) on or after `since` (access pattern
    /// 9, `gsi1`: its projection is ALL, so the page holds the whole posts); the key to pass
    /// for the next page, `None` after the last. Items that cannot be read as posts are
    /// returned as their uuid and the reason.
    pub async fn recent_posts_page(
        &self,
        month: &str,
        since: &str,
        start: Option<Item>,
        limit: i32,
    ) -> Result<(Vec<Result<Post, (String, String)>>, Option<Item>), StoreError> {
        let table = &self.posts_table;
        let page = self
            .dynamodb
            .query()
            .table_name(table)
            .index_name(layout::GSI1)
            .key_condition_expression("#pk = :month AND #sk >= :since")
            .expression_attribute_names("#pk", layout::GSI1PK)
            .expression_attribute_names("#sk", layout::GSI1SK)
            .expression_attribute_values(":month", AttributeValue::S(format!("POSTED#{month}")))
            .expression_attribute_values(":since", AttributeValue::S(since.to_string()))
            .set_exclusive_start_key(start)
            .limit(limit)
            .send()
            .await
            .map_err(|e| StoreError::Aws {
                operation: "Query",
                target: format!("gsi1pk = POSTED#{month} in table {table}"),
                message: error_text(&e),
                transient: true,
            })?;
        let posts = page
            .items
            .unwrap_or_default()
            .into_iter()
            .filter(|item| {
                item.get(layout::SK).and_then(|v| v.as_s().ok()).map(String::as_str) == Some(layout::POST_SK)
            })
            .map(|item| {
                let uuid = batch::key_of(&item).map(|k| k.0).unwrap_or_default();
                mcfstore::post_from_item(item).map_err(|why| (uuid, why))
            })
            .collect();
        Ok((posts, page.last_evaluated_key))
    }

    /// The stored score records of every (uuid, track) of `wanted` that has one.
    pub async fn score_records(
        &self,
        wanted: &[(String, String)],
    ) -> Result<HashMap<(String, String), ScoreRecord>, StoreError> {
        let keys: Vec<(String, String)> = wanted
            .iter()
            .map(|(uuid, track)| (uuid.clone(), layout::score_sk(track)))
            .collect();
        let mut out = HashMap::with_capacity(keys.len());
        for item in batch::get(&self.dynamodb, &self.posts_table, &keys).await? {
            let Some((uuid, sk)) = batch::key_of(&item) else {
                continue;
            };
            let track = sk.strip_prefix(layout::SCORE_PREFIX).unwrap_or(&sk).to_string();
            if let Some(record) = ScoreRecord::from_item(item) {
                out.insert((uuid, track), record);
            }
        }
        Ok(out)
    }

    /// Writes score items (access pattern 8), in batches.
    pub async fn put_scores(&self, items: Vec<Item>) -> Result<(), StoreError> {
        batch::put(&self.dynamodb, &self.posts_table, items).await
    }
}

/// The months (`YYYY-MM`) from `since`'s to `today`'s, in order: the `gsi1` partitions a
/// "posted since" read must query.
pub fn months_between(since: &str, today: &str) -> Vec<String> {
    let parse = |d: &str| -> Option<(i32, u32)> { Some((d.get(..4)?.parse().ok()?, d.get(5..7)?.parse().ok()?)) };
    let (Some((mut y, mut m)), Some(end)) = (parse(since), parse(today)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while (y, m) <= end {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_cover_both_ends() {
        assert_eq!(months_between("2025-04-21", "2025-05-19"), ["2025-04", "2025-05"]);
        assert_eq!(months_between("2025-05-01", "2025-05-19"), ["2025-05"]);
        assert_eq!(
            months_between("2024-11-25", "2025-01-02"),
            ["2024-11", "2024-12", "2025-01"]
        );
        assert!(months_between("2025-06-01", "2025-05-19").is_empty());
        assert!(months_between("garbage", "2025-05-19").is_empty());
    }
}
