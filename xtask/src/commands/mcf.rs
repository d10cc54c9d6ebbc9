//! `mcf session`: the MCF session the browser exported after signing in (a cookie export or
//! Playwright's storage state), checked with `mcfapply::session::read` and stored, MCF's
//! cookies only, encrypted (SSE-KMS, the account's `aws/s3` key) in the environment's data
//! bucket at `session/mcf.json`, a prefix whose objects only the apply task and the session
//! check may read (the data bucket's policy).
//!
//! The session is never printed or logged: errors name the file and the cookie, never a value,
//! and the result says where it went, how many cookies and until when.
//!
//! Exit 0: stored; 1: the file is unreadable or refused (nothing written), or AWS failed.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use mcfapply::session::{self, State, WARN_DAYS};
use serde_json::json;

use crate::session::Session;
use crate::workflow::DataNames;

/// Where the session is kept in the data bucket.
pub const KEY: &str = "session/mcf.json";

/// The file's format, as the flag named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Cookies,
    StorageState,
}

impl Format {
    fn describe(self) -> &'static str {
        match self {
            Format::Cookies => "cookie export",
            Format::StorageState => "Playwright storage state",
        }
    }
}

/// `mcf session`: `file` checked, then stored in the data bucket.
pub async fn session(s: &Session, file: &Path, format: Format) -> Result<u8> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let checked = match session::read(&text, now) {
        Ok(checked) => checked,
        Err(e) => {
            s.ui.error(&format!(
                "{} ({}) is refused: {e}; nothing was stored",
                file.display(),
                format.describe()
            ));
            s.ui.document(&json!({
                "ok": false,
                "env": s.env,
                "file": file.display().to_string(),
                "stored": false,
                "error": e.to_string(),
            }));
            return Ok(1);
        }
    };
    // Checked before any AWS call: a refused file needs no deployed environment.
    let aws = s.aws().await?;
    let names = DataNames::deployed(s, &aws).await?;
    let body = serde_json::to_vec(&checked).context("the session as JSON")?;
    aws.s3()
        .put_object()
        .bucket(&names.bucket)
        .key(KEY)
        .body(ByteStream::from(body))
        .content_type("application/json")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "S3 PutObject s3://{}/{KEY}: {}",
                names.bucket,
                crate::aws::error_text(&e)
            )
        })?;
    let at = format!("s3://{}/{KEY}", names.bucket);
    let count = checked.cookies.len();
    let cookies = format!("{count} MCF cookie{}", if count == 1 { "" } else { "s" });
    // Whole days, to the nearest: an export of "30 days" made a second ago still says 30.
    let days = checked.valid_until.map(|u| (u - now + 43_200).div_euclid(86_400));
    let soon = checked.valid_until.is_some_and(|u| u - now <= WARN_DAYS * 86_400);
    match (checked.valid_until, days) {
        (Some(until), Some(days)) => {
            s.ui.info(&format!(
                "stored the MCF session ({cookies}, SSE-KMS) at {at}; it expires {} (in {days} day{})",
                mcfcore::time::timestamp_from_unix(until),
                if days == 1 { "" } else { "s" }
            ));
            if soon {
                s.ui.warn(&format!(
                    "the MCF session expires within {WARN_DAYS} days: sign in to MCF again soon and run this again"
                ));
            }
        }
        _ => s.ui.info(&format!(
            "stored the MCF session ({cookies}, SSE-KMS) at {at}; it holds only session cookies, whose end MCF decides"
        )),
    }
    s.ui.document(&json!({
        "ok": true,
        "env": s.env,
        "bucket": names.bucket,
        "key": KEY,
        "cookies": count,
        "expires": checked.valid_until.map(mcfcore::time::timestamp_from_unix),
        "expires_in_days": days,
        "expires_soon": soon,
    }));
    Ok(0)
}

/// `mcf check`: the stored session checked against MCF now (`mcfapply::check::check`, the
/// daily function's code), its state recorded and the user told when it needs them.
///
/// Exit 0: valid; 3: expired, expiring within 3 days, or missing; 1: no verdict, or AWS failed.
pub async fn check(s: &Session, site: Option<String>) -> Result<u8> {
    let aws = s.aws().await?;
    let names = crate::workflow::apply::ApplyNames::deployed(s, &aws).await?;
    let (site, fixture) = crate::workflow::apply::site(s, &aws, site.as_deref())?;
    let flags = crate::workflow::apply::Flags::default();
    let mut settings = crate::workflow::apply::settings(s, &names, &flags, site);
    settings.by = "xtask".into();
    let log = mcfcore::log::Log::new("session", std::sync::Arc::new(mcfcore::log::Collect::default()));
    let checked = mcfapply::check::check(&aws, &settings, mcfapply::check::CHECK_PATH, &log)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    drop(fixture);
    let said = checked
        .answer
        .as_ref()
        .map(|a| a.detail.clone())
        .unwrap_or_else(|| "no session is stored".into());
    let until = checked
        .valid_until
        .map(|u| format!("; its cookies last until {}", mcfcore::time::timestamp_from_unix(u)))
        .unwrap_or_default();
    let state = serde_json::to_value(checked.state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let code = match checked.state {
        State::Valid => {
            s.ui.info(&format!("the MCF session is valid{until} ({said})"));
            0
        }
        State::Unchecked => {
            s.ui.warn(&format!("no verdict on the MCF session{until}: {said}"));
            1
        }
        _ => {
            s.ui.error(&format!(
                "the MCF session is {state}{until} ({said}): sign in to MCF in your browser, export its cookies, then `cargo xtask mcf session --env {} --cookies FILE`",
                s.env
            ));
            3
        }
    };
    s.ui.document(&json!({"ok": code == 0, "env": s.env, "state": state, "valid_until": checked.valid_until.map(mcfcore::time::timestamp_from_unix), "answer": checked.answer}));
    Ok(code)
}
