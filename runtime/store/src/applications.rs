//! The applications table (docs/data-model.md, `applications`, D04): per job a `STATUS` item,
//! its latest attempt and the guard against applying twice, and one `ATTEMPT#<time>` item per
//! attempt.
//!
//! The rules every writer keeps:
//! - an attempt that may submit is **claimed** first ([`ApplicationStore::claim`]): `STATUS`
//!   becomes `in_progress`, on condition that it is absent or holds no outcome that forbids a
//!   new attempt (`in_progress`, `01_applied`, `08_submitted_unconfirmed`). Two runs cannot
//!   both claim a job, and a run that crashed after its claim leaves `in_progress`, which no
//!   run passes: the user looks at MCF and clears it ([`ApplicationStore::clear`]);
//! - the end of an attempt ([`ApplicationStore::finish`]) writes its `ATTEMPT#` item and
//!   `STATUS` in one transaction, with the CRM's move when it applied: `STATUS` on condition
//!   that the claim is still this attempt's (or, unclaimed, that nothing forbids it).

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use mcfcore::layout;
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::aws::sdk_error;
use crate::batch::{self, Item};

/// `STATUS`'s sort key.
pub const STATUS_SK: &str = "STATUS";
/// The outcome of an attempt that began and has not ended.
pub const IN_PROGRESS: &str = "in_progress";
/// Outcomes after which no attempt is made (besides `in_progress`).
pub const FINAL: [&str; 2] = ["01_applied", "08_submitted_unconfirmed"];
/// The condition that nothing forbids a new attempt: no `STATUS`, or one that is neither in
/// progress nor final.
const OPEN: &str = "attribute_not_exists(#pk) OR (#o <> :prog AND #o <> :applied AND #o <> :unconfirmed)";
/// How long a dry run's attempt item is kept (TTL).
pub const DRY_RUN_DAYS: i64 = 30;

/// One attempt, as `STATUS` and its `ATTEMPT#` item hold it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub uuid: String,
    pub track: String,
    /// An outcome's code (`01_applied`, …, `dry_run_ok`), or `in_progress`.
    pub outcome: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv_version: Option<String>,
    /// What happened, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The page where it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The data bucket's keys of the screenshot and the page's HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_png: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_html: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Who started it: `task` (the Fargate task), `xtask` (`cargo xtask run apply`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// The applications table.
#[derive(Clone, Debug)]
pub struct ApplicationStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn item_of(a: &Application, sk: &str, expires_at: Option<i64>) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::aws_sdk_dynamodb_1::to_item(a).map_err(|e| StoreError::Encode {
        uuid: a.uuid.clone(),
        reason: e.to_string(),
    })?;
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    let s = |v: String| AttributeValue::S(v);
    item.insert(layout::PK.into(), s(a.uuid.clone()));
    item.insert(layout::SK.into(), s(sk.to_string()));
    if sk == STATUS_SK {
        item.insert(layout::GSI1PK.into(), s(format!("OUTCOME#{}", a.outcome)));
        item.insert(layout::GSI1SK.into(), s(format!("{}#{}", a.started_at, a.uuid)));
    }
    if let Some(at) = expires_at {
        item.insert("expires_at".into(), AttributeValue::N(at.to_string()));
    }
    Ok(item)
}

/// The sort key of an attempt's item.
pub fn attempt_sk(started_at: &str) -> String {
    format!("ATTEMPT#{started_at}")
}

/// Seconds since the epoch of a `YYYY-MM-DDTHH:MM:SSZ` time (0 when it is not one).
fn unix_of(at: &str) -> i64 {
    aws_smithy_types::DateTime::from_str(at, aws_smithy_types::date_time::Format::DateTime)
        .map(|d| d.secs())
        .unwrap_or(0)
}

impl ApplicationStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> ApplicationStore {
        ApplicationStore {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn target(&self, uuid: &str) -> String {
        format!("job {uuid} in table {}", self.table)
    }

    /// The job's `STATUS`, if any (a consistent read).
    pub async fn latest(&self, uuid: &str) -> Result<Option<Application>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(batch::key(uuid, STATUS_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", self.target(uuid), &e))?;
        out.item
            .map(|item| {
                serde_dynamo::aws_sdk_dynamodb_1::from_item(item).map_err(|e| StoreError::BadRecord {
                    table: self.table.clone(),
                    key: format!("pk = {uuid}, sk = {STATUS_SK}"),
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    /// The job's attempts, oldest first.
    pub async fn attempts(&self, uuid: &str) -> Result<Vec<Application>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", layout::PK)
                .expression_attribute_names("#sk", layout::SK)
                .expression_attribute_values(":pk", AttributeValue::S(uuid.to_string()))
                .expression_attribute_values(":prefix", AttributeValue::S("ATTEMPT#".into()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("Query", self.target(uuid), &e))?;
            for item in page.items() {
                out.push(serde_dynamo::aws_sdk_dynamodb_1::from_item(item.clone()).map_err(|e| {
                    StoreError::BadRecord {
                        table: self.table.clone(),
                        key: format!("an attempt of job {uuid}"),
                        reason: e.to_string(),
                    }
                })?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    /// The condition that nothing forbids a new attempt on `STATUS`.
    fn open_condition(
        p: aws_sdk_dynamodb::types::builders::PutBuilder,
    ) -> aws_sdk_dynamodb::types::builders::PutBuilder {
        p.condition_expression(OPEN)
            .expression_attribute_names("#pk", layout::PK)
            .expression_attribute_names("#o", "outcome")
            .expression_attribute_values(":prog", AttributeValue::S(IN_PROGRESS.into()))
            .expression_attribute_values(":applied", AttributeValue::S(FINAL[0].into()))
            .expression_attribute_values(":unconfirmed", AttributeValue::S(FINAL[1].into()))
    }

    /// Claims the job for `attempt` (its outcome is set to `in_progress` here): `Ok(false)`
    /// when another attempt holds it or it is applied to (nothing may be submitted then).
    pub async fn claim(&self, attempt: &Application) -> Result<bool, StoreError> {
        let mut status = attempt.clone();
        status.outcome = IN_PROGRESS.into();
        status.finished_at = None;
        let answer = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of(&status, STATUS_SK, None)?))
            .condition_expression(OPEN)
            .expression_attribute_names("#pk", layout::PK)
            .expression_attribute_names("#o", "outcome")
            .expression_attribute_values(":prog", AttributeValue::S(IN_PROGRESS.into()))
            .expression_attribute_values(":applied", AttributeValue::S(FINAL[0].into()))
            .expression_attribute_values(":unconfirmed", AttributeValue::S(FINAL[1].into()))
            .send()
            .await;
        match answer {
            Ok(_) => Ok(true),
            Err(e) if crate::aws::error_code(&e).as_deref() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(sdk_error("PutItem", self.target(&attempt.uuid), &e)),
        }
    }

    /// Records the end of `attempt`: its `ATTEMPT#` item and `STATUS`, and `also` (the CRM's
    /// move when it applied), in one transaction. `claimed`: `STATUS` must still be this
    /// attempt's claim; else nothing may forbid a new attempt. `Ok(false)` when a condition
    /// failed (the caller reads again: the CRM job may have changed meanwhile).
    pub async fn finish(
        &self,
        attempt: &Application,
        claimed: bool,
        also: Vec<TransactWriteItem>,
    ) -> Result<bool, StoreError> {
        let encode = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Encode {
            uuid: attempt.uuid.clone(),
            reason: e.to_string(),
        };
        let expires = attempt
            .dry_run
            .then(|| unix_of(&attempt.started_at) + DRY_RUN_DAYS * 86_400);
        let record = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item_of(attempt, &attempt_sk(&attempt.started_at), expires)?))
            .build()
            .map_err(encode)?;
        let status = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item_of(attempt, STATUS_SK, None)?));
        let status = if claimed {
            status
                .condition_expression("#o = :prog AND #started = :started")
                .expression_attribute_names("#o", "outcome")
                .expression_attribute_names("#started", "started_at")
                .expression_attribute_values(":prog", AttributeValue::S(IN_PROGRESS.into()))
                .expression_attribute_values(":started", AttributeValue::S(attempt.started_at.clone()))
        } else {
            Self::open_condition(status)
        }
        .build()
        .map_err(encode)?;
        let mut items = vec![
            TransactWriteItem::builder().put(record).build(),
            TransactWriteItem::builder().put(status).build(),
        ];
        items.extend(also);
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                let failed = batch::condition_failed(&e);
                if failed {
                    Ok(false)
                } else {
                    Err(sdk_error("TransactWriteItems", self.target(&attempt.uuid), &e))
                }
            }
        }
    }

    /// Clears a job's `STATUS` that blocks new attempts (`in_progress` after a crash, or a
    /// submit MCF did not confirm), once the user has looked at MCF: `Ok(false)` when it
    /// holds something else now.
    pub async fn clear(&self, uuid: &str, outcome: &str) -> Result<bool, StoreError> {
        let answer = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(batch::key(uuid, STATUS_SK)))
            .condition_expression("#o = :o")
            .expression_attribute_names("#o", "outcome")
            .expression_attribute_values(":o", AttributeValue::S(outcome.to_string()))
            .send()
            .await;
        match answer {
            Ok(_) => Ok(true),
            Err(e) if crate::aws::error_code(&e).as_deref() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(sdk_error("DeleteItem", self.target(uuid), &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_carry_their_keys_and_a_dry_runs_expiry() {
        let a = Application {
            uuid: "u1".into(),
            track: "data".into(),
            outcome: "dry_run_ok".into(),
            started_at: "2026-11-29T01:00:00Z".into(),
            finished_at: None,
            dry_run: true,
            cv_version: Some("11.4".into()),
            detail: None,
            url: None,
            evidence_png: None,
            evidence_html: None,
            seconds: Some(1.5),
            by: None,
        };
        let status = item_of(&a, STATUS_SK, None).unwrap();
        assert_eq!(status[layout::GSI1PK], AttributeValue::S("OUTCOME#dry_run_ok".into()));
        assert_eq!(
            status[layout::GSI1SK],
            AttributeValue::S("2026-11-29T01:00:00Z#u1".into())
        );
        let attempt = item_of(&a, &attempt_sk(&a.started_at), Some(unix_of(&a.started_at) + 10)).unwrap();
        assert_eq!(
            attempt[layout::SK],
            AttributeValue::S("ATTEMPT#2026-11-29T01:00:00Z".into())
        );
        assert!(!attempt.contains_key(layout::GSI1PK));
        assert_eq!(unix_of("1970-01-02T00:00:00Z"), 86_400);
        assert_eq!(
            attempt["expires_at"],
            AttributeValue::N(format!("{}", unix_of(&a.started_at) + 10))
        );
    }
}
