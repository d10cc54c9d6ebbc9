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
//!    ([`crate::release::copy`]): no Docker engine, no cargo.
//! 4. **Deploy** every DST stack with those artifacts ([`crate::actions::walk::deploy`]: DST's
//!    lock, approval and change-set rules apply).
//! 5. **Verify**: DST's functions must report the `CodeSha256` of the release's zips and SRC's
//!    functions, and DST's task definitions the same image digests as SRC's.
//! 6. **Record**: the manifest, with DST's artifact locations, in DST's bucket and in
//!    `target/mcfpipe/<DST>/release.json`; `status --env DST` then names the release.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::json;

use crate::actions::{bootstrap, walk};
use crate::artifacts::{Kind, record::Built};
use crate::release::running::{Running, running_release};
use crate::release::verify::{Check, verify};
use crate::release::{self, Manifest, Promotion, copy, shape};
use crate::resolve::Artifacts;
use crate::session::{Project, Session};
use crate::ui::{Ui, table};

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
    let source = Running::read(&src, &src_aws).await?;
    let source_bucket = source.settled(&src)?.to_string();
    let manifest = running_release(&src_aws, Some(&source_bucket), &source.artifacts)
        .await?
        .ok_or_else(|| {
            anyhow!(
                "{from} runs artifacts that no release manifest in its artifact bucket names ({}): promote moves releases. \
                 Release and deploy {from} first: `cargo xtask release --env {from}` then `cargo xtask deploy all --env {from} --no-build`",
                source.describe()
            )
        })?;
    ui.info(&format!(
        "{from} runs release {} (commit {}, built {})",
        manifest.release,
        manifest.git.commit.get(..12).unwrap_or(&manifest.git.commit),
        manifest.created
    ));
    let here = release::git(&src.project.workspace);
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
    let untested = shape::untested_templates(&src, &src_aws, &dst, &source).await?;
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
    let dst_outputs = bootstrap::ensure_artifacts_stack(&dst, &dst_aws).await?;
    let dst_bucket = bootstrap::bucket_of(&dst_outputs, to)?;
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
                let (how, version) = copy::copy_zip(
                    &source_bucket,
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
                let (value, how) = copy::copy_image(&src, &dst, &src_aws, &dst_aws, name, c, &manifest.release)
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
    let deployed = walk::deploy(
        &dst,
        "all",
        crate::actions::deploy::Options {
            yes: opts.yes,
            ..Default::default()
        },
        Some(&promoted),
    )
    .await?;
    if let Some(e) = deployed.failure() {
        return Err(e.context(format!("promote: the deploy of {to} failed; nothing was verified")));
    }
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
    let (url, file) = release::store(&dst, &dst_aws, &dst_bucket, &record).await?;

    let seconds = started.elapsed().as_secs_f64();
    ui.info(&format!(
        "promoted release {} from {from} to {to} in {seconds:.1} s (read {read_seconds:.1} s, copy {copy_seconds:.1} s, \
         deploy {deploy_seconds:.1} s, verify {verify_seconds:.1} s); nothing was built. Manifest: {url} and {}",
        record.release,
        file.display()
    ));
    ui.emit(
        "result",
        json!({
            "ok": true, "from": from, "to": to, "release": record.release, "copied": copies,
            "verified": checks, "deploy": deployed, "untested": untested,
            "manifest": record, "s3": url, "file": file,
            "seconds": seconds,
            "timings": {"read": read_seconds, "copy": copy_seconds, "deploy": deploy_seconds, "verify": verify_seconds},
        }),
    );
    Ok(0)
}
