//! The CI pipeline run on the emulator: every `cargo xtask` step of `.github/workflows/`, in the
//! order a change goes through them (pull request, push to main, tag v*, manual approval of
//! prod), against one moto server standing in for the AWS account. The steps come from the
//! workflow files (`mcfpipe_e2e::workflows`), so a workflow changed without this test breaks it.
//!
//! Each job starts like a fresh runner: nothing under `target/mcfpipe/` carries over from the
//! job before (the local registry's record stays: it is the stand-in for ECR, not runner
//! state). After the pipeline, the next pull request's steps run again against the deployed dev,
//! and every environment is checked through the AWS APIs.
//!
//! What is not run, and why:
//! - `uses:` steps (checkout, toolchains, caches, OIDC credentials, artifact upload): runner
//!   setup. The credentials step is what the role template (ci/github-oidc-role.yaml) is for;
//!   here moto takes any credentials. The upload step's paths are checked to exist instead.
//! - the PR job's `bash .ci/run` (`cargo test --workspace`): this test is part of that suite,
//!   so running it here would recurse; `cargo build`, `cargo fmt` and `cargo clippy`: not
//!   deployment steps (the suite itself is their build; fmt and clippy are checked before
//!   merge), and toolchain installs (rustup, pip).
//!
//! Emulator-only configuration, appended to the copies of dev, staging and prod (docs/LOCAL.md):
//! - `endpoint: <moto's URL>`: these are AWS environments; naming an emulator's URL is what lets
//!   them take the emulator builds below (the config refuses those for AWS itself);
//! - `deploy.method: direct`: moto's change sets do not refresh outputs;
//! - `compute.lambda_build: host-debug` and `compute.architecture: x86_64`: cargo-lambda, zig and
//!   the aarch64 target are not on this machine, and moto never runs the code;
//! - `compute.registry: local`: moto's ECR has no registry to push to, so images go to a
//!   `docker-registry` on 127.0.0.1. Without a Docker engine the image is skipped (said so)
//!   unless MCFPIPE_REQUIRE_DOCKER=1, as in the other image tests;
//! - `deploy.termination_protection: false` in prod: moto answers UpdateTerminationProtection
//!   with HTTP 500. prod keeps `approval` and `protected`: the workflow passes `--yes`.

use std::collections::{BTreeMap, BTreeSet};

use clap::Parser;
use mcfpipe_e2e::workflows::{self, Job, commands, field, output_file};
use mcfpipe_e2e::{Moto, Project, Run, runtime};
use serde_json::Value;

const ENVS: [&str; 3] = ["dev", "staging", "prod"];
const STACKS: [&str; 8] = [
    "apply",
    "artifacts",
    "networking",
    "database",
    "compute",
    "crm",
    "recommend",
    "sync",
];

/// What the test does with one command of a `run:` block.
enum Action {
    Xtask(Vec<String>),
    NotRun(&'static str),
    Plumbing,
}

fn classify(words: &[String], line: &str) -> Action {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["cargo", "xtask", args @ ..] => {
            for a in args {
                assert!(
                    !a.contains(['$', '"', '\'', '`', '*']),
                    "`{line}`: keep `cargo xtask` lines free of shell expansion and quoting, so they run as written on a laptop (and here)"
                );
            }
            Action::Xtask(args.iter().map(|a| a.to_string()).collect())
        }
        ["cargo", "build", ..] => Action::NotRun("a build: this test's own build is it"),
        ["cargo", "fmt", ..] | ["cargo", "clippy", ..] => {
            Action::NotRun("source checks, not a deployment step: they run before merge")
        }
        ["cargo", ..] => panic!(
            "`{line}`: a cargo command this test does not know; make it a `cargo xtask` step or add it here with why it is not run"
        ),
        _ if line.contains(".ci/run") => Action::NotRun(
            "the test suite (`cargo test --workspace`), of which this test is part: running it here would recurse",
        ),
        ["rustup", ..] | ["python3", "-m", "pip", ..] => Action::NotRun("toolchain setup of a fresh runner"),
        _ => Action::Plumbing,
    }
}

/// Exit codes a step may end with and pass: `--exit-code` commands exit 2 on changes, which the
/// workflow reports and does not fail on (docs/ci.md).
fn accepted(args: &[String]) -> &'static [u8] {
    if args.iter().any(|a| a == "--exit-code") {
        &[0, 2]
    } else {
        &[0]
    }
}

/// A fresh runner's checkout: no generated state of any environment (the registry stays).
fn fresh_runner(p: &Project) {
    let out = p.root().join("target/mcfpipe");
    let Ok(entries) = std::fs::read_dir(&out) else { return };
    for e in entries.flatten() {
        if e.file_name() != "local" {
            let path = e.path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path).expect("clear runner state");
            } else {
                std::fs::remove_file(&path).expect("clear runner state");
            }
        }
    }
}

fn emulator_config(p: &Project, moto: &Moto) {
    for env in ENVS {
        let mut yaml = format!("endpoint: {}\ndeploy:\n  method: direct\n", moto.url);
        if env == "prod" {
            yaml.push_str("  termination_protection: false\n");
        }
        yaml.push_str("compute:\n  lambda_build: host-debug\n  architecture: x86_64\n  registry: local\n");
        let rel = format!("config/{env}.yaml");
        let mut doc: serde_norway::Value = serde_norway::from_str(&p.read(&rel)).expect("env config");
        xtask::config::merge(&mut doc, serde_norway::from_str(&yaml).expect("overrides"));
        let text = serde_norway::to_string(&doc).expect("YAML");
        p.write(
            &rel,
            &format!("# Emulator-only overrides merged in: tests/tests/pipeline.rs says why\n{text}"),
        );
    }
}

/// Runs one `cargo xtask` step as the workflow would, and writes its output where the workflow
/// line sends it (`| tee FILE`, `> FILE`).
fn run_step(p: &Project, moto: &Moto, n: usize, job: &Job, step: &str, args: &[String], line: &str) -> Run {
    let shown = format!("cargo xtask {}", args.join(" "));
    let argv: Vec<String> = ["cargo xtask".to_string()]
        .into_iter()
        .chain(args.iter().cloned())
        .collect();
    if let Err(e) = xtask::cli::Cli::try_parse_from(&argv) {
        panic!(
            "pipeline step {n} ({}, step `{step}`): `{shown}` is not a command this deployer has:\n{e}",
            job.label()
        );
    }
    eprintln!("step {n:>2}  {:<34} {shown}", job.label());
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = p.xtask(moto, &words);
    assert!(
        accepted(args).contains(&run.code),
        "pipeline step {n} ({}, step `{step}`): `{shown}` exited {} (the workflow passes on {:?}); output:\n{}",
        job.label(),
        run.code,
        accepted(args),
        run.output
    );
    if args.windows(2).any(|w| w == ["--output", "json"]) {
        let lines = run.json_lines();
        assert_eq!(
            lines.last().map(|l| l["event"].clone()),
            Some(Value::from("result")),
            "`{shown}`: the last JSON line is the result:\n{}",
            run.output
        );
        assert!(
            lines.iter().all(|l| l["elapsed_s"].is_number()),
            "`{shown}`: every JSON line carries its time"
        );
    }
    if let Some(file) = output_file(line) {
        let path = p.root().join(&file);
        std::fs::create_dir_all(path.parent().unwrap()).expect("mkdir");
        std::fs::write(&path, &run.output).expect("step output");
    }
    run
}

/// The files the job's upload-artifact step names exist after its steps (globs: at least one).
fn check_uploads(p: &Project, job: &Job) {
    for step in job.steps() {
        if !field(&step, "uses").is_some_and(|u| u.starts_with("actions/upload-artifact@")) {
            continue;
        }
        let with = step.get(serde_norway::Value::String("with".into())).expect("with");
        let paths = with["path"].as_str().expect("path");
        for rel in paths.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let found = match rel.rsplit_once('/') {
                Some((dir, pattern)) if pattern.contains('*') => {
                    let suffix = pattern.trim_start_matches('*');
                    std::fs::read_dir(p.root().join(dir))
                        .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().ends_with(suffix)))
                        .unwrap_or(false)
                }
                _ => p.root().join(rel).is_file(),
            };
            assert!(
                found,
                "{}: the artifact upload names {rel}, which the steps did not write",
                job.label()
            );
        }
    }
}

fn stack_parameters(moto: &Moto, name: &str) -> (String, BTreeMap<String, String>) {
    let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk());
    runtime().block_on(async {
        let out = cfn
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("stack {name}: {e:?}"));
        let s = &out.stacks()[0];
        let params = s
            .parameters()
            .iter()
            .map(|p| {
                (
                    p.parameter_key().unwrap_or_default().to_string(),
                    p.parameter_value().unwrap_or_default().to_string(),
                )
            })
            .collect();
        (
            s.stack_status().map(|x| x.as_str().to_string()).unwrap_or_default(),
            params,
        )
    })
}

#[test]
fn the_ci_workflows_cargo_xtask_steps_run_in_order_on_the_emulator() {
    let pipeline = workflows::pipeline();
    let stages: Vec<&str> = pipeline.iter().map(|(s, _)| s.as_str()).collect();
    let order = ["pull request", "push to main", "tag v*", "manual approval of prod"];
    let mut seen: Vec<&str> = stages.clone();
    seen.dedup();
    assert_eq!(seen, order, "the pipeline's stages, in order");

    let moto = Moto::start();
    let p = Project::copy();
    emulator_config(&p, &moto);
    match runtime().block_on(xtask::artifacts::image::engine()) {
        Ok(_) => eprintln!("Docker engine: the scraper image is built and pushed to the local registry"),
        Err(reason) if std::env::var("MCFPIPE_REQUIRE_DOCKER").is_ok_and(|v| v == "1") => {
            panic!("MCFPIPE_REQUIRE_DOCKER=1 but {reason}")
        }
        Err(reason) => eprintln!("SKIPPED (part): no Docker engine ({reason}): the scraper image is skipped"),
    }

    let mut n = 0;
    let mut ran: Vec<String> = Vec::new();
    let mut pr_steps: Vec<(Job, String, Vec<String>, String)> = Vec::new();
    for (stage, job) in &pipeline {
        eprintln!("== {stage}: {}", job.label());
        fresh_runner(&p);
        for step in job.steps() {
            let name = field(&step, "name")
                .or(field(&step, "uses"))
                .unwrap_or("(unnamed)")
                .to_string();
            let Some(run) = field(&step, "run") else {
                eprintln!("   not run: {name} (runner setup: a `uses:` step)");
                continue;
            };
            for (words, line) in commands(run) {
                match classify(&words, &line) {
                    Action::Xtask(args) => {
                        n += 1;
                        run_step(&p, &moto, n, job, &name, &args, &line);
                        ran.push(format!("{stage}: cargo xtask {}", args.join(" ")));
                        if stage == "pull request" {
                            pr_steps.push((job.clone(), name.clone(), args, line));
                        }
                    }
                    Action::NotRun(why) => eprintln!("   not run: `{}`: {why}", words.join(" ")),
                    Action::Plumbing => {}
                }
            }
        }
        check_uploads(&p, job);
    }
    // Every environment is deployed by a step of its own stage.
    for (stage, deploys) in [
        ("push to main", "deploy all --env dev"),
        ("tag v*", "--to staging"),
        ("manual approval of prod", "--to prod"),
    ] {
        assert!(
            ran.iter().any(|r| r.starts_with(stage) && r.contains(deploys)),
            "no step of `{stage}` runs `{deploys}`: {ran:#?}"
        );
    }

    // The next pull request, on a fresh runner: lint, and a diff against the deployed dev that
    // finds nothing to change (the same commit; artifacts it did not build compared as deployed).
    fresh_runner(&p);
    for (job, name, args, line) in &pr_steps {
        n += 1;
        let run = run_step(&p, &moto, n, job, name, args, line);
        if args.iter().any(|a| a == "--exit-code") {
            run.expect_code(0).contains("no changes");
        }
    }

    // Each environment: its five stacks deployed, its outputs readable, its lock given back.
    let mut code = BTreeSet::new();
    let mut image = BTreeSet::new();
    for env in ENVS {
        for stack in STACKS {
            let (status, _) = stack_parameters(&moto, &format!("mcfpipe-{env}-{stack}"));
            assert!(
                status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE",
                "mcfpipe-{env}-{stack}: {status}"
            );
        }
        let outputs = p.xtask(&moto, &["outputs", "--env", env, "--output", "json"]);
        outputs.ok();
        let file = p.root().join(format!("target/mcfpipe/{env}/outputs.json"));
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("outputs.json")).expect("JSON");
        for stack in STACKS {
            assert!(!doc[stack].is_null(), "{env}: outputs.json has no {stack}: {doc}");
        }
        let (_, params) = stack_parameters(&moto, &format!("mcfpipe-{env}-compute"));
        image.insert(
            params["ScraperImage"]
                .rsplit_once('@')
                .map(|(_, d)| d.to_string())
                .unwrap_or_default(),
        );
        let lambda = aws_sdk_lambda::Client::new(&moto.sdk());
        let sha = runtime().block_on(async {
            lambda
                .get_function()
                .function_name(format!("mcfpipe-{env}-mcfparse"))
                .send()
                .await
                .expect("the parser function")
                .configuration()
                .and_then(|c| c.code_sha256())
                .unwrap_or_default()
                .to_string()
        });
        code.insert(sha);
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&moto.sdk())
                .force_path_style(true)
                .build(),
        );
        let lock = runtime().block_on(
            s3.head_object()
                .bucket(format!("mcfpipe-{env}-artifacts-123456789012-ap-southeast-1"))
                .key(format!("locks/{env}.json"))
                .send(),
        );
        assert!(lock.is_err(), "{env}: the deploy lock was left behind");
    }
    // Promotion deploys the exact artifacts: one parser zip and one image digest everywhere.
    assert_eq!(
        code.len(),
        1,
        "the parser's CodeSha256 differs between environments: {code:?}"
    );
    assert_eq!(
        image.len(),
        1,
        "the scraper image differs between environments: {image:?}"
    );
}
