//! The OpenAPI 3.1 document, generated from the types of [`crate::types`] (schemars writes
//! JSON Schema 2020-12, the dialect OpenAPI 3.1 uses) and the route table [`ROUTES`], the same
//! table the tests walk. `GET /openapi.json` serves it.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::types::*;

/// One operation: method, path, what it takes and answers.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// The answer's status on success.
    pub status: u16,
    /// Whether it needs the bearer token.
    pub auth: bool,
    /// Its error statuses (every one answers an [`ApiError`]).
    pub errors: &'static [u16],
    /// Its query parameters: (name, description, schema type).
    pub query: &'static [(&'static str, &'static str, &'static str)],
    body: Option<fn(&mut SchemaGenerator) -> Value>,
    answer: Option<fn(&mut SchemaGenerator) -> Value>,
}

fn schema<T: JsonSchema>(g: &mut SchemaGenerator) -> Value {
    g.subschema_for::<T>().to_value()
}

const AUTH: &[u16] = &[401, 503];

/// Every route of the API.
pub const ROUTES: &[Route] = &[
    Route {
        method: "get",
        path: "/jobs",
        summary: "Jobs, filtered, sorted, one page at a time",
        status: 200,
        auth: true,
        errors: &[400, 401, 503],
        query: &[
            ("stage", "Stages, comma-separated or repeated", "string"),
            ("track", "A track id", "string"),
            ("min_score", "Lowest score total", "number"),
            ("q", "Text in the title, company, notes or score summary", "string"),
            ("posted_since", "YYYY-MM-DD", "string"),
            (
                "sort",
                "score (default), posted, updated, deadline, title, company",
                "string",
            ),
            (
                "order",
                "asc or desc (default: desc for score, posted, updated)",
                "string",
            ),
            ("limit", "1 to 200, default 50", "integer"),
            ("cursor", "The `next` of the previous page", "string"),
        ],
        body: None,
        answer: Some(schema::<JobPage>),
    },
    Route {
        method: "post",
        path: "/jobs",
        summary: "Add a lead: an MCF job's URL, or a job from elsewhere",
        status: 201,
        auth: true,
        errors: &[400, 401, 409, 503],
        query: &[],
        body: Some(schema::<NewLead>),
        answer: Some(schema::<JobView>),
    },
    Route {
        method: "get",
        path: "/jobs/{id}",
        summary: "A job with its history, score reasons and moves",
        status: 200,
        auth: true,
        errors: &[401, 404, 503],
        query: &[],
        body: None,
        answer: Some(schema::<JobDetail>),
    },
    Route {
        method: "patch",
        path: "/jobs/{id}",
        summary: "Change notes, CV version, contacts or track",
        status: 200,
        auth: true,
        errors: &[400, 401, 404, 409, 503],
        query: &[],
        body: Some(schema::<JobPatch>),
        answer: Some(schema::<JobView>),
    },
    Route {
        method: "post",
        path: "/jobs/{id}/transitions",
        summary: "Move a job to another stage",
        status: 200,
        auth: true,
        errors: &[400, 401, 404, 409, 503],
        query: &[],
        body: Some(schema::<TransitionRequest>),
        answer: Some(schema::<JobView>),
    },
    Route {
        method: "get",
        path: "/tracks",
        summary: "The library's tracks",
        status: 200,
        auth: true,
        errors: AUTH,
        query: &[],
        body: None,
        answer: Some(schema::<Vec<Track>>),
    },
    Route {
        method: "get",
        path: "/config/{key}",
        summary: "One value of the library's config table",
        status: 200,
        auth: true,
        errors: &[401, 404, 503],
        query: &[],
        body: None,
        answer: Some(schema::<ConfigEntry>),
    },
    Route {
        method: "put",
        path: "/config/{key}",
        summary: "Change one config value, checked with the whole library",
        status: 200,
        auth: true,
        errors: &[400, 401, 404, 409, 503],
        query: &[],
        body: Some(schema::<ConfigValue>),
        answer: Some(schema::<ConfigEntry>),
    },
    Route {
        method: "get",
        path: "/stats",
        summary: "The funnel",
        status: 200,
        auth: true,
        errors: AUTH,
        query: &[],
        body: None,
        answer: Some(schema::<Stats>),
    },
    Route {
        method: "get",
        path: "/session",
        summary: "The MCF session's state (never the session): valid until, last check, what it said",
        status: 200,
        auth: true,
        errors: AUTH,
        query: &[],
        body: None,
        answer: Some(schema::<SessionView>),
    },
    Route {
        method: "post",
        path: "/apply",
        summary: "Apply now: start the apply task (ECS RunTask) for the jobs in TOAPPLY, or one",
        status: 202,
        auth: true,
        errors: &[400, 401, 404, 503],
        query: &[],
        body: Some(schema::<ApplyRequest>),
        answer: Some(schema::<ApplyStarted>),
    },
    Route {
        method: "get",
        path: "/openapi.json",
        summary: "This document",
        status: 200,
        auth: false,
        errors: &[],
        query: &[],
        body: None,
        answer: None,
    },
    Route {
        method: "get",
        path: "/",
        summary: "The web page",
        status: 200,
        auth: false,
        errors: &[],
        query: &[],
        body: None,
        answer: None,
    },
];

/// The document.
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    let error = schema::<ApiError>(&mut generator);
    let mut paths = Map::new();
    for route in ROUTES {
        let mut op = Map::new();
        op.insert("summary".into(), route.summary.into());
        op.insert("operationId".into(), operation_id(route).into());
        let mut parameters: Vec<Value> = route
            .query
            .iter()
            .map(|(name, description, ty)| {
                json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": ty}})
            })
            .collect();
        for name in path_parameters(route.path) {
            parameters.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
        }
        if !parameters.is_empty() {
            op.insert("parameters".into(), parameters.into());
        }
        if let Some(body) = route.body {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/json": {"schema": body(&mut generator)}},
                       "description": format!("JSON, at most {MAX_BODY_BYTES} bytes; unknown fields are refused")}),
            );
        }
        let mut responses = Map::new();
        let ok = match (route.answer, route.path) {
            (Some(answer), _) => {
                json!({"description": "OK", "content": {"application/json": {"schema": answer(&mut generator)}}})
            }
            (None, "/") => json!({"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}}),
            (None, _) => {
                json!({"description": "This document", "content": {"application/json": {"schema": {"type": "object"}}}})
            }
        };
        responses.insert(route.status.to_string(), ok);
        for status in route.errors {
            responses.insert(
                status.to_string(),
                json!({"description": error_description(*status), "content": {"application/json": {"schema": error.clone()}}}),
            );
        }
        op.insert("responses".into(), Value::Object(responses));
        if !route.auth {
            op.insert("security".into(), json!([]));
        }
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = entry {
            m.insert(route.method.into(), Value::Object(op));
        }
    }
    let mut schemas = Map::new();
    for (name, s) in generator.take_definitions(true) {
        schemas.insert(name, s);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "mcfpipe CRM",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The job hunt's CRM: jobs per (post, track), their stages, history and deadlines. Errors are {error, field, reason}; writes carry the revision they were made on and a stale one is a 409 with the job as it is now."
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "`cargo xtask crm token --env ENV` makes one"}}
        },
        "security": [{"bearer": []}]
    })
}

fn operation_id(route: &Route) -> String {
    let words: Vec<&str> = route
        .path
        .split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('{'))
        .collect();
    let name = if words.is_empty() {
        "page".to_string()
    } else {
        words.join("_").replace('.', "_")
    };
    let by_id = if route.path.contains("{") { "_one" } else { "" };
    format!("{}_{name}{by_id}", route.method)
}

fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Bad input: malformed JSON, an unknown field, a wrong type, a body over the limit, a bad parameter",
        401 => "No token, or not one of this environment's",
        404 => "No such job, key or route",
        409 => "A refused transition, a stale revision, or a job that exists (with the job as it is now)",
        503 => "DynamoDB, SSM or MCF did not answer; try again",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_in_the_document_with_its_schemas() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        for r in ROUTES {
            let op = &doc["paths"][r.path][r.method];
            assert!(op.is_object(), "{} {}", r.method, r.path);
            assert!(op["responses"][r.status.to_string()].is_object());
        }
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in [
            "JobView",
            "JobPage",
            "JobDetail",
            "ApiError",
            "NewLead",
            "JobPatch",
            "TransitionRequest",
            "Stats",
        ] {
            assert!(
                schemas.contains_key(name),
                "{name} in {:?}",
                schemas.keys().collect::<Vec<_>>()
            );
        }
        // Refs resolve.
        let text = doc.to_string();
        for piece in text.split("\"$ref\":\"").skip(1) {
            let target = piece.split('"').next().unwrap();
            let name = target.strip_prefix("#/components/schemas/").expect(target);
            assert!(schemas.contains_key(name), "{target}");
        }
        // Request bodies refuse unknown fields.
        assert_eq!(schemas["TransitionRequest"]["additionalProperties"], false);
    }
}
