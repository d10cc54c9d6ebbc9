//! Documents that must be rejected, and what the rejection says: the reason is written next to
//! the document in the rejects prefix, so it must name the field and what was there.

mod common;

use mcfparse::{
    ParseError, parse_document, parse_job_detail, parse_job_page, parse_search_item, parse_search_response,
};
use serde_json::{Value, json};

fn detail_with(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value = common::json(common::DETAIL);
    edit(&mut value);
    serde_json::to_vec(&value).expect("serialise")
}

#[test]
fn truncated_json_says_where_it_stops() {
    let cut = &common::DETAIL[..common::DETAIL.len() / 2];
    let err = parse_job_detail(cut).expect_err("truncated");
    assert!(matches!(err, ParseError::Json { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("job detail: not valid JSON: EOF while parsing"),
        "{message}"
    );
    assert!(
        message.contains("(the document is truncated)") && message.contains("at line"),
        "{message}"
    );

    let err = parse_search_response(&common::SEARCH[..1000]).expect_err("truncated");
    assert!(err.to_string().starts_with("search response: not valid JSON"), "{err}");
}

#[test]
fn status_id_as_an_object_is_named_with_what_was_found() {
    let err = parse_job_detail(&detail_with(|v| v["status"]["id"] = json!({"code": 102}))).expect_err("wrong type");
    assert_eq!(err.field(), Some("status.id"));
    assert_eq!(
        err.to_string(),
        "job detail: field `status.id` should be a whole number (or a string of digits) from 0 to 4294967295, found an object"
    );
}

#[test]
fn wrong_types_elsewhere_name_their_path() {
    type Case = (fn(&mut Value), &'static str, &'static str);
    let cases: [Case; 7] = [
        (
            |v| v["salary"]["minimum"] = json!("lots"),
            "salary.minimum",
            "the string \"lots\"",
        ),
        (
            |v| v["salary"]["maximum"] = json!(-5),
            "salary.maximum",
            "the number -5",
        ),
        (
            |v| v["metadata"]["isHideSalary"] = json!("no"),
            "metadata.isHideSalary",
            "the string \"no\"",
        ),
        (
            |v| v["skills"][2] = json!("Python"),
            "skills[2]",
            "the string \"Python\"",
        ),
        (
            |v| v["skills"][2]["skill"] = json!(7),
            "skills[2].skill",
            "the number 7",
        ),
        (|v| v["title"] = json!(["a"]), "title", "an array of 1 item"),
        (|v| v["metadata"] = json!(true), "metadata", "the boolean true"),
    ];
    for (edit, field, found) in cases {
        let err = parse_job_detail(&detail_with(edit)).expect_err(field);
        assert_eq!(err.field(), Some(field), "{err}");
        assert!(err.to_string().ends_with(&format!("found {found}")), "{err}");
    }
}

#[test]
fn missing_required_fields_are_named() {
    for (key, field) in [("uuid", "uuid"), ("title", "title")] {
        let err = parse_job_detail(&detail_with(|v| {
            v.as_object_mut().expect("object").remove(key);
        }))
        .expect_err(key);
        assert_eq!(
            err.to_string(),
            format!("job detail: required field `{field}` is missing")
        );
    }
    let err = parse_job_detail(&detail_with(|v| v["uuid"] = Value::Null)).expect_err("null uuid");
    assert_eq!(err.field(), Some("uuid"));
    let err = parse_job_detail(&detail_with(|v| {
        v.as_object_mut().expect("object").remove("postedCompany");
    }))
    .expect_err("no company");
    assert_eq!(
        err.to_string(),
        "job detail: required field `postedCompany.name` is missing (no postedCompany and no visible hiringCompany)"
    );
}

#[test]
fn malformed_values_say_what_they_held() {
    let err = parse_job_detail(&detail_with(|v| v["uuid"] = json!("not-a-uuid"))).expect_err("bad uuid");
    assert_eq!(
        err.to_string(),
        "job detail: field `uuid` is invalid: `not-a-uuid` is not 32 hexadecimal digits"
    );
    let err = parse_job_detail(&detail_with(|v| v["metadata"]["updatedAt"] = json!("yesterday"))).expect_err("date");
    assert_eq!(err.field(), Some("metadata.updatedAt"));
    assert!(err.to_string().contains("`yesterday`"), "{err}");
    let err = parse_job_detail(&detail_with(|v| v["metadata"]["expiryDate"] = json!("2025-02-30"))).expect_err("date");
    assert_eq!(err.field(), Some("metadata.expiryDate"));
    let err = parse_job_detail(&detail_with(|v| v["status"]["id"] = json!(70000))).expect_err("status code");
    assert_eq!(err.field(), Some("status.id"));
}

#[test]
fn a_broken_search_item_is_rejected_alone_with_its_index() {
    let mut page = common::json(common::SEARCH);
    page["results"][5].as_object_mut().expect("item").remove("title");
    page["results"][7]["status"]["id"] = json!({});
    let parsed = parse_search_response(&serde_json::to_vec(&page).expect("serialise")).expect("the page still parses");
    assert_eq!(parsed.posts.len(), 98);
    let fields: Vec<_> = parsed
        .rejects
        .iter()
        .map(|r| (r.index, r.error.field().map(str::to_string)))
        .collect();
    assert_eq!(
        fields,
        [
            (5, Some("results[5].title".into())),
            (7, Some("results[7].status.id".into()))
        ]
    );
    assert_eq!(parsed.rejects[0].uuid.as_deref(), page["results"][5]["uuid"].as_str());
    assert_eq!(parsed.rejects[0].raw, page["results"][5]);
    assert_eq!(
        parsed.rejects[0].error.to_string(),
        "search response: required field `results[5].title` is missing"
    );
}

#[test]
fn a_search_response_without_results_or_total_is_refused() {
    let err = parse_search_response(br#"{"total": 3}"#).expect_err("no results");
    assert_eq!(err.to_string(), "search response: required field `results` is missing");
    let err = parse_search_response(br#"{"results": {}, "total": 3}"#).expect_err("results not an array");
    assert_eq!(err.field(), Some("results"));
    let err = parse_search_response(br#"{"results": []}"#).expect_err("no total");
    assert_eq!(err.field(), Some("total"));
    let err = parse_search_response(b"[1, 2]").expect_err("array");
    assert_eq!(
        err.to_string(),
        "search response: field `(document)` should be a JSON object, found an array of 2 items"
    );
    assert!(matches!(
        parse_search_item(b"  \n"),
        Err(ParseError::Empty {
            document: "search item"
        })
    ));
}

#[test]
fn empty_html_and_html_without_a_job_are_refused_with_the_field() {
    let err = parse_job_page("").expect_err("empty");
    assert_eq!(err.to_string(), "job page: the document is empty");

    let err =
        parse_job_page("<html><head><title>MCF</title></head><body><p>Loading…</p></body></html>").expect_err("no job");
    assert_eq!(err.field(), Some("title"));
    assert_eq!(
        err.to_string(),
        "job page: required field `title` is missing (looked in: JSON-LD JobPosting `title`, \
         [data-testid=\"job-details-info-job-title\"])"
    );

    let no_company = r#"<h1 data-testid="job-details-info-job-title">Engineer</h1>"#;
    assert_eq!(
        parse_job_page(no_company).expect_err("no company").field(),
        Some("company")
    );

    let no_id =
        r#"<h1 data-testid="job-details-info-job-title">Engineer</h1><p data-testid="company-hire-info">ACME</p>"#;
    let err = parse_job_page(no_id).expect_err("no uuid");
    assert_eq!(err.field(), Some("uuid"), "{err}");
}

#[test]
fn the_sniffer_refuses_what_is_not_one_post() {
    let err = parse_document(common::SEARCH).expect_err("a whole page");
    assert_eq!(
        err.to_string(),
        "not an MCF document: this is a search response with 100 results, not one post"
    );
    let err = parse_document(b"").expect_err("empty");
    assert_eq!(err.to_string(), "not an MCF document: the document is empty");
    let err = parse_document(b"%PDF-1.7 binary").expect_err("pdf");
    assert_eq!(
        err.to_string(),
        "not an MCF document: neither JSON nor HTML: it starts with \"%PDF-1.7 binary\""
    );
    let err = parse_document(b"{\"uuid\": ").expect_err("truncated");
    assert!(matches!(err, ParseError::Json { .. }), "{err:?}");
}
