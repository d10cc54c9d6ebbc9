//! `seed`: the search profiles of `config/seed/search-profiles.yaml` into the environment's
//! dimensions table, where the scraper reads them.

use std::path::PathBuf;

use anyhow::Result;
use serde_json::json;

use crate::session::Session;
use crate::workflow::{DataNames, profiles};

pub async fn run(s: &Session, file: Option<PathBuf>) -> Result<u8> {
    let path = file.unwrap_or_else(|| profiles::seed_file(&s.project.config_dir()));
    // Checked before connecting: a bad file writes nothing.
    let list = profiles::load(&path)?;
    let aws = s.aws().await?;
    let names = DataNames::deployed(s, &aws).await?;
    let others = profiles::write(s, &aws, &names, &path, &list).await?;
    for p in &list {
        s.ui.step(
            "seed",
            &format!(
                "search profile {} (track {}): \"{}\"{}",
                p.name,
                p.track,
                p.keywords.join(" "),
                if p.categories.is_empty() {
                    String::new()
                } else {
                    format!(" in {}", p.categories.join(", "))
                }
            ),
        );
    }
    s.ui.info(&format!(
        "{} search profile(s) written to {} from {}",
        list.len(),
        names.dimensions_table,
        path.display()
    ));
    s.ui.emit(
        "result",
        json!({
            "ok": true,
            "env": s.env,
            "table": names.dimensions_table,
            "profiles": list.iter().map(|p| &p.name).collect::<Vec<_>>(),
            "not_in_file": others,
        }),
    );
    Ok(0)
}
