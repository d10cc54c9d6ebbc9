//! Benchmarks (`cargo xtask bench ...`), each against its peer in the same run, written into
//! docs/benchmarks.md with `--write`: `deploy` (our deploy against the AWS CLI), `runtime` (the
//! jobs-search runtime against the targets and the Python peer), `promote` (promote
//! against rebuild + deploy), `recommend` (jobmatch's scoring against pandas + scikit-learn), `crm` (the CRM's `GET /jobs` on its local server against the naive way, its Lambda's init, cold request and memory, its zip). This module holds the shared harness: timing, medians, the
//! machine's description, pinning to a core, and the docs section markers.

pub mod apply;
pub mod crm;
pub mod deploy;
pub mod promote;
pub mod recommend;
pub mod recommend_load;
pub mod runtime;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::local;

use anyhow::{Context, Result, bail};

pub(crate) fn timed(cmd: &mut Command, what: &str) -> Result<f64> {
    let t = Instant::now();
    let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
    let elapsed = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(elapsed)
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub(crate) fn which(cmd: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(cmd)).find(|p| p.is_file())
}

pub(crate) fn tempdir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("mcfpipe-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

pub(crate) fn version(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| {
            let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
            text.lines().next().unwrap_or_default().trim().to_string()
        })
        .unwrap_or_else(|_| "unknown".into())
}

/// `text` with the part from `start` to `end` (markers included) replaced by `section`, which
/// carries its own markers; appended when the markers are missing or out of order.
pub(crate) fn replace_section(text: &str, start: &str, end: &str, section: &str) -> String {
    match (text.find(start), text.find(end)) {
        (Some(a), Some(b)) if a < b => format!("{}{section}{}", &text[..a], &text[b + end.len()..]),
        _ if text.trim().is_empty() => format!("{section}\n"),
        _ => format!("{}\n\n{section}\n", text.trim_end_matches('\n')),
    }
}

/// A throw-away copy of `project`'s config, stacks and templates under `dir/project` (so the
/// deploy's outputs file is not the user's), with its database stack deployed into the moto
/// at `url`: the copy's session and its AWS clients.
pub(crate) async fn database_in_moto(
    project: &crate::session::Project,
    ui: &crate::ui::Ui,
    dir: &Path,
    url: &str,
) -> Result<(crate::session::Session, mcfstore::Aws)> {
    use std::sync::{Arc, Mutex};
    let copy = crate::session::Project {
        root: dir.join("project"),
        workspace: project.workspace.clone(),
    };
    for sub in ["config", "stacks", "templates"] {
        copy_dir(&project.root.join(sub), &copy.root.join(sub))?;
    }
    let buffer = Arc::new(Mutex::new(String::new()));
    let session = crate::session::Session::open(
        copy,
        "local",
        crate::ui::Ui::captured(crate::ui::Format::Text, buffer.clone()),
        Some(url.to_string()),
    )?;
    ui.step("bench", &format!("deploying the database layer into moto at {url}"));
    let deployed = crate::actions::walk::deploy(
        &session,
        "database",
        crate::actions::deploy::Options {
            yes: true,
            ..Default::default()
        },
        None,
    )
    .await?;
    if let Some(e) = deployed.failure() {
        let log = buffer.lock().map(|b| b.clone()).unwrap_or_default();
        bail!("cannot deploy the database layer into moto: {e:#}\n{log}");
    }
    let aws = session.aws().await?;
    Ok((session, aws))
}

/// Copies a folder tree (the benchmarks' throw-away project copies).
/// Writes `section` between the `start` and `end` markers of `docs/benchmarks.md` (a
/// benchmark's `--write`), and says so.
pub(crate) fn write_section(root: &Path, start: &str, end: &str, section: &str, ui: &crate::ui::Ui) -> Result<()> {
    let file = root.join("docs/benchmarks.md");
    let old = std::fs::read_to_string(&file).unwrap_or_default();
    crate::files::write_file(&file, &replace_section(&old, start, end, section))?;
    ui.info(&format!("written to {}", file.display()));
    Ok(())
}

/// A Python that imports what a benchmark's peer needs.
pub struct Python {
    pub python: std::path::PathBuf,
    /// Set when this run installed them, saying where.
    pub installed: Option<String>,
}

/// `python3` when it imports `modules` (`"bs4, lxml"`); else the virtualenv
/// `target/mcfpipe/<venv>`, created with `packages` from PyPI on first use (and said so).
pub(crate) fn python_importing(
    root: &Path,
    ui: &crate::ui::Ui,
    modules: &str,
    venv: &str,
    packages: &[&str],
) -> Result<Python> {
    use std::process::Stdio;
    let imports = |python: &Path| {
        Command::new(python)
            .args(["-c", &format!("import {modules}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let system = which("python3").context("the Python peer needs python3 on PATH")?;
    if imports(&system) {
        return Ok(Python {
            python: system,
            installed: None,
        });
    }
    let venv = root.join("target/mcfpipe").join(venv);
    let python = venv.join("bin/python");
    if python.is_file() && imports(&python) {
        return Ok(Python {
            python,
            installed: None,
        });
    }
    let what = format!(
        "python3 does not import {modules}: installed {} from PyPI into {}",
        packages.join(", "),
        venv.display()
    );
    ui.info(&format!("{what} (once)"));
    crate::artifacts::run(Command::new(&system).args(["-m", "venv"]).arg(&venv))?;
    crate::artifacts::run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(packages),
    )?;
    if !imports(&python) {
        bail!("{} still cannot import {modules}", python.display());
    }
    Ok(Python {
        python,
        installed: Some(format!("{what}.")),
    })
}

pub(crate) fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The last CPU this process may run on, when `taskset` can pin to it.
pub(crate) fn pin_core() -> Option<usize> {
    which("taskset")?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let list = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:"))?;
    last_cpu(list)
}

/// `0-1` → 1, `0,2-3` → 3.
pub(crate) fn last_cpu(list: &str) -> Option<usize> {
    list.trim().rsplit(',').next()?.rsplit('-').next()?.trim().parse().ok()
}

pub(crate) fn pinned(program: &Path, core: Option<usize>) -> Command {
    match core {
        Some(c) => {
            let mut cmd = Command::new("taskset");
            cmd.arg("-c").arg(c.to_string()).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// Runs `cmd` and reads the last line of its stdout as JSON.
pub(crate) fn run_json<T: serde::de::DeserializeOwned>(cmd: &mut Command, what: &str) -> Result<T> {
    let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("{what} printed no JSON result: {stdout}"))
}

pub(crate) fn machine(python: &str, engine: Option<&str>) -> BTreeMap<String, String> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mut m = BTreeMap::new();
    m.insert("measured_at".into(), local::now_rfc3339());
    m.insert("cpu".into(), cpu);
    m.insert(
        "cores".into(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
            .to_string(),
    );
    m.insert("rustc".into(), version("rustc", &["--version"]));
    m.insert("python".into(), python.to_string());
    m.insert(
        "cargo_lambda".into(),
        version("cargo-lambda", &["lambda", "--version"])
            .trim_start_matches("cargo-lambda ")
            .to_string(),
    );
    m.insert(
        "moto".into(),
        version("python3", &["-c", "import moto; print(moto.__version__)"]),
    );
    if let Some(engine) = engine {
        m.insert("docker_engine".into(), engine.to_string());
    }
    m
}

/// The load average over 1, 5 and 15 minutes, from /proc/loadavg.
pub(crate) fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

/// Bytes as MB (10^6), two decimals.
pub(crate) fn mb(bytes: f64) -> String {
    format!("{:.2} MB", bytes / 1e6)
}

/// 12345.6 → "12,346"
pub(crate) fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::deploy::{END, START};

    #[test]
    fn a_section_is_replaced_between_its_markers_and_the_others_are_kept() {
        let doc = "# Benchmarks\n\n<!-- bench:deploy:start -->\nold deploy\n<!-- bench:deploy:end -->\n\n## Runtime\n";
        let runtime = "<!-- bench:runtime:start -->\nnew runtime\n<!-- bench:runtime:end -->";
        let (rs, re) = ("<!-- bench:runtime:start -->", "<!-- bench:runtime:end -->");
        // Missing: appended after the text, the deploy section untouched.
        let once = replace_section(doc, rs, re, runtime);
        assert_eq!(once, format!("{doc}\n{runtime}\n"));
        // Present: replaced in place, nothing else moves.
        let newer = runtime.replace("new runtime", "newer runtime");
        let twice = replace_section(&once, rs, re, &newer);
        assert_eq!(twice, format!("{doc}\n{newer}\n"));
        let deploy = "<!-- bench:deploy:start -->\nnew deploy\n<!-- bench:deploy:end -->";
        let both = replace_section(&twice, START, END, deploy);
        assert!(both.contains("new deploy") && !both.contains("old deploy") && both.contains("newer runtime"));
        assert_eq!(both.matches(START).count(), 1);
    }
}
