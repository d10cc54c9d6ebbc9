//! `build`: build and publish runtime components for an environment, creating the artifacts
//! stack first when it is missing (the deployer's bootstrap).

use anyhow::Result;
use serde_json::json;

use crate::actions::bootstrap;
use crate::session::Session;
use crate::ui::table;

pub async fn run(s: &Session, component: &str) -> Result<u8> {
    let aws = s.aws().await?;
    let (built, _) = bootstrap::build(s, &aws, component).await?;
    let mut rows = vec![vec![
        "COMPONENT".into(),
        "KIND".into(),
        "BYTES".into(),
        "ARTIFACT".into(),
    ]];
    for (name, b) in &built {
        let value = match &b.skipped {
            Some(why) => format!("skipped: {why}"),
            None => b.value.clone(),
        };
        rows.push(vec![
            name.clone(),
            format!("{:?}", b.kind).to_lowercase(),
            b.bytes.to_string(),
            value,
        ]);
    }
    s.ui.print(&table(&rows));
    s.ui.document(&json!({"env": s.env, "artifacts": built}));
    Ok(0)
}
