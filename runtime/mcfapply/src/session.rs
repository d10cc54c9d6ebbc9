//! The MCF session: what the user's browser exports after signing in with Singpass, checked
//! before it is stored. Two formats are read:
//!
//! - a cookie export (the original's): a JSON list of `{name, value, domain, path, secure,
//!   httpOnly, sameSite, expirationDate}`, `sameSite` one of `no_restriction`, `lax`, `strict`
//!   (or `unspecified`), `expirationDate` seconds since the epoch (absent: a session cookie);
//! - Playwright's storage state: `{"cookies": [{name, value, domain, path, expires, httpOnly,
//!   secure, sameSite}], "origins": […]}`, `expires` -1 for a session cookie, `sameSite`
//!   `Lax`, `Strict` or `None`.
//!
//! Only cookies of MCF's domain are kept. The session is usable when at least one is there and
//! none of them has expired; it lasts until the earliest expiry among them. Values are never
//! part of an error or a `Debug` line.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// MCF's cookie domain; a cookie of it or of a subdomain counts.
pub const MCF_DOMAIN: &str = "mycareersfuture.gov.sg";

/// How a cookie goes cross-site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SameSite {
    None,
    Lax,
    Strict,
}

/// One cookie, in the form the apply task gives the browser.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Cookie {
    pub name: String,
    pub value: String,
    pub domain: String,
    pub path: String,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<SameSite>,
    /// Seconds since the epoch; `None`: ends with the browser session.
    pub expires: Option<i64>,
}

impl fmt::Debug for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cookie")
            .field("name", &self.name)
            .field("value", &"<hidden>")
            .field("domain", &self.domain)
            .field("expires", &self.expires)
            .finish()
    }
}

/// A checked session: MCF's cookies only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub cookies: Vec<Cookie>,
    /// The earliest expiry among them (seconds since the epoch); `None`: only session cookies,
    /// which MCF's server decides on (the daily check finds out).
    pub valid_until: Option<i64>,
}

/// Why an export is refused. Never holds a cookie's value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error(
        "neither a cookie export (a JSON list of cookies) nor a Playwright storage state (an object with \"cookies\")"
    )]
    UnknownFormat,
    #[error("cookie {index}: {reason}")]
    BadCookie { index: usize, reason: String },
    #[error(
        "no cookie of {MCF_DOMAIN} among the {count} exported: sign in at https://www.mycareersfuture.gov.sg in the browser first, then export its cookies"
    )]
    NoMcfCookie { count: usize },
    #[error("the MCF cookie {name} expired at {expired} (unix seconds): sign in again and export anew")]
    Expired { name: String, expired: i64 },
}

/// Whether `domain` (`.www.mycareersfuture.gov.sg`, `mycareersfuture.gov.sg`) is MCF's.
pub fn is_mcf(domain: &str) -> bool {
    let d = domain.trim_start_matches('.').to_ascii_lowercase();
    d == MCF_DOMAIN || d.ends_with(&format!(".{MCF_DOMAIN}"))
}

/// Reads an export (either format) and checks it at `now` (seconds since the epoch).
pub fn read(text: &str, now: i64) -> Result<Session, SessionError> {
    let value: Value = serde_json::from_str(text).map_err(|e| SessionError::NotJson(e.to_string()))?;
    let (list, playwright) = match &value {
        Value::Array(list) => (list.as_slice(), false),
        Value::Object(m) => match m.get("cookies").and_then(Value::as_array) {
            Some(list) => (list.as_slice(), true),
            None => return Err(SessionError::UnknownFormat),
        },
        _ => return Err(SessionError::UnknownFormat),
    };
    let mut cookies = Vec::new();
    for (index, c) in list.iter().enumerate() {
        let cookie = cookie(c, playwright).map_err(|reason| SessionError::BadCookie { index, reason })?;
        if is_mcf(&cookie.domain) {
            cookies.push(cookie);
        }
    }
    if cookies.is_empty() {
        return Err(SessionError::NoMcfCookie { count: list.len() });
    }
    if let Some(c) = cookies
        .iter()
        .filter(|c| c.expires.is_some_and(|e| e <= now))
        .min_by_key(|c| c.expires)
    {
        return Err(SessionError::Expired {
            name: c.name.clone(),
            expired: c.expires.unwrap_or_default(),
        });
    }
    let valid_until = cookies.iter().filter_map(|c| c.expires).min();
    Ok(Session { cookies, valid_until })
}

fn cookie(c: &Value, playwright: bool) -> Result<Cookie, String> {
    let text = |key: &str| c.get(key).and_then(Value::as_str).map(str::to_string);
    let flag = |key: &str| c.get(key).and_then(Value::as_bool).unwrap_or(false);
    let name = text("name").filter(|n| !n.is_empty()).ok_or("no name")?;
    let value = text("value").ok_or_else(|| format!("{name}: no value"))?;
    let domain = text("domain")
        .filter(|d| !d.is_empty())
        .ok_or_else(|| format!("{name}: no domain"))?;
    let same_site = match text("sameSite").as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("unspecified") => None,
        Some("no_restriction" | "none") => Some(SameSite::None),
        Some("lax") => Some(SameSite::Lax),
        Some("strict") => Some(SameSite::Strict),
        Some(other) => {
            return Err(format!(
                "{name}: sameSite {other:?} is none of no_restriction, lax, strict"
            ));
        }
    };
    let key = if playwright { "expires" } else { "expirationDate" };
    let expires = match c.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => {
            let seconds = v.as_f64().ok_or_else(|| format!("{name}: {key} is not a number"))?;
            // Playwright writes -1 for a session cookie; an export marks it with `session`.
            (seconds >= 0.0 && !c.get("session").and_then(Value::as_bool).unwrap_or(false))
                .then_some(seconds.floor() as i64)
        }
    };
    Ok(Cookie {
        name,
        value,
        domain,
        path: text("path").unwrap_or_else(|| "/".into()),
        secure: flag("secure"),
        http_only: flag("httpOnly"),
        same_site,
        expires,
    })
}

/// What the daily check concludes, and when the user is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// MCF answered the authenticated page.
    Valid,
    /// Valid, but its cookies expire within [`WARN_DAYS`].
    ExpiresSoon,
    /// MCF sent the login page, or the cookies' time is up.
    Expired,
    /// No session stored.
    Missing,
    /// MCF did not answer (the state is unknown; not an expiry).
    Unchecked,
}

/// Days before the cookies' expiry that the user is told.
pub const WARN_DAYS: i64 = 3;

impl State {
    /// The state of a session valid until `valid_until` that MCF `answered` (true: the
    /// authenticated page; false: a redirect to the login page; `None`: no answer) at `now`.
    pub fn of(valid_until: Option<i64>, answered: Option<bool>, now: i64) -> State {
        match answered {
            Some(false) => State::Expired,
            _ if valid_until.is_some_and(|u| u <= now) => State::Expired,
            None => State::Unchecked,
            Some(true) if valid_until.is_some_and(|u| u - now <= WARN_DAYS * 86_400) => State::ExpiresSoon,
            Some(true) => State::Valid,
        }
    }

    /// Whether the user is told (through the alert topic).
    pub fn notifies(self) -> bool {
        matches!(self, State::Expired | State::ExpiresSoon | State::Missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;

    fn export(expiry: Option<f64>) -> String {
        let mut c = serde_json::json!({
            "name": "MCF_SESSION", "value": "s3cr3t", "domain": ".mycareersfuture.gov.sg", "path": "/",
            "secure": true, "httpOnly": true, "sameSite": "no_restriction"
        });
        if let Some(e) = expiry {
            c["expirationDate"] = e.into();
        }
        serde_json::json!([c, {"name": "_ga", "value": "x", "domain": ".google.com", "path": "/", "sameSite": "lax", "expirationDate": 1.0}])
            .to_string()
    }

    #[test]
    fn a_cookie_export_keeps_mcfs_cookies_and_says_until_when() {
        let s = read(&export(Some(NOW as f64 + 86_400.5)), NOW).unwrap();
        assert_eq!(s.cookies.len(), 1, "the other site's cookie is dropped, expired or not");
        assert_eq!(s.valid_until, Some(NOW + 86_400));
        assert_eq!(s.cookies[0].same_site, Some(SameSite::None));
        assert!(!format!("{s:?}").contains("s3cr3t"), "never in a debug line");
    }

    #[test]
    fn playwright_storage_state_reads_too() {
        let state = serde_json::json!({"cookies": [
            {"name": "a", "value": "v", "domain": "www.mycareersfuture.gov.sg", "path": "/", "expires": -1, "httpOnly": false, "secure": true, "sameSite": "Lax"},
            {"name": "b", "value": "v", "domain": ".mycareersfuture.gov.sg", "path": "/", "expires": (NOW + 10) as f64, "httpOnly": true, "secure": true, "sameSite": "Strict"}
        ], "origins": []});
        let s = read(&state.to_string(), NOW).unwrap();
        assert_eq!(s.cookies.len(), 2);
        assert_eq!(s.cookies[0].expires, None, "-1 is a session cookie");
        assert_eq!(s.valid_until, Some(NOW + 10));
    }

    #[test]
    fn refusals_say_what_to_do_and_never_show_a_value() {
        let e = read(&export(Some(NOW as f64 - 1.0)), NOW).unwrap_err();
        assert!(matches!(e, SessionError::Expired { .. }), "{e}");
        assert!(e.to_string().contains("sign in again"));
        let e = read(r#"[{"name":"x","value":"s3cr3t","domain":"example.com"}]"#, NOW).unwrap_err();
        assert!(e.to_string().contains("no cookie of mycareersfuture.gov.sg"), "{e}");
        assert!(!e.to_string().contains("s3cr3t"));
        assert!(matches!(read("{}", NOW), Err(SessionError::UnknownFormat)));
        assert!(matches!(read("nope", NOW), Err(SessionError::NotJson(_))));
        let e = read(
            r#"[{"name":"x","value":"v","domain":".mycareersfuture.gov.sg","sameSite":"sideways"}]"#,
            NOW,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("cookie 0: x: sameSite"), "{e}");
        assert!(is_mcf("mycareersfuture.gov.sg") && is_mcf(".www.MyCareersFuture.gov.sg"));
        assert!(!is_mcf("evilmycareersfuture.gov.sg"));
    }

    #[test]
    fn the_daily_state() {
        let day = 86_400;
        assert_eq!(State::of(Some(NOW + 10 * day), Some(true), NOW), State::Valid);
        assert_eq!(State::of(Some(NOW + 2 * day), Some(true), NOW), State::ExpiresSoon);
        assert_eq!(
            State::of(Some(NOW + 10 * day), Some(false), NOW),
            State::Expired,
            "the login page"
        );
        assert_eq!(
            State::of(Some(NOW - 1), None, NOW),
            State::Expired,
            "time is up, asked or not"
        );
        assert_eq!(State::of(None, None, NOW), State::Unchecked);
        assert!(State::ExpiresSoon.notifies() && !State::Unchecked.notifies());
    }
}
