//! The "Bad input" for config sync: duplicate tags, conflicting scores, a tag made only
//! of stop words, a missing header, a merged cell, a score that is not a number. Each is a
//! located error (or, for a harmless repeat, a located warning) from a sheet and from a file,
//! and nothing panics on any input.

use gsheetui::core::sheet::{self, Merge};
use gsheetui::core::{RawTable, TABLES, Table, csv, load, yaml};
use gsheetui::sync::{self, Source, SyncError};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A workbook: `title_tags` as given, every other tab its header only.
fn workbook(title: Value, merges: &[Merge]) -> Vec<RawTable> {
    let mut out = vec![sheet::table(
        Table::TitleTags,
        "wb",
        "title_tags",
        (0, 1),
        &serde_json::from_value::<Vec<Vec<Value>>>(title).unwrap(),
        merges,
    )];
    for t in &TABLES[1..] {
        out.push(sheet::table(*t, "wb", t.name(), (0, 1), &sheet::values(*t, &[]), &[]));
    }
    out
}

/// The library's problems as text (errors and warnings), and whether the sync refuses it.
fn problems(tables: Vec<RawTable>) -> (Vec<String>, bool) {
    let source = Source {
        name: "test".into(),
        tables,
        problems: Vec::new(),
    };
    match sync::check(&source) {
        Ok(loaded) => (loaded.problems.iter().map(ToString::to_string).collect(), false),
        Err(SyncError::Invalid { errors, warnings }) => {
            (errors.iter().chain(&warnings).map(ToString::to_string).collect(), true)
        }
        Err(e) => panic!("{e}"),
    }
}

fn has(texts: &[String], needle: &str) {
    assert!(texts.iter().any(|t| t.contains(needle)), "`{needle}` in {texts:#?}");
}

#[test]
fn duplicate_tags_are_a_located_warning_and_conflicting_scores_a_located_error() {
    let (texts, refused) = problems(workbook(
        json!([["tag", "score"], ["software engineer", 1], ["Software  Engineer", 1]]),
        &[],
    ));
    assert!(!refused, "a repeat with the same score is harmless: {texts:?}");
    has(&texts, "title_tags!A3: warning:");
    let (texts, refused) = problems(workbook(
        json!([["tag", "score"], ["software engineer", 1], ["software engineer", -1]]),
        &[],
    ));
    assert!(refused);
    has(
        &texts,
        "title_tags!B3: score: `software engineer` for every track is -1 here and 1 in row 2: keep one",
    );
}

#[test]
fn a_tag_made_only_of_stop_words_is_a_located_error() {
    let (texts, refused) = problems(workbook(json!([["tag", "score"], ["of the", 1]]), &[]));
    assert!(refused);
    has(&texts, "title_tags!A2: tag: `of the` is only stop words");
}

#[test]
fn a_missing_header_is_a_located_error() {
    // The first row is data: no header names the columns.
    let (texts, refused) = problems(workbook(json!([["software engineer", 1], ["java developer", -1]]), &[]));
    assert!(refused);
    has(&texts, "title_tags!A1: unknown column \"software engineer\"");
    has(&texts, "title_tags!1:1: no column \"tag\" in the header");
    // A CSV file the same.
    let raw = csv::table(Table::TitleTags, "lib/title_tags.csv", "software engineer,1\n");
    let t: Vec<String> = raw.problems.iter().map(ToString::to_string).collect();
    has(&t, "lib/title_tags.csv:1: no column \"tag\"");
    // An empty tab.
    let mut tables = workbook(json!([]), &[]);
    tables.truncate(1);
    let (texts, _) = problems(tables);
    has(&texts, "title_tags!A1: the tab is empty");
}

#[test]
fn a_merged_cell_is_a_located_error_and_its_row_is_not_half_read() {
    let (texts, refused) = problems(workbook(
        json!([["tag", "score"], ["data engineer", 1], ["data architect"]]),
        &[Merge {
            start_row: 1,
            end_row: 3,
            start_column: 1,
            end_column: 2,
        }],
    ));
    assert!(refused);
    has(&texts, "title_tags!B2:B3: merged cells");
    assert_eq!(
        texts.len(),
        1,
        "one error for the merge, none for the row it emptied: {texts:#?}"
    );
}

#[test]
fn a_score_that_is_not_a_number_is_located_in_a_sheet_and_a_file() {
    let (texts, refused) = problems(workbook(json!([["tag", "score"], ["a b", 1], ["c d", "high"]]), &[]));
    assert!(refused);
    has(&texts, "title_tags!B3: score \"high\" is not a number");
    let raw = yaml::table(
        Table::TitleTags,
        "lib/title_tags.yaml",
        "- {tag: a b, score: 1}\n- tag: c d\n  score: high\n",
    );
    let (texts, refused) = problems(vec![raw]);
    assert!(refused);
    has(&texts, "lib/title_tags.yaml:3: score \"high\" is not a number");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_text_panics_a_file_source(text in "\\PC{0,200}", csv_like in "([a-z ,\"\\n:-]{0,20}){0,8}") {
        for t in TABLES {
            let _ = load::load(&[yaml::table(t, "f.yaml", &text)], Vec::new());
            let _ = load::load(&[yaml::table(t, "f.yaml", &csv_like)], Vec::new());
            let _ = load::load(&[csv::table(t, "f.csv", &text)], Vec::new());
            let _ = load::load(&[csv::table(t, "f.csv", &csv_like)], Vec::new());
        }
    }

    #[test]
    fn no_grid_panics_a_sheet_source(
        grid in prop::collection::vec(prop::collection::vec(
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
                "[a-z+#. ]{0,12}".prop_map(Value::from),
                Just(Value::from("tag")),
                Just(Value::from("score")),
            ], 0..6), 0..8),
        row in 0usize..10, col in 0usize..8, start_row in 0usize..3, start_col in 0usize..3,
    ) {
        let merges = [Merge { start_row: row, end_row: row + 2, start_column: col, end_column: col + 1 }];
        for t in TABLES {
            let raw = sheet::table(t, "wb", t.name(), (start_col, start_row + 1), &grid, &merges);
            let _ = load::load(&[raw], Vec::new());
        }
    }
}
