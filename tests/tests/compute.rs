//! `deploy all` with the compute layer: the parser is built and its zip published to the
//! artifact bucket under its SHA-256, the function runs that exact zip, and a second deploy
//! changes nothing, and a checkout that built nothing diffs clean against it. Where moto stops: it does not run Lambda code, and without a Docker engine
//! the scraper image is skipped (said in the output, recorded with the reason). The registry a
//! deploy starts for the project copy is stopped when the copy is dropped.

use mcfpipe_e2e::{Moto, Project, runtime};

#[test]
fn deploy_all_publishes_the_parser_by_hash_and_a_redeploy_changes_nothing() {
    let moto = Moto::start();
    let p = Project::copy();
    p.xtask(&moto, &["deploy", "all", "--env", "local"])
        .ok()
        .contains("artifacts: created")
        .contains("compute: created");

    let record: serde_json::Value =
        serde_json::from_str(&p.read("target/mcfpipe/local/artifacts.json")).expect("the build record");
    let sha = record["mcfparse"]["sha256"].as_str().expect("zip hash").to_string();
    let key = record["mcfparse"]["value"].as_str().expect("zip key").to_string();
    assert_eq!(key, format!("lambda/mcfparse/{sha}.zip"));

    let sdk = moto.sdk();
    runtime().block_on(async {
        // The object under that key has exactly that hash.
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        let bucket = "mcfpipe-local-artifacts-123456789012-ap-southeast-1";
        let obj = s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .expect("zip in the artifact bucket");
        let bytes = obj.body.collect().await.expect("zip bytes").into_bytes();
        assert_eq!(xtask::artifacts::sha256_hex(&bytes), sha);

        // The function runs that zip: Lambda's CodeSha256 is the base64 of the same digest.
        let lambda = aws_sdk_lambda::Client::new(&sdk);
        let f = lambda
            .get_function()
            .function_name("mcfpipe-local-mcfparse")
            .send()
            .await
            .expect("function");
        let conf = f.configuration().expect("configuration");
        let want = aws_smithy_types::base64::encode(hex_to_bytes(&sha));
        assert_eq!(conf.code_sha256(), Some(want.as_str()));
        assert_eq!(conf.runtime().map(|r| r.as_str()), Some("provided.al2023"));
        let env = conf.environment().and_then(|e| e.variables()).expect("environment");
        assert_eq!(env.get("POSTS_TABLE").map(String::as_str), Some("mcfpipe-local-posts"));

        // The queue feeds it, with per-message failures.
        let mappings = lambda
            .list_event_source_mappings()
            .function_name("mcfpipe-local-mcfparse")
            .send()
            .await
            .expect("mappings");
        let m = &mappings.event_source_mappings()[0];
        assert_eq!(
            m.event_source_arn(),
            Some("arn:aws:sqs:ap-southeast-1:123456789012:mcfpipe-local-parse")
        );
        assert_eq!(m.batch_size(), Some(10));
    });

    // Same sources: nothing is built (not even cargo runs), the recorded zip is still in the
    // bucket, and nothing changes anywhere.
    let bucket = "mcfpipe-local-artifacts-123456789012-ap-southeast-1";
    let run = p.xtask(&moto, &["deploy", "all", "--env", "local"]);
    run.ok()
        .contains("mcfparse: sources unchanged since the last build (")
        .contains(&format!("), not rebuilt: s3://{bucket}/{key} ("))
        .not_contains("cargo build")
        .contains("compute: unchanged")
        .contains("database: unchanged");
    // Without a Docker engine the image is skipped, and the output says why; with one the
    // image of the first deploy is found in the registry by its digest and not built again
    // (tests/image.rs follows it into the registry).
    if runtime().block_on(xtask::artifacts::image::engine()).is_ok() {
        run.contains("mcfscrape: sources unchanged since the last build (")
            .contains("is in the registry");
    } else {
        run.contains("mcfscrape: image skipped: ");
    }

    // Unchanged sources but the zip gone from the bucket: built and uploaded again, the same
    // bytes under the same key.
    runtime().block_on(async {
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        s3.delete_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .expect("delete the zip");
    });
    p.xtask(&moto, &["deploy", "compute", "--env", "local"])
        .ok()
        .contains(&format!("but s3://{bucket}/{key} is gone: building again"))
        .contains("cargo build -p mcfparse-lambda --bin mcfparse")
        .contains(&format!("mcfparse: s3://{bucket}/{key} ("))
        .contains("bytes, uploaded)")
        .contains("compute: unchanged");

    // A checkout that built nothing (a pull request's CI job) diffs against what is deployed:
    // the artifacts it did not build are compared as deployed, so nothing changed.
    std::fs::remove_file(p.root().join("target/mcfpipe/local/artifacts.json")).expect("the build record");
    p.xtask(&moto, &["diff", "all", "--env", "local", "--exit-code"])
        .expect_code(0)
        .contains("compute: not built here, compared as deployed: mcfparse (ParserCodeKey), mcfscrape (ScraperImage)")
        .contains("no changes");
    // A config change still shows.
    let config = p.read("config/local.yaml");
    p.write(
        "config/local.yaml",
        &config.replacen("retention_days: 1", "retention_days: 3", 1),
    );
    p.xtask(&moto, &["diff", "compute", "--env", "local", "--exit-code"])
        .expect_code(2)
        .contains("~ Modify   ScraperLogGroup");
}

fn hex_to_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}
