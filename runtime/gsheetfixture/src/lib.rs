//! `gsheetfixture`: a fake Google on 127.0.0.1 for config sync's tests (Google cannot be
//! reached from the test machines; docs/LOCAL.md). Test support, not a model of Google.
//!
//! - `POST /token`: the OAuth 2.0 JWT-bearer grant. The assertion's RS256 signature is
//!   verified with the public half of the test key (`tests/fixtures/google/`), and its claims
//!   checked as Google does: `iss` a known service account, `aud` this endpoint, `scope` a
//!   Sheets scope, `iat`/`exp` current and at most an hour apart. Refusals answer 400
//!   `{"error": "invalid_grant", "error_description": …}`.
//! - `GET /v4/spreadsheets/{id}?fields=…`: the workbook's tabs and merged ranges.
//! - `GET /v4/spreadsheets/{id}/values:batchGet?ranges=…`: each tab's values, trailing empty
//!   cells and rows left out as the API does.
//!
//! Sheets API requests need a token this server issued (401 otherwise), a workbook it holds
//! (404) and shared with the token's account (403), all in Google's error shape
//! (`{"error": {"code", "message", "status"}}`). [`Fault`]s make it answer 401, 403, 404,
//! 429 with Retry-After, 500 or a malformed body on demand.

mod server;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use ring::signature::KeyPair;
use serde_json::{Value, json};

/// The test-only RSA key (PKCS#8 PEM): it opens nothing (tests/fixtures/google/README.md).
pub const TEST_KEY_PEM: &str = include_str!("../../../tests/fixtures/google/TEST-ONLY-service-account-key.pem");
/// The service account the test key belongs to.
pub const CLIENT_EMAIL: &str = "mcfpipe-sync@mcfpipe-test.iam.gserviceaccount.com";

/// One tab: rows of cells (JSON strings, numbers, booleans) and merged ranges.
#[derive(Debug, Clone, Default)]
pub struct Tab {
    pub values: Vec<Vec<Value>>,
    /// 0-based, end-exclusive: (start_row, end_row, start_column, end_column).
    pub merges: Vec<(usize, usize, usize, usize)>,
}

/// A workbook: tabs in order, and who it is shared with.
#[derive(Debug, Clone)]
pub struct Workbook {
    pub tabs: Vec<(String, Tab)>,
    pub shared_with: Vec<String>,
}

impl Workbook {
    /// Shared with [`CLIENT_EMAIL`].
    pub fn new(tabs: Vec<(String, Tab)>) -> Workbook {
        Workbook {
            tabs,
            shared_with: vec![CLIENT_EMAIL.into()],
        }
    }

    pub fn tab_mut(&mut self, name: &str) -> Option<&mut Tab> {
        self.tabs.iter_mut().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}

/// An answer forced on the Sheets API's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 401 UNAUTHENTICATED.
    Unauthenticated,
    /// 403 PERMISSION_DENIED, as for a workbook not shared with the account.
    Forbidden,
    /// 404 NOT_FOUND.
    NotFound,
    /// 429 RESOURCE_EXHAUSTED with `Retry-After: retry_after` for the next `times` requests,
    /// then normal answers.
    RateLimited { times: u32, retry_after: u32 },
    /// 500 INTERNAL for the next `times` requests (`u32::MAX`: always), then normal answers.
    ServerError { times: u32 },
    /// 200 with a body that is not JSON.
    Malformed,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub workbooks: BTreeMap<String, Workbook>,
    pub fault: Option<Fault>,
    /// Issued access tokens → their account.
    pub tokens: BTreeMap<String, String>,
    pub token_requests: u32,
    pub sheets_requests: u32,
    /// Why the last refused assertion was refused.
    pub last_refusal: Option<String>,
}

pub(crate) type Shared = Arc<Mutex<State>>;

pub(crate) fn lock(state: &Shared) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fake Google; dropping it stops the server.
pub struct FakeGoogle {
    url: String,
    state: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeGoogle {
    /// Starts on a free 127.0.0.1 port, on a thread of its own.
    pub fn start() -> std::io::Result<FakeGoogle> {
        let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let state: Shared = Arc::new(Mutex::new(State::default()));
        let public = public_key_der();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let (thread_state, base) = (state.clone(), url.clone());
        let thread = std::thread::Builder::new()
            .name("gsheetfixture".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => server::serve(listener, thread_state, base, public, stopped).await,
                        Err(e) => eprintln!("gsheetfixture: cannot serve on {base}: {e}"),
                    }
                });
            })?;
        Ok(FakeGoogle {
            url,
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`: the Sheets API's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The token endpoint (the key's `token_uri`).
    pub fn token_url(&self) -> String {
        format!("{}/token", self.url)
    }

    /// A service-account key file (JSON) of [`CLIENT_EMAIL`] with the test key, whose
    /// `token_uri` is this server.
    pub fn key_json(&self) -> String {
        key_json(CLIENT_EMAIL, &self.token_url())
    }

    pub fn put_workbook(&self, id: &str, workbook: Workbook) {
        lock(&self.state).workbooks.insert(id.into(), workbook);
    }

    /// Changes a stored workbook.
    pub fn edit_workbook(&self, id: &str, edit: impl FnOnce(&mut Workbook)) {
        if let Some(w) = lock(&self.state).workbooks.get_mut(id) {
            edit(w);
        }
    }

    pub fn set_fault(&self, fault: Option<Fault>) {
        lock(&self.state).fault = fault;
    }

    /// Token requests answered so far (granted or refused).
    pub fn token_requests(&self) -> u32 {
        lock(&self.state).token_requests
    }

    /// Sheets API requests answered so far.
    pub fn sheets_requests(&self) -> u32 {
        lock(&self.state).sheets_requests
    }

    /// Why the last assertion was refused.
    pub fn last_refusal(&self) -> Option<String> {
        lock(&self.state).last_refusal.clone()
    }
}

impl Drop for FakeGoogle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A key file for `client_email` with the test key and `token_uri`.
pub fn key_json(client_email: &str, token_uri: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": "mcfpipe-test",
        "private_key_id": "test-only-key",
        "private_key": TEST_KEY_PEM,
        "client_email": client_email,
        "client_id": "100000000000000000000",
        "token_uri": token_uri,
    })
    .to_string()
}

/// The test key's public half (PKCS#1 `RSAPublicKey` DER).
pub fn public_key_der() -> Vec<u8> {
    let b64: String = TEST_KEY_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("the test key is base64 PEM");
    ring::signature::RsaKeyPair::from_pkcs8(&der)
        .expect("the test key is an RSA PKCS#8 key")
        .public_key()
        .as_ref()
        .to_vec()
}
