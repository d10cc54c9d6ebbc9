//! `outputs`: the deployed stacks' outputs, printed and written to a file for pipelines.

use std::path::PathBuf;

use anyhow::Result;
use serde_json::json;

use crate::actions::AllOutputs;
use crate::files::{format_outputs, write_file, write_outputs};
use crate::session::Session;

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
