//! `bench deploy`: the deploy as a user types it, `cargo xtask deploy all --env local` through
//! cargo (cargo's own check, the deployer, the artifact builds of the compute layer, every
//! stack), against `aws cloudformation deploy` once per stack and against sceptre 4's
//! `launch` with `!stack_output` on the same rendered templates, all on one moto server in the
//! same run: a full deploy from nothing and a no-op redeploy, plus our no-op after
//! `cargo test --workspace --no-run` (the build the tests make must not cost the next deploy a
//! compile). Prints a table of medians; `--write` puts it into docs/benchmarks.md.
//!
//! Our side runs in a copy of the project's config, stacks and templates (`--root`, so that the
//! checkout's own records and emulator stay untouched), from the checkout, with
//! `AWS_ENDPOINT_URL` naming the benchmark's moto. Nothing else differs from the typed command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::{copy_dir, median, tempdir, timed, version, which, write_section};
use crate::artifacts::record;
use crate::files::write_file;
use crate::local;
use crate::resolve::{DeployedOutputs, Missing};
use crate::session::{Project, Session};
use crate::ui::Ui;
use crate::ui::table;

const ENV: &str = "local";
const REGION: &str = "ap-southeast-1";
/// sceptre's project code: with the stack group `local`, sceptre's names are ours.
const PROJECT_CODE: &str = "mcfpipe";
pub(crate) const START: &str = "<!-- bench:deploy:start -->";
pub(crate) const END: &str = "<!-- bench:deploy:end -->";

pub fn run(project: &Project, ui: &Ui, runs: usize, write: bool) -> Result<u8> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let me = std::env::current_exe().context("cannot find the xtask binary")?;
    if me.file_stem().and_then(|s| s.to_str()) != Some("xtask") {
        bail!("run the benchmark as `cargo xtask bench deploy`: it times `cargo xtask` and its own binary");
    }
    let aws_cli = which("aws").context("the benchmark compares with the AWS CLI: `pip install awscli`")?;
    let sceptre = sceptre_command(project, ui)?;
    let dir = tempdir()?;
    let root = dir.join("project");
    for sub in ["config", "stacks", "templates"] {
        copy_dir(&project.root.join(sub), &root.join(sub))?;
    }
    let copy = Project::new(Some(root));
    let moto = local::moto_command(&project.root, ui)?;
    let (mut child, port) = local::spawn(&moto, &dir.join("moto.log"), false)?;
    let url = format!("http://127.0.0.1:{port}");
    let load_before = load_average();
    ui.info(&format!(
        "benchmark: {runs} run(s) of each, moto at {url} (pid {}); load average {load_before}",
        child.id()
    ));
    let tools = Tools {
        cargo_workspace: project.workspace.clone(),
        me,
        aws_cli,
        sceptre,
        url,
        port,
        dir: dir.clone(),
    };
    let result = measure(&copy, ui, &tools, runs);
    local::terminate(child.id());
    let _ = child.wait();
    local::stop_registry(&copy.root);
    let _ = std::fs::remove_dir_all(&dir);
    let mut m = result?;
    m.load = format!("{load_before} before, {} after", load_average());

    ui.print(&table(&text_rows(&m)));
    for note in &m.notes {
        ui.info(note);
    }
    if write {
        write_section(&project.root, START, END, &markdown(&m, runs), ui)?;
    }
    ui.document(&serde_json::json!({
        "runs": runs,
        "load_average": m.load,
        "rows": m.rows.iter().map(|r| serde_json::json!({
            "scenario": r.scenario, "mcfpipe_s": r.ours, "awscli_s": r.awscli, "sceptre_s": r.sceptre,
        })).collect::<Vec<_>>(),
        "notes": m.notes,
    }));
    Ok(0)
}

struct Tools {
    /// Where `cargo xtask` is typed: the checkout this xtask was built from.
    cargo_workspace: PathBuf,
    /// This binary: the deployer without cargo in front, for the row that shows cargo's share.
    me: PathBuf,
    aws_cli: PathBuf,
    sceptre: PathBuf,
    url: String,
    port: u16,
    dir: PathBuf,
}

struct Row {
    scenario: String,
    ours: f64,
    awscli: Option<f64>,
    sceptre: Option<f64>,
}

struct Measured {
    rows: Vec<Row>,
    notes: Vec<String>,
    load: String,
    /// `3 of 4 stacks` when the awscli side could not deploy every stack.
    awscli_stacks: String,
    sceptre_version: String,
}

/// One stack as the peers deploy it: our rendered template, its parameters (literals, or an
/// output of another stack), its tags.
struct PeerStack {
    name: String,
    full_name: String,
    file: PathBuf,
    parameters: BTreeMap<String, PeerParam>,
    tags: BTreeMap<String, String>,
}

enum PeerParam {
    Value(String),
    Output { stack: String, output: String },
}

fn measure(copy: &Project, ui: &Ui, t: &Tools, runs: usize) -> Result<Measured> {
    let records = copy.out_dir().join(ENV);
    let forget_builds = || {
        // A deploy from nothing: no build record, so the artifacts are built and published as a
        // first deploy does them (with the checkout's warm cargo cache).
        for f in ["artifacts.json", "inputs.json", "outputs.json"] {
            let _ = std::fs::remove_file(records.join(f));
        }
    };
    let ours = |what: &str| -> Result<f64> {
        let mut cmd = crate::artifacts::cargo_command();
        cmd.current_dir(&t.cargo_workspace)
            .arg("xtask")
            .arg("--root")
            .arg(&copy.root)
            .args(["deploy", "all", "--env", ENV])
            .env("AWS_ENDPOINT_URL", &t.url);
        timed(&mut cmd, what)
    };
    let binary = |what: &str| -> Result<f64> {
        let mut cmd = Command::new(&t.me);
        cmd.arg("--root")
            .arg(&copy.root)
            .args(["deploy", "all", "--env", ENV])
            .env("AWS_ENDPOINT_URL", &t.url);
        timed(&mut cmd, what)
    };
    let test_build = || -> Result<f64> {
        let mut cmd = crate::artifacts::cargo_command();
        cmd.current_dir(&t.cargo_workspace)
            .args(["test", "--workspace", "--no-run", "--quiet"]);
        timed(&mut cmd, "cargo test --workspace --no-run")
    };

    // Untimed: moto imports each service's backend on first use (about a second), and the
    // first `cargo xtask` may compile. Then the templates and artifacts the peers deploy.
    local::reset(t.port)?;
    forget_builds();
    ours("warm-up: cargo xtask deploy all")?;
    let built = record::load_all(&copy.out_dir(), ENV);
    let mut notes = Vec::new();
    match built.get("mcfscrape").map(|b| b.skipped.clone()) {
        Some(Some(why)) => notes.push(format!(
            "The scraper image was skipped on our side (no image is built, pushed or checked): {why}."
        )),
        Some(None) => notes.push(format!(
            "Our full deploy built the scraper image through the Docker engine ({}) and pushed it to a local docker-registry; the no-op found its digest there. Docker's build cache and the registry's layers are kept between runs, so after the first run the build and push are short.",
            docker_version()
        )),
        None => {}
    }
    let stacks = peer_stacks(copy, ui, t, &built)?;
    let zip = fetch_zip(t, &built)?;
    let sceptre_dir = sceptre_project(t, &stacks, zip.as_ref())?;
    let awscli_stacks: Vec<&PeerStack> = stacks
        .iter()
        .filter(|s| s.parameters.values().all(|p| matches!(p, PeerParam::Value(_))))
        .collect();
    let skipped: Vec<&str> = stacks
        .iter()
        .filter(|s| !awscli_stacks.iter().any(|a| a.name == s.name))
        .map(|s| s.name.as_str())
        .collect();
    if !skipped.is_empty() {
        notes.push(format!(
            "`aws cloudformation deploy` deploys {} of the {} stacks ({}): it creates stacks through change sets, and moto leaves a stack created by a change set without outputs (docs/LOCAL.md), so {} cannot get the outputs it takes as parameters.",
            awscli_stacks.len(),
            stacks.len(),
            awscli_stacks.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
            skipped.join(", ")
        ));
    }
    local::reset(t.port)?;
    awscli(t, &awscli_stacks, "warm-up")?;
    local::reset(t.port)?;
    sceptre(t, &sceptre_dir, "warm-up")?;
    test_build()?;

    let mut m: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for i in 0..runs {
        local::reset(t.port)?;
        forget_builds();
        let full = ours("cargo xtask deploy all: full")?;
        let noop = ours("cargo xtask deploy all: no-op")?;
        let tests = test_build()?;
        let after_tests = ours("cargo xtask deploy all: no-op after cargo test")?;
        let bin = binary("xtask deploy all: no-op")?;
        local::reset(t.port)?;
        let a_full = awscli(t, &awscli_stacks, "aws cloudformation deploy: full")?;
        let a_noop = awscli(t, &awscli_stacks, "aws cloudformation deploy: no-op")?;
        local::reset(t.port)?;
        let s_full = sceptre(t, &sceptre_dir, "sceptre launch: full")?;
        let s_noop = sceptre(t, &sceptre_dir, "sceptre launch: no-op")?;
        ui.info(&format!(
            "run {}: full {} / awscli {} / sceptre {}; no-op {} / {} / {}; no-op after cargo test --no-run ({}) {}; binary alone {}",
            i + 1,
            secs(full),
            secs(a_full),
            secs(s_full),
            secs(noop),
            secs(a_noop),
            secs(s_noop),
            secs(tests),
            secs(after_tests),
            secs(bin)
        ));
        for (k, v) in [
            ("full", full),
            ("noop", noop),
            ("tests", tests),
            ("after_tests", after_tests),
            ("bin", bin),
            ("a_full", a_full),
            ("a_noop", a_noop),
            ("s_full", s_full),
            ("s_noop", s_noop),
        ] {
            m.entry(k).or_default().push(v);
        }
    }
    let med = |k: &str| median(m[k].clone());
    let rows = vec![
        Row {
            scenario: "full deploy from nothing (empty emulator, warm cargo cache)".into(),
            ours: med("full"),
            awscli: Some(med("a_full")),
            sceptre: Some(med("s_full")),
        },
        Row {
            scenario: "redeploy, nothing changed".into(),
            ours: med("noop"),
            awscli: Some(med("a_noop")),
            sceptre: Some(med("s_noop")),
        },
        Row {
            scenario: format!(
                "redeploy, nothing changed, right after `cargo test --workspace --no-run` ({} itself)",
                secs(med("tests"))
            ),
            ours: med("after_tests"),
            awscli: None,
            sceptre: None,
        },
        Row {
            scenario: "redeploy, nothing changed: the `xtask` binary alone, without cargo".into(),
            ours: med("bin"),
            awscli: None,
            sceptre: None,
        },
    ];
    Ok(Measured {
        rows,
        notes,
        load: String::new(),
        awscli_stacks: if skipped.is_empty() {
            "every stack".into()
        } else {
            format!("{} of {} stacks", awscli_stacks.len(), stacks.len())
        },
        sceptre_version: version(&t.sceptre.display().to_string(), &["--version"]),
    })
}

/// The stacks in deploy order as the peers get them: our render of each (artifact parameters
/// as our deploy built them), written to `<dir>/templates/<stack>.json`.
fn peer_stacks(copy: &Project, ui: &Ui, t: &Tools, built: &BTreeMap<String, record::Built>) -> Result<Vec<PeerStack>> {
    let session = Session::open(copy.clone(), ENV, ui.sibling(), None)?;
    let artifacts = built.iter().map(|(k, b)| (k.clone(), b.value.clone())).collect();
    let templates = t.dir.join("sceptre/templates");
    let mut out = Vec::new();
    for stack in &session.plan.stacks {
        let r = session.render_with(stack, &DeployedOutputs::new(), &artifacts, Missing::Placeholder)?;
        let file = templates.join(format!("{}.json", stack.name));
        write_file(&file, &r.body)?;
        let mut parameters = BTreeMap::new();
        for (name, source) in &stack.manifest.parameters {
            let p = match source.output_ref() {
                Some((up, output)) => PeerParam::Output {
                    stack: up.to_string(),
                    output: output.to_string(),
                },
                None => PeerParam::Value(
                    r.parameters
                        .get(name)
                        .cloned()
                        .with_context(|| format!("stack {}: parameter {name} was not rendered", stack.name))?,
                ),
            };
            parameters.insert(name.clone(), p);
        }
        out.push(PeerStack {
            name: stack.name.clone(),
            full_name: r.full_name.clone(),
            file,
            parameters,
            tags: r.tags.clone(),
        });
    }
    Ok(out)
}

/// The Lambda zip our deploy published, fetched once so that the peers can put the same bytes
/// into their artifact bucket: `(local file, bucket, key)`.
fn fetch_zip(t: &Tools, built: &BTreeMap<String, record::Built>) -> Result<Option<(PathBuf, String, String)>> {
    let Some(zip) = built.get("mcfparse").filter(|b| b.skipped.is_none()) else {
        return Ok(None);
    };
    let outputs: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(t.dir.join("project/target/mcfpipe/local/outputs.json"))
            .context("our deploy wrote no outputs.json")?,
    )?;
    let bucket = outputs["artifacts"]["ArtifactBucketName"]
        .as_str()
        .context("no artifacts.ArtifactBucketName in our deploy's outputs")?
        .to_string();
    let file = t.dir.join("parser.zip");
    let mut cmd = peer_env(Command::new(&t.aws_cli), t);
    cmd.args(["s3", "cp", &format!("s3://{bucket}/{}", zip.value)])
        .arg(&file);
    timed(&mut cmd, "aws s3 cp (the parser zip, untimed)")?;
    Ok(Some((file, bucket, zip.value.clone())))
}

fn peer_env(mut cmd: Command, t: &Tools) -> Command {
    cmd.env("AWS_ENDPOINT_URL", &t.url)
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_DEFAULT_REGION", REGION)
        .env_remove("AWS_PROFILE");
    cmd
}

/// `aws cloudformation deploy` once per stack, in dependency order, as the original pipeline's
/// CI did.
fn awscli(t: &Tools, stacks: &[&PeerStack], what: &str) -> Result<f64> {
    let started = Instant::now();
    for s in stacks {
        let mut cmd = peer_env(Command::new(&t.aws_cli), t);
        cmd.args(["cloudformation", "deploy", "--template-file"])
            .arg(&s.file)
            .args([
                "--stack-name",
                &s.full_name,
                "--no-fail-on-empty-changeset",
                "--capabilities",
                "CAPABILITY_NAMED_IAM",
            ]);
        let values: Vec<String> = s
            .parameters
            .iter()
            .filter_map(|(k, p)| match p {
                PeerParam::Value(v) => Some(format!("{k}={v}")),
                PeerParam::Output { .. } => None,
            })
            .collect();
        if !values.is_empty() {
            cmd.arg("--parameter-overrides").args(values);
        }
        cmd.arg("--tags").args(s.tags.iter().map(|(k, v)| format!("{k}={v}")));
        timed(&mut cmd, &format!("{what} ({})", s.name))?;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// A throw-away sceptre project over the same templates: `config/config.yaml`, one stack
/// config per stack in the stack group `local`, parameters as literals or `!stack_output`,
/// the parser zip copied into the artifact bucket by a `before_create` hook of the stack that
/// needs it (what a sceptre user writes; sceptre builds nothing).
fn sceptre_project(t: &Tools, stacks: &[PeerStack], zip: Option<&(PathBuf, String, String)>) -> Result<PathBuf> {
    let dir = t.dir.join("sceptre");
    write_file(
        &dir.join("config/config.yaml"),
        &format!("project_code: {PROJECT_CODE}\nregion: {REGION}\n"),
    )?;
    for s in stacks {
        // `!stack_output` finds a stack by sceptre's own name for it, `<project_code>-<group>-<stack>`,
        // whatever `stack_name` says: the two must agree.
        let sceptre_name = format!("{PROJECT_CODE}-{ENV}-{}", s.name);
        if s.full_name != sceptre_name {
            bail!(
                "stack {} is named {}, but sceptre's !stack_output would look for {sceptre_name}",
                s.name,
                s.full_name
            );
        }
        let mut yaml = format!(
            "template:\n  type: file\n  path: {}.json\nstack_name: {}\n",
            s.name, s.full_name
        );
        if !s.parameters.is_empty() {
            yaml.push_str("parameters:\n");
            for (k, p) in &s.parameters {
                match p {
                    PeerParam::Value(v) => yaml.push_str(&format!("  {k}: {}\n", serde_json::to_string(v)?)),
                    PeerParam::Output { stack, output } => {
                        yaml.push_str(&format!("  {k}: !stack_output {ENV}/{stack}.yaml::{output}\n"))
                    }
                }
            }
        }
        yaml.push_str("stack_tags:\n");
        for (k, v) in &s.tags {
            yaml.push_str(&format!("  {k}: {}\n", serde_json::to_string(v)?));
        }
        if let Some((file, bucket, key)) = zip.filter(|z| {
            s.parameters
                .values()
                .any(|p| matches!(p, PeerParam::Value(v) if *v == z.2))
        }) {
            let cp = format!("{} s3 cp {} s3://{bucket}/{key}", t.aws_cli.display(), file.display());
            yaml.push_str(&format!(
                "hooks:\n  before_create:\n    - !cmd {}\n",
                serde_json::to_string(&cp)?
            ));
        }
        write_file(&dir.join(format!("config/{ENV}/{}.yaml", s.name)), &yaml)?;
    }
    Ok(dir)
}

/// `sceptre launch --yes local`: every stack of the group, in the order `!stack_output` implies.
fn sceptre(t: &Tools, dir: &Path, what: &str) -> Result<f64> {
    let mut cmd = peer_env(Command::new(&t.sceptre), t);
    cmd.arg("--dir").arg(dir).args(["launch", "--yes", ENV]);
    timed(&mut cmd, what)
}

/// sceptre 4: `MCFPIPE_SCEPTRE`, else `sceptre` on PATH, else a virtualenv under
/// `target/mcfpipe/venv-sceptre` (created once). Its own virtualenv because sceptre 4 pins
/// jsonschema 3.2, which moto's server extras cannot share one Python environment with.
fn sceptre_command(project: &Project, ui: &Ui) -> Result<PathBuf> {
    let candidates = std::env::var_os("MCFPIPE_SCEPTRE")
        .map(PathBuf::from)
        .into_iter()
        .chain(which("sceptre"));
    for c in candidates {
        let v = version(&c.display().to_string(), &["--version"]);
        if v.contains("version 4.") || v.starts_with("4.") {
            return Ok(c);
        }
        ui.warn(&format!("{} is not sceptre 4 ({v}): not used", c.display()));
    }
    let venv = project.out_dir().join("venv-sceptre");
    let bin = venv.join("bin/sceptre");
    if bin.is_file() {
        return Ok(bin);
    }
    ui.info(&format!(
        "sceptre 4 not found: installing it into {} (once)",
        venv.display()
    ));
    let python = which("python3").context("sceptre needs Python 3 (python3 on PATH)")?;
    crate::artifacts::run(Command::new(python).args(["-m", "venv"]).arg(&venv))?;
    crate::artifacts::run(Command::new(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "sceptre>=4,<5",
    ]))?;
    Ok(bin)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

fn secs(s: f64) -> String {
    format!("{s:.2} s")
}

fn ratio(peer: Option<f64>, ours: f64) -> String {
    peer.map(|p| format!("{:.1}x", p / ours)).unwrap_or_else(|| "—".into())
}

fn text_rows(m: &Measured) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        "scenario".to_string(),
        "cargo xtask deploy all".to_string(),
        format!("aws cloudformation deploy ({})", m.awscli_stacks),
        "sceptre launch".to_string(),
        "awscli / ours".to_string(),
        "sceptre / ours".to_string(),
    ]];
    for r in &m.rows {
        rows.push(vec![
            r.scenario.clone(),
            secs(r.ours),
            r.awscli.map(secs).unwrap_or_else(|| "—".into()),
            r.sceptre.map(secs).unwrap_or_else(|| "—".into()),
            ratio(r.awscli, r.ours),
            ratio(r.sceptre, r.ours),
        ]);
    }
    rows
}

fn markdown(m: &Measured, runs: usize) -> String {
    let mut md = format!(
        "{START}\nMeasured {} with `cargo xtask bench deploy --runs {runs} --write` ({runs} runs each, medians; \
         moto {}; {}; {}; {}; {} cores, load average {}).\n\n\
         | scenario | `cargo xtask deploy all --env local` | `aws cloudformation deploy` per stack ({}) | `sceptre launch` | awscli / ours | sceptre / ours |\n\
         | - | -: | -: | -: | -: | -: |\n",
        local::now_rfc3339(),
        version("python3", &["-c", "import moto; print(moto.__version__)"]),
        version("aws", &["--version"]),
        m.sceptre_version,
        version("rustc", &["--version"]),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        m.load,
        m.awscli_stacks,
    );
    for r in &m.rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.scenario,
            secs(r.ours),
            r.awscli.map(secs).unwrap_or_else(|| "—".into()),
            r.sceptre.map(secs).unwrap_or_else(|| "—".into()),
            ratio(r.awscli, r.ours),
            ratio(r.sceptre, r.ours),
        ));
    }
    for note in &m.notes {
        md.push_str(&format!("\n- {note}"));
    }
    if !m.notes.is_empty() {
        md.push('\n');
    }
    md.push_str(END);
    md
}

/// `dockerd 20.10.24+dfsg1` as the engine reports it, through the `docker` CLI when present.
fn docker_version() -> String {
    let v = version("docker", &["version", "--format", "{{.Server.Version}}"]);
    if v.is_empty() || v == "unknown" || v.contains(' ') {
        "version unknown".into()
    } else {
        format!("dockerd {v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sceptre_project_takes_literals_stack_outputs_tags_and_a_hook_for_the_zip() {
        let dir = tempfile::tempdir().unwrap();
        let t = Tools {
            cargo_workspace: dir.path().into(),
            me: dir.path().join("xtask"),
            aws_cli: PathBuf::from("/usr/bin/aws"),
            sceptre: PathBuf::from("sceptre"),
            url: "http://127.0.0.1:1".into(),
            port: 1,
            dir: dir.path().into(),
        };
        let stacks = vec![
            PeerStack {
                name: "database".into(),
                full_name: "mcfpipe-local-database".into(),
                file: dir.path().join("database.json"),
                parameters: BTreeMap::new(),
                tags: BTreeMap::from([("project".into(), "mcfpipe".into())]),
            },
            PeerStack {
                name: "compute".into(),
                full_name: "mcfpipe-local-compute".into(),
                file: dir.path().join("compute.json"),
                parameters: BTreeMap::from([
                    (
                        "PostsTableName".into(),
                        PeerParam::Output {
                            stack: "database".into(),
                            output: "PostsTableName".into(),
                        },
                    ),
                    ("ParserCodeKey".into(), PeerParam::Value("lambda/p/ab.zip".into())),
                    ("Subnets".into(), PeerParam::Value("a,b: c".into())),
                ]),
                tags: BTreeMap::new(),
            },
        ];
        let zip = (
            dir.path().join("p.zip"),
            "bucket".to_string(),
            "lambda/p/ab.zip".to_string(),
        );
        let project = sceptre_project(&t, &stacks, Some(&zip)).unwrap();
        let read = |p: &str| std::fs::read_to_string(project.join(p)).unwrap();
        assert!(read("config/config.yaml").contains("region: ap-southeast-1"));
        let database = read("config/local/database.yaml");
        assert!(
            database.contains("template:\n  type: file\n  path: database.json\nstack_name: mcfpipe-local-database\n")
        );
        assert!(database.contains("stack_tags:\n  project: \"mcfpipe\"\n"));
        assert!(!database.contains("hooks"), "{database}");
        let compute = read("config/local/compute.yaml");
        assert!(compute.contains("  PostsTableName: !stack_output local/database.yaml::PostsTableName\n"));
        assert!(
            compute.contains("  Subnets: \"a,b: c\"\n"),
            "values are quoted: {compute}"
        );
        assert!(
            compute.contains(&format!(
                "hooks:\n  before_create:\n    - !cmd \"/usr/bin/aws s3 cp {} s3://bucket/lambda/p/ab.zip\"\n",
                zip.0.display()
            )),
            "{compute}"
        );
    }
}
