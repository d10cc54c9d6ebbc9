//! One module per verb, each with one `run`: the user-facing flow of that command.

pub mod build;
pub mod deploy;
pub mod diff;
pub mod drift;
pub mod lint;
pub mod local;
pub mod outputs;
pub mod promote;
pub mod release;
pub mod render;
pub mod search;
pub mod seed;
pub mod status;
pub mod teardown;
pub mod unlock;
pub mod up;

use std::path::Path;

use anyhow::{Context, Result};

/// Writes `text` to `path`, creating its folder.
pub(crate) fn write_file(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Left-aligned columns for text tables.
pub(crate) fn table(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == row.len() {
                    c.clone()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
