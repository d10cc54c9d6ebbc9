//! A workbook tab as the Sheets API's `values.batchGet` returns it (rows of cells, trailing
//! empty cells and rows left out, numbers as numbers with `UNFORMATTED_VALUE`) and the tab's
//! merged ranges (`spreadsheets.get`): row 1 is the header, the rows below are data, and every
//! cell is located in A1 notation (`title_tags!C14`).
//!
//! A merged cell is read by the values API as its first cell's value and empty everywhere else,
//! so a merge silently drops values from every row but the first: each one is an error naming
//! its range, and nothing is synced until it is unmerged.

use serde_json::Value;

use super::csv::header_columns;
use super::schema::{self, describe};
use super::{Cell, Loc, Located, RawCell, RawRow, RawTable, Table, a1, number_text};

/// A merged range of a tab, 0-based and end-exclusive (the API's `GridRange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merge {
    pub start_row: usize,
    pub end_row: usize,
    pub start_column: usize,
    pub end_column: usize,
}

impl Merge {
    fn a1(&self) -> String {
        a1::range(self.start_row, self.end_row, self.start_column, self.end_column)
    }

    /// Whether the 0-based cell lies in the range but is not its first (top-left) cell.
    fn hides(&self, row: usize, column: usize) -> bool {
        (self.start_row..self.end_row).contains(&row)
            && (self.start_column..self.end_column).contains(&column)
            && (row, column) != (self.start_row, self.start_column)
    }
}

/// A cell of the values API as a [`Cell`].
pub fn cell(v: &Value) -> Cell {
    match v {
        Value::Null => Cell::Empty,
        Value::String(s) => Cell::text(s),
        Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Number),
        Value::Bool(b) => Cell::Bool(*b),
        other => Cell::Text(other.to_string()),
    }
}

/// The tab `tab` of workbook `workbook` as a table. `start` is where `values` begins (0-based
/// column, 1-based row: the API's returned range), `merges` the tab's merged ranges.
pub fn table(
    table: Table,
    workbook: &str,
    tab: &str,
    start: (usize, usize),
    values: &[Vec<Value>],
    merges: &[Merge],
) -> RawTable {
    let (first_column, first_row) = start;
    let at = |column: usize, row: usize| Loc::Cell {
        tab: tab.to_string(),
        column,
        row,
    };
    let mut raw = RawTable {
        table,
        source: format!("sheets:{workbook}#{tab}"),
        at: Loc::Tab { tab: tab.into() },
        rows: Vec::new(),
        has_header: true,
        problems: Vec::new(),
    };
    for m in merges {
        raw.problems.push(Located::error(
            Some(table),
            Loc::Range {
                tab: tab.into(),
                a1: m.a1(),
            },
            format!(
                "merged cells: the Sheets API reads only the first ({}{}) as written and every other cell of the range as empty; unmerge them and fill each cell",
                a1::column(m.start_column),
                m.start_row + 1
            ),
        ));
    }
    let Some(header) = values.first().filter(|h| h.iter().any(|c| !cell(c).is_empty())) else {
        raw.problems.push(Located::error(
            Some(table),
            at(first_column, first_row),
            format!(
                "the tab is empty: row {first_row} must be the header naming the columns ({})",
                describe(table)
            ),
        ));
        return raw;
    };
    if first_row != 1 || first_column != 0 {
        raw.problems.push(Located::error(
            Some(table),
            at(first_column, first_row),
            "the header must start at A1: move the table to the tab's top-left corner".to_string(),
        ));
        return raw;
    }
    let data = &values[1..];
    // Columns past the header's last name count too: a value there has no column.
    let width = values.iter().map(Vec::len).max().unwrap_or(0);
    let header_text: Vec<String> = (0..width)
        .map(|i| match header.get(i).map(cell) {
            Some(Cell::Text(t)) => t,
            Some(Cell::Number(n)) => number_text(n),
            Some(Cell::Bool(b)) => b.to_string(),
            _ => String::new(),
        })
        .collect();
    let below = |i: usize| {
        data.iter()
            .enumerate()
            .find(|(_, row)| row.get(i).is_some_and(|v| !cell(v).is_empty()))
            .map(|(r, _)| format!("{}{}", a1::column(i), r + 2))
    };
    let names = header_columns(
        table,
        &header_text,
        |i| at(i, 1),
        Loc::Row {
            tab: tab.into(),
            row: 1,
        },
        below,
        &mut raw.problems,
    );
    for (r, values) in data.iter().enumerate() {
        let row = r + 2;
        let cells = names
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                let name = name.as_ref()?;
                Some(RawCell {
                    column: name.clone(),
                    value: values.get(i).map_or(Cell::Empty, cell),
                    at: at(i, row),
                    merged: merges.iter().find(|m| m.hides(row - 1, i)).map(Merge::a1),
                })
            })
            .collect();
        raw.rows.push(RawRow {
            at: Loc::Row { tab: tab.into(), row },
            cells,
        });
    }
    raw
}

/// A table's rows (JSON objects of `jobmatch`'s row types) as a tab's values: the header of
/// every column, then one row each; lists joined by `, `. What a workbook holding this library
/// looks like (the tests' fake workbook is built with it).
pub fn values(table: Table, rows: &[Value]) -> Vec<Vec<Value>> {
    let columns = schema::columns(table);
    let mut out = vec![columns.iter().map(|c| Value::from(c.name)).collect::<Vec<_>>()];
    for row in rows {
        let mut cells: Vec<Value> = columns
            .iter()
            .map(|c| match &row[c.name] {
                Value::Null => Value::from(""),
                Value::Array(items) => Value::from(
                    items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                other => other.clone(),
            })
            .collect();
        // The API leaves trailing empty cells out.
        while cells.last().is_some_and(|c| c == "") {
            cells.pop();
        }
        out.push(cells);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(v: Value) -> Vec<Vec<Value>> {
        serde_json::from_value(v).unwrap()
    }

    fn problems(raw: &RawTable) -> Vec<String> {
        raw.problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn cells_are_located_in_a1_notation() {
        let values = rows(json!([
            ["tag", "industry", "score"],
            ["software engineer", "IT", 1],
            [],
            ["java developer", "", "high"]
        ]));
        let raw = table(Table::TitleTags, "wb", "title_tags", (0, 1), &values, &[]);
        assert!(raw.problems.is_empty(), "{:?}", raw.problems);
        assert_eq!(raw.source, "sheets:wb#title_tags");
        assert_eq!(raw.rows.len(), 3);
        let last = &raw.rows[2];
        assert_eq!(last.at.to_string(), "title_tags!4:4");
        assert_eq!(last.cells[2].at.to_string(), "title_tags!C4");
        assert_eq!(last.cells[2].value, Cell::text("high"));
        assert_eq!(last.cells[1].value, Cell::Empty);
        assert_eq!(raw.rows[0].cells[2].value, Cell::Number(1.0));
    }

    #[test]
    fn header_problems_and_merges_are_located() {
        let values = rows(json!([
            ["Tag", "scroe", "", "tag"],
            ["a b", 1, "", "", "stray"],
            ["c d", 2, "x"]
        ]));
        let merges = [Merge {
            start_row: 1,
            end_row: 3,
            start_column: 1,
            end_column: 2,
        }];
        let raw = table(Table::TitleTags, "wb", "title_tags", (0, 1), &values, &merges);
        assert_eq!(
            problems(&raw),
            [
                "title_tags!B2:B3: merged cells: the Sheets API reads only the first (B2) as written and every other cell of the range as empty; unmerge them and fill each cell",
                "title_tags!B1: unknown column \"scroe\" (title_tags has tag and score; may have industry, count, track)",
                "title_tags!C1: column 3 has no name in the header, but C3 has a value under it: name the column or clear it",
                "title_tags!D1: column \"tag\" is in the header twice",
                "title_tags!E1: column 5 has no name in the header, but E2 has a value under it: name the column or clear it",
                "title_tags!1:1: no column \"score\" in the header (title_tags has tag and score; may have industry, count, track)",
            ]
        );
        let empty = table(Table::TitleTags, "wb", "title_tags", (0, 1), &[], &[]);
        assert!(problems(&empty)[0].starts_with("title_tags!A1: the tab is empty"));
    }

    #[test]
    fn a_library_table_as_values_reads_back() {
        let rows_in = vec![
            json!({"tag": "software engineer", "industry": "IT", "count": 0.047, "score": 1.0}),
            json!({"tag": "data engineer", "score": 1.0, "track": "data"}),
        ];
        let values = values(Table::TitleTags, &rows_in);
        assert_eq!(
            values[0],
            rows(json!([["tag", "industry", "count", "score", "track"]]))[0]
        );
        assert_eq!(values[2], rows(json!([["data engineer", "", "", 1.0, "data"]]))[0]);
        let raw = table(Table::TitleTags, "wb", "title_tags", (0, 1), &values, &[]);
        let (read, problems) = schema::rows(&raw);
        assert!(problems.is_empty());
        let read: Vec<Value> = read.into_iter().map(|(r, _)| Value::Object(r)).collect();
        assert_eq!(read, rows_in);
        let tracks = super::values(
            Table::Tracks,
            &[json!({"id": "data", "name": "Data", "keyword_groups": ["a", "b c"]})],
        );
        assert_eq!(tracks[1], rows(json!([["data", "Data", "", "a, b c"]]))[0]);
    }
}
