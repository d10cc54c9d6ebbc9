//! The MCF session's state in the dimensions table (`pk = session`, `sk = mcf`): until when it
//! is valid, when it was last checked against MCF and what that said. Written by the daily
//! session check and by the apply task (which marks it expired when MCF sends its login page);
//! read by the CRM page. The session itself (its cookies) is never here: it stays encrypted in
//! the data bucket (`session/mcf.json`).

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::aws::sdk_error;
use crate::batch;

pub const PK: &str = "session";
pub const SK: &str = "mcf";
/// The data bucket's key of the stored session.
pub const SESSION_KEY: &str = "session/mcf.json";

/// What is known of the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    /// `valid`, `expires_soon`, `expired`, `missing`, `unchecked` (`mcfapply::State`).
    pub state: String,
    /// The earliest expiry of its cookies (`YYYY-MM-DDTHH:MM:SSZ`); absent: session cookies
    /// only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    pub last_checked: String,
    /// What the last check saw, in words.
    pub last_result: String,
    /// `check` (the daily function), `apply` (the task), `xtask`.
    pub checked_by: String,
    /// When the user was last told (SNS), if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<String>,
}

/// Reads the state, if any was recorded.
pub async fn read(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<Option<SessionState>, StoreError> {
    let out = client
        .get_item()
        .table_name(table)
        .set_key(Some(batch::key(PK, SK)))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| sdk_error("GetItem", format!("pk = {PK}, sk = {SK} in table {table}"), &e))?;
    out.item
        .map(|item| {
            serde_dynamo::aws_sdk_dynamodb_1::from_item(item).map_err(|e| StoreError::BadRecord {
                table: table.to_string(),
                key: format!("pk = {PK}, sk = {SK}"),
                reason: e.to_string(),
            })
        })
        .transpose()
}

/// Records `state` (the whole item: the latest check wins).
pub async fn write(client: &aws_sdk_dynamodb::Client, table: &str, state: &SessionState) -> Result<(), StoreError> {
    let mut item: batch::Item = serde_dynamo::aws_sdk_dynamodb_1::to_item(state).map_err(|e| StoreError::Encode {
        uuid: format!("{PK}/{SK}"),
        reason: e.to_string(),
    })?;
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    item.extend(batch::key(PK, SK));
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .map_err(|e| sdk_error("PutItem", format!("pk = {PK}, sk = {SK} in table {table}"), &e))?;
    Ok(())
}
