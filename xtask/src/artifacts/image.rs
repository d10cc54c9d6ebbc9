//! Container images through the Docker Engine API (bollard): a `FROM scratch` image holding the
//! component's binary and the CA certificates, built from a context made here (no base image
//! is pulled), pushed to the registry and referenced by digest.
//!
//! Real environments get a statically linked release build (`+crt-static`). The local
//! environment reuses the host's debug build and copies the shared libraries it needs into the
//! image, so that no second compilation of the dependencies is needed for the emulator.
//!
//! A component that declares `browser = true` (the apply task) also gets Debian's headless
//! Chromium ([`super::browser`]). Its issue asked for "a slim Debian base"; no base image can be
//! pulled here, so that base is assembled FROM scratch from this host's Debian 12 packages
//! instead: the browser's package files, the `ldd` closure of everything it loads, fontconfig's
//! configuration and one font family. Such an image also holds an empty world-writable `/tmp`
//! (the task runs with a read-only root file system: mount a tmpfs or a task volume there) and
//! points `TMPDIR`, `HOME` and the XDG folders at it, where the browser keeps its profile and
//! fontconfig its cache; `MCFAPPLY_CHROMIUM` names the browser's binary.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::{BuildImageOptionsBuilder, PushImageOptionsBuilder};
use futures_util::StreamExt;

use super::browser::{self, Browser};
use super::{Component, Workspace, cargo_command, run, sha256_hex};
use crate::ui::Ui;

pub(crate) const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// How the binary inside the image is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    /// `cargo build --release --target x86_64-unknown-linux-gnu` with `+crt-static`.
    StaticRelease,
    /// The host's debug build plus the shared libraries it links.
    HostDebug,
}

/// How the image's binary is built, for the inputs' fingerprint.
pub fn mode(how: Binary) -> String {
    match how {
        Binary::HostDebug => format!("image {how:?} {}", std::env::consts::ARCH),
        Binary::StaticRelease => format!("image {how:?} x86_64-unknown-linux-gnu"),
    }
}

/// A reachable Docker engine, or why there is none: `DOCKER_HOST` (a `unix://` socket) or
/// `/var/run/docker.sock`. The client speaks the engine's API version when that is older than
/// bollard's (Debian 12's `docker.io` 20.10 serves API 1.41).
pub async fn engine() -> std::result::Result<Docker, String> {
    let host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
    if let Some(h) = host.as_deref().filter(|h| !h.starts_with("unix://")) {
        // bollard would silently fall back to the default socket: a different engine.
        return Err(format!(
            "DOCKER_HOST={h} is not a unix:// socket, the only transport this build speaks"
        ));
    }
    let at = host.unwrap_or_else(|| "unix:///var/run/docker.sock".into());
    let docker = Docker::connect_with_local_defaults().map_err(|e| format!("no Docker engine at {at}: {e}"))?;
    let answer = async {
        docker.ping().await?;
        docker.negotiate_version().await
    };
    match tokio::time::timeout(Duration::from_secs(3), answer).await {
        Ok(Ok(docker)) => Ok(docker),
        Ok(Err(e)) => Err(format!(
            "no Docker engine answers at {at} ({e}); start one or set DOCKER_HOST"
        )),
        Err(_) => Err(format!("the Docker engine at {at} did not answer within 3 s")),
    }
}

/// Builds the binary; returns its path and the files to put beside it in the image.
pub fn build_binary(ws: &Workspace, c: &Component, how: Binary, ui: &Ui) -> Result<(PathBuf, Vec<PathBuf>)> {
    match how {
        Binary::HostDebug => {
            let bin = super::host_debug_binary(ws, c, ui)?;
            let libs = shared_libraries(&bin)?;
            Ok((bin, libs))
        }
        Binary::StaticRelease => {
            let target = "x86_64-unknown-linux-gnu";
            ui.step(
                &c.name,
                &format!("cargo build --release --target {target} -p {} (static)", c.package),
            );
            // With an explicit --target, RUSTFLAGS reach only the target's crates, not build
            // scripts or proc macros, which cannot be static.
            run(cargo_command()
                .args([
                    "build",
                    "--quiet",
                    "--release",
                    "--target",
                    target,
                    "-p",
                    &c.package,
                    "--bin",
                    &c.binary,
                ])
                .env("RUSTFLAGS", "-C target-feature=+crt-static")
                .current_dir(&ws.root))?;
            Ok((ws.target_dir.join(target).join("release").join(&c.binary), vec![]))
        }
    }
}

/// The shared objects `ldd` says the binary loads (absolute paths).
pub(crate) fn shared_libraries(bin: &Path) -> Result<Vec<PathBuf>> {
    let out = Command::new("ldd").arg(bin).output().context("cannot run ldd")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut libs = BTreeSet::new();
    for line in text.lines() {
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            libs.insert(PathBuf::from(p));
        }
    }
    Ok(libs.into_iter().collect())
}

/// The build context: a Dockerfile and `rootfs/` (binary, CA bundle, libraries; with a
/// browser, its files and libraries, `/tmp` and the environment that points at them).
pub fn context(binary: &Path, libs: &[PathBuf], name: &str, browser: Option<&Browser>) -> Result<Vec<u8>> {
    let mut env = format!("ENV SSL_CERT_FILE={CA_BUNDLE}\n");
    if let Some(b) = browser {
        let tmp = browser::SCRATCH;
        env.push_str(&format!(
            "ENV MCFAPPLY_CHROMIUM={} TMPDIR={tmp} HOME={tmp} XDG_CONFIG_HOME={tmp}/.config XDG_CACHE_HOME={tmp}/.cache\n",
            b.binary.display()
        ));
    }
    let dockerfile =
        format!("FROM scratch\nCOPY rootfs/ /\nUSER 65534:65534\n{env}ENTRYPOINT [\"/usr/local/bin/{name}\"]\n");
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |path: &str, bytes: &[u8], mode: u32| -> Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(mode);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, path, bytes)
            .with_context(|| format!("cannot add {path} to the build context"))
    };
    add("Dockerfile", dockerfile.as_bytes(), 0o644)?;
    let bin = std::fs::read(binary).with_context(|| format!("cannot read {}", binary.display()))?;
    add(&format!("rootfs/usr/local/bin/{name}"), &bin, 0o755)?;
    let ca = std::fs::read(CA_BUNDLE).with_context(|| {
        format!("the image needs CA certificates from {CA_BUNDLE} (apt-get install ca-certificates)")
    })?;
    add(&format!("rootfs{CA_BUNDLE}"), &ca, 0o644)?;
    let mut all_libs: BTreeSet<&PathBuf> = libs.iter().collect();
    if let Some(b) = browser {
        all_libs.extend(&b.libs);
    }
    for lib in all_libs {
        // Follow symlinks: the image gets the file's content under the name the loader asks for.
        let bytes = std::fs::read(lib).with_context(|| format!("cannot read {}", lib.display()))?;
        add(&format!("rootfs{}", lib.display()), &bytes, 0o755)?;
    }
    if let Some(b) = browser {
        use std::os::unix::fs::PermissionsExt;
        for file in &b.files {
            let meta = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
            let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            // The package's permissions, without setuid/setgid, readable by the task's user.
            add(
                &format!("rootfs{}", file.display()),
                &bytes,
                (meta.permissions().mode() & 0o755) | 0o444,
            )?;
        }
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_size(0);
        header.set_mode(0o1777);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, format!("rootfs{}/", browser::SCRATCH), std::io::empty())
            .context("cannot add /tmp to the build context")?;
    }
    tar.into_inner().context("cannot finish the build context")
}

/// Builds `context` as `tag`, showing the engine's output.
pub async fn build(docker: &Docker, context: Vec<u8>, tag: &str, component: &str, ui: &Ui) -> Result<()> {
    let options = BuildImageOptionsBuilder::new()
        .dockerfile("Dockerfile")
        .t(tag)
        .rm(true)
        .forcerm(true)
        .build();
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| anyhow!("the Docker engine refused to build {tag}: {e}"))?;
        if let Some(err) = info.error_detail.and_then(|d| d.message).or(info.error) {
            bail!("building {tag} failed: {err}");
        }
        // The classic builder prints a bare `--->` for `FROM scratch`.
        if let Some(line) = info
            .stream
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "--->")
        {
            ui.step(component, &format!("docker: {line}"));
        }
    }
    Ok(())
}

/// Pushes `tag` and returns the manifest digest (`sha256:...`).
pub async fn push(docker: &Docker, tag: &str, credentials: Option<DockerCredentials>) -> Result<String> {
    let (image, version) = tag
        .rsplit_once(':')
        .ok_or_else(|| anyhow!("image tag `{tag}` has no version"))?;
    let options = PushImageOptionsBuilder::new().tag(version).build();
    let mut stream = docker.push_image(image, Some(options), credentials);
    let mut digest = None;
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| anyhow!("pushing {tag} failed: {e}"))?;
        if let Some(err) = info.error_detail.and_then(|d| d.message).or(info.error) {
            bail!("pushing {tag} failed: {err}");
        }
        if let Some(d) = info.status.as_deref().and_then(digest_of) {
            digest = Some(d);
        }
    }
    digest.ok_or_else(|| anyhow!("the registry did not report a digest for {tag}"))
}

/// `latest: digest: sha256:abc… size: 528` → `sha256:abc…`
fn digest_of(status: &str) -> Option<String> {
    let rest = &status[status.find("digest: ")? + "digest: ".len()..];
    let d = rest.split_whitespace().next()?;
    (d.starts_with("sha256:") && d.len() == 71).then(|| d.to_string())
}

/// A content tag: the same context always gets the same tag (repositories are immutable).
pub fn content_tag(context: &[u8]) -> String {
    sha256_hex(context)[..20].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_digest_of_a_push_status() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(digest_of(&format!("0123: digest: {d} size: 528")), Some(d));
        assert_eq!(digest_of("Pushed"), None);
        assert_eq!(digest_of("x: digest: sha256:short size: 1"), None);
    }

    #[test]
    fn the_context_holds_a_scratch_dockerfile_binary_and_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("tool");
        std::fs::write(&bin, b"\x7fELF").unwrap();
        let ctx = context(&bin, &[], "tool", None).unwrap();
        let mut archive = tar::Archive::new(std::io::Cursor::new(ctx.clone()));
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "Dockerfile",
                "rootfs/usr/local/bin/tool",
                "rootfs/etc/ssl/certs/ca-certificates.crt"
            ]
        );
        assert_eq!(
            content_tag(&ctx),
            content_tag(&context(&bin, &[], "tool", None).unwrap()),
            "deterministic"
        );
    }
}
