//! The parser's peak memory on a batch: its real binary behind a stand-in Lambda Runtime API.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use super::*;
use crate::bench::copy_dir;
use crate::local;
use crate::session::{Project, Session};
use crate::ui::{Format, Ui};

/// Per run: a fresh moto state, the `database` stack deployed by the deployer, the batch's
/// documents in the data bucket, then one invocation of the parser's binary.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn memory_probes(
    project: &Project,
    ui: &Ui,
    bootstrap: &Path,
    docs: &Path,
    manifest: &[Entry],
    dev: &Session,
    dir: &Path,
    runs: usize,
) -> Result<Vec<runtime_api::Probe>> {
    let batch = batch(docs, manifest)?;
    // A copy of the project, so that the deploy's outputs file is not the user's.
    let copy = Project {
        root: dir.join("project"),
        workspace: project.workspace.clone(),
    };
    for sub in ["config", "stacks", "templates"] {
        copy_dir(&project.root.join(sub), &copy.root.join(sub))?;
    }
    let moto = local::moto_command(&project.root, ui)?;
    let (mut child, port) = local::spawn(&moto, &dir.join("moto.log"), false)?;
    let url = format!("http://127.0.0.1:{port}");
    ui.step(
        "memory",
        &format!(
            "{runs} batch(es) of {BATCH} through the parser's Lambda binary, moto at {url} (pid {})",
            child.id()
        ),
    );
    let mut probes = Vec::new();
    let mut result = Ok(());
    for i in 0..runs {
        match probe_once(&copy, bootstrap, &batch, dev, &url, port, dir).await {
            Ok(p) => {
                ui.info(&format!(
                    "run {}: RSS {} before the batch, peak {}",
                    i + 1,
                    mb(p.baseline_kb as f64 * 1024.0),
                    mb(p.peak_kb as f64 * 1024.0)
                ));
                probes.push(p);
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    local::terminate(child.id());
    let _ = child.wait();
    result.map(|()| probes)
}

/// The batch: six copies of the rendered job page (the heaviest parse) under different days,
/// the job detail, and search items to make ten.
pub(crate) fn batch(docs: &Path, manifest: &[Entry]) -> Result<Vec<(mcfcore::layout::ParseMessage, Vec<u8>)>> {
    let read = |e: &Entry| std::fs::read(docs.join(&e.file)).with_context(|| format!("cannot read {}", e.file));
    let of = |kind: &'static str| manifest.iter().filter(move |e| e.kind == kind);
    let page = of("job_page").next().context("no job page among the documents")?;
    let mut out = Vec::new();
    for day in 1..=6 {
        let key = mcfcore::layout::raw_key(&format!("2026-11-0{day}"), &page.uuid, "html");
        out.push((message(&page.uuid, key), read(page)?));
    }
    for e in of("job_detail").chain(of("search_item")).take(BATCH - out.len()) {
        let key = mcfcore::layout::raw_key("2026-11-28", &e.uuid, "json");
        out.push((message(&e.uuid, key), read(e)?));
    }
    if out.len() != BATCH {
        bail!("only {} documents for a batch of {BATCH}", out.len());
    }
    Ok(out)
}

pub(crate) fn message(uuid: &str, key: String) -> mcfcore::layout::ParseMessage {
    mcfcore::layout::ParseMessage {
        uuid: uuid.to_string(),
        key,
    }
}

pub(crate) async fn probe_once(
    copy: &Project,
    bootstrap: &Path,
    batch: &[(mcfcore::layout::ParseMessage, Vec<u8>)],
    dev: &Session,
    url: &str,
    port: u16,
    dir: &Path,
) -> Result<runtime_api::Probe> {
    local::reset(port)?;
    let buffer = Arc::new(Mutex::new(String::new()));
    let session = Session::open(
        copy.clone(),
        "local",
        Ui::captured(Format::Text, buffer.clone()),
        Some(url.to_string()),
    )?;
    let report = crate::actions::walk::deploy(
        &session,
        "database",
        crate::actions::deploy::Options {
            yes: true,
            ..Default::default()
        },
        None,
    )
    .await;
    let outputs = match report {
        Ok(r) if r.failure().is_none() => r.outputs,
        other => {
            let log = buffer.lock().map(|b| b.clone()).unwrap_or_default();
            let why = match other {
                Ok(r) => r.failure().map(|e| format!("{e:#}")).unwrap_or_default(),
                Err(e) => format!("{e:#}"),
            };
            bail!("cannot deploy the database layer into moto: {why}\n{log}");
        }
    };
    let output = |name: &str| {
        outputs
            .get("database")
            .and_then(|o| o.get(name))
            .cloned()
            .ok_or_else(|| anyhow!("the database stack has no {name} output"))
    };
    let (table, bucket, queue_arn) = (
        output("PostsTableName")?,
        output("DataBucketName")?,
        output("ParseQueueArn")?,
    );
    let region = session.config.region.clone().unwrap_or_else(|| "ap-southeast-1".into());

    let aws = session.aws().await?;
    let s3 = aws.s3();
    for (m, bytes) in batch {
        s3.put_object()
            .bucket(&bucket)
            .key(&m.key)
            .body(bytes.clone().into())
            .send()
            .await
            .map_err(|e| anyhow!("cannot put s3://{bucket}/{}: {}", m.key, crate::aws::error_text(&e)))?;
    }
    let event = sqs_event(batch, &queue_arn, &region)?;
    let env = [
        ("AWS_REGION", region),
        ("AWS_ENDPOINT_URL", url.to_string()),
        ("AWS_ACCESS_KEY_ID", "bench".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "bench".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("POSTS_TABLE", table),
        ("DATA_BUCKET", bucket),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            dev.config.compute.parser.memory_mb.to_string(),
        ),
    ];
    let probe = runtime_api::invoke_once(bootstrap, &env, &event, Duration::from_secs(120), dir)?;
    let answer: Value = serde_json::from_str(&probe.response)
        .with_context(|| format!("the function's answer is not JSON: {}", probe.response))?;
    let failures = answer["batchItemFailures"].as_array().map_or(0, Vec::len);
    let stored = probe
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["outcome"] == "stored")
        .count();
    if failures != 0 || stored != batch.len() {
        bail!(
            "the batch was not handled cleanly: {stored} of {} stored, answer {}; log:\n{}",
            batch.len(),
            probe.response,
            probe.stdout
        );
    }
    Ok(probe)
}

/// The event Lambda's SQS event source mapping sends for these messages.
pub(crate) fn sqs_event(
    batch: &[(mcfcore::layout::ParseMessage, Vec<u8>)],
    queue_arn: &str,
    region: &str,
) -> Result<String> {
    let records: Vec<Value> = batch
        .iter()
        .enumerate()
        .map(|(i, (m, _))| {
            Ok(json!({
                "messageId": format!("00000000-0000-4000-8000-{i:012}"),
                "receiptHandle": format!("bench-{i}"),
                "body": serde_json::to_string(m)?,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1764316800000",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1764316800002"
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }))
        })
        .collect::<Result<_>>()?;
    Ok(json!({ "Records": records }).to_string())
}
