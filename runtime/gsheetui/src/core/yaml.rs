//! YAML files (`config/seed/library/<table>.yaml`, the starter library's format): a list of
//! rows, each a mapping of column to value (`- {tag: software engineer, score: 1}`). Values are
//! read by serde_norway (YAML's own typing), and the line of every row and key by
//! yaml-rust2's event markers, so an error names the line it is on.

use std::collections::HashMap;

use serde_norway::Value;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::{Cell, Loc, Located, RawCell, RawRow, RawTable, Table};

/// `file` (as shown in messages) holding `text` as a table.
pub fn table(table: Table, file: &str, text: &str) -> RawTable {
    let mut raw = RawTable {
        table,
        source: format!("file:{file}"),
        at: Loc::File { file: file.into() },
        rows: Vec::new(),
        has_header: false,
        problems: Vec::new(),
    };
    let at = |line: usize| Loc::Line {
        file: file.to_string(),
        line,
    };
    let value: Value = match serde_norway::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let line = e.location().map_or(1, |l| l.line());
            raw.problems
                .push(Located::error(Some(table), at(line), format!("not valid YAML: {e}")));
            return raw;
        }
    };
    let entries = match value {
        // An empty file (or comments only) is an empty table, like `[]`.
        Value::Null => return raw,
        Value::Sequence(entries) => entries,
        _ => {
            raw.problems.push(Located::error(
                Some(table),
                at(1),
                format!(
                    "the file must be a YAML list of {} rows, one `- {{column: value, …}}` each",
                    table.name()
                ),
            ));
            return raw;
        }
    };
    let lines = Lines::of(text);
    for (i, entry) in entries.into_iter().enumerate() {
        let row_line = lines.entries.get(i).copied().unwrap_or(1);
        let Value::Mapping(map) = untag(entry) else {
            raw.problems.push(Located::error(
                Some(table),
                at(row_line),
                "a row must be a mapping of column to value (`- {tag: …, score: …}`)",
            ));
            continue;
        };
        let mut cells = Vec::new();
        for (key, value) in map {
            let column = match untag(key) {
                Value::String(s) => s,
                other => scalar_text(&other),
            };
            let line = lines.keys.get(&(i, column.clone())).copied().unwrap_or(row_line);
            cells.push(RawCell {
                column,
                value: cell(value),
                at: at(line),
                merged: None,
            });
        }
        raw.rows.push(RawRow {
            at: at(row_line),
            cells,
        });
    }
    raw
}

fn untag(v: Value) -> Value {
    match v {
        Value::Tagged(t) => untag(t.value),
        other => other,
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => "?".into(),
    }
}

/// A YAML value as a cell.
fn cell(v: Value) -> Cell {
    match untag(v) {
        Value::Null => Cell::Empty,
        Value::Bool(b) => Cell::Bool(b),
        Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Number),
        Value::String(s) => Cell::text(&s),
        Value::Sequence(items) => Cell::List(items.into_iter().map(cell).collect()),
        Value::Mapping(_) => Cell::Mapping,
        Value::Tagged(_) => Cell::Empty,
    }
}

/// The line (1-based) of each top-level list entry, and of each key of an entry's mapping.
#[derive(Debug, Default)]
struct Lines {
    entries: Vec<usize>,
    keys: HashMap<(usize, String), usize>,
}

impl Lines {
    fn of(text: &str) -> Lines {
        let mut reader = Reader::default();
        // Syntax errors were reported by serde_norway; the index is best effort.
        let _ = Parser::new_from_str(text).load(&mut reader, false);
        reader.lines
    }
}

#[derive(Default)]
struct Reader {
    lines: Lines,
    /// Nesting: 0 outside the document's list, 1 in it, 2 in an entry, deeper below.
    depth: usize,
    /// In an entry's mapping at depth 2: whether the next scalar is a key.
    expect_key: bool,
}

impl MarkedEventReceiver for Reader {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        // Markers count lines from 1 in yaml-rust2.
        let line = mark.line();
        match ev {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if self.depth == 1 {
                    self.lines.entries.push(line);
                } else if self.depth == 2 {
                    // A value that is a list or a mapping: the next scalar is a key again.
                    self.expect_key = true;
                }
                self.depth += 1;
                if self.depth == 2 {
                    self.expect_key = true;
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.depth = self.depth.saturating_sub(1);
            }
            Event::Scalar(value, ..) => match self.depth {
                1 => self.lines.entries.push(line),
                2 => {
                    if self.expect_key {
                        let entry = self.lines.entries.len().saturating_sub(1);
                        self.lines.keys.entry((entry, value)).or_insert(line);
                    }
                    self.expect_key = !self.expect_key;
                }
                _ => {}
            },
            Event::Alias(..) => {
                if self.depth == 1 {
                    self.lines.entries.push(line);
                } else if self.depth == 2 {
                    self.expect_key = !self.expect_key;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# Title tags\n\
- {tag: software engineer, industry: IT, score: 1}\n\
\n\
- tag: data engineer\n  score: high\n  track: data\n\
- id: x\n  keyword_groups: [a, b]\n  name: X\n";

    #[test]
    fn rows_and_cells_know_their_lines() {
        let raw = table(Table::TitleTags, "lib/title_tags.yaml", TEXT);
        assert!(raw.problems.is_empty(), "{:?}", raw.problems);
        let lines: Vec<String> = raw.rows.iter().map(|r| r.at.to_string()).collect();
        assert_eq!(
            lines,
            [
                "lib/title_tags.yaml:2",
                "lib/title_tags.yaml:4",
                "lib/title_tags.yaml:7"
            ]
        );
        let second: Vec<(String, String, Cell)> = raw.rows[1]
            .cells
            .iter()
            .map(|c| (c.column.clone(), c.at.to_string(), c.value.clone()))
            .collect();
        assert_eq!(
            second,
            [
                (
                    "tag".into(),
                    "lib/title_tags.yaml:4".into(),
                    Cell::text("data engineer")
                ),
                ("score".into(), "lib/title_tags.yaml:5".into(), Cell::text("high")),
                ("track".into(), "lib/title_tags.yaml:6".into(), Cell::text("data")),
            ]
        );
        // After a list value, the next key is still found on its own line.
        let third = &raw.rows[2].cells;
        assert_eq!(third[1].value, Cell::List(vec![Cell::text("a"), Cell::text("b")]));
        assert_eq!(third[2].column, "name");
        assert_eq!(third[2].at.to_string(), "lib/title_tags.yaml:9");
        assert_eq!(raw.rows[0].cells[2].value, Cell::Number(1.0));
    }

    #[test]
    fn what_is_not_a_list_of_rows_is_located() {
        let raw = table(Table::JunkTags, "j.yaml", "- {tag: a}\n- b\n- {tag: [c\n");
        assert_eq!(raw.problems.len(), 1);
        // The parser notices the unclosed list at the end of the input (line 4) and says where
        // it began.
        let text = raw.problems[0].to_string();
        assert!(text.starts_with("j.yaml:4: not valid YAML"), "{text}");
        assert!(text.contains("flow sequence at line 3"), "{text}");
        let raw = table(Table::JunkTags, "j.yaml", "- {tag: a}\n- b\n");
        assert_eq!(
            raw.problems[0].to_string(),
            "j.yaml:2: a row must be a mapping of column to value (`- {tag: …, score: …}`)"
        );
        let raw = table(Table::JunkTags, "j.yaml", "tag: a\n");
        assert!(
            raw.problems[0]
                .to_string()
                .starts_with("j.yaml:1: the file must be a YAML list")
        );
        let raw = table(Table::JunkTags, "j.yaml", "# nothing yet\n");
        assert!(raw.problems.is_empty() && raw.rows.is_empty());
    }
}
