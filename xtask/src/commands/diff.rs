//! `diff`: what a deploy would change, resource by resource.

use anyhow::{Result, bail};
use aws_sdk_cloudformation::types::ChangeSetType;
use serde_json::json;

use super::deploy::{show_changes, show_parameter_changes};
use crate::cfn::{ResourceChange, blocked_status_advice};
use crate::resolve::Missing;
use crate::session::Session;

pub async fn run(s: &Session, target: &str, exit_code: bool) -> Result<u8> {
    let stacks = s.plan.select(target)?;
    let aws = s.aws().await?;
    let cfn = s.cfn(&aws);
    let deployed = s.upstream_outputs(&cfn, &stacks).await?;
    let mut any_change = false;
    let mut docs = Vec::new();
    for stack in &stacks {
        let r = s.render(stack, &deployed, Missing::Placeholder)?;
        let info = cfn.describe(&r.full_name).await?;
        let (kind, changes): (&str, Vec<ResourceChange>) = match &info {
            None => {
                let adds: Vec<ResourceChange> = r
                    .resources()
                    .into_iter()
                    .map(|(id, ty)| ResourceChange {
                        action: "Add".into(),
                        logical_id: id,
                        resource_type: ty,
                        physical_id: None,
                        details: vec![],
                    })
                    .collect();
                show_changes(
                    s,
                    &stack.name,
                    &format!("would create {} ({} resources)", r.full_name, adds.len()),
                    &adds,
                );
                if r.has_placeholders() {
                    s.ui.step(
                        &stack.name,
                        "parameters from stacks not deployed yet are shown as <unresolved: ...>",
                    );
                    for (k, v) in &r.parameters {
                        s.ui.step(&stack.name, &format!("parameter {k} = {v}"));
                    }
                }
                ("create", adds)
            }
            Some(i) if i.deployed_hash() == Some(r.hash.as_str()) => {
                s.ui.step(&stack.name, "no changes");
                ("none", vec![])
            }
            Some(i) => {
                if let Some(advice) = blocked_status_advice(i) {
                    bail!(advice);
                }
                if r.has_placeholders() {
                    bail!(
                        "stack {} is deployed but a stack it reads outputs from is not: deploy that first",
                        stack.name
                    );
                }
                let params = show_parameter_changes(s, &stack.name, &i.parameters, &r.parameters);
                match cfn.create_change_set(&r, ChangeSetType::Update).await? {
                    Some((cs, changes)) => {
                        cfn.delete_change_set(&r.full_name, &cs).await;
                        if changes.is_empty() {
                            s.ui.step(&stack.name, "no resource changes (outputs or metadata only)");
                        } else {
                            show_changes(s, &stack.name, &format!("would update {}", r.full_name), &changes);
                        }
                        ("update", changes)
                    }
                    None if params > 0 => ("update", vec![]),
                    None => {
                        s.ui.step(&stack.name, "no changes");
                        ("none", vec![])
                    }
                }
            }
        };
        any_change |= kind != "none";
        docs.push(json!({"stack": stack.name, "stack_name": r.full_name, "action": kind, "changes": changes}));
    }
    s.ui.emit("result", json!({"env": s.env, "changes": any_change, "stacks": docs}));
    s.ui.info(if any_change { "changes pending" } else { "no changes" });
    Ok(if exit_code && any_change { 2 } else { 0 })
}
