//! `promote` on moto and the local registry: a release made and deployed in `dev` is promoted
//! to `staging` (its own artifact bucket and its own repository in the registry) while any
//! cargo or Docker build is made impossible; staging's function then reports the release's
//! `CodeSha256` and its task definition the release's image digest, read back through the AWS
//! APIs and the registry, and `status --env staging` names the release. Then the refusals: a
//! template changed since dev was deployed, and a template whose shape only staging takes.
//!
//! dev and staging are copies of the `local` config (`endpoint: local`: host builds, the local
//! registry as the image store) so both fit the emulator; their names, buckets, stacks and
//! repositories are their own. What moto cannot show: ECR's registry (moto has no data plane:
//! the ECR path of the image copy is the same registry API with ECR's Basic token, untested
//! here) and a second account (the cross-account zip path, through this host, is the same code
//! as a different-region promote; only the same-account server-side copy runs here).
//!
//! One test in this file, on purpose: it points `CARGO` and `DOCKER_HOST` of this process at
//! things that fail loudly while `promote` runs.

use std::os::unix::fs::PermissionsExt;

use mcfpipe_e2e::{Moto, Project, aws_cli, docker_engine, http_get, runtime};
use serde_json::Value;

const MANIFEST_TYPES: &str =
    "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";

fn result(run: &mcfpipe_e2e::Run) -> Value {
    let last = run.json_lines().last().cloned().expect("a result line");
    assert_eq!(last["event"], "result", "{}", run.output);
    last
}

/// Physical ids of the stack's resources of one type.
fn physical_ids(moto: &Moto, stack: &str, ty: &str) -> Vec<String> {
    let r = aws_cli(moto, &["cloudformation", "list-stack-resources", "--stack-name", stack]);
    r["StackResourceSummaries"]
        .as_array()
        .expect("summaries")
        .iter()
        .filter(|x| x["ResourceType"] == ty)
        .map(|x| x["PhysicalResourceId"].as_str().expect("physical id").to_string())
        .collect()
}

fn code_sha256(moto: &Moto, stack: &str) -> String {
    let functions = physical_ids(moto, stack, "AWS::Lambda::Function");
    assert_eq!(functions.len(), 1, "{stack}: {functions:?}");
    let f = aws_cli(moto, &["lambda", "get-function", "--function-name", &functions[0]]);
    f["Configuration"]["CodeSha256"]
        .as_str()
        .expect("CodeSha256")
        .to_string()
}

fn task_image(moto: &Moto, stack: &str) -> String {
    let defs = physical_ids(moto, stack, "AWS::ECS::TaskDefinition");
    assert_eq!(defs.len(), 1, "{stack}: {defs:?}");
    let td = aws_cli(
        moto,
        &["ecs", "describe-task-definition", "--task-definition", &defs[0]],
    );
    td["taskDefinition"]["containerDefinitions"][0]["image"]
        .as_str()
        .expect("image")
        .to_string()
}

fn last_updated(moto: &Moto, stack: &str) -> Value {
    let d = aws_cli(moto, &["cloudformation", "describe-stacks", "--stack-name", stack]);
    d["Stacks"][0]["LastUpdatedTime"].clone()
}

/// Sets (or removes) an environment variable of this process.
fn set_env(name: &str, value: Option<&str>) {
    // SAFETY: the only test of this binary sets these between deployer runs, when no other
    // thread of this process runs (each deployer run makes and ends its own runtime).
    unsafe {
        match value {
            Some(v) => std::env::set_var(name, v),
            None => std::env::remove_var(name),
        }
    }
}

#[test]
fn promote_deploys_the_release_dev_runs_to_staging_without_building_and_verifies_it() {
    let engine = runtime().block_on(docker_engine("promote")).is_some();
    let moto = Moto::start();
    let p = Project::copy();
    let local = p.read("config/local.yaml");
    p.write("config/dev.yaml", &local);
    p.write("config/staging.yaml", &local);

    // dev: a release, deployed as released.
    let run = p.xtask(&moto, &["release", "--env", "dev", "--output", "json"]);
    run.ok();
    let manifest = result(&run)["manifest"].clone();
    let release = manifest["release"].as_str().expect("id").to_string();
    p.xtask(&moto, &["deploy", "all", "--env", "dev", "--no-build", "--yes"])
        .ok()
        .contains("compute: created");

    // Promote with every build made impossible: a `cargo` that records its call and fails, and
    // a Docker engine address that does not exist.
    let shims = tempfile::tempdir().expect("tempdir");
    let calls = shims.path().join("cargo-calls.log");
    let shim = shims.path().join("cargo");
    std::fs::write(
        &shim,
        format!("#!/bin/sh\necho \"$@\" >> {}\nexit 97\n", calls.display()),
    )
    .expect("shim");
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (cargo_was, docker_was) = (std::env::var("CARGO").ok(), std::env::var("DOCKER_HOST").ok());
    set_env("CARGO", Some(&shim.display().to_string()));
    set_env("DOCKER_HOST", Some("unix:///nonexistent/promote-must-not-build.sock"));
    let run = p.xtask(
        &moto,
        &[
            "promote", "--from", "dev", "--to", "staging", "--yes", "--output", "json",
        ],
    );
    set_env("CARGO", cargo_was.as_deref());
    set_env("DOCKER_HOST", docker_was.as_deref());
    run.ok();
    assert!(
        !calls.exists(),
        "promote ran cargo: {}",
        std::fs::read_to_string(&calls).unwrap_or_default()
    );
    let promoted = result(&run);
    assert_eq!(promoted["release"], release.as_str());
    assert!(promoted["untested"].as_array().is_some_and(Vec::is_empty), "{promoted}");
    let checks = promoted["verified"].as_array().expect("checks");
    // The parser, the recommender, the config sync function, the CRM and the session check
    // (CodeSha256), the scraper and the apply task (image digests).
    assert_eq!(checks.len(), 7, "{checks:?}");
    assert!(checks.iter().all(|c| c["ok"] == true), "{checks:?}");

    // The function: staging's reports the release's zip, and dev's the same.
    let zip = &manifest["components"]["mcfparse"];
    let sha = zip["sha256"].as_str().expect("sha");
    let expected = xtask::release::verify::code_sha256_of(sha).expect("hex");
    assert_eq!(code_sha256(&moto, "mcfpipe-staging-compute"), expected);
    assert_eq!(code_sha256(&moto, "mcfpipe-dev-compute"), expected);
    // The zip is in staging's own bucket under its hash.
    let key = zip["artifact"].as_str().expect("key");
    let staging_bucket = "mcfpipe-staging-artifacts-123456789012-ap-southeast-1";
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("zip");
    aws_cli(
        &moto,
        &[
            "s3api",
            "get-object",
            "--bucket",
            staging_bucket,
            "--key",
            key,
            &copy.display().to_string(),
        ],
    );
    let bytes = std::fs::read(&copy).expect("zip");
    assert_eq!(xtask::artifacts::sha256_hex(&bytes), sha);

    // The image: same digest, in staging's own repository.
    let image = &manifest["components"]["mcfscrape"];
    let dev_image = task_image(&moto, "mcfpipe-dev-compute");
    let staging_image = task_image(&moto, "mcfpipe-staging-compute");
    if engine {
        let digest = image["sha256"].as_str().expect("digest");
        assert!(
            dev_image.ends_with(&format!("/mcfpipe-dev-mcfscrape@{digest}")),
            "{dev_image}"
        );
        assert!(
            staging_image.ends_with(&format!("/mcfpipe-staging-mcfscrape@{digest}")),
            "{staging_image}"
        );
        let (name, _) = staging_image.split_once('@').expect("pinned");
        let (registry, repository) = name.split_once('/').expect("registry/repository");
        let (status, headers, body) = http_get(
            registry,
            &format!("/v2/{repository}/manifests/{digest}"),
            MANIFEST_TYPES,
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert_eq!(headers.get("docker-content-digest").map(String::as_str), Some(digest));
        assert_eq!(format!("sha256:{}", xtask::artifacts::sha256_hex(&body)), digest);
        let copied = promoted["copied"].as_array().expect("copied");
        let how = copied
            .iter()
            .find(|c| c["component"] == "mcfscrape")
            .expect("the image copy")["how"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(how.contains("by digest"), "{how}");

        // Across registries (another account's ECR in real life): the blobs travel through
        // this host, each checked against its digest. A second local registry stands in.
        let other = tempfile::tempdir().expect("tempdir");
        let second = xtask::local::ensure_registry(other.path()).expect("a second registry");
        let stats = runtime().block_on(async {
            xtask::artifacts::registry::copy(
                &xtask::artifacts::registry::Registry::new(registry, None),
                repository,
                &xtask::artifacts::registry::Registry::new(&second.addr, None),
                "mcfpipe-prod-mcfscrape",
                digest,
                "copied",
            )
            .await
            .expect("copy to another registry")
        });
        xtask::local::stop_registry(other.path());
        assert!(stats.blobs_uploaded >= 2 && stats.blobs_mounted == 0, "{stats:?}");
    } else {
        assert!(image["skipped"].is_string(), "{image}");
        assert!(
            staging_image.ends_with("mcfpipe-staging-mcfscrape:unbuilt"),
            "{staging_image}"
        );
    }

    // status names the release staging runs; the manifest is in staging's bucket and on disk.
    p.xtask(&moto, &["status", "--env", "staging"])
        .ok()
        .contains(&format!("release {release}"));
    let stored: Value = serde_json::from_str(&p.read("target/mcfpipe/staging/release.json")).expect("JSON");
    assert_eq!(stored["release"], release.as_str());
    assert_eq!(stored["promoted"]["from"], "dev");
    assert_eq!(stored["components"]["mcfparse"]["bucket"], staging_bucket);

    // Promoting again changes nothing: the artifacts are there, every stack is unchanged.
    let before = last_updated(&moto, "mcfpipe-staging-compute");
    let run = p.xtask(&moto, &["promote", "--from", "dev", "--to", "staging", "--yes"]);
    run.ok().contains("already in s3://").contains("compute: unchanged");
    assert_eq!(last_updated(&moto, "mcfpipe-staging-compute"), before);

    // Refused: a template changed since dev was deployed. Nothing in staging changes.
    let template = p.read("templates/compute.yaml.j2");
    let changed = template.replacen("Outputs:", "Outputs:\n  Changed:\n    Value: after-dev\n", 1);
    assert_ne!(changed, template, "the compute template has an Outputs section");
    p.write("templates/compute.yaml.j2", &changed);
    p.xtask(&moto, &["promote", "--from", "dev", "--to", "staging", "--yes"])
        .expect_code(1)
        .contains("compute: the checkout's template is not the one dev runs")
        .contains("--allow-untested");
    assert_eq!(last_updated(&moto, "mcfpipe-staging-compute"), before);
    p.write("templates/compute.yaml.j2", &template);

    // Refused: a template dev runs unchanged, but whose shape only staging's render takes.
    let database = p.read("templates/database.yaml.j2");
    let shaped = database.replacen(
        "Resources:",
        "Resources:\n{%- if env == \"staging\" %}\n  OnlyInStaging:\n    Type: AWS::SQS::Queue\n{%- endif %}",
        1,
    );
    assert_ne!(shaped, database);
    p.write("templates/database.yaml.j2", &shaped);
    p.xtask(&moto, &["promote", "--from", "dev", "--to", "staging", "--yes"])
        .expect_code(1)
        .contains("database: staging creates OnlyInStaging (AWS::SQS::Queue), which dev does not");
    p.write("templates/database.yaml.j2", &database);
}
