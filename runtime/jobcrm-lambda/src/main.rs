//! The `jobcrm` Lambda function (`provided.al2023`): API Gateway proxy requests and the daily
//! expiry. Builds the [`App`] once per execution environment from `CRM_TABLE`,
//! `DIMENSIONS_TABLE`, `POSTS_TABLE`, `TOKEN_PATH` and `MCF_URL`.

use jobcrm_lambda::{App, Settings};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use mcfstore::Aws;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let aws = Aws::connect(None).await?;
    let app = App::new(&aws, Settings::from_env()?);
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        jobcrm_lambda::lambda::handle(app, event.payload)
            .await
            .map_err(Error::from)
    }))
    .await
}
