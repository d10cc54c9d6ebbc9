//! The scraper image against a real Docker engine: `deploy all` builds it, pushes it to the local
//! registry, and pins the task definition to its digest. The test reads the image from the
//! task definition through the ECS API, finds exactly that manifest in the registry, pulls it
//! back by digest, and runs it the way the Fargate task would (host network standing in for
//! the task's), against moto and the fake MCF API. Skipped without an engine, unless
//! `MCFPIPE_REQUIRE_DOCKER=1`.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveImageOptions, StartContainerOptions, WaitContainerOptions,
};
use futures_util::StreamExt;
use mcfcore::layout::{PK, SK, dimension};
use mcffixture::FixtureServer;
use mcfpipe_e2e::{Moto, Project, aws_cli as aws, clean_engine, docker_engine, http_get, runtime};

const TASK_FAMILY: &str = "mcfpipe-local-mcfscrape";
const BUCKET: &str = "mcfpipe-local-data-123456789012-ap-southeast-1";
const DIMENSIONS: &str = "mcfpipe-local-dimensions";
const QUEUE: &str = "mcfpipe-local-parse";
const MANIFEST_TYPES: &str =
    "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";

#[test]
fn deploy_all_pushes_the_scraper_image_by_digest_and_the_image_runs_as_the_task() {
    let rt = runtime();
    let Some(docker) = rt.block_on(docker_engine("image")) else {
        return;
    };
    let moto = Moto::start();
    let p = Project::copy();
    let run = p.xtask(&moto, &["deploy", "all", "--env", "local"]);
    run.ok()
        .contains("compute: created")
        .contains("mcfscrape: pushed 127.0.0.1:");

    // The task definition names registry/repository@digest.
    let task = aws(
        &moto,
        &["ecs", "describe-task-definition", "--task-definition", TASK_FAMILY],
    );
    let container = &task["taskDefinition"]["containerDefinitions"][0];
    let image = container["image"].as_str().expect("image").to_string();
    let (name, digest) = image.split_once('@').expect("an image pinned by digest");
    let (registry, repository) = name.split_once('/').expect("registry/repository");
    assert!(registry.starts_with("127.0.0.1:"), "{image}");
    assert_eq!(repository, TASK_FAMILY);
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "{digest}");

    // The registry holds exactly that manifest.
    let (status, headers, body) = http_get(
        registry,
        &format!("/v2/{repository}/manifests/{digest}"),
        MANIFEST_TYPES,
    );
    assert_eq!(status, 200, "manifest of {image}: {}", String::from_utf8_lossy(&body));
    assert_eq!(headers.get("docker-content-digest").map(String::as_str), Some(digest));
    assert_eq!(format!("sha256:{}", xtask::artifacts::sha256_hex(&body)), digest);
    let manifest: serde_json::Value = serde_json::from_slice(&body).expect("manifest JSON");
    let layers = manifest["layers"].as_array().expect("layers");
    let compressed: u64 = layers.iter().map(|l| l["size"].as_u64().expect("layer size")).sum();
    let _ = writeln!(
        std::io::stderr(),
        "image {image}: {} layer(s), {compressed} bytes compressed ({:.1} MB)",
        layers.len(),
        compressed as f64 / 1e6
    );
    assert!(
        (1_000_000..64_000_000).contains(&compressed),
        "a FROM-scratch image of one binary: {compressed} bytes"
    );

    // Environment of the task, as Fargate would set it, pointed at moto and the fake MCF.
    let fixture = FixtureServer::default_on_free_port().expect("fixture server");
    let mut env: BTreeMap<String, String> = container["environment"]
        .as_array()
        .expect("environment")
        .iter()
        .map(|v| (v["name"].as_str().unwrap().into(), v["value"].as_str().unwrap().into()))
        .collect();
    assert_eq!(env.get("MCFSCRAPE_BUCKET").map(String::as_str), Some(BUCKET));
    for (k, v) in [
        ("AWS_REGION", "ap-southeast-1"),
        ("AWS_ENDPOINT_URL", moto.url.as_str()),
        ("MCFSCRAPE_MCF_URL", fixture.url()),
        ("MCFSCRAPE_RATE", "0"),
    ] {
        env.insert(k.into(), v.into());
    }
    let env: Vec<String> = env.into_iter().map(|(k, v)| format!("{k}={v}")).collect();

    // The parser's event source mapping off: moto would hand every message to a Lambda it cannot
    // run, and move them to the dead-letter queue after five tries. The queue keeps them here.
    let mappings = aws(
        &moto,
        &[
            "lambda",
            "list-event-source-mappings",
            "--function-name",
            "mcfpipe-local-mcfparse",
        ],
    );
    let uuid = mappings["EventSourceMappings"][0]["UUID"]
        .as_str()
        .expect("the parser's mapping");
    aws(
        &moto,
        &["lambda", "update-event-source-mapping", "--uuid", uuid, "--no-enabled"],
    );

    let prefix = format!("mcfpipe-e2e-image-{}", std::process::id());
    let containers = [format!("{prefix}-version"), format!("{prefix}-task")];
    let _leftovers = Leftovers {
        containers: containers.to_vec(),
        registry: registry.to_string(),
    };
    let sdk = moto.sdk();
    rt.block_on(async {
        // Pulled back from the registry by digest: the pushed image is complete on its own.
        let local = docker.inspect_image(&image).await.expect("the pushed image, local");
        let references = local.repo_tags.into_iter().chain(local.repo_digests).flatten();
        for reference in references.filter(|r| r.starts_with(registry)) {
            // Removing the last tag may take the digest reference with it: a 404 is fine.
            let _ = docker.remove_image(&reference, None::<RemoveImageOptions>, None).await;
        }
        assert!(docker.inspect_image(&image).await.is_err(), "{image} is still local");
        let pull = CreateImageOptionsBuilder::new().from_image(&image).build();
        let mut progress = docker.create_image(Some(pull), None, None);
        while let Some(item) = progress.next().await {
            item.unwrap_or_else(|e| panic!("pulling {image}: {e}"));
        }

        // The FROM-scratch image starts: loader, libraries and binary are all there.
        let (code, out, err) = run_container(&docker, &containers[0], &image, &["--version"], &[]).await;
        assert_eq!(code, 0, "{image} --version: {out}{err}");
        assert!(out.starts_with("mcfscrape "), "{out}");

        // Run as the task: one search profile, the fixture's 100 posts into the bucket and queue.
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        let s = |v: &str| AttributeValue::S(v.into());
        ddb.put_item()
            .table_name(DIMENSIONS)
            .item(PK, s(dimension::SEARCH_PROFILE))
            .item(SK, s("everything"))
            .item("track", s("any"))
            .item("updated_at", s("2026-11-28T00:00:00Z"))
            .send()
            .await
            .expect("search profile");
        let (code, out, err) = run_container(&docker, &containers[1], &image, &[], &env).await;
        assert_eq!(code, 0, "the task's run: {out}{err}");
        let summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or_default())
            .unwrap_or_else(|e| panic!("a summary line ({e}): {out}{err}"));
        assert_eq!(summary["outcome"], "completed", "{summary}");
        assert_eq!(
            (summary["fetched"].as_u64(), summary["enqueued"].as_u64()),
            (Some(100), Some(100))
        );
        // What the `awslogs` driver ships: every line, progress and summary, a log line of the
        // one format (`mcfcore::log`) for `cargo xtask logs` to show.
        let lines: Vec<&str> = err
            .lines()
            .chain(out.lines())
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!(lines.len() >= 3, "started, a profile, the summary: {out}{err}");
        for line in lines {
            let parsed = mcfcore::log::LogLine::parse(line).unwrap_or_else(|| panic!("not a log line: {line}"));
            assert_eq!(parsed.component, "mcfscrape");
        }

        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        let listed = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix("raw/")
            .send()
            .await
            .expect("raw objects");
        let uuids: HashSet<String> = listed
            .contents()
            .iter()
            .filter_map(|o| o.key()?.rsplit('/').next()?.strip_suffix(".json").map(str::to_string))
            .collect();
        assert_eq!(uuids, fixture.uuids().into_iter().collect::<HashSet<_>>());

        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let url = sqs
            .get_queue_url()
            .queue_name(QUEUE)
            .send()
            .await
            .expect("queue")
            .queue_url
            .expect("queue URL");
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .expect("queue attributes");
        let queued = attributes
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages))
            .cloned();
        assert_eq!(queued.as_deref(), Some("100"));
    });

    // The registry goes with `local stop`, by its PID.
    let record: xtask::local::Registry =
        serde_json::from_str(&p.read("target/mcfpipe/local/registry.json")).expect("registry record");
    p.xtask(&moto, &["local", "stop"])
        .ok()
        .contains(&format!("stopped the local registry (pid {}", record.pid));
    // Stopped: gone, or a zombie of this process (it was spawned by the in-process deployer).
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", record.pid)).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "registry pid {} still runs: {stat}",
        record.pid
    );
}

/// Containers this test made and the images of its registry, removed however it ends (after
/// `local stop` the project copy no longer knows its registry).
struct Leftovers {
    containers: Vec<String>,
    registry: String,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        clean_engine(&self.containers, Some(&self.registry));
    }
}

/// Runs `image` to completion the way the task runs: host network, read-only root file
/// system, the image's own user. Returns exit code, stdout, stderr; removes the container.
async fn run_container(
    docker: &Docker,
    name: &str,
    image: &str,
    cmd: &[&str],
    env: &[String],
) -> (i64, String, String) {
    let body = ContainerCreateBody {
        image: Some(image.into()),
        cmd: (!cmd.is_empty()).then(|| cmd.iter().map(|c| c.to_string()).collect()),
        env: Some(env.to_vec()),
        host_config: Some(HostConfig {
            network_mode: Some("host".into()),
            readonly_rootfs: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::new().name(name).build();
    docker
        .create_container(Some(options), body)
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e}"));
    docker
        .start_container(name, None::<StartContainerOptions>)
        .await
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    let waited = tokio::time::timeout(
        Duration::from_secs(180),
        docker.wait_container(name, None::<WaitContainerOptions>).next(),
    )
    .await
    .unwrap_or_else(|_| panic!("{name} still runs after 180 s"));
    let code = match waited {
        Some(Ok(r)) => r.status_code,
        // bollard reports a non-zero exit as an error.
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
        other => panic!("waiting for {name}: {other:?}"),
    };
    let (mut out, mut err) = (String::new(), String::new());
    let options = LogsOptionsBuilder::new().stdout(true).stderr(true).build();
    let mut logs = docker.logs(name, Some(options));
    while let Some(item) = logs.next().await {
        match item.unwrap_or_else(|e| panic!("logs of {name}: {e}")) {
            bollard::container::LogOutput::StdOut { message } => out.push_str(&String::from_utf8_lossy(&message)),
            other => err.push_str(&other.to_string()),
        }
    }
    let force = RemoveContainerOptionsBuilder::new().force(true).build();
    docker
        .remove_container(name, Some(force))
        .await
        .unwrap_or_else(|e| panic!("remove {name}: {e}"));
    (code, out, err)
}
