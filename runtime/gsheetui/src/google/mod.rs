//! The Google source: the workbook's tabs (one per table) through the Sheets API v4, with a
//! service-account key signed into a JWT and exchanged for a token at the key's `token_uri`.
//!
//! Calls, in order: the token (`POST token_uri`, `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`),
//! the workbook's tabs and merged ranges (`GET /v4/spreadsheets/{id}?fields=sheets(properties(title),merges)`),
//! then every table's tab at once (`GET /v4/spreadsheets/{id}/values:batchGet`, unformatted
//! values, so numbers come as numbers). 429 is retried after Retry-After (or a backoff), 5xx and
//! network failures with a backoff; every other failure is a [`GoogleError`] that says what to do.

pub mod key;

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::core::sheet::{self, Merge};
use crate::core::{Loc, Located, TABLES, a1};
use crate::sync::Source;
pub use key::{KeyError, ServiceAccountKey};

/// Google's Sheets API.
pub const SHEETS_URL: &str = "https://sheets.googleapis.com";

/// Where the calls go (a test server's URLs in tests).
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub sheets_url: String,
    /// `None`: the key's `token_uri`.
    pub token_url: Option<String>,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            sheets_url: SHEETS_URL.into(),
            token_url: None,
        }
    }
}

/// How often and how long to try again after 429, 5xx or a network failure.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts in all (the first included).
    pub attempts: u32,
    /// The first backoff; it doubles each time.
    pub base: Duration,
    /// The longest wait, Retry-After included.
    pub max_wait: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            base: Duration::from_millis(500),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// Why the workbook could not be read. Nothing is written after any of them.
#[derive(Debug, thiserror::Error)]
pub enum GoogleError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(
        "Google's token endpoint {url} refused the service-account key of {client_email} ({status}: {reason}): \
         the key may be deleted or disabled, or this machine's clock off; create a new key and store it with \
         `cargo xtask sync key --env ENV --file KEY.json`"
    )]
    TokenRefused {
        url: String,
        client_email: String,
        status: u16,
        reason: String,
    },
    #[error(
        "the Sheets API refused the token of {client_email} (401 {reason}): store a valid key with `cargo xtask sync key`"
    )]
    Unauthenticated { client_email: String, reason: String },
    #[error(
        "workbook {workbook} is not shared with the service account (403 {reason}): open the workbook, Share, and \
         add {client_email} as a Viewer"
    )]
    NotShared {
        workbook: String,
        client_email: String,
        reason: String,
    },
    #[error(
        "workbook {workbook} was not found (404): check sync.workbook_id (the part of the workbook's URL between /d/ and /edit)"
    )]
    NotFound { workbook: String },
    #[error("{what}: Google answered {status} {reason} {attempts} times; try again later")]
    Unavailable {
        what: String,
        status: u16,
        reason: String,
        attempts: u32,
    },
    #[error("{what}: no answer after {attempts} attempts ({reason})")]
    Network {
        what: String,
        attempts: u32,
        reason: String,
    },
    #[error("{what}: Google answered {status}: {reason}")]
    Refused { what: String, status: u16, reason: String },
    #[error("{what}: the answer is not what the API returns ({reason}); nothing was written")]
    Malformed { what: String, reason: String },
}

/// A Sheets API client.
#[derive(Debug, Clone)]
pub struct Google {
    http: reqwest::Client,
    pub endpoints: Endpoints,
    pub retry: Retry,
}

/// One answer: status, Retry-After (seconds), body.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

#[derive(Deserialize)]
struct Spreadsheet {
    #[serde(default)]
    sheets: Vec<SheetMeta>,
}

#[derive(Deserialize)]
struct SheetMeta {
    properties: SheetProperties,
    #[serde(default)]
    merges: Vec<GridRange>,
}

#[derive(Deserialize)]
struct SheetProperties {
    title: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GridRange {
    #[serde(default)]
    start_row_index: usize,
    #[serde(default)]
    end_row_index: usize,
    #[serde(default)]
    start_column_index: usize,
    #[serde(default)]
    end_column_index: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchGet {
    #[serde(default)]
    value_ranges: Vec<ValueRange>,
}

#[derive(Deserialize)]
struct ValueRange {
    range: String,
    #[serde(default)]
    values: Vec<Vec<Value>>,
}

#[derive(Deserialize)]
struct Token {
    access_token: String,
}

impl Google {
    pub fn new(endpoints: Endpoints) -> Result<Google, GoogleError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| GoogleError::Network {
                what: "the HTTP client".into(),
                attempts: 0,
                reason: e.to_string(),
            })?;
        Ok(Google {
            http,
            endpoints,
            retry: Retry::default(),
        })
    }

    fn token_url(&self, key: &ServiceAccountKey) -> String {
        self.endpoints
            .token_url
            .clone()
            .unwrap_or_else(|| key.token_uri.clone())
    }

    /// An access token for `key` (read-only scope).
    pub async fn token(&self, key: &ServiceAccountKey) -> Result<String, GoogleError> {
        let url = self.token_url(key);
        let assertion = key.assertion(&url, key::now_seconds())?;
        let what = format!("the token from {url}");
        let answer = self
            .send(&what, || {
                self.http.post(&url).form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", assertion.as_str()),
                ])
            })
            .await?;
        match answer.status {
            200 => serde_json::from_slice::<Token>(&answer.body)
                .map(|t| t.access_token)
                .map_err(|e| GoogleError::Malformed {
                    what,
                    reason: e.to_string(),
                }),
            400 | 401 | 403 => Err(GoogleError::TokenRefused {
                url,
                client_email: key.client_email.clone(),
                status: answer.status,
                reason: oauth_reason(&answer.body),
            }),
            status => Err(GoogleError::Refused {
                what,
                status,
                reason: api_reason(&answer.body),
            }),
        }
    }

    /// The workbook's tables as a [`Source`]: a tab missing for a table, a tab's layout
    /// problems and merged cells are located problems of the source, not errors of the call.
    pub async fn read_workbook(&self, key: &ServiceAccountKey, workbook: &str) -> Result<Source, GoogleError> {
        let token = self.token(key).await?;
        let base = self.endpoints.sheets_url.trim_end_matches('/');
        let what = format!("workbook {workbook}");
        let url = format!("{base}/v4/spreadsheets/{workbook}");
        let answer = self
            .send(&what, || {
                self.http
                    .get(&url)
                    .bearer_auth(&token)
                    .query(&[("fields", "sheets(properties(title),merges)")])
            })
            .await?;
        let meta: Spreadsheet = self.parse(&what, workbook, key, answer)?;
        let mut problems = Vec::new();
        let mut tabs = Vec::new();
        for table in TABLES {
            match meta.sheets.iter().find(|s| s.properties.title == table.name()) {
                Some(s) => tabs.push((table, s)),
                None => problems.push(Located::error(
                    Some(table),
                    Loc::Tab {
                        tab: table.name().into(),
                    },
                    format!(
                        "workbook {workbook} has no tab {}: add it (header row: {})",
                        table.name(),
                        crate::core::schema::describe(table)
                    ),
                )),
            }
        }
        let mut tables = Vec::new();
        if !tabs.is_empty() {
            let what = format!("the tabs of workbook {workbook}");
            let url = format!("{base}/v4/spreadsheets/{workbook}/values:batchGet");
            let mut query: Vec<(&str, String)> = tabs.iter().map(|(t, _)| ("ranges", a1::tab_ref(t.name()))).collect();
            query.push(("majorDimension", "ROWS".into()));
            query.push(("valueRenderOption", "UNFORMATTED_VALUE".into()));
            query.push(("dateTimeRenderOption", "FORMATTED_STRING".into()));
            let answer = self
                .send(&what, || self.http.get(&url).bearer_auth(&token).query(&query))
                .await?;
            let got: BatchGet = self.parse(&what, workbook, key, answer)?;
            if got.value_ranges.len() != tabs.len() {
                return Err(GoogleError::Malformed {
                    what,
                    reason: format!("{} ranges asked, {} returned", tabs.len(), got.value_ranges.len()),
                });
            }
            for ((table, meta), range) in tabs.iter().zip(&got.value_ranges) {
                let Some(start) = a1::range_start(&range.range) else {
                    return Err(GoogleError::Malformed {
                        what,
                        reason: format!("range `{}` is not A1 notation", range.range),
                    });
                };
                let merges: Vec<Merge> = meta
                    .merges
                    .iter()
                    .map(|g| Merge {
                        start_row: g.start_row_index,
                        end_row: g.end_row_index,
                        start_column: g.start_column_index,
                        end_column: g.end_column_index,
                    })
                    .collect();
                tables.push(sheet::table(
                    *table,
                    workbook,
                    table.name(),
                    start,
                    &range.values,
                    &merges,
                ));
            }
        }
        Ok(Source {
            name: format!("sheets:{workbook}"),
            tables,
            problems,
        })
    }

    /// A Sheets API answer read as `T`, or the error its status means.
    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        workbook: &str,
        key: &ServiceAccountKey,
        answer: Answer,
    ) -> Result<T, GoogleError> {
        let reason = || api_reason(&answer.body);
        match answer.status {
            200 => serde_json::from_slice(&answer.body).map_err(|e| GoogleError::Malformed {
                what: what.into(),
                reason: e.to_string(),
            }),
            401 => Err(GoogleError::Unauthenticated {
                client_email: key.client_email.clone(),
                reason: reason(),
            }),
            403 => Err(GoogleError::NotShared {
                workbook: workbook.into(),
                client_email: key.client_email.clone(),
                reason: reason(),
            }),
            404 => Err(GoogleError::NotFound {
                workbook: workbook.into(),
            }),
            status => Err(GoogleError::Refused {
                what: what.into(),
                status,
                reason: reason(),
            }),
        }
    }

    /// Sends the request `build` makes, again after 429 (Retry-After honoured), 5xx and
    /// network failures, up to `retry.attempts` times in all.
    async fn send(&self, what: &str, build: impl Fn() -> reqwest::RequestBuilder) -> Result<Answer, GoogleError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.retry.attempts;
            let backoff = self
                .retry
                .base
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(self.retry.max_wait);
            match build().send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let body = match response.bytes().await {
                        Ok(b) => b.to_vec(),
                        Err(e) if !last => {
                            let _ = e;
                            tokio::time::sleep(backoff).await;
                            continue;
                        }
                        Err(e) => {
                            return Err(GoogleError::Network {
                                what: what.into(),
                                attempts: attempt,
                                reason: e.to_string(),
                            });
                        }
                    };
                    let transient = status == 429 || status >= 500;
                    if !transient {
                        return Ok(Answer { status, body });
                    }
                    if last {
                        return Err(GoogleError::Unavailable {
                            what: what.into(),
                            status,
                            reason: if status == 429 {
                                "(rate limited)".into()
                            } else {
                                api_reason(&body)
                            },
                            attempts: attempt,
                        });
                    }
                    let wait = retry_after.unwrap_or(backoff).min(self.retry.max_wait);
                    tokio::time::sleep(wait).await;
                }
                Err(e) if !last => {
                    let _ = e;
                    tokio::time::sleep(backoff).await;
                }
                Err(e) => {
                    return Err(GoogleError::Network {
                        what: what.into(),
                        attempts: attempt,
                        reason: e.to_string(),
                    });
                }
            }
        }
    }
}

/// The message of a Google API error body (`{"error": {"code", "message", "status"}}`), or
/// the start of the body.
fn api_reason(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => match (&v["error"]["status"], &v["error"]["message"]) {
            (Value::String(s), Value::String(m)) => format!("{s}: {m}"),
            (_, Value::String(m)) => m.clone(),
            _ => snippet(body),
        },
        Err(_) => snippet(body),
    }
}

/// The OAuth error of a token answer (`{"error", "error_description"}`).
fn oauth_reason(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => match (&v["error"], &v["error_description"]) {
            (Value::String(e), Value::String(d)) => format!("{e}: {d}"),
            (Value::String(e), _) => e.clone(),
            _ => api_reason(body),
        },
        Err(_) => snippet(body),
    }
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text: String = text.chars().take(200).collect();
    if text.trim().is_empty() {
        "(empty body)".into()
    } else {
        text
    }
}

/// The key stored in SSM Parameter Store under `name` (a SecureString, decrypted).
pub async fn key_from_ssm(ssm: &aws_sdk_ssm::Client, name: &str) -> Result<ServiceAccountKey, String> {
    let got = ssm
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| {
            if e.as_service_error().is_some_and(|s| s.is_parameter_not_found()) {
                format!(
                    "SSM parameter {name} does not exist: store the service-account key with `cargo xtask sync key --env ENV --file KEY.json`"
                )
            } else {
                format!("SSM GetParameter {name}: {}", mcfstore::error_text(&e))
            }
        })?;
    let value = got
        .parameter()
        .and_then(|p| p.value())
        .ok_or_else(|| format!("SSM parameter {name} has no value"))?;
    ServiceAccountKey::parse(value).map_err(|e| format!("SSM parameter {name}: {e}"))
}
