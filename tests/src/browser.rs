//! A headless Chromium for the tests of web pages, driven over W3C WebDriver: `chromedriver`
//! (Debian's `chromium-driver`) on a free 127.0.0.1 port, spoken to as plain HTTP + JSON with
//! reqwest. The driver, and every process it started (the browser), is stopped by PID when the
//! [`Browser`] is dropped. Without Chromium and chromedriver a test is skipped, and says so,
//! unless `MCFPIPE_REQUIRE_BROWSER=1` (CI), where it fails.
//!
//! Elements are found by their `data-testid` only: the pages give their tests stable hooks.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The key of an element reference in WebDriver's JSON (W3C).
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long [`Browser::wait`] and [`Browser::wait_for`] wait.
const WAIT: Duration = Duration::from_secs(15);
/// Chromium's flags for a test: headless, as root, nothing in the background.
const FLAGS: [&str; 6] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
];

/// One browser session.
pub struct Browser {
    base: String,
    session: String,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
    driver: Child,
    dir: tempfile::TempDir,
}

/// A WebDriver error (`error` and `message` of its answer), or a transport error.
#[derive(Debug)]
pub struct WdError(pub String);

fn on_path(cmd: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(cmd)).find(|p| p.is_file())
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
    l.local_addr().expect("its address").port()
}

impl Browser {
    /// A browser window of `width`×`height` CSS pixels of page, or `None` (skipped) when this
    /// machine has no Chromium or no chromedriver.
    pub fn start(test: &str, width: u32, height: u32) -> Option<Browser> {
        let chromium = ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .find_map(|c| on_path(c));
        let (driver, chromium) = match (on_path("chromedriver"), chromium) {
            (Some(d), Some(c)) => (d, c),
            (d, c) => {
                let missing = [(d.is_none(), "chromedriver"), (c.is_none(), "chromium")]
                    .iter()
                    .filter(|(m, _)| *m)
                    .map(|(_, n)| *n)
                    .collect::<Vec<_>>()
                    .join(" and ");
                let reason = format!("{missing} not on PATH (apt-get install chromium chromium-driver)");
                if std::env::var("MCFPIPE_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
                    panic!("{test}: MCFPIPE_REQUIRE_BROWSER=1 but {reason}");
                }
                let _ = writeln!(std::io::stderr(), "SKIPPED: no browser ({reason}): {test}");
                return None;
            }
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", dir.path().join("chromedriver.log").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{test}: cannot start {}: {e}", driver.display()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut b = Browser {
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("an HTTP client"),
            rt,
            driver: child,
            dir,
        };
        let t = Instant::now();
        while !b.cmd("GET", "/status", None).is_ok_and(|v| v["ready"] == true) {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "{test}: chromedriver did not answer on port {port} within 20 s; its log: {}",
                b.driver_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut args: Vec<String> = FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--window-size={width},{height}"));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let session = b.cmd("POST", "/session", Some(caps)).unwrap_or_else(|e| {
            panic!(
                "{test}: no browser session: {e:?}; chromedriver's log: {}",
                b.driver_log()
            )
        });
        b.session = session["sessionId"].as_str().expect("a session id").to_string();
        b.viewport(width, height);
        Some(b)
    }

    fn driver_log(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// One WebDriver command; `path` below the session when it starts with `/session/`…
    /// or as given (`/status`, `/session`).
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, WdError> {
        let url = format!("{}{path}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        self.rt.block_on(async {
            let mut req = self.http.request(method, &url);
            if let Some(body) = body {
                req = req.header("content-type", "application/json").body(body.to_string());
            }
            let resp = req.send().await.map_err(|e| WdError(format!("{url}: {e}")))?;
            let status = resp.status();
            let text = resp.text().await.map_err(|e| WdError(format!("{url}: {e}")))?;
            let doc: Value = serde_json::from_str(&text).map_err(|e| WdError(format!("{url}: {e}: {text}")))?;
            let value = doc.get("value").cloned().unwrap_or(Value::Null);
            if status.is_success() {
                Ok(value)
            } else {
                Err(WdError(format!("{} ({status}): {}", value["error"], value["message"])))
            }
        })
    }

    /// A command of this session.
    fn s(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, WdError> {
        self.cmd(method, &format!("/session/{}{path}", self.session), body)
    }

    /// The window resized so that the page (the viewport) is `width`×`height`.
    pub fn viewport(&self, width: u32, height: u32) {
        for _ in 0..3 {
            let inner = self.script("return [window.innerWidth, window.innerHeight]", json!([]));
            let (w, h) = (inner[0].as_i64().unwrap_or(0), inner[1].as_i64().unwrap_or(0));
            if (w, h) == (i64::from(width), i64::from(height)) {
                return;
            }
            let rect = self.s("GET", "/window/rect", None).expect("window rect");
            let ow = rect["width"].as_i64().unwrap_or(0) + i64::from(width) - w;
            let oh = rect["height"].as_i64().unwrap_or(0) + i64::from(height) - h;
            let _ = self.s("POST", "/window/rect", Some(json!({"width": ow, "height": oh})));
        }
    }

    pub fn goto(&self, url: &str) {
        self.s("POST", "/url", Some(json!({ "url": url })))
            .unwrap_or_else(|e| panic!("open {url}: {e:?}"));
    }

    pub fn refresh(&self) {
        self.s("POST", "/refresh", Some(json!({}))).expect("refresh");
    }

    /// Runs `js` (a function body; `arguments` are `args`) and answers its return value.
    pub fn script(&self, js: &str, args: Value) -> Value {
        self.s("POST", "/execute/sync", Some(json!({"script": js, "args": args})))
            .unwrap_or_else(|e| panic!("script failed: {e:?}\n{js}"))
    }

    fn element(&self, testid: &str) -> Result<String, WdError> {
        let css = format!("[data-testid=\"{testid}\"]");
        let v = self.s("POST", "/element", Some(json!({"using": "css selector", "value": css})))?;
        v[ELEMENT]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| WdError(format!("no element reference in {v}")))
    }

    /// The element with this test id, waited for; the failure shows the page's error line.
    pub fn wait(&self, testid: &str) -> String {
        let t = Instant::now();
        loop {
            match self.element(testid) {
                Ok(e) => return e,
                Err(e) if t.elapsed() > WAIT => {
                    panic!("no [data-testid={testid}] after {WAIT:?}: {e:?}; {}", self.situation())
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Waits until `js` (a function body) returns something truthy; `what` names it.
    pub fn wait_for(&self, what: &str, js: &str, args: Value) -> Value {
        let t = Instant::now();
        loop {
            let v = self.script(js, args.clone());
            if !matches!(v, Value::Null | Value::Bool(false)) && v != json!("") && v != json!(0) {
                return v;
            }
            if t.elapsed() > WAIT {
                panic!("not after {WAIT:?}: {what}; {}", self.situation());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The page's address and its error and status lines, for a failure's message.
    pub fn situation(&self) -> String {
        let v = self.script(
            "const t = id => { const e = document.querySelector(`[data-testid=\"${id}\"]`); return e ? e.textContent : null; };
             return {url: location.href, error: t('error'), status: t('status')};",
            json!([]),
        );
        format!("page {}", v)
    }

    /// `command` on the element with this test id, found again when the page re-rendered it
    /// between the finding and the command (a stale element).
    fn on_element(&self, testid: &str, what: &str, command: &str, body: Value) {
        let t = Instant::now();
        loop {
            let e = self.wait(testid);
            match self.s("POST", &format!("/element/{e}/{command}"), Some(body.clone())) {
                Ok(_) => return,
                Err(err) if err.0.contains("stale element") && t.elapsed() < WAIT => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(err) => panic!("{what} [data-testid={testid}]: {err:?}; {}", self.situation()),
            }
        }
    }

    pub fn click(&self, testid: &str) {
        self.on_element(testid, "click", "click", json!({}));
    }

    /// Types `text` into the (emptied) field.
    pub fn type_into(&self, testid: &str, text: &str) {
        self.on_element(testid, "clear", "clear", json!({}));
        self.on_element(testid, "type into", "value", json!({ "text": text }));
    }

    /// The element's text (`textContent`, hidden parts included).
    pub fn text(&self, testid: &str) -> String {
        self.wait(testid);
        self.script(
            "return document.querySelector(`[data-testid=\"${arguments[0]}\"]`).textContent",
            json!([testid]),
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Mouse actions (WebDriver's pointer input source; its state, a pressed button, carries
    /// over from one call to the next).
    fn pointer(&self, actions: Value) {
        let body = json!({"actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": actions,
        }]});
        self.s("POST", "/actions", Some(body))
            .unwrap_or_else(|e| panic!("pointer actions: {e:?}; {}", self.situation()));
    }

    fn over(&self, testid: &str) -> Value {
        let e = self.wait(testid);
        // Steps inside the target after the first: Chromium sends a `dragover` a move behind
        // the `dragenter`, and the drop goes by the last `dragover`.
        json!([
            {"type": "pointerMove", "duration": 200, "origin": {ELEMENT: &e}, "x": 0, "y": 0},
            {"type": "pointerMove", "duration": 50, "origin": {ELEMENT: &e}, "x": 3, "y": 3},
            {"type": "pointerMove", "duration": 50, "origin": {ELEMENT: &e}, "x": 6, "y": 6},
            {"type": "pointerMove", "duration": 50, "origin": {ELEMENT: &e}, "x": 9, "y": 9},
        ])
    }

    /// Presses the mouse on `from` and moves it over `over`, the button held: an HTML5 drag
    /// (Chromium turns WebDriver's pointer actions into one), not dropped yet.
    pub fn drag_hold(&self, from: &str, over: &str) {
        let e = self.wait(from);
        // Pointer actions need their targets in view; a click would scroll, they do not.
        self.script(
            "arguments[0].scrollIntoView({block: 'nearest', inline: 'nearest'})",
            json!([{ ELEMENT: e }]),
        );
        let mut actions = vec![
            json!({"type": "pointerMove", "duration": 0, "origin": {ELEMENT: e}, "x": 0, "y": 0}),
            json!({"type": "pointerDown", "button": 0}),
        ];
        actions.extend(self.over(over).as_array().cloned().unwrap_or_default());
        self.pointer(Value::Array(actions));
    }

    /// Moves a held drag over `over`.
    pub fn drag_over(&self, over: &str) {
        self.pointer(self.over(over));
    }

    /// Releases the mouse: the drop.
    pub fn release(&self) {
        self.pointer(json!([{"type": "pointerUp", "button": 0}]));
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        let v = self.s("GET", "/screenshot", None).expect("screenshot");
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .expect("a base64 PNG")
    }
}

/// A process's start time (field 22 of `/proc/<pid>/stat`, after the command in
/// parentheses) and its parent: the start time tells it from a later process given its PID.
fn stat(pid: u32) -> Option<(u32, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some((rest.get(1)?.parse().ok()?, rest.get(19)?.to_string()))
}

/// Every process below `pid` (its children, theirs, …) with its start time, read from /proc.
fn descendants(pid: u32) -> Vec<(u32, String)> {
    let mut all = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(p) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if let Some((ppid, start)) = stat(p) {
                all.push((p, ppid, start));
            }
        }
    }
    let mut out: Vec<(u32, String)> = Vec::new();
    let mut parents = vec![pid];
    while let Some(parent) = parents.pop() {
        for (p, _, start) in all.iter().filter(|(_, pp, _)| *pp == parent) {
            out.push((*p, start.clone()));
            parents.push(*p);
        }
    }
    out
}

impl Drop for Browser {
    /// Ends the session (the browser quits), then stops chromedriver and anything it left, by
    /// PID. The browser's processes are read before the driver stops: after, they would belong
    /// to init.
    fn drop(&mut self) {
        if !self.session.is_empty() && tokio::runtime::Handle::try_current().is_err() {
            let _ = self.s("DELETE", "", None);
        }
        let left = descendants(self.driver.id());
        xtask::local::terminate(self.driver.id());
        let _ = self.driver.wait();
        for (pid, start) in left {
            if stat(pid).is_some_and(|(_, now)| now == start) {
                xtask::local::terminate(pid);
            }
        }
    }
}
