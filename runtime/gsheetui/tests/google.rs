//! The Google source against the fake Google (`gsheetfixture`): the token endpoint verifies
//! the JWT signed with the test key, the workbook is read through `values.batchGet`, and each
//! of Google's error answers becomes its own clear error.

use std::time::{Duration, Instant};

use gsheetfixture::{CLIENT_EMAIL, FakeGoogle, Fault, Tab, Workbook};
use gsheetui::core::{TABLES, Table, sheet};
use gsheetui::google::{Endpoints, Google, GoogleError, Retry, ServiceAccountKey};
use gsheetui::sync;
use serde_json::{Value, json};

const WB: &str = "1AbcTestWorkbook";

/// A workbook holding the starter library's rows of every table, through the same
/// `sheet::values` layout a user's workbook has.
fn starter_workbook() -> Workbook {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/seed/library");
    let (tables, problems) = gsheetui::files::read_dir(&dir, "config/seed/library");
    assert!(problems.is_empty());
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
                        values: sheet::values(t.table, &t.rows),
                        merges: Vec::new(),
                    },
                )
            })
            .collect(),
    )
}

fn google(fake: &FakeGoogle) -> Google {
    let mut g = Google::new(Endpoints {
        sheets_url: fake.url().into(),
        token_url: None,
    })
    .unwrap();
    g.retry = Retry {
        attempts: 3,
        base: Duration::from_millis(20),
        max_wait: Duration::from_secs(2),
    };
    g
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_workbook_reads_as_the_files_do() {
    let fake = FakeGoogle::start().unwrap();
    fake.put_workbook(WB, starter_workbook());
    let key = ServiceAccountKey::parse(&fake.key_json()).unwrap();
    let source = rt().block_on(google(&fake).read_workbook(&key, WB)).unwrap();
    assert_eq!(source.name, format!("sheets:{WB}"));
    assert!(source.problems.is_empty(), "{:?}", source.problems);
    let from_sheets = sync::check(&source).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/seed/library");
    let (tables, problems) = gsheetui::files::read_dir(&dir, "config/seed/library");
    let from_files = gsheetui::core::load::load(&tables, problems);
    for (a, b) in from_sheets.tables.iter().zip(&from_files.tables) {
        assert_eq!(
            a.sha256,
            b.sha256,
            "{} reads the same from a tab and a file",
            a.table.name()
        );
        assert_eq!(a.source, format!("sheets:{WB}#{}", a.table.name()));
    }
    assert_eq!(fake.token_requests(), 1);
    assert_eq!(fake.sheets_requests(), 2, "spreadsheets.get and one values.batchGet");
}

#[test]
fn bad_cells_missing_tabs_headers_and_merges_are_located_in_a1() {
    let fake = FakeGoogle::start().unwrap();
    let mut wb = starter_workbook();
    wb.tabs.retain(|(n, _)| n != "keep_tags");
    let title = wb.tab_mut("title_tags").unwrap();
    title.values[13][3] = json!("high");
    // A merged cell: C5:C6 (the score of rows 5 and 6) merged, the second reads empty.
    title.values[5].truncate(2);
    title.merges.push((4, 6, 3, 4));
    let rank = wb.tab_mut("rank_tags").unwrap();
    rank.values[0] = vec![json!("tag")]; // the header lost its weight column
    fake.put_workbook(WB, wb);
    let key = ServiceAccountKey::parse(&fake.key_json()).unwrap();
    let source = rt().block_on(google(&fake).read_workbook(&key, WB)).unwrap();
    let Err(sync::SyncError::Invalid { errors, .. }) = sync::check(&source) else {
        panic!("errors expected")
    };
    let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let has = |needle: &str| assert!(texts.iter().any(|t| t.contains(needle)), "{needle} in {texts:#?}");
    has("title_tags!D14: score \"high\" is not a number");
    has("title_tags!D5:D6: merged cells");
    assert!(
        !texts.iter().any(|t| t.starts_with("title_tags!6:6")),
        "the row the merge emptied gets no second error: {texts:#?}"
    );
    has("rank_tags!1:1: no column \"weight\"");
    has("keep_tags: workbook 1AbcTestWorkbook has no tab keep_tags");
}

fn error_of(fake: &FakeGoogle, fault: Option<Fault>) -> GoogleError {
    fake.set_fault(fault);
    let key = ServiceAccountKey::parse(&fake.key_json()).unwrap();
    rt().block_on(google(fake).read_workbook(&key, WB)).unwrap_err()
}

#[test]
fn each_google_error_says_what_to_do() {
    let fake = FakeGoogle::start().unwrap();
    fake.put_workbook(WB, starter_workbook());
    let text = |f| error_of(&fake, Some(f)).to_string();
    assert!(text(Fault::Unauthenticated).contains("401"));
    let e = text(Fault::Forbidden);
    assert!(
        e.contains("not shared with the service account") && e.contains(CLIENT_EMAIL),
        "{e}"
    );
    assert!(text(Fault::NotFound).contains("sync.workbook_id"));
    let e = text(Fault::ServerError { times: u32::MAX });
    assert!(e.contains("500") && e.contains("3 times"), "{e}");
    let e = text(Fault::Malformed);
    assert!(e.contains("not what the API returns"), "{e}");

    // A workbook shared with someone else: Google's own 403, no fault forced.
    fake.edit_workbook(WB, |w| w.shared_with = vec!["someone@example.com".into()]);
    let e = error_of(&fake, None).to_string();
    assert!(e.contains(&format!("add {CLIENT_EMAIL} as a Viewer")), "{e}");
    // No such workbook.
    let key = ServiceAccountKey::parse(&fake.key_json()).unwrap();
    let e = rt().block_on(google(&fake).read_workbook(&key, "nope")).unwrap_err();
    assert!(matches!(e, GoogleError::NotFound { .. }), "{e}");
}

#[test]
fn rate_limits_are_waited_out_as_retry_after_says_and_transient_errors_retried() {
    let fake = FakeGoogle::start().unwrap();
    fake.put_workbook(WB, starter_workbook());
    let key = ServiceAccountKey::parse(&fake.key_json()).unwrap();
    fake.set_fault(Some(Fault::RateLimited {
        times: 1,
        retry_after: 1,
    }));
    let started = Instant::now();
    let source = rt().block_on(google(&fake).read_workbook(&key, WB)).unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 honoured");
    assert_eq!(source.tables.len(), 7);
    assert_eq!(fake.sheets_requests(), 3, "429, then get and batchGet");
    fake.set_fault(Some(Fault::ServerError { times: 2 }));
    let source = rt().block_on(google(&fake).read_workbook(&key, WB)).unwrap();
    assert_eq!(source.tables.len(), 7);
    // Always limited: given up after the attempts, said so.
    fake.set_fault(Some(Fault::RateLimited {
        times: 100,
        retry_after: 0,
    }));
    let e = rt()
        .block_on(google(&fake).read_workbook(&key, WB))
        .unwrap_err()
        .to_string();
    assert!(e.contains("429") && e.contains("rate limited"), "{e}");
}

#[test]
fn a_key_google_does_not_know_or_a_wrong_signature_is_refused_at_the_token() {
    let fake = FakeGoogle::start().unwrap();
    fake.put_workbook(WB, starter_workbook());
    let stranger = gsheetfixture::key_json("stranger@x.iam.gserviceaccount.com", &fake.token_url());
    let key = ServiceAccountKey::parse(&stranger).unwrap();
    let e = rt()
        .block_on(google(&fake).read_workbook(&key, WB))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("refused the service-account key of stranger@") && e.contains("invalid_grant"),
        "{e}"
    );
    // The token endpoint checks the audience: a token URL that is not the one signed for.
    let mut g = google(&fake);
    g.endpoints.token_url = Some(format!("{}/token?x=1", fake.url()));
    let key = ServiceAccountKey::parse(&fake.key_json()).unwrap();
    let e = rt().block_on(g.read_workbook(&key, WB)).unwrap_err().to_string();
    assert!(e.contains("aud"), "{e}");
    assert!(fake.last_refusal().unwrap().contains("aud"));
    let _ = (Value::Null, TABLES, Table::Config);
}
