//! Releases: what was built, named and stored so that it can be deployed again anywhere
//! without building. The manifest ([`Manifest`]) names the git commit, hashes of the config and
//! of every rendered template, and each component's artifact (Lambda zip SHA-256, S3 key and
//! version; image digest); it is stored with the artifacts (`releases/<id>.json` in the artifact
//! bucket) and locally (`target/mcfpipe/<env>/release.json`). Its id is a hash of its content:
//! the same bits give the same id.
//!
//! - [`running`]: which artifacts an environment runs (its deployed stacks' artifact
//!   parameters) and which stored release names exactly those;
//! - [`shape`]: whether a target would run templates the source never ran;
//! - [`copy`]: artifacts copied between environments by hash and digest, without building;
//! - [`verify`]: what the target's functions and task definitions really run.

pub mod copy;
pub mod running;
pub mod shape;
pub mod verify;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, anyhow};
use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::artifacts::{Kind, sha256_hex};
use crate::aws::{Aws, error_text};
use crate::session::Session;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// 16 hex digits of the SHA-256 of everything below.
    pub release: String,
    /// The environment it was built and published for.
    pub env: String,
    pub created: String,
    pub git: Git,
    /// SHA-256 of the environment's merged config (base + env), as the deployer read it.
    pub config_sha256: String,
    /// SHA-256 of all rendered templates together; per stack in `templates`.
    pub templates_sha256: String,
    pub templates: BTreeMap<String, String>,
    pub components: BTreeMap<String, Component>,
    /// Set in the copy `promote` stores in the target environment; not part of the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted: Option<Promotion>,
}

/// Where a promoted release came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    pub from: String,
    pub to: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Git {
    pub commit: String,
    /// Uncommitted changes in the working tree when the release was built.
    pub dirty: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    pub kind: Kind,
    /// Lambda: SHA-256 of the zip. Image: the manifest digest (`sha256:…`).
    pub sha256: String,
    /// What the templates receive: the S3 key, or the image pinned by digest.
    pub artifact: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// The S3 object version, where the bucket keeps versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub bytes: u64,
    /// Why the artifact was not produced (local only: no Docker engine).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

pub fn local_file(out_dir: &Path, env: &str) -> PathBuf {
    out_dir.join(env).join("release.json")
}

pub fn s3_key(release: &str) -> String {
    format!("releases/{release}.json")
}

/// Stores the manifest in the artifact bucket and in `target/mcfpipe/<env>/release.json`;
/// returns the S3 URL and the local file.
pub async fn store(s: &Session, aws: &Aws, bucket: &str, manifest: &Manifest) -> Result<(String, PathBuf)> {
    let text = serde_json::to_string_pretty(manifest)? + "\n";
    let key = s3_key(&manifest.release);
    aws.s3()
        .put_object()
        .bucket(bucket)
        .key(&key)
        .content_type("application/json")
        .body(ByteStream::from(text.clone().into_bytes()))
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "cannot store the release manifest s3://{bucket}/{key}: {}",
                error_text(&e)
            )
        })?;
    let file = local_file(&s.project.out_dir(), &s.env);
    crate::files::write_file(&file, &text)?;
    Ok((format!("s3://{bucket}/{key}"), file))
}

/// The manifest's components from a build: each artifact with its S3 object version (where
/// the artifact bucket keeps versions).
pub async fn components(
    aws: &Aws,
    bucket: &str,
    built: &BTreeMap<String, crate::artifacts::record::Built>,
) -> Result<BTreeMap<String, Component>> {
    let s3 = aws.s3();
    let mut components = BTreeMap::new();
    for (name, b) in built {
        let (bucket_of, version_id) = match b.kind {
            Kind::Lambda => {
                let head = s3
                    .head_object()
                    .bucket(bucket)
                    .key(&b.value)
                    .send()
                    .await
                    .map_err(|e| anyhow!("s3://{bucket}/{}: {}", b.value, error_text(&e)))?;
                (Some(bucket.to_string()), head.version_id().map(str::to_string))
            }
            Kind::Image => (None, None),
        };
        components.insert(
            name.clone(),
            Component {
                kind: b.kind,
                sha256: b.sha256.clone(),
                artifact: b.value.clone(),
                bucket: bucket_of,
                version_id,
                bytes: b.bytes,
                skipped: b.skipped.clone(),
            },
        );
    }
    Ok(components)
}

/// SHA-256 of each stack's rendered template (without parameters: those are per deploy).
pub fn template_hashes(s: &Session) -> Result<BTreeMap<String, String>> {
    let mut templates = BTreeMap::new();
    for stack in &s.plan.stacks {
        let template = s.renderer().template(stack)?;
        templates.insert(
            stack.name.clone(),
            sha256_hex(serde_json::to_string(&template)?.as_bytes()),
        );
    }
    Ok(templates)
}

/// A commit's first 12 hex digits.
pub fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// Builds the manifest and its content-derived id.
pub fn manifest(
    s: &Session,
    git: Git,
    templates: BTreeMap<String, String>,
    components: BTreeMap<String, Component>,
) -> Result<Manifest> {
    let config_sha256 = sha256_hex(serde_json::to_string(&s.config)?.as_bytes());
    let templates_sha256 = sha256_hex(serde_json::to_string(&templates)?.as_bytes());
    let id_source = json!({
        "env": s.env,
        "git": git,
        "config": config_sha256,
        "templates": templates_sha256,
        "components": components.iter().map(|(k, c)| (k.clone(), json!([c.sha256, c.artifact]))).collect::<BTreeMap<_, _>>(),
    });
    let release = sha256_hex(id_source.to_string().as_bytes())[..16].to_string();
    Ok(Manifest {
        release,
        env: s.env.clone(),
        created: crate::local::now_rfc3339(),
        git,
        config_sha256,
        templates_sha256,
        templates,
        components,
        promoted: None,
    })
}

/// The workspace's commit and whether its tree has changes; `unknown` outside git.
pub fn git(workspace: &Path) -> Git {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(workspace)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    Git {
        commit: run(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into()),
        dirty: run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty()),
    }
}
