//! `status`: each stack's state, last change, and whether it matches the local files.

use anyhow::Result;
use serde_json::json;

use super::table;
use crate::resolve::Missing;
use crate::session::Session;

pub async fn run(s: &Session) -> Result<u8> {
    let aws = s.aws().await?;
    let cfn = s.cfn(&aws);
    let all: Vec<_> = s.plan.stacks.iter().collect();
    let deployed = s.upstream_outputs(&cfn, &all).await?;
    let mut rows = vec![vec![
        "STACK".into(),
        "STATUS".into(),
        "LAST CHANGE".into(),
        "LOCAL FILES".into(),
    ]];
    let mut docs = Vec::new();
    for stack in &all {
        let full = s.full_name(stack);
        let info = cfn.describe(&full).await?;
        let rendered = s.render(stack, &deployed, Missing::Placeholder)?;
        let (status, last, sync, reason) = match &info {
            None => ("NOT_DEPLOYED".to_string(), String::new(), "-".to_string(), None),
            Some(i) => {
                let sync = if i.deployed_hash() == Some(rendered.hash.as_str()) {
                    "in sync".to_string()
                } else {
                    let mut what = Vec::new();
                    if i.parameters != rendered.parameters {
                        what.push("parameters");
                    }
                    let mut deployed_template = cfn.template(&full).await.unwrap_or_default();
                    if let Some(o) = deployed_template.get_mut("Outputs").and_then(|o| o.as_object_mut()) {
                        o.remove(crate::render::HASH_OUTPUT);
                    }
                    let mut local = rendered.template.clone();
                    if let Some(o) = local.get_mut("Outputs").and_then(|o| o.as_object_mut()) {
                        o.remove(crate::render::HASH_OUTPUT);
                    }
                    if deployed_template != local {
                        what.push("template");
                    }
                    if i.tags != rendered.tags {
                        what.push("tags");
                    }
                    if what.is_empty() {
                        what.push("deploy hash");
                    }
                    format!("differs: {}", what.join(", "))
                };
                (
                    i.status.clone(),
                    i.last_change().unwrap_or_default().to_string(),
                    sync,
                    i.reason.clone(),
                )
            }
        };
        rows.push(vec![stack.name.clone(), status.clone(), last.clone(), sync.clone()]);
        docs.push(
            json!({"stack": stack.name, "stack_name": full, "layer": stack.manifest.layer, "status": status,
            "last_change": last, "local_files": sync, "reason": reason}),
        );
    }
    s.ui.print(&format!("environment {} ({})\n{}", s.env, aws.target(), table(&rows)));
    s.ui.document(&json!({"env": s.env, "stacks": docs}));
    Ok(0)
}
