//! Drift detection: `DetectStackDrift`, polled until done, then the resources that are
//! MODIFIED or DELETED with their drifted properties (`DescribeStackResourceDrifts`).
//!
//! The emulator (moto) does not implement drift detection: the error says so. The report is
//! unit-tested on recorded response shapes; the calls themselves need AWS to confirm.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use aws_sdk_cloudformation::types::{StackDriftDetectionStatus, StackResourceDrift, StackResourceDriftStatus};
use serde::Serialize;

use super::Cfn;
use crate::aws::{error_code, error_text};

/// One drifted resource and its property differences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    pub logical_id: String,
    pub physical_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// MODIFIED or DELETED.
    pub status: String,
    pub properties: Vec<PropertyDrift>,
}

/// One property that differs from the template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyDrift {
    pub path: String,
    pub expected: String,
    pub actual: String,
    /// ADD, REMOVE or NOT_EQUAL.
    pub difference: String,
}

impl Drift {
    pub fn text(&self) -> String {
        let mut out = format!(
            "  {} {} {} ({})",
            self.status, self.logical_id, self.kind, self.physical_id
        );
        for p in &self.properties {
            out.push_str(&format!(
                "\n      {}: {}: expected {}, actual {}",
                p.path, p.difference, p.expected, p.actual
            ));
        }
        out
    }
}

/// How one stack's detection ended.
#[derive(Debug, Clone)]
pub struct DriftDetection {
    /// Set when some resources could not be checked (the others are still reported).
    pub incomplete: Option<String>,
    pub drifted: Vec<Drift>,
}

impl Cfn<'_> {
    /// Detects the drift of `stack` and waits (up to 5 minutes) for the result. `emulator`:
    /// the endpoint is not AWS, whose lack of the API gets its own message.
    pub async fn detect_drift(&self, stack: &str, emulator: Option<&str>) -> Result<DriftDetection> {
        let started = self.client.detect_stack_drift().stack_name(stack).send().await.map_err(|e| {
            let code = error_code(&e);
            match emulator {
                Some(at) if matches!(code.as_deref(), None | Some("InternalFailure" | "NotImplemented")) => anyhow!(
                    "drift detection of {stack}: the emulator at {at} does not implement DetectStackDrift ({}); drift detection needs AWS",
                    error_text(&e)
                ),
                _ => anyhow!("drift detection of {stack}: {}", error_text(&e)),
            }
        })?;
        let id = started.stack_drift_detection_id().unwrap_or_default().to_string();
        let deadline = Instant::now() + Duration::from_secs(300);
        let mut incomplete = None;
        loop {
            let status = self
                .client
                .describe_stack_drift_detection_status()
                .stack_drift_detection_id(&id)
                .send()
                .await
                .map_err(|e| anyhow!("drift detection of {stack}: {}", error_text(&e)))?;
            match status.detection_status() {
                Some(StackDriftDetectionStatus::DetectionInProgress) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                Some(StackDriftDetectionStatus::DetectionInProgress) => {
                    bail!("drift detection of {stack} did not finish within 5 minutes (detection id {id})")
                }
                Some(StackDriftDetectionStatus::DetectionFailed) => {
                    incomplete = Some(
                        status
                            .detection_status_reason()
                            .unwrap_or("no reason given")
                            .to_string(),
                    );
                    break;
                }
                _ => break,
            }
        }
        let mut drifts = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_stack_resource_drifts()
                .stack_name(stack)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| anyhow!("resource drifts of {stack}: {}", error_text(&e)))?;
            drifts.extend(page.stack_resource_drifts().iter().cloned());
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        Ok(DriftDetection {
            incomplete,
            drifted: drift_report(&drifts),
        })
    }
}

/// The drifted resources among `drifts` (IN_SYNC and NOT_CHECKED are left out), in
/// logical-id order.
pub fn drift_report(drifts: &[StackResourceDrift]) -> Vec<Drift> {
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
                .map(|p| PropertyDrift {
                    path: p.property_path().unwrap_or_default().to_string(),
                    expected: p.expected_value().unwrap_or_default().to_string(),
                    actual: p.actual_value().unwrap_or_default().to_string(),
                    difference: p.difference_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
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
        let r = drift_report(&recorded());
        assert_eq!(
            r.iter()
                .map(|d| (d.logical_id.as_str(), d.status.as_str()))
                .collect::<Vec<_>>(),
            [("AlarmTopic", "DELETED"), ("ParseQueue", "MODIFIED")]
        );
        assert_eq!(
            r[1].properties,
            [PropertyDrift {
                path: "/VisibilityTimeout".into(),
                expected: "90".into(),
                actual: "30".into(),
                difference: "NOT_EQUAL".into()
            }]
        );
        assert_eq!(
            r[1].text(),
            "  MODIFIED ParseQueue AWS::SQS::Queue (mcfpipe-dev-parsequeue)\n      /VisibilityTimeout: NOT_EQUAL: expected 90, actual 30"
        );
        assert!(drift_report(&recorded()[..1]).is_empty(), "in sync: nothing to report");
    }
}
