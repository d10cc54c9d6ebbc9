//! What the deployer writes for pipelines and later commands under `target/mcfpipe/<env>/`:
//! the stacks' outputs (`outputs.json`); the last build (`artifacts.json`, in
//! [`crate::artifacts::record`]) and the release (`release.json`, in [`crate::release`]) live
//! beside them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::actions::AllOutputs;
use crate::session::Session;

/// Writes `text` to `path`, creating its folder.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// `target/mcfpipe/<env>/outputs.json`
pub fn outputs_file(out_dir: &Path, env: &str) -> PathBuf {
    out_dir.join(env).join("outputs.json")
}

/// Merges `fresh` into the environment's outputs file (stacks no longer in the plan dropped).
pub fn write_outputs(s: &Session, fresh: &AllOutputs) -> Result<PathBuf> {
    let file = outputs_file(&s.project.out_dir(), &s.env);
    let mut all: AllOutputs = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    all.retain(|k, _| s.plan.get(k).is_some());
    all.extend(fresh.clone());
    write_file(&file, &(serde_json::to_string_pretty(&all)? + "\n"))?;
    Ok(file)
}

/// The outputs as a table (STACK, OUTPUT, VALUE); empty when there are none.
pub fn format_outputs(all: &AllOutputs) -> String {
    let mut rows = vec![vec!["STACK".to_string(), "OUTPUT".to_string(), "VALUE".to_string()]];
    for (stack, outputs) in all {
        for (k, v) in outputs {
            rows.push(vec![stack.clone(), k.clone(), v.clone()]);
        }
    }
    if rows.len() == 1 {
        String::new()
    } else {
        crate::ui::table(&rows)
    }
}
