//! Our own checks on a rendered template: references resolve, parameters match the manifest,
//! names carry the environment prefix, resources carry the tags, and data stores carry the
//! policies the environment's config asks for. cfn-lint checks the rest (see `commands::lint`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::config::Config;
use crate::render::{HASH_OUTPUT, Rendered};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub stack: String,
    /// The logical id, when one resource is at fault.
    pub resource: Option<String>,
    pub message: String,
}

/// Resource types whose `Tags` property we require (all taggable types we use).
const TAGGED: &[&str] = &[
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SecurityGroup",
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::Lambda::Function",
    "AWS::IAM::Role",
    "AWS::ECS::Cluster",
    "AWS::ECS::TaskDefinition",
    "AWS::ECR::Repository",
    "AWS::Logs::LogGroup",
    "AWS::KMS::Key",
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGateway::Stage",
];
/// Properties that hold a physical name.
const NAME_PROPERTIES: &[&str] = &[
    "TableName",
    "QueueName",
    "BucketName",
    "GroupName",
    "FunctionName",
    "RoleName",
    "RepositoryName",
    "ClusterName",
    "LogGroupName",
    "Name",
    "RuleName",
    "StateMachineName",
    "Family",
];
const LOG_PATHS: &[&str] = &["/aws/lambda/", "/ecs/"];
const DATA_STORES: &[&str] = &["AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue"];

pub fn check(r: &Rendered, config: &Config, env: &str, manifest_params: &BTreeSet<String>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut find = |resource: Option<&str>, message: String| {
        out.push(Finding {
            stack: r.stack.clone(),
            resource: resource.map(str::to_string),
            message,
        })
    };
    let t = &r.template;
    let empty = serde_json::Map::new();
    let resources = t.get("Resources").and_then(Value::as_object).unwrap_or(&empty);
    let params = t.get("Parameters").and_then(Value::as_object).unwrap_or(&empty);

    // Parameters: declared in the template <-> given by the manifest.
    for p in manifest_params {
        if !params.contains_key(p) {
            find(
                None,
                format!("the manifest sets parameter {p}, which the template does not declare"),
            );
        }
    }
    for (p, decl) in params {
        if !manifest_params.contains(p) && decl.get("Default").is_none() {
            find(
                None,
                format!("template parameter {p} has no Default and the manifest does not set it"),
            );
        }
    }

    // References.
    let known: BTreeSet<&str> = resources.keys().chain(params.keys()).map(String::as_str).collect();
    let mut refs = Vec::new();
    collect_refs(t, &mut refs);
    for (kind, target) in refs {
        let base = target.split('.').next().unwrap_or_default();
        let ok = match kind {
            RefKind::Ref => target.starts_with("AWS::") || known.contains(target.as_str()),
            RefKind::GetAtt => resources.contains_key(base),
        };
        if !ok {
            find(
                None,
                format!(
                    "{} {target} names nothing in the template",
                    if kind == RefKind::Ref { "Ref" } else { "GetAtt" }
                ),
            );
        }
    }

    // Leftovers of templating.
    let body = &r.body;
    for marker in ["{{", "{%", "<unresolved"] {
        if body.contains(marker) {
            find(None, format!("the rendered template still contains `{marker}`"));
        }
    }
    if t.get("Outputs").and_then(|o| o.get(HASH_OUTPUT)).is_none() {
        find(None, "the deploy hash output is missing".into());
    }

    let prefix = config.name_prefix(env);
    let expected_tags = &r.tags;
    for (id, res) in resources {
        let kind = res.get("Type").and_then(Value::as_str).unwrap_or("");
        let props = res.get("Properties").cloned().unwrap_or(Value::Null);
        if kind == "AWS::EC2::NatGateway" {
            find(Some(id), "NAT gateways are not allowed: they cost more than the whole pipeline (use gateway endpoints and public subnets)".into());
        }
        // Names.
        for key in NAME_PROPERTIES {
            let Some(v) = props.get(*key) else { continue };
            let text = v.as_str().or_else(|| v.get("Fn::Sub").and_then(Value::as_str));
            // Lambda and ECS log groups live under paths those services impose.
            let text = text.map(|t| LOG_PATHS.iter().fold(t, |t, p| t.strip_prefix(p).unwrap_or(t)));
            match text {
                Some(name) if !name.starts_with(&prefix) => find(
                    Some(id),
                    format!("{key} `{name}` does not start with `{prefix}`: derive it with name(...)"),
                ),
                None if !v.is_object() => find(Some(id), format!("{key} is not a string")),
                _ => {}
            }
        }
        // Tags.
        if TAGGED.contains(&kind) {
            let tags: BTreeMap<&str, &str> = props
                .get("Tags")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|t| Some((t.get("Key")?.as_str()?, t.get("Value")?.as_str()?)))
                        .collect()
                })
                .unwrap_or_default();
            for (k, v) in expected_tags {
                if tags.get(k.as_str()) != Some(&v.as_str()) {
                    find(
                        Some(id),
                        format!("tag {k}={v} is missing: add `Tags: {{{{ tags() | tojson }}}}`"),
                    );
                }
            }
        }
        // Data stores.
        if DATA_STORES.contains(&kind) {
            let want = if config.database.retain_data {
                "Retain"
            } else {
                "Delete"
            };
            for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
                let got = res.get(policy).and_then(Value::as_str).unwrap_or("Delete");
                if got != want {
                    find(
                        Some(id),
                        format!("{policy} is {got}, but database.retain_data asks for {want}"),
                    );
                }
            }
        }
        match kind {
            "AWS::DynamoDB::Table" => {
                let pitr = props
                    .pointer("/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if pitr != config.database.point_in_time_recovery {
                    find(
                        Some(id),
                        format!(
                            "point-in-time recovery is {pitr}, config says {}",
                            config.database.point_in_time_recovery
                        ),
                    );
                }
                let protection = props
                    .get("DeletionProtectionEnabled")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if protection != config.database.deletion_protection {
                    find(
                        Some(id),
                        format!(
                            "deletion protection is {protection}, config says {}",
                            config.database.deletion_protection
                        ),
                    );
                }
            }
            "AWS::S3::Bucket" => {
                let block = props.get("PublicAccessBlockConfiguration");
                for k in [
                    "BlockPublicAcls",
                    "BlockPublicPolicy",
                    "IgnorePublicAcls",
                    "RestrictPublicBuckets",
                ] {
                    if block.and_then(|b| b.get(k)).and_then(Value::as_bool) != Some(true) {
                        find(Some(id), format!("public access is not blocked ({k} is not true)"));
                    }
                }
                if props.get("BucketEncryption").is_none() {
                    find(Some(id), "no BucketEncryption".into());
                }
                if !has_tls_only_policy(resources, id, "AWS::S3::BucketPolicy", "Bucket") {
                    find(
                        Some(id),
                        "no bucket policy denying requests without TLS (aws:SecureTransport false)".into(),
                    );
                }
            }
            "AWS::SQS::Queue" if !has_tls_only_policy(resources, id, "AWS::SQS::QueuePolicy", "Queues") => {
                find(
                    Some(id),
                    "no queue policy denying requests without TLS (aws:SecureTransport false)".into(),
                );
            }
            "AWS::IAM::Role" | "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
                let text = props.to_string();
                if text.contains("\"Action\":\"*\"") || text.contains("\"Action\":[\"*\"]") {
                    find(Some(id), "a policy allows every action (`*`)".into());
                }
                // The CI deploy role creates no role without the environment's boundary, so a
                // role without it fails the deploy on AWS (and nothing on the emulator shows it).
                if kind == "AWS::IAM::Role" {
                    if let Some(boundary) = &config.iam.permissions_boundary {
                        let want = serde_json::json!({"Fn::Sub": boundary});
                        match props.get("PermissionsBoundary") {
                            Some(got) if *got == want => {}
                            Some(got) => find(
                                Some(id),
                                format!("PermissionsBoundary is {got}, but iam.permissions_boundary names {want}"),
                            ),
                            None => find(
                                Some(id),
                                format!(
                                    "no PermissionsBoundary: iam.permissions_boundary names `{boundary}`, and the CI deploy role creates no role without it (add `{{{{- permissions_boundary() }}}}` as in templates/compute.yaml.j2)"
                                ),
                            ),
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether a policy resource of `kind` targets `id` and denies aws:SecureTransport false.
fn has_tls_only_policy(resources: &serde_json::Map<String, Value>, id: &str, kind: &str, target_prop: &str) -> bool {
    resources.values().any(|r| {
        r.get("Type").and_then(Value::as_str) == Some(kind)
            && r.get("Properties")
                .and_then(|p| p.get(target_prop))
                .is_some_and(|t| t.to_string().contains(&format!("\"{id}\"")))
            && r.to_string().contains("aws:SecureTransport")
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefKind {
    Ref,
    GetAtt,
}

fn collect_refs(v: &Value, out: &mut Vec<(RefKind, String)>) {
    match v {
        Value::Object(map) => {
            for (k, inner) in map {
                match (k.as_str(), inner) {
                    ("Ref", Value::String(s)) => out.push((RefKind::Ref, s.clone())),
                    ("Fn::GetAtt", Value::Array(a)) => {
                        if let Some(Value::String(s)) = a.first() {
                            out.push((RefKind::GetAtt, s.clone()));
                        }
                    }
                    ("Fn::GetAtt", Value::String(s)) => out.push((RefKind::GetAtt, s.clone())),
                    ("Fn::Sub", sub) => {
                        let (text, vars) = match sub {
                            Value::String(s) => (s.as_str(), None),
                            Value::Array(a) => (
                                a.first().and_then(Value::as_str).unwrap_or(""),
                                a.get(1).and_then(Value::as_object),
                            ),
                            _ => ("", None),
                        };
                        for var in sub_vars(text) {
                            if vars.is_some_and(|m| m.contains_key(&var)) {
                                continue;
                            }
                            let kind = if var.contains('.') {
                                RefKind::GetAtt
                            } else {
                                RefKind::Ref
                            };
                            out.push((kind, var));
                        }
                        if let Some(m) = vars {
                            for val in m.values() {
                                collect_refs(val, out);
                            }
                        }
                        continue;
                    }
                    _ => {}
                }
                collect_refs(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

/// `${Name}` and `${Res.Attr}` in an Fn::Sub string (`${!Literal}` is not a reference).
fn sub_vars(text: &str) -> Vec<String> {
    let mut vars = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let var = &after[..end];
        if !var.starts_with('!') {
            vars.push(var.trim().to_string());
        }
        rest = &after[end + 1..];
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rendered(template: Value, tags: &[(&str, &str)]) -> Rendered {
        Rendered {
            stack: "database".into(),
            full_name: "mcfpipe-dev-database".into(),
            body: template.to_string(),
            template,
            parameters: BTreeMap::new(),
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            description: None,
            hash: "h".into(),
        }
    }

    fn config(env: &str) -> Config {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        crate::config::load(&dir, &dir, env).unwrap()
    }

    #[test]
    fn finds_what_is_wrong() {
        let t = json!({
            "Parameters": {"Orphan": {"Type": "String"}},
            "Resources": {
                "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "other-name", "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Ghost", "Arn"]}}, "Tags": []}},
                "N": {"Type": "AWS::EC2::NatGateway", "Properties": {"SubnetId": {"Ref": "Nowhere"}, "AllocationId": {"Fn::Sub": "${Q.Arn}-${AWS::Region}-${!Literal}-${Missing}"}}}
            },
            "Outputs": {}
        });
        let f = check(
            &rendered(t, &[("layer", "database")]),
            &config("prod"),
            "prod",
            &BTreeSet::from(["Extra".to_string()]),
        );
        let text: Vec<String> = f
            .iter()
            .map(|f| format!("{}: {}", f.resource.as_deref().unwrap_or("-"), f.message))
            .collect();
        let has = |needle: &str| assert!(text.iter().any(|t| t.contains(needle)), "no `{needle}` in {text:#?}");
        has("-: the manifest sets parameter Extra");
        has("-: template parameter Orphan has no Default");
        has("GetAtt Ghost names nothing");
        has("Ref Nowhere names nothing");
        has("Ref Missing names nothing");
        has("deploy hash output is missing");
        has("N: NAT gateways are not allowed");
        has("Q: QueueName `other-name` does not start with `mcfpipe-prod-`");
        has("Q: tag layer=database is missing");
        has("Q: DeletionPolicy is Delete, but database.retain_data asks for Retain");
        has("Q: no queue policy denying requests without TLS");
        assert!(
            !text
                .iter()
                .any(|t| t.contains("AWS::Region") || t.contains("Literal") || t.contains("Q.Arn")),
            "{text:#?}"
        );
    }

    #[test]
    fn roles_carry_the_configured_permissions_boundary() {
        let tags = json!([{"Key": "layer", "Value": "compute"}]);
        let boundary = "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/mcfpipe-dev-boundary";
        let t = json!({
            "Resources": {
                "With": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "mcfpipe-dev-a", "Tags": tags,
                         "PermissionsBoundary": {"Fn::Sub": boundary}}},
                "Other": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "mcfpipe-dev-b", "Tags": tags,
                          "PermissionsBoundary": {"Fn::Sub": boundary.replace("dev", "prod")}}},
                "Without": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "mcfpipe-dev-c", "Tags": tags}}
            },
            "Outputs": {HASH_OUTPUT: {"Value": "h"}}
        });
        let r = rendered(t, &[("layer", "compute")]);
        let dev = config("dev");
        assert_eq!(dev.iam.permissions_boundary.as_deref(), Some(boundary));
        let f = check(&r, &dev, "dev", &BTreeSet::new());
        let text: Vec<String> = f
            .iter()
            .map(|f| format!("{}: {}", f.resource.as_deref().unwrap_or("-"), f.message))
            .collect();
        assert_eq!(f.len(), 2, "{text:#?}");
        assert!(
            text[0].starts_with("Other: PermissionsBoundary is") && text[0].contains("mcfpipe-prod-boundary"),
            "{text:#?}"
        );
        assert!(text[1].starts_with("Without: no PermissionsBoundary"), "{text:#?}");
        // The emulator's config names none: nothing to require.
        let local = check(&r, &config("local"), "local", &BTreeSet::new());
        assert!(
            !local.iter().any(|f| f.message.contains("PermissionsBoundary")),
            "{local:#?}"
        );
    }

    #[test]
    fn a_clean_template_has_no_findings() {
        let tags = json!([{"Key": "layer", "Value": "database"}]);
        let t = json!({
            "Resources": {
                "Q": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete",
                      "Properties": {"QueueName": "mcfpipe-dev-parse", "Tags": tags}},
                "QP": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": "Q"}],
                      "PolicyDocument": {"Statement": [{"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}}
            },
            "Outputs": {HASH_OUTPUT: {"Value": "h"}}
        });
        let f = check(
            &rendered(t, &[("layer", "database")]),
            &config("dev"),
            "dev",
            &BTreeSet::new(),
        );
        assert!(f.is_empty(), "{f:#?}");
    }
}
