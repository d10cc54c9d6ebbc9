//! `cargo xtask logs` on moto: the lines the scraper and the parser write while `up` and
//! `run search` run them in this process are shipped to their log groups (which the compute
//! stack created on the emulator) and read back merged by time, per component, filtered,
//! as JSON; a component a new stack adds is found without a change to the command, a group
//! not deployed yet is named with its deploy command, and `--follow` shows what arrives later.
//!
//! moto's `FilterLogEvents` understands only single terms (every word must appear, as a
//! substring) and quoted phrases; any other pattern (JSON `{ $.… }`, `?a ?b`, `-term`, a term
//! starting with a digit) matches every event there. The filter is passed to CloudWatch as is,
//! so these tests use a quoted phrase, which both match the same way.

use std::time::Duration;

use mcffixture::FixtureServer;
use mcfpipe_e2e::{Moto, Project, Run, runtime};
use serde_json::Value;

const SCRAPER_GROUP: &str = "/ecs/mcfpipe-local-mcfscrape";
const PARSER_GROUP: &str = "/aws/lambda/mcfpipe-local-mcfparse";
const RECOMMEND_GROUP: &str = "/aws/lambda/mcfpipe-local-recommend";

fn result(run: &Run) -> Value {
    let last = run.json_lines().pop().unwrap_or_default();
    assert_eq!(last["event"], "result", "last line is the result:\n{}", run.output);
    last
}

/// The `"event": "log"` lines of a `--output json` run.
fn events(run: &Run) -> Vec<Value> {
    run.json_lines().into_iter().filter(|l| l["event"] == "log").collect()
}

fn logs_client(moto: &Moto) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&moto.sdk())
}

fn now_ms() -> i64 {
    mcfcore::log::now_millis()
}

/// Writes `messages` into a stream of `group` with the SDK, stamped now.
fn put(moto: &Moto, group: &str, stream: &str, messages: &[&str]) {
    let client = logs_client(moto);
    runtime().block_on(async {
        let _ = client
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name(stream)
            .send()
            .await;
        let t = now_ms();
        let events = messages
            .iter()
            .map(|m| {
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(t)
                    .message(*m)
                    .build()
                    .expect("event")
            })
            .collect();
        client
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(events))
            .send()
            .await
            .expect("PutLogEvents");
    });
}

#[test]
fn a_local_search_logs_both_components_and_logs_reads_them_merged_by_time() {
    let moto = Moto::start();
    let p = Project::copy();
    p.write(
        "config/seed/search-profiles.yaml",
        "profiles:\n  - name: everything\n    track: any\n",
    );
    let server = FixtureServer::default_on_free_port().expect("fixture server");

    // 1. up: the scraper's and the parser's lines are shipped as they run.
    let up = p.xtask(
        &moto,
        &["up", "--env", "local", "--mcf-url", server.url(), "--output", "json"],
    );
    up.ok();
    let shipped = &result(&up)["search"]["logs"];
    let stream = shipped["stream"].as_str().expect("the run's stream").to_string();
    assert!(stream.starts_with("xtask/"), "{shipped}");
    let groups = shipped["groups"].as_array().expect("groups");
    let of = |component: &str| {
        groups
            .iter()
            .find(|g| g["component"] == component)
            .unwrap_or_else(|| panic!("{component} in {shipped}"))
    };
    assert_eq!(of("mcfscrape")["group"], SCRAPER_GROUP);
    assert_eq!(of("mcfparse")["group"], PARSER_GROUP);
    assert_eq!(of("mcfparse")["shipped"], 100, "one line per record: {shipped}");
    // Started, the profile paged, the summary.
    assert_eq!(of("mcfscrape")["shipped"], 3, "{shipped}");
    assert!(
        groups
            .iter()
            .all(|g| g["lines"] == g["shipped"] && g.get("error").is_none()),
        "{shipped}"
    );

    // 2. A second search: its scraper lines come after the first run's parser lines, so a
    // listing by group (scraper, then parser) would not be in time order.
    let server_url = server.url().to_string();
    let again = p.xtask(&moto, &["run", "search", "--env", "local", "--mcf-url", &server_url]);
    again
        .ok()
        .contains("mcfscrape: run ")
        .contains(&format!("logs       {SCRAPER_GROUP} (3 line(s))"))
        .contains("`cargo xtask logs --env local`");

    // 3. Every component, merged by time.
    let all = p.xtask(&moto, &["logs", "--env", "local", "--output", "json"]);
    all.ok();
    // `up` also played the posts stream through the recommender: one line per stream record
    // in its own group. The scraper's and parser's lines are checked apart from those.
    let (recommender, lines): (Vec<Value>, Vec<Value>) =
        events(&all).into_iter().partition(|l| l["component"] == "recommend");
    assert!(recommender.len() >= 100, "a line per post record: {}", all.output);
    assert!(
        recommender.iter().all(|l| l["group"] == RECOMMEND_GROUP),
        "{}",
        all.output
    );
    assert_eq!(lines.len(), 3 + 100 + 3, "{}", all.output);
    let times: Vec<i64> = lines
        .iter()
        .map(|l| l["timestamp"].as_i64().expect("timestamp"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order: {times:?}");
    let components: Vec<&str> = lines.iter().map(|l| l["component"].as_str().unwrap_or("?")).collect();
    let runs: Vec<(&str, usize)> = components.chunk_by(|a, b| a == b).map(|c| (c[0], c.len())).collect();
    assert_eq!(
        runs,
        [("mcfscrape", 3), ("mcfparse", 100), ("mcfscrape", 3)],
        "the first run, its parse, the second run"
    );
    for line in &lines {
        assert!(
            line["group"] == SCRAPER_GROUP || line["group"] == PARSER_GROUP,
            "{line}"
        );
        assert!(
            line["stream"].as_str().is_some_and(|s| s.starts_with("xtask/")),
            "{line}"
        );
        assert!(line["id"].as_str().is_some_and(|s| !s.is_empty()), "{line}");
        // Messages are parsed JSON log lines in the one format.
        let m = &line["message"];
        for key in ["time", "level", "component", "message"] {
            assert!(m[key].is_string(), "{key} in {line}");
        }
        assert_eq!(m["component"], line["component"]);
    }
    assert_eq!(lines[0]["stream"], stream.as_str());
    assert!(
        lines[0]["message"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("started"),
        "{}",
        lines[0]
    );
    let first_summary = &lines[2]["message"];
    assert_eq!(
        (&first_summary["outcome"], &first_summary["fetched"]),
        (&"completed".into(), &100.into())
    );
    let record = &lines[3]["message"];
    assert_eq!(
        (&record["level"], &record["outcome"], &record["put"]),
        (&"info".into(), &"stored".into(), &"inserted".into())
    );
    let r = result(&all);
    assert_eq!(r["events"], 106 + recommender.len());
    // The scraper's, the parser's, the recommender's, and the config sync function's, the
    // CRM's, the apply task's and the session check's (empty: nothing ran them).
    assert_eq!(r["groups"].as_array().map(Vec::len), Some(7));

    // 4. Text: `time component level message key=value…`.
    let text = p.xtask(&moto, &["logs", "--env", "local"]);
    text.ok();
    let uuid = record["uuid"].as_str().expect("a record's uuid").to_string();
    let line = text
        .output
        .lines()
        .find(|l| l.contains(&format!("post {uuid} inserted")))
        .unwrap_or_else(|| panic!("the record's line in:\n{}", text.output));
    let parts: Vec<&str> = line.split_whitespace().collect();
    assert!(
        mcfcore::time::unix_millis(parts[0]).is_ok() && parts[0].ends_with('Z'),
        "{line}"
    );
    assert_eq!(parts[1..5], ["mcfparse", "info", "post", &uuid], "{line}");
    assert!(
        line.contains(&format!(" uuid={uuid} ")) && line.contains(" outcome=stored put=inserted"),
        "{line}"
    );
    assert!(text.output.contains(" mcfscrape info  run "), "{}", text.output);

    // 5. One component only.
    let parser = p.xtask(&moto, &["logs", "mcfparse", "--env", "local", "--output", "json"]);
    let parser_lines = events(parser.ok());
    assert_eq!(parser_lines.len(), 100);
    assert!(parser_lines.iter().all(|l| l["group"] == PARSER_GROUP));

    // 6. A filter pattern narrows to the one post.
    let quoted = format!("\"{uuid}\"");
    let filtered = p.xtask(
        &moto,
        &["logs", "--env", "local", "--filter", &quoted, "--output", "json"],
    );
    // The parser's line of the post, and the recommender's.
    let (found, scored): (Vec<Value>, Vec<Value>) = events(filtered.ok())
        .into_iter()
        .partition(|l| l["component"] == "mcfparse");
    assert_eq!((found.len(), scored.len()), (1, 1), "{}", filtered.output);
    assert_eq!(found[0]["message"]["uuid"], uuid.as_str());

    // 7. Nothing since a time to come: exit 0, and it says so.
    p.xtask(&moto, &["logs", "--env", "local", "--since", "2099-01-01"])
        .ok()
        .contains("no log events since 2099-01-01T00:00:00.000Z");
    let none = p.xtask(
        &moto,
        &["logs", "--env", "local", "--since", "2099-01-01", "--output", "json"],
    );
    assert_eq!(result(none.ok())["events"], 0);

    // 8. An unknown component names the known ones; a bad --since says what it takes.
    p.xtask(&moto, &["logs", "alerts", "--env", "local"])
        .expect_code(1)
        .contains(
            "unknown component `alerts`: the components of local with logs are crm, mcfapply, mcfparse, mcfscrape, recommend, session, sync",
        );
    p.xtask(&moto, &["logs", "--env", "local", "--since", "yesterday"])
        .expect_code(1)
        .contains("--since `yesterday` is neither a duration");
}

/// A stack of a component that does not exist yet: one log group, nothing else.
fn add_component_stack(p: &Project) {
    p.write(
        "stacks/crm.yaml",
        "layer: compute\ntemplate: crm.yaml.j2\nparameters: {}\n",
    );
    p.write(
        "templates/crm.yaml.j2",
        "Resources:\n  ApiLogGroup:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: {{ ('/aws/lambda/' ~ name('crm-api')) | tojson }}\n      RetentionInDays: 1\n      Tags: {{ tags() | tojson }}\n",
    );
}

#[test]
fn a_new_component_is_found_named_when_missing_and_followed() {
    const GROUP: &str = "/aws/lambda/mcfpipe-local-crm-api";
    let moto = Moto::start();
    let p = Project::with_stacks(&[]);
    add_component_stack(&p);

    // Declared but not deployed: named, with the command that creates it.
    p.xtask(&moto, &["logs", "--env", "local"]).expect_code(1).contains(&format!(
        "log group {GROUP} (crm-api) is not deployed: stack crm does not have it yet; run `cargo xtask deploy crm --env local`"
    ));

    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    p.xtask(&moto, &["logs", "crm-api", "--env", "local"])
        .ok()
        .contains("no log events since");

    // Lines of any shape: ours, and what the Lambda runtime prints itself.
    put(
        &moto,
        GROUP,
        "2026/01/01/[$LATEST]abc",
        &[
            r#"{"time":"2026-01-01T00:00:00.000Z","level":"error","component":"crm-api","message":"sheet unreadable","sheet":"Leads"}"#,
            "REPORT RequestId: 1\tDuration: 2.0 ms",
        ],
    );
    let shown = p.xtask(&moto, &["logs", "crm-api", "--env", "local"]);
    shown.ok().contains(" crm-api error sheet unreadable sheet=Leads");
    let raw = shown
        .output
        .lines()
        .find(|l| l.contains("REPORT RequestId"))
        .unwrap_or_else(|| panic!("the runtime's line in:\n{}", shown.output));
    assert!(
        raw.ends_with(" crm-api       REPORT RequestId: 1\tDuration: 2.0 ms"),
        "as it is: {raw:?}"
    );

    // --follow shows what arrives while it runs, each event once however often it polls.
    let follow = std::thread::scope(|scope| {
        let following = scope.spawn(|| {
            p.xtask(
                &moto,
                &[
                    "logs",
                    "crm-api",
                    "--env",
                    "local",
                    "--follow-for",
                    "6s",
                    "--output",
                    "json",
                ],
            )
        });
        std::thread::sleep(Duration::from_secs(3));
        put(&moto, GROUP, "later", &["arrived while following"]);
        following.join().expect("the follow ends")
    });
    follow.ok();
    let messages: Vec<Value> = events(&follow).iter().map(|l| l["message"].clone()).collect();
    assert_eq!(
        messages.len(),
        3,
        "the two earlier events and the new one, once each: {}",
        follow.output
    );
    assert_eq!(messages[2], "arrived while following");
    // Found by a poll, not by the first read (which a slow start could have let it into).
    let lines = follow.json_lines();
    let at = |f: &dyn Fn(&Value) -> bool| lines.iter().position(f).unwrap_or(usize::MAX);
    let following = at(&|l| l["event"] == "info" && l["message"] == "following for 6 s");
    let late = at(&|l| l["message"] == "arrived while following");
    assert!(following < late && late < lines.len(), "{}", follow.output);
    let r = result(&follow);
    assert_eq!((&r["follow"], &r["events"]), (&true.into(), &3.into()));
}
