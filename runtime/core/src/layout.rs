//! Where things live: the table keys, S3 object keys and queue messages that more than one
//! component reads or writes (see docs/data-model.md). Pure names and formats: the shells that
//! talk to DynamoDB, S3 and SQS build their requests from these, so the scraper, the parser and
//! the later consumers cannot drift apart.

use serde::{Deserialize, Serialize};

/// Key attribute names shared by every table.
pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1PK: &str = "gsi1pk";
pub const GSI1SK: &str = "gsi1sk";

/// The posts table's item for the post itself (scores are `SCORE#<track>`).
pub const POST_SK: &str = "POST";
/// Attribute that holds the post's version (`Post::updated_at`, normalised, string-comparable).
pub const UPDATED_AT: &str = "updated_at";

/// `gsi1pk` of a post: its posting month, so "posts of the last N days" is one or two Queries.
pub fn post_gsi1pk(posted_date: &str) -> String {
    format!("POSTED#{}", posted_date.get(..7).unwrap_or(posted_date))
}

/// `gsi1sk` of a post: posting date then uuid (unique, sorts by date).
pub fn post_gsi1sk(posted_date: &str, uuid: &str) -> String {
    format!("{posted_date}#{uuid}")
}

/// Kinds of items in the dimensions table (`pk`); `sk` is the item's id.
pub mod dimension {
    pub const CONFIG: &str = "config";
    pub const TRACK: &str = "track";
    pub const KEYWORD_LIBRARY: &str = "keyword_library";
    pub const SEARCH_PROFILE: &str = "search_profile";
    /// Scraper bookkeeping: one item per run (`sk` = run id) with its summary, and the
    /// checkpoint a killed run resumes from.
    pub const SCRAPE_RUN: &str = "scrape_run";
}

/// `raw/<YYYY-MM-DD>/<uuid>.json`: a scraped job document, dated by the day it was fetched.
pub fn raw_key(fetched_date: &str, uuid: &str, extension: &str) -> String {
    format!("raw/{fetched_date}/{uuid}.{extension}")
}

/// `rejects/<the raw key without its raw/ prefix>`: where an unreadable document is kept.
pub fn reject_key(raw_key: &str) -> String {
    format!("rejects/{}", raw_key.strip_prefix("raw/").unwrap_or(raw_key))
}

/// The reason a document was rejected, stored beside it as `<reject key>.reason.json`.
pub fn reject_reason_key(reject_key: &str) -> String {
    format!("{reject_key}.reason.json")
}

/// One message of the parse queue: a raw document to parse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseMessage {
    /// The post's uuid (also the message deduplication hint).
    pub uuid: String,
    /// The S3 key of the raw document in the data bucket.
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_data_model() {
        assert_eq!(post_gsi1pk("2025-05-16"), "POSTED#2025-05");
        assert_eq!(post_gsi1sk("2025-05-16", "abc"), "2025-05-16#abc");
        let raw = raw_key("2026-11-28", "5624187c437fddd00296eecc783ed4cd", "json");
        assert_eq!(raw, "raw/2026-11-28/5624187c437fddd00296eecc783ed4cd.json");
        assert_eq!(
            reject_key(&raw),
            "rejects/2026-11-28/5624187c437fddd00296eecc783ed4cd.json"
        );
        assert_eq!(reject_reason_key("rejects/x.json"), "rejects/x.json.reason.json");
        let msg: ParseMessage = serde_json::from_str(r#"{"uuid":"u","key":"raw/d/u.json"}"#).unwrap();
        assert_eq!(
            msg,
            ParseMessage {
                uuid: "u".into(),
                key: "raw/d/u.json".into()
            }
        );
    }
}
