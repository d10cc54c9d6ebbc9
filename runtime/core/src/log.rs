//! The one log-line format of every component, and where lines go.
//!
//! Every component writes one JSON object per event, on one line:
//!
//! ```text
//! {"time":"2026-11-28T18:11:08.123Z","level":"info","component":"mcfparse","message":"post 4f… inserted","message_id":"…","uuid":"4f…","outcome":"stored","put":"inserted"}
//! ```
//!
//! `time` (RFC 3339, UTC, milliseconds), `level` (`debug`, `info`, `warn`, `error`),
//! `component` (the deployed component's name: `mcfparse`, `mcfscrape`, …) and `message` (for
//! people) come first, in that order; the event's own fields follow at the top level, so a
//! CloudWatch filter pattern like `{ $.uuid = "…" }` reads them. An extra field named like one
//! of the four is kept with a `_` appended (`message_`), never silently dropped.
//!
//! Where lines go is a [`LogSink`]: standard output in Lambda (CloudWatch ships it), standard
//! error in the scraper's container (the `awslogs` driver ships both streams), `component:
//! message` text on a terminal, or a [`Collect`] sink for a process that runs a component
//! in-process and ships its lines itself (`cargo xtask run search`). A [`Log`] is the handle a
//! component holds: its name and its sink.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::time::{timestamp_millis_from_unix, unix_millis};

/// The four keys every line starts with.
pub const RESERVED: [&str; 4] = ["time", "level", "component", "message"];

/// How much an event matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// Reads a level as written by this format, or by the usual other spellings
    /// (`WARNING`, `fatal`, …), for lines written by code that is not ours.
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "debug" | "trace" => Some(Level::Debug),
            "info" | "notice" => Some(Level::Info),
            "warn" | "warning" => Some(Level::Warn),
            "error" | "err" | "fatal" | "critical" => Some(Level::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event of one component.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Milliseconds since the Unix epoch (also the CloudWatch event's timestamp when shipped).
    pub time_ms: i64,
    pub level: Level,
    pub component: String,
    pub message: String,
    /// The event's own fields, in the order they were added.
    pub fields: Map<String, Value>,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

impl LogLine {
    /// A line stamped now.
    pub fn new(component: &str, level: Level, message: impl Into<String>) -> LogLine {
        LogLine::at(now_millis(), component, level, message)
    }

    /// A line at a given time (tests, replays).
    pub fn at(time_ms: i64, component: &str, level: Level, message: impl Into<String>) -> LogLine {
        LogLine {
            time_ms,
            level,
            component: component.to_string(),
            message: message.into(),
            fields: Map::new(),
        }
    }

    /// Adds one field (a value that does not serialise is recorded as its error text: a log
    /// line is never worth a panic).
    pub fn field(mut self, key: &str, value: impl Serialize) -> LogLine {
        let value = serde_json::to_value(value).unwrap_or_else(|e| Value::String(format!("<not serialisable: {e}>")));
        self.insert(key, value);
        self
    }

    /// Adds every field of `value`, which serialises to a JSON object (a report, a summary).
    /// Anything else is added as one field, `data`.
    pub fn fields_of(mut self, value: &impl Serialize) -> LogLine {
        match serde_json::to_value(value) {
            Ok(Value::Object(map)) => {
                for (k, v) in map {
                    self.insert(&k, v);
                }
            }
            Ok(other) => self.insert("data", other),
            Err(e) => self.insert("data", Value::String(format!("<not serialisable: {e}>"))),
        }
        self
    }

    fn insert(&mut self, key: &str, value: Value) {
        let mut key = key.to_string();
        // A fixed key's name gets a `_`, and one more for each earlier field renamed so.
        if RESERVED.contains(&key.as_str()) {
            key.push('_');
            while self.fields.contains_key(&key) {
                key.push('_');
            }
        }
        self.fields.insert(key, value);
    }

    /// The JSON object, fixed keys first.
    pub fn to_value(&self) -> Value {
        let mut map = Map::with_capacity(self.fields.len() + 4);
        map.insert("time".into(), Value::String(timestamp_millis_from_unix(self.time_ms)));
        map.insert("level".into(), Value::String(self.level.as_str().into()));
        map.insert("component".into(), Value::String(self.component.clone()));
        map.insert("message".into(), Value::String(self.message.clone()));
        for (k, v) in &self.fields {
            map.insert(k.clone(), v.clone());
        }
        Value::Object(map)
    }

    /// The line as written: one JSON object, no newline inside (serde_json escapes them).
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// `component: message` for a person at a terminal (fields left out, as before the
    /// format existed: `mcfscrape: resuming run …`).
    pub fn to_text(&self) -> String {
        match self.level {
            Level::Warn | Level::Error => format!("{}: {}: {}", self.component, self.level, self.message),
            _ => format!("{}: {}", self.component, self.message),
        }
    }

    /// Reads a line of this format back; `None` for anything else (another format, plain
    /// text, a line without `time`, `level`, `component` and `message`).
    pub fn parse(line: &str) -> Option<LogLine> {
        let Value::Object(mut map) = serde_json::from_str::<Value>(line.trim()).ok()? else {
            return None;
        };
        let time_ms = unix_millis(map.get("time")?.as_str()?).ok()?;
        let level = Level::parse(map.get("level")?.as_str()?)?;
        let component = map.get("component")?.as_str()?.to_string();
        let message = map.get("message")?.as_str()?.to_string();
        for key in RESERVED {
            map.shift_remove(key);
        }
        Some(LogLine {
            time_ms,
            level,
            component,
            message,
            fields: map,
        })
    }
}

/// Where a component's lines go.
pub trait LogSink: Send + Sync {
    fn write(&self, line: &LogLine);
}

/// JSON lines on standard output: the Lambda function's sink (CloudWatch reads stdout).
#[derive(Debug, Default, Clone, Copy)]
pub struct Stdout;

impl LogSink for Stdout {
    fn write(&self, line: &LogLine) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", line.to_json());
        let _ = out.flush();
    }
}

/// Standard error: JSON lines, or `component: message` text when `text` (a person at a
/// terminal). The scraper's sink: its stdout holds only the run summary.
#[derive(Debug, Clone, Copy)]
pub struct Stderr {
    pub text: bool,
}

impl Stderr {
    /// Text on a terminal, JSON lines otherwise (a container, a pipe, a file).
    pub fn auto() -> Stderr {
        Stderr {
            text: std::io::stderr().is_terminal(),
        }
    }
}

impl LogSink for Stderr {
    fn write(&self, line: &LogLine) {
        let text = if self.text { line.to_text() } else { line.to_json() };
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}

/// Keeps the lines in memory, for a caller that ships or checks them itself.
#[derive(Debug, Default)]
pub struct Collect {
    lines: Mutex<Vec<LogLine>>,
}

impl Collect {
    pub fn new() -> Collect {
        Collect::default()
    }

    /// The lines written since the last `take`, in the order they were written.
    pub fn take(&self) -> Vec<LogLine> {
        self.lines
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
}

impl LogSink for Collect {
    fn write(&self, line: &LogLine) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(line.clone());
        }
    }
}

/// A component's logger: its name and its sink. Cheap to clone.
#[derive(Clone)]
pub struct Log {
    component: Arc<str>,
    sink: Arc<dyn LogSink>,
}

impl fmt::Debug for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Log")
            .field("component", &&*self.component)
            .finish_non_exhaustive()
    }
}

impl Log {
    pub fn new(component: &str, sink: Arc<dyn LogSink>) -> Log {
        Log {
            component: component.into(),
            sink,
        }
    }

    pub fn component(&self) -> &str {
        &self.component
    }

    /// A line of this component stamped now, to add fields to and [`write`](Log::write).
    pub fn line(&self, level: Level, message: impl Into<String>) -> LogLine {
        LogLine::new(&self.component, level, message)
    }

    pub fn write(&self, line: &LogLine) {
        self.sink.write(line);
    }

    pub fn info(&self, message: impl Into<String>) {
        self.write(&self.line(Level::Info, message));
    }

    pub fn warn(&self, message: impl Into<String>) {
        self.write(&self.line(Level::Warn, message));
    }

    pub fn error(&self, message: impl Into<String>) {
        self.write(&self.line(Level::Error, message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object_with_the_fixed_keys_first() {
        let line = LogLine::at(1_747_384_432_007, "mcfparse", Level::Warn, "post u rejected\nsee why")
            .field("uuid", "u")
            .field("count", 3);
        let json = line.to_json();
        assert!(!json.contains('\n'), "{json}");
        assert_eq!(
            json,
            r#"{"time":"2025-05-16T08:33:52.007Z","level":"warn","component":"mcfparse","message":"post u rejected\nsee why","uuid":"u","count":3}"#
        );
        assert_eq!(LogLine::parse(&json), Some(line));
    }

    #[test]
    fn fields_named_like_the_fixed_keys_are_kept_renamed() {
        #[derive(Serialize)]
        struct Report {
            message: &'static str,
            outcome: &'static str,
        }
        let line = LogLine::at(0, "c", Level::Info, "m")
            .fields_of(&Report {
                message: "theirs",
                outcome: "stored",
            })
            .field("time", "also theirs")
            .field("message", "again");
        let value = line.to_value();
        assert_eq!(value["message"], "m");
        assert_eq!(value["message_"], "theirs");
        assert_eq!(value["message__"], "again");
        assert_eq!(value["time_"], "also theirs");
        assert_eq!(value["outcome"], "stored");
        let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys[..4], RESERVED);
    }

    #[test]
    fn only_lines_of_this_format_parse() {
        for other in [
            "START RequestId: 1 Version: $LATEST",
            r#"{"message":"no time"}"#,
            r#"{"time":"yesterday","level":"info","component":"c","message":"m"}"#,
            r#"{"time":"2025-05-16T08:33:52Z","level":"loud","component":"c","message":"m"}"#,
            "[1, 2]",
        ] {
            assert_eq!(LogLine::parse(other), None, "{other}");
        }
        let foreign =
            LogLine::parse(r#"{"time":"2025-05-16T08:33:52Z","level":"WARNING","component":"c","message":"m"}"#)
                .expect("other spellings of a level");
        assert_eq!(foreign.level, Level::Warn);
    }

    #[test]
    fn text_for_terminals_names_the_component_and_bad_levels() {
        let info = LogLine::at(0, "mcfscrape", Level::Info, "resuming run r");
        assert_eq!(info.to_text(), "mcfscrape: resuming run r");
        let error = LogLine::at(0, "mcfscrape", Level::Error, "blocked");
        assert_eq!(error.to_text(), "mcfscrape: error: blocked");
    }

    #[test]
    fn a_collecting_log_keeps_lines_in_order_with_its_component() {
        let sink = Arc::new(Collect::new());
        let log = Log::new("mcfscrape", sink.clone());
        log.info("one");
        log.error("two");
        let lines = sink.take();
        assert_eq!(
            lines
                .iter()
                .map(|l| (l.component.as_str(), l.level, l.message.as_str()))
                .collect::<Vec<_>>(),
            [("mcfscrape", Level::Info, "one"), ("mcfscrape", Level::Error, "two")]
        );
        assert!(lines[0].time_ms <= lines[1].time_ms);
        assert!(sink.take().is_empty(), "taken once");
    }
}
