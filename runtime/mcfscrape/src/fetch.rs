//! Polite fetching: every request waits for the rate limiter, failed attempts are retried as
//! the retry policy says, and the time spent waiting on MCF, the limiter and backoff is added
//! up for the run summary.

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::time::Instant;

use crate::client::{AttemptError, McfClient};
use crate::core::rate::TokenBucket;
use crate::core::retry::{RetryPolicy, Verdict};

/// Why a request produced no document, after retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// A block sign: 403 or a verification page. `body` is the answer, whole.
    #[error("{url} answered a block sign ({detail})")]
    Blocked { url: String, detail: String, body: Bytes },
    #[error("{url} answered 404: not found (a job detail: the post was taken down)")]
    Gone { url: String },
    #[error("{url} answered 418: past MCF's 10,000-result cap")]
    EndOfResults { url: String },
    #[error("{url} failed after {attempts} attempt(s): {detail}")]
    Failed { url: String, attempts: u32, detail: String },
}

/// Counters the run copies into its summary.
#[derive(Debug, Clone, Default)]
pub struct FetchStats {
    pub requests: u32,
    pub retries: u32,
    pub mcf: Duration,
    pub rate_wait: Duration,
    pub backoff: Duration,
}

/// The client with its limiter, policy and counters.
#[derive(Debug)]
pub struct Fetcher {
    client: McfClient,
    policy: RetryPolicy,
    bucket: TokenBucket,
    origin: Instant,
    pub stats: FetchStats,
}

impl Fetcher {
    /// `rate` in requests per second (0 = no limit), with no burst: MCF sees an even pace.
    pub fn new(client: McfClient, policy: RetryPolicy, rate: f64) -> Fetcher {
        Fetcher {
            client,
            policy,
            bucket: TokenBucket::new(rate, 1),
            origin: Instant::now(),
            stats: FetchStats::default(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.client.url(path)
    }

    /// `POST` a search body to `path`, retried.
    pub async fn search(&mut self, path: &str, body: &Value) -> Result<Bytes, FetchError> {
        let client = self.client.clone();
        self.with_retries(|| {
            let client = client.clone();
            async move { client.search(path, body).await }
        })
        .await
    }

    /// `GET` `path`, retried.
    pub async fn get(&mut self, path: &str) -> Result<Bytes, FetchError> {
        let client = self.client.clone();
        self.with_retries(|| {
            let client = client.clone();
            async move { client.get(path).await }
        })
        .await
    }

    /// Sleeps the retry policy's backoff before asking a suspect post again (the `asked`-th
    /// retry), counted as a retry. Block signs skip [`Fetcher::get`]'s own retries, so the run
    /// spaces these out itself.
    pub async fn back_off(&mut self, asked: u32) {
        let delay = self.policy.backoff(asked, fastrand::f64());
        self.stats.retries += 1;
        self.stats.backoff += delay;
        tokio::time::sleep(delay).await;
    }

    async fn with_retries<F, Fut>(&mut self, attempt_once: F) -> Result<Bytes, FetchError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Bytes, AttemptError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let wait = self.bucket.reserve(self.origin.elapsed());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
                self.stats.rate_wait += wait;
            }
            self.stats.requests += 1;
            let started = Instant::now();
            let result = attempt_once().await;
            self.stats.mcf += started.elapsed();
            let error = match result {
                Ok(body) => return Ok(body),
                Err(error) => error,
            };
            let AttemptError {
                url,
                failure,
                detail,
                body,
            } = error;
            match self.policy.verdict(&failure, attempt, fastrand::f64()) {
                Verdict::Retry(delay) => {
                    self.stats.retries += 1;
                    self.stats.backoff += delay;
                    tokio::time::sleep(delay).await;
                }
                Verdict::GiveUp => {
                    return Err(FetchError::Failed {
                        url,
                        attempts: attempt,
                        detail,
                    });
                }
                Verdict::Blocked => return Err(FetchError::Blocked { url, detail, body }),
                Verdict::Gone => return Err(FetchError::Gone { url }),
                Verdict::EndOfResults => return Err(FetchError::EndOfResults { url }),
            }
        }
    }
}
