//! The CRM's web page in a real browser: headless Chromium over WebDriver (the harness's
//! `browser`), the page served by the CRM's own local server (`jobcrm_lambda::serve`, in
//! process) on the real API, on moto. Jobs are seeded in the CRM table, a token's hash is put
//! in SSM; then the page is used as a user would, and every change is checked in DynamoDB:
//! - a wrong token is refused on the sign-in form, with the API's reason;
//! - a job moved SCREENED → TOAPPLY with its card's button is there after a reload, and the
//!   table holds the move (revision + 1) and its event, by `user:<name>`; the detail shows it;
//! - a drag and drop moves a job (Chromium turns WebDriver's pointer actions into an HTML5
//!   drag); a column the transition table does not allow refuses the drag while it is over it,
//!   and dropping there writes nothing;
//! - "Mark to apply" moves the selected SCREENED jobs, showing each one's CV version;
//! - a job changed elsewhere (a second writer) is refused with 409 and the page shows the job as
//!   it is now;
//! - the detail saves notes, CV version and contacts on the revision read, and closes a job with
//!   a reason and a note; a lead typed in lands in OPEN; the table filters by stage and sorts
//!   by a header;
//! - scraped text is shown as text, never as markup.
//!
//! `UPDATE_SCREENSHOT=1` writes the board with the seeded jobs (1280×800) to
//! `docs/crm-board.png`.

use std::sync::Arc;

use jobcrm_lambda::{App, Settings, auth, serve};
use mcfpipe_e2e::browser::Browser;
use mcfpipe_e2e::{Moto, Project, repo_root};
use mcfstore::Aws;
use mcfstore::crm::{CrmStore, Event, Job, Scores};
use mcfstore::library::LibraryStore;
use serde_json::json;
use xtask::workflow::library;

const CRM: &str = "mcfpipe-local-crm";
const DIMENSIONS: &str = "mcfpipe-local-dimensions";
const POSTS: &str = "mcfpipe-local-posts";
const APPLICATIONS: &str = "mcfpipe-local-applications";
const USER: &str = "tester";
const TRACK: &str = "data";
const CREATED: &str = "2026-11-29T01:00:00Z";

/// A seeded job: `uuid` in `stage`, scored `total`.
fn job(uuid: &str, stage: &str, title: &str, company: &str, total: f64, deadline: &str) -> Job {
    Job {
        uuid: uuid.into(),
        track: TRACK.into(),
        stage: stage.into(),
        close_reason: None,
        reached: None,
        revision: 1,
        created_at: CREATED.into(),
        updated_at: CREATED.into(),
        stage_at: CREATED.into(),
        deadline: Some(deadline.into()),
        scores: Some(Scores {
            title_score: total * 0.9,
            keyword_score: 0.5,
            seniority_fit: 1.0,
            salary_fit: 0.8,
            recency: 0.9,
            total,
        }),
        // The scorer's reasons (`jobmatch::Reasons`), which the page renders without a schema.
        reasons: Some(
            json!({
                "title": [{"tag": title.to_lowercase(), "score": 1.0, "count": 1}],
                "rank": [],
                "keywords": [{"keyword": "sql", "score": 1.0}],
                "salary": {"fit": "within the target"},
                "summary": format!("{} +1, keywords: sql", title.to_lowercase()),
            })
            .to_string(),
        ),
        summary: Some(format!("{} +1, keywords: sql", title.to_lowercase())),
        library_version: None,
        title: title.into(),
        company: Some(company.into()),
        url: Some(format!("https://www.mycareersfuture.gov.sg/job/{uuid}")),
        posted_date: Some("2026-11-27".into()),
        closing_date: Some(deadline.into()),
        salary_min: Some(6000),
        salary_max: Some(9000),
        cv_version: None,
        notes: None,
        contacts: vec![],
    }
}

fn id(uuid: &str) -> String {
    mcfcore::layout::crm::job_id(uuid, TRACK)
}

/// Whether `card-<id>` is in `column-<stage>` (a script for [`Browser::wait_for`]).
const IN_COLUMN: &str = "return !!document.querySelector(
    `[data-testid=\"column-${arguments[1]}\"] [data-testid=\"card-${arguments[0]}\"]`)";

/// Whether `column-<stage>` shows the drag state `arguments[1]` (`ok`, `refused`).
const DROP_STATE: &str =
    "return document.querySelector(`[data-testid=\"column-${arguments[0]}\"]`).dataset.drop === arguments[1]";

#[test]
fn the_page_moves_jobs_by_button_and_by_drag_and_the_table_holds_each_move() {
    let Some(b) = Browser::start("crm_page", 1280, 800) else {
        return;
    };
    let moto = Moto::start();
    let p = Project::with_stacks(&["database"]);
    p.xtask(&moto, &["deploy", "all", "--env", "local"]).ok();
    let aws = Aws::from_sdk(moto.sdk());
    // The server's runtime: its worker threads answer the browser while the test waits on it.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let store = CrmStore::new(aws.dynamodb(), CRM);

    // The library (tracks, CV versions) as config sync writes it, the jobs as the screener
    // and earlier moves left them, and a token for USER.
    let (tables, version) = library::file_items(&repo_root().join("config/seed/library")).expect("the library reads");
    let seeded = [
        job(
            "u-de",
            "SCREENED",
            "Data Engineer",
            "ACME Analytics",
            0.91,
            "2026-12-20",
        ),
        job(
            "u-ae",
            "SCREENED",
            "Analytics Engineer <b>(contract)</b>",
            "Shopee & Co",
            0.84,
            "2026-12-03",
        ),
        job("u-sde", "SCREENED", "Senior Data Engineer", "Grab", 0.78, "2026-12-27"),
        job(
            "u-ml",
            "TOAPPLY",
            "Machine Learning Engineer",
            "DBS Bank",
            0.73,
            "2026-12-10",
        ),
        job("u-bi", "APPLIED", "BI Developer", "OCBC", 0.66, "2026-12-29"),
        job("u-ds", "INTERVIEW", "Data Scientist", "GovTech", 0.7, "2027-01-05"),
    ];
    let token = auth::new_token().expect("a token");
    let token_path = auth::token_path("mcfpipe", "local");
    rt.block_on(async {
        let lib = LibraryStore::new(aws.dynamodb(), DIMENSIONS);
        lib.replace(&tables, &version, None).await.expect("the library");
        for j in &seeded {
            let created = Event {
                at: CREATED.into(),
                from: None,
                to: j.stage.clone(),
                actor: "screener".into(),
                note: None,
                revision: 1,
            };
            assert!(store.create(j, &created).await.expect("create"), "{} is new", j.uuid);
        }
        aws.ssm()
            .put_parameter()
            .name(auth::parameter_name(&token_path, USER))
            .value(auth::token_hash(&token))
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .expect("the token's hash in SSM");
        // The apply side: the session's state as the daily check left it, and a job's failed
        // attempt.
        mcfstore::mcf_session::write(
            &aws.dynamodb(),
            DIMENSIONS,
            &mcfstore::mcf_session::SessionState {
                state: "expired".into(),
                valid_until: Some("2026-11-28T00:00:00Z".into()),
                last_checked: "2026-11-29T01:00:00Z".into(),
                last_result: "MCF sent the login page".into(),
                checked_by: "check".into(),
                notified_at: Some("2026-11-29T01:00:01Z".into()),
            },
        )
        .await
        .expect("the session's state");
        let attempt = mcfstore::Application {
            uuid: "u-de".into(),
            track: TRACK.into(),
            outcome: "07_post_closed".into(),
            started_at: "2026-11-29T02:00:00Z".into(),
            finished_at: Some("2026-11-29T02:00:03Z".into()),
            dry_run: false,
            cv_version: Some("data-1.0".into()),
            detail: Some("MCF says: This job is no longer accepting applications".into()),
            url: None,
            evidence_png: Some("evidence/2026-11-29/u-de/x.png".into()),
            evidence_html: Some("evidence/2026-11-29/u-de/x.html".into()),
            seconds: Some(1.0),
            by: Some("task".into()),
        };
        assert!(
            mcfstore::ApplicationStore::new(aws.dynamodb(), APPLICATIONS)
                .finish(&attempt, false, vec![])
                .await
                .expect("the attempt")
        );
    });
    let settings = Settings {
        crm_table: CRM.into(),
        dimensions_table: DIMENSIONS.into(),
        posts_table: POSTS.into(),
        token_path: token_path.clone(),
        mcf_url: "http://127.0.0.1:9".into(),
        applications_table: Some(APPLICATIONS.into()),
        apply_task: None,
    };
    let app = Arc::new(App::new(&aws, settings));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("its address"));
    rt.spawn(serve::serve(listener, app));

    // 1. A wrong token stays on the sign-in form, with the API's reason.
    b.goto(&format!("{base}/"));
    b.type_into("token-input", "not-a-token");
    b.click("sign-in");
    let refusal = b.wait_for(
        "the sign-in error",
        "return document.querySelector('[data-testid=error]').textContent",
        json!([]),
    );
    assert!(
        refusal
            .as_str()
            .unwrap_or_default()
            .contains("not one of this environment's"),
        "the API's reason: {refusal}"
    );
    let signin_visible = b.script(
        "return !document.querySelector('[data-testid=signin]').hidden && document.getElementById('app').hidden
            && localStorage.getItem('mcfcrm.token') === null",
        json!([]),
    );
    assert_eq!(signin_visible, json!(true), "{}", b.situation());

    // 2. The right one shows the board: every seeded job in its stage's column.
    b.type_into("token-input", &token);
    b.click("sign-in");
    for j in &seeded {
        b.wait_for(
            &format!("{} in {}", j.uuid, j.stage),
            IN_COLUMN,
            json!([id(&j.uuid), j.stage]),
        );
    }
    b.wait_for(
        "the funnel",
        "return document.querySelector('[data-testid=stats-total]')?.textContent === arguments[0]",
        json!([seeded.len().to_string()]),
    );
    let kpis = b.text("stats-track-data");
    assert!(
        kpis.contains("Data engineering: 6 jobs"),
        "the track's KPIs from /stats: {kpis}"
    );
    // Scraped text is text: the title's markup is shown as typed, and made no element.
    let shown = b.script(
        "const c = document.querySelector(`[data-testid=\"card-${arguments[0]}\"]`);
         return [c.querySelector('[data-testid^=open-]').textContent, c.querySelectorAll('b').length]",
        json!([id("u-ae")]),
    );
    assert_eq!(shown, json!(["Analytics Engineer <b>(contract)</b>", 0]));
    if std::env::var("UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        let png = b.screenshot();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(repo_root().join("docs/crm-board.png"), png).expect("write docs/crm-board.png");
    }

    // 3. The card's button moves SCREENED → TOAPPLY; a reload shows it there; the table holds
    // the move and its event, by the token's user.
    b.click(&format!("move-{}-TOAPPLY", id("u-de")));
    b.wait_for("u-de in TOAPPLY", IN_COLUMN, json!([id("u-de"), "TOAPPLY"]));
    b.refresh();
    b.wait_for(
        "u-de in TOAPPLY after a reload",
        IN_COLUMN,
        json!([id("u-de"), "TOAPPLY"]),
    );
    let (now, events) = rt.block_on(async {
        let now = store.get("u-de", TRACK).await.expect("get").expect("the job");
        (now, store.events("u-de", TRACK).await.expect("events"))
    });
    assert_eq!((now.stage.as_str(), now.revision), ("TOAPPLY", 2));
    let last = events.last().expect("its history");
    assert_eq!(
        (
            last.from.as_deref(),
            last.to.as_str(),
            last.actor.as_str(),
            last.revision
        ),
        (Some("SCREENED"), "TOAPPLY", "user:tester", 2)
    );
    // The MCF session's state, as recorded, in its area.
    let session = b.wait_for(
        "the session's state",
        "const e = document.querySelector('[data-testid=session-expired]'); return e && document.querySelector('[data-testid=session-state]').textContent",
        json!([]),
    );
    assert!(
        session.as_str().unwrap_or_default().contains("cargo xtask mcf session")
            && session.as_str().unwrap_or_default().contains("MCF sent the login page"),
        "{session}"
    );
    b.click(&format!("open-{}", id("u-de")));
    let outcome = b.wait_for(
        "the job's latest application attempt",
        "return document.querySelector('[data-testid=application-outcome]')?.textContent",
        json!([]),
    );
    assert!(
        outcome.as_str().unwrap_or_default().contains("07_post_closed"),
        "{outcome}"
    );
    assert!(b.text("application-detail").contains("no longer accepting"));
    let history = b.wait_for(
        "the move in the detail's history",
        "const h = document.querySelector('[data-testid=history]');
         return h && h.textContent.includes('Screened → To apply') && h.textContent",
        json!([]),
    );
    assert!(
        history.as_str().unwrap_or_default().contains("user:tester"),
        "{history}"
    );
    let reasons = b.text("detail-reasons");
    assert!(
        reasons.contains("keywords") && reasons.contains("sql") && reasons.contains("within the target"),
        "{reasons}"
    );
    b.click("detail-close");

    // 4. A drag: over OFFER the column refuses it (SCREENED → OFFER is not in the table) and a
    // drop there writes nothing; over TOAPPLY it is accepted, and the drop moves the job.
    let card = format!("card-{}", id("u-sde"));
    b.drag_hold(&card, "column-OFFER");
    // The page hears of the drag a moment after WebDriver's actions return: wait for it.
    b.wait_for(
        "column-OFFER refusing the drag",
        DROP_STATE,
        json!(["OFFER", "refused"]),
    );
    b.drag_over("column-TOAPPLY");
    b.wait_for(
        "column-TOAPPLY accepting the drag",
        DROP_STATE,
        json!(["TOAPPLY", "ok"]),
    );
    assert_eq!(
        b.script(DROP_STATE, json!(["OFFER", "refused"])),
        json!(false),
        "a column left is cleared"
    );
    b.drag_over("column-OFFER");
    b.release();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let unmoved = rt.block_on(store.get("u-sde", TRACK)).expect("get").expect("the job");
    assert_eq!((unmoved.stage.as_str(), unmoved.revision), ("SCREENED", 1));
    b.wait_for("u-sde still in SCREENED", IN_COLUMN, json!([id("u-sde"), "SCREENED"]));
    b.drag_hold(&card, "column-TOAPPLY");
    b.release();
    b.wait_for("u-sde dropped in TOAPPLY", IN_COLUMN, json!([id("u-sde"), "TOAPPLY"]));
    let dropped = rt.block_on(store.get("u-sde", TRACK)).expect("get").expect("the job");
    assert_eq!((dropped.stage.as_str(), dropped.revision), ("TOAPPLY", 2));

    // 5. Select and "Mark to apply": the selection shows the CV version the job goes with.
    b.click(&format!("select-{}", id("u-ae")));
    let listed = b.text(&format!("selected-{}", id("u-ae")));
    assert!(
        listed.contains("CV data-1.0 (track)"),
        "the track's CV (config/seed/library/tracks.yaml): {listed}"
    );
    b.click("mark-to-apply");
    b.wait_for("u-ae marked to apply", IN_COLUMN, json!([id("u-ae"), "TOAPPLY"]));
    let marked = rt.block_on(store.get("u-ae", TRACK)).expect("get").expect("the job");
    assert_eq!((marked.stage.as_str(), marked.revision), ("TOAPPLY", 2));

    // 6. Another writer moves a job the page shows: the page's move is refused (409), and the
    // page shows the job as it is now.
    rt.block_on(async {
        let read = store.get("u-bi", TRACK).await.expect("get").expect("the job");
        let event = Event {
            at: "2026-11-29T05:00:00Z".into(),
            from: Some("APPLIED".into()),
            to: "CALLBACK".into(),
            actor: "user:other-tab".into(),
            note: None,
            revision: 2,
        };
        let moved = store.move_stage(&read, &event, None, read.deadline.as_deref(), Some("CALLBACK"));
        assert!(moved.await.expect("move"));
    });
    b.click(&format!("move-{}-REJECTED", id("u-bi")));
    b.wait_for("u-bi shown in CALLBACK", IN_COLUMN, json!([id("u-bi"), "CALLBACK"]));
    let error = b.text("error");
    assert!(error.contains("changed elsewhere"), "{error}");
    let kept = rt.block_on(store.get("u-bi", TRACK)).expect("get").expect("the job");
    assert_eq!(
        (kept.stage.as_str(), kept.revision),
        ("CALLBACK", 2),
        "the refused move wrote nothing"
    );

    // 7. The detail's edits: notes, CV version and contacts saved on the revision read; then a
    // close with a reason.
    let ml = id("u-ml");
    b.click(&format!("open-{ml}"));
    b.wait_for(
        "the detail of u-ml",
        "return document.getElementById('d-title')?.textContent === 'Machine Learning Engineer'",
        json!([]),
    );
    b.type_into("detail-notes", "Asked Jane for a referral");
    b.type_into("detail-cv", "data-1.1");
    b.type_into("detail-contacts", "jane@example.com");
    b.click("detail-save");
    b.wait_for(
        "the detail showing the edit",
        "return document.querySelector('[data-testid=detail-fields]')?.textContent.includes('CV data-1.1')",
        json!([]),
    );
    let edited = rt.block_on(store.get("u-ml", TRACK)).expect("get").expect("the job");
    assert_eq!(
        (
            edited.notes.as_deref(),
            edited.cv_version.as_deref(),
            edited.contacts.as_slice(),
            edited.revision
        ),
        (
            Some("Asked Jane for a referral"),
            Some("data-1.1"),
            &["jane@example.com".to_string()][..],
            2
        )
    );
    b.script(
        "const s = document.querySelector('[data-testid=detail-close-reason]'); s.value = arguments[0];",
        json!(["not_interested"]),
    );
    b.type_into("detail-note", "went with another team");
    b.click("detail-move-CLOSED");
    b.wait_for(
        "the close in the history",
        "return document.querySelector('[data-testid=history]')?.textContent.includes('To apply → Closed')",
        json!([]),
    );
    b.click("detail-close");
    b.wait_for(
        "the closed job gone from the board (its end is not shown)",
        "return !document.querySelector(`[data-testid=\"card-${arguments[0]}\"]`)",
        json!([ml]),
    );
    let (closed, events) = rt.block_on(async {
        let closed = store.get("u-ml", TRACK).await.expect("get").expect("the job");
        (closed, store.events("u-ml", TRACK).await.expect("events"))
    });
    assert_eq!(
        (closed.stage.as_str(), closed.close_reason.as_deref(), closed.revision),
        ("CLOSED", Some("not_interested"), 3)
    );
    assert_eq!(
        events.last().and_then(|e| e.note.as_deref()),
        Some("went with another team")
    );

    // 8. A lead from elsewhere, typed in: OPEN, in the table.
    b.click("add-lead-open");
    b.type_into("lead-title", "Platform Engineer");
    b.type_into("lead-company", "Elsewhere Pte Ltd");
    b.click("lead-submit");
    b.wait_for(
        "the lead in OPEN",
        "return [...document.querySelectorAll('[data-testid=column-OPEN] [data-testid^=open-]')]
            .some(e => e.textContent === 'Platform Engineer')",
        json!([]),
    );
    let leads: Vec<Job> = rt.block_on(async {
        let scan = aws
            .dynamodb()
            .scan()
            .table_name(CRM)
            .send()
            .await
            .expect("scan the CRM");
        scan.items()
            .iter()
            .filter(|i| {
                i.get("sk")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|sk| sk == "JOB#data")
            })
            .filter_map(|i| mcfstore::crm::job_from_item(i.clone()).ok())
            .filter(|j| j.title == "Platform Engineer")
            .collect()
    });
    assert_eq!(leads.len(), 1, "{leads:?}");
    assert_eq!(
        (leads[0].stage.as_str(), leads[0].company.as_deref()),
        ("OPEN", Some("Elsewhere Pte Ltd"))
    );

    // 9. The table: filtered by stage, sorted by a header's click.
    b.click("view-table");
    b.script(
        "for (const o of document.querySelector('[data-testid=filter-stage]').options) o.selected = o.value === 'TOAPPLY';",
        json!([]),
    );
    b.click("filter-apply");
    let rows =
        "return [...document.querySelectorAll('[data-testid^=row-]')].map(r => r.dataset.testid.slice(4)).join(' ')";
    let by_score = format!("{} {} {}", id("u-de"), id("u-ae"), id("u-sde"));
    b.wait_for(
        "TOAPPLY rows by score",
        &format!("{rows} === arguments[0]"),
        json!([by_score]),
    );
    b.click("sort-title");
    let by_title = format!("{} {} {}", id("u-ae"), id("u-de"), id("u-sde"));
    b.wait_for(
        "TOAPPLY rows by title",
        &format!("{rows} === arguments[0]"),
        json!([by_title]),
    );

    // 10. Signing out forgets the token.
    b.click("sign-out");
    b.wait("token-input");
    let forgotten = b.script("return localStorage.getItem('mcfcrm.token')", json!([]));
    assert_eq!(forgotten, json!(null));
    drop(b);
    rt.shutdown_background();
}
