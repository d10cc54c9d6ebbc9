//! Deploy one rendered stack: create it, update it, or repair what was changed behind the
//! deployer's back, through a change set (shown before it runs) or directly
//! (`deploy.method: direct`, for the emulator), with approval where the environment asks.

use anyhow::{Result, bail};
use aws_sdk_cloudformation::types::ChangeSetType;

use super::Outcome;
use super::compare::{self, Difference};
use crate::cfn::{Cfn, Outcome as CfnOutcome, ResourceChange, StackInfo, blocked_status_advice};
use crate::config::DeployMethod;
use crate::render::Rendered;
use crate::session::Session;

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Do not ask for approval.
    pub yes: bool,
    /// Create the change sets and leave them for review.
    pub no_execute: bool,
    /// Deploy the last recorded artifacts instead of building.
    pub no_build: bool,
}

/// Deploys one stack and says what happened.
pub async fn deploy_one(s: &Session, cfn: &Cfn<'_>, r: &Rendered, opts: Options) -> Result<Outcome> {
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
    match info {
        None => create(s, cfn, r, opts).await,
        Some(info) => update(s, cfn, r, &info, opts).await,
    }
}

fn method(s: &Session, opts: Options) -> DeployMethod {
    if opts.no_execute {
        DeployMethod::Changeset
    } else {
        s.config.deploy.method
    }
}

async fn create(s: &Session, cfn: &Cfn<'_>, r: &Rendered, opts: Options) -> Result<Outcome> {
    let name = &r.stack;
    let protect = s.config.deploy.termination_protection;
    let adds: Vec<ResourceChange> = r
        .resources()
        .into_iter()
        .map(|(id, ty)| ResourceChange::add(id, ty))
        .collect();
    s.ui.resource_changes(
        name,
        &format!("create {} ({} resources)", r.full_name, adds.len()),
        &adds,
    );
    approve(s, opts, &format!("Create stack {}?", r.full_name))?;
    if method(s, opts) == DeployMethod::Direct {
        let id = cfn.create(r, protect).await?;
        cfn.wait(name, &id, None, "CREATE_COMPLETE").await?;
        return Ok(Outcome::Created);
    }
    let Some((cs, _)) = cfn.create_change_set(r, ChangeSetType::Create).await? else {
        bail!("CloudFormation found nothing to create for {}", r.full_name);
    };
    if opts.no_execute {
        s.ui.step(name, &format!("change set left for review: {cs}"));
        return Ok(Outcome::ChangeSetCreated);
    }
    cfn.execute_change_set(&r.full_name, &cs).await?;
    cfn.wait(name, &r.full_name, None, "CREATE_COMPLETE").await?;
    if protect {
        cfn.set_termination_protection(&r.full_name, true).await?;
    }
    Ok(Outcome::Created)
}

async fn update(s: &Session, cfn: &Cfn<'_>, r: &Rendered, info: &StackInfo, opts: Options) -> Result<Outcome> {
    let name = &r.stack;
    // The hash output costs one DescribeStacks; only when it differs is the template read, to
    // tell a real change from outputs an emulator's change set did not refresh.
    let deployed_template = if info.deployed_hash() == Some(r.hash.as_str()) {
        None
    } else {
        Some(cfn.template(&info.id).await?)
    };
    let diffs = compare::differences(
        info,
        r,
        s.config.deploy.termination_protection,
        deployed_template.as_ref(),
    );
    if deployed_template.as_ref() == Some(&r.template) {
        s.ui.step(
            name,
            "the deployed template is this one, but the stack's outputs were not refreshed (an emulator's change set)",
        );
    }
    if diffs.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    // The template is ours, yet something else changed: someone or something outside the
    // deployer edited the stack. Say what, then set it back.
    let behind_our_back = !diffs.contains(&Difference::Template);
    if behind_our_back {
        for d in &diffs {
            s.ui.step(name, &format!("changed outside the deployer: {}", d.text()));
        }
    } else {
        s.ui.parameter_changes(name, &info.parameters, &r.parameters);
    }
    let outcome = if behind_our_back {
        Outcome::Repaired
    } else {
        Outcome::Updated
    };
    if diffs.iter().any(Difference::needs_update) {
        match update_stack(s, cfn, r, info, opts).await? {
            Some(Outcome::ChangeSetCreated) => return Ok(Outcome::ChangeSetCreated),
            Some(_) => {}
            // CloudFormation found nothing to do, and nothing else differs.
            None if diffs.iter().all(Difference::needs_update) => return Ok(Outcome::Unchanged),
            None => {}
        }
    }
    if let Some(Difference::TerminationProtection { config, .. }) = diffs
        .iter()
        .find(|d| matches!(d, Difference::TerminationProtection { .. }))
    {
        if opts.no_execute {
            s.ui.step(
                name,
                "termination protection would be set to the config's (not with --no-execute)",
            );
        } else {
            approve(
                s,
                opts,
                &format!(
                    "Turn termination protection of {} {}?",
                    r.full_name,
                    if *config { "on" } else { "off" }
                ),
            )?;
            cfn.set_termination_protection(&info.id, *config).await?;
            s.ui.step(
                name,
                &format!("termination protection set {}", if *config { "on" } else { "off" }),
            );
        }
    }
    Ok(outcome)
}

/// An update of the template, parameters and tags: `None` when CloudFormation finds nothing
/// to do, `Some(ChangeSetCreated)` with `--no-execute`, else `Some(Updated)`.
async fn update_stack(
    s: &Session,
    cfn: &Cfn<'_>,
    r: &Rendered,
    info: &StackInfo,
    opts: Options,
) -> Result<Option<Outcome>> {
    let name = &r.stack;
    let last = cfn.last_event_id(&info.id).await;
    if method(s, opts) == DeployMethod::Direct {
        // Preview through a change set even here, so the user sees what is about to change.
        match cfn.create_change_set(r, ChangeSetType::Update).await {
            Ok(Some((cs, changes))) => {
                s.ui.resource_changes(name, &format!("update {}", r.full_name), &changes);
                cfn.delete_change_set(&r.full_name, &cs).await;
            }
            Ok(None) => s.ui.step(name, "no resource changes"),
            Err(e) => s.ui.warn(&format!("no preview of the update: {e:#}")),
        }
        approve(s, opts, &format!("Update stack {}?", r.full_name))?;
        return match cfn.update(r).await? {
            CfnOutcome::Unchanged => Ok(None),
            CfnOutcome::Done(_) => {
                cfn.wait(name, &info.id, last.as_deref(), "UPDATE_COMPLETE").await?;
                Ok(Some(Outcome::Updated))
            }
        };
    }
    let Some((cs, changes)) = cfn.create_change_set(r, ChangeSetType::Update).await? else {
        return Ok(None);
    };
    s.ui.resource_changes(name, &format!("update {}", r.full_name), &changes);
    if opts.no_execute {
        s.ui.step(name, &format!("change set left for review: {cs}"));
        return Ok(Some(Outcome::ChangeSetCreated));
    }
    if let Err(e) = approve(s, opts, &format!("Execute these changes to {}?", r.full_name)) {
        cfn.delete_change_set(&r.full_name, &cs).await;
        return Err(e);
    }
    cfn.execute_change_set(&r.full_name, &cs).await?;
    cfn.wait(name, &info.id, last.as_deref(), "UPDATE_COMPLETE").await?;
    Ok(Some(Outcome::Updated))
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
