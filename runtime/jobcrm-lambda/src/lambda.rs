//! The function's events: API Gateway REST API proxy requests (`httpMethod`, `path`,
//! `multiValueQueryStringParameters`, `headers`, `body`, `isBase64Encoded`) answered with a
//! proxy response, and the daily `{"expire": {}}` from EventBridge answered with an
//! [`ExpiryReport`](crate::types::ExpiryReport).

use std::collections::BTreeMap;

use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::App;
use crate::http::{Request, Response};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProxyEvent {
    http_method: String,
    path: String,
    #[serde(default)]
    query_string_parameters: Option<BTreeMap<String, String>>,
    #[serde(default)]
    multi_value_query_string_parameters: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    is_base64_encoded: bool,
}

/// The request of a proxy event; `None` when `event` is not one.
pub fn request(event: &Value) -> Option<Request> {
    let e: ProxyEvent = serde_json::from_value(event.clone()).ok()?;
    let mut req = Request::new(&e.http_method, &e.path);
    match (e.multi_value_query_string_parameters, e.query_string_parameters) {
        (Some(multi), _) => {
            for (k, values) in multi {
                for v in values {
                    req.query.push((k.clone(), v));
                }
            }
        }
        (None, Some(single)) => req.query.extend(single),
        (None, None) => {}
    }
    for (k, v) in e.headers.unwrap_or_default() {
        req.headers.insert(k.to_ascii_lowercase(), v);
    }
    if let Some(body) = e.body {
        req.body = if e.is_base64_encoded {
            // Undecodable base64 reads as an empty body: refused as such by the route.
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .unwrap_or_default()
        } else {
            body.into_bytes()
        };
    }
    Some(req)
}

/// The proxy response of `r`.
pub fn response(r: Response) -> Value {
    let headers: serde_json::Map<String, Value> = r.headers.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    json!({
        "statusCode": r.status,
        "headers": headers,
        "body": String::from_utf8_lossy(&r.body),
        "isBase64Encoded": false,
    })
}

/// One invocation: a proxy request, or the daily expiry.
pub async fn handle(app: &App, event: Value) -> Result<Value, String> {
    if let Some(req) = request(&event) {
        return Ok(response(app.handle(req).await));
    }
    if event.get("expire").is_some() {
        let today = app.now()[..10].to_string();
        let report = crate::expire::run(app, &today).await.map_err(|e| e.to_string())?;
        return serde_json::to_value(report).map_err(|e| e.to_string());
    }
    Err("not an API Gateway proxy request and not {\"expire\": {}}".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_events_map_both_ways() {
        let event = json!({
            "resource": "/{proxy+}", "httpMethod": "POST", "path": "/jobs/abc~data/transitions",
            "multiValueQueryStringParameters": {"stage": ["SCREENED", "TOAPPLY"]},
            "queryStringParameters": {"stage": "TOAPPLY"},
            "headers": {"Authorization": "Bearer t", "Content-Type": "application/json"},
            "body": base64::engine::general_purpose::STANDARD.encode(br#"{"to":"TOAPPLY"}"#),
            "isBase64Encoded": true,
            "requestContext": {"stage": "api"}
        });
        let req = request(&event).expect("a proxy event");
        assert_eq!(req.method, "POST");
        assert_eq!(req.segments(), ["jobs", "abc~data", "transitions"]);
        assert_eq!(req.query.len(), 2, "every value of a repeated parameter");
        assert_eq!(req.headers["authorization"], "Bearer t");
        assert_eq!(req.body, br#"{"to":"TOAPPLY"}"#);
        assert!(request(&json!({"expire": {}})).is_none());
        let out = response(Response::error(404, "not_found", None, "no job x"));
        assert_eq!(out["statusCode"], 404);
        assert_eq!(out["headers"]["content-type"], "application/json");
        assert!(out["body"].as_str().unwrap().contains("no job x"));
    }
}
