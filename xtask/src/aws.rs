//! The AWS connection: region, endpoint and credentials from the standard chain, one HTTP
//! client (hyper + rustls on ring) for every service, and the account guard.

use std::time::Duration;

use anyhow::{Result, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig, timeout::TimeoutConfig};
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::{Builder, tls};

use crate::config::Config;

/// Credentials used against a local emulator, so a real profile is never sent there.
const LOCAL_KEY: &str = "mcfpipe-local";

#[derive(Clone, Debug)]
pub struct Aws {
    pub sdk: SdkConfig,
    /// Where requests go when not the AWS default endpoints.
    pub endpoint: Option<String>,
    pub region: String,
}

impl Aws {
    /// Connects with the credential chain (`AWS_PROFILE`, `AWS_ACCESS_KEY_ID`, SSO, ...).
    /// `endpoint` is the resolved endpoint (flag, `AWS_ENDPOINT_URL` or the local emulator).
    pub async fn connect(config: &Config, endpoint: Option<String>, local_credentials: bool) -> Result<Aws> {
        let http = Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            );
        if let Some(region) = &config.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &endpoint {
            loader = loader.endpoint_url(url.clone());
        }
        if local_credentials {
            loader = loader.credentials_provider(aws_sdk_sts::config::Credentials::new(
                LOCAL_KEY,
                LOCAL_KEY,
                None,
                None,
                "mcfpipe-local",
            ));
        }
        let sdk = loader.load().await;
        let Some(region) = sdk.region().map(|r| r.to_string()) else {
            bail!("no AWS region: set `region` in config/base.yaml or the environment's file, or AWS_REGION");
        };
        Ok(Aws { sdk, endpoint, region })
    }

    pub fn cloudformation(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.sdk)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        // Emulators serve buckets by path, not by virtual host.
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
            .force_path_style(self.endpoint.is_some())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk)
    }

    /// Where we are talking to, for messages.
    pub fn target(&self) -> String {
        match &self.endpoint {
            Some(e) => format!("{} at {e}", self.region),
            None => self.region.clone(),
        }
    }

    /// Refuses credentials for another account than the environment's `account_id`.
    pub async fn check_account(&self, config: &Config, env: &str) -> Result<String> {
        let who = self.sts().get_caller_identity().send().await.map_err(|e| {
            anyhow::anyhow!(
                "cannot identify the AWS account ({}): {}",
                self.target(),
                error_text(&e)
            )
        })?;
        let account = who.account().unwrap_or_default().to_string();
        if let Some(expected) = &config.account_id {
            if *expected != account {
                bail!(
                    "account guard: environment `{env}` deploys to account {expected} (config/{env}.yaml `account_id`), \
                     but the credentials are for account {account} ({}). Switch profile (AWS_PROFILE) or fix the config.",
                    who.arn().unwrap_or("unknown identity")
                );
            }
        }
        Ok(account)
    }
}

/// The text of an AWS SDK error: the service's code and message, or why the request did
/// not get an answer. Commands never format SDK errors themselves.
pub fn error_text<E>(e: &SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            match (err.code(), err.message()) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.to_string(),
                (None, Some(m)) => m.to_string(),
                // No AWS error document: an emulator crash or a proxy. Show what came back.
                (None, None) => {
                    let raw = s.raw();
                    let body = raw
                        .body()
                        .bytes()
                        .map(|b| String::from_utf8_lossy(b).to_string())
                        .unwrap_or_default();
                    format!(
                        "HTTP {} without an AWS error: {}",
                        raw.status().as_u16(),
                        strip_tags(&body)
                    )
                }
            }
        }
        SdkError::DispatchFailure(d) => {
            let why = if d.is_io() {
                "connection failed"
            } else if d.is_timeout() {
                "timed out"
            } else {
                "request failed"
            };
            format!("{why}: {}", aws_smithy_types::error::display::DisplayErrorContext(e))
        }
        SdkError::TimeoutError(_) => "the request timed out".into(),
        other => format!("{}", aws_smithy_types::error::display::DisplayErrorContext(other)),
    }
}

/// The error code of a service error, if the service answered.
pub fn error_code<E>(e: &SdkError<E>) -> Option<String>
where
    E: ProvideErrorMetadata,
{
    e.as_service_error().and_then(|s| s.code()).map(str::to_string)
}

/// Text of an HTML error page, on one line.
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > 300 {
        text.chars().take(300).collect::<String>() + "…"
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_error_pages_become_one_line() {
        let page = "<!doctype html>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>\n";
        assert_eq!(
            super::strip_tags(page),
            "500 Internal Server Error Internal Server Error The server encountered an internal error."
        );
    }
}
