//! The deployer's side of the AWS connection. The connection itself is the runtime's
//! [`mcfstore::Aws`] (one type for both: one HTTP client, local credentials, S3 path style,
//! error text); here are the deployer's timeouts, its service clients and the account guard.

use std::time::Duration;

use anyhow::{Result, anyhow, bail};

pub use mcfstore::{Aws, error_code, error_text, is_not_found};

use crate::config::Config;

/// Connects with the credential chain (`AWS_PROFILE`, `AWS_ACCESS_KEY_ID`, SSO, ...), or dummy
/// credentials when `local_credentials`. `endpoint` is the resolved endpoint (flag,
/// `AWS_ENDPOINT_URL` or the local emulator); `None` is AWS itself.
pub async fn connect(config: &Config, endpoint: Option<String>, local_credentials: bool) -> Result<Aws> {
    // A CloudFormation call can take a while to answer on AWS; the deployer is not in a hurry.
    let aws = Aws::options()
        .endpoint(endpoint)
        .region(config.region.clone())
        .local_credentials(local_credentials)
        .timeouts(Duration::from_secs(5), Duration::from_secs(60))
        .connect()
        .await
        .map_err(|e| anyhow!("{e}"))?;
    Ok(aws)
}

/// The deployer's service clients, built from the one connection.
pub trait Clients {
    fn cloudformation(&self) -> aws_sdk_cloudformation::Client;
    fn sts(&self) -> aws_sdk_sts::Client;
    fn ecr(&self) -> aws_sdk_ecr::Client;
    fn lambda(&self) -> aws_sdk_lambda::Client;
    fn ecs(&self) -> aws_sdk_ecs::Client;
    fn logs(&self) -> aws_sdk_cloudwatchlogs::Client;
}

impl Clients for Aws {
    fn cloudformation(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(self.sdk())
    }
    fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(self.sdk())
    }
    fn ecr(&self) -> aws_sdk_ecr::Client {
        aws_sdk_ecr::Client::new(self.sdk())
    }
    fn lambda(&self) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::new(self.sdk())
    }
    fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(self.sdk())
    }
    fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(self.sdk())
    }
}

/// Refuses credentials for another account than the environment's `account_id`; returns the
/// account the credentials are for.
pub async fn check_account(aws: &Aws, config: &Config, env: &str) -> Result<String> {
    let who = aws
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| anyhow!("cannot identify the AWS account ({}): {}", aws.target(), error_text(&e)))?;
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
