//! The deployer's bootstrap: the artifacts stack (where builds are published) created on
//! first use, and builds of components into it.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow};

use super::deploy::Options;
use crate::artifacts::{self, Workspace, record::Built};
use crate::aws::Aws;
use crate::resolve::DeployedOutputs;
use crate::session::Session;

/// The stack that holds the artifact bucket and repositories.
pub const ARTIFACTS: &str = "artifacts";
/// Its output naming the bucket.
pub const BUCKET_OUTPUT: &str = "ArtifactBucketName";

/// The artifacts stack's outputs, deploying the stack first when it does not exist yet.
pub async fn ensure_artifacts_stack(s: &Session, aws: &Aws) -> Result<BTreeMap<String, String>> {
    let cfn = s.cfn(aws);
    let stack = s
        .plan
        .get(ARTIFACTS)
        .ok_or_else(|| anyhow!("no stacks/{ARTIFACTS}.yaml"))?;
    let mut info = cfn.describe(&s.full_name(stack)).await?;
    if info.is_none() {
        s.ui.info(&format!(
            "bootstrapping: the {ARTIFACTS} stack of {} does not exist yet, deploying it first",
            s.env
        ));
        let report = super::walk::deploy(
            s,
            ARTIFACTS,
            Options {
                yes: true,
                ..Default::default()
            },
            None,
        )
        .await?;
        if let Some(e) = report.failure() {
            return Err(e);
        }
        info = cfn.describe(&s.full_name(stack)).await?;
    }
    Ok(info.map(|i| i.user_outputs()).unwrap_or_default())
}

/// The artifact bucket's name from the artifacts stack's outputs.
pub fn bucket_of(outputs: &BTreeMap<String, String>, env: &str) -> Result<String> {
    outputs
        .get(BUCKET_OUTPUT)
        .cloned()
        .ok_or_else(|| anyhow!("the artifacts stack of {env} has no {BUCKET_OUTPUT} output: redeploy it"))
}

/// Builds and publishes `component` (or `all`), bootstrapping the artifacts stack first when
/// it is missing; returns what was built and the artifacts stack's outputs.
pub async fn build(
    s: &Session,
    aws: &Aws,
    component: &str,
) -> Result<(BTreeMap<String, Built>, BTreeMap<String, String>)> {
    let ws = Workspace::load(&s.project.workspace)?;
    let names: Vec<&str> = if component == "all" {
        ws.components.iter().map(|c| c.name.as_str()).collect()
    } else {
        vec![ws.component(component)?.name.as_str()]
    };
    let outputs = ensure_artifacts_stack(s, aws).await?;
    let deployed = DeployedOutputs::from([(ARTIFACTS.to_string(), Some(outputs.clone()))]);
    let built = artifacts::publish(s, aws, &deployed, &names).await?;
    Ok((built, outputs))
}
