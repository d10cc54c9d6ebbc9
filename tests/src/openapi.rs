//! Holds an answer to an OpenAPI 3.1 document: the operation must list the status, and the
//! body must fit the schema it gives (the JSON Schema 2020-12 subset schemars writes: `$ref`
//! into `#/components/schemas`, `type` (one or a list), `properties`, `required`,
//! `additionalProperties: false`, `items`, `anyOf`, `oneOf`, `enum`, `const`, `minimum`).
//! Unknown keywords are refused, so a schema this cannot check fails loudly, not silently.

use serde_json::Value;

/// Whether `body` is an answer `status` of `method path` (the path as the document writes it,
/// `/jobs/{id}`) in `doc`; why not.
pub fn check_answer(doc: &Value, method: &str, path: &str, status: u16, body: &Value) -> Result<(), String> {
    let op = &doc["paths"][path][method.to_ascii_lowercase()];
    if !op.is_object() {
        return Err(format!("the document has no {method} {path}"));
    }
    let answer = &op["responses"][status.to_string()];
    if !answer.is_object() {
        let listed: Vec<&String> = op["responses"]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        return Err(format!(
            "{method} {path} answered {status}, which the document does not list ({listed:?})"
        ));
    }
    let schema = &answer["content"]["application/json"]["schema"];
    if schema.is_null() {
        return Ok(());
    }
    fits(doc, schema, body, "body")
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> Result<&'a Value, String> {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .ok_or_else(|| format!("a $ref outside the components: {r}"))?;
            let target = &doc["components"]["schemas"][name];
            if target.is_null() {
                Err(format!("no schema {name}"))
            } else {
                resolve(doc, target)
            }
        }
        None => Ok(schema),
    }
}

fn type_fits(ty: &str, v: &Value) -> bool {
    match ty {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

/// Whether `v` fits `schema`; where and why not.
pub fn fits(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    if schema == &Value::Bool(true) {
        return Ok(());
    }
    let schema = resolve(doc, schema)?;
    let Some(map) = schema.as_object() else {
        return Err(format!("{at}: a schema that is not an object: {schema}"));
    };
    for key in map.keys() {
        let known = [
            "$ref",
            "type",
            "properties",
            "required",
            "additionalProperties",
            "items",
            "anyOf",
            "oneOf",
            "enum",
            "const",
            "minimum",
            "format",
            "description",
            "title",
            "default",
            "$schema",
        ];
        if !known.contains(&key.as_str()) {
            return Err(format!("{at}: the schema uses `{key}`, which this check does not know"));
        }
    }
    if let Some(ty) = map.get("type") {
        let types: Vec<&str> = match ty {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.iter().any(|t| type_fits(t, v)) {
            return Err(format!("{at}: {v} is not {types:?}"));
        }
    }
    if let Some(options) = map.get("anyOf").or_else(|| map.get("oneOf")).and_then(Value::as_array) {
        let fitting = options.iter().filter(|o| fits(doc, o, v, at).is_ok()).count();
        let one = map.contains_key("oneOf");
        if fitting == 0 || (one && fitting > 1) {
            return Err(format!("{at}: {v} fits {fitting} of the options of {schema}"));
        }
    }
    if let Some(values) = map.get("enum").and_then(Value::as_array)
        && !values.contains(v)
    {
        return Err(format!("{at}: {v} is not one of {values:?}"));
    }
    if let Some(c) = map.get("const")
        && c != v
    {
        return Err(format!("{at}: {v} is not {c}"));
    }
    if let (Some(min), Some(n)) = (map.get("minimum").and_then(Value::as_f64), v.as_f64())
        && n < min
    {
        return Err(format!("{at}: {n} is below {min}"));
    }
    if let Some(obj) = v.as_object() {
        let props = map.get("properties").and_then(Value::as_object);
        for name in map.get("required").and_then(Value::as_array).into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !obj.contains_key(name) {
                return Err(format!("{at}: `{name}` is required"));
            }
        }
        for (k, value) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => fits(doc, s, value, &format!("{at}.{k}"))?,
                None if map.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{at}: `{k}` is not in the schema"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(list)) = (map.get("items"), v.as_array()) {
        for (i, item) in list.iter().enumerate() {
            fits(doc, items, item, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}
