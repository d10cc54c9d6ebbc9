//! `mcffixture`: runs the fake MCF API until killed, for manual runs of the scraper
//! (`mcfscrape --mcf-url <the printed URL>`) and the benchmark.

use std::io::Write;

use clap::Parser;
use mcffixture::{Fault, FixtureServer, Scenario};

/// A fake MyCareersFuture API on 127.0.0.1 serving the repository's captures.
///
/// Prints its URL (`http://127.0.0.1:PORT`) as the first line of stdout, then serves until it
/// is killed (SIGTERM / SIGINT, or by PID).
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Inject a fault: ROUTE:N[-M|+]:KIND with ROUTE search|detail (requests counted from 1 per
    /// route), any (every route, counted together: a site-wide fault) or detail/UUID (that
    /// post's detail only, its requests counted), KIND a status (500, 403, 429@SECONDS for
    /// Retry-After), delay=MS, truncate, notajob (a 200 that is not a job post) or verify (a 200
    /// with a verification page). Repeatable.
    #[arg(long = "fault", value_name = "FAULT")]
    faults: Vec<Fault>,
    /// Serve this post with a later `updatedAt` (a changed post). Repeatable.
    #[arg(long, value_name = "UUID")]
    bump: Vec<String>,
    /// Serve N new posts before the captured ones.
    #[arg(long, default_value_t = 0)]
    extra: u32,
    /// Leave this post out of search results and answer 404 for its detail. Repeatable.
    #[arg(long, value_name = "UUID")]
    remove: Vec<String>,
    /// Report this `total` for queries without a category filter (MCF's cap is 10000).
    #[arg(long)]
    capped_total: Option<u64>,
    /// Link a next page from every page and never name a last one (pagination ends on 418).
    #[arg(long)]
    endless_links: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let scenario = Scenario {
        bumped: cli.bump.into_iter().map(|u| (u, 1)).collect(),
        extra: cli.extra,
        removed: cli.remove.into_iter().collect(),
        capped_total: cli.capped_total,
        endless_links: cli.endless_links,
    };
    let server = FixtureServer::start(cli.port, scenario, cli.faults)
        .map_err(|e| anyhow::anyhow!("cannot listen on 127.0.0.1:{}: {e} (try --port 0)", cli.port))?;
    let mut out = std::io::stdout();
    writeln!(out, "{}", server.url())?;
    out.flush()?;
    loop {
        // The server runs on its own thread; the process ends when it is killed.
        std::thread::park();
    }
}
