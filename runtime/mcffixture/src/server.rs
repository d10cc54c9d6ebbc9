//! The HTTP side: hyper 1 (http1) on a tokio listener, one task per connection, and the
//! routing of MCF's two endpoints with faults applied before the normal answer.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::data::{self, Catalog, MAX_PAGE, Scenario};
use crate::faults::{Fault, FaultKind, Numbered, Route};

/// What a test changes and reads while the server runs.
#[derive(Debug, Default)]
pub struct State {
    pub scenario: Scenario,
    pub faults: Vec<Fault>,
    /// Requests per route, and of all routes under [`Route::Any`].
    pub counts: HashMap<Route, u64>,
    /// Job detail requests per uuid.
    pub post_counts: HashMap<String, u64>,
    /// Headers of the last request per route (lower-case names).
    pub last_headers: HashMap<Route, Vec<(String, String)>>,
    /// Time spent answering each route's requests (reading the body, building the answer,
    /// injected delays included), for the scraper benchmark's context.
    pub service: HashMap<Route, Duration>,
    /// The website's job pages and apply flow (`crate::site`).
    pub site: crate::site::Site,
}

pub(crate) type Shared = Arc<Mutex<State>>;

/// Locks the state; a test thread that panicked while holding it leaves data that is still
/// fine to read, so poisoning is ignored.
pub(crate) fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Accepts connections until `stop` fires.
pub(crate) async fn serve(
    listener: TcpListener,
    state: Shared,
    catalog: Arc<Catalog>,
    base: String,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else { continue };
        let (state, catalog, base) = (state.clone(), catalog.clone(), base.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let (state, catalog, base) = (state.clone(), catalog.clone(), base.clone());
                async move {
                    let started = Instant::now();
                    let route = route_of(&req);
                    let response = handle(req, &state, &catalog, &base).await;
                    *lock(&state).service.entry(route).or_default() += started.elapsed();
                    Ok::<_, Infallible>(response)
                }
            });
            // A client that hangs up mid-response (a timeout in a test) is not our error.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn route_of(req: &Request<Incoming>) -> Route {
    match (req.method(), req.uri().path()) {
        (&Method::POST, "/v2/search") => Route::Search,
        (&Method::GET, p) if p.starts_with("/v2/jobs/") => Route::Detail,
        _ => Route::Other,
    }
}

async fn handle(req: Request<Incoming>, state: &Shared, catalog: &Catalog, base: &str) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let method = req.method().clone();
    let cookie = req
        .headers()
        .get(hyper::header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let route = route_of(&req);
    let fault = {
        let mut state = lock(state);
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        state.last_headers.insert(route, headers);
        let mut next = |route| {
            let count = state.counts.entry(route).or_default();
            *count += 1;
            *count
        };
        let (on_route, overall) = (next(route), next(Route::Any));
        let uuid = (route == Route::Detail).then(|| path.trim_start_matches("/v2/jobs/"));
        let post = uuid.map(|uuid| {
            let count = state.post_counts.entry(uuid.to_string()).or_default();
            *count += 1;
            (uuid, *count)
        });
        let request = Numbered {
            route,
            on_route,
            overall,
            post,
        };
        state
            .faults
            .iter()
            .find(|f| f.applies(&request))
            .map(|f| f.kind.clone())
    };
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();

    let mut truncate = false;
    match fault {
        Some(FaultKind::Status { code, retry_after }) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = json!({"message": format!("mcffixture: injected {code}")});
            let mut response = bytes_response(status, Bytes::from(body.to_string()));
            if let Some(seconds) = retry_after {
                response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
            }
            return response;
        }
        Some(FaultKind::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(FaultKind::Truncate) => truncate = true,
        Some(FaultKind::NotAJob) => {
            let body = json!({"message": "mcffixture: a 200 that is not a job post", "path": path});
            return bytes_response(StatusCode::OK, Bytes::from(body.to_string()));
        }
        Some(FaultKind::VerificationPage) => {
            let mut response = bytes_response(StatusCode::OK, Bytes::from_static(VERIFICATION_PAGE));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            return response;
        }
        None => {}
    }

    if route == Route::Other && crate::site::is_site(&path) {
        let page = lock(state).site.answer(
            method.as_str(),
            &path,
            cookie.as_deref(),
            &String::from_utf8_lossy(&body),
        );
        if let Some(delay) = page.delay {
            tokio::time::sleep(delay).await;
        }
        let status = StatusCode::from_u16(page.status).unwrap_or(StatusCode::OK);
        let mut response = bytes_response(status, Bytes::from(page.html));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        if let Some(location) = page.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            response.headers_mut().insert(hyper::header::LOCATION, location);
        }
        return response;
    }
    let scenario = lock(state).scenario.clone();
    let (status, value) = match route {
        Route::Search => search(&scenario, catalog, &query, &body, base),
        Route::Detail => detail(&scenario, catalog, path.trim_start_matches("/v2/jobs/")),
        // `route_of` never answers `Any`: it only selects faults and counts.
        Route::Other | Route::Any => message(
            StatusCode::NOT_FOUND,
            &format!(
                "mcffixture serves POST /v2/search, GET /v2/jobs/{{uuid}} and the website's job pages, not {path}"
            ),
        ),
    };
    let mut bytes = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
    if truncate {
        bytes = bytes.slice(..bytes.len() / 2);
    }
    bytes_response(status, bytes)
}

/// A bot check's answer to an API request: a small page for a browser, 200 all the same.
const VERIFICATION_PAGE: &[u8] = b"<!DOCTYPE html>\n<html><head><title>Verifying you are human</title></head>\n\
<body><p>mcffixture: injected verification page. Please enable JavaScript to continue.</p></body></html>\n";

fn search(scenario: &Scenario, catalog: &Catalog, query: &str, body: &[u8], base: &str) -> (StatusCode, Value) {
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
    };
    let limit = match param("limit").map(str::parse::<u32>) {
        None => 20,
        Some(Ok(limit)) if (1..=100).contains(&limit) => limit,
        Some(_) => return message(StatusCode::BAD_REQUEST, "limit must be 1 to 100"),
    };
    let page = match param("page").map(str::parse::<u32>) {
        None => 0,
        Some(Ok(page)) => page,
        Some(Err(_)) => return message(StatusCode::BAD_REQUEST, "page must be a number"),
    };
    if page >= MAX_PAGE {
        // What MCF answers past the 10,000-result cap.
        return message(StatusCode::IM_A_TEAPOT, "I'm a teapot");
    }
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return message(StatusCode::BAD_REQUEST, "the search body is not JSON");
    };
    let categories: Vec<String> = body["categories"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let words = body["search"].as_str().unwrap_or_default();
    let results: Vec<Value> = scenario
        .results(catalog)
        .into_iter()
        .filter(|item| data::matches(item, &categories, words))
        .collect();
    let total = match scenario.capped_total {
        Some(cap) if categories.is_empty() => cap,
        _ => results.len() as u64,
    };
    let page = data::search_page(&results, total, limit, page, scenario.endless_links, base);
    (StatusCode::OK, page)
}

fn detail(scenario: &Scenario, catalog: &Catalog, uuid: &str) -> (StatusCode, Value) {
    if scenario.removed.contains(uuid) {
        return message(StatusCode::NOT_FOUND, &format!("job {uuid} not found"));
    }
    if uuid == catalog.detail_uuid {
        return (StatusCode::OK, catalog.detail.clone());
    }
    match scenario.item(catalog, uuid) {
        Some(item) => (StatusCode::OK, data::synthesise_detail(catalog, &item)),
        None => message(StatusCode::NOT_FOUND, &format!("job {uuid} not found")),
    }
}

fn message(status: StatusCode, text: &str) -> (StatusCode, Value) {
    (status, json!({"message": text}))
}

fn bytes_response(status: StatusCode, bytes: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
