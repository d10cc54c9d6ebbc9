//! `mcffixture`: a fake MyCareersFuture API on 127.0.0.1 for the scraper's tests and for
//! trying the scraper offline. It is a test tool, not a model of MCF's search engine.
//!
//! It serves the captures in `tests/fixtures/mcf/` (embedded, so the binary works from
//! anywhere): `POST /v2/search?limit=L&page=P` pages through the 100 captured results (with
//! `total` and `_links` consistent, 418 from page 100 on like MCF, and a filter on the body's
//! `categories` and `search` words), and `GET /v2/jobs/{uuid}` answers the captured detail or
//! one synthesised from the search item (404 for anything else). A test changes the data
//! between runs ([`Scenario`]), injects faults per route and request number, site-wide or on
//! one post's detail ([`Fault`]) and reads how many requests each route and post got.

mod data;
mod faults;
mod server;
pub mod site;

use std::net::SocketAddr;
use std::sync::Arc;

pub use data::{Catalog, MAX_PAGE, Scenario};
pub use faults::{Fault, FaultKind, Route};
pub use server::State;
pub use site::{Case, Site};

/// A running fake MCF server; dropping it stops the server.
pub struct FixtureServer {
    url: String,
    state: server::Shared,
    catalog: Arc<Catalog>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FixtureServer {
    /// Starts a server on 127.0.0.1:`port` (0 = a free port) on a thread of its own, so it
    /// serves whatever runtime (or none) the test uses.
    pub fn start(port: u16, scenario: Scenario, faults: Vec<Fault>) -> std::io::Result<FixtureServer> {
        let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let catalog = Arc::new(Catalog::embedded());
        let state: server::Shared = Arc::new(std::sync::Mutex::new(State {
            scenario,
            faults,
            ..State::default()
        }));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let (thread_state, thread_catalog, base) = (state.clone(), catalog.clone(), url.clone());
        let thread = std::thread::Builder::new().name("mcffixture".into()).spawn(move || {
            runtime.block_on(async move {
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => server::serve(listener, thread_state, thread_catalog, base, stopped).await,
                    Err(e) => eprintln!("mcffixture: cannot serve on {base}: {e}"),
                }
            });
        })?;
        Ok(FixtureServer {
            url,
            state,
            catalog,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The captures unchanged, no faults, on a free port.
    pub fn default_on_free_port() -> std::io::Result<FixtureServer> {
        FixtureServer::start(0, Scenario::default(), Vec::new())
    }

    /// `http://127.0.0.1:PORT`, the scraper's `--mcf-url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The uuids of the captured search results, newest first.
    pub fn uuids(&self) -> Vec<String> {
        self.catalog.uuids()
    }

    /// Requests received on `route` since the start or the last [`reset_counts`](Self::reset_counts);
    /// `Route::Any`: of all routes.
    pub fn count(&self, route: Route) -> u64 {
        server::lock(&self.state).counts.get(&route).copied().unwrap_or(0)
    }

    /// Requests for the job detail of `uuid` since the start or the last
    /// [`reset_counts`](Self::reset_counts).
    pub fn post_count(&self, uuid: &str) -> u64 {
        server::lock(&self.state).post_counts.get(uuid).copied().unwrap_or(0)
    }

    /// Time the server spent answering `route`'s requests since the start or the last
    /// [`reset_counts`](Self::reset_counts): from receiving the request to having the answer.
    pub fn service_time(&self, route: Route) -> std::time::Duration {
        server::lock(&self.state)
            .service
            .get(&route)
            .copied()
            .unwrap_or_default()
    }

    /// Restarts request numbering: counts, service times and fault ranges count from here.
    pub fn reset_counts(&self) {
        let mut state = server::lock(&self.state);
        state.counts.clear();
        state.post_counts.clear();
        state.service.clear();
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: Vec<Fault>) {
        server::lock(&self.state).faults = faults;
    }

    /// Changes the served data (for example `|s| { s.bumped.insert(uuid, 1); }`).
    pub fn change(&self, edit: impl FnOnce(&mut Scenario)) {
        edit(&mut server::lock(&self.state).scenario);
    }

    /// Moves a post's `updatedAt` forward once more: MCF's view of an edited post.
    pub fn bump(&self, uuid: &str) {
        self.change(|s| *s.bumped.entry(uuid.to_string()).or_default() += 1);
    }

    /// Changes the website (its session cookie, resumes, the case of each job).
    pub fn site(&self, edit: impl FnOnce(&mut Site)) {
        edit(&mut server::lock(&self.state).site);
    }

    /// How often the application of job `uuid` was submitted on the website.
    pub fn submits(&self, uuid: &str) -> u64 {
        server::lock(&self.state).site.submits.get(uuid).copied().unwrap_or(0)
    }

    /// The headers of the last request on `route`, lower-case names.
    pub fn last_headers(&self, route: Route) -> Vec<(String, String)> {
        server::lock(&self.state)
            .last_headers
            .get(&route)
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
