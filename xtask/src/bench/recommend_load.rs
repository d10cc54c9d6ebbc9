//! The recommender under load, on the emulator (`cargo xtask bench recommend-load`): its Lambda
//! binary's peak memory on one stream batch, and the time of a full rescore of many synthetic
//! posts × 3 tracks. Figures are printed, not judged in tests.
//!
//! Set-up, per run: moto on a free port, the `database` stack deployed into it by the deployer,
//! the starter library plus a third track written, and `posts` synthetic posts (the 100
//! captured search items, parsed by `mcfparse`, copied under new uuids with posting dates spread
//! over the last 6 weeks and an open closing date) written with BatchWriteItem. Then:
//! - **memory**: the release `jobmatch` binary behind the stand-in Lambda Runtime API
//!   (`bench::runtime::runtime_api`) on one stream event of the first `batch` post records,
//!   read from moto's stream; VmHWM of the process;
//! - **rescore**: `Handler::rescore` in this process over every post of the last 6 weeks (what
//!   `run recommend --rescore` runs on an emulator), timed end to end, moto included.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use jobmatch_lambda::handler::Rescore;
use jobmatch_lambda::score::{date_of, singapore_today};
use mcfstore::library::LibraryStore;
use serde_json::{Value, json};

use crate::artifacts::{Workspace, cargo_command};
use crate::bench::runtime::runtime_api;
use crate::bench::tempdir;
use crate::local;
use crate::session::Project;
use crate::ui::Ui;
use crate::workflow::library;
use crate::workflow::recommend::{self, RecommendNames};

/// Stream records per invocation in the memory probe (the mapping's default batch size).
pub const BATCH: usize = 100;
/// The target for the function's peak memory on a batch.
const MEMORY_TARGET_MB: f64 = 64.0;

pub async fn run(project: &Project, ui: &Ui, posts: usize) -> Result<u8> {
    if posts < BATCH {
        bail!("--posts must be at least {BATCH} (one stream batch)");
    }
    let ws = Workspace::load(&project.workspace)?;
    ui.step(
        "bench",
        "cargo build --release -p jobmatch-lambda --bin jobmatch (the recommender's bootstrap, host)",
    );
    crate::artifacts::run(
        cargo_command()
            .args([
                "build",
                "--quiet",
                "--release",
                "-p",
                "jobmatch-lambda",
                "--bin",
                "jobmatch",
            ])
            .current_dir(&ws.root),
    )?;
    let bootstrap = ws.target_dir.join("release").join("jobmatch");
    let dir = tempdir()?;
    let moto = local::moto_command(&project.root, ui)?;
    let (mut child, port) = local::spawn(&moto, &dir.join("moto.log"), false)?;
    let result = measure(project, ui, &bootstrap, &dir, port, posts).await;
    local::terminate(child.id());
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let figures = result?;
    let peak_mb = figures.peak_kb as f64 / 1024.0;
    ui.print(&format!(
        "recommender memory   peak {peak_mb:.1} MB (RSS {:.1} MB before the batch) on one stream batch of {BATCH} posts × 3 tracks, release binary (target < {MEMORY_TARGET_MB} MB: {})\n\
         full rescore         {} posts × 3 tracks in {:.1} s ({:.0} posts/s) on moto: {} score items written, {} screened, {} failed\n\
         set-up               {} posts written in {:.1} s\n",
        figures.baseline_kb as f64 / 1024.0,
        if peak_mb < MEMORY_TARGET_MB { "pass" } else { "FAIL" },
        figures.rescore.posts,
        figures.rescore_seconds,
        figures.rescore.posts as f64 / figures.rescore_seconds.max(1e-9),
        figures.rescore.changed,
        figures.rescore.screened,
        figures.rescore.failed,
        posts,
        figures.write_seconds,
    ));
    ui.document(&json!({
        "batch": BATCH,
        "peak_kb": figures.peak_kb,
        "baseline_kb": figures.baseline_kb,
        "memory_target_mb": MEMORY_TARGET_MB,
        "posts": posts,
        "write_seconds": figures.write_seconds,
        "rescore_seconds": figures.rescore_seconds,
        "rescore": figures.rescore,
    }));
    Ok(0)
}

struct Figures {
    baseline_kb: u64,
    peak_kb: u64,
    write_seconds: f64,
    rescore_seconds: f64,
    rescore: jobmatch_lambda::Summary,
}

async fn measure(project: &Project, ui: &Ui, bootstrap: &Path, dir: &Path, port: u16, posts: usize) -> Result<Figures> {
    let url = format!("http://127.0.0.1:{port}");
    let (session, aws) = super::database_in_moto(project, ui, dir, &url).await?;
    let names = RecommendNames::deployed(&session, &aws).await?;

    // The library: the starter's two tracks and a third.
    let (mut tables, version) = library::file_items(&project.root.join("config/seed/library"))?;
    let tracks = tables
        .iter_mut()
        .find(|t| t.table == "tracks")
        .context("the starter library has no tracks")?;
    let mut rows: Vec<Value> = serde_json::from_str(&tracks.rows)?;
    let mut third = rows.last().cloned().context("no track")?;
    third["id"] = json!("platform");
    third["name"] = json!("Platform engineering");
    third["role"] = json!("devops engineer");
    rows.push(third);
    tracks.rows = serde_json::to_string(&rows)?;
    tracks.row_count = rows.len() as u64;
    LibraryStore::new(aws.dynamodb(), &names.dimensions_table)
        .replace(&tables, &version, None)
        .await
        .map_err(|e| anyhow!("{e}"))?;

    // The posts.
    let base = captured_posts(&project.root)?;
    let today = singapore_today();
    let started = Instant::now();
    ui.step(
        "bench",
        &format!("writing {posts} synthetic posts (the captures under new uuids)"),
    );
    let mut items = Vec::with_capacity(posts);
    for i in 0..posts {
        let mut post = base[i % base.len()].clone();
        post.uuid = format!("{i:032x}");
        post.posted_date = Some(date_of(jobmatch::Day::from_days(today.days() - (i % 42) as i64)));
        post.expiry_date = Some("2099-01-01".into());
        items.push(mcfstore::post_item(&post, 1, None).map_err(|e| anyhow!("{e}"))?);
    }
    let mut writers = tokio::task::JoinSet::new();
    let chunk = posts.div_ceil(8);
    let client = aws.dynamodb();
    while !items.is_empty() {
        let part: Vec<_> = items.drain(..chunk.min(items.len())).collect();
        let (client, table) = (client.clone(), names.posts_table.clone());
        writers.spawn(async move { mcfstore::batch::put(&client, &table, part).await });
    }
    while let Some(done) = writers.join_next().await {
        done.map_err(|e| anyhow!("{e}"))?.map_err(|e| anyhow!("{e}"))?;
    }
    let write_seconds = started.elapsed().as_secs_f64();

    // Memory: one stream batch through the release binary.
    let event = first_stream_batch(&aws, &names.posts_stream_arn).await?;
    let region = session.config.region.clone().unwrap_or_else(|| "ap-southeast-1".into());
    let env = [
        ("AWS_REGION", region),
        ("AWS_ENDPOINT_URL", url.clone()),
        ("AWS_ACCESS_KEY_ID", "bench".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "bench".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("POSTS_TABLE", names.posts_table.clone()),
        ("DIMENSIONS_TABLE", names.dimensions_table.clone()),
        ("CRM_TABLE", names.crm_table.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            session.config.compute.recommender.memory_mb.to_string(),
        ),
    ];
    ui.step(
        "bench",
        &format!("one stream batch of {BATCH} through the release binary"),
    );
    let probe = runtime_api::invoke_once(bootstrap, &env, &event, Duration::from_secs(300), dir)?;
    let answer: Value = serde_json::from_str(&probe.response)
        .with_context(|| format!("the function's answer is not JSON: {}", probe.response))?;
    if answer["batchItemFailures"].as_array().is_none_or(|f| !f.is_empty()) {
        bail!(
            "the batch was not handled cleanly: {}\n{}",
            probe.response,
            probe.stdout
        );
    }

    // The full rescore, in this process as `run recommend --rescore` on an emulator.
    ui.step("bench", &format!("rescoring {posts} posts × 3 tracks"));
    let handler = recommend::handler(&session, &aws, &names, None, None)?;
    let started = Instant::now();
    let rescore = handler
        .rescore(&Rescore {
            reason: "bench".into(),
            weeks: Some(6),
        })
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let rescore_seconds = started.elapsed().as_secs_f64();
    Ok(Figures {
        baseline_kb: probe.baseline_kb,
        peak_kb: probe.peak_kb,
        write_seconds,
        rescore_seconds,
        rescore,
    })
}

/// The 100 captured search items as posts.
fn captured_posts(root: &Path) -> Result<Vec<mcfcore::Post>> {
    let path = root.join("tests/fixtures/mcf/api/search_page0_limit100.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let page: Value = serde_json::from_str(&text)?;
    let results = page["results"].as_array().context("no results in the capture")?;
    results
        .iter()
        .map(|item| mcfparse::parse_document(&serde_json::to_vec(item)?).map_err(|e| anyhow!("a captured item: {e}")))
        .collect()
}

/// The first `BATCH` records of the posts stream, as the mapping would send them.
async fn first_stream_batch(aws: &crate::aws::Aws, stream_arn: &str) -> Result<String> {
    let streams = aws.dynamodbstreams();
    let shard = streams
        .describe_stream()
        .stream_arn(stream_arn)
        .send()
        .await
        .map_err(|e| anyhow!("DescribeStream: {}", crate::aws::error_text(&e)))?
        .stream_description
        .and_then(|d| d.shards)
        .and_then(|s| s.into_iter().next())
        .and_then(|s| s.shard_id)
        .context("the posts stream has no shard")?;
    let iterator = streams
        .get_shard_iterator()
        .stream_arn(stream_arn)
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .map_err(|e| anyhow!("GetShardIterator: {}", crate::aws::error_text(&e)))?
        .shard_iterator
        .context("no shard iterator")?;
    let records = streams
        .get_records()
        .shard_iterator(iterator)
        .limit(BATCH as i32)
        .send()
        .await
        .map_err(|e| anyhow!("GetRecords: {}", crate::aws::error_text(&e)))?
        .records
        .unwrap_or_default();
    let records: Vec<Value> = records
        .iter()
        .map(|r| jobmatch_lambda::local::lambda_record(r, stream_arn))
        .collect();
    if records.len() != BATCH {
        bail!("the posts stream holds {} records, not {BATCH}", records.len());
    }
    Ok(json!({ "Records": records }).to_string())
}
