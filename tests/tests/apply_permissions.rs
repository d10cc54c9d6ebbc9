//! The apply task's and the session check's AWS calls, recorded on moto while they run their
//! paths for real, checked against the roles the deployed `apply` stack gives them (moto
//! enforces no IAM: docs/permissions.md) and within the permissions boundary of
//! ci/github-oidc-role.yaml; each statement a call used is needed.
//!
//! The paths: no session stored (S3's 404, which on AWS needs the bucket's listing
//! permission; the state recorded, the user told), a session whose cookies have expired, then a
//! valid one with a CRM job in TOAPPLY, applied once as a dry run (evidence kept, the attempt
//! recorded) and once submitted (claimed, then finished in one transaction with the CRM's move
//! to APPLIED) in a real headless Chromium against the fake MCF website of `mcffixture`; and
//! the session check, missing and then valid against the site's `/dashboard`.
//!
//! The apply run needs a Chromium (`mcfapply::cdp::find_browser`): without one the test says
//! so and passes, unless `MCFPIPE_REQUIRE_BROWSER=1` (CI).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use mcfapply::run::{self, Settings};
use mcfapply::session::{Cookie, SameSite, Session, State};
use mcfcore::log::{Collect, Log};
use mcffixture::FixtureServer;
use mcfpipe_e2e::{Moto, Project, aws_cli, boundary, runtime};
use mcfstore::Aws;
use mcfstore::crm::{CrmStore, Event, Job};
use mcfstore::record::{Call, Recorder};
use serde_json::Value;
use xtask::iam;

const STACK: &str = "apply";
const CRM: &str = "mcfpipe-local-crm";
const APPLICATIONS: &str = "mcfpipe-local-applications";
const DIMENSIONS: &str = "mcfpipe-local-dimensions";
const UUID: &str = "0f4a2c1e9b7d4e6f8a1b2c3d4e5f6a7b";

fn browser_or_skip(test: &str) -> Option<std::path::PathBuf> {
    match mcfapply::cdp::find_browser() {
        Ok(p) => Some(p),
        Err(e) if std::env::var("MCFPIPE_REQUIRE_BROWSER").is_ok_and(|v| v == "1") => {
            panic!("{test}: MCFPIPE_REQUIRE_BROWSER=1 but {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: no browser ({e}): {test}");
            None
        }
    }
}

fn to_apply() -> (Job, Event) {
    let at = "2026-11-20T01:00:00Z";
    let job = Job {
        uuid: UUID.into(),
        track: "data".into(),
        stage: "TOAPPLY".into(),
        close_reason: None,
        reached: None,
        revision: 1,
        created_at: at.into(),
        updated_at: at.into(),
        stage_at: at.into(),
        deadline: Some("2099-01-01".into()),
        scores: None,
        reasons: None,
        summary: None,
        library_version: None,
        title: "Data Engineer".into(),
        company: Some("Acme".into()),
        url: Some(format!(
            "https://www.mycareersfuture.gov.sg/job/engineering/data-engineer-acme-{UUID}"
        )),
        posted_date: Some("2026-11-20".into()),
        closing_date: None,
        salary_min: None,
        salary_max: None,
        cv_version: Some("11.4".into()),
        notes: None,
        contacts: vec![],
    };
    let event = Event {
        at: at.into(),
        from: None,
        to: "TOAPPLY".into(),
        actor: "me".into(),
        note: None,
        revision: 1,
    };
    (job, event)
}

fn session(valid_until: Option<i64>) -> Session {
    Session {
        cookies: vec![Cookie {
            name: "MCF_SESSION".into(),
            value: "fixture-session".into(),
            domain: ".mycareersfuture.gov.sg".into(),
            path: "/".into(),
            secure: true,
            http_only: true,
            same_site: Some(SameSite::Lax),
            expires: valid_until,
        }],
        valid_until,
    }
}

fn outputs(moto: &Moto, stack: &str) -> BTreeMap<String, String> {
    let d = aws_cli(moto, &["cloudformation", "describe-stacks", "--stack-name", stack]);
    d["Stacks"][0]["Outputs"]
        .as_array()
        .expect("the stack's outputs")
        .iter()
        .map(|o| {
            (
                o["OutputKey"].as_str().unwrap().to_string(),
                o["OutputValue"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every path of the task and the check, with the calls recorded under `mcfapply` and
/// `session`.
fn exercise(p: &Project, moto: &Moto, browser: std::path::PathBuf) -> Vec<Call> {
    p.xtask(moto, &["deploy", "all", "--env", "local"]).ok();
    let db = outputs(moto, "mcfpipe-local-database");
    let bucket = db["DataBucketName"].clone();
    let site = FixtureServer::default_on_free_port().expect("the MCF fixture");
    let aws = Aws::from_sdk(moto.sdk());
    let recorder = Recorder::new();
    let settings = |submit: bool| Settings {
        crm_table: CRM.into(),
        applications_table: APPLICATIONS.into(),
        dimensions_table: DIMENSIONS.into(),
        data_bucket: bucket.clone(),
        alert_topic: Some(db["AlertTopicArn"].clone()),
        env: "local".into(),
        flow: mcfapply::flow::Options {
            site: site.url().to_string(),
            submit,
            button_tries: 2,
            button_wait: Duration::from_millis(300),
            ..Default::default()
        },
        pause: Duration::ZERO,
        only: None,
        max_jobs: None,
        by: "test".into(),
        browser: Some(browser.clone()),
        scratch: None,
    };
    let log = Log::new("mcfapply", Arc::new(Collect::new()));
    runtime().block_on(async {
        let task = aws.recording(&recorder, "mcfapply");
        let check = aws.recording(&recorder, "session");
        let store = |s: Session| {
            let aws = &aws;
            let bucket = &bucket;
            async move {
                aws.s3()
                    .put_object()
                    .bucket(bucket)
                    .key("session/mcf.json")
                    .body(ByteStream::from(serde_json::to_vec(&s).unwrap()))
                    .send()
                    .await
                    .expect("store the session");
            }
        };
        let path = mcfapply::check::CHECK_PATH;

        // Nothing stored yet: both say `missing` and tell the user.
        let c = mcfapply::check::check(&check, &settings(false), path, &log)
            .await
            .unwrap();
        assert_eq!(c.state, State::Missing);
        let s = run::run(&task, &settings(false), &log).await.unwrap();
        assert_eq!(s.session, State::Missing, "{s:?}");

        // Cookies past their expiry: the task stops before the browser.
        store(session(Some(1_000_000_000))).await;
        let s = run::run(&task, &settings(false), &log).await.unwrap();
        assert_eq!(s.session, State::Expired, "{s:?}");

        // A valid session: MCF's dashboard answers signed in.
        store(session(None)).await;
        let c = mcfapply::check::check(&check, &settings(false), path, &log)
            .await
            .unwrap();
        assert_eq!(c.state, State::Valid, "{c:?}");

        // A job to apply for: a dry run, then a submit.
        let crm = CrmStore::new(aws.dynamodb(), CRM);
        let (job, event) = to_apply();
        assert!(crm.create(&job, &event).await.unwrap());
        let dry = run::run(&task, &settings(false), &log).await.unwrap();
        assert_eq!(dry.outcomes, BTreeMap::from([("dry_run_ok".to_string(), 1)]), "{dry:?}");
        let submitted = run::run(&task, &settings(true), &log).await.unwrap();
        assert_eq!(submitted.applied, 1, "{submitted:?}");
        assert_eq!(site.submits(UUID), 1);
        let moved = crm.get(UUID, "data").await.unwrap().expect("the job");
        assert_eq!(moved.stage, "APPLIED");
    });
    recorder.calls()
}

#[test]
fn every_call_of_the_apply_task_and_the_session_check_is_allowed_by_its_role() {
    let Some(browser) = browser_or_skip("apply_permissions") else {
        return;
    };
    let moto = Moto::start();
    let p = Project::with_stacks(&["artifacts", "networking", "database", STACK]);
    let calls = exercise(&p, &moto, browser);

    let s = p.session(&moto);
    let stack = s.plan.get(STACK).expect("stacks/apply.yaml");
    let name = s.full_name(stack);
    let (template, deployed) = runtime().block_on(async {
        let aws = s.aws().await.unwrap();
        let cfn = s.cfn(&aws);
        (
            cfn.template(&name).await.expect("the deployed template"),
            iam::deployed(&cfn, &name).await.expect("the deployed stack"),
        )
    });
    let artifacts = iam::artifact_parameters(stack);

    let seen = |component: &str| -> BTreeSet<String> {
        calls
            .iter()
            .filter(|c| c.component == component)
            .map(|c| format!("{} {}", c.service, c.operation))
            .collect()
    };
    for op in [
        "S3 GetObject",
        "S3 PutObject",
        "DynamoDB Query",
        "DynamoDB GetItem",
        "DynamoDB PutItem",
        "DynamoDB TransactWriteItems",
        "SNS Publish",
    ] {
        assert!(seen("mcfapply").contains(op), "{op}: {:?}", seen("mcfapply"));
    }
    for op in ["S3 GetObject", "DynamoDB GetItem", "DynamoDB PutItem", "SNS Publish"] {
        assert!(seen("session").contains(op), "{op}: {:?}", seen("session"));
    }

    let report = iam::check(&template, &deployed, &artifacts, &calls, None);
    eprintln!("{}", report.text());
    assert!(report.passed(), "{}", report.text());
    let mut components: Vec<&str> = report.components.iter().map(|c| c.component.as_str()).collect();
    components.sort();
    assert_eq!(components, ["mcfapply", "session"]);
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

    // Least privilege: every grant is used, but the CRM job's re-read, which only a job
    // edited between the run's read and its move needs (a race the test cannot stage).
    assert_eq!(
        report.unused(),
        ["mcfapply: RereadJob dynamodb:GetItem"],
        "{}",
        report.text()
    );

    // Each statement a recorded call used is needed: without it, the check fails.
    let rendered = s
        .render_with(
            stack,
            &xtask::resolve::DeployedOutputs::new(),
            &xtask::resolve::Artifacts::new(),
            xtask::resolve::Missing::Placeholder,
        )
        .expect("render")
        .template;
    let idle: BTreeSet<(String, String)> = report
        .components
        .iter()
        .flat_map(|c| c.unused.iter().chain(&c.platform))
        .map(|g| (g.sid.clone(), g.action.clone()))
        .collect();
    let mut checked = 0;
    for (sid, actions) in statements(&rendered) {
        if sid.is_empty() || actions.iter().all(|a| idle.contains(&(sid.clone(), a.clone()))) {
            continue;
        }
        let mut without = rendered.clone();
        remove_statement(&mut without, &sid);
        let r = iam::check(&without, &deployed, &artifacts, &calls, None);
        assert!(!r.passed(), "without {sid} the check still passes");
        checked += 1;
    }
    assert!(checked >= 9, "{checked} statements checked");
}

/// Every role statement of `template`: its Sid and actions.
fn statements(template: &Value) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (_, resource) in template["Resources"].as_object().unwrap() {
        if resource["Type"] != "AWS::IAM::Role" {
            continue;
        }
        for policy in resource["Properties"]["Policies"].as_array().into_iter().flatten() {
            for st in policy["PolicyDocument"]["Statement"].as_array().into_iter().flatten() {
                let actions = match &st["Action"] {
                    Value::String(a) => vec![a.clone()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
                    _ => vec![],
                };
                out.push((st["Sid"].as_str().unwrap_or_default().to_string(), actions));
            }
        }
    }
    out
}

/// Removes the policy statement `sid` from every role of `template`.
fn remove_statement(template: &mut Value, sid: &str) {
    for (_, resource) in template["Resources"].as_object_mut().unwrap().iter_mut() {
        if resource["Type"] != "AWS::IAM::Role" {
            continue;
        }
        for policy in resource["Properties"]["Policies"].as_array_mut().into_iter().flatten() {
            if let Some(statements) = policy["PolicyDocument"]["Statement"].as_array_mut() {
                statements.retain(|s| s["Sid"] != sid);
            }
        }
    }
}
