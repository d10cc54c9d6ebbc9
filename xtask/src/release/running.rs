//! What an environment runs: read from its deployed stacks (the artifact parameters they were
//! given), never from a local file, and the stored release manifest that names exactly that.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow, bail};

use super::Manifest;
use crate::actions::bootstrap::{ARTIFACTS, BUCKET_OUTPUT};
use crate::aws::{Aws, error_text};
use crate::cfn::StackInfo;
use crate::resolve::{Artifacts, DeployedOutputs};
use crate::session::Session;

/// One environment as deployed.
pub struct Running {
    /// Stack name → what DescribeStacks says, for the deployed stacks.
    pub stacks: BTreeMap<String, StackInfo>,
    /// Every stack of the plan → its outputs (`None`: not deployed).
    pub deployed: DeployedOutputs,
    /// Component → the artifact the deployed stacks' parameters name.
    pub artifacts: Artifacts,
    /// The artifact bucket, when the artifacts stack is deployed.
    pub bucket: Option<String>,
}

impl Running {
    /// Reads every stack of the plan.
    pub async fn read(s: &Session, aws: &Aws) -> Result<Running> {
        let cfn = s.cfn(aws);
        let mut stacks = BTreeMap::new();
        let mut deployed = DeployedOutputs::new();
        let mut artifacts = Artifacts::new();
        for stack in &s.plan.stacks {
            let Some(info) = cfn.describe(&s.full_name(stack)).await? else {
                deployed.insert(stack.name.clone(), None);
                continue;
            };
            for (param, source) in &stack.manifest.parameters {
                if let (Some(component), Some(value)) = (source.artifact(), info.parameters.get(param)) {
                    artifacts.insert(component.to_string(), value.clone());
                }
            }
            deployed.insert(stack.name.clone(), (!info.is_busy()).then(|| info.user_outputs()));
            stacks.insert(stack.name.clone(), info);
        }
        let bucket = deployed
            .get(ARTIFACTS)
            .cloned()
            .flatten()
            .and_then(|o| o.get(BUCKET_OUTPUT).cloned());
        Ok(Running {
            stacks,
            deployed,
            artifacts,
            bucket,
        })
    }

    /// Refuses an environment that cannot be promoted from: a stack that runs code not
    /// deployed, a stack busy, no artifact bucket.
    pub fn settled(&self, s: &Session) -> Result<&str> {
        for stack in &s.plan.stacks {
            match self.stacks.get(&stack.name) {
                None if !stack.artifacts().is_empty() => bail!(
                    "{} is not deployed in {}: there is nothing to promote",
                    s.full_name(stack),
                    s.env
                ),
                Some(info) if info.is_busy() => bail!(
                    "{} is {}: promote reads a settled environment; wait for it and retry",
                    info.name,
                    info.status
                ),
                _ => {}
            }
        }
        self.bucket
            .as_deref()
            .ok_or_else(|| anyhow!("the artifacts stack of {} is not deployed", s.env))
    }

    /// `component = artifact, ...` for messages.
    pub fn describe(&self) -> String {
        self.artifacts
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The stored release manifest (`releases/*.json` in the artifact bucket) whose components are
/// exactly `running`, newest first; `None` when none is, or nothing runs code.
pub async fn running_release(aws: &Aws, bucket: Option<&str>, running: &Artifacts) -> Result<Option<Manifest>> {
    let Some(bucket) = bucket.filter(|_| !running.is_empty()) else {
        return Ok(None);
    };
    let s3 = aws.s3();
    let mut found: Vec<Manifest> = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix("releases/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| anyhow!("listing s3://{bucket}/releases/: {}", error_text(&e)))?;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            // A manifest that cannot be read is not the one running; the others still count.
            let Ok(got) = s3.get_object().bucket(bucket).key(key).send().await else {
                continue;
            };
            let Ok(bytes) = got.body.collect().await else { continue };
            let Ok(m) = serde_json::from_slice::<Manifest>(&bytes.into_bytes()) else {
                continue;
            };
            let same = m.components.len() == running.len()
                && m.components
                    .iter()
                    .all(|(name, c)| running.get(name) == Some(&c.artifact));
            if same {
                found.push(m);
            }
        }
    }
    found.sort_by(|a, b| b.created.cmp(&a.created));
    Ok(found.into_iter().next())
}
