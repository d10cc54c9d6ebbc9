//! `deploy`: create or update the selected stacks, each as soon as the stacks it needs are
//! done (`actions::walk`), and report every stack's result.

use anyhow::Result;
use serde_json::json;

pub use crate::actions::deploy::Options;
use crate::actions::walk;
use crate::session::Session;
use crate::ui::table;

pub async fn run(s: &Session, target: &str, opts: Options) -> Result<u8> {
    let report = walk::deploy(s, target, opts, None).await?;
    let Some(failure) = report.failure() else {
        s.ui.emit("result", json!(report));
        return Ok(0);
    };
    // Every stack's result, then the first root cause; the result stays the last JSON line.
    let mut rows = vec![vec!["STACK".into(), "OUTCOME".into(), "SECONDS".into(), "WHY".into()]];
    for r in &report.stacks {
        rows.push(vec![
            r.stack.clone(),
            r.outcome.to_string(),
            format!("{:.1}", r.seconds),
            r.error.clone().unwrap_or_default(),
        ]);
    }
    s.ui.print(&table(&rows));
    s.ui.error(&format!("{failure:#}"));
    let mut doc = json!(report);
    doc["ok"] = json!(false);
    doc["error"] = json!(format!("{failure:#}"));
    s.ui.emit("result", doc);
    Ok(1)
}
