//! `teardown`: delete stacks in reverse dependency order, emptying their buckets first
//! (not in protected environments), and say what was retained.

use anyhow::{Result, anyhow, bail};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use serde_json::{Value, json};

use crate::aws::Clients;
use crate::aws::{Aws, error_text};
use crate::cfn::blocked_status_advice;
use crate::session::Session;

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub yes: bool,
    pub force: bool,
    pub confirm: Option<String>,
}

pub async fn run(s: &Session, target: &str, opts: Options) -> Result<u8> {
    let mut stacks = s.plan.select(target)?;
    stacks.reverse();
    let protected = s.config.deploy.protected;
    if protected && !opts.force {
        bail!(
            "environment {} is protected (deploy.protected in config/{}.yaml): teardown deletes nothing without --force, \
             and then asks for the environment name typed back (or --confirm {})",
            s.env,
            s.env,
            s.env
        );
    }
    let aws = s.aws().await?;
    let cfn = s.cfn(&aws);

    // What exists, and whether a stack outside the selection still needs one inside it.
    let mut existing = Vec::new();
    for stack in &stacks {
        if let Some(info) = cfn.describe(&s.full_name(stack)).await? {
            existing.push((*stack, info));
        }
    }
    for (stack, _) in &existing {
        for dependent in s.plan.dependents(&stack.name) {
            if stacks.iter().any(|x| x.name == dependent.name) {
                continue;
            }
            if cfn.describe(&s.full_name(dependent)).await?.is_some() {
                bail!(
                    "stack {} is still deployed and depends on {}: tear it down first (or `teardown all`)",
                    dependent.name,
                    stack.name
                );
            }
        }
    }
    let users = outside_users(&aws, &existing, &s.prefix()).await?;
    if !users.is_empty() {
        bail!(
            "other stacks still use what this teardown would delete; nothing was deleted:\n{}\n\
             Delete or update them first",
            users.iter().map(|u| format!("  - {u}")).collect::<Vec<_>>().join("\n")
        );
    }
    if existing.is_empty() {
        s.ui.info(&format!(
            "nothing to tear down in {}: no stack of `{target}` is deployed",
            s.env
        ));
        s.ui.emit("result", json!({"env": s.env, "deleted": [], "retained": []}));
        return Ok(0);
    }
    let names: Vec<String> = existing.iter().map(|(_, i)| i.name.clone()).collect();
    s.ui.info(&format!("will delete, in this order: {}", names.join(", ")));
    // What the teardown will do to data, before anything is asked or done.
    // Each stack's template and resources, read once for the survey and the deletion.
    let mut contents = Vec::new();
    for (_, info) in &existing {
        contents.push((
            cfn.template(&info.id).await.unwrap_or_default(),
            cfn.resources(&info.id).await?,
        ));
    }
    for line in survey(&aws, &existing, &contents, protected).await {
        s.ui.info(&format!("  {line}"));
    }
    if protected {
        let ok = match &opts.confirm {
            Some(c) => c == &s.env,
            None => s.ui.type_back(
                &format!(
                    "This deletes {} stack(s) of protected environment {}.",
                    names.len(),
                    s.env
                ),
                &s.env,
            )?,
        };
        if !ok {
            bail!("the environment name was not confirmed: nothing was deleted");
        }
    } else if !opts.yes
        && !s
            .ui
            .confirm(&format!("Delete {} stack(s) of {}?", names.len(), s.env))?
    {
        bail!("not confirmed: nothing was deleted");
    }

    let (deleted, retained) = crate::lock::with_lock(
        s,
        &aws,
        &format!("teardown {target}"),
        delete_stacks(s, &aws, &existing, &contents, protected, &opts),
    )
    .await?;
    if !retained.is_empty() {
        s.ui.info("retained (DeletionPolicy), still in the account:");
        for r in &retained {
            s.ui.info(&format!(
                "  {} {} ({}, from {})",
                r["type"].as_str().unwrap_or(""),
                r["physical_id"].as_str().unwrap_or(""),
                r["policy"].as_str().unwrap_or(""),
                r["stack"].as_str().unwrap_or("")
            ));
        }
    }
    s.ui.emit(
        "result",
        json!({"env": s.env, "deleted": deleted, "retained": retained}),
    );
    Ok(0)
}

/// Stacks outside this teardown that still use what it deletes, one line each: a stack that
/// imports one of our exports (`ListImports`), or one that was given one of our outputs' values
/// as a parameter (the way our own stacks take each other's outputs, and the way a user's own
/// stack would take our table or bucket name).
async fn outside_users(
    aws: &Aws,
    existing: &[(&crate::stacks::Stack, crate::cfn::StackInfo)],
    prefix: &str,
) -> Result<Vec<String>> {
    let cfn = aws.cloudformation();
    // Full stack name → our stack's name.
    let ours: std::collections::BTreeMap<&str, &str> = existing
        .iter()
        .map(|(stack, i)| (i.name.as_str(), stack.name.as_str()))
        .collect();
    // Output value → "stack.Output", for values that identify one of our resources (names
    // under our prefix, ARNs, AWS resource ids): a CIDR or an AZ name in another stack's
    // parameters says nothing about our stacks.
    let mut values = std::collections::BTreeMap::new();
    for (stack, info) in existing {
        for (k, v) in info.user_outputs() {
            if identifies_a_resource(&v, prefix) {
                values.insert(v, format!("{}.{k}", stack.name));
            }
        }
    }
    let mut users = Vec::new();
    // Our exports (export name, our stack), read from the same listing.
    let mut exports = Vec::new();
    let mut token = None;
    loop {
        let page = cfn
            .describe_stacks()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("listing the region's stacks: {}", crate::aws::error_text(&e)))?;
        for other in page.stacks() {
            let name = other.stack_name().unwrap_or_default();
            let status = other.stack_status().map(|s| s.as_str()).unwrap_or_default();
            if status == "DELETE_COMPLETE" {
                continue;
            }
            if let Some(stack) = ours.get(name) {
                for export in other.outputs().iter().filter_map(|o| o.export_name()) {
                    exports.push((export.to_string(), *stack));
                }
                continue;
            }
            for p in other.parameters() {
                if let Some(ours) = p.parameter_value().and_then(|v| values.get(v)) {
                    users.push(format!(
                        "stack {name} takes {ours} as its parameter {}",
                        p.parameter_key().unwrap_or_default()
                    ));
                }
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    // Exports of ours that another stack imports (our templates export nothing today; a
    // user's edit may).
    for (export, stack) in exports {
        match cfn.list_imports().export_name(&export).send().await {
            Ok(imports) => {
                for importer in imports.imports() {
                    users.push(format!("stack {importer} imports {export} (an export of {stack})"));
                }
            }
            // AWS's answer when nothing imports the export.
            Err(e) if crate::aws::error_text(&e).contains("is not imported") => {}
            // Unknown is not "unused": refuse rather than guess.
            Err(e) => bail!(
                "cannot tell whether other stacks import {export} (an export of {stack}): {}",
                crate::aws::error_text(&e)
            ),
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

/// Deletes `existing` in order; returns the deleted stack names and the retained resources.
async fn delete_stacks(
    s: &Session,
    aws: &Aws,
    existing: &[(&crate::stacks::Stack, crate::cfn::StackInfo)],
    contents: &[Contents],
    protected: bool,
    opts: &Options,
) -> Result<(Vec<String>, Vec<Value>)> {
    let cfn = s.cfn(aws);
    let mut deleted = Vec::new();
    let mut retained: Vec<Value> = Vec::new();
    for ((stack, info), (template, resources)) in existing.iter().zip(contents) {
        if let Some(advice) = blocked_status_advice(info).filter(|_| info.status != "DELETE_FAILED") {
            bail!(advice);
        }
        let mut keep = Vec::new();
        for (logical, physical, kind) in resources {
            let policy = template["Resources"][logical]["DeletionPolicy"]
                .as_str()
                .unwrap_or("Delete");
            if policy == "Retain" || policy == "RetainExceptOnCreate" || policy == "Snapshot" {
                keep.push(json!({"stack": stack.name, "logical_id": logical, "physical_id": physical, "type": kind, "policy": policy}));
            } else if kind == "AWS::S3::Bucket" && !protected && !physical.is_empty() {
                let n = empty_bucket(aws, physical).await?;
                s.ui.step(
                    &stack.name,
                    &format!("emptied bucket {physical} ({n} objects and versions)"),
                );
            } else if kind == "AWS::ECR::Repository" && !protected && !physical.is_empty() {
                // CloudFormation refuses to delete a repository that still holds images.
                let n = empty_repository(aws, physical).await?;
                s.ui.step(&stack.name, &format!("emptied ECR repository {physical} ({n} images)"));
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
            let left: Vec<String> = resources.iter().map(|(_, p, k)| format!("{k} {p}")).collect();
            s.ui.warn(&format!(
                "{e:#}; the stack is gone, but these resources may remain: {}",
                left.join(", ")
            ));
        } else {
            cfn.wait(&stack.name, &info.id, last.as_deref(), "DELETE_COMPLETE")
                .await?;
        }
        s.ui.outcome(&stack.name, "deleted", true, json!({"stack_name": info.name}));
        deleted.push(info.name.clone());
        retained.extend(keep);
    }
    Ok((deleted, retained))
}

/// A stack's deployed template and its resources (logical id, physical id, type).
type Contents = (Value, Vec<(String, String, String)>);

/// One line per resource that holds data: what the teardown will do with it.
async fn survey(
    aws: &Aws,
    existing: &[(&crate::stacks::Stack, crate::cfn::StackInfo)],
    contents: &[Contents],
    protected: bool,
) -> Vec<String> {
    let mut lines = Vec::new();
    for ((stack, _), (template, resources)) in existing.iter().zip(contents) {
        for (logical, physical, kind) in resources {
            let policy = template["Resources"][logical]["DeletionPolicy"]
                .as_str()
                .unwrap_or("Delete");
            let retained = matches!(policy, "Retain" | "RetainExceptOnCreate" | "Snapshot");
            let holds = match kind.as_str() {
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
            let fate = if retained {
                format!("KEPT (DeletionPolicy {policy})")
            } else if protected && matches!(kind.as_str(), "AWS::S3::Bucket" | "AWS::ECR::Repository") {
                "not emptied (protected environment): the stack delete fails on it if it holds data".into()
            } else if matches!(kind.as_str(), "AWS::S3::Bucket" | "AWS::ECR::Repository") {
                "emptied, then DELETED".into()
            } else {
                "DELETED with its data".into()
            };
            lines.push(format!("{}: {what}: {fate}", stack.name));
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
    let ecr = aws.ecr();
    match ecr.list_images().repository_name(repository).send().await {
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
            Err(e) if crate::aws::error_code(&e).as_deref() == Some("RepositoryNotFoundException") => return Ok(count),
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
            Err(e) if crate::aws::error_code(&e).as_deref() == Some("NoSuchBucket") => {
                return Ok(count);
            }
            Err(e) => {
                return Err(anyhow!("cannot list bucket {bucket} to empty it: {}", error_text(&e)));
            }
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
