//! Lambda zips: built, zipped deterministically (fixed timestamps and modes, so the same binary
//! gives the same bytes and the same key), and uploaded to the artifact bucket under their
//! SHA-256 unless that key is already there.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};

use super::{Component, Workspace, run, sha256_hex};
use crate::aws::{Aws, error_code, error_text};
use crate::config::{Architecture, LambdaBuild};
use crate::ui::Ui;

/// Builds the component's zip; returns its bytes.
pub fn build(ws: &Workspace, c: &Component, arch: Architecture, how: LambdaBuild, ui: &Ui) -> Result<Vec<u8>> {
    match how {
        LambdaBuild::HostDebug => {
            if arch != Architecture::X86_64 || std::env::consts::ARCH != "x86_64" {
                bail!("host-debug builds are x86_64 on an x86_64 host; set compute.architecture: x86_64");
            }
            let binary = super::host_debug_binary(ws, c, ui)?;
            let bytes = std::fs::read(&binary).with_context(|| format!("cannot read {}", binary.display()))?;
            zip_bootstrap(&bytes)
        }
        LambdaBuild::CargoLambda => {
            let tool = cargo_lambda()?;
            let arch_flag = match arch {
                Architecture::Arm64 => "--arm64",
                Architecture::X86_64 => "--x86-64",
            };
            ui.step(
                &c.name,
                &format!(
                    "cargo lambda build --release {arch_flag} -p {} --bin {}",
                    c.package, c.binary
                ),
            );
            let mut cmd = Command::new(&tool);
            // cargo-lambda runs cargo: the same environment as a cargo typed in a shell.
            super::without_cargo_run_env(&mut cmd);
            run(cmd
                .args(["lambda", "build", "--release", "--output-format", "zip", arch_flag, "-p", &c.package])
                .args(["--bin", &c.binary])
                .current_dir(&ws.root))
            .map_err(|e| {
                if arch == Architecture::Arm64 {
                    e.context("arm64 builds need the aarch64 Rust target (`rustup target add aarch64-unknown-linux-gnu`), or set compute.architecture: x86_64")
                } else {
                    e
                }
            })?;
            let zip = ws.target_dir.join("lambda").join(&c.binary).join("bootstrap.zip");
            std::fs::read(&zip).with_context(|| format!("cargo lambda did not leave {}", zip.display()))
        }
    }
}

/// How the zip is built, for the inputs' fingerprint: cargo-lambda's version is part of it.
pub fn mode(arch: Architecture, how: LambdaBuild) -> String {
    match how {
        LambdaBuild::HostDebug => format!("lambda {how:?} {arch:?}"),
        LambdaBuild::CargoLambda => {
            let version = cargo_lambda()
                .ok()
                .and_then(|tool| Command::new(tool).args(["lambda", "--version"]).output().ok())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_else(|| "cargo-lambda missing".into());
            format!("lambda {how:?} {arch:?} {version}")
        }
    }
}

/// `cargo-lambda` on PATH (installed with `pip install cargo-lambda ziglang`).
fn cargo_lambda() -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("cargo-lambda"))
        .find(|p| p.is_file())
        .ok_or_else(|| anyhow!("cargo-lambda is not installed: `pip install cargo-lambda ziglang` (about 10 s)"))
}

/// A zip holding one executable `bootstrap`, the same bytes for the same binary.
pub fn zip_bootstrap(binary: &[u8]) -> Result<Vec<u8>> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755)
        .last_modified_time(zip::DateTime::default());
    zip.start_file("bootstrap", options)?;
    zip.write_all(binary)?;
    zip.finish()?;
    Ok(buf.into_inner())
}

/// `lambda/<component>/<sha256>.zip`
pub fn key(component: &str, sha256: &str) -> String {
    format!("lambda/{component}/{sha256}.zip")
}

/// Whether `key` exists in `bucket`.
pub async fn exists(aws: &Aws, bucket: &str, key: &str) -> Result<bool> {
    match aws.s3().head_object().bucket(bucket).key(key).send().await {
        Ok(_) => Ok(true),
        Err(e)
            if matches!(error_code(&e).as_deref(), Some("NotFound" | "NoSuchKey"))
                || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) =>
        {
            Ok(false)
        }
        Err(e) => bail!("cannot check s3://{bucket}/{key}: {}", error_text(&e)),
    }
}

/// Uploads `zip` under its hash unless the key exists. Returns (key, uploaded?).
pub async fn publish(aws: &Aws, bucket: &str, component: &str, zip: &[u8]) -> Result<(String, bool)> {
    let sha = sha256_hex(zip);
    let key = key(component, &sha);
    if exists(aws, bucket, &key).await? {
        return Ok((key, false));
    }
    let s3 = aws.s3();
    s3.put_object()
        .bucket(bucket)
        .key(&key)
        .body(zip.to_vec().into())
        .content_type("application/zip")
        .metadata("sha256", &sha)
        .send()
        .await
        .map_err(|e| anyhow!("cannot upload s3://{bucket}/{key}: {}", error_text(&e)))?;
    Ok((key, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_are_deterministic_and_hold_an_executable_bootstrap() {
        let a = zip_bootstrap(b"\x7fELF binary").unwrap();
        let b = zip_bootstrap(b"\x7fELF binary").unwrap();
        assert_eq!(a, b, "same binary, same zip bytes");
        assert_ne!(a, zip_bootstrap(b"\x7fELF other").unwrap());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(a)).unwrap();
        let file = archive.by_name("bootstrap").unwrap();
        assert_eq!(file.unix_mode().map(|m| m & 0o777), Some(0o755));
        assert_eq!(key("mcfparse", "ab12"), "lambda/mcfparse/ab12.zip");
    }
}
