//! `deploy`, `diff`, `status`, `outputs` and `teardown` against a real moto server, on the
//! networking and database layers (the compute layer, which needs built artifacts, has its
//! own end-to-end test).
//!
//! What moto cannot do (docs/LOCAL.md): per-resource stack events and `*_FAILED` resource
//! states (it creates synchronously or answers an error), route-table deletion (the networking
//! stack goes, its VPC stays), `UpdateTerminationProtection` (HTTP 500), bucket/queue policies,
//! PITR, S3 public access blocks. Those parts are unit-tested on recorded shapes in `xtask`
//! (`cfn::tests`, `lint::tests`) and must be confirmed on AWS itself.

use std::collections::BTreeSet;

use mcfpipe_e2e::{Moto, Project, runtime};

fn outputs(p: &Project) -> serde_json::Value {
    let text = std::fs::read_to_string(p.root().join("target/mcfpipe/local/outputs.json")).expect("outputs.json");
    serde_json::from_str(&text).expect("outputs.json is JSON")
}

/// (number of stack events, last updated time) of each stack: any write changes one of them.
fn stack_writes(moto: &Moto) -> Vec<(usize, Option<String>)> {
    let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk());
    runtime().block_on(async {
        let mut out = Vec::new();
        for stack in ["mcfpipe-local-networking", "mcfpipe-local-database"] {
            let events = cfn
                .describe_stack_events()
                .stack_name(stack)
                .send()
                .await
                .expect("events");
            let desc = cfn.describe_stacks().stack_name(stack).send().await.expect("describe");
            let updated = desc.stacks()[0].last_updated_time().map(|t| t.to_string());
            out.push((events.stack_events().len(), updated));
        }
        out
    })
}

#[test]
fn deploy_all_builds_what_the_config_says_then_no_op_then_update_then_teardown() {
    let moto = Moto::start();
    let p = Project::data_layers();

    p.xtask(&moto, &["diff", "all", "--env", "local", "--exit-code"])
        .expect_code(2)
        .contains("would create mcfpipe-local-networking (16 resources)")
        .contains("+ Add      Vpc");

    p.xtask(&moto, &["deploy", "all", "--env", "local"])
        .ok()
        .contains("networking: created")
        .contains("database: created")
        .contains("VpcId");
    let out = outputs(&p);
    let sdk = moto.sdk();
    runtime().block_on(async {
        // DynamoDB: keys, index, stream, billing, tags.
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        for (table, has_gsi1) in [
            ("posts", true),
            ("dimensions", false),
            ("crm", true),
            ("applications", true),
        ] {
            let name = format!("mcfpipe-local-{table}");
            let t = ddb
                .describe_table()
                .table_name(&name)
                .send()
                .await
                .expect("table exists")
                .table
                .expect("table");
            let keys: Vec<(String, String)> = t
                .key_schema()
                .iter()
                .map(|k| (k.attribute_name().to_string(), k.key_type().as_str().to_string()))
                .collect();
            assert_eq!(
                keys,
                [
                    ("pk".to_string(), "HASH".to_string()),
                    ("sk".to_string(), "RANGE".to_string())
                ],
                "{name}"
            );
            let gsis: Vec<&str> = t
                .global_secondary_indexes()
                .iter()
                .filter_map(|g| g.index_name())
                .collect();
            assert_eq!(gsis == ["gsi1"], has_gsi1, "{name}: indexes {gsis:?}");
            assert_eq!(
                t.billing_mode_summary()
                    .and_then(|b| b.billing_mode())
                    .map(|b| b.as_str()),
                Some("PAY_PER_REQUEST"),
                "{name}"
            );
            let tags = ddb
                .list_tags_of_resource()
                .resource_arn(t.table_arn().unwrap())
                .send()
                .await
                .expect("tags");
            let tags: BTreeSet<(String, String)> = tags
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            for tag in [("project", "mcfpipe"), ("environment", "local"), ("layer", "database")] {
                assert!(
                    tags.contains(&(tag.0.to_string(), tag.1.to_string())),
                    "{name}: tags {tags:?}"
                );
            }
            if table == "posts" {
                let stream = t.stream_specification().expect("posts stream");
                assert!(stream.stream_enabled());
            }
        }

        // S3: the bucket named in the outputs, encrypted.
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        let bucket = out["database"]["DataBucketName"].as_str().expect("bucket output");
        assert_eq!(bucket, "mcfpipe-local-data-123456789012-ap-southeast-1");
        s3.head_bucket().bucket(bucket).send().await.expect("bucket exists");
        let enc = s3
            .get_bucket_encryption()
            .bucket(bucket)
            .send()
            .await
            .expect("encryption");
        let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
        assert_eq!(
            rule.apply_server_side_encryption_by_default()
                .unwrap()
                .sse_algorithm()
                .as_str(),
            "AES256"
        );

        // SQS: the parse queue redrives to its dead-letter queue after 5 receives.
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let url = sqs
            .get_queue_url()
            .queue_name("mcfpipe-local-parse")
            .send()
            .await
            .expect("queue")
            .queue_url
            .unwrap();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .expect("attributes");
        let attrs = attrs.attributes().expect("attributes");
        let redrive: serde_json::Value =
            serde_json::from_str(&attrs[&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy]).expect("redrive JSON");
        assert_eq!(
            redrive["deadLetterTargetArn"],
            "arn:aws:sqs:ap-southeast-1:123456789012:mcfpipe-local-parse-dlq"
        );
        assert_eq!(redrive["maxReceiveCount"].to_string().trim_matches('"'), "5");
        assert_eq!(attrs[&aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout], "90");
        sqs.get_queue_url()
            .queue_name("mcfpipe-local-parse-dlq")
            .send()
            .await
            .expect("dead-letter queue");

        // EC2: VPC, subnets in the configured AZs and blocks, endpoints, security groups, no NAT.
        let ec2 = aws_sdk_ec2::Client::new(&sdk);
        let vpc_id = out["networking"]["VpcId"].as_str().expect("VpcId");
        let vpcs = ec2.describe_vpcs().vpc_ids(vpc_id).send().await.expect("vpc");
        assert_eq!(vpcs.vpcs()[0].cidr_block(), Some("10.20.0.0/16"));
        let vpc_filter = aws_sdk_ec2::types::Filter::builder()
            .name("vpc-id")
            .values(vpc_id)
            .build();
        let subnets = ec2
            .describe_subnets()
            .filters(vpc_filter.clone())
            .send()
            .await
            .expect("subnets");
        let mut found: Vec<(String, String)> = subnets
            .subnets()
            .iter()
            .map(|s| {
                (
                    s.cidr_block().unwrap_or_default().to_string(),
                    s.availability_zone().unwrap_or_default().to_string(),
                )
            })
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                ("10.20.0.0/24".to_string(), "ap-southeast-1a".to_string()),
                ("10.20.1.0/24".to_string(), "ap-southeast-1b".to_string()),
                ("10.20.10.0/24".to_string(), "ap-southeast-1a".to_string()),
            ]
        );
        let endpoints = ec2
            .describe_vpc_endpoints()
            .filters(vpc_filter.clone())
            .send()
            .await
            .expect("endpoints");
        let mut services: Vec<String> = endpoints
            .vpc_endpoints()
            .iter()
            .filter_map(|e| e.service_name())
            .map(str::to_string)
            .collect();
        services.sort();
        assert_eq!(
            services,
            [
                "com.amazonaws.ap-southeast-1.dynamodb",
                "com.amazonaws.ap-southeast-1.s3"
            ]
        );
        let groups = ec2
            .describe_security_groups()
            .filters(vpc_filter.clone())
            .send()
            .await
            .expect("groups");
        let names: BTreeSet<&str> = groups.security_groups().iter().filter_map(|g| g.group_name()).collect();
        assert!(
            names.contains("mcfpipe-local-internal") && names.contains("mcfpipe-local-public-outbound"),
            "{names:?}"
        );
        let igws = ec2
            .describe_internet_gateways()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("attachment.vpc-id")
                    .values(vpc_id)
                    .build(),
            )
            .send()
            .await
            .expect("igw");
        assert_eq!(igws.internet_gateways().len(), 1);
        let nats = ec2
            .describe_nat_gateways()
            .filter(vpc_filter)
            .send()
            .await
            .expect("nat");
        assert!(nats.nat_gateways().is_empty(), "no NAT gateway");
    });

    // Nothing changed: "unchanged", and no stack write at all (same events, same update time).
    let before = stack_writes(&moto);
    p.xtask(&moto, &["deploy", "all", "--env", "local"])
        .ok()
        .contains("networking: unchanged")
        .contains("database: unchanged");
    assert_eq!(stack_writes(&moto), before, "a no-change deploy wrote to a stack");
    p.xtask(&moto, &["diff", "all", "--env", "local", "--exit-code"])
        .ok()
        .contains("no changes");
    p.xtask(&moto, &["status", "--env", "local"]).ok().contains("in sync");

    // A config change: previewed, then applied, and visible through the SQS API.
    p.append_config(
        "local",
        "database:\n  parse_queue:\n    visibility_timeout_seconds: 120\n",
    );
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("differs: template");
    p.xtask(&moto, &["diff", "database", "--env", "local", "--exit-code"])
        .expect_code(2)
        .contains("~ Modify   ParseQueue");
    p.xtask(&moto, &["deploy", "database", "--env", "local"])
        .ok()
        .contains("database: updated");
    runtime().block_on(async {
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let url = sqs
            .get_queue_url()
            .queue_name("mcfpipe-local-parse")
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout)
            .send()
            .await
            .unwrap();
        assert_eq!(
            attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout],
            "120"
        );
    });
    p.xtask(&moto, &["status", "--env", "local"]).ok().contains("in sync");

    // Teardown: a stack cannot go while another that needs it stays; then all, in reverse
    // order. The database takes nothing from the network, so it is made to need it here.
    let manifest = p
        .read("stacks/database.yaml")
        .replace("depends_on: []", "depends_on: [networking]");
    p.write("stacks/database.yaml", &manifest);
    p.xtask(&moto, &["teardown", "networking", "--env", "local", "--yes"])
        .expect_code(1)
        .contains("stack database is still deployed and depends on networking");
    let put = runtime().block_on(async {
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        s3.put_object()
            .bucket("mcfpipe-local-data-123456789012-ap-southeast-1")
            .key("raw/2026-11-28/x.json")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"{}"))
            .send()
            .await
    });
    put.expect("put a raw document");
    p.xtask(&moto, &["teardown", "--env", "local", "--yes"])
        .ok()
        .contains("will delete: mcfpipe-local-database, mcfpipe-local-networking")
        .contains("teardown in waves (the stacks of a wave side by side): 1) database  2) networking")
        .contains("emptied bucket mcfpipe-local-data-123456789012-ap-southeast-1 (1 objects and versions)")
        .contains("database: deleted")
        .contains("networking: deleted");
    runtime().block_on(async {
        let cfn = aws_sdk_cloudformation::Client::new(&sdk);
        let live = cfn.list_stacks().send().await.unwrap();
        let live: Vec<&str> = live
            .stack_summaries()
            .iter()
            .filter(|s| s.stack_status().map(|x| x.as_str()) != Some("DELETE_COMPLETE"))
            .filter_map(|s| s.stack_name())
            .collect();
        assert!(live.is_empty(), "stacks left: {live:?}");
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        assert!(
            ddb.list_tables().send().await.unwrap().table_names().is_empty(),
            "tables left"
        );
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        assert!(
            s3.list_buckets().send().await.unwrap().buckets().is_empty(),
            "buckets left"
        );
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        assert!(
            sqs.list_queues().send().await.unwrap().queue_urls().is_empty(),
            "queues left"
        );
    });
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("NOT_DEPLOYED");
}

#[test]
fn a_template_cloudformation_rejects_names_stack_resource_and_reason() {
    let moto = Moto::start();
    let p = Project::data_layers();
    // A reference CloudFormation refuses ("Unresolved resource dependencies" on AWS). Our own
    // lint would catch it first; deploy sends what it is given.
    let t = p.read("templates/database.yaml.j2");
    let t = t.replacen(
        "Outputs:",
        "  Broken:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName:\n        Fn::GetAtt: [GhostQueue, QueueName]\nOutputs:",
        1,
    );
    p.write("templates/database.yaml.j2", &t);
    let run = p.xtask(&moto, &["deploy", "all", "--env", "local"]);
    run.expect_code(1)
        .contains("networking: created")
        .contains("database: failed")
        .contains("deploy of stack database (mcfpipe-local-database) failed")
        .contains("ValidationError")
        .contains("GhostQueue");
    // moto then keeps the half-made stack in CREATE_IN_PROGRESS (AWS would not create it): the
    // next deploy refuses it as busy instead of piling on.
    p.xtask(&moto, &["deploy", "database", "--env", "local"])
        .expect_code(1)
        .contains("stack mcfpipe-local-database is busy (CREATE_IN_PROGRESS");
    // Our lint names the same fault before any deploy.
    p.xtask(&moto, &["lint", "--env", "local", "--no-cfn-lint"])
        .expect_code(1)
        .contains("local/database: GetAtt GhostQueue names nothing in the template");
}

#[test]
fn json_output_is_machine_readable() {
    let moto = Moto::start();
    let p = Project::data_layers();
    let run = p.xtask(&moto, &["--output", "json", "deploy", "networking", "--env", "local"]);
    run.ok();
    let lines = run.json_lines();
    assert!(!lines.is_empty());
    assert_eq!(
        lines.len(),
        run.output.lines().count(),
        "every line is JSON:\n{}",
        run.output
    );
    let result = lines.last().unwrap();
    assert_eq!(result["event"], "result");
    assert_eq!(result["stacks"][0]["outcome"], "created");
    assert!(
        result["outputs"]["networking"]["VpcId"]
            .as_str()
            .unwrap()
            .starts_with("vpc-")
    );
    assert!(
        lines
            .iter()
            .any(|l| l["event"] == "change" && l["change"]["logical_id"] == "Vpc")
    );

    let run = p.xtask(&moto, &["--output", "json", "outputs", "--env", "local"]);
    let doc = run.ok().json_lines().pop().expect("a result line");
    assert_eq!(doc["event"], "result");
    assert!(
        doc["outputs"]["networking"]["PrivateSubnetId"]
            .as_str()
            .unwrap()
            .starts_with("subnet-")
    );

    let run = p.xtask(&moto, &["--output", "json", "status", "--env", "local"]);
    let doc = run.ok().json_lines().pop().expect("a result line");
    assert_eq!(
        run.json_lines().len(),
        run.output.lines().count(),
        "every line is JSON:\n{}",
        run.output
    );
    let status = |name: &str| {
        doc["stacks"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["stack"] == name))
            .map(|s| s["status"].clone())
            .unwrap_or_default()
    };
    assert_eq!(status("networking"), "CREATE_COMPLETE");
    assert_eq!(status("database"), "NOT_DEPLOYED");
}

#[test]
fn deploying_a_layer_whose_upstream_is_missing_says_what_to_deploy_first() {
    let moto = Moto::start();
    let p = Project::data_layers();
    // A stack that reads networking's outputs as parameters (as compute will).
    p.write(
        "stacks/consumer.yaml",
        "layer: compute\ntemplate: consumer.yaml.j2\nparameters:\n  VpcId: {stack_output: networking.VpcId}\n  Days: {config: logs.retention_days}\n",
    );
    p.write(
        "templates/consumer.yaml.j2",
        "Parameters:\n  VpcId: {Type: String}\n  Days: {Type: Number}\nResources:\n  Group:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupName: {{ name('consumer') | tojson }}\n      GroupDescription: reads VpcId from networking\n      VpcId: {Ref: VpcId}\n      Tags: {{ tags() | tojson }}\nOutputs:\n  SeenVpc: {Value: {Ref: VpcId}}\n",
    );
    p.xtask(&moto, &["deploy", "compute", "--env", "local"])
        .expect_code(1)
        .contains("stack consumer needs output `VpcId` of stack networking, which is not deployed in environment local: deploy networking first");
    p.xtask(&moto, &["diff", "compute", "--env", "local"])
        .ok()
        .contains("parameter VpcId = <unresolved: networking.VpcId>");
    p.xtask(&moto, &["deploy", "networking", "--env", "local"]).ok();
    let run = p.xtask(&moto, &["deploy", "compute", "--env", "local"]);
    run.ok().contains("consumer: created");
    let out = outputs(&p);
    assert_eq!(
        out["consumer"]["SeenVpc"], out["networking"]["VpcId"],
        "the output reached the parameter"
    );
}

#[test]
fn the_account_guard_refuses_other_accounts() {
    let moto = Moto::start();
    let p = Project::data_layers();
    let dev = p
        .read("config/dev.yaml")
        .replace("account_id: \"123456789012\"", "account_id: \"111111111111\"");
    p.write("config/dev.yaml", &dev);
    p.xtask(&moto, &["deploy", "all", "--env", "dev"])
        .expect_code(1)
        .contains("account guard: environment `dev` deploys to account 111111111111")
        .contains("credentials are for account 123456789012");
}

#[test]
fn a_protected_environment_is_torn_down_only_with_force_and_keeps_its_data() {
    let moto = Moto::start();
    let p = Project::data_layers();
    // moto answers UpdateTerminationProtection with HTTP 500: leave it off here. The rest of
    // prod's settings (approval, protected, Retain) stand.
    let prod = p
        .read("config/prod.yaml")
        .replace("termination_protection: true", "termination_protection: false");
    p.write("config/prod.yaml", &prod);
    p.xtask(&moto, &["deploy", "all", "--env", "prod"])
        .expect_code(1)
        .contains("needs confirmation and stdin is not a terminal: run again with --yes");
    p.xtask(&moto, &["deploy", "all", "--env", "prod", "--yes"])
        .ok()
        .contains("database: created");

    p.xtask(&moto, &["teardown", "--env", "prod", "--yes"])
        .expect_code(1)
        .contains("environment prod is protected");
    p.xtask(&moto, &["teardown", "--env", "prod", "--force", "--confirm", "staging"])
        .expect_code(1)
        .contains("nothing was deleted");
    p.xtask(&moto, &["status", "--env", "prod"])
        .ok()
        .contains("CREATE_COMPLETE");

    let run = p.xtask(&moto, &["teardown", "--env", "prod", "--force", "--confirm", "prod"]);
    run.ok()
        .contains("retained (DeletionPolicy), still in the account:")
        .contains("AWS::DynamoDB::Table mcfpipe-prod-posts (Retain, from database)")
        .contains("AWS::SQS::Queue");
    assert!(
        !run.output.contains("emptied bucket"),
        "a protected environment's bucket is not emptied"
    );
    let sdk = moto.sdk();
    runtime().block_on(async {
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        let tables = ddb.list_tables().send().await.unwrap();
        assert_eq!(tables.table_names().len(), 4, "retained tables are still there");
    });
}

/// prod's stacks are created with termination protection (CreateStack's flag, which moto keeps
/// and reports), and teardown will not delete a protected stack without --force. What AWS must
/// confirm: lifting it. moto does not implement `UpdateTerminationProtection`, so the forced
/// teardown stops there, naming the stack, with nothing deleted; and moto's DeleteStack
/// ignores the protection, which AWS enforces.
#[test]
fn prod_stacks_carry_termination_protection_and_teardown_lifts_it_only_with_force() {
    let moto = Moto::start();
    let p = Project::with_stacks(&["networking"]);
    // Created directly, as on the emulator always: CreateStack carries the flag. (Through a
    // change set the deployer sets it after the create with UpdateTerminationProtection, which
    // moto lacks.)
    let prod = p.read("config/prod.yaml");
    let direct = prod.replacen("deploy:\n", "deploy:\n  method: direct\n", 1);
    assert_ne!(direct, prod);
    p.write("config/prod.yaml", &direct);
    p.xtask(&moto, &["deploy", "all", "--env", "prod", "--yes"])
        .ok()
        .contains("networking: created");
    let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk());
    let protected = || {
        runtime().block_on(async {
            let d = cfn
                .describe_stacks()
                .stack_name("mcfpipe-prod-networking")
                .send()
                .await
                .expect("the stack");
            d.stacks()[0].enable_termination_protection()
        })
    };
    assert_eq!(protected(), Some(true));
    p.xtask(&moto, &["teardown", "--env", "prod", "--force", "--confirm", "prod"])
        .expect_code(1)
        .contains("networking: lifting termination protection (--force)")
        .contains("cannot change termination protection of");
    assert_eq!(protected(), Some(true), "nothing was deleted");
}

#[test]
fn status_names_the_stacks_to_redeploy_when_an_upstream_output_changed() {
    let moto = Moto::start();
    let p = Project::with_stacks(&[]);
    p.write(
        "stacks/upstream.yaml",
        "layer: networking\ntemplate: upstream.yaml.j2\nparameters:\n  Days: {config: logs.retention_days}\n",
    );
    p.write(
        "templates/upstream.yaml.j2",
        "Parameters:\n  Days: {Type: String}\nResources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: {{ name('upstream') | tojson }}\n      Tags: {{ tags() | tojson }}\nOutputs:\n  Days: {Value: {Ref: Days}}\n",
    );
    p.write(
        "stacks/consumer.yaml",
        "layer: compute\ntemplate: consumer.yaml.j2\nparameters:\n  Days: {stack_output: upstream.Days}\n",
    );
    p.write(
        "templates/consumer.yaml.j2",
        "Parameters:\n  Days: {Type: String}\nResources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: {{ name('consumer') | tojson }}\n      Tags: {{ tags() | tojson }}\nOutputs:\n  SeenDays: {Value: {Ref: Days}}\n",
    );
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    let status = p.xtask(&moto, &["status", "--env", "local"]);
    assert!(!status.ok().output.contains("redeploy "), "{}", status.output);

    // The upstream's output changes; the consumer still runs with the old value.
    let local = p.read("config/local.yaml");
    assert!(local.contains("  retention_days: 1\n"));
    p.write(
        "config/local.yaml",
        &local.replacen("  retention_days: 1\n", "  retention_days: 3\n", 1),
    );
    p.xtask(&moto, &["deploy", "networking", "--env", "local"]).ok();
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("redeploy consumer: its parameter Days is 1 but upstream.Days is now 3");
    let doc = p
        .xtask(&moto, &["--output", "json", "status", "--env", "local"])
        .json_lines()
        .pop()
        .unwrap();
    assert_eq!(doc["redeploy"][0]["stack"], "consumer");

    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    let status = p.xtask(&moto, &["status", "--env", "local"]);
    assert!(!status.ok().output.contains("redeploy "), "{}", status.output);
}
