//! The deploy lock on moto: a deploy or teardown of an environment that another process is
//! deploying is refused with the holder named; `unlock` removes a lock left behind; a lock
//! past its expiry is taken over; a deploy gives its lock back when it ends.
//! The atomicity itself is S3's (`PutObject` with `If-None-Match: *`), which moto implements.

use std::time::Duration;

use mcfpipe_e2e::{Moto, Project, runtime};

const BUCKET: &str = "mcfpipe-local-artifacts-123456789012-ap-southeast-1";

#[test]
fn a_second_deploy_is_refused_with_the_holder_named_until_the_lock_goes() {
    let moto = Moto::start();
    let p = Project::with_stacks(&["artifacts"]);
    p.xtask(&moto, &["deploy", "all", "--env", "local"])
        .ok()
        .contains("without the deploy lock");
    let sdk = moto.sdk();
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    let lock_exists = || {
        runtime()
            .block_on(s3.head_object().bucket(BUCKET).key("locks/local.json").send())
            .is_ok()
    };
    assert!(!lock_exists(), "the deploy released its lock");

    // Another process (a CI run, say) holds the lock: the same call a deploy makes.
    let held = runtime()
        .block_on(xtask::lock::take(
            s3.clone(),
            BUCKET,
            "local",
            "deploy all",
            "ci-runner-7 (run 42)",
            Duration::from_secs(3600),
        ))
        .expect("the lock is free");
    assert!(lock_exists());
    for args in [
        &["deploy", "all", "--env", "local"][..],
        &["teardown", "all", "--env", "local", "--yes"][..],
    ] {
        p.xtask(&moto, args)
            .expect_code(1)
            .contains("environment local is locked by ci-runner-7 (run 42) (deploy all) since")
            .contains("cargo xtask unlock --env local");
    }
    // Refused before anything was touched: the stack is still there.
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("CREATE_COMPLETE");

    // Its holder gives it back: deploys go through again.
    runtime().block_on(held.release()).expect("release");
    assert!(!lock_exists());
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();

    // A lock left by a killed process: `unlock` names and removes it.
    let _left = runtime()
        .block_on(xtask::lock::take(
            s3.clone(),
            BUCKET,
            "local",
            "deploy compute",
            "laptop (pid 1)",
            Duration::from_secs(3600),
        ))
        .expect("lock");
    p.xtask(&moto, &["unlock", "--env", "local"])
        .ok()
        .contains("removed the lock of local held by laptop (pid 1) (deploy compute)");
    assert!(!lock_exists());

    // An expired lock is taken over, with a warning, and released after.
    let _stale = runtime()
        .block_on(xtask::lock::take(
            s3.clone(),
            BUCKET,
            "local",
            "deploy all",
            "gone (pid 2)",
            Duration::ZERO,
        ))
        .expect("lock");
    std::thread::sleep(Duration::from_millis(1100));
    p.xtask(&moto, &["deploy", "all", "--env", "local"])
        .ok()
        .contains("took over the expired lock of gone (pid 2) (deploy all)");
    assert!(!lock_exists());
}
