//! `mcfscrape`: one scraper run, configured by flags or environment variables (the Fargate
//! task sets the variables), ending with the run summary as one JSON line on stdout.
//!
//! Every line it writes is in the log-line format of all components (`mcfcore::log`): the
//! progress lines on stderr (`mcfscrape: …` text instead when stderr is a terminal), the
//! summary on stdout with the summary's fields. The task's `awslogs` driver ships both streams
//! to `/ecs/mcfpipe-<env>-mcfscrape`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use mcfcore::SearchProfile;
use mcfcore::log::{Level, LogLine, LogSink, Stderr};
use mcfscrape::aws::{AwsNames, AwsStore};
use mcfscrape::{ClientConfig, Fetcher, McfClient, MemoryStore, RetryPolicy, RunOptions, RunSummary};

/// Scrape MyCareersFuture: page the search results of every search profile, fetch new and
/// changed job posts, write them raw to S3 and queue them for the parser.
///
/// Search profiles come from the dimensions table (pk = search_profile), or from a JSON file
/// with `--store memory`. A run is incremental (posts already in the posts table at the same
/// `updatedAt` are not fetched again) and resumable (a killed run's checkpoint is picked up by
/// the next run within 24 hours).
///
/// Exit codes: 0 the run completed or reached --max-posts (details that failed after retries,
/// and posts quarantined for answering a verification page or 403 while the rest of MCF
/// answered, are counted in the summary and fetched again next run); 1 an error stopped the run
/// (configuration, AWS, or a search page that kept failing); 2 bad flags; 3 blocked by MCF (403
/// or a verification page on a search page, or on a post and again on one confirming request,
/// or on more posts than a run quarantines): the run stopped at once, wait hours before the
/// next one and consider a lower --rate.
#[derive(Parser, Debug)]
#[command(version, max_term_width = 100)]
struct Cli {
    /// MCF API base URL (a fixture server's URL for local runs).
    #[arg(long, env = "MCFSCRAPE_MCF_URL", default_value = mcfscrape::client::MCF_API)]
    mcf_url: String,
    /// Requests per second to MCF, retries included; 0 = no limit (fixture servers only).
    #[arg(long, env = "MCFSCRAPE_RATE", default_value_t = 2.0)]
    rate: f64,
    /// Where profiles come from and documents go.
    #[arg(long, env = "MCFSCRAPE_STORE", value_enum, default_value_t = StoreKind::Aws)]
    store: StoreKind,
    /// `--store memory`: a JSON array of search profiles (name, track, keywords, categories,
    /// employment_types, position_levels, min_salary). Nothing is kept after the run.
    #[arg(long, env = "MCFSCRAPE_PROFILES", required_if_eq("store", "memory"))]
    profiles: Option<PathBuf>,
    /// Environment name: table and queue names default to mcfpipe-<ENV>-posts,
    /// mcfpipe-<ENV>-dimensions and mcfpipe-<ENV>-parse.
    #[arg(long, env = "MCFSCRAPE_ENV")]
    env: Option<String>,
    #[arg(long, env = "MCFSCRAPE_POSTS_TABLE")]
    posts_table: Option<String>,
    #[arg(long, env = "MCFSCRAPE_DIMENSIONS_TABLE")]
    dimensions_table: Option<String>,
    /// The data bucket (mcfpipe-<env>-data-<account>-<region>).
    #[arg(long, env = "MCFSCRAPE_BUCKET")]
    bucket: Option<String>,
    /// The parse queue's URL or name.
    #[arg(long, env = "MCFSCRAPE_QUEUE")]
    queue: Option<String>,
    /// AWS endpoint for a local emulator (http://127.0.0.1:PORT); dummy credentials are used
    /// for loopback endpoints.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    #[arg(long, env = "AWS_REGION")]
    region: Option<String>,
    /// Results per search page (MCF allows 1 to 100).
    #[arg(long, env = "MCFSCRAPE_PAGE_SIZE", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100))]
    page_size: u32,
    /// Attempts per request, the first included.
    #[arg(long, env = "MCFSCRAPE_MAX_ATTEMPTS", default_value_t = 5)]
    max_attempts: u32,
    /// Seconds for a whole request (connect, send, read the body).
    #[arg(long, env = "MCFSCRAPE_TIMEOUT", default_value_t = 30.0)]
    timeout: f64,
    /// Seconds to establish a connection.
    #[arg(long, env = "MCFSCRAPE_CONNECT_TIMEOUT", default_value_t = 10.0)]
    connect_timeout: f64,
    /// Fetch at most this many job details, then stop (exit 0, outcome `limited`); the next
    /// run continues where this one stopped.
    #[arg(long, env = "MCFSCRAPE_MAX_POSTS")]
    max_posts: Option<u32>,
    /// No progress lines on stderr (the summary line is still printed on stdout).
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StoreKind {
    /// DynamoDB, S3 and SQS.
    Aws,
    /// In memory, for trying the scraper without AWS.
    Memory,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            fail(format!("cannot start the async runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(scrape(cli)) {
        Ok(summary) => {
            println!("{}", summary.log_line().to_json());
            ExitCode::from(summary.outcome.exit_code())
        }
        Err(e) => {
            fail(format!("{e:#}"));
            ExitCode::from(1)
        }
    }
}

/// What stopped the binary before or outside a run, as an error line on stderr.
fn fail(message: String) {
    Stderr::auto().write(&LogLine::new(mcfscrape::COMPONENT, Level::Error, message));
}

async fn scrape(cli: Cli) -> Result<RunSummary> {
    let seconds = |s: f64, flag: &str| {
        Duration::try_from_secs_f64(s).with_context(|| format!("--{flag} {s} is not a number of seconds"))
    };
    let client = McfClient::new(&ClientConfig {
        base_url: cli.mcf_url.clone(),
        connect_timeout: seconds(cli.connect_timeout, "connect-timeout")?,
        request_timeout: seconds(cli.timeout, "timeout")?,
        ..ClientConfig::default()
    })
    .map_err(anyhow::Error::msg)?;
    let policy = RetryPolicy {
        max_attempts: cli.max_attempts.max(1),
        ..RetryPolicy::default()
    };
    let mut fetcher = Fetcher::new(client, policy, cli.rate);
    let options = RunOptions {
        page_limit: cli.page_size,
        quiet: cli.quiet,
        max_posts: cli.max_posts,
        ..RunOptions::default()
    };
    match cli.store {
        StoreKind::Memory => {
            let path = cli.profiles.context("--store memory needs --profiles FILE")?;
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let profiles: Vec<SearchProfile> = serde_json::from_str(&text)
                .with_context(|| format!("{}: not a JSON array of search profiles", path.display()))?;
            let store = MemoryStore::new(profiles);
            Ok(mcfscrape::run(&mut fetcher, &store, &options).await)
        }
        StoreKind::Aws => {
            let names = aws_names(&cli)?;
            let aws = mcfstore::Aws::connect_to(cli.endpoint_url.clone(), cli.region.clone()).await?;
            let store = AwsStore::connect(&aws, names).await?;
            Ok(mcfscrape::run(&mut fetcher, &store, &options).await)
        }
    }
}

fn aws_names(cli: &Cli) -> Result<AwsNames> {
    let derived = |what: &str| cli.env.as_ref().map(|env| format!("mcfpipe-{env}-{what}"));
    let need = |value: Option<String>, flag: &str| {
        value.with_context(|| {
            format!(
                "--{flag} (or MCFSCRAPE_{}) is required with --store aws",
                flag.to_uppercase().replace('-', "_")
            )
        })
    };
    let names = AwsNames {
        posts_table: need(cli.posts_table.clone().or_else(|| derived("posts")), "posts-table")?,
        dimensions_table: need(
            cli.dimensions_table.clone().or_else(|| derived("dimensions")),
            "dimensions-table",
        )?,
        bucket: need(cli.bucket.clone(), "bucket")?,
        queue: need(cli.queue.clone().or_else(|| derived("parse")), "queue")?,
    };
    if names.bucket.is_empty() {
        bail!("--bucket is empty");
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_and_env_derives_names() {
        let cli = Cli::try_parse_from(["mcfscrape", "--env", "local", "--bucket", "b", "--rate", "0"]).unwrap();
        let names = aws_names(&cli).unwrap();
        assert_eq!(names.posts_table, "mcfpipe-local-posts");
        assert_eq!(names.dimensions_table, "mcfpipe-local-dimensions");
        assert_eq!(names.queue, "mcfpipe-local-parse");
        assert_eq!(cli.mcf_url, "https://api.mycareersfuture.gov.sg");
        let cli = Cli::try_parse_from(["mcfscrape", "--env", "local"]).unwrap();
        assert!(aws_names(&cli).unwrap_err().to_string().contains("--bucket"));
        assert!(Cli::try_parse_from(["mcfscrape", "--store", "memory"]).is_err());
        assert!(Cli::try_parse_from(["mcfscrape", "--page-size", "101"]).is_err());
    }
}
