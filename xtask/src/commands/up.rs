//! `up`: everything a first run needs, in one command: deploy every layer, seed the search
//! profiles, sync the recommender's library (config sync, from `sync.source`), run one jobs
//! search, score and screen its posts, and say what happened and where the data is, ending with
//! the shortlist per track.

use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use serde_json::json;

use crate::actions::{deploy::Options, walk};
use crate::session::Session;
use crate::workflow::library::{self, Origin};
use crate::workflow::recommend::{self, RecommendNames, SHORTLIST};
use crate::workflow::search::{self, Flags, finish};
use crate::workflow::{DataNames, profiles};

pub async fn run(s: &Session, flags: &Flags, yes: bool) -> Result<u8> {
    let started = Instant::now();
    // A bad seed file stops `up` before anything is deployed.
    let seed_path = profiles::seed_file(&s.project.config_dir());
    let list = profiles::load(&seed_path)?;
    // So does a bad library file (a workbook is read once deployed: its key is in SSM).
    let origin = Origin::choose(s, None)?;
    let files = library::read_files(&origin);
    if let Some(source) = &files {
        gsheetui::sync::check(source).map_err(|e| anyhow!("up: {}: {e}", origin.describe()))?;
    }

    s.ui.info(&format!("1/5 deploy every layer of {}", s.env));
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
        "2/5 seed {} search profile(s) from {}",
        list.len(),
        seed_path.display()
    ));
    let aws = s.aws().await?;
    let names = DataNames::deployed(s, &aws).await?;
    profiles::write(s, &aws, &names, &seed_path, &list).await?;

    s.ui.info(&format!(
        "3/5 sync the recommender's library from {}",
        origin.describe()
    ));
    let source = match files {
        Some(source) => source,
        None => library::read(s, &aws, &origin).await?,
    };
    let synced = library::sync(&aws, &names.dimensions_table, &source, false)
        .await
        .map_err(|e| anyhow!("up: the library from {}: {e}", origin.describe()))?;
    s.ui.info(&if synced.written {
        format!(
            "library version {} written ({} table(s))",
            synced.version,
            synced.tables_written.len()
        )
    } else {
        format!("library unchanged (version {})", synced.version)
    });

    s.ui.info("4/5 run one jobs search");
    let report = search::for_session(s, &aws, &names, flags).await?;

    s.ui.info("5/5 score the new posts for every track and screen the best into the CRM");
    let rec_names = RecommendNames::deployed(s, &aws).await?;
    // The captures are scored as of the day they were taken: none would be recent today.
    let as_of = if report.source.kind == "captures" {
        s.ui.info(&format!(
            "the posts are the repository's MCF captures: scored and screened as of {} (the day they were taken)",
            recommend::CAPTURES_DAY
        ));
        Some(recommend::parse_day(recommend::CAPTURES_DAY)?)
    } else {
        None
    };
    let played = if aws.is_emulator() {
        let shipping = recommend::start_shipping(s, &aws).await;
        let played = recommend::play(
            s,
            &aws,
            &aws,
            &rec_names,
            as_of,
            shipping.log(jobmatch_lambda::COMPONENT),
        )
        .await;
        recommend::finish_shipping(s, shipping).await;
        let played = played?;
        s.ui.print(&recommend::play_text(&played));
        Some(played)
    } else {
        s.ui.info("on AWS the recommender function scores the new posts from the stream within a minute");
        None
    };
    // Posts scored with an earlier library are rescored with the one just written (the stream
    // only brings new and changed posts).
    let rescored = if synced.written && synced.version_before.is_some() {
        let reason = format!("up wrote library version {}", synced.version);
        let summary = recommend::rescore_as_of(s, &aws, &reason, None, as_of.filter(|_| aws.is_emulator())).await?;
        s.ui.print(&recommend::summary_text(&summary));
        Some(summary)
    } else {
        None
    };
    let lists = recommend::shortlist(&aws, &rec_names, as_of, SHORTLIST).await?;

    s.ui.print(&format!(
        "stacks     {}\nprofiles   {}\nlibrary    version {} ({})\n",
        deployed.summary(),
        list.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", "),
        synced.version,
        if synced.written { "written" } else { "unchanged" }
    ));
    s.ui.info(&format!(
        "up: finished in {:.1} s; `cargo xtask run search --env {}` runs the next search (only what changed is fetched)",
        started.elapsed().as_secs_f64(),
        s.env
    ));
    let code = finish(
        s,
        &report,
        json!({"deploy": deployed, "profiles": list.iter().map(|p| &p.name).collect::<Vec<_>>(), "seconds": started.elapsed().as_secs_f64(),
            "library": {"version": synced.version, "version_before": synced.version_before, "written": synced.written,
                "tables_written": synced.tables_written},
            "recommend": played, "rescore": rescored, "shortlist": lists}),
    )?;
    // Last, as a first run's answer: the best recent open posts per track, and why.
    s.ui.print(&recommend::shortlist_text(&lists));
    // Then where to work on them: the CRM (the emulator's API Gateway runs no Lambda code, so
    // it is served from here). Text only: the JSON result line stays last.
    s.ui.print(&format!(
        "crm        the CRM: `cargo xtask crm token --env {env}` once (prints your token), then `cargo xtask crm serve --env {env}` (prints its URL)\n\
         apply      jobs you mark to apply: `cargo xtask mcf session --env {env} --cookies FILE` once (your browser's MCF cookies{seed}), then `cargo xtask run apply --env {env}` (a dry run; --submit submits)\n",
        env = s.env,
        seed = if s.env == "local" { "; here config/seed/mcf-cookies.json, the fake MCF's" } else { "" }
    ));
    let given_up = played.as_ref().map_or(0, |p| p.given_up.len()) + rescored.as_ref().map_or(0, |r| r.failed);
    if code == 0 && given_up > 0 {
        s.ui.error(&format!("{given_up} post(s) could not be scored (listed above)"));
        return Ok(1);
    }
    Ok(code)
}
