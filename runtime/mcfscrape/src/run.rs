//! One scraper run: for each search profile, page the search results, decide which posts are
//! new or changed, fetch their details, write them raw and queue them for the parser, and
//! checkpoint along the way so a killed run loses nothing.
//!
//! A block sign (403 or a verification page) is weighed by `core::block`: on a search page it
//! stops the run at once; on a post's detail the run sends the one confirming probe that rule
//! asks for, stops if it answers the same way, and otherwise asks the post again and, if it
//! keeps answering wrongly, quarantines it under `rejects/` and goes on.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use mcfcore::SearchProfile;
use mcfcore::layout::{ParseMessage, raw_key};
use mcfcore::log::{Level, Log, Stderr};
use mcfparse::{SearchPage, parse_search_response};
use mcfstore::RejectReason;
use serde_json::Value;

use crate::core::block::{Answer, BlockWatch, Blocked, OddPostPolicy, Step, quarantine_key};
use crate::core::categories::is_category;
use crate::core::decide::{Decision, decide};
use crate::core::plan::{PAGE_LIMIT, PageLinks, Query, RESULTS_CAP, Split, detail_path, next_page, search_path, split};
use crate::fetch::{FetchError, FetchStats, Fetcher};
use crate::store::{ENQUEUE_BATCH, Store, StoreError};
use crate::summary::{Checkpoint, Outcome, Position, Quarantined, RunSummary};

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Results per search page (MCF allows at most 100; tests use fewer to get more pages).
    pub page_limit: u32,
    /// A checkpoint older than this is not resumed: its finished queries are stale by now.
    pub max_resume_age: Duration,
    /// No log lines at all (tests, benchmarks).
    pub quiet: bool,
    /// Where the run's log lines go (`mcfcore::log`): by default stderr, `mcfscrape: …`
    /// text on a terminal and JSON lines otherwise; a collecting sink when the deployer runs
    /// the scraper in-process and ships its lines.
    pub log: Log,
    /// Fetch at most this many job details, then stop with [`Outcome::Limited`], keeping the
    /// checkpoint so the next run continues (a first run against MCF can be thousands of posts).
    pub max_posts: Option<u32>,
    /// How often a post answering a block sign is asked, and how many a run may quarantine.
    pub odd_posts: OddPostPolicy,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            page_limit: PAGE_LIMIT,
            max_resume_age: Duration::from_secs(24 * 3600),
            quiet: false,
            log: Log::new(crate::COMPONENT, Arc::new(Stderr::auto())),
            max_posts: None,
            odd_posts: OddPostPolicy::default(),
        }
    }
}

/// Why a run stopped early.
enum Stop {
    Blocked {
        url: String,
        message: String,
    },
    Error(String),
    /// `max_posts` details were fetched.
    Limited(u32),
}

fn store_stop(e: StoreError) -> Stop {
    Stop::Error(format!(
        "{e}; the run stops here and the next run resumes from its last checkpoint"
    ))
}

/// Runs every profile of `store` against MCF through `fetcher`. Never fails: how it ended is
/// in the summary's `outcome`, and the summary is also recorded in the store.
pub async fn run<S: Store>(fetcher: &mut Fetcher, store: &S, options: &RunOptions) -> RunSummary {
    let clock = std::time::Instant::now();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let run_id = mcfcore::time::timestamp_from_unix(i64::try_from(now.as_secs()).unwrap_or(0));
    fetcher.stats = FetchStats::default();
    let mut run = Run {
        fetch_date: run_id[..10].to_string(),
        summary: RunSummary {
            run_id: run_id.clone(),
            ..RunSummary::default()
        },
        checkpoint: Checkpoint {
            run_id,
            started_unix: now.as_secs(),
            ..Checkpoint::default()
        },
        position: Position::default(),
        pending: Vec::new(),
        seen: HashSet::new(),
        store_time: Duration::ZERO,
        watch: BlockWatch::new(options.odd_posts),
        last_good_detail: None,
        last_search: None,
        fetcher,
        store,
        options,
    };
    let result = run.all().await;
    let flushed = match &result {
        // Keep what was fetched before the stop: those posts need not be fetched again.
        Err(_) => run.flush().await.err(),
        Ok(()) => None,
    };
    match result {
        Ok(()) => {}
        Err(Stop::Blocked { url, message }) => {
            run.log(Level::Error, &message);
            run.summary.outcome = Outcome::Blocked;
            run.summary.blocked = true;
            run.summary.blocked_url = Some(url);
            run.summary.error = Some(message);
        }
        Err(Stop::Error(message)) => {
            run.log(Level::Error, &message);
            run.summary.outcome = Outcome::Failed;
            run.summary.error = Some(message);
        }
        Err(Stop::Limited(max)) => {
            run.log(
                Level::Info,
                &format!("stopped after {max} job details (the limit); the next run continues from here"),
            );
            run.summary.outcome = Outcome::Limited;
        }
    }
    if let Some(Stop::Error(message) | Stop::Blocked { message, .. }) = flushed {
        run.log(Level::Error, &message);
    }
    if run.summary.outcome == Outcome::Completed {
        // A checkpoint left behind would make the next run skip every query as done.
        if let Err(e) = timed(&mut run.store_time, store.checkpoint(None)).await {
            run.summary.outcome = Outcome::Failed;
            run.summary.error = Some(format!(
                "{e}: the run completed but its checkpoint was not cleared; the next run would skip its queries, so delete the checkpoint item (pk=scrape_run, sk=CHECKPOINT) if this repeats"
            ));
        }
    }
    run.finish(clock.elapsed());
    let summary = run.summary.clone();
    if let Err(e) = timed(&mut run.store_time, store.record_run(&summary)).await {
        run.summary.outcome = Outcome::Failed;
        run.summary.error = Some(format!("{e} (recording the run summary)"));
    }
    run.finish(clock.elapsed());
    run.summary
}

struct Run<'a, S: Store> {
    fetcher: &'a mut Fetcher,
    store: &'a S,
    options: &'a RunOptions,
    summary: RunSummary,
    checkpoint: Checkpoint,
    /// `YYYY-MM-DD` of the raw keys written by this run.
    fetch_date: String,
    /// The query and page in progress.
    position: Position,
    /// Fetched and written, not yet queued.
    pending: Vec<ParseMessage>,
    /// Posts handled by an earlier query of this run (profiles and categories overlap).
    seen: HashSet<String>,
    store_time: Duration,
    /// Block or odd post (`core::block`).
    watch: BlockWatch,
    /// The path of the last job detail that answered well: the confirming probe.
    last_good_detail: Option<String>,
    /// The search page being worked through (path and body): the probe while no detail has
    /// answered well yet.
    last_search: Option<(String, Value)>,
}

/// The confirming probe's URL and answer.
struct Probed {
    url: String,
    result: Result<Bytes, FetchError>,
}

/// How a fetch's result looks to the block watch.
fn answer_of(result: &Result<Bytes, FetchError>) -> Answer {
    match result {
        Ok(_) => Answer::Good,
        Err(FetchError::Blocked { .. }) => Answer::BlockSign,
        Err(_) => Answer::Other,
    }
}

/// The URL, detail and body of a block sign.
fn block_sign(result: &Result<Bytes, FetchError>) -> Option<(&str, &str, &Bytes)> {
    match result {
        Err(FetchError::Blocked { url, detail, body }) => Some((url, detail, body)),
        _ => None,
    }
}

/// What a stopped run tells the person who reads it.
const BLOCK_ADVICE: &str = "stopping the run; wait a few hours before the next one, and consider a lower rate (--rate)";

impl<S: Store> Run<'_, S> {
    async fn all(&mut self) -> Result<(), Stop> {
        let profiles = timed(&mut self.store_time, self.store.profiles())
            .await
            .map_err(store_stop)?;
        if profiles.is_empty() {
            return Err(Stop::Error(
                "the store has no search profiles (dimensions table, pk = search_profile): seed them first".into(),
            ));
        }
        for profile in &profiles {
            if let Some(bad) = profile.categories.iter().find(|c| !is_category(c)) {
                return Err(Stop::Error(format!(
                    "search profile `{}` has category `{bad}`, which is not one of MCF's 43 display names (MCF would answer 400); fix the profile",
                    profile.name
                )));
            }
        }
        if let Some(previous) = timed(&mut self.store_time, self.store.resume())
            .await
            .map_err(store_stop)?
        {
            let age = self.checkpoint.started_unix.saturating_sub(previous.started_unix);
            if age <= self.options.max_resume_age.as_secs() {
                self.log(
                    Level::Info,
                    &format!(
                        "resuming run {} ({} queries already done)",
                        previous.run_id,
                        previous.done.len()
                    ),
                );
                self.summary.resumed_from = Some(previous.run_id.clone());
                self.checkpoint = previous;
            } else {
                self.log(
                    Level::Warn,
                    &format!("ignoring the checkpoint of run {}: {age} s old", previous.run_id),
                );
            }
        }
        self.log(
            Level::Info,
            &format!(
                "run {} started: {} search profile(s)",
                self.summary.run_id,
                profiles.len()
            ),
        );
        for profile in &profiles {
            self.summary.profiles += 1;
            self.profile(profile).await?;
            let s = &self.summary;
            self.log(
                Level::Info,
                &format!(
                    "profile `{}` paged: so far {} page(s), {} post(s) seen, {} fetched",
                    profile.name, s.pages, s.posts_seen, s.fetched
                ),
            );
        }
        Ok(())
    }

    async fn profile(&mut self, profile: &SearchProfile) -> Result<(), Stop> {
        let mut queue = VecDeque::from([Query::for_profile(profile)]);
        'queries: while let Some(query) = queue.pop_front() {
            let key = query.key();
            if self.checkpoint.split.contains(&key) {
                if let Split::Into(parts) = split(&query, RESULTS_CAP) {
                    parts.into_iter().rev().for_each(|part| queue.push_front(part));
                }
                continue;
            }
            if self.checkpoint.done.contains(&key) {
                continue;
            }
            self.summary.queries += 1;
            self.position = match &self.checkpoint.current {
                Some(position) if position.query == key => position.clone().in_pages_of(self.options.page_limit),
                _ => Position {
                    query: key.clone(),
                    page_limit: self.options.page_limit,
                    ..Position::default()
                },
            };
            let body = query.body(profile);
            loop {
                let page = self.position.page;
                let path = search_path(self.options.page_limit, page);
                let fetched = self.fetcher.search(&path, &body).await;
                if let Step::Stop(why) = self.watch.search(answer_of(&fetched)) {
                    return Err(self.blocked(why, &fetched, None));
                }
                let bytes = match fetched {
                    Ok(bytes) => bytes,
                    Err(FetchError::EndOfResults { .. }) => break,
                    Err(e) => return Err(Stop::Error(format!("search `{key}` page {page}: {e}"))),
                };
                self.last_search = Some((path.clone(), body.clone()));
                let results = parse_search_response(&bytes).map_err(|e| {
                    Stop::Error(format!(
                        "search `{key}` page {page} ({}): not a search response: {e}",
                        self.fetcher.url(&path)
                    ))
                })?;
                self.summary.pages += 1;
                if page == 0 {
                    match split(&query, results.total) {
                        Split::Into(parts) => {
                            self.log(
                                Level::Info,
                                &format!(
                                    "`{key}` matches {} posts, MCF's cap: splitting it into {} category queries",
                                    results.total,
                                    parts.len()
                                ),
                            );
                            self.summary.split_queries += 1;
                            self.checkpoint.split.push(key);
                            self.save().await?;
                            parts.into_iter().rev().for_each(|part| queue.push_front(part));
                            continue 'queries;
                        }
                        Split::Capped => {
                            self.log(
                                Level::Warn,
                                &format!(
                                    "`{key}` matches {} posts: only the first {RESULTS_CAP} can be paged",
                                    results.total
                                ),
                            );
                            self.summary.capped_queries += 1;
                        }
                        Split::Keep => {}
                    }
                }
                self.items(&results).await?;
                self.flush().await?;
                let links = PageLinks {
                    page,
                    results: results.posts.len() + results.rejects.len(),
                    has_next: results.next_href.is_some(),
                    last_page: results.last_page,
                };
                let Some(next) = next_page(links) else { break };
                self.position.page = next;
                self.position.done_uuids.clear();
                self.save().await?;
            }
            self.checkpoint.done.push(key);
            self.position = Position::default();
            self.save().await?;
        }
        Ok(())
    }

    /// Decides on every post of a results page and fetches the new and changed ones.
    async fn items(&mut self, results: &SearchPage) -> Result<(), Stop> {
        let mut candidates: Vec<(String, Option<String>)> = results
            .posts
            .iter()
            .map(|p| (p.uuid.clone(), p.updated_at.clone()))
            .collect();
        for reject in &results.rejects {
            self.summary.rejected_items += 1;
            self.log(
                Level::Warn,
                &format!(
                    "search item {} ({}) unreadable: {}",
                    reject.index,
                    reject.uuid.as_deref().unwrap_or("no uuid"),
                    reject.error
                ),
            );
            // The detail may well be readable: let the parser judge it.
            candidates.extend(reject.uuid.clone().map(|uuid| (uuid, None)));
        }
        let mut fresh = Vec::with_capacity(candidates.len());
        for (uuid, updated_at) in candidates {
            if !self.seen.insert(uuid.clone()) {
                continue;
            }
            self.summary.posts_seen += 1;
            if self.position.done_uuids.contains(&uuid) {
                self.summary.already_done += 1;
            } else {
                fresh.push((uuid, updated_at));
            }
        }
        if fresh.is_empty() {
            return Ok(());
        }
        let uuids: Vec<String> = fresh.iter().map(|(uuid, _)| uuid.clone()).collect();
        let stored = timed(&mut self.store_time, self.store.versions(&uuids))
            .await
            .map_err(store_stop)?;
        for (uuid, updated_at) in fresh {
            let decision = decide(updated_at.as_deref(), stored.get(&uuid).map(String::as_str));
            if let Some(max) = self
                .options
                .max_posts
                .filter(|max| decision.fetch() && self.summary.fetched >= *max)
            {
                return Err(Stop::Limited(max));
            }
            match decision {
                Decision::New => self.summary.new += 1,
                Decision::Changed => self.summary.changed += 1,
                Decision::Unchanged => self.summary.unchanged += 1,
            }
            if decision.fetch() {
                self.detail(uuid).await?;
            }
        }
        Ok(())
    }

    async fn detail(&mut self, uuid: String) -> Result<(), Stop> {
        let path = detail_path(&uuid);
        let mut result = self.fetcher.get(&path).await;
        let mut step = self.watch.detail(answer_of(&result));
        let mut probe = None;
        loop {
            match step {
                Step::Go => break,
                Step::Probe => {
                    let probed = self.probe().await;
                    step = self.watch.probe(answer_of(&probed.result));
                    probe = Some(probed);
                }
                Step::AskAgain { asked } => {
                    self.fetcher.back_off(asked).await;
                    result = self.fetcher.get(&path).await;
                    step = self.watch.detail(answer_of(&result));
                }
                Step::Quarantine => return self.quarantine(uuid, &result, probe.as_ref()).await,
                Step::Stop(why) => return Err(self.blocked(why, &result, probe.as_ref())),
            }
        }
        match result {
            Ok(body) => {
                self.last_good_detail = Some(path);
                let key = raw_key(&self.fetch_date, &uuid, "json");
                timed(&mut self.store_time, self.store.put_raw(&key, body))
                    .await
                    .map_err(store_stop)?;
                self.summary.fetched += 1;
                self.pending.push(ParseMessage { uuid, key });
                if self.pending.len() >= ENQUEUE_BATCH {
                    self.flush().await?;
                }
            }
            Err(FetchError::Gone { .. }) => {
                self.summary.gone += 1;
                self.position.done_uuids.push(uuid);
            }
            Err(e) => {
                self.summary.failed += 1;
                self.log(Level::Warn, &format!("job {uuid}: {e}; the next run fetches it again"));
            }
        }
        Ok(())
    }

    /// Sends the confirming probe (`core::block` rule 2): the last job detail that answered
    /// well, else the search page being worked through, through the same rate limit and
    /// retries as any request (a block sign is not retried).
    async fn probe(&mut self) -> Probed {
        self.summary.probes += 1;
        if let Some(path) = self.last_good_detail.clone() {
            return Probed {
                url: self.fetcher.url(&path),
                result: self.fetcher.get(&path).await,
            };
        }
        if let Some((path, body)) = self.last_search.clone() {
            return Probed {
                url: self.fetcher.url(&path),
                result: self.fetcher.search(&path, &body).await,
            };
        }
        // Details are only asked for after a search page answered, so this does not happen;
        // if it did, nothing could confirm or rule out the block, and the run stops.
        Probed {
            url: "(nothing answered well before)".into(),
            result: Err(FetchError::Failed {
                url: String::new(),
                attempts: 0,
                detail: "no request of this run answered well, so there is nothing to probe with".into(),
            }),
        }
    }

    /// Keeps a post that kept answering a block sign while the probe answered well: its last
    /// answer and the reason under `rejects/`, listed in the summary. It is neither queued nor
    /// done in the checkpoint, and the posts table does not get it, so the next run asks again.
    async fn quarantine(
        &mut self,
        uuid: String,
        result: &Result<Bytes, FetchError>,
        probe: Option<&Probed>,
    ) -> Result<(), Stop> {
        let Some((url, detail, body)) = block_sign(result) else {
            // `core::block` quarantines only after a block sign; anything else is a failure.
            self.summary.failed += 1;
            self.log(
                Level::Warn,
                &format!("job {uuid}: no answer to quarantine; the next run fetches it again"),
            );
            return Ok(());
        };
        let probe_url = probe.map_or("the confirming probe", |p| p.url.as_str());
        let reason = format!(
            "{url} answered a block sign ({detail}) each of the {} times it was asked, while {probe_url} answered well in between: \
             this post's own answer, not a block. Quarantined by run {}; not parsed and not done, so the next run asks for it again",
            self.watch.asks(),
            self.summary.run_id
        );
        let key = quarantine_key(&self.fetch_date, &uuid, body);
        let record = RejectReason {
            reason: reason.clone(),
            raw_key: None,
            message_id: None,
            url: Some(url.to_string()),
            at: now_timestamp(),
        };
        timed(&mut self.store_time, self.store.put_reject(&key, body.clone(), &record))
            .await
            .map_err(store_stop)?;
        self.log(Level::Warn, &format!("job {uuid} quarantined at {key}: {reason}"));
        self.summary.quarantined += 1;
        self.summary.quarantine.push(Quarantined {
            uuid,
            url: url.to_string(),
            reason,
            reject_key: key,
        });
        Ok(())
    }

    /// The stop for a block `core::block` decided on; `suspect` is the answer that raised it.
    fn blocked(&self, why: Blocked, suspect: &Result<Bytes, FetchError>, probe: Option<&Probed>) -> Stop {
        let (url, detail) = block_sign(suspect).map_or_else(
            || (String::new(), "a block sign".to_string()),
            |(url, detail, _)| (url.to_string(), detail.to_string()),
        );
        let (probe_url, probe_answer) = probe.map_or_else(
            || ("the confirming probe".to_string(), "nothing".to_string()),
            |p| {
                let answer = match &p.result {
                    Ok(_) => "well".to_string(),
                    Err(FetchError::Blocked { detail, .. }) => detail.clone(),
                    Err(e) => e.to_string(),
                };
                (p.url.clone(), answer)
            },
        );
        let message = match why {
            Blocked::Search => format!(
                "blocked by MCF: the search page {url} answered {detail} (a search page is not probed): {BLOCK_ADVICE}"
            ),
            Blocked::Confirmed => format!(
                "blocked by MCF: {url} answered {detail}, and the confirming probe {probe_url}, which had answered well, answered {probe_answer} too: {BLOCK_ADVICE}"
            ),
            Blocked::Unconfirmed => format!(
                "blocked by MCF, probably: {url} answered {detail}, and the confirming probe {probe_url} failed ({probe_answer}), so a block cannot be ruled out: {BLOCK_ADVICE}"
            ),
            Blocked::TooManyOdd { quarantined, allowed } => format!(
                "blocked by MCF, probably: {url} answered {detail}, post number {} of this run to answer a block sign while other requests answered well, and a run quarantines at most {allowed} ({quarantined} already): {BLOCK_ADVICE}",
                quarantined + 1
            ),
        };
        Stop::Blocked { url, message }
    }

    /// Queues the pending messages and records them in the checkpoint.
    async fn flush(&mut self) -> Result<(), Stop> {
        if self.pending.is_empty() {
            return Ok(());
        }
        timed(&mut self.store_time, self.store.enqueue(&self.pending))
            .await
            .map_err(store_stop)?;
        self.summary.enqueued += self.pending.len() as u32;
        self.position.done_uuids.extend(self.pending.drain(..).map(|m| m.uuid));
        self.save().await
    }

    async fn save(&mut self) -> Result<(), Stop> {
        self.checkpoint.current = (!self.position.query.is_empty()).then(|| self.position.clone());
        timed(&mut self.store_time, self.store.checkpoint(Some(&self.checkpoint)))
            .await
            .map_err(store_stop)
    }

    fn finish(&mut self, total: Duration) {
        let FetchStats {
            requests,
            retries,
            mcf,
            rate_wait,
            backoff,
        } = self.fetcher.stats.clone();
        let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
        self.summary.requests = requests;
        self.summary.retries = retries;
        self.summary.timing.total_ms = ms(total);
        self.summary.timing.mcf_ms = ms(mcf);
        self.summary.timing.rate_wait_ms = ms(rate_wait);
        self.summary.timing.backoff_ms = ms(backoff);
        self.summary.timing.store_ms = ms(self.store_time);
        self.summary.finished_at = now_timestamp();
    }

    fn log(&self, level: Level, message: &str) {
        if !self.options.quiet {
            let log = &self.options.log;
            log.write(&log.line(level, message));
        }
    }
}

fn now_timestamp() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    mcfcore::time::timestamp_from_unix(i64::try_from(now.as_secs()).unwrap_or(0))
}

/// Awaits a store call and adds its time to `clock`.
async fn timed<T>(clock: &mut Duration, call: impl Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let out = call.await;
    *clock += started.elapsed();
    out
}
