//! Teardown says what it will do to data before it asks or acts, and empties what it deletes:
//! buckets (every version) and ECR repositories, which CloudFormation refuses to delete while
//! they hold images. Against moto; an image manifest is put into moto's ECR with the AWS CLI
//! (moto's ECR has no registry API, but keeps what PutImage sends).

use mcfpipe_e2e::{Moto, Project, runtime};

const BUCKET: &str = "mcfpipe-local-artifacts-123456789012-ap-southeast-1";
const REPO: &str = "mcfpipe-local-mcfscrape";

#[test]
fn teardown_lists_what_holds_data_then_empties_buckets_and_repositories() {
    let moto = Moto::start();
    let p = Project::with_stacks(&["artifacts"]);
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    let sdk = moto.sdk();
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    runtime().block_on(async {
        for key in ["lambda/a.zip", "releases/r.json"] {
            s3.put_object()
                .bucket(BUCKET)
                .key(key)
                .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
                .send()
                .await
                .expect("put");
        }
    });
    let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;
    let put = std::process::Command::new("aws")
        .args([
            "--endpoint-url",
            &moto.url,
            "--region",
            "ap-southeast-1",
            "ecr",
            "put-image",
        ])
        .args([
            "--repository-name",
            REPO,
            "--image-tag",
            "t1",
            "--image-manifest",
            manifest,
        ])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the AWS CLI (pip install awscli)");
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));

    // moto does not implement drift detection: `drift` says so instead of reporting "in sync".
    p.xtask(&moto, &["drift", "--env", "local"])
        .expect_code(1)
        .contains("does not implement DetectStackDrift")
        .contains("drift detection needs AWS");

    // Without a terminal or --yes: the plan is shown, nothing is deleted.
    p.xtask(&moto, &["teardown", "--env", "local"])
        .expect_code(1)
        .contains(&format!(
            "artifacts: bucket {BUCKET}: 2 objects and versions: emptied, then DELETED"
        ))
        .contains(&format!(
            "artifacts: ECR repository {REPO}: 1 images: emptied, then DELETED"
        ))
        .contains("needs confirmation");
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("CREATE_COMPLETE");

    p.xtask(&moto, &["teardown", "--env", "local", "--yes"])
        .ok()
        // The two objects plus the teardown's own lock, which goes with the bucket.
        .contains(&format!("emptied bucket {BUCKET} (3 objects and versions)"))
        .contains(&format!("emptied ECR repository {REPO} (1 images)"))
        .contains("artifacts: deleted");
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("NOT_DEPLOYED");
}

/// A stack that is not ours but takes one of our outputs (here the posts table's name, the way
/// a user's own reporting stack would): teardown refuses, names it, and deletes nothing; once
/// it is gone, teardown goes ahead.
#[test]
fn teardown_refuses_while_another_stack_uses_our_outputs() {
    let moto = Moto::start();
    let p = Project::data_layers();
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    let cli = |args: &[&str]| {
        let out = std::process::Command::new("aws")
            .args([
                "--endpoint-url",
                &moto.url,
                "--region",
                "ap-southeast-1",
                "cloudformation",
            ])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("the AWS CLI");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let template = r#"{"Parameters":{"PostsTable":{"Type":"String"}},"Resources":{"Q":{"Type":"AWS::SQS::Queue"}}}"#;
    cli(&[
        "create-stack",
        "--stack-name",
        "someone-elses-report",
        "--template-body",
        template,
        "--parameters",
        "ParameterKey=PostsTable,ParameterValue=mcfpipe-local-posts",
    ]);
    p.xtask(&moto, &["teardown", "--env", "local", "--yes"])
        .expect_code(1)
        .contains("stack someone-elses-report takes database.PostsTableName as its parameter PostsTable")
        .contains("nothing was deleted");
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("CREATE_COMPLETE");

    cli(&["delete-stack", "--stack-name", "someone-elses-report"]);
    p.xtask(&moto, &["teardown", "--env", "local", "--yes"])
        .ok()
        .contains("database: deleted");
}
