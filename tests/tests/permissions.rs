//! Permissions proven, not assumed: every AWS call the scraper and the parser make in a jobs
//! search on moto is recorded (`mcfstore::record`, an SDK interceptor on their connections) and
//! checked against the policies of the role each runs under in the deployed compute stack
//! (`xtask::iam`), and against the permissions boundary the CI bootstrap stack gives the
//! roles on AWS (ci/github-oidc-role.yaml).
//!
//! Where moto falls short, and what stands in:
//! - moto does not enforce IAM (its optional access control evaluates most calls against
//!   resource `*` and cannot assume service roles), so nothing here is refused by the emulator:
//!   the check evaluates the recorded calls itself, with IAM's rules (docs/permissions.md);
//! - moto runs no Lambda code and no Fargate task: the scraper library and the parser's handler
//!   run in this process, as `cargo xtask run search` runs them, each on a connection labelled
//!   with its component's name; the local poller's SQS calls count as the parser's (on AWS the
//!   event source mapping polls with the function's role);
//! - moto answers a missing object with 404 NoSuchKey whatever the caller may do; AWS answers
//!   403 unless the role may list the bucket. The check models that rule for each 404 recorded.
//! - What the services do with a role on their own (Lambda writing logs and managing network
//!   interfaces, ECS pulling the image with the execution role, EventBridge starting the task)
//!   makes no recordable call: those grants are listed as the platform's, not checked.
//!
//! The paths that matter are exercised: a completed run (which deletes its checkpoint), a
//! queued document whose raw object is gone (the NoSuchKey path), and a document that is not a
//! job post (its reject written under rejects/).

use std::collections::BTreeMap;

use mcffixture::{Fault, FaultKind, FixtureServer, Route};
use mcfpipe_e2e::{Moto, Project, boundary, runtime};
use mcfstore::record::{Call, Recorder, Target};
use serde_json::Value;
use xtask::iam::{self, Deployed, Report};
use xtask::resolve::{Artifacts, DeployedOutputs, Missing};
use xtask::workflow::{DataNames, search};

/// A queued document whose raw object does not exist (expired, in real life).
const EXPIRED_KEY: &str = "raw/2020-01-01/0123456789abcdef0123456789abcdef.json";

/// What one search on moto recorded, and the deployed compute stack to check it against.
struct Exercised {
    calls: Vec<Call>,
    template: Value,
    deployed: Deployed,
    artifacts: BTreeMap<String, String>,
}

/// Deploys the project, seeds one profile that matches every capture, queues a message for a
/// missing raw document, then runs one search with the scraper's and the parser's calls
/// recorded; the fixture answers the first job detail with a page that is not a job post.
fn exercise(p: &Project, moto: &Moto) -> Exercised {
    p.write(
        "config/seed/search-profiles.yaml",
        "profiles:\n  - name: everything\n    track: any\n",
    );
    p.xtask(moto, &["deploy", "all", "--env", "local", "--yes"]).ok();
    p.xtask(moto, &["seed", "--env", "local"]).ok();
    let server = FixtureServer::default_on_free_port().expect("fixture server");
    server.set_faults(vec![Fault::nth(Route::Detail, 1, FaultKind::NotAJob)]);

    let s = p.session(moto);
    let recorder = Recorder::new();
    runtime().block_on(async {
        let aws = s.aws().await.expect("connect to moto");
        let names = DataNames::deployed(&s, &aws)
            .await
            .expect("the database stack's outputs");
        // Queued by the test's own connection: the scraper would only queue what it wrote.
        let message = serde_json::json!({"uuid": "0123456789abcdef0123456789abcdef", "key": EXPIRED_KEY});
        aws.sqs()
            .send_message()
            .queue_url(&names.queue_url)
            .message_body(message.to_string())
            .send()
            .await
            .expect("queue the message for a missing document");

        let options = search::Options {
            mcf_url: Some(server.url().to_string()),
            rate: Some(0.0),
            drain: true,
            ..search::Options::default()
        };
        let report = search::run_recording(&aws, &names, server.url(), 0.0, &options, &s.ui, Some(&recorder))
            .await
            .expect("the search runs");
        assert_eq!(
            serde_json::to_value(report.scrape.outcome).unwrap(),
            "completed",
            "{}",
            report.text()
        );
        let parse = report.parse.as_ref().expect("drained here");
        assert_eq!((parse.rejected, parse.failed), (2, 0), "{}", report.text());
        assert!(parse.inserted >= 90, "{}", report.text());

        let compute = s.plan.get("compute").expect("stacks/compute.yaml");
        let name = s.full_name(compute);
        let cfn = s.cfn(&aws);
        Exercised {
            calls: recorder.calls(),
            template: cfn.template(&name).await.expect("the deployed compute template"),
            deployed: iam::deployed(&cfn, &name).await.expect("the deployed compute stack"),
            artifacts: iam::artifact_parameters(compute),
        }
    })
}

fn recorded(calls: &[Call], component: &str, operation: &str, what: impl Fn(&Call) -> bool) -> bool {
    calls
        .iter()
        .any(|c| c.component == component && c.operation == operation && what(c))
}

/// The compute template of `p` rendered for local (its Parameters are the deployed stack's).
fn render_compute(p: &Project, moto: &Moto) -> Value {
    let s = p.session(moto);
    let stack = s.plan.get("compute").expect("compute");
    s.render_with(stack, &DeployedOutputs::new(), &Artifacts::new(), Missing::Placeholder)
        .expect("render")
        .template
}

fn denied(report: &Report) -> Vec<String> {
    report
        .components
        .iter()
        .flat_map(|c| {
            c.denied
                .iter()
                .map(move |f| format!("{} {} {}", c.component, f.operation, f.action))
        })
        .collect()
}

#[test]
fn every_call_of_every_component_is_allowed_by_its_role_and_the_check_fails_without_one() {
    let moto = Moto::start();
    let p = Project::copy();
    let e = exercise(&p, &moto);

    // The paths that matter were taken, and recorded with what the check needs.
    let calls = &e.calls;
    let checkpoint = |c: &Call| matches!(&c.target, Target::Tables(t) if t[0].leading_keys.as_deref() == Some(&["scrape_run".to_string()][..]));
    assert!(
        recorded(calls, search::SCRAPER, "DeleteItem", checkpoint),
        "the completed run deleted its checkpoint"
    );
    let expired =
        |c: &Call| matches!(&c.target, Target::S3 { key: Some(k), .. } if k == EXPIRED_KEY) && c.status == Some(404);
    assert!(
        recorded(calls, search::PARSER, "GetObject", expired),
        "the missing document answered 404"
    );
    let reject = |c: &Call| matches!(&c.target, Target::S3 { key: Some(k), .. } if k.starts_with("rejects/"));
    assert!(
        recorded(calls, search::PARSER, "PutObject", reject),
        "a reject under rejects/"
    );
    for op in ["ReceiveMessage", "DeleteMessageBatch", "GetItem", "PutItem"] {
        assert!(recorded(calls, search::PARSER, op, |_| true), "the parser's {op}");
    }
    for op in ["Query", "GetItem", "PutItem", "BatchGetItem", "SendMessageBatch"] {
        assert!(recorded(calls, search::SCRAPER, op, |_| true), "the scraper's {op}");
    }
    assert!(
        calls
            .iter()
            .all(|c| c.component == search::SCRAPER || c.component == search::PARSER),
        "only the components' calls are recorded, not the deployer's"
    );

    // 1. The roles as deployed allow every call, and so does the boundary they get on AWS.
    let report = iam::check(&e.template, &e.deployed, &e.artifacts, calls, None);
    eprintln!("{}", report.text());
    assert!(report.passed(), "{}", report.text());
    let mut components: Vec<&str> = report.components.iter().map(|c| c.component.as_str()).collect();
    components.sort_unstable();
    assert_eq!(components, [search::PARSER, search::SCRAPER]);
    assert_eq!(
        report.unused(),
        Vec::<String>::new(),
        "granted permissions no recorded call used:\n{}",
        report.text()
    );
    // Granted for Lambda itself (logs, the VPC's network interfaces), not called by our code.
    let platform: Vec<&str> = report
        .components
        .iter()
        .flat_map(|c| c.platform.iter().map(|g| g.action.as_str()))
        .collect();
    assert!(platform.contains(&"logs:PutLogEvents") && platform.contains(&"ec2:CreateNetworkInterface"));
    let bounded = iam::check(
        &e.template,
        &e.deployed,
        &e.artifacts,
        calls,
        Some(&boundary("local", &e.deployed)),
    );
    assert!(bounded.passed(), "the permissions boundary:\n{}", bounded.text());
    // The roles no component's calls reach (ECS pulling and logging with the execution role,
    // EventBridge starting the task with the schedule's, Lambda's logs): every grant of every
    // role is within the boundary, or it would be void on AWS. The one grant it cannot decide:
    // the schedule passes the task's roles, and the template does not say to which service
    // (ECS tasks), which the boundary's PassRole names.
    let coverage = iam::uncovered(&e.template, &e.deployed, &boundary("local", &e.deployed));
    assert_eq!(coverage.outside, Vec::<String>::new(), "{coverage:#?}");
    assert_eq!(coverage.undecided.len(), 2, "{coverage:#?}");
    assert!(
        coverage
            .undecided
            .iter()
            .all(|u| u.starts_with("ScheduleRole run-scraper[1] iam:PassRole") && u.contains("iam:PassedToService")),
        "{coverage:#?}"
    );
    // The boundary of another environment allows none of it.
    let other = iam::check(
        &e.template,
        &e.deployed,
        &e.artifacts,
        calls,
        Some(&boundary("prod", &e.deployed)),
    );
    assert!(!other.passed());
    assert!(other.components.iter().all(|c| c.denied.len() >= 3), "{}", other.text());

    // 2. A copy of the project with one needed statement removed fails the check, naming the
    //    call, its action and resource.
    for (sid, component, operation, action) in [
        (
            "ClearCheckpoint",
            search::SCRAPER,
            "DynamoDB DeleteItem",
            "dynamodb:DeleteItem",
        ),
        (
            "MissingRawDocumentsAreNotFound",
            search::PARSER,
            "S3 GetObject",
            "s3:ListBucket",
        ),
        (
            "QueueParseJobs",
            search::SCRAPER,
            "SQS SendMessageBatch",
            "sqs:SendMessage",
        ),
    ] {
        let copy = Project::copy();
        let template = copy.read("templates/compute.yaml.j2");
        copy.write("templates/compute.yaml.j2", &without_statement(&template, sid));
        let report = iam::check(&render_compute(&copy, &moto), &e.deployed, &e.artifacts, calls, None);
        eprintln!("without {sid}:\n{}", report.text());
        assert!(!report.passed(), "without {sid}:\n{}", report.text());
        assert_eq!(
            denied(&report),
            [format!("{component} {operation} {action}")],
            "without {sid}:\n{}",
            report.text()
        );
        let text = report.text();
        assert!(
            text.contains("FAILED") && text.contains(&format!("DENIED {operation}")),
            "{text}"
        );
        if action == "s3:ListBucket" {
            assert!(text.contains("403 AccessDenied"), "the 404 rule is explained:\n{text}");
        }
    }
}

/// `template` without the statement whose `Sid` is `sid` (its lines up to the next statement
/// or the end of the list).
fn without_statement(template: &str, sid: &str) -> String {
    let lines: Vec<&str> = template.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == format!("- Sid: {sid}"))
        .unwrap_or_else(|| panic!("no statement {sid} in templates/compute.yaml.j2"));
    let indent = lines[start].len() - lines[start].trim_start().len();
    let end = lines[start + 1..]
        .iter()
        .position(|l| {
            let i = l.len() - l.trim_start().len();
            !l.trim().is_empty()
                && (i < indent
                    || (i == indent && l.trim_start().starts_with("- "))
                    || l.trim_start().starts_with('#') && i <= indent)
        })
        .map_or(lines.len(), |n| start + 1 + n);
    let mut out: Vec<&str> = lines[..start].to_vec();
    out.extend(&lines[end..]);
    out.join("\n") + "\n"
}
