//! The jobs-search workflow end to end on moto: `up` deploys every layer, seeds the profiles
//! and runs one search against a fixture server that serves the repository's MCF captures;
//! the posts table then holds exactly the captured posts with their fields; a second search
//! fetches and writes nothing; a changed post is replaced, and a document that is not a job
//! post is kept under `rejects/` with its reason, not stored and not retried.
//!
//! Where moto stops: it runs no Lambda code, so the parser step is the Lambda's handler driven
//! by the local poller (the same event shape and partial-batch semantics), and the SQS event
//! source mapping is disabled in the local config (moto would otherwise "invoke" the function
//! on every send and delete the messages).

use std::collections::BTreeSet;

use mcffixture::{Fault, FaultKind, FixtureServer, Route};
use mcfpipe_e2e::{Moto, Project, repo_root, runtime, snapshot};
use serde_json::Value;

const POSTS: &str = "mcfpipe-local-posts";
const BUCKET: &str = "mcfpipe-local-data-123456789012-ap-southeast-1";

fn result(run: &mcfpipe_e2e::Run) -> Value {
    let lines = run.json_lines();
    let last = lines.last().cloned().unwrap_or_default();
    assert_eq!(last["event"], "result", "last line is the result:\n{}", run.output);
    last
}

fn capture() -> Vec<Value> {
    let text = std::fs::read_to_string(repo_root().join("tests/fixtures/mcf/api/search_page0_limit100.json"))
        .expect("the search capture");
    let page: Value = serde_json::from_str(&text).expect("JSON");
    page["results"].as_array().expect("results").clone()
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn up_stores_exactly_the_captured_posts_and_searching_again_writes_nothing_new() {
    let moto = Moto::start();
    let p = Project::copy();
    // One profile that matches every captured post, so the expected set is the whole capture.
    p.write(
        "config/seed/search-profiles.yaml",
        "profiles:\n  - name: everything\n    track: any\n",
    );
    let server = FixtureServer::default_on_free_port().expect("fixture server");
    let expected = capture();
    assert_eq!(expected.len(), 100);

    // 1. up: deploy all, seed, search, summary.
    let up = p.xtask(
        &moto,
        &["up", "--env", "local", "--mcf-url", server.url(), "--output", "json"],
    );
    up.ok();
    let r = result(&up);
    assert_eq!(r["ok"], true);
    assert_eq!(r["profiles"], serde_json::json!(["everything"]));
    let scrape = &r["search"]["scrape"];
    assert_eq!(
        (
            &scrape["outcome"],
            &scrape["posts_seen"],
            &scrape["new"],
            &scrape["fetched"],
            &scrape["enqueued"]
        ),
        (&"completed".into(), &100.into(), &100.into(), &100.into(), &100.into()),
        "{scrape}"
    );
    let parse = &r["search"]["parse"];
    assert_eq!(
        (
            &parse["received"],
            &parse["inserted"],
            &parse["rejected"],
            &parse["failed"]
        ),
        (&100.into(), &100.into(), &0.into(), &0.into()),
        "{parse}"
    );
    assert_eq!(r["search"]["posts_in_table"], 100);
    assert_eq!(r["search"]["data"]["posts_table"], POSTS);
    let mut stacks: Vec<&str> = r["deploy"]["stacks"]
        .as_array()
        .expect("deployed stacks")
        .iter()
        .filter_map(|s| s["stack"].as_str())
        .collect();
    // In the order they finished: side by side, the first wave's order varies; a compute-layer
    // stack finishes after the stacks it needs (sync needs the recommender: it invokes its rescore).
    let at = |name: &str| stacks.iter().position(|s| *s == name).expect(name);
    assert!(
        at("compute") > at("networking").max(at("database")).max(at("artifacts")),
        "{stacks:?}"
    );
    assert!(at("recommend") > at("database").max(at("artifacts")), "{stacks:?}");
    assert!(at("sync") > at("recommend"), "{stacks:?}");
    assert!(at("crm") > at("database").max(at("artifacts")), "{stacks:?}");
    assert!(
        at("apply") > at("networking").max(at("database")).max(at("artifacts")),
        "{stacks:?}"
    );
    stacks.sort();
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
    assert_eq!(server.count(Route::Search), 1);
    assert_eq!(server.count(Route::Detail), 100);

    // 2. Exactly the captured posts, with the fields of the source documents.
    let sdk = moto.sdk();
    let aws = mcfstore::Aws::from_sdk(sdk.clone());
    let ddb = aws.dynamodb();
    let posts = mcfstore::PostStore::new(ddb.clone(), POSTS);
    let before = snapshot(&ddb, POSTS);
    let want: BTreeSet<String> = expected
        .iter()
        .map(|i| i["uuid"].as_str().unwrap().to_string())
        .collect();
    let stored: BTreeSet<String> = before
        .keys()
        .filter(|k| k.ends_with("|POST"))
        .map(|k| k.split('|').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(stored, want, "exactly the captured posts, one item each");
    runtime().block_on(async {
        for item in &expected {
            let uuid = item["uuid"].as_str().unwrap();
            let post = posts
                .get(uuid)
                .await
                .expect("read")
                .unwrap_or_else(|| panic!("post {uuid} is in the table"));
            assert_eq!(post.uuid, uuid);
            assert_eq!(post.title, collapse(item["title"].as_str().unwrap()), "{uuid}");
            assert_eq!(
                post.job_post_id.as_deref(),
                item["metadata"]["jobPostId"].as_str(),
                "{uuid}"
            );
            // The employer: the hiring company unless MCF hides it, else the posting agency.
            let hidden = item["metadata"]["isHideHiringEmployerName"].as_bool().unwrap_or(false);
            let employer = match item["hiringCompany"]["name"].as_str() {
                Some(name) if !hidden => name,
                _ => item["postedCompany"]["name"].as_str().unwrap(),
            };
            assert_eq!(post.company_name, employer.trim(), "{uuid}");
            assert_eq!(
                post.salary_min.map(u64::from),
                item["salary"]["minimum"].as_u64(),
                "{uuid}"
            );
            assert_eq!(
                post.salary_max.map(u64::from),
                item["salary"]["maximum"].as_u64(),
                "{uuid}"
            );
            let categories: Vec<&str> = item["categories"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c["category"].as_str())
                .collect();
            assert_eq!(post.categories, categories, "{uuid}");
            assert_eq!(
                post.posted_date.as_deref(),
                item["metadata"]["newPostingDate"].as_str(),
                "{uuid}"
            );
            assert!(
                post.description.as_deref().is_some_and(|d| !d.is_empty()),
                "{uuid} has a description"
            );
        }
    });

    // 3. Search again: nothing new at MCF, so no detail fetched and no write.
    let again = p.xtask(
        &moto,
        &[
            "run",
            "search",
            "--env",
            "local",
            "--mcf-url",
            server.url(),
            "--output",
            "json",
        ],
    );
    again.ok();
    let r = result(&again);
    let scrape = &r["search"]["scrape"];
    assert_eq!(
        (
            &scrape["new"],
            &scrape["changed"],
            &scrape["unchanged"],
            &scrape["fetched"]
        ),
        (&0.into(), &0.into(), &100.into(), &0.into()),
        "{scrape}"
    );
    assert_eq!(r["search"]["parse"]["received"], 0);
    assert_eq!(server.count(Route::Detail), 100, "no detail fetched again");
    assert_eq!(snapshot(&ddb, POSTS), before, "the table is untouched");

    // 4. MCF changes one post and adds one whose document is not a job post.
    let changed = expected[7]["uuid"].as_str().unwrap().to_string();
    server.bump(&changed);
    server.change(|s| s.extra = 1);
    server.reset_counts();
    // The new post is the newest, so its detail is the first one fetched.
    server.set_faults(vec![Fault::nth(Route::Detail, 1, FaultKind::NotAJob)]);
    let third = p.xtask(
        &moto,
        &[
            "run",
            "search",
            "--env",
            "local",
            "--mcf-url",
            server.url(),
            "--output",
            "json",
        ],
    );
    third.ok();
    let r = result(&third);
    let scrape = &r["search"]["scrape"];
    assert_eq!(
        (&scrape["new"], &scrape["changed"], &scrape["fetched"]),
        (&1.into(), &1.into(), &2.into()),
        "{scrape}"
    );
    let parse = &r["search"]["parse"];
    assert_eq!(
        (&parse["replaced"], &parse["rejected"], &parse["failed"]),
        (&1.into(), &1.into(), &0.into()),
        "{parse}"
    );
    assert_eq!(r["search"]["posts_in_table"], 100, "the poison document is not a post");

    let post = runtime()
        .block_on(posts.get(&changed))
        .expect("read")
        .expect("changed post");
    assert_eq!(post.updated_at.as_deref(), Some("2030-01-01T00:00:01Z"));

    // The poison document is kept with its reason, and its message is gone from the queue.
    let reject = &parse["rejects"][0];
    let reject_key = reject["reject_key"].as_str().expect("reject key").to_string();
    assert!(reject_key.starts_with("rejects/"), "{reject}");
    assert!(!reject["reason"].as_str().unwrap_or_default().is_empty(), "{reject}");
    runtime().block_on(async {
        let s3 = aws.s3();
        let kept = s3
            .get_object()
            .bucket(BUCKET)
            .key(&reject_key)
            .send()
            .await
            .expect("the rejected document is kept");
        let body = kept.body.collect().await.expect("body").into_bytes();
        assert!(String::from_utf8_lossy(&body).contains("not a job post"));
        let reason = s3
            .get_object()
            .bucket(BUCKET)
            .key(format!("{reject_key}.reason.json"))
            .send()
            .await
            .expect("the reason is kept beside it");
        let reason: Value =
            serde_json::from_slice(&reason.body.collect().await.expect("body").into_bytes()).expect("JSON");
        assert!(
            reason.to_string().contains(reject["reason"].as_str().unwrap()),
            "{reason}"
        );
        let sqs = aws.sqs();
        let url = sqs
            .get_queue_url()
            .queue_name("mcfpipe-local-parse")
            .send()
            .await
            .expect("queue")
            .queue_url
            .unwrap();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .expect("attributes");
        let n = |a: aws_sdk_sqs::types::QueueAttributeName| attrs.attributes().and_then(|m| m.get(&a)).cloned();
        assert_eq!(
            n(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages).as_deref(),
            Some("0")
        );
        assert_eq!(
            n(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible).as_deref(),
            Some("0")
        );
    });
}

#[test]
fn up_without_mcf_uses_the_captures_and_says_so() {
    let moto = Moto::start();
    let p = Project::copy();
    // The config's MCF address cannot resolve: the local environment falls back to the
    // captures by itself (with the seed profiles of the repository).
    let local = p.read("config/local.yaml");
    assert!(local.contains("    schedule_enabled: false"));
    p.write(
        "config/local.yaml",
        &local.replacen(
            "    schedule_enabled: false",
            "    schedule_enabled: false\n    mcf_url: https://mcf.invalid",
            1,
        ),
    );
    let up = p.xtask(&moto, &["up", "--env", "local"]);
    up.ok()
        .contains("https://mcf.invalid cannot be reached")
        .contains("the repository's MCF captures")
        .contains("posts      table mcfpipe-local-posts");
    // Text mode: the summary names what a user asked for.
    for line in ["source ", "posts ", "parse ", "rejected ", "time ", "raw ", "rejects "] {
        up.contains(line);
    }

    // Seeding again is an upsert; a file that cannot be read names itself and writes nothing.
    p.xtask(&moto, &["seed", "--env", "local"])
        .ok()
        .contains("2 search profile(s) written");
    p.xtask(&moto, &["seed", "--env", "local", "--file", "nope.yaml"])
        .expect_code(1)
        .contains("nope.yaml");
}
