//! `crm token`: a user's bearer token for the CRM, made here and printed once; only its SHA-256
//! is stored (SSM SecureString `/<project>/<env>/crm/tokens/<user>`), and running it again
//! rotates it. `crm token --list`: the users, names only. `crm serve`: the CRM's own handler
//! (`jobcrm_lambda::App`) on 127.0.0.1 against the environment's tables, until interrupted:
//! the emulator's API Gateway runs no Lambda code.
//!
//! The token goes to stdout once (in JSON mode, in the result line) and nowhere else: no
//! progress line, log line or error quotes it.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use jobcrm_lambda::auth;
use serde_json::json;

use crate::session::Session;
use crate::workflow::recommend::RecommendNames;

/// The environment's token path, `/<project>/<env>/crm/tokens/`.
fn token_path(s: &Session) -> String {
    auth::token_path(&s.config.project, &s.env)
}

/// `crm token`: a new token for `user` (created, or rotated when the user has one).
pub async fn token(s: &Session, user: &str) -> Result<u8> {
    if !auth::valid_user(user) {
        bail!("`{user}` is not a user name: letters, digits, '-', '_' and '.', 1 to 64 characters");
    }
    let aws = s.aws().await?;
    let name = auth::parameter_name(&token_path(s), user);
    let token = auth::new_token().map_err(|e| anyhow!("cannot make a token: {e}"))?;
    let put = aws
        .ssm()
        .put_parameter()
        .name(&name)
        .value(auth::token_hash(&token))
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .description("SHA-256 of a CRM bearer token (cargo xtask crm token)")
        .send()
        .await
        .map_err(|e| anyhow!("SSM PutParameter {name}: {}", mcfstore::error_text(&e)))?;
    let rotated = put.version() > 1;
    s.ui.info(&format!(
        "{} the CRM token of {user}: only its SHA-256 is kept (SSM parameter {name}, SecureString); the token is shown once, here:",
        if rotated { "rotated" } else { "created" }
    ));
    s.ui.print(&format!("{token}\n"));
    s.ui.info(&format!(
        "paste it into the CRM's page, or send it as `Authorization: Bearer <token>`{}; `cargo xtask crm serve --env {}` serves the CRM here",
        if rotated {
            " (the old one stops working within a minute)"
        } else {
            ""
        },
        s.env
    ));
    s.ui.document(&json!({
        "ok": true,
        "env": s.env,
        "user": user,
        "parameter": name,
        "rotated": rotated,
        "token": token,
    }));
    Ok(0)
}

/// `crm token --list`: the users with a token, names only (no value is read).
pub async fn users(s: &Session) -> Result<u8> {
    let aws = s.aws().await?;
    let path = token_path(s);
    let mut names = Vec::new();
    let mut next = None;
    loop {
        let page = aws
            .ssm()
            .get_parameters_by_path()
            .path(path.trim_end_matches('/'))
            .with_decryption(false)
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| anyhow!("SSM GetParametersByPath {path}: {}", mcfstore::error_text(&e)))?;
        names.extend(
            page.parameters()
                .iter()
                .filter_map(|p| p.name())
                .filter_map(|n| n.strip_prefix(&path))
                .map(str::to_string),
        );
        next = page.next_token().map(str::to_string);
        if next.is_none() {
            break;
        }
    }
    names.sort();
    if names.is_empty() {
        s.ui.info(&format!(
            "no CRM user in {}: `cargo xtask crm token --env {}` makes one",
            s.env, s.env
        ));
    } else {
        s.ui.print(&names.iter().map(|n| format!("{n}\n")).collect::<String>());
    }
    s.ui.document(&json!({"ok": true, "env": s.env, "path": path, "users": names}));
    Ok(0)
}

/// `crm serve`: the CRM on 127.0.0.1:`port` (0: a free port) until interrupted.
pub async fn serve(s: &Session, port: u16) -> Result<u8> {
    let aws = s.aws().await?;
    let names = RecommendNames::deployed(s, &aws).await?;
    let settings = jobcrm_lambda::Settings {
        crm_table: names.crm_table.clone(),
        dimensions_table: names.dimensions_table.clone(),
        posts_table: names.posts_table.clone(),
        token_path: token_path(s),
        mcf_url: s.config.compute.scraper.mcf_url.clone(),
        // The latest attempt shown on a job; "apply now" needs ECS: `run apply` is the local way.
        applications_table: crate::workflow::apply::ApplyNames::deployed(s, &aws)
            .await
            .ok()
            .map(|n| n.applications_table),
        apply_task: None,
    };
    let app = Arc::new(jobcrm_lambda::App::new(&aws, settings));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
    let url = format!("http://{}/", listener.local_addr()?);
    if !aws.is_emulator() {
        s.ui.warn(&format!(
            "serving {}'s own tables ({}) from this machine, with its tokens",
            s.env, names.crm_table
        ));
    }
    s.ui.print(&format!("CRM: {url}\n"));
    s.ui.info(&format!(
        "a token: `cargo xtask crm token --env {}` (once; again to rotate it). Ctrl-C stops the server",
        s.env
    ));
    s.ui.emit(
        "listening",
        json!({"url": url, "env": s.env, "crm_table": names.crm_table}),
    );
    jobcrm_lambda::serve::serve(listener, app)
        .await
        .with_context(|| format!("the CRM's server at {url}"))?;
    Ok(0)
}
