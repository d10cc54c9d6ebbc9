//! The `mcfparse` Lambda function (`provided.al2023`, SQS event source with
//! `ReportBatchItemFailures`): builds the [`Handler`] once per execution environment from
//! `POSTS_TABLE` and `DATA_BUCKET`, then answers each batch with its partial batch response.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use mcfparse_lambda::Handler;
use mcfstore::{Aws, Names};

// One invocation at a time per environment: a single thread is all the work needs, and it
// keeps the memory of a 128 MB function for the documents.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let aws = Aws::connect(None).await?;
    let handler = Handler::from_names(&aws, &Names::from_env())?;
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(handler.handle(&event.payload).await)
    }))
    .await
}
