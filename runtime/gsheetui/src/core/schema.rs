//! The columns of each table (the fields of `jobmatch::library`'s row types: a test holds the
//! two together), what each column accepts, and a source row made into a row of JSON that the
//! row type reads. Every refusal names the column and the value, located on its cell or line.

use serde_json::{Map, Number, Value};

use super::{Cell, Loc, Located, RawCell, RawRow, RawTable, Table, number_text};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text; a number is taken as its text (`11.4` for a CV version).
    Text,
    /// A number; text that reads as one is taken (CSV, or a sheet cell formatted as text).
    Number,
    /// A whole number ≥ 0.
    Whole,
    /// A list of text: a YAML list, or comma-separated text in a cell.
    List,
    /// A number when it reads as one, else text (a track's seniority: a weight or a rank
    /// tag; a config value).
    NumberOrText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// The row type has no default for it: every row needs a value.
    pub required: bool,
}

const fn col(name: &'static str, kind: Kind, required: bool) -> Column {
    Column { name, kind, required }
}

const TITLE_TAGS: &[Column] = &[
    col("tag", Kind::Text, true),
    col("industry", Kind::Text, false),
    col("count", Kind::Number, false),
    col("score", Kind::Number, true),
    col("track", Kind::Text, false),
];
const RANK_TAGS: &[Column] = &[col("tag", Kind::Text, true), col("weight", Kind::Number, true)];
const TAGS: &[Column] = &[col("tag", Kind::Text, true)];
const KEYWORD_TAGS: &[Column] = &[
    col("group", Kind::Text, true),
    col("tag", Kind::Text, true),
    col("score", Kind::Number, true),
];
const TRACKS: &[Column] = &[
    col("id", Kind::Text, true),
    col("name", Kind::Text, true),
    col("role", Kind::Text, false),
    col("keyword_groups", Kind::List, false),
    col("seniority", Kind::NumberOrText, false),
    col("salary_target", Kind::Number, false),
    col("match_score_min", Kind::Number, false),
    col("age_weeks", Kind::Whole, false),
    col("cv_version", Kind::Text, false),
];
const CONFIG: &[Column] = &[
    col("group", Kind::Text, true),
    col("parameter", Kind::Text, true),
    col("value", Kind::NumberOrText, true),
];

/// The columns of `table`, in the order a header row lists them.
pub fn columns(table: Table) -> &'static [Column] {
    match table {
        Table::TitleTags => TITLE_TAGS,
        Table::RankTags => RANK_TAGS,
        Table::JunkTags | Table::KeepTags => TAGS,
        Table::KeywordTags => KEYWORD_TAGS,
        Table::Tracks => TRACKS,
        Table::Config => CONFIG,
    }
}

/// The column of `table` a header or key names: trimmed, any case, spaces for underscores
/// (`Score`, `keyword groups`).
pub fn column(table: Table, name: &str) -> Option<&'static Column> {
    let wanted = normalise(name);
    columns(table).iter().find(|c| c.name == wanted)
}

pub fn normalise(name: &str) -> String {
    name.trim()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("_")
}

/// `title_tags has tag and score; may have industry, count, track`.
pub fn describe(table: Table) -> String {
    let names = |required: bool| {
        columns(table)
            .iter()
            .filter(|c| c.required == required)
            .map(|c| c.name)
            .collect::<Vec<_>>()
    };
    let (needs, may) = (names(true), names(false));
    let list = |v: &[&str]| match v {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    if may.is_empty() {
        format!("{} has {}", table.name(), list(&needs))
    } else {
        format!("{} has {}; may have {}", table.name(), list(&needs), may.join(", "))
    }
}

/// The JSON value of one cell for `column`, or why it cannot be one. `None`: the cell is empty.
pub fn value(column: &Column, cell: &Cell) -> Result<Option<Value>, String> {
    let name = column.name;
    let number = |n: f64| {
        Number::from_f64(n)
            .map(Value::Number)
            .ok_or_else(|| format!("{name} {} is not a finite number", number_text(n)))
    };
    let parsed = |t: &str| t.trim().parse::<f64>().ok().filter(|n| n.is_finite());
    match (column.kind, cell) {
        (_, Cell::Empty) => Ok(None),
        (_, Cell::Mapping) => Err(format!("{name} is a mapping: a column holds one value")),
        (Kind::List, Cell::List(items)) => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    Cell::Text(t) => out.push(Value::String(t.clone())),
                    Cell::Number(n) => out.push(Value::String(number_text(*n))),
                    Cell::Empty => {}
                    other => return Err(format!("{name}: {} is not text", other.quoted())),
                }
            }
            Ok(Some(Value::Array(out)))
        }
        (Kind::List, Cell::Text(t)) => Ok(Some(Value::Array(
            t.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ))),
        (_, Cell::List(_)) => Err(format!("{name} is a list: this column holds one value")),
        (Kind::Text, Cell::Text(t)) => Ok(Some(Value::String(t.clone()))),
        (Kind::Text | Kind::List, Cell::Number(n)) => {
            let text = Value::String(number_text(*n));
            Ok(Some(if column.kind == Kind::List {
                Value::Array(vec![text])
            } else {
                text
            }))
        }
        (Kind::Text | Kind::List, Cell::Bool(b)) => Err(format!("{name} {} is not text", Cell::Bool(*b).quoted())),
        (Kind::Number, Cell::Number(n)) => number(*n).map(Some),
        (Kind::Number, Cell::Text(t)) => match parsed(t) {
            Some(n) => number(n).map(Some),
            None => Err(format!("{name} {t:?} is not a number")),
        },
        (Kind::Whole, cell @ (Cell::Number(_) | Cell::Text(_))) => {
            let n = match cell {
                Cell::Number(n) => Some(*n),
                Cell::Text(t) => parsed(t),
                _ => None,
            };
            match n {
                Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => Ok(Some(Value::from(n as u64))),
                _ => Err(format!("{name} {} is not a whole number ≥ 0", cell.quoted())),
            }
        }
        (Kind::NumberOrText, Cell::Number(n)) => number(*n).map(Some),
        (Kind::NumberOrText, Cell::Text(t)) => Ok(Some(match parsed(t) {
            Some(n) => number(n)?,
            None => Value::String(t.clone()),
        })),
        (Kind::Number | Kind::Whole | Kind::NumberOrText, Cell::Bool(b)) => {
            Err(format!("{name} {} is not a number", Cell::Bool(*b).quoted()))
        }
    }
}

/// One row as a JSON object of its non-empty cells, with every problem of its cells located.
/// Rows whose cells are all empty are not rows (a blank line of a sheet): `Ok(None)`.
pub fn row(table: Table, raw: &RawRow, has_header: bool) -> Result<Option<Map<String, Value>>, Vec<Located>> {
    if raw.cells.iter().all(|c| c.value.is_empty() && c.merged.is_none()) {
        return Ok(None);
    }
    let mut out = Map::new();
    let mut problems = Vec::new();
    let mut seen: Vec<(&str, &Loc)> = Vec::new();
    let mut merged_gap = false;
    for cell in &raw.cells {
        let Some(column) = column(table, &cell.column) else {
            // A header names each column once: its unknown ones were reported there.
            if !has_header {
                problems.push(Located::error(
                    Some(table),
                    cell.at.clone(),
                    format!("unknown column {:?} ({})", cell.column, describe(table)),
                ));
            }
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == column.name) {
            problems.push(Located::error(
                Some(table),
                cell.at.clone(),
                format!("{} is given twice in this row (also at {first})", column.name),
            ));
            continue;
        }
        seen.push((column.name, &cell.at));
        match value(column, &cell.value) {
            Ok(Some(v)) => {
                out.insert(column.name.to_string(), v);
            }
            Ok(None) if column.required && cell.merged.is_none() => problems.push(empty(table, column, cell)),
            // A merged cell is reported once for its whole range (the tab's problems); the
            // row it empties is left out without a second error.
            Ok(None) if column.required => merged_gap = true,
            Ok(None) => {}
            Err(message) => problems.push(Located::error(Some(table), cell.at.clone(), message)),
        }
    }
    if !has_header {
        for column in columns(table).iter().filter(|c| c.required) {
            if !seen.iter().any(|(n, _)| *n == column.name) {
                problems.push(Located::error(
                    Some(table),
                    raw.at.clone(),
                    format!("no {}: every {} row needs one", column.name, table.name()),
                ));
            }
        }
    }
    if problems.is_empty() && !merged_gap {
        Ok(Some(out))
    } else {
        Err(problems)
    }
}

fn empty(table: Table, column: &Column, cell: &RawCell) -> Located {
    Located::error(
        Some(table),
        cell.at.clone(),
        format!("{} is empty: every {} row needs one", column.name, table.name()),
    )
}

/// The rows a table's schema accepted, each with the source row it came from.
pub type Accepted<'a> = Vec<(Map<String, Value>, &'a RawRow)>;

/// The rows of `raw` as JSON objects, each with the place of the row it came from; every
/// problem of every row, and the table's own, besides.
pub fn rows(raw: &RawTable) -> (Accepted<'_>, Vec<Located>) {
    let mut out = Vec::new();
    let mut problems = raw.problems.clone();
    for r in &raw.rows {
        match row(raw.table, r, raw.has_header) {
            Ok(Some(v)) => out.push((v, r)),
            Ok(None) => {}
            Err(p) => problems.extend(p),
        }
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::TABLES;
    use jobmatch::library::*;

    /// The columns are the row types' fields, with the same required ones: a field added to
    /// jobmatch without a column here fails this test.
    #[test]
    fn the_columns_are_the_fields_of_the_row_types() {
        fn fields<T: serde::Serialize>(full: T) -> Vec<String> {
            match serde_json::to_value(full).unwrap() {
                Value::Object(m) => m.keys().cloned().collect(),
                other => panic!("{other}"),
            }
        }
        fn required<T: serde::de::DeserializeOwned>(table: Table) -> Vec<&'static str> {
            // A field is required when the row does not read without it.
            let all: Map<String, Value> = columns(table)
                .iter()
                .map(|c| {
                    let v = match c.kind {
                        Kind::Text => Value::from("x"),
                        Kind::List => Value::from(vec!["x"]),
                        Kind::Whole => Value::from(1u64),
                        _ => Value::from(1.0),
                    };
                    (c.name.to_string(), v)
                })
                .collect();
            assert!(
                serde_json::from_value::<T>(Value::Object(all.clone())).is_ok(),
                "{table:?}"
            );
            columns(table)
                .iter()
                .filter(|c| {
                    let mut less = all.clone();
                    less.remove(c.name);
                    serde_json::from_value::<T>(Value::Object(less)).is_err()
                })
                .map(|c| c.name)
                .collect()
        }
        let title = TitleTag {
            tag: "a b".into(),
            industry: Some("IT".into()),
            count: Some(1.0),
            score: 1.0,
            track: Some("t".into()),
        };
        let track = Track {
            id: "t".into(),
            name: "T".into(),
            role: Some("r".into()),
            keyword_groups: vec!["g".into()],
            seniority: Some(Seniority::Weight(0.2)),
            salary_target: Some(1.0),
            match_score_min: Some(0.5),
            age_weeks: Some(4),
            cv_version: Some("1".into()),
        };
        let expected = [
            (Table::TitleTags, fields(title), required::<TitleTag>(Table::TitleTags)),
            (
                Table::RankTags,
                fields(RankTag {
                    tag: "a".into(),
                    weight: 1.0,
                }),
                required::<RankTag>(Table::RankTags),
            ),
            (
                Table::JunkTags,
                fields(Tag { tag: "a".into() }),
                required::<Tag>(Table::JunkTags),
            ),
            (
                Table::KeepTags,
                fields(Tag { tag: "a".into() }),
                required::<Tag>(Table::KeepTags),
            ),
            (
                Table::KeywordTags,
                fields(KeywordTag {
                    group: "g".into(),
                    tag: "a".into(),
                    score: 1.0,
                }),
                required::<KeywordTag>(Table::KeywordTags),
            ),
            (Table::Tracks, fields(track), required::<Track>(Table::Tracks)),
            (
                Table::Config,
                fields(ConfigRow {
                    group: "g".into(),
                    parameter: "p".into(),
                    value: ConfigValue::Number(1.0),
                }),
                required::<ConfigRow>(Table::Config),
            ),
        ];
        assert_eq!(expected.len(), TABLES.len());
        for (table, fields, required) in expected {
            let names: Vec<&str> = columns(table).iter().map(|c| c.name).collect();
            assert_eq!(names, fields, "{table:?}");
            let ours: Vec<&str> = columns(table).iter().filter(|c| c.required).map(|c| c.name).collect();
            assert_eq!(ours, required, "{table:?}");
        }
    }

    fn c(name: &'static str, kind: Kind) -> Column {
        col(name, kind, false)
    }

    #[test]
    fn cells_become_values_or_say_why_not() {
        let score = c("score", Kind::Number);
        assert_eq!(value(&score, &Cell::Number(1.0)), Ok(Some(Value::from(1.0))));
        assert_eq!(value(&score, &Cell::text(" -0.5 ")), Ok(Some(Value::from(-0.5))));
        assert_eq!(value(&score, &Cell::Empty), Ok(None));
        assert_eq!(
            value(&score, &Cell::text("high")),
            Err("score \"high\" is not a number".into())
        );
        assert_eq!(
            value(&score, &Cell::Bool(true)),
            Err("score TRUE is not a number".into())
        );
        assert_eq!(
            value(&score, &Cell::text("NaN")),
            Err("score \"NaN\" is not a number".into())
        );
        let weeks = c("age_weeks", Kind::Whole);
        assert_eq!(value(&weeks, &Cell::Number(4.0)), Ok(Some(Value::from(4u64))));
        assert_eq!(value(&weeks, &Cell::text("4")), Ok(Some(Value::from(4u64))));
        assert_eq!(
            value(&weeks, &Cell::Number(2.5)),
            Err("age_weeks 2.5 is not a whole number ≥ 0".into())
        );
        let cv = c("cv_version", Kind::Text);
        assert_eq!(value(&cv, &Cell::Number(11.4)), Ok(Some(Value::from("11.4"))));
        assert_eq!(value(&cv, &Cell::Number(2.0)), Ok(Some(Value::from("2"))));
        let groups = c("keyword_groups", Kind::List);
        assert_eq!(
            value(&groups, &Cell::text("data engineer, software engineer,")),
            Ok(Some(Value::from(vec!["data engineer", "software engineer"])))
        );
        assert_eq!(
            value(&groups, &Cell::List(vec![Cell::text("a"), Cell::Number(1.0)])),
            Ok(Some(Value::from(vec!["a", "1"])))
        );
        let seniority = c("seniority", Kind::NumberOrText);
        assert_eq!(
            value(&seniority, &Cell::text("senior")),
            Ok(Some(Value::from("senior")))
        );
        assert_eq!(value(&seniority, &Cell::text("0.22")), Ok(Some(Value::from(0.22))));
        assert!(value(&score, &Cell::List(vec![])).unwrap_err().contains("is a list"));
        assert!(value(&score, &Cell::Mapping).unwrap_err().contains("is a mapping"));
    }

    #[test]
    fn headers_match_in_any_case_and_with_spaces() {
        assert_eq!(
            column(Table::Tracks, " Keyword Groups ").map(|c| c.name),
            Some("keyword_groups")
        );
        assert_eq!(column(Table::TitleTags, "SCORE").map(|c| c.name), Some("score"));
        assert!(column(Table::TitleTags, "scroe").is_none());
        assert_eq!(
            describe(Table::TitleTags),
            "title_tags has tag and score; may have industry, count, track"
        );
        assert_eq!(describe(Table::JunkTags), "junk_tags has tag");
    }
}
