//! The jobs-recommend workflow end to end on moto: `up` on the MCF captures scores every post
//! for every track and puts the best into the CRM as SCREENED, with scores and reasons; a
//! second `up` writes nothing; a library edit plus `run recommend --rescore` changes the
//! shortlist and leaves a job the user moved where it is; the stream handler reports a
//! poisoned record by its sequence number and scores the rest; bad input gets a clear result;
//! every recorded call of the recommender is allowed by its role in the deployed template.
//!
//! Where moto stops, and what stands in:
//! - it runs no Lambda code, and an event source mapping on a moto table "invokes" the function
//!   on every write without running it and empties the stream (whatever `Enabled` says): the
//!   local config leaves the mapping out (`compute.recommender.stream_mapping: false`), and the
//!   stream is read with DynamoDB Streams on moto (which works for the table the database stack
//!   creates) and played through the same handler, as `up` and `run recommend` do;
//! - moto writes a stream record for every write; DynamoDB writes none for a write that changes
//!   nothing. The checks below count only post records and the tables' items.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use jobmatch_lambda::handler::Rescore;
use jobmatch_lambda::{Handler, PlayOptions};
use mcfpipe_e2e::{Moto, Project, boundary, changed, repo_root, runtime, snapshot};
use mcfstore::library::LibraryStore;
use mcfstore::record::{Call, Recorder};
use mcfstore::{Aws, PostStore};
use serde_json::{Value, json};
use xtask::iam;
use xtask::workflow::library;
use xtask::workflow::recommend::{self, CAPTURES_DAY, RecommendNames};

const POSTS: &str = "mcfpipe-local-posts";
const DIMENSIONS: &str = "mcfpipe-local-dimensions";
const CRM: &str = "mcfpipe-local-crm";

fn result(run: &mcfpipe_e2e::Run) -> Value {
    let lines = run.json_lines();
    let last = lines.last().cloned().unwrap_or_default();
    assert_eq!(last["event"], "result", "last line is the result:\n{}", run.output);
    last
}

/// The CRM's jobs: (uuid, track) → item.
fn jobs(ddb: &aws_sdk_dynamodb::Client) -> BTreeMap<(String, String), BTreeMap<String, AttributeValue>> {
    runtime().block_on(async {
        let items = ddb
            .scan()
            .table_name(CRM)
            .send()
            .await
            .expect("scan the CRM")
            .items
            .unwrap_or_default();
        items
            .into_iter()
            .filter(|i| {
                i["sk"]
                    .as_s()
                    .is_ok_and(|s| s.starts_with("JOB#") && !s.contains("#EVENT#"))
            })
            .map(|i| {
                let key = (i["uuid"].as_s().unwrap().clone(), i["track"].as_s().unwrap().clone());
                (key, i.into_iter().collect())
            })
            .collect()
    })
}

fn text(item: &BTreeMap<String, AttributeValue>, key: &str) -> String {
    item.get(key).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

fn count(jobs: &BTreeMap<(String, String), BTreeMap<String, AttributeValue>>, track: &str, stage: &str) -> usize {
    jobs.iter()
        .filter(|((_, t), j)| t == track && text(j, "stage") == stage)
        .count()
}

/// Rewrites the library in the dimensions table from the project's config/seed/library, as a
/// sync would (conditional on the version read).
fn rewrite_library(p: &Project, aws: &Aws) {
    let (tables, version) = library::file_items(&p.root().join("config/seed/library")).expect("the library reads");
    runtime().block_on(async {
        let store = LibraryStore::new(aws.dynamodb(), DIMENSIONS);
        let read = store.load().await.expect("load").version.map(|v| v.version);
        store
            .replace(&tables, &version, read.as_deref())
            .await
            .expect("replace the library");
    });
}

#[test]
fn up_screens_the_captures_a_second_up_changes_nothing_and_a_rescore_keeps_the_users_stage() {
    let moto = Moto::start();
    let p = Project::copy();
    let aws = Aws::from_sdk(moto.sdk());
    let ddb = aws.dynamodb();

    // 1. up on the captures: SCREENED jobs with scores and reasons, and the shortlist last.
    let up = p.xtask(&moto, &["up", "--env", "local", "--offline", "--output", "json"]);
    up.ok();
    let doc = result(&up);
    let played = &doc["recommend"];
    assert!(played["scored"].as_u64().unwrap() >= 10, "{played}");
    assert_eq!(played["given_up"], json!([]), "{played}");
    let first = jobs(&ddb);
    assert!(!first.is_empty(), "the CRM holds screened jobs");
    assert!(count(&first, "data", "SCREENED") >= 1 && count(&first, "software", "SCREENED") >= 1);
    for ((uuid, track), job) in &first {
        assert_eq!(text(job, "stage"), "SCREENED", "{uuid} {track}");
        let total: f64 = job["scores"].as_m().unwrap()["total"].as_n().unwrap().parse().unwrap();
        assert!(
            total >= 0.6,
            "{uuid} {track}: total {total} reaches the track's match_score_min"
        );
        assert!(
            !text(job, "summary").is_empty() && text(job, "summary").contains(" +"),
            "{job:?}"
        );
        let reasons: Value = serde_json::from_str(&text(job, "reasons")).expect("reasons are JSON");
        assert!(reasons.is_object(), "{reasons}");
        assert_eq!(text(job, "gsi1pk"), "STAGE#SCREENED");
    }
    let shortlist = doc["shortlist"].as_array().expect("the shortlist per track");
    assert_eq!(shortlist.len(), 2, "{doc}");
    assert!(
        shortlist.iter().all(|l| !l["jobs"].as_array().unwrap().is_empty()),
        "{doc}"
    );
    // A score item per post and track.
    let posts = snapshot(&ddb, POSTS);
    let scores = posts.keys().filter(|k| k.contains("|SCORE#")).count();
    let post_count = posts.keys().filter(|k| k.ends_with("|POST")).count();
    assert_eq!(scores, post_count * 2, "every post scored for both tracks");
    let text_up = p.xtask(&moto, &["run", "recommend", "--env", "local", "--as-of", CAPTURES_DAY]);
    text_up
        .ok()
        .contains("shortlist data (Data engineering)")
        .contains("salary fits");

    // 2. A second up: no new score item, no CRM write.
    let crm_before = snapshot(&ddb, CRM);
    p.xtask(&moto, &["up", "--env", "local", "--offline"]).ok();
    assert_eq!(
        changed(&snapshot(&ddb, POSTS), &posts),
        Vec::<String>::new(),
        "the second up wrote no post or score item"
    );
    assert_eq!(
        changed(&snapshot(&ddb, CRM), &crm_before),
        Vec::<String>::new(),
        "the second up wrote nothing to the CRM"
    );

    // 3. The user moves a job on (as the CRM API would: stage, index key, revision).
    let ((moved_uuid, moved_track), moved) = first.iter().find(|((_, t), _)| t == "software").unwrap();
    let revision: u64 = moved["revision"].as_n().unwrap().parse().unwrap();
    runtime().block_on(async {
        ddb.update_item()
            .table_name(CRM)
            .key("pk", AttributeValue::S(moved_uuid.clone()))
            .key("sk", AttributeValue::S(format!("JOB#{moved_track}")))
            .update_expression("SET stage = :s, gsi1pk = :g, revision = :next")
            .condition_expression("revision = :r")
            .expression_attribute_values(":s", AttributeValue::S("TOAPPLY".into()))
            .expression_attribute_values(":g", AttributeValue::S("STAGE#TOAPPLY".into()))
            .expression_attribute_values(":next", AttributeValue::N((revision + 1).to_string()))
            .expression_attribute_values(":r", AttributeValue::N(revision.to_string()))
            .send()
            .await
            .expect("move the job");
    });

    // 4. The user edits the library (the data track takes weaker matches) and syncs it, as
    //    typed: the sync writes the tracks table and rescores the recent posts with it.
    let tracks = p.read("config/seed/library/tracks.yaml");
    let edited = tracks.replacen("match_score_min: 0.6", "match_score_min: 0.1", 1);
    assert_ne!(edited, tracks);
    p.write("config/seed/library/tracks.yaml", &edited);
    let crm_moved = snapshot(&ddb, CRM);
    let dry = p.xtask(&moto, &["sync", "--env", "local", "--dry-run", "--output", "json"]);
    dry.ok();
    assert_eq!(result(&dry)["tables_written"], json!(["tracks"]), "{}", dry.output);
    assert_eq!(
        changed(&snapshot(&ddb, CRM), &crm_moved),
        Vec::<String>::new(),
        "a dry run rescores nothing"
    );
    let synced = p.xtask(
        &moto,
        &["sync", "--env", "local", "--as-of", CAPTURES_DAY, "--output", "json"],
    );
    synced.ok();
    let sync_doc = result(&synced);
    assert_eq!(sync_doc["tables_written"], json!(["tracks"]), "{}", synced.output);
    assert_eq!(sync_doc["rescore_due"], json!(false), "{sync_doc}");
    let summary = &sync_doc["rescore"];
    assert_eq!(summary["failed"], 0, "{summary}");
    assert!(summary["posts"].as_u64().unwrap() >= 10, "{summary}");
    assert!(
        summary["screened"].as_u64().unwrap() >= 1,
        "weaker data matches now enter: {summary}"
    );
    assert!(
        summary["kept"].as_u64().unwrap() >= 1,
        "the moved job kept its stage: {summary}"
    );
    let after = jobs(&ddb);
    assert!(
        count(&after, "data", "SCREENED") > count(&first, "data", "SCREENED"),
        "the data shortlist grew"
    );
    assert_eq!(
        count(&after, "software", "SCREENED") + count(&after, "software", "TOAPPLY"),
        count(&first, "software", "SCREENED"),
        "the software track is as it was"
    );
    let kept = &after[&(moved_uuid.clone(), moved_track.clone())];
    assert_eq!(
        text(kept, "stage"),
        "TOAPPLY",
        "a rescore never moves a job the user moved"
    );
    assert_eq!(text(kept, "gsi1pk"), "STAGE#TOAPPLY");
    let kept_revision: u64 = kept["revision"].as_n().unwrap().parse().unwrap();
    assert_eq!(
        kept_revision,
        revision + 2,
        "its scores were refreshed once (new library version)"
    );
    assert_ne!(text(kept, "library_version"), text(moved, "library_version"));
    // Never duplicated: one job per (post, track).
    let job_items = snapshot(&ddb, CRM).keys().filter(|k| !k.contains("#EVENT#")).count();
    assert_eq!(job_items, after.len());
    let listed = p.xtask(
        &moto,
        &[
            "run",
            "recommend",
            "--env",
            "local",
            "--as-of",
            CAPTURES_DAY,
            "--output",
            "json",
        ],
    );
    listed.ok();
    let new_shortlist = result(&listed)["shortlist"].as_array().unwrap().clone();
    let data = new_shortlist.iter().find(|l| l["track"] == "data").unwrap();
    let data_before = shortlist.iter().find(|l| l["track"] == "data").unwrap();
    assert!(data["screened"].as_u64().unwrap() > data_before["screened"].as_u64().unwrap());

    // 5. Another up with this library changes nothing either.
    let posts = snapshot(&ddb, POSTS);
    let crm_before = snapshot(&ddb, CRM);
    let again = p.xtask(&moto, &["up", "--env", "local", "--offline", "--output", "json"]);
    again.ok();
    assert_eq!(result(&again)["library"]["written"], json!(false));
    assert_eq!(changed(&snapshot(&ddb, POSTS), &posts), Vec::<String>::new());
    assert_eq!(changed(&snapshot(&ddb, CRM), &crm_before), Vec::<String>::new());
}

/// A post item of the captures (the job detail), as the parser stores it.
fn detail_post() -> mcfcore::Post {
    let bytes = std::fs::read(repo_root().join("tests/fixtures/mcf/api/job_76d3310ae51348c561935cb2472f2883.json"))
        .expect("the detail capture");
    mcfparse::parse_document(&bytes).expect("the capture parses")
}

/// Every record of the posts stream, as Lambda would deliver them.
async fn stream_records(aws: &Aws, stream_arn: &str) -> Vec<Value> {
    use aws_sdk_dynamodbstreams::types::ShardIteratorType;
    let streams = aws.dynamodbstreams();
    let description = streams
        .describe_stream()
        .stream_arn(stream_arn)
        .send()
        .await
        .expect("DescribeStream on moto")
        .stream_description
        .expect("a description");
    let shard = description.shards.unwrap_or_default()[0]
        .shard_id
        .clone()
        .expect("a shard");
    let mut it = streams
        .get_shard_iterator()
        .stream_arn(stream_arn)
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect("GetShardIterator")
        .shard_iterator;
    let mut out = Vec::new();
    while let Some(i) = it.take() {
        let page = streams
            .get_records()
            .shard_iterator(i)
            .send()
            .await
            .expect("GetRecords");
        let records = page.records.unwrap_or_default();
        if records.is_empty() {
            break;
        }
        out.extend(
            records
                .iter()
                .map(|r| jobmatch_lambda::local::lambda_record(r, stream_arn)),
        );
        it = page.next_shard_iterator;
    }
    out
}

#[test]
fn the_stream_handler_reports_a_poisoned_record_and_scores_the_rest_and_bad_input_is_clear() {
    let moto = Moto::start();
    let p = Project::copy();
    p.xtask(&moto, &["deploy", "database", "--env", "local"]).ok();
    let aws = Aws::from_sdk(moto.sdk());
    rewrite_library(&p, &aws);
    let s = p.session(&moto);
    let day = recommend::parse_day(CAPTURES_DAY).unwrap();
    runtime().block_on(async {
        let names = RecommendNames::deployed(&s, &aws).await.expect("the database outputs");
        let handler = Handler::from_names(&aws, &names.store_names())
            .expect("handler")
            .with_as_of(Some(day))
            .with_logger(None);

        // A good post, then an item under sk = POST that is not a post (poison).
        let good = detail_post();
        PostStore::new(aws.dynamodb(), POSTS)
            .put_if_newer(&good, None)
            .await
            .expect("put the post");
        aws.dynamodb()
            .put_item()
            .table_name(POSTS)
            .item("pk", AttributeValue::S("poison".into()))
            .item("sk", AttributeValue::S("POST".into()))
            .item("title", AttributeValue::N("42".into()))
            .send()
            .await
            .expect("put the poison");
        let records = stream_records(&aws, &names.posts_stream_arn).await;
        assert_eq!(records.len(), 2, "moto's stream holds both writes");
        let poison_seq = records[1]["dynamodb"]["SequenceNumber"].as_str().unwrap().to_string();

        let answer = handler
            .handle(json!({"Records": records}))
            .await
            .expect("a stream batch");
        assert_eq!(
            answer,
            json!({"batchItemFailures": [{"itemIdentifier": poison_seq}]}),
            "only the poisoned record fails"
        );
        let reports = handler.handle_stream(&records).await;
        let failed = serde_json::to_value(&reports[1]).unwrap();
        assert_eq!(failed["outcome"], "failed");
        assert!(failed["error"].as_str().unwrap().contains("not a post"), "{failed}");
        assert_eq!(serde_json::to_value(&reports[0]).unwrap()["outcome"], "scored");

        // The local player: the good one scored, the poisoned one given up after its retries.
        let played = jobmatch_lambda::play(
            &handler,
            &aws.dynamodbstreams(),
            &aws.dynamodb(),
            &names.posts_stream_arn,
            DIMENSIONS,
            &PlayOptions::default(),
        )
        .await
        .expect("play");
        assert_eq!(played.given_up.len(), 1, "{played:?}");
        assert!(played.given_up[0].contains("poison"), "{played:?}");
        assert!(played.scored >= 1, "{played:?}");
        // Played again: from the checkpoint, only what came since (the score items).
        let again = jobmatch_lambda::play(
            &handler,
            &aws.dynamodbstreams(),
            &aws.dynamodb(),
            &names.posts_stream_arn,
            DIMENSIONS,
            &PlayOptions::default(),
        )
        .await
        .expect("play again");
        assert_eq!((again.scored, again.given_up.len()), (0, 0), "{again:?}");

        // Bad input as the stream would bring it: each a clear result, never a panic.
        let image = |post: &mcfcore::Post| -> Value {
            let sdk: std::collections::HashMap<String, AttributeValue> =
                serde_dynamo::aws_sdk_dynamodb_1::to_item(post).expect("item");
            let mut record = aws_sdk_dynamodbstreams::types::StreamRecord::builder()
                .keys(
                    "pk",
                    aws_sdk_dynamodbstreams::types::AttributeValue::S(post.uuid.clone()),
                )
                .keys("sk", aws_sdk_dynamodbstreams::types::AttributeValue::S("POST".into()))
                .sequence_number(format!("9{}", post.uuid.len()));
            for (k, v) in sdk {
                record = record.new_image(k, to_streams(v));
            }
            jobmatch_lambda::local::lambda_record(
                &aws_sdk_dynamodbstreams::types::Record::builder()
                    .event_name(aws_sdk_dynamodbstreams::types::OperationType::Insert)
                    .dynamodb(record.build())
                    .build(),
                "arn:test",
            )
        };
        let mut cases = Vec::new();
        for (n, (title, description)) in [
            ("", None),
            ("数据工程师", None),
            ("தரவு பொறியாளர்", None),
            ("Data Engineer", Some("rust aws ".repeat(115_000))),
        ]
        .into_iter()
        .enumerate()
        {
            let mut post = good.clone();
            post.uuid = format!("{:032x}", n + 1);
            post.title = title.to_string();
            if let Some(d) = description {
                assert!(d.len() > 1_000_000);
                post.description = Some(d);
            }
            cases.push(image(&post));
        }
        let reports = handler.handle_stream(&cases).await;
        for (case, report) in cases.iter().zip(&reports) {
            let r = serde_json::to_value(report).unwrap();
            assert_eq!(
                r["outcome"], "scored",
                "{} → {r}",
                case["dynamodb"]["NewImage"]["title"]
            );
        }
        let store = handler.store();
        let wanted: Vec<(String, String)> = (1..=3).map(|n| (format!("{n:032x}"), "data".to_string())).collect();
        let scores = store.score_records(&wanted).await.expect("read the scores");
        for key in &wanted {
            let score = &scores[key];
            assert_eq!(
                score.title_score, 0.0,
                "{key:?}: a title with no tag scores 0 for its title"
            );
        }
    });
}

fn to_streams(v: AttributeValue) -> aws_sdk_dynamodbstreams::types::AttributeValue {
    use aws_sdk_dynamodbstreams::types::AttributeValue as S;
    match v {
        AttributeValue::S(s) => S::S(s),
        AttributeValue::N(n) => S::N(n),
        AttributeValue::Bool(b) => S::Bool(b),
        AttributeValue::Null(b) => S::Null(b),
        AttributeValue::L(l) => S::L(l.into_iter().map(to_streams).collect()),
        AttributeValue::M(m) => S::M(m.into_iter().map(|(k, v)| (k, to_streams(v))).collect()),
        AttributeValue::Ss(v) => S::Ss(v),
        AttributeValue::Ns(v) => S::Ns(v),
        other => panic!("not in a post: {other:?}"),
    }
}

#[test]
fn every_call_of_the_recommender_is_allowed_by_its_role() {
    let moto = Moto::start();
    let p = Project::copy();
    p.xtask(&moto, &["up", "--env", "local", "--offline"]).ok();
    let aws = Aws::from_sdk(moto.sdk());
    // A changed library (so the rescore refreshes and screens) and a changed post (so the
    // stream has a post record to play).
    let tracks = p.read("config/seed/library/tracks.yaml");
    p.write(
        "config/seed/library/tracks.yaml",
        &tracks.replacen("match_score_min: 0.6", "match_score_min: 0.1", 1),
    );
    rewrite_library(&p, &aws);
    let s = p.session(&moto);
    let day = recommend::parse_day(CAPTURES_DAY).unwrap();
    let recorder = Recorder::new();
    // Boxed: the handler's and the player's futures together overflow a test thread's stack
    // when held on it (a debug build).
    let calls: Vec<Call> = runtime().block_on(Box::pin(async {
        let names = RecommendNames::deployed(&s, &aws).await.expect("outputs");
        let mut post = detail_post();
        post.title = format!("{} (Senior)", post.title);
        post.updated_at = Some("2099-01-01T00:00:00".into());
        PostStore::new(aws.dynamodb(), POSTS)
            .put_if_newer(&post, None)
            .await
            .expect("change a post");
        let function = aws.recording(&recorder, jobmatch_lambda::COMPONENT);
        let handler = recommend::handler(&s, &function, &names, Some(day), None).expect("handler");
        let summary = handler
            .rescore(&Rescore {
                reason: "test".into(),
                weeks: None,
            })
            .await
            .expect("rescore");
        assert!(summary.screened >= 1 && summary.changed >= 1, "{summary:?}");
        let played = recommend::play(&s, &function, &aws, &names, Some(day), None)
            .await
            .expect("play");
        assert!(played.scored >= 1, "{played:?}");
        recorder.calls()
    }));
    for op in [
        "Query",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "UpdateItem",
        "GetRecords",
    ] {
        assert!(
            calls.iter().any(|c| c.operation == op),
            "the recommender's {op}: {calls:#?}"
        );
    }
    runtime().block_on(async {
        let stack = s.plan.get(recommend::STACK).expect("stacks/recommend.yaml");
        let name = s.full_name(stack);
        let cfn = s.cfn(&aws);
        let template = cfn.template(&name).await.expect("the deployed template");
        let deployed = iam::deployed(&cfn, &name).await.expect("the deployed stack");
        let artifacts = iam::artifact_parameters(stack);
        let report = iam::check(&template, &deployed, &artifacts, &calls, None);
        eprintln!("{}", report.text());
        assert!(report.passed(), "{}", report.text());
        // And within the permissions boundary the role gets on AWS (ci/github-oidc-role.yaml).
        let bounded = iam::check(
            &template,
            &deployed,
            &artifacts,
            &calls,
            Some(&boundary("local", &deployed)),
        );
        assert!(bounded.passed(), "the permissions boundary:\n{}", bounded.text());
        let coverage = iam::uncovered(&template, &deployed, &boundary("local", &deployed));
        assert_eq!(coverage.outside, Vec::<String>::new(), "{coverage:#?}");
        let components: Vec<&str> = report.components.iter().map(|c| c.component.as_str()).collect();
        assert_eq!(components, [jobmatch_lambda::COMPONENT]);
        // Granted and not exercised here: the re-read after a lost race (no race in this test),
        // and what the stream mapping does with the role (ListStreams, the DLQ's SendMessage),
        // which makes no call from our code.
        let mut unused = report.unused();
        unused.sort();
        assert_eq!(
            unused,
            [
                "recommend: CrmJobs dynamodb:GetItem",
                "recommend: DescribeFailedBatches sqs:SendMessage",
                "recommend: ListStreams dynamodb:ListStreams",
            ],
            "granted permissions no recorded call used:\n{}",
            report.text()
        );
    });
}

/// The scheduled sync function invokes the recommender with `gsheetui::scheduled::rescore_event`
/// (moto runs neither function): that event must be a rescore the handler accepts.
#[test]
fn the_sync_functions_rescore_event_is_a_rescore_the_recommender_accepts() {
    let event = gsheetui::scheduled::rescore_event("0123456789abcdef");
    let request: Rescore =
        serde_json::from_value(event["rescore"].clone()).expect("the recommender reads the sync's rescore");
    assert!(request.reason.contains("0123456789abcdef"), "{request:?}");
    assert_eq!(request.weeks, None);
    assert_eq!(event.as_object().map(|o| o.len()), Some(1), "{event}");
}
