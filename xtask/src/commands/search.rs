//! `run search`: one jobs search against a deployed environment, then its summary.

use anyhow::Result;
use serde_json::json;

use crate::session::Session;
use crate::workflow::{DataNames, search};

pub use crate::workflow::search::Flags;

pub async fn run(s: &Session, flags: &Flags) -> Result<u8> {
    let aws = s.aws().await?;
    let names = DataNames::deployed(s, &aws).await?;
    let report = search::for_session(s, &aws, &names, flags).await?;
    search::finish(s, &report, json!({}))
}
