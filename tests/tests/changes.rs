//! The path real environments take: updates through change sets (`deploy.method: changeset`,
//! what dev, staging and prod use), and stacks changed behind the deployer's back (the
//! console, another tool). Against a real moto server; each changed property is read back
//! through its own service's API.
//!
//! What moto cannot show, and how the deployer copes:
//! - An executed UPDATE change set does not refresh the stack's outputs, so the deploy-hash
//!   output stays at the previous deploy's value. The deployer then reads the deployed template
//!   (which does carry the new hash in its text) and finds it is the one it would send: the next
//!   deploy says `unchanged` with no write, and says why.
//! - A CREATE change set leaves a stack with no outputs at all, so the tests create stacks
//!   directly and update them through change sets.
//! - moto validates references only when a change set executes; AWS refuses the change set
//!   itself (status FAILED with a reason). The deployer reports either with CloudFormation's
//!   words, naming the stack.
//! - `UpdateTerminationProtection` answers HTTP 500: reconciling termination protection is
//!   shown up to that call, and the error says so.

use aws_sdk_cloudformation::types::{Parameter, Tag};
use mcfpipe_e2e::{Moto, Project, runtime};

fn queue_visibility(moto: &Moto, name: &str) -> String {
    let sdk = moto.sdk();
    runtime().block_on(async {
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let url = sqs.get_queue_url().queue_name(name).send().await.unwrap();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(url.queue_url().unwrap())
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout)
            .send()
            .await
            .unwrap();
        attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout].clone()
    })
}

/// The local environment, switched to change sets as dev, staging and prod use.
fn changeset(p: &Project) {
    let config = p.read("config/local.yaml");
    assert!(config.contains("method: direct"), "{config}");
    p.write(
        "config/local.yaml",
        &config.replace("method: direct", "method: changeset"),
    );
}

/// (number of stack events, last updated time): any write changes one of them.
fn writes(moto: &Moto, stack: &str) -> (usize, Option<String>) {
    let sdk = moto.sdk();
    runtime().block_on(async {
        let cfn = aws_sdk_cloudformation::Client::new(&sdk);
        let events = cfn.describe_stack_events().stack_name(stack).send().await.unwrap();
        let s = cfn.describe_stacks().stack_name(stack).send().await.unwrap();
        let updated = s.stacks()[0].last_updated_time().map(|t| t.to_string());
        (events.stack_events().len(), updated)
    })
}

#[test]
fn updates_go_through_change_sets_shown_before_they_run_and_reach_the_resource() {
    let moto = Moto::start();
    let p = Project::data_layers();
    // Created directly (moto's CREATE change sets keep no outputs), then the environment
    // switches to change sets, as dev, staging and prod run.
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    assert_eq!(queue_visibility(&moto, "mcfpipe-local-parse"), "90");
    changeset(&p);
    p.append_config(
        "local",
        "database:\n  parse_queue:\n    visibility_timeout_seconds: 120\n",
    );

    // The change set's changes are shown, then it executes; the property reaches the queue.
    let run = p.xtask(&moto, &["deploy", "all", "--env", "local"]);
    run.ok()
        .contains("database: update mcfpipe-local-database")
        .contains("database: ~ Modify   ParseQueue")
        .contains("database: updated")
        .contains("networking: unchanged");
    let shown = run.output.find("~ Modify   ParseQueue").unwrap();
    let done = run.output.find("UPDATE_COMPLETE").unwrap();
    assert!(
        shown < done,
        "the changes were not shown before the update ran:\n{}",
        run.output
    );
    assert_eq!(queue_visibility(&moto, "mcfpipe-local-parse"), "120");

    // moto did not refresh the outputs; the deployer reads the template and writes nothing.
    let before = writes(&moto, "mcfpipe-local-database");
    p.xtask(&moto, &["deploy", "all", "--env", "local"])
        .ok()
        .contains("database: the deployed template is this one, but the stack's outputs were not refreshed")
        .contains("database: unchanged");
    assert_eq!(
        writes(&moto, "mcfpipe-local-database"),
        before,
        "a no-op wrote to the stack"
    );
    p.xtask(&moto, &["status", "--env", "local"]).ok().contains("in sync");
    p.xtask(&moto, &["diff", "all", "--env", "local", "--exit-code"]).ok();

    // --no-execute leaves the change set for review and changes nothing.
    let config = p
        .read("config/local.yaml")
        .replace("visibility_timeout_seconds: 120", "visibility_timeout_seconds: 150");
    p.write("config/local.yaml", &config);
    p.xtask(&moto, &["deploy", "all", "--env", "local", "--no-execute"])
        .ok()
        .contains("database: ~ Modify   ParseQueue")
        .contains("database: change set left for review");
    assert_eq!(queue_visibility(&moto, "mcfpipe-local-parse"), "120");
}

#[test]
fn a_failing_change_set_is_reported_by_its_root_cause_and_changes_nothing() {
    let moto = Moto::start();
    let p = Project::data_layers();
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    changeset(&p);
    let t = p.read("templates/database.yaml.j2").replacen(
        "Outputs:",
        "  Broken:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName:\n        Fn::GetAtt: [GhostQueue, QueueName]\nOutputs:",
        1,
    );
    p.write("templates/database.yaml.j2", &t);
    p.xtask(&moto, &["deploy", "all", "--env", "local"])
        .expect_code(1)
        .contains("+ Add      Broken")
        .contains("deploy of stack database (mcfpipe-local-database) failed")
        .contains("references undefined resource GhostQueue");
    let sdk = moto.sdk();
    runtime().block_on(async {
        let cfn = aws_sdk_cloudformation::Client::new(&sdk);
        let s = cfn
            .describe_stacks()
            .stack_name("mcfpipe-local-database")
            .send()
            .await
            .unwrap();
        assert_eq!(
            s.stacks()[0].stack_status().map(|s| s.as_str()),
            Some("CREATE_COMPLETE"),
            "the failed change set left the stack as it was"
        );
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let queues = sqs.list_queues().send().await.unwrap();
        assert!(
            !queues
                .queue_urls()
                .iter()
                .any(|u| u.contains("Broken") || u.contains("Ghost")),
            "{queues:?}"
        );
    });
}

#[test]
fn parameters_and_tags_changed_behind_the_deployers_back_are_reported_and_repaired() {
    let moto = Moto::start();
    let p = Project::data_layers();
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    // Another tool updates the stack with the same template and other tags: the deploy-hash
    // output stays ours.
    let sdk = moto.sdk();
    runtime().block_on(async {
        let cfn = aws_sdk_cloudformation::Client::new(&sdk);
        let s = cfn
            .describe_stacks()
            .stack_name("mcfpipe-local-networking")
            .send()
            .await
            .unwrap();
        let stack = &s.stacks()[0];
        let template = cfn
            .get_template()
            .stack_name("mcfpipe-local-networking")
            .send()
            .await
            .unwrap();
        let mut tags: Vec<Tag> = stack.tags().to_vec();
        tags.retain(|t| t.key() != Some("environment"));
        tags.push(Tag::builder().key("environment").value("console-edit").build());
        tags.push(Tag::builder().key("owner").value("someone").build());
        let params: Vec<Parameter> = stack.parameters().to_vec();
        cfn.update_stack()
            .stack_name("mcfpipe-local-networking")
            .template_body(template.template_body().unwrap())
            .set_parameters(Some(params))
            .set_tags(Some(tags))
            .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
            .send()
            .await
            .unwrap();
    });
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("differs: tags")
        .contains(
            "networking: changed outside the deployer: tag environment: deployed console-edit, the files say local",
        )
        .contains("networking: changed outside the deployer: tag owner: deployed someone, the files say (none)");
    p.xtask(&moto, &["diff", "all", "--env", "local", "--exit-code"])
        .expect_code(2)
        .contains("networking: changed outside the deployer, a deploy sets it back: tag environment");
    p.xtask(&moto, &["deploy", "all", "--env", "local"])
        .ok()
        .contains("networking: repaired")
        .contains("database: unchanged");
    runtime().block_on(async {
        let cfn = aws_sdk_cloudformation::Client::new(&sdk);
        let s = cfn
            .describe_stacks()
            .stack_name("mcfpipe-local-networking")
            .send()
            .await
            .unwrap();
        let tags: Vec<(String, String)> = s.stacks()[0]
            .tags()
            .iter()
            .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
            .collect();
        assert!(tags.contains(&("environment".into(), "local".into())), "{tags:?}");
        assert!(!tags.iter().any(|(k, _)| k == "owner"), "{tags:?}");
    });
    p.xtask(&moto, &["status", "--env", "local"]).ok().contains("in sync");
}

#[test]
fn a_parameter_changed_behind_the_deployers_back_is_set_back() {
    let moto = Moto::start();
    // The watcher takes a parameter from its manifest: a value another tool can change.
    let p = Project::data_layers();
    p.write(
        "stacks/watcher.yaml",
        "layer: compute\ntemplate: watcher.yaml.j2\ndepends_on: []\nparameters:\n  Visibility: {config: database.parse_queue.visibility_timeout_seconds}\n",
    );
    p.write(
        "templates/watcher.yaml.j2",
        r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Visibility:
    Type: Number
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: {{ name("watcher") | tojson }}
      VisibilityTimeout:
        Ref: Visibility
"#,
    );
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    let sdk = moto.sdk();
    let visibility = |_: &aws_config::SdkConfig| queue_visibility(&moto, "mcfpipe-local-watcher");
    assert_eq!(visibility(&sdk), "90");
    runtime().block_on(async {
        let cfn = aws_sdk_cloudformation::Client::new(&sdk);
        let s = cfn
            .describe_stacks()
            .stack_name("mcfpipe-local-watcher")
            .send()
            .await
            .unwrap();
        cfn.update_stack()
            .stack_name("mcfpipe-local-watcher")
            .use_previous_template(true)
            .parameters(
                Parameter::builder()
                    .parameter_key("Visibility")
                    .parameter_value("30")
                    .build(),
            )
            .set_tags(Some(s.stacks()[0].tags().to_vec()))
            .send()
            .await
            .unwrap();
    });
    assert_eq!(visibility(&sdk), "30", "moto applied the other tool's update");
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("watcher: changed outside the deployer: parameter Visibility: deployed 30, the files say 90");
    p.xtask(&moto, &["deploy", "watcher", "--env", "local"])
        .ok()
        .contains("watcher: changed outside the deployer: parameter Visibility")
        .contains("watcher: repaired");
    assert_eq!(visibility(&sdk), "90", "the deploy set the parameter back");
    p.xtask(&moto, &["status", "--env", "local"]).ok().contains("in sync");
}

#[test]
fn termination_protection_is_reconciled_with_the_config() {
    let moto = Moto::start();
    let p = Project::data_layers();
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    let config = p
        .read("config/local.yaml")
        .replacen("deploy:\n", "deploy:\n  termination_protection: true\n", 1);
    p.write("config/local.yaml", &config);
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("differs: termination protection");
    // The deployer asks CloudFormation to turn it on; moto answers 500 to that call (AWS
    // turns it on), and the error says which call and which stack.
    p.xtask(&moto, &["deploy", "all", "--env", "local"])
        .expect_code(1)
        .contains("cannot change termination protection of")
        .contains("mcfpipe-local-networking");
}
