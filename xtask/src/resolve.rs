//! Resolvers: where a parameter's value comes from (config, another stack's outputs, a
//! literal), as sceptre's `stack_output` resolver does it.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde_json::Value;

use crate::config::Config;
use crate::render::PLACEHOLDER_PREFIX;
use crate::stacks::{ParamSource, Stack};

/// What to do when an upstream stack is not deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Deploy: it is an error.
    Fail,
    /// Render and diff: a clearly marked placeholder stands in.
    Placeholder,
}

/// Outputs of the deployed stacks, by stack name (`None`: not deployed).
pub type DeployedOutputs = BTreeMap<String, Option<BTreeMap<String, String>>>;

/// Published build artifacts, by component: the value a template receives (an S3 key, an
/// image reference pinned by digest).
pub type Artifacts = BTreeMap<String, String>;

/// The CloudFormation parameter values of `stack`.
pub fn parameters(
    stack: &Stack,
    config: &Config,
    env: &str,
    deployed: &DeployedOutputs,
    artifacts: &Artifacts,
    missing: Missing,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (param, source) in &stack.manifest.parameters {
        let value = match source {
            ParamSource::Value(v) => scalar(v),
            ParamSource::Config(path) => {
                let tree = serde_json::to_value(config)?;
                match lookup(&tree, path) {
                    Some(v) if !v.is_null() => scalar(v),
                    _ => bail!(
                        "{}: parameter {param}: config key `{path}` is not set for environment {env}",
                        stack.file.display()
                    ),
                }
            }
            ParamSource::Artifact(component) => match artifacts.get(component) {
                Some(v) => v.clone(),
                None if missing == Missing::Placeholder => format!("{PLACEHOLDER_PREFIX}artifact {component}>"),
                None => bail!(
                    "stack {} needs the build artifact of {component}, which was not built: `cargo xtask build {component} --env {env}`",
                    stack.name
                ),
            },
            ParamSource::StackOutput(r) => {
                let (upstream, output) = r.split_once('.').unwrap_or((r, ""));
                match deployed.get(upstream).cloned().flatten() {
                    Some(outputs) => match outputs.get(output) {
                        Some(v) => v.clone(),
                        None => bail!(
                            "{}: parameter {param} needs output `{output}` of stack {upstream}, which has none by that name (it has: {}). Deploy {upstream} again if its template gained the output",
                            stack.file.display(),
                            outputs.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    },
                    None if missing == Missing::Placeholder => format!("{PLACEHOLDER_PREFIX}{r}>"),
                    None => bail!(
                        "stack {} needs output `{output}` of stack {upstream}, which is not deployed in environment {env}: deploy {upstream} first (or `deploy all`)",
                        stack.name
                    ),
                }
            }
        };
        out.insert(param.clone(), value);
    }
    Ok(out)
}

fn lookup<'v>(tree: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(tree, |node, key| node.get(key))
}

/// CloudFormation parameters are strings; lists become comma-separated (`List<...>` types).
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stacks::Manifest;
    use std::path::Path;

    fn config() -> Config {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        crate::config::load(&dir, &dir, "dev").unwrap()
    }

    fn stack(params: &[(&str, ParamSource)]) -> Stack {
        Stack {
            name: "compute".into(),
            file: "stacks/compute.yaml".into(),
            manifest: Manifest {
                layer: "compute".into(),
                template: "compute.yaml.j2".into(),
                description: None,
                depends_on: vec![],
                parameters: params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            },
        }
    }

    #[test]
    fn resolves_config_outputs_and_literals() {
        let s = stack(&[
            ("Days", ParamSource::Config("logs.retention_days".into())),
            ("Azs", ParamSource::Config("network.availability_zones".into())),
            ("Vpc", ParamSource::StackOutput("networking.VpcId".into())),
            ("Flag", ParamSource::Value(serde_json::json!(true))),
        ]);
        let deployed = DeployedOutputs::from([(
            "networking".to_string(),
            Some(BTreeMap::from([("VpcId".to_string(), "vpc-123".to_string())])),
        )]);
        let p = parameters(&s, &config(), "dev", &deployed, &Artifacts::new(), Missing::Fail).unwrap();
        assert_eq!(p["Days"], "7");
        assert_eq!(p["Azs"], "ap-southeast-1a,ap-southeast-1b");
        assert_eq!(p["Vpc"], "vpc-123");
        assert_eq!(p["Flag"], "true");
    }

    #[test]
    fn artifacts_resolve_from_the_build_or_say_how_to_build() {
        let s = stack(&[("Code", ParamSource::Artifact("mcfparse".into()))]);
        let built = Artifacts::from([("mcfparse".to_string(), "lambda/mcfparse/abc.zip".to_string())]);
        let p = parameters(&s, &config(), "dev", &DeployedOutputs::new(), &built, Missing::Fail).unwrap();
        assert_eq!(p["Code"], "lambda/mcfparse/abc.zip");
        let p = parameters(
            &s,
            &config(),
            "dev",
            &DeployedOutputs::new(),
            &Artifacts::new(),
            Missing::Placeholder,
        )
        .unwrap();
        assert_eq!(p["Code"], "<unresolved: artifact mcfparse>");
        let e = parameters(
            &s,
            &config(),
            "dev",
            &DeployedOutputs::new(),
            &Artifacts::new(),
            Missing::Fail,
        )
        .unwrap_err();
        assert!(e.to_string().contains("`cargo xtask build mcfparse --env dev`"), "{e}");
    }

    #[test]
    fn undeployed_upstream_is_a_placeholder_or_an_error() {
        let s = stack(&[("Vpc", ParamSource::StackOutput("networking.VpcId".into()))]);
        let deployed = DeployedOutputs::from([("networking".to_string(), None)]);
        let p = parameters(&s, &config(), "dev", &deployed, &Artifacts::new(), Missing::Placeholder).unwrap();
        assert_eq!(p["Vpc"], "<unresolved: networking.VpcId>");
        let e = parameters(&s, &config(), "dev", &deployed, &Artifacts::new(), Missing::Fail)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("not deployed in environment dev: deploy networking first"),
            "{e}"
        );
    }

    #[test]
    fn unknown_output_and_config_key_are_errors() {
        let s = stack(&[("Vpc", ParamSource::StackOutput("networking.VpcIdd".into()))]);
        let deployed = DeployedOutputs::from([(
            "networking".to_string(),
            Some(BTreeMap::from([("VpcId".to_string(), "vpc-1".to_string())])),
        )]);
        let e = parameters(&s, &config(), "dev", &deployed, &Artifacts::new(), Missing::Fail)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("needs output `VpcIdd` of stack networking, which has none by that name (it has: VpcId)"),
            "{e}"
        );
        let s = stack(&[("X", ParamSource::Config("logs.nope".into()))]);
        let e = parameters(&s, &config(), "dev", &deployed, &Artifacts::new(), Missing::Fail)
            .unwrap_err()
            .to_string();
        assert!(e.contains("config key `logs.nope` is not set"), "{e}");
    }
}
