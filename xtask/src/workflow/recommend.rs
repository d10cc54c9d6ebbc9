//! The jobs-recommend workflow run from the deployer: the posts table's stream played through
//! the recommender's own [`Handler`] (the emulator runs no Lambda code and, with a mapping,
//! empties the stream), a rescore of the recent posts (in this process on an emulator, the
//! deployed function invoked on AWS), and the shortlist per track read back from the CRM.
//!
//! [`rescore`] is what another command calls after it changed the library (config sync).

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_dynamodb::types::AttributeValue;
use jobmatch::Day;
use jobmatch_lambda::handler::{Rescore, Summary};
use jobmatch_lambda::local::{PlayOptions, PlaySummary};
use jobmatch_lambda::score::num;
use jobmatch_lambda::{COMPONENT, Handler};
use mcfcore::layout::{self, crm as crm_keys};
use mcfstore::crm::{Job, job_from_item};
use serde::Serialize;

use crate::aws::{Aws, Clients};
use crate::logs::ship::{Shipping, Target, stream_name};
use crate::session::Session;
use crate::workflow::DATABASE;

/// The recommender's stack (stacks/recommend.yaml).
pub const STACK: &str = "recommend";
/// Jobs shown per track in the shortlist.
pub const SHORTLIST: usize = 10;
/// The day the repository's MCF captures (tests/fixtures/mcf) were taken, in Singapore: a run
/// on the captures scores and screens them as of that day, or none would be recent or open.
pub const CAPTURES_DAY: &str = "2025-05-19";

/// What the recommender works on, from the deployed database stack's outputs.
#[derive(Debug, Clone)]
pub struct RecommendNames {
    pub posts_table: String,
    pub dimensions_table: String,
    pub crm_table: String,
    pub posts_stream_arn: String,
}

impl RecommendNames {
    pub async fn deployed(s: &Session, aws: &Aws) -> Result<RecommendNames> {
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
        Ok(RecommendNames {
            posts_table: get("PostsTableName")?,
            dimensions_table: get("DimensionsTableName")?,
            crm_table: get("CrmTableName")?,
            posts_stream_arn: get("PostsTableStreamArn")?,
        })
    }

    pub fn store_names(&self) -> mcfstore::Names {
        mcfstore::Names {
            posts_table: Some(self.posts_table.clone()),
            dimensions_table: Some(self.dimensions_table.clone()),
            crm_table: Some(self.crm_table.clone()),
            ..Default::default()
        }
    }
}

/// The recommender's handler on `aws` (a recording connection records its calls as the
/// function's), logging into `log`.
pub fn handler(
    s: &Session,
    aws: &Aws,
    names: &RecommendNames,
    as_of: Option<Day>,
    log: Option<mcfcore::log::Log>,
) -> Result<Handler> {
    let handler = Handler::from_names(aws, &names.store_names()).map_err(|e| anyhow!("{e}"))?;
    Ok(handler
        .with_rescore_weeks(s.config.compute.recommender.rescore_weeks)
        .with_as_of(as_of)
        .with_logger(log))
}

/// A `YYYY-MM-DD` day, or what is wrong with it.
pub fn parse_day(text: &str) -> Result<Day> {
    Day::parse(text).ok_or_else(|| anyhow!("`{text}` is not a day (YYYY-MM-DD)"))
}

/// Plays the posts stream from where the last play stopped (its checkpoint, kept in the
/// dimensions table through `checkpoints`, a connection of the deployer's own: the function
/// never writes it) through the handler on `function_aws`.
pub async fn play(
    s: &Session,
    function_aws: &Aws,
    checkpoints: &Aws,
    names: &RecommendNames,
    as_of: Option<Day>,
    log: Option<mcfcore::log::Log>,
) -> Result<PlaySummary> {
    let handler = handler(s, function_aws, names, as_of, log)?;
    // An empty library would fail every post: say what to do instead.
    handler.library().await.map_err(|e| anyhow!("{e}"))?;
    let options = PlayOptions {
        batch_size: s.config.compute.recommender.batch_size as usize,
        ..PlayOptions::default()
    };
    jobmatch_lambda::play(
        &handler,
        &function_aws.dynamodbstreams(),
        &checkpoints.dynamodb(),
        &names.posts_stream_arn,
        &names.dimensions_table,
        &options,
    )
    .await
    .map_err(|e| anyhow!("playing the posts stream: {e}"))
}

/// Rescores the recent posts: in this process on an emulator (moto runs no Lambda code), by
/// invoking the deployed function on AWS. For any command that changed the library.
pub async fn rescore(s: &Session, aws: &Aws, reason: &str, weeks: Option<u32>) -> Result<Summary> {
    rescore_as_of(s, aws, reason, weeks, None).await
}

/// [`rescore`] as of another day than today (an emulator only: the function always scores as
/// of today).
pub async fn rescore_as_of(
    s: &Session,
    aws: &Aws,
    reason: &str,
    weeks: Option<u32>,
    as_of: Option<Day>,
) -> Result<Summary> {
    let request = Rescore {
        reason: reason.to_string(),
        weeks,
    };
    if aws.is_emulator() {
        let names = RecommendNames::deployed(s, aws).await?;
        let shipping = start_shipping(s, aws).await;
        let result = handler(s, aws, &names, as_of, shipping.log(COMPONENT))?
            .rescore(&request)
            .await
            .map_err(|e| anyhow!("{e}"));
        finish_shipping(s, shipping).await;
        result
    } else {
        if as_of.is_some() {
            bail!("--as-of is for an emulator: the deployed function scores as of today");
        }
        invoke_rescore(s, aws, &request).await
    }
}

/// The deployed function invoked with the rescore event (RequestResponse), its summary.
pub async fn invoke_rescore(s: &Session, aws: &Aws, request: &Rescore) -> Result<Summary> {
    let outputs = super::deployed_outputs(s, aws, STACK).await?;
    let function = outputs
        .get("RecommendFunctionName")
        .cloned()
        .ok_or_else(|| anyhow!("the {STACK} stack has no output RecommendFunctionName: redeploy it"))?;
    let payload = serde_json::to_vec(&serde_json::json!({ "rescore": request }))?;
    s.ui.info(&format!("invoking {function} with a rescore ({})", request.reason));
    let out = aws
        .lambda()
        .invoke()
        .function_name(&function)
        .invocation_type(aws_sdk_lambda::types::InvocationType::RequestResponse)
        .payload(aws_sdk_lambda::primitives::Blob::new(payload))
        .send()
        .await
        .map_err(|e| anyhow!("lambda Invoke {function}: {}", crate::aws::error_text(&e)))?;
    let body = out.payload.map(|b| b.into_inner()).unwrap_or_default();
    if let Some(error) = out.function_error {
        bail!(
            "{function} failed the rescore ({error}): {}; its logs: cargo xtask logs recommend --env {}",
            String::from_utf8_lossy(&body),
            s.env
        );
    }
    serde_json::from_slice(&body).with_context(|| {
        format!(
            "{function} answered something that is not a rescore summary: {}",
            String::from_utf8_lossy(&body)
        )
    })
}

/// Collecting sink for the recommender's lines, shipped to its deployed log group.
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
        echo: None,
    };
    let every = if aws.is_emulator() {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(5)
    };
    let stream = stream_name(mcfcore::log::now_millis(), std::process::id());
    Shipping::start(aws, stream, vec![target], every)
}

pub async fn finish_shipping(s: &Session, shipping: Shipping) {
    let shipped = shipping.finish().await;
    for problem in shipped.problems() {
        s.ui.warn(&problem);
    }
}

/// One track's shortlist: its best screened, still open jobs.
#[derive(Debug, Clone, Serialize)]
pub struct Shortlist {
    pub track: String,
    pub name: String,
    /// Screened jobs of the track still open.
    pub screened: usize,
    pub jobs: Vec<ShortJob>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShortJob {
    pub uuid: String,
    pub title: String,
    pub company: Option<String>,
    pub posted_date: Option<String>,
    pub total: f64,
    pub summary: String,
}

/// The shortlist of every track of the library: the `SCREENED` jobs of the CRM (its `gsi1`,
/// `STAGE#SCREENED`), still open today, best total first, at most `per_track` each.
pub async fn shortlist(
    aws: &Aws,
    names: &RecommendNames,
    as_of: Option<Day>,
    per_track: usize,
) -> Result<Vec<Shortlist>> {
    let store = jobmatch_lambda::store::Store::new(aws, &names.posts_table, &names.dimensions_table, &names.crm_table);
    let lib = store.load_library().await.map_err(|e| anyhow!("{e}"))?;
    let jobs = jobs_in_stage(aws, &names.crm_table, "SCREENED").await?;
    let today = jobmatch_lambda::score::date_of(as_of.unwrap_or_else(jobmatch_lambda::score::singapore_today));
    let mut out = Vec::new();
    for track in lib.compiled.tracks() {
        let id = &track.track.id;
        let mut mine: Vec<&Job> = jobs
            .iter()
            .filter(|j| &j.track == id)
            .filter(|j| j.closing_date.as_deref().is_none_or(|d| d >= today.as_str()))
            .collect();
        let total = |j: &Job| j.scores.map_or(0.0, |s| s.total);
        mine.sort_by(|a, b| total(b).total_cmp(&total(a)).then_with(|| a.uuid.cmp(&b.uuid)));
        out.push(Shortlist {
            track: id.clone(),
            name: track.track.name.clone(),
            screened: mine.len(),
            jobs: mine
                .into_iter()
                .take(per_track)
                .map(|j| ShortJob {
                    uuid: j.uuid.clone(),
                    title: j.title.clone(),
                    company: j.company.clone(),
                    posted_date: j.posted_date.clone(),
                    total: total(j),
                    summary: j.summary.clone().unwrap_or_default(),
                })
                .collect(),
        });
    }
    Ok(out)
}

/// Every job of the CRM in `stage` (access pattern 13), every page.
pub async fn jobs_in_stage(aws: &Aws, table: &str, stage: &str) -> Result<Vec<Job>> {
    let client = aws.dynamodb();
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .query()
            .table_name(table)
            .index_name(layout::GSI1)
            .key_condition_expression("#pk = :stage")
            .expression_attribute_names("#pk", layout::GSI1PK)
            .expression_attribute_values(":stage", AttributeValue::S(crm_keys::stage_gsi1pk(stage)))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "DynamoDB Query {table} gsi1 STAGE#{stage}: {}",
                    crate::aws::error_text(&e)
                )
            })?;
        for item in page.items.unwrap_or_default() {
            match job_from_item(item) {
                Ok(job) => out.push(job),
                Err(why) => bail!("a job in table {table} cannot be read: {why}"),
            }
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(out);
        }
    }
}

/// The shortlist for people: per track, rank, total, title, company, and why.
pub fn shortlist_text(lists: &[Shortlist]) -> String {
    let mut out = String::new();
    for list in lists {
        out.push_str(&format!(
            "shortlist {} ({}): {} screened, open\n",
            list.track, list.name, list.screened
        ));
        if list.jobs.is_empty() {
            out.push_str("  (none yet: no recent open post reaches the track's match_score_min)\n");
        }
        for (i, job) in list.jobs.iter().enumerate() {
            let company = job.company.as_deref().map(|c| format!(" at {c}")).unwrap_or_default();
            let posted = job
                .posted_date
                .as_deref()
                .map(|d| format!(", posted {d}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {:>2}. {:>6}  {}{company}{posted}\n            {}\n",
                i + 1,
                num(job.total),
                job.title,
                job.summary
            ));
        }
    }
    out
}

/// The play's counts for people.
pub fn play_text(p: &PlaySummary) -> String {
    let mut out = format!(
        "recommend  {} stream record(s): {} post(s) scored, {} score item(s) written, {} screened into the CRM, {} refreshed, {} skipped (not posts)\n",
        p.records, p.scored, p.scores_written, p.screened, p.refreshed, p.skipped
    );
    for g in &p.given_up {
        out.push_str(&format!("  given up (like the DLQ): {g}\n"));
    }
    out
}

pub fn summary_text(r: &Summary) -> String {
    let mut out = format!(
        "rescore    {} post(s) since {} × {} track(s), library {}: {} score(s) changed, {} screened, {} refreshed, {} kept in the user's stage, {} failed\n",
        r.posts, r.since, r.tracks, r.library_version, r.changed, r.screened, r.refreshed, r.kept, r.failed
    );
    for f in &r.failures {
        out.push_str(&format!("  failed: {f}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortlist_reads_with_totals_and_reasons() {
        let text = shortlist_text(&[Shortlist {
            track: "software".into(),
            name: "Software engineering".into(),
            screened: 1,
            jobs: vec![ShortJob {
                uuid: "u".into(),
                title: "Senior Software Engineer".into(),
                company: Some("ACME".into()),
                posted_date: Some("2026-11-20".into()),
                total: 1.2234,
                summary: "software engineer +1, senior +0.22, keywords: rust, aws; salary fits".into(),
            }],
        }]);
        assert!(
            text.contains("1.2234  Senior Software Engineer at ACME, posted 2026-11-20"),
            "{text}"
        );
        assert!(text.contains("software engineer +1, senior +0.22"), "{text}");
    }
}
