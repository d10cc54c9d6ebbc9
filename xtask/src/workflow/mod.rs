//! The pipeline's workflows, run from the deployer: the search profiles seeded into the
//! dimensions table, and one jobs search (scraper → raw documents in S3 + parse messages on SQS
//! → parser → posts table) run in this process against a deployed environment.
//!
//! The scraper is the `mcfscrape` library the Fargate task runs, and the parser step is the
//! `mcfparse` Lambda's own [`Handler`](mcfparse_lambda::Handler) fed by the local poller
//! ([`mcfparse_lambda::drain`]), which keeps the event source mapping's batch shape and partial
//! batch semantics. In AWS the deployed Lambda consumes the queue itself, so there the
//! search stops after queueing unless told to drain.

pub mod apply;
pub mod health;
pub mod library;
pub mod profiles;
pub mod recommend;
pub mod search;

use std::collections::BTreeMap;

use anyhow::{Result, bail};

use crate::session::Session;

/// The database layer's stack, whose outputs name the tables, bucket and queue.
pub const DATABASE: &str = "database";

/// The physical names a workflow needs, read from the deployed database stack's outputs.
#[derive(Debug, Clone)]
pub struct DataNames {
    pub posts_table: String,
    pub dimensions_table: String,
    pub bucket: String,
    pub queue_url: String,
}

impl DataNames {
    /// From the outputs of the deployed `database` stack; says which command deploys it.
    pub async fn deployed(s: &Session, aws: &crate::aws::Aws) -> Result<DataNames> {
        let stack = s
            .plan
            .get(DATABASE)
            .ok_or_else(|| anyhow::anyhow!("no stacks/{DATABASE}.yaml"))?;
        DataNames::from_outputs(&s.full_name(stack), &deployed_outputs(s, aws, DATABASE).await?)
    }

    pub fn from_outputs(stack: &str, outputs: &BTreeMap<String, String>) -> Result<DataNames> {
        let get = |key: &str| {
            outputs.get(key).cloned().filter(|v| !v.is_empty()).ok_or_else(|| {
                anyhow::anyhow!("stack {stack} has no output {key}: redeploy it (`cargo xtask deploy database`)")
            })
        };
        Ok(DataNames {
            posts_table: get("PostsTableName")?,
            dimensions_table: get("DimensionsTableName")?,
            bucket: get("DataBucketName")?,
            queue_url: get("ParseQueueUrl")?,
        })
    }
}

/// The outputs of the deployed stack `stack`; says which command deploys it, or that it is busy.
pub(crate) async fn deployed_outputs(
    s: &Session,
    aws: &crate::aws::Aws,
    stack: &str,
) -> Result<BTreeMap<String, String>> {
    let manifest = s
        .plan
        .get(stack)
        .ok_or_else(|| anyhow::anyhow!("no stacks/{stack}.yaml"))?;
    let name = s.full_name(manifest);
    let Some(info) = s.cfn(aws).describe(&name).await? else {
        bail!(
            "stack {name} is not deployed in {}: run `cargo xtask deploy all --env {}` (or `cargo xtask up`) first",
            s.env,
            s.env
        );
    };
    if info.is_busy() {
        bail!(
            "stack {name} is busy ({}): wait for it, then run this again",
            info.status
        );
    }
    Ok(info.user_outputs())
}
