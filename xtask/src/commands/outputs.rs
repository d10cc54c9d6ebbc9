//! `outputs`: the deployed stacks' outputs, printed and written to a file for pipelines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::json;

use super::{table, write_file};
use crate::session::Session;

pub type AllOutputs = BTreeMap<String, BTreeMap<String, String>>;

pub async fn run(s: &Session, target: &str, out: Option<PathBuf>) -> Result<u8> {
    let aws = s.aws().await?;
    let cfn = s.cfn(&aws);
    let mut all = AllOutputs::new();
    for stack in s.plan.select(target)? {
        match cfn.describe(&s.full_name(stack)).await? {
            Some(info) => {
                all.insert(stack.name.clone(), info.user_outputs());
            }
            None => s.ui.warn(&format!("stack {} is not deployed in {}", stack.name, s.env)),
        }
    }
    let file = write_outputs(s, &all)?;
    if let Some(extra) = out {
        write_file(&extra, &(serde_json::to_string_pretty(&all)? + "\n"))?;
    }
    s.ui.print(&format_outputs(&all));
    s.ui.info(&format!("written to {}", file.display()));
    s.ui.document(&json!({"env": s.env, "outputs": all}));
    Ok(0)
}

/// `target/mcfpipe/<env>/outputs.json`, merged with what is there for other stacks.
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

pub fn outputs_file(out_dir: &Path, env: &str) -> PathBuf {
    out_dir.join(env).join("outputs.json")
}

pub fn format_outputs(all: &AllOutputs) -> String {
    let mut rows = vec![vec!["STACK".to_string(), "OUTPUT".to_string(), "VALUE".to_string()]];
    for (stack, outputs) in all {
        for (k, v) in outputs {
            rows.push(vec![stack.clone(), k.clone(), v.clone()]);
        }
    }
    if rows.len() == 1 { String::new() } else { table(&rows) }
}
