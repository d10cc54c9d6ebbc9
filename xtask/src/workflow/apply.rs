//! The apply workflow from the deployer (`cargo xtask run apply`): the apply task's own run
//! ([`mcfapply::run::run`]) in this process, with a headless Chromium of this machine, against
//! a deployed environment's tables and bucket.
//!
//! On an emulator, unless `--site` names one, MCF's website is the fake one of `mcffixture`
//! started here on a free port (its session cookie is the one of
//! `config/seed/mcf-cookies.json`): the environment never leaves 127.0.0.1. Elsewhere it is
//! MCF's website.

use std::time::Duration;

use anyhow::{Result, anyhow};
use mcfapply::run::{Settings, Summary};
use mcfapply::session::State;

use crate::aws::Aws;
use crate::logs::ship::{Shipping, Target, stream_name};
use crate::session::Session;
use crate::workflow::DATABASE;

/// The component whose log group gets the run's lines (the apply task's, `/ecs/…-mcfapply`).
pub const COMPONENT: &str = "mcfapply";

/// The physical names an apply run needs, from the deployed database stack's outputs.
#[derive(Debug, Clone)]
pub struct ApplyNames {
    pub crm_table: String,
    pub applications_table: String,
    pub dimensions_table: String,
    pub bucket: String,
    pub alert_topic: Option<String>,
}

impl ApplyNames {
    pub async fn deployed(s: &Session, aws: &Aws) -> Result<ApplyNames> {
        let outputs = super::deployed_outputs(s, aws, DATABASE).await?;
        let get = |key: &str| {
            outputs.get(key).cloned().filter(|v| !v.is_empty()).ok_or_else(|| {
                anyhow!(
                    "the {DATABASE} stack of {} has no output {key}: redeploy it (`cargo xtask deploy database --env {}`)",
                    s.env,
                    s.env
                )
            })
        };
        Ok(ApplyNames {
            crm_table: get("CrmTableName")?,
            applications_table: get("ApplicationsTableName")?,
            dimensions_table: get("DimensionsTableName")?,
            bucket: get("DataBucketName")?,
            alert_topic: get("AlertTopicArn").ok(),
        })
    }
}

/// What `run apply` was asked.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub submit: bool,
    pub job: Option<String>,
    pub site: Option<String>,
    pub pause: Option<f64>,
    pub max_jobs: Option<usize>,
}

/// The settings of a run from the deployer.
pub fn settings(s: &Session, names: &ApplyNames, flags: &Flags, site: String) -> Settings {
    Settings {
        crm_table: names.crm_table.clone(),
        applications_table: names.applications_table.clone(),
        dimensions_table: names.dimensions_table.clone(),
        data_bucket: names.bucket.clone(),
        alert_topic: names.alert_topic.clone(),
        env: s.env.clone(),
        flow: mcfapply::flow::Options {
            site,
            // `--submit`, or the environment's `compute.apply.submit`.
            submit: flags.submit || s.config.compute.apply.submit,
            ..Default::default()
        },
        pause: Duration::from_secs_f64(flags.pause.unwrap_or(s.config.compute.apply.pause_seconds).max(0.0)),
        only: flags.job.clone(),
        max_jobs: flags.max_jobs,
        by: "xtask".into(),
        browser: None,
        scratch: None,
    }
}

/// MCF's website for a run or a check: `given`, else on an emulator the fake one of
/// `mcffixture` started here (kept alive by the returned server), else the environment's
/// `compute.apply.site`.
pub fn site(s: &Session, aws: &Aws, given: Option<&str>) -> Result<(String, Option<mcffixture::FixtureServer>)> {
    if let Some(site) = given {
        return Ok((site.to_string(), None));
    }
    if !aws.is_emulator() {
        return Ok((s.config.compute.apply.site.clone(), None));
    }
    // An emulator never leaves 127.0.0.1.
    let fixture =
        mcffixture::FixtureServer::default_on_free_port().map_err(|e| anyhow!("starting the fake MCF website: {e}"))?;
    s.ui.info(&format!(
        "MCF's website is the fake one of mcffixture at {} (an emulator never leaves 127.0.0.1; --site URL names another)",
        fixture.url()
    ));
    Ok((fixture.url().to_string(), Some(fixture)))
}

/// Starts shipping the run's lines to the apply task's log group (when deployed), shown
/// through the UI as they come.
pub async fn start_shipping(s: &Session, aws: &Aws) -> Shipping {
    let groups = crate::logs::discover(s, &s.cfn(aws)).await.unwrap_or_default();
    let group = groups.iter().find(|g| g.component == COMPONENT);
    let target = Target {
        component: COMPONENT.to_string(),
        group: group.filter(|g| g.deployed).map(|g| g.name.clone()),
        why_not: Some(match group {
            Some(g) => g.deploy_advice(&s.env),
            None => format!("no stack of {} declares a log group for {COMPONENT}", s.env),
        }),
        echo: (!s.ui.json()).then(|| s.ui.sibling()),
    };
    let every = if aws.is_emulator() {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(5)
    };
    Shipping::start(
        aws,
        stream_name(mcfcore::log::now_millis(), std::process::id()),
        vec![target],
        every,
    )
}

/// The run's result in words: one line per job, then the totals.
pub fn summary_text(summary: &Summary) -> String {
    let mut out = String::new();
    for j in &summary.jobs {
        let seconds = j.seconds.map(|s| format!(" {s:.2} s")).unwrap_or_default();
        out.push_str(&format!("  {:<28} {:<44}{seconds}  {}\n", j.outcome, j.id, j.detail));
        if let Some(png) = &j.evidence_png {
            out.push_str(&format!("  {:<28} evidence: {png} (+ .html)\n", ""));
        }
    }
    let mode = if summary.submit { "submit" } else { "dry run" };
    out.push_str(&format!(
        "apply ({mode}): {} job(s) in TOAPPLY, {} attempted, {} applied, {} skipped in {:.1} s; session {}",
        summary.to_apply,
        summary.attempted,
        summary.applied,
        summary.skipped,
        summary.seconds,
        match summary.session {
            State::Valid => "valid",
            State::ExpiresSoon => "expires within 3 days",
            State::Expired => "EXPIRED",
            State::Missing => "MISSING",
            State::Unchecked => "not checked against MCF",
        }
    ));
    if let Some(why) = &summary.stopped {
        out.push_str(&format!("\nstopped: {why}"));
    }
    out.push('\n');
    out
}
