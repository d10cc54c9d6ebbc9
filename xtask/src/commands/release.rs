//! `release`: build and publish every component for an environment, then write the release
//! manifest (`crate::release`) to the artifact bucket and `target/mcfpipe/<env>/release.json`.

use std::path::PathBuf;

use anyhow::Result;
use serde_json::json;

use crate::actions::bootstrap;
use crate::files::write_file;
use crate::release;
use crate::session::Session;
use crate::ui::table;

pub async fn run(s: &Session, out: Option<PathBuf>) -> Result<u8> {
    let aws = s.aws().await?;
    let (built, artifact_outputs) = bootstrap::build(s, &aws, "all").await?;
    let bucket = bootstrap::bucket_of(&artifact_outputs, &s.env)?;
    let components = release::components(&aws, &bucket, &built).await?;
    let templates = release::template_hashes(s)?;
    let manifest = release::manifest(s, release::git(&s.project.workspace), templates, components)?;
    let (url, file) = release::store(s, &aws, &bucket, &manifest).await?;
    if let Some(extra) = out {
        write_file(&extra, &(serde_json::to_string_pretty(&manifest)? + "\n"))?;
    }

    let mut rows = vec![vec![
        "COMPONENT".into(),
        "KIND".into(),
        "SHA-256 / DIGEST".into(),
        "ARTIFACT".into(),
    ]];
    for (name, c) in &manifest.components {
        rows.push(vec![
            name.clone(),
            format!("{:?}", c.kind).to_lowercase(),
            c.sha256.clone(),
            match &c.skipped {
                Some(why) => format!("skipped: {why}"),
                None => c.artifact.clone(),
            },
        ]);
    }
    s.ui.print(&table(&rows));
    if manifest.git.dirty {
        s.ui.warn("the working tree has uncommitted changes: this release is not reproducible from its commit");
    }
    s.ui.info(&format!(
        "release {} of {} (commit {}): {url} and {}",
        manifest.release,
        s.env,
        release::short(&manifest.git.commit),
        file.display()
    ));
    s.ui.emit(
        "result",
        json!({"ok": true, "manifest": manifest, "s3": url, "file": file}),
    );
    Ok(0)
}
