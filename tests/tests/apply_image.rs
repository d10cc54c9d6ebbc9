//! The apply task's image against a real Docker engine: `cargo xtask build mcfapply` builds it
//! through the deployer's own path (FROM scratch: the binary and Debian's headless Chromium
//! with what it loads, `xtask/src/artifacts/browser.rs`), pushes it to the local registry and
//! records its digest; a second build with nothing changed builds nothing. The image then runs
//! the way the task runs (host network standing in for the task's, read-only root file system,
//! a tmpfs on `/tmp`, the image's own user) against moto seeded with the database stack, one
//! `TOAPPLY` job and a stored session, and the fake MCF website, in a dry run: the job ends
//! `dry_run_ok` in the summary and the applications table, and its evidence is in the bucket.
//!
//! Skipped without an engine (unless `MCFPIPE_REQUIRE_DOCKER=1`); the build needs Debian's
//! `chromium-headless-shell` and a font family (`.ci/run` installs them).
//!
//! It prints the figures of docs/benchmarks.md's apply-image section: the image's size and
//! what fills it, the first and the unchanged build's times, the seconds per application.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder, StartContainerOptions,
    WaitContainerOptions,
};
use futures_util::StreamExt;
use mcfapply::session::{Cookie, SameSite, Session};
use mcffixture::FixtureServer;
use mcfpipe_e2e::{Moto, Project, clean_engine, docker_engine, runtime};
use mcfstore::ApplicationStore;
use mcfstore::crm::{CrmStore, Event, Job};

const UUID: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const TRACK: &str = "data";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

#[test]
fn the_apply_image_runs_a_dry_run_against_moto_and_the_fake_site() {
    let rt = runtime();
    let Some(docker) = rt.block_on(docker_engine("apply_image")) else {
        return;
    };
    let moto = Moto::start();
    let p = Project::with_stacks(&["artifacts", "database"]);
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();

    // Built through the deployer, then once more with nothing changed: no build at all.
    let started = Instant::now();
    let first = p.xtask(&moto, &["build", "mcfapply", "--env", "local"]);
    let cold = started.elapsed();
    first.ok().contains("mcfapply: pushed 127.0.0.1:");
    let started = Instant::now();
    let second = p.xtask(&moto, &["build", "mcfapply", "--env", "local"]);
    let warm = started.elapsed();
    second
        .ok()
        .contains("sources unchanged since the last build")
        .contains("chromium-headless-shell ")
        .not_contains("cargo build")
        .not_contains("docker:");
    let built: serde_json::Value =
        serde_json::from_str(&p.read("target/mcfpipe/local/artifacts.json")).expect("artifacts record");
    let image = built["mcfapply"]["value"].as_str().expect("the image").to_string();
    let (name, digest) = image.split_once('@').expect("an image pinned by digest");
    let registry = name.split_once('/').expect("registry/repository").0.to_string();
    assert!(digest.starts_with("sha256:"), "{image}");

    // Size as the engine sees it, and what fills it.
    let inspected = rt.block_on(docker.inspect_image(&image)).expect("the image, local");
    let size = inspected.size.unwrap_or_default();
    let config = inspected.config.clone().unwrap_or_default();
    let env_of_image: Vec<String> = config.env.unwrap_or_default();
    let chromium = env_of_image
        .iter()
        .find_map(|e| e.strip_prefix("MCFAPPLY_CHROMIUM="))
        .expect("MCFAPPLY_CHROMIUM in the image's environment")
        .to_string();
    assert!(
        size > 100_000_000 && size <= 350_000_000,
        "the image is {size} bytes (a browser, at most 350 MB)"
    );
    say(&format!(
        "apply image {image}: {size} bytes ({:.1} MB) uncompressed; first build {:.1} s, unchanged build {:.2} s",
        size as f64 / 1e6,
        cold.as_secs_f64(),
        warm.as_secs_f64()
    ));
    for (what, bytes) in contents(&image) {
        say(&format!("  {what:<40} {:>7.1} MB", bytes as f64 / 1e6));
    }

    // Seed: one TOAPPLY job and the stored session.
    let outputs = database_outputs(&moto);
    let (crm, applications, dimensions, bucket) = (
        outputs["CrmTableName"].clone(),
        outputs["ApplicationsTableName"].clone(),
        outputs["DimensionsTableName"].clone(),
        outputs["DataBucketName"].clone(),
    );
    assert_eq!(crm, "mcfpipe-local-crm");
    assert_eq!(applications, "mcfpipe-local-applications");
    let sdk = moto.sdk();
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    let at = "2026-11-29T01:00:00Z";
    let job: Job = serde_json::from_value(serde_json::json!({
        "uuid": UUID, "track": TRACK, "stage": "TOAPPLY", "revision": 2,
        "created_at": at, "updated_at": at, "stage_at": at,
        "title": "Data Engineer", "company": "Acme Pte. Ltd.",
        "url": format!("https://www.mycareersfuture.gov.sg/job/engineering/data-engineer-acme-{UUID}"),
        "cv_version": "11.4"
    }))
    .expect("a CRM job");
    let event = Event {
        at: at.into(),
        from: None,
        to: "TOAPPLY".into(),
        actor: "user".into(),
        note: None,
        revision: 2,
    };
    let expires = now() + 30 * 86_400;
    let session = Session {
        cookies: vec![Cookie {
            name: "MCF_SESSION".into(),
            value: "fixture-session".into(),
            domain: ".mycareersfuture.gov.sg".into(),
            path: "/".into(),
            secure: true,
            http_only: true,
            same_site: Some(SameSite::Lax),
            expires: Some(expires),
        }],
        valid_until: Some(expires),
    };
    rt.block_on(async {
        let created = CrmStore::new(ddb.clone(), &crm).create(&job, &event).await;
        assert!(created.expect("the CRM job"), "created once");
        s3.put_object()
            .bucket(&bucket)
            .key("session/mcf.json")
            .body(serde_json::to_vec(&session).unwrap().into())
            .send()
            .await
            .expect("the stored session");
    });

    // The container, as the task runs it.
    let site = FixtureServer::default_on_free_port().expect("fake MCF");
    let env: Vec<String> = [
        ("CRM_TABLE", crm.as_str()),
        ("APPLICATIONS_TABLE", &applications),
        ("DIMENSIONS_TABLE", &dimensions),
        ("DATA_BUCKET", &bucket),
        ("MCFAPPLY_SITE", site.url()),
        ("MCFAPPLY_ENV", "local"),
        ("MCFAPPLY_PAUSE", "0"),
        ("MCFAPPLY_BUTTON_TRIES", "3"),
        ("MCFAPPLY_BUTTON_WAIT", "2"),
        ("AWS_ENDPOINT_URL", moto.url.as_str()),
        ("AWS_REGION", "ap-southeast-1"),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={v}"))
    .collect();
    let container = format!("mcfpipe-e2e-apply-image-{}", std::process::id());
    let _leftovers = Leftovers {
        containers: vec![container.clone()],
        registry: registry.clone(),
    };
    let started = Instant::now();
    let (code, out, err) = rt.block_on(run_container(&docker, &container, &image, &env));
    let wall = started.elapsed();
    assert_eq!(code, 0, "the task's run: {out}{err}");
    let summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("a summary line ({e}): {out}{err}"));
    assert_eq!(summary["submit"], false, "{summary}");
    assert_eq!(summary["attempted"], 1, "{summary}");
    let ended = &summary["jobs"][0];
    assert_eq!(ended["outcome"], "dry_run_ok", "{summary}\n{err}");
    assert!(
        summary["browser"]
            .as_str()
            .is_some_and(|b| b.contains("HeadlessChrome")),
        "{summary}"
    );
    assert_eq!(site.submits(UUID), 0, "a dry run submits nothing");
    say(&format!(
        "apply in the container: {} s for the job (summary), {} s for the run (summary), {:.1} s container start to exit; browser {}",
        ended["seconds"],
        summary["seconds"],
        wall.as_secs_f64(),
        chromium
    ));

    rt.block_on(async {
        let latest = ApplicationStore::new(ddb.clone(), &applications)
            .latest(UUID)
            .await
            .expect("the applications table")
            .expect("an attempt");
        assert_eq!(latest.outcome, "dry_run_ok");
        assert!(latest.dry_run);
        assert_eq!(latest.cv_version.as_deref(), Some("11.4"));
        for key in [latest.evidence_png.clone(), latest.evidence_html.clone()] {
            let key = key.expect("an evidence key");
            let got = s3
                .get_object()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("s3://{bucket}/{key}: {e}"));
            let body = got.body.collect().await.unwrap().into_bytes();
            if key.ends_with(".png") {
                assert!(body.starts_with(b"\x89PNG"), "{key} is a PNG");
                // A page with text on it, rendered with the image's font: no blank screenshot.
                assert!(body.len() > 5_000, "{key}: {} bytes", body.len());
            } else {
                assert!(String::from_utf8_lossy(&body).contains("<html"), "{key} holds the page");
            }
        }
        // The CRM job stays TOAPPLY on a dry run.
        let crm_job = CrmStore::new(ddb.clone(), &crm)
            .get(UUID, TRACK)
            .await
            .expect("the job");
        assert_eq!(crm_job.map(|j| j.stage).as_deref(), Some("TOAPPLY"));
    });
}

/// The database stack's outputs by key.
fn database_outputs(moto: &Moto) -> HashMap<String, String> {
    let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk());
    let out = runtime()
        .block_on(cfn.describe_stacks().stack_name("mcfpipe-local-database").send())
        .expect("the database stack");
    out.stacks()[0]
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect()
}

/// What fills the image, by part: its one layer's files from `docker save`, grouped.
fn contents(image: &str) -> BTreeMap<String, u64> {
    let out = std::process::Command::new("docker")
        .args(["save", image])
        .output()
        .expect("docker save (the docker CLI)");
    assert!(
        out.status.success(),
        "docker save: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut parts = BTreeMap::new();
    let mut outer = tar::Archive::new(std::io::Cursor::new(out.stdout));
    for entry in outer.entries().expect("the saved image") {
        let entry = entry.expect("an entry");
        let path = entry.path().expect("a path").display().to_string();
        // Layers are tars inside the saved tar (`<id>/layer.tar`, or `blobs/sha256/<id>`).
        if entry.header().entry_type().is_file() && entry.size() > 1_000_000 && !path.ends_with(".json") {
            let mut layer = tar::Archive::new(entry);
            let Ok(files) = layer.entries() else { continue };
            for file in files.flatten() {
                let name = file.path().map(|p| p.display().to_string()).unwrap_or_default();
                *parts.entry(part_of(&name)).or_insert(0) += file.size();
            }
        }
    }
    parts
}

fn part_of(path: &str) -> String {
    let path = format!("/{}", path.trim_start_matches('/'));
    let part = if path.starts_with("/usr/local/bin/") {
        "the mcfapply binary"
    } else if path.ends_with("/chromium-headless-shell") {
        "the chromium-headless-shell binary"
    } else if path.starts_with("/usr/lib/chromium/locales") {
        "chromium's locales"
    } else if path.starts_with("/usr/lib/chromium/") && path.contains(".so") {
        "chromium's own libraries (GL, Vulkan)"
    } else if path.starts_with("/usr/lib/chromium/") {
        "chromium's data (ICU, V8, .pak)"
    } else if path.starts_with("/usr/share/fonts") {
        "fonts"
    } else if path.starts_with("/etc/fonts") || path.starts_with("/usr/share/fontconfig") {
        "fontconfig's configuration"
    } else if path.contains(".so") {
        "system libraries (ldd closure)"
    } else {
        "other (CA bundle, /tmp)"
    };
    part.to_string()
}

/// The test's container and the images of its registry, removed however it ends.
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
/// system with a tmpfs on /tmp, the image's own user. Returns exit code, stdout, stderr.
async fn run_container(docker: &Docker, name: &str, image: &str, env: &[String]) -> (i64, String, String) {
    let body = ContainerCreateBody {
        image: Some(image.into()),
        env: Some(env.to_vec()),
        host_config: Some(HostConfig {
            network_mode: Some("host".into()),
            readonly_rootfs: Some(true),
            tmpfs: Some(HashMap::from([(
                "/tmp".to_string(),
                "rw,nosuid,nodev,size=512m".to_string(),
            )])),
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
