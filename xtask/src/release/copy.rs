//! Artifacts copied from one environment to another without building: Lambda zips by their
//! content-hash key (a server-side S3 copy within one account and region, through this host
//! otherwise, checked against the release's SHA-256), images by digest over the registry API
//! ([`crate::artifacts::registry`]): no Docker engine, no cargo.

use anyhow::{Context, Result, anyhow, bail};

use crate::artifacts::registry::{self, ImageRef, Registry};
use crate::aws::{Aws, error_text};
use crate::config::Registry::Local as LocalRegistry;
use crate::session::Session;

/// Puts the zip under `key` into the target bucket; says how, and the object's version.
pub async fn copy_zip(
    source_bucket: &str,
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
            .copy_source(format!("{}/{key}", source_bucket))
            .bucket(dst_bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "copy s3://{}/{key} to s3://{dst_bucket}: {}",
                    source_bucket,
                    error_text(&e)
                )
            })?;
        return Ok((
            format!("copied s3://{} → s3://{dst_bucket}", source_bucket),
            copied.version_id().map(str::to_string),
        ));
    }
    // Another account or region: through this host, checked against the release's hash.
    let got = src_aws
        .s3()
        .get_object()
        .bucket(source_bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| anyhow!("s3://{}/{key}: {}", source_bucket, error_text(&e)))?;
    let bytes = got.body.collect().await.context("reading the zip")?.into_bytes();
    let got_sha = crate::artifacts::sha256_hex(&bytes);
    if got_sha != sha256 {
        bail!(
            "s3://{}/{key} hashes to {got_sha}, not the release's {sha256}",
            source_bucket
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
        .map_err(|e| anyhow!("s3://{dst_bucket}/{key}: {}", error_text(&e)))?;
    Ok((
        format!(
            "transferred s3://{} → s3://{dst_bucket} ({size} bytes, SHA-256 checked)",
            source_bucket
        ),
        put.version_id().map(str::to_string),
    ))
}

/// Copies the image into the target's repository by digest; returns the target reference and
/// how it got there.
pub async fn copy_image(
    src: &Session,
    dst: &Session,
    src_aws: &Aws,
    dst_aws: &Aws,
    name: &str,
    c: &super::Component,
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
