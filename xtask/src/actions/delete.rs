//! Delete one stack: what it holds (the survey shown before anyone is asked), who else uses
//! it (refused while another stack does), its buckets and repositories emptied first (not in
//! protected environments), termination protection lifted only with `--force`, and what its
//! deletion policies keep.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow, bail};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use serde::Serialize;
use serde_json::Value;

use super::Outcome;
use crate::aws::{Aws, Clients, error_code, error_text};
use crate::cfn::{Cfn, StackInfo, StackResource, blocked_status_advice};
use crate::session::Session;
use crate::stacks::Stack;

/// A deployed stack about to be deleted, with its template and resources read once.
pub struct Doomed<'a> {
    pub stack: &'a Stack,
    pub info: StackInfo,
    pub template: Value,
    pub resources: Vec<StackResource>,
}

/// A resource its deletion policy keeps in the account.
#[derive(Debug, Clone, Serialize)]
pub struct Retained {
    pub stack: String,
    pub logical_id: String,
    pub physical_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub policy: String,
}

impl Doomed<'_> {
    fn policy(&self, logical_id: &str) -> &str {
        self.template["Resources"][logical_id]["DeletionPolicy"]
            .as_str()
            .unwrap_or("Delete")
    }

    /// What the deletion keeps.
    pub fn retained(&self) -> Vec<Retained> {
        self.resources
            .iter()
            .filter(|r| is_retained(self.policy(&r.logical_id)))
            .map(|r| Retained {
                stack: self.stack.name.clone(),
                logical_id: r.logical_id.clone(),
                physical_id: r.physical_id.clone(),
                kind: r.resource_type.clone(),
                policy: self.policy(&r.logical_id).to_string(),
            })
            .collect()
    }
}

fn is_retained(policy: &str) -> bool {
    matches!(policy, "Retain" | "RetainExceptOnCreate" | "Snapshot")
}

/// Options of a teardown that matter per stack.
#[derive(Debug, Clone, Copy)]
pub struct DeleteOptions {
    /// Protected environment: buckets and repositories are not emptied.
    pub protected: bool,
    /// Termination protection may be lifted.
    pub force: bool,
}

/// Deletes one stack and waits for it to be gone.
pub async fn delete_one(s: &Session, aws: &Aws, cfn: &Cfn<'_>, d: &Doomed<'_>, opts: DeleteOptions) -> Result<Outcome> {
    let (stack, info) = (d.stack, &d.info);
    if let Some(advice) = blocked_status_advice(info).filter(|_| info.status != "DELETE_FAILED") {
        bail!(advice);
    }
    for r in &d.resources {
        if is_retained(d.policy(&r.logical_id)) || opts.protected || r.physical_id.is_empty() {
            continue;
        }
        if r.resource_type == "AWS::S3::Bucket" {
            let n = empty_bucket(aws, &r.physical_id).await?;
            s.ui.step(
                &stack.name,
                &format!("emptied bucket {} ({n} objects and versions)", r.physical_id),
            );
        } else if r.resource_type == "AWS::ECR::Repository" {
            // CloudFormation refuses to delete a repository that still holds images.
            let n = empty_repository(aws, &r.physical_id).await?;
            s.ui.step(
                &stack.name,
                &format!("emptied ECR repository {} ({n} images)", r.physical_id),
            );
        }
    }
    if info.termination_protection {
        if !opts.force {
            bail!(
                "stack {} has termination protection: run again with --force to lift it and delete",
                info.name
            );
        }
        s.ui.step(&stack.name, "lifting termination protection (--force)");
        cfn.set_termination_protection(&info.id, false).await?;
    }
    s.ui.step(&stack.name, &format!("deleting {}", info.name));
    let last = cfn.last_event_id(&info.id).await;
    if let Err(e) = cfn.delete(&info.id).await {
        // moto answers DependencyViolation for a VPC whose route tables it cannot delete,
        // yet drops the stack (docs/LOCAL.md). If the stack is gone, say what may be left.
        if cfn.describe(&info.id).await?.is_some() {
            return Err(e);
        }
        let left: Vec<String> = d
            .resources
            .iter()
            .map(|r| format!("{} {}", r.resource_type, r.physical_id))
            .collect();
        s.ui.warn(&format!(
            "{e:#}; the stack is gone, but these resources may remain: {}",
            left.join(", ")
        ));
    } else {
        cfn.wait(&stack.name, &info.id, last.as_deref(), "DELETE_COMPLETE")
            .await?;
    }
    Ok(Outcome::Deleted)
}

/// Stacks outside this teardown that still use what it deletes, one line each: a stack that
/// imports one of our exports (`ListImports`), or one that was given one of our outputs' values
/// as a parameter (the way our own stacks take each other's outputs, and the way a user's own
/// stack would take our table or bucket name).
pub async fn outside_users(cfn: &Cfn<'_>, doomed: &[(&Stack, StackInfo)], prefix: &str) -> Result<Vec<String>> {
    // Full stack name → our stack's name.
    let ours: BTreeMap<&str, &str> = doomed
        .iter()
        .map(|(stack, i)| (i.name.as_str(), stack.name.as_str()))
        .collect();
    // Output value → "stack.Output", for values that identify one of our resources (names
    // under our prefix, ARNs, AWS resource ids): a CIDR or an AZ name in another stack's
    // parameters says nothing about our stacks.
    let mut values = BTreeMap::new();
    for (stack, info) in doomed {
        for (k, v) in info.user_outputs() {
            if identifies_a_resource(&v, prefix) {
                values.insert(v, format!("{}.{k}", stack.name));
            }
        }
    }
    let mut users = Vec::new();
    let mut exports = Vec::new();
    for other in cfn.all_stacks().await? {
        if let Some(stack) = ours.get(other.name.as_str()) {
            exports.extend(other.exports.iter().map(|e| (e.clone(), *stack)));
            continue;
        }
        for (key, value) in &other.parameters {
            if let Some(ours) = values.get(value) {
                users.push(format!("stack {} takes {ours} as its parameter {key}", other.name));
            }
        }
    }
    // Exports of ours that another stack imports (our templates export nothing today; a
    // user's edit may).
    for (export, stack) in exports {
        let importers = cfn
            .importers(&export)
            .await
            .map_err(|e| e.context(format!("{export} is an export of {stack}")))?;
        for importer in importers {
            users.push(format!("stack {importer} imports {export} (an export of {stack})"));
        }
    }
    Ok(users)
}

/// A name under our prefix, an ARN, or AWS resource ids (`vpc-0abc…`, a comma-separated list
/// of `subnet-…`).
fn identifies_a_resource(value: &str, prefix: &str) -> bool {
    let aws_id = |v: &str| {
        v.split_once('-').is_some_and(|(kind, id)| {
            !kind.is_empty()
                && kind.bytes().all(|b| b.is_ascii_lowercase())
                && id.len() >= 8
                && id.bytes().all(|b| b.is_ascii_hexdigit())
        })
    };
    value.contains(prefix) || value.starts_with("arn:") || (!value.is_empty() && value.split(',').all(aws_id))
}

/// One line per resource that holds data: what the teardown will do with it.
pub async fn survey(aws: &Aws, doomed: &[Doomed<'_>], protected: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for d in doomed {
        for r in &d.resources {
            let (physical, kind) = (&r.physical_id, r.resource_type.as_str());
            let policy = d.policy(&r.logical_id);
            let holds = match kind {
                "AWS::S3::Bucket" => Some(format!("bucket {physical}: {}", count_objects(aws, physical).await)),
                "AWS::ECR::Repository" => Some(format!(
                    "ECR repository {physical}: {}",
                    count_images(aws, physical).await
                )),
                "AWS::DynamoDB::Table" => Some(format!("table {physical}")),
                "AWS::SQS::Queue" => Some(format!("queue {physical}")),
                _ => None,
            };
            let Some(what) = holds else { continue };
            let emptied_first = matches!(kind, "AWS::S3::Bucket" | "AWS::ECR::Repository");
            let fate = if is_retained(policy) {
                format!("KEPT (DeletionPolicy {policy})")
            } else if protected && emptied_first {
                "not emptied (protected environment): the stack delete fails on it if it holds data".into()
            } else if emptied_first {
                "emptied, then DELETED".into()
            } else {
                "DELETED with its data".into()
            };
            lines.push(format!("{}: {what}: {fate}", d.stack.name));
        }
    }
    lines
}

/// "N objects and versions" (1000+ when there are more), or why it is unknown.
async fn count_objects(aws: &Aws, bucket: &str) -> String {
    match aws
        .s3()
        .list_object_versions()
        .bucket(bucket)
        .max_keys(1000)
        .send()
        .await
    {
        Ok(p) => {
            let n = p.versions().len() + p.delete_markers().len();
            let more = if p.is_truncated() == Some(true) { "+" } else { "" };
            format!("{n}{more} objects and versions")
        }
        Err(e) => format!("contents unknown ({})", error_text(&e)),
    }
}

async fn count_images(aws: &Aws, repository: &str) -> String {
    match aws.ecr().list_images().repository_name(repository).send().await {
        Ok(p) => {
            let more = if p.next_token().is_some() { "+" } else { "" };
            format!("{}{more} images", p.image_ids().len())
        }
        Err(e) => format!("contents unknown ({})", error_text(&e)),
    }
}

/// Deletes every image of an ECR repository; returns how many.
async fn empty_repository(aws: &Aws, repository: &str) -> Result<usize> {
    let ecr = aws.ecr();
    let mut count = 0;
    loop {
        let page = match ecr.list_images().repository_name(repository).send().await {
            Ok(p) => p,
            Err(e) if error_code(&e).as_deref() == Some("RepositoryNotFoundException") => return Ok(count),
            Err(e) => bail!(
                "cannot list ECR repository {repository} to empty it: {}",
                error_text(&e)
            ),
        };
        let ids = page.image_ids().to_vec();
        if ids.is_empty() {
            return Ok(count);
        }
        count += ids.len();
        ecr.batch_delete_image()
            .repository_name(repository)
            .set_image_ids(Some(ids))
            .send()
            .await
            .map_err(|e| anyhow!("cannot empty ECR repository {repository}: {}", error_text(&e)))?;
    }
}

/// Deletes every object version and delete marker; returns how many.
async fn empty_bucket(aws: &Aws, bucket: &str) -> Result<usize> {
    let s3 = aws.s3();
    let mut count = 0;
    loop {
        let page = match s3.list_object_versions().bucket(bucket).max_keys(1000).send().await {
            Ok(p) => p,
            Err(e) if error_code(&e).as_deref() == Some("NoSuchBucket") => return Ok(count),
            Err(e) => bail!("cannot list bucket {bucket} to empty it: {}", error_text(&e)),
        };
        let mut ids = Vec::new();
        for v in page.versions() {
            ids.push(
                ObjectIdentifier::builder()
                    .key(v.key().unwrap_or_default())
                    .set_version_id(v.version_id().map(str::to_string))
                    .build()?,
            );
        }
        for m in page.delete_markers() {
            ids.push(
                ObjectIdentifier::builder()
                    .key(m.key().unwrap_or_default())
                    .set_version_id(m.version_id().map(str::to_string))
                    .build()?,
            );
        }
        if ids.is_empty() {
            return Ok(count);
        }
        count += ids.len();
        let res = s3
            .delete_objects()
            .bucket(bucket)
            .delete(Delete::builder().set_objects(Some(ids)).quiet(true).build()?)
            .send()
            .await
            .map_err(|e| anyhow!("cannot empty bucket {bucket}: {}", error_text(&e)))?;
        if let Some(err) = res.errors().first() {
            bail!(
                "cannot empty bucket {bucket}: {} {}",
                err.key().unwrap_or_default(),
                err.message().unwrap_or_default()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::identifies_a_resource;

    #[test]
    fn only_values_naming_our_resources_count_as_uses() {
        let prefix = "mcfpipe-dev-";
        for yes in [
            "mcfpipe-dev-posts",
            "https://sqs.ap-southeast-1.amazonaws.com/123456789012/mcfpipe-dev-parse",
            "arn:aws:sqs:ap-southeast-1:123456789012:x",
            "vpc-0a1b2c3d4e5f60718",
            "subnet-12345678,subnet-9abcdef0",
        ] {
            assert!(identifies_a_resource(yes, prefix), "{yes}");
        }
        for no in [
            "10.21.0.0/16",
            "ap-southeast-1a",
            "true",
            "30",
            "mcfpipe-staging-posts",
            "",
            "a-b",
        ] {
            assert!(!identifies_a_resource(no, prefix), "{no}");
        }
    }
}
