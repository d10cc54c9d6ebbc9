//! The one AWS connection of the project, shared by the deployer and the runtime: region and
//! credentials from the standard chain, one HTTP client (hyper + rustls on ring, so aws-lc-sys
//! never builds) for every service, an endpoint override for an emulator (with dummy
//! credentials on loopback, so a real profile is never sent there, and S3 addressed by path),
//! and the one place SDK errors become text.

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig, timeout::TimeoutConfig};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::{Builder, tls};

use crate::StoreError;
use crate::record::{Interceptor, Recorder};

/// Credentials sent to an emulator on loopback.
const LOCAL_KEY: &str = "mcfpipe-local";

/// An SDK config plus the endpoint override and region it was built with, handing out service
/// clients. Clone is cheap (the HTTP client and credential cache are shared).
#[derive(Clone, Debug)]
pub struct Aws {
    sdk: SdkConfig,
    /// Set for an emulator: S3 is then addressed by path, not by virtual host.
    endpoint: Option<String>,
    region: String,
    /// Set by [`Aws::recording`]: every client records its calls there under this label.
    recording: Option<(Recorder, std::sync::Arc<str>)>,
}

/// How to connect: [`Aws::options`] for the defaults, then [`Options::connect`].
#[derive(Clone, Debug)]
pub struct Options {
    endpoint: Option<String>,
    region: Option<String>,
    /// `None`: dummy credentials exactly when the endpoint is on loopback.
    local_credentials: Option<bool>,
    connect_timeout: Duration,
    attempt_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        // Short attempts suit the runtime: a Lambda invocation has a budget (the queue's
        // visibility timeout covers it), and a stuck request must fail the record, not the batch.
        Options {
            endpoint: None,
            region: None,
            local_credentials: None,
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(20),
        }
    }
}

impl Options {
    /// Sends every request here (an emulator). Without it, `AWS_ENDPOINT_URL` if set.
    pub fn endpoint(mut self, url: Option<String>) -> Self {
        self.endpoint = url;
        self
    }

    /// A region that overrides the chain's (`AWS_REGION`, the profile).
    pub fn region(mut self, region: Option<String>) -> Self {
        self.region = region;
        self
    }

    /// Dummy credentials (`true`), the standard chain (`false`); by default, dummy exactly
    /// when the endpoint is on loopback.
    pub fn local_credentials(mut self, on: bool) -> Self {
        self.local_credentials = Some(on);
        self
    }

    /// Per-attempt time limits (the deployer waits longer than a Lambda can).
    pub fn timeouts(mut self, connect: Duration, attempt: Duration) -> Self {
        self.connect_timeout = connect;
        self.attempt_timeout = attempt;
        self
    }

    pub async fn connect(self) -> Result<Aws, StoreError> {
        let endpoint = self
            .endpoint
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok().filter(|u| !u.trim().is_empty()));
        let http = Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(self.connect_timeout)
                    .operation_attempt_timeout(self.attempt_timeout)
                    .build(),
            );
        if let Some(region) = self.region {
            loader = loader.region(aws_config::Region::new(region));
        }
        if let Some(url) = &endpoint {
            loader = loader.endpoint_url(url.clone());
        }
        let local = self
            .local_credentials
            .unwrap_or_else(|| endpoint.as_deref().is_some_and(is_loopback));
        if local {
            loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                LOCAL_KEY, LOCAL_KEY, None, None, LOCAL_KEY,
            ));
        }
        let sdk = loader.load().await;
        Aws::from_parts(sdk, endpoint)
    }
}

/// True for an endpoint URL on this host (an emulator, a fixture server).
pub fn is_loopback(url: &str) -> bool {
    let host = url.split("://").nth(1).unwrap_or(url);
    ["127.", "localhost", "[::1]"].iter().any(|h| host.starts_with(h))
}

impl Aws {
    /// The defaults of the runtime: the standard chain, `AWS_ENDPOINT_URL`, short timeouts.
    pub fn options() -> Options {
        Options::default()
    }

    /// Connects with the standard chain (`AWS_REGION`, credentials from the environment or
    /// the Lambda/ECS role). `endpoint`, or else `AWS_ENDPOINT_URL`, sends every request there.
    pub async fn connect(endpoint: Option<String>) -> Result<Aws, StoreError> {
        Aws::options().endpoint(endpoint).connect().await
    }

    /// [`connect`](Aws::connect) with a region that overrides the chain's.
    pub async fn connect_to(endpoint: Option<String>, region: Option<String>) -> Result<Aws, StoreError> {
        Aws::options().endpoint(endpoint).region(region).connect().await
    }

    /// Wraps a config built elsewhere (a test's); its endpoint URL, if any, switches S3 to
    /// path-style addressing.
    ///
    /// # Panics
    /// When the config has no region (a test's config always names one).
    pub fn from_sdk(sdk: SdkConfig) -> Aws {
        let endpoint = sdk.endpoint_url().map(str::to_string);
        Aws::from_parts(sdk, endpoint).expect("an SDK config with a region")
    }

    fn from_parts(sdk: SdkConfig, endpoint: Option<String>) -> Result<Aws, StoreError> {
        let Some(region) = sdk.region().map(|r| r.to_string()) else {
            return Err(StoreError::MissingSetting {
                var: "AWS_REGION",
                what: "the AWS region (Lambda sets it; set `region` in the config, or export AWS_REGION=ap-southeast-1)",
            });
        };
        Ok(Aws {
            sdk,
            endpoint,
            region,
            recording: None,
        })
    }

    /// This connection, with every client it builds recording its calls in `recorder` as those
    /// of `component` (the name the template's artifact parameters give it: `mcfscrape`,
    /// `mcfparse`). For the end-to-end tests' permission check (`mcfstore::record`); a
    /// connection without it has no interceptor and pays nothing.
    pub fn recording(&self, recorder: &Recorder, component: &str) -> Aws {
        Aws {
            recording: Some((recorder.clone(), component.into())),
            ..self.clone()
        }
    }

    fn interceptor(&self) -> Option<Interceptor> {
        self.recording.as_ref().map(|(recorder, component)| Interceptor {
            recorder: recorder.clone(),
            component: component.clone(),
        })
    }

    pub fn sdk(&self) -> &SdkConfig {
        &self.sdk
    }

    /// The endpoint override: `Some` for an emulator, `None` for AWS itself.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// True when requests go to an emulator rather than AWS.
    pub fn is_emulator(&self) -> bool {
        self.endpoint.is_some()
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Where requests go, for messages: `ap-southeast-1` or `ap-southeast-1 at http://…`.
    pub fn target(&self) -> String {
        match &self.endpoint {
            Some(e) => format!("{} at {e}", self.region),
            None => self.region.clone(),
        }
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let mut conf = aws_sdk_dynamodb::config::Builder::from(&self.sdk);
        if let Some(i) = self.interceptor() {
            conf = conf.interceptor(i);
        }
        aws_sdk_dynamodb::Client::from_conf(conf.build())
    }

    /// DynamoDB Streams (the posts table's stream, read by the recommender's local player).
    pub fn dynamodbstreams(&self) -> aws_sdk_dynamodbstreams::Client {
        let mut conf = aws_sdk_dynamodbstreams::config::Builder::from(&self.sdk);
        if let Some(i) = self.interceptor() {
            conf = conf.interceptor(i);
        }
        aws_sdk_dynamodbstreams::Client::from_conf(conf.build())
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        // Emulators serve buckets by path, not by virtual host.
        let mut conf = aws_sdk_s3::config::Builder::from(&self.sdk).force_path_style(self.endpoint.is_some());
        if let Some(i) = self.interceptor() {
            conf = conf.interceptor(i);
        }
        aws_sdk_s3::Client::from_conf(conf.build())
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        let mut conf = aws_sdk_sqs::config::Builder::from(&self.sdk);
        if let Some(i) = self.interceptor() {
            conf = conf.interceptor(i);
        }
        aws_sdk_sqs::Client::from_conf(conf.build())
    }

    /// Parameter Store: config sync reads its Google key there (a SecureString).
    pub fn ssm(&self) -> aws_sdk_ssm::Client {
        let mut conf = aws_sdk_ssm::config::Builder::from(&self.sdk);
        if let Some(i) = self.interceptor() {
            conf = conf.interceptor(i);
        }
        aws_sdk_ssm::Client::from_conf(conf.build())
    }

    /// The recording interceptor of this connection, for a client of a service this crate
    /// does not link (`aws_sdk_lambda::config::Builder::from(aws.sdk()).interceptor(i)`), so
    /// that its calls are recorded like those of [`s3`](Aws::s3) or [`dynamodb`](Aws::dynamodb).
    /// `None` without a recorder.
    pub fn record_interceptor(&self) -> Option<impl aws_smithy_runtime_api::client::interceptors::Intercept + 'static> {
        self.interceptor()
    }
}

/// The text of an SDK error: the service's code and message, or why no answer came. Nothing
/// else in the project formats SDK errors.
pub fn error_text<E>(e: &SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_smithy_types::error::display::DisplayErrorContext;
    match e {
        SdkError::ServiceError(s) => match (s.err().code(), s.err().message()) {
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
                let text = strip_tags(&body);
                if text.is_empty() {
                    format!("HTTP {} without an AWS error document", raw.status().as_u16())
                } else {
                    format!("HTTP {} without an AWS error: {text}", raw.status().as_u16())
                }
            }
        },
        SdkError::DispatchFailure(d) => {
            let why = if d.is_io() {
                "connection failed (is the endpoint up?)"
            } else if d.is_timeout() {
                "timed out"
            } else {
                "request failed"
            };
            format!("{why}: {}", DisplayErrorContext(e))
        }
        SdkError::TimeoutError(_) => "the request timed out".into(),
        other => DisplayErrorContext(other).to_string(),
    }
}

/// The error code of a service error, if the service answered.
pub fn error_code<E>(e: &SdkError<E>) -> Option<String>
where
    E: ProvideErrorMetadata,
{
    e.as_service_error().and_then(|s| s.code()).map(str::to_string)
}

/// True when the service answered 404 or a not-found code (S3's HeadObject has no error body).
pub fn is_not_found<E>(e: &SdkError<E>) -> bool
where
    E: ProvideErrorMetadata,
{
    matches!(error_code(e).as_deref(), Some("NotFound" | "NoSuchKey"))
        || e.raw_response().is_some_and(|r| r.status().as_u16() == 404)
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

/// A [`StoreError::Aws`] for a failed call. Only refusals of the request itself are
/// permanent; everything else (throttling, 5xx, network, access, missing table or bucket)
/// is worth retrying once someone or something has fixed it.
pub(crate) fn sdk_error<E>(operation: &'static str, target: String, e: &SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = e.as_service_error().and_then(|s| s.code());
    let transient = !matches!(
        code,
        Some("ValidationException" | "SerializationException" | "InvalidArgument" | "EntityTooLarge")
    );
    StoreError::Aws {
        operation,
        target,
        message: error_text(e),
        transient,
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

    #[test]
    fn loopback_endpoints() {
        assert!(super::is_loopback("http://127.0.0.1:5000"));
        assert!(super::is_loopback("http://localhost:5000"));
        assert!(!super::is_loopback("https://s3.ap-southeast-1.amazonaws.com"));
    }
}
