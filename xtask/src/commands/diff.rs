//! `diff`: what a deploy would change, resource by resource, in the waves the deploy would
//! take; including parameters, tags and termination protection changed behind the deployer's
//! back, which a deploy sets back.

use anyhow::{Result, bail};
use aws_sdk_cloudformation::types::ChangeSetType;
use serde_json::json;

use crate::actions::compare::{self, Difference};
use crate::actions::walk::{self, Direction};
use crate::cfn::{ResourceChange, StackInfo, blocked_status_advice};
use crate::render::{PLACEHOLDER_PREFIX, Rendered};
use crate::resolve::Missing;
use crate::session::Session;
use crate::stacks::Stack;

pub async fn run(s: &Session, target: &str, exit_code: bool) -> Result<u8> {
    let stacks = s.plan.select(target)?;
    let aws = s.aws().await?;
    let cfn = s.cfn(&aws);
    let deployed = s.upstream_outputs(&cfn, &stacks).await?;
    walk::show_waves(s, &walk::waves(s, &stacks, Direction::Deploy), "deploy");
    let mut any_change = false;
    let mut docs = Vec::new();
    let built = crate::artifacts::record::load(&s.project.out_dir(), &s.env);
    for stack in &stacks {
        let mut r = s.render_with(stack, &deployed, &built, Missing::Placeholder)?;
        let info = cfn.describe(&r.full_name).await?;
        // A checkout that did not build (a pull request's CI) compares the deployed artifacts:
        // the diff is then about templates, config and upstream outputs.
        let as_deployed = info
            .as_ref()
            .map(|i| unbuilt_as_deployed(stack, &r, i))
            .unwrap_or_default();
        if !as_deployed.is_empty() {
            let mut artifacts = built.clone();
            artifacts.extend(as_deployed.iter().map(|(c, _, v)| (c.clone(), v.clone())));
            r = s.render_with(stack, &deployed, &artifacts, Missing::Placeholder)?;
            let named: Vec<String> = as_deployed.iter().map(|(c, p, _)| format!("{c} ({p})")).collect();
            s.ui.step(
                &stack.name,
                &format!(
                    "not built here, compared as deployed: {} (`cargo xtask build --env {}` to diff a new build)",
                    named.join(", "),
                    s.env
                ),
            );
        }
        let (kind, changes): (&str, Vec<ResourceChange>) = match &info {
            None => {
                let adds: Vec<ResourceChange> = r
                    .resources()
                    .into_iter()
                    .map(|(id, ty)| ResourceChange::add(id, ty))
                    .collect();
                s.ui.resource_changes(
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
                // Our template as we sent it; but parameters, tags or protection may have been
                // changed behind our back, and a deploy would set them back.
                let outside = compare::differences(i, &r, s.config.deploy.termination_protection, None);
                if outside.is_empty() {
                    s.ui.step(&stack.name, "no changes");
                    ("none", vec![])
                } else {
                    for d in &outside {
                        s.ui.step(
                            &stack.name,
                            &format!("changed outside the deployer, a deploy sets it back: {}", d.text()),
                        );
                    }
                    let changes = if outside.iter().any(Difference::needs_update) {
                        match cfn.create_change_set(&r, ChangeSetType::Update).await? {
                            Some((cs, changes)) => {
                                cfn.delete_change_set(&r.full_name, &cs).await;
                                s.ui.resource_changes(&stack.name, &format!("would update {}", r.full_name), &changes);
                                changes
                            }
                            None => vec![],
                        }
                    } else {
                        vec![]
                    };
                    ("repair", changes)
                }
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
                let params = s.ui.parameter_changes(&stack.name, &i.parameters, &r.parameters);
                match cfn.create_change_set(&r, ChangeSetType::Update).await? {
                    Some((cs, changes)) => {
                        cfn.delete_change_set(&r.full_name, &cs).await;
                        if changes.is_empty() {
                            s.ui.step(&stack.name, "no resource changes (outputs or metadata only)");
                        } else {
                            s.ui.resource_changes(&stack.name, &format!("would update {}", r.full_name), &changes);
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
        let as_deployed: Vec<&str> = as_deployed.iter().map(|(c, _, _)| c.as_str()).collect();
        docs.push(
            json!({"stack": stack.name, "stack_name": r.full_name, "action": kind, "changes": changes,
            "artifacts_as_deployed": as_deployed}),
        );
    }
    s.ui.emit("result", json!({"env": s.env, "changes": any_change, "stacks": docs}));
    s.ui.info(if any_change { "changes pending" } else { "no changes" });
    Ok(if exit_code && any_change { 2 } else { 0 })
}

/// `(component, parameter, deployed value)` of each artifact parameter that this checkout has
/// not built (a placeholder) and the deployed stack has a value for.
fn unbuilt_as_deployed(stack: &Stack, r: &Rendered, deployed: &StackInfo) -> Vec<(String, String, String)> {
    stack
        .manifest
        .parameters
        .iter()
        .filter_map(|(param, source)| {
            let component = source.artifact()?;
            let value = r.parameters.get(param)?;
            if !value.starts_with(PLACEHOLDER_PREFIX) {
                return None;
            }
            let deployed = deployed.parameters.get(param)?;
            Some((component.to_string(), param.clone(), deployed.clone()))
        })
        .collect()
}
