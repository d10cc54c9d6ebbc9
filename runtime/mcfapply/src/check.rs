//! The session check (the daily function, and `cargo xtask mcf session --check`): the stored
//! session sent to one of MCF's pages that needs a signed-in user. An answer is read without
//! following redirects: a redirect to the login page means the session has expired; a 2xx
//! means MCF took it. Anything else (no answer, a 5xx) says nothing about the session: the
//! state keeps its dates and the check says what happened.

use std::time::Duration;

use mcfcore::log::{Level, Log};
use mcfstore::Aws;
use serde::Serialize;

use crate::run::{RunError, Settings, load_session, record_session};
use crate::session::{Session, State};

/// The page checked: one MCF shows only to a signed-in user.
pub const CHECK_PATH: &str = "/dashboard";

/// What MCF said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// `Some(true)`: signed in; `Some(false)`: the login page; `None`: no verdict.
    pub signed_in: Option<bool>,
    pub status: u16,
    pub detail: String,
}

/// The Cookie header of `session` (every MCF cookie of it).
fn cookie_header(session: &Session) -> String {
    session
        .cookies
        .iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Asks `site` + `path` with the session's cookies.
pub async fn ask(site: &str, path: &str, login_path: &str, session: &Session, timeout: Duration) -> Answer {
    let url = format!("{}{}", site.trim_end_matches('/'), path);
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .user_agent("mcfpipe-session-check")
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            return Answer {
                signed_in: None,
                status: 0,
                detail: format!("no HTTP client: {e}"),
            };
        }
    };
    let answer = client
        .get(&url)
        .header(reqwest::header::COOKIE, cookie_header(session))
        .send()
        .await;
    let response = match answer {
        Ok(r) => r,
        Err(e) => {
            return Answer {
                signed_in: None,
                status: 0,
                detail: format!("{url}: no answer ({e})"),
            };
        }
    };
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if response.status().is_redirection() {
        let to_login = location
            .split_once("://")
            .map(|(_, r)| r.find('/').map(|i| &r[i..]).unwrap_or("/"))
            .unwrap_or(&location)
            .starts_with(login_path);
        return if to_login {
            Answer {
                signed_in: Some(false),
                status,
                detail: format!("{url} sent the login page ({location}): the session has expired"),
            }
        } else {
            Answer {
                signed_in: None,
                status,
                detail: format!("{url} redirected to {location}, not the login page"),
            }
        };
    }
    if response.status().is_success() {
        return Answer {
            signed_in: Some(true),
            status,
            detail: format!("{url} answered {status} to the session: signed in"),
        };
    }
    Answer {
        signed_in: None,
        status,
        detail: format!("{url} answered HTTP {status}: no verdict on the session"),
    }
}

/// What a check found and recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub state: State,
    /// Unix seconds.
    pub valid_until: Option<i64>,
    pub answer: Option<Answer>,
}

/// The whole check: the stored session read, MCF asked, the state recorded in the dimensions
/// table, the user told when it has expired, expires within 3 days, or is missing.
pub async fn check(aws: &Aws, settings: &Settings, path: &str, log: &Log) -> Result<Checked, RunError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let Some(session) = load_session(aws, &settings.data_bucket).await? else {
        let why = "no MCF session is stored: run `cargo xtask mcf session` with the browser's cookie export";
        record_session(aws, settings, State::Missing, None, why, log).await?;
        return Ok(Checked {
            state: State::Missing,
            valid_until: None,
            answer: None,
        });
    };
    let answer = ask(
        &settings.flow.site,
        path,
        &settings.flow.login_path,
        &session,
        Duration::from_secs(20),
    )
    .await;
    let state = State::of(session.valid_until, answer.signed_in, now);
    let line = log
        .line(
            if state == State::Valid {
                Level::Info
            } else {
                Level::Warn
            },
            "session checked",
        )
        .field("state", state)
        .field("status", answer.status)
        .field("detail", &answer.detail);
    log.write(&line);
    record_session(aws, settings, state, session.valid_until, &answer.detail, log).await?;
    Ok(Checked {
        state,
        valid_until: session.valid_until,
        answer: Some(answer),
    })
}
