//! What a component's build reads, hashed, so that a build whose inputs are unchanged need not
//! run: not even cargo, whose own no-op check of a few hundred units costs seconds on a busy
//! machine, and whose nested builds used to recompile half the dependency tree (see
//! [`super::without_cargo_run_env`]).
//!
//! The fingerprint covers, by content (never by modification time, so a `touch` or a fresh
//! checkout of the same commit changes nothing):
//! - every file of the component's package and of the workspace packages it depends on
//!   through path dependencies (normal and build, transitively; `target/` and hidden entries
//!   left out), by path relative to the workspace;
//! - `Cargo.lock`, the workspace `Cargo.toml`, cargo's config files and `rust-toolchain` files;
//! - the toolchain (`rustc -vV`) and the environment variables that change what cargo builds
//!   (`RUSTFLAGS`, `CARGO_PROFILE_*`, `CARGO_BUILD_*`, …);
//! - the build mode (host debug, cargo-lambda and its version, static release; architecture);
//! - the deployer's own packaging code (this folder's `mod.rs`, `lambda.rs`, `image.rs`,
//!   `browser.rs`), since it decides the bytes of the zip and the image;
//! - for an image with a browser, the Debian packages it copies from (names, versions) and the
//!   list of their files ([`Sources::include`] of `browser::Browser::manifest`);
//! - files from outside the workspace that went into the artifact (an image's CA bundle and
//!   shared libraries, the browser's libraries and `/etc` files), recorded with the build and
//!   hashed again when checked.
//!
//! Anything else a build could read (a file outside the packages that a source includes, a
//! system library the linker picks up) is not covered: such a change needs `cargo xtask build`
//! after removing `target/mcfpipe/<env>/inputs.json`, or any edit to the component's sources.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow};
use sha2::{Digest, Sha256};

use super::{Component, Workspace};

/// The packaging code whose output the artifacts are: a change to it changes every artifact.
const PACKAGING: [&str; 4] = [
    include_str!("mod.rs"),
    include_str!("lambda.rs"),
    include_str!("image.rs"),
    include_str!("browser.rs"),
];

/// Workspace files outside the packages that every build reads.
const WORKSPACE_FILES: [&str; 6] = [
    "Cargo.lock",
    "Cargo.toml",
    ".cargo/config.toml",
    ".cargo/config",
    "rust-toolchain",
    "rust-toolchain.toml",
];

/// The hashed inputs of one component's build, before the files outside the workspace that
/// only the build itself names (see [`Sources::fingerprint`]).
#[derive(Debug, Clone)]
pub struct Sources {
    base: [u8; 32],
    /// Files hashed from the component's packages.
    pub files: usize,
    /// `rustc 1.95.0 (…)`: the first line of `rustc -vV`.
    pub toolchain: String,
    pub mode: String,
    /// What [`Sources::include`] added, for the messages.
    pub also: Vec<String>,
}

impl Sources {
    /// Reads and hashes the inputs of `c`'s build in `mode` (a description of how it is built:
    /// `lambda HostDebug X86_64`, …).
    pub fn read(ws: &Workspace, c: &Component, mode: &str) -> Result<Sources> {
        let (version, toolchain) = toolchain(&ws.root)?;
        Sources::read_with(ws, &c.package, mode, &toolchain, &version)
    }

    /// [`Sources::read`] with the toolchain given (`toolchain`: the whole `rustc -vV` text).
    pub(crate) fn read_with(
        ws: &Workspace,
        package: &str,
        mode: &str,
        toolchain: &str,
        version: &str,
    ) -> Result<Sources> {
        let mut h = Sha256::new();
        field(&mut h, "mode", mode.as_bytes());
        field(&mut h, "toolchain", toolchain.as_bytes());
        for (name, value) in build_env() {
            field(&mut h, &format!("env {name}"), value.as_bytes());
        }
        for code in PACKAGING {
            field(&mut h, "packaging", code.as_bytes());
        }
        for name in WORKSPACE_FILES {
            let path = ws.root.join(name);
            if path.is_file() {
                file(&mut h, name, &path)?;
            }
        }
        if let Some(home) = cargo_home() {
            for name in ["config.toml", "config"] {
                let path = home.join(name);
                if path.is_file() {
                    file(&mut h, &format!("$CARGO_HOME/{name}"), &path)?;
                }
            }
        }
        let mut files = 0;
        for dir in package_dirs(ws, package)? {
            let mut found = Vec::new();
            walk(&dir, &mut found).with_context(|| format!("cannot read the sources under {}", dir.display()))?;
            found.sort();
            for path in found {
                let shown = path.strip_prefix(&ws.root).unwrap_or(&path).display().to_string();
                file(&mut h, &shown, &path)?;
                files += 1;
            }
        }
        Ok(Sources {
            base: h.finalize().into(),
            files,
            toolchain: version.to_string(),
            mode: mode.to_string(),
            also: vec![],
        })
    }

    /// Adds an input that is no file of the workspace (`name` and `value` hashed; `shown` for
    /// the messages): an image's browser packages.
    pub fn include(&mut self, name: &str, value: &[u8], shown: &str) {
        let mut h = Sha256::new();
        h.update(self.base);
        field(&mut h, name, value);
        self.base = h.finalize().into();
        self.also.push(shown.to_string());
    }

    /// The fingerprint: these sources plus the content of `extra`, files from outside the
    /// workspace that went into the artifact. A missing extra file counts as changed.
    pub fn fingerprint(&self, extra: &[PathBuf]) -> Result<String> {
        let mut h = Sha256::new();
        h.update(self.base);
        for path in extra {
            file(&mut h, &path.display().to_string(), path)?;
        }
        Ok(hex::encode(h.finalize()))
    }

    /// For the messages: `58 source files, Cargo.lock, rustc 1.95.0 (…), lambda HostDebug X86_64`.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "{} source files, Cargo.lock, {}, {}",
            self.files, self.toolchain, self.mode
        );
        for also in &self.also {
            text.push_str(", ");
            text.push_str(also);
        }
        text
    }
}

/// The folders of `package` and of every workspace package it depends on through path
/// dependencies (normal and build, transitively), sorted.
pub(crate) fn package_dirs(ws: &Workspace, package: &str) -> Result<Vec<PathBuf>> {
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec![package.to_string()];
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let p = ws
            .packages
            .get(&name)
            .ok_or_else(|| anyhow!("package {name} is not in the workspace at {}", ws.root.display()))?;
        todo.extend(p.path_deps.iter().cloned());
    }
    let mut dirs: Vec<PathBuf> = seen.iter().map(|n| ws.packages[n].dir.clone()).collect();
    dirs.sort();
    Ok(dirs)
}

/// The key of cached `cargo metadata` answers: the content of every `Cargo.toml` within three
/// folders of the workspace root (members are declared by path or glob; `target/` and hidden
/// folders left out), cargo's config files, and the variables that move the target folder.
pub fn manifests_key(root: &Path) -> String {
    let mut h = Sha256::new();
    for name in ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"] {
        field(
            &mut h,
            name,
            std::env::var_os(name).unwrap_or_default().as_encoded_bytes(),
        );
    }
    let mut manifests = Vec::new();
    find_manifests(root, 0, &mut manifests);
    for name in [".cargo/config.toml", ".cargo/config"] {
        manifests.push(root.join(name));
    }
    manifests.sort();
    for path in manifests {
        let shown = path.strip_prefix(root).unwrap_or(&path).display().to_string();
        field(&mut h, &shown, &std::fs::read(&path).unwrap_or_default());
    }
    hex::encode(h.finalize())
}

fn find_manifests(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let manifest = dir.join("Cargo.toml");
    if manifest.is_file() {
        out.push(manifest);
    }
    if depth == 3 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) && !skipped(&entry.file_name()) {
            find_manifests(&entry.path(), depth + 1, out);
        }
    }
}

/// `target` folders and hidden entries (`.git`, editor files) are no build's input.
fn skipped(name: &std::ffi::OsStr) -> bool {
    name == "target" || name.as_encoded_bytes().starts_with(b".")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if skipped(&entry.file_name()) {
            continue;
        }
        let path = entry.path();
        // Follows symlinks: the build reads what they point to.
        let meta = std::fs::metadata(&path)?;
        if meta.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// One named, length-prefixed field, so that no two different inputs hash alike.
fn field(h: &mut Sha256, name: &str, value: &[u8]) {
    h.update((name.len() as u64).to_le_bytes());
    h.update(name.as_bytes());
    h.update((value.len() as u64).to_le_bytes());
    h.update(value);
}

fn file(h: &mut Sha256, name: &str, path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    field(h, name, &Sha256::digest(&bytes));
    Ok(())
}

/// The environment variables that change what cargo builds, sorted. `CARGO_TARGET_DIR` moves
/// the output, not its content.
fn build_env() -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "RUSTFLAGS" | "CARGO_ENCODED_RUSTFLAGS" | "RUSTC" | "RUSTC_WRAPPER" | "RUSTC_WORKSPACE_WRAPPER"
            ) || k.starts_with("CARGO_PROFILE_")
                || k.starts_with("CARGO_BUILD_")
                || (k.starts_with("CARGO_TARGET_") && k != "CARGO_TARGET_DIR")
        })
        .collect();
    vars.sort();
    vars
}

fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
}

/// (`rustc 1.95.0 (…)`, the whole `rustc -vV` text) of the rustc a build in `root` uses.
fn toolchain(root: &Path) -> Result<(String, String)> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(&rustc)
        .arg("-vV")
        .current_dir(root)
        .output()
        .with_context(|| format!("cannot run `{rustc} -vV` in {}", root.display()))?;
    if !out.status.success() {
        return Err(anyhow!(
            "`{rustc} -vV` failed in {}: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    Ok((text.lines().next().unwrap_or_default().to_string(), text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A workspace of three packages under runtime/: `app` (the component) depends on `lib`
    /// by path; `other` is unrelated.
    fn workspace() -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |path: &str, text: &str| {
            let p = root.join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        };
        write(
            "Cargo.toml",
            "[workspace]\nresolver = \"3\"\nmembers = [\"runtime/*\"]\n",
        );
        let package = |name: &str, extra: &str| {
            format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n{extra}")
        };
        write(
            "runtime/app/Cargo.toml",
            &package(
                "app",
                "[dependencies]\nlib = { path = \"../lib\" }\n[package.metadata.mcfpipe]\ncomponent = \"app\"\nkind = \"lambda\"\nbinary = \"app\"\n",
            ),
        );
        write("runtime/app/src/main.rs", "fn main() { lib::hello(); }\n");
        write("runtime/lib/Cargo.toml", &package("lib", ""));
        write("runtime/lib/src/lib.rs", "pub fn hello() {}\n");
        write("runtime/other/Cargo.toml", &package("other", ""));
        write("runtime/other/src/lib.rs", "pub fn other() {}\n");
        write(
            "Cargo.lock",
            "# This file is automatically @generated by Cargo.\nversion = 4\n",
        );
        let ws = Workspace::load(root).expect("cargo metadata of the test workspace");
        (dir, ws)
    }

    fn fp(ws: &Workspace) -> (String, usize) {
        let s = Sources::read_with(
            ws,
            "app",
            "lambda HostDebug X86_64",
            "rustc 1.0.0\nhost: x",
            "rustc 1.0.0",
        )
        .unwrap();
        (s.fingerprint(&[]).unwrap(), s.files)
    }

    #[test]
    fn the_component_and_its_path_dependencies_are_hashed_and_nothing_else() {
        let (_dir, ws) = workspace();
        let c = ws.component("app").unwrap();
        assert_eq!(c.package, "app");
        let dirs = package_dirs(&ws, "app").unwrap();
        assert_eq!(dirs, [ws.root.join("runtime/app"), ws.root.join("runtime/lib")]);
        let (a, files) = fp(&ws);
        assert_eq!(files, 4, "two manifests and two sources");
        assert_eq!(fp(&ws).0, a, "the same inputs give the same fingerprint");
    }

    #[test]
    fn a_changed_source_dependency_or_lock_changes_the_fingerprint_and_an_unrelated_crate_does_not() {
        let (_dir, ws) = workspace();
        let root = ws.root.clone();
        let (before, _) = fp(&ws);

        fs::write(
            root.join("runtime/other/src/lib.rs"),
            "pub fn other() { /* edited */ }\n",
        )
        .unwrap();
        assert_eq!(fp(&ws).0, before, "a crate the component does not depend on");

        fs::write(
            root.join("runtime/app/src/main.rs"),
            "fn main() { lib::hello(); lib::hello(); }\n",
        )
        .unwrap();
        let after_source = fp(&ws).0;
        assert_ne!(after_source, before, "a source file of the component");

        fs::write(root.join("runtime/lib/src/lib.rs"), "pub fn hello() { println!(); }\n").unwrap();
        let after_dependency = fp(&ws).0;
        assert_ne!(
            after_dependency, after_source,
            "a source file of a path dependency under runtime/"
        );

        fs::write(root.join("runtime/lib/src/new.rs"), "\n").unwrap();
        let after_new_file = fp(&ws).0;
        assert_ne!(after_new_file, after_dependency, "a new file in a dependency");

        let lock = fs::read_to_string(root.join("Cargo.lock")).unwrap();
        fs::write(
            root.join("Cargo.lock"),
            lock + "\n[[package]]\nname = \"x\"\nversion = \"1.0.0\"\n",
        )
        .unwrap();
        let after_lock = fp(&ws).0;
        assert_ne!(after_lock, after_new_file, "Cargo.lock");

        let s = Sources::read_with(
            &ws,
            "app",
            "lambda CargoLambda Arm64",
            "rustc 1.0.0\nhost: x",
            "rustc 1.0.0",
        )
        .unwrap();
        assert_ne!(s.fingerprint(&[]).unwrap(), after_lock, "the build mode");
        let s = Sources::read_with(
            &ws,
            "app",
            "lambda HostDebug X86_64",
            "rustc 1.0.1\nhost: x",
            "rustc 1.0.1",
        )
        .unwrap();
        assert_ne!(s.fingerprint(&[]).unwrap(), after_lock, "the toolchain");
    }

    #[test]
    fn touching_a_file_without_changing_it_changes_nothing() {
        let (_dir, ws) = workspace();
        let (before, _) = fp(&ws);
        for path in ["runtime/app/src/main.rs", "runtime/lib/src/lib.rs", "Cargo.lock"] {
            let f = fs::File::options().write(true).open(ws.root.join(path)).unwrap();
            f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(3600))
                .unwrap();
        }
        assert_eq!(fp(&ws).0, before);
    }

    #[test]
    fn extra_files_are_hashed_by_content_and_a_missing_one_is_an_error() {
        let (dir, ws) = workspace();
        let s = Sources::read_with(&ws, "app", "image HostDebug", "rustc", "rustc").unwrap();
        let ca = dir.path().join("ca.crt");
        fs::write(&ca, "one").unwrap();
        let one = s.fingerprint(std::slice::from_ref(&ca)).unwrap();
        assert_ne!(one, s.fingerprint(&[]).unwrap());
        fs::write(&ca, "two").unwrap();
        assert_ne!(s.fingerprint(std::slice::from_ref(&ca)).unwrap(), one);
        let mut with_browser = s.clone();
        with_browser.include("browser", b"package chromium-headless-shell 1\n", "chromium 1");
        assert_ne!(with_browser.fingerprint(&[]).unwrap(), s.fingerprint(&[]).unwrap());
        let mut newer = s.clone();
        newer.include("browser", b"package chromium-headless-shell 2\n", "chromium 2");
        assert_ne!(newer.fingerprint(&[]).unwrap(), with_browser.fingerprint(&[]).unwrap());
        assert!(newer.describe().ends_with(", chromium 2"), "{}", newer.describe());
        fs::remove_file(&ca).unwrap();
        let err = s.fingerprint(std::slice::from_ref(&ca)).unwrap_err();
        assert!(format!("{err:#}").contains("ca.crt"), "{err:#}");
    }

    #[test]
    fn cargo_metadata_is_cached_until_a_manifest_changes() {
        let (_dir, ws) = workspace();
        let cache = ws.root.join("target/mcfpipe/cargo-metadata.json");
        // Mark the cached answer: a load that reads the cache returns the mark.
        let mut doc: serde_json::Value = serde_json::from_slice(&fs::read(&cache).unwrap()).unwrap();
        doc["workspace"]["target_dir"] = "/marked".into();
        fs::write(&cache, serde_json::to_vec(&doc).unwrap()).unwrap();
        assert_eq!(Workspace::load(&ws.root).unwrap().target_dir, Path::new("/marked"));

        let manifest = ws.root.join("runtime/other/Cargo.toml");
        let text = fs::read_to_string(&manifest).unwrap();
        fs::write(&manifest, text + "description = \"changed\"\n").unwrap();
        let fresh = Workspace::load(&ws.root).unwrap();
        assert_eq!(fresh.target_dir, ws.target_dir, "a changed manifest asks cargo again");

        // A new member under a glob is seen too.
        fs::create_dir_all(ws.root.join("runtime/more/src")).unwrap();
        fs::write(
            ws.root.join("runtime/more/Cargo.toml"),
            "[package]\nname = \"more\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
        )
        .unwrap();
        fs::write(ws.root.join("runtime/more/src/lib.rs"), "").unwrap();
        assert!(Workspace::load(&ws.root).unwrap().packages.contains_key("more"));
    }
}
