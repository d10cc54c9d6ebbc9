//! "Unchanged" must mean unchanged: a deployed stack against what the files render. The
//! deploy hash (an output the template carries) says whether the *template, parameters and
//! tags we last sent* are what we would send now; it cannot see a parameter, tag or
//! termination protection changed behind our back (the console, another tool), because such
//! a change leaves the output as it was. DescribeStacks returns the parameters, tags and
//! protection too, so each is compared here as well.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cfn::StackInfo;
use crate::render::Rendered;

/// CloudFormation's stand-in for a `NoEcho` parameter's value: it cannot be compared.
const MASKED: &str = "****";

/// One way a deployed stack differs from the files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Difference {
    /// The deploy hash differs: template, parameters or tags as we would send them changed.
    Template,
    Parameter {
        key: String,
        deployed: Option<String>,
        files: Option<String>,
    },
    Tag {
        key: String,
        deployed: Option<String>,
        files: Option<String>,
    },
    TerminationProtection {
        deployed: bool,
        config: bool,
    },
}

impl Difference {
    /// True for what only a stack update can set back (not termination protection).
    pub fn needs_update(&self) -> bool {
        !matches!(self, Difference::TerminationProtection { .. })
    }

    /// A line for people: `parameter X: deployed A, the files say B`.
    pub fn text(&self) -> String {
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        match self {
            Difference::Template => "template (its deploy hash differs from the files')".into(),
            Difference::Parameter { key, deployed, files } => format!(
                "parameter {key}: deployed {}, the files say {}",
                shown(deployed),
                shown(files)
            ),
            Difference::Tag { key, deployed, files } => {
                format!(
                    "tag {key}: deployed {}, the files say {}",
                    shown(deployed),
                    shown(files)
                )
            }
            Difference::TerminationProtection { deployed, config } => format!(
                "termination protection: deployed {}, the config says {}",
                on_off(*deployed),
                on_off(*config)
            ),
        }
    }

    /// The kind of difference, for a one-word summary (`template, parameters`).
    pub fn kind(&self) -> &'static str {
        match self {
            Difference::Template => "template",
            Difference::Parameter { .. } => "parameters",
            Difference::Tag { .. } => "tags",
            Difference::TerminationProtection { .. } => "termination protection",
        }
    }
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// Every difference between the deployed stack and the render; empty when in sync.
/// `termination_protection` is what the environment's config asks for. `deployed_template`,
/// when the caller read it, settles a hash output that differs: the deployed template carries
/// our hash in its text even when the stack's outputs were not refreshed (an emulator's
/// change sets leave them stale), so a body equal to the render is not a template change.
pub fn differences(
    info: &StackInfo,
    r: &Rendered,
    termination_protection: bool,
    deployed_template: Option<&serde_json::Value>,
) -> Vec<Difference> {
    let mut out = Vec::new();
    if info.deployed_hash() != Some(r.hash.as_str()) && deployed_template != Some(&r.template) {
        out.push(Difference::Template);
    }
    let deployed_parameters: BTreeMap<String, String> = info
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), list_parameter(v)))
        .collect();
    for (key, deployed, files) in changed(&deployed_parameters, &r.parameters) {
        if deployed.as_deref() == Some(MASKED) {
            continue;
        }
        out.push(Difference::Parameter { key, deployed, files });
    }
    for (key, deployed, files) in changed(&info.tags, &r.tags) {
        out.push(Difference::Tag { key, deployed, files });
    }
    if info.termination_protection != termination_protection {
        out.push(Difference::TerminationProtection {
            deployed: info.termination_protection,
            config: termination_protection,
        });
    }
    out
}

/// A `List<...>` parameter as AWS returns it (`a,b`). moto returns Python's repr of the list
/// (`['a', 'b']`); anything else is returned as it is.
pub fn list_parameter(value: &str) -> String {
    let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) else {
        return value.to_string();
    };
    let items: Option<Vec<&str>> = inner
        .split(", ")
        .map(|i| i.strip_prefix('\'').and_then(|i| i.strip_suffix('\'')))
        .collect();
    match items {
        Some(items) if !inner.is_empty() => items.join(","),
        _ => value.to_string(),
    }
}

/// The kinds of `diffs`, once each, in order: `template, parameters`.
pub fn kinds(diffs: &[Difference]) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for d in diffs {
        if !kinds.contains(&d.kind()) {
            kinds.push(d.kind());
        }
    }
    kinds.join(", ")
}

/// (key, deployed, files) for each key whose value differs or exists on one side only.
fn changed(
    deployed: &BTreeMap<String, String>,
    files: &BTreeMap<String, String>,
) -> Vec<(String, Option<String>, Option<String>)> {
    let mut keys: Vec<&String> = deployed.keys().chain(files.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| deployed.get(*k) != files.get(*k))
        .map(|k| (k.clone(), deployed.get(k).cloned(), files.get(k).cloned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(params: &[(&str, &str)], tags: &[(&str, &str)]) -> Rendered {
        let map = |kv: &[(&str, &str)]| kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Rendered {
            stack: "database".into(),
            full_name: "mcfpipe-dev-database".into(),
            template: serde_json::json!({}),
            body: String::new(),
            parameters: map(params),
            tags: map(tags),
            description: None,
            hash: "h1".into(),
        }
    }

    fn info(params: &[(&str, &str)], tags: &[(&str, &str)], hash: &str, protection: bool) -> StackInfo {
        let map = |kv: &[(&str, &str)]| kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        StackInfo {
            name: "mcfpipe-dev-database".into(),
            id: "arn:stack".into(),
            status: "UPDATE_COMPLETE".into(),
            reason: None,
            outputs: BTreeMap::from([(crate::render::HASH_OUTPUT.to_string(), hash.to_string())]),
            exports: vec![],
            parameters: map(params),
            tags: map(tags),
            created: None,
            updated: None,
            termination_protection: protection,
        }
    }

    #[test]
    fn in_sync_only_when_hash_parameters_tags_and_protection_all_match() {
        let r = rendered(&[("Retention", "14")], &[("project", "mcfpipe")]);
        let same = info(&[("Retention", "14")], &[("project", "mcfpipe")], "h1", false);
        assert!(differences(&same, &r, false, None).is_empty());

        // Changed behind our back: the hash output is still ours.
        let drifted = info(&[("Retention", "3")], &[("project", "x"), ("owner", "me")], "h1", true);
        let d = differences(&drifted, &r, false, None);
        assert_eq!(
            d.iter().map(Difference::text).collect::<Vec<_>>(),
            [
                "parameter Retention: deployed 3, the files say 14",
                "tag owner: deployed me, the files say (none)",
                "tag project: deployed x, the files say mcfpipe",
                "termination protection: deployed on, the config says off",
            ]
        );
        assert_eq!(kinds(&d), "parameters, tags, termination protection");
        assert!(d.iter().filter(|x| x.needs_update()).count() == 3);

        let other_hash = info(&[("Retention", "14")], &[("project", "mcfpipe")], "h0", false);
        assert_eq!(differences(&other_hash, &r, false, None), [Difference::Template]);
        // Stale outputs, but the deployed template is the render (hash text included).
        assert!(differences(&other_hash, &r, false, Some(&r.template)).is_empty());
        let older = serde_json::json!({"Outputs": {"McfpipeDeployHash": {"Value": "h0"}}});
        assert_eq!(
            differences(&other_hash, &r, false, Some(&older)),
            [Difference::Template]
        );
    }

    #[test]
    fn list_parameters_compare_in_aws_form() {
        assert_eq!(list_parameter("['subnet-a', 'subnet-b']"), "subnet-a,subnet-b");
        assert_eq!(list_parameter("subnet-a,subnet-b"), "subnet-a,subnet-b");
        assert_eq!(list_parameter("[not a list]"), "[not a list]");
        assert_eq!(list_parameter("[]"), "[]");
        let r = rendered(&[("Subnets", "subnet-a,subnet-b")], &[]);
        let moto = info(&[("Subnets", "['subnet-a', 'subnet-b']")], &[], "h1", false);
        assert!(differences(&moto, &r, false, None).is_empty());
    }

    #[test]
    fn masked_parameters_are_not_compared() {
        let r = rendered(&[("Secret", "abc")], &[]);
        let masked = info(&[("Secret", MASKED)], &[], "h1", false);
        assert!(differences(&masked, &r, false, None).is_empty());
    }
}
