//! `mcfbench`: the measurements `cargo xtask bench runtime`, `bench recommend` and `bench crm` run in a
//! release build, each printing one JSON document on stdout. Run it through the deployer,
//! which pins it to a core, runs the Python peer the same way and takes the medians.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "The runtime benchmarks' measurements (run by `cargo xtask bench runtime`, `bench recommend` and `bench crm`)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write the captures as single documents plus manifest.json.
    Prepare {
        /// tests/fixtures/mcf
        #[arg(long)]
        fixtures: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Only this many search items (default: all 100).
        #[arg(long)]
        items: Option<usize>,
    },
    /// Parse throughput of mcfparse on prepared documents, per kind and run.
    Parse {
        #[arg(long)]
        docs: PathBuf,
        /// Time budget per kind and run.
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// The scraper's own overhead per post against the fixture server, rate limit off
    /// (one untimed warm-up run first).
    Scrape {
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Write the recommender benchmark's score set: posts.json (the captures) and
    /// library.json (the starter library plus a third track).
    PrepareScore {
        /// tests/fixtures/mcf
        #[arg(long)]
        fixtures: PathBuf,
        /// config/seed/library
        #[arg(long)]
        library: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// jobmatch scoring throughput on a score set (every post for every track), per run;
    /// `--check` prints every (post, track) score instead, one JSON object a line.
    Score {
        #[arg(long)]
        set: PathBuf,
        /// Time budget per run.
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        #[arg(long)]
        check: bool,
    },
    /// `GET /jobs` with filters on the CRM's local server (release), against the naive way
    /// (the stage index queried per request, filtered after), on the tables at `--endpoint`
    /// (moto, filled by `cargo xtask bench crm`). AWS region and credentials from the
    /// environment.
    Crm {
        #[arg(long)]
        endpoint: String,
        /// A bearer token whose hash is under `--token-path` in SSM.
        #[arg(long)]
        token: String,
        #[arg(long)]
        crm_table: String,
        #[arg(long)]
        dimensions_table: String,
        #[arg(long)]
        posts_table: String,
        #[arg(long)]
        token_path: String,
        /// Timed requests on the server, the filters in turn.
        #[arg(long, default_value_t = 500)]
        requests: usize,
        /// Timed requests of the naive baseline.
        #[arg(long, default_value_t = 30)]
        naive_requests: usize,
        /// `posted_since` of the filter that takes one (YYYY-MM-DD).
        #[arg(long)]
        posted_since: String,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Prepare { fixtures, out, items } => {
            let manifest = mcfbench::prepare(&fixtures, &out, items)?;
            println!("{}", serde_json::to_string(&manifest)?);
        }
        Command::Parse { docs, seconds, runs } => {
            let budget = Duration::try_from_secs_f64(seconds).context("--seconds")?;
            let report = mcfbench::throughput(&mcfbench::load(&docs)?, budget, runs)?;
            println!("{}", serde_json::to_string(&report)?);
        }
        Command::Scrape { runs } => {
            // The scraper binary's runtime: one thread. The fixture server has a thread of its own.
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let server = mcffixture::FixtureServer::default_on_free_port()?;
            let runs = runtime.block_on(async {
                mcfbench::scrape_run(&server).await?;
                let mut all = Vec::new();
                for _ in 0..runs {
                    all.push(mcfbench::scrape_run(&server).await?);
                }
                anyhow::Ok(all)
            })?;
            println!("{}", serde_json::json!({ "runs": runs }));
        }
        Command::PrepareScore { fixtures, library, out } => {
            let info = mcfbench::score::prepare_score(&fixtures, &library, &out)?;
            println!("{}", serde_json::to_string(&info)?);
        }
        Command::Score {
            set,
            seconds,
            runs,
            check,
        } => {
            let (posts, library) = mcfbench::score::load_score_set(&set)?;
            if check {
                for row in mcfbench::score::score_check(&posts, &library)? {
                    println!("{}", serde_json::to_string(&row)?);
                }
            } else {
                let budget = Duration::try_from_secs_f64(seconds).context("--seconds")?;
                let report = mcfbench::score::score_throughput(&posts, &library, budget, runs)?;
                println!("{}", serde_json::to_string(&report)?);
            }
        }
        Command::Crm {
            endpoint,
            token,
            crm_table,
            dimensions_table,
            posts_table,
            token_path,
            requests,
            naive_requests,
            posted_since,
        } => {
            let setup = mcfbench::crm::CrmSetup {
                endpoint,
                token,
                settings: jobcrm_lambda::Settings {
                    crm_table,
                    dimensions_table,
                    posts_table,
                    token_path,
                    // Leads by URL are not listed: never called.
                    mcf_url: "http://127.0.0.1:9".into(),
                    applications_table: None,
                    apply_task: None,
                },
                requests,
                naive_requests,
                posted_since,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let report = runtime.block_on(mcfbench::crm::measure(&setup))?;
            println!("{}", serde_json::to_string(&report)?);
        }
    }
    Ok(())
}
