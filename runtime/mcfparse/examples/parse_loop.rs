//! Parses one capture in a loop, for profiling (`perf record`) without the benchmark harness:
//!
//!     CARGO_PROFILE_RELEASE_STRIP=false cargo build --release -p mcfparse --example parse_loop
//!     perf record --call-graph dwarf target/release/examples/parse_loop search_item|job_detail|job_page [seconds]
//!
//! Prints documents per second. `cargo xtask bench runtime` is the measurement of record.

use std::time::{Duration, Instant};

const SEARCH: &[u8] = include_bytes!("../../../tests/fixtures/mcf/api/search_page0_limit100.json");
const DETAIL: &[u8] = include_bytes!("../../../tests/fixtures/mcf/api/job_76d3310ae51348c561935cb2472f2883.json");
const PAGE: &[u8] = include_bytes!("../../../tests/fixtures/mcf/html/job_page_5624187c437fddd00296eecc783ed4cd.html");

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "search_item".into());
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let docs: Vec<Vec<u8>> = match kind.as_str() {
        "search_item" => {
            let search: serde_json::Value = serde_json::from_slice(SEARCH).expect("JSON");
            search["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|item| serde_json::to_vec(item).expect("serialise"))
                .collect()
        }
        "job_detail" => vec![DETAIL.to_vec()],
        "job_page" => vec![PAGE.to_vec()],
        other => panic!("unknown kind {other}"),
    };
    let budget = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut parsed = 0u64;
    while started.elapsed() < budget {
        for doc in &docs {
            let post = mcfparse::parse_document(std::hint::black_box(doc)).expect("parses");
            std::hint::black_box(&post);
            parsed += 1;
        }
    }
    println!(
        "{kind}: {:.0} docs/s ({parsed} documents)",
        parsed as f64 / started.elapsed().as_secs_f64()
    );
}
