//! The CRM table's items (docs/data-model.md, `crm`): one **job** per (post, track) under
//! `pk = <uuid>, sk = JOB#<track>`, and its history as **event** items beside it. For every
//! writer: the recommender's screener now, the CRM API and the apply step later.
//!
//! The rules every write keeps, so that no writer loses another's change:
//! - a job is created once: [`CrmStore::create`] puts it with `attribute_not_exists(pk)`,
//!   together with its creation event, in one transaction;
//! - every later change is conditional on the `revision` the writer read and adds 1 to it
//!   ([`CrmStore::refresh_scores`]); a writer that loses the race reads again and decides again.
//!
//! The stage is kept as the text the table holds (`SCREENED`, `TOAPPLY`, …): this module maps
//! items, it does not interpret stages (`jobmatch::Stage` does, for the screener).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use mcfcore::layout::{self, crm as keys};
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::aws::sdk_error;
use crate::batch::{self, Item};

/// The job's scores of its latest scoring (`scores`, a map of numbers).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub title_score: f64,
    pub keyword_score: f64,
    pub seniority_fit: f64,
    pub salary_fit: f64,
    pub recency: f64,
    pub total: f64,
}

/// A job: one post in the CRM for one track. Attributes absent from the item are `None` (or
/// empty); attributes this type does not know are ignored when reading and kept by
/// [`CrmStore::refresh_scores`], which updates named attributes only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub uuid: String,
    pub track: String,
    /// `OPEN`, `SCREENED`, `TOAPPLY`, … (`jobmatch::Stage` names them).
    pub stage: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
    /// The furthest stage of the way to an offer (`OPEN` … `OFFER`) the job has been in: where
    /// an ended job left the funnel. Absent: its stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reached: Option<String>,
    /// +1 on every write; every write is conditional on the revision it read.
    pub revision: u64,
    pub created_at: String,
    pub updated_at: String,
    /// When the job last moved to another stage.
    pub stage_at: String,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Scores>,
    /// `jobmatch::Reasons` as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<String>,
    /// The reasons on one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library_version: Option<String>,
    // Copies of the post, so that a list needs no second read.
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closing_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salary_min: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salary_max: Option<u32>,
    /// The CV to send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv_version: Option<String>,
    // The user's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
}

/// One change of a job: its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: String,
    /// Absent for the creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub to: String,
    /// `screener`, `user`, `apply`, `expiry`.
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The job's revision this change produced.
    pub revision: u64,
}

/// What a rescore refreshes on a job, and nothing else.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreUpdate {
    pub scores: Scores,
    pub reasons: String,
    pub summary: String,
    pub library_version: String,
}

impl ScoreUpdate {
    /// Whether `job` already holds exactly these.
    pub fn is_on(&self, job: &Job) -> bool {
        job.scores.as_ref() == Some(&self.scores)
            && job.reasons.as_deref() == Some(self.reasons.as_str())
            && job.summary.as_deref() == Some(self.summary.as_str())
            && job.library_version.as_deref() == Some(self.library_version.as_str())
    }
}

/// The item of `job`: its fields (absent, not NULL, when `None`), the keys, `id` and the stage
/// index keys.
pub fn job_item(job: &Job) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::aws_sdk_dynamodb_1::to_item(job).map_err(|e| StoreError::Encode {
        uuid: job.uuid.clone(),
        reason: e.to_string(),
    })?;
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    let s = |v: String| AttributeValue::S(v);
    item.insert(layout::PK.into(), s(job.uuid.clone()));
    item.insert(layout::SK.into(), s(keys::job_sk(&job.track)));
    item.insert("id".into(), s(keys::job_id(&job.uuid, &job.track)));
    item.insert(layout::GSI1PK.into(), s(keys::stage_gsi1pk(&job.stage)));
    item.insert(
        layout::GSI1SK.into(),
        s(keys::stage_gsi1sk(&job.updated_at, &job.uuid, &job.track)),
    );
    Ok(item)
}

/// The job of a job item; why not, when it is not one.
pub fn job_from_item(item: Item) -> Result<Job, String> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item).map_err(|e| e.to_string())
}

/// The item of `event`, one of the history of (uuid, track).
pub fn event_item(uuid: &str, track: &str, event: &Event) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::aws_sdk_dynamodb_1::to_item(event).map_err(|e| StoreError::Encode {
        uuid: uuid.to_string(),
        reason: e.to_string(),
    })?;
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    item.insert(layout::PK.into(), AttributeValue::S(uuid.to_string()));
    item.insert(
        layout::SK.into(),
        AttributeValue::S(keys::event_sk(track, &event.at, event.revision)),
    );
    Ok(item)
}

/// The CRM table.
#[derive(Clone, Debug)]
pub struct CrmStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl CrmStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> CrmStore {
        CrmStore {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The job of (uuid, track), if any (a consistent read).
    pub async fn get(&self, uuid: &str, track: &str) -> Result<Option<Job>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(batch::key(uuid, &keys::job_sk(track))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", self.target(uuid, track), &e))?;
        out.item.map(|item| self.read(uuid, track, item)).transpose()
    }

    /// The jobs of every (uuid, track) of `wanted` that has one, by (uuid, track).
    pub async fn get_many(&self, wanted: &[(String, String)]) -> Result<HashMap<(String, String), Job>, StoreError> {
        let keys: Vec<(String, String)> = wanted
            .iter()
            .map(|(uuid, track)| (uuid.clone(), keys::job_sk(track)))
            .collect();
        let mut out = HashMap::with_capacity(keys.len());
        for item in batch::get(&self.client, &self.table, &keys).await? {
            let (uuid, sk) = batch::key_of(&item).unwrap_or_default();
            let track = sk.strip_prefix("JOB#").unwrap_or(&sk).to_string();
            let job = self.read(&uuid, &track, item)?;
            out.insert((uuid, track), job);
        }
        Ok(out)
    }

    /// Creates `job` with its creation `event` in one transaction, only if no job exists for
    /// (uuid, track): `Ok(false)` when one does (someone created it first).
    pub async fn create(&self, job: &Job, event: &Event) -> Result<bool, StoreError> {
        let put = |item: Item, condition: bool| {
            let mut p = Put::builder().table_name(&self.table).set_item(Some(item));
            if condition {
                p = p
                    .condition_expression("attribute_not_exists(#pk)")
                    .expression_attribute_names("#pk", layout::PK);
            }
            p.build()
                .map(|p| TransactWriteItem::builder().put(p).build())
                .map_err(|e| StoreError::Encode {
                    uuid: job.uuid.clone(),
                    reason: e.to_string(),
                })
        };
        let items = vec![
            put(job_item(job)?, true)?,
            put(event_item(&job.uuid, &job.track, event)?, false)?,
        ];
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                let job_exists = batch::condition_failed(&e);
                if job_exists {
                    Ok(false)
                } else {
                    Err(sdk_error("TransactWriteItems", self.target(&job.uuid, &job.track), &e))
                }
            }
        }
    }

    /// Writes `update` on the job as it was `read` (scores, reasons, summary, library version,
    /// `updated_at` with its index key, and the revision; nothing else: never the stage), only if its revision is still the one
    /// read: `Ok(false)` when another writer changed it in between.
    pub async fn refresh_scores(&self, read: &Job, update: &ScoreUpdate) -> Result<bool, StoreError> {
        let scores: HashMap<String, AttributeValue> = serde_dynamo::aws_sdk_dynamodb_1::to_item(update.scores)
            .map_err(|e| StoreError::Encode {
                uuid: read.uuid.clone(),
                reason: e.to_string(),
            })?;
        let n = |v: u64| AttributeValue::N(v.to_string());
        // A rescore is a change: the CRM API's lists find changes by `updated_at` on the
        // stage index.
        let now = crate::now_utc();
        let answer = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(batch::key(&read.uuid, &keys::job_sk(&read.track))))
            .update_expression(
                "SET #scores = :scores, #reasons = :reasons, #summary = :summary, #version = :version, #rev = :next, #updated_at = :at, #gsi1sk = :gsi1sk",
            )
            .condition_expression("#rev = :read")
            .expression_attribute_names("#scores", "scores")
            .expression_attribute_names("#reasons", "reasons")
            .expression_attribute_names("#summary", "summary")
            .expression_attribute_names("#version", "library_version")
            .expression_attribute_names("#rev", "revision")
            .expression_attribute_names("#updated_at", "updated_at")
            .expression_attribute_names("#gsi1sk", layout::GSI1SK)
            .expression_attribute_values(":at", AttributeValue::S(now.clone()))
            .expression_attribute_values(
                ":gsi1sk",
                AttributeValue::S(keys::stage_gsi1sk(&now, &read.uuid, &read.track)),
            )
            .expression_attribute_values(":scores", AttributeValue::M(scores))
            .expression_attribute_values(":reasons", AttributeValue::S(update.reasons.clone()))
            .expression_attribute_values(":summary", AttributeValue::S(update.summary.clone()))
            .expression_attribute_values(":version", AttributeValue::S(update.library_version.clone()))
            .expression_attribute_values(":next", n(read.revision + 1))
            .expression_attribute_values(":read", n(read.revision))
            .send()
            .await;
        match answer {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(sdk_error("UpdateItem", self.target(&read.uuid, &read.track), &e)),
        }
    }

    /// Moves the job as it was `read` to `event.to` and records `event` (its history), in one
    /// transaction, only if the job's revision is still the one read: `Ok(false)` when another
    /// writer changed it in between (the caller reads again and shows the current state).
    /// Writes the stage, its index keys, `close_reason` (set, or removed when `None`), the
    /// deadline (likewise), `reached` (when given), `stage_at`, `updated_at` and the revision (`event.revision`, which
    /// must be the read one + 1); nothing else of the item. Whether the move is allowed is the
    /// caller's (`jobcrm::check`).
    pub async fn move_stage(
        &self,
        read: &Job,
        event: &Event,
        close_reason: Option<&str>,
        deadline: Option<&str>,
        reached: Option<&str>,
    ) -> Result<bool, StoreError> {
        let items = self.move_items(read, event, close_reason, deadline, reached)?;
        let answer = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        self.settle(answer, &read.uuid, &read.track)
    }

    /// The two writes of [`CrmStore::move_stage`] (the job's update conditional on the revision
    /// read, and the event's put), for a caller that adds them to a transaction of its own (the
    /// apply task records its attempt in the same one).
    pub fn move_items(
        &self,
        read: &Job,
        event: &Event,
        close_reason: Option<&str>,
        deadline: Option<&str>,
        reached: Option<&str>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let encode = |reason: String| StoreError::Encode {
            uuid: read.uuid.clone(),
            reason,
        };
        if event.revision != read.revision + 1 || event.from.as_deref() != Some(read.stage.as_str()) {
            return Err(encode(format!(
                "the event (revision {}, from {:?}) does not follow the job read (revision {}, {})",
                event.revision, event.from, read.revision, read.stage
            )));
        }
        let s = |v: &str| AttributeValue::S(v.to_string());
        let mut set = vec![
            "#stage = :stage",
            "#gsi1pk = :gsi1pk",
            "#gsi1sk = :gsi1sk",
            "#stage_at = :at",
            "#updated_at = :at",
            "#rev = :next",
        ];
        let mut remove = Vec::new();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(batch::key(&read.uuid, &keys::job_sk(&read.track))))
            .condition_expression("#rev = :read")
            .expression_attribute_names("#stage", "stage")
            .expression_attribute_names("#gsi1pk", layout::GSI1PK)
            .expression_attribute_names("#gsi1sk", layout::GSI1SK)
            .expression_attribute_names("#stage_at", "stage_at")
            .expression_attribute_names("#updated_at", "updated_at")
            .expression_attribute_names("#rev", "revision")
            .expression_attribute_names("#close_reason", "close_reason")
            .expression_attribute_names("#deadline", "deadline")
            .expression_attribute_values(":stage", s(&event.to))
            .expression_attribute_values(":gsi1pk", s(&keys::stage_gsi1pk(&event.to)))
            .expression_attribute_values(":gsi1sk", s(&keys::stage_gsi1sk(&event.at, &read.uuid, &read.track)))
            .expression_attribute_values(":at", s(&event.at))
            .expression_attribute_values(":next", AttributeValue::N(event.revision.to_string()))
            .expression_attribute_values(":read", AttributeValue::N(read.revision.to_string()));
        match close_reason {
            Some(reason) => {
                set.push("#close_reason = :close_reason");
                update = update.expression_attribute_values(":close_reason", s(reason));
            }
            None => remove.push("#close_reason"),
        }
        match deadline {
            Some(day) => {
                set.push("#deadline = :deadline");
                update = update.expression_attribute_values(":deadline", s(day));
            }
            None => remove.push("#deadline"),
        }
        if let Some(stage) = reached {
            set.push("#reached = :reached");
            update = update
                .expression_attribute_names("#reached", "reached")
                .expression_attribute_values(":reached", s(stage));
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let update = update
            .update_expression(expression)
            .build()
            .map_err(|e| encode(e.to_string()))?;
        Ok(vec![
            TransactWriteItem::builder().update(update).build(),
            self.event_put(&read.uuid, &read.track, event)?,
        ])
    }

    /// `Ok(false)` when a transaction was cancelled because a condition failed (another writer
    /// came first).
    fn settle<T>(
        &self,
        answer: Result<
            T,
            aws_sdk_dynamodb::error::SdkError<
                aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
            >,
        >,
        uuid: &str,
        track: &str,
    ) -> Result<bool, StoreError> {
        match answer {
            Ok(_) => Ok(true),
            Err(e) => {
                let stale = batch::condition_failed(&e);
                if stale {
                    Ok(false)
                } else {
                    Err(sdk_error("TransactWriteItems", self.target(uuid, track), &e))
                }
            }
        }
    }

    /// Writes the user's fields of the job as it was `read` (`Some(None)` removes one) and
    /// records `event` (from and to the same stage, the change in its note), in one transaction
    /// conditional on the revision read: `Ok(false)` when another writer came first. Sets
    /// `updated_at` (with its index key) to the event's time and the revision to the event's.
    pub async fn edit(
        &self,
        read: &Job,
        fields: &[(&str, Option<AttributeValue>)],
        event: &Event,
    ) -> Result<bool, StoreError> {
        let encode = |reason: String| StoreError::Encode {
            uuid: read.uuid.clone(),
            reason,
        };
        if event.revision != read.revision + 1 {
            return Err(encode(format!(
                "the event's revision {} does not follow the job's {}",
                event.revision, read.revision
            )));
        }
        let mut set = vec![
            "#updated_at = :at".to_string(),
            "#gsi1sk = :gsi1sk".to_string(),
            "#rev = :next".to_string(),
        ];
        let mut remove = Vec::new();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(batch::key(&read.uuid, &keys::job_sk(&read.track))))
            .condition_expression("#rev = :read")
            .expression_attribute_names("#updated_at", "updated_at")
            .expression_attribute_names("#gsi1sk", layout::GSI1SK)
            .expression_attribute_names("#rev", "revision")
            .expression_attribute_values(":at", AttributeValue::S(event.at.clone()))
            .expression_attribute_values(
                ":gsi1sk",
                AttributeValue::S(keys::stage_gsi1sk(&event.at, &read.uuid, &read.track)),
            )
            .expression_attribute_values(":next", AttributeValue::N(event.revision.to_string()))
            .expression_attribute_values(":read", AttributeValue::N(read.revision.to_string()));
        for (i, (name, value)) in fields.iter().enumerate() {
            let n = format!("#f{i}");
            update = update.expression_attribute_names(&n, *name);
            match value {
                Some(v) => {
                    let v_name = format!(":f{i}");
                    set.push(format!("{n} = {v_name}"));
                    update = update.expression_attribute_values(v_name, v.clone());
                }
                None => remove.push(n),
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let update = update
            .update_expression(expression)
            .build()
            .map_err(|e| encode(e.to_string()))?;
        let answer = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(self.event_put(&read.uuid, &read.track, event)?)
            .send()
            .await;
        self.settle(answer, &read.uuid, &read.track)
    }

    /// Moves the job as it was `read` to another track, in one transaction: `closed` (the old
    /// job, `CLOSED`, its revision one more) is written conditional on the revision read, with
    /// `close_event` in its history; `moved` (the new job) is created only if its (uuid,
    /// track) has no job, with `history` (the old one's, copied) and `moved_event`.
    /// `Ok(false)` when another writer came first or the track already has this post.
    pub async fn retrack(
        &self,
        read: &Job,
        closed: &Job,
        close_event: &Event,
        moved: &Job,
        history: &[Event],
        moved_event: &Event,
    ) -> Result<bool, StoreError> {
        let encode = |reason: String| StoreError::Encode {
            uuid: read.uuid.clone(),
            reason,
        };
        let old = Put::builder()
            .table_name(&self.table)
            .set_item(Some(job_item(closed)?))
            .condition_expression("#rev = :read")
            .expression_attribute_names("#rev", "revision")
            .expression_attribute_values(":read", AttributeValue::N(read.revision.to_string()))
            .build()
            .map_err(|e| encode(e.to_string()))?;
        let new = Put::builder()
            .table_name(&self.table)
            .set_item(Some(job_item(moved)?))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", layout::PK)
            .build()
            .map_err(|e| encode(e.to_string()))?;
        let mut items = vec![
            TransactWriteItem::builder().put(old).build(),
            self.event_put(&read.uuid, &read.track, close_event)?,
            TransactWriteItem::builder().put(new).build(),
            self.event_put(&moved.uuid, &moved.track, moved_event)?,
        ];
        for e in history {
            items.push(self.event_put(&moved.uuid, &moved.track, e)?);
        }
        let answer = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        self.settle(answer, &read.uuid, &read.track)
    }

    fn event_put(&self, uuid: &str, track: &str, event: &Event) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(event_item(uuid, track, event)?))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", layout::PK)
            .build()
            .map_err(|e| StoreError::Encode {
                uuid: uuid.to_string(),
                reason: e.to_string(),
            })?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The jobs in `stage` whose `updated_at` is after `after` (all of them when `None`), from
    /// the stage index (eventually consistent: a caller that needs every change looks back a
    /// margin).
    pub async fn stage_since(&self, stage: &str, after: Option<&str>) -> Result<Vec<Job>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(layout::GSI1)
                .expression_attribute_names("#pk", layout::GSI1PK)
                .expression_attribute_values(":pk", AttributeValue::S(keys::stage_gsi1pk(stage)))
                .set_exclusive_start_key(start);
            query = match after {
                Some(after) => query
                    .key_condition_expression("#pk = :pk AND #sk > :after")
                    .expression_attribute_names("#sk", layout::GSI1SK)
                    .expression_attribute_values(":after", AttributeValue::S(after.to_string())),
                None => query.key_condition_expression("#pk = :pk"),
            };
            let page = query
                .send()
                .await
                .map_err(|e| sdk_error("Query", format!("stage {stage} of table {}", self.table), &e))?;
            for item in page.items.unwrap_or_default() {
                let (uuid, sk) = batch::key_of(&item).unwrap_or_default();
                let track = sk.strip_prefix("JOB#").unwrap_or(&sk).to_string();
                out.push(self.read(&uuid, &track, item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    /// The history of the job of (uuid, track), oldest first (one consistent Query).
    pub async fn events(&self, uuid: &str, track: &str) -> Result<Vec<Event>, StoreError> {
        let prefix = format!("{}#EVENT#", keys::job_sk(track));
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
                .expression_attribute_values(":prefix", AttributeValue::S(prefix.clone()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("Query", self.target(uuid, track), &e))?;
            for item in page.items() {
                let event =
                    serde_dynamo::aws_sdk_dynamodb_1::from_item(item.clone()).map_err(|e| StoreError::BadRecord {
                        table: self.table.clone(),
                        key: format!("an event of job {}", keys::job_id(uuid, track)),
                        reason: e.to_string(),
                    })?;
                out.push(event);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    fn read(&self, uuid: &str, track: &str, item: Item) -> Result<Job, StoreError> {
        job_from_item(item).map_err(|reason| StoreError::BadRecord {
            table: self.table.clone(),
            key: format!("job {}", keys::job_id(uuid, track)),
            reason,
        })
    }

    fn target(&self, uuid: &str, track: &str) -> String {
        format!("job {} in table {}", keys::job_id(uuid, track), self.table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            uuid: "5624187c437fddd00296eecc783ed4cd".into(),
            track: "data".into(),
            stage: "SCREENED".into(),
            close_reason: None,
            reached: None,
            revision: 1,
            created_at: "2025-05-19T01:00:00Z".into(),
            updated_at: "2025-05-19T01:00:00Z".into(),
            stage_at: "2025-05-19T01:00:00Z".into(),
            deadline: Some("2025-06-18".into()),
            scores: Some(Scores {
                title_score: 1.0,
                keyword_score: 0.25,
                seniority_fit: 1.0,
                salary_fit: 1.0,
                recency: 0.875,
                total: 1.09375,
            }),
            reasons: Some(r#"{"title":[]}"#.into()),
            summary: Some("data engineer +1; salary fits".into()),
            library_version: Some("0123456789abcdef".into()),
            title: "Data Engineer".into(),
            company: Some("ACME".into()),
            url: None,
            posted_date: Some("2025-05-13".into()),
            closing_date: None,
            salary_min: Some(6000),
            salary_max: Some(9000),
            cv_version: Some("data-1.0".into()),
            notes: None,
            contacts: vec![],
        }
    }

    #[test]
    fn a_job_item_has_its_keys_id_and_stage_index_and_reads_back() {
        let j = job();
        let item = job_item(&j).expect("item");
        let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        assert_eq!(s("pk").as_deref(), Some(j.uuid.as_str()));
        assert_eq!(s("sk").as_deref(), Some("JOB#data"));
        assert_eq!(s("id"), Some(format!("{}~data", j.uuid)));
        assert_eq!(s("gsi1pk").as_deref(), Some("STAGE#SCREENED"));
        assert_eq!(s("gsi1sk"), Some(format!("2025-05-19T01:00:00Z#{}#data", j.uuid)));
        let scores = item["scores"].as_m().expect("scores is a map");
        assert_eq!(scores["total"].as_n().map(String::as_str), Ok("1.09375"));
        assert_eq!(item["revision"].as_n().map(String::as_str), Ok("1"));
        // Absent, not NULL; empty contacts are not written.
        assert!(!item.contains_key("url") && !item.contains_key("notes") && !item.contains_key("contacts"));
        assert_eq!(job_from_item(item).expect("reads back"), j);
    }

    #[test]
    fn unknown_attributes_are_ignored_and_a_broken_item_says_why() {
        let mut item = job_item(&job()).expect("item");
        item.insert("added_later".into(), AttributeValue::S("x".into()));
        assert_eq!(job_from_item(item.clone()).expect("reads"), job());
        item.remove("stage");
        assert!(job_from_item(item).unwrap_err().contains("stage"));
    }

    #[test]
    fn events_sort_after_their_job_by_time_and_revision() {
        let e = Event {
            at: "2025-05-19T01:00:00Z".into(),
            from: None,
            to: "SCREENED".into(),
            actor: "screener".into(),
            note: Some("total 1.09".into()),
            revision: 1,
        };
        let item = event_item("u", "data", &e).expect("item");
        assert_eq!(
            item["sk"].as_s().map(String::as_str),
            Ok("JOB#data#EVENT#2025-05-19T01:00:00Z#000001")
        );
        assert!(
            !item.contains_key("from") && !item.contains_key("gsi1pk"),
            "creation: no from; not listed"
        );
        assert_eq!(item["actor"].as_s().map(String::as_str), Ok("screener"));
    }

    #[test]
    fn a_score_update_is_on_a_job_only_when_all_four_match() {
        let j = job();
        let update = ScoreUpdate {
            scores: j.scores.unwrap(),
            reasons: j.reasons.clone().unwrap(),
            summary: j.summary.clone().unwrap(),
            library_version: j.library_version.clone().unwrap(),
        };
        assert!(update.is_on(&j));
        let other = ScoreUpdate {
            library_version: "fedcba9876543210".into(),
            ..update.clone()
        };
        assert!(!other.is_on(&j));
        let mut lower = update;
        lower.scores.total = 0.5;
        assert!(!lower.is_on(&j));
    }
}
