//! Failures reach the user: the alert topic, the rule on the scraper task's failures and the
//! dead-letter alarm, deployed on moto and read back through SNS and EventBridge; `status`
//! shows the last run of each workflow and the dead-letter depth.
//!
//! What moto cannot show: it silently skips `AWS::CloudWatch::Alarm` and
//! `AWS::SNS::Subscription` (the stack still reaches CREATE_COMPLETE), so the dead-letter alarm
//! and the e-mail subscription are checked in the rendered templates (snapshots in
//! tests/snapshots/, cfn-lint in tests/tests/render.rs), not in the emulator. It never runs an
//! ECS task, and it stores event patterns without evaluating `$or` or `anything-but` (its
//! `TestEventPattern` answers an empty body): the deployed pattern, read back from moto, is
//! matched against the events ECS sends by LocalStack's EventBridge rule engine
//! (`mcfpipe_e2e::eventbridge_matches`). The input transformer's message is checked as text.

use mcfpipe_e2e::{Moto, Project, aws_cli, eventbridge_matches, runtime};
use serde_json::json;

/// An "ECS Task State Change" event as EventBridge delivers it (trimmed to what matters).
fn task_stopped(family: &str, cluster: &str, exit_code: Option<i32>, stop_code: &str) -> String {
    let container = match exit_code {
        Some(code) => json!({"name": "mcfscrape", "exitCode": code, "lastStatus": "STOPPED"}),
        None => json!({"name": "mcfscrape", "lastStatus": "STOPPED"}),
    };
    json!({
        "version": "0", "id": "7e5b2d7e-0000-4000-8000-000000000000",
        "detail-type": "ECS Task State Change", "source": "aws.ecs",
        "account": "123456789012", "time": "2026-11-29T22:05:00Z", "region": "ap-southeast-1",
        "resources": ["arn:aws:ecs:ap-southeast-1:123456789012:task/x/1"],
        "detail": {
            "clusterArn": cluster, "group": format!("family:{family}"), "lastStatus": "STOPPED",
            "stopCode": stop_code, "stoppedReason": "Essential container in task exited",
            "taskArn": "arn:aws:ecs:ap-southeast-1:123456789012:task/x/1", "containers": [container]
        }
    })
    .to_string()
}

#[test]
fn failures_have_a_topic_a_rule_and_status_shows_runs_and_dead_letters() {
    let moto = Moto::start();
    let p = Project::copy();
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    let sdk = moto.sdk();
    let cluster = "arn:aws:ecs:ap-southeast-1:123456789012:cluster/mcfpipe-local-cluster";
    // The topic, named for the environment.
    let topics = aws_cli(&moto, &["sns", "list-topics"]);
    let topic = topics["Topics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["TopicArn"].as_str())
        .find(|a| a.ends_with(":mcfpipe-local-alerts"))
        .expect("the alert topic")
        .to_string();

    // The rule sends the scraper's failures to it, with a readable message.
    let rule = aws_cli(
        &moto,
        &["events", "describe-rule", "--name", "mcfpipe-local-scraper-failed"],
    );
    let pattern = rule["EventPattern"].as_str().expect("an event pattern").to_string();
    let targets = aws_cli(
        &moto,
        &[
            "events",
            "list-targets-by-rule",
            "--rule",
            "mcfpipe-local-scraper-failed",
        ],
    );
    let target = &targets["Targets"][0];
    assert_eq!(target["Arn"], topic.as_str());
    let template = target["InputTransformer"]["InputTemplate"].as_str().unwrap_or_default();
    assert!(template.contains("exit code <code>"), "{template}");

    // Which events it takes: the pattern as deployed, through EventBridge's matching rules.
    let matches = |event: String| eventbridge_matches(&pattern, &event);
    let family = "mcfpipe-local-mcfscrape";
    assert!(
        matches(task_stopped(family, cluster, Some(3), "EssentialContainerExited")),
        "blocked run"
    );
    assert!(
        matches(task_stopped(family, cluster, Some(1), "EssentialContainerExited")),
        "failed run"
    );
    assert!(
        !matches(task_stopped(family, cluster, Some(0), "EssentialContainerExited")),
        "a completed run is not a failure"
    );
    assert!(
        matches(task_stopped(family, cluster, None, "TaskFailedToStart")),
        "never started"
    );
    assert!(
        !matches(task_stopped(
            "someone-else",
            cluster,
            Some(1),
            "EssentialContainerExited"
        )),
        "another family"
    );

    // status: no run yet, an empty dead-letter queue.
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("last search: never run")
        .contains("dead letters: mcfpipe-local-parse-dlq is empty");

    // A document the parser gave up on: status counts it.
    runtime().block_on(async {
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let url = sqs
            .get_queue_url()
            .queue_name("mcfpipe-local-parse-dlq")
            .send()
            .await
            .unwrap();
        sqs.send_message()
            .queue_url(url.queue_url().unwrap())
            .message_body("{\"key\":\"raw/2026-11-29/x.json\"}")
            .send()
            .await
            .unwrap();
    });
    let run = p.xtask(&moto, &["--output", "json", "status", "--env", "local"]);
    let doc = run.ok().json_lines().pop().unwrap();
    assert_eq!(
        doc["dead_letters"][0]["queue"], "mcfpipe-local-parse-dlq",
        "{}",
        run.output
    );
    assert_eq!(doc["dead_letters"][0]["messages"], 1);
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("dead letters: 1 message(s) in mcfpipe-local-parse-dlq");

    // After a search, its last run.
    p.xtask(&moto, &["seed", "--env", "local"]).ok();
    p.xtask(&moto, &["run", "search", "--env", "local", "--offline"]).ok();
    let run = p.xtask(&moto, &["status", "--env", "local"]);
    run.ok().contains("last search: completed at 20");
    let doc = p
        .xtask(&moto, &["--output", "json", "status", "--env", "local"])
        .json_lines()
        .pop()
        .unwrap();
    assert_eq!(doc["last_runs"][0]["workflow"], "search");
    assert_eq!(doc["last_runs"][0]["outcome"], "completed");
}
