//! `lint`: render every stack of one or all environments, run our checks, then cfn-lint once
//! over all the rendered files (it takes ~2 s to start).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;
use serde_json::json;

use crate::files::write_file;
use crate::lint::{Finding, check};
use crate::resolve::{DeployedOutputs, Missing};
use crate::session::{Project, Session};
use crate::ui::Ui;

pub fn run(project: &Project, envs: &[String], ui: Ui, cfn_lint: bool) -> Result<u8> {
    let mut findings: Vec<(String, Finding)> = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut regions = BTreeSet::new();
    let mut rendered = 0;
    for env in envs {
        let s = match Session::open(project.clone(), env, ui.sibling(), None) {
            Ok(s) => s,
            Err(e) => {
                findings.push((
                    env.clone(),
                    Finding {
                        stack: "-".into(),
                        resource: None,
                        message: format!("{e:#}"),
                    },
                ));
                continue;
            }
        };
        regions.extend(s.config.region.clone());
        let dir = project.out_dir().join("lint").join(env);
        for stack in &s.plan.stacks {
            let r = match s.render(stack, &DeployedOutputs::new(), Missing::Placeholder) {
                Ok(r) => r,
                Err(e) => {
                    findings.push((
                        env.clone(),
                        Finding {
                            stack: stack.name.clone(),
                            resource: None,
                            message: format!("{e:#}"),
                        },
                    ));
                    continue;
                }
            };
            rendered += 1;
            let manifest: BTreeSet<String> = stack.manifest.parameters.keys().cloned().collect();
            findings.extend(
                check(&r, &s.config, env, &manifest)
                    .into_iter()
                    .map(|f| (env.clone(), f)),
            );
            let file = dir.join(format!("{}.json", stack.name));
            write_file(&file, &r.pretty())?;
            files.push(file);
        }
    }
    let mut cfn_lint_ran = false;
    if cfn_lint && !files.is_empty() {
        match run_cfn_lint(&files, &regions, &project.root) {
            Some(found) => {
                cfn_lint_ran = true;
                findings.extend(found);
            }
            None => ui.warn("cfn-lint is not installed (pip install cfn-lint): only our own checks ran"),
        }
    }
    for (env, f) in &findings {
        let at = f.resource.as_deref().map(|r| format!(" {r}")).unwrap_or_default();
        if !ui.json() {
            ui.line(&format!("{env}/{}{at}: {}", f.stack, f.message));
        }
    }
    let summary = format!(
        "{} finding(s) in {rendered} rendered template(s) of {} environment(s){}",
        findings.len(),
        envs.len(),
        if cfn_lint_ran { ", cfn-lint included" } else { "" }
    );
    ui.info(&summary);
    ui.document(&json!({
        "envs": envs, "templates": rendered, "cfn_lint": cfn_lint_ran,
        "findings": findings.iter().map(|(env, f)| json!({"env": env, "stack": f.stack, "resource": f.resource, "message": f.message})).collect::<Vec<_>>(),
    }));
    Ok(if findings.is_empty() { 0 } else { 1 })
}

/// Runs cfn-lint on all files at once; `None` when it is not installed.
fn run_cfn_lint(files: &[PathBuf], regions: &BTreeSet<String>, root: &Path) -> Option<Vec<(String, Finding)>> {
    let mut cmd = Command::new(std::env::var("MCFPIPE_CFN_LINT").unwrap_or_else(|_| "cfn-lint".into()));
    cmd.args(["--format", "parseable"]);
    if !regions.is_empty() {
        cmd.arg("--regions").args(regions);
    }
    cmd.arg("--").args(files);
    let out = cmd.output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut findings = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        // file:line:col:endline:endcol:rule:message
        let parts: Vec<&str> = line.splitn(7, ':').collect();
        let (file, lineno, rule, msg) = match parts.as_slice() {
            [f, l, _, _, _, r, m] => (*f, *l, *r, *m),
            _ => (line, "", "", ""),
        };
        let path = Path::new(file);
        let env = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let stack = path.file_stem().and_then(|n| n.to_str()).unwrap_or("?").to_string();
        let shown = path.strip_prefix(root).unwrap_or(path).display();
        findings.push((
            env,
            Finding {
                stack,
                resource: None,
                message: format!("cfn-lint {rule} at {shown}:{lineno}: {msg}"),
            },
        ));
    }
    if !out.status.success() && findings.is_empty() {
        let err = String::from_utf8_lossy(&out.stderr);
        findings.push((
            "-".into(),
            Finding {
                stack: "-".into(),
                resource: None,
                message: format!("cfn-lint failed: {}", err.trim()),
            },
        ));
    }
    Some(findings)
}
