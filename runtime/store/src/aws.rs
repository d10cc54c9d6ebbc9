//! The SDK connection: region and credentials from the standard chain, one HTTP client
//! (hyper + rustls on ring, as the deployer's, so aws-lc-sys never builds) for every service,
//! an endpoint override for the local emulator, and the one place SDK errors become text.

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig, timeout::TimeoutConfig};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::{Builder, tls};

use crate::StoreError;

/// An SDK config plus the endpoint override it was built with, handing out service clients.
#[derive(Clone, Debug)]
pub struct Aws {
    sdk: SdkConfig,
    /// Set for an emulator: S3 is then addressed by path, not by virtual host.
    endpoint: Option<String>,
}

impl Aws {
    /// Connects with the standard chain (`AWS_REGION`, credentials from the environment or
    /// the Lambda/ECS role). `endpoint`, or else `AWS_ENDPOINT_URL`, sends every request there.
    pub async fn connect(endpoint: Option<String>) -> Result<Aws, StoreError> {
        Aws::connect_to(endpoint, None).await
    }

    /// [`connect`](Aws::connect) with a region that overrides the chain's. A loopback endpoint
    /// (an emulator) gets dummy credentials, so a real profile is never sent there.
    pub async fn connect_to(endpoint: Option<String>, region: Option<String>) -> Result<Aws, StoreError> {
        let endpoint = endpoint.or_else(|| std::env::var("AWS_ENDPOINT_URL").ok().filter(|u| !u.trim().is_empty()));
        let http = Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        // Short attempts: a Lambda invocation has a budget (the queue's visibility timeout
        // covers it), and a stuck request must fail the record, not the whole batch.
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(20))
                    .build(),
            );
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region));
        }
        if let Some(url) = &endpoint {
            loader = loader.endpoint_url(url.clone());
            let host = url.split("://").nth(1).unwrap_or(url);
            if ["127.", "localhost", "[::1]"].iter().any(|h| host.starts_with(h)) {
                loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                    "mcfpipe-local",
                    "mcfpipe-local",
                    None,
                    None,
                    "mcfpipe-local",
                ));
            }
        }
        let sdk = loader.load().await;
        if sdk.region().is_none() {
            return Err(StoreError::MissingSetting {
                var: "AWS_REGION",
                what: "the AWS region (Lambda sets it; for a local run export AWS_REGION=ap-southeast-1)",
            });
        }
        Ok(Aws { sdk, endpoint })
    }

    /// Wraps a config built elsewhere (the deployer's, a test's); its endpoint URL, if any,
    /// switches S3 to path-style addressing.
    pub fn from_sdk(sdk: SdkConfig) -> Aws {
        let endpoint = sdk.endpoint_url().map(str::to_string);
        Aws { sdk, endpoint }
    }

    pub fn sdk(&self) -> &SdkConfig {
        &self.sdk
    }

    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        // Emulators serve buckets by path, not by virtual host.
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
            .force_path_style(self.endpoint.is_some())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }
}

/// The text of an SDK error: the service's code and message, or why no answer came.
pub fn error_text<E>(e: &SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match e {
        SdkError::ServiceError(s) => match (s.err().code(), s.err().message()) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.to_string(),
            (None, Some(m)) => m.to_string(),
            (None, None) => format!("HTTP {} without an AWS error document", s.raw().status().as_u16()),
        },
        SdkError::DispatchFailure(d) if d.is_io() => format!(
            "connection failed (is the endpoint up?): {}",
            aws_smithy_types::error::display::DisplayErrorContext(e)
        ),
        SdkError::TimeoutError(_) => "the request timed out".into(),
        other => aws_smithy_types::error::display::DisplayErrorContext(other).to_string(),
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
