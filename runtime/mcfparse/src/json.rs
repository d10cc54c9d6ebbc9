//! Path-tracking access to `serde_json::Value`, so every error names the exact field.
//!
//! MCF's JSON is read field by field instead of through derived structs: the two API shapes
//! differ in small ways (`status.id` is "102" in search items and 102 in details), most fields
//! are nullable, and a rejected document must say which field broke and what it held.

use serde_json::{Map, Value};

use crate::error::{ParseError, describe};

/// A JSON object and where it sits in its document.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    path: &'a str,
    pub document: &'static str,
}

/// An owned path, because child paths are built as we descend.
pub(crate) struct Owned<'a> {
    map: &'a Map<String, Value>,
    path: String,
    document: &'static str,
}

impl<'a> Owned<'a> {
    pub fn get(&self) -> Obj<'_> {
        Obj {
            map: self.map,
            path: &self.path,
            document: self.document,
        }
    }
}

impl<'a> Obj<'a> {
    /// The document's root, which must be an object.
    pub fn root(value: &'a Value, document: &'static str, path: &'a str) -> Result<Self, ParseError> {
        match value {
            Value::Object(map) => Ok(Obj { map, path, document }),
            other => Err(ParseError::WrongType {
                document,
                field: if path.is_empty() {
                    "(document)".into()
                } else {
                    path.into()
                },
                expected: "a JSON object",
                found: describe(other),
            }),
        }
    }

    pub fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value under `key`, treating JSON null as absent.
    fn value(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn wrong(&self, key: &str, expected: &'static str, found: &Value) -> ParseError {
        ParseError::WrongType {
            document: self.document,
            field: self.path(key),
            expected,
            found: describe(found),
        }
    }

    pub fn invalid(&self, key: &str, reason: impl Into<String>) -> ParseError {
        ParseError::Invalid {
            document: self.document,
            field: self.path(key),
            reason: reason.into(),
        }
    }

    pub fn missing(&self, key: &str) -> ParseError {
        ParseError::Missing {
            document: self.document,
            field: self.path(key),
            hint: None,
        }
    }

    pub fn opt_obj(&self, key: &str) -> Result<Option<Owned<'a>>, ParseError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Owned {
                map,
                path: self.path(key),
                document: self.document,
            })),
            Some(other) => Err(self.wrong(key, "an object", other)),
        }
    }

    /// A string field; empty or blank strings count as absent.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, ParseError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim())),
            Some(other) => Err(self.wrong(key, "a string", other)),
        }
    }

    pub fn req_str(&self, key: &str) -> Result<&'a str, ParseError> {
        self.opt_str(key)?.ok_or_else(|| self.missing(key))
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, ParseError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong(key, "true or false", other)),
        }
    }

    /// A whole non-negative number that fits in u32, given as a JSON number or a numeric string
    /// (MCF sends some ids as strings in one endpoint and numbers in another).
    pub fn opt_u32(&self, key: &str) -> Result<Option<u32>, ParseError> {
        const EXPECTED: &str = "a whole number (or a string of digits) from 0 to 4294967295";
        let Some(value) = self.value(key) else { return Ok(None) };
        let number = match value {
            Value::Number(n) => n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64)),
            Value::String(s) if s.trim().is_empty() => return Ok(None),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        number
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| self.wrong(key, EXPECTED, value))
    }

    /// The elements of an array field, each with its `key[i]` path; absent or null is empty.
    pub fn array(&self, key: &str) -> Result<Vec<(String, &'a Value)>, ParseError> {
        match self.value(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{}[{i}]", self.path(key)), v))
                .collect()),
            Some(other) => Err(self.wrong(key, "an array", other)),
        }
    }

    /// The names in an array of objects such as `skills: [{"skill": "Python", ...}]`.
    pub fn names(&self, key: &str, name_key: &str) -> Result<Vec<String>, ParseError> {
        let mut names = Vec::new();
        for (path, item) in self.array(key)? {
            let item = Obj::root(item, self.document, &path)?;
            if let Some(name) = item.opt_str(name_key)? {
                let name = collapse_whitespace(name);
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        Ok(names)
    }
}

/// Collapses runs of whitespace (including no-break spaces) into single spaces, trimmed.
pub(crate) fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
