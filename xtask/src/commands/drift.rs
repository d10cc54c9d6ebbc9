//! `drift`: what changed in AWS behind the deployer's back, per stack: CloudFormation's drift
//! detection (`DetectStackDrift`, polled until done), then every resource that is MODIFIED or
//! DELETED with its drifted properties (`DescribeStackResourceDrifts`).
//!
//! The emulator (moto) does not implement drift detection: there the command says so and
//! exits with 1. The report logic is unit-tested on recorded response shapes; the calls
//! themselves need AWS to confirm.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use aws_sdk_cloudformation::types::{StackDriftDetectionStatus, StackResourceDrift, StackResourceDriftStatus};
use serde_json::{Value, json};

use crate::aws::{error_code, error_text};
use crate::session::Session;

/// Exit codes: 0 no drift, 2 drift found (like `diff --exit-code`), 1 error.
pub async fn run(s: &Session) -> Result<u8> {
    let aws = s.aws().await?;
    let cfn = s.cfn(&aws);
    let client = &cfn.client;
    let mut docs = Vec::new();
    let mut drifted_any = false;
    for stack in &s.plan.stacks {
        let name = s.full_name(stack);
        if cfn.describe(&name).await?.is_none() {
            s.ui.step(&stack.name, "not deployed");
            continue;
        }
        let started = client.detect_stack_drift().stack_name(&name).send().await.map_err(|e| {
            let code = error_code(&e);
            if aws.endpoint().is_some() && matches!(code.as_deref(), None | Some("InternalFailure" | "NotImplemented")) {
                anyhow!(
                    "drift detection of {name}: the emulator at {} does not implement DetectStackDrift ({}); drift detection needs AWS",
                    aws.endpoint().unwrap_or_default(),
                    error_text(&e)
                )
            } else {
                anyhow!("drift detection of {name}: {}", error_text(&e))
            }
        })?;
        let id = started.stack_drift_detection_id().unwrap_or_default().to_string();
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let status = client
                .describe_stack_drift_detection_status()
                .stack_drift_detection_id(&id)
                .send()
                .await
                .map_err(|e| anyhow!("drift detection of {name}: {}", error_text(&e)))?;
            match status.detection_status() {
                Some(StackDriftDetectionStatus::DetectionInProgress) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                Some(StackDriftDetectionStatus::DetectionInProgress) => {
                    bail!("drift detection of {name} did not finish within 5 minutes (detection id {id})")
                }
                Some(StackDriftDetectionStatus::DetectionFailed) => {
                    // Some resources could not be checked; the others are still reported.
                    s.ui.warn(&format!(
                        "{}: drift detection incomplete: {}",
                        stack.name,
                        status.detection_status_reason().unwrap_or("no reason given")
                    ));
                    break;
                }
                _ => break,
            }
        }
        let mut drifts = Vec::new();
        let mut token = None;
        loop {
            let page = client
                .describe_stack_resource_drifts()
                .stack_name(&name)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| anyhow!("resource drifts of {name}: {}", error_text(&e)))?;
            drifts.extend(page.stack_resource_drifts().iter().cloned());
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        let report = report(&drifts);
        if report.is_empty() {
            s.ui.outcome(&stack.name, "in sync", true, json!({}));
        } else {
            drifted_any = true;
            s.ui.outcome(&stack.name, "DRIFTED", false, json!({"resources": report.len()}));
            for r in &report {
                s.ui.print(&format!("{}\n", r.text()));
            }
        }
        docs.push(json!({"stack": stack.name, "stack_name": name, "drifted": report.iter().map(Drift::json).collect::<Vec<_>>()}));
    }
    s.ui.emit("result", json!({"env": s.env, "drifted": drifted_any, "stacks": docs}));
    Ok(if drifted_any { 2 } else { 0 })
}

/// One drifted resource and its property differences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub logical_id: String,
    pub physical_id: String,
    pub kind: String,
    /// MODIFIED or DELETED.
    pub status: String,
    /// (path, expected, actual, ADD|REMOVE|NOT_EQUAL)
    pub properties: Vec<(String, String, String, String)>,
}

impl Drift {
    pub fn text(&self) -> String {
        let mut out = format!(
            "  {} {} {} ({})",
            self.status, self.logical_id, self.kind, self.physical_id
        );
        for (path, expected, actual, how) in &self.properties {
            out.push_str(&format!("\n      {path}: {how}: expected {expected}, actual {actual}"));
        }
        out
    }

    fn json(&self) -> Value {
        json!({"logical_id": self.logical_id, "physical_id": self.physical_id, "type": self.kind, "status": self.status,
            "properties": self.properties.iter().map(|(p, e, a, d)| json!({"path": p, "expected": e, "actual": a, "difference": d})).collect::<Vec<_>>()})
    }
}

/// The drifted resources among `drifts` (IN_SYNC and NOT_CHECKED are left out), in
/// logical-id order.
pub fn report(drifts: &[StackResourceDrift]) -> Vec<Drift> {
    let mut out: Vec<Drift> = drifts
        .iter()
        .filter(|d| {
            matches!(
                d.stack_resource_drift_status(),
                Some(StackResourceDriftStatus::Modified | StackResourceDriftStatus::Deleted)
            )
        })
        .map(|d| Drift {
            logical_id: d.logical_resource_id().unwrap_or_default().to_string(),
            physical_id: d.physical_resource_id().unwrap_or_default().to_string(),
            kind: d.resource_type().unwrap_or_default().to_string(),
            status: d
                .stack_resource_drift_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            properties: d
                .property_differences()
                .iter()
                .map(|p| {
                    (
                        p.property_path().unwrap_or_default().to_string(),
                        p.expected_value().unwrap_or_default().to_string(),
                        p.actual_value().unwrap_or_default().to_string(),
                        p.difference_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                    )
                })
                .collect(),
        })
        .collect();
    out.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::types::{DifferenceType, PropertyDifference};

    /// Shapes as DescribeStackResourceDrifts returns them (AWS documentation's example: a
    /// queue whose visibility timeout was changed by hand, a deleted topic, an in-sync table).
    fn recorded() -> Vec<StackResourceDrift> {
        let drift = |logical: &str, kind: &str, status: StackResourceDriftStatus| {
            StackResourceDrift::builder()
                .stack_id("arn:aws:cloudformation:ap-southeast-1:123456789012:stack/mcfpipe-dev-database/x")
                .logical_resource_id(logical)
                .physical_resource_id(format!("mcfpipe-dev-{}", logical.to_lowercase()))
                .resource_type(kind)
                .stack_resource_drift_status(status)
                .timestamp(aws_smithy_types::DateTime::from_secs(1_795_000_000))
        };
        vec![
            drift("PostsTable", "AWS::DynamoDB::Table", StackResourceDriftStatus::InSync).build(),
            drift("ParseQueue", "AWS::SQS::Queue", StackResourceDriftStatus::Modified)
                .expected_properties(r#"{"VisibilityTimeout":90}"#)
                .actual_properties(r#"{"VisibilityTimeout":30}"#)
                .property_differences(
                    PropertyDifference::builder()
                        .property_path("/VisibilityTimeout")
                        .expected_value("90")
                        .actual_value("30")
                        .difference_type(DifferenceType::NotEqual)
                        .build(),
                )
                .build(),
            drift("AlarmTopic", "AWS::SNS::Topic", StackResourceDriftStatus::Deleted).build(),
            drift(
                "Endpoint",
                "AWS::EC2::VPCEndpoint",
                StackResourceDriftStatus::NotChecked,
            )
            .build(),
        ]
    }

    #[test]
    fn only_modified_and_deleted_resources_are_reported_with_their_properties() {
        let r = report(&recorded());
        assert_eq!(
            r.iter()
                .map(|d| (d.logical_id.as_str(), d.status.as_str()))
                .collect::<Vec<_>>(),
            [("AlarmTopic", "DELETED"), ("ParseQueue", "MODIFIED")]
        );
        assert_eq!(
            r[1].properties,
            [(
                "/VisibilityTimeout".to_string(),
                "90".to_string(),
                "30".to_string(),
                "NOT_EQUAL".to_string()
            )]
        );
        assert_eq!(
            r[1].text(),
            "  MODIFIED ParseQueue AWS::SQS::Queue (mcfpipe-dev-parsequeue)\n      /VisibilityTimeout: NOT_EQUAL: expected 90, actual 30"
        );
        assert!(report(&recorded()[..1]).is_empty(), "in sync: nothing to report");
    }
}
