//! Build artifacts of the runtime components, built once and published by content: Lambda zips
//! to the artifact bucket under `lambda/<component>/<sha256>.zip`, container images to the
//! registry pinned by digest. Components describe themselves in their own Cargo.toml:
//!
//! ```toml
//! [package.metadata.mcfpipe]
//! component = "mcfparse"   # the name stack manifests use: {artifact: mcfparse}
//! kind = "lambda"          # or "image"
//! binary = "mcfparse"
//! browser = true           # an image only: with Debian's headless Chromium (see `browser`)
//! ```
//!
//! A build that would find its inputs unchanged is not run at all: [`inputs`] hashes what a
//! component's build reads, the hash is recorded with the build ([`record`]), and the next
//! `publish` reuses the recorded artifact, without cargo, when the hash is the same and the
//! artifact is still where it was published.

pub mod browser;
pub mod image;
pub mod inputs;
pub mod lambda;
pub mod record;
pub mod registry;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

/// What a component is packaged as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Lambda,
    Image,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Component {
    pub name: String,
    pub kind: Kind,
    pub package: String,
    pub binary: String,
    /// An image that also holds Debian's headless Chromium ([`browser`]). No serde default: a
    /// `cargo metadata` answer cached before this field existed is read again.
    pub browser: bool,
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    target_directory: PathBuf,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    manifest_path: PathBuf,
    #[serde(default)]
    dependencies: Vec<Dependency>,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Dependency {
    name: String,
    /// `None` for a normal dependency, `"dev"` or `"build"`.
    kind: Option<String>,
    /// Set for path dependencies (the workspace's own crates).
    path: Option<PathBuf>,
}

#[derive(Deserialize)]
struct Declared {
    component: String,
    kind: Kind,
    binary: String,
    #[serde(default)]
    browser: bool,
}

/// A workspace package as far as a build of it reads it: where its sources are, and the path
/// dependencies (normal and build) a build compiles with it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WorkspacePackage {
    pub dir: PathBuf,
    pub path_deps: Vec<String>,
}

/// The Cargo workspace that holds the runtime crates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Workspace {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    pub components: Vec<Component>,
    /// Every workspace package by name.
    pub packages: BTreeMap<String, WorkspacePackage>,
}

/// `cargo metadata`'s answer, kept with the hash of what it depends on.
#[derive(Serialize, Deserialize)]
struct CachedMetadata {
    key: String,
    workspace: Workspace,
}

impl Workspace {
    /// Reads the components and packages from `cargo metadata`, or from its answer cached
    /// under `target/mcfpipe/` while the manifests (and the settings that move the target
    /// folder) are the same: a no-op deploy then runs no cargo at all.
    pub fn load(root: &Path) -> Result<Workspace> {
        let cache = root.join("target/mcfpipe/cargo-metadata.json");
        let key = inputs::manifests_key(root);
        if let Some(cached) = std::fs::read(&cache)
            .ok()
            .and_then(|b| serde_json::from_slice::<CachedMetadata>(&b).ok())
            .filter(|c| c.key == key && c.workspace.root == root)
        {
            return Ok(cached.workspace);
        }
        let ws = Workspace::from_cargo(root)?;
        // A cache that cannot be written only costs the next command a `cargo metadata`.
        if let Ok(text) = serde_json::to_vec(&CachedMetadata {
            key,
            workspace: ws.clone(),
        }) {
            let _ = std::fs::create_dir_all(cache.parent().unwrap_or(root)).and_then(|_| std::fs::write(&cache, text));
        }
        Ok(ws)
    }

    /// `cargo metadata --no-deps` of the workspace, uncached.
    pub fn from_cargo(root: &Path) -> Result<Workspace> {
        let out = cargo_command()
            .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
            .current_dir(root)
            .output()
            .with_context(|| format!("cannot run `cargo metadata` in {}", root.display()))?;
        if !out.status.success() {
            bail!(
                "`cargo metadata` failed in {}: {}",
                root.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let meta: Metadata = serde_json::from_slice(&out.stdout).context("cannot read `cargo metadata` output")?;
        let mut components = Vec::new();
        let mut packages = BTreeMap::new();
        let names: BTreeMap<PathBuf, String> = meta
            .packages
            .iter()
            .filter_map(|p| Some((p.manifest_path.parent()?.to_path_buf(), p.name.clone())))
            .collect();
        for p in meta.packages {
            let dir = p
                .manifest_path
                .parent()
                .ok_or_else(|| anyhow!("package {}: manifest path without a folder", p.name))?
                .to_path_buf();
            // Dev-dependencies are not part of a component's build.
            let mut path_deps: Vec<String> = p
                .dependencies
                .iter()
                .filter(|d| d.kind.as_deref() != Some("dev"))
                .filter_map(|d| {
                    d.path
                        .as_ref()
                        .map(|path| names.get(path).cloned().unwrap_or(d.name.clone()))
                })
                .collect();
            path_deps.sort();
            path_deps.dedup();
            packages.insert(p.name.clone(), WorkspacePackage { dir, path_deps });
            let Some(declared) = p.metadata.as_ref().and_then(|m| m.get("mcfpipe")) else {
                continue;
            };
            let d: Declared = serde_json::from_value(declared.clone())
                .map_err(|e| anyhow!("package {}: [package.metadata.mcfpipe] {e}", p.name))?;
            if d.browser && d.kind != Kind::Image {
                bail!(
                    "package {}: [package.metadata.mcfpipe] browser = true needs kind = \"image\"",
                    p.name
                );
            }
            components.push(Component {
                name: d.component,
                kind: d.kind,
                package: p.name,
                binary: d.binary,
                browser: d.browser,
            });
        }
        Ok(Workspace {
            root: root.to_path_buf(),
            target_dir: meta.target_directory,
            components,
            packages,
        })
    }

    pub fn component(&self, name: &str) -> Result<&Component> {
        self.components.iter().find(|c| c.name == name).ok_or_else(|| {
            anyhow!(
                "no component `{name}` (declared: {}); a crate declares one with [package.metadata.mcfpipe]",
                self.components
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

/// The cargo that runs us (so a toolchain override applies), else `cargo`.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// [`cargo`] as a command for a nested build, without the variables cargo sets for the program
/// it runs (see [`without_cargo_run_env`]).
pub fn cargo_command() -> Command {
    let mut cmd = Command::new(cargo());
    without_cargo_run_env(&mut cmd);
    cmd
}

/// Removes from `cmd`'s environment what `cargo run` and `cargo test` set for the process they
/// start (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, …), so that a cargo started from the deployer
/// or from a test sees the environment a cargo typed in a shell sees.
///
/// Why: a build script that prints `cargo:rerun-if-env-changed=CARGO_MANIFEST_DIR` (ring 0.17
/// does, for these and the `CARGO_PKG_*` variables) is compared against the variable as the
/// *invoking* cargo's environment has it. Under `cargo xtask` that is `…/xtask`, in a shell it
/// is unset: each of the two saw the other's build as changed, ran ring's build script again
/// and recompiled ring and everything above it (rustls, the AWS SDK's HTTP client, aws-config,
/// reqwest, the runtime crates, xtask), on every `cargo xtask deploy` and again on the next
/// `cargo xtask` or `cargo test`.
pub fn without_cargo_run_env(cmd: &mut Command) {
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_for_its_child) {
            cmd.env_remove(name);
        }
    }
}

/// The variables cargo sets for a program it runs (`cargo run`, a test binary) and for rustc,
/// never the ones a user sets to configure cargo (`CARGO_HOME`, `CARGO_TARGET_DIR`, …).
fn set_by_cargo_for_its_child(name: &str) -> bool {
    matches!(
        name,
        "CARGO_MANIFEST_DIR"
            | "CARGO_MANIFEST_PATH"
            | "CARGO_MANIFEST_LINKS"
            | "CARGO_CRATE_NAME"
            | "CARGO_BIN_NAME"
            | "CARGO_PRIMARY_PACKAGE"
            | "CARGO_TARGET_TMPDIR"
            | "CARGO_RUSTC_CURRENT_DIR"
            | "OUT_DIR"
    ) || name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_EXE_")
}

/// `cargo build` of the component's binary for the host (debug), reusing the test build's
/// cache: what the emulator gets for both zips and images. Returns the binary's path.
pub(crate) fn host_debug_binary(ws: &Workspace, c: &Component, ui: &crate::ui::Ui) -> Result<PathBuf> {
    ui.step(
        &c.name,
        &format!(
            "cargo build -p {} --bin {} (host debug build, for the emulator)",
            c.package, c.binary
        ),
    );
    run(cargo_command()
        .args(["build", "--quiet", "-p", &c.package, "--bin", &c.binary])
        .current_dir(&ws.root))?;
    Ok(ws.target_dir.join("debug").join(&c.binary))
}

/// Runs a build command; a failure carries the command and its stderr.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().with_context(|| format!("cannot run {shown}"))?;
    if !out.status.success() {
        bail!("{shown} failed:\n{}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

use record::Built;

use crate::aws::Aws;
use crate::aws::Clients;
use crate::resolve::DeployedOutputs;
use crate::session::Session;

/// The artifacts stack's outputs this module needs.
const ARTIFACT_STACK: &str = "artifacts";
const BUCKET_OUTPUT: &str = "ArtifactBucketName";

/// Held while one [`publish`] reads, builds and records.
static PUBLISH: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Builds and publishes `components` for the session's environment, records them, and returns
/// what the templates receive. `deployed` must hold the artifacts stack's outputs. A component
/// whose inputs are those of its last build in this environment, and whose artifact is still
/// where that build published it, is not built again (see [`inputs`]).
pub async fn publish(
    s: &Session,
    aws: &Aws,
    deployed: &DeployedOutputs,
    components: &[&str],
) -> Result<BTreeMap<String, Built>> {
    let ws = Workspace::load(&s.project.workspace)?;
    let outputs = deployed.get(ARTIFACT_STACK).cloned().flatten().ok_or_else(|| {
        anyhow!(
            "the artifacts stack is not deployed in {}: `cargo xtask deploy artifacts --env {}`",
            s.env,
            s.env
        )
    })?;
    // Stacks of one wave publish side by side (compute's parser, sync's function): the records
    // of the last builds are read here and written whole below, so two publishes at once would
    // each keep only their own components' fingerprints and the next deploy would rebuild the
    // other's. One publish at a time; the builds themselves share cargo's lock anyway.
    let _one_at_a_time = PUBLISH.lock().await;
    let out_dir = s.project.out_dir();
    let last = record::load_all(&out_dir, &s.env);
    let mut last_inputs = record::load_inputs(&out_dir, &s.env);
    let mut built = BTreeMap::new();
    for name in components {
        let c = ws.component(name)?;
        let previous = Previous {
            built: last.get(*name),
            inputs: last_inputs.get(*name),
        };
        let (entry, inputs) = match c.kind {
            Kind::Lambda => {
                let bucket = outputs
                    .get(BUCKET_OUTPUT)
                    .ok_or_else(|| anyhow!("the artifacts stack has no {BUCKET_OUTPUT} output"))?;
                publish_lambda(s, aws, &ws, c, bucket, previous).await?
            }
            Kind::Image => publish_image(s, aws, &ws, c, previous).await?,
        };
        match inputs {
            Some(i) => last_inputs.insert(name.to_string(), i),
            None => last_inputs.remove(*name),
        };
        built.insert(name.to_string(), entry);
    }
    record::save(&out_dir, &s.env, &built)?;
    record::save_inputs(&out_dir, &s.env, &last_inputs)?;
    Ok(built)
}

/// A component's last build in this environment and what it read.
#[derive(Clone, Copy)]
struct Previous<'a> {
    built: Option<&'a Built>,
    inputs: Option<&'a record::Inputs>,
}

impl<'a> Previous<'a> {
    /// The last build, when it produced an artifact from exactly the inputs `now` hashes.
    fn unchanged(self, now: &inputs::Sources) -> Option<(&'a Built, &'a record::Inputs)> {
        let (b, i) = (self.built?, self.inputs?);
        // `artifact` ties the fingerprint to this artifact: promote records copies it did not build.
        if b.skipped.is_some() || b.sha256.is_empty() || b.sha256 != i.artifact {
            return None;
        }
        let fingerprint = now.fingerprint(&i.extra).ok()?;
        (fingerprint == i.fingerprint).then_some((b, i))
    }
}

/// `(sources unchanged since the last build (…), not rebuilt`: the message of a reused build.
fn unchanged_message(now: &inputs::Sources, last: &Built, i: &record::Inputs) -> String {
    format!(
        "sources unchanged since the last build ({}; inputs {}, built {}), not rebuilt",
        now.describe(),
        &i.fingerprint[..12],
        last.built_at
    )
}

async fn publish_lambda(
    s: &Session,
    aws: &Aws,
    ws: &Workspace,
    c: &Component,
    bucket: &str,
    previous: Previous<'_>,
) -> Result<(Built, Option<record::Inputs>)> {
    let (arch, how) = (s.config.compute.architecture, s.config.compute.lambda_build);
    let sources = inputs::Sources::read(ws, c, &lambda::mode(arch, how))?;
    if let Some((last, i)) = previous.unchanged(&sources) {
        if lambda::exists(aws, bucket, &last.value).await? {
            s.ui.step(
                &c.name,
                &format!(
                    "{}: s3://{bucket}/{} ({} bytes) is there",
                    unchanged_message(&sources, last, i),
                    last.value,
                    last.bytes
                ),
            );
            return Ok((last.clone(), Some(i.clone())));
        }
        s.ui.step(
            &c.name,
            &format!(
                "sources unchanged since the last build, but s3://{bucket}/{} is gone: building again",
                last.value
            ),
        );
    }
    let zip = lambda::build(ws, c, arch, how, &s.ui)?;
    let (key, uploaded) = lambda::publish(aws, bucket, &c.name, &zip).await?;
    let what = if uploaded {
        "uploaded"
    } else {
        "already there, not uploaded"
    };
    s.ui.step(&c.name, &format!("s3://{bucket}/{key} ({} bytes, {what})", zip.len()));
    let built = Built {
        value: key,
        kind: Kind::Lambda,
        sha256: sha256_hex(&zip),
        bytes: zip.len() as u64,
        built_at: crate::local::now_rfc3339(),
        skipped: None,
    };
    let inputs = record::Inputs {
        fingerprint: sources.fingerprint(&[])?,
        artifact: built.sha256.clone(),
        files: sources.files,
        extra: vec![],
    };
    Ok((built, Some(inputs)))
}

async fn publish_image(
    s: &Session,
    aws: &Aws,
    ws: &Workspace,
    c: &Component,
    previous: Previous<'_>,
) -> Result<(Built, Option<record::Inputs>)> {
    let repo_name = format!("{}{}", s.prefix(), c.name);
    // The local registry stands in for ECR on an emulator (the config refuses it for AWS itself):
    // the image holds this host's debug build, and is skipped with a warning without an engine.
    let local = s.config.compute.registry == crate::config::Registry::Local;
    let how = if local {
        image::Binary::HostDebug
    } else {
        image::Binary::StaticRelease
    };
    let skip = |reason: String| -> Result<(Built, Option<record::Inputs>)> {
        if !local {
            bail!("cannot build the {} image: {reason}", c.name);
        }
        s.ui.warn(&format!(
            "{}: image skipped: {reason}. The workflow still runs locally; the task definition names an unbuilt image",
            c.name
        ));
        let skipped = Built {
            value: format!("{repo_name}:unbuilt"),
            kind: Kind::Image,
            sha256: String::new(),
            bytes: 0,
            built_at: crate::local::now_rfc3339(),
            skipped: Some(reason),
        };
        Ok((skipped, None))
    };
    let mut sources = inputs::Sources::read(ws, c, &image::mode(how))?;
    // The browser's packages: their versions and files are inputs (the files are not hashed by
    // content: the versions say it), and a host without them cannot build the image.
    let browser = if c.browser {
        match browser::Browser::find() {
            Ok(b) => {
                sources.include("browser", b.manifest().as_bytes(), &b.describe());
                Some(b)
            }
            Err(e) => return skip(format!("{e:#}")),
        }
    } else {
        None
    };
    // Unchanged inputs and the digest still in the registry: no cargo, and no Docker engine.
    if let Some((last, i)) = previous.unchanged(&sources) {
        match image_in_registry(s, aws, &repo_name, local, &last.sha256).await {
            Ok(Some(registry)) => {
                let value = format!("{registry}@{}", last.sha256);
                s.ui.step(
                    &c.name,
                    &format!("{}: {value} is in the registry", unchanged_message(&sources, last, i)),
                );
                let reused = Built {
                    value,
                    ..last.clone()
                };
                return Ok((reused, Some(i.clone())));
            }
            Ok(None) => s.ui.step(
                &c.name,
                &format!(
                    "sources unchanged since the last build, but {} is not in the registry: building again",
                    last.sha256
                ),
            ),
            Err(e) => s.ui.step(
                &c.name,
                &format!("sources unchanged since the last build, but the registry cannot say whether it holds {} ({e:#}): building again", last.sha256),
            ),
        }
    }
    let docker = match image::engine().await {
        Ok(d) => d,
        Err(reason) => return skip(reason),
    };
    let (registry, credentials) = if local {
        match crate::local::ensure_registry(&s.project.root) {
            Ok(r) => (format!("{}/{repo_name}", r.addr), None),
            Err(reason) => return skip(reason),
        }
    } else {
        ecr_target(aws, &repo_name).await?
    };
    let (binary, libs) = image::build_binary(ws, c, how, &s.ui)?;
    let context = image::context(&binary, &libs, &c.binary, browser.as_ref())?;
    let tag = format!("{registry}:{}", image::content_tag(&context));
    image::build(&docker, context, &tag, &c.name, &s.ui).await?;
    let digest = image::push(&docker, &tag, credentials).await.map_err(|e| {
        if local {
            // The engine pushes from its own network namespace: 127.0.0.1 must be this host's.
            e.context("cannot push to the local registry (the engine must reach this host's 127.0.0.1: a rootless or VM-based engine cannot)")
        } else {
            e
        }
    })?;
    let size = docker.inspect_image(&tag).await.ok().and_then(|i| i.size).unwrap_or(0);
    s.ui.step(&c.name, &format!("pushed {registry}@{digest} ({size} bytes)"));
    let built = Built {
        value: format!("{registry}@{digest}"),
        kind: Kind::Image,
        sha256: digest,
        bytes: size.max(0) as u64,
        built_at: crate::local::now_rfc3339(),
        skipped: None,
    };
    // What the image holds from outside the workspace: the CA bundle and, for a host build,
    // the shared libraries (a system update changes them); the browser's libraries and `/etc`
    // files (its packages' versions and file list are in `sources`).
    let mut extra = vec![PathBuf::from(image::CA_BUNDLE)];
    extra.extend(libs);
    if let Some(b) = &browser {
        extra.extend(b.hashed());
    }
    extra.sort();
    extra.dedup();
    let inputs = record::Inputs {
        fingerprint: sources.fingerprint(&extra)?,
        artifact: built.sha256.clone(),
        files: sources.files,
        extra,
    };
    Ok((built, Some(inputs)))
}

/// `REGISTRY/REPOSITORY` when the registry a build would push to holds `digest`; `None` when
/// it does not, or (local) when no local registry can be started.
async fn image_in_registry(
    s: &Session,
    aws: &Aws,
    repo_name: &str,
    local: bool,
    digest: &str,
) -> Result<Option<String>> {
    if local {
        let Ok(r) = crate::local::ensure_registry(&s.project.root) else {
            return Ok(None);
        };
        let held = registry::has_manifest(&registry::Registry::new(&r.addr, None), repo_name, digest).await?;
        return Ok(held.then(|| format!("{}/{repo_name}", r.addr)));
    }
    let uri = ecr_repository_uri(aws, repo_name).await?;
    let id = aws_sdk_ecr::types::ImageIdentifier::builder()
        .image_digest(digest)
        .build();
    match aws
        .ecr()
        .describe_images()
        .repository_name(repo_name)
        .image_ids(id)
        .send()
        .await
    {
        Ok(found) => Ok((!found.image_details().is_empty()).then_some(uri)),
        Err(e) if crate::aws::error_code(&e).as_deref() == Some("ImageNotFoundException") => Ok(None),
        Err(e) => bail!(
            "cannot look for {digest} in ECR repository {repo_name}: {}",
            crate::aws::error_text(&e)
        ),
    }
}

/// The ECR repository URI and push credentials from `GetAuthorizationToken`.
async fn ecr_target(aws: &Aws, repo_name: &str) -> Result<(String, Option<bollard::auth::DockerCredentials>)> {
    let uri = ecr_repository_uri(aws, repo_name).await?;
    let login = ecr_login(aws).await?;
    Ok((
        uri,
        Some(bollard::auth::DockerCredentials {
            username: Some(login.user),
            password: Some(login.password),
            serveraddress: login.server,
            ..Default::default()
        }),
    ))
}

/// The URI (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`) of an ECR repository.
pub async fn ecr_repository_uri(aws: &Aws, repo_name: &str) -> Result<String> {
    let ecr = aws.ecr();
    let repos = ecr
        .describe_repositories()
        .repository_names(repo_name)
        .send()
        .await
        .map_err(|e| anyhow!("cannot find ECR repository {repo_name}: {}", crate::aws::error_text(&e)))?;
    Ok(repos
        .repositories()
        .first()
        .and_then(|r| r.repository_uri())
        .ok_or_else(|| anyhow!("ECR repository {repo_name} has no URI"))?
        .to_string())
}

/// A registry login from ECR's `GetAuthorizationToken`.
pub struct EcrLogin {
    pub user: String,
    pub password: String,
    /// The registry's address (`https://ACCOUNT.dkr.ecr.REGION.amazonaws.com`).
    pub server: Option<String>,
    /// The token as ECR gives it: the value of a `Basic` Authorization header.
    pub basic: String,
}

pub async fn ecr_login(aws: &Aws) -> Result<EcrLogin> {
    let ecr = aws.ecr();
    let token = ecr
        .get_authorization_token()
        .send()
        .await
        .map_err(|e| anyhow!("cannot get an ECR login: {}", crate::aws::error_text(&e)))?;
    let data = token
        .authorization_data()
        .first()
        .ok_or_else(|| anyhow!("ECR returned no authorization data"))?;
    let basic = data.authorization_token().unwrap_or_default().to_string();
    let decoded = aws_smithy_types::base64::decode(&basic)
        .map_err(|e| anyhow!("ECR's authorization token is not base64: {e}"))?;
    let decoded = String::from_utf8_lossy(&decoded).to_string();
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| anyhow!("ECR's authorization token is not user:password"))?;
    Ok(EcrLogin {
        user: user.to_string(),
        password: password.to_string(),
        server: data.proxy_endpoint().map(str::to_string),
        basic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_cargo_gets_none_of_the_variables_cargo_sets_for_its_child() {
        // cargo test sets CARGO_MANIFEST_DIR and CARGO_PKG_NAME for this process, as cargo run
        // does for the deployer: a nested cargo must not see them.
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
        let cmd = cargo_command();
        let removed: Vec<String> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        for name in ["CARGO_MANIFEST_DIR", "CARGO_PKG_NAME", "CARGO_PKG_VERSION"] {
            assert!(removed.iter().any(|r| r == name), "{name} is passed on: {removed:?}");
        }
        for name in [
            "CARGO_MANIFEST_PATH",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_BIN_EXE_xtask",
            "OUT_DIR",
        ] {
            assert!(set_by_cargo_for_its_child(name), "{name}");
        }
        // What configures cargo stays.
        for name in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_JOBS",
            "CARGO_PROFILE_DEV_DEBUG",
            "CARGO_TERM_COLOR",
        ] {
            assert!(!set_by_cargo_for_its_child(name), "{name}");
        }
    }
}
