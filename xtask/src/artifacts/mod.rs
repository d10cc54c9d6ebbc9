//! Build artifacts of the runtime components, built once and published by content: Lambda zips
//! to the artifact bucket under `lambda/<component>/<sha256>.zip`, container images to the
//! registry pinned by digest. Components describe themselves in their own Cargo.toml:
//!
//! ```toml
//! [package.metadata.mcfpipe]
//! component = "mcfparse"   # the name stack manifests use: {artifact: mcfparse}
//! kind = "lambda"          # or "image"
//! binary = "mcfparse"
//! ```

pub mod image;
pub mod lambda;
pub mod record;
pub mod registry;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;

/// What a component is packaged as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Lambda,
    Image,
}

#[derive(Debug, Clone)]
pub struct Component {
    pub name: String,
    pub kind: Kind,
    pub package: String,
    pub binary: String,
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    target_directory: PathBuf,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Declared {
    component: String,
    kind: Kind,
    binary: String,
}

/// The Cargo workspace that holds the runtime crates.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    pub components: Vec<Component>,
}

impl Workspace {
    /// Reads the components from `cargo metadata`.
    pub fn load(root: &Path) -> Result<Workspace> {
        let out = Command::new(cargo())
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
        for p in meta.packages {
            let Some(declared) = p.metadata.as_ref().and_then(|m| m.get("mcfpipe")) else {
                continue;
            };
            let d: Declared = serde_json::from_value(declared.clone())
                .map_err(|e| anyhow!("package {}: [package.metadata.mcfpipe] {e}", p.name))?;
            components.push(Component {
                name: d.component,
                kind: d.kind,
                package: p.name,
                binary: d.binary,
            });
        }
        Ok(Workspace {
            root: root.to_path_buf(),
            target_dir: meta.target_directory,
            components,
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
    run(Command::new(cargo())
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

use std::collections::BTreeMap;

use record::Built;

use crate::aws::Aws;
use crate::aws::Clients;
use crate::resolve::DeployedOutputs;
use crate::session::Session;

/// The artifacts stack's outputs this module needs.
const ARTIFACT_STACK: &str = "artifacts";
const BUCKET_OUTPUT: &str = "ArtifactBucketName";

/// Builds and publishes `components` for the session's environment, records them, and returns
/// what the templates receive. `deployed` must hold the artifacts stack's outputs.
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
    let mut built = BTreeMap::new();
    for name in components {
        let c = ws.component(name)?;
        let entry = match c.kind {
            Kind::Lambda => {
                let zip = lambda::build(
                    &ws,
                    c,
                    s.config.compute.architecture,
                    s.config.compute.lambda_build,
                    &s.ui,
                )?;
                let bucket = outputs
                    .get(BUCKET_OUTPUT)
                    .ok_or_else(|| anyhow!("the artifacts stack has no {BUCKET_OUTPUT} output"))?;
                let (key, uploaded) = lambda::publish(aws, bucket, name, &zip).await?;
                let what = if uploaded {
                    "uploaded"
                } else {
                    "already there, not uploaded"
                };
                s.ui.step(name, &format!("s3://{bucket}/{key} ({} bytes, {what})", zip.len()));
                Built {
                    value: key,
                    kind: Kind::Lambda,
                    sha256: sha256_hex(&zip),
                    bytes: zip.len() as u64,
                    built_at: crate::local::now_rfc3339(),
                    skipped: None,
                }
            }
            Kind::Image => publish_image(s, aws, &ws, c).await?,
        };
        built.insert(name.to_string(), entry);
    }
    record::save(&s.project.out_dir(), &s.env, &built)?;
    Ok(built)
}

async fn publish_image(s: &Session, aws: &Aws, ws: &Workspace, c: &Component) -> Result<Built> {
    let repo_name = format!("{}{}", s.prefix(), c.name);
    // The local registry stands in for ECR on an emulator (the config refuses it for AWS itself):
    // the image holds this host's debug build, and is skipped with a warning without an engine.
    let local = s.config.compute.registry == crate::config::Registry::Local;
    let skip = |reason: String| -> Result<Built> {
        if !local {
            bail!("cannot build the {} image: {reason}", c.name);
        }
        s.ui.warn(&format!(
            "{}: image skipped: {reason}. The workflow still runs locally; the task definition names an unbuilt image",
            c.name
        ));
        Ok(Built {
            value: format!("{repo_name}:unbuilt"),
            kind: Kind::Image,
            sha256: String::new(),
            bytes: 0,
            built_at: crate::local::now_rfc3339(),
            skipped: Some(reason),
        })
    };
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
    let how = if local {
        image::Binary::HostDebug
    } else {
        image::Binary::StaticRelease
    };
    let (binary, libs) = image::build_binary(ws, c, how, &s.ui)?;
    let context = image::context(&binary, &libs, &c.binary)?;
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
    Ok(Built {
        value: format!("{registry}@{digest}"),
        kind: Kind::Image,
        sha256: digest,
        bytes: size.max(0) as u64,
        built_at: crate::local::now_rfc3339(),
        skipped: None,
    })
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
