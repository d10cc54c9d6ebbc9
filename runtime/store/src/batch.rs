//! DynamoDB's batch reads and writes by `(pk, sk)`, in the sizes the service takes (100 keys a
//! BatchGetItem, 25 items a BatchWriteItem), with what it leaves unprocessed (throttling, the
//! 16 MB answer limit) sent again after a short backoff.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, PutRequest, WriteRequest};
use mcfcore::layout;

use crate::StoreError;
use crate::aws::sdk_error;

/// One item as DynamoDB answers it.
pub type Item = HashMap<String, AttributeValue>;

/// BatchGetItem's limit per request.
const GET_CHUNK: usize = 100;
/// BatchWriteItem's limit per request.
const WRITE_CHUNK: usize = 25;
/// Rounds of resending what the service left unprocessed before giving up.
const ROUNDS: u32 = 8;

/// Whether a transaction was cancelled because one of its conditions failed (another writer
/// came first), rather than for any other reason.
pub(crate) fn condition_failed<R>(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> bool {
    matches!(
        e.as_service_error(),
        Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c))
            if c.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
    )
}

/// The key of an item of ours.
pub fn key(pk: &str, sk: &str) -> Item {
    HashMap::from([
        (layout::PK.to_string(), AttributeValue::S(pk.to_string())),
        (layout::SK.to_string(), AttributeValue::S(sk.to_string())),
    ])
}

/// `(pk, sk)` of an item, when both are strings.
pub fn key_of(item: &Item) -> Option<(String, String)> {
    let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    Some((s(layout::PK)?, s(layout::SK)?))
}

/// Every stored item of `keys` (absent ones are simply not in the answer), consistently read,
/// in no particular order.
pub async fn get(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    keys: &[(String, String)],
) -> Result<Vec<Item>, StoreError> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(GET_CHUNK) {
        let mut pending: Vec<Item> = chunk.iter().map(|(pk, sk)| key(pk, sk)).collect();
        let mut round = 0;
        while !pending.is_empty() {
            if round == ROUNDS {
                return Err(StoreError::Aws {
                    operation: "BatchGetItem",
                    target: format!("table {table}"),
                    message: format!(
                        "{} key(s) still unprocessed after {ROUNDS} rounds (throttled)",
                        pending.len()
                    ),
                    transient: true,
                });
            }
            backoff(round).await;
            round += 1;
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Aws {
                    operation: "BatchGetItem",
                    target: format!("table {table}"),
                    message: e.to_string(),
                    transient: false,
                })?;
            let answer = client
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .map_err(|e| sdk_error("BatchGetItem", format!("table {table}"), &e))?;
            if let Some(mut responses) = answer.responses {
                out.extend(responses.remove(table).unwrap_or_default());
            }
            pending = answer
                .unprocessed_keys
                .and_then(|mut u| u.remove(table))
                .map(|k| k.keys)
                .unwrap_or_default();
        }
    }
    Ok(out)
}

/// Puts every item (unconditionally: for items only their writer owns, such as score items).
pub async fn put(client: &aws_sdk_dynamodb::Client, table: &str, items: Vec<Item>) -> Result<(), StoreError> {
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let chunk: Vec<Item> = items.by_ref().take(WRITE_CHUNK).collect();
        let mut pending = chunk
            .into_iter()
            .map(|item| {
                PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map(|p| WriteRequest::builder().put_request(p).build())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Aws {
                operation: "BatchWriteItem",
                target: format!("table {table}"),
                message: e.to_string(),
                transient: false,
            })?;
        let mut round = 0;
        while !pending.is_empty() {
            if round == ROUNDS {
                return Err(StoreError::Aws {
                    operation: "BatchWriteItem",
                    target: format!("table {table}"),
                    message: format!(
                        "{} item(s) still unprocessed after {ROUNDS} rounds (throttled)",
                        pending.len()
                    ),
                    transient: true,
                });
            }
            backoff(round).await;
            round += 1;
            let answer = client
                .batch_write_item()
                .request_items(table, std::mem::take(&mut pending))
                .send()
                .await
                .map_err(|e| sdk_error("BatchWriteItem", format!("table {table}"), &e))?;
            pending = answer
                .unprocessed_items
                .and_then(|mut u| u.remove(table))
                .unwrap_or_default();
        }
    }
    Ok(())
}

/// Nothing before the first round; then 50 ms doubling, at most 1.6 s.
async fn backoff(round: u32) {
    if round > 0 {
        tokio::time::sleep(Duration::from_millis(50 << (round - 1).min(5))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_pk_and_sk_both_ways() {
        let k = key("u1", "SCORE#data");
        assert_eq!(k.len(), 2);
        assert_eq!(key_of(&k), Some(("u1".to_string(), "SCORE#data".to_string())));
        let mut no_sk = k.clone();
        no_sk.remove("sk");
        assert_eq!(key_of(&no_sk), None);
    }
}
