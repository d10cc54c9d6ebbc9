//! Every CloudFormation call the deployer makes, and nothing else: describe, create, update
//! (direct or through a change set), wait with live events, delete, termination protection,
//! resources, the region's stacks and their imports, drift detection; and the root cause of a
//! failure. Callers get typed results and errors that name the stack.

mod change_set;
mod drift;
mod wait;

pub use drift::{Drift, DriftDetection, PropertyDrift, drift_report};
pub use wait::{blocked_status_advice, root_cause};

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, Parameter, Tag};

use crate::aws::{error_code, error_text};
use crate::render::{HASH_OUTPUT, Rendered};
use crate::ui::Ui;

/// What DescribeStacks says of a stack.
#[derive(Debug, Clone)]
pub struct StackInfo {
    pub name: String,
    pub id: String,
    pub status: String,
    pub reason: Option<String>,
    pub outputs: BTreeMap<String, String>,
    /// Export names of the outputs that have one.
    pub exports: Vec<String>,
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub termination_protection: bool,
}

impl StackInfo {
    /// The content hash of the last deploy, from its output.
    pub fn deployed_hash(&self) -> Option<&str> {
        self.outputs.get(HASH_OUTPUT).map(String::as_str)
    }

    /// Outputs for users: without the deployer's own.
    pub fn user_outputs(&self) -> BTreeMap<String, String> {
        let mut o = self.outputs.clone();
        o.remove(HASH_OUTPUT);
        o
    }

    pub fn is_busy(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS") && self.status != "REVIEW_IN_PROGRESS"
    }

    pub fn last_change(&self) -> Option<&str> {
        self.updated.as_deref().or(self.created.as_deref())
    }
}

/// One resource change of a change set (or of a stack about to be created).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResourceChange {
    /// Add, Modify, Remove, Replace (a Modify that replaces), Import, Dynamic.
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
    /// What about the resource changes: Properties, Tags, ... with property names.
    pub details: Vec<String>,
}

impl ResourceChange {
    /// A resource a stack about to be created would add.
    pub fn add(logical_id: String, resource_type: String) -> ResourceChange {
        ResourceChange {
            action: "Add".into(),
            logical_id,
            resource_type,
            physical_id: None,
            details: vec![],
        }
    }
}

/// One resource of a deployed stack (`ListStackResources`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: String,
    pub resource_type: String,
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done(String),
    Unchanged,
}

pub struct Cfn<'a> {
    pub client: Client,
    pub ui: &'a Ui,
    pub timeout: Duration,
    /// How often to poll while waiting (the emulator answers at once; AWS takes seconds).
    pub poll: Duration,
}

/// Mutating calls are sent once: a blind retry after an ambiguous failure (the emulator answers
/// 500 after half-creating a stack) turns the real error into "already exists". On AWS the
/// request token makes a manual rerun safe.
fn once() -> aws_sdk_cloudformation::config::Builder {
    aws_sdk_cloudformation::config::Builder::default().retry_config(aws_smithy_types::retry::RetryConfig::disabled())
}

fn token(op: &str) -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("mcfpipe-{op}-{ms}")
}

fn ts(t: Option<&aws_sdk_cloudformation::primitives::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(aws_sdk_cloudformation::primitives::DateTimeFormat::DateTime).ok())
}

/// A `Stack` of DescribeStacks as we use it; `None` once deleted.
fn stack_info(s: &aws_sdk_cloudformation::types::Stack, name: &str) -> Option<StackInfo> {
    let status = s.stack_status().map(|x| x.as_str().to_string()).unwrap_or_default();
    if status == "DELETE_COMPLETE" {
        return None;
    }
    Some(StackInfo {
        name: s.stack_name().unwrap_or(name).to_string(),
        id: s.stack_id().unwrap_or(name).to_string(),
        status,
        reason: s.stack_status_reason().map(str::to_string),
        outputs: s
            .outputs()
            .iter()
            .filter_map(|o| {
                Some((
                    o.output_key()?.to_string(),
                    o.output_value().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
        exports: s
            .outputs()
            .iter()
            .filter_map(|o| o.export_name().map(str::to_string))
            .collect(),
        parameters: s
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_string(),
                    p.parameter_value().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
        tags: s
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect(),
        created: ts(s.creation_time()),
        updated: ts(s.last_updated_time()),
        termination_protection: s.enable_termination_protection().unwrap_or(false),
    })
}

fn is_missing_stack(text: &str) -> bool {
    text.contains("does not exist")
}

fn is_no_change(text: &str) -> bool {
    text.contains("No updates are to be performed") || text.contains("didn't contain changes")
}

impl<'a> Cfn<'a> {
    pub fn new(client: Client, ui: &'a Ui, timeout: Duration, poll: Duration) -> Self {
        Cfn {
            client,
            ui,
            timeout,
            poll,
        }
    }

    /// The stack, or `None` when it does not exist.
    pub async fn describe(&self, name: &str) -> Result<Option<StackInfo>> {
        let res = match self.client.describe_stacks().stack_name(name).send().await {
            Ok(r) => r,
            Err(e) => {
                let text = error_text(&e);
                if error_code(&e).as_deref() == Some("ValidationError") && is_missing_stack(&text) {
                    return Ok(None);
                }
                bail!("cannot describe stack {name}: {text}");
            }
        };
        Ok(res.stacks().first().and_then(|s| stack_info(s, name)))
    }

    /// The deployed template body (as JSON when it parses as JSON or YAML).
    pub async fn template(&self, name: &str) -> Result<serde_json::Value> {
        let res = self
            .client
            .get_template()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| anyhow!("cannot read the template of {name}: {}", error_text(&e)))?;
        let body = res.template_body().unwrap_or_default();
        serde_json::from_str(body)
            .or_else(|_| serde_norway::from_str(body))
            .map_err(|e| anyhow!("the deployed template of {name} cannot be read: {e}"))
    }

    fn params(r: &Rendered) -> Vec<Parameter> {
        r.parameters
            .iter()
            .map(|(k, v)| Parameter::builder().parameter_key(k).parameter_value(v).build())
            .collect()
    }

    fn tags(r: &Rendered) -> Vec<Tag> {
        r.tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    }

    /// The id of the newest event, so that waiting shows only what comes after it.
    pub async fn last_event_id(&self, name: &str) -> Option<String> {
        let res = self.client.describe_stack_events().stack_name(name).send().await.ok()?;
        res.stack_events()
            .first()
            .and_then(|e| e.event_id())
            .map(str::to_string)
    }

    pub async fn create(&self, r: &Rendered, termination_protection: bool) -> Result<String> {
        let mut req = self
            .client
            .create_stack()
            .client_request_token(token("create"))
            .stack_name(&r.full_name)
            .template_body(&r.body)
            .set_parameters(Some(Self::params(r)))
            .set_tags(Some(Self::tags(r)))
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam);
        if termination_protection {
            req = req.enable_termination_protection(true);
        }
        let res = req.customize().config_override(once()).send().await.map_err(|e| {
            anyhow!(
                "CloudFormation refused to create stack {}: {}",
                r.full_name,
                error_text(&e)
            )
        })?;
        Ok(res.stack_id().unwrap_or(&r.full_name).to_string())
    }

    /// `UpdateStack`; `Unchanged` when CloudFormation finds nothing to do.
    pub async fn update(&self, r: &Rendered) -> Result<Outcome> {
        let res = self
            .client
            .update_stack()
            .client_request_token(token("update"))
            .stack_name(&r.full_name)
            .template_body(&r.body)
            .set_parameters(Some(Self::params(r)))
            .set_tags(Some(Self::tags(r)))
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam)
            .customize()
            .config_override(once())
            .send()
            .await;
        match res {
            Ok(_) => Ok(Outcome::Done("update started".into())),
            Err(e) => {
                let text = error_text(&e);
                if is_no_change(&text) {
                    return Ok(Outcome::Unchanged);
                }
                bail!("CloudFormation refused to update stack {}: {text}", r.full_name)
            }
        }
    }

    pub async fn delete(&self, stack: &str) -> Result<()> {
        self.client
            .delete_stack()
            .client_request_token(token("delete"))
            .stack_name(stack)
            .customize()
            .config_override(once())
            .send()
            .await
            .map_err(|e| anyhow!("CloudFormation refused to delete stack {stack}: {}", error_text(&e)))?;
        Ok(())
    }

    pub async fn set_termination_protection(&self, stack: &str, on: bool) -> Result<()> {
        self.client
            .update_termination_protection()
            .stack_name(stack)
            .enable_termination_protection(on)
            .send()
            .await
            .map_err(|e| anyhow!("cannot change termination protection of {stack}: {}", error_text(&e)))?;
        Ok(())
    }

    /// The stack's resources.
    pub async fn resources(&self, stack: &str) -> Result<Vec<StackResource>> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_stack_resources()
            .stack_name(stack)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| anyhow!("cannot list the resources of {stack}: {}", error_text(&e)))?;
            for r in page.stack_resource_summaries() {
                out.push(StackResource {
                    logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                    physical_id: r.physical_resource_id().unwrap_or_default().to_string(),
                    resource_type: r.resource_type().unwrap_or_default().to_string(),
                });
            }
        }
        Ok(out)
    }

    /// Every stack of the account and region that is not deleted (ours and anyone else's).
    pub async fn all_stacks(&self) -> Result<Vec<StackInfo>> {
        let mut out = Vec::new();
        let mut pages = self.client.describe_stacks().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| anyhow!("cannot list the region's stacks: {}", error_text(&e)))?;
            out.extend(page.stacks().iter().filter_map(|s| stack_info(s, "")));
        }
        Ok(out)
    }

    /// The stacks that import `export` (`ListImports`); empty when none does.
    pub async fn importers(&self, export: &str) -> Result<Vec<String>> {
        match self.client.list_imports().export_name(export).send().await {
            Ok(imports) => Ok(imports.imports().to_vec()),
            // AWS's answer when nothing imports the export.
            Err(e) if error_text(&e).contains("is not imported") => Ok(vec![]),
            // Unknown is not "unused": the caller refuses rather than guesses.
            Err(e) => bail!("cannot tell which stacks import {export}: {}", error_text(&e)),
        }
    }
}
