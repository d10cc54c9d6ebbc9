//! Rendering: a stack's minijinja template + the environment's config → a CloudFormation
//! template (JSON), and the content hash that tells whether a deploy has anything to do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::stacks::Stack;

/// The output that carries the content hash of what was deployed.
pub const HASH_OUTPUT: &str = "McfpipeDeployHash";

/// A template without the deployer's hash output: what to compare a deployed template with a
/// render by.
pub fn without_hash(mut template: Value) -> Value {
    if let Some(o) = template.get_mut("Outputs").and_then(|o| o.as_object_mut()) {
        o.remove(HASH_OUTPUT);
    }
    template
}
/// Parameter values that could not be resolved yet (upstream stack not deployed) start so.
pub const PLACEHOLDER_PREFIX: &str = "<unresolved: ";

/// What the deployer sends for one stack.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub stack: String,
    pub full_name: String,
    /// The template as sent, including the hash output.
    pub template: Value,
    /// Compact JSON of `template`: the `TemplateBody`.
    pub body: String,
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub description: Option<String>,
    /// SHA-256 over template (without the hash output), parameters and tags.
    pub hash: String,
}

impl Rendered {
    pub fn has_placeholders(&self) -> bool {
        self.parameters.values().any(|v| v.starts_with(PLACEHOLDER_PREFIX))
    }

    /// Pretty JSON for files and diffs.
    pub fn pretty(&self) -> String {
        serde_json::to_string_pretty(&self.template).unwrap_or_default() + "\n"
    }

    /// Logical ids and types of the template's resources.
    pub fn resources(&self) -> Vec<(String, String)> {
        resources(&self.template)
    }
}

pub fn resources(template: &Value) -> Vec<(String, String)> {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .map(|r| {
            r.iter()
                .map(|(id, res)| {
                    (
                        id.clone(),
                        res.get("Type").and_then(Value::as_str).unwrap_or("?").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The template context: everything a template may read.
#[derive(Serialize)]
struct TemplateContext<'a> {
    env: &'a str,
    project: &'a str,
    config: &'a Config,
    stack: StackContext<'a>,
}

#[derive(Serialize)]
struct StackContext<'a> {
    name: &'a str,
    layer: &'a str,
    full_name: String,
}

/// Renders stacks of one environment.
pub struct Renderer<'a> {
    pub root: &'a Path,
    pub templates_dir: PathBuf,
    pub env: &'a str,
    pub config: &'a Config,
}

impl<'a> Renderer<'a> {
    pub fn new(root: &'a Path, templates_dir: PathBuf, env: &'a str, config: &'a Config) -> Self {
        Renderer {
            root,
            templates_dir,
            env,
            config,
        }
    }

    pub fn prefix(&self) -> String {
        self.config.name_prefix(self.env)
    }

    /// The tags of every stack and resource of `layer`.
    pub fn tags(&self, layer: &str) -> BTreeMap<String, String> {
        let mut tags = self.config.tags.clone();
        tags.insert("project".into(), self.config.project.clone());
        tags.insert("environment".into(), self.env.to_string());
        tags.insert("layer".into(), layer.to_string());
        tags
    }

    /// Renders the stack's template to a CloudFormation document (without the hash output).
    pub fn template(&self, stack: &Stack) -> Result<Value> {
        let path = self.templates_dir.join(&stack.manifest.template);
        let shown = path.strip_prefix(self.root).unwrap_or(&path).display().to_string();
        let source = std::fs::read_to_string(&path)
            .with_context(|| format!("{}: template {shown} cannot be read", stack.file.display()))?;

        let mut jinja = Environment::new();
        jinja.set_undefined_behavior(UndefinedBehavior::Strict);
        // minijinja would JSON-escape `*.yaml` output; templates quote with `tojson` themselves.
        jinja.set_auto_escape_callback(|_| AutoEscape::None);
        jinja.set_keep_trailing_newline(true);
        let prefix = self.prefix();
        jinja.add_function("name", move |suffix: String| -> String { format!("{prefix}{suffix}") });
        let tag_list: Vec<Value> = self
            .tags(&stack.manifest.layer)
            .into_iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        jinja.add_function("tags", move || minijinja::Value::from_serialize(&tag_list));

        let ctx = TemplateContext {
            env: self.env,
            project: &self.config.project,
            config: self.config,
            stack: StackContext {
                name: &stack.name,
                layer: &stack.manifest.layer,
                full_name: stack.full_name(&self.prefix()),
            },
        };
        let text = jinja
            .template_from_named_str(&shown, &source)
            .and_then(|t| t.render(&ctx))
            .map_err(|e| anyhow!("{}", jinja_error(&shown, &e)))?;
        let doc: Value = serde_norway::from_str(&text).map_err(|e| {
            let at = e.location().map(|l| format!(" at line {} of the rendered text", l.line())).unwrap_or_default();
            anyhow!("{shown}: the rendered template is not valid YAML{at}: {e}\n  (run `cargo xtask render` and look at the output)")
        })?;
        if !doc.get("Resources").is_some_and(Value::is_object) {
            return Err(anyhow!("{shown}: the rendered template has no `Resources` mapping"));
        }
        Ok(doc)
    }

    /// Adds parameters and tags, computes the hash and inserts it as an output.
    pub fn finish(&self, stack: &Stack, mut template: Value, parameters: BTreeMap<String, String>) -> Rendered {
        let tags = self.tags(&stack.manifest.layer);
        let hash = content_hash(&template, &parameters, &tags);
        if let Some(outputs) = template
            .as_object_mut()
            .map(|t| t.entry("Outputs").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
        {
            outputs.insert(
                HASH_OUTPUT.into(),
                json!({"Description": "Content hash of the rendered template, parameters and tags (mcfpipe)", "Value": hash}),
            );
        }
        let body = serde_json::to_string(&template).unwrap_or_default();
        Rendered {
            stack: stack.name.clone(),
            full_name: stack.full_name(&self.prefix()),
            template,
            body,
            parameters,
            tags,
            description: stack.manifest.description.clone(),
            hash,
        }
    }
}

pub fn content_hash(
    template: &Value,
    parameters: &BTreeMap<String, String>,
    tags: &BTreeMap<String, String>,
) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(template).unwrap_or_default());
    h.update(b"\0");
    h.update(serde_json::to_vec(parameters).unwrap_or_default());
    h.update(b"\0");
    h.update(serde_json::to_vec(tags).unwrap_or_default());
    hex::encode(h.finalize())
}

fn jinja_error(shown: &str, e: &minijinja::Error) -> String {
    let line = e.line().map(|l| format!(":{l}")).unwrap_or_default();
    let mut msg = format!("{shown}{line}: {}", e.kind());
    if let Some(detail) = e.detail() {
        msg.push_str(&format!(": {detail}"));
    }
    if let Some(src) = std::error::Error::source(e) {
        msg.push_str(&format!(" ({src})"));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stacks::Manifest;

    fn fixture(template: &str) -> (tempfile::TempDir, Stack, Config) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.yaml.j2"), template).unwrap();
        let cfg_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        let config = crate::config::load(&cfg_dir, &cfg_dir, "local").unwrap();
        let stack = Stack {
            name: "demo".into(),
            file: "stacks/demo.yaml".into(),
            manifest: Manifest {
                layer: "database".into(),
                template: "t.yaml.j2".into(),
                description: None,
                depends_on: vec![],
                parameters: BTreeMap::new(),
            },
        };
        (dir, stack, config)
    }

    #[test]
    fn renders_names_tags_and_config() {
        let (dir, stack, config) = fixture(
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: {{ name('parse') | tojson }}\n      VisibilityTimeout: {{ config.database.parse_queue.visibility_timeout_seconds }}\n      Tags: {{ tags() | tojson }}\n",
        );
        let r = Renderer::new(dir.path(), dir.path().to_path_buf(), "local", &config);
        let t = r.template(&stack).unwrap();
        assert_eq!(t["Resources"]["Q"]["Properties"]["QueueName"], "mcfpipe-local-parse");
        assert_eq!(t["Resources"]["Q"]["Properties"]["VisibilityTimeout"], 90);
        let tags = &t["Resources"]["Q"]["Properties"]["Tags"];
        assert!(
            tags.as_array()
                .unwrap()
                .contains(&json!({"Key": "layer", "Value": "database"}))
        );
        let done = r.finish(&stack, t.clone(), BTreeMap::new());
        assert_eq!(done.template["Outputs"][HASH_OUTPUT]["Value"], done.hash.as_str());
        // The hash moves with parameters, and only with content.
        let again = r.finish(&stack, t.clone(), BTreeMap::new());
        assert_eq!(again.hash, done.hash);
        let other = r.finish(&stack, t, BTreeMap::from([("P".to_string(), "1".to_string())]));
        assert_ne!(other.hash, done.hash);
    }

    #[test]
    fn undefined_values_are_errors_with_template_and_line() {
        let (dir, stack, config) = fixture(
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      X: {{ config.database.nope }}\n",
        );
        let r = Renderer::new(dir.path(), dir.path().to_path_buf(), "local", &config);
        let err = r.template(&stack).unwrap_err().to_string();
        assert!(err.starts_with("t.yaml.j2:5: undefined value"), "{err}");
    }

    #[test]
    fn invalid_yaml_output_is_an_error() {
        let (dir, stack, config) = fixture("Resources: [\n");
        let r = Renderer::new(dir.path(), dir.path().to_path_buf(), "local", &config);
        let err = r.template(&stack).unwrap_err().to_string();
        assert!(err.contains("not valid YAML"), "{err}");
    }
}
