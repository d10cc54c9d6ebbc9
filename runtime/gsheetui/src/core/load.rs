//! Seven source tables → a `jobmatch::Library`, checked whole: the layout problems of each
//! source, every cell the schema refuses, and every problem of `jobmatch::validate`, each
//! placed on the cell or line it is about. Validation's `row N` (a row's index in its table)
//! becomes the row's place in the source (`row 14` of a sheet, `line 12` of a file).

use jobmatch::{Library, Problem, Severity};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::diff::{MAX_TABLE_BYTES, sha256_hex};
use super::{Loc, Located, RawRow, RawTable, TABLES, Table, schema};

/// One table as it will be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRows {
    pub table: Table,
    /// The item's `source`.
    pub source: String,
    /// Each row as its `jobmatch` type serializes it (what `json` holds, for the diff).
    pub rows: Vec<Value>,
    /// The item's `rows`: the JSON array.
    pub json: String,
    pub sha256: String,
}

/// A library read from a source.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub library: Library,
    /// In [`TABLES`] order.
    pub tables: Vec<TableRows>,
    /// Errors and warnings, by table.
    pub problems: Vec<Located>,
}

impl Loaded {
    pub fn errors(&self) -> impl Iterator<Item = &Located> {
        self.problems.iter().filter(|p| p.is_error())
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

/// The library of `raw` (one table each; a table missing from it must have been reported by
/// the caller as a problem of the source, and reads as empty here).
pub fn load(raw: &[RawTable], mut problems: Vec<Located>) -> Loaded {
    let mut library = Library::default();
    let mut tables = Vec::new();
    let mut places: Vec<(Table, Vec<&RawRow>)> = Vec::new();
    for table in TABLES {
        let Some(source) = raw.iter().find(|r| r.table == table) else {
            tables.push(stored(table, String::new(), Vec::new()));
            places.push((table, Vec::new()));
            continue;
        };
        let (rows, found) = schema::rows(source);
        problems.extend(found);
        let (maps, at): (Vec<Map<String, Value>>, Vec<&RawRow>) = rows.into_iter().unzip();
        let values = match table {
            Table::TitleTags => typed(table, &maps, &at, &mut problems, &mut library.title_tags),
            Table::RankTags => typed(table, &maps, &at, &mut problems, &mut library.rank_tags),
            Table::JunkTags => typed(table, &maps, &at, &mut problems, &mut library.junk_tags),
            Table::KeepTags => typed(table, &maps, &at, &mut problems, &mut library.keep_tags),
            Table::KeywordTags => typed(table, &maps, &at, &mut problems, &mut library.keyword_tags),
            Table::Tracks => typed(table, &maps, &at, &mut problems, &mut library.tracks),
            Table::Config => typed(table, &maps, &at, &mut problems, &mut library.config),
        };
        let rows = stored(table, source.source.clone(), values.0);
        if rows.json.len() > MAX_TABLE_BYTES {
            problems.push(Located::error(
                Some(table),
                source.at.clone(),
                format!(
                    "{} KB of rows, over the {} KB a library table may hold (DynamoDB's item limit is 400 KB): remove rows",
                    rows.json.len().div_ceil(1024),
                    MAX_TABLE_BYTES / 1024
                ),
            ));
        }
        tables.push(rows);
        places.push((table, values.1));
    }
    for p in jobmatch::validate(&library) {
        let rows = places
            .iter()
            .find(|(t, _)| *t == p.table)
            .map(|(_, r)| r.as_slice())
            .unwrap_or_default();
        problems.push(locate(&p, rows));
    }
    // By table, the source's order within each (a stable sort keeps it).
    problems.sort_by_key(|p| p.table.and_then(|t| TABLES.iter().position(|x| *x == t)).unwrap_or(0));
    Loaded {
        library,
        tables,
        problems,
    }
}

fn stored(table: Table, source: String, rows: Vec<Value>) -> TableRows {
    let json = Value::Array(rows.clone()).to_string();
    TableRows {
        table,
        source,
        sha256: sha256_hex(&json),
        rows,
        json,
    }
}

/// Reads each row into its type (pushed to `out`); returns the rows as the type writes them,
/// with their places. A row the type refuses (the schema should have refused it first) is an
/// error on its row.
fn typed<'a, T: DeserializeOwned + serde::Serialize>(
    table: Table,
    maps: &[Map<String, Value>],
    at: &[&'a RawRow],
    problems: &mut Vec<Located>,
    out: &mut Vec<T>,
) -> (Vec<Value>, Vec<&'a RawRow>) {
    let mut values = Vec::new();
    let mut places = Vec::new();
    for (map, row) in maps.iter().zip(at) {
        match serde_json::from_value::<T>(Value::Object(map.clone())) {
            Ok(v) => {
                values.push(serde_json::to_value(&v).unwrap_or(Value::Null));
                out.push(v);
                places.push(*row);
            }
            Err(e) => problems.push(Located::error(
                Some(table),
                row.at.clone(),
                format!("this row cannot be read as a {} row: {e}", table.name()),
            )),
        }
    }
    (values, places)
}

/// A validation problem placed on its cell (the row's place when the row has no such cell),
/// with the rows it names placed too.
fn locate(p: &Problem, rows: &[&RawRow]) -> Located {
    let row = rows.get(p.row);
    let at = row
        .and_then(|r| r.cells.iter().find(|c| schema::normalise(&c.column) == p.column))
        .map(|c| c.at.clone())
        .or_else(|| row.map(|r| r.at.clone()))
        .unwrap_or(Loc::Tab {
            tab: p.table.name().into(),
        });
    let message = format!(
        "{}: {}",
        p.column,
        relocate_rows(&p.message, |n| rows.get(n).map(|r| r.at.row_words()))
    );
    Located {
        severity: p.severity,
        table: Some(p.table),
        at,
        message,
    }
}

/// `message` with each `row N` outside backquotes (validation's 0-based index of a row of the
/// same table) replaced by what `place(N)` says.
fn relocate_rows(message: &str, place: impl Fn(usize) -> Option<String>) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    let mut rest = message;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("row ").filter(|_| !quoted) {
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            let boundary = out.is_empty() || out.ends_with(|c: char| !c.is_alphanumeric());
            if boundary && !digits.is_empty() {
                if let Some(words) = digits.parse().ok().and_then(&place) {
                    out.push_str(&words);
                    rest = &after[digits.len()..];
                    continue;
                }
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        if c == '`' {
            quoted = !quoted;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Whether a severity stops the sync.
pub fn stops(s: Severity) -> bool {
    s == Severity::Error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{sheet, yaml};
    use serde_json::json;

    #[test]
    fn validation_rows_become_places_outside_quotes_only() {
        let place = |n: usize| Some(format!("line {}", n + 10));
        assert_eq!(
            relocate_rows("`a b` is 1 here and -1 in row 3: keep one", place),
            "`a b` is 1 here and -1 in line 13: keep one"
        );
        assert_eq!(relocate_rows("`row 2` repeats row 0", place), "`row 2` repeats line 10");
        assert_eq!(relocate_rows("the first row is used", place), "the first row is used");
        assert_eq!(relocate_rows("narrow 3", place), "narrow 3");
        assert_eq!(relocate_rows("row 99", |_| None), "row 99");
    }

    /// Every table of a workbook as tab values; `title_tags` given.
    fn workbook(title_tags: Value) -> Vec<RawTable> {
        let header = |t: Table| sheet::values(t, &[]);
        let mut out = vec![sheet::table(
            Table::TitleTags,
            "wb",
            "title_tags",
            (0, 1),
            &serde_json::from_value::<Vec<Vec<Value>>>(title_tags).unwrap(),
            &[],
        )];
        for t in &TABLES[1..] {
            out.push(sheet::table(*t, "wb", t.name(), (0, 1), &header(*t), &[]));
        }
        out
    }

    fn texts(loaded: &Loaded) -> Vec<String> {
        loaded.problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn cells_and_validation_problems_are_placed_on_the_sheet() {
        let loaded = load(
            &workbook(json!([
                ["tag", "industry", "score"],
                ["software engineer", "IT", 1],
                ["java developer", "IT", -1],
                ["software engineer", "", -1],
                ["the and", "", 1],
                ["data engineer", "", "high"]
            ])),
            Vec::new(),
        );
        assert_eq!(
            texts(&loaded),
            [
                "title_tags!C6: score \"high\" is not a number",
                "title_tags!C4: score: `software engineer` for every track is -1 here and 1 in row 2: keep one",
                "title_tags!A5: tag: `the and` is only stop words (the, and): cleaning removes them from every text, so it can never match",
            ]
        );
        assert!(loaded.has_errors());
        assert_eq!(loaded.tables[0].rows.len(), 4, "the refused row is left out");
    }

    #[test]
    fn file_rows_are_placed_on_their_lines_and_stored_as_their_types_write_them() {
        let text = "- {tag: software engineer, score: 1}\n- tag: data engineer\n  score: 1\n  track: data\n";
        let mut raw: Vec<RawTable> = vec![yaml::table(Table::TitleTags, "lib/title_tags.yaml", text)];
        raw.push(yaml::table(
            Table::Tracks,
            "lib/tracks.yaml",
            "- id: data\n  name: Data\n  cv_version: d1\n  keyword_groups: []\n",
        ));
        let loaded = load(&raw, Vec::new());
        // Warnings only: the track has no keyword groups.
        assert!(!loaded.has_errors(), "{:?}", texts(&loaded));
        assert_eq!(
            texts(&loaded),
            [
                "lib/tracks.yaml:4: warning: keyword_groups: no keyword groups: descriptions are not scored for this track"
            ]
        );
        let title = &loaded.tables[0];
        assert_eq!(title.source, "file:lib/title_tags.yaml");
        assert_eq!(
            title.json,
            r#"[{"tag":"software engineer","score":1.0},{"tag":"data engineer","score":1.0,"track":"data"}]"#
        );
        assert_eq!(title.sha256, sha256_hex(&title.json));
        assert_eq!(loaded.library.title_tags[1].track.as_deref(), Some("data"));
    }
}
