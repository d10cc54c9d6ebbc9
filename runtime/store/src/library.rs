//! The recommender's library in the dimensions table (docs/data-model.md): one item per table
//! (`pk = library`, `sk = <table>`) holding its rows as JSON, and the version item
//! (`sk = VERSION`). Config sync writes them, the recommender, the CRM API and the apply step
//! read them.
//!
//! Formats only: the rows are opaque JSON text here (`jobmatch::library`'s row types are the
//! readers' business), and which tables changed, their SHA-256 and the version are decided by
//! the writer (`gsheetui`). What this module guarantees is the write: every changed table and
//! the version in **one** `TransactWriteItems`, so a reader never sees half a sync, and only
//! if the version item is still the one the writer read, so two syncs cannot interleave.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use mcfcore::layout::{PK, SK, dimension};

use crate::StoreError;
use crate::aws::sdk_error;

/// Attribute names of the items (docs/data-model.md).
pub mod attr {
    pub const ROWS: &str = "rows";
    pub const ROW_COUNT: &str = "row_count";
    pub const SHA256: &str = "sha256";
    pub const SOURCE: &str = "source";
    pub const UPDATED_AT: &str = "updated_at";
    pub const VERSION: &str = "version";
}

/// One table's item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableItem {
    /// The table's name: the item's `sk`.
    pub table: String,
    /// The rows as a JSON array, in the source's order.
    pub rows: String,
    pub row_count: u64,
    /// SHA-256 (lowercase hex) of `rows`.
    pub sha256: String,
    /// `sheets:<workbook id>#<tab>` or `file:<path>`.
    pub source: String,
    pub updated_at: String,
}

/// The version item (`sk = VERSION`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionItem {
    pub version: String,
    pub updated_at: String,
    pub source: String,
}

/// What the table holds under `pk = library`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredLibrary {
    /// By table name. Items of other sort keys than the tables' and `VERSION` are ignored.
    pub tables: BTreeMap<String, TableItem>,
    pub version: Option<VersionItem>,
}

/// Why [`LibraryStore::replace`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReplaceError {
    #[error(
        "the library in table {table} changed while this sync ran (its version is no longer {expected}): \
         another sync wrote it; nothing was written, run the sync again"
    )]
    Conflict { table: String, expected: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The library items of one dimensions table.
#[derive(Clone, Debug)]
pub struct LibraryStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl LibraryStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> LibraryStore {
        LibraryStore {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Every library item (one consistent Query, all pages). An item that lacks an attribute
    /// of its format is an error naming it: a reader must not guess at a half-written table.
    pub async fn load(&self) -> Result<StoredLibrary, StoreError> {
        let mut out = StoredLibrary::default();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", AttributeValue::S(dimension::LIBRARY.into()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("Query", format!("{} pk = library", self.table), &e))?;
            for item in page.items() {
                let sk = text(item, SK).unwrap_or_default();
                if sk == dimension::LIBRARY_VERSION {
                    out.version = Some(VersionItem {
                        version: self.required(item, &sk, attr::VERSION)?,
                        updated_at: text(item, attr::UPDATED_AT).unwrap_or_default(),
                        source: text(item, attr::SOURCE).unwrap_or_default(),
                    });
                } else {
                    let row_count = match item.get(attr::ROW_COUNT) {
                        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
                        _ => 0,
                    };
                    out.tables.insert(
                        sk.clone(),
                        TableItem {
                            rows: self.required(item, &sk, attr::ROWS)?,
                            sha256: self.required(item, &sk, attr::SHA256)?,
                            row_count,
                            source: text(item, attr::SOURCE).unwrap_or_default(),
                            updated_at: text(item, attr::UPDATED_AT).unwrap_or_default(),
                            table: sk,
                        },
                    );
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    fn required(&self, item: &HashMap<String, AttributeValue>, sk: &str, name: &str) -> Result<String, StoreError> {
        text(item, name).ok_or_else(|| StoreError::BadLibraryItem {
            table: self.table.clone(),
            sk: sk.to_string(),
            reason: format!("it has no string attribute `{name}`"),
        })
    }

    /// Puts `tables` and `version` in one transaction, on condition that the version item is
    /// still `read_version` (`None`: still absent). Either all of them are written or none.
    pub async fn replace(
        &self,
        tables: &[TableItem],
        version: &VersionItem,
        read_version: Option<&str>,
    ) -> Result<(), ReplaceError> {
        let mut items = Vec::with_capacity(tables.len() + 1);
        for t in tables {
            let item = HashMap::from([
                (PK.to_string(), s(dimension::LIBRARY)),
                (SK.to_string(), s(&t.table)),
                (attr::ROWS.to_string(), s(&t.rows)),
                (attr::ROW_COUNT.to_string(), AttributeValue::N(t.row_count.to_string())),
                (attr::SHA256.to_string(), s(&t.sha256)),
                (attr::SOURCE.to_string(), s(&t.source)),
                (attr::UPDATED_AT.to_string(), s(&t.updated_at)),
            ]);
            items.push(put(&self.table, item, None)?);
        }
        let item = HashMap::from([
            (PK.to_string(), s(dimension::LIBRARY)),
            (SK.to_string(), s(dimension::LIBRARY_VERSION)),
            (attr::VERSION.to_string(), s(&version.version)),
            (attr::SOURCE.to_string(), s(&version.source)),
            (attr::UPDATED_AT.to_string(), s(&version.updated_at)),
        ]);
        items.push(put(&self.table, item, Some(read_version))?);
        let sent = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) => {
                let lost = crate::batch::condition_failed(&e);
                if lost {
                    return Err(ReplaceError::Conflict {
                        table: self.table.clone(),
                        expected: read_version.unwrap_or("absent").to_string(),
                    });
                }
                Err(sdk_error("TransactWriteItems", format!("{} pk = library", self.table), &e).into())
            }
        }
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

/// A Put of the transaction; `expect` (for the version item) is the version it must still hold.
fn put(
    table: &str,
    item: HashMap<String, AttributeValue>,
    expect: Option<Option<&str>>,
) -> Result<TransactWriteItem, StoreError> {
    let mut put = Put::builder().table_name(table).set_item(Some(item));
    match expect {
        None => {}
        Some(None) => {
            put = put
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK);
        }
        Some(Some(version)) => {
            put = put
                .condition_expression("#v = :read")
                .expression_attribute_names("#v", attr::VERSION)
                .expression_attribute_values(":read", s(version));
        }
    }
    let put = put.build().map_err(|e| StoreError::Aws {
        operation: "TransactWriteItems",
        target: format!("{table} pk = library"),
        message: e.to_string(),
        transient: false,
    })?;
    Ok(TransactWriteItem::builder().put(put).build())
}
