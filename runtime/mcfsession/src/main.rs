//! The `mcfsession` Lambda function (`provided.al2023`): the daily MCF session check. Each
//! invocation (an EventBridge schedule event; its content is not read) runs
//! [`mcfapply::check::check`] and answers the state it recorded.
//!
//! Environment: `DIMENSIONS_TABLE`, `DATA_BUCKET`, `ALERT_TOPIC_ARN`, `MCFPIPE_ENV`, and
//! optionally `MCF_SITE` (MCF's website) and `SESSION_CHECK_PATH`.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use mcfapply::run::Settings;
use mcfcore::log::{Log, Stdout};
use mcfstore::Aws;
use serde_json::{Value, json};

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn settings() -> Result<Settings, String> {
    let need = |name: &str| var(name).ok_or_else(|| format!("{name} is not set (the apply stack sets it)"));
    Ok(Settings {
        crm_table: String::new(),
        applications_table: String::new(),
        dimensions_table: need("DIMENSIONS_TABLE")?,
        data_bucket: need("DATA_BUCKET")?,
        alert_topic: var("ALERT_TOPIC_ARN"),
        env: var("MCFPIPE_ENV").unwrap_or_else(|| "dev".into()),
        flow: mcfapply::flow::Options {
            site: var("MCF_SITE").unwrap_or_else(|| mcfapply::flow::MCF_SITE.into()),
            ..Default::default()
        },
        pause: std::time::Duration::ZERO,
        only: None,
        max_jobs: None,
        by: "check".into(),
        browser: None,
        scratch: None,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let aws = Aws::connect(None).await?;
    let settings = settings()?;
    let path = var("SESSION_CHECK_PATH").unwrap_or_else(|| mcfapply::check::CHECK_PATH.into());
    let log = Log::new("session", Arc::new(Stdout));
    let (aws, settings, log, path) = (&aws, &settings, &log, &path);
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| async move {
        match mcfapply::check::check(aws, settings, path, log).await {
            Ok(c) => Ok::<Value, Error>(json!({"state": c.state, "valid_until": c.valid_until, "answer": c.answer})),
            Err(e) => {
                log.error(e.to_string());
                Err(e.to_string().into())
            }
        }
    }))
    .await
}
