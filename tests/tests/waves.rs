//! Independent stacks deploy side by side, in waves; teardown goes the other way; a failure
//! stops new starts and every stack's result is reported. Against a real moto server.
//!
//! What moto can and cannot show: its CreateStack and DeleteStack finish within the call
//! (AWS answers at once and provisions for minutes), so whether two stack operations were in
//! progress at once cannot be read from its answers or its events (a quiet machine serves one
//! call before the next arrives). The tests show it two ways: the deployer's own timeline (each
//! stack's start and end in the JSON result), and a proxy in front of moto that holds back every
//! CreateStack answer for a second: both CreateStack requests reach it before the first answer
//! is released, which a one-at-a-time deployer cannot do.

use std::time::Duration;

use mcfpipe_e2e::{Moto, Project, SlowProxy};

/// The data layers plus `watcher`, a stack that reads the database's outputs: waves
/// `[database, networking]` then `[watcher]`.
fn project() -> Project {
    let p = Project::data_layers();
    p.write(
        "stacks/watcher.yaml",
        "layer: compute\ntemplate: watcher.yaml.j2\ndepends_on: []\nparameters:\n  QueueArn: {stack_output: database.ParseQueueArn}\n",
    );
    p.write(
        "templates/watcher.yaml.j2",
        r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  QueueArn:
    Type: String
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: {{ name("watcher") | tojson }}
      Tags: {{ tags() | tojson }}
Outputs:
  Watched:
    Value:
      Ref: QueueArn
"#,
    );
    p
}

fn result(run: &mcfpipe_e2e::Run) -> serde_json::Value {
    run.json_lines()
        .into_iter()
        .rfind(|l| l["event"] == "result")
        .expect("a result line")
}

fn stack<'a>(result: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    result["stacks"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["stack"] == name))
        .unwrap_or_else(|| panic!("no stack {name} in {result}"))
}

fn span(s: &serde_json::Value) -> (f64, f64) {
    (
        s["started_s"].as_f64().expect("started_s"),
        s["finished_s"].as_f64().expect("finished_s"),
    )
}

#[test]
fn independent_stacks_deploy_at_once_and_dependents_wait_teardown_reverses() {
    let moto = Moto::start();
    let p = project();

    // The plan as waves, before anything is written.
    p.xtask(&moto, &["diff", "all", "--env", "local"])
        .ok()
        .contains("deploy in waves (the stacks of a wave side by side): 1) database, networking  2) watcher");

    let hold = Duration::from_secs(1);
    let proxy = SlowProxy::start(&moto, "CreateStack", hold);
    let run = p.xtask_at(&proxy.url, &["--output", "json", "deploy", "all", "--env", "local"]);
    run.ok();
    let doc = result(&run);
    assert_eq!(
        doc["waves"],
        serde_json::json!([["database", "networking"], ["watcher"]])
    );
    // Both creates of the first wave were in flight together: the second arrived while the
    // first's answer was still held back.
    let arrivals = proxy.arrivals.lock().unwrap().clone();
    let at = |name: &str| {
        arrivals
            .iter()
            .find(|(_, s)| s == name)
            .map(|(t, _)| *t)
            .unwrap_or_else(|| panic!("no CreateStack for {name}: {arrivals:?}"))
    };
    let (db_at, net_at) = (at("mcfpipe-local-database"), at("mcfpipe-local-networking"));
    let apart = if db_at > net_at { db_at - net_at } else { net_at - db_at };
    assert!(
        apart < hold,
        "the two creates were {apart:?} apart: one waited for the other"
    );
    // The watcher's create came after the database's answer.
    assert!(
        at("mcfpipe-local-watcher") >= db_at + hold,
        "the watcher did not wait for the database"
    );
    let (db, net, watcher) = (
        span(stack(&doc, "database")),
        span(stack(&doc, "networking")),
        span(stack(&doc, "watcher")),
    );
    // Side by side: each of the first wave started before the other finished.
    assert!(
        db.0 < net.1 && net.0 < db.1,
        "database {db:?} and networking {net:?} did not overlap"
    );
    // The watcher waited for the database it reads.
    assert!(
        watcher.0 >= db.1,
        "watcher {watcher:?} started before database {db:?} finished"
    );
    assert_eq!(
        doc["outputs"]["watcher"]["Watched"], doc["outputs"]["database"]["ParseQueueArn"],
        "the watcher got the database's output"
    );
    // Progress lines name their stack, so interleaved events stay readable.
    let text = p.xtask(&moto, &["deploy", "all", "--env", "local"]);
    text.ok()
        .contains("database: unchanged")
        .contains("networking: unchanged");

    // Teardown in reverse: the database waits for the watcher that reads it; the network,
    // which nothing here needs, goes at once, beside the watcher.
    let run = p.xtask(&moto, &["--output", "json", "teardown", "--env", "local", "--yes"]);
    run.ok();
    let doc = result(&run);
    assert_eq!(
        doc["waves"],
        serde_json::json!([["networking", "watcher"], ["database"]])
    );
    let (db, net, watcher) = (
        span(stack(&doc, "database")),
        span(stack(&doc, "networking")),
        span(stack(&doc, "watcher")),
    );
    assert!(
        db.0 >= watcher.1,
        "database {db:?} deleted before the watcher {watcher:?} was gone"
    );
    assert!(
        net.0 < watcher.1 && watcher.0 < net.1,
        "networking {net:?} and the watcher {watcher:?} did not overlap"
    );
    for name in ["database", "networking", "watcher"] {
        assert_eq!(stack(&doc, name)["outcome"], "deleted");
    }
}

#[test]
fn a_failure_stops_new_starts_lets_the_running_finish_and_reports_every_stack() {
    let moto = Moto::start();
    let p = project();
    // A reference CloudFormation refuses: the database fails; networking, in the same wave,
    // finishes; the watcher, which needs the database, is never started.
    let t = p.read("templates/database.yaml.j2").replacen(
        "Outputs:",
        "  Broken:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName:\n        Fn::GetAtt: [GhostQueue, QueueName]\nOutputs:",
        1,
    );
    p.write("templates/database.yaml.j2", &t);

    let run = p.xtask(&moto, &["--output", "json", "deploy", "all", "--env", "local"]);
    run.expect_code(1);
    let doc = result(&run);
    assert_eq!(doc["ok"], false);
    assert_eq!(stack(&doc, "networking")["outcome"], "created");
    assert_eq!(stack(&doc, "database")["outcome"], "failed");
    assert!(
        stack(&doc, "database")["error"]
            .as_str()
            .unwrap()
            .contains("GhostQueue"),
        "{doc}"
    );
    assert_eq!(stack(&doc, "watcher")["outcome"], "not attempted");
    assert_eq!(stack(&doc, "watcher")["error"], "not started: database failed");
    assert!(
        doc["error"]
            .as_str()
            .unwrap()
            .contains("deploy of stack database (mcfpipe-local-database) failed")
    );

    // In text: one table of every stack, then the root cause. (moto keeps the half-made
    // database stack in CREATE_IN_PROGRESS, so this time it is refused as busy.)
    let run = p.xtask(&moto, &["deploy", "all", "--env", "local"]);
    run.expect_code(1)
        .contains("networking  unchanged")
        .contains("watcher     not attempted")
        .contains("error: deploy of stack database (mcfpipe-local-database) failed");
}

#[test]
fn deploy_no_execute_shows_the_waves_and_leaves_change_sets() {
    let moto = Moto::start();
    let p = project();
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    let t = p.read("templates/watcher.yaml.j2").replace(
        "Tags: {{ tags() | tojson }}",
        "DisplayName: watcher\n      Tags: {{ tags() | tojson }}",
    );
    p.write("templates/watcher.yaml.j2", &t);
    p.xtask(&moto, &["deploy", "all", "--env", "local", "--no-execute"])
        .ok()
        .contains("deploy in waves (the stacks of a wave side by side): 1) database, networking  2) watcher")
        .contains("watcher: change set left for review");
}
