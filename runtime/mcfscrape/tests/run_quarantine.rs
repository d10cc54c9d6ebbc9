//! Block or odd post (`core::block`) against the fake MCF server with the memory store: one
//! post answering a verification page among good ones is quarantined and the run completes;
//! a site-wide verification page, or a block sign on the search, still stops the run at once;
//! too many odd posts are a block.

mod common;

use common::*;
use mcffixture::{Fault, FaultKind, FixtureServer, Route, Scenario};
use mcfscrape::{MemoryStore, Outcome, RunOptions, RunSummary, run};
use mcfstore::RejectReason;

/// The kept answer and the reason of a quarantined post, checked against the summary.
fn kept(store: &MemoryStore, summary: &RunSummary, uuid: &str) -> (bytes::Bytes, RejectReason) {
    let entry = summary
        .quarantine
        .iter()
        .find(|q| q.uuid == uuid)
        .unwrap_or_else(|| panic!("{uuid} is not in the summary's quarantine: {:#?}", summary.quarantine));
    let date = &summary.run_id[..10];
    assert_eq!(entry.reject_key, format!("rejects/{date}/{uuid}.html"));
    let rejects = store.rejects();
    let body = rejects
        .get(&entry.reject_key)
        .unwrap_or_else(|| panic!("no {} in {:?}", entry.reject_key, rejects.keys()))
        .clone();
    let reason_key = format!("{}.reason.json", entry.reject_key);
    let reason: RejectReason = serde_json::from_slice(&rejects[&reason_key]).expect("the reason is a reason JSON");
    assert_eq!(reason.reason, entry.reason);
    assert_eq!(reason.url.as_deref(), Some(entry.url.as_str()));
    assert!(entry.url.ends_with(&format!("/v2/jobs/{uuid}")), "{}", entry.url);
    assert_eq!((&reason.raw_key, &reason.message_id), (&None, &None));
    (body, reason)
}

#[tokio::test]
async fn one_poisoned_post_among_good_ones_is_quarantined_and_the_run_completes() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let uuids = server.uuids();
    let poisoned = uuids[10].clone();
    server.set_faults(vec![Fault::post(&poisoned, FaultKind::VerificationPage)]);
    let store = MemoryStore::new(everything());
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;

    assert_completed(&summary);
    assert_eq!(summary.outcome.exit_code(), 0);
    assert!(!summary.blocked);
    // Every other post arrived; the poisoned one is not queued.
    assert_eq!((summary.new, summary.fetched, summary.enqueued), (100, 99, 99));
    let queued = queued_once(&store);
    let others: std::collections::HashSet<String> = uuids.iter().filter(|u| **u != poisoned).cloned().collect();
    assert_eq!(queued, others);
    assert!(!store.raw().keys().any(|k| k.contains(&poisoned)));
    // Asked 3 times, with one probe in between: the previous post, the last to answer well.
    assert_eq!((summary.quarantined, summary.probes, summary.failed), (1, 1, 0));
    assert_eq!(server.post_count(&poisoned), 3);
    assert_eq!(server.post_count(&uuids[9]), 2);
    assert_eq!(
        (server.count(Route::Search), server.count(Route::Detail)),
        (1, 99 + 3 + 1)
    );
    assert_eq!((summary.requests, summary.retries), (1 + 103, 2));

    let (body, reason) = kept(&store, &summary, &poisoned);
    assert!(body.starts_with(b"<!DOCTYPE html>"), "{body:?}");
    assert!(String::from_utf8_lossy(&body).contains("verification page"));
    assert!(
        reason.reason.contains("not a block") && reason.reason.contains(&format!("/v2/jobs/{}", uuids[9])),
        "{}",
        reason.reason
    );
    assert_eq!(store.saved_checkpoint(), None, "a completed run clears its checkpoint");
    assert_eq!(
        store.runs()[0].quarantine,
        summary.quarantine,
        "the run record lists it"
    );

    // The next run asks for it again: the posts table (the parser's versions) lacks it alone.
    assert_eq!(store.parse_queued().unwrap(), 99);
    server.reset_counts();
    let again = run(&mut fetcher(&server, 0.0), &store, &options()).await;
    assert_completed(&again);
    assert_eq!((again.new, again.unchanged, again.fetched), (1, 99, 0));
    assert_eq!(again.quarantined, 1);
    assert_eq!(server.post_count(&poisoned), 3);

    // Once MCF serves it well, it arrives like any post.
    server.set_faults(Vec::new());
    server.reset_counts();
    let healed = run(&mut fetcher(&server, 0.0), &store, &options()).await;
    assert_completed(&healed);
    assert_eq!(
        (
            healed.new,
            healed.fetched,
            healed.enqueued,
            healed.quarantined,
            healed.probes
        ),
        (1, 1, 1, 0, 0)
    );
    assert!(queued_once(&store).contains(&poisoned));
    assert_eq!(server.count(Route::Detail), 1);
}

#[tokio::test]
async fn a_poisoned_first_post_is_checked_against_the_search_page() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let poisoned = server.uuids()[0].clone();
    server.set_faults(vec![Fault::post(&poisoned, FaultKind::VerificationPage)]);
    let store = MemoryStore::new(everything());
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;

    assert_completed(&summary);
    assert_eq!((summary.fetched, summary.quarantined, summary.probes), (99, 1, 1));
    // No detail had answered yet: the probe is the search page, asked a second time.
    assert_eq!((server.count(Route::Search), server.count(Route::Detail)), (2, 99 + 3));
    let (_, reason) = kept(&store, &summary, &poisoned);
    assert!(reason.reason.contains("/v2/search?"), "{}", reason.reason);
}

#[tokio::test]
async fn a_post_that_answers_well_when_asked_again_arrives() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let flaky = server.uuids()[5].clone();
    server.set_faults(vec![Fault::post(&flaky, FaultKind::VerificationPage).requests(1, 1)]);
    let store = MemoryStore::new(everything());
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;

    assert_completed(&summary);
    assert_eq!((summary.fetched, summary.quarantined, summary.probes), (100, 0, 1));
    assert_eq!(server.post_count(&flaky), 2);
    assert!(queued_once(&store).contains(&flaky));
    assert!(store.rejects().is_empty());
}

#[tokio::test]
async fn a_site_wide_verification_page_stops_the_run_after_one_probe() {
    // Request 8 (the 7th detail) is the first to get the page; every request after it does too.
    const FIRST_BLOCKED: u64 = 8;
    let server = FixtureServer::start(
        0,
        Scenario::default(),
        vec![Fault::from(Route::Any, FIRST_BLOCKED, FaultKind::VerificationPage)],
    )
    .unwrap();
    let store = MemoryStore::new(vec![profile("a", &[], &[]), profile("b", &["engineer"], &[])]);
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;

    assert_eq!(summary.outcome, Outcome::Blocked, "{summary:#?}");
    assert_eq!(summary.outcome.exit_code(), 3);
    assert!(summary.blocked);
    // After the block appeared: the request that met it and the one confirming probe.
    let after = server.count(Route::Any) - (FIRST_BLOCKED - 1);
    assert_eq!(after, 2, "requests from the first blocked one on");
    assert_eq!((summary.probes, summary.quarantined, summary.retries), (1, 0, 0));
    let seventh = format!("/v2/jobs/{}", server.uuids()[6]);
    assert!(summary.blocked_url.as_deref().unwrap().ends_with(&seventh));
    let error = summary.error.unwrap();
    assert!(
        error.contains("confirming probe") && error.contains("VerificationPage"),
        "{error}"
    );
    // What arrived before the block is kept, and the checkpoint says so.
    assert_eq!((summary.fetched, summary.enqueued), (6, 6));
    assert_eq!(store.saved_checkpoint().unwrap().current.unwrap().done_uuids.len(), 6);
    assert!(store.rejects().is_empty(), "nothing quarantined for a block");

    // Blocked from the first detail: the probe is the search page.
    let server = FixtureServer::start(
        0,
        Scenario::default(),
        vec![Fault::from(Route::Any, 2, FaultKind::VerificationPage)],
    )
    .unwrap();
    let summary = run(&mut fetcher(&server, 0.0), &MemoryStore::new(everything()), &options()).await;
    assert_eq!(summary.outcome, Outcome::Blocked);
    assert_eq!((server.count(Route::Search), server.count(Route::Detail)), (2, 1));

    // Blocked from the very first request, the search: nothing more is asked.
    let server = FixtureServer::start(
        0,
        Scenario::default(),
        vec![Fault::from(Route::Any, 1, FaultKind::VerificationPage)],
    )
    .unwrap();
    let summary = run(&mut fetcher(&server, 0.0), &MemoryStore::new(everything()), &options()).await;
    assert_eq!(summary.outcome, Outcome::Blocked);
    assert_eq!((server.count(Route::Any), summary.probes), (1, 0));
}

#[tokio::test]
async fn a_block_sign_on_a_later_search_page_stops_at_once_without_a_probe() {
    for kind in [Fault::status(403), FaultKind::VerificationPage] {
        let server = FixtureServer::start(
            0,
            Scenario::default(),
            vec![Fault::from(Route::Search, 2, kind.clone())],
        )
        .unwrap();
        let store = MemoryStore::new(everything());
        let options = RunOptions {
            page_limit: 50,
            ..options()
        };
        let summary = run(&mut fetcher(&server, 0.0), &store, &options).await;
        assert_eq!(summary.outcome, Outcome::Blocked, "{kind:?}");
        // Page 0 and its 50 details, then page 1 answers the block sign: nothing after it.
        assert_eq!(
            (server.count(Route::Search), server.count(Route::Detail), summary.probes),
            (2, 50, 0),
            "{kind:?}"
        );
        let url = summary.blocked_url.unwrap();
        assert!(url.contains("/v2/search?") && url.contains("page=1"), "{url}");
        assert!(summary.error.unwrap().contains("search page"), "{kind:?}");
    }
}

#[tokio::test]
async fn more_odd_posts_than_a_run_may_quarantine_are_a_block() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let uuids = server.uuids();
    let faults = uuids[..5]
        .iter()
        .map(|uuid| Fault::post(uuid, FaultKind::VerificationPage))
        .collect();
    server.set_faults(faults);
    let store = MemoryStore::new(everything());
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;

    // Three quarantined (the floor, no detail having answered well), the fourth stops the run
    // at its first answer: no probe, no second ask; the fifth is never asked.
    assert_eq!(summary.outcome, Outcome::Blocked, "{summary:#?}");
    assert_eq!((summary.quarantined, summary.probes, summary.fetched), (3, 3, 0));
    let counts: Vec<u64> = uuids[..5].iter().map(|u| server.post_count(u)).collect();
    assert_eq!(counts, [3, 3, 3, 1, 0]);
    for uuid in &uuids[..3] {
        kept(&store, &summary, uuid);
    }
    assert_eq!(store.rejects().len(), 6, "three answers and their reasons");
    let error = summary.error.unwrap();
    assert!(error.contains("at most 3"), "{error}");
    assert!(summary.blocked_url.unwrap().ends_with(&uuids[3]));

    // With an allowance of one, the second odd post is the block.
    let server = FixtureServer::default_on_free_port().unwrap();
    server.set_faults(vec![
        Fault::post(&uuids[20], FaultKind::VerificationPage),
        Fault::post(&uuids[40], FaultKind::VerificationPage),
    ]);
    let options = RunOptions {
        odd_posts: mcfscrape::core::block::OddPostPolicy {
            quarantine_floor: 1,
            good_per_extra: 1000,
            ..Default::default()
        },
        ..options()
    };
    let summary = run(&mut fetcher(&server, 0.0), &MemoryStore::new(everything()), &options).await;
    assert_eq!(summary.outcome, Outcome::Blocked);
    assert_eq!((summary.quarantined, summary.fetched), (1, 39));
    assert_eq!(server.post_count(&uuids[40]), 1);
}
