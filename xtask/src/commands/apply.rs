//! `run apply`: one apply run (the apply task's library) in this process against a deployed
//! environment, with this machine's headless Chromium; then each job's outcome.
//!
//! Exit 0: the run went through its jobs, whatever their outcomes (each is recorded in the
//! applications table and shown); 1: an error stopped it (AWS, no browser); 3: the session is
//! missing or expired (nothing more was tried; the user is told through the notification topic).

use anyhow::Result;
use serde_json::json;

use crate::session::Session;
pub use crate::workflow::apply::Flags;
use crate::workflow::apply::{self, ApplyNames, COMPONENT};

pub async fn run(s: &Session, flags: &Flags) -> Result<u8> {
    let aws = s.aws().await?;
    let names = ApplyNames::deployed(s, &aws).await?;
    let (site, fixture) = apply::site(s, &aws, flags.site.as_deref())?;
    if !flags.submit && !s.config.compute.apply.submit {
        s.ui.info(
            "a dry run: each job goes as far as MCF's submit button (--submit, or compute.apply.submit: true, submits)",
        );
    }
    let settings = apply::settings(s, &names, flags, site);
    let shipping = apply::start_shipping(s, &aws).await;
    let log = shipping
        .log(COMPONENT)
        .unwrap_or_else(|| mcfcore::log::Log::new(COMPONENT, std::sync::Arc::new(mcfcore::log::Collect::default())));
    let outcome = mcfapply::run::run(&aws, &settings, &log).await;
    crate::workflow::recommend::finish_shipping(s, shipping).await;
    drop(fixture);
    let summary = outcome.map_err(|e| anyhow::anyhow!("{e}"))?;
    s.ui.print(&apply::summary_text(&summary));
    let stopped =
        summary.stopped.is_some() && matches!(summary.session, mcfapply::State::Expired | mcfapply::State::Missing);
    s.ui.emit("result", json!({"ok": !stopped, "env": s.env, "apply": summary}));
    if stopped {
        s.ui.error(&format!(
            "the MCF session is {}: sign in to MCF in your browser, export its cookies, then `cargo xtask mcf session --env {} --cookies FILE`",
            if summary.session == mcfapply::State::Missing { "missing" } else { "expired" },
            s.env
        ));
        return Ok(3);
    }
    Ok(0)
}
