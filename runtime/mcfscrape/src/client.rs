//! The HTTP client for MCF's API: the headers the website sends, timeouts, and the
//! classification of every answer into a document or a [`Failure`] the retry policy reads.
//! One attempt per call; retrying and pacing are `fetch`'s job.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde_json::Value;

use crate::core::retry::{Failure, parse_retry_after};

/// The public API the website calls.
pub const MCF_API: &str = "https://api.mycareersfuture.gov.sg";
const WEBSITE: &str = "https://www.mycareersfuture.gov.sg";
/// Says who we are; a person reading MCF's logs can tell this is a small personal scraper.
pub const USER_AGENT: &str = concat!(
    "Mozilla/5.0 (X11; Linux x86_64) mcfpipe-mcfscrape/",
    env!("CARGO_PKG_VERSION"),
    " (personal job search; 2 requests/s)"
);

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://api.mycareersfuture.gov.sg`, or a fake server's URL.
    pub base_url: String,
    pub connect_timeout: Duration,
    /// The whole request, body included (a server that trickles bytes is cut off too).
    pub request_timeout: Duration,
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_url: MCF_API.into(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            user_agent: USER_AGENT.into(),
        }
    }
}

/// A failed attempt and the URL it was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptError {
    pub url: String,
    pub failure: Failure,
    /// What happened, for messages (status line and the start of the body, or the error).
    pub detail: String,
    /// The body MCF answered, whole (empty when no answer arrived): kept when a post is
    /// quarantined.
    pub body: Bytes,
}

#[derive(Debug, Clone)]
pub struct McfClient {
    http: reqwest::Client,
    base: String,
}

impl McfClient {
    pub fn new(config: &ClientConfig) -> Result<McfClient, String> {
        let mut headers = HeaderMap::new();
        headers.insert("mcf-client", HeaderValue::from_static("jobseeker"));
        headers.insert(header::ORIGIN, HeaderValue::from_static(WEBSITE));
        headers.insert(
            header::REFERER,
            HeaderValue::from_static("https://www.mycareersfuture.gov.sg/"),
        );
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client for {}: {e}", config.base_url))?;
        Ok(McfClient {
            http,
            base: config.base_url.trim_end_matches('/').to_string(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// One `POST` of a search body to `path` (`/v2/search?limit=…&page=…`).
    pub async fn search(&self, path: &str, body: &Value) -> Result<Bytes, AttemptError> {
        let url = self.url(path);
        let request = self
            .http
            .post(&url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        self.send(request, url).await
    }

    /// One `GET` of `path` (`/v2/jobs/<uuid>`).
    pub async fn get(&self, path: &str) -> Result<Bytes, AttemptError> {
        let url = self.url(path);
        self.send(self.http.get(&url), url).await
    }

    async fn send(&self, request: reqwest::RequestBuilder, url: String) -> Result<Bytes, AttemptError> {
        let fail = |failure: Failure, detail: String| AttemptError {
            url: url.clone(),
            failure,
            detail,
            body: Bytes::new(),
        };
        let response = request.send().await.map_err(|e| transport(&e, &fail))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = response.bytes().await.map_err(|e| transport(&e, &fail))?;
        if !status.is_success() {
            let detail = format!("HTTP {status}: {}", preview(&body));
            let failure = Failure::Status {
                code: status.as_u16(),
                retry_after,
            };
            return Err(AttemptError {
                body,
                ..fail(failure, detail)
            });
        }
        match check_json(&body) {
            Ok(()) => Ok(body),
            Err(failure) => {
                let detail = format!("HTTP {status} but {failure:?}: {}", preview(&body));
                Err(AttemptError {
                    body,
                    ..fail(failure, detail)
                })
            }
        }
    }
}

fn transport(e: &reqwest::Error, fail: &impl Fn(Failure, String) -> AttemptError) -> AttemptError {
    let failure = if e.is_timeout() {
        Failure::Timeout
    } else {
        Failure::Connection
    };
    // reqwest's Display hides the cause chain ("error sending request"); show all of it.
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    fail(failure, detail)
}

/// A 2xx body must be whole JSON: an HTML page means a verification page (blocked), a body
/// cut short is retried like a dropped connection.
pub fn check_json(body: &[u8]) -> Result<(), Failure> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'<') {
        return Err(Failure::VerificationPage);
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Ok(_) => Ok(()),
        Err(e) if e.is_eof() => Err(Failure::Truncated),
        Err(_) => Err(Failure::NotJson),
    }
}

/// The start of a body for an error message.
fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_whole_json_or_a_named_failure() {
        assert_eq!(check_json(br#"{"results": []}"#), Ok(()));
        assert_eq!(check_json(br#"{"results": [{"uuid": "ab"#), Err(Failure::Truncated));
        assert_eq!(check_json(b""), Err(Failure::Truncated));
        assert_eq!(
            check_json(b"\n <!DOCTYPE html><title>Verify</title>"),
            Err(Failure::VerificationPage)
        );
        assert_eq!(check_json(b"Service Unavailable"), Err(Failure::NotJson));
    }
}
