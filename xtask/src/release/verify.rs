//! After a promote: what the target's functions and task definitions really run (Lambda's
//! `CodeSha256`, the task definitions' image digests), against the source's and the release's.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow, bail};

use super::Manifest;
use crate::artifacts::Kind;
use crate::aws::{Aws, Clients, error_text};
use crate::session::Session;

/// One resource that runs code, in the target, against the source.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub stack: String,
    pub logical_id: String,
    pub kind: &'static str,
    /// Lambda: CodeSha256. Task definition: the images' digests.
    pub target: String,
    pub source: String,
    pub ok: bool,
}

/// Every Lambda function and task definition of the target's stacks that run artifacts,
/// compared with the source's and with the release.
pub async fn verify(
    src: &Session,
    src_aws: &Aws,
    dst: &Session,
    dst_aws: &Aws,
    manifest: &Manifest,
) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    for stack in dst.plan.stacks.iter().filter(|s| !s.artifacts().is_empty()) {
        let theirs = running_code(dst, dst_aws, &dst.full_name(stack)).await?;
        let ours = running_code(src, src_aws, &src.full_name(stack)).await?;
        if theirs.is_empty() {
            bail!(
                "{} runs no Lambda function or task definition to verify",
                dst.full_name(stack)
            );
        }
        for (logical_id, (kind, target)) in theirs {
            let source = ours.get(&logical_id).map(|(_, v)| v.clone()).unwrap_or_default();
            // And what the release says, so a source that drifted cannot vouch for the target.
            let in_release = match kind {
                "lambda" => manifest
                    .components
                    .values()
                    .filter(|c| c.kind == Kind::Lambda)
                    .any(|c| code_sha256_of(&c.sha256).as_deref() == Some(target.as_str())),
                _ => target.split(',').all(|d| {
                    manifest
                        .components
                        .values()
                        .any(|c| c.kind == Kind::Image && (c.sha256 == d || c.skipped.is_some()))
                }),
            };
            checks.push(Check {
                stack: stack.name.clone(),
                ok: target == source && in_release,
                logical_id,
                kind,
                target,
                source,
            });
        }
    }
    Ok(checks)
}

/// Lambda's `CodeSha256` (base64 of the digest) of a hex SHA-256.
pub fn code_sha256_of(hex_sha256: &str) -> Option<String> {
    let raw = hex::decode(hex_sha256).ok()?;
    Some(aws_smithy_types::base64::encode(raw))
}

/// Logical id → (kind, what it runs): a function's `CodeSha256`; a task definition's image
/// digests (comma-separated, or the image itself when it is not pinned by digest).
async fn running_code(s: &Session, aws: &Aws, stack_name: &str) -> Result<BTreeMap<String, (&'static str, String)>> {
    let (lambda, ecs) = (aws.lambda(), aws.ecs());
    let mut out = BTreeMap::new();
    for r in s.cfn(aws).resources(stack_name).await? {
        let (id, physical) = (r.logical_id, r.physical_id);
        match r.resource_type.as_str() {
            "AWS::Lambda::Function" => {
                let f = lambda
                    .get_function()
                    .function_name(&physical)
                    .send()
                    .await
                    .map_err(|e| anyhow!("Lambda function {physical} of {}: {}", s.env, error_text(&e)))?;
                let sha = f
                    .configuration()
                    .and_then(|c| c.code_sha256())
                    .unwrap_or_default()
                    .to_string();
                out.insert(id, ("lambda", sha));
            }
            "AWS::ECS::TaskDefinition" => {
                let td = ecs
                    .describe_task_definition()
                    .task_definition(&physical)
                    .send()
                    .await
                    .map_err(|e| anyhow!("task definition {physical} of {}: {}", s.env, error_text(&e)))?;
                let images: Vec<String> = td
                    .task_definition()
                    .map(|t| t.container_definitions())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|c| c.image())
                    // Pinned: the digest. Not pinned (a local release without an image): the tag.
                    .map(|i| match i.split_once('@') {
                        Some((_, d)) => d.to_string(),
                        None => i.rsplit(':').next().unwrap_or(i).to_string(),
                    })
                    .collect();
                out.insert(id, ("task definition", images.join(",")));
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_sha256_is_the_base64_of_the_digest() {
        // printf '' | sha256sum; and Lambda's CodeSha256 of an empty payload.
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            code_sha256_of(empty).as_deref(),
            Some("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        );
        assert_eq!(code_sha256_of("not hex"), None);
    }
}
