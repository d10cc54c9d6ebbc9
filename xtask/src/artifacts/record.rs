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

/// What the last build of a component read (see [`super::inputs`]), kept beside the build
/// record in `target/mcfpipe/<env>/inputs.json`: a separate file, so that whatever else writes
/// `artifacts.json` (promote records copied artifacts there) leaves no fingerprint that would
/// vouch for an artifact it did not build. `artifact` ties the two together.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Inputs {
    /// SHA-256 of everything the build read ([`super::inputs::Sources::fingerprint`]).
    pub fingerprint: String,
    /// `Built::sha256` of the artifact that build produced.
    pub artifact: String,
    /// Source files hashed (for the message that says the build was skipped).
    pub files: usize,
    /// Files outside the workspace that went into the artifact (the CA bundle and shared
    /// libraries of an image), hashed into `fingerprint`.
    #[serde(default)]
    pub extra: Vec<PathBuf>,
}

pub fn inputs_file(out_dir: &Path, env: &str) -> PathBuf {
    out_dir.join(env).join("inputs.json")
}

pub fn load_inputs(out_dir: &Path, env: &str) -> BTreeMap<String, Inputs> {
    std::fs::read_to_string(inputs_file(out_dir, env))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Replaces the whole file: `inputs` holds every component's entry.
pub fn save_inputs(out_dir: &Path, env: &str, inputs: &BTreeMap<String, Inputs>) -> Result<PathBuf> {
    let path = inputs_file(out_dir, env);
    crate::files::write_file(&path, &(serde_json::to_string_pretty(inputs)? + "\n"))?;
    Ok(path)
}
