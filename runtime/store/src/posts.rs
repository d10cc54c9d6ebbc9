//! The posts table's post items (`pk = <uuid>, sk = POST`): how a [`Post`] becomes an item and
//! back, and the write that never duplicates or regresses a post.
//!
//! The write is read, merge, compare-and-swap: the stored post is read (consistently),
//! [`Post::merge`] decides what the combination of both observations is (newer `updated_at`
//! leads, ties go to the richer source, gaps are filled from the older one, counts only grow),
//! and the result is put only if the item is still the one that was read (`revision`
//! unchanged) or, for a new post, still absent. Nothing new → no write at all, so redelivery and
//! reruns cost one read and produce no stream event for the scorer.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use mcfcore::{MergeOutcome, Post, layout};

use crate::StoreError;
use crate::aws::sdk_error;

/// The item's version counter: incremented by every write, the compare-and-swap's witness.
pub const REVISION: &str = "revision";
/// The raw document (S3 key) of the write that last changed the item.
pub const RAW_KEY: &str = "raw_key";
/// When the item last changed (`YYYY-MM-DDTHH:MM:SSZ`).
pub const WRITTEN_AT: &str = "written_at";

/// Writers racing on one post each retry after a lost swap; more than this many lost swaps
/// in a row means something else rewrites the item in a loop.
const MAX_ATTEMPTS: u32 = 5;

/// What [`PostStore::put_if_newer`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The post was not in the table.
    Inserted,
    /// The document was a newer (or richer, same-version) observation and now leads.
    Replaced,
    /// The stored version still leads; gaps or counts were filled from the document.
    Filled,
    /// The document added nothing: no write.
    Unchanged,
}

impl PutOutcome {
    pub fn is_write(self) -> bool {
        self != PutOutcome::Unchanged
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PutOutcome::Inserted => "inserted",
            PutOutcome::Replaced => "replaced",
            PutOutcome::Filled => "filled",
            PutOutcome::Unchanged => "unchanged",
        }
    }
}

/// The posts table.
#[derive(Clone, Debug)]
pub struct PostStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

/// A post item as read: the post and the revision the swap must find unchanged.
struct Stored {
    post: Post,
    /// `None` for an item written without a revision (by hand, or an older writer).
    revision: Option<u64>,
}

impl PostStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> PostStore {
        PostStore {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The stored post, if any (a consistent read).
    pub async fn get(&self, uuid: &str) -> Result<Option<Post>, StoreError> {
        Ok(self.read(uuid).await?.map(|stored| stored.post))
    }

    /// Stores `post` unless the table already holds this version or a newer one (see the
    /// module docs). `raw_key` names the document it came from, kept on the item.
    pub async fn put_if_newer(&self, post: &Post, raw_key: Option<&str>) -> Result<PutOutcome, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let (item, outcome, expected) = match self.read(&post.uuid).await? {
                None => (post_item(post, 1, raw_key)?, PutOutcome::Inserted, Expected::Absent),
                Some(Stored {
                    post: mut current,
                    revision,
                }) => {
                    let outcome = match current.merge(post.clone()) {
                        MergeOutcome::Unchanged => return Ok(PutOutcome::Unchanged),
                        MergeOutcome::Replaced => PutOutcome::Replaced,
                        MergeOutcome::Filled => PutOutcome::Filled,
                        MergeOutcome::DifferentPost => {
                            return Err(StoreError::BadItem {
                                table: self.table.clone(),
                                uuid: post.uuid.clone(),
                                reason: format!("its uuid attribute is `{}`", current.uuid),
                            });
                        }
                    };
                    let next = revision.unwrap_or(0) + 1;
                    (
                        post_item(&current, next, raw_key)?,
                        outcome,
                        Expected::Revision(revision),
                    )
                }
            };
            if self.swap(&post.uuid, item, expected).await? {
                return Ok(outcome);
            }
        }
        Err(StoreError::Contended {
            table: self.table.clone(),
            uuid: post.uuid.clone(),
            attempts: MAX_ATTEMPTS,
        })
    }

    async fn read(&self, uuid: &str) -> Result<Option<Stored>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(layout::PK, AttributeValue::S(uuid.to_string()))
            .key(layout::SK, AttributeValue::S(layout::POST_SK.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", self.target(uuid), &e))?;
        let Some(mut item) = out.item else {
            return Ok(None);
        };
        let bad = |reason: String| StoreError::BadItem {
            table: self.table.clone(),
            uuid: uuid.to_string(),
            reason,
        };
        let revision = match item.remove(REVISION) {
            None => None,
            Some(AttributeValue::N(n)) => Some(n.parse().map_err(|_| bad(format!("`{REVISION}` is `{n}`")))?),
            Some(other) => return Err(bad(format!("`{REVISION}` is not a number: {other:?}"))),
        };
        let post = post_from_item(item).map_err(bad)?;
        Ok(Some(Stored { post, revision }))
    }

    /// Puts `item` if the stored item is still as `expected`; false when another writer
    /// got there first (the caller reads again and re-merges).
    async fn swap(
        &self,
        uuid: &str,
        item: HashMap<String, AttributeValue>,
        expected: Expected,
    ) -> Result<bool, StoreError> {
        let mut put = self.client.put_item().table_name(&self.table).set_item(Some(item));
        put = match expected {
            Expected::Absent => put.condition_expression("attribute_not_exists(#pk)"),
            Expected::Revision(None) => {
                put.condition_expression("attribute_exists(#pk) AND attribute_not_exists(#rev)")
            }
            Expected::Revision(Some(n)) => put
                .condition_expression("attribute_exists(#pk) AND #rev = :rev")
                .expression_attribute_values(":rev", AttributeValue::N(n.to_string())),
        };
        put = put.expression_attribute_names("#pk", layout::PK);
        if matches!(expected, Expected::Revision(_)) {
            put = put.expression_attribute_names("#rev", REVISION);
        }
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(sdk_error("PutItem", self.target(uuid), &e)),
        }
    }

    fn target(&self, uuid: &str) -> String {
        format!("post {uuid} in table {}", self.table)
    }
}

/// The post of a post item (any attribute that is not a field of [`Post`] is ignored: keys,
/// `revision`, `raw_key`, `written_at`); why not, when the item is not a post.
pub fn post_from_item(item: HashMap<String, AttributeValue>) -> Result<Post, String> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item).map_err(|e| e.to_string())
}

/// What the conditional put must find.
#[derive(Clone, Copy)]
enum Expected {
    Absent,
    Revision(Option<u64>),
}

/// The item of a post: its fields under their serde names (snake_case; `None` left out, lists
/// as L, counts as N, enums as their snake_case names), plus keys and bookkeeping. Public for
/// writers that bypass the merge on purpose (the recommender's load benchmark).
pub fn post_item(
    post: &Post,
    revision: u64,
    raw_key: Option<&str>,
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let mut item: HashMap<String, AttributeValue> =
        serde_dynamo::aws_sdk_dynamodb_1::to_item(post).map_err(|e| StoreError::Encode {
            uuid: post.uuid.clone(),
            reason: e.to_string(),
        })?;
    // Absent rather than NULL: sparse items are what `attribute_exists(...)` filters expect,
    // and serde reads a missing Option back as None.
    item.retain(|_, value| !matches!(value, AttributeValue::Null(_)));
    item.insert(layout::PK.into(), AttributeValue::S(post.uuid.clone()));
    item.insert(layout::SK.into(), AttributeValue::S(layout::POST_SK.into()));
    // Sparse index: a post without a posting date is not listed by month.
    if let Some(date) = &post.posted_date {
        item.insert(layout::GSI1PK.into(), AttributeValue::S(layout::post_gsi1pk(date)));
        item.insert(
            layout::GSI1SK.into(),
            AttributeValue::S(layout::post_gsi1sk(date, &post.uuid)),
        );
    }
    item.insert(REVISION.into(), AttributeValue::N(revision.to_string()));
    if let Some(key) = raw_key {
        item.insert(RAW_KEY.into(), AttributeValue::S(key.to_string()));
    }
    item.insert(WRITTEN_AT.into(), AttributeValue::S(crate::now_utc()));
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcfcore::{PostStatus, Source};

    fn post() -> Post {
        Post {
            uuid: "5624187c437fddd00296eecc783ed4cd".into(),
            job_post_id: Some("MCF-2026-0521403".into()),
            title: "Engineer".into(),
            company_name: "LDRM".into(),
            company_uen: None,
            posted_by_name: None,
            posted_by_uen: None,
            posted_on_behalf: Some(false),
            salary_min: Some(3700),
            salary_max: Some(5400),
            salary_type: Some("Monthly".into()),
            hide_salary: None,
            employment_types: vec!["Full Time".into()],
            position_levels: vec![],
            categories: vec![],
            skills: vec![],
            min_years_experience: None,
            vacancies: None,
            posted_date: Some("2026-03-27".into()),
            original_posted_date: None,
            expiry_date: None,
            updated_at: Some("2026-03-27T01:00:00Z".into()),
            applications: Some(3),
            views: None,
            districts: vec![],
            regions: vec![],
            description: None,
            url: None,
            status: PostStatus::Reopened,
            status_code: Some(103),
            source: Source::SearchItem,
        }
    }

    #[test]
    fn items_are_sparse_keyed_and_read_back_as_the_same_post() {
        let p = post();
        let item = post_item(&p, 7, Some("raw/2026-03-27/x.json")).expect("item");
        let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        assert_eq!(s("pk").as_deref(), Some(p.uuid.as_str()));
        assert_eq!(s("sk").as_deref(), Some("POST"));
        assert_eq!(s("gsi1pk").as_deref(), Some("POSTED#2026-03"));
        assert_eq!(s("gsi1sk"), Some(format!("2026-03-27#{}", p.uuid)));
        assert_eq!(s("status").as_deref(), Some("reopened"));
        assert_eq!(s("source").as_deref(), Some("search_item"));
        assert_eq!(
            item.get("salary_min").and_then(|v| v.as_n().ok()).map(String::as_str),
            Some("3700")
        );
        assert_eq!(
            item.get("revision").and_then(|v| v.as_n().ok()).map(String::as_str),
            Some("7")
        );
        assert!(!item.contains_key("description") && !item.contains_key("company_uen"));
        assert!(item.get("skills").is_some_and(|v| v.as_l().is_ok_and(Vec::is_empty)));
        let back: Post = serde_dynamo::aws_sdk_dynamodb_1::from_item(item).expect("reads back");
        assert_eq!(back, p);
    }

    #[test]
    fn a_post_without_posting_date_stays_out_of_the_index() {
        let p = Post {
            posted_date: None,
            ..post()
        };
        let item = post_item(&p, 1, None).expect("item");
        assert!(!item.contains_key("gsi1pk") && !item.contains_key("gsi1sk") && !item.contains_key("raw_key"));
    }
}
