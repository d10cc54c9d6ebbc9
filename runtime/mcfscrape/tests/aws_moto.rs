//! The AWS store against a real moto server with the database stack the deployer creates:
//! profiles read from the dimensions table, raw documents in the data bucket, parse messages
//! on the queue, versions from the posts table, the run record and checkpoint items, and a
//! quarantined post's answer and reason under `rejects/`.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use mcfcore::SearchProfile;
use mcfcore::layout::ParseMessage;
use mcffixture::{Fault, FaultKind, FixtureServer, Route};
use mcfpipe_e2e::{Moto, Project, runtime};
use mcfscrape::aws::{AwsNames, AwsStore, put_profiles};
use mcfscrape::{ClientConfig, Fetcher, McfClient, Outcome, RetryPolicy, RunOptions, Store};
use mcfstore::RejectReason;

const POSTS: &str = "mcfpipe-local-posts";
const DIMENSIONS: &str = "mcfpipe-local-dimensions";
const BUCKET: &str = "mcfpipe-local-data-123456789012-ap-southeast-1";
const QUEUE: &str = "mcfpipe-local-parse";

fn fetcher(server: &FixtureServer) -> Fetcher {
    let client = McfClient::new(&ClientConfig {
        base_url: server.url().into(),
        ..ClientConfig::default()
    })
    .unwrap();
    Fetcher::new(client, RetryPolicy::default(), 0.0)
}

fn everything() -> SearchProfile {
    SearchProfile {
        name: "everything".into(),
        track: "any".into(),
        keywords: vec![],
        categories: vec![],
        employment_types: vec![],
        position_levels: vec![],
        min_salary: None,
    }
}

/// The store on moto's database stack, with the `everything` profile seeded.
async fn seeded_store(sdk: &aws_config::SdkConfig) -> AwsStore {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    put_profiles(&ddb, DIMENSIONS, &[everything()], "2026-11-28T00:00:00Z")
        .await
        .unwrap();
    let names = AwsNames {
        posts_table: POSTS.into(),
        dimensions_table: DIMENSIONS.into(),
        bucket: BUCKET.into(),
        queue: QUEUE.into(),
    };
    AwsStore::connect(&mcfstore::Aws::from_sdk(sdk.clone()), names)
        .await
        .unwrap()
}

fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build())
}

#[test]
fn a_run_fills_the_bucket_and_queue_and_a_rerun_reads_versions_from_the_posts_table() {
    let moto = Moto::start();
    let project = Project::copy();
    project.xtask(&moto, &["deploy", "database", "--env", "local"]).ok();
    let sdk = moto.sdk();
    let server = FixtureServer::default_on_free_port().unwrap();
    let options = RunOptions {
        quiet: true,
        ..RunOptions::default()
    };

    runtime().block_on(async {
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        let store = seeded_store(&sdk).await;
        assert_eq!(store.profiles().await.unwrap(), vec![everything()]);

        let summary = mcfscrape::run(&mut fetcher(&server), &store, &options).await;
        assert_eq!(summary.outcome, Outcome::Completed, "{summary:#?}");
        assert_eq!((summary.fetched, summary.enqueued), (100, 100));

        // 100 raw documents under raw/<date>/.
        let s3 = s3_client(&sdk);
        let prefix = format!("raw/{}/", &summary.run_id[..10]);
        let listed = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix(&prefix)
            .send()
            .await
            .unwrap();
        let keys: HashSet<String> = listed
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_string))
            .collect();
        let expected: HashSet<String> = server.uuids().iter().map(|u| format!("{prefix}{u}.json")).collect();
        assert_eq!(keys, expected);

        // 100 parse messages pointing at them.
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let url = sqs
            .get_queue_url()
            .queue_name(QUEUE)
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let mut messages = Vec::new();
        for _ in 0..40 {
            let out = sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            for m in out.messages() {
                let message: ParseMessage = serde_json::from_str(m.body().unwrap()).unwrap();
                messages.push(message);
            }
            if messages.len() >= 100 {
                break;
            }
        }
        let uuids: HashSet<&str> = messages.iter().map(|m| m.uuid.as_str()).collect();
        assert_eq!((messages.len(), uuids.len()), (100, 100));
        assert!(
            messages
                .iter()
                .all(|m| keys.contains(&m.key) && m.key.ends_with(&format!("{}.json", m.uuid)))
        );

        // The run is recorded and no checkpoint is left.
        let runs = ddb
            .query()
            .table_name(DIMENSIONS)
            .key_condition_expression("pk = :k")
            .expression_attribute_values(":k", AttributeValue::S("scrape_run".into()))
            .send()
            .await
            .unwrap();
        let sks: Vec<&str> = runs
            .items()
            .iter()
            .filter_map(|i| i["sk"].as_s().ok().map(String::as_str))
            .collect();
        assert_eq!(sks, vec![format!("RUN#{}", summary.run_id)]);
        assert_eq!(runs.items()[0]["fetched"], AttributeValue::N("100".into()));

        // The parser's writes (simulated: one post item per uuid with its version) make the
        // next run fetch nothing but the post whose version is older than MCF's.
        let stale = server.uuids()[0].clone();
        for message in &messages {
            let raw = s3.get_object().bucket(BUCKET).key(&message.key).send().await.unwrap();
            let body = raw.body.collect().await.unwrap().into_bytes();
            let post = mcfparse::parse_job_detail(&body).unwrap();
            let version = if post.uuid == stale {
                "2000-01-01T00:00:00Z".into()
            } else {
                post.updated_at.unwrap()
            };
            ddb.put_item()
                .table_name(POSTS)
                .item("pk", AttributeValue::S(post.uuid.clone()))
                .item("sk", AttributeValue::S("POST".into()))
                .item("updated_at", AttributeValue::S(version))
                .send()
                .await
                .unwrap();
        }
        server.reset_counts();
        tokio::time::sleep(Duration::from_millis(1100)).await; // a new run id
        let again = mcfscrape::run(&mut fetcher(&server), &store, &options).await;
        assert_eq!(again.outcome, Outcome::Completed, "{again:#?}");
        assert_eq!((again.unchanged, again.changed, again.fetched), (99, 1, 1));
        assert_eq!(server.count(Route::Detail), 1);
    });
}

#[test]
fn a_quarantined_post_is_kept_under_rejects_in_the_data_bucket() {
    let moto = Moto::start();
    let project = Project::copy();
    project.xtask(&moto, &["deploy", "database", "--env", "local"]).ok();
    let sdk = moto.sdk();
    let server = FixtureServer::default_on_free_port().unwrap();
    let poisoned = server.uuids()[3].clone();
    server.set_faults(vec![Fault::post(&poisoned, FaultKind::VerificationPage)]);
    let options = RunOptions {
        quiet: true,
        ..RunOptions::default()
    };

    runtime().block_on(async {
        let store = seeded_store(&sdk).await;
        let summary = mcfscrape::run(&mut fetcher(&server), &store, &options).await;
        assert_eq!(summary.outcome, Outcome::Completed, "{summary:#?}");
        assert_eq!((summary.fetched, summary.enqueued, summary.quarantined), (99, 99, 1));
        let entry = &summary.quarantine[0];
        assert_eq!(entry.uuid, poisoned);
        let date = &summary.run_id[..10];
        assert_eq!(entry.reject_key, format!("rejects/{date}/{poisoned}.html"));

        // The answer, whole, as MCF sent it, typed as the page it is.
        let s3 = s3_client(&sdk);
        let kept = s3
            .get_object()
            .bucket(BUCKET)
            .key(&entry.reject_key)
            .send()
            .await
            .unwrap();
        assert_eq!(kept.content_type(), Some("text/html; charset=utf-8"));
        let body = kept.body.collect().await.unwrap().into_bytes();
        assert!(body.starts_with(b"<!DOCTYPE html>"), "{body:?}");
        assert!(String::from_utf8_lossy(&body).contains("verification page"));

        // The reason beside it, in the parser's rejects format.
        let reason_key = format!("{}.reason.json", entry.reject_key);
        let reason = s3.get_object().bucket(BUCKET).key(&reason_key).send().await.unwrap();
        let reason: RejectReason = serde_json::from_slice(&reason.body.collect().await.unwrap().into_bytes()).unwrap();
        assert_eq!(reason.reason, entry.reason);
        assert!(reason.reason.contains("not a block"), "{}", reason.reason);
        assert_eq!(
            reason.url.as_deref(),
            Some(format!("{}/v2/jobs/{poisoned}", server.url()).as_str())
        );
        assert_eq!(reason.raw_key, None);
        assert!(reason.at.starts_with(date), "{}", reason.at);

        // Only those two objects under rejects/, and no raw document for the post.
        let listed = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix("rejects/")
            .send()
            .await
            .unwrap();
        let keys: HashSet<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
        assert_eq!(keys, HashSet::from([entry.reject_key.as_str(), reason_key.as_str()]));
        let raw = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix(format!("raw/{date}/{poisoned}"))
            .send()
            .await
            .unwrap();
        assert!(raw.contents().is_empty());

        // The run record counts it.
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        let record = ddb
            .get_item()
            .table_name(DIMENSIONS)
            .key("pk", AttributeValue::S("scrape_run".into()))
            .key("sk", AttributeValue::S(format!("RUN#{}", summary.run_id)))
            .send()
            .await
            .unwrap();
        assert_eq!(record.item().unwrap()["quarantined"], AttributeValue::N("1".into()));
    });
}
