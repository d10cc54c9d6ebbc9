//! One apply run: the CRM's `TOAPPLY` jobs, each through [`flow::apply`] in one headless
//! Chromium, with the session from the data bucket. The Fargate task (`main.rs`) and
//! `cargo xtask run apply` both call [`run`].
//!
//! - the session (`session/mcf.json`) is read first: absent or expired by its cookies' dates →
//!   nothing is tried, the state is recorded and the user told;
//! - a job whose `STATUS` forbids an attempt (`mcfapply::may_attempt`) is skipped unopened;
//! - a job without its own CV version sends its track's (the library's `tracks` table);
//! - every attempt goes to the applications table (its `ATTEMPT#` item and `STATUS`), with its
//!   evidence in the data bucket under `evidence/`; `01_applied` moves the CRM job to
//!   `APPLIED` with an event by `apply`, in the same transaction;
//! - MCF's login page stops the run at once: the rest stay `TOAPPLY`, the session is marked
//!   expired and the user told;
//! - between jobs, a pause.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use mcfcore::log::{Level, Log};
use mcfstore::applications::{Application, ApplicationStore};
use mcfstore::crm::{CrmStore, Event, Job};
use mcfstore::mcf_session::{self, SESSION_KEY, SessionState};
use mcfstore::{Aws, StoreError};
use serde::Serialize;

use crate::cdp::Browser;
use crate::flow::{self, Guard, Input};
use crate::outcome::{Latest, Outcome, Skip, may_attempt};
use crate::session::{Session, State};

/// The resources and choices of a run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub crm_table: String,
    pub applications_table: String,
    pub dimensions_table: String,
    pub data_bucket: String,
    /// The notification topic (SNS); `None`: nobody is told (a warning is logged).
    pub alert_topic: Option<String>,
    /// The environment's name, for the notification's subject.
    pub env: String,
    pub flow: flow::Options,
    /// The pause between two jobs.
    pub pause: Duration,
    /// Only this job (`<uuid>~<track>` or a uuid).
    pub only: Option<String>,
    /// At most this many attempts.
    pub max_jobs: Option<usize>,
    /// Who runs it: `task`, `xtask`.
    pub by: String,
    /// The browser binary (`cdp::find_browser` when `None`).
    pub browser: Option<PathBuf>,
    /// Where the browser's profile folder goes.
    pub scratch: Option<PathBuf>,
}

/// One job's end in a run.
#[derive(Debug, Clone, Serialize)]
pub struct JobEnd {
    pub id: String,
    /// An outcome's code, or `skipped`.
    pub outcome: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_png: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_html: Option<String>,
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub submit: bool,
    /// The `TOAPPLY` jobs found (after `only`).
    pub to_apply: usize,
    pub attempted: usize,
    pub applied: usize,
    pub skipped: usize,
    /// Count per outcome code.
    pub outcomes: BTreeMap<String, usize>,
    pub jobs: Vec<JobEnd>,
    /// Why the run stopped before the end, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// The session's state at the end.
    pub session: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// The browser's start-up: launched, a page attached, the cookies set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_seconds: Option<f64>,
    pub seconds: f64,
}

/// Why a run could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Browser(#[from] crate::cdp::CdpError),
    #[error("s3://{bucket}/{key}: {reason}")]
    Session {
        bucket: String,
        key: String,
        reason: String,
    },
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

struct Claim<'a> {
    store: &'a ApplicationStore,
    attempt: Application,
}

impl Guard for Claim<'_> {
    async fn claim(&mut self) -> Result<(), Skip> {
        match self.store.claim(&self.attempt).await {
            Ok(true) => Ok(()),
            Ok(false) => {
                let latest = self.store.latest(&self.attempt.uuid).await.ok().flatten();
                Err(match latest {
                    Some(l) if l.outcome == "01_applied" => Skip::Applied(l.started_at),
                    Some(l) if l.outcome == "08_submitted_unconfirmed" => Skip::Unconfirmed(l.started_at),
                    Some(l) => Skip::InProgress(l.started_at),
                    None => Skip::InProgress("just now, by another run".into()),
                })
            }
            // Not claimed: nothing may be submitted.
            Err(e) => Err(Skip::InProgress(format!("unknown (the claim failed: {e})"))),
        }
    }
}

/// Tells the user through the notification topic; a failure is logged, never the run's.
pub async fn notify(aws: &Aws, topic: Option<&str>, subject: &str, message: &str, log: &Log) -> bool {
    let Some(topic) = topic else {
        log.write(
            &log.line(Level::Warn, "no notification topic is set: nobody is told")
                .field("subject", subject),
        );
        return false;
    };
    let mut conf = aws_sdk_sns::config::Builder::from(aws.sdk());
    if let Some(i) = aws.record_interceptor() {
        conf = conf.interceptor(i);
    }
    let sns = aws_sdk_sns::Client::from_conf(conf.build());
    match sns
        .publish()
        .topic_arn(topic)
        .subject(subject)
        .message(message)
        .send()
        .await
    {
        Ok(_) => true,
        Err(e) => {
            log.write(
                &log.line(Level::Error, "the notification was not sent")
                    .field("topic", topic)
                    .field("error", mcfstore::error_text(&e)),
            );
            false
        }
    }
}

/// Records the session's state, and tells the user when it needs them.
pub async fn record_session(
    aws: &Aws,
    settings: &Settings,
    state: State,
    valid_until: Option<i64>,
    result: &str,
    log: &Log,
) -> Result<(), StoreError> {
    let db = aws.dynamodb();
    let before = mcf_session::read(&db, &settings.dimensions_table).await?;
    let now = mcfstore::now_utc();
    let mut record = SessionState {
        state: serde_json::to_value(state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        valid_until: valid_until.map(mcfcore::time::timestamp_from_unix),
        last_checked: now.clone(),
        last_result: result.to_string(),
        checked_by: settings.by.clone(),
        notified_at: before.as_ref().and_then(|b| b.notified_at.clone()),
    };
    // Told once per change of state, and at most once a day while it stays.
    let changed = before.as_ref().is_none_or(|b| b.state != record.state);
    let told_today = record
        .notified_at
        .as_deref()
        .is_some_and(|at| at.get(..10) == now.get(..10));
    if state.notifies() && (changed || !told_today) {
        let subject = format!("mcfpipe {}: the MCF session {}", settings.env, state_words(state));
        let message = format!(
            "{result}\n\nSign in to https://www.mycareersfuture.gov.sg in your browser, export its cookies, then run:\n  cargo xtask mcf session --env {} --cookies FILE",
            settings.env
        );
        if notify(aws, settings.alert_topic.as_deref(), &subject, &message, log).await {
            record.notified_at = Some(now);
        }
    }
    mcf_session::write(&db, &settings.dimensions_table, &record).await
}

fn state_words(state: State) -> &'static str {
    match state {
        State::Valid => "is valid",
        State::ExpiresSoon => "expires within 3 days",
        State::Expired => "has expired",
        State::Missing => "is missing",
        State::Unchecked => "is not checked yet",
    }
}

/// Reads the stored session: `Ok(None)` when there is none.
pub async fn load_session(aws: &Aws, bucket: &str) -> Result<Option<Session>, RunError> {
    let answer = aws.s3().get_object().bucket(bucket).key(SESSION_KEY).send().await;
    let failed = |reason: String| RunError::Session {
        bucket: bucket.to_string(),
        key: SESSION_KEY.to_string(),
        reason,
    };
    let object = match answer {
        Ok(o) => o,
        Err(e) if mcfstore::is_not_found(&e) => return Ok(None),
        Err(e) => return Err(failed(mcfstore::error_text(&e))),
    };
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|e| failed(e.to_string()))?
        .into_bytes();
    // The value is never part of the error: serde's message names the place, not the text.
    let session: Session = serde_json::from_slice(&bytes).map_err(|e| failed(format!("not a stored session: {e}")))?;
    Ok(Some(session))
}

fn job_matches(job: &Job, only: &str) -> bool {
    only == job.uuid || only == mcfcore::layout::crm::job_id(&job.uuid, &job.track)
}

/// `started_at` as a key part: `20261129T010203Z`.
fn compact(at: &str) -> String {
    at.chars().filter(|c| *c != '-' && *c != ':').collect()
}

/// Runs the jobs in `TOAPPLY` through the browser.
pub async fn run(aws: &Aws, settings: &Settings, log: &Log) -> Result<Summary, RunError> {
    let started = Instant::now();
    let mut summary = Summary {
        submit: settings.flow.submit,
        to_apply: 0,
        attempted: 0,
        applied: 0,
        skipped: 0,
        outcomes: BTreeMap::new(),
        jobs: Vec::new(),
        stopped: None,
        session: State::Unchecked,
        browser: None,
        browser_seconds: None,
        seconds: 0.0,
    };
    let now = now_unix();
    let session = match load_session(aws, &settings.data_bucket).await? {
        Some(s) => s,
        None => {
            let why = format!(
                "no MCF session is stored (s3://{}/{SESSION_KEY}): nothing was tried",
                settings.data_bucket
            );
            record_session(aws, settings, State::Missing, None, &why, log).await?;
            summary.session = State::Missing;
            summary.stopped = Some(why);
            summary.seconds = started.elapsed().as_secs_f64();
            return Ok(summary);
        }
    };
    if State::of(session.valid_until, None, now) == State::Expired {
        let why = "the stored MCF session's cookies have expired: nothing was tried".to_string();
        record_session(aws, settings, State::Expired, session.valid_until, &why, log).await?;
        summary.session = State::Expired;
        summary.stopped = Some(why);
        summary.seconds = started.elapsed().as_secs_f64();
        return Ok(summary);
    }

    let crm = CrmStore::new(aws.dynamodb(), &settings.crm_table);
    let apps = ApplicationStore::new(aws.dynamodb(), &settings.applications_table);
    let mut jobs: Vec<Job> = crm
        .stage_since("TOAPPLY", None)
        .await?
        .into_iter()
        .filter(|j| settings.only.as_deref().is_none_or(|o| job_matches(j, o)))
        .collect();
    // Oldest decision first.
    jobs.sort_by(|a, b| a.stage_at.cmp(&b.stage_at).then(a.uuid.cmp(&b.uuid)));
    summary.to_apply = jobs.len();
    log.write(
        &log.line(Level::Info, "apply run")
            .field("to_apply", jobs.len())
            .field("submit", settings.flow.submit),
    );
    if jobs.is_empty() {
        summary.session = State::of(session.valid_until, None, now);
        summary.seconds = started.elapsed().as_secs_f64();
        return Ok(summary);
    }

    // A job without its own CV version sends its track's (the library's `tracks` table), as
    // the CRM shows it.
    let library = mcfstore::LibraryStore::new(aws.dynamodb(), &settings.dimensions_table)
        .load()
        .await?;
    let track_cv: std::collections::HashMap<String, String> = library
        .tables
        .get("tracks")
        .and_then(|t| serde_json::from_str::<Vec<serde_json::Value>>(&t.rows).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            let cv = r["cv_version"].as_str().filter(|v| !v.trim().is_empty())?;
            Some((r["id"].as_str()?.to_string(), cv.to_string()))
        })
        .collect();

    let binary = match &settings.browser {
        Some(b) => b.clone(),
        None => crate::cdp::find_browser()?,
    };
    let launched = Instant::now();
    let browser = Browser::launch(&binary, settings.scratch.as_deref(), Duration::from_secs(30)).await?;
    summary.browser = Some(browser.product.clone());
    let page = browser.page(step_timeout(&settings.flow)).await?;
    let (host, https) = site_host(&settings.flow.site);
    page.set_cookies(&session.cookies, &host, https).await?;
    summary.browser_seconds = Some(launched.elapsed().as_secs_f64());

    let mut first = true;
    for job in &jobs {
        let id = mcfcore::layout::crm::job_id(&job.uuid, &job.track);
        if settings.max_jobs.is_some_and(|m| summary.attempted >= m) {
            break;
        }
        let latest = apps.latest(&job.uuid).await?;
        let latest_view = latest.as_ref().map(|l| Latest {
            outcome: l.outcome.clone(),
            started_at: l.started_at.clone(),
        });
        if let Err(skip) = may_attempt(latest_view.as_ref()) {
            skipped(&mut summary, &id, &skip, log);
            continue;
        }
        if !first && !settings.pause.is_zero() {
            tokio::time::sleep(settings.pause).await;
        }
        first = false;
        let cv_version = job
            .cv_version
            .clone()
            .filter(|v| !v.trim().is_empty())
            .or_else(|| track_cv.get(&job.track).cloned());
        let started_at = mcfstore::now_utc();
        let mut attempt = Application {
            uuid: job.uuid.clone(),
            track: job.track.clone(),
            outcome: String::new(),
            started_at: started_at.clone(),
            finished_at: None,
            dry_run: !settings.flow.submit,
            cv_version: cv_version.clone(),
            detail: None,
            url: None,
            evidence_png: None,
            evidence_html: None,
            seconds: None,
            by: Some(settings.by.clone()),
        };
        let input = Input {
            uuid: job.uuid.clone(),
            url: job.url.clone(),
            cv_version,
        };
        let mut guard = Claim {
            store: &apps,
            attempt: attempt.clone(),
        };
        let ended = match flow::apply(&page, &input, &settings.flow, &mut guard).await {
            Ok(a) => a,
            Err(skip) => {
                skipped(&mut summary, &id, &skip, log);
                continue;
            }
        };
        summary.attempted += 1;
        attempt.outcome = ended.outcome.code().to_string();
        attempt.finished_at = Some(mcfstore::now_utc());
        attempt.detail = Some(ended.detail.clone());
        attempt.url = ended.url.clone();
        attempt.seconds = Some((ended.seconds * 1000.0).round() / 1000.0);
        if let Some(evidence) = &ended.evidence {
            let base = format!(
                "evidence/{}/{}/{}-{}",
                &started_at[..10],
                job.uuid,
                compact(&started_at),
                ended.outcome.code()
            );
            let s3 = aws.s3();
            for (key, body, kind) in [
                (format!("{base}.png"), evidence.png.clone(), "image/png"),
                (
                    format!("{base}.html"),
                    evidence.html.clone().into_bytes(),
                    "text/html; charset=utf-8",
                ),
            ] {
                match s3
                    .put_object()
                    .bucket(&settings.data_bucket)
                    .key(&key)
                    .content_type(kind)
                    .body(ByteStream::from(body))
                    .send()
                    .await
                {
                    Ok(_) if kind == "image/png" => attempt.evidence_png = Some(key),
                    Ok(_) => attempt.evidence_html = Some(key),
                    Err(e) => {
                        log.write(
                            &log.line(Level::Error, "evidence not kept")
                                .field("job", &id)
                                .field("key", &key)
                                .field("error", mcfstore::error_text(&e)),
                        );
                    }
                }
            }
        }
        record(&crm, &apps, job, &attempt, ended.claimed, ended.outcome, log).await?;
        *summary.outcomes.entry(attempt.outcome.clone()).or_default() += 1;
        if ended.outcome.applied() {
            summary.applied += 1;
        }
        log.write(
            &log.line(
                if matches!(ended.outcome, Outcome::Applied | Outcome::DryRunOk) {
                    Level::Info
                } else {
                    Level::Warn
                },
                "attempt",
            )
            .field("job", &id)
            .field("outcome", &attempt.outcome)
            .field("detail", &ended.detail)
            .field("seconds", attempt.seconds.unwrap_or_default()),
        );
        summary.jobs.push(JobEnd {
            id: id.clone(),
            outcome: attempt.outcome.clone(),
            detail: ended.detail.clone(),
            seconds: attempt.seconds,
            evidence_png: attempt.evidence_png.clone(),
            evidence_html: attempt.evidence_html.clone(),
        });
        if ended.outcome.stops_the_run() {
            let why = format!("MCF sent its login page at job {id}: the run stopped; the rest stay TOAPPLY");
            record_session(aws, settings, State::Expired, session.valid_until, &ended.detail, log).await?;
            summary.session = State::Expired;
            summary.stopped = Some(why);
            break;
        }
    }
    drop(page);
    if !browser.close().await {
        log.warn("the browser did not exit when asked: killed");
    }
    if summary.session != State::Expired {
        summary.session = State::of(session.valid_until, None, now);
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn skipped(summary: &mut Summary, id: &str, skip: &Skip, log: &Log) {
    summary.skipped += 1;
    log.write(
        &log.line(Level::Info, "skipped")
            .field("job", id)
            .field("why", skip.to_string()),
    );
    summary.jobs.push(JobEnd {
        id: id.to_string(),
        outcome: "skipped".into(),
        detail: skip.to_string(),
        seconds: None,
        evidence_png: None,
        evidence_html: None,
    });
}

/// How long one step may take: a slow page is waited for this long.
fn step_timeout(options: &flow::Options) -> Duration {
    (options.button_wait * 4).max(Duration::from_secs(10))
}

/// The site's host and whether it is HTTPS.
pub fn site_host(site: &str) -> (String, bool) {
    let https = site.starts_with("https://");
    let rest = site.split_once("://").map(|(_, r)| r).unwrap_or(site);
    let host = rest.split(['/', ':']).next().unwrap_or(rest).to_string();
    (host, https)
}

/// Writes the attempt, with the CRM's move when it applied; a CRM job changed meanwhile (a
/// note edited) is read again and the move retried, and one moved elsewhere by the user keeps
/// its stage (the attempt is recorded all the same).
async fn record(
    crm: &CrmStore,
    apps: &ApplicationStore,
    read: &Job,
    attempt: &Application,
    claimed: bool,
    outcome: Outcome,
    log: &Log,
) -> Result<(), StoreError> {
    let mut job = Some(read.clone());
    for _ in 0..5 {
        let also = match (&job, outcome.applied()) {
            (Some(j), true) if j.stage == "TOAPPLY" => move_to_applied(crm, j, attempt)?,
            _ => Vec::new(),
        };
        if apps.finish(attempt, claimed, also).await? {
            return Ok(());
        }
        job = crm.get(&read.uuid, &read.track).await?;
    }
    log.write(
        &log.line(Level::Error, "the attempt could not be recorded: its job kept changing")
            .field("job", mcfcore::layout::crm::job_id(&read.uuid, &read.track))
            .field("outcome", outcome.code()),
    );
    Err(StoreError::Contended {
        table: apps.table().to_string(),
        uuid: read.uuid.clone(),
        attempts: 5,
    })
}

fn move_to_applied(
    crm: &CrmStore,
    job: &Job,
    attempt: &Application,
) -> Result<Vec<aws_sdk_dynamodb::types::TransactWriteItem>, StoreError> {
    use jobcrm::{Facts, Stage};
    let at = attempt.finished_at.clone().unwrap_or_else(mcfstore::now_utc);
    let today = jobmatch::Day::parse(&at[..10]);
    let facts = Facts {
        stage: Stage::Applied,
        closing: job.closing_date.as_deref().and_then(jobmatch::Day::parse),
        posted: job.posted_date.as_deref().and_then(jobmatch::Day::parse),
        applied: today,
        last_event: today,
    };
    let deadline =
        jobcrm::deadline(&facts).map(|d| mcfcore::time::timestamp_from_unix(d.days() * 86_400)[..10].to_string());
    let reached = jobcrm::funnel::furthest(job.reached.as_deref().unwrap_or(&job.stage), Stage::Applied);
    let event = Event {
        at,
        from: Some(job.stage.clone()),
        to: "APPLIED".into(),
        actor: "apply".into(),
        note: Some(attempt.detail.clone().unwrap_or_default()).filter(|n| !n.is_empty()),
        revision: job.revision + 1,
    };
    crm.move_items(job, &event, None, deadline.as_deref(), reached.map(Stage::as_str))
}
