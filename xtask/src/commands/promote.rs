//! `promote --from SRC --to DST`: deploy to DST exactly the artifacts SRC runs, without
//! building anything.
//!
//! 1. **What SRC runs** comes from its deployed stacks (their artifact parameters), not from a
//!    local file, and must be named by a release manifest stored in SRC's artifact bucket:
//!    promotion moves releases.
//! 2. **Untested templates are refused**: the checkout must render, for SRC, exactly the
//!    templates SRC runs (else DST would get templates nobody ran), and DST's config must not
//!    need resources SRC's did not create. `--allow-untested` overrides, and what differs is
//!    listed either way.
//! 3. **Copy**: each Lambda zip into DST's artifact bucket under the same content-hash key
//!    (server-side copy within one account and region, through this host otherwise, checked
//!    against its SHA-256); each image into DST's repository by digest over the registry API
//!    ([`crate::artifacts::registry`]): no Docker engine, no cargo.
//! 4. **Deploy** every DST stack with those artifacts ([`super::deploy::deploy_with`]: DST's
//!    lock, approval and change-set rules apply).
//! 5. **Verify**: DST's functions must report the `CodeSha256` of the release's zips and SRC's
//!    functions, and DST's task definitions the same image digests as SRC's.
//! 6. **Record**: the manifest, with DST's artifact locations, in DST's bucket and in
//!    `target/mcfpipe/<DST>/release.json`; `status --env DST` then names the release.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use super::release::{Manifest, Promotion};
use super::table;
use crate::artifacts::registry::{self, ImageRef, Registry};
use crate::artifacts::{Kind, record::Built};
use crate::aws::Aws;
use crate::aws::Clients;
use crate::cfn::StackInfo;
use crate::config::Registry::Local as LocalRegistry;
use crate::render::without_hash;
use crate::resolve::{Artifacts, DeployedOutputs, Missing};
use crate::session::{Project, Session};
use crate::ui::Ui;

const ARTIFACTS: &str = "artifacts";
const BUCKET_OUTPUT: &str = "ArtifactBucketName";

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub yes: bool,
    /// Promote even when the target would run templates the source did not.
    pub allow_untested: bool,
}

pub async fn run(
    project: &Project,
    from: &str,
    to: &str,
    ui: Ui,
    endpoint: Option<String>,
    opts: Options,
) -> Result<u8> {
    if from == to {
        bail!("--from and --to are both {from}: promote copies one environment's release into another");
    }
    let started = Instant::now();
    let src = Session::open(project.clone(), from, ui.sibling(), endpoint.clone())?;
    let dst = Session::open(project.clone(), to, ui.sibling(), endpoint)?;
    let src_aws = src.aws().await?;
    let dst_aws = dst.aws().await?;
    ui.info(&format!(
        "promoting what {from} ({}) runs to {to} ({})",
        src_aws.target(),
        dst_aws.target()
    ));

    // 1. What the source runs, and the release that names it.
    let t = Instant::now();
    let source = Source::read(&src, &src_aws).await?;
    let manifest = super::status::running_release(&src, &src_aws, &source.deployed, &source.running)
        .await?
        .ok_or_else(|| {
            anyhow!(
                "{from} runs artifacts that no release manifest in its artifact bucket names ({}): promote moves releases. \
                 Release and deploy {from} first: `cargo xtask release --env {from}` then `cargo xtask deploy all --env {from} --no-build`",
                describe_running(&source.running)
            )
        })?;
    ui.info(&format!(
        "{from} runs release {} (commit {}, built {})",
        manifest.release,
        manifest.git.commit.get(..12).unwrap_or(&manifest.git.commit),
        manifest.created
    ));
    let here = super::release::git(&src.project.workspace);
    if here.commit != manifest.git.commit {
        ui.warn(&format!(
            "release {} was built from commit {}; this checkout is {}: its templates are checked against what {from} runs below",
            manifest.release,
            manifest.git.commit.get(..12).unwrap_or(&manifest.git.commit),
            here.commit.get(..12).unwrap_or(&here.commit)
        ));
    }
    let read_seconds = t.elapsed().as_secs_f64();

    // 2. Untested templates.
    let untested = untested_templates(&src, &src_aws, &dst, &source).await?;
    if !untested.is_empty() {
        let list = untested
            .iter()
            .map(|u| format!("  - {u}"))
            .collect::<Vec<_>>()
            .join("\n");
        if !opts.allow_untested {
            bail!(
                "{to} would run templates that {from} did not, so release {} is untested for them:\n{list}\n\
                 Deploy and test the change in {from} first, or pass --allow-untested to promote anyway",
                manifest.release
            );
        }
        ui.warn(&format!(
            "promoting with templates {from} did not run (--allow-untested):\n{list}"
        ));
    }

    // 3. Copy the artifacts.
    let t = Instant::now();
    let dst_outputs = super::build::ensure_artifacts_stack(&dst, &dst_aws).await?;
    let dst_bucket = dst_outputs
        .get(BUCKET_OUTPUT)
        .cloned()
        .ok_or_else(|| anyhow!("the artifacts stack of {to} has no {BUCKET_OUTPUT} output"))?;
    let same_account = src.config.account_id == dst.config.account_id
        && src_aws.region() == dst_aws.region()
        && src_aws.endpoint() == dst_aws.endpoint();
    let mut promoted = Artifacts::new();
    let mut built = BTreeMap::new();
    let mut copies = Vec::new();
    let mut components = manifest.components.clone();
    for (name, c) in &manifest.components {
        let (value, how, version_id) = match c.kind {
            Kind::Lambda => {
                let (how, version) = copy_zip(
                    &source,
                    &src_aws,
                    &dst_aws,
                    &dst_bucket,
                    &c.artifact,
                    &c.sha256,
                    same_account,
                )
                .await
                .with_context(|| format!("copying the {name} zip to {to}"))?;
                (c.artifact.clone(), how, version)
            }
            Kind::Image => {
                let (value, how) = copy_image(&src, &dst, &src_aws, &dst_aws, name, c, &manifest.release)
                    .await
                    .with_context(|| format!("copying the {name} image to {to}"))?;
                (value, how, None)
            }
        };
        ui.step(name, &format!("{how}: {value}"));
        copies.push(json!({"component": name, "kind": c.kind, "artifact": value, "how": how}));
        let entry = components.get_mut(name).expect("the component being copied");
        entry.artifact = value.clone();
        entry.bucket = matches!(c.kind, Kind::Lambda).then(|| dst_bucket.clone());
        entry.version_id = version_id;
        built.insert(
            name.clone(),
            Built {
                value: value.clone(),
                kind: c.kind,
                sha256: c.sha256.clone(),
                bytes: c.bytes,
                built_at: manifest.created.clone(),
                skipped: c.skipped.clone(),
            },
        );
        promoted.insert(name.clone(), value);
    }
    crate::artifacts::record::save(&dst.project.out_dir(), to, &built)?;
    let copy_seconds = t.elapsed().as_secs_f64();

    // 4. Deploy.
    let t = Instant::now();
    let deployed = super::deploy::deploy_with(
        &dst,
        "all",
        super::deploy::Options {
            yes: opts.yes,
            ..Default::default()
        },
        Some(&promoted),
    )
    .await?;
    let deploy_seconds = t.elapsed().as_secs_f64();

    // 5. Verify.
    let t = Instant::now();
    let checks = verify(&src, &src_aws, &dst, &dst_aws, &manifest).await?;
    let verify_seconds = t.elapsed().as_secs_f64();
    let mut rows = vec![vec![
        "STACK".into(),
        "RESOURCE".into(),
        "KIND".into(),
        "RUNS".into(),
        "SAME AS SOURCE".into(),
    ]];
    for c in &checks {
        rows.push(vec![
            c.stack.clone(),
            c.logical_id.clone(),
            c.kind.to_string(),
            c.target.clone(),
            if c.ok {
                "yes".into()
            } else {
                format!("NO: {}", c.source)
            },
        ]);
    }
    ui.print(&table(&rows));
    let failed: Vec<&Check> = checks.iter().filter(|c| !c.ok).collect();
    if !failed.is_empty() {
        bail!(
            "{to} was deployed, but {} of its resources do not run release {}: {}",
            failed.len(),
            manifest.release,
            failed
                .iter()
                .map(|c| format!(
                    "{}.{} runs {} where {from} runs {}",
                    c.stack, c.logical_id, c.target, c.source
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }

    // 6. Record.
    let mut record: Manifest = manifest.clone();
    record.components = components;
    record.promoted = Some(Promotion {
        from: from.to_string(),
        to: to.to_string(),
        at: crate::local::now_rfc3339(),
    });
    let text = serde_json::to_string_pretty(&record)? + "\n";
    let key = super::release::s3_key(&record.release);
    dst_aws
        .s3()
        .put_object()
        .bucket(&dst_bucket)
        .key(&key)
        .content_type("application/json")
        .body(aws_sdk_s3::primitives::ByteStream::from(text.clone().into_bytes()))
        .send()
        .await
        .map_err(|e| anyhow!("cannot store s3://{dst_bucket}/{key}: {}", crate::aws::error_text(&e)))?;
    let file = super::release::local_file(&dst.project.out_dir(), to);
    super::write_file(&file, &text)?;

    let seconds = started.elapsed().as_secs_f64();
    ui.info(&format!(
        "promoted release {} from {from} to {to} in {seconds:.1} s (read {read_seconds:.1} s, copy {copy_seconds:.1} s, \
         deploy {deploy_seconds:.1} s, verify {verify_seconds:.1} s); nothing was built. Manifest: s3://{dst_bucket}/{key} and {}",
        record.release,
        file.display()
    ));
    ui.emit(
        "result",
        json!({
            "ok": true, "from": from, "to": to, "release": record.release, "copied": copies,
            "verified": checks, "deploy": deployed, "untested": untested,
            "manifest": record, "s3": format!("s3://{dst_bucket}/{key}"), "file": file,
            "seconds": seconds,
            "timings": {"read": read_seconds, "copy": copy_seconds, "deploy": deploy_seconds, "verify": verify_seconds},
        }),
    );
    Ok(0)
}

fn describe_running(running: &Artifacts) -> String {
    running
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The source environment as deployed.
struct Source {
    /// Stack name → what DescribeStacks says.
    stacks: BTreeMap<String, StackInfo>,
    deployed: DeployedOutputs,
    /// Component → the artifact the deployed stacks' parameters name.
    running: Artifacts,
    bucket: String,
}

impl Source {
    async fn read(s: &Session, aws: &Aws) -> Result<Source> {
        let cfn = s.cfn(aws);
        let mut stacks = BTreeMap::new();
        let mut deployed = DeployedOutputs::new();
        let mut running = Artifacts::new();
        for stack in &s.plan.stacks {
            let info = cfn.describe(&s.full_name(stack)).await?;
            let Some(info) = info else {
                if !stack.artifacts().is_empty() {
                    bail!(
                        "{} is not deployed in {}: there is nothing to promote",
                        s.full_name(stack),
                        s.env
                    );
                }
                deployed.insert(stack.name.clone(), None);
                continue;
            };
            if info.is_busy() {
                bail!(
                    "{} is {}: promote reads a settled environment; wait for it and retry",
                    info.name,
                    info.status
                );
            }
            for (param, source) in &stack.manifest.parameters {
                if let Some(component) = source.artifact() {
                    let value = info
                        .parameters
                        .get(param)
                        .ok_or_else(|| anyhow!("{} has no parameter {param}", info.name))?;
                    running.insert(component.to_string(), value.clone());
                }
            }
            deployed.insert(stack.name.clone(), Some(info.user_outputs()));
            stacks.insert(stack.name.clone(), info);
        }
        let bucket = deployed
            .get(ARTIFACTS)
            .cloned()
            .flatten()
            .and_then(|o| o.get(BUCKET_OUTPUT).cloned())
            .ok_or_else(|| anyhow!("the artifacts stack of {} is not deployed", s.env))?;
        Ok(Source {
            stacks,
            deployed,
            running,
            bucket,
        })
    }
}

/// What would make the target run templates the source has not run, one line each: a source
/// stack whose deployed template is not what the checkout renders for it, and resources the
/// target's config creates or drops compared with the source's.
async fn untested_templates(src: &Session, src_aws: &Aws, dst: &Session, source: &Source) -> Result<Vec<String>> {
    let cfn = src.cfn(src_aws);
    let mut out = Vec::new();
    for stack in &src.plan.stacks {
        let Some(info) = source.stacks.get(&stack.name) else {
            out.push(format!("{}: not deployed in {}", stack.name, src.env));
            continue;
        };
        let rendered = src.render_with(stack, &source.deployed, &source.running, Missing::Placeholder)?;
        let deployed = cfn.template(&info.name).await?;
        if without_hash(deployed) != without_hash(rendered.template.clone()) {
            out.push(format!(
                "{}: the checkout's template is not the one {} runs (changed since {} was deployed)",
                stack.name, src.env, src.env
            ));
        }
        let target = dst.render_with(stack, &DeployedOutputs::new(), &source.running, Missing::Placeholder)?;
        for d in shape_differences(&rendered.template, &target.template, &src.env, &dst.env) {
            out.push(format!("{}: {d}", stack.name));
        }
    }
    Ok(out)
}

/// Where two renders of one template differ in shape, not in values: resources one has and
/// the other lacks, resource types, and property paths (keys; list items merged) set in one and
/// not the other. Values (names, CIDRs, retention days, true/false) are config and expected to
/// differ between environments; a different shape means the target takes a path through the
/// template the source never deployed.
pub fn shape_differences(source: &Value, target: &Value, src_env: &str, dst_env: &str) -> Vec<String> {
    let empty = serde_json::Map::new();
    let resources = |t: &Value| {
        t.get("Resources")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(|| empty.clone())
    };
    let (ours, theirs) = (resources(source), resources(target));
    let mut out = Vec::new();
    for (id, r) in &theirs {
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or("?");
        let Some(o) = ours.get(id) else {
            out.push(format!("{dst_env} creates {id} ({ty}), which {src_env} does not"));
            continue;
        };
        let oty = o.get("Type").and_then(Value::as_str).unwrap_or("?");
        if oty != ty {
            out.push(format!("{id} is a {ty} in {dst_env} but a {oty} in {src_env}"));
            continue;
        }
        let (mut a, mut b) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
        paths(o, "", &mut a);
        paths(r, "", &mut b);
        for only in top_level(b.difference(&a)) {
            out.push(format!("{dst_env} sets {id}.{only}, which {src_env} does not"));
        }
        for only in top_level(a.difference(&b)) {
            out.push(format!("{src_env} sets {id}.{only}, which {dst_env} does not"));
        }
    }
    for (id, r) in &ours {
        if !theirs.contains_key(id) {
            let ty = r.get("Type").and_then(Value::as_str).unwrap_or("?");
            out.push(format!("{src_env} has {id} ({ty}), which {dst_env} would not"));
        }
    }
    out
}

fn paths(v: &Value, at: &str, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                out.insert(p.clone());
                paths(child, &p, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                paths(item, &format!("{at}[]"), out);
            }
        }
        _ => {}
    }
}

/// The paths whose parent is not in the set too: `A.B` and `A.B.C` → `A.B`.
fn top_level<'a>(diff: impl Iterator<Item = &'a String>) -> Vec<String> {
    let all: Vec<&String> = diff.collect();
    all.iter()
        .filter(|p| {
            !all.iter()
                .any(|q| q.len() < p.len() && p.starts_with(q.as_str()) && matches!(p.as_bytes()[q.len()], b'.' | b'['))
        })
        .map(|p| p.to_string())
        .collect()
}

/// Puts the zip under `key` into the target bucket; says how, and the object's version.
async fn copy_zip(
    source: &Source,
    src_aws: &Aws,
    dst_aws: &Aws,
    dst_bucket: &str,
    key: &str,
    sha256: &str,
    same_account: bool,
) -> Result<(String, Option<String>)> {
    let dst = dst_aws.s3();
    if let Ok(there) = dst.head_object().bucket(dst_bucket).key(key).send().await {
        return Ok((
            format!("already in s3://{dst_bucket}"),
            there.version_id().map(str::to_string),
        ));
    }
    if same_account {
        let copied = dst
            .copy_object()
            .copy_source(format!("{}/{key}", source.bucket))
            .bucket(dst_bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "copy s3://{}/{key} to s3://{dst_bucket}: {}",
                    source.bucket,
                    crate::aws::error_text(&e)
                )
            })?;
        return Ok((
            format!("copied s3://{} → s3://{dst_bucket}", source.bucket),
            copied.version_id().map(str::to_string),
        ));
    }
    // Another account or region: through this host, checked against the release's hash.
    let got = src_aws
        .s3()
        .get_object()
        .bucket(&source.bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| anyhow!("s3://{}/{key}: {}", source.bucket, crate::aws::error_text(&e)))?;
    let bytes = got.body.collect().await.context("reading the zip")?.into_bytes();
    let got_sha = crate::artifacts::sha256_hex(&bytes);
    if got_sha != sha256 {
        bail!(
            "s3://{}/{key} hashes to {got_sha}, not the release's {sha256}",
            source.bucket
        );
    }
    let size = bytes.len();
    let put = dst
        .put_object()
        .bucket(dst_bucket)
        .key(key)
        .body(aws_sdk_s3::primitives::ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| anyhow!("s3://{dst_bucket}/{key}: {}", crate::aws::error_text(&e)))?;
    Ok((
        format!(
            "transferred s3://{} → s3://{dst_bucket} ({size} bytes, SHA-256 checked)",
            source.bucket
        ),
        put.version_id().map(str::to_string),
    ))
}

/// Copies the image into the target's repository by digest; returns the target reference and
/// how it got there.
async fn copy_image(
    src: &Session,
    dst: &Session,
    src_aws: &Aws,
    dst_aws: &Aws,
    name: &str,
    c: &super::release::Component,
    release: &str,
) -> Result<(String, String)> {
    let dst_repo = format!("{}{name}", dst.prefix());
    if let Some(why) = &c.skipped {
        // The local registry only: the release was made without a Docker engine.
        if dst.config.compute.registry != LocalRegistry {
            bail!(
                "release {release} has no {name} image ({why}): it cannot go to {}, which runs images",
                dst.env
            );
        }
        return Ok((
            format!("{dst_repo}:unbuilt"),
            format!("not copied: the release has no image ({why})"),
        ));
    }
    let from = ImageRef::parse(&c.artifact)?;
    let src_registry = if src.config.compute.registry == LocalRegistry {
        // The local registry keeps its storage across restarts, but not its port.
        let r = crate::local::ensure_registry(&src.project.root).map_err(|e| anyhow!(e))?;
        Registry::new(&r.addr, None)
    } else {
        let login = crate::artifacts::ecr_login(src_aws).await?;
        Registry::new(&from.host, Some(format!("Basic {}", login.basic)))
    };
    let (dst_registry, dst_repo) = if dst.config.compute.registry == LocalRegistry {
        let r = crate::local::ensure_registry(&dst.project.root).map_err(|e| anyhow!(e))?;
        (Registry::new(&r.addr, None), dst_repo)
    } else {
        let uri = crate::artifacts::ecr_repository_uri(dst_aws, &dst_repo).await?;
        let (host, repo) = uri
            .split_once('/')
            .ok_or_else(|| anyhow!("ECR repository URI {uri} has no host"))?;
        let login = crate::artifacts::ecr_login(dst_aws).await?;
        (
            Registry::new(host, Some(format!("Basic {}", login.basic))),
            repo.to_string(),
        )
    };
    let tag = format!("release-{release}");
    let stats = registry::copy(
        &src_registry,
        &from.repository,
        &dst_registry,
        &dst_repo,
        &from.digest,
        &tag,
    )
    .await?;
    let to = ImageRef {
        host: dst_registry.host.clone(),
        repository: dst_repo,
        digest: from.digest.clone(),
    };
    Ok((
        to.text(),
        format!(
            "copied {}/{} → {}/{} by digest ({} blobs already there, {} mounted, {} uploaded: {} bytes)",
            src_registry.host,
            from.repository,
            to.host,
            to.repository,
            stats.blobs_present,
            stats.blobs_mounted,
            stats.blobs_uploaded,
            stats.bytes_uploaded
        ),
    ))
}

/// One resource that runs code, in the target, against the source.
#[derive(Debug, Clone, serde::Serialize)]
struct Check {
    stack: String,
    logical_id: String,
    kind: &'static str,
    /// Lambda: CodeSha256. Task definition: the images' digests.
    target: String,
    source: String,
    ok: bool,
}

/// Every Lambda function and task definition of the target's stacks that run artifacts,
/// compared with the source's and with the release.
async fn verify(src: &Session, src_aws: &Aws, dst: &Session, dst_aws: &Aws, manifest: &Manifest) -> Result<Vec<Check>> {
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
    let cfn = aws.cloudformation();
    let lambda = aws.lambda();
    let ecs = aws.ecs();
    let mut out = BTreeMap::new();
    let mut token = None;
    loop {
        let page = cfn
            .list_stack_resources()
            .stack_name(stack_name)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| anyhow!("listing the resources of {stack_name}: {}", crate::aws::error_text(&e)))?;
        for r in page.stack_resource_summaries() {
            let (Some(id), Some(physical)) = (r.logical_resource_id(), r.physical_resource_id()) else {
                continue;
            };
            match r.resource_type() {
                Some("AWS::Lambda::Function") => {
                    let f = lambda
                        .get_function()
                        .function_name(physical)
                        .send()
                        .await
                        .map_err(|e| {
                            anyhow!(
                                "Lambda function {physical} of {}: {}",
                                s.env,
                                crate::aws::error_text(&e)
                            )
                        })?;
                    let sha = f
                        .configuration()
                        .and_then(|c| c.code_sha256())
                        .unwrap_or_default()
                        .to_string();
                    out.insert(id.to_string(), ("lambda", sha));
                }
                Some("AWS::ECS::TaskDefinition") => {
                    let td = ecs
                        .describe_task_definition()
                        .task_definition(physical)
                        .send()
                        .await
                        .map_err(|e| {
                            anyhow!(
                                "task definition {physical} of {}: {}",
                                s.env,
                                crate::aws::error_text(&e)
                            )
                        })?;
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
                    out.insert(id.to_string(), ("task definition", images.join(",")));
                }
                _ => {}
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
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

    #[test]
    fn shapes_differ_on_resources_types_and_property_paths_not_on_values() {
        let dev = json!({"Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "mcfpipe-dev-data",
                "LifecycleConfiguration": {"Rules": [{"Id": "a", "Status": "Enabled"}]}}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60}},
            "Old": {"Type": "AWS::SNS::Topic"}
        }});
        let same_shape = json!({"Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "mcfpipe-staging-data",
                "LifecycleConfiguration": {"Rules": [{"Id": "b", "Status": "Disabled"}]}}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 120}},
            "Old": {"Type": "AWS::SNS::Topic"}
        }});
        assert!(shape_differences(&dev, &same_shape, "dev", "staging").is_empty());
        let other = json!({"Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "x",
                "LifecycleConfiguration": {"Rules": [{"Id": "a", "Status": "Enabled"},
                    {"Id": "v", "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]}}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Old": {"Type": "AWS::SNS::Subscription"},
            "Schedule": {"Type": "AWS::Scheduler::Schedule"}
        }});
        let mut got = shape_differences(&dev, &other, "dev", "prod");
        got.sort();
        assert_eq!(
            got,
            [
                "Old is a AWS::SNS::Subscription in prod but a AWS::SNS::Topic in dev",
                "dev sets Queue.Properties.VisibilityTimeout, which prod does not",
                "prod creates Schedule (AWS::Scheduler::Schedule), which dev does not",
                "prod sets Bucket.Properties.LifecycleConfiguration.Rules[].NoncurrentVersionExpiration, which dev does not",
            ]
        );
    }
}
