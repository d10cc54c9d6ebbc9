//! The `jobmatch` Lambda function (`provided.al2023`): the posts table's stream (event source
//! mapping with `ReportBatchItemFailures`) and rescore requests (`lambda:Invoke`). Builds the
//! [`Handler`] once per execution environment from `POSTS_TABLE`, `DIMENSIONS_TABLE`,
//! `CRM_TABLE` (and `RESCORE_WEEKS`), then answers each event.

use jobmatch_lambda::Handler;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use mcfstore::{Aws, Names};
use serde_json::Value;

// One invocation at a time per environment: a single thread is all the work needs.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let aws = Aws::connect(None).await?;
    let handler = Handler::from_names(&aws, &Names::from_env())?;
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler.handle(event.payload).await.map_err(Error::from)
    }))
    .await
}
