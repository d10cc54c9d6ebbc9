//! `unlock`: remove an environment's deploy lock left by a process that died, naming its holder.

use anyhow::Result;
use serde_json::json;

use crate::session::Session;

pub async fn run(s: &Session) -> Result<u8> {
    let aws = s.aws().await?;
    let held = crate::lock::force_unlock(s, &aws).await?;
    match &held {
        Some(h) => {
            s.ui.info(&format!("removed the lock of {} held by {}", s.env, h.describe()))
        }
        None => s.ui.info(&format!("{} is not locked", s.env)),
    }
    s.ui.emit("result", json!({"env": s.env, "removed": held}));
    Ok(0)
}
