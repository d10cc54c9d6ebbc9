//! The captured job detail: every field, the description text, and how it merges with the
//! search-item view of the same post.

mod common;

use mcfcore::{MergeOutcome, PostStatus, Source};
use mcfparse::{parse_document, parse_job_detail, parse_search_item_value};
use serde_json::{Value, json};

#[test]
fn every_field_matches_the_raw_json() {
    let post = parse_job_detail(common::DETAIL).expect("the captured detail parses");
    common::assert_matches_raw(&post, &common::json(common::DETAIL), Source::JobDetail);
}

#[test]
fn detail_only_fields_have_their_values() {
    let post = parse_job_detail(common::DETAIL).expect("parses");
    assert_eq!(post.uuid, "76d3310ae51348c561935cb2472f2883");
    assert_eq!(post.job_post_id.as_deref(), Some("MCF-2025-0719115"));
    assert_eq!(
        post.title,
        "Restructuring & Insolvency Senior Manager / Associate Director"
    );
    assert_eq!(post.company_name, "GRANT THORNTON SINGAPORE PRIVATE LIMITED");
    assert_eq!(post.company_uen.as_deref(), Some("201417761Z"));
    assert_eq!(
        (post.salary_min, post.salary_max, post.salary_type.as_deref()),
        (Some(9000), Some(12000), Some("Monthly"))
    );
    assert_eq!(post.expiry_date.as_deref(), Some("2025-06-18"));
    assert_eq!(post.original_posted_date.as_deref(), Some("2025-05-19"));
    assert_eq!(post.updated_at.as_deref(), Some("2025-05-19T08:02:16Z"));
    assert_eq!(post.views, Some(8));
    assert_eq!(post.applications, Some(1));
    assert_eq!(post.vacancies, Some(1));
    assert_eq!(post.min_years_experience, Some(9));
    assert_eq!(post.employment_types, ["Permanent", "Full Time"]);
    assert_eq!(post.skills.len(), 18);
    assert_eq!((post.status, post.status_code), (PostStatus::Open, Some(102)));
}

#[test]
fn description_is_plain_text_one_block_per_line() {
    let text = parse_job_detail(common::DETAIL)
        .expect("parses")
        .description
        .expect("description");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "The Restructuring and Insolvency team");
    assert!(lines.contains(&"Responsibilities"));
    assert!(lines.contains(&"- Strong transaction execution capabilities"));
    assert!(
        lines.contains(
            &"- Bachelor\u{2019}s degree in Accounting, Business, Economics, Finance or other relevant field"
        )
    );
    assert_eq!(
        lines.last(),
        Some(&"- Excellent verbal and written communication skills")
    );
    assert!(!text.contains('<') && !text.contains('>') && !text.contains("&amp;") && !text.contains("&#"));
    assert!(
        lines
            .iter()
            .all(|l| l.trim() == *l && !l.is_empty() && !l.contains("  "))
    );

    // Independently: cutting the raw HTML at every tag gives the same blocks in the same order.
    let raw = common::json(common::DETAIL);
    let html = raw["description"].as_str().expect("raw description");
    let mut blocks = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        blocks.push(&rest[..start]);
        rest = rest[start..].split_once('>').map_or("", |(_, after)| after);
    }
    blocks.push(rest);
    let blocks: Vec<String> = blocks
        .iter()
        .map(|b| b.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|b| !b.is_empty())
        .collect();
    let unbulleted: Vec<&str> = lines.iter().map(|l| l.strip_prefix("- ").unwrap_or(l)).collect();
    assert_eq!(unbulleted, blocks);
    let items = html.matches("<li>").count();
    assert_eq!(lines.iter().filter(|l| l.starts_with("- ")).count(), items);
}

#[test]
fn the_sniffer_recognises_a_detail() {
    let post = parse_document(common::DETAIL).expect("sniffed");
    assert_eq!(post.source, Source::JobDetail);
    assert_eq!(post, parse_job_detail(common::DETAIL).expect("parses"));
}

/// The same post as a search item would show it: no detail-only keys, `status.id` a string,
/// `updatedAt` without milliseconds or zone.
fn as_search_item(detail: &Value) -> Value {
    let mut item = detail.clone();
    let obj = item.as_object_mut().expect("object");
    for key in [
        "description",
        "minimumYearsExperience",
        "numberOfVacancies",
        "_links",
        "sourceCode",
    ] {
        obj.remove(key);
    }
    let meta = obj["metadata"].as_object_mut().expect("metadata");
    for key in ["expiryDate", "totalNumberOfView", "originalPostingDate"] {
        meta.remove(key);
    }
    meta.insert("updatedAt".into(), json!("2025-05-19T08:02:16"));
    obj.insert("status".into(), json!({"id": "102", "jobStatus": "Open"}));
    item
}

#[test]
fn a_detail_completes_the_search_item_of_the_same_post_in_either_order() {
    let raw = common::json(common::DETAIL);
    let detail = parse_job_detail(common::DETAIL).expect("detail");
    let item = parse_search_item_value(&as_search_item(&raw)).expect("item");
    assert_eq!(
        item.updated_at, detail.updated_at,
        "both shapes of updatedAt normalise alike"
    );
    assert_eq!((item.description.as_ref(), item.views), (None, None));

    let mut merged = item.clone();
    assert_eq!(merged.merge(detail.clone()), MergeOutcome::Replaced);
    assert_eq!(merged, detail);

    let mut merged = detail.clone();
    assert_eq!(merged.merge(item.clone()), MergeOutcome::Unchanged);
    assert_eq!(merged, detail);
}

#[test]
fn an_older_detail_does_not_undo_a_newer_search_item() {
    let raw = common::json(common::DETAIL);
    let detail = parse_job_detail(common::DETAIL).expect("detail");
    let mut newer = as_search_item(&raw);
    newer["title"] = json!("Restructuring Director");
    newer["metadata"]["updatedAt"] = json!("2025-05-20T01:00:00");
    newer["metadata"]["totalNumberJobApplication"] = json!(4);
    let mut post = parse_search_item_value(&newer).expect("item");
    assert_eq!(post.merge(detail), MergeOutcome::Filled);
    assert_eq!(post.title, "Restructuring Director");
    assert_eq!(post.updated_at.as_deref(), Some("2025-05-20T01:00:00Z"));
    assert_eq!(post.applications, Some(4));
    assert_eq!((post.views, post.expiry_date.as_deref()), (Some(8), Some("2025-06-18")));
    assert!(post.description.is_some());
}
