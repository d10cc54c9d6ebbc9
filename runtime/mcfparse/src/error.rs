//! Why a document was rejected, in words a person reads next to the rejected document.

/// A document that cannot become a post. The message names the document kind, the field (as
/// a JSON path, e.g. `results[3].status.id`) and what was found instead, because it is written
/// next to the raw document in the rejects prefix and read by a person, not a program.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("{document}: the document is empty")]
    Empty { document: &'static str },

    #[error("{document}: not valid JSON: {reason} at line {line}, column {column}")]
    Json {
        document: &'static str,
        line: usize,
        column: usize,
        reason: String,
    },

    #[error("{document}: required field `{field}` is missing{}", hint_suffix(.hint))]
    Missing {
        document: &'static str,
        field: String,
        hint: Option<String>,
    },

    #[error("{document}: field `{field}` should be {expected}, found {found}")]
    WrongType {
        document: &'static str,
        field: String,
        expected: &'static str,
        found: String,
    },

    #[error("{document}: field `{field}` is invalid: {reason}")]
    Invalid {
        document: &'static str,
        field: String,
        reason: String,
    },

    #[error("not an MCF document: {reason}")]
    Unrecognised { reason: String },
}

fn hint_suffix(hint: &Option<String>) -> String {
    hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default()
}

impl ParseError {
    /// The JSON path or page field the error is about, when it is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Missing { field, .. } | Self::WrongType { field, .. } | Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    pub(crate) fn json(document: &'static str, err: &serde_json::Error) -> Self {
        // serde_json's Display repeats the position; keep only the reason.
        let text = err.to_string();
        let reason = text.split(" at line ").next().unwrap_or(&text).to_string();
        let reason = if err.is_eof() {
            format!("{reason} (the document is truncated)")
        } else {
            reason
        };
        Self::Json {
            document,
            line: err.line(),
            column: err.column(),
            reason,
        }
    }
}

/// Describes a JSON value briefly for "found ..." in a message (strings cut to 40 characters).
pub(crate) fn describe(value: &crate::json::Lite<'_>) -> String {
    use crate::json::Lite;
    match value {
        Lite::Null => "null".into(),
        Lite::Bool(b) => format!("the boolean {b}"),
        Lite::Number(n) => format!("the number {n}"),
        Lite::Str(s) if s.chars().count() > 40 => {
            format!("the string \"{}…\"", s.chars().take(40).collect::<String>())
        }
        Lite::Str(s) => format!("the string \"{s}\""),
        Lite::Array(1, _) => "an array of 1 item".into(),
        Lite::Array(len, _) => format!("an array of {len} items"),
        Lite::Object(_) => "an object".into(),
    }
}
