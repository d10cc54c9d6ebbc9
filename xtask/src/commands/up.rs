//! `up`: everything a first run needs, in one command: deploy every layer, seed the search
//! profiles, run one jobs search, and say what happened and where the data is.

use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::json;

use crate::actions::{deploy::Options, walk};
use crate::session::Session;
use crate::workflow::search::{self, Flags, finish};
use crate::workflow::{DataNames, profiles};

pub async fn run(s: &Session, flags: &Flags, yes: bool) -> Result<u8> {
    let started = Instant::now();
    // A bad seed file stops `up` before anything is deployed.
    let seed_path = profiles::seed_file(&s.project.config_dir());
    let list = profiles::load(&seed_path)?;

    s.ui.info(&format!("1/3 deploy every layer of {}", s.env));
    let deployed = walk::deploy(
        s,
        "all",
        Options {
            yes,
            ..Default::default()
        },
        None,
    )
    .await
    .context("up: the deploy failed, nothing was searched")?;
    if let Some(e) = deployed.failure() {
        return Err(e.context("up: the deploy failed, nothing was searched"));
    }
    s.ui.emit("deployed", json!(deployed));

    s.ui.info(&format!(
        "2/3 seed {} search profile(s) from {}",
        list.len(),
        seed_path.display()
    ));
    let aws = s.aws().await?;
    let names = DataNames::deployed(s, &aws).await?;
    profiles::write(s, &aws, &names, &seed_path, &list).await?;

    s.ui.info("3/3 run one jobs search");
    let report = search::for_session(s, &aws, &names, flags).await?;
    s.ui.print(&format!(
        "stacks     {}\nprofiles   {}\n",
        deployed.summary(),
        list.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
    ));
    s.ui.info(&format!(
        "up: finished in {:.1} s; `cargo xtask run search --env {}` runs the next search (only what changed is fetched)",
        started.elapsed().as_secs_f64(),
        s.env
    ));
    let code = finish(
        s,
        &report,
        json!({"deploy": deployed, "profiles": list.iter().map(|p| &p.name).collect::<Vec<_>>(), "seconds": started.elapsed().as_secs_f64()}),
    )?;
    Ok(code)
}
