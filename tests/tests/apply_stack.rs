//! The apply stack deployed on moto and read back through its ECS, Lambda, Events, IAM, S3 and
//! CloudFormation APIs: the task definition runs the `mcfapply` artifact with an init process,
//! the configured CPU and memory and the environment `runtime/mcfapply/src/main.rs` reads; the
//! session check function runs the `session` artifact outside the VPC with the environment
//! `runtime/mcfsession` reads; the two roles carry exactly the names the data bucket's policy
//! lets read the session; the outputs are what an `ecs:RunTask` of the task needs; the daily
//! check and the apply schedule exist only where the config schedules them.
//!
//! Where moto stops: its CloudFormation drops the task definition's CPU, network mode,
//! compatibilities and roles, the schedule target's network configuration and the data
//! bucket's policy, so those are read from the deployed templates; it runs no Lambda code and
//! no Fargate task (the runs themselves are
//! checked by tests/apply_permissions.rs and runtime/mcfapply/tests/flow.rs), and it enforces
//! no IAM (the roles are evaluated by `xtask::iam` there).

use std::collections::BTreeMap;

use mcfpipe_e2e::{Moto, Project, aws_cli};
use serde_json::{Value, json};

const REGION: &str = "ap-southeast-1";
const ACCOUNT: &str = "123456789012";

fn outputs(moto: &Moto, stack: &str) -> BTreeMap<String, String> {
    let d = aws_cli(moto, &["cloudformation", "describe-stacks", "--stack-name", stack]);
    d["Stacks"][0]["Outputs"]
        .as_array()
        .expect("the stack's outputs")
        .iter()
        .map(|o| {
            (
                o["OutputKey"].as_str().unwrap().to_string(),
                o["OutputValue"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

#[test]
fn the_apply_stack_runs_the_artifacts_with_their_environment_and_schedules_only_when_configured() {
    let moto = Moto::start();
    let p = Project::with_stacks(&["artifacts", "networking", "database", "apply"]);
    p.xtask(&moto, &["deploy", "all", "--env", "local"])
        .ok()
        .contains("apply: created");

    let out = outputs(&moto, "mcfpipe-local-apply");
    let net = outputs(&moto, "mcfpipe-local-networking");
    let db = outputs(&moto, "mcfpipe-local-database");
    let cluster = format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/mcfpipe-local-apply");
    assert_eq!(out["ApplyClusterArn"], cluster);
    assert_eq!(out["ApplyClusterName"], "mcfpipe-local-apply");
    // What "apply now" needs for RunTask: the public subnets and the outbound-only group (the
    // task reaches MCF through a public IP), and the two roles to pass.
    assert_eq!(out["ApplySubnetIds"], net["PublicSubnetIds"]);
    assert_eq!(out["ApplySecurityGroupId"], net["PublicOutboundSecurityGroupId"]);
    assert_eq!(out["ApplyTaskRoleArn"], role_arn("mcfpipe-local-apply"));
    assert_eq!(out["ApplyExecutionRoleArn"], role_arn("mcfpipe-local-apply-execution"));
    assert_eq!(out["ApplyLogGroupName"], "/ecs/mcfpipe-local-mcfapply");
    assert_eq!(out["SessionFunctionName"], "mcfpipe-local-session");
    assert_eq!(out["SessionLogGroupName"], "/aws/lambda/mcfpipe-local-session");

    // The task definition: the artifact, the init process, CPU and memory, the environment.
    let td = aws_cli(
        &moto,
        &[
            "ecs",
            "describe-task-definition",
            "--task-definition",
            &out["ApplyTaskDefinitionArn"],
        ],
    );
    let td = &td["taskDefinition"];
    assert_eq!(td["family"], "mcfpipe-local-mcfapply");
    // moto 5.2 keeps the task's memory but drops its CPU, network mode, compatibilities and
    // roles: those are read from the deployed template, the rest from ECS.
    let deployed = aws_cli(
        &moto,
        &["cloudformation", "get-template", "--stack-name", "mcfpipe-local-apply"],
    );
    let body: Value = match &deployed["TemplateBody"] {
        Value::String(text) => serde_json::from_str(text)
            .or_else(|_| serde_norway::from_str(text))
            .expect("the template body"),
        body => body.clone(),
    };
    let props = &body["Resources"]["ApplyTaskDefinition"]["Properties"];
    assert_eq!((&props["Cpu"], &props["Memory"]), (&json!("1024"), &json!("2048")));
    assert!(td["cpu"].is_null() || td["cpu"] == "1024", "{td}");
    assert_eq!(td["memory"], "2048");
    assert_eq!(props["NetworkMode"], "awsvpc");
    assert_eq!(props["RequiresCompatibilities"], json!(["FARGATE"]));
    // moto's CloudFormation does not pass the roles on either (the roles are checked by name
    // below).
    assert_eq!(props["TaskRoleArn"], json!({"Fn::GetAtt": ["ApplyTaskRole", "Arn"]}));
    assert_eq!(
        props["ExecutionRoleArn"],
        json!({"Fn::GetAtt": ["ApplyExecutionRole", "Arn"]})
    );
    let containers = td["containerDefinitions"].as_array().expect("containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert_eq!(c["name"], "mcfapply");
    assert_eq!(c["image"], out["ApplyImage"].as_str());
    assert!(
        out["ApplyImage"].contains("mcfpipe-local-mcfapply"),
        "the mcfapply artifact: {}",
        out["ApplyImage"]
    );
    assert_eq!(c["linuxParameters"]["initProcessEnabled"], true, "{c}");
    assert_eq!(c["readonlyRootFilesystem"], true);
    assert_eq!(c["mountPoints"][0]["containerPath"], "/tmp", "{c}");
    assert_eq!(td["volumes"], json!([{"name": "scratch"}]));
    assert_eq!(c["logConfiguration"]["logDriver"], "awslogs");
    assert_eq!(
        c["logConfiguration"]["options"]["awslogs-group"],
        "/ecs/mcfpipe-local-mcfapply"
    );
    let env: BTreeMap<String, String> = c["environment"]
        .as_array()
        .expect("environment")
        .iter()
        .map(|v| (v["name"].as_str().unwrap().into(), v["value"].as_str().unwrap().into()))
        .collect();
    let want: BTreeMap<String, String> = [
        ("CRM_TABLE", "mcfpipe-local-crm"),
        ("APPLICATIONS_TABLE", "mcfpipe-local-applications"),
        ("DIMENSIONS_TABLE", "mcfpipe-local-dimensions"),
        ("DATA_BUCKET", db["DataBucketName"].as_str()),
        ("ALERT_TOPIC_ARN", db["AlertTopicArn"].as_str()),
        ("MCFAPPLY_ENV", "local"),
        ("MCFAPPLY_SITE", "https://www.mycareersfuture.gov.sg"),
        // base.yaml: a dry run unless the environment says otherwise.
        ("MCFAPPLY_SUBMIT", "false"),
        ("MCFAPPLY_PAUSE", "20.0"),
        ("HOME", "/tmp"),
        ("TMPDIR", "/tmp"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(env, want);

    // The roles exist under the names the data bucket's policy lets read the session.
    for name in ["mcfpipe-local-apply", "mcfpipe-local-session"] {
        let r = aws_cli(&moto, &["iam", "get-role", "--role-name", name]);
        assert_eq!(r["Role"]["Arn"], role_arn(name).as_str());
    }
    // moto's CloudFormation does not apply the bucket policy: read from the deployed template.
    let db_template = aws_cli(
        &moto,
        &[
            "cloudformation",
            "get-template",
            "--stack-name",
            "mcfpipe-local-database",
        ],
    );
    let db_body: Value = match &db_template["TemplateBody"] {
        Value::String(text) => serde_json::from_str(text)
            .or_else(|_| serde_norway::from_str(text))
            .expect("the template body"),
        body => body.clone(),
    };
    let policy = &db_body["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"];
    let readers = policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .find(|s| s["Sid"] == "SessionReadersOnly")
        .expect("the session's readers");
    let mut allowed: Vec<String> = readers["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
        .as_array()
        .expect("the readers")
        .iter()
        .map(|v| {
            v["Fn::Sub"]
                .as_str()
                .expect("an ARN to fill in")
                .replace("${AWS::Partition}", "aws")
                .replace("${AWS::AccountId}", ACCOUNT)
        })
        .collect();
    allowed.sort();
    assert_eq!(
        allowed,
        [role_arn("mcfpipe-local-apply"), role_arn("mcfpipe-local-session")]
    );

    // The session check: the artifact, its role, outside the VPC (it calls MCF), the
    // environment mcfsession reads.
    let conf = aws_cli(
        &moto,
        &[
            "lambda",
            "get-function-configuration",
            "--function-name",
            "mcfpipe-local-session",
        ],
    );
    assert_eq!(conf["Role"], role_arn("mcfpipe-local-session").as_str());
    assert_eq!(conf["Runtime"], "provided.al2023");
    assert!(
        conf.get("VpcConfig")
            .is_none_or(|v| v["SubnetIds"].as_array().is_none_or(Vec::is_empty)),
        "{conf}"
    );
    let vars = &conf["Environment"]["Variables"];
    assert_eq!(
        vars,
        &json!({
            "DIMENSIONS_TABLE": "mcfpipe-local-dimensions",
            "DATA_BUCKET": db["DataBucketName"],
            "ALERT_TOPIC_ARN": db["AlertTopicArn"],
            "MCFPIPE_ENV": "local",
            "MCF_SITE": "https://www.mycareersfuture.gov.sg",
        })
    );
    assert_eq!(out["SessionFunctionArn"], conf["FunctionArn"].as_str().unwrap());

    // local: no schedules (base.yaml's apply schedule is null, local's check too); the failed
    // task alert is there.
    let names = |prefix: &str| -> Vec<String> {
        aws_cli(&moto, &["events", "list-rules", "--name-prefix", prefix])["Rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("mcfpipe-local-session-check"), Vec::<String>::new());
    assert_eq!(names("mcfpipe-local-apply-schedule"), Vec::<String>::new());
    assert_eq!(names("mcfpipe-local-apply-failed"), ["mcfpipe-local-apply-failed"]);

    // Both schedules set: the daily check invokes the function, the apply rule runs the task.
    let local = p.read("config/local.yaml");
    assert!(local.contains("    session_check_schedule: null"), "{local}");
    p.write(
        "config/local.yaml",
        &local.replace(
            "    session_check_schedule: null",
            "    session_check_schedule: \"cron(0 1 * * ? *)\"\n    schedule: \"cron(0 2 ? * MON-FRI *)\"",
        ),
    );
    p.xtask(&moto, &["deploy", "apply", "--env", "local"])
        .ok()
        .contains("apply: updated");
    let check = aws_cli(
        &moto,
        &["events", "describe-rule", "--name", "mcfpipe-local-session-check"],
    );
    assert_eq!(check["ScheduleExpression"], "cron(0 1 * * ? *)");
    assert_eq!(check["State"], "ENABLED");
    let targets = aws_cli(
        &moto,
        &[
            "events",
            "list-targets-by-rule",
            "--rule",
            "mcfpipe-local-session-check",
        ],
    );
    assert_eq!(targets["Targets"][0]["Arn"], out["SessionFunctionArn"].as_str());
    let fpolicy = aws_cli(
        &moto,
        &["lambda", "get-policy", "--function-name", "mcfpipe-local-session"],
    );
    let fpolicy: Value = serde_json::from_str(fpolicy["Policy"].as_str().unwrap()).unwrap();
    let from_rule: Vec<&Value> = fpolicy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Principal"]["Service"] == "events.amazonaws.com")
        .collect();
    assert_eq!(from_rule.len(), 1, "{fpolicy}");
    assert_eq!(from_rule[0]["Condition"]["ArnLike"]["AWS:SourceArn"], check["Arn"]);

    let apply = aws_cli(
        &moto,
        &["events", "describe-rule", "--name", "mcfpipe-local-apply-schedule"],
    );
    assert_eq!(apply["ScheduleExpression"], "cron(0 2 ? * MON-FRI *)");
    let targets = aws_cli(
        &moto,
        &[
            "events",
            "list-targets-by-rule",
            "--rule",
            "mcfpipe-local-apply-schedule",
        ],
    );
    let t = &targets["Targets"][0];
    assert_eq!(t["Arn"], cluster.as_str());
    assert_eq!(t["RoleArn"], role_arn("mcfpipe-local-apply-schedule").as_str());
    let ecs = &t["EcsParameters"];
    let redeployed = outputs(&moto, "mcfpipe-local-apply");
    assert_eq!(ecs["TaskDefinitionArn"], redeployed["ApplyTaskDefinitionArn"].as_str());
    assert_eq!(ecs["LaunchType"], "FARGATE");
    // moto drops the network configuration (`{}`): read from the deployed template.
    let again = aws_cli(
        &moto,
        &["cloudformation", "get-template", "--stack-name", "mcfpipe-local-apply"],
    );
    let again: Value = match &again["TemplateBody"] {
        Value::String(text) => serde_json::from_str(text)
            .or_else(|_| serde_norway::from_str(text))
            .expect("the template body"),
        body => body.clone(),
    };
    let vpc = &again["Resources"]["ApplySchedule"]["Properties"]["Targets"][0]["EcsParameters"]["NetworkConfiguration"]
        ["AwsVpcConfiguration"];
    assert_eq!(
        vpc,
        &json!({
            "AssignPublicIp": "ENABLED",
            "Subnets": {"Ref": "PublicSubnetIds"},
            "SecurityGroups": [{"Ref": "PublicOutboundSecurityGroupId"}],
        })
    );
}
