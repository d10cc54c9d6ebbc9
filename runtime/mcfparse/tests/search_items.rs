//! All 100 results of the captured search page, every field against the raw JSON.

mod common;

use mcfcore::Source;
use mcfparse::{parse_document, parse_search_item, parse_search_response, uuid_from_job_post_id};

#[test]
fn every_result_parses_and_every_field_matches_the_raw_json() {
    let page = parse_search_response(common::SEARCH).expect("the captured page parses");
    let raw = common::search_items();
    assert_eq!(raw.len(), 100);
    assert!(page.rejects.is_empty(), "{:?}", page.rejects);
    assert_eq!(page.posts.len(), raw.len());
    for (post, item) in page.posts.iter().zip(&raw) {
        common::assert_matches_raw(post, item, Source::SearchItem);
    }
}

#[test]
fn page_information_comes_from_the_links_and_counts() {
    let page = parse_search_response(common::SEARCH).expect("parses");
    assert_eq!(page.total, 10_000);
    assert_eq!(page.count_without_filters, Some(71_245));
    assert_eq!(page.page, 0);
    assert_eq!(page.next_page, Some(1));
    assert_eq!(
        page.next_href.as_deref(),
        Some("https://api.mycareersfuture.gov.sg/v2/search?limit=100&page=1")
    );
    assert_eq!(page.last_page, Some(99));
    assert!(page.search_ranking_id.is_some());
}

#[test]
fn uuid_is_md5_of_job_post_id_and_ends_the_url_for_all_100() {
    for item in common::search_items() {
        let uuid = item["uuid"].as_str().expect("uuid");
        let job_post_id = item["metadata"]["jobPostId"].as_str().expect("jobPostId");
        assert_eq!(uuid_from_job_post_id(job_post_id), uuid, "{job_post_id}");
        let url = item["metadata"]["jobDetailsUrl"].as_str().expect("url");
        assert!(url.ends_with(&format!("-{uuid}")), "{url}");
    }
}

#[test]
fn a_single_stored_item_parses_the_same_alone_and_through_the_sniffer() {
    let page = parse_search_response(common::SEARCH).expect("parses");
    for (post, item) in page.posts.iter().zip(common::search_items()) {
        let bytes = serde_json::to_vec(&item).expect("serialise");
        assert_eq!(&parse_search_item(&bytes).expect("alone"), post);
        assert_eq!(&parse_document(&bytes).expect("sniffed"), post);
    }
}

#[test]
fn posted_on_behalf_items_name_the_hiring_company_and_keep_the_agency() {
    let page = parse_search_response(common::SEARCH).expect("parses");
    let on_behalf: Vec<_> = page.posts.iter().filter(|p| p.posted_by_name.is_some()).collect();
    // The capture has 8 such posts (PERSOLKELLY and MORGAN MCKINLEY for Huawei, KEXIM, ...).
    assert_eq!(on_behalf.len(), 8);
    assert!(on_behalf.iter().all(|p| p.posted_on_behalf == Some(true)));
    assert!(
        on_behalf
            .iter()
            .any(|p| p.company_name == "HUAWEI INTERNATIONAL PTE. LTD."
                && p.posted_by_name.as_deref() == Some("PERSOLKELLY SINGAPORE PTE. LTD."))
    );
}
