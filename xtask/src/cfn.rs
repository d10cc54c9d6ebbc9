//! The CloudFormation actions on one stack: describe, create, update (direct or through a
//! change set), wait with live events, delete, and the root cause of a failure.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{
    Capability, ChangeAction, ChangeSetStatus, ChangeSetType, Parameter, Replacement, StackEvent, StackStatus, Tag,
};

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
        let Some(s) = res.stacks().first() else {
            return Ok(None);
        };
        let status = s.stack_status().map(|x| x.as_str().to_string()).unwrap_or_default();
        if status == "DELETE_COMPLETE" {
            return Ok(None);
        }
        Ok(Some(StackInfo {
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
        }))
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

    /// Creates a change set and waits until it is ready. `None` when there is nothing to change.
    pub async fn create_change_set(
        &self,
        r: &Rendered,
        kind: ChangeSetType,
    ) -> Result<Option<(String, Vec<ResourceChange>)>> {
        let cs_name = format!(
            "mcfpipe-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        );
        let res = self
            .client
            .create_change_set()
            .stack_name(&r.full_name)
            .change_set_name(&cs_name)
            .change_set_type(kind)
            .template_body(&r.body)
            .set_parameters(Some(Self::params(r)))
            .set_tags(Some(Self::tags(r)))
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam)
            .customize()
            .config_override(once())
            .send()
            .await;
        let id = match res {
            Ok(o) => o.id().unwrap_or(&cs_name).to_string(),
            Err(e) => {
                let text = error_text(&e);
                // The emulator answers an unchanged template with this error; AWS with a FAILED set.
                if is_no_change(&text) {
                    return Ok(None);
                }
                bail!("CloudFormation refused the change set for {}: {text}", r.full_name);
            }
        };
        let started = Instant::now();
        loop {
            let d = self
                .client
                .describe_change_set()
                .change_set_name(&id)
                .stack_name(&r.full_name)
                .send()
                .await
                .map_err(|e| {
                    anyhow!(
                        "cannot read change set {cs_name} of {}: {}",
                        r.full_name,
                        error_text(&e)
                    )
                })?;
            match d.status() {
                Some(ChangeSetStatus::CreateComplete) => {
                    let changes = d
                        .changes()
                        .iter()
                        .filter_map(|c| c.resource_change())
                        .map(|rc| {
                            let replace = matches!(rc.replacement(), Some(Replacement::True));
                            let action = match rc.action() {
                                Some(ChangeAction::Modify) if replace => "Replace".to_string(),
                                Some(a) => a.as_str().to_string(),
                                None => "?".to_string(),
                            };
                            let details = rc
                                .details()
                                .iter()
                                .filter_map(|d| d.target())
                                .map(|t| {
                                    let attr = t.attribute().map(|a| a.as_str()).unwrap_or("?");
                                    match t.name() {
                                        Some(n) => format!("{attr}.{n}"),
                                        None => attr.to_string(),
                                    }
                                })
                                .collect();
                            ResourceChange {
                                action,
                                logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
                                resource_type: rc.resource_type().unwrap_or_default().to_string(),
                                physical_id: rc.physical_resource_id().map(str::to_string),
                                details,
                            }
                        })
                        .collect();
                    return Ok(Some((id, changes)));
                }
                Some(ChangeSetStatus::Failed) => {
                    let reason = d.status_reason().unwrap_or("no reason given").to_string();
                    self.delete_change_set(&r.full_name, &id).await;
                    if is_no_change(&reason) {
                        return Ok(None);
                    }
                    bail!("the change set for {} failed: {reason}", r.full_name);
                }
                _ => {}
            }
            if started.elapsed() > self.timeout {
                bail!(
                    "the change set for {} is still not ready after {:?}",
                    r.full_name,
                    self.timeout
                );
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// Best effort: a change set left behind is harmless and visible in the console.
    pub async fn delete_change_set(&self, stack: &str, id: &str) {
        if let Err(e) = self
            .client
            .delete_change_set()
            .stack_name(stack)
            .change_set_name(id)
            .send()
            .await
        {
            self.ui.warn(&format!(
                "could not delete change set {id} of {stack}: {}",
                error_text(&e)
            ));
        }
    }

    pub async fn execute_change_set(&self, stack: &str, id: &str) -> Result<()> {
        self.client
            .execute_change_set()
            .client_request_token(token("execute"))
            .stack_name(stack)
            .change_set_name(id)
            .customize()
            .config_override(once())
            .send()
            .await
            .map_err(|e| anyhow!("cannot execute the change set of {stack}: {}", error_text(&e)))?;
        Ok(())
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

    /// Physical ids and types of the stack's resources.
    pub async fn resources(&self, stack: &str) -> Result<Vec<(String, String, String)>> {
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
                out.push((
                    r.logical_resource_id().unwrap_or_default().to_string(),
                    r.physical_resource_id().unwrap_or_default().to_string(),
                    r.resource_type().unwrap_or_default().to_string(),
                ));
            }
        }
        Ok(out)
    }

    /// Waits for the stack (`id_or_name`; after a delete only the id finds it) to settle,
    /// showing each new event. Succeeds on the `*_COMPLETE` status that `want` names.
    pub async fn wait(&self, display: &str, id_or_name: &str, after_event: Option<&str>, want: &str) -> Result<String> {
        let started = Instant::now();
        let mut seen: HashSet<String> = HashSet::new();
        let mut shown: Vec<StackEvent> = Vec::new();
        loop {
            // New events, oldest first.
            if let Ok(res) = self.client.describe_stack_events().stack_name(id_or_name).send().await {
                let mut fresh: Vec<StackEvent> = Vec::new();
                for ev in res.stack_events() {
                    let id = ev.event_id().unwrap_or_default();
                    if Some(id) == after_event || seen.contains(id) {
                        break;
                    }
                    fresh.push(ev.clone());
                }
                for ev in fresh.into_iter().rev() {
                    seen.insert(ev.event_id().unwrap_or_default().to_string());
                    self.ui.stack_event(display, &ev);
                    shown.push(ev);
                }
            }
            let status = match self.describe(id_or_name).await? {
                None if want == "DELETE_COMPLETE" => return Ok(want.to_string()),
                None => bail!("stack {display} disappeared while waiting for {want}"),
                Some(s) => s,
            };
            if !s_in_progress(&status.status) {
                if status.status == want {
                    return Ok(status.status);
                }
                let cause = root_cause(&shown).unwrap_or_else(|| {
                    status
                        .reason
                        .clone()
                        .unwrap_or_else(|| "CloudFormation gave no reason".into())
                });
                bail!("stack {display} ended {}: {cause}", status.status);
            }
            if started.elapsed() > self.timeout {
                bail!(
                    "stack {display} is still {} after {} minutes; the operation goes on in AWS. \
                     Check it with `cargo xtask status`, or raise deploy.timeout_minutes",
                    status.status,
                    self.timeout.as_secs() / 60
                );
            }
            tokio::time::sleep(self.poll).await;
        }
    }
}

fn s_in_progress(status: &str) -> bool {
    status.ends_with("_IN_PROGRESS")
}

/// The first failure of an operation, not the cascade of cancellations that follows it.
pub fn root_cause(events: &[StackEvent]) -> Option<String> {
    let failed = |e: &&StackEvent| e.resource_status().is_some_and(|s| s.as_str().ends_with("_FAILED"));
    let cancelled = |e: &&StackEvent| {
        e.resource_status_reason()
            .is_some_and(|r| r.contains("cancelled") || r.contains("canceled"))
    };
    let pick = events
        .iter()
        .filter(failed)
        .find(|e| !cancelled(e))
        .or_else(|| events.iter().find(failed))?;
    Some(format!(
        "{} ({}) {}: {}",
        pick.logical_resource_id().unwrap_or("?"),
        pick.resource_type().unwrap_or("?"),
        pick.resource_status().map(|s| s.as_str()).unwrap_or("?"),
        pick.resource_status_reason().unwrap_or("no reason given")
    ))
}

/// Statuses from which a stack cannot be updated, with what to do.
pub fn blocked_status_advice(info: &StackInfo) -> Option<String> {
    let s = info.status.as_str();
    if info.is_busy() {
        return Some(format!(
            "stack {} is busy ({s}, last change {}): another operation is running. Wait for it \
             (`cargo xtask status`) and run the command again",
            info.name,
            info.last_change().unwrap_or("unknown")
        ));
    }
    match StackStatus::from(s) {
        StackStatus::UpdateRollbackFailed => Some(format!(
            "stack {} is UPDATE_ROLLBACK_FAILED ({}). Fix the resource named there, then run \
             `aws cloudformation continue-update-rollback --stack-name {}` and deploy again",
            info.name,
            info.reason.as_deref().unwrap_or("no reason given"),
            info.name
        )),
        StackStatus::DeleteFailed => Some(format!(
            "stack {} is DELETE_FAILED ({}). Remove what blocks the delete and run `cargo xtask teardown` again",
            info.name,
            info.reason.as_deref().unwrap_or("no reason given")
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::types::ResourceStatus;

    fn ev(id: &str, status: ResourceStatus, reason: &str) -> StackEvent {
        StackEvent::builder()
            .event_id(id)
            .logical_resource_id(id)
            .resource_type("AWS::SQS::Queue")
            .resource_status(status)
            .resource_status_reason(reason)
            .build()
    }

    #[test]
    fn root_cause_skips_cancellations() {
        let events = vec![
            ev("A", ResourceStatus::CreateInProgress, ""),
            ev("B", ResourceStatus::CreateFailed, "Resource creation cancelled"),
            ev("C", ResourceStatus::CreateFailed, "Invalid value for VisibilityTimeout"),
            ev("D", ResourceStatus::CreateFailed, "Resource creation cancelled"),
        ];
        assert_eq!(
            root_cause(&events).unwrap(),
            "C (AWS::SQS::Queue) CREATE_FAILED: Invalid value for VisibilityTimeout"
        );
        assert!(root_cause(&events[..1]).is_none());
        // Only cancellations: still say something concrete.
        assert!(root_cause(&events[..2]).unwrap().starts_with("B "));
    }

    #[test]
    fn recognises_no_change_answers_of_aws_and_the_emulator() {
        assert!(is_no_change("ValidationError: No updates are to be performed."));
        assert!(is_no_change(
            "The submitted information didn't contain changes. Submit different information to create a change set."
        ));
        assert!(!is_no_change("Template format error"));
    }

    #[test]
    fn advice_for_blocked_stacks() {
        let mut info = StackInfo {
            name: "s".into(),
            id: "s".into(),
            status: "UPDATE_IN_PROGRESS".into(),
            reason: None,
            outputs: BTreeMap::new(),
            parameters: BTreeMap::new(),
            tags: BTreeMap::new(),
            created: Some("2026-01-01T00:00:00Z".into()),
            updated: None,
            termination_protection: false,
        };
        assert!(blocked_status_advice(&info).unwrap().contains("busy"));
        info.status = "UPDATE_ROLLBACK_FAILED".into();
        assert!(
            blocked_status_advice(&info)
                .unwrap()
                .contains("continue-update-rollback --stack-name s")
        );
        info.status = "UPDATE_COMPLETE".into();
        assert!(blocked_status_advice(&info).is_none());
        info.status = "REVIEW_IN_PROGRESS".into();
        assert!(blocked_status_advice(&info).is_none());
    }
}
