//! Memory of one batch of 10 (the Lambda's unit of work): the handler keeps one document at a
//! time, so a batch costs about what the largest document costs to parse, not ten times it.
//! Measured with Linux's peak-RSS counter, reset just before the batch: the peak of this whole
//! test process (debug build, the deployer and the harness linked in) while it handles the
//! batch, an upper bound for the release Lambda binary, against the 64 MB the issue allows.

mod common;

use bytes::Bytes;
use common::*;
use mcfcore::layout::raw_key;

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

#[test]
fn a_batch_of_ten_peaks_well_under_64_mb() {
    let local = Local::start();
    // The heaviest mix the captures give: six copies of the 124 KB rendered job page (an HTML
    // DOM is the most expensive parse), the job detail and three search items.
    let mut docs = Vec::new();
    for day in 1..=6 {
        let key = raw_key(&format!("2026-11-0{day}"), PAGE_UUID, "html");
        docs.push((
            mcfcore::layout::ParseMessage {
                uuid: PAGE_UUID.into(),
                key,
            },
            Bytes::from_static(PAGE),
        ));
    }
    docs.extend(documents().into_iter().take(4));
    local.put_documents(&docs);
    let messages: Vec<_> = docs.iter().map(|(m, _)| m).collect();
    local.send(&messages);

    // Warm up the clients (connections, credentials) so the batch measures the work only.
    local.get(PAGE_UUID);
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS counter");
    let before = status_kb("VmRSS:");
    let summary = local.drain(&local.handler, &mcfparse_lambda::DrainOptions::default());
    let peak = status_kb("VmHWM:");
    assert_eq!(
        (summary.received, summary.batches, summary.failed),
        (10, 1, 0),
        "{summary:?}"
    );
    println!("batch of 10: RSS before {before} KB, peak during the batch {peak} KB");
    assert!(peak < 64 * 1024, "peak RSS {peak} KB while handling a batch of 10");
}
