//! Shared helpers of the scraper tests: profiles, a fast fetcher for a fixture server, and
//! checks on what a run left in the memory store.
#![allow(dead_code)]

use std::collections::HashSet;
use std::time::Duration;

use mcfcore::SearchProfile;
use mcffixture::FixtureServer;
use mcfscrape::{ClientConfig, Fetcher, McfClient, MemoryStore, RetryPolicy, RunOptions, RunSummary};

pub fn profile(name: &str, keywords: &[&str], categories: &[&str]) -> SearchProfile {
    SearchProfile {
        name: name.into(),
        track: "track".into(),
        keywords: keywords.iter().map(|k| k.to_string()).collect(),
        categories: categories.iter().map(|c| c.to_string()).collect(),
        employment_types: vec![],
        position_levels: vec![],
        min_salary: None,
    }
}

/// Every captured post.
pub fn everything() -> Vec<SearchProfile> {
    vec![profile("all", &[], &[])]
}

/// Short timeouts and millisecond backoff, so fault tests take milliseconds.
pub fn fetcher(server: &FixtureServer, rate: f64) -> Fetcher {
    fetcher_with(server, rate, 4, Duration::from_millis(400))
}

pub fn fetcher_with(server: &FixtureServer, rate: f64, max_attempts: u32, timeout: Duration) -> Fetcher {
    let client = McfClient::new(&ClientConfig {
        base_url: server.url().to_string(),
        connect_timeout: Duration::from_secs(2),
        request_timeout: timeout,
        ..ClientConfig::default()
    })
    .expect("client");
    let policy = RetryPolicy {
        max_attempts,
        base: Duration::from_millis(2),
        cap: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(5),
    };
    Fetcher::new(client, policy, rate)
}

pub fn options() -> RunOptions {
    RunOptions {
        quiet: true,
        ..RunOptions::default()
    }
}

/// uuids queued, checking none was queued twice.
pub fn queued_once(store: &MemoryStore) -> HashSet<String> {
    let queue = store.queue();
    let uuids: HashSet<String> = queue.iter().map(|m| m.uuid.clone()).collect();
    assert_eq!(uuids.len(), queue.len(), "a post was queued twice: {queue:?}");
    uuids
}

pub fn assert_completed(summary: &RunSummary) {
    assert_eq!(summary.outcome, mcfscrape::Outcome::Completed, "{summary:#?}");
    assert!(summary.error.is_none(), "{summary:#?}");
}
