//! Config sync end to end on moto: `cargo xtask sync` from the starter library's files and
//! from a Google workbook (the fake Google of `gsheetfixture`, the key stored in SSM by
//! `sync key`), into the deployed dimensions table.
//!
//! Checked through DynamoDB itself: the library items (`pk = library`, one per table, and
//! `sk = VERSION`), compared whole before and after a sync that must write nothing (a second
//! sync, a dry run, an invalid file, each of Google's error answers).
//!
//! Where moto stops: nothing here needs more than it does (DynamoDB transactions with
//! conditions, SSM SecureString with its default key).

use std::collections::BTreeMap;

use gsheetfixture::{CLIENT_EMAIL, FakeGoogle, Fault, Tab, Workbook};
use mcfpipe_e2e::{Moto, Project, Run, runtime};
use serde_json::Value;

const DIMENSIONS: &str = "mcfpipe-local-dimensions";
const WB: &str = "1TestWorkbookId_sync";

fn result(run: &Run) -> Value {
    let lines = run.json_lines();
    let last = lines.last().cloned().unwrap_or_default();
    assert_eq!(last["event"], "result", "last line is the result:\n{}", run.output);
    last
}

/// Every library item, as text, by sort key: equal snapshots mean nothing was written.
fn library(moto: &Moto) -> BTreeMap<String, BTreeMap<String, String>> {
    let ddb = aws_sdk_dynamodb::Client::new(&moto.sdk());
    runtime().block_on(async {
        let page = ddb
            .query()
            .table_name(DIMENSIONS)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S("library".into()))
            .send()
            .await
            .expect("query the library");
        page.items()
            .iter()
            .map(|item| {
                let sk = item["sk"].as_s().unwrap().clone();
                let attrs = item
                    .iter()
                    .map(|(k, v)| {
                        let text = v
                            .as_s()
                            .or_else(|_| v.as_n())
                            .cloned()
                            .unwrap_or_else(|_| format!("{v:?}"));
                        (k.clone(), text)
                    })
                    .collect();
                (sk, attrs)
            })
            .collect()
    })
}

fn deployed() -> (Moto, Project) {
    let moto = Moto::start();
    let p = Project::data_layers();
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    (moto, p)
}

fn sync(p: &Project, moto: &Moto, extra: &[&str]) -> Run {
    let mut args = vec!["sync", "--env", "local"];
    args.extend_from_slice(extra);
    p.xtask(moto, &args)
}

fn table_of<'a>(result: &'a Value, name: &str) -> &'a Value {
    result["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == name)
        .unwrap_or_else(|| panic!("table {name} in {result}"))
}

#[test]
fn files_sync_writes_every_table_then_only_what_changed_and_nothing_when_invalid() {
    let (moto, p) = deployed();

    // First sync: every table and the version.
    let first = sync(&p, &moto, &[]);
    first
        .ok()
        .contains("TABLE")
        .contains("title_tags")
        .contains("library updated: version none →")
        .contains("7 table(s) written");
    let stored = library(&moto);
    let tables = [
        "config",
        "junk_tags",
        "keep_tags",
        "keyword_tags",
        "rank_tags",
        "title_tags",
        "tracks",
    ];
    for t in tables {
        let item = &stored[t];
        let rows: Vec<Value> = serde_json::from_str(&item["rows"]).unwrap();
        assert_eq!(item["row_count"], rows.len().to_string(), "{t}");
        assert_eq!(item["source"], format!("file:config/seed/library/{t}.yaml"));
        assert_eq!(item["sha256"].len(), 64);
    }
    let version = stored["VERSION"]["version"].clone();
    assert_eq!(version.len(), 16);
    // The version is the documented hash over the tables' sha256 in table-name order.
    let joined: String = tables.iter().map(|t| stored[*t]["sha256"].clone()).collect();
    let expected = gsheetui::core::diff::sha256_hex(&joined)[..16].to_string();
    assert_eq!(version, expected);

    // Second sync: nothing written, said so.
    let before = library(&moto);
    sync(&p, &moto, &[])
        .ok()
        .contains(&format!("library unchanged (version {version})"));
    assert_eq!(library(&moto), before, "an unchanged library writes nothing");

    // An edit of one file: a dry run reports it and writes nothing.
    let path = "config/seed/library/rank_tags.yaml";
    let original = p.read(path);
    assert!(original.contains("- {tag: junior, weight: 0.07}"), "{original}");
    let edited = original
        .replace("- {tag: junior, weight: 0.07}", "- {tag: junior, weight: 0.1}")
        .replace("- {tag: assistant, weight: -0.23}\n", "")
        + "- {tag: staff, weight: 0.4}\n";
    p.write(path, &edited);
    let dry = sync(&p, &moto, &["--dry-run", "--output", "json"]);
    dry.ok();
    let r = result(&dry);
    assert_eq!(r["written"], false);
    assert_eq!(r["changed"], true);
    assert_eq!(r["tables_written"], serde_json::json!(["rank_tags"]));
    assert_eq!(library(&moto), before, "a dry run writes nothing");
    sync(&p, &moto, &["--dry-run"])
        .ok()
        .contains("dry run: would write 1 table(s)");

    // The sync itself: only rank_tags and the version change.
    let run = sync(&p, &moto, &["--output", "json"]);
    run.ok();
    let r = result(&run);
    assert_eq!(r["written"], true);
    // The sync rescored with the new library (in this process: the emulator runs no Lambda
    // code), so no rescore is left due. The posts table is empty here: nothing to score.
    assert_eq!(r["rescore_due"], false, "{r}");
    assert_eq!(r["rescore"]["posts"], 0, "{r}");
    assert_eq!(r["rescore"]["library_version"], r["version"], "{r}");
    assert_eq!(r["version_before"], version.as_str());
    let rank = table_of(&r, "rank_tags");
    assert_eq!(rank["added"], serde_json::json!(["staff"]));
    assert_eq!(rank["changed"], serde_json::json!(["junior"]));
    assert_eq!(rank["removed"], serde_json::json!(["assistant"]));
    for t in tables.iter().filter(|t| **t != "rank_tags") {
        let d = table_of(&r, t);
        assert!(d["added"].as_array().unwrap().is_empty() && d["changed"].as_array().unwrap().is_empty());
    }
    let after = library(&moto);
    for t in tables.iter().filter(|t| **t != "rank_tags") {
        assert_eq!(after[*t], before[*t], "{t} untouched");
    }
    assert_ne!(after["rank_tags"], before["rank_tags"]);
    assert_ne!(after["VERSION"]["version"], version);
    // The text report names the rows.
    p.write(path, &original);
    sync(&p, &moto, &[])
        .ok()
        .contains("rank_tags: + assistant; ~ junior; - staff")
        .contains(&format!(
            "library updated: version {} → {version}",
            after["VERSION"]["version"]
        ));
    assert_eq!(
        library(&moto)["VERSION"]["version"],
        version,
        "back to the first version"
    );

    // Invalid files: every error with its file and line; nothing written.
    let before = library(&moto);
    let title = "config/seed/library/title_tags.yaml";
    let good_title = p.read(title);
    p.write(
        title,
        &(good_title.clone()
            + "- {tag: software engineer, score: -1}\n- {tag: the and, score: 1}\n- {tag: data platform, score: high}\n"),
    );
    let n = good_title.lines().count();
    let bad = sync(&p, &moto, &[]);
    bad.expect_code(1)
        .contains(&format!(
            "config/seed/library/title_tags.yaml:{}: score: `software engineer` for every track is -1 here and 1 in line",
            n + 1
        ))
        .contains(&format!("config/seed/library/title_tags.yaml:{}: tag: `the and` is only stop words", n + 2))
        .contains(&format!("config/seed/library/title_tags.yaml:{}: score \"high\" is not a number", n + 3))
        .contains("has 3 errors: nothing was written");
    assert_eq!(library(&moto), before, "an invalid library writes nothing");
    let json = sync(&p, &moto, &["--output", "json"]);
    let r = result(&json);
    assert_eq!(r["ok"], false);
    assert_eq!(r["errors"].as_array().unwrap().len(), 3);
    // Files are checked before any AWS call: an environment that is not deployed still hears
    // about the bad rows (and nothing else).
    let nowhere = p.xtask_at("http://127.0.0.1:9", &["sync", "--env", "local"]);
    nowhere
        .expect_code(1)
        .contains("score \"high\" is not a number")
        .not_contains("127.0.0.1:9");
    p.write(title, &good_title);

    // Another folder, in CSV: a missing table file is named.
    let dir = tempfile::tempdir().unwrap();
    for t in tables {
        std::fs::copy(
            p.root().join(format!("config/seed/library/{t}.yaml")),
            dir.path().join(format!("{t}.yaml")),
        )
        .unwrap();
    }
    std::fs::remove_file(dir.path().join("junk_tags.yaml")).unwrap();
    std::fs::write(dir.path().join("junk_tags.csv"), "tag\nsingapore\napac\n").unwrap();
    let shown = dir.path().display().to_string();
    let run = sync(&p, &moto, &["--from", &shown, "--output", "json"]);
    run.ok();
    let r = result(&run);
    assert_eq!(r["tables_written"], serde_json::json!(["junk_tags"]));
    assert_eq!(
        library(&moto)["junk_tags"]["source"],
        format!("file:{shown}/junk_tags.csv")
    );
    std::fs::remove_file(dir.path().join("keep_tags.yaml")).unwrap();
    let before = library(&moto);
    sync(&p, &moto, &["--from", &shown])
        .expect_code(1)
        .contains("no keep_tags.yaml or keep_tags.csv");
    assert_eq!(library(&moto), before);
}

/// The starter library as a workbook, one tab per table.
fn starter_workbook(p: &Project) -> Workbook {
    let (tables, problems) = gsheetui::files::read_dir(&p.root().join("config/seed/library"), "config/seed/library");
    let loaded = gsheetui::core::load::load(&tables, problems);
    assert!(!loaded.has_errors());
    Workbook::new(
        loaded
            .tables
            .iter()
            .map(|t| {
                (
                    t.table.name().to_string(),
                    Tab {
                        values: gsheetui::core::sheet::values(t.table, &t.rows),
                        merges: Vec::new(),
                    },
                )
            })
            .collect(),
    )
}

#[test]
fn sheets_sync_reads_the_workbook_with_the_key_from_ssm_and_each_google_error_writes_nothing() {
    let (moto, p) = deployed();
    let google = FakeGoogle::start().unwrap();
    google.put_workbook(WB, starter_workbook(&p));
    let local = p.read("config/local.yaml");
    assert!(local.contains("\nsync:\n"));
    p.write(
        "config/local.yaml",
        &local.replacen(
            "\nsync:\n",
            &format!("\nsync:\n  workbook_id: {WB}\n  sheets_url: {}\n", google.url()),
            1,
        ),
    );

    // No key yet: said how to store one.
    sync(&p, &moto, &["--from", "sheets"])
        .expect_code(1)
        .contains("SSM parameter /mcfpipe/local/google-service-account does not exist")
        .contains("cargo xtask sync key");

    // `sync key` stores it as a SecureString, never printing it.
    let keyfile = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(keyfile.path(), google.key_json()).unwrap();
    let stored = p.xtask(
        &moto,
        &[
            "sync",
            "key",
            "--env",
            "local",
            "--file",
            &keyfile.path().display().to_string(),
        ],
    );
    stored
        .ok()
        .contains(&format!("stored the service-account key of {CLIENT_EMAIL}"))
        .contains("/mcfpipe/local/google-service-account")
        .not_contains("PRIVATE KEY")
        .not_contains("MII");
    let ssm = aws_sdk_ssm::Client::new(&moto.sdk());
    let param = runtime()
        .block_on(ssm.get_parameter().name("/mcfpipe/local/google-service-account").send())
        .unwrap();
    let param = param.parameter().unwrap();
    assert_eq!(param.r#type(), Some(&aws_sdk_ssm::types::ParameterType::SecureString));
    // A file that is not a key is refused before anything is stored.
    std::fs::write(keyfile.path(), "{\"type\": \"service_account\"}").unwrap();
    p.xtask(
        &moto,
        &[
            "sync",
            "key",
            "--env",
            "local",
            "--file",
            &keyfile.path().display().to_string(),
        ],
    )
    .expect_code(1)
    .contains("has no client_email");

    // The workbook: every table written, its source the workbook's tab.
    let run = sync(&p, &moto, &["--from", "sheets", "--output", "json"]);
    run.ok();
    let r = result(&run);
    assert_eq!(r["written"], true);
    assert_eq!(r["source"], format!("sheets:{WB}"));
    let stored = library(&moto);
    assert_eq!(stored["title_tags"]["source"], format!("sheets:{WB}#title_tags"));
    assert!(google.token_requests() >= 1);
    // The same rows from the files: the same version, nothing written.
    sync(&p, &moto, &[])
        .ok()
        .contains(&format!("library unchanged (version {})", stored["VERSION"]["version"]));

    // An edit in the workbook: that table only.
    google.edit_workbook(WB, |w| {
        let keep = w.tab_mut("keep_tags").unwrap();
        keep.values.push(vec![Value::from("c++")]);
    });
    let run = sync(&p, &moto, &["--from", "sheets", "--output", "json"]);
    let r = result(&run);
    assert_eq!(r["tables_written"], serde_json::json!(["keep_tags"]), "{}", run.output);
    assert_eq!(table_of(&r, "keep_tags")["added"], serde_json::json!(["c++"]));

    // A bad cell: located in A1 notation, nothing written.
    let before = library(&moto);
    let mut score = Value::Null;
    google.edit_workbook(WB, |w| {
        let title = w.tab_mut("title_tags").unwrap();
        score = std::mem::replace(&mut title.values[13][3], Value::from("high"));
    });
    sync(&p, &moto, &["--from", "sheets"])
        .expect_code(1)
        .contains("title_tags!D14: score \"high\" is not a number");
    assert_eq!(library(&moto), before);
    google.edit_workbook(WB, |w| {
        let title = w.tab_mut("title_tags").unwrap();
        title.values[13][3] = score;
    });

    // Each of Google's error answers: its own message, nothing written.
    let cases: [(Fault, &str); 5] = [
        (Fault::Unauthenticated, "refused the token"),
        (Fault::Forbidden, "is not shared with the service account"),
        (Fault::NotFound, "sync.workbook_id"),
        (Fault::ServerError { times: u32::MAX }, "answered 500"),
        (Fault::Malformed, "not what the API returns"),
    ];
    for (fault, message) in cases {
        google.set_fault(Some(fault));
        sync(&p, &moto, &["--from", "sheets"]).expect_code(1).contains(message);
        assert_eq!(library(&moto), before, "{fault:?} writes nothing");
    }
    google.set_fault(Some(Fault::Forbidden));
    sync(&p, &moto, &["--from", "sheets"])
        .expect_code(1)
        .contains(&format!("add {CLIENT_EMAIL} as a Viewer"));
    // Rate limited once: waited out (Retry-After), then synced.
    google.set_fault(Some(Fault::RateLimited {
        times: 1,
        retry_after: 1,
    }));
    sync(&p, &moto, &["--from", "sheets"])
        .ok()
        .contains("library unchanged");
}

/// The sync function's role, proven against its calls: the stack deployed on moto (with the
/// recommender's function as the rescore function, wired by stacks/sync.yaml), the
/// function's work (`gsheetui::scheduled::run`, what its Lambda runs) run in this process with
/// its calls recorded, and each call checked against the deployed role and the boundary.
///
/// Where moto stops: it runs no Lambda code (the work runs here) and enforces no IAM (the
/// check evaluates the recorded calls itself, docs/permissions.md). Its Invoke of a function
/// it cannot run may fail: the sync logs that as `rescore_failed`, and the call is recorded
/// and checked all the same.
#[test]
fn the_sync_functions_calls_are_allowed_by_its_role_and_the_boundary() {
    use std::sync::Arc;
    use xtask::iam;

    let moto = Moto::start();
    let p = Project::with_stacks(&["database", "artifacts", "recommend", "sync"]);
    // The rescore function is the recommender's, wired through stacks/sync.yaml.
    let rescore_arn = "arn:aws:lambda:ap-southeast-1:123456789012:function:mcfpipe-local-recommend";
    assert!(
        p.read("stacks/sync.yaml")
            .contains("RescoreFunctionArn: {stack_output: recommend.RecommendFunctionArn}")
    );
    p.xtask(&moto, &["deploy", "all", "--env", "local", "--yes"]).ok();
    let google = FakeGoogle::start().unwrap();
    google.put_workbook(WB, starter_workbook(&p));
    let keyfile = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(keyfile.path(), google.key_json()).unwrap();
    p.xtask(
        &moto,
        &[
            "sync",
            "key",
            "--env",
            "local",
            "--file",
            &keyfile.path().display().to_string(),
        ],
    )
    .ok();

    let s = p.session(&moto);
    let recorder = mcfstore::record::Recorder::new();
    let collect = Arc::new(mcfcore::log::Collect::new());
    let log = mcfcore::log::Log::new("sync", collect.clone());
    let (template, deployed, artifacts, calls) = runtime().block_on(async {
        let aws = s.aws().await.unwrap();
        let names = xtask::workflow::DataNames::deployed(&s, &aws).await.unwrap();
        let settings = gsheetui::scheduled::Settings {
            dimensions_table: names.dimensions_table.clone(),
            workbook_id: WB.into(),
            key_parameter: "/mcfpipe/local/google-service-account".into(),
            endpoints_sheets_url: google.url().into(),
            token_url: None,
            rescore_function: Some(rescore_arn.into()),
        };
        let recorded = aws.recording(&recorder, "gsheetui");
        let report = gsheetui::scheduled::run(&recorded, &settings, &log).await.unwrap();
        assert!(report.written);
        // Again: unchanged, nothing written, no rescore.
        let again = gsheetui::scheduled::run(&recorded, &settings, &log).await.unwrap();
        assert!(!again.written);
        let stack = s.plan.get("sync").unwrap();
        let name = s.full_name(stack);
        let cfn = s.cfn(&aws);
        let deployed_rescore = cfn
            .describe(&name)
            .await
            .unwrap()
            .expect("the sync stack")
            .parameters
            .get("RescoreFunctionArn")
            .cloned();
        assert_eq!(
            deployed_rescore.as_deref(),
            Some(rescore_arn),
            "the sync stack's rescore function"
        );
        (
            cfn.template(&name).await.unwrap(),
            iam::deployed(&cfn, &name).await.unwrap(),
            iam::artifact_parameters(stack),
            recorder.calls(),
        )
    });
    let lines = collect.take();
    assert_eq!(lines[0].message, "library updated");
    assert_eq!(lines[1].message, "library unchanged");
    let ops: Vec<&str> = calls.iter().map(|c| c.operation.as_str()).collect();
    for op in ["GetParameter", "Query", "TransactWriteItems", "Invoke"] {
        assert!(ops.contains(&op), "{op} recorded: {ops:?}");
    }
    assert_eq!(
        ops.iter().filter(|o| **o == "Invoke").count(),
        1,
        "a rescore only after a change"
    );

    let report = iam::check(&template, &deployed, &artifacts, &calls, None);
    eprintln!("{}", report.text());
    assert!(report.passed(), "{}", report.text());
    assert_eq!(report.unused(), Vec::<String>::new(), "{}", report.text());

    // The boundary of ci/github-oidc-role.yaml for local allows it too.
    let text = std::fs::read_to_string(mcfpipe_e2e::repo_root().join("ci/github-oidc-role.yaml")).unwrap();
    let ci_template: Value = serde_norway::from_str(&text).unwrap();
    let (id, policy) = ci_template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, r)| r["Type"] == "AWS::IAM::ManagedPolicy")
        .unwrap();
    let ci = iam::Deployed {
        stack: "mcfpipe-github-local".into(),
        parameters: BTreeMap::from([
            ("Project".to_string(), "mcfpipe".to_string()),
            ("Environment".to_string(), "local".to_string()),
        ]),
        ..deployed.clone()
    };
    let boundary = iam::policy_statements(&ci_template, id, &policy["Properties"]["PolicyDocument"], &ci);
    let bounded = iam::check(&template, &deployed, &artifacts, &calls, Some(&boundary));
    assert!(bounded.passed(), "{}", bounded.text());
    let coverage = iam::uncovered(&template, &deployed, &boundary);
    assert_eq!(coverage.outside, Vec::<String>::new(), "{coverage:#?}");
}
