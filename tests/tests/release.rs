//! `release` on moto: every component built and published, and the manifest (commit, config
//! and template hashes, the zip's SHA-256, key and version, the image digest) stored in the
//! artifact bucket and locally, identical; the same bits give the same release id; a config
//! change gives another.

use mcfpipe_e2e::{Moto, Project, repo_root, runtime};
use serde_json::Value;

const BUCKET: &str = "mcfpipe-local-artifacts-123456789012-ap-southeast-1";

fn release(p: &Project, moto: &Moto) -> Value {
    let run = p.xtask(moto, &["release", "--env", "local", "--output", "json"]);
    run.ok();
    let last = run.json_lines().last().cloned().expect("a result line");
    assert_eq!(last["event"], "result", "{}", run.output);
    last["manifest"].clone()
}

#[test]
fn release_publishes_and_records_the_exact_artifacts() {
    let moto = Moto::start();
    let p = Project::copy();
    let first = release(&p, &moto);

    let id = first["release"].as_str().expect("release id").to_string();
    assert_eq!(id.len(), 16);
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo_root())
        .output()
        .expect("git");
    assert_eq!(first["git"]["commit"], String::from_utf8_lossy(&head.stdout).trim());
    let stacks: Vec<&str> = first["templates"]
        .as_object()
        .expect("templates")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        stacks,
        [
            "apply",
            "artifacts",
            "compute",
            "crm",
            "database",
            "networking",
            "recommend",
            "sync"
        ]
    );
    assert_eq!(first["config_sha256"].as_str().map(str::len), Some(64));

    // The stored manifest is the local one, and it names the zip that is in the bucket.
    let local = p.read("target/mcfpipe/local/release.json");
    assert_eq!(serde_json::from_str::<Value>(&local).expect("JSON"), first);
    let parser = &first["components"]["mcfparse"];
    assert_eq!(parser["kind"], "lambda");
    let key = parser["artifact"].as_str().expect("key").to_string();
    let sha = parser["sha256"].as_str().expect("sha").to_string();
    assert_eq!(key, format!("lambda/mcfparse/{sha}.zip"));
    let sdk = moto.sdk();
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    runtime().block_on(async {
        let stored = s3
            .get_object()
            .bucket(BUCKET)
            .key(format!("releases/{id}.json"))
            .send()
            .await
            .expect("the manifest is stored with the artifacts");
        let text = stored.body.collect().await.expect("body").into_bytes();
        assert_eq!(String::from_utf8_lossy(&text), local);
        let zip = s3.get_object().bucket(BUCKET).key(&key).send().await.expect("the zip");
        assert_eq!(
            zip.version_id().map(str::to_string),
            parser["version_id"].as_str().map(str::to_string)
        );
        let bytes = zip.body.collect().await.expect("zip bytes").into_bytes();
        assert_eq!(xtask::artifacts::sha256_hex(&bytes), sha);
        assert_eq!(bytes.len() as u64, parser["bytes"].as_u64().unwrap());
    });
    let image = &first["components"]["mcfscrape"];
    assert_eq!(image["kind"], "image");
    if image["skipped"].is_null() {
        let artifact = image["artifact"].as_str().unwrap();
        assert!(artifact.ends_with(image["sha256"].as_str().unwrap()), "{image}");
    }

    // Deployed without rebuilding, the environment runs that release, and `status` says so.
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains("release: nothing deployed that runs code");
    p.xtask(&moto, &["deploy", "all", "--env", "local", "--no-build"]).ok();
    p.xtask(&moto, &["status", "--env", "local"])
        .ok()
        .contains(&format!("release {id} (commit "));

    // The same bits: the same release id (the zip is deterministic, so nothing is uploaded).
    let second = release(&p, &moto);
    assert_eq!(second["components"]["mcfparse"], first["components"]["mcfparse"]);
    assert_eq!(
        second["release"] == first["release"],
        second["components"] == first["components"],
        "the id follows the content"
    );

    // Another config: another release.
    let config = p.read("config/local.yaml");
    p.write(
        "config/local.yaml",
        &config.replacen("schedule_enabled: false", "schedule_enabled: true", 1),
    );
    let third = release(&p, &moto);
    assert_ne!(third["config_sha256"], first["config_sha256"]);
    assert_ne!(third["release"], first["release"]);
}
