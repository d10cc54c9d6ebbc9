//! `render`: write the templates and parameters a deploy would send, without AWS.

use std::path::PathBuf;

use anyhow::Result;
use serde_json::json;

use crate::files::write_file;
use crate::resolve::{DeployedOutputs, Missing};
use crate::session::Session;

pub fn run(s: &Session, target: &str, out: Option<PathBuf>) -> Result<u8> {
    let dir = out.unwrap_or_else(|| s.project.out_dir().join("rendered").join(&s.env));
    // Offline: upstream outputs are placeholders, marked as such in the parameters file.
    let none = DeployedOutputs::new();
    let mut docs = Vec::new();
    let stacks = s.plan.select(target)?;
    // A reference to an output nobody declares fails the render before anything is written.
    for stack in &stacks {
        s.check_output_refs(stack)?;
    }
    for stack in stacks {
        let r = s.render(stack, &none, Missing::Placeholder)?;
        let template = dir.join(format!("{}.json", stack.name));
        let params = dir.join(format!("{}.parameters.json", stack.name));
        write_file(&template, &r.pretty())?;
        write_file(&params, &(serde_json::to_string_pretty(&r.parameters)? + "\n"))?;
        s.ui.step(
            &stack.name,
            &format!("{} resources -> {}", r.resources().len(), template.display()),
        );
        docs.push(json!({
            "stack": stack.name, "stack_name": r.full_name, "template": template, "parameters": params,
            "hash": r.hash, "resources": r.resources().len(), "placeholders": r.has_placeholders(),
        }));
    }
    s.ui.document(&json!({"env": s.env, "dir": dir, "stacks": docs}));
    Ok(0)
}
