//! The CRM API on moto, through the same `App::handle` the Lambda function and the local
//! server call: the database stack deployed, the starter library loaded, a token's hash in
//! SSM. Every answer is held to the OpenAPI document the API serves (status listed, body fits
//! its schema).
//!
//! moto's API Gateway runs no Lambda code, so the deployed REST API is tested for its shape in
//! `crm_stack.rs`; here the handler runs in-process against moto's DynamoDB and SSM.

use std::collections::BTreeMap;
use std::sync::Arc;

use jobcrm_lambda::auth;
use jobcrm_lambda::types::MAX_BODY_BYTES;
use jobcrm_lambda::{App, Request, Response, Settings};
use mcfcore::log::{Collect, Log};
use mcffixture::FixtureServer;
use mcfpipe_e2e::openapi::check_answer;
use mcfpipe_e2e::{Moto, Project};
use mcfstore::crm::{CrmStore, Event, Job, Scores};
use mcfstore::{Aws, LibraryStore};
use serde_json::{Value, json};
use xtask::workflow::library;

const CRM: &str = "mcfpipe-local-crm";

/// One runtime for the whole file, as the Lambda function and the local server have one: the
/// API's background catch-ups of its list copy run on it between requests.
fn rt() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}
const DIMENSIONS: &str = "mcfpipe-local-dimensions";
const POSTS: &str = "mcfpipe-local-posts";
const APPLICATIONS: &str = "mcfpipe-local-applications";
const TOKEN_PATH: &str = "/mcfpipe/local/crm/tokens/";

struct Setup {
    _moto: Moto,
    aws: Aws,
    app: App,
    token: String,
    doc: Value,
    _mcf: FixtureServer,
    mcf_uuid: String,
    log: Arc<Collect>,
}

fn setup() -> Setup {
    let moto = Moto::start();
    let p = Project::with_stacks(&["database"]);
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    let aws = Aws::from_sdk(moto.sdk());
    let token = auth::new_token().expect("a token");
    let mcf = FixtureServer::default_on_free_port().expect("the MCF fixture");
    let mcf_uuid = mcf.uuids()[0].clone();
    let (tables, version) = library::file_items(&p.root().join("config/seed/library")).expect("the library reads");
    rt().block_on(async {
        LibraryStore::new(aws.dynamodb(), DIMENSIONS)
            .replace(&tables, &version, None)
            .await
            .expect("the library is written");
        aws.ssm()
            .put_parameter()
            .name(auth::parameter_name(TOKEN_PATH, "me"))
            .value(auth::token_hash(&token))
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .expect("the token's hash");
    });
    let log = Arc::new(Collect::new());
    let app = App::new(
        &aws,
        Settings {
            crm_table: CRM.into(),
            dimensions_table: DIMENSIONS.into(),
            posts_table: POSTS.into(),
            token_path: TOKEN_PATH.into(),
            mcf_url: mcf.url().to_string(),
            applications_table: Some(APPLICATIONS.into()),
            apply_task: None,
        },
    )
    .with_log(Log::new("crm", log.clone()));
    let doc = rt()
        .block_on(app.handle(Request::new("GET", "/openapi.json")))
        .json_body();
    Setup {
        _moto: moto,
        aws,
        app,
        token,
        doc,
        _mcf: mcf,
        mcf_uuid,
        log,
    }
}

impl Setup {
    /// Sends `req` with the token and holds the answer to the document's `method template`.
    fn call(&self, template: &str, req: Request) -> Response {
        let method = req.method.clone();
        let r = rt().block_on(self.app.handle(req.bearer(&self.token)));
        self.conforms(&method, template, &r);
        r
    }

    fn conforms(&self, method: &str, template: &str, r: &Response) {
        assert!(
            r.status < 500,
            "{method} {template}: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        if let Err(why) = check_answer(&self.doc, method, template, r.status, &r.json_body()) {
            panic!(
                "{method} {template} → {}: {why}\n{}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
        }
    }

    fn crm(&self) -> CrmStore {
        CrmStore::new(self.aws.dynamodb(), CRM)
    }

    fn screened(&self, uuid: &str, total: f64, title: &str) -> String {
        let at = "2026-11-20T01:00:00Z";
        let mut job = self.crm_job(uuid, title);
        job.scores.as_mut().unwrap().total = total;
        let event = Event {
            at: at.into(),
            from: None,
            to: "SCREENED".into(),
            actor: "screener".into(),
            note: None,
            revision: 1,
        };
        assert!(rt().block_on(self.crm().create(&job, &event)).unwrap());
        format!("{uuid}~data")
    }

    /// A SCREENED job as the screener writes it, dated 2026-11-20.
    fn crm_job(&self, uuid: &str, title: &str) -> Job {
        let at = "2026-11-20T01:00:00Z";
        Job {
            uuid: uuid.into(),
            track: "data".into(),
            stage: "SCREENED".into(),
            close_reason: None,
            reached: None,
            revision: 1,
            created_at: at.into(),
            updated_at: at.into(),
            stage_at: at.into(),
            deadline: Some("2026-12-18".into()),
            scores: Some(Scores {
                title_score: 1.0,
                keyword_score: 0.5,
                seniority_fit: 1.0,
                salary_fit: 1.0,
                recency: 1.0,
                total: 0.5,
            }),
            reasons: Some(r#"{"title":[{"bigram":"data engineer","score":1.0}]}"#.into()),
            summary: Some("data engineer +1".into()),
            library_version: Some("v".into()),
            title: title.into(),
            company: Some("ACME".into()),
            url: None,
            posted_date: Some("2026-11-20".into()),
            closing_date: None,
            salary_min: Some(6000),
            salary_max: Some(9000),
            cv_version: Some("data-1.0".into()),
            notes: None,
            contacts: vec![],
        }
    }
}

fn error(r: &Response) -> (String, Option<String>, String) {
    let v = r.json_body();
    (
        v["error"].as_str().unwrap_or_default().to_string(),
        v["field"].as_str().map(str::to_string),
        v["reason"].as_str().unwrap_or_default().to_string(),
    )
}

fn jobs_path(id: &str) -> String {
    format!("/jobs/{}", id.replace('~', "%7E"))
}

/// The history of every job is consistent with the job: revisions 1..=n in order, each move
/// from where the previous one went, the last one ending at the job's stage.
fn history_is_consistent(s: &Setup, id: &str) {
    let r = s.call("/jobs/{id}", Request::new("GET", &jobs_path(id)));
    assert_eq!(r.status, 200);
    let d = r.json_body();
    let history = d["history"].as_array().unwrap();
    let revisions: Vec<u64> = history.iter().map(|e| e["revision"].as_u64().unwrap()).collect();
    let expected: Vec<u64> = (revisions[0]..revisions[0] + revisions.len() as u64).collect();
    assert_eq!(revisions, expected, "{id}: contiguous revisions");
    assert_eq!(
        *revisions.last().unwrap(),
        d["job"]["revision"].as_u64().unwrap(),
        "{id}"
    );
    for pair in history.windows(2) {
        assert_eq!(pair[1]["from"], pair[0]["to"], "{id}: {pair:?}");
    }
    assert_eq!(history.last().unwrap()["to"], d["job"]["stage"], "{id}");
}

#[test]
fn the_api_on_moto_answers_as_its_document_says() {
    let s = setup();
    let a = s.screened("a0000000000000000000000000000001", 0.9, "Senior Data Engineer");
    let b = s.screened("b0000000000000000000000000000002", 0.6, "Data Analyst");
    s.screened("c0000000000000000000000000000003", 0.3, "Platform Engineer");

    // No token, a wrong token: 401, naming the header. The page and the document need none.
    let bare = rt().block_on(s.app.handle(Request::new("GET", "/jobs")));
    s.conforms("GET", "/jobs", &bare);
    assert_eq!((bare.status, error(&bare).1.as_deref()), (401, Some("authorization")));
    let wrong = rt().block_on(s.app.handle(Request::new("GET", "/jobs").bearer("mcfcrm_guess")));
    assert_eq!(wrong.status, 401);
    let page = rt().block_on(s.app.handle(Request::new("GET", "/")));
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );

    // Lists: filters, sort, cursor pages.
    let r = s.call(
        "/jobs",
        Request::new("GET", "/jobs")
            .query("stage", "SCREENED")
            .query("min_score", "0.5"),
    );
    assert_eq!(r.status, 200);
    let page = r.json_body();
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a.as_str(), b.as_str()], "best first, 0.3 filtered out");
    let r = s.call("/jobs", Request::new("GET", "/jobs").query("q", "PLATFORM"));
    assert_eq!(r.json_body()["total"], 1, "text in any case");
    let r = s.call(
        "/jobs",
        Request::new("GET", "/jobs").query("sort", "title").query("limit", "2"),
    );
    let first = r.json_body();
    let titles = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(first["total"], 3);
    assert_eq!(titles(&first), ["Data Analyst", "Platform Engineer"], "A to Z");
    let next = first["next"].as_str().expect("a second page").to_string();
    let r = s.call(
        "/jobs",
        Request::new("GET", "/jobs")
            .query("sort", "title")
            .query("limit", "2")
            .query("cursor", &next),
    );
    assert_eq!(titles(&r.json_body()), ["Senior Data Engineer"]);
    assert!(r.json_body()["next"].is_null());
    let r = s.call("/jobs", Request::new("GET", "/jobs").query("limit", "1000"));
    assert_eq!((r.status, error(&r).1.as_deref()), (400, Some("query.limit")));

    // The detail: history, reasons, moves.
    let r = s.call("/jobs/{id}", Request::new("GET", &jobs_path(&a)));
    let d = r.json_body();
    assert_eq!(d["reasons"]["title"][0]["bigram"], "data engineer");
    assert_eq!(d["moves"], json!(["TOAPPLY", "CLOSED", "EXPIRED"]));
    let r = s.call("/jobs/{id}", Request::new("GET", "/jobs/nope~data"));
    assert_eq!(r.status, 404);

    // A move, then the same move from a stale tab: 409 with the job as it is now.
    let to_apply = json!({"to": "TOAPPLY", "revision": 1, "note": "looks right"});
    let r = s.call(
        "/jobs/{id}/transitions",
        Request::new("POST", &format!("{}/transitions", jobs_path(&a))).json(&to_apply),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        (r.json_body()["stage"].as_str(), r.json_body()["revision"].as_u64()),
        (Some("TOAPPLY"), Some(2))
    );
    let stale = json!({"to": "CLOSED", "revision": 1, "reason": "not_interested"});
    let r = s.call(
        "/jobs/{id}/transitions",
        Request::new("POST", &format!("{}/transitions", jobs_path(&a))).json(&stale),
    );
    let (kind, field, _) = error(&r);
    assert_eq!(
        (r.status, kind.as_str(), field.as_deref()),
        (409, "conflict", Some("revision"))
    );
    assert_eq!(r.json_body()["current"]["stage"], "TOAPPLY");
    // A move the table refuses names the allowed ones; CLOSED needs its reason.
    let r = s.call(
        "/jobs/{id}/transitions",
        Request::new("POST", &format!("{}/transitions", jobs_path(&a))).json(&json!({"to": "OFFER", "revision": 2})),
    );
    let (kind, _, reason) = error(&r);
    assert_eq!((r.status, kind.as_str()), (409, "refused"));
    assert!(reason.contains("APPLIED"), "{reason}");
    let r = s.call(
        "/jobs/{id}/transitions",
        Request::new("POST", &format!("{}/transitions", jobs_path(&a))).json(&json!({"to": "CLOSED", "revision": 2})),
    );
    assert_eq!(r.status, 409);
    // Bad bodies: 400 naming the field, never a 500.
    for (body, field) in [
        (r#"{"to": "TOAPPLY""#.to_string(), Some("body")),
        (r#"{"to": "TOAPPLY", "revision": "2"}"#.into(), Some("revision")),
        (
            r#"{"to": "TOAPPLY", "revision": 2, "colour": "red"}"#.into(),
            Some("colour"),
        ),
        (r#"{"to": "LIMBO", "revision": 2}"#.into(), Some("to")),
        (
            r#"{"to": "CLOSED", "revision": 2, "reason": "bored"}"#.into(),
            Some("reason"),
        ),
        (
            format!(
                r#"{{"to": "APPLIED", "revision": 2, "note": "{}"}}"#,
                "x".repeat(MAX_BODY_BYTES)
            ),
            Some("body"),
        ),
    ] {
        let mut req = Request::new("POST", &format!("{}/transitions", jobs_path(&a)));
        req.body = body.into_bytes();
        let r = s.call("/jobs/{id}/transitions", req);
        assert_eq!(
            (r.status, error(&r).1.as_deref()),
            (400, field),
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }
    // A method no route takes: 405 with the ones it does (the document lists routes, not
    // the methods they refuse; the body is still an ApiError).
    let r = rt().block_on(s.app.handle(Request::new("DELETE", "/jobs").bearer(&s.token)));
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, POST")));
    let api_error = json!({"$ref": "#/components/schemas/ApiError"});
    mcfpipe_e2e::openapi::fits(&s.doc, &api_error, &r.json_body(), "body").expect("an ApiError");

    // Notes, then a track change: the job moves to the new track's id with its history; the
    // old one is closed, saying where it went.
    let r = s.call(
        "/jobs/{id}",
        Request::new("PATCH", &jobs_path(&b)).json(&json!({"revision": 1, "notes": "call Ann"})),
    );
    assert_eq!((r.status, r.json_body()["notes"].as_str()), (200, Some("call Ann")));
    let r = s.call(
        "/jobs/{id}",
        Request::new("PATCH", &jobs_path(&b)).json(&json!({"revision": 2, "track": "software"})),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let moved = r.json_body();
    assert_eq!(
        (moved["track"].as_str(), moved["stage"].as_str()),
        (Some("software"), Some("SCREENED"))
    );
    assert_eq!(moved["cv_version"], "software-1.0", "the new track's CV");
    let moved_id = moved["id"].as_str().unwrap().to_string();
    history_is_consistent(&s, &moved_id);
    let old = s.call("/jobs/{id}", Request::new("GET", &jobs_path(&b))).json_body();
    assert_eq!(
        (old["job"]["stage"].as_str(), old["job"]["close_reason"].as_str()),
        (Some("CLOSED"), Some("not_interested"))
    );
    let r = s.call(
        "/jobs/{id}",
        Request::new("PATCH", &jobs_path(&moved_id)).json(&json!({"revision": moved["revision"], "track": "nope"})),
    );
    assert_eq!((r.status, error(&r).1.as_deref()), (400, Some("track")));

    // Leads: typed in (twice: the second is the same job), and an MCF job by its URL, fetched
    // from the fixture, parsed by mcfparse and stored as a post.
    let lead = json!({"track": "data", "title": "Data Engineer", "company": "Elsewhere Pte Ltd", "closing_date": "2026-12-31"});
    let r = s.call("/jobs", Request::new("POST", "/jobs").json(&lead));
    assert_eq!((r.status, r.json_body()["stage"].as_str()), (201, Some("OPEN")));
    assert_eq!(r.json_body()["deadline"], "2026-12-31");
    let r = s.call("/jobs", Request::new("POST", "/jobs").json(&lead));
    assert_eq!((r.status, error(&r).0.as_str()), (409, "exists"));
    let url = format!(
        "https://www.mycareersfuture.gov.sg/job/engineering/some-job-{}",
        s.mcf_uuid
    );
    let r = s.call(
        "/jobs",
        Request::new("POST", "/jobs").json(&json!({"track": "data", "url": url})),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json_body()["uuid"], s.mcf_uuid.as_str());
    assert!(
        !r.json_body()["title"].as_str().unwrap().is_empty(),
        "the parser's title"
    );
    let post = rt()
        .block_on(mcfstore::PostStore::new(s.aws.dynamodb(), POSTS).get(&s.mcf_uuid))
        .unwrap();
    assert!(post.is_some(), "the post is stored for the recommender");
    let r = s.call("/jobs", Request::new("POST", "/jobs").json(&json!({"track": "data"})));
    assert_eq!((r.status, error(&r).1.as_deref()), (400, Some("title")));
    let r = s.call(
        "/jobs",
        Request::new("POST", "/jobs").json(&json!({"track": "sales", "title": "x"})),
    );
    assert_eq!((r.status, error(&r).1.as_deref()), (400, Some("track")));
    let missing = "https://www.mycareersfuture.gov.sg/job/x-ffffffffffffffffffffffffffffffff";
    let r = s.call(
        "/jobs",
        Request::new("POST", "/jobs").json(&json!({"track": "data", "url": missing})),
    );
    assert_eq!((r.status, error(&r).1.as_deref()), (400, Some("url")));

    // Tracks, config (through config sync's checks), stats.
    let r = s.call("/tracks", Request::new("GET", "/tracks"));
    let tracks: Vec<String> = r
        .json_body()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        tracks.iter().any(|t| t == "data") && tracks.iter().any(|t| t == "software"),
        "{tracks:?}"
    );
    let r = s.call("/config/{key}", Request::new("GET", "/config/match.age_weeks"));
    assert_eq!(r.json_body()["value"].as_f64(), Some(4.0));
    let before = r.json_body()["version"].clone();
    let r = s.call(
        "/config/{key}",
        Request::new("PUT", "/config/match.age_weeks").json(&json!({"value": 6})),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_ne!(r.json_body()["version"], before, "a new library version");
    let r = s.call("/config/{key}", Request::new("GET", "/config/match.age_weeks"));
    assert_eq!(r.json_body()["value"].as_f64(), Some(6.0));
    let r = s.call(
        "/config/{key}",
        Request::new("PUT", "/config/match.age_weeks").json(&json!({"value": "six"})),
    );
    assert_eq!(
        (r.status, error(&r).1.as_deref()),
        (400, Some("value")),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let r = s.call("/config/{key}", Request::new("GET", "/config/match.nothing"));
    assert_eq!(r.status, 404);
    let r = s.call("/stats", Request::new("GET", "/stats"));
    let stats = r.json_body();
    let count = |list: &str, stage: &str| {
        stats[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["stage"] == stage)
            .unwrap()["count"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count("stages", "TOAPPLY"), 1);
    assert_eq!(count("stages", "OPEN"), 2);
    assert_eq!(count("funnel", "TOAPPLY"), 1);

    for id in [&a, &b, &moved_id] {
        history_is_consistent(&s, id);
    }

    // Other writers: a job the screener creates now, and a rescore of one listed already,
    // show in the next list (the function's copy catches up from the stage index).
    let now = mcfstore::now_utc();
    let mut fresh = s.crm_job("a1000000000000000000000000000001", "Fresh Data Engineer");
    fresh.created_at.clone_from(&now);
    fresh.updated_at.clone_from(&now);
    fresh.stage_at.clone_from(&now);
    let created = Event {
        at: now,
        from: None,
        to: "SCREENED".into(),
        actor: "screener".into(),
        note: None,
        revision: 1,
    };
    assert!(rt().block_on(s.crm().create(&fresh, &created)).unwrap());
    let read = rt()
        .block_on(s.crm().get("c0000000000000000000000000000003", "data"))
        .unwrap()
        .unwrap();
    let update = mcfstore::crm::ScoreUpdate {
        scores: Scores {
            total: 0.95,
            ..read.scores.unwrap()
        },
        reasons: "{}".into(),
        summary: "rescored".into(),
        library_version: "v2".into(),
    };
    assert!(rt().block_on(s.crm().refresh_scores(&read, &update)).unwrap());
    // Lists answer from the function's copy and catch up in the background (at most once a
    // second): the changes show within a few lists, never waited for.
    let started = std::time::Instant::now();
    let items = loop {
        let r = s.call("/jobs", Request::new("GET", "/jobs").query("stage", "SCREENED"));
        let items = r.json_body()["items"].as_array().unwrap().clone();
        let fresh = items.iter().any(|j| j["title"] == "Fresh Data Engineer");
        if (fresh && items[0]["title"] == "Platform Engineer") || started.elapsed().as_secs() > 15 {
            break items;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    assert_eq!(items[0]["title"], "Platform Engineer", "rescored to the top: {items:?}");
    assert!(items.iter().any(|j| j["title"] == "Fresh Data Engineer"), "{items:?}");

    // One log line per request, with the user; the token never, nor its hash.
    let lines: Vec<String> = s.log.take().iter().map(|l| l.to_json()).collect();
    assert!(lines.len() > 40, "{}", lines.len());
    let hash = auth::token_hash(&s.token);
    for line in &lines {
        assert!(!line.contains(&s.token) && !line.contains(&hash), "{line}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains(r#""user":"me""#) && l.contains(r#""status":409"#))
    );
}

#[test]
fn the_daily_expiry_moves_only_waiting_jobs_past_their_deadline() {
    let s = setup();
    let waiting = s.screened("d0000000000000000000000000000004", 0.9, "Waiting");
    let talking = s.screened("e0000000000000000000000000000005", 0.9, "Talking");
    // Move `talking` to INTERVIEW through the API (its deadline becomes a follow-up day).
    for (to, rev) in [("TOAPPLY", 1), ("APPLIED", 2), ("INTERVIEW", 3)] {
        let r = s.call(
            "/jobs/{id}/transitions",
            Request::new("POST", &format!("{}/transitions", jobs_path(&talking)))
                .json(&json!({"to": to, "revision": rev})),
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    // Far in the future every deadline has passed.
    let report = rt()
        .block_on(jobcrm_lambda::expire::run(&s.app, "2099-01-01"))
        .expect("the expiry runs");
    assert_eq!(report.expired, std::slice::from_ref(&waiting));
    let job = |id: &str| s.call("/jobs/{id}", Request::new("GET", &jobs_path(id))).json_body();
    assert_eq!(job(&waiting)["job"]["stage"], "EXPIRED");
    assert_eq!(
        job(&waiting)["history"].as_array().unwrap().last().unwrap()["actor"],
        "expiry"
    );
    assert_eq!(job(&talking)["job"]["stage"], "INTERVIEW", "never an interview");
    // Before the deadline nothing moves.
    let fresh = s.screened("f0000000000000000000000000000006", 0.9, "Fresh");
    let report = rt().block_on(jobcrm_lambda::expire::run(&s.app, "2026-12-01")).unwrap();
    assert!(report.expired.is_empty(), "{report:?}");
    assert_eq!(job(&fresh)["job"]["stage"], "SCREENED");
    // The function's event for it.
    let out = rt()
        .block_on(jobcrm_lambda::lambda::handle(&s.app, json!({"expire": {}})))
        .unwrap();
    assert!(out["checked"].as_u64().unwrap() >= 1, "{out}");
}

/// Random requests from two tabs that hold copies of five jobs, some stale; bodies malformed,
/// oversize or of the wrong types among them. Never a 500; every answer fits the document; no
/// event lost (each successful change is one event) and every history consistent.
#[test]
fn random_requests_from_two_tabs_never_fail_the_server_or_the_history() {
    let s = setup();
    let ids: Vec<String> = (0..5)
        .map(|i| s.screened(&format!("{i:032x}"), 0.5 + f64::from(i) / 10.0, &format!("Job {i}")))
        .collect();
    let seed = std::env::var("CRM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261129u64);
    let mut rng = fastrand::Rng::with_seed(seed);
    let stages = [
        "OPEN",
        "SCREENED",
        "TOAPPLY",
        "APPLIED",
        "CALLBACK",
        "INTERVIEW",
        "OFFER",
        "REJECTED",
        "CLOSED",
        "EXPIRED",
        "NOPE",
    ];
    let reasons = ["withdrawn", "not_interested", "post_closed", "apply_failed", "bored"];
    // What each tab believes each job's revision is.
    let mut tabs: Vec<BTreeMap<String, u64>> = vec![ids.iter().map(|i| (i.clone(), 1)).collect(); 2];
    let mut changes: BTreeMap<String, u64> = BTreeMap::new();
    for step in 0..240 {
        let tab = rng.usize(0..2);
        let id = ids[rng.usize(0..ids.len())].clone();
        let rev = tabs[tab][&id];
        let (template, req) = match rng.u8(0..10) {
            0..=5 => {
                let mut body = json!({"to": stages[rng.usize(0..stages.len())], "revision": rev});
                if rng.bool() {
                    body["reason"] = json!(reasons[rng.usize(0..reasons.len())]);
                }
                (
                    "/jobs/{id}/transitions",
                    Request::new("POST", &format!("{}/transitions", jobs_path(&id))).json(&body),
                )
            }
            6 | 7 => (
                "/jobs/{id}",
                Request::new("PATCH", &jobs_path(&id)).json(&json!({"revision": rev, "notes": format!("step {step}")})),
            ),
            8 => {
                let bodies = [
                    "{".to_string(),
                    "[]".into(),
                    "null".into(),
                    format!(r#"{{"revision": {rev}, "notes": 5}}"#),
                    r#"{"revision": -1}"#.to_string(),
                    format!(
                        r#"{{"revision": {rev}, "notes": "{}"}}"#,
                        "n".repeat(MAX_BODY_BYTES + 10)
                    ),
                    format!(r#"{{"revision": {rev}, "contacts": ["{}"]}}"#, "c".repeat(600)),
                    "\u{0}\u{1}".into(),
                ];
                let mut req = Request::new("PATCH", &jobs_path(&id));
                req.body = bodies[rng.usize(0..bodies.len())].clone().into_bytes();
                ("/jobs/{id}", req)
            }
            _ => ("/jobs/{id}", Request::new("GET", &jobs_path(&id))),
        };
        let method = req.method.clone();
        let r = s.call(template, req);
        let body = r.json_body();
        match r.status {
            200 if method != "GET" => {
                let now = body["revision"].as_u64().unwrap();
                if now != rev {
                    *changes.entry(id.clone()).or_default() += 1;
                }
                tabs[tab].insert(id.clone(), now);
            }
            200 => {
                tabs[tab].insert(id.clone(), body["job"]["revision"].as_u64().unwrap());
            }
            409 if body["error"] == "conflict" => {
                // The tab sees the job as it is now and carries on with that.
                tabs[tab].insert(id.clone(), body["current"]["revision"].as_u64().unwrap());
            }
            400 | 409 => {}
            other => panic!("step {step} (seed {seed}): {other} {body}"),
        }
    }
    assert!(
        changes.values().sum::<u64>() >= 20,
        "enough writes went through: {changes:?}"
    );
    for id in &ids {
        history_is_consistent(&s, id);
        let events = rt().block_on(s.crm().events(&id.replace("~data", ""), "data")).unwrap();
        assert_eq!(
            events.len() as u64,
            1 + changes.get(id).copied().unwrap_or(0),
            "{id}: one event per change that went through, none lost"
        );
    }
}

/// The apply side of the API: `GET /session` before and after a check recorded the state, a
/// job's latest attempt in its detail, and "apply now": 503 with advice where the CRM has no
/// apply task, and with one, ECS `RunTask` on moto with the request's choices as the
/// container's environment overrides (moto records the task; it runs nothing).
#[test]
fn the_session_a_jobs_attempt_and_apply_now() {
    let s = setup();
    let r = s.call("/session", Request::new("GET", "/session"));
    let v = r.json_body();
    assert_eq!(
        (r.status, v["state"].as_str(), v["apply_now"].as_bool()),
        (200, Some("unchecked"), Some(false))
    );
    rt().block_on(mcfstore::mcf_session::write(
        &s.aws.dynamodb(),
        DIMENSIONS,
        &mcfstore::mcf_session::SessionState {
            state: "expires_soon".into(),
            valid_until: Some("2026-12-01T00:00:00Z".into()),
            last_checked: "2026-11-29T01:00:00Z".into(),
            last_result: "signed in".into(),
            checked_by: "check".into(),
            notified_at: None,
        },
    ))
    .unwrap();
    let v = s.call("/session", Request::new("GET", "/session")).json_body();
    assert_eq!(
        (v["state"].as_str(), v["valid_until"].as_str(), v["checked_by"].as_str()),
        (Some("expires_soon"), Some("2026-12-01T00:00:00Z"), Some("check"))
    );

    // A job's latest attempt shows in its detail.
    let job = s.crm_job("a2000000000000000000000000000002", "Analytics Engineer");
    let created = Event {
        at: job.created_at.clone(),
        from: None,
        to: "SCREENED".into(),
        actor: "screener".into(),
        note: None,
        revision: 1,
    };
    assert!(rt().block_on(s.crm().create(&job, &created)).unwrap());
    let id = mcfcore::layout::crm::job_id(&job.uuid, &job.track);
    let r = s.call("/jobs/{id}", Request::new("GET", &jobs_path(&id)));
    assert_eq!(r.json_body().get("application"), None, "no attempt yet");
    let attempt = mcfstore::Application {
        uuid: job.uuid.clone(),
        track: job.track.clone(),
        outcome: "06_cv_not_found".into(),
        started_at: "2026-11-29T02:00:00Z".into(),
        finished_at: Some("2026-11-29T02:00:02Z".into()),
        dry_run: false,
        cv_version: Some("12.0".into()),
        detail: Some("no resume card holds CV \"12.0\"".into()),
        url: None,
        evidence_png: Some("evidence/x.png".into()),
        evidence_html: Some("evidence/x.html".into()),
        seconds: Some(2.0),
        by: Some("task".into()),
    };
    assert!(
        rt().block_on(mcfstore::ApplicationStore::new(s.aws.dynamodb(), APPLICATIONS).finish(&attempt, false, vec![]))
            .unwrap()
    );
    let detail = s.call("/jobs/{id}", Request::new("GET", &jobs_path(&id))).json_body();
    assert_eq!(detail["application"]["outcome"], "06_cv_not_found", "{detail}");
    assert_eq!(detail["application"]["evidence_png"], "evidence/x.png");

    // No apply task here: 503, saying what to do instead.
    let r = rt().block_on(
        s.app
            .handle(Request::new("POST", "/apply").json(&json!({})).bearer(&s.token)),
    );
    assert_eq!(r.status, 503);
    check_answer(&s.doc, "POST", "/apply", r.status, &r.json_body()).expect("the 503 as documented");
    assert!(error(&r).2.contains("cargo xtask run apply"), "{}", error(&r).2);
    let r = s.call("/apply", Request::new("POST", "/apply").json(&json!({"submit": "yes"})));
    assert_eq!((r.status, error(&r).1.as_deref()), (400, Some("submit")));

    // With one: RunTask on moto, the choices as overrides.
    let ecs = aws_sdk_ecs::Client::new(&s.aws.sdk().clone());
    let ec2 = aws_sdk_ec2::Client::new(&s.aws.sdk().clone());
    // moto places a Fargate task's network interface in a real subnet.
    let (subnet, group) = rt().block_on(async {
        let vpc = ec2.create_vpc().cidr_block("10.9.0.0/16").send().await.unwrap();
        let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
        // As the networking stack's VPC has it; moto's task attachment needs the ENI's DNS name.
        ec2.modify_vpc_attribute()
            .vpc_id(&vpc)
            .enable_dns_hostnames(aws_sdk_ec2::types::AttributeBooleanValue::builder().value(true).build())
            .send()
            .await
            .unwrap();
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block("10.9.1.0/24")
            .send()
            .await
            .unwrap();
        let group = ec2
            .create_security_group()
            .vpc_id(&vpc)
            .group_name("apply")
            .description("apply")
            .send()
            .await
            .unwrap();
        (
            subnet.subnet().unwrap().subnet_id().unwrap().to_string(),
            group.group_id().unwrap().to_string(),
        )
    });
    let (cluster, task_definition) = rt().block_on(async {
        let cluster = ecs.create_cluster().cluster_name("mcfpipe-local-apply").send().await.unwrap();
        let def = ecs
            .register_task_definition()
            .family("mcfpipe-local-apply")
            .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
            .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
            .cpu("1024")
            .memory("2048")
            .container_definitions(
                // moto sums the containers' own memory to place a task (a container without
                // one makes RunTask fail there with a 500); on AWS the task's is enough.
                aws_sdk_ecs::types::ContainerDefinition::builder()
                    .name("mcfapply")
                    .memory_reservation(1024)
                    .image("127.0.0.1:5000/mcfapply@sha256:0000000000000000000000000000000000000000000000000000000000000000")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        (
            cluster.cluster().unwrap().cluster_arn().unwrap().to_string(),
            def.task_definition().unwrap().task_definition_arn().unwrap().to_string(),
        )
    });
    let app = App::new(
        &s.aws,
        Settings {
            crm_table: CRM.into(),
            dimensions_table: DIMENSIONS.into(),
            posts_table: POSTS.into(),
            token_path: TOKEN_PATH.into(),
            mcf_url: "http://127.0.0.1:9".into(),
            applications_table: Some(APPLICATIONS.into()),
            apply_task: Some(jobcrm_lambda::ApplyTask {
                cluster: cluster.clone(),
                task_definition,
                container: "mcfapply".into(),
                subnets: vec![subnet],
                security_groups: vec![group],
                public_ip: true,
            }),
        },
    );
    let r = rt().block_on(
        app.handle(
            Request::new("POST", "/apply")
                .json(&json!({"job": id, "submit": true}))
                .bearer(&s.token),
        ),
    );
    // Where moto stops: its RunTask answer gives the containers' `cpu` as a number where ECS's
    // model has a string, so the SDK cannot read the answer and the API says 503 with the
    // answer's text. The task moto started is read from its own state instead
    // (`/moto-api/data.json`). On AWS the answer is read and the API answers 202 with the ARN.
    let body = String::from_utf8_lossy(&r.body).to_string();
    if r.status == 202 {
        s.conforms("POST", "/apply", &r);
        assert!(
            r.json_body()["task"].as_str().is_some_and(|t| t.contains(":task/")),
            "{body}"
        );
    } else {
        assert_eq!(r.status, 503, "{body}");
        assert!(body.contains("ECS RunTask: HTTP 200 without an AWS error"), "{body}");
    }
    let (status, _, bytes) = mcfpipe_e2e::http_get(
        &format!("127.0.0.1:{}", s._moto.port),
        "/moto-api/data.json",
        "application/json",
    );
    assert_eq!(status, 200);
    let state: Value = serde_json::from_slice(&bytes).expect("moto's state");
    let tasks = state["ecs"]["Task"].as_array().expect("ECS tasks in moto's state");
    assert_eq!(tasks.len(), 1, "one task started: {tasks:?}");
    let t = &tasks[0];
    assert_eq!(t["started_by"], "crm:user:me", "{t}");
    assert!(
        t["task_definition_arn"]
            .as_str()
            .unwrap_or_default()
            .contains("mcfpipe-local-apply"),
        "{t}"
    );
    let env = &t["overrides"]["containerOverrides"][0];
    assert_eq!(env["name"], "mcfapply", "{t}");
    assert_eq!(
        env["environment"],
        json!([{"name": "MCFAPPLY_JOB", "value": id}, {"name": "MCFAPPLY_SUBMIT", "value": "true"}]),
        "{t}"
    );
    let subnet_attached = t["attachments"][0]["details"]
        .as_array()
        .is_some_and(|d| d.iter().any(|x| x["name"] == "subnetId"));
    assert!(subnet_attached, "the task's network interface in the given subnet: {t}");
    let v = rt()
        .block_on(app.handle(Request::new("GET", "/session").bearer(&s.token)))
        .json_body();
    assert_eq!(v["apply_now"], true);
    // An unknown job is a 404, and nothing is started.
    let r = rt().block_on(
        app.handle(
            Request::new("POST", "/apply")
                .json(&json!({"job": "nope~data"}))
                .bearer(&s.token),
        ),
    );
    assert_eq!(r.status, 404);
}
