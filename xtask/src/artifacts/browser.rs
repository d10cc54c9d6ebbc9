//! Debian's headless Chromium for an image whose component declares `browser = true`: the
//! files an image needs to run `chromium-headless-shell` with no base image under it.
//!
//! No base image can be pulled where this runs, so the "slim Debian base" the apply task asked
//! for is assembled from this host's Debian 12 packages instead, FROM scratch:
//! - the files of `chromium-headless-shell` and of the `chromium-*` packages it depends on
//!   (`chromium-common`: ICU data, V8 snapshots, `resources.pak`, the en-US locale, SwiftShader
//!   and ANGLE), from `dpkg -L`, without documentation, the `/usr/bin` wrapper script (no shell
//!   in the image) and the Vulkan validation layer (a debugging aid, 22 MB);
//! - the `ldd` closure of the browser's binary and of every shared object beside it (what it
//!   dlopens: EGL, GLES, SwiftShader, Vulkan), and NSS's dlopened modules (softokn, freebl,
//!   ckbi, dbm) with theirs;
//! - fontconfig's configuration (`fontconfig-config`, and the `/etc/fonts/conf.d` links whose
//!   targets are included) and one font family, so that screenshots show text:
//!   [`FONT_PACKAGES`], the first installed.
//!
//! The packages' names and versions and the list of files go into the build's fingerprint
//! ([`Browser::manifest`]); the libraries and `/etc` files, which other packages or the admin
//! change, are hashed by content with the build's other outside files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};

/// The Debian package of the headless browser.
pub const PACKAGE: &str = "chromium-headless-shell";
/// The font families an image may carry, in order of preference: the first installed is used.
pub const FONT_PACKAGES: [&str; 2] = ["fonts-dejavu-core", "fonts-liberation"];
/// fontconfig's configuration files.
const FONTCONFIG_PACKAGE: &str = "fontconfig-config";
/// Where NSS's dlopened modules (softokn, freebl, ckbi, dbm) live.
const NSS_MODULES: [&str; 5] = [
    "libsoftokn3.so",
    "libfreebl3.so",
    "libfreeblpriv3.so",
    "libnssckbi.so",
    "libnssdbm3.so",
];
const MULTIARCH_LIB: &str = "/usr/lib/x86_64-linux-gnu";
/// Where the image's writable scratch space is (a tmpfs or a task volume at run time).
pub const SCRATCH: &str = "/tmp";

/// What an image gets for its browser.
#[derive(Debug, Clone)]
pub struct Browser {
    /// (package, version) of every package whose files are copied, sorted.
    pub packages: Vec<(String, String)>,
    /// The packages' files (regular files, symlinks resolved), host path = image path.
    pub files: Vec<PathBuf>,
    /// The browser's binary, host path = image path.
    pub binary: PathBuf,
    /// Shared objects the browser loads, from other packages (hashed by content).
    pub libs: Vec<PathBuf>,
    /// The font package used.
    pub font: String,
}

impl Browser {
    /// Reads what this host has installed; a missing package is an error naming the apt command.
    pub fn find() -> Result<Browser> {
        let version = installed(PACKAGE).ok_or_else(|| {
            anyhow!("the image needs Debian's headless Chromium, which is not installed: apt-get install -y {PACKAGE}")
        })?;
        let mut packages = vec![(PACKAGE.to_string(), version)];
        for dep in chromium_dependencies()? {
            let v = installed(&dep).ok_or_else(|| {
                anyhow!("{PACKAGE} depends on {dep}, which is not installed: apt-get install -y {PACKAGE}")
            })?;
            packages.push((dep, v));
        }
        let font = FONT_PACKAGES
            .iter()
            .find_map(|p| installed(p).map(|v| (p.to_string(), v)))
            .ok_or_else(|| {
                anyhow!(
                    "the image needs one font family for the browser's screenshots, and none of {} is installed: apt-get install -y {}",
                    FONT_PACKAGES.join(", "),
                    FONT_PACKAGES[0]
                )
            })?;
        let fontconfig = installed(FONTCONFIG_PACKAGE).ok_or_else(|| {
            anyhow!("the image needs fontconfig's configuration: apt-get install -y {FONTCONFIG_PACKAGE}")
        })?;
        let font_name = font.0.clone();
        packages.push(font);
        packages.push((FONTCONFIG_PACKAGE.to_string(), fontconfig));
        packages.sort();

        let mut files = BTreeSet::new();
        for (p, _) in &packages {
            for f in package_files(p)? {
                if wanted(&f) {
                    files.insert(f);
                }
            }
        }
        // fontconfig's maintainer scripts make the conf.d links: those to included files count.
        if let Ok(entries) = std::fs::read_dir("/etc/fonts/conf.d") {
            for entry in entries.flatten() {
                let path = entry.path();
                if std::fs::canonicalize(&path).is_ok_and(|target| files.contains(&target)) {
                    files.insert(path);
                }
            }
        }
        let binary = files
            .iter()
            .find(|f| f.file_name().is_some_and(|n| n == PACKAGE) && !f.starts_with("/usr/bin"))
            .cloned()
            .ok_or_else(|| anyhow!("{PACKAGE} holds no binary named {PACKAGE} outside /usr/bin"))?;
        // The binary and what it dlopens from its own folder, and NSS's modules.
        let mut elves = vec![binary.clone()];
        if let Some(dir) = binary.parent() {
            elves.extend(
                files
                    .iter()
                    .filter(|f| f.parent() == Some(dir) && is_shared_object(f))
                    .cloned(),
            );
        }
        elves.extend(
            NSS_MODULES
                .iter()
                .map(|m| Path::new(MULTIARCH_LIB).join(m))
                .filter(|p| p.is_file()),
        );
        let mut libs = BTreeSet::new();
        for elf in &elves {
            libs.extend(super::image::shared_libraries(elf)?);
        }
        libs.extend(elves.into_iter().filter(|e| !files.contains(e)));
        libs.retain(|l| !files.contains(l));
        Ok(Browser {
            packages,
            files: files.into_iter().collect(),
            binary,
            libs: libs.into_iter().collect(),
            font: font_name,
        })
    }

    /// What the fingerprint holds for the packages' files: names, versions, the files' list.
    pub fn manifest(&self) -> String {
        let mut text = String::new();
        for (p, v) in &self.packages {
            text.push_str(&format!("package {p} {v}\n"));
        }
        for f in &self.files {
            text.push_str(&format!("file {}\n", f.display()));
        }
        text
    }

    /// `chromium-headless-shell 148.0.7778.167-1~deb12u1, fonts-dejavu-core`: for the messages.
    pub fn describe(&self) -> String {
        let version = self
            .packages
            .iter()
            .find(|(p, _)| p == PACKAGE)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        format!("{PACKAGE} {version}, {}", self.font)
    }

    /// Files whose content the fingerprint hashes: the libraries and the `/etc` files (conffiles
    /// and links an admin may change).
    pub fn hashed(&self) -> Vec<PathBuf> {
        let mut out = self.libs.clone();
        out.extend(self.files.iter().filter(|f| f.starts_with("/etc")).cloned());
        out
    }
}

/// What a package's file list keeps: no documentation, no wrapper scripts (the image has no
/// shell), not the Vulkan validation layer (a debugging aid the headless browser never loads).
fn wanted(path: &Path) -> bool {
    const DROPPED: [&str; 5] = [
        "/usr/share/doc",
        "/usr/share/man",
        "/usr/share/lintian",
        "/usr/share/bug",
        "/usr/bin",
    ];
    if DROPPED.iter().any(|d| path.starts_with(d)) {
        return false;
    }
    if path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("libVkLayer_khronos_validation"))
    {
        return false;
    }
    // Directories are made by the files under them; links are followed when copied.
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

fn is_shared_object(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".so") || n.contains(".so."))
        && path.extension().is_none_or(|e| e != "TOC")
}

/// The installed version of `package`, `None` when it is not installed.
fn installed(package: &str) -> Option<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${Status}\t${Version}", package])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (status, version) = text.split_once('\t')?;
    (out.status.success() && status.ends_with(" installed")).then(|| version.trim().to_string())
}

/// The `chromium-*` packages `chromium-headless-shell` depends on (data files it loads).
fn chromium_dependencies() -> Result<Vec<String>> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${Depends}", PACKAGE])
        .output()
        .context("cannot run dpkg-query")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut deps: Vec<String> = text
        .split(',')
        .filter_map(|d| d.split_whitespace().next())
        .filter(|d| d.starts_with("chromium-"))
        .map(|d| d.split(':').next().unwrap_or(d).to_string())
        .collect();
    deps.sort();
    deps.dedup();
    Ok(deps)
}

fn package_files(package: &str) -> Result<Vec<PathBuf>> {
    let out = Command::new("dpkg")
        .args(["-L", package])
        .output()
        .context("cannot run dpkg -L")?;
    if !out.status.success() {
        bail!(
            "dpkg -L {package} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('/'))
        .map(PathBuf::from)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documentation_scripts_and_the_validation_layer_are_left_out() {
        assert!(!wanted(Path::new("/usr/share/doc/chromium-common/copyright")));
        assert!(!wanted(Path::new("/usr/bin/chromium-headless-shell")));
        assert!(!wanted(Path::new("/usr/lib/chromium/libVkLayer_khronos_validation.so")));
        assert!(is_shared_object(Path::new("/usr/lib/chromium/libvulkan.so.1")));
        assert!(!is_shared_object(Path::new("/usr/lib/chromium/libvulkan.so.1.TOC")));
        assert!(!is_shared_object(Path::new("/usr/lib/chromium/resources.pak")));
    }

    #[test]
    fn the_installed_browser_is_described_with_its_version_and_files() {
        let Ok(b) = Browser::find() else {
            eprintln!("SKIPPED: {PACKAGE} not installed");
            return;
        };
        assert!(b.binary.is_file(), "{}", b.binary.display());
        assert!(b.manifest().contains(&format!("package {PACKAGE} ")));
        assert!(b.libs.iter().any(|l| l.ends_with("libnss3.so")), "{:?}", b.libs);
        assert!(b.files.iter().any(|f| f.ends_with("icudtl.dat")));
        assert!(b.files.iter().any(|f| f.ends_with("fonts.conf")));
        assert!(b.files.iter().any(|f| f.extension().is_some_and(|e| e == "ttf")));
    }
}
