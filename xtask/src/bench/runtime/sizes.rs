//! The artifacts' sizes: the Lambda zip (cargo-lambda, arm64) and the scraper image.

use std::path::PathBuf;

use anyhow::{Result, anyhow};

use crate::artifacts::{Component, Workspace, cargo_command, image, lambda};
use crate::config::{Architecture, LambdaBuild};
use crate::ui::Ui;

/// `cargo build --release` of the bench binary and the parser's Lambda binary for the host.
pub(crate) fn build_host_release(ws: &Workspace, parser: &Component, ui: &Ui) -> Result<(PathBuf, PathBuf)> {
    ui.step(
        "bench",
        &format!(
            "cargo build --release -p mcfbench -p {} (host: the measuring binary and the parser's bootstrap)",
            parser.package
        ),
    );
    crate::artifacts::run(
        cargo_command()
            .args(["build", "--quiet", "--release", "-p", "mcfbench", "--bin", "mcfbench"])
            .args(["-p", &parser.package, "--bin", &parser.binary])
            .current_dir(&ws.root),
    )?;
    let release = ws.target_dir.join("release");
    Ok((release.join("mcfbench"), release.join(&parser.binary)))
}

pub(crate) struct Zip {
    pub(crate) bytes: usize,
    pub(crate) arch: Architecture,
    pub(crate) note: Option<String>,
}

/// The zip the deployer builds for dev and prod; x86_64 when `arch` cannot be built here.
pub(crate) fn lambda_zip(ws: &Workspace, c: &Component, arch: Architecture, ui: &Ui) -> Result<Zip> {
    match lambda::build(ws, c, arch, LambdaBuild::CargoLambda, ui) {
        Ok(zip) => Ok(Zip {
            bytes: zip.len(),
            arch,
            note: None,
        }),
        Err(e) if arch != Architecture::X86_64 => {
            let reason = format!("{e:#}");
            let reason = reason.lines().next().unwrap_or_default().to_string();
            ui.warn(&format!(
                "{}: the {} zip cannot be built here ({reason}); measuring x86_64",
                c.name,
                arch_name(arch)
            ));
            let zip = lambda::build(ws, c, Architecture::X86_64, LambdaBuild::CargoLambda, ui)?;
            Ok(Zip {
                bytes: zip.len(),
                arch: Architecture::X86_64,
                note: Some(format!(
                    "Lambda zip: measured for x86_64 because the configured {} could not be built on this machine ({reason}).",
                    arch_name(arch)
                )),
            })
        }
        Err(e) => Err(e),
    }
}

pub(crate) fn arch_name(arch: Architecture) -> &'static str {
    match arch {
        Architecture::Arm64 => "arm64",
        Architecture::X86_64 => "x86_64",
    }
}

pub(crate) struct ImageSize {
    pub(crate) bytes: u64,
    pub(crate) what: String,
    pub(crate) binary_bytes: u64,
    pub(crate) engine: Option<String>,
}

/// The scraper image as real environments get it: the engine's image size when a Docker engine
/// answers, else the uncompressed layer (the build context's tar).
pub(crate) async fn image_size(ws: &Workspace, c: &Component, ui: &Ui) -> Result<ImageSize> {
    let (binary, libs) = image::build_binary(ws, c, image::Binary::StaticRelease, ui)?;
    let binary_bytes = std::fs::metadata(&binary)?.len();
    let context = image::context(&binary, &libs, &c.binary, None)?;
    match image::engine().await {
        Ok(docker) => {
            let tag = format!("mcfpipe-bench/{}:{}", c.name, image::content_tag(&context));
            image::build(&docker, context, &tag, &c.name, ui).await?;
            let inspected = docker
                .inspect_image(&tag)
                .await
                .map_err(|e| anyhow!("cannot inspect {tag}: {e}"))?;
            let engine = docker.version().await.ok().and_then(|v| v.version);
            Ok(ImageSize {
                bytes: inspected.size.unwrap_or(0).max(0) as u64,
                what: format!(
                    "size reported by the Docker engine{}",
                    engine.as_deref().map(|v| format!(" {v}")).unwrap_or_default()
                ),
                binary_bytes,
                engine: Some(engine.unwrap_or_else(|| "unknown".into())),
            })
        }
        Err(reason) => {
            ui.info(&format!(
                "{reason}: reporting the uncompressed layer (the build context's tar) instead of an image size"
            ));
            Ok(ImageSize {
                bytes: context.len() as u64,
                what: "uncompressed layer: tar of the build context (no Docker engine here)".into(),
                binary_bytes,
                engine: None,
            })
        }
    }
}
