//! The API's request and response bodies: the contract. `openapi.rs` generates the OpenAPI 3.1
//! document from these types (schemars), the tests hold every answer to it, and the web page
//! reads the same JSON. Request bodies refuse unknown fields; answers omit absent values.

use mcfstore::crm::{Event, Job, Scores};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// A page of `GET /jobs` holds at most this many jobs (`limit`).
pub const MAX_PAGE: usize = 200;
/// `limit` when not given.
pub const DEFAULT_PAGE: usize = 50;

/// Every error the API answers: 400 (bad input), 401 (no or a wrong token), 404 (no such
/// job, key or route), 405 (a method the route does not take), 409 (a refused transition, a
/// stale revision, a job that exists).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiError {
    /// `bad_request`, `unauthorized`, `not_found`, `method_not_allowed`, `refused`,
    /// `conflict`, `exists`, `unavailable`.
    pub error: String,
    /// The field, parameter or header at fault (`to`, `query.limit`, `authorization`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong, and what would be right.
    pub reason: String,
    /// The job as it is now (a stale revision, a refused transition): what a client shows
    /// instead of its copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<JobView>,
}

/// A job as the API shows it (`id` is `<uuid>~<track>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobView {
    pub id: String,
    pub uuid: String,
    pub track: String,
    /// `OPEN`, `SCREENED`, `TOAPPLY`, `APPLIED`, `CALLBACK`, `INTERVIEW`, `OFFER`, `REJECTED`,
    /// `CLOSED`, `EXPIRED`.
    pub stage: String,
    /// Why it was closed (`CLOSED` only): `withdrawn`, `not_interested`, `post_closed`,
    /// `apply_failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
    /// Send it back with a change: a change to an older revision is refused (409).
    pub revision: u64,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closing_date: Option<String>,
    /// The deadline (before applying, and after), or the follow-up day from `CALLBACK` on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salary_min: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salary_max: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<ScoresView>,
    /// The score's reasons on one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The CV the apply step sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    /// When it last moved.
    pub stage_at: String,
}

/// The scores of the job's latest scoring (`jobmatch::score` documents each).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScoresView {
    pub title_score: f64,
    pub keyword_score: f64,
    pub seniority_fit: f64,
    pub salary_fit: f64,
    pub recency: f64,
    pub total: f64,
}

impl From<Scores> for ScoresView {
    fn from(s: Scores) -> ScoresView {
        ScoresView {
            title_score: s.title_score,
            keyword_score: s.keyword_score,
            seniority_fit: s.seniority_fit,
            salary_fit: s.salary_fit,
            recency: s.recency,
            total: s.total,
        }
    }
}

impl From<&Job> for JobView {
    fn from(j: &Job) -> JobView {
        JobView {
            id: mcfcore::layout::crm::job_id(&j.uuid, &j.track),
            uuid: j.uuid.clone(),
            track: j.track.clone(),
            stage: j.stage.clone(),
            close_reason: j.close_reason.clone(),
            revision: j.revision,
            title: j.title.clone(),
            company: j.company.clone(),
            url: j.url.clone(),
            posted_date: j.posted_date.clone(),
            closing_date: j.closing_date.clone(),
            deadline: j.deadline.clone(),
            salary_min: j.salary_min,
            salary_max: j.salary_max,
            scores: j.scores.map(ScoresView::from),
            summary: j.summary.clone(),
            cv_version: j.cv_version.clone(),
            notes: j.notes.clone(),
            contacts: j.contacts.clone(),
            created_at: j.created_at.clone(),
            updated_at: j.updated_at.clone(),
            stage_at: j.stage_at.clone(),
        }
    }
}

/// `GET /jobs`: one page of the jobs that match, in the order asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobPage {
    pub items: Vec<JobView>,
    /// How many jobs match in all.
    pub total: usize,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// One change of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EventView {
    pub at: String,
    /// Absent for the creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub to: String,
    /// `screener`, `user:<name>`, `apply`, `expiry`.
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub revision: u64,
}

impl From<&Event> for EventView {
    fn from(e: &Event) -> EventView {
        EventView {
            at: e.at.clone(),
            from: e.from.clone(),
            to: e.to.clone(),
            actor: e.actor.clone(),
            note: e.note.clone(),
            revision: e.revision,
        }
    }
}

/// `GET /jobs/{id}`: the job, its history (oldest first), its score's reasons and where it may
/// move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobDetail {
    pub job: JobView,
    pub history: Vec<EventView>,
    /// The scorer's reasons (`jobmatch::Reasons`): each title bigram, rank tag and keyword
    /// that counted with its score, the salary judgement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Value>,
    /// The stages it may move to now (`POST /jobs/{id}/transitions`).
    pub moves: Vec<String>,
    /// The reasons a move to `CLOSED` takes.
    pub close_reasons: Vec<String>,
    /// Its latest application attempt, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationView>,
}

/// `POST /jobs`: a lead. Either an MCF job's `url` (fetched and parsed by the pipeline's
/// parser, its post stored for the recommender to score) or a job from elsewhere, typed in
/// (`title` at least). It starts in `OPEN`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLead {
    /// A track of the library (`GET /tracks`).
    pub track: String,
    /// `https://www.mycareersfuture.gov.sg/job/...-<uuid>`, or any URL of a job elsewhere.
    #[serde(default)]
    pub url: Option<String>,
    /// Required unless `url` is an MCF job's.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub closing_date: Option<String>,
    #[serde(default)]
    pub salary_min: Option<u32>,
    #[serde(default)]
    pub salary_max: Option<u32>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// `PATCH /jobs/{id}`: the user's fields. Absent: unchanged; `null` (notes, CV): cleared.
/// Changing `track` moves the job, its history with it, to the id of the new track.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobPatch {
    /// The revision the change was made on.
    pub revision: u64,
    #[serde(default, deserialize_with = "some_or_null")]
    #[schemars(with = "Option<String>")]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "some_or_null")]
    #[schemars(with = "Option<String>")]
    pub cv_version: Option<Option<String>>,
    #[serde(default)]
    pub contacts: Option<Vec<String>>,
    #[serde(default)]
    pub track: Option<String>,
}

/// Tells an absent field (`None`) from a `null` one (`Some(None)`).
fn some_or_null<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `POST /jobs/{id}/transitions`: move the job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// The stage to move to (one of the job's `moves`).
    pub to: String,
    /// The revision the move was decided on.
    pub revision: u64,
    /// Required by `CLOSED`, refused by any other: `withdrawn`, `not_interested`,
    /// `post_closed`, `apply_failed`.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// `GET /tracks`: the library's tracks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Track {
    pub id: String,
    pub name: String,
    /// The CV a job of this track is sent with unless it names its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv_version: Option<String>,
    pub match_score_min: f64,
    pub age_weeks: f64,
}

/// `GET /config/{key}`, and the answer of `PUT`: one value of the library's config table;
/// `key` is `<group>.<parameter>` (`match.match_score_min`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConfigEntry {
    pub key: String,
    pub value: Value,
    /// The library's version holding this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// `PUT /config/{key}`: a new value, checked with the whole library by config sync's rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigValue {
    /// A number or a text (the config table's `value` column).
    pub value: Value,
}

/// `GET /stats`: the funnel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Stats {
    pub total: usize,
    /// Jobs now in each stage, every stage listed (in the order of the hunt).
    pub stages: Vec<StageCount>,
    /// Jobs that got at least this far (a job in `INTERVIEW` counts for `APPLIED` and
    /// `CALLBACK` too; the ends count where they left, from their history's last move).
    pub funnel: Vec<StageCount>,
    /// Per track: how far its jobs got, its rates and average score (the original's KPIs).
    pub tracks: Vec<TrackStats>,
    /// Jobs whose deadline is within 7 days (waiting stages) or whose follow-up is due.
    pub due_soon: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StageCount {
    pub stage: String,
    pub count: usize,
}

/// One track's funnel. A job counts for every stage up to the furthest it reached (one that
/// went from `APPLIED` straight to `INTERVIEW` counts as a callback: an answer). A rate is
/// `null`, not 0, when nothing could have got there yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrackStats {
    pub track: String,
    pub count: usize,
    pub applied: usize,
    pub callbacks: usize,
    pub interviews: usize,
    pub offers: usize,
    /// callbacks / applied.
    pub callback_rate: Option<f64>,
    /// interviews / callbacks.
    pub interview_rate: Option<f64>,
    /// interviews / applied.
    pub interviews_per_application: Option<f64>,
    /// The mean score total of its scored jobs.
    pub average_score: Option<f64>,
}

/// What the daily expiry did (the function's answer to `{"expire": {}}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExpiryReport {
    pub today: String,
    /// Jobs looked at (the waiting stages).
    pub checked: usize,
    /// Ids moved to `EXPIRED`.
    pub expired: Vec<String>,
    /// Ids another writer changed first (left for tomorrow).
    pub raced: Vec<String>,
}

/// The latest application attempt of a job (the applications table's `STATUS`), shown on the
/// job: a failure's reason stays with a job left in `TOAPPLY`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApplicationView {
    /// `01_applied` … `09_session_expired`, `dry_run_ok`, `91_invalid_input`, or `in_progress`.
    pub outcome: String,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    pub dry_run: bool,
    /// What happened, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The data bucket's keys of the page's screenshot and HTML when it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_png: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_html: Option<String>,
    /// `task`, `xtask`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

impl From<&mcfstore::Application> for ApplicationView {
    fn from(a: &mcfstore::Application) -> ApplicationView {
        ApplicationView {
            outcome: a.outcome.clone(),
            started_at: a.started_at.clone(),
            finished_at: a.finished_at.clone(),
            dry_run: a.dry_run,
            detail: a.detail.clone(),
            evidence_png: a.evidence_png.clone(),
            evidence_html: a.evidence_html.clone(),
            by: a.by.clone(),
        }
    }
}

/// `GET /session`: what is known of the MCF session the apply task uses (never the session).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionView {
    /// `valid`, `expires_soon`, `expired`, `missing`, or `unchecked` (nothing recorded yet).
    pub state: String,
    /// The earliest expiry of its cookies; absent: session cookies only, or unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_checked: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_result: Option<String>,
    /// `check` (the daily function), `apply` or `task` (an apply run), `xtask`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<String>,
    /// Whether "apply now" (`POST /apply`) can start the apply task here.
    pub apply_now: bool,
}

/// `POST /apply`: start the apply task now (ECS `RunTask`) for the jobs in `TOAPPLY`, or one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// Only this job (`<uuid>~<track>`).
    #[serde(default)]
    pub job: Option<String>,
    /// Submit (true) or a dry run (false); absent: the environment's `apply.submit`.
    #[serde(default)]
    pub submit: Option<bool>,
}

/// `POST /apply`'s answer: the task started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApplyStarted {
    /// The ECS task's ARN.
    pub task: String,
    /// Whether it submits (else a dry run), when the request said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
}
