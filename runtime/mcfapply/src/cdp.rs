//! A headless Chromium driven over the DevTools protocol (CDP), through the pipe Chromium
//! opens with `--remote-debugging-pipe`: it reads commands on its fd 3 and writes answers and
//! events on its fd 4, each message one JSON object ended by a NUL byte. No WebSocket and no
//! port: nothing else on the machine can reach the browser, and nothing is left listening.
//!
//! Only what the apply flow needs: one page (a target attached in flat mode), navigation with
//! the document's HTTP status, script evaluation (reading and clicking elements, the way a
//! user's click reaches the page's handlers through `HTMLElement.click()`), cookies, a
//! screenshot and the page's HTML. Events are not used: waits poll the page
//! ([`Page::wait_for`]), which is what a selector wait does anyway.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::session::{Cookie, SameSite};

/// What went wrong talking to the browser.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CdpError {
    #[error(
        "no Chromium found: set MCFAPPLY_CHROMIUM to its binary, or install Debian's chromium-headless-shell (or chromium): apt-get install chromium-headless-shell"
    )]
    NoBrowser,
    #[error("cannot start {path}: {reason}")]
    Launch { path: String, reason: String },
    #[error("the browser closed its DevTools pipe (it exited or crashed)")]
    Closed,
    #[error("{method}: no answer within {seconds} s")]
    Timeout { method: String, seconds: u64 },
    #[error("{method}: {message}")]
    Protocol { method: String, message: String },
    #[error("the page's script failed: {0}")]
    Script(String),
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>>;

/// A running headless Chromium; killed (and its profile folder removed) when dropped.
pub struct Browser {
    child: Child,
    writer: Mutex<std::io::PipeWriter>,
    pending: Pending,
    next: AtomicU64,
    profile: Option<PathBuf>,
    /// The browser's version line (`Browser.getVersion`'s product).
    pub product: String,
}

/// The binaries tried in order when `MCFAPPLY_CHROMIUM` is not set: Debian's headless shell
/// first (the container's), then the full browser.
const CANDIDATES: &[&str] = &[
    "chromium-headless-shell",
    "/usr/lib/chromium/chromium-headless-shell",
    "chromium",
    "chromium-browser",
    "google-chrome",
];

/// The browser binary: `MCFAPPLY_CHROMIUM`, else the first of [`CANDIDATES`] found.
pub fn find_browser() -> Result<PathBuf, CdpError> {
    if let Some(p) = std::env::var_os("MCFAPPLY_CHROMIUM").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for c in CANDIDATES {
        let c = Path::new(c);
        if c.is_absolute() {
            if c.is_file() {
                return Ok(c.to_path_buf());
            }
            continue;
        }
        for dir in std::env::split_paths(&path) {
            let p = dir.join(c);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(CdpError::NoBrowser)
}

/// Flags for a headless browser that runs as root in a container: no sandbox (the task is
/// the sandbox), `/tmp` instead of a small `/dev/shm`, nothing fetched in the background.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--metrics-recording-only",
    "--mute-audio",
    "--hide-scrollbars",
    "--window-size=1280,1600",
    "--remote-debugging-pipe",
];

impl Browser {
    /// Starts `binary` headless with a fresh profile under `scratch` (the system's temporary
    /// folder when `None`).
    pub async fn launch(binary: &Path, scratch: Option<&Path>, timeout: Duration) -> Result<Browser, CdpError> {
        let launch = |reason: String| CdpError::Launch {
            path: binary.display().to_string(),
            reason,
        };
        let base = scratch.map(Path::to_path_buf).unwrap_or_else(std::env::temp_dir);
        let profile = base.join(format!("mcfapply-profile-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&profile).map_err(|e| launch(format!("profile folder: {e}")))?;
        // Commands go into the browser's fd 3, answers come out of its fd 4.
        let (cmd_read, cmd_write) = std::io::pipe().map_err(|e| launch(e.to_string()))?;
        let (ans_read, ans_write) = std::io::pipe().map_err(|e| launch(e.to_string()))?;
        let (theirs_in, theirs_out) = (cmd_read.as_raw_fd(), ans_write.as_raw_fd());
        let mut cmd = Command::new(binary);
        cmd.args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: between fork and exec only async-signal-safe calls (fcntl, dup2). The two
        // fds are first copied above 9, so that placing them on 3 and 4 cannot overwrite
        // one with the other; dup2 clears close-on-exec on the copies it makes.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(move || {
                let a = libc::fcntl(theirs_in, libc::F_DUPFD, 10);
                let b = libc::fcntl(theirs_out, libc::F_DUPFD, 10);
                if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| launch(e.to_string()))?;
        // Ours are kept; the browser's ends are closed here so its exit closes the pipe.
        drop(cmd_read);
        drop(ans_write);
        let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
        let reader_pending = pending.clone();
        std::thread::Builder::new()
            .name("cdp-reader".into())
            .spawn(move || read_answers(ans_read, reader_pending))
            .map_err(|e| launch(e.to_string()))?;
        let mut browser = Browser {
            child,
            writer: Mutex::new(cmd_write),
            pending,
            next: AtomicU64::new(1),
            profile: Some(profile),
            product: String::new(),
        };
        let version = browser.call("Browser.getVersion", json!({}), None, timeout).await?;
        browser.product = version["product"].as_str().unwrap_or_default().to_string();
        Ok(browser)
    }

    fn send(
        &self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<(u64, oneshot::Receiver<Result<Value, String>>), CdpError> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = Value::from(s);
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().map_err(|_| CdpError::Closed)?.insert(id, tx);
        let mut bytes = serde_json::to_vec(&message).map_err(|e| CdpError::Protocol {
            method: method.into(),
            message: e.to_string(),
        })?;
        bytes.push(0);
        let mut w = self.writer.lock().map_err(|_| CdpError::Closed)?;
        w.write_all(&bytes).map_err(|_| CdpError::Closed)?;
        Ok((id, rx))
    }

    /// One command, answered within `timeout`.
    pub async fn call(
        &self,
        method: &str,
        params: Value,
        session: Option<&str>,
        timeout: Duration,
    ) -> Result<Value, CdpError> {
        let (id, rx) = self.send(method, params, session)?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(answer) => settle(method, answer),
            Err(_) => {
                if let Ok(mut p) = self.pending.lock() {
                    p.remove(&id);
                }
                Err(CdpError::Timeout {
                    method: method.into(),
                    seconds: timeout.as_secs(),
                })
            }
        }
    }

    /// A new page (tab), attached in flat mode.
    pub async fn page(&self, timeout: Duration) -> Result<Page<'_>, CdpError> {
        let target = self
            .call("Target.createTarget", json!({"url": "about:blank"}), None, timeout)
            .await?;
        let target_id = target["targetId"].as_str().unwrap_or_default().to_string();
        let attached = self
            .call(
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
                None,
                timeout,
            )
            .await?;
        let session = attached["sessionId"].as_str().unwrap_or_default().to_string();
        let page = Page {
            browser: self,
            session,
            timeout,
        };
        page.call("Page.enable", json!({})).await?;
        page.call("Network.enable", json!({})).await?;
        Ok(page)
    }

    /// Closes the browser the way it expects (`Browser.close`), so that it ends its own
    /// renderer and helper processes, and waits for it to exit; killed if it has not within
    /// 5 s. (Killing it outright leaves its helpers to whoever adopts them.) True when it
    /// exited by itself.
    ///
    /// Its zygote helpers are reparented to the process that reaps orphans (PID 1, or a
    /// subreaper) by Chromium's design; in the container that is the task's init
    /// (`initProcessEnabled`), which reaps them.
    pub async fn close(mut self) -> bool {
        let _ = self
            .call("Browser.close", json!({}), None, Duration::from_secs(5))
            .await;
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Drop kills it, and removes the profile folder.
        false
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(p) = self.profile.take() {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

fn unique() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn settle(method: &str, answer: Result<Result<Value, String>, oneshot::error::RecvError>) -> Result<Value, CdpError> {
    match answer {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(message)) => Err(CdpError::Protocol {
            method: method.into(),
            message,
        }),
        Err(_) => Err(CdpError::Closed),
    }
}

/// The reader thread: every answer to its waiting caller; events are dropped. At the end of
/// the pipe every waiting caller learns that the browser is gone.
fn read_answers(pipe: std::io::PipeReader, pending: Pending) {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(0, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if buf.last() == Some(&0) {
            buf.pop();
        }
        let Ok(message) = serde_json::from_slice::<Value>(&buf) else {
            continue;
        };
        let Some(id) = message.get("id").and_then(Value::as_u64) else {
            continue;
        };
        let waiting = pending.lock().ok().and_then(|mut p| p.remove(&id));
        if let Some(tx) = waiting {
            let answer = match message.get("error") {
                Some(e) => Err(e["message"].as_str().unwrap_or("error").to_string()),
                None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
            };
            let _ = tx.send(answer);
        }
    }
    if let Ok(mut p) = pending.lock() {
        p.clear();
    }
}

/// One page of the browser.
pub struct Page<'b> {
    browser: &'b Browser,
    session: String,
    /// How long one command, a navigation or a wait may take.
    pub timeout: Duration,
}

/// Where a navigation ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Landed {
    /// The document's URL after redirects.
    pub url: String,
    /// Its HTTP status (0 when the browser did not say).
    pub status: u16,
}

impl Page<'_> {
    async fn call(&self, method: &str, params: Value) -> Result<Value, CdpError> {
        self.browser
            .call(method, params, Some(&self.session), self.timeout)
            .await
    }

    /// Evaluates `expression` (awaiting a promise) and returns its value as JSON.
    pub async fn eval(&self, expression: &str) -> Result<Value, CdpError> {
        let answer = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await?;
        if let Some(ex) = answer.get("exceptionDetails") {
            let text = ex["exception"]["description"]
                .as_str()
                .or_else(|| ex["text"].as_str())
                .unwrap_or("an exception");
            return Err(CdpError::Script(text.lines().next().unwrap_or_default().to_string()));
        }
        Ok(answer["result"].get("value").cloned().unwrap_or(Value::Null))
    }

    /// Gives the browser `cookies` for `host` (the site's; MCF's own domain when applying on
    /// MCF): their names, values, paths and expiry kept. Over plain HTTP (a local fake site)
    /// the `Secure` flag is dropped, since the browser would not send such a cookie there.
    pub async fn set_cookies(&self, cookies: &[Cookie], host: &str, https: bool) -> Result<(), CdpError> {
        let list: Vec<Value> = cookies
            .iter()
            .map(|c| {
                let domain = if crate::session::is_mcf(host) {
                    c.domain.clone()
                } else {
                    host.to_string()
                };
                let mut v = json!({
                    "name": c.name,
                    "value": c.value,
                    "domain": domain,
                    "path": c.path,
                    "secure": c.secure && https,
                    "httpOnly": c.http_only,
                });
                if let Some(s) = c.same_site {
                    // SameSite=None needs Secure; over plain HTTP it is left to the default.
                    if s != SameSite::None || (c.secure && https) {
                        v["sameSite"] = Value::from(match s {
                            SameSite::None => "None",
                            SameSite::Lax => "Lax",
                            SameSite::Strict => "Strict",
                        });
                    }
                }
                if let Some(e) = c.expires {
                    v["expires"] = Value::from(e);
                }
                v
            })
            .collect();
        self.call("Network.setCookies", json!({"cookies": list})).await?;
        Ok(())
    }

    /// Goes to `url` and waits for the document to load: its final URL and HTTP status. A
    /// network error, or no load within the timeout, is an error.
    pub async fn goto(&self, url: &str) -> Result<Landed, CdpError> {
        let started = Instant::now();
        let nav = self.call("Page.navigate", json!({"url": url})).await?;
        if let Some(e) = nav.get("errorText").and_then(Value::as_str).filter(|e| !e.is_empty()) {
            return Err(CdpError::Protocol {
                method: "Page.navigate".into(),
                message: format!("{url}: {e}"),
            });
        }
        self.settled(started).await
    }

    /// Clicks the first element matching `selector` and waits for the page it leads to (a
    /// form's submit, a link). `Ok(false)` when no element matches.
    pub async fn click_and_wait(&self, selector: &str) -> Result<Option<Landed>, CdpError> {
        let started = Instant::now();
        let clicked = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({}); if (!e) return false; window.__mcfapplyOld = true; e.click(); return true; }})()",
                js(selector)
            ))
            .await?;
        if clicked != Value::Bool(true) {
            return Ok(None);
        }
        // The old document keeps the marker until the new one replaces it.
        loop {
            let gone = self
                .eval("window.__mcfapplyOld !== true")
                .await
                .unwrap_or(Value::Bool(false));
            if gone == Value::Bool(true) {
                break;
            }
            if started.elapsed() > self.timeout {
                return Err(CdpError::Timeout {
                    method: format!("the page after clicking {selector}"),
                    seconds: self.timeout.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.settled(started).await.map(Some)
    }

    /// Waits until the document is complete; its URL and status.
    async fn settled(&self, started: Instant) -> Result<Landed, CdpError> {
        loop {
            let state = self
                .eval(
                    "(() => { const n = performance.getEntriesByType('navigation')[0]; return {ready: document.readyState, url: location.href, status: n ? (n.responseStatus || 0) : 0}; })()",
                )
                .await;
            if let Ok(s) = &state {
                if s["ready"] == "complete" {
                    return Ok(Landed {
                        url: s["url"].as_str().unwrap_or_default().to_string(),
                        status: s["status"].as_u64().unwrap_or(0) as u16,
                    });
                }
            }
            if started.elapsed() > self.timeout {
                return Err(CdpError::Timeout {
                    method: "the page's load".into(),
                    seconds: self.timeout.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether an element matches `selector` now.
    pub async fn exists(&self, selector: &str) -> Result<bool, CdpError> {
        Ok(self
            .eval(&format!("document.querySelector({}) !== null", js(selector)))
            .await?
            == Value::Bool(true))
    }

    /// Waits up to `wait` for an element matching `selector`.
    pub async fn wait_for(&self, selector: &str, wait: Duration) -> Result<bool, CdpError> {
        let started = Instant::now();
        loop {
            if self.exists(selector).await? {
                return Ok(true);
            }
            if started.elapsed() >= wait {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the first element matching `selector`, if any.
    pub async fn text(&self, selector: &str) -> Result<Option<String>, CdpError> {
        let v = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({}); return e ? e.textContent : null; }})()",
                js(selector)
            ))
            .await?;
        Ok(v.as_str().map(|s| s.trim().to_string()))
    }

    /// The texts of every element matching `selector`, in document order.
    pub async fn texts(&self, selector: &str) -> Result<Vec<String>, CdpError> {
        let v = self
            .eval(&format!(
                "Array.from(document.querySelectorAll({})).map(e => e.textContent.trim())",
                js(selector)
            ))
            .await?;
        Ok(v.as_array()
            .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect())
            .unwrap_or_default())
    }

    /// Whether the first element matching `selector` is disabled (`None`: there is none).
    pub async fn disabled(&self, selector: &str) -> Result<Option<bool>, CdpError> {
        let v = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({}); return e ? !!e.disabled : null; }})()",
                js(selector)
            ))
            .await?;
        Ok(v.as_bool())
    }

    /// Clicks the `index`th element matching `selector` (no navigation expected). `Ok(false)`:
    /// there is no such element.
    pub async fn click_nth(&self, selector: &str, index: usize) -> Result<bool, CdpError> {
        let v = self
            .eval(&format!(
                "(() => {{ const e = document.querySelectorAll({})[{index}]; if (!e) return false; e.click(); return true; }})()",
                js(selector)
            ))
            .await?;
        Ok(v == Value::Bool(true))
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Result<Vec<u8>, CdpError> {
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"})).await?;
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .map_err(|e| CdpError::Protocol {
                method: "Page.captureScreenshot".into(),
                message: e.to_string(),
            })
    }

    /// The page's HTML as the browser holds it now.
    pub async fn html(&self) -> Result<String, CdpError> {
        Ok(self
            .eval("document.documentElement ? document.documentElement.outerHTML : ''")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }
}

/// `s` as a JavaScript string literal.
fn js(s: &str) -> String {
    Value::from(s).to_string()
}
