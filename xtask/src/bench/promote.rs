//! `bench promote`: bringing `staging` to the release `dev` runs, two ways, on one moto server
//! in the same run: `promote --from dev --to staging` (copy the artifacts, deploy, verify)
//! against rebuilding from source and deploying (`deploy all --env staging`: cargo build, zip,
//! image build and push, deploy). Each run starts from a staging with no stacks, so both sides
//! create the same four stacks; dev is released and deployed once, untimed.
//!
//! The rebuild side is measured three ways: after a change to the shared core crate, with the
//! checkout's warm build cache (what a new commit costs: an incremental compile of everything
//! built on it); with nothing changed (cargo and the Docker build cache find nothing to do: the
//! floor of any rebuild); and, with `--cold`, once from an empty cargo target directory, which
//! is what a CI job without a cache does.
//!
//! dev and staging are copies of the `local` config (host debug builds, the local registry):
//! the cheapest builds the deployer makes. A real environment builds release binaries with
//! cargo-lambda for arm64 and a static scraper, which only makes the rebuild side slower.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::{copy_dir, median, tempdir, timed, version, write_section};
use crate::local;
use crate::session::Project;
use crate::ui::Ui;
use crate::ui::table;

const START: &str = "<!-- bench:promote:start -->";
const END: &str = "<!-- bench:promote:end -->";

pub async fn run(project: &Project, ui: &Ui, runs: usize, write: bool, cold: bool) -> Result<u8> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let me = std::env::current_exe().context("cannot find the xtask binary")?;
    if me.file_stem().and_then(|s| s.to_str()) != Some("xtask") {
        bail!("run the benchmark as `cargo xtask bench promote`: it runs its own binary");
    }
    let engine = match crate::artifacts::image::engine().await {
        Ok(_) => "images built, pushed and copied".to_string(),
        Err(why) => {
            ui.warn(&format!(
                "no Docker engine ({why}): the scraper image is skipped on both sides"
            ));
            format!("no Docker engine ({why}): images skipped on both sides")
        }
    };
    let dir = tempdir()?;
    let root = dir.join("project");
    for sub in ["config", "stacks", "templates"] {
        copy_dir(&project.root.join(sub), &root.join(sub))?;
    }
    let local_config = std::fs::read_to_string(root.join("config/local.yaml"))?;
    for env in ["dev", "staging"] {
        std::fs::write(root.join(format!("config/{env}.yaml")), &local_config)?;
    }
    let copy = Project::new(Some(root.clone()));

    let moto = local::moto_command(&copy.root, ui)?;
    let (mut child, port) = local::spawn(&moto, &dir.join("moto.log"), false)?;
    let url = format!("http://127.0.0.1:{port}");
    ui.info(&format!(
        "benchmark: {runs} run(s), moto at {url} (pid {}); {engine}",
        child.id()
    ));
    let result = measure(&copy, ui, &me, &url, &dir, runs, cold);
    local::terminate(child.id());
    let _ = child.wait();
    local::stop_registry(&copy.root);
    let _ = std::fs::remove_dir_all(&dir);
    let rows = result?;

    let mut text = vec![vec![
        "staging to dev's release".to_string(),
        "median".to_string(),
        "runs".to_string(),
        "rebuild / promote".to_string(),
    ]];
    let promote = rows[0].1;
    for (name, secs, n) in &rows {
        text.push(vec![
            name.to_string(),
            format!("{secs:.2} s"),
            n.to_string(),
            format!("{:.1}x", secs / promote),
        ]);
    }
    ui.print(&table(&text));
    if write {
        write_section(&project.root, START, END, &markdown(&rows, runs, cold, &engine), ui)?;
    }
    ui.document(&serde_json::json!({
        "runs": runs,
        "rows": rows.iter().map(|(n, s, k)| serde_json::json!({"scenario": n, "seconds": s, "runs": k, "ratio": s / promote})).collect::<Vec<_>>(),
    }));
    Ok(0)
}

fn measure(
    project: &Project,
    ui: &Ui,
    me: &Path,
    url: &str,
    dir: &Path,
    runs: usize,
    cold: bool,
) -> Result<Vec<(&'static str, f64, usize)>> {
    let xtask = |args: &[&str]| {
        let mut cmd = Command::new(me);
        cmd.arg("--root")
            .arg(&project.root)
            .args(["--endpoint-url", url])
            .args(args);
        cmd
    };
    let teardown = || {
        timed(
            &mut xtask(&["teardown", "all", "--env", "staging", "--yes"]),
            "teardown staging",
        )
    };
    ui.info("setup (untimed): release dev, deploy it");
    timed(&mut xtask(&["release", "--env", "dev"]), "release dev")?;
    timed(
        &mut xtask(&["deploy", "all", "--env", "dev", "--no-build", "--yes"]),
        "deploy dev",
    )?;
    // Warm-up, untimed: moto imports each service's backend on first use.
    timed(
        &mut xtask(&["promote", "--from", "dev", "--to", "staging", "--yes"]),
        "warm-up promote",
    )?;
    teardown()?;
    // A new release always comes with changed source: the shared core crate's mtime is moved,
    // so cargo recompiles it and everything built on it (both components), incrementally.
    let core = project.workspace.join("runtime/core/src/lib.rs");
    let touch = || -> Result<()> {
        std::fs::File::options()
            .append(true)
            .open(&core)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()))
            .with_context(|| format!("cannot touch {}", core.display()))
    };
    let (mut promote, mut changed, mut nothing) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs {
        promote.push(timed(
            &mut xtask(&["promote", "--from", "dev", "--to", "staging", "--yes"]),
            "promote",
        )?);
        teardown()?;
        touch()?;
        changed.push(timed(
            &mut xtask(&["deploy", "all", "--env", "staging", "--yes"]),
            "rebuild after a source change and deploy",
        )?);
        teardown()?;
        nothing.push(timed(
            &mut xtask(&["deploy", "all", "--env", "staging", "--yes"]),
            "rebuild with nothing changed and deploy",
        )?);
        teardown()?;
        ui.info(&format!(
            "run {}: promote {:.2} s; rebuild and deploy: after a source change {:.2} s, nothing changed {:.2} s",
            i + 1,
            promote[i],
            changed[i],
            nothing[i]
        ));
    }
    let mut rows = vec![
        ("promote --from dev --to staging", median(promote), runs),
        (
            "rebuild after a change to the shared crate (incremental, warm cargo cache) + deploy all",
            median(changed),
            runs,
        ),
        (
            "rebuild with nothing changed (cargo and the image build find nothing to do) + deploy all",
            median(nothing),
            runs,
        ),
    ];
    if cold {
        let target = dir.join("cold-target");
        ui.info(&format!(
            "cold rebuild: cargo starts from an empty target directory ({})",
            target.display()
        ));
        let mut cmd = xtask(&["deploy", "all", "--env", "staging", "--yes"]);
        cmd.env("CARGO_TARGET_DIR", &target);
        // The finished runs are kept (and written) when this long step fails.
        match timed(&mut cmd, "cold rebuild and deploy") {
            Ok(secs) => {
                ui.info(&format!("cold rebuild and deploy: {secs:.1} s"));
                rows.push((
                    "rebuild from source (empty cargo cache, as CI without one) + deploy all",
                    secs,
                    1,
                ));
            }
            Err(e) => ui.warn(&format!("the cold rebuild failed, so it has no row: {e:#}")),
        }
        let _ = std::fs::remove_dir_all(&target);
    }
    Ok(rows)
}

fn markdown(rows: &[(&str, f64, usize)], runs: usize, cold: bool, engine: &str) -> String {
    let promote = rows[0].1;
    let mut md = format!(
        "{START}\nMeasured {} with `cargo xtask bench promote --runs {runs}{} --write` (medians; moto {}; {}; {} cores). \
         Each run starts from a staging with no stacks; both sides create the same four stacks.\n\n\
         | staging to dev's release | wall time | runs | rebuild / promote |\n| - | -: | -: | -: |\n",
        local::now_rfc3339(),
        if cold { " --cold" } else { "" },
        version("python3", &["-c", "import moto; print(moto.__version__)"]),
        engine,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
    );
    for (name, secs, n) in rows {
        md.push_str(&format!("| {name} | {secs:.2} s | {n} | {:.1}x |\n", secs / promote));
    }
    md.push_str(END);
    md
}
