//! The routes. Every answer is JSON (the page excepted); bad input is a 400 naming the field,
//! never a 500. Writes are conditional on the revision the client sends back, so a stale tab
//! gets a 409 with the job as it is now instead of overwriting a change it never saw.
//!
//! | route | does |
//! | - | - |
//! | `GET /` | the web page (no token: it asks for one) |
//! | `GET /openapi.json` | the OpenAPI 3.1 document (no token) |
//! | `GET /jobs` | filter, sort, page ([`crate::list`]) |
//! | `POST /jobs` | a lead: an MCF job's URL (fetched, parsed, stored as a post) or a job typed in |
//! | `GET /jobs/{id}` | the job, its history, its score's reasons, its moves |
//! | `PATCH /jobs/{id}` | notes, CV, contacts, track |
//! | `POST /jobs/{id}/transitions` | a move, checked by `jobcrm::check` |
//! | `GET /tracks` | the library's tracks |
//! | `GET`, `PUT /config/{key}` | one value of the library's config table, through config sync's checks |
//! | `GET /stats` | the funnel |
//! | `GET /session` | the MCF session's state (the apply task's), never the session |
//! | `POST /apply` | "apply now": the apply task started on ECS (`RunTask`) |

use std::sync::Arc;
use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use jobcrm::{CloseReason, Facts, Stage};
use jobmatch::Day;
use mcfcore::log::{Level, Log};
use mcfstore::crm::{CrmStore, Event, Job};
use mcfstore::{Aws, LibraryStore, PostStore, StoredLibrary};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::auth::{self, Tokens};
use crate::http::{Request, Response};
use crate::list::{Index, ListQuery};
use crate::types::*;

/// Longest notes, in characters.
pub const MAX_NOTES: usize = 10_000;
/// At most this many contacts, each at most [`MAX_FIELD`] characters.
pub const MAX_CONTACTS: usize = 50;
/// Longest title, company, CV version, URL, note of a move, contact.
pub const MAX_FIELD: usize = 500;
/// A retrack copies at most this much history (a transaction holds 100 writes).
const MAX_HISTORY_COPIED: usize = 96;

/// Where the function finds what it works on (its environment in the stack).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub crm_table: String,
    pub dimensions_table: String,
    pub posts_table: String,
    /// `/<project>/<env>/crm/tokens/` ([`auth::token_path`]).
    pub token_path: String,
    /// MCF's API (`https://api.mycareersfuture.gov.sg`), for leads given by URL.
    pub mcf_url: String,
    /// The applications table, for a job's latest attempt; `None`: not shown.
    pub applications_table: Option<String>,
    /// The apply task "apply now" starts; `None`: `POST /apply` answers 503 with advice.
    pub apply_task: Option<ApplyTask>,
}

/// Where the apply task runs (the apply stack's outputs, given to the function).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyTask {
    pub cluster: String,
    pub task_definition: String,
    /// The container's name in the task definition (for the overrides).
    pub container: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    /// Whether the task gets a public IP (public subnets without a NAT).
    pub public_ip: bool,
}

impl ApplyTask {
    /// `APPLY_CLUSTER`, `APPLY_TASK_DEFINITION`, `APPLY_CONTAINER`, `APPLY_SUBNETS` and
    /// `APPLY_SECURITY_GROUPS` (comma-separated), `APPLY_PUBLIC_IP` (`ENABLED`); `None` unless
    /// the cluster and task definition are set.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Option<ApplyTask> {
        let list = |v: Option<String>| -> Vec<String> {
            v.unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        Some(ApplyTask {
            cluster: get("APPLY_CLUSTER")?,
            task_definition: get("APPLY_TASK_DEFINITION")?,
            container: get("APPLY_CONTAINER").unwrap_or_else(|| "mcfapply".into()),
            subnets: list(get("APPLY_SUBNETS")),
            security_groups: list(get("APPLY_SECURITY_GROUPS")),
            public_ip: get("APPLY_PUBLIC_IP").is_none_or(|v| v.eq_ignore_ascii_case("ENABLED")),
        })
    }
}

impl Settings {
    /// `CRM_TABLE`, `DIMENSIONS_TABLE`, `POSTS_TABLE`, `TOKEN_PATH`, `MCF_URL`; optionally
    /// `APPLICATIONS_TABLE` and the apply task's ([`ApplyTask::from_lookup`]).
    pub fn from_env() -> Result<Settings, String> {
        let get = |var: &str| {
            std::env::var(var)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| format!("{var} is not set: the crm stack sets it on the function"))
        };
        Ok(Settings {
            crm_table: get("CRM_TABLE")?,
            dimensions_table: get("DIMENSIONS_TABLE")?,
            posts_table: get("POSTS_TABLE")?,
            token_path: get("TOKEN_PATH")?,
            mcf_url: get("MCF_URL")?,
            applications_table: get("APPLICATIONS_TABLE").ok(),
            apply_task: ApplyTask::from_lookup(|v| get(v).ok()),
        })
    }
}

/// The CRM's handler: build once per execution environment, answer many requests.
pub struct App {
    pub(crate) crm: CrmStore,
    library: LibraryStore,
    posts: PostStore,
    tokens: Tokens,
    pub(crate) index: Arc<Mutex<Index>>,
    /// One catch-up at a time.
    catching_up: Arc<Mutex<()>>,
    /// When lists catch up with other writers.
    refresh: Refresh,
    /// Whether a background catch-up runs, and when the last one began.
    background: Arc<std::sync::Mutex<(bool, Option<Instant>)>>,
    http: reqwest::Client,
    mcf_url: String,
    applications: Option<mcfstore::ApplicationStore>,
    dimensions_table: String,
    apply_task: Option<ApplyTask>,
    ecs: aws_sdk_ecs::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    log: Log,
    clock: Arc<dyn Fn() -> String + Send + Sync>,
}

impl App {
    pub fn new(aws: &Aws, settings: Settings) -> App {
        App {
            crm: CrmStore::new(aws.dynamodb(), &settings.crm_table),
            library: LibraryStore::new(aws.dynamodb(), &settings.dimensions_table),
            posts: PostStore::new(aws.dynamodb(), &settings.posts_table),
            tokens: Tokens::new(aws.ssm(), &settings.token_path),
            index: Arc::new(Mutex::new(Index::default())),
            catching_up: Arc::new(Mutex::new(())),
            refresh: Refresh::default(),
            background: Arc::new(std::sync::Mutex::new((false, None))),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .user_agent("mcfpipe-crm")
                .build()
                .unwrap_or_default(),
            mcf_url: settings.mcf_url.trim_end_matches('/').to_string(),
            applications: settings
                .applications_table
                .as_ref()
                .map(|t| mcfstore::ApplicationStore::new(aws.dynamodb(), t)),
            dimensions_table: settings.dimensions_table.clone(),
            apply_task: settings.apply_task.clone(),
            ecs: {
                let mut conf = aws_sdk_ecs::config::Builder::from(aws.sdk());
                if let Some(i) = aws.record_interceptor() {
                    conf = conf.interceptor(i);
                }
                aws_sdk_ecs::Client::from_conf(conf.build())
            },
            dynamodb: aws.dynamodb(),
            log: Log::new("crm", Arc::new(mcfcore::log::Stdout)),
            clock: Arc::new(mcfstore::now_utc),
        }
    }

    /// Log lines go to `log` (the local server's own sink, tests).
    pub fn with_log(mut self, log: Log) -> App {
        self.log = log;
        self
    }

    /// How lists catch up with other writers ([`Refresh`]).
    pub fn with_refresh(mut self, refresh: Refresh) -> App {
        self.refresh = refresh;
        self
    }

    /// Now, as stored (`YYYY-MM-DDTHH:MM:SSZ`), from `clock` (tests of deadlines, benchmarks).
    pub fn with_clock(mut self, clock: impl Fn() -> String + Send + Sync + 'static) -> App {
        self.clock = Arc::new(clock);
        self
    }

    pub(crate) fn now(&self) -> String {
        (self.clock)()
    }

    /// Answers one request and writes its log line (method, path, status, time, user; never
    /// the token).
    pub async fn handle(&self, req: Request) -> Response {
        let started = Instant::now();
        let (response, user) = self.route(&req).await;
        let level = match response.status {
            500.. => Level::Error,
            400.. => Level::Warn,
            _ => Level::Info,
        };
        let mut line = self
            .log
            .line(level, "request")
            .field("method", &req.method)
            .field("path", &req.path)
            .field("status", response.status)
            .field("ms", started.elapsed().as_secs_f64() * 1000.0);
        if let Some(user) = user {
            line = line.field("user", user);
        }
        if response.status >= 400 {
            let reason = serde_json::from_slice::<ApiError>(&response.body)
                .map(|e| e.reason)
                .unwrap_or_default();
            line = line.field("reason", reason);
        }
        self.log.write(&line);
        response
    }

    async fn route(&self, req: &Request) -> (Response, Option<String>) {
        let segments = req.segments();
        let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
        let method = req.method.as_str();
        match (method, parts.as_slice()) {
            ("GET" | "HEAD", []) => return (Response::html(crate::PAGE), None),
            ("GET", ["openapi.json"]) => return (Response::json(200, &crate::openapi::document()), None),
            _ => {}
        }
        let allowed: &[&str] = match parts.as_slice() {
            ["jobs"] => &["GET", "POST"],
            ["jobs", _] => &["GET", "PATCH"],
            ["jobs", _, "transitions"] => &["POST"],
            ["tracks"] | ["stats"] | ["session"] => &["GET"],
            ["apply"] => &["POST"],
            ["config", _] => &["GET", "PUT"],
            [] | ["openapi.json"] => &["GET"],
            _ => {
                return (
                    Response::not_found(format!("no route {}; see /openapi.json", req.path)),
                    None,
                );
            }
        };
        if !allowed.contains(&method) {
            let mut r = Response::error(
                405,
                "method_not_allowed",
                None,
                format!("{} takes {}, not {method}", req.path, allowed.join(", ")),
            );
            r.headers.push(("allow".into(), allowed.join(", ")));
            return (r, None);
        }
        let user = match self.authenticate(req).await {
            Ok(user) => user,
            Err(r) => return (r, None),
        };
        let actor = format!("user:{user}");
        let r = match (method, parts.as_slice()) {
            ("GET", ["jobs"]) => self.list(req).await,
            ("POST", ["jobs"]) => self.create_lead(req, &actor).await,
            ("GET", ["jobs", id]) => self.detail(id).await,
            ("PATCH", ["jobs", id]) => self.patch(req, id, &actor).await,
            ("POST", ["jobs", id, "transitions"]) => self.transition(req, id, &actor).await,
            ("GET", ["tracks"]) => self.tracks().await,
            ("GET", ["stats"]) => self.stats().await,
            ("GET", ["session"]) => self.session().await,
            ("POST", ["apply"]) => self.apply_now(req, &actor).await,
            ("GET", ["config", key]) => self.config_get(key).await,
            ("PUT", ["config", key]) => self.config_put(req, key, &actor).await,
            _ => Response::not_found(format!("no route {method} {}", req.path)),
        };
        (r, Some(user))
    }

    async fn authenticate(&self, req: &Request) -> Result<String, Response> {
        let unauthorized = |reason: &str| Response::error(401, "unauthorized", Some("authorization"), reason);
        let token = auth::bearer(req.headers.get("authorization").map(String::as_str)).map_err(unauthorized)?;
        match self.tokens.user(token).await {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(unauthorized(
                "the token is not one of this environment's: make one with `cargo xtask crm token --env ENV`",
            )),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Brings the index up to date and waits for it: everything the first time, then what
    /// changed since.
    pub async fn refresh(&self) -> Result<(), String> {
        catch_up(&self.crm, &self.index, &self.catching_up, self.now()).await
    }

    /// The index as fresh as [`Refresh`] asks before a list: filled the first time (waited
    /// for), then caught up on every list, or in the background.
    async fn fresh_enough(&self) -> Result<(), String> {
        if self.index.lock().await.refreshed_at.is_none() {
            return self.refresh().await;
        }
        let every = match self.refresh {
            Refresh::EveryList => return self.refresh().await,
            Refresh::Background(every) => every,
        };
        {
            let mut state = self
                .background
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let due = state.1.is_none_or(|at| at.elapsed() >= every);
            if state.0 || !due {
                return Ok(());
            }
            *state = (true, Some(Instant::now()));
        }
        let (crm, index, lock, background) = (
            self.crm.clone(),
            self.index.clone(),
            self.catching_up.clone(),
            self.background.clone(),
        );
        let (now, log) = (self.now(), self.log.clone());
        tokio::spawn(async move {
            if let Err(e) = catch_up(&crm, &index, &lock, now).await {
                log.write(
                    &log.line(Level::Warn, "list catch-up failed; the next list tries again")
                        .field("reason", e),
                );
            }
            background.lock().unwrap_or_else(std::sync::PoisonError::into_inner).0 = false;
        });
        Ok(())
    }

    async fn list(&self, req: &Request) -> Response {
        let q = match ListQuery::parse(&req.query) {
            Ok(q) => q,
            Err((field, reason)) => return Response::error(400, "bad_request", Some(&field), reason),
        };
        if let Err(e) = self.fresh_enough().await {
            return unavailable(e);
        }
        let index = self.index.lock().await;
        let (jobs, total, next) = index.page(&q);
        Response::json(
            200,
            &JobPage {
                items: jobs.into_iter().map(JobView::from).collect(),
                total,
                next,
            },
        )
    }

    /// The job of `id`, read consistently; the answer when there is none.
    async fn read(&self, id: &str) -> Result<Job, Response> {
        let Some((uuid, track)) = id.split_once('~').filter(|(u, t)| !u.is_empty() && !t.is_empty()) else {
            return Err(Response::error(
                404,
                "not_found",
                Some("id"),
                format!("{id:?} is not a job id (`<uuid>~<track>`)"),
            ));
        };
        match self.crm.get(uuid, track).await {
            Ok(Some(job)) => Ok(job),
            Ok(None) => Err(Response::not_found(format!("no job {id}"))),
            Err(e) => Err(unavailable(e.to_string())),
        }
    }

    async fn detail(&self, id: &str) -> Response {
        let job = match self.read(id).await {
            Ok(j) => j,
            Err(r) => return r,
        };
        let history = match self.crm.events(&job.uuid, &job.track).await {
            Ok(h) => h,
            Err(e) => return unavailable(e.to_string()),
        };
        let application = match &self.applications {
            Some(apps) => match apps.latest(&job.uuid).await {
                Ok(a) => a.as_ref().map(ApplicationView::from),
                Err(e) => return unavailable(e.to_string()),
            },
            None => None,
        };
        self.index.lock().await.put(job.clone());
        let reasons = job.reasons.as_deref().and_then(|r| serde_json::from_str(r).ok());
        Response::json(
            200,
            &JobDetail {
                job: JobView::from(&job),
                history: history.iter().map(EventView::from).collect(),
                reasons,
                moves: moves(&job.stage),
                close_reasons: CloseReason::ALL.iter().map(|r| r.as_str().to_string()).collect(),
                application,
            },
        )
    }

    async fn transition(&self, req: &Request, id: &str, actor: &str) -> Response {
        let body: TransitionRequest = match req.body_as() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let Some(to) = stage_named(&body.to) else {
            return Response::error(
                400,
                "bad_request",
                Some("to"),
                format!("no stage {:?}; {}", body.to, stage_list()),
            );
        };
        let reason = match body.reason.as_deref().map(close_reason_named) {
            None => None,
            Some(Some(r)) => Some(r),
            Some(None) => {
                let all: Vec<&str> = CloseReason::ALL.iter().map(|r| r.as_str()).collect();
                return Response::error(
                    400,
                    "bad_request",
                    Some("reason"),
                    format!(
                        "no close reason {:?}; the reasons are {}",
                        body.reason.unwrap_or_default(),
                        all.join(", ")
                    ),
                );
            }
        };
        if let Some(r) = too_long("note", body.note.as_deref(), MAX_FIELD) {
            return r;
        }
        let job = match self.read(id).await {
            Ok(j) => j,
            Err(r) => return r,
        };
        if job.revision != body.revision {
            return self.stale(job, body.revision).await;
        }
        let from = stage_named(&job.stage).unwrap_or(Stage::Open);
        if let Err(refused) = jobcrm::check(from, to, reason) {
            return Response::conflict("refused", "to", refused.to_string(), JobView::from(&job));
        }
        let now = self.now();
        let today = Day::parse(&now[..10]);
        let facts = Facts {
            stage: to,
            closing: job.closing_date.as_deref().and_then(Day::parse),
            posted: job.posted_date.as_deref().and_then(Day::parse),
            applied: if to == Stage::Applied {
                today
            } else {
                job.stage_at
                    .get(..10)
                    .and_then(Day::parse)
                    .filter(|_| from == Stage::Applied)
            },
            last_event: today,
        };
        let deadline = jobcrm::deadline(&facts).map(day_text);
        let reached = furthest(job.reached.as_deref().unwrap_or(&job.stage), to);
        let event = Event {
            at: now.clone(),
            from: Some(job.stage.clone()),
            to: to.as_str().to_string(),
            actor: actor.to_string(),
            note: body.note.filter(|n| !n.trim().is_empty()),
            revision: job.revision + 1,
        };
        let close = reason.map(CloseReason::as_str);
        match self
            .crm
            .move_stage(&job, &event, close, deadline.as_deref(), reached.map(Stage::as_str))
            .await
        {
            Ok(true) => {
                let mut moved = job;
                moved.stage = event.to.clone();
                moved.close_reason = close.map(str::to_string);
                moved.deadline = deadline;
                if let Some(r) = reached {
                    moved.reached = Some(r.as_str().to_string());
                }
                moved.stage_at = now.clone();
                moved.updated_at = now;
                moved.revision = event.revision;
                self.index.lock().await.put(moved.clone());
                Response::json(200, &JobView::from(&moved))
            }
            Ok(false) => self.stale_now(id, body.revision).await,
            Err(e) => unavailable(e.to_string()),
        }
    }

    async fn patch(&self, req: &Request, id: &str, actor: &str) -> Response {
        let body: JobPatch = match req.body_as() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let checks = [
            too_long("notes", body.notes.as_ref().and_then(|n| n.as_deref()), MAX_NOTES),
            too_long(
                "cv_version",
                body.cv_version.as_ref().and_then(|n| n.as_deref()),
                MAX_FIELD,
            ),
        ];
        if let Some(r) = checks.into_iter().flatten().next() {
            return r;
        }
        if let Some(contacts) = &body.contacts {
            if contacts.len() > MAX_CONTACTS {
                return Response::error(
                    400,
                    "bad_request",
                    Some("contacts"),
                    format!("{} contacts; at most {MAX_CONTACTS}", contacts.len()),
                );
            }
            if let Some(i) = contacts.iter().position(|c| c.chars().count() > MAX_FIELD) {
                return Response::error(
                    400,
                    "bad_request",
                    Some(&format!("contacts[{i}]")),
                    format!("longer than {MAX_FIELD} characters"),
                );
            }
        }
        let job = match self.read(id).await {
            Ok(j) => j,
            Err(r) => return r,
        };
        if job.revision != body.revision {
            return self.stale(job, body.revision).await;
        }
        if let Some(track) = body.track.as_deref().filter(|t| *t != job.track) {
            return self.retrack(job, track, &body, actor).await;
        }
        let mut fields: Vec<(&str, Option<AttributeValue>)> = Vec::new();
        let mut changed = Vec::new();
        let text = |v: &Option<String>| {
            v.as_ref()
                .filter(|s| !s.is_empty())
                .map(|s| AttributeValue::S(s.clone()))
        };
        if let Some(notes) = &body.notes
            && *notes != job.notes
        {
            fields.push(("notes", text(notes)));
            changed.push("notes");
        }
        if let Some(cv) = &body.cv_version
            && *cv != job.cv_version
        {
            fields.push(("cv_version", text(cv)));
            changed.push("CV version");
        }
        if let Some(contacts) = &body.contacts
            && *contacts != job.contacts
        {
            let list: Vec<AttributeValue> = contacts.iter().map(|c| AttributeValue::S(c.clone())).collect();
            fields.push(("contacts", (!list.is_empty()).then_some(AttributeValue::L(list))));
            changed.push("contacts");
        }
        if fields.is_empty() {
            return Response::json(200, &JobView::from(&job));
        }
        let now = self.now();
        let event = Event {
            at: now.clone(),
            from: Some(job.stage.clone()),
            to: job.stage.clone(),
            actor: actor.to_string(),
            note: Some(format!("edited {}", changed.join(", "))),
            revision: job.revision + 1,
        };
        match self.crm.edit(&job, &fields, &event).await {
            Ok(true) => {
                let mut edited = job;
                if let Some(n) = body.notes {
                    edited.notes = n.filter(|s| !s.is_empty());
                }
                if let Some(c) = body.cv_version {
                    edited.cv_version = c.filter(|s| !s.is_empty());
                }
                if let Some(c) = body.contacts {
                    edited.contacts = c;
                }
                edited.updated_at = now;
                edited.revision = event.revision;
                self.index.lock().await.put(edited.clone());
                Response::json(200, &JobView::from(&edited))
            }
            Ok(false) => self.stale_now(id, body.revision).await,
            Err(e) => unavailable(e.to_string()),
        }
    }

    /// A job moved to another track: the old one closed (its history says where it went), the
    /// new one in the same stage with the history copied.
    async fn retrack(&self, job: Job, track: &str, body: &JobPatch, actor: &str) -> Response {
        let library = match self.library.load().await {
            Ok(l) => l,
            Err(e) => return unavailable(e.to_string()),
        };
        let tracks = tracks_of(&library);
        let Some(new_track) = tracks.iter().find(|t| t.id == track) else {
            return Response::error(400, "bad_request", Some("track"), unknown_track(track, &tracks));
        };
        let stage = stage_named(&job.stage).unwrap_or(Stage::Open);
        if jobcrm::check(stage, Stage::Closed, Some(CloseReason::NotInterested)).is_err() {
            return Response::conflict(
                "refused",
                "track",
                format!("a {} job has ended and keeps its track", job.stage),
                JobView::from(&job),
            );
        }
        let history = match self.crm.events(&job.uuid, &job.track).await {
            Ok(h) => h,
            Err(e) => return unavailable(e.to_string()),
        };
        let now = self.now();
        let old_id = mcfcore::layout::crm::job_id(&job.uuid, &job.track);
        let mut closed = job.clone();
        closed.stage = Stage::Closed.as_str().into();
        closed.close_reason = Some(CloseReason::NotInterested.as_str().into());
        closed.reached = Some(job.reached.clone().unwrap_or_else(|| job.stage.clone()));
        closed.deadline = None;
        closed.revision = job.revision + 1;
        closed.stage_at = now.clone();
        closed.updated_at = now.clone();
        let close_event = Event {
            at: now.clone(),
            from: Some(job.stage.clone()),
            to: closed.stage.clone(),
            actor: actor.to_string(),
            note: Some(format!("moved to track {track}")),
            revision: closed.revision,
        };
        let copied: Vec<Event> = history
            .iter()
            .skip(history.len().saturating_sub(MAX_HISTORY_COPIED))
            .cloned()
            .collect();
        let mut moved = job.clone();
        moved.track = track.to_string();
        moved.revision = copied.iter().map(|e| e.revision).max().unwrap_or(0).max(job.revision) + 1;
        moved.updated_at = now.clone();
        moved.created_at = now.clone();
        if let Some(n) = &body.notes {
            moved.notes = n.clone().filter(|s| !s.is_empty());
        }
        moved.cv_version = match &body.cv_version {
            Some(cv) => cv.clone().filter(|s| !s.is_empty()),
            None => new_track.cv_version.clone(),
        };
        if let Some(c) = &body.contacts {
            moved.contacts = c.clone();
        }
        let mut note = format!("moved from track {} ({old_id})", job.track);
        if copied.len() < history.len() {
            note.push_str(&format!(
                "; the {} oldest events stayed with it",
                history.len() - copied.len()
            ));
        }
        let moved_event = Event {
            at: now.clone(),
            from: Some(job.stage.clone()),
            to: job.stage.clone(),
            actor: actor.to_string(),
            note: Some(note),
            revision: moved.revision,
        };
        match self
            .crm
            .retrack(&job, &closed, &close_event, &moved, &copied, &moved_event)
            .await
        {
            Ok(true) => {
                let mut index = self.index.lock().await;
                index.put(closed);
                index.put(moved.clone());
                Response::json(200, &JobView::from(&moved))
            }
            Ok(false) => match self.crm.get(&moved.uuid, track).await {
                Ok(Some(there)) => Response::conflict(
                    "exists",
                    "track",
                    format!(
                        "this post already has a job in track {track}: {}",
                        JobView::from(&there).id
                    ),
                    JobView::from(&there),
                ),
                _ => self.stale_now(&old_id, body.revision).await,
            },
            Err(e) => unavailable(e.to_string()),
        }
    }

    async fn create_lead(&self, req: &Request, actor: &str) -> Response {
        let body: NewLead = match req.body_as() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let checks = [
            too_long("url", body.url.as_deref(), MAX_FIELD),
            too_long("title", body.title.as_deref(), MAX_FIELD),
            too_long("company", body.company.as_deref(), MAX_FIELD),
            too_long("notes", body.notes.as_deref(), MAX_NOTES),
        ];
        if let Some(r) = checks.into_iter().flatten().next() {
            return r;
        }
        if let Some(day) = &body.closing_date
            && Day::parse(day).is_none()
        {
            return Response::error(
                400,
                "bad_request",
                Some("closing_date"),
                format!("{day:?} is not a date (YYYY-MM-DD)"),
            );
        }
        if let (Some(min), Some(max)) = (body.salary_min, body.salary_max)
            && min > max
        {
            return Response::error(
                400,
                "bad_request",
                Some("salary_max"),
                format!("salary_max {max} is below salary_min {min}"),
            );
        }
        let library = match self.library.load().await {
            Ok(l) => l,
            Err(e) => return unavailable(e.to_string()),
        };
        let tracks = tracks_of(&library);
        let Some(track) = tracks.iter().find(|t| t.id == body.track) else {
            return Response::error(400, "bad_request", Some("track"), unknown_track(&body.track, &tracks));
        };
        let url = body.url.as_deref().map(str::trim).filter(|u| !u.is_empty());
        if let Some(u) = url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return Response::error(400, "bad_request", Some("url"), format!("{u:?} is not an http(s) URL"));
        }
        let now = self.now();
        let mut job = Job {
            uuid: String::new(),
            track: track.id.clone(),
            stage: Stage::Open.as_str().into(),
            close_reason: None,
            reached: None,
            revision: 1,
            created_at: now.clone(),
            updated_at: now.clone(),
            stage_at: now.clone(),
            deadline: None,
            scores: None,
            reasons: None,
            summary: None,
            library_version: None,
            title: String::new(),
            company: body.company.clone().filter(|c| !c.trim().is_empty()),
            url: url.map(str::to_string),
            posted_date: None,
            closing_date: body.closing_date.clone(),
            salary_min: body.salary_min,
            salary_max: body.salary_max,
            cv_version: track.cv_version.clone(),
            notes: body.notes.clone().filter(|n| !n.trim().is_empty()),
            contacts: Vec::new(),
        };
        if let Some(uuid) = url.and_then(mcf_job_uuid) {
            let post = match self.fetch_mcf(&uuid).await {
                Ok(p) => p,
                Err(r) => return r,
            };
            if let Err(e) = self.posts.put_if_newer(&post, None).await {
                return unavailable(e.to_string());
            }
            job.uuid = post.uuid.clone();
            job.title = post.title.clone();
            job.company = Some(post.company_name.clone())
                .filter(|c| !c.is_empty())
                .or(job.company);
            job.posted_date = post.posted_date.clone();
            job.closing_date = job.closing_date.or(post.expiry_date.clone());
            job.salary_min = job.salary_min.or(post.salary_min);
            job.salary_max = job.salary_max.or(post.salary_max);
        } else {
            let Some(title) = body.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
                return Response::error(
                    400,
                    "bad_request",
                    Some("title"),
                    "a lead needs a title, or the URL of an MCF job (https://www.mycareersfuture.gov.sg/job/…)",
                );
            };
            job.title = title.to_string();
            // A job from elsewhere: its id is its URL's (or its title and company's) hash,
            // so the same lead typed twice is found, not doubled.
            let seed = match url {
                Some(u) => u.to_string(),
                None => format!(
                    "{}\n{}",
                    title.to_lowercase(),
                    job.company.as_deref().unwrap_or("").to_lowercase()
                ),
            };
            job.uuid = hex::encode(&Sha256::digest(seed.as_bytes())[..16]);
        }
        job.deadline = jobcrm::deadline(&Facts {
            stage: Stage::Open,
            closing: job.closing_date.as_deref().and_then(Day::parse),
            posted: job
                .posted_date
                .as_deref()
                .and_then(Day::parse)
                .or(Day::parse(&now[..10])),
            applied: None,
            last_event: None,
        })
        .map(day_text);
        let event = Event {
            at: now,
            from: None,
            to: job.stage.clone(),
            actor: actor.to_string(),
            note: Some(match &job.url {
                Some(u) => format!("lead from {u}"),
                None => "lead typed in".into(),
            }),
            revision: 1,
        };
        match self.crm.create(&job, &event).await {
            Ok(true) => {
                self.index.lock().await.put(job.clone());
                let mut r = Response::json(201, &JobView::from(&job));
                r.headers.push((
                    "location".into(),
                    format!("jobs/{}", mcfcore::layout::crm::job_id(&job.uuid, &job.track)),
                ));
                r
            }
            Ok(false) => match self.crm.get(&job.uuid, &job.track).await {
                Ok(Some(there)) => Response::conflict(
                    "exists",
                    "url",
                    format!("this job is already in the CRM for track {}", job.track),
                    JobView::from(&there),
                ),
                Ok(None) => unavailable("the job was there and then was not; try again".into()),
                Err(e) => unavailable(e.to_string()),
            },
            Err(e) => unavailable(e.to_string()),
        }
    }

    /// MCF's job `uuid`, parsed by the pipeline's parser.
    async fn fetch_mcf(&self, uuid: &str) -> Result<mcfcore::Post, Response> {
        let url = format!("{}/v2/jobs/{uuid}", self.mcf_url);
        let answer = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| unavailable(format!("MCF did not answer {url}: {e}")))?;
        let status = answer.status().as_u16();
        if status == 404 {
            return Err(Response::error(
                400,
                "bad_request",
                Some("url"),
                format!("MCF has no job {uuid}"),
            ));
        }
        if status != 200 {
            return Err(unavailable(format!("MCF answered {status} for {url}; try again later")));
        }
        let bytes = answer
            .bytes()
            .await
            .map_err(|e| unavailable(format!("reading MCF's answer for {url}: {e}")))?;
        mcfparse::parse_job_detail(&bytes).map_err(|e| {
            Response::error(
                400,
                "bad_request",
                Some("url"),
                format!("MCF's answer for job {uuid} could not be read: {e}"),
            )
        })
    }

    async fn tracks(&self) -> Response {
        match self.library.load().await {
            Ok(library) => Response::json(200, &tracks_of(&library)),
            Err(e) => unavailable(e.to_string()),
        }
    }

    async fn session(&self) -> Response {
        match mcfstore::mcf_session::read(&self.dynamodb, &self.dimensions_table).await {
            Ok(state) => Response::json(
                200,
                &match state {
                    Some(st) => SessionView {
                        state: st.state,
                        valid_until: st.valid_until,
                        last_checked: Some(st.last_checked),
                        last_result: Some(st.last_result),
                        checked_by: Some(st.checked_by),
                        notified_at: st.notified_at,
                        apply_now: self.apply_task.is_some(),
                    },
                    None => SessionView {
                        state: "unchecked".into(),
                        valid_until: None,
                        last_checked: None,
                        last_result: None,
                        checked_by: None,
                        notified_at: None,
                        apply_now: self.apply_task.is_some(),
                    },
                },
            ),
            Err(e) => unavailable(e.to_string()),
        }
    }

    /// "Apply now": the apply task started (ECS `RunTask`) with the request's choices as
    /// overrides of its environment.
    async fn apply_now(&self, req: &Request, actor: &str) -> Response {
        let body: ApplyRequest = if req.body.is_empty() {
            ApplyRequest::default()
        } else {
            match req.body_as() {
                Ok(b) => b,
                Err(r) => return r,
            }
        };
        let Some(task) = &self.apply_task else {
            return Response::error(
                503,
                "unavailable",
                None,
                "\"apply now\" starts the apply task on AWS (ECS), and this CRM has none: deploy the apply stack, or run `cargo xtask run apply --env ENV` from a machine with Chromium"
                    .to_string(),
            );
        };
        if let Some(id) = &body.job {
            if let Err(r) = self.read(id).await {
                return r;
            }
        }
        let mut env = Vec::new();
        let pair = |k: &str, v: String| aws_sdk_ecs::types::KeyValuePair::builder().name(k).value(v).build();
        if let Some(id) = &body.job {
            env.push(pair("MCFAPPLY_JOB", id.clone()));
        }
        if let Some(submit) = body.submit {
            env.push(pair("MCFAPPLY_SUBMIT", submit.to_string()));
        }
        let overrides = aws_sdk_ecs::types::TaskOverride::builder()
            .container_overrides(
                aws_sdk_ecs::types::ContainerOverride::builder()
                    .name(&task.container)
                    .set_environment(Some(env))
                    .build(),
            )
            .build();
        let network = aws_sdk_ecs::types::NetworkConfiguration::builder()
            .awsvpc_configuration(
                match aws_sdk_ecs::types::AwsVpcConfiguration::builder()
                    .set_subnets(Some(task.subnets.clone()))
                    .set_security_groups(Some(task.security_groups.clone()))
                    .assign_public_ip(if task.public_ip {
                        aws_sdk_ecs::types::AssignPublicIp::Enabled
                    } else {
                        aws_sdk_ecs::types::AssignPublicIp::Disabled
                    })
                    .build()
                {
                    Ok(c) => c,
                    Err(e) => return unavailable(format!("the apply task's network: {e}")),
                },
            )
            .build();
        let answer = self
            .ecs
            .run_task()
            .cluster(&task.cluster)
            .task_definition(&task.task_definition)
            .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
            .count(1)
            .started_by(format!("crm:{}", actor.chars().take(30).collect::<String>()))
            .network_configuration(network)
            .overrides(overrides)
            .send()
            .await;
        match answer {
            Ok(out) => {
                if let Some(f) = out.failures().first() {
                    return unavailable(format!(
                        "ECS did not start the apply task: {} ({})",
                        f.reason().unwrap_or("no reason"),
                        f.detail().unwrap_or_default()
                    ));
                }
                let arn = out
                    .tasks()
                    .first()
                    .and_then(|t| t.task_arn())
                    .unwrap_or_default()
                    .to_string();
                Response::json(
                    202,
                    &ApplyStarted {
                        task: arn,
                        submit: body.submit,
                        job: body.job,
                    },
                )
            }
            Err(e) => unavailable(format!("ECS RunTask: {}", mcfstore::error_text(&e))),
        }
    }

    async fn stats(&self) -> Response {
        if let Err(e) = self.fresh_enough().await {
            return unavailable(e);
        }
        let today = self.now()[..10].to_string();
        let soon = Day::parse(&today).map(|d| day_text(Day::from_days(d.days() + 7)));
        let index = self.index.lock().await;
        Response::json(200, &stats(index.jobs(), soon.as_deref()))
    }

    async fn config_get(&self, key: &str) -> Response {
        let library = match self.library.load().await {
            Ok(l) => l,
            Err(e) => return unavailable(e.to_string()),
        };
        match crate::config::get(&library, key) {
            Ok(value) => Response::json(
                200,
                &ConfigEntry {
                    key: key.to_string(),
                    value,
                    version: library.version.map(|v| v.version),
                },
            ),
            Err(r) => r,
        }
    }

    async fn config_put(&self, req: &Request, key: &str, actor: &str) -> Response {
        let body: ConfigValue = match req.body_as() {
            Ok(b) => b,
            Err(r) => return r,
        };
        crate::config::put(&self.library, key, body.value, actor, &self.now()).await
    }

    /// A 409 for a client that sent an older revision than the job's.
    async fn stale(&self, job: Job, sent: u64) -> Response {
        let reason = format!(
            "the job changed since revision {sent} (it is at revision {}, {}): look again and redo the change",
            job.revision, job.stage
        );
        self.index.lock().await.put(job.clone());
        Response::conflict("conflict", "revision", reason, JobView::from(&job))
    }

    /// A 409 after a write lost to another writer: the job as it is now.
    async fn stale_now(&self, id: &str, sent: u64) -> Response {
        match self.read(id).await {
            Ok(job) => self.stale(job, sent).await,
            Err(r) => r,
        }
    }
}

/// When a list catches up with what other writers (the screener, the expiry, another
/// execution environment) changed. The function's own writes are in its copy at once either
/// way, and a job's detail is always read from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// Before every list, waited for: ten stage-index Queries per list.
    EveryList,
    /// A list answers from the copy at once, and starts a catch-up in the background when the
    /// last one began this long ago: other writers' changes show in a list within this time
    /// plus a catch-up. A list never waits on DynamoDB, except the very first.
    Background(std::time::Duration),
}

impl Default for Refresh {
    fn default() -> Refresh {
        Refresh::Background(std::time::Duration::from_secs(1))
    }
}

/// One catch-up of `index` from the stage index (everything the first time), `now` being when
/// it began.
async fn catch_up(crm: &CrmStore, index: &Mutex<Index>, lock: &Mutex<()>, now: String) -> Result<(), String> {
    let _one = lock.lock().await;
    let from = index.lock().await.refresh_from();
    let reads = Stage::ALL.map(|stage| crm.stage_since(stage.as_str(), from.as_deref()));
    let pages = futures_util::future::join_all(reads).await;
    let mut index = index.lock().await;
    for page in pages {
        for job in page.map_err(|e| e.to_string())? {
            index.put(job);
        }
    }
    index.refreshed_at = Some(now);
    Ok(())
}

pub(crate) fn unavailable(reason: String) -> Response {
    Response::error(503, "unavailable", None, reason)
}

fn too_long(field: &str, value: Option<&str>, max: usize) -> Option<Response> {
    let n = value?.chars().count();
    (n > max).then(|| {
        Response::error(
            400,
            "bad_request",
            Some(field),
            format!("{n} characters; at most {max}"),
        )
    })
}

fn stage_list() -> String {
    let all: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
    format!("the stages are {}", all.join(", "))
}

fn close_reason_named(name: &str) -> Option<CloseReason> {
    CloseReason::ALL.into_iter().find(|r| r.as_str() == name)
}

/// The stages a job in `stage` may move to.
pub fn moves(stage: &str) -> Vec<String> {
    let Some(from) = stage_named(stage) else {
        return Vec::new();
    };
    jobcrm::allowed(from).iter().map(|s| s.as_str().to_string()).collect()
}

pub(crate) use jobcrm::funnel::stage_named;
use jobcrm::funnel::{MAIN_LINE, furthest, rank};

pub(crate) fn day_text(day: Day) -> String {
    mcfcore::time::timestamp_from_unix(day.days() * 86_400)[..10].to_string()
}

/// The uuid of an MCF job's URL (`…/job/<slug>-<32 hex>`, with or without a query).
pub fn mcf_job_uuid(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let (host, path) = rest.split_once('/')?;
    if !host.ends_with("mycareersfuture.gov.sg") {
        return None;
    }
    let path = path.split(['?', '#']).next()?;
    let last = path.trim_end_matches('/').rsplit('/').next()?;
    let tail = last.rsplit('-').next()?;
    (tail.len() == 32 && tail.bytes().all(|b| b.is_ascii_hexdigit())).then(|| tail.to_ascii_lowercase())
}

/// The library's tracks, with the config's defaults where a track leaves a value out.
pub fn tracks_of(library: &StoredLibrary) -> Vec<Track> {
    let rows = |table: &str| -> Vec<Value> {
        library
            .tables
            .get(table)
            .and_then(|t| serde_json::from_str(&t.rows).ok())
            .unwrap_or_default()
    };
    let config = rows("config");
    let default = |parameter: &str, fallback: f64| {
        config
            .iter()
            .find(|r| r["group"] == "match" && r["parameter"] == parameter)
            .and_then(|r| r["value"].as_f64())
            .unwrap_or(fallback)
    };
    let min = default("match_score_min", 0.5);
    let weeks = default("age_weeks", 4.0);
    rows("tracks")
        .iter()
        .filter_map(|r| {
            let id = r["id"].as_str()?.to_string();
            Some(Track {
                name: r["name"].as_str().unwrap_or(&id).to_string(),
                cv_version: r["cv_version"].as_str().map(str::to_string),
                match_score_min: r["match_score_min"].as_f64().unwrap_or(min),
                age_weeks: r["age_weeks"].as_f64().unwrap_or(weeks),
                id,
            })
        })
        .collect()
}

fn unknown_track(track: &str, tracks: &[Track]) -> String {
    let ids: Vec<&str> = tracks.iter().map(|t| t.id.as_str()).collect();
    if ids.is_empty() {
        format!("no track {track:?}: the library has no tracks (run `cargo xtask sync`)")
    } else {
        format!("no track {track:?}; the tracks are {}", ids.join(", "))
    }
}

/// The funnel of `jobs`; `soon`: the last day that counts as due soon.
pub fn stats<'a>(jobs: impl Iterator<Item = &'a Job>, soon: Option<&str>) -> Stats {
    let mut now = [0usize; 10];
    let mut reached = [0usize; 7];
    // Per track: count, furthest-stage counts (APPLIED, CALLBACK, INTERVIEW, OFFER), score sum
    // and how many were scored.
    let mut tracks: std::collections::BTreeMap<String, (usize, [usize; 4], f64, usize)> = Default::default();
    let mut total = 0;
    let mut due_soon = 0;
    for job in jobs {
        total += 1;
        let stage = stage_named(&job.stage);
        if let Some(i) = stage.and_then(|s| Stage::ALL.iter().position(|x| *x == s)) {
            now[i] += 1;
        }
        // The further of its stage and the furthest it reached (an ended job has only the latter).
        let left_at = job.reached.as_deref().and_then(stage_named).and_then(rank);
        let furthest = stage.and_then(rank).max(left_at);
        let t = tracks.entry(job.track.clone()).or_default();
        t.0 += 1;
        if let Some(f) = furthest {
            for r in reached.iter_mut().take(f + 1) {
                *r += 1;
            }
            // MAIN_LINE[3..] is APPLIED, CALLBACK, INTERVIEW, OFFER.
            for (i, c) in t.1.iter_mut().enumerate() {
                if f >= 3 + i {
                    *c += 1;
                }
            }
        }
        if let Some(s) = job.scores {
            t.2 += s.total;
            t.3 += 1;
        }
        let waiting = stage.is_some_and(|s| rank(s).is_some());
        if waiting && soon.is_some_and(|soon| job.deadline.as_deref().is_some_and(|d| d <= soon)) {
            due_soon += 1;
        }
    }
    Stats {
        total,
        stages: Stage::ALL
            .iter()
            .zip(now)
            .map(|(s, count)| StageCount {
                stage: s.as_str().into(),
                count,
            })
            .collect(),
        funnel: MAIN_LINE
            .iter()
            .zip(reached)
            .map(|(s, count)| StageCount {
                stage: s.as_str().into(),
                count,
            })
            .collect(),
        tracks: tracks
            .into_iter()
            .map(
                |(track, (count, [applied, callbacks, interviews, offers], sum, scored))| {
                    let rate = |n: usize, of: usize| (of > 0).then(|| n as f64 / of as f64);
                    TrackStats {
                        track,
                        count,
                        applied,
                        callbacks,
                        interviews,
                        offers,
                        callback_rate: rate(callbacks, applied),
                        interview_rate: rate(interviews, callbacks),
                        interviews_per_application: rate(interviews, applied),
                        average_score: (scored > 0).then(|| sum / scored as f64),
                    }
                },
            )
            .collect(),
        due_soon,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcf_urls_name_their_job() {
        let u = "https://www.mycareersfuture.gov.sg/job/engineering/data-engineer-acme-5624187c437fddd00296eecc783ed4cd?source=x";
        assert_eq!(mcf_job_uuid(u).as_deref(), Some("5624187c437fddd00296eecc783ed4cd"));
        assert_eq!(
            mcf_job_uuid("https://example.com/job/x-5624187c437fddd00296eecc783ed4cd"),
            None
        );
        assert_eq!(mcf_job_uuid("https://www.mycareersfuture.gov.sg/search"), None);
        assert_eq!(mcf_job_uuid("not a url"), None);
    }

    #[test]
    fn the_furthest_stage_only_moves_forward() {
        assert_eq!(
            (MAIN_LINE.first(), MAIN_LINE.last()),
            (Some(&Stage::Open), Some(&Stage::Offer))
        );
        assert_eq!(furthest("SCREENED", Stage::ToApply), Some(Stage::ToApply));
        assert_eq!(furthest("APPLIED", Stage::ToApply), None);
        assert_eq!(furthest("INTERVIEW", Stage::Rejected), None);
        assert_eq!(furthest("EXPIRED", Stage::Screened), Some(Stage::Screened));
    }

    #[test]
    fn the_funnel_counts_where_ended_jobs_left() {
        let mut jobs = Vec::new();
        for (stage, reached) in [
            ("SCREENED", None),
            ("INTERVIEW", Some("INTERVIEW")),
            ("REJECTED", Some("APPLIED")),
        ] {
            let mut j = crate::list::tests::job(stage, stage, None, "t");
            j.reached = reached.map(str::to_string);
            j.deadline = Some("2026-12-01".into());
            jobs.push(j);
        }
        let s = stats(jobs.iter(), Some("2026-12-03"));
        let count = |list: &[StageCount], st: &str| list.iter().find(|c| c.stage == st).unwrap().count;
        assert_eq!(s.total, 3);
        assert_eq!(count(&s.funnel, "SCREENED"), 3);
        assert_eq!(count(&s.funnel, "APPLIED"), 2);
        assert_eq!(count(&s.funnel, "INTERVIEW"), 1);
        assert_eq!(count(&s.stages, "REJECTED"), 1);
        assert_eq!(s.due_soon, 2, "REJECTED waits on nothing");
        let t = &s.tracks[0];
        assert_eq!(
            (t.count, t.applied, t.callbacks, t.interviews, t.offers),
            (3, 2, 1, 1, 0)
        );
        assert_eq!((t.callback_rate, t.interview_rate), (Some(0.5), Some(1.0)));
        assert_eq!(t.average_score, None, "none scored: null, not 0");
    }
}
