//! `cargo xtask run apply` end to end, as a user types it: moto with the database stack, the
//! session stored by `cargo xtask mcf session` (the seed cookie export), CRM jobs in
//! `TOAPPLY`, the fake MCF website of `mcffixture`, and Debian's headless Chromium.
//!
//! - a dry run goes to the submit button of every job and submits nothing; its evidence (a
//!   PNG and the page's HTML) is in the bucket, linked from the applications table;
//! - with `--submit`, a confirmed job moves to `APPLIED` with an event by `apply`, the others
//!   keep `TOAPPLY` with their outcome recorded;
//! - never twice: a rerun submits nothing more (an applied job left `TOAPPLY`; a submit MCF did
//!   not confirm, and an attempt left `in_progress` by a crash, are skipped), counted by the
//!   fake site itself;
//! - MCF's login page stops the run at the first job: exit 3, the rest untouched, the session
//!   marked expired in the dimensions table, and the notification topic's message delivered
//!   (read from an SQS queue subscribed to it);
//! - with no `--site` on the emulator, the deployer starts the fake site itself.
//!
//! Where moto stops: no IAM (the apply role's policy is checked against recorded calls in
//! `apply_permissions.rs`); its SNS delivers to SQS, which is what is read here.

use std::time::Duration;

use mcfapply::cdp::find_browser;
use mcffixture::FixtureServer;
use mcffixture::site::Case;
use mcfpipe_e2e::{Moto, Project, runtime};
use mcfstore::applications::ApplicationStore;
use mcfstore::crm::{CrmStore, Event, Job};
use serde_json::Value;

const CRM: &str = "mcfpipe-local-crm";
const APPLICATIONS: &str = "mcfpipe-local-applications";
const DIMENSIONS: &str = "mcfpipe-local-dimensions";

fn browser_or_skip() -> bool {
    match find_browser() {
        Ok(_) => true,
        Err(e) if std::env::var("MCFPIPE_REQUIRE_BROWSER").as_deref() == Ok("1") => {
            panic!("MCFPIPE_REQUIRE_BROWSER=1 and {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: {e}");
            false
        }
    }
}

fn to_apply(uuid: &str, cv: &str) -> (Job, Event) {
    let at = "2026-11-20T01:00:00Z";
    let job = Job {
        uuid: uuid.into(),
        track: "data".into(),
        stage: "TOAPPLY".into(),
        close_reason: None,
        reached: Some("TOAPPLY".into()),
        revision: 1,
        created_at: at.into(),
        updated_at: at.into(),
        stage_at: at.into(),
        deadline: Some("2026-12-20".into()),
        scores: None,
        reasons: None,
        summary: None,
        library_version: None,
        title: format!("Data Engineer {uuid}"),
        company: Some("ACME".into()),
        url: Some(format!(
            "https://www.mycareersfuture.gov.sg/job/information-technology/data-engineer-acme-{uuid}"
        )),
        posted_date: Some("2026-11-18".into()),
        closing_date: Some("2026-12-18".into()),
        salary_min: Some(6000),
        salary_max: Some(9000),
        cv_version: Some(cv.into()),
        notes: None,
        contacts: vec![],
    };
    let event = Event {
        at: at.into(),
        from: None,
        to: "TOAPPLY".into(),
        actor: "user".into(),
        note: None,
        revision: 1,
    };
    (job, event)
}

struct World {
    moto: Moto,
    p: Project,
    aws: mcfstore::Aws,
    bucket: String,
    rt: tokio::runtime::Runtime,
}

impl World {
    fn new() -> World {
        let moto = Moto::start();
        let p = Project::with_stacks(&["database"]);
        p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
        let cookies = p.root().join("config/seed/mcf-cookies.json");
        p.xtask(
            &moto,
            &[
                "mcf",
                "session",
                "--env",
                "local",
                "--cookies",
                cookies.to_str().unwrap(),
            ],
        )
        .ok()
        .contains("stored the MCF session (1 MCF cookie, SSE-KMS)")
        .not_contains("fixture-session");
        let rt = runtime();
        let aws = rt
            .block_on(mcfstore::Aws::connect_to(
                Some(moto.url.clone()),
                Some("ap-southeast-1".into()),
            ))
            .unwrap();
        let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk());
        let out = rt
            .block_on(cfn.describe_stacks().stack_name("mcfpipe-local-database").send())
            .unwrap();
        let bucket = out.stacks()[0]
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some("DataBucketName"))
            .and_then(|o| o.output_value())
            .unwrap()
            .to_string();
        World {
            moto,
            p,
            aws,
            bucket,
            rt,
        }
    }

    fn add(&self, uuid: &str, cv: &str) {
        let (job, event) = to_apply(uuid, cv);
        assert!(
            self.rt
                .block_on(CrmStore::new(self.aws.dynamodb(), CRM).create(&job, &event))
                .unwrap()
        );
    }

    fn job(&self, uuid: &str) -> Job {
        self.rt
            .block_on(CrmStore::new(self.aws.dynamodb(), CRM).get(uuid, "data"))
            .unwrap()
            .unwrap()
    }

    fn status(&self, uuid: &str) -> Option<mcfstore::Application> {
        self.rt
            .block_on(ApplicationStore::new(self.aws.dynamodb(), APPLICATIONS).latest(uuid))
            .unwrap()
    }

    fn object(&self, key: &str) -> Vec<u8> {
        let out = self
            .rt
            .block_on(self.aws.s3().get_object().bucket(&self.bucket).key(key).send())
            .unwrap_or_else(|e| panic!("s3://{}/{key}: {e:?}", self.bucket));
        self.rt.block_on(out.body.collect()).unwrap().into_bytes().to_vec()
    }

    fn apply(&self, site: &FixtureServer, extra: &[&str]) -> mcfpipe_e2e::Run {
        let mut args = vec!["run", "apply", "--env", "local", "--site", site.url(), "--pause", "0"];
        args.extend_from_slice(extra);
        self.p.xtask(&self.moto, &args)
    }
}

fn result_doc(run: &mcfpipe_e2e::Run) -> Value {
    run.json_lines()
        .into_iter()
        .rev()
        .find(|l| l["event"] == "result")
        .expect("a result line")
}

#[test]
fn a_dry_run_then_a_submit_apply_once_and_record_every_attempt() {
    if !browser_or_skip() {
        return;
    }
    let w = World::new();
    let site = FixtureServer::default_on_free_port().unwrap();
    site.site(|s| {
        s.cases.insert("closed".into(), Case::Closed);
        s.cases.insert("questions".into(), Case::Questionnaire);
        s.cases.insert("unconfirmed".into(), Case::NoConfirmation);
    });
    for uuid in ["normal", "closed", "questions", "unconfirmed", "crashed"] {
        w.add(uuid, "11.4");
    }
    w.add("nocv", "12.0");
    // A job without its own CV version sends its track's (the starter library's `data` track:
    // `data-1.0`), which one of the fake site's resume cards holds.
    let (tables, version) = xtask::workflow::library::file_items(&w.p.root().join("config/seed/library")).unwrap();
    w.rt.block_on(mcfstore::LibraryStore::new(w.aws.dynamodb(), DIMENSIONS).replace(&tables, &version, None))
        .unwrap();
    let (mut trackcv, created) = to_apply("trackcv", "");
    trackcv.cv_version = None;
    assert!(
        w.rt.block_on(CrmStore::new(w.aws.dynamodb(), CRM).create(&trackcv, &created))
            .unwrap()
    );
    // The session check, as the daily function does it, from the deployer.
    w.p.xtask(&w.moto, &["mcf", "check", "--env", "local", "--site", site.url()])
        .ok()
        .contains("the MCF session is valid")
        .contains("signed in");
    let state =
        w.rt.block_on(mcfstore::mcf_session::read(&w.aws.dynamodb(), DIMENSIONS))
            .unwrap()
            .expect("the session's state");
    assert_eq!(
        (state.state.as_str(), state.valid_until.as_deref()),
        ("valid", Some("2100-01-01T00:00:00Z"))
    );

    // A dry run: every job as far as it goes, nothing submitted.
    w.apply(&site, &[])
        .ok()
        .contains("dry run")
        .contains("dry_run_ok")
        .contains("07_post_closed")
        .contains("02_questionnaire")
        .contains("06_cv_not_found")
        .contains("7 job(s) in TOAPPLY, 7 attempted, 0 applied, 0 skipped");
    for uuid in [
        "normal",
        "closed",
        "questions",
        "unconfirmed",
        "crashed",
        "nocv",
        "trackcv",
    ] {
        assert_eq!(site.submits(uuid), 0, "{uuid}: a dry run submits nothing");
        assert_eq!(w.job(uuid).stage, "TOAPPLY");
    }
    let dry = w.status("normal").expect("the dry run's STATUS");
    assert_eq!((dry.outcome.as_str(), dry.dry_run), ("dry_run_ok", true));
    assert_eq!(dry.by.as_deref(), Some("xtask"));
    let png = w.object(dry.evidence_png.as_deref().expect("a screenshot key"));
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let html = String::from_utf8(w.object(dry.evidence_html.as_deref().expect("an HTML key"))).unwrap();
    assert!(
        html.contains("job-application-review__submit-button"),
        "the review page: {html}"
    );

    // A crash after a claim: the job's STATUS says in_progress; no run passes it.
    let mut stuck = dry.clone();
    stuck.uuid = "crashed".into();
    stuck.started_at = "2026-11-29T00:00:00Z".into();
    stuck.dry_run = false;
    assert!(
        w.rt.block_on(ApplicationStore::new(w.aws.dynamodb(), APPLICATIONS).claim(&stuck))
            .unwrap()
    );

    // Submit.
    let run = w.apply(&site, &["--submit", "--output", "json"]);
    run.ok();
    let doc = result_doc(&run);
    let outcomes = &doc["apply"]["outcomes"];
    assert_eq!(outcomes["01_applied"], 2, "normal and trackcv: {doc}");
    assert_eq!(outcomes["08_submitted_unconfirmed"], 1, "{doc}");
    assert_eq!(outcomes["07_post_closed"], 1, "{doc}");
    assert_eq!(outcomes["02_questionnaire"], 1, "{doc}");
    assert_eq!(outcomes["06_cv_not_found"], 1, "{doc}");
    assert_eq!(doc["apply"]["skipped"], 1, "the crashed attempt: {doc}");
    let normal = w.job("normal");
    assert_eq!(normal.stage, "APPLIED");
    assert_eq!(normal.revision, 2);
    let events =
        w.rt.block_on(CrmStore::new(w.aws.dynamodb(), CRM).events("normal", "data"))
            .unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.from.as_deref(), last.to.as_str(), last.actor.as_str()),
        (Some("TOAPPLY"), "APPLIED", "apply")
    );
    let by_track = w.status("trackcv").unwrap();
    assert_eq!(
        (by_track.outcome.as_str(), by_track.cv_version.as_deref()),
        ("01_applied", Some("data-1.0"))
    );
    site.site(|s| assert_eq!(s.chosen.get("trackcv").map(String::as_str), Some("Resume data-1.0.pdf")));
    let applied = w.status("normal").unwrap();
    assert_eq!((applied.outcome.as_str(), applied.dry_run), ("01_applied", false));
    for uuid in ["closed", "questions", "unconfirmed", "nocv", "crashed"] {
        assert_eq!(w.job(uuid).stage, "TOAPPLY", "{uuid} keeps TOAPPLY");
    }
    assert_eq!(w.status("closed").unwrap().outcome, "07_post_closed");
    assert_eq!(w.status("crashed").unwrap().outcome, "in_progress");
    let attempts =
        w.rt.block_on(ApplicationStore::new(w.aws.dynamodb(), APPLICATIONS).attempts("normal"))
            .unwrap();
    assert_eq!(
        attempts.iter().map(|a| a.outcome.as_str()).collect::<Vec<_>>(),
        ["dry_run_ok", "01_applied"]
    );
    assert_eq!((site.submits("normal"), site.submits("unconfirmed")), (1, 1));

    // Never twice: a rerun submits nothing more.
    w.apply(&site, &["--submit"])
        .ok()
        .contains("submitted at")
        .contains("never ended");
    assert_eq!(
        (
            site.submits("normal"),
            site.submits("unconfirmed"),
            site.submits("crashed")
        ),
        (1, 1, 0)
    );
    // Only one job: a questionnaire, tried again on its own.
    w.apply(&site, &["--submit", "--job", "questions~data"])
        .ok()
        .contains("1 job(s) in TOAPPLY, 1 attempted");
}

#[test]
fn the_login_page_stops_the_run_marks_the_session_expired_and_tells_the_user() {
    if !browser_or_skip() {
        return;
    }
    let w = World::new();
    // The topic's messages, delivered to a queue.
    let sns = aws_sdk_sns::Client::new(&w.moto.sdk());
    let sqs = aws_sdk_sqs::Client::new(&w.moto.sdk());
    let cfn = aws_sdk_cloudformation::Client::new(&w.moto.sdk());
    let out =
        w.rt.block_on(cfn.describe_stacks().stack_name("mcfpipe-local-database").send())
            .unwrap();
    let topic = out.stacks()[0]
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("AlertTopicArn"))
        .and_then(|o| o.output_value())
        .expect("the database stack's AlertTopicArn")
        .to_string();
    let queue =
        w.rt.block_on(sqs.create_queue().queue_name("alerts-read-by-test").send())
            .unwrap()
            .queue_url()
            .unwrap()
            .to_string();
    let queue_arn =
        w.rt.block_on(
            sqs.get_queue_attributes()
                .queue_url(&queue)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .send(),
        )
        .unwrap()
        .attributes()
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
            .clone();
    w.rt.block_on(
        sns.subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint(&queue_arn)
            .attributes("RawMessageDelivery", "true")
            .send(),
    )
    .unwrap();

    let site = FixtureServer::default_on_free_port().unwrap();
    // MCF no longer takes the stored cookie.
    site.site(|s| s.cookie.1 = "rotated".into());
    w.add("first", "11.4");
    w.add("second", "11.4");
    // The check finds out first, and tells (once: the run below finds the same state).
    w.p.xtask(&w.moto, &["mcf", "check", "--env", "local", "--site", site.url()])
        .expect_code(3)
        .contains("the MCF session is expired")
        .contains("sent the login page");
    w.apply(&site, &["--submit"])
        .expect_code(3)
        .contains("09_session_expired")
        .contains("the run stopped; the rest stay TOAPPLY")
        .contains("cargo xtask mcf session --env local --cookies FILE");
    let first = w.status("first").unwrap();
    assert_eq!(first.outcome, "09_session_expired");
    assert!(first.evidence_png.is_some(), "the login page's screenshot");
    assert_eq!(w.status("second"), None, "the second job is not tried");
    assert_eq!(
        (w.job("first").stage.as_str(), w.job("second").stage.as_str()),
        ("TOAPPLY", "TOAPPLY")
    );

    let state =
        w.rt.block_on(mcfstore::mcf_session::read(&w.aws.dynamodb(), DIMENSIONS))
            .unwrap()
            .expect("the session's state");
    assert_eq!(state.state, "expired");
    assert_eq!(state.checked_by, "xtask");
    assert!(state.notified_at.is_some(), "{state:?}");
    let mut bodies = Vec::new();
    for _ in 0..20 {
        let got =
            w.rt.block_on(
                sqs.receive_message()
                    .queue_url(&queue)
                    .max_number_of_messages(10)
                    .send(),
            )
            .unwrap();
        bodies.extend(got.messages().iter().filter_map(|m| m.body().map(str::to_string)));
        if !bodies.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(bodies.len(), 1, "one notification: {bodies:?}");
    assert!(
        bodies[0].contains("cargo xtask mcf session --env local"),
        "{}",
        bodies[0]
    );
    assert!(
        !bodies[0].contains("rotated") && !bodies[0].contains("fixture-session"),
        "no cookie in it"
    );
}

#[test]
fn on_the_emulator_the_deployer_starts_the_fake_site_itself() {
    if !browser_or_skip() {
        return;
    }
    let w = World::new();
    w.add("5624187c437fddd00296eecc783ed4cd", "11.4");
    w.p.xtask(&w.moto, &["run", "apply", "--env", "local", "--pause", "0"])
        .ok()
        .contains("the fake one of mcffixture")
        .contains("dry_run_ok")
        .contains("1 job(s) in TOAPPLY, 1 attempted");
}

/// The apply benchmark's peer (bench/apply_playwright.py, the original's flow in Playwright for
/// Python) ends the same cases in the same outcomes as `mcfapply` against the same fake site,
/// so that `cargo xtask bench apply` compares like with like. Needs the Playwright virtualenv
/// `.ci/run` makes (MCFPIPE_PLAYWRIGHT_PYTHON); skipped without it unless
/// MCFPIPE_REQUIRE_BROWSER=1.
#[test]
fn the_benchmarks_playwright_peer_ends_each_case_as_ours_does() {
    if !browser_or_skip() {
        return;
    }
    let python = match std::env::var("MCFPIPE_PLAYWRIGHT_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ if std::env::var("MCFPIPE_REQUIRE_BROWSER").as_deref() == Ok("1") => {
            panic!("MCFPIPE_REQUIRE_BROWSER=1 and MCFPIPE_PLAYWRIGHT_PYTHON is not set (.ci/run sets it)")
        }
        _ => {
            eprintln!("SKIPPED: MCFPIPE_PLAYWRIGHT_PYTHON is not set");
            return;
        }
    };
    let site = FixtureServer::default_on_free_port().unwrap();
    site.site(|s| {
        s.cases.insert("closed".into(), Case::Closed);
        s.cases.insert("questions".into(), Case::Questionnaire);
        s.cases.insert("already".into(), Case::AlreadyApplied);
    });
    let dir = tempfile::tempdir().unwrap();
    let jobs = dir.path().join("jobs.json");
    let list: Vec<Value> = [
        ("normal", "11.4"),
        ("closed", "11.4"),
        ("questions", "11.4"),
        ("already", "11.4"),
        ("nocv", "12.0"),
    ]
    .iter()
    .map(|(u, cv)| serde_json::json!({"uuid": u, "url": to_apply(u, cv).0.url, "cv_version": cv}))
    .collect();
    std::fs::write(&jobs, serde_json::to_vec(&list).unwrap()).unwrap();
    let out = std::process::Command::new(&python)
        .arg(mcfpipe_e2e::repo_root().join("bench/apply_playwright.py"))
        .args(["--site", site.url()])
        .arg("--chromium")
        .arg(find_browser().unwrap())
        .arg("--jobs")
        .arg(&jobs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcomes: Vec<&str> = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "dry_run_ok",
            "07_post_closed",
            "02_questionnaire",
            "01_applied",
            "06_cv_not_found"
        ],
        "the same outcomes as mcfapply's flow (runtime/mcfapply/tests/flow.rs) on the same cases"
    );
    assert_eq!(site.submits("normal"), 0, "a dry run");
}
