//! The pure core of config sync: no I/O, no AWS, no HTTP. A source's text or a sheet's values
//! become [`RawTable`]s (every cell with where it stands), the [`schema`] turns them into
//! `jobmatch` rows, [`load`] checks the whole library and places every problem back on its cell
//! or line, and [`diff`] compares it with what the table holds.
//!
//! Where things stand is a [`Loc`]: a cell in A1 notation (`title_tags!C14`), a row
//! (`title_tags!14:14`), a tab, or a file and line (`config/seed/library/title_tags.yaml:12`).

pub mod a1;
pub mod csv;
pub mod diff;
pub mod load;
pub mod schema;
pub mod sheet;
pub mod yaml;

use std::fmt;

pub use jobmatch::{Severity, Table};
use serde::Serialize;

/// Every table of the library, in the order the files, the tabs and the report list them.
pub const TABLES: [Table; 7] = [
    Table::TitleTags,
    Table::RankTags,
    Table::JunkTags,
    Table::KeepTags,
    Table::KeywordTags,
    Table::Tracks,
    Table::Config,
];

/// The table named `name` (a file stem or a tab title).
pub fn table_named(name: &str) -> Option<Table> {
    TABLES.into_iter().find(|t| t.name() == name)
}

/// Where a value, a row or a table stands in its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Loc {
    /// One cell of a tab: `column` 0-based, `row` 1-based as the sheet numbers it.
    Cell { tab: String, column: usize, row: usize },
    /// A whole row of a tab (1-based).
    Row { tab: String, row: usize },
    /// A range of cells of a tab, in A1 notation without the tab (`C13:C14`).
    Range { tab: String, a1: String },
    /// A tab as a whole.
    Tab { tab: String },
    /// A line of a file (1-based).
    Line { file: String, line: usize },
    /// A file as a whole.
    File { file: String },
}

impl Loc {
    /// How a message refers to this place as a row of its table: `row 14` in a sheet, `line
    /// 12` in a file.
    pub fn row_words(&self) -> String {
        match self {
            Loc::Cell { row, .. } | Loc::Row { row, .. } => format!("row {row}"),
            Loc::Line { line, .. } => format!("line {line}"),
            Loc::Tab { tab } | Loc::Range { tab, .. } => format!("tab {tab}"),
            Loc::File { file } => file.clone(),
        }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loc::Cell { tab, column, row } => write!(f, "{}", a1::cell(tab, *column, *row)),
            Loc::Row { tab, row } => write!(f, "{}!{row}:{row}", a1::tab_ref(tab)),
            Loc::Range { tab, a1 } => write!(f, "{}!{a1}", a1::tab_ref(tab)),
            Loc::Tab { tab } => write!(f, "{}", a1::tab_ref(tab)),
            Loc::Line { file, line } => write!(f, "{file}:{line}"),
            Loc::File { file } => write!(f, "{file}"),
        }
    }
}

/// One problem of a source, where it stands. Errors stop the sync; warnings are reported and
/// the sync goes on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Located {
    pub severity: Severity,
    /// The table it is about, when it is about one.
    pub table: Option<Table>,
    #[serde(serialize_with = "display")]
    pub at: Loc,
    pub message: String,
}

fn display<S: serde::Serializer>(loc: &Loc, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(loc)
}

impl Located {
    pub fn error(table: Option<Table>, at: Loc, message: impl Into<String>) -> Located {
        Located {
            severity: Severity::Error,
            table,
            at,
            message: message.into(),
        }
    }

    pub fn warning(table: Option<Table>, at: Loc, message: impl Into<String>) -> Located {
        Located {
            severity: Severity::Warning,
            table,
            at,
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.severity {
            Severity::Error => write!(f, "{}: {}", self.at, self.message),
            Severity::Warning => write!(f, "{}: warning: {}", self.at, self.message),
        }
    }
}

/// A cell's value as the source gave it, before the schema says what the column needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A YAML list (the `keyword_groups` of a track); sheets and CSV write lists as
    /// comma-separated text.
    List(Vec<Cell>),
    /// A YAML mapping, which no column holds.
    Mapping,
}

impl Cell {
    /// Text, trimmed; blank text is [`Cell::Empty`].
    pub fn text(s: &str) -> Cell {
        let t = s.trim();
        if t.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(t.to_string())
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Cell::Empty)
    }

    /// The value as a message quotes it: `"high"`, `2.5`, `TRUE`.
    pub fn quoted(&self) -> String {
        match self {
            Cell::Empty => "(empty)".into(),
            Cell::Text(t) => format!("{t:?}"),
            Cell::Number(n) => number_text(*n),
            Cell::Bool(b) => b.to_string().to_uppercase(),
            Cell::List(items) => format!("[{}]", items.iter().map(Cell::quoted).collect::<Vec<_>>().join(", ")),
            Cell::Mapping => "a mapping".into(),
        }
    }
}

/// A number as text: whole numbers without a fraction (`7000`, not `7000.0`).
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// One value of a row: its column (as written in the source's header or key) and place.
#[derive(Debug, Clone, PartialEq)]
pub struct RawCell {
    pub column: String,
    pub value: Cell,
    pub at: Loc,
    /// The merged range (A1) the cell lies in, below or right of its first cell: the values
    /// API reads such a cell as empty.
    pub merged: Option<String>,
}

/// One row of a table as the source holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    pub at: Loc,
    pub cells: Vec<RawCell>,
}

/// One table as a source holds it: its rows, and what was wrong with its layout (a header
/// missing a column, a merged cell, a syntax error).
#[derive(Debug, Clone, PartialEq)]
pub struct RawTable {
    pub table: Table,
    /// The item's `source` attribute: `sheets:<workbook id>#<tab>` or `file:<path>`.
    pub source: String,
    /// The tab or the file.
    pub at: Loc,
    pub rows: Vec<RawRow>,
    /// With a header row (sheets, CSV), a column it lacks was reported once there, and every
    /// row has a cell (possibly empty) for every column it has. Without (YAML), each row says
    /// what it has.
    pub has_header: bool,
    pub problems: Vec<Located>,
}
