//! One jobs search against a deployed environment: the scraper pages MCF (or the fixture
//! server that serves the repository's captures), writes raw documents and queues them; the
//! parser step drains the queue through the Lambda's own handler; the report says what
//! happened and where the data is.
//!
//! The scraper and the parser each get a connection of their own, labelled with the
//! component's name ([`SCRAPER`], [`PARSER`]): with a [`Recorder`] ([`run_recording`]) every call
//! they make is recorded under that name, for the permission check of their roles
//! (`crate::iam`). The deployer's own calls (counting posts) are not theirs and are not recorded.
//!
//! Both components log into collecting sinks here, and their lines are shipped to their own
//! log groups as the run goes (`logs::ship`): on every environment, because they ran on this
//! host and nowhere else would have them (on AWS the scraper's lines land in the task's group,
//! the parser's, with `--drain`, in the function's, under a stream named for this run).

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use mcfcore::log::Log;
use mcffixture::FixtureServer;
use mcfparse_lambda::{DrainOptions, DrainSummary, Handler};
use mcfscrape::aws::{AwsNames, AwsStore};
use mcfscrape::{ClientConfig, Fetcher, McfClient, Outcome, RetryPolicy, RunOptions, RunSummary};
use serde::Serialize;

use mcfstore::record::Recorder;

use super::DataNames;
use crate::aws::Aws;
use crate::logs::ship::{Shipped, Shipping, Target, stream_name};
use crate::session::Session;
use crate::ui::Ui;
use serde_json::json;

/// The flags `run search` and `up` share.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub mcf_url: Option<String>,
    pub offline: bool,
    pub rate: Option<f64>,
    pub max_posts: Option<u32>,
    /// Parse here even where the deployed Lambda consumes the queue.
    pub drain: bool,
}

/// What the caller asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Scrape this URL instead of the config's `compute.scraper.mcf_url`.
    pub mcf_url: Option<String>,
    /// Serve the repository's captures from a fixture server on 127.0.0.1 and scrape that.
    pub offline: bool,
    /// When MCF cannot be reached, use the captures instead of failing (local only).
    pub fallback_offline: bool,
    /// Requests per second; `None` = the config's (0, no limit, for the fixture server).
    pub rate: Option<f64>,
    /// Stop after this many job details (the next run continues).
    pub max_posts: Option<u32>,
    /// Run the parser step here (the emulator runs no Lambda code); otherwise the deployed
    /// function consumes the queue.
    pub drain: bool,
    /// Where the scraper's log lines go; `None`: nowhere (no progress lines).
    pub scraper_log: Option<Log>,
    /// Where the parser's per-record lines go; `None`: nowhere.
    pub parser_log: Option<Log>,
}

/// Where the documents came from.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub url: String,
    /// `mcf`, `url` (given with --mcf-url) or `captures` (the fixture server).
    pub kind: &'static str,
    /// Why the captures were used instead of MCF.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where the data is, for the summary.
#[derive(Debug, Clone, Serialize)]
pub struct Locations {
    pub posts_table: String,
    pub dimensions_table: String,
    pub raw_prefix: String,
    pub rejects_prefix: String,
    pub queue_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub source: Source,
    pub scrape: RunSummary,
    /// `None` when the deployed Lambda consumes the queue.
    pub parse: Option<DrainSummary>,
    /// Posts in the table after the run (counted on the emulator only: a scan costs on AWS).
    pub posts_in_table: Option<u64>,
    pub seconds: f64,
    pub data: Locations,
    /// Where the components' log lines were shipped (`None` when they were not collected).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<Shipped>,
}

impl Report {
    /// New posts: fetched as new by the scraper, or inserted by the parser.
    pub fn new_posts(&self) -> u32 {
        self.scrape.new
    }

    /// Search items and documents that could not be read (kept, with their reasons).
    pub fn rejected(&self) -> usize {
        self.scrape.rejected_items as usize + self.parse.as_ref().map_or(0, |p| p.rejected)
    }

    /// Whether the data landed: the scrape completed (or stopped at its limit) and no message
    /// was left on the queue by a failing parse.
    pub fn ok(&self) -> bool {
        matches!(self.scrape.outcome, Outcome::Completed | Outcome::Limited)
            && self.parse.as_ref().is_none_or(|p| p.failed == 0)
    }

    pub fn text(&self) -> String {
        let s = &self.scrape;
        let mut out = String::new();
        let source = match self.source.kind {
            "captures" => format!(
                "{} (the repository's MCF captures{})",
                self.source.url,
                self.source
                    .reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
            _ => self.source.url.clone(),
        };
        out.push_str(&format!("source     {source}\n"));
        out.push_str(&format!(
            "scrape     {} ({} profile(s), {} page(s), {} request(s), {} retried)\n",
            outcome_text(s),
            s.profiles,
            s.pages,
            s.requests,
            s.retries
        ));
        out.push_str(&format!(
            "posts      {} seen: {} new, {} updated, {} unchanged; {} fetched, {} gone, {} failed (fetched again next run)\n",
            s.posts_seen, s.new, s.changed, s.unchanged, s.fetched, s.gone, s.failed
        ));
        if s.quarantined > 0 {
            out.push_str(&format!(
                "quarantine {} post(s) kept answering a block sign while MCF answered: kept under rejects/, asked again next run",
                s.quarantined
            ));
            for q in s.quarantine.iter().take(5) {
                out.push_str(&format!("\n           {} ({})", q.uuid, q.reject_key));
            }
            if s.quarantine.len() > 5 {
                out.push_str(&format!("\n           … and {} more", s.quarantine.len() - 5));
            }
            out.push('\n');
        }
        match &self.parse {
            Some(p) => out.push_str(&format!(
                "parse      {} message(s): {} inserted, {} replaced, {} filled, {} unchanged, {} rejected, {} failed\n",
                p.received, p.inserted, p.replaced, p.filled, p.unchanged, p.rejected, p.failed
            )),
            None => out.push_str(&format!(
                "parse      {} message(s) queued for the deployed parser function\n",
                s.enqueued
            )),
        }
        out.push_str(&format!("rejected   {}", self.rejected()));
        if let Some(p) = &self.parse {
            for r in p.rejects.iter().take(5) {
                out.push_str(&format!("\n           {}: {}", r.reject_key, r.reason));
            }
            if p.rejects.len() > 5 {
                out.push_str(&format!("\n           … and {} more", p.rejects.len() - 5));
            }
        }
        out.push('\n');
        out.push_str(&format!("time       {:.1} s\n", self.seconds));
        let count = self.posts_in_table.map(|n| format!(" ({n} posts)")).unwrap_or_default();
        out.push_str(&format!("posts      table {}{count}\n", self.data.posts_table));
        out.push_str(&format!("raw        {}\n", self.data.raw_prefix));
        out.push_str(&format!("rejects    {}\n", self.data.rejects_prefix));
        out.push_str(&format!(
            "run log    table {} (pk = scrape_run, sk = {})\n",
            self.data.dimensions_table, s.run_id
        ));
        if let Some(logs) = &self.logs {
            let shipped: Vec<String> = logs
                .groups
                .iter()
                .filter(|g| g.shipped > 0)
                .filter_map(|g| g.group.as_ref().map(|name| format!("{name} ({} line(s))", g.shipped)))
                .collect();
            if !shipped.is_empty() {
                out.push_str(&format!(
                    "logs       {} in stream {} (`{}`)\n",
                    shipped.join(", "),
                    logs.stream,
                    logs.read_with
                ));
            }
        }
        out
    }
}

fn outcome_text(s: &RunSummary) -> String {
    match s.outcome {
        Outcome::Completed => "completed".into(),
        Outcome::Limited => "stopped at --max-posts; the next run continues".into(),
        Outcome::Failed => format!("FAILED: {}", s.error.as_deref().unwrap_or("unknown error")),
        Outcome::Blocked => format!(
            "BLOCKED by MCF at {}: stopped at once; wait hours before the next run, or lower the rate",
            s.blocked_url.as_deref().unwrap_or("?")
        ),
    }
}

/// The scraper's component name: its artifact in stacks/compute.yaml, the container the task
/// definition runs, the label of its recorded calls, the `component` of its log lines and the
/// end of its log group's name.
pub const SCRAPER: &str = mcfscrape::COMPONENT;
/// The parser's component name (the Lambda function's artifact). The local poller's SQS calls
/// are recorded as the parser's too: on AWS the event source mapping polls the queue with the
/// function's role.
pub const PARSER: &str = mcfparse_lambda::COMPONENT;

/// Runs one search: scrape, then (with `drain`) parse everything queued.
pub async fn run(
    aws: &Aws,
    names: &DataNames,
    mcf_default: &str,
    rate_default: f64,
    options: &Options,
    ui: &Ui,
) -> Result<Report> {
    run_recording(aws, names, mcf_default, rate_default, options, ui, None).await
}

/// [`run`], recording the scraper's and the parser's calls in `recorder` (each under its
/// component name) when one is given.
pub async fn run_recording(
    aws: &Aws,
    names: &DataNames,
    mcf_default: &str,
    rate_default: f64,
    options: &Options,
    ui: &Ui,
    recorder: Option<&Recorder>,
) -> Result<Report> {
    let component = |name: &str| match recorder {
        Some(r) => aws.recording(r, name),
        None => aws.clone(),
    };
    let (scraper_aws, parser_aws) = (component(SCRAPER), component(PARSER));
    let started = Instant::now();
    let (source, fixture) = choose_source(mcf_default, options, ui).await?;
    let rate = options
        .rate
        .unwrap_or(if fixture.is_some() { 0.0 } else { rate_default });
    ui.info(&format!(
        "scraping {}{}",
        source.url,
        if rate > 0.0 {
            format!(" at {rate} request(s)/s")
        } else {
            " with no rate limit".into()
        }
    ));
    let client = McfClient::new(&ClientConfig {
        base_url: source.url.clone(),
        ..ClientConfig::default()
    })
    .map_err(|e| anyhow!("cannot build the MCF client: {e}"))?;
    let mut fetcher = Fetcher::new(client, RetryPolicy::default(), rate);
    let store = AwsStore::connect(
        &scraper_aws,
        AwsNames {
            posts_table: names.posts_table.clone(),
            dimensions_table: names.dimensions_table.clone(),
            bucket: names.bucket.clone(),
            queue: names.queue_url.clone(),
        },
    )
    .await
    .map_err(|e| anyhow!("{e}"))?;
    let run_options = match &options.scraper_log {
        Some(log) => RunOptions {
            log: log.clone(),
            max_posts: options.max_posts,
            ..RunOptions::default()
        },
        None => RunOptions {
            quiet: true,
            max_posts: options.max_posts,
            ..RunOptions::default()
        },
    };
    let scrape = mcfscrape::run(&mut fetcher, &store, &run_options).await;
    drop(fixture);
    if let Some(log) = &options.scraper_log {
        // The run's last line, as the task writes it, stamped before the parse starts.
        log.write(&scrape.log_line());
    }
    // In text mode the scraper's echo (`for_session`) has just shown that line.
    if options.scraper_log.is_none() || ui.json() {
        ui.info(&format!(
            "scrape {}: {} post(s) seen, {} fetched and queued",
            serde_json::to_value(scrape.outcome)?.as_str().unwrap_or("done"),
            scrape.posts_seen,
            scrape.enqueued
        ));
    }

    let parse = if options.drain {
        let handler = Handler::from_names(
            &parser_aws,
            &mcfstore::Names {
                posts_table: Some(names.posts_table.clone()),
                data_bucket: Some(names.bucket.clone()),
                dimensions_table: Some(names.dimensions_table.clone()),
                parse_queue_url: Some(names.queue_url.clone()),
                ..Default::default()
            },
        )
        .map_err(|e| anyhow!("{e}"))?;
        let handler = match &options.parser_log {
            Some(log) => handler.with_logger(log.clone()),
            None => handler.with_log(false),
        };
        ui.info(
            "parsing the queued documents with the parser's handler (local poller: the emulator runs no Lambda code)",
        );
        let drained = mcfparse_lambda::drain(&parser_aws.sqs(), &names.queue_url, &handler, &DrainOptions::default())
            .await
            .map_err(|e| anyhow!("{e}"))?;
        Some(drained)
    } else {
        None
    };
    let posts_in_table = if aws.endpoint().is_some() {
        Some(count_posts(&aws.dynamodb(), &names.posts_table).await?)
    } else {
        None
    };
    Ok(Report {
        source,
        posts_in_table,
        seconds: started.elapsed().as_secs_f64(),
        data: Locations {
            posts_table: names.posts_table.clone(),
            dimensions_table: names.dimensions_table.clone(),
            raw_prefix: format!("s3://{}/raw/{}/", names.bucket, scrape.run_id.get(..10).unwrap_or("")),
            rejects_prefix: format!("s3://{}/rejects/", names.bucket),
            queue_url: names.queue_url.clone(),
        },
        scrape,
        parse,
        logs: None,
    })
}

/// MCF itself, the given URL, or the captures (asked for, or MCF unreachable and allowed).
async fn choose_source(mcf_default: &str, options: &Options, ui: &Ui) -> Result<(Source, Option<FixtureServer>)> {
    let captures = |reason: Option<String>| -> Result<(Source, Option<FixtureServer>)> {
        let server = FixtureServer::default_on_free_port()
            .map_err(|e| anyhow!("cannot start the fixture server on 127.0.0.1: {e}"))?;
        Ok((
            Source {
                url: server.url().to_string(),
                kind: "captures",
                reason,
            },
            Some(server),
        ))
    };
    if options.offline {
        return captures(Some("--offline".into()));
    }
    if let Some(url) = &options.mcf_url {
        return Ok((
            Source {
                url: url.clone(),
                kind: "url",
                reason: None,
            },
            None,
        ));
    }
    match reachable(mcf_default).await {
        Ok(()) => Ok((
            Source {
                url: mcf_default.to_string(),
                kind: "mcf",
                reason: None,
            },
            None,
        )),
        Err(why) if options.fallback_offline => {
            ui.warn(&format!(
                "{mcf_default} cannot be reached ({why}): using the repository's MCF captures instead"
            ));
            captures(Some(format!("{mcf_default} unreachable: {why}")))
        }
        Err(why) => Err(anyhow!(
            "{mcf_default} cannot be reached ({why}); give --mcf-url URL, or --offline to use the repository's captures"
        )),
    }
}

/// Whether a TCP connection to the URL's host opens within a few seconds.
async fn reachable(url: &str) -> std::result::Result<(), String> {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    let default_port = if url.starts_with("http://") { 80 } else { 443 };
    let target = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_string()
    } else {
        format!("{authority}:{default_port}")
    };
    let connect = async {
        let addrs: Vec<_> = tokio::net::lookup_host(&target)
            .await
            .map_err(|e| format!("DNS: {e}"))?
            .collect();
        let first = addrs.first().ok_or_else(|| format!("DNS: no address for {target}"))?;
        tokio::net::TcpStream::connect(first)
            .await
            .map(|_| ())
            .map_err(|e| format!("connect {first}: {e}"))
    };
    tokio::time::timeout(Duration::from_secs(5), connect)
        .await
        .map_err(|_| "no answer within 5 s".to_string())?
}

/// Post items (`sk = POST`) in the posts table.
pub async fn count_posts(ddb: &aws_sdk_dynamodb::Client, table: &str) -> Result<u64> {
    use aws_sdk_dynamodb::types::{AttributeValue, Select};
    let mut total = 0u64;
    let mut start = None;
    loop {
        let page = ddb
            .scan()
            .table_name(table)
            .select(Select::Count)
            .filter_expression("#sk = :post")
            .expression_attribute_names("#sk", mcfcore::layout::SK)
            .expression_attribute_values(":post", AttributeValue::S(mcfcore::layout::POST_SK.into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| anyhow!("DynamoDB Scan {table}: {}", mcfstore::error_text(&e)))?;
        total += u64::try_from(page.count()).unwrap_or(0);
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    Ok(total)
}

/// Runs the search on the environment's `names`, shipping the components' log lines to their
/// log groups; the caller reports it.
pub async fn for_session(s: &Session, aws: &Aws, names: &DataNames, flags: &Flags) -> Result<Report> {
    let emulator = aws.endpoint().is_some();
    let shipping = start_shipping(s, aws).await;
    let options = Options {
        mcf_url: flags.mcf_url.clone(),
        offline: flags.offline,
        // Only the local environment falls back to the captures by itself: elsewhere they
        // would land in real tables.
        fallback_offline: s.config.is_local(),
        rate: flags.rate,
        max_posts: flags.max_posts,
        drain: flags.drain || emulator,
        scraper_log: shipping.log(SCRAPER),
        parser_log: shipping.log(PARSER),
    };
    let scraper = &s.config.compute.scraper;
    let result = run(aws, names, &scraper.mcf_url, scraper.rate_per_second, &options, &s.ui).await;
    // Shipped whether the run failed or not: its lines say why.
    let mut shipped = shipping.finish().await;
    shipped.read_with = format!("cargo xtask logs --env {}", s.env);
    for problem in shipped.problems() {
        s.ui.warn(&problem);
    }
    let mut report = result?;
    report.logs = Some(shipped);
    Ok(report)
}

/// Collecting sinks for the scraper and the parser, shipped to their deployed log groups.
async fn start_shipping(s: &Session, aws: &Aws) -> Shipping {
    let groups = match crate::logs::discover(s, &s.cfn(aws)).await {
        Ok(groups) => groups,
        Err(e) => {
            s.ui.warn(&format!(
                "the log groups cannot be found, this run's log lines stay here: {e:#}"
            ));
            Vec::new()
        }
    };
    let target = |component: &str, echo: bool| {
        let group = groups.iter().find(|g| g.component == component);
        Target {
            component: component.to_string(),
            group: group.filter(|g| g.deployed).map(|g| g.name.clone()),
            why_not: Some(match group {
                Some(g) => g.deploy_advice(&s.env),
                None => format!("no stack of {} declares a log group for {component}", s.env),
            }),
            // The scraper's progress shows as it always did (`mcfscrape: …`); the parser's
            // per-record lines would bury the summary, as its counts say it all.
            echo: (echo && !s.ui.json()).then(|| s.ui.sibling()),
        }
    };
    let every = if aws.is_emulator() {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(5)
    };
    let stream = stream_name(mcfcore::log::now_millis(), std::process::id());
    Shipping::start(aws, stream, vec![target(SCRAPER, true), target(PARSER, false)], every)
}

/// Prints the summary and the result line (with `extra` merged in); exit 1 when the data
/// did not land.
pub fn finish(s: &Session, report: &Report, extra: serde_json::Value) -> Result<u8> {
    s.ui.print(&report.text());
    let ok = report.ok();
    let mut doc = json!({"ok": ok, "env": s.env, "search": report});
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        doc.extend(extra.clone());
    }
    if ok {
        s.ui.emit("result", doc);
        Ok(0)
    } else {
        let why = match &report.parse {
            Some(p) if p.failed > 0 => format!(
                "{} document(s) could not be stored and stay on the queue for redelivery: {}",
                p.failed,
                p.failures.first().map(String::as_str).unwrap_or("")
            ),
            _ => "the scrape did not complete (see above)".to_string(),
        };
        s.ui.error(&why);
        s.ui.emit("result", doc);
        Ok(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reachability_is_a_tcp_connect() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(reachable(&format!("http://127.0.0.1:{port}/v2")).await, Ok(()));
        drop(listener);
        assert!(reachable(&format!("http://127.0.0.1:{port}")).await.is_err());
        assert!(reachable("https://mcf.invalid").await.unwrap_err().starts_with("DNS"));
    }
}
