//! `bench`: our `deploy all` against `aws cloudformation deploy` (one call per stack, as the
//! original pipeline's CI did), on one moto server, with the same rendered templates, in the
//! same run. Prints a table of medians; `--write` puts it into docs/benchmarks.md.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::{copy_dir, median, replace_section, tempdir, timed, version, which};
use crate::files::write_file;
use crate::local;
use crate::resolve::{DeployedOutputs, Missing};
use crate::session::{Project, Session};
use crate::ui::Ui;
use crate::ui::table;

const ENV: &str = "local";
pub(crate) const START: &str = "<!-- bench:deploy:start -->";
pub(crate) const END: &str = "<!-- bench:deploy:end -->";

pub fn run(project: &Project, ui: &Ui, runs: usize, write: bool) -> Result<u8> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let aws_cli = which("aws").context("the benchmark compares with the AWS CLI: `pip install awscli`")?;
    let me = std::env::current_exe().context("cannot find the xtask binary")?;
    if me.file_stem().and_then(|s| s.to_str()) != Some("xtask") {
        bail!("run the benchmark as `cargo xtask bench`: it runs its own binary as the mcfpipe side");
    }
    let dir = tempdir()?;
    let result = bench_data_layers(project, ui, &dir, &me, &aws_cli, runs, write);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The stacks both tools deploy: the data layers, whose parameters need no other stack's
/// outputs and no build (the awscli side has no way to pass those).
const BENCH_STACKS: [&str; 2] = ["networking", "database"];

/// Copies config/, templates/ and the manifests of [`BENCH_STACKS`] under `dir`.
fn data_layers_copy(project: &Project, dir: &Path) -> Result<Project> {
    let root = dir.join("project");
    for sub in ["config", "templates"] {
        copy_dir(&project.root.join(sub), &root.join(sub))?;
    }
    std::fs::create_dir_all(root.join("stacks"))?;
    for name in BENCH_STACKS {
        let file = format!("stacks/{name}.yaml");
        std::fs::copy(project.root.join(&file), root.join(&file)).with_context(|| format!("cannot copy {file}"))?;
    }
    Ok(Project::new(Some(root)))
}

fn bench_data_layers(
    real: &Project,
    ui: &Ui,
    dir: &Path,
    me: &Path,
    aws_cli: &Path,
    runs: usize,
    write: bool,
) -> Result<u8> {
    let project = &data_layers_copy(real, dir)?;
    let session = Session::open(project.clone(), ENV, ui.sibling(), None)?;

    // The templates both tools deploy: rendered once, by us.
    let mut stacks = Vec::new();
    for stack in &session.plan.stacks {
        let r = session.render(stack, &DeployedOutputs::new(), Missing::Placeholder)?;
        if r.has_placeholders() {
            bail!(
                "stack {} takes outputs of other stacks: the awscli side of the benchmark cannot resolve them",
                stack.name
            );
        }
        let file = dir.join(format!("{}.json", stack.name));
        write_file(&file, &r.body)?;
        let tags: Vec<String> = r.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        stacks.push((r.full_name.clone(), file, tags));
    }

    let moto = local::moto_command(&project.root, ui)?;
    let (mut child, port) = local::spawn(&moto, &dir.join("moto.log"), false)?;
    let url = format!("http://127.0.0.1:{port}");
    ui.info(&format!(
        "benchmark: {runs} run(s) of each, moto at {url} (pid {})",
        child.id()
    ));
    let result = measure(project, ui, me, aws_cli, &url, port, &stacks, runs);
    local::terminate(child.id());
    let _ = child.wait();
    let rows = result?;

    let mut text = vec![vec![
        "scenario".to_string(),
        "mcfpipe (median)".to_string(),
        "aws cloudformation deploy (median)".to_string(),
        "awscli / mcfpipe".to_string(),
    ]];
    for (name, ours, theirs) in &rows {
        text.push(vec![
            name.to_string(),
            secs(*ours),
            secs(*theirs),
            format!("{:.1}x", theirs / ours),
        ]);
    }
    ui.print(&table(&text));
    if write {
        let file = real.root.join("docs/benchmarks.md");
        let old = std::fs::read_to_string(&file).unwrap_or_default();
        write_file(&file, &replace_section(&old, START, END, &markdown(&rows, runs)))?;
        ui.info(&format!("written to {}", file.display()));
    }
    ui.document(&serde_json::json!({
        "runs": runs,
        "rows": rows.iter().map(|(n, o, t)| serde_json::json!({"scenario": n, "mcfpipe_s": o, "awscli_s": t, "ratio": t / o})).collect::<Vec<_>>(),
    }));
    Ok(0)
}

type Stacks = [(String, std::path::PathBuf, Vec<String>)];

#[allow(clippy::too_many_arguments)]
fn measure(
    project: &Project,
    ui: &Ui,
    me: &Path,
    aws_cli: &Path,
    url: &str,
    port: u16,
    stacks: &Stacks,
    runs: usize,
) -> Result<Vec<(&'static str, f64, f64)>> {
    let ours = |what: &str| -> Result<f64> {
        let mut cmd = Command::new(me);
        cmd.arg("--root")
            .arg(&project.root)
            .args(["--endpoint-url", url, "deploy", "all", "--env", ENV, "--yes"]);
        timed(&mut cmd, what)
    };
    let theirs = |what: &str| -> Result<f64> {
        let t = Instant::now();
        for (name, file, tags) in stacks {
            let mut cmd = Command::new(aws_cli);
            cmd.args([
                "--endpoint-url",
                url,
                "--region",
                "ap-southeast-1",
                "cloudformation",
                "deploy",
            ])
            .arg("--template-file")
            .arg(file)
            .args([
                "--stack-name",
                name,
                "--no-fail-on-empty-changeset",
                "--capabilities",
                "CAPABILITY_NAMED_IAM",
            ])
            .arg("--tags")
            .args(tags)
            .env("AWS_ACCESS_KEY_ID", "bench")
            .env("AWS_SECRET_ACCESS_KEY", "bench")
            .env_remove("AWS_PROFILE");
            timed(&mut cmd, what)?;
        }
        Ok(t.elapsed().as_secs_f64())
    };
    // moto imports each service's backend on first use (about a second): warm both paths up,
    // untimed, so that neither tool pays it in the figures.
    local::reset(port)?;
    ours("warm-up")?;
    local::reset(port)?;
    theirs("warm-up")?;
    let (mut of, mut on, mut tf, mut tn) = (vec![], vec![], vec![], vec![]);
    for i in 0..runs {
        local::reset(port)?;
        of.push(ours("mcfpipe full deploy")?);
        on.push(ours("mcfpipe no-change deploy")?);
        local::reset(port)?;
        tf.push(theirs("awscli full deploy")?);
        tn.push(theirs("awscli no-change deploy")?);
        ui.info(&format!(
            "run {}: full {} vs {}, no change {} vs {}",
            i + 1,
            secs(of[i]),
            secs(tf[i]),
            secs(on[i]),
            secs(tn[i])
        ));
    }
    Ok(vec![
        (
            "full deploy from nothing (networking + database)",
            median(of),
            median(tf),
        ),
        ("redeploy, nothing changed", median(on), median(tn)),
    ])
}

fn secs(s: f64) -> String {
    format!("{s:.2} s")
}

fn markdown(rows: &[(&str, f64, f64)], runs: usize) -> String {
    let mut md = format!(
        "{START}\nMeasured {} with `cargo xtask bench --runs {runs} --write` ({runs} runs each, medians; \
         moto {}, {}; {} cores).\n\n\
         | scenario | mcfpipe `deploy all` | `aws cloudformation deploy` per stack | awscli / mcfpipe |\n| - | -: | -: | -: |\n",
        local::now_rfc3339(),
        version("python3", &["-c", "import moto; print(moto.__version__)"]),
        version("aws", &["--version"]),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
    );
    for (name, ours, theirs) in rows {
        md.push_str(&format!(
            "| {name} | {} | {} | {:.1}x |\n",
            secs(*ours),
            secs(*theirs),
            theirs / ours
        ));
    }
    md.push_str(END);
    md
}
