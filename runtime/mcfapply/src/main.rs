//! `mcfapply`: one apply run (the Fargate task's command), configured by flags or the
//! environment variables the apply stack sets, ending with the run's summary as one JSON line
//! on stdout. Progress lines go to stderr in the log-line format of all components.
//!
//! Exit codes: 0 the run went through its jobs (whatever their outcomes); 1 an error stopped it
//! (AWS, the browser); 2 bad flags; 3 the session is missing or expired (stored, or MCF sent
//! its login page): the rest stay `TOAPPLY`, the user is told.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use mcfapply::flow;
use mcfapply::run::{self, Settings};
use mcfapply::session::State;
use mcfcore::log::{Level, Log, Stderr};

/// Apply on MyCareersFuture for the CRM's jobs in TOAPPLY, in a headless Chromium, with the
/// session stored by `cargo xtask mcf session`. A dry run (the default) stops at the submit
/// button and records `dry_run_ok`; --submit submits.
#[derive(Parser, Debug)]
#[command(version, max_term_width = 100)]
struct Cli {
    /// Submit the applications (default: a dry run).
    #[arg(long, env = "MCFAPPLY_SUBMIT", default_value_t = false)]
    submit: bool,
    /// Only this job (`<uuid>~<track>`, or a uuid).
    #[arg(long, env = "MCFAPPLY_JOB")]
    job: Option<String>,
    /// At most this many attempts.
    #[arg(long, env = "MCFAPPLY_MAX_JOBS")]
    max_jobs: Option<usize>,
    /// Seconds between two jobs.
    #[arg(long, env = "MCFAPPLY_PAUSE", default_value_t = 20.0)]
    pause: f64,
    /// MCF's website (a local fake's origin in tests).
    #[arg(long, env = "MCFAPPLY_SITE", default_value = flow::MCF_SITE)]
    site: String,
    /// How many times the apply button is waited for.
    #[arg(long, env = "MCFAPPLY_BUTTON_TRIES", default_value_t = 5)]
    button_tries: u32,
    /// Seconds of each of those waits.
    #[arg(long, env = "MCFAPPLY_BUTTON_WAIT", default_value_t = 5.0)]
    button_wait: f64,
    /// The environment's name (for notifications).
    #[arg(long, env = "MCFAPPLY_ENV", default_value = "dev")]
    env: String,
    #[arg(long, env = "CRM_TABLE")]
    crm_table: String,
    #[arg(long, env = "APPLICATIONS_TABLE")]
    applications_table: String,
    #[arg(long, env = "DIMENSIONS_TABLE")]
    dimensions_table: String,
    #[arg(long, env = "DATA_BUCKET")]
    data_bucket: String,
    /// The notification topic's ARN.
    #[arg(long, env = "ALERT_TOPIC_ARN")]
    alert_topic: Option<String>,
    /// The browser binary (default: MCFAPPLY_CHROMIUM, then chromium-headless-shell or
    /// chromium on PATH).
    #[arg(long)]
    browser: Option<PathBuf>,
    /// AWS endpoint for a local emulator.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    #[arg(long, env = "AWS_REGION")]
    region: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log = Log::new("mcfapply", Arc::new(Stderr::auto()));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            log.error(format!("no async runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    rt.block_on(async_main(cli, log))
}

async fn async_main(cli: Cli, log: Log) -> ExitCode {
    let aws = match mcfstore::Aws::connect_to(cli.endpoint_url.clone(), cli.region.clone()).await {
        Ok(aws) => aws,
        Err(e) => {
            log.error(format!("AWS: {e}"));
            return ExitCode::from(1);
        }
    };
    let settings = Settings {
        crm_table: cli.crm_table,
        applications_table: cli.applications_table,
        dimensions_table: cli.dimensions_table,
        data_bucket: cli.data_bucket,
        alert_topic: cli.alert_topic.filter(|t| !t.is_empty()),
        env: cli.env,
        flow: flow::Options {
            site: cli.site,
            submit: cli.submit,
            button_tries: cli.button_tries,
            button_wait: Duration::from_secs_f64(cli.button_wait.max(0.0)),
            ..flow::Options::default()
        },
        pause: Duration::from_secs_f64(cli.pause.max(0.0)),
        only: cli.job,
        max_jobs: cli.max_jobs,
        by: "task".into(),
        browser: cli.browser,
        scratch: None,
    };
    match run::run(&aws, &settings, &log).await {
        Ok(summary) => {
            let mut line = log.line(Level::Info, "summary").fields_of(&summary);
            line = line.field("event", "summary");
            println!("{}", line.to_json());
            if summary.stopped.is_some() && matches!(summary.session, State::Expired | State::Missing) {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            log.error(format!("{e}"));
            ExitCode::from(1)
        }
    }
}
