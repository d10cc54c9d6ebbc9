//! How an event is shown: `time component level message key=value…` for the JSON lines our
//! components write (and JSON objects with a message from anything else), the message as it
//! is for lines that are not JSON (the Lambda runtime's `START`/`END`/`REPORT` lines, a
//! panic); and, for `--output json`, the event with its message parsed when it is JSON.

use mcfcore::log::Level;
use mcfcore::time::{timestamp_millis_from_unix, unix_millis};
use serde_json::{Map, Value, json};

use super::read::Event;

/// One event, ready for a terminal: the UI pads and colours the parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// RFC 3339, UTC, milliseconds: CloudWatch's timestamp of the event.
    pub time: String,
    pub component: String,
    /// `None` for a line that does not say (not JSON, or JSON without a level).
    pub level: Option<Level>,
    /// The message, then the other fields as `key=value`.
    pub text: String,
}

impl Shown {
    /// The line without colour: `time component level text`, the component padded to
    /// `width` and the level to 5, so that the messages of a screen line up.
    pub fn plain(&self, width: usize) -> String {
        let level = self.level.map_or("", Level::as_str);
        format!("{} {:<width$} {:<5} {}", self.time, self.component, level, self.text)
    }
}

/// The keys that name a message and a level in other loggers' JSON.
const MESSAGE_KEYS: [&str; 2] = ["message", "msg"];
const LEVEL_KEYS: [&str; 3] = ["level", "severity", "lvl"];

pub fn show(event: &Event) -> Shown {
    let time = timestamp_millis_from_unix(event.timestamp);
    let plain = |text: &str| Shown {
        time: time.clone(),
        component: event.component.clone(),
        level: None,
        text: text.to_string(),
    };
    let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(&event.message) else {
        return plain(&event.message);
    };
    let message = take_str(&mut fields, &MESSAGE_KEYS);
    let level_text = take_str(&mut fields, &LEVEL_KEYS);
    let level = level_text.as_deref().and_then(Level::parse);
    if let (Some(text), None) = (&level_text, level) {
        // An unknown level is kept, not lost.
        fields.insert("level".into(), Value::String(text.clone()));
    }
    if message.is_none() && level.is_none() {
        // JSON, but not a log line (a summary printed by something else): as it is.
        return plain(&event.message);
    }
    // What the columns already say.
    if fields.get("component").and_then(Value::as_str) == Some(event.component.as_str()) {
        fields.shift_remove("component");
    }
    if fields
        .get("time")
        .and_then(Value::as_str)
        .is_some_and(|t| unix_millis(t).is_ok())
    {
        fields.shift_remove("time");
    }
    let mut text = message.unwrap_or_default();
    // `key=null` says nothing (a summary's unset `error`).
    for (k, v) in fields.iter().filter(|(_, v)| !v.is_null()) {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(k);
        text.push('=');
        text.push_str(&value_text(v));
    }
    Shown {
        time,
        component: event.component.clone(),
        level,
        text,
    }
}

/// The first of `keys` whose value is a string, removed from `fields`.
fn take_str(fields: &mut Map<String, Value>, keys: &[&str]) -> Option<String> {
    let key = keys.iter().find(|k| fields.get(**k).is_some_and(Value::is_string))?;
    match fields.shift_remove(*key) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// A value as `key=value` shows it: a plain word bare, anything else as JSON (quoted strings,
/// numbers, objects on one line).
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) if !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || matches!(c, '"' | '=' | '\\')) => {
            s.clone()
        }
        other => other.to_string(),
    }
}

/// The event for `--output json`: where it is, when, and its message parsed when it is JSON.
pub fn json_event(event: &Event) -> Value {
    let message = match serde_json::from_str::<Value>(&event.message) {
        Ok(v @ Value::Object(_)) => v,
        _ => Value::String(event.message.clone()),
    };
    json!({
        "component": event.component,
        "group": event.group,
        "stream": event.stream,
        "id": event.id,
        "timestamp": event.timestamp,
        "time": timestamp_millis_from_unix(event.timestamp),
        "message": message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(message: &str) -> Event {
        Event {
            component: "mcfparse".into(),
            group: "/aws/lambda/mcfpipe-dev-mcfparse".into(),
            stream: "2026/11/28/[$LATEST]abc".into(),
            id: "1".into(),
            timestamp: 1_795_888_800_250,
            message: message.into(),
        }
    }

    #[test]
    fn our_lines_show_time_component_level_message_and_fields() {
        let line = r#"{"time":"2026-11-28T18:00:00.250Z","level":"warn","component":"mcfparse","message":"post u1 rejected, kept at rejects/x","message_id":"m1","uuid":"u1","outcome":"rejected","reason":"not a job post","error":null,"count":2,"nested":{"a":[1]}}"#;
        let shown = show(&event(line));
        assert_eq!(shown.level, Some(Level::Warn));
        assert_eq!(
            shown.plain(9),
            r#"2026-11-28T18:00:00.250Z mcfparse  warn  post u1 rejected, kept at rejects/x message_id=m1 uuid=u1 outcome=rejected reason="not a job post" count=2 nested={"a":[1]}"#
        );
    }

    #[test]
    fn lines_that_are_not_json_log_lines_are_shown_as_they_are() {
        let report = "REPORT RequestId: 8f…\tDuration: 12.3 ms\tBilled Duration: 13 ms";
        let shown = show(&event(report));
        assert_eq!(shown.level, None);
        assert_eq!(shown.text, report);
        assert_eq!(
            shown.plain(8),
            format!("2026-11-28T18:00:00.250Z mcfparse       {report}")
        );
        // JSON that is not a log line (no message, no level): as it is too.
        assert_eq!(
            show(&event(r#"{"outcome":"completed"}"#)).text,
            r#"{"outcome":"completed"}"#
        );
        assert_eq!(show(&event("[1,2]")).text, "[1,2]");
    }

    #[test]
    fn other_loggers_json_shows_their_message_and_level() {
        let shown = show(&event(
            r#"{"msg":"hello","severity":"WARNING","component":"other","time":"soon"}"#,
        ));
        assert_eq!(shown.level, Some(Level::Warn));
        assert_eq!(shown.text, "hello component=other time=soon");
        let odd = show(&event(r#"{"message":"x","level":"loud"}"#));
        assert_eq!((odd.level, odd.text.as_str()), (None, "x level=loud"));
    }

    #[test]
    fn json_output_carries_where_and_when_and_parses_json_messages() {
        let doc = json_event(&event(r#"{"level":"info","message":"m"}"#));
        assert_eq!(doc["group"], "/aws/lambda/mcfpipe-dev-mcfparse");
        assert_eq!(doc["stream"], "2026/11/28/[$LATEST]abc");
        assert_eq!(doc["timestamp"], 1_795_888_800_250_i64);
        assert_eq!(doc["time"], "2026-11-28T18:00:00.250Z");
        assert_eq!(doc["message"]["level"], "info");
        assert_eq!(json_event(&event("START x"))["message"], "START x");
    }
}
