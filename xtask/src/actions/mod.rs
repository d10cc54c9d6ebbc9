//! What the deployer does to stacks, below the verbs (sceptre's "actions" on one stack, and the
//! walk of the plan that runs them):
//!
//! - [`deploy`]: create, update or repair one stack, through a change set or directly, and
//!   say how it went ([`Outcome`]);
//! - [`delete`]: delete one stack, emptying its buckets and repositories first, and list what
//!   its deletion policies keep;
//! - [`walk`]: run those over a selection of the plan, each stack as soon as the stacks it needs
//!   are done, several at once (bounded), stopping new starts at the first failure;
//! - [`compare`]: what differs between a deployed stack and what the files render;
//! - [`bootstrap`]: the artifacts stack the builds need, created on first use, and builds.
//!
//! Every CloudFormation call goes through [`crate::cfn`]; every line the user sees goes
//! through [`crate::ui`]. Results are typed and serialise to the JSON the verbs print.

pub mod bootstrap;
pub mod compare;
pub mod delete;
pub mod deploy;
pub mod walk;

use std::collections::BTreeMap;

use serde::Serialize;

/// How one stack's action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    #[serde(rename = "created")]
    Created,
    #[serde(rename = "updated")]
    Updated,
    /// Template, parameters and tags as deployed; nothing was written.
    #[serde(rename = "unchanged")]
    Unchanged,
    /// The template was as deployed, but parameters, tags or termination protection had been
    /// changed outside the deployer, and were set back.
    #[serde(rename = "repaired")]
    Repaired,
    /// `--no-execute`: the change set waits for review.
    #[serde(rename = "change set created")]
    ChangeSetCreated,
    #[serde(rename = "deleted")]
    Deleted,
    /// Nothing of it existed (teardown).
    #[serde(rename = "absent")]
    Absent,
    #[serde(rename = "failed")]
    Failed,
    /// Not started: an earlier failure stopped new starts, or a stack it needs failed.
    #[serde(rename = "not attempted")]
    NotAttempted,
}

impl Outcome {
    pub fn text(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Repaired => "repaired",
            Outcome::ChangeSetCreated => "change set created",
            Outcome::Deleted => "deleted",
            Outcome::Absent => "absent",
            Outcome::Failed => "failed",
            Outcome::NotAttempted => "not attempted",
        }
    }

    pub fn ok(self) -> bool {
        !matches!(self, Outcome::Failed | Outcome::NotAttempted)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

/// One stack's part in a walk.
#[derive(Debug, Clone, Serialize)]
pub struct StackResult {
    /// The manifest's name (`networking`).
    pub stack: String,
    /// The CloudFormation name (`mcfpipe-dev-networking`).
    pub stack_name: String,
    pub outcome: Outcome,
    /// Seconds from the start of the walk to this stack's start and end: the timeline shows
    /// which stacks ran at the same time.
    pub started_s: f64,
    pub finished_s: f64,
    pub seconds: f64,
    /// Why it failed, or why it was not attempted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Stack name → its outputs (without the deployer's own).
pub type AllOutputs = BTreeMap<String, BTreeMap<String, String>>;

/// What a deploy did.
#[derive(Debug, Clone, Serialize)]
pub struct DeployReport {
    pub env: String,
    /// The plan's waves: each stack of a wave needs only stacks of earlier waves.
    pub waves: Vec<Vec<String>>,
    /// In the order the stacks finished.
    pub stacks: Vec<StackResult>,
    pub outputs: AllOutputs,
    pub seconds: f64,
}

impl DeployReport {
    /// The first failure, as an error naming the stack and CloudFormation's reason.
    pub fn failure(&self) -> Option<anyhow::Error> {
        let failed: Vec<&StackResult> = self.stacks.iter().filter(|r| r.outcome == Outcome::Failed).collect();
        let first = failed.first()?;
        let mut text = format!(
            "deploy of stack {} ({}) failed: {}",
            first.stack,
            first.stack_name,
            first.error.as_deref().unwrap_or("no reason recorded")
        );
        for other in &failed[1..] {
            text.push_str(&format!(
                "\nand deploy of stack {} ({}) failed: {}",
                other.stack,
                other.stack_name,
                other.error.as_deref().unwrap_or("no reason recorded")
            ));
        }
        Some(anyhow::anyhow!(text))
    }

    /// `networking created, database unchanged, ...` in plan order.
    pub fn summary(&self) -> String {
        self.stacks
            .iter()
            .map(|r| format!("{} {}", r.stack, r.outcome))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What a teardown did.
#[derive(Debug, Clone, Serialize)]
pub struct TeardownReport {
    pub env: String,
    pub waves: Vec<Vec<String>>,
    pub stacks: Vec<StackResult>,
    /// CloudFormation names of the stacks deleted.
    pub deleted: Vec<String>,
    /// Resources kept by their deletion policy, still in the account.
    pub retained: Vec<delete::Retained>,
    pub seconds: f64,
}

impl TeardownReport {
    /// The first failure, naming the stack and the reason.
    pub fn failure(&self) -> Option<anyhow::Error> {
        let failed = self.stacks.iter().find(|r| r.outcome == Outcome::Failed)?;
        Some(anyhow::anyhow!(
            "teardown of stack {} ({}) failed: {}",
            failed.stack,
            failed.stack_name,
            failed.error.as_deref().unwrap_or("no reason recorded")
        ))
    }
}
