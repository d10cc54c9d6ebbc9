//! The last build of each component for an environment, `target/mcfpipe/<env>/artifacts.json`:
//! what render, diff and status use as artifact values when no build runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::resolve::Artifacts;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Built {
    /// What the template receives: an S3 key or an image reference pinned by digest.
    pub value: String,
    pub kind: super::Kind,
    /// SHA-256 of the zip, or the image digest.
    pub sha256: String,
    pub bytes: u64,
    pub built_at: String,
    /// Set when the artifact could not be produced as configured (e.g. no Docker engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

pub fn file(out_dir: &Path, env: &str) -> PathBuf {
    out_dir.join(env).join("artifacts.json")
}

pub fn load_all(out_dir: &Path, env: &str) -> BTreeMap<String, Built> {
    std::fs::read_to_string(file(out_dir, env))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// The values only.
pub fn load(out_dir: &Path, env: &str) -> Artifacts {
    load_all(out_dir, env).into_iter().map(|(k, b)| (k, b.value)).collect()
}

pub fn save(out_dir: &Path, env: &str, built: &BTreeMap<String, Built>) -> Result<PathBuf> {
    let mut all = load_all(out_dir, env);
    all.extend(built.clone());
    let path = file(out_dir, env);
    crate::files::write_file(&path, &(serde_json::to_string_pretty(&all)? + "\n"))?;
    Ok(path)
}
