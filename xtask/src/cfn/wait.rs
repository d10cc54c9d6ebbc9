//! Waiting for a stack operation with live events, and explaining how it ended: the root
//! cause of a failure, and what to do with a stack in a state that blocks updates.

use std::collections::HashSet;
use std::time::Instant;

use anyhow::{Result, bail};
use aws_sdk_cloudformation::types::{StackEvent, StackStatus};

use super::{Cfn, StackInfo};

impl Cfn<'_> {
    /// Waits for the stack (`id_or_name`; after a delete only the id finds it) to settle,
    /// showing each new event. Succeeds on the `*_COMPLETE` status that `want` names.
    pub async fn wait(&self, display: &str, id_or_name: &str, after_event: Option<&str>, want: &str) -> Result<String> {
        let started = Instant::now();
        let mut seen: HashSet<String> = HashSet::new();
        let mut shown: Vec<StackEvent> = Vec::new();
        // Long silences (a CloudFront or RDS resource takes many minutes) get a heartbeat.
        let mut last_news = Instant::now();
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
                if !fresh.is_empty() {
                    last_news = Instant::now();
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
            if last_news.elapsed() >= HEARTBEAT {
                self.ui.step(
                    display,
                    &format!(
                        "still {} after {} s, waiting for CloudFormation",
                        status.status,
                        started.elapsed().as_secs()
                    ),
                );
                last_news = Instant::now();
            }
            tokio::time::sleep(self.poll).await;
        }
    }
}

const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(30);

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
    use crate::cfn::is_no_change;
    use aws_sdk_cloudformation::types::ResourceStatus;
    use std::collections::BTreeMap;

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
            exports: vec![],
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
