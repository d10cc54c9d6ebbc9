//! The run against the fake MCF server with the memory store: coverage, pagination, the
//! category split, incrementality, the rate limit and the summary's timings.

mod common;

use std::time::Instant;

use common::*;
use mcffixture::{FixtureServer, Route, Scenario};
use mcfscrape::{MemoryStore, Outcome, RunOptions, run};

#[tokio::test]
async fn every_post_is_fetched_written_and_queued_once() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let store = MemoryStore::new(everything());
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;

    assert_completed(&summary);
    assert_eq!((summary.profiles, summary.queries, summary.pages), (1, 1, 1));
    assert_eq!(
        (summary.posts_seen, summary.new, summary.changed, summary.unchanged),
        (100, 100, 0, 0)
    );
    assert_eq!(
        (summary.fetched, summary.enqueued, summary.gone, summary.failed),
        (100, 100, 0, 0)
    );
    assert_eq!((summary.requests, summary.retries, summary.blocked), (101, 0, false));
    assert_eq!((server.count(Route::Search), server.count(Route::Detail)), (1, 100));

    let queued = queued_once(&store);
    assert_eq!(queued, server.uuids().into_iter().collect());
    assert!(
        store.batch_sizes().iter().all(|n| (1..=10).contains(n)),
        "{:?}",
        store.batch_sizes()
    );
    let raw = store.raw();
    let date = &summary.run_id[..10];
    for message in store.queue() {
        assert_eq!(message.key, format!("raw/{date}/{}.json", message.uuid));
        let post = mcfparse::parse_job_detail(&raw[&message.key]).expect("raw document is the job detail");
        assert_eq!(post.uuid, message.uuid);
    }
    // Done: no checkpoint left to resume, and the run is recorded.
    assert_eq!(store.saved_checkpoint(), None);
    let runs = store.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].run_id.as_str(), runs[0].fetched),
        (summary.run_id.as_str(), 100)
    );
}

#[tokio::test]
async fn requests_carry_the_headers_the_website_sends() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let store = MemoryStore::new(vec![profile("it", &["engineer"], &["Information Technology"])]);
    assert_completed(&run(&mut fetcher(&server, 0.0), &store, &options()).await);
    for route in [Route::Search, Route::Detail] {
        let headers = server.last_headers(route);
        let get = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(get("mcf-client"), Some("jobseeker"), "{route}");
        assert_eq!(get("origin"), Some("https://www.mycareersfuture.gov.sg"), "{route}");
        assert!(get("referer").is_some_and(|r| r.starts_with("https://www.mycareersfuture.gov.sg")));
        assert!(get("user-agent").is_some_and(|ua| ua.contains("mcfpipe")), "{route}");
    }
    let headers = server.last_headers(Route::Search);
    assert!(headers.contains(&("content-type".into(), "application/json".into())));
}

#[tokio::test]
async fn small_pages_are_followed_to_the_last_link() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let store = MemoryStore::new(everything());
    let options = RunOptions {
        page_limit: 30,
        ..options()
    };
    let summary = run(&mut fetcher(&server, 0.0), &store, &options).await;
    assert_completed(&summary);
    assert_eq!((summary.pages, server.count(Route::Search)), (4, 4));
    assert_eq!(queued_once(&store).len(), 100);
}

#[tokio::test]
async fn pagination_ends_on_418_past_page_99() {
    // No `last` link and a `next` link on every page: only MCF's 418 at page 100 stops it.
    let scenario = Scenario {
        endless_links: true,
        ..Scenario::default()
    };
    let server = FixtureServer::start(0, scenario, vec![]).unwrap();
    let store = MemoryStore::new(everything());
    let options = RunOptions {
        page_limit: 1,
        ..options()
    };
    let summary = run(&mut fetcher(&server, 0.0), &store, &options).await;
    assert_completed(&summary);
    assert_eq!(summary.pages, 100);
    assert_eq!(server.count(Route::Search), 101, "pages 0–99, then 418 for page 100");
    assert_eq!(summary.fetched, 100);
}

#[tokio::test]
async fn a_query_at_the_cap_is_split_by_category() {
    let scenario = Scenario {
        capped_total: Some(10_000),
        ..Scenario::default()
    };
    let server = FixtureServer::start(0, scenario, vec![]).unwrap();
    let store = MemoryStore::new(everything());
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;
    assert_completed(&summary);
    assert_eq!(summary.split_queries, 1);
    assert_eq!(summary.queries, 1 + 43);
    assert_eq!(server.count(Route::Search), 1 + 43);
    // Posts in several categories are fetched once.
    assert_eq!((summary.posts_seen, summary.fetched), (100, 100));
    assert_eq!(server.count(Route::Detail), 100);
    assert_eq!(queued_once(&store).len(), 100);
}

#[tokio::test]
async fn overlapping_profiles_fetch_each_post_once() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let profiles = vec![
        profile("it", &[], &["Information Technology"]),
        profile("engineers", &["engineer"], &[]),
        profile(
            "it-engineers",
            &["engineer"],
            &["Information Technology", "Engineering"],
        ),
    ];
    let store = MemoryStore::new(profiles);
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;
    assert_completed(&summary);
    assert_eq!(summary.profiles, 3);
    let queued = queued_once(&store);
    assert_eq!(summary.fetched as usize, queued.len());
    assert_eq!(server.count(Route::Detail) as usize, queued.len());
    assert!(queued.len() > 38, "IT alone has 38 posts; engineers add more");
}

#[tokio::test]
async fn a_rerun_with_nothing_changed_fetches_and_queues_nothing() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let store = MemoryStore::new(everything());
    assert_completed(&run(&mut fetcher(&server, 0.0), &store, &options()).await);
    assert_eq!(store.parse_queued(), Ok(100));
    server.reset_counts();

    let again = run(&mut fetcher(&server, 0.0), &store, &options()).await;
    assert_completed(&again);
    assert_eq!(
        (again.posts_seen, again.unchanged, again.new, again.changed),
        (100, 100, 0, 0)
    );
    assert_eq!((again.fetched, again.enqueued), (0, 0));
    assert_eq!((server.count(Route::Search), server.count(Route::Detail)), (1, 0));
    assert_eq!(store.queue().len(), 100);
}

#[tokio::test]
async fn a_changed_post_is_fetched_again_and_only_it() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let store = MemoryStore::new(everything());
    assert_completed(&run(&mut fetcher(&server, 0.0), &store, &options()).await);
    store.parse_queued().unwrap();
    let changed = server.uuids()[42].clone();
    server.bump(&changed);
    server.reset_counts();

    let again = run(&mut fetcher(&server, 0.0), &store, &options()).await;
    assert_completed(&again);
    assert_eq!(
        (again.changed, again.unchanged, again.fetched, again.enqueued),
        (1, 99, 1, 1)
    );
    assert_eq!(server.count(Route::Detail), 1);
    assert_eq!(store.queue().last().map(|m| m.uuid.clone()), Some(changed.clone()));
    // Once parsed, the new version is the stored one: the next run is quiet again.
    store.parse_queued().unwrap();
    let third = run(&mut fetcher(&server, 0.0), &store, &options()).await;
    assert_eq!((third.changed, third.fetched), (0, 0));
}

#[tokio::test]
async fn new_posts_are_fetched_and_removed_ones_just_disappear() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let store = MemoryStore::new(everything());
    assert_completed(&run(&mut fetcher(&server, 0.0), &store, &options()).await);
    store.parse_queued().unwrap();
    let uuids = server.uuids();
    server.change(|s| {
        s.extra = 3;
        s.removed.insert(uuids[0].clone());
        s.removed.insert(uuids[1].clone());
    });
    let again = run(&mut fetcher(&server, 0.0), &store, &options()).await;
    assert_completed(&again);
    assert_eq!(
        (again.posts_seen, again.new, again.unchanged, again.fetched),
        (101, 3, 98, 3)
    );
    assert_eq!(queued_once(&store).len(), 103);
}

#[tokio::test]
async fn the_rate_limit_spaces_requests() {
    let server = FixtureServer::default_on_free_port().unwrap();
    // A narrow profile: a handful of posts, so the paced run stays short.
    let store = MemoryStore::new(vec![profile("narrow", &["engineer"], &["Information Technology"])]);
    let started = Instant::now();
    let summary = run(&mut fetcher(&server, 20.0), &store, &options()).await;
    let elapsed = started.elapsed();
    assert_completed(&summary);
    let requests = summary.requests;
    assert!(
        (3..=20).contains(&requests),
        "{requests} requests: pick a narrower profile"
    );
    // 20 requests/s, no burst: the n-th request leaves no earlier than (n-1) × 50 ms.
    let floor = std::time::Duration::from_millis(50 * u64::from(requests - 1));
    assert!(
        elapsed >= floor,
        "{requests} requests in {elapsed:?}, expected at least {floor:?}"
    );
    assert!(summary.timing.rate_wait_ms > 0.0);
}

#[tokio::test]
async fn the_summary_splits_time_between_mcf_and_the_scraper() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let store = MemoryStore::new(everything());
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;
    let t = &summary.timing;
    assert!(t.mcf_ms > 0.0 && t.total_ms >= t.mcf_ms + t.store_ms, "{t:?}");
    assert_eq!((t.rate_wait_ms, t.backoff_ms), (0.0, 0.0));
    let line = serde_json::to_value(&summary).unwrap();
    assert_eq!(line["outcome"], "completed");
    assert_eq!(line["timing"]["mcf_ms"], t.mcf_ms);
}

#[tokio::test]
async fn bad_profiles_and_no_profiles_stop_before_any_request() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let store = MemoryStore::new(vec![profile("typo", &[], &["IT"])]);
    let summary = run(&mut fetcher(&server, 0.0), &store, &options()).await;
    assert_eq!(summary.outcome, Outcome::Failed);
    let error = summary.error.unwrap();
    assert!(error.contains("`typo`") && error.contains("`IT`"), "{error}");

    let empty = run(&mut fetcher(&server, 0.0), &MemoryStore::new(vec![]), &options()).await;
    assert_eq!(empty.outcome, Outcome::Failed);
    assert!(empty.error.unwrap().contains("no search profiles"));
    assert_eq!(server.count(Route::Search) + server.count(Route::Detail), 0);
}

#[tokio::test]
async fn max_posts_stops_early_and_the_next_run_goes_on_from_there() {
    let server = FixtureServer::default_on_free_port().unwrap();
    let store = MemoryStore::new(everything());
    let limited = RunOptions {
        page_limit: 30,
        max_posts: Some(45),
        ..options()
    };
    let first = run(&mut fetcher(&server, 0.0), &store, &limited).await;
    assert_eq!(first.outcome, Outcome::Limited, "{first:?}");
    assert_eq!(first.outcome.exit_code(), 0);
    assert_eq!((first.fetched, first.enqueued, first.new), (45, 45, 45));
    assert_eq!(server.count(Route::Detail), 45);
    assert!(store.saved_checkpoint().is_some(), "a limited run keeps its checkpoint");

    // Without a limit the next run fetches exactly the other 55, each once.
    let unlimited = RunOptions {
        page_limit: 30,
        ..options()
    };
    let second = run(&mut fetcher(&server, 0.0), &store, &unlimited).await;
    assert_completed(&second);
    assert_eq!(second.resumed_from.as_deref(), Some(first.run_id.as_str()));
    assert_eq!(second.fetched, 55);
    assert_eq!(server.count(Route::Detail), 100);
    assert_eq!(queued_once(&store), server.uuids().into_iter().collect());
    assert_eq!(store.saved_checkpoint(), None);
}

#[tokio::test]
async fn the_run_logs_lines_of_the_one_format_to_its_sink() {
    use std::sync::Arc;

    use mcfcore::log::{Collect, Level, Log, LogLine};
    use mcffixture::Fault;

    let sink = Arc::new(Collect::new());
    let logging = RunOptions {
        log: Log::new(mcfscrape::COMPONENT, sink.clone()),
        ..RunOptions::default()
    };
    let server = FixtureServer::default_on_free_port().unwrap();
    let store = MemoryStore::new(vec![profile("all", &[], &[]), profile("data", &["data"], &[])]);
    let summary = run(&mut fetcher(&server, 0.0), &store, &logging).await;
    assert_completed(&summary);
    let lines = sink.take();
    let said: Vec<(Level, &str)> = lines.iter().map(|l| (l.level, l.message.as_str())).collect();
    assert_eq!(said.len(), 3, "{said:?}");
    assert!(
        said[0]
            .1
            .starts_with(&format!("run {} started: 2 search profile(s)", summary.run_id)),
        "{said:?}"
    );
    assert!(said[1].1.starts_with("profile `all` paged"), "{said:?}");
    assert!(said[2].1.starts_with("profile `data` paged"), "{said:?}");
    for line in &lines {
        assert_eq!((line.level, line.component.as_str()), (Level::Info, "mcfscrape"));
        // Written as the format says, and read back the same.
        assert_eq!(LogLine::parse(&line.to_json()).as_ref(), Some(line));
    }

    // A block is an error line; `quiet` writes none at all.
    let blocked = FixtureServer::start(
        0,
        Scenario::default(),
        vec![Fault::nth(Route::Search, 1, Fault::status(403))],
    )
    .unwrap();
    let summary = run(&mut fetcher(&blocked, 0.0), &MemoryStore::new(everything()), &logging).await;
    assert_eq!(summary.outcome, Outcome::Blocked);
    let last = sink.take().pop().expect("a line");
    assert_eq!(last.level, Level::Error);
    assert_eq!(Some(&last.message), summary.error.as_ref());
    let quiet = RunOptions { quiet: true, ..logging };
    run(&mut fetcher(&server, 0.0), &MemoryStore::new(everything()), &quiet).await;
    assert!(sink.take().is_empty());
}
