//! Fixtures (copied into the repository from the shared MCF captures) and an independent
//! reading of the raw API JSON to compare parsed posts against.
#![allow(dead_code)] // each test binary uses a different part of this module

use mcfcore::{Post, PostStatus, Source};
use serde_json::Value;

pub const SEARCH: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/mcf/api/search_page0_limit100.json"
));
pub const DETAIL: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/mcf/api/job_76d3310ae51348c561935cb2472f2883.json"
));
pub const PAGE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/mcf/html/job_page_5624187c437fddd00296eecc783ed4cd.html"
));

pub fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("fixture is valid JSON")
}

pub fn search_items() -> Vec<Value> {
    json(SEARCH)["results"].as_array().expect("results array").clone()
}

fn words(v: &Value) -> Option<String> {
    v.as_str()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
}

fn string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn number(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| u32::try_from(n).expect("fits u32")),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .map(|items| items.iter().filter_map(|i| words(&i[key])).collect())
        .unwrap_or_default()
}

/// Checks every field of `post` against the raw API job object it was parsed from. The
/// destructuring has no `..`: a field added to `Post` does not compile here until it is checked.
pub fn assert_matches_raw(post: &Post, raw: &Value, source: Source) {
    let Post {
        uuid,
        job_post_id,
        title,
        company_name,
        company_uen,
        posted_by_name,
        posted_by_uen,
        posted_on_behalf,
        salary_min,
        salary_max,
        salary_type,
        hide_salary,
        employment_types,
        position_levels,
        categories,
        skills,
        min_years_experience,
        vacancies,
        posted_date,
        original_posted_date,
        expiry_date,
        updated_at,
        applications,
        views,
        districts,
        regions,
        description,
        url,
        status,
        status_code,
        source: post_source,
    } = post;
    let meta = &raw["metadata"];
    let ctx = format!("post {}", raw["uuid"]);

    assert_eq!(Some(uuid.clone()), string(&raw["uuid"]), "{ctx}: uuid");
    assert_eq!(*job_post_id, string(&meta["jobPostId"]), "{ctx}: job_post_id");
    assert_eq!(Some(title.clone()), words(&raw["title"]), "{ctx}: title");

    let hiring_shown = raw["hiringCompany"].is_object() && meta["isHideHiringEmployerName"] != Value::Bool(true);
    let posted = &raw["postedCompany"];
    if hiring_shown {
        let hiring = &raw["hiringCompany"];
        assert_eq!(
            Some(company_name.clone()),
            words(&hiring["name"]),
            "{ctx}: company_name (hiring)"
        );
        assert_eq!(*company_uen, string(&hiring["uen"]), "{ctx}: company_uen (hiring)");
        assert_eq!(*posted_by_name, words(&posted["name"]), "{ctx}: posted_by_name");
        assert_eq!(*posted_by_uen, string(&posted["uen"]), "{ctx}: posted_by_uen");
    } else {
        assert_eq!(
            Some(company_name.clone()),
            words(&posted["name"]),
            "{ctx}: company_name (posted)"
        );
        assert_eq!(*company_uen, string(&posted["uen"]), "{ctx}: company_uen (posted)");
        assert_eq!((posted_by_name, posted_by_uen), (&None, &None), "{ctx}: posted_by");
    }
    assert_eq!(
        *posted_on_behalf,
        meta["isPostedOnBehalf"].as_bool(),
        "{ctx}: posted_on_behalf"
    );

    assert_eq!(*salary_min, number(&raw["salary"]["minimum"]), "{ctx}: salary_min");
    assert_eq!(*salary_max, number(&raw["salary"]["maximum"]), "{ctx}: salary_max");
    assert_eq!(
        *salary_type,
        string(&raw["salary"]["type"]["salaryType"]),
        "{ctx}: salary_type"
    );
    assert_eq!(*hide_salary, meta["isHideSalary"].as_bool(), "{ctx}: hide_salary");

    assert_eq!(
        *employment_types,
        names(&raw["employmentTypes"], "employmentType"),
        "{ctx}: employment_types"
    );
    assert_eq!(
        *position_levels,
        names(&raw["positionLevels"], "position"),
        "{ctx}: position_levels"
    );
    assert_eq!(*categories, names(&raw["categories"], "category"), "{ctx}: categories");
    assert_eq!(*skills, names(&raw["skills"], "skill"), "{ctx}: skills");

    assert_eq!(
        *min_years_experience,
        number(&raw["minimumYearsExperience"]),
        "{ctx}: min_years_experience"
    );
    assert_eq!(*vacancies, number(&raw["numberOfVacancies"]), "{ctx}: vacancies");
    assert_eq!(*posted_date, string(&meta["newPostingDate"]), "{ctx}: posted_date");
    assert_eq!(
        *original_posted_date,
        string(&meta["originalPostingDate"]),
        "{ctx}: original_posted_date"
    );
    assert_eq!(*expiry_date, string(&meta["expiryDate"]), "{ctx}: expiry_date");

    // updatedAt is UTC in both shapes: "2025-05-16T08:33:52" (search) and
    // "2025-05-19T08:02:16.000Z" (detail) both become whole seconds with a Z.
    let raw_updated = meta["updatedAt"].as_str().expect("updatedAt");
    let expected_updated = format!("{}Z", &raw_updated[..19]);
    assert_eq!(
        updated_at.as_deref(),
        Some(expected_updated.as_str()),
        "{ctx}: updated_at"
    );

    assert_eq!(
        *applications,
        number(&meta["totalNumberJobApplication"]),
        "{ctx}: applications"
    );
    assert_eq!(*views, number(&meta["totalNumberOfView"]), "{ctx}: views");

    let raw_districts = raw["address"]["districts"].as_array().cloned().unwrap_or_default();
    let expected_districts: Vec<String> = raw_districts.iter().filter_map(|d| words(&d["location"])).collect();
    let mut expected_regions: Vec<String> = Vec::new();
    for region in raw_districts.iter().filter_map(|d| words(&d["region"])) {
        if !expected_regions.contains(&region) {
            expected_regions.push(region);
        }
    }
    assert_eq!(*districts, expected_districts, "{ctx}: districts");
    assert_eq!(*regions, expected_regions, "{ctx}: regions");

    match (description, raw["description"].as_str()) {
        (None, None) => {}
        (Some(text), Some(html)) => {
            assert!(!text.trim().is_empty() && !html.trim().is_empty(), "{ctx}: description");
            assert!(
                !text.contains('<') && !text.contains("&amp;") && !text.contains("&nbsp;"),
                "{ctx}: markup left"
            );
        }
        (parsed, raw_html) => panic!("{ctx}: description {parsed:?} vs raw {raw_html:?}"),
    }
    assert_eq!(*url, string(&meta["jobDetailsUrl"]), "{ctx}: url");

    let raw_code = number(&raw["status"]["id"]).expect("status.id");
    assert_eq!(
        *status_code,
        Some(u16::try_from(raw_code).expect("u16")),
        "{ctx}: status_code"
    );
    let expected_status = match raw["status"]["jobStatus"].as_str() {
        Some("Open") => PostStatus::Open,
        Some("Re-open") => PostStatus::Reopened,
        other => panic!("{ctx}: a status label the captures did not have: {other:?}"),
    };
    assert_eq!(*status, expected_status, "{ctx}: status");
    assert_eq!(*post_source, source, "{ctx}: source");
}

/// Flips `flips` bytes of `base` at positions and values drawn by proptest.
pub fn mangle(base: &[u8], flips: &[(proptest::sample::Index, u8)]) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for (at, value) in flips {
        let i = at.index(bytes.len());
        bytes[i] = *value;
    }
    bytes
}
