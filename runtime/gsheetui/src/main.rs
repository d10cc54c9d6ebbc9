//! The `gsheetui` Lambda function (`provided.al2023`): the scheduled config sync. Each
//! invocation (an EventBridge schedule event; its content is not read) syncs the Google
//! workbook into the dimensions table ([`gsheetui::scheduled::run`]).

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use mcfcore::log::{Log, Stdout};
use mcfstore::Aws;
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let aws = Aws::connect(None).await?;
    let settings = gsheetui::scheduled::Settings::from_lookup(|k| std::env::var(k).ok())?;
    let log = Log::new("sync", Arc::new(Stdout));
    let (aws, settings, log) = (&aws, &settings, &log);
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| async move {
        match gsheetui::scheduled::run(aws, settings, log).await {
            Ok(r) => Ok::<Value, Error>(
                json!({"version": r.version, "written": r.written, "tables_written": r.tables_written}),
            ),
            Err(e) => {
                log.error(e.clone());
                Err(e.into())
            }
        }
    }))
    .await
}
