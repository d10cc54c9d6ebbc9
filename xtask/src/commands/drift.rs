//! `drift`: what changed in AWS behind the deployer's back, per stack, from CloudFormation's
//! drift detection (`cfn::Cfn::detect_drift`). Exit 0 no drift, 2 drift, 1 error (the
//! emulator does not implement drift detection).

use anyhow::Result;
use serde_json::json;

use crate::session::Session;

pub async fn run(s: &Session) -> Result<u8> {
    let aws = s.aws().await?;
    let cfn = s.cfn(&aws);
    let mut docs = Vec::new();
    let mut drifted_any = false;
    for stack in &s.plan.stacks {
        let name = s.full_name(stack);
        if cfn.describe(&name).await?.is_none() {
            s.ui.step(&stack.name, "not deployed");
            continue;
        }
        let detection = cfn.detect_drift(&name, aws.endpoint()).await?;
        if let Some(why) = &detection.incomplete {
            s.ui.warn(&format!("{}: drift detection incomplete: {why}", stack.name));
        }
        if detection.drifted.is_empty() {
            s.ui.outcome(&stack.name, "in sync", true, json!({}));
        } else {
            drifted_any = true;
            s.ui.outcome(
                &stack.name,
                "DRIFTED",
                false,
                json!({"resources": detection.drifted.len()}),
            );
            for r in &detection.drifted {
                s.ui.print(&format!("{}\n", r.text()));
            }
        }
        docs.push(
            json!({"stack": stack.name, "stack_name": name, "drifted": detection.drifted,
            "incomplete": detection.incomplete}),
        );
    }
    s.ui.emit("result", json!({"env": s.env, "drifted": drifted_any, "stacks": docs}));
    Ok(if drifted_any { 2 } else { 0 })
}
