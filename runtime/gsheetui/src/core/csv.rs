//! CSV files (`config/seed/library/<table>.csv`): RFC 4180 (commas, double-quoted fields that
//! may hold commas, line breaks and `""`), a header row naming the columns, one row per
//! record. Every record keeps the line it starts on, for the errors.

use super::schema::{self, describe};
use super::{Cell, Loc, Located, RawCell, RawRow, RawTable, Table};

/// One record and the line (1-based) it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// The records of `text`, or the line and reason of the first syntax error.
pub fn records(text: &str) -> Result<Vec<Record>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        loop {
            match chars.next() {
                None => {
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some('"') if field.is_empty() => {
                    // A quoted field: up to the quote that is not doubled.
                    let opened = line;
                    loop {
                        match chars.next() {
                            None => return Err((opened, "a quoted field is not closed (a `\"` is missing)".into())),
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                field.push('"');
                            }
                            Some('"') => break,
                            Some(c) => {
                                if c == '\n' {
                                    line += 1;
                                }
                                field.push(c);
                            }
                        }
                    }
                    match chars.peek() {
                        None | Some(',' | '\n' | '\r') => {}
                        Some(c) => {
                            return Err((line, format!("`{c}` after a closing quote: quote the whole field")));
                        }
                    }
                }
                Some(',') => fields.push(std::mem::take(&mut field)),
                Some('\r') if chars.peek() == Some(&'\n') => {}
                Some('\n') => {
                    line += 1;
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some(c) => field.push(c),
            }
        }
        out.push(Record { line: start, fields });
    }
    Ok(out)
}

/// `file` (as shown in messages) holding `text` as a table: the header's columns checked, each
/// data record a row whose cells are located on its line.
pub fn table(table: Table, file: &str, text: &str) -> RawTable {
    let mut raw = RawTable {
        table,
        source: format!("file:{file}"),
        at: Loc::File { file: file.into() },
        rows: Vec::new(),
        has_header: true,
        problems: Vec::new(),
    };
    let at = |line: usize| Loc::Line {
        file: file.to_string(),
        line,
    };
    let records = match records(text) {
        Ok(r) => r,
        Err((line, why)) => {
            raw.problems.push(Located::error(Some(table), at(line), why));
            return raw;
        }
    };
    let mut records = records.into_iter();
    let Some(header) = records.next().filter(|h| h.fields.iter().any(|f| !f.trim().is_empty())) else {
        raw.problems.push(Located::error(
            Some(table),
            at(1),
            format!("line 1 must be the header naming the columns ({})", describe(table)),
        ));
        return raw;
    };
    let data: Vec<Record> = records.collect();
    let below = |i: usize| {
        data.iter()
            .find(|r| r.fields.get(i).is_some_and(|f| !f.trim().is_empty()))
            .map(|r| format!("line {}", r.line))
    };
    let names = header_columns(
        table,
        &header.fields,
        |_| at(header.line),
        at(header.line),
        below,
        &mut raw.problems,
    );
    for record in data {
        let mut cells = Vec::new();
        for (i, value) in record.fields.iter().enumerate() {
            match names.get(i) {
                Some(Some(name)) => cells.push(RawCell {
                    column: name.clone(),
                    value: Cell::text(value),
                    at: at(record.line),
                    merged: None,
                }),
                Some(None) => {}
                None if value.trim().is_empty() => {}
                None => raw.problems.push(Located::error(
                    Some(table),
                    at(record.line),
                    format!(
                        "field {} ({:?}) has no column: the header has {}",
                        i + 1,
                        value.trim(),
                        names.len()
                    ),
                )),
            }
        }
        // A short record reads as empty cells, as a sheet's short row does.
        for name in names.iter().skip(record.fields.len()).flatten() {
            cells.push(RawCell {
                column: name.clone(),
                value: Cell::Empty,
                at: at(record.line),
                merged: None,
            });
        }
        raw.rows.push(RawRow {
            at: at(record.line),
            cells,
        });
    }
    raw
}

/// The column of each header field (`None`: unknown, repeated or blank, each reported once at
/// `cell_at(i)`), and every required column the header lacks, reported at `header_at`.
/// `value_below(i)` says where a value stands under field `i`, if anywhere (a blank header
/// over values is an error, over nothing a spacer).
pub(crate) fn header_columns(
    table: Table,
    header: &[String],
    cell_at: impl Fn(usize) -> Loc,
    header_at: Loc,
    value_below: impl Fn(usize) -> Option<String>,
    problems: &mut Vec<Located>,
) -> Vec<Option<String>> {
    let mut names: Vec<Option<String>> = Vec::new();
    for (i, field) in header.iter().enumerate() {
        let name = field.trim();
        if name.is_empty() {
            if let Some(below) = value_below(i) {
                problems.push(Located::error(
                    Some(table),
                    cell_at(i),
                    format!(
                        "column {} has no name in the header, but {below} has a value under it: name the column or clear it",
                        i + 1
                    ),
                ));
            }
            names.push(None);
            continue;
        }
        match schema::column(table, name) {
            None => {
                problems.push(Located::error(
                    Some(table),
                    cell_at(i),
                    format!("unknown column {name:?} ({})", describe(table)),
                ));
                names.push(None);
            }
            Some(c) if names.iter().flatten().any(|n| n == c.name) => {
                problems.push(Located::error(
                    Some(table),
                    cell_at(i),
                    format!("column {:?} is in the header twice", c.name),
                ));
                names.push(None);
            }
            Some(c) => names.push(Some(c.name.to_string())),
        }
    }
    for c in schema::columns(table).iter().filter(|c| c.required) {
        if !names.iter().flatten().any(|n| n == c.name) {
            problems.push(Located::error(
                Some(table),
                header_at.clone(),
                format!("no column {:?} in the header ({})", c.name, describe(table)),
            ));
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<(usize, Vec<&str>)> {
        // Leaked for the comparison's convenience: tests only.
        records(text)
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    r.line,
                    r.fields.into_iter().map(|f| &*Box::leak(f.into_boxed_str())).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn records_keep_their_first_line() {
        assert_eq!(
            fields("tag,score\nsoftware engineer,1\r\n\"data, big\",\"-1\"\n"),
            vec![
                (1, vec!["tag", "score"]),
                (2, vec!["software engineer", "1"]),
                (3, vec!["data, big", "-1"])
            ]
        );
        // A quoted line break: the next record starts two lines later.
        assert_eq!(
            fields("a,b\n\"x\ny\",\"say \"\"hi\"\"\"\nz,\n"),
            vec![(1, vec!["a", "b"]), (2, vec!["x\ny", "say \"hi\""]), (4, vec!["z", ""])]
        );
        assert_eq!(fields("\u{feff}a\n\"\"\n"), vec![(1, vec!["a"]), (2, vec![""])]);
        assert_eq!(fields("a\n\nb"), vec![(1, vec!["a"]), (2, vec![""]), (3, vec!["b"])]);
    }

    #[test]
    fn syntax_errors_name_their_line() {
        assert_eq!(records("a\n\"open,1\n2\n").unwrap_err().0, 2);
        let (line, why) = records("a,b\n\"x\"y,1\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(why.contains("after a closing quote"), "{why}");
    }

    #[test]
    fn a_table_with_its_header_checked() {
        let raw = table(
            Table::TitleTags,
            "lib/title_tags.csv",
            "tag,Score,scroe\nsoftware engineer,1\njava developer,x,,extra\n",
        );
        let problems: Vec<String> = raw.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                "lib/title_tags.csv:1: unknown column \"scroe\" (title_tags has tag and score; may have industry, count, track)",
                "lib/title_tags.csv:3: field 4 (\"extra\") has no column: the header has 3",
            ]
        );
        assert_eq!(raw.rows.len(), 2);
        assert_eq!(
            raw.rows[0].cells.len(),
            2,
            "the short row reads the missing score as empty"
        );
        assert_eq!(raw.rows[0].cells[1].value, Cell::text("1"));
        assert_eq!(raw.rows[1].at.to_string(), "lib/title_tags.csv:3");
        let raw = table(Table::TitleTags, "t.csv", "tag\nx\n");
        assert_eq!(
            raw.problems[0].to_string(),
            "t.csv:1: no column \"score\" in the header (title_tags has tag and score; may have industry, count, track)"
        );
    }
}
