//! `build`: build and publish runtime components for an environment, creating the artifacts
//! stack first when it is missing (the deployer's bootstrap).

use anyhow::Result;
use serde_json::json;

use super::table;
use crate::artifacts::{self, Workspace};
use crate::resolve::DeployedOutputs;
use crate::session::Session;

const ARTIFACTS: &str = "artifacts";

pub async fn run(s: &Session, component: &str) -> Result<u8> {
    let aws = s.aws().await?;
    let (built, _) = build(s, &aws, component).await?;
    let mut rows = vec![vec![
        "COMPONENT".into(),
        "KIND".into(),
        "BYTES".into(),
        "ARTIFACT".into(),
    ]];
    for (name, b) in &built {
        let value = match &b.skipped {
            Some(why) => format!("skipped: {why}"),
            None => b.value.clone(),
        };
        rows.push(vec![
            name.clone(),
            format!("{:?}", b.kind).to_lowercase(),
            b.bytes.to_string(),
            value,
        ]);
    }
    s.ui.print(&table(&rows));
    s.ui.document(&json!({"env": s.env, "artifacts": built}));
    Ok(0)
}

/// Builds and publishes `component` (or `all`), bootstrapping the artifacts stack first when
/// it is missing; returns what was built and the artifacts stack's outputs.
pub async fn build(
    s: &Session,
    aws: &crate::aws::Aws,
    component: &str,
) -> Result<(
    std::collections::BTreeMap<String, crate::artifacts::record::Built>,
    std::collections::BTreeMap<String, String>,
)> {
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

/// The artifacts stack's outputs, deploying the stack first when it does not exist yet.
pub async fn ensure_artifacts_stack(
    s: &Session,
    aws: &crate::aws::Aws,
) -> Result<std::collections::BTreeMap<String, String>> {
    let cfn = s.cfn(aws);
    let stack = s
        .plan
        .get(ARTIFACTS)
        .ok_or_else(|| anyhow::anyhow!("no stacks/{ARTIFACTS}.yaml"))?;
    let mut info = cfn.describe(&s.full_name(stack)).await?;
    if info.is_none() {
        s.ui.info(&format!(
            "bootstrapping: the {ARTIFACTS} stack of {} does not exist yet, deploying it first",
            s.env
        ));
        super::deploy::deploy(
            s,
            ARTIFACTS,
            super::deploy::Options {
                yes: true,
                ..Default::default()
            },
        )
        .await?;
        info = cfn.describe(&s.full_name(stack)).await?;
    }
    Ok(info.map(|i| i.user_outputs()).unwrap_or_default())
}
