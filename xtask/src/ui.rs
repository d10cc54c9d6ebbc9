//! All terminal output. Text mode: progress on stderr (coloured on a terminal), results on
//! stdout. JSON mode: JSON lines on stdout, one object per event (`"event": "step"`,
//! `"resource"`, `"change"`, `"stack"`, `"warning"`, `"error"` ...), and always last the
//! command's result (`"event": "result"`), so a pipeline reads the last line.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_cloudformation::types::StackEvent;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub struct Ui {
    pub format: Format,
    color: bool,
    /// Colour on stdout too (log lines are results, and go there).
    color_out: bool,
    started: Instant,
    /// Where output goes: the terminal, or a buffer (tests read what a user would see).
    capture: Option<Arc<Mutex<String>>>,
}

const RESET: &str = "\x1b[0m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";

impl Ui {
    pub fn new(format: Format) -> Ui {
        let text = format == Format::Text && std::env::var_os("NO_COLOR").is_none();
        let color = text && std::io::stderr().is_terminal();
        Ui {
            format,
            color,
            color_out: text && std::io::stdout().is_terminal(),
            started: Instant::now(),
            capture: None,
        }
    }

    /// Output (both streams) into `buffer` instead of the terminal.
    pub fn captured(format: Format, buffer: Arc<Mutex<String>>) -> Ui {
        Ui {
            format,
            color: false,
            color_out: false,
            started: Instant::now(),
            capture: Some(buffer),
        }
    }

    /// A second handle on the same output (for a nested session).
    pub fn sibling(&self) -> Ui {
        Ui {
            format: self.format,
            color: self.color,
            color_out: self.color_out,
            started: self.started,
            capture: self.capture.clone(),
        }
    }

    /// A line of progress (stderr in text mode).
    pub fn line(&self, text: &str) {
        self.write(true, &format!("{text}\n"));
    }

    fn write(&self, to_stderr: bool, text: &str) {
        if let Some(buf) = &self.capture {
            if let Ok(mut b) = buf.lock() {
                b.push_str(text);
            }
            return;
        }
        if to_stderr {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text.as_bytes());
        } else {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }

    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    fn elapsed(&self) -> f64 {
        (self.started.elapsed().as_secs_f64() * 100.0).round() / 100.0
    }

    /// A JSON line (JSON mode only).
    pub fn emit(&self, event: &str, mut fields: Value) {
        if !self.json() {
            return;
        }
        if let Some(o) = fields.as_object_mut() {
            o.insert("event".into(), json!(event));
            o.insert("elapsed_s".into(), json!(self.elapsed()));
        }
        self.write(false, &format!("{fields}\n"));
    }

    /// Progress about one stack: `networking: creating`.
    pub fn step(&self, stack: &str, message: &str) {
        match self.format {
            Format::Json => self.emit("step", json!({"stack": stack, "message": message})),
            Format::Text => self.line(&format!("{} {message}", self.paint(BOLD, &format!("{stack}:")))),
        }
    }

    pub fn info(&self, message: &str) {
        match self.format {
            Format::Json => self.emit("info", json!({"message": message})),
            Format::Text => self.line(message),
        }
    }

    pub fn warn(&self, message: &str) {
        match self.format {
            Format::Json => self.emit("warning", json!({"message": message})),
            Format::Text => self.line(&format!("{} {message}", self.paint(YELLOW, "warning:"))),
        }
    }

    pub fn error(&self, message: &str) {
        match self.format {
            Format::Json => self.emit("error", json!({"message": message})),
            Format::Text => self.line(&format!("{} {message}", self.paint(RED, "error:"))),
        }
    }

    /// The outcome of one stack, coloured by how it went.
    pub fn outcome(&self, stack: &str, outcome: &str, ok: bool, fields: Value) {
        match self.format {
            Format::Json => {
                let mut f = fields;
                if let Some(o) = f.as_object_mut() {
                    o.insert("stack".into(), json!(stack));
                    o.insert("outcome".into(), json!(outcome));
                }
                self.emit("stack", f)
            }
            Format::Text => {
                let colour = if ok { GREEN } else { RED };
                self.line(&format!(
                    "{} {}",
                    self.paint(BOLD, &format!("{stack}:")),
                    self.paint(colour, outcome)
                ));
            }
        }
    }

    /// One CloudFormation event as it arrives.
    pub fn stack_event(&self, stack: &str, ev: &StackEvent) {
        let status = ev.resource_status().map(|s| s.as_str()).unwrap_or("?");
        let logical = ev.logical_resource_id().unwrap_or("?");
        let kind = ev.resource_type().unwrap_or("?");
        let reason = ev.resource_status_reason().unwrap_or("");
        match self.format {
            Format::Json => self.emit(
                "resource",
                json!({"stack": stack, "logical_id": logical, "type": kind, "status": status, "reason": reason}),
            ),
            Format::Text => {
                let colour = if status.ends_with("FAILED") || status.contains("ROLLBACK") {
                    RED
                } else if status.ends_with("COMPLETE") {
                    GREEN
                } else {
                    DIM
                };
                let reason = if reason.is_empty() {
                    String::new()
                } else {
                    format!(" {reason}")
                };
                // Stacks deploy side by side: every line names its stack.
                self.line(&format!(
                    "{} {:<28} {:<36} {}{}",
                    self.paint(BOLD, &format!("{stack}:")),
                    self.paint(colour, status),
                    logical,
                    self.paint(DIM, kind),
                    reason
                ));
            }
        }
    }

    /// The resource changes of a change set (or of a stack about to be created), one line each:
    /// `+ Add`, `~ Modify`, `- Remove`, `! Replace`.
    pub fn resource_changes(&self, stack: &str, title: &str, changes: &[crate::cfn::ResourceChange]) {
        self.step(stack, title);
        for c in changes {
            if self.json() {
                self.emit("change", json!({"stack": stack, "change": c}));
                continue;
            }
            let mark = match c.action.as_str() {
                "Add" => "+",
                "Remove" => "-",
                "Replace" => "!",
                _ => "~",
            };
            let details = if c.details.is_empty() {
                String::new()
            } else {
                format!("  ({})", c.details.join(", "))
            };
            self.line(&format!(
                "{} {mark} {:<8} {:<36} {}{details}",
                self.paint(BOLD, &format!("{stack}:")),
                c.action,
                c.logical_id,
                c.resource_type
            ));
        }
    }

    /// The parameters that change from `old` (deployed) to `new`, one line each; returns how many.
    pub fn parameter_changes(
        &self,
        stack: &str,
        old: &std::collections::BTreeMap<String, String>,
        new: &std::collections::BTreeMap<String, String>,
    ) -> usize {
        let mut n = 0;
        for (k, v) in new {
            match old.get(k) {
                Some(o) if o == v => {}
                Some(o) => {
                    n += 1;
                    self.step(stack, &format!("parameter {k}: {o} -> {v}"));
                }
                None => {
                    n += 1;
                    self.step(stack, &format!("parameter {k}: (new) {v}"));
                }
            }
        }
        for k in old.keys().filter(|k| !new.contains_key(*k)) {
            n += 1;
            self.step(stack, &format!("parameter {k}: removed"));
        }
        n
    }

    /// One log event of `logs` on stdout (text mode): `time component level message
    /// key=value…`, the component padded to `width`; on a terminal the level is coloured, and
    /// the message of a warning or an error too.
    pub fn log_event(&self, shown: &crate::logs::show::Shown, width: usize) {
        if self.json() {
            return;
        }
        let line = if self.color_out {
            use mcfcore::log::Level;
            let level = shown.level.map_or("", Level::as_str);
            let colour = match shown.level {
                Some(Level::Error) => RED,
                Some(Level::Warn) => YELLOW,
                Some(Level::Info) => GREEN,
                Some(Level::Debug) | None => DIM,
            };
            // Pad before painting: escape codes have no width.
            let text = match shown.level {
                Some(Level::Error | Level::Warn) => format!("{colour}{}{RESET}", shown.text),
                _ => shown.text.clone(),
            };
            format!(
                "{DIM}{}{RESET} {BOLD}{:<width$}{RESET} {colour}{level:<5}{RESET} {text}",
                shown.time, shown.component
            )
        } else {
            shown.plain(width)
        };
        self.write(false, &format!("{line}\n"));
    }

    /// Plain text for the result on stdout (text mode).
    pub fn print(&self, text: &str) {
        if !self.json() {
            self.write(false, text);
        }
    }

    /// The command's result (JSON mode): the last JSON line, `"event": "result"`.
    pub fn document(&self, doc: &Value) {
        self.emit("result", doc.clone());
    }

    /// Asks yes/no on a terminal. Without one, answers `no` and says how to proceed: the
    /// deployer never waits on a stdin that nobody types into.
    pub fn confirm(&self, question: &str) -> anyhow::Result<bool> {
        if !std::io::stdin().is_terminal() || self.json() || self.capture.is_some() {
            anyhow::bail!("{question} needs confirmation and stdin is not a terminal: run again with --yes");
        }
        eprint!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(matches!(line.trim(), "y" | "Y" | "yes"))
    }

    /// Asks the user to type `expected` back (for destructive actions on protected environments).
    pub fn type_back(&self, prompt: &str, expected: &str) -> anyhow::Result<bool> {
        if !std::io::stdin().is_terminal() || self.capture.is_some() {
            anyhow::bail!("{prompt}: type-back confirmation needs a terminal");
        }
        eprint!("{prompt}\nType the environment name `{expected}` to continue: ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim() == expected)
    }
}

/// Left-aligned columns for text tables.
pub fn table(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == row.len() {
                    c.clone()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
