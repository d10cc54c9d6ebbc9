//! The request and the answer every shell maps to (API Gateway's proxy events, the local
//! server), and the API's errors as JSON `{error, field, reason}`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::types::{ApiError, JobView, MAX_BODY_BYTES};

/// One HTTP request, whatever carried it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// Upper case.
    pub method: String,
    /// Without the stage (`/jobs/…`), percent-decoded per segment by [`Request::segments`].
    pub path: String,
    /// Every value of every query parameter, in order.
    pub query: Vec<(String, String)>,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Request {
        Request {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            ..Request::default()
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.insert(name.to_ascii_lowercase(), value.to_string());
        self
    }

    pub fn bearer(self, token: &str) -> Request {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn json(mut self, body: &impl Serialize) -> Request {
        self.body = serde_json::to_vec(body).unwrap_or_default();
        self.header("content-type", "application/json")
    }

    pub fn query(mut self, name: &str, value: &str) -> Request {
        self.query.push((name.to_string(), value.to_string()));
        self
    }

    /// Splits a raw query string (`a=1&b=x%20y`) into its parameters.
    pub fn with_query_string(mut self, raw: &str) -> Request {
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            self.query.push((decode(k), decode(v)));
        }
        self
    }

    /// The path's segments, percent-decoded (`/jobs/a%7Eb` → `["jobs", "a~b"]`).
    pub fn segments(&self) -> Vec<String> {
        self.path.split('/').filter(|s| !s.is_empty()).map(decode).collect()
    }

    /// The body as `T`, refusing malformed JSON, unknown fields, wrong types and a body over
    /// [`MAX_BODY_BYTES`], naming the field at fault.
    pub fn body_as<T: DeserializeOwned>(&self) -> Result<T, Response> {
        if self.body.len() > MAX_BODY_BYTES {
            return Err(Response::error(
                400,
                "bad_request",
                Some("body"),
                format!(
                    "the body is {} bytes; the limit is {MAX_BODY_BYTES} bytes",
                    self.body.len()
                ),
            ));
        }
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(Response::error(
                400,
                "bad_request",
                Some("body"),
                "the body is empty; this route takes a JSON object",
            ));
        }
        let de = &mut serde_json::Deserializer::from_slice(&self.body);
        match serde_path_to_error::deserialize(de) {
            Ok(v) => Ok(v),
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let field = (path != "." && path != "?" && !path.is_empty()).then_some(path);
                let (field, reason) = match inner.classify() {
                    serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                        (Some("body".to_string()), format!("the body is not valid JSON: {inner}"))
                    }
                    _ => (field, strip_position(&inner.to_string())),
                };
                // serde names an unknown field in its message, not in the path.
                let field = field.or_else(|| unknown_field(&reason));
                Err(Response::error(400, "bad_request", field.as_deref(), reason))
            }
        }
    }
}

/// serde's "unknown field `x`, expected one of …" → `x`.
fn unknown_field(reason: &str) -> Option<String> {
    let rest = reason.strip_prefix("unknown field `")?;
    rest.split('`').next().map(str::to_string)
}

/// "… at line 1 column 12" is noise for a one-line body.
fn strip_position(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// Percent-decoding (and `+` as a space, as forms send it in queries).
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, body: &impl Serialize) -> Response {
        let body = serde_json::to_vec(body).unwrap_or_else(|e| {
            format!(r#"{{"error":"internal","reason":"the answer could not be written: {e}"}}"#).into_bytes()
        });
        Response {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("cache-control".into(), "no-store".into()),
            ],
            body,
        }
    }

    pub fn error(status: u16, error: &str, field: Option<&str>, reason: impl Into<String>) -> Response {
        Response::json(
            status,
            &ApiError {
                error: error.to_string(),
                field: field.map(str::to_string),
                reason: reason.into(),
                current: None,
            },
        )
    }

    /// A 409 with the job as it is now.
    pub fn conflict(error: &str, field: &str, reason: impl Into<String>, current: JobView) -> Response {
        Response::json(
            409,
            &ApiError {
                error: error.to_string(),
                field: Some(field.to_string()),
                reason: reason.into(),
                current: Some(current),
            },
        )
    }

    pub fn not_found(what: impl Into<String>) -> Response {
        Response::error(404, "not_found", None, what)
    }

    pub fn html(body: &str) -> Response {
        Response {
            status: 200,
            headers: vec![
                ("content-type".into(), "text/html; charset=utf-8".into()),
                // Everything the page runs is inline; nothing may come from elsewhere.
                (
                    "content-security-policy".into(),
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'".into(),
                ),
                ("x-content-type-options".into(), "nosniff".into()),
                ("referrer-policy".into(), "no-referrer".into()),
                ("cache-control".into(), "no-cache".into()),
            ],
            body: body.as_bytes().to_vec(),
        }
    }

    /// The body as JSON (tests, benchmarks).
    pub fn json_body(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::TransitionRequest;

    fn body(text: &str) -> Request {
        Request {
            body: text.as_bytes().to_vec(),
            ..Request::new("POST", "/x")
        }
    }

    fn refusal(r: Result<TransitionRequest, Response>) -> ApiError {
        let r = r.expect_err("refused");
        assert_eq!(r.status, 400);
        serde_json::from_slice(&r.body).expect("an ApiError")
    }

    #[test]
    fn bodies_are_refused_naming_the_field() {
        let e = refusal(body(r#"{"to": "TOAPPLY", "revision": "one"}"#).body_as());
        assert_eq!(e.field.as_deref(), Some("revision"));
        assert!(e.reason.contains("invalid type"), "{}", e.reason);
        let e = refusal(body(r#"{"to": "TOAPPLY", "revision": 1, "colour": "red"}"#).body_as());
        assert_eq!(e.field.as_deref(), Some("colour"));
        let e = refusal(body(r#"{"to": "TOAPPLY""#).body_as());
        assert!(e.reason.starts_with("the body is not valid JSON"), "{}", e.reason);
        assert_eq!(e.field.as_deref(), Some("body"));
        let e = refusal(body(r#"{"revision": 1}"#).body_as());
        assert!(e.reason.contains("missing field `to`"), "{}", e.reason);
        let e = refusal(body("").body_as());
        assert_eq!(e.field.as_deref(), Some("body"));
        let big = format!(r#"{{"to": "{}", "revision": 1}}"#, "x".repeat(MAX_BODY_BYTES));
        let e = refusal(body(&big).body_as());
        assert!(e.reason.contains("the limit is 65536 bytes"), "{}", e.reason);
    }

    #[test]
    fn paths_and_queries_are_decoded() {
        let r =
            Request::new("get", "/jobs/abc%7Edata/transitions").with_query_string("q=data+eng%21&stage=A&stage=B&x");
        assert_eq!(r.method, "GET");
        assert_eq!(r.segments(), ["jobs", "abc~data", "transitions"]);
        assert_eq!(
            r.query,
            [
                ("q".to_string(), "data eng!".to_string()),
                ("stage".into(), "A".into()),
                ("stage".into(), "B".into()),
                ("x".into(), String::new())
            ]
        );
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%41"), "%zzA");
    }
}
