//! `deploy`: create or update the selected stacks in dependency order.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::types::ChangeSetType;
use serde_json::json;

use super::outputs::write_outputs;
use crate::cfn::{Cfn, Outcome, ResourceChange, blocked_status_advice};
use crate::config::DeployMethod;
use crate::render::Rendered;
use crate::resolve::{Artifacts, Missing};
use crate::session::Session;
use crate::stacks::Stack;

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub yes: bool,
    pub no_execute: bool,
    /// Deploy the last recorded artifacts instead of building.
    pub no_build: bool,
}

pub async fn run(s: &Session, target: &str, opts: Options) -> Result<u8> {
    let result = deploy(s, target, opts).await?;
    s.ui.emit("result", result);
    Ok(0)
}

/// Deploys and returns the result document (stacks, outcomes, outputs, seconds) without
/// emitting it, for commands that deploy as one of their steps.
pub async fn deploy(s: &Session, target: &str, opts: Options) -> Result<serde_json::Value> {
    deploy_with(s, target, opts, None).await
}

/// [`deploy`], with `artifacts` as the artifact parameters when given (promote: another
/// environment's artifacts, copied, never built here).
pub async fn deploy_with(
    s: &Session,
    target: &str,
    opts: Options,
    artifacts: Option<&Artifacts>,
) -> Result<serde_json::Value> {
    let stacks = s.plan.select(target)?;
    // Render everything first: a template error stops the deploy before any AWS write.
    for stack in &stacks {
        s.renderer().template(stack)?;
    }
    let aws = s.aws().await?;
    crate::lock::with_lock(
        s,
        &aws,
        &format!("deploy {target}"),
        deploy_stacks(s, &aws, &stacks, opts, artifacts),
    )
    .await
}

async fn deploy_stacks(
    s: &Session,
    aws: &crate::aws::Aws,
    stacks: &[&Stack],
    opts: Options,
    given: Option<&Artifacts>,
) -> Result<serde_json::Value> {
    let started = Instant::now();
    let cfn = s.cfn(aws);
    s.ui.info(&format!(
        "deploying {} stack(s) of environment {} to {}",
        stacks.len(),
        s.env,
        aws.target()
    ));
    let mut deployed = s.upstream_outputs(&cfn, stacks).await?;
    let mut results = Vec::new();
    let mut all_outputs = BTreeMap::new();
    for stack in stacks {
        let t = Instant::now();
        // Build artifacts named by this stack's parameters, after the stacks they go to exist.
        let needs = stack.artifacts();
        let artifacts: Artifacts = if needs.is_empty() {
            Artifacts::new()
        } else if let Some(given) = given {
            let missing: Vec<&str> = needs.iter().copied().filter(|n| !given.contains_key(*n)).collect();
            if !missing.is_empty() {
                bail!(
                    "stack {} needs artifacts that were not given: {}",
                    stack.name,
                    missing.join(", ")
                );
            }
            s.ui.step(&stack.name, "using the given artifacts (no build)");
            given.clone()
        } else if opts.no_build {
            let recorded = crate::artifacts::record::load(&s.project.out_dir(), &s.env);
            s.ui.step(&stack.name, "using the recorded artifacts (--no-build)");
            recorded
        } else {
            crate::artifacts::publish(s, aws, &deployed, &needs)
                .await
                .with_context(|| format!("building the artifacts of stack {}", stack.name))?
                .into_iter()
                .map(|(k, b)| (k, b.value))
                .collect()
        };
        let r = s.render_with(stack, &deployed, &artifacts, Missing::Fail)?;
        let outcome = deploy_one(s, &cfn, &r, opts).await;
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                s.ui.outcome(
                    &stack.name,
                    "failed",
                    false,
                    json!({"seconds": t.elapsed().as_secs_f64(), "error": format!("{e:#}")}),
                );
                let left: Vec<&str> = stacks
                    .iter()
                    .map(|x| x.name.as_str())
                    .skip_while(|n| *n != stack.name)
                    .skip(1)
                    .collect();
                if !left.is_empty() {
                    s.ui.info(&format!("not attempted: {}", left.join(", ")));
                }
                return Err(e.context(format!("deploy of stack {} ({}) failed", stack.name, r.full_name)));
            }
        };
        let info = cfn.describe(&r.full_name).await?;
        let outputs = info.as_ref().map(|i| i.user_outputs()).unwrap_or_default();
        deployed.insert(stack.name.clone(), info.map(|i| i.user_outputs()));
        s.ui.outcome(
            &stack.name,
            &outcome,
            true,
            json!({"seconds": t.elapsed().as_secs_f64(), "stack_name": r.full_name}),
        );
        results.push(json!({"stack": stack.name, "stack_name": r.full_name, "outcome": outcome, "seconds": t.elapsed().as_secs_f64()}));
        all_outputs.insert(stack.name.clone(), outputs);
    }
    if !opts.no_execute {
        let file = write_outputs(s, &all_outputs)?;
        s.ui.print(&super::outputs::format_outputs(&all_outputs));
        s.ui.info(&format!(
            "done in {:.1} s; outputs written to {}",
            started.elapsed().as_secs_f64(),
            file.display()
        ));
    }
    Ok(json!({"env": s.env, "stacks": results, "outputs": all_outputs, "seconds": started.elapsed().as_secs_f64()}))
}

/// Deploys one stack; returns what happened in a word or two.
async fn deploy_one(s: &Session, cfn: &Cfn<'_>, r: &Rendered, opts: Options) -> Result<String> {
    let name = &r.stack;
    let mut info = cfn.describe(&r.full_name).await?;
    if let Some(i) = &info {
        if let Some(advice) = blocked_status_advice(i) {
            bail!(advice);
        }
        if i.status == "ROLLBACK_COMPLETE" || (i.status == "REVIEW_IN_PROGRESS" && !opts.no_execute) {
            s.ui.step(
                name,
                &format!(
                    "{} is {} (a create that failed or was never executed): deleting it to create it again",
                    r.full_name, i.status
                ),
            );
            let last = cfn.last_event_id(&i.id).await;
            cfn.delete(&i.id).await?;
            cfn.wait(name, &i.id, last.as_deref(), "DELETE_COMPLETE").await?;
            info = None;
        }
    }
    let method = if opts.no_execute {
        DeployMethod::Changeset
    } else {
        s.config.deploy.method
    };
    let Some(info) = info else {
        // Create.
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
            name,
            &format!("create {} ({} resources)", r.full_name, adds.len()),
            &adds,
        );
        approve(s, opts, &format!("Create stack {}?", r.full_name))?;
        if method == DeployMethod::Direct {
            let id = cfn.create(r, s.config.deploy.termination_protection).await?;
            cfn.wait(name, &id, None, "CREATE_COMPLETE").await?;
            return Ok("created".into());
        }
        let Some((cs, _)) = cfn.create_change_set(r, ChangeSetType::Create).await? else {
            bail!("CloudFormation found nothing to create for {}", r.full_name);
        };
        if opts.no_execute {
            s.ui.step(name, &format!("change set left for review: {cs}"));
            return Ok("change set created".into());
        }
        cfn.execute_change_set(&r.full_name, &cs).await?;
        cfn.wait(name, &r.full_name, None, "CREATE_COMPLETE").await?;
        if s.config.deploy.termination_protection {
            cfn.set_termination_protection(&r.full_name, true).await?;
        }
        return Ok("created".into());
    };

    if info.deployed_hash() == Some(r.hash.as_str()) {
        return Ok("unchanged".into());
    }
    show_parameter_changes(s, name, &info.parameters, &r.parameters);
    let last = cfn.last_event_id(&info.id).await;
    if method == DeployMethod::Direct {
        // Preview through a change set even here, so the user sees what is about to change.
        match cfn.create_change_set(r, ChangeSetType::Update).await {
            Ok(Some((cs, changes))) => {
                show_changes(s, name, &format!("update {}", r.full_name), &changes);
                cfn.delete_change_set(&r.full_name, &cs).await;
            }
            Ok(None) => s.ui.step(name, "no resource changes"),
            Err(e) => s.ui.warn(&format!("no preview of the update: {e:#}")),
        }
        approve(s, opts, &format!("Update stack {}?", r.full_name))?;
        return match cfn.update(r).await? {
            Outcome::Unchanged => Ok("unchanged".into()),
            Outcome::Done(_) => {
                cfn.wait(name, &info.id, last.as_deref(), "UPDATE_COMPLETE").await?;
                Ok("updated".into())
            }
        };
    }
    let Some((cs, changes)) = cfn.create_change_set(r, ChangeSetType::Update).await? else {
        return Ok("unchanged".into());
    };
    show_changes(s, name, &format!("update {}", r.full_name), &changes);
    if opts.no_execute {
        s.ui.step(name, &format!("change set left for review: {cs}"));
        return Ok("change set created".into());
    }
    if let Err(e) = approve(s, opts, &format!("Execute these changes to {}?", r.full_name)) {
        cfn.delete_change_set(&r.full_name, &cs).await;
        return Err(e);
    }
    cfn.execute_change_set(&r.full_name, &cs).await?;
    cfn.wait(name, &info.id, last.as_deref(), "UPDATE_COMPLETE").await?;
    Ok("updated".into())
}

/// Asks when the environment wants approval and --yes was not given.
fn approve(s: &Session, opts: Options, question: &str) -> Result<()> {
    if !s.config.deploy.approval || opts.yes || opts.no_execute {
        return Ok(());
    }
    if !s
        .ui
        .confirm(&format!("{question} (environment {} requires approval)", s.env))?
    {
        bail!("not approved: nothing was changed");
    }
    Ok(())
}

pub(crate) fn show_changes(s: &Session, stack: &str, title: &str, changes: &[ResourceChange]) {
    s.ui.step(stack, title);
    for c in changes {
        let mark = match c.action.as_str() {
            "Add" => "+",
            "Remove" => "-",
            "Replace" => "!",
            _ => "~",
        };
        let details = if c.details.is_empty() {
            String::new()
        } else {
            format!("  ({})", c.details.join(", "))
        };
        if s.ui.json() {
            s.ui.emit("change", json!({"stack": stack, "change": c}));
        } else {
            s.ui.line(&format!(
                "  {mark} {:<8} {:<36} {}{details}",
                c.action, c.logical_id, c.resource_type
            ));
        }
    }
}

pub(crate) fn show_parameter_changes(
    s: &Session,
    stack: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> usize {
    let mut n = 0;
    for (k, v) in new {
        match old.get(k) {
            Some(o) if o == v => {}
            Some(o) => {
                n += 1;
                s.ui.step(stack, &format!("parameter {k}: {o} -> {v}"));
            }
            None => {
                n += 1;
                s.ui.step(stack, &format!("parameter {k}: (new) {v}"));
            }
        }
    }
    for k in old.keys().filter(|k| !new.contains_key(*k)) {
        n += 1;
        s.ui.step(stack, &format!("parameter {k}: removed"));
    }
    n
}
