//! The walk of a selection of the plan: each stack starts as soon as the stacks it needs are
//! done (deploy) or the stacks that need it are gone (teardown), up to `deploy.max_parallel`
//! at once. On AWS a deploy's wall time is CloudFormation's provisioning, so independent stacks
//! side by side take the time of the slowest, not the sum.
//!
//! A failure stops new starts; stacks already running finish (a CloudFormation operation
//! cannot be abandoned half-way anyway), and every stack's result is reported: done, failed
//! with CloudFormation's reason, or not attempted.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::future::Future;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde_json::json;

use super::deploy::{Options, deploy_one};
use super::{AllOutputs, DeployReport, Outcome, StackResult};
use crate::aws::Aws;
use crate::resolve::{Artifacts, DeployedOutputs, Missing};
use crate::session::Session;
use crate::stacks::Stack;

/// Which way the walk goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A stack waits for the selected stacks it depends on.
    Deploy,
    /// A stack waits for the selected stacks that depend on it.
    Teardown,
}

/// The selected stacks `stack` must wait for.
fn waits_for(s: &Session, selected: &[&Stack], stack: &Stack, direction: Direction) -> BTreeSet<String> {
    let chosen: BTreeSet<&str> = selected.iter().map(|x| x.name.as_str()).collect();
    match direction {
        Direction::Deploy => stack
            .dependencies()
            .into_iter()
            .filter(|d| chosen.contains(d))
            .map(str::to_string)
            .collect(),
        Direction::Teardown => s
            .plan
            .dependents(&stack.name)
            .into_iter()
            .filter(|d| chosen.contains(d.name.as_str()))
            .map(|d| d.name.clone())
            .collect(),
    }
}

/// The waves of `selected` in `direction`, as names: what the plan shows before it runs.
pub fn waves(s: &Session, selected: &[&Stack], direction: Direction) -> Vec<Vec<String>> {
    let waves = match direction {
        Direction::Deploy => s.plan.waves(selected),
        Direction::Teardown => s.plan.teardown_waves(selected),
    };
    waves
        .into_iter()
        .map(|w| w.into_iter().map(|x| x.name.clone()).collect())
        .collect()
}

/// `plan: 1) artifacts, database, networking  2) compute`
pub fn show_waves(s: &Session, waves: &[Vec<String>], what: &str) {
    let text = waves
        .iter()
        .enumerate()
        .map(|(i, w)| format!("{}) {}", i + 1, w.join(", ")))
        .collect::<Vec<_>>()
        .join("  ");
    s.ui.info(&format!("{what} in waves (the stacks of a wave side by side): {text}"));
    s.ui.emit("plan", json!({"env": s.env, "action": what, "waves": waves}));
}

/// Runs `action` on every stack of `selected` in `direction`, at most `max` at once. Returns
/// every stack's result, in the order they finished, the not-attempted ones last.
pub async fn run<'a, F, Fut>(
    s: &Session,
    selected: &[&'a Stack],
    direction: Direction,
    max: usize,
    mut action: F,
) -> Vec<StackResult>
where
    F: FnMut(&'a Stack) -> Fut,
    Fut: Future<Output = Result<Outcome>>,
{
    let t0 = Instant::now();
    let mut pending: Vec<&'a Stack> = selected.to_vec();
    let mut running = FuturesUnordered::new();
    let mut succeeded: BTreeSet<String> = BTreeSet::new();
    let mut results: Vec<StackResult> = Vec::new();
    let mut stop: Option<String> = None;
    loop {
        if stop.is_none() {
            let mut i = 0;
            while i < pending.len() && running.len() < max.max(1) {
                let stack = pending[i];
                if waits_for(s, selected, stack, direction)
                    .iter()
                    .all(|w| succeeded.contains(w))
                {
                    pending.remove(i);
                    let begun = t0.elapsed().as_secs_f64();
                    let fut = action(stack);
                    running.push(async move { (stack, begun, fut.await) });
                } else {
                    i += 1;
                }
            }
        }
        let Some((stack, begun, result)) = running.next().await else {
            break;
        };
        let finished = t0.elapsed().as_secs_f64();
        let mut r = StackResult {
            stack: stack.name.clone(),
            stack_name: s.full_name(stack),
            outcome: Outcome::Failed,
            started_s: round(begun),
            finished_s: round(finished),
            seconds: round(finished - begun),
            error: None,
        };
        match result {
            Ok(outcome) => {
                r.outcome = outcome;
                succeeded.insert(stack.name.clone());
                s.ui.outcome(
                    &stack.name,
                    outcome.text(),
                    true,
                    json!({"seconds": r.seconds, "stack_name": r.stack_name}),
                );
            }
            Err(e) => {
                let text = format!("{e:#}");
                s.ui.outcome(
                    &stack.name,
                    "failed",
                    false,
                    json!({"seconds": r.seconds, "stack_name": r.stack_name, "error": text}),
                );
                s.ui.error(&format!("{}: {text}", stack.name));
                r.error = Some(text);
                stop.get_or_insert_with(|| stack.name.clone());
            }
        }
        results.push(r);
    }
    for stack in pending {
        let why = match &stop {
            Some(failed) => format!("not started: {failed} failed"),
            None => "not started".into(),
        };
        s.ui.outcome(&stack.name, "not attempted", false, json!({"reason": why}));
        results.push(StackResult {
            stack: stack.name.clone(),
            stack_name: s.full_name(stack),
            outcome: Outcome::NotAttempted,
            started_s: 0.0,
            finished_s: 0.0,
            seconds: 0.0,
            error: Some(why),
        });
    }
    results
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Deploys the stacks `target` selects (`all`, a layer, a stack) under the environment's
/// lock: renders all of them first (a template error stops the deploy before any write),
/// then walks them. `artifacts`, when given, are the artifact parameters (promote: another
/// environment's, copied, never built here). A stack that fails is in the report, not an
/// error: see [`DeployReport::failure`].
pub async fn deploy(s: &Session, target: &str, opts: Options, artifacts: Option<&Artifacts>) -> Result<DeployReport> {
    let stacks = s.plan.select(target)?;
    for stack in &stacks {
        s.renderer().template(stack)?;
        s.check_output_refs(stack)?;
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
    aws: &Aws,
    stacks: &[&Stack],
    opts: Options,
    given: Option<&Artifacts>,
) -> Result<DeployReport> {
    let started = Instant::now();
    let cfn = s.cfn(aws);
    let waves = waves(s, stacks, Direction::Deploy);
    s.ui.info(&format!(
        "deploying {} stack(s) of environment {} to {}",
        stacks.len(),
        s.env,
        aws.target()
    ));
    show_waves(s, &waves, "deploy");
    // Outputs of the stacks they read, as deployed now; filled in as stacks finish.
    let deployed = RefCell::new(s.upstream_outputs(&cfn, stacks).await?);
    let results = run(
        s,
        stacks,
        Direction::Deploy,
        s.config.deploy.max_parallel as usize,
        |stack| {
            let (cfn, deployed) = (&cfn, &deployed);
            async move {
                let artifacts = artifacts_of(s, aws, stack, opts, given, deployed).await?;
                let r = {
                    let now = deployed.borrow();
                    s.render_with(stack, &now, &artifacts, Missing::Fail)?
                };
                let outcome = deploy_one(s, cfn, &r, opts).await?;
                let info = cfn.describe(&r.full_name).await?;
                deployed
                    .borrow_mut()
                    .insert(stack.name.clone(), info.map(|i| i.user_outputs()));
                Ok(outcome)
            }
        },
    )
    .await;
    let deployed = deployed.into_inner();
    let mut outputs = AllOutputs::new();
    for r in results.iter().filter(|r| r.outcome.ok()) {
        if let Some(Some(o)) = deployed.get(&r.stack) {
            outputs.insert(r.stack.clone(), o.clone());
        }
    }
    let report = DeployReport {
        env: s.env.clone(),
        waves,
        stacks: results,
        outputs,
        seconds: round(started.elapsed().as_secs_f64()),
    };
    if !opts.no_execute && report.failure().is_none() {
        let file = crate::files::write_outputs(s, &report.outputs)?;
        s.ui.print(&crate::files::format_outputs(&report.outputs));
        s.ui.info(&format!(
            "done in {:.1} s; outputs written to {}",
            report.seconds,
            file.display()
        ));
    }
    Ok(report)
}

/// The artifact parameters of `stack`: given (promote), recorded (`--no-build`) or built and
/// published now, after the stacks they go to exist.
async fn artifacts_of(
    s: &Session,
    aws: &Aws,
    stack: &Stack,
    opts: Options,
    given: Option<&Artifacts>,
    deployed: &RefCell<DeployedOutputs>,
) -> Result<Artifacts> {
    let needs = stack.artifacts();
    if needs.is_empty() {
        return Ok(Artifacts::new());
    }
    if let Some(given) = given {
        let missing: Vec<&str> = needs.iter().copied().filter(|n| !given.contains_key(*n)).collect();
        if !missing.is_empty() {
            bail!(
                "stack {} needs artifacts that were not given: {}",
                stack.name,
                missing.join(", ")
            );
        }
        s.ui.step(&stack.name, "using the given artifacts (no build)");
        return Ok(given.clone());
    }
    if opts.no_build {
        s.ui.step(&stack.name, "using the recorded artifacts (--no-build)");
        return Ok(crate::artifacts::record::load(&s.project.out_dir(), &s.env));
    }
    let now = deployed.borrow().clone();
    Ok(crate::artifacts::publish(s, aws, &now, &needs)
        .await
        .with_context(|| format!("building the artifacts of stack {}", stack.name))?
        .into_iter()
        .map(|(k, b)| (k, b.value))
        .collect())
}

/// Deletes `doomed` (deployed stacks of the selection) in reverse dependency order, side by
/// side where nothing depends on them, under the environment's lock held by the caller.
pub async fn teardown(
    s: &Session,
    aws: &Aws,
    doomed: &[super::delete::Doomed<'_>],
    opts: super::delete::DeleteOptions,
) -> super::TeardownReport {
    let started = Instant::now();
    let cfn = s.cfn(aws);
    let stacks: Vec<&Stack> = doomed.iter().map(|d| d.stack).collect();
    let waves = waves(s, &stacks, Direction::Teardown);
    show_waves(s, &waves, "teardown");
    let results = run(
        s,
        &stacks,
        Direction::Teardown,
        s.config.deploy.max_parallel as usize,
        |stack| {
            let cfn = &cfn;
            let d = doomed.iter().find(|d| d.stack.name == stack.name);
            async move {
                let d = d.ok_or_else(|| anyhow::anyhow!("stack {} is not deployed", stack.name))?;
                super::delete::delete_one(s, aws, cfn, d, opts).await
            }
        },
    )
    .await;
    let deleted: Vec<String> = results
        .iter()
        .filter(|r| r.outcome == Outcome::Deleted)
        .map(|r| r.stack_name.clone())
        .collect();
    let retained = doomed
        .iter()
        .filter(|d| deleted.contains(&d.info.name))
        .flat_map(|d| d.retained())
        .collect();
    super::TeardownReport {
        env: s.env.clone(),
        waves,
        stacks: results,
        deleted,
        retained,
        seconds: round(started.elapsed().as_secs_f64()),
    }
}
