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

/// `sk` of a post's score for one track (posts table): `SCORE#<track>`.
pub fn score_sk(track: &str) -> String {
    format!("{SCORE_PREFIX}{track}")
}

/// The prefix of score items' `sk`; the stream mapping's filter keeps only `POST`.
pub const SCORE_PREFIX: &str = "SCORE#";

/// `gsi1pk` of a score item: the track, so "best recent scores of a track" is one Query.
pub fn score_gsi1pk(track: &str) -> String {
    format!("TRACK#{track}")
}

/// The CRM table's keys (docs/data-model.md, `crm`): one job per (post, track), its history
/// beside it.
pub mod crm {
    /// `sk` of the job of (post, track): `JOB#<track>`.
    pub fn job_sk(track: &str) -> String {
        format!("JOB#{track}")
    }

    /// `sk` of one event of a job's history: `JOB#<track>#EVENT#<time>#<seq>`, the sequence
    /// zero-padded so that events of the same second sort in order.
    pub fn event_sk(track: &str, at: &str, seq: u64) -> String {
        format!("JOB#{track}#EVENT#{at}#{seq:06}")
    }

    /// The job's id in the CRM API's URLs: `<uuid>~<track>`.
    pub fn job_id(uuid: &str, track: &str) -> String {
        format!("{uuid}~{track}")
    }

    /// `gsi1pk` of a job: its stage, so that a stage's list is one Query.
    pub fn stage_gsi1pk(stage: &str) -> String {
        format!("STAGE#{stage}")
    }

    /// `gsi1sk` of a job: `<updated_at>#<uuid>#<track>` (newest moves first, unique).
    pub fn stage_gsi1sk(updated_at: &str, uuid: &str, track: &str) -> String {
        format!("{updated_at}#{uuid}#{track}")
    }
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
    /// The recommender's library: one item per table (`sk` = the table's name) and `VERSION`.
    pub const LIBRARY: &str = "library";
    /// `sk` of the library's version item.
    pub const LIBRARY_VERSION: &str = "VERSION";
    /// The library's tables, in table-name order (the order the version hashes them in).
    pub const LIBRARY_TABLES: [&str; 7] = [
        "config",
        "junk_tags",
        "keep_tags",
        "keyword_tags",
        "rank_tags",
        "title_tags",
        "tracks",
    ];
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
        assert_eq!(score_sk("data"), "SCORE#data");
        assert_eq!(score_gsi1pk("data"), "TRACK#data");
        assert_eq!(crm::job_sk("data"), "JOB#data");
        assert_eq!(
            crm::event_sk("data", "2025-05-19T01:02:03Z", 1),
            "JOB#data#EVENT#2025-05-19T01:02:03Z#000001"
        );
        assert!(crm::event_sk("data", "t", 2).starts_with(&crm::job_sk("data")));
        assert_eq!(crm::job_id("u", "data"), "u~data");
        assert_eq!(crm::stage_gsi1pk("SCREENED"), "STAGE#SCREENED");
        assert_eq!(crm::stage_gsi1sk("t", "u", "data"), "t#u#data");
        let mut sorted = dimension::LIBRARY_TABLES;
        sorted.sort_unstable();
        assert_eq!(sorted, dimension::LIBRARY_TABLES, "in table-name order");
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
