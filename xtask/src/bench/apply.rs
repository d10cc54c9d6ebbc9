//! `bench apply`: the time per application (issue 12) as a user runs it, against the original's
//! way, in one run.
//!
//! - ours: `cargo xtask run apply --env local --site SITE --pause 0` typed through cargo (the
//!   apply task's own run: the session read, each job's `STATUS` read, the flow in Debian's
//!   headless Chromium over the DevTools pipe, evidence to S3, the attempt and the CRM's move
//!   written), on moto with the database stack, against the fake MCF website of `mcffixture`;
//!   a dry run of `--jobs` fresh `TOAPPLY` jobs, then `--submit` on the same jobs;
//! - the peer: `bench/apply_playwright.py`, the original's flow with Playwright for Python
//!   (home page, job page, apply button, resume card, save, review, submit), driving the same
//!   Chromium binary against the same site, on the same number of jobs. It writes no record.
//!
//! Per application is the median of every job's own seconds (each side times its jobs
//! itself); the start-up is the browser's launch until the first job can begin; the command row
//! is the whole command as typed, cargo and AWS included, and is not like for like (the peer
//! records nothing) and says so. Prints one table; `--write` replaces the apply section of
//! docs/benchmarks.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{load_average, machine, median, tempdir, write_section};
use crate::artifacts::{Workspace, cargo_command};
use crate::local;
use crate::session::Project;
use crate::ui::{Ui, table};

pub const START: &str = "<!-- bench:apply:start -->";
pub const END: &str = "<!-- bench:apply:end -->";

/// Where the peer's Python is looked for when `MCFPIPE_PLAYWRIGHT_PYTHON` is not set
/// (`.ci/run` makes it).
pub const PLAYWRIGHT_VENV: &str = "/var/cache/mcfpipe/playwright-venv/bin/python";

#[derive(Debug, Deserialize)]
struct PeerJob {
    outcome: String,
    seconds: f64,
}

#[derive(Debug, Deserialize)]
struct PeerReport {
    startup_seconds: f64,
    seconds: f64,
    jobs: Vec<PeerJob>,
}

/// One side's figures of one run and mode.
#[derive(Debug, Default, Clone)]
struct Side {
    per_job: Vec<f64>,
    startup: Vec<f64>,
    command: Vec<f64>,
}

fn python() -> Result<PathBuf> {
    let p = std::env::var_os("MCFPIPE_PLAYWRIGHT_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(PLAYWRIGHT_VENV));
    let ok = Command::new(&p)
        .args(["-c", "import playwright.sync_api"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        bail!(
            "the peer needs Playwright for Python: {} cannot import it. Make the virtualenv: python3 -m venv /var/cache/mcfpipe/playwright-venv && /var/cache/mcfpipe/playwright-venv/bin/pip install playwright (or set MCFPIPE_PLAYWRIGHT_PYTHON); `.ci/run` does it",
            p.display()
        );
    }
    Ok(p)
}

fn s(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.1} s")
    } else {
        format!("{v:.2} s")
    }
}

pub async fn run(project: &Project, ui: &Ui, runs: usize, jobs: usize, write: bool) -> Result<u8> {
    if runs == 0 || jobs == 0 {
        bail!("--runs and --jobs must be at least 1");
    }
    let ws = Workspace::load(&project.workspace)?;
    let python = python()?;
    let browser = mcfapply::cdp::find_browser().map_err(|e| anyhow!("{e}"))?;
    let dir = tempdir()?;
    let moto = local::moto_command(&project.root, ui)?;
    let (mut child, port) = local::spawn(&moto, &dir.join("moto.log"), false)?;
    ui.info(&format!("moto at http://127.0.0.1:{port} (pid {})", child.id()));
    let result = measure(project, ui, &ws, &dir, port, &python, &browser, runs, jobs).await;
    local::terminate(child.id());
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let (rows, notes, details) = result?;

    let mut text = vec![vec![
        "figure".to_string(),
        "mcfpipe".into(),
        "original's way (Playwright)".into(),
        "peer / ours".into(),
    ]];
    text.extend(rows.iter().cloned());
    ui.print(&table(&text));
    for n in &notes {
        ui.info(n);
    }
    if write {
        let mut m = machine("python3", None);
        m.insert("load_after".into(), load_average().unwrap_or_default());
        let mut md = format!(
            "{START}\nMeasured {} with `cargo xtask bench apply --runs {runs} --jobs {jobs} --write` ({runs} runs, medians; {}, {} cores; {}; {}; Playwright {}; load average {} before, {} after).\n\n",
            m["measured_at"],
            m["cpu"],
            m["cores"],
            m["rustc"],
            details["browser"].as_str().unwrap_or_default(),
            details["playwright"].as_str().unwrap_or_default(),
            details["load_before"].as_str().unwrap_or_default(),
            m["load_after"],
        );
        md.push_str("| figure | mcfpipe | original's way (Playwright) | peer / ours |\n| - | -: | -: | -: |\n");
        for r in &rows {
            md.push_str(&format!("| {} |\n", r.join(" | ")));
        }
        md.push('\n');
        for n in &notes {
            md.push_str(&format!("- {n}\n"));
        }
        md.push_str(END);
        write_section(&project.root, START, END, &md, ui)?;
    }
    ui.document(&json!({"runs": runs, "jobs": jobs, "rows": rows, "notes": notes, "details": details}));
    Ok(0)
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    project: &Project,
    ui: &Ui,
    ws: &Workspace,
    dir: &Path,
    port: u16,
    python: &Path,
    browser: &Path,
    runs: usize,
    jobs: usize,
) -> Result<(Vec<Vec<String>>, Vec<String>, Value)> {
    let url = format!("http://127.0.0.1:{port}");
    let load_before = load_average().unwrap_or_default();
    let (session, aws) = super::database_in_moto(project, ui, dir, &url).await?;
    let names = crate::workflow::apply::ApplyNames::deployed(&session, &aws).await?;
    // The fake site's session, stored as `mcf session` stores it.
    let cookies = std::fs::read_to_string(project.root.join("config/seed/mcf-cookies.json"))
        .context("config/seed/mcf-cookies.json")?;
    let checked = mcfapply::session::read(&cookies, 0).map_err(|e| anyhow!("the seed cookies: {e}"))?;
    aws.s3()
        .put_object()
        .bucket(&names.bucket)
        .key(mcfstore::mcf_session::SESSION_KEY)
        .body(serde_json::to_vec(&checked)?.into())
        .send()
        .await
        .map_err(|e| anyhow!("PutObject session: {}", crate::aws::error_text(&e)))?;
    let site = mcffixture::FixtureServer::default_on_free_port().context("the fake MCF website")?;
    let crm = mcfstore::crm::CrmStore::new(aws.dynamodb(), &names.crm_table);
    let script = ws.root.join("bench/apply_playwright.py");
    let mut ours: BTreeMap<&str, Side> = BTreeMap::new();
    let mut peer: BTreeMap<&str, Side> = BTreeMap::new();
    let mut product = String::new();
    for r in 0..runs {
        // Fresh jobs: a submitted job leaves TOAPPLY.
        let uuids: Vec<String> = (0..jobs)
            .map(|i| format!("{:032x}", (r as u128) << 64 | i as u128 | 1 << 127))
            .collect();
        let at = mcfstore::now_utc();
        for u in &uuids {
            let job = bench_job(u, &at);
            let event = mcfstore::crm::Event {
                at: at.clone(),
                from: None,
                to: "TOAPPLY".into(),
                actor: "user".into(),
                note: None,
                revision: 1,
            };
            crm.create(&job, &event).await.map_err(|e| anyhow!("{e}"))?;
        }
        let listed: Vec<Value> = uuids
            .iter()
            .map(|u| json!({"uuid": u, "url": bench_job(u, &at).url, "cv_version": "11.4"}))
            .collect();
        let jobs_file = dir.join(format!("jobs-{r}.json"));
        std::fs::write(&jobs_file, serde_json::to_vec(&listed)?)?;
        for mode in ["dry run", "submit"] {
            ui.step(
                "bench",
                &format!(
                    "run {}: {mode}: `cargo xtask run apply` on {jobs} jobs, then the peer",
                    r + 1
                ),
            );
            let mut cmd = cargo_command();
            cmd.current_dir(&ws.root)
                .args(["xtask", "--root"])
                .arg(session.project.root.as_os_str())
                .args(["--endpoint-url", &url, "run", "apply", "--env", "local"])
                .args(["--site", site.url(), "--pause", "0", "--output", "json"]);
            if mode == "submit" {
                cmd.arg("--submit");
            }
            let started = Instant::now();
            let out = cmd.output().context("cargo xtask run apply")?;
            let wall = started.elapsed().as_secs_f64();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let result = stdout
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| v["event"] == "result")
                .ok_or_else(|| {
                    anyhow!(
                        "`cargo xtask run apply` ({mode}) printed no result (exit {:?}):\n{}\n{}",
                        out.status.code(),
                        stdout,
                        String::from_utf8_lossy(&out.stderr)
                    )
                })?;
            let a = &result["apply"];
            let want = if mode == "submit" { "01_applied" } else { "dry_run_ok" };
            if a["outcomes"][want].as_u64() != Some(jobs as u64) {
                bail!("`cargo xtask run apply` ({mode}) did not end every job in {want}: {a}");
            }
            product = a["browser"].as_str().unwrap_or_default().to_string();
            let side = ours.entry(mode).or_default();
            side.per_job.extend(
                a["jobs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|j| j["seconds"].as_f64()),
            );
            side.startup.push(a["browser_seconds"].as_f64().unwrap_or_default());
            side.command.push(wall);

            let mut py = Command::new(python);
            py.arg(&script)
                .args(["--site", site.url()])
                .arg("--chromium")
                .arg(browser)
                .arg("--jobs")
                .arg(&jobs_file);
            if mode == "submit" {
                py.arg("--submit");
            }
            let started = Instant::now();
            let out = py.output().context("the Playwright peer")?;
            let wall = started.elapsed().as_secs_f64();
            if !out.status.success() {
                bail!("the Playwright peer failed:\n{}", String::from_utf8_lossy(&out.stderr));
            }
            let rep: PeerReport = serde_json::from_slice(&out.stdout)
                .with_context(|| format!("the peer's answer: {}", String::from_utf8_lossy(&out.stdout)))?;
            if let Some(bad) = rep.jobs.iter().find(|j| j.outcome != want) {
                bail!("the peer ended a job in {} ({mode})", bad.outcome);
            }
            let side = peer.entry(mode).or_default();
            side.per_job.extend(rep.jobs.iter().map(|j| j.seconds));
            side.startup.push(rep.startup_seconds);
            side.command.push(wall.max(rep.seconds));
        }
    }
    drop(site);
    let ratio = |o: f64, p: f64| {
        if o > 0.0 {
            format!("{:.1}x", p / o)
        } else {
            String::new()
        }
    };
    let mut rows = Vec::new();
    for mode in ["dry run", "submit"] {
        let (o, p) = (&ours[mode], &peer[mode]);
        let (om, pm) = (median(o.per_job.clone()), median(p.per_job.clone()));
        rows.push(vec![
            format!("per application, {mode} (median of {} jobs)", o.per_job.len()),
            s(om),
            s(pm),
            ratio(om, pm),
        ]);
    }
    let (os, ps) = (
        median(ours.values().flat_map(|s| s.startup.clone()).collect()),
        median(peer.values().flat_map(|s| s.startup.clone()).collect()),
    );
    rows.push(vec![
        "browser start-up (launch to first job)".into(),
        s(os),
        s(ps),
        ratio(os, ps),
    ]);
    for mode in ["dry run", "submit"] {
        let (oc, pc) = (median(ours[mode].command.clone()), median(peer[mode].command.clone()));
        rows.push(vec![
            format!("whole command, {jobs} jobs, {mode} (as typed; not like for like)"),
            s(oc),
            s(pc),
            String::new(),
        ]);
    }
    let playwright = Command::new(python)
        .args(["-c", "import importlib.metadata as m; print(m.version('playwright'))"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let notes = vec![
        format!(
            "Ours: `cargo xtask run apply --env local --site SITE --pause 0 [--submit]` typed through cargo on moto with the database stack; the per-application figure is each job's own time in `mcfapply::flow` (Chromium over the DevTools pipe: job page, apply button, resume card, save, review, and the submit with MCF's confirmation awaited; a dry run's screenshot and HTML taken), the whole command adds cargo, the session read, each job's STATUS read, the claim, evidence PNG + HTML put to S3 (dry run) and the attempt's transaction with the CRM move (submit)."
        ),
        "The peer: bench/apply_playwright.py, the original's flow with Playwright for Python (it also opens MCF's home page before each job, as the original did), driving the same Chromium binary against the same fake MCF website (`mcffixture`), on the same jobs; it writes no record and takes no screenshot.".into(),
        "The fake website answers at once; on MCF each page's own load time adds to both sides alike. A run's pause between jobs (20 s by default) is set to 0 here.".into(),
    ];
    let details = json!({
        "browser": product,
        "playwright": playwright,
        "load_before": load_before,
        "ours": ours.iter().map(|(k, v)| (k.to_string(), json!({"per_job": v.per_job, "startup": v.startup, "command": v.command}))).collect::<serde_json::Map<_, _>>(),
        "peer": peer.iter().map(|(k, v)| (k.to_string(), json!({"per_job": v.per_job, "startup": v.startup, "command": v.command}))).collect::<serde_json::Map<_, _>>(),
    });
    Ok((rows, notes, details))
}

fn bench_job(uuid: &str, at: &str) -> mcfstore::crm::Job {
    mcfstore::crm::Job {
        uuid: uuid.into(),
        track: "data".into(),
        stage: "TOAPPLY".into(),
        close_reason: None,
        reached: Some("TOAPPLY".into()),
        revision: 1,
        created_at: at.into(),
        updated_at: at.into(),
        stage_at: at.into(),
        deadline: None,
        scores: None,
        reasons: None,
        summary: None,
        library_version: None,
        title: "Data Engineer".into(),
        company: Some("ACME".into()),
        url: Some(format!(
            "https://www.mycareersfuture.gov.sg/job/information-technology/data-engineer-acme-{uuid}"
        )),
        posted_date: None,
        closing_date: None,
        salary_min: None,
        salary_max: None,
        cv_version: Some("11.4".into()),
        notes: None,
        contacts: vec![],
    }
}
