//! Untested templates: what would make a target environment run templates its source never
//! ran. The source's deployed templates must be what the checkout renders for it, and the two
//! environments' renders must have the same shape (resources, types, property paths; values
//! are config and may differ).

use anyhow::Result;
use serde_json::Value;

use super::running::Running;
use crate::aws::Aws;
use crate::render::without_hash;
use crate::resolve::{DeployedOutputs, Missing};
use crate::session::Session;

/// What would make the target run templates the source has not run, one line each: a source
/// stack whose deployed template is not what the checkout renders for it, and resources the
/// target's config creates or drops compared with the source's.
pub async fn untested_templates(src: &Session, src_aws: &Aws, dst: &Session, source: &Running) -> Result<Vec<String>> {
    let cfn = src.cfn(src_aws);
    let mut out = Vec::new();
    for stack in &src.plan.stacks {
        let Some(info) = source.stacks.get(&stack.name) else {
            out.push(format!("{}: not deployed in {}", stack.name, src.env));
            continue;
        };
        let rendered = src.render_with(stack, &source.deployed, &source.artifacts, Missing::Placeholder)?;
        let deployed = cfn.template(&info.name).await?;
        if without_hash(deployed) != without_hash(rendered.template.clone()) {
            out.push(format!(
                "{}: the checkout's template is not the one {} runs (changed since {} was deployed)",
                stack.name, src.env, src.env
            ));
        }
        let target = dst.render_with(stack, &DeployedOutputs::new(), &source.artifacts, Missing::Placeholder)?;
        for d in shape_differences(&rendered.template, &target.template, &src.env, &dst.env) {
            out.push(format!("{}: {d}", stack.name));
        }
    }
    Ok(out)
}

/// Where two renders of one template differ in shape, not in values: resources one has and
/// the other lacks, resource types, and property paths (keys; list items merged) set in one and
/// not the other. Values (names, CIDRs, retention days, true/false) are config and expected to
/// differ between environments; a different shape means the target takes a path through the
/// template the source never deployed.
pub fn shape_differences(source: &Value, target: &Value, src_env: &str, dst_env: &str) -> Vec<String> {
    let empty = serde_json::Map::new();
    let resources = |t: &Value| {
        t.get("Resources")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(|| empty.clone())
    };
    let (ours, theirs) = (resources(source), resources(target));
    let mut out = Vec::new();
    for (id, r) in &theirs {
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or("?");
        let Some(o) = ours.get(id) else {
            out.push(format!("{dst_env} creates {id} ({ty}), which {src_env} does not"));
            continue;
        };
        let oty = o.get("Type").and_then(Value::as_str).unwrap_or("?");
        if oty != ty {
            out.push(format!("{id} is a {ty} in {dst_env} but a {oty} in {src_env}"));
            continue;
        }
        let (mut a, mut b) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
        paths(o, "", &mut a);
        paths(r, "", &mut b);
        for only in top_level(b.difference(&a)) {
            out.push(format!("{dst_env} sets {id}.{only}, which {src_env} does not"));
        }
        for only in top_level(a.difference(&b)) {
            out.push(format!("{src_env} sets {id}.{only}, which {dst_env} does not"));
        }
    }
    for (id, r) in &ours {
        if !theirs.contains_key(id) {
            let ty = r.get("Type").and_then(Value::as_str).unwrap_or("?");
            out.push(format!("{src_env} has {id} ({ty}), which {dst_env} would not"));
        }
    }
    out
}

fn paths(v: &Value, at: &str, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                out.insert(p.clone());
                paths(child, &p, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                paths(item, &format!("{at}[]"), out);
            }
        }
        _ => {}
    }
}

/// The paths whose parent is not in the set too: `A.B` and `A.B.C` → `A.B`.
fn top_level<'a>(diff: impl Iterator<Item = &'a String>) -> Vec<String> {
    let all: Vec<&String> = diff.collect();
    all.iter()
        .filter(|p| {
            !all.iter()
                .any(|q| q.len() < p.len() && p.starts_with(q.as_str()) && matches!(p.as_bytes()[q.len()], b'.' | b'['))
        })
        .map(|p| p.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_differ_on_resources_types_and_property_paths_not_on_values() {
        let dev = json!({"Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "mcfpipe-dev-data",
                "LifecycleConfiguration": {"Rules": [{"Id": "a", "Status": "Enabled"}]}}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60}},
            "Old": {"Type": "AWS::SNS::Topic"}
        }});
        let same_shape = json!({"Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "mcfpipe-staging-data",
                "LifecycleConfiguration": {"Rules": [{"Id": "b", "Status": "Disabled"}]}}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 120}},
            "Old": {"Type": "AWS::SNS::Topic"}
        }});
        assert!(shape_differences(&dev, &same_shape, "dev", "staging").is_empty());
        let other = json!({"Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "x",
                "LifecycleConfiguration": {"Rules": [{"Id": "a", "Status": "Enabled"},
                    {"Id": "v", "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]}}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Old": {"Type": "AWS::SNS::Subscription"},
            "Schedule": {"Type": "AWS::Scheduler::Schedule"}
        }});
        let mut got = shape_differences(&dev, &other, "dev", "prod");
        got.sort();
        assert_eq!(
            got,
            [
                "Old is a AWS::SNS::Subscription in prod but a AWS::SNS::Topic in dev",
                "dev sets Queue.Properties.VisibilityTimeout, which prod does not",
                "prod creates Schedule (AWS::Scheduler::Schedule), which dev does not",
                "prod sets Bucket.Properties.LifecycleConfiguration.Rules[].NoncurrentVersionExpiration, which dev does not",
            ]
        );
    }
}
