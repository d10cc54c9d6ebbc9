//! The runtime benchmark's code paths, exercised cheaply so that they cannot rot between runs
//! of `cargo xtask bench runtime`. Nothing here is timed or compared with a threshold.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn prepared(items: usize) -> (tempfile::TempDir, Vec<mcfbench::Entry>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = mcfbench::prepare(&workspace().join("tests/fixtures/mcf"), dir.path(), Some(items))
        .expect("prepare the captures");
    (dir, manifest)
}

#[test]
fn the_python_peer_reads_the_same_posts_as_mcfparse() {
    let (dir, manifest) = prepared(1);
    assert_eq!(
        manifest.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["search_item", "job_detail", "job_page"]
    );
    // The same Python the benchmark uses (bs4 + lxml, installed into a venv when missing).
    let ui = xtask::ui::Ui::new(xtask::ui::Format::Text);
    let python = xtask::bench::runtime::python_with_bs4(&workspace(), &ui).expect("python with bs4");
    let out = Command::new(&python.python)
        .arg(workspace().join("bench/parse_python.py"))
        .arg("--docs")
        .arg(dir.path())
        .arg("--check")
        .output()
        .expect("run parse_python.py");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per document"))
        .collect();
    assert_eq!(lines.len(), manifest.len());
    for (entry, python) in manifest.iter().zip(&lines) {
        let bytes = std::fs::read(dir.path().join(&entry.file)).unwrap();
        let post = mcfparse::parse_document(&bytes).expect("mcfparse reads it");
        assert_eq!(python["file"], entry.file.as_str());
        assert_eq!(python["uuid"], post.uuid.as_str(), "{}", entry.file);
        assert_eq!(python["title"], post.title.as_str(), "{}", entry.file);
        assert_eq!(python["company_name"], post.company_name.as_str(), "{}", entry.file);
    }
}

#[test]
fn throughput_reports_every_kind_for_every_run() {
    let (dir, manifest) = prepared(3);
    let docs = mcfbench::load(dir.path()).unwrap();
    assert_eq!(docs.len(), manifest.len());
    let report = mcfbench::throughput(&docs, Duration::ZERO, 2).unwrap();
    assert_eq!(report.runs.len(), 2);
    assert_eq!(report.set["search_item"], 3);
    for run in &report.runs {
        for kind in mcfbench::KINDS {
            assert!(run[kind].docs >= report.set[kind], "{kind}: one pass at least");
        }
    }
}

#[tokio::test]
async fn the_scraper_run_reports_its_overhead_per_post() {
    let server = mcffixture::FixtureServer::default_on_free_port().unwrap();
    let run = mcfbench::scrape_run(&server).await.unwrap();
    assert_eq!((run.fetched, run.requests, run.fixture_requests), (100, 101, 101));
    assert!(
        run.overhead_ms_per_post > 0.0 && run.fixture_ms_per_request > 0.0,
        "{run:?}"
    );
    assert!(run.mcf_ms + run.store_ms <= run.total_ms, "{run:?}");
}

/// The CRM benchmark's request mix on its synthetic set, in memory: every filter parses and
/// matches jobs, the first has a second page for the cursor request, and the cursor page
/// continues it. (The server and the naive baseline need moto: `cargo xtask bench crm`.)
#[test]
fn the_crm_filters_match_the_synthetic_set_and_the_cursor_pages_on() {
    let today = jobmatch::Day::parse("2026-11-29").unwrap();
    let mut index = jobcrm_lambda::list::Index::default();
    for (job, _) in xtask::bench::crm::synthetic_jobs(1000, today) {
        index.put(job);
    }
    assert_eq!(index.len(), 1000);
    let mut filters = mcfbench::crm::filters("2026-11-15");
    let (total, items, body) = mcfbench::crm::in_memory(&index, &filters[0].1).unwrap();
    assert!(total > items && items == 50, "{total} {items}");
    let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let cursor = page["next"].as_str().expect("a second page");
    filters.last_mut().unwrap().1.push_str(cursor);
    for (name, query) in &filters {
        let (total, items, _) = mcfbench::crm::in_memory(&index, query).unwrap();
        assert!(total > 0 && items > 0, "{name}: {query}");
    }
    let (second, items, _) = mcfbench::crm::in_memory(&index, &filters.last().unwrap().1).unwrap();
    assert_eq!((second, items), (total, 50), "the same filter, its second page");
}
