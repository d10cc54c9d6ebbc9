//! The documents the fake server answers with: the embedded captures, the scenario changes a
//! test applies to them (changed, extra and removed posts), and the job details synthesised
//! for the search results that have no captured detail.

use md5::{Digest, Md5};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The captures, embedded so the binary serves them from anywhere.
const SEARCH_PAGE: &[u8] = include_bytes!("../../../tests/fixtures/mcf/api/search_page0_limit100.json");
const DETAIL: &[u8] = include_bytes!("../../../tests/fixtures/mcf/api/job_76d3310ae51348c561935cb2472f2883.json");

/// MCF's results cap: pages from this one on answer 418.
pub const MAX_PAGE: u32 = 100;

/// The captured documents, parsed once.
#[derive(Debug)]
pub struct Catalog {
    /// The 100 captured search results, newest first as MCF sorted them.
    pub items: Vec<Value>,
    /// The captured job detail (its post is not among the search results).
    pub detail: Value,
    pub detail_uuid: String,
}

impl Catalog {
    pub fn embedded() -> Catalog {
        // The captures are part of this crate's source: a broken one is a build-time mistake.
        let page: Value = serde_json::from_slice(SEARCH_PAGE).expect("embedded search capture is JSON");
        let detail: Value = serde_json::from_slice(DETAIL).expect("embedded detail capture is JSON");
        let items = page["results"].as_array().cloned().unwrap_or_default();
        let detail_uuid = detail["uuid"].as_str().unwrap_or_default().to_string();
        Catalog {
            items,
            detail,
            detail_uuid,
        }
    }

    /// The uuids of the captured search results, in order.
    pub fn uuids(&self) -> Vec<String> {
        self.items
            .iter()
            .filter_map(|i| i["uuid"].as_str().map(str::to_string))
            .collect()
    }
}

/// How the served data differs from the captures in this run of a test.
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    /// uuid → how many times its `updatedAt` was moved forward (a "changed post").
    pub bumped: BTreeMap<String, u32>,
    /// New posts served before the captured ones (newest first), derived from them.
    pub extra: u32,
    /// Posts that disappeared from search and answer 404 as details.
    pub removed: BTreeSet<String>,
    /// The `total` an unfiltered query reports (MCF reports 10,000 whatever the market holds).
    pub capped_total: Option<u64>,
    /// Every page links a next page and none is "last": pagination ends only on MCF's 418.
    pub endless_links: bool,
}

impl Scenario {
    /// The search results as served now, before filtering.
    pub fn results(&self, catalog: &Catalog) -> Vec<Value> {
        let mut out = Vec::with_capacity(catalog.items.len() + self.extra as usize);
        for n in 0..self.extra {
            let Some(template) = catalog.items.get(n as usize % catalog.items.len().max(1)) else {
                break;
            };
            out.push(extra_item(template, n));
        }
        for item in &catalog.items {
            let uuid = item["uuid"].as_str().unwrap_or_default();
            if self.removed.contains(uuid) {
                continue;
            }
            let mut item = item.clone();
            if let Some(times) = self.bumped.get(uuid) {
                item["metadata"]["updatedAt"] = json!(bumped_time(*times));
            }
            out.push(item);
        }
        out
    }
}

impl Scenario {
    /// One post as served now (the detail route needs one, not all 100 copied).
    pub fn item(&self, catalog: &Catalog, uuid: &str) -> Option<Value> {
        if self.removed.contains(uuid) {
            return None;
        }
        if let Some(mut item) = catalog.items.iter().find(|i| i["uuid"] == uuid).cloned() {
            if let Some(times) = self.bumped.get(uuid) {
                item["metadata"]["updatedAt"] = json!(bumped_time(*times));
            }
            return Some(item);
        }
        (0..self.extra)
            .filter_map(|n| {
                catalog
                    .items
                    .get(n as usize % catalog.items.len().max(1))
                    .map(|t| extra_item(t, n))
            })
            .find(|i| i["uuid"] == uuid)
    }
}

/// A later `updatedAt` for the `times`-th change (later than any capture, and growing).
fn bumped_time(times: u32) -> String {
    format!(
        "2030-01-01T{:02}:{:02}:{:02}",
        times / 3600 % 24,
        times / 60 % 60,
        times % 60
    )
}

/// An extra post: a copy of a capture under a new jobPostId, so `uuid == md5(jobPostId)` holds.
fn extra_item(template: &Value, n: u32) -> Value {
    let job_post_id = format!("MCF-2099-{:07}", n + 1);
    let uuid = hex::encode(Md5::digest(job_post_id.as_bytes()));
    let mut item = template.clone();
    item["uuid"] = json!(uuid);
    item["title"] = json!(format!(
        "{} (extra {})",
        template["title"].as_str().unwrap_or("Job"),
        n + 1
    ));
    item["metadata"]["jobPostId"] = json!(job_post_id);
    item["metadata"]["updatedAt"] = json!(format!("2029-12-31T00:00:{:02}", n % 60));
    item["metadata"]["newPostingDate"] = json!("2029-12-31");
    item["metadata"]["jobDetailsUrl"] = json!(format!("https://www.mycareersfuture.gov.sg/job/extra/extra-{uuid}"));
    item
}

/// The job detail of a search item: the captured detail's shape with the item's values, and a
/// description, experience, vacancies and expiry that only a detail carries.
pub fn synthesise_detail(catalog: &Catalog, item: &Value) -> Value {
    let mut detail = catalog.detail.clone();
    let (Some(target), Some(source)) = (detail.as_object_mut(), item.as_object()) else {
        return detail;
    };
    for (key, value) in source {
        if key == "metadata" || key == "score" {
            continue;
        }
        target.insert(key.clone(), value.clone());
    }
    if let (Some(meta), Some(item_meta)) = (
        target.get_mut("metadata").and_then(Value::as_object_mut),
        source.get("metadata").and_then(Value::as_object),
    ) {
        for (key, value) in item_meta {
            meta.insert(key.clone(), value.clone());
        }
        // The detail writes timestamps with milliseconds and a zone, the search item without.
        if let Some(updated) = item_meta.get("updatedAt").and_then(Value::as_str) {
            let stamp = format!("{updated}.000Z");
            meta.insert("updatedAt".into(), json!(stamp));
            meta.insert("createdAt".into(), json!(stamp));
        }
        if let Some(posted) = item_meta.get("newPostingDate") {
            meta.insert("originalPostingDate".into(), posted.clone());
        }
        meta.insert("totalNumberOfView".into(), json!(0));
    }
    let title = source.get("title").and_then(Value::as_str).unwrap_or("this job");
    target.insert(
        "description".into(),
        json!(format!(
            "<p><strong>{title}</strong></p>\n<ul>\n  <li>Synthesised by mcffixture from the search item.</li>\n</ul>"
        )),
    );
    // `status.id` is a string in search items and a number in details.
    if let Some(id) = item
        .pointer("/status/id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<u64>().ok())
    {
        target.insert(
            "status".into(),
            json!({"id": id, "jobStatus": item.pointer("/status/jobStatus").cloned().unwrap_or(Value::Null)}),
        );
    }
    if let Some(uuid) = source.get("uuid").and_then(Value::as_str) {
        target.insert(
            "_links".into(),
            json!({"self": {"href": format!("https://api.mycareersfuture.gov.sg/v2/jobs/{uuid}")}}),
        );
    }
    detail
}

/// Whether an item matches a search body: any of the body's categories (none = all), and
/// every word of `search` in the title or the skills (case-insensitive). MCF's own matching is
/// fuzzier; this is enough for tests to give profiles different results.
pub fn matches(item: &Value, categories: &[String], search: &str) -> bool {
    let item_categories = names(item, "categories", "category");
    if !categories.is_empty() && !item_categories.iter().any(|c| categories.contains(c)) {
        return false;
    }
    let mut text = item["title"].as_str().unwrap_or_default().to_lowercase();
    for skill in names(item, "skills", "skill") {
        text.push(' ');
        text.push_str(&skill.to_lowercase());
    }
    search
        .split_whitespace()
        .all(|word| text.contains(&word.to_lowercase()))
}

fn names(item: &Value, list: &str, key: &str) -> Vec<String> {
    item[list]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e[key].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// One page of search results as MCF would send it. `base` is the server's own URL for links.
pub fn search_page(results: &[Value], total: u64, limit: u32, page: u32, endless: bool, base: &str) -> Value {
    let start = (page as usize).saturating_mul(limit as usize);
    let slice: Vec<Value> = results.iter().skip(start).take(limit as usize).cloned().collect();
    let href = |p: u32| {
        let page = if p == 0 { String::new() } else { format!("&page={p}") };
        json!({"href": format!("{base}/v2/search?limit={limit}{page}")})
    };
    let pages = total.div_ceil(u64::from(limit.max(1))).max(1);
    let last = u32::try_from(pages - 1).unwrap_or(u32::MAX).min(MAX_PAGE - 1);
    let mut links = serde_json::Map::new();
    if endless || page < last {
        links.insert("next".into(), href(page + 1));
    }
    links.insert("self".into(), href(page));
    links.insert("first".into(), href(0));
    if !endless {
        links.insert("last".into(), href(last));
    }
    json!({
        "_links": links,
        "searchRankingId": "00000000-0000-0000-0000-mcffixture00",
        "results": slice,
        "total": total,
        "countWithoutFilters": 71245,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_result_has_a_detail_that_parses_with_the_same_version() {
        let catalog = Catalog::embedded();
        let scenario = Scenario {
            extra: 3,
            ..Scenario::default()
        };
        let results = scenario.results(&catalog);
        assert_eq!(results.len(), 103);
        for item in &results {
            let bytes = serde_json::to_vec(&synthesise_detail(&catalog, item)).unwrap();
            let detail = mcfparse::parse_job_detail(&bytes).unwrap();
            let search = mcfparse::parse_search_item_value(item).unwrap();
            assert_eq!(detail.uuid, search.uuid);
            assert_eq!(detail.updated_at, search.updated_at);
            assert!(detail.description.is_some());
            let job_post_id = detail.job_post_id.clone().unwrap();
            assert_eq!(mcfparse::uuid_from_job_post_id(&job_post_id), detail.uuid);
        }
    }

    #[test]
    fn bumps_move_the_version_forward() {
        let catalog = Catalog::embedded();
        let uuid = catalog.uuids()[5].clone();
        let mut scenario = Scenario::default();
        scenario.bumped.insert(uuid.clone(), 1);
        let first = scenario.results(&catalog)[5]["metadata"]["updatedAt"].clone();
        scenario.bumped.insert(uuid, 2);
        let second = scenario.results(&catalog)[5]["metadata"]["updatedAt"].clone();
        assert!(first.as_str().unwrap() > catalog.items[5]["metadata"]["updatedAt"].as_str().unwrap());
        assert!(second.as_str().unwrap() > first.as_str().unwrap());
    }

    #[test]
    fn links_follow_mcf() {
        let catalog = Catalog::embedded();
        let page = search_page(&catalog.items, 100, 30, 3, false, "http://x");
        assert_eq!(page["results"].as_array().unwrap().len(), 10);
        assert!(page["_links"].get("next").is_none());
        assert_eq!(page["_links"]["last"]["href"], "http://x/v2/search?limit=30&page=3");
        let capped = search_page(&catalog.items, 10_000, 100, 0, false, "http://x");
        assert_eq!(capped["_links"]["last"]["href"], "http://x/v2/search?limit=100&page=99");
    }

    #[test]
    fn filters_by_category_and_words() {
        let catalog = Catalog::embedded();
        let it = vec!["Information Technology".to_string()];
        let n = catalog.items.iter().filter(|i| matches(i, &it, "")).count();
        assert_eq!(n, 38);
        assert!(catalog.items.iter().filter(|i| matches(i, &[], "engineer")).count() > 0);
    }
}
