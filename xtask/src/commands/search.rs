//! `run search`: one jobs search against a deployed environment, then its summary.

use anyhow::Result;
use serde_json::json;

use crate::aws::Aws;
use crate::session::Session;
use crate::workflow::{DataNames, search};

/// The flags `run search` and `up` share.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub mcf_url: Option<String>,
    pub offline: bool,
    pub rate: Option<f64>,
    pub max_posts: Option<u32>,
    /// Parse here even where the deployed Lambda consumes the queue.
    pub drain: bool,
}

pub async fn run(s: &Session, flags: &Flags) -> Result<u8> {
    let aws = s.aws().await?;
    let names = DataNames::deployed(s, &aws).await?;
    let report = search(s, &aws, &names, flags).await?;
    finish(s, &report, json!({}))
}

/// Runs the search on the environment's `names`; the caller reports it.
pub async fn search(s: &Session, aws: &Aws, names: &DataNames, flags: &Flags) -> Result<search::Report> {
    let emulator = aws.endpoint().is_some();
    let options = search::Options {
        mcf_url: flags.mcf_url.clone(),
        offline: flags.offline,
        // Only the local environment falls back to the captures by itself: elsewhere they
        // would land in real tables.
        fallback_offline: s.config.is_local(),
        rate: flags.rate,
        max_posts: flags.max_posts,
        drain: flags.drain || emulator,
    };
    let scraper = &s.config.compute.scraper;
    search::run(aws, names, &scraper.mcf_url, scraper.rate_per_second, &options, &s.ui).await
}

/// Prints the summary and the result line (with `extra` merged in); exit 1 when the data
/// did not land.
pub fn finish(s: &Session, report: &search::Report, extra: serde_json::Value) -> Result<u8> {
    s.ui.print(&report.text());
    let ok = report.ok();
    let mut doc = json!({"ok": ok, "env": s.env, "search": report});
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        doc.extend(extra.clone());
    }
    if ok {
        s.ui.emit("result", doc);
        Ok(0)
    } else {
        let why = match &report.parse {
            Some(p) if p.failed > 0 => format!(
                "{} document(s) could not be stored and stay on the queue for redelivery: {}",
                p.failed,
                p.failures.first().map(String::as_str).unwrap_or("")
            ),
            _ => "the scrape did not complete (see above)".to_string(),
        };
        s.ui.error(&why);
        s.ui.emit("result", doc);
        Ok(1)
    }
}
