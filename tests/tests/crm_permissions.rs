//! The CRM function's AWS calls, recorded while every route and the daily expiry run on moto,
//! checked against the policy of the role the deployed `crm` stack gives it (moto enforces no
//! IAM, so the check evaluates the recorded calls with IAM's rules: docs/permissions.md), and
//! within the permissions boundary the role gets on AWS. A copy of the stack without one of
//! its statements fails the check.

use jobcrm_lambda::{App, Request, Settings, auth};
use mcffixture::FixtureServer;
use mcfpipe_e2e::{Moto, Project, boundary, runtime};
use mcfstore::crm::{CrmStore, Event, Job};
use mcfstore::record::{Call, Recorder};
use mcfstore::{Aws, LibraryStore};
use serde_json::{Value, json};
use xtask::iam;
use xtask::resolve::{Artifacts, DeployedOutputs, Missing};
use xtask::workflow::library;

const STACK: &str = "crm";
const CRM: &str = "mcfpipe-local-crm";
const DIMENSIONS: &str = "mcfpipe-local-dimensions";
const POSTS: &str = "mcfpipe-local-posts";
const APPLICATIONS: &str = "mcfpipe-local-applications";

fn job(uuid: &str, deadline: &str) -> (Job, Event) {
    let at = "2026-11-20T01:00:00Z";
    let job = Job {
        uuid: uuid.into(),
        track: "data".into(),
        stage: "SCREENED".into(),
        close_reason: None,
        reached: None,
        revision: 1,
        created_at: at.into(),
        updated_at: at.into(),
        stage_at: at.into(),
        deadline: Some(deadline.into()),
        scores: None,
        reasons: None,
        summary: None,
        library_version: None,
        title: "Data Engineer".into(),
        company: None,
        url: None,
        posted_date: Some("2026-11-20".into()),
        closing_date: None,
        salary_min: None,
        salary_max: None,
        cv_version: None,
        notes: None,
        contacts: vec![],
    };
    let event = Event {
        at: at.into(),
        from: None,
        to: "SCREENED".into(),
        actor: "screener".into(),
        note: None,
        revision: 1,
    };
    (job, event)
}

/// Every route and the expiry, with the calls recorded under the component `crm`.
fn exercise(p: &Project, moto: &Moto) -> Vec<Call> {
    p.xtask(moto, &["deploy", "all", "--env", "local"]).ok();
    let aws = Aws::from_sdk(moto.sdk());
    let token = auth::new_token().unwrap();
    let mcf = FixtureServer::default_on_free_port().expect("the MCF fixture");
    let (tables, version) = library::file_items(&p.root().join("config/seed/library")).unwrap();
    let recorder = Recorder::new();
    runtime().block_on(async {
        LibraryStore::new(aws.dynamodb(), DIMENSIONS)
            .replace(&tables, &version, None)
            .await
            .unwrap();
        aws.ssm()
            .put_parameter()
            .name(auth::parameter_name(&auth::token_path("mcfpipe", "local"), "me"))
            .value(auth::token_hash(&token))
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
        let crm = CrmStore::new(aws.dynamodb(), CRM);
        for (uuid, deadline) in [("a1", "2099-01-01"), ("b2", "2026-11-21"), ("c3", "2099-01-01")] {
            let (j, e) = job(uuid, deadline);
            assert!(crm.create(&j, &e).await.unwrap());
        }
        let app = App::new(
            &aws.recording(&recorder, "crm"),
            Settings {
                crm_table: CRM.into(),
                dimensions_table: DIMENSIONS.into(),
                posts_table: POSTS.into(),
                token_path: auth::token_path("mcfpipe", "local"),
                mcf_url: mcf.url().to_string(),
                applications_table: Some(APPLICATIONS.into()),
                apply_task: None,
            },
        );
        let call = |req: Request| {
            let app = &app;
            let token = token.clone();
            async move {
                let r = app.handle(req.bearer(&token)).await;
                assert!(r.status < 300, "{} {}", r.status, String::from_utf8_lossy(&r.body));
                r.json_body()
            }
        };
        call(Request::new("GET", "/jobs").query("stage", "SCREENED")).await;
        call(Request::new("GET", "/jobs")).await;
        call(Request::new("GET", "/jobs/a1~data")).await;
        call(Request::new("POST", "/jobs/a1~data/transitions").json(&json!({"to": "TOAPPLY", "revision": 1}))).await;
        call(Request::new("PATCH", "/jobs/a1~data").json(&json!({"revision": 2, "notes": "n"}))).await;
        call(Request::new("PATCH", "/jobs/c3~data").json(&json!({"revision": 1, "track": "software"}))).await;
        call(Request::new("POST", "/jobs").json(&json!({"track": "data", "title": "Lead", "company": "X"}))).await;
        let url = format!("https://www.mycareersfuture.gov.sg/job/x-{}", mcf.uuids()[0]);
        call(Request::new("POST", "/jobs").json(&json!({"track": "data", "url": url}))).await;
        call(Request::new("GET", "/tracks")).await;
        call(Request::new("GET", "/stats")).await;
        call(Request::new("GET", "/session")).await;
        call(Request::new("GET", "/config/match.age_weeks")).await;
        call(Request::new("PUT", "/config/match.age_weeks").json(&json!({"value": 5}))).await;
        let report = jobcrm_lambda::expire::run(&app, "2026-12-01").await.unwrap();
        assert_eq!(report.expired, ["b2~data"]);
    });
    recorder.calls()
}

fn deployed(p: &Project, moto: &Moto) -> (Value, iam::Deployed, std::collections::BTreeMap<String, String>) {
    let s = p.session(moto);
    runtime().block_on(async {
        let aws = s.aws().await.unwrap();
        let stack = s.plan.get(STACK).expect("stacks/crm.yaml");
        let name = s.full_name(stack);
        let cfn = s.cfn(&aws);
        (
            cfn.template(&name).await.expect("the deployed template"),
            iam::deployed(&cfn, &name).await.expect("the deployed stack"),
            iam::artifact_parameters(stack),
        )
    })
}

#[test]
fn every_call_of_the_crm_is_allowed_by_its_role_and_the_check_fails_without_one() {
    let moto = Moto::start();
    let p = Project::with_stacks(&["networking", "artifacts", "database", STACK]);
    let calls = exercise(&p, &moto);
    let (template, deployed, artifacts) = deployed(&p, &moto);
    let operations: std::collections::BTreeSet<&str> = calls.iter().map(|c| c.operation.as_str()).collect();
    for op in [
        "GetParametersByPath",
        "Query",
        "GetItem",
        "TransactWriteItems",
        "PutItem",
    ] {
        assert!(operations.contains(op), "{op} recorded: {operations:?}");
    }
    let report = iam::check(&template, &deployed, &artifacts, &calls, None);
    eprintln!("{}", report.text());
    assert!(report.passed(), "{}", report.text());
    let components: Vec<&str> = report.components.iter().map(|c| c.component.as_str()).collect();
    assert_eq!(components, ["crm"]);
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

    // Each statement a recorded call used is needed: without it, the check fails. (Those
    // whose every grant went unused, or is the platform's, like the log statement, are not.)
    let s = p.session(&moto);
    let stack = s.plan.get(STACK).unwrap();
    let rendered = s
        .render_with(stack, &DeployedOutputs::new(), &Artifacts::new(), Missing::Placeholder)
        .expect("render")
        .template;
    let component = &report.components[0];
    let idle: std::collections::BTreeSet<(&str, &str)> = component
        .unused
        .iter()
        .chain(&component.platform)
        .map(|g| (g.sid.as_str(), g.action.as_str()))
        .collect();
    let mut checked = 0;
    for (sid, actions) in statements(&rendered) {
        if actions.iter().all(|a| idle.contains(&(sid.as_str(), a.as_str()))) {
            continue;
        }
        let mut without = rendered.clone();
        remove_statement(&mut without, &sid);
        let r = iam::check(&without, &deployed, &artifacts, &calls, None);
        assert!(!r.passed(), "without {sid} the check still passes");
        checked += 1;
    }
    assert!(checked >= 5, "{checked} statements checked");
    // Least privilege: every grant is used, but for "apply now"'s two. Where the check stops:
    // it has no mapping for ECS's RunTask (the task definition's revision IAM authorises, and
    // the roles it passes implicitly), and moto has no apply task here to start. They are
    // scoped by name in the template (the apply task's family in its cluster, the task's two
    // roles to ECS only), and `crm_api.rs` runs RunTask on moto.
    assert_eq!(
        report.unused(),
        ["crm: RunApplyTask ecs:RunTask", "crm: PassApplyRoles iam:PassRole"],
        "least privilege: every grant is used but apply now's"
    );
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
