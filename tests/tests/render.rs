//! Rendering of every stack for every environment: snapshots (reviewable in diffs), our lint,
//! and cfn-lint against the real CloudFormation resource specification.
//!
//! After an intended template change: `UPDATE_SNAPSHOTS=1 cargo test -p mcfpipe-e2e --test render`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use mcfpipe_e2e::{Project, repo_root};
use xtask::resolve::{Artifacts, DeployedOutputs, Missing};
use xtask::session::{Project as XProject, Session};
use xtask::ui::{Format, Ui};

fn snapshot_dir() -> PathBuf {
    repo_root().join("tests/snapshots")
}

#[test]
fn every_stack_of_every_environment_matches_its_snapshot() {
    let project = XProject::new(Some(repo_root()));
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    let envs = project.environments().unwrap();
    assert_eq!(envs, ["dev", "local", "prod", "staging"]);
    for env in &envs {
        let ui = Ui::captured(Format::Text, Arc::new(Mutex::new(String::new())));
        let s = Session::open(project.clone(), env, ui, None).unwrap();
        for stack in &s.plan.stacks {
            // No recorded build: snapshots must not depend on what this machine built last.
            let r = s
                .render_with(stack, &DeployedOutputs::new(), &Artifacts::new(), Missing::Placeholder)
                .unwrap();
            let file = snapshot_dir().join(env).join(format!("{}.json", stack.name));
            let text = r.pretty();
            if update {
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, &text).unwrap();
                continue;
            }
            match std::fs::read_to_string(&file) {
                Ok(old) if old == text => {}
                Ok(old) => stale.push(format!(
                    "{}: differs\n{}",
                    file.display(),
                    first_difference(&old, &text)
                )),
                Err(_) => stale.push(format!("{}: missing", file.display())),
            }
        }
    }
    assert!(
        stale.is_empty(),
        "rendered templates differ from their snapshots (if intended, rerun with UPDATE_SNAPSHOTS=1 and review the diff):\n{}",
        stale.join("\n")
    );
}

fn first_difference(old: &str, new: &str) -> String {
    for (i, (a, b)) in old.lines().zip(new.lines()).enumerate() {
        if a != b {
            return format!("  line {}:\n  - {a}\n  + {b}", i + 1);
        }
    }
    format!("  length: {} -> {} lines", old.lines().count(), new.lines().count())
}

#[test]
fn environments_differ_where_the_config_says() {
    let read = |env: &str, stack: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(snapshot_dir().join(env).join(format!("{stack}.json"))).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let prod = read("prod", "database");
    let dev = read("dev", "database");
    let posts = |t: &serde_json::Value| t["Resources"]["PostsTable"].clone();
    assert_eq!(posts(&prod)["DeletionPolicy"], "Retain");
    assert_eq!(
        posts(&prod)["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(posts(&prod)["Properties"]["DeletionProtectionEnabled"], true);
    assert_eq!(posts(&dev)["DeletionPolicy"], "Delete");
    assert_eq!(posts(&dev)["Properties"]["DeletionProtectionEnabled"], false);
    assert_eq!(posts(&prod)["Properties"]["TableName"], "mcfpipe-prod-posts");
    assert_eq!(
        read("staging", "networking")["Resources"]["Vpc"]["Properties"]["CidrBlock"],
        "10.22.0.0/16"
    );
    // No NAT gateway anywhere.
    for env in ["dev", "local", "prod", "staging"] {
        let text = std::fs::read_to_string(snapshot_dir().join(env).join("networking.json")).unwrap();
        assert!(!text.contains("AWS::EC2::NatGateway"), "{env}");
    }
}

#[test]
fn lint_of_all_environments_is_clean_including_cfn_lint() {
    // cfn-lint is a test dependency (.ci/run installs it): without it this test fails.
    let p = Project::copy();
    p.xtask_own_endpoint(&["lint", "--all-envs"])
        .ok()
        .contains("0 finding(s) in 32 rendered template(s) of 4 environment(s), cfn-lint included");
}

#[test]
fn lint_reports_cfn_lint_findings_and_our_own() {
    let p = Project::copy();
    // A property CloudFormation does not know (cfn-lint E3002) and a physical name without
    // the environment prefix (ours).
    let t = p.read("templates/database.yaml.j2");
    let t = t.replacen(
        "      QueueName: {{ name(\"parse\") | tojson }}",
        "      QueueName: parse\n      VisibilityTimout: 30",
        1,
    );
    p.write("templates/database.yaml.j2", &t);
    p.xtask_own_endpoint(&["lint", "--env", "dev"])
        .expect_code(1)
        .contains("dev/database ParseQueue: QueueName `parse` does not start with `mcfpipe-dev-`")
        .contains("cfn-lint E3002")
        .contains("VisibilityTimout");
}

#[test]
fn a_malformed_config_names_file_line_and_key() {
    let p = Project::copy();
    p.append_config(
        "local",
        "network:\n  vpc_cidr: 10.20.0.0/16\n  availability_zone: [a, b]\n",
    );
    let run = p.xtask_own_endpoint(&["render", "--env", "local"]);
    let line = p
        .read("config/local.yaml")
        .lines()
        .position(|l| l.contains("availability_zone:"))
        .unwrap()
        + 1;
    run.expect_code(1).contains(&format!(
        "config/local.yaml:{line}: key `network.availability_zone`: unknown key"
    ));
}

#[test]
fn a_schedule_eventbridge_refuses_fails_render_and_lint_before_any_aws_call() {
    let p = Project::copy();
    let config = p.read("config/local.yaml").replace(
        "    schedule_enabled: false",
        "    schedule: \"cron(0 25 * * ? *)\"\n    schedule_enabled: false",
    );
    p.write("config/local.yaml", &config);
    let line = config.lines().position(|l| l.contains("cron(0 25")).unwrap() + 1;
    let want = format!(
        "config/local.yaml:{line}: key `compute.scraper.schedule`: cron(0 25 * * ? *): hours `25`: 25 is out of range: hours is 0 to 23"
    );
    p.xtask_own_endpoint(&["render", "--env", "local"])
        .expect_code(1)
        .contains(&want);
    p.xtask_own_endpoint(&["lint", "--env", "local", "--no-cfn-lint"])
        .expect_code(1)
        .contains(&want);
    // And deploy stops there too: the emulator is never started (nothing would answer
    // at an unused endpoint, and the error is the config's).
    p.xtask_own_endpoint(&[
        "--endpoint-url",
        "http://127.0.0.1:9",
        "deploy",
        "all",
        "--env",
        "local",
    ])
    .expect_code(1)
    .contains(&want);
}

#[test]
fn a_stack_output_the_upstream_template_does_not_declare_fails_render_and_lint() {
    let p = Project::copy();
    let manifest = p.read("stacks/compute.yaml").replace(
        "{stack_output: networking.PrivateSubnetId}",
        "{stack_output: networking.NoSuchOutput}",
    );
    p.write("stacks/compute.yaml", &manifest);
    let line = manifest.lines().position(|l| l.contains("NoSuchOutput")).unwrap() + 1;
    let want = format!(
        "compute.yaml:{line}: parameter PrivateSubnetId: stack_output `networking.NoSuchOutput`: stack networking (networking.yaml.j2) declares no output NoSuchOutput; it declares: "
    );
    p.xtask_own_endpoint(&["render", "--env", "local"])
        .expect_code(1)
        .contains(&want)
        .contains("InternalSecurityGroupId, PublicOutboundSecurityGroupId");
    p.xtask_own_endpoint(&["lint", "--env", "dev", "--no-cfn-lint"])
        .expect_code(1)
        .contains(&want);
    p.xtask_own_endpoint(&[
        "--endpoint-url",
        "http://127.0.0.1:9",
        "deploy",
        "all",
        "--env",
        "local",
    ])
    .expect_code(1)
    .contains(&want);
}
