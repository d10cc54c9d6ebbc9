//! The run when MCF misbehaves: retries on 429/5xx/truncated bodies/timeouts, the stop on a
//! confirmed 403, posts gone or failing for good, and resumption after the run is killed. One
//! odd post among good ones and site-wide verification pages: `run_quarantine.rs`.

mod common;

use std::time::{Duration, Instant};

use common::*;
use mcffixture::{Fault, FaultKind, FixtureServer, Route, Scenario};
use mcfscrape::{MemoryStore, Outcome, RunOptions, run};

#[tokio::test]
async fn transient_failures_are_retried_and_counted() {
    let faults = vec![
        Fault::nth(
            Route::Search,
            1,
            FaultKind::Status {
                code: 429,
                retry_after: Some(0),
            },
        ),
        Fault::nth(Route::Detail, 3, Fault::status(500)),
        Fault::nth(Route::Detail, 4, Fault::status(503)),
        Fault::nth(Route::Detail, 10, FaultKind::Truncate),
        Fault::nth(Route::Search, 2, FaultKind::Truncate),
    ];
    let server = FixtureServer::start(0, Scenario::default(), faults).unwrap();
    let store = MemoryStore::new(everything());
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;

    assert_completed(&summary);
    assert_eq!((summary.fetched, summary.failed, summary.retries), (100, 0, 5));
    assert_eq!((server.count(Route::Search), server.count(Route::Detail)), (3, 103));
    assert_eq!(summary.requests, 106);
    assert!(summary.timing.backoff_ms > 0.0);
    assert_eq!(queued_once(&store).len(), 100);
    // A truncated body is never written: every raw document is whole JSON.
    assert!(
        store
            .raw()
            .values()
            .all(|doc| serde_json::from_slice::<serde_json::Value>(doc).is_ok())
    );
}

#[tokio::test]
async fn retry_after_is_waited_out() {
    let faults = vec![Fault::nth(
        Route::Search,
        1,
        FaultKind::Status {
            code: 429,
            retry_after: Some(1),
        },
    )];
    let server = FixtureServer::start(0, Scenario::default(), faults).unwrap();
    let store = MemoryStore::new(vec![profile("narrow", &["engineer"], &["Information Technology"])]);
    let started = Instant::now();
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;
    assert_completed(&summary);
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
    assert!(summary.timing.backoff_ms >= 1000.0, "{:?}", summary.timing);
    assert_eq!(summary.retries, 1);
}

#[tokio::test]
async fn a_slow_response_times_out_and_is_retried() {
    let faults = vec![Fault::nth(Route::Detail, 2, FaultKind::Delay(Duration::from_secs(3)))];
    let server = FixtureServer::start(0, Scenario::default(), faults).unwrap();
    let store = MemoryStore::new(everything());
    let started = Instant::now();
    let mut fetcher = fetcher_with(&server, 0.0, 4, Duration::from_millis(300));
    let summary = run(&mut fetcher, &store, &options()).await;
    assert_completed(&summary);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the 3 s response was waited for"
    );
    assert_eq!((summary.fetched, summary.retries), (100, 1));
    assert_eq!(server.count(Route::Detail), 101);
}

#[tokio::test]
async fn forbidden_stops_the_whole_run_after_one_confirming_probe() {
    let faults = vec![Fault::from(Route::Detail, 5, Fault::status(403))];
    let server = FixtureServer::start(0, Scenario::default(), faults).unwrap();
    let store = MemoryStore::new(vec![profile("a", &[], &[]), profile("b", &["engineer"], &[])]);
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;

    assert_eq!(summary.outcome, Outcome::Blocked);
    assert!(summary.blocked);
    assert_eq!(summary.retries, 0, "a block is never retried");
    let url = summary.blocked_url.clone().unwrap();
    let fifth = format!("/v2/jobs/{}", server.uuids()[4]);
    assert!(url.starts_with(server.url()) && url.ends_with(&fifth), "{url}");
    let error = summary.error.clone().unwrap();
    // The probe is the fourth post, the last detail that answered well.
    let fourth = format!("/v2/jobs/{}", server.uuids()[3]);
    assert!(
        error.contains("blocked") && error.contains("confirming probe") && error.contains(&fourth),
        "{error}"
    );
    // One request after the 403, the probe (the fourth post again), and nothing for the second
    // profile.
    assert_eq!((server.count(Route::Search), server.count(Route::Detail)), (1, 6));
    assert_eq!(server.post_count(&server.uuids()[3]), 2);
    assert_eq!((summary.probes, summary.quarantined), (1, 0));
    // The four posts fetched before the block are queued and in the checkpoint.
    assert_eq!((summary.fetched, summary.enqueued), (4, 4));
    let checkpoint = store.saved_checkpoint().expect("a blocked run leaves its checkpoint");
    assert_eq!(checkpoint.current.unwrap().done_uuids.len(), 4);
    assert_eq!(store.runs().len(), 1);

    // Blocked on the very first search: not a single detail request.
    let faults = vec![Fault::nth(Route::Search, 1, Fault::status(403))];
    let server = FixtureServer::start(0, Scenario::default(), faults).unwrap();
    let summary = run(&mut fetcher(&server, 0.0), &MemoryStore::new(everything()), &options()).await;
    assert_eq!(summary.outcome, Outcome::Blocked);
    assert_eq!((server.count(Route::Search), server.count(Route::Detail)), (1, 0));
}

#[tokio::test]
async fn a_gone_post_is_counted_not_retried() {
    let faults = vec![Fault::nth(Route::Detail, 7, Fault::status(404))];
    let server = FixtureServer::start(0, Scenario::default(), faults).unwrap();
    let store = MemoryStore::new(everything());
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;
    assert_completed(&summary);
    assert_eq!((summary.gone, summary.fetched, summary.retries), (1, 99, 0));
    assert_eq!(server.count(Route::Detail), 100);
}

#[tokio::test]
async fn a_post_that_keeps_failing_is_given_up_and_fetched_next_run() {
    // Attempts 2–5 of the details all fail: the second post exhausts its 4 attempts.
    let faults = vec![Fault::from(Route::Detail, 2, Fault::status(500)).requests(2, 5)];
    let server = FixtureServer::start(0, Scenario::default(), faults).unwrap();
    let store = MemoryStore::new(everything());
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;
    assert_completed(&summary);
    assert_eq!((summary.failed, summary.fetched, summary.retries), (1, 99, 3));
    let missing = server.uuids()[1].clone();
    assert!(!queued_once(&store).contains(&missing));

    store.parse_queued().unwrap();
    let again = run(&mut fetcher(&server, 0.0), &store, &options()).await;
    assert_eq!((again.new, again.fetched, again.failed), (1, 1, 0));
    assert!(queued_once(&store).contains(&missing));
}

#[tokio::test]
async fn a_search_page_that_keeps_failing_stops_the_run_with_an_error() {
    let faults = vec![Fault::from(Route::Search, 2, Fault::status(502))];
    let server = FixtureServer::start(0, Scenario::default(), faults).unwrap();
    let store = MemoryStore::new(everything());
    let options = RunOptions {
        page_limit: 50,
        ..options()
    };
    let summary = run(&mut fetcher(&server, 0.0), &store, &options).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let error = summary.error.unwrap();
    assert!(
        error.contains("all#*") && error.contains("page 1") && error.contains("502"),
        "{error}"
    );
    assert_eq!(summary.enqueued, 50, "page 0 was done");
    assert_eq!(store.saved_checkpoint().unwrap().current.unwrap().page, 1);
}

#[tokio::test]
async fn a_killed_run_resumes_without_refetching_what_it_finished() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let store = MemoryStore::new(everything());
    let paged = RunOptions {
        page_limit: 10,
        ..options()
    };

    // 50 requests/s: 110 requests take over 2 s; kill the run after 1 s.
    let mut slow = fetcher(&server, 50.0);
    let killed = tokio::time::timeout(Duration::from_secs(1), run(&mut slow, &store, &paged)).await;
    assert!(killed.is_err(), "the run finished before it could be killed");
    let first = queued_once(&store);
    assert!(
        !first.is_empty() && first.len() < 100,
        "{} queued before the kill",
        first.len()
    );
    let checkpoint = store.saved_checkpoint().expect("checkpoint");
    let position = checkpoint.current.clone().expect("a query in progress");
    assert_eq!(position.query, "all#*");
    assert!(store.runs().is_empty());

    server.reset_counts();
    let resumed = run(&mut fetcher(&server, 0.0), &store, &paged).await;
    assert_completed(&resumed);
    assert_eq!(resumed.resumed_from.as_deref(), Some(checkpoint.run_id.as_str()));
    // Every post is queued exactly once over both runs...
    let all = queued_once(&store);
    assert_eq!(all.len(), 100);
    // ...the second run fetched only what the first had not queued...
    assert_eq!(resumed.fetched as usize, 100 - first.len());
    assert_eq!(server.count(Route::Detail) as usize, 100 - first.len());
    assert_eq!(resumed.already_done as usize, position.done_uuids.len());
    // ...and did not page again through the pages the first run finished.
    assert_eq!(server.count(Route::Search), u64::from(10 - position.page));
    assert_eq!(store.saved_checkpoint(), None);
}

#[tokio::test]
async fn a_stale_checkpoint_is_not_resumed() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let store = MemoryStore::new(everything());
    let mut slow = fetcher(&server, 100.0);
    let _ = tokio::time::timeout(Duration::from_millis(300), run(&mut slow, &store, &options())).await;
    assert!(store.saved_checkpoint().is_some());
    let options = RunOptions {
        max_resume_age: Duration::ZERO,
        ..options()
    };
    // Only a checkpoint from the same second counts as fresh with a zero age: wait past it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let summary = run(&mut fetcher(&server, 0.0), &store, &options).await;
    assert_completed(&summary);
    assert_eq!(summary.resumed_from, None);
}
