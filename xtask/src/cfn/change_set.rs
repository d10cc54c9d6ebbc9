//! Change sets: create one and read its resource changes, execute it, delete it.

use std::time::Instant;

use anyhow::{Result, anyhow, bail};
use aws_sdk_cloudformation::types::{Capability, ChangeAction, ChangeSetStatus, ChangeSetType, Replacement};

use super::{Cfn, ResourceChange, is_no_change, once, token};
use crate::aws::error_text;
use crate::render::Rendered;

impl Cfn<'_> {
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
}
