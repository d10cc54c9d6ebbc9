//! The captured rendered job page (MCF-2026-0521403, "Engineer", $3,700–$5,400 monthly), and
//! the DOM fallbacks when its JSON-LD block is gone.

mod common;

use mcfcore::{PostStatus, Source};
use mcfparse::{parse_document, parse_job_page, uuid_from_job_post_id};

#[test]
fn the_captured_page_gives_the_post() {
    let post = parse_job_page(common::PAGE).expect("the captured page parses");
    assert_eq!(post.uuid, "5624187c437fddd00296eecc783ed4cd");
    assert_eq!(post.uuid, uuid_from_job_post_id("MCF-2026-0521403"));
    assert_eq!(post.job_post_id.as_deref(), Some("MCF-2026-0521403"));
    assert_eq!(post.title, "Engineer");
    assert_eq!(post.company_name, "LDRM ENTERPRISES PTE. LTD.");
    assert_eq!((post.salary_min, post.salary_max), (Some(3700), Some(5400)));
    assert_eq!(post.salary_type.as_deref(), Some("Monthly"));
    assert_eq!(post.employment_types, ["Full Time"]);
    assert_eq!(post.position_levels, ["Executive"]);
    assert_eq!(post.categories, ["Building and Construction"]);
    assert_eq!(post.regions, ["Islandwide"]);
    assert_eq!(post.min_years_experience, Some(3));
    assert_eq!(post.applications, Some(3));
    assert_eq!(post.posted_date.as_deref(), Some("2026-03-27"));
    assert_eq!(post.expiry_date.as_deref(), Some("2026-04-17"));
    assert_eq!(
        post.url.as_deref(),
        Some("https://www.mycareersfuture.gov.sg/job/engineer-ldrm-enterprises-5624187c437fddd00296eecc783ed4cd")
    );
    assert_eq!(
        post.skills,
        [
            "Excellent Communication Skills",
            "Troubleshooting",
            "Construction",
            "Electrical",
            "Reliability",
            "Team Player",
            "Directing",
            "Manufacturing",
            "Electronics",
            "Technical Support"
        ]
    );
    // A page says nothing about these: an API document always wins a merge against it.
    assert_eq!(
        (post.updated_at.as_ref(), post.company_uen.as_ref(), post.views),
        (None, None, None)
    );
    assert_eq!((post.status, post.status_code), (PostStatus::Unknown, None));
    assert_eq!(post.source, Source::JobPage);
}

#[test]
fn the_description_is_text() {
    let text = parse_job_page(common::PAGE)
        .expect("parses")
        .description
        .expect("description");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Job Description & Requirements");
    assert!(lines.contains(&"• Ability to draft and design plans and schematics"));
    assert!(lines.contains(&"- Performing detailed calculations to establish standards and specifications."));
    assert_eq!(lines.last(), Some(&"- BE (Electrical & Electronics Engineering)"));
    assert!(!text.contains('<') && !text.contains("&amp;"));
}

#[test]
fn the_sniffer_recognises_a_page() {
    assert_eq!(
        parse_document(common::PAGE.as_bytes()).expect("sniffed"),
        parse_job_page(common::PAGE).expect("parses")
    );
}

/// The page with its JobPosting JSON-LD block removed: the `data-testid` fields must carry it.
fn without_json_ld(html: &str) -> String {
    let start =
        html.find(r#"<script type="application/ld+json">{"@context":"http://schema.org/","@type":"JobPosting""#);
    let start = start.expect("the capture has a JobPosting block");
    let end = start + html[start..].find("</script>").expect("closed") + "</script>".len();
    format!("{}{}", &html[..start], &html[end..])
}

#[test]
fn without_json_ld_the_dom_fields_give_the_same_post() {
    let full = parse_job_page(common::PAGE).expect("parses");
    let dom_only = parse_job_page(&without_json_ld(common::PAGE)).expect("the DOM alone parses");
    assert_eq!(dom_only.title, "Engineer");
    assert_eq!(dom_only.company_name, "LDRM ENTERPRISES PTE. LTD.");
    assert_eq!((dom_only.salary_min, dom_only.salary_max), (Some(3700), Some(5400)));
    assert_eq!(dom_only.salary_type.as_deref(), Some("Monthly"));
    assert_eq!(dom_only.skills, full.skills, "#skills-needed labels");
    assert_eq!(dom_only.posted_date, full.posted_date, "\"Posted 27 Mar 2026\"");
    assert_eq!(dom_only.expiry_date, full.expiry_date, "\"Closing on 17 Apr 2026\"");
    assert_eq!(
        dom_only.description, full.description,
        "#description-content holds the same HTML"
    );
    assert_eq!(dom_only, full);
}

#[test]
fn without_a_canonical_link_the_uuid_is_the_md5_of_the_job_post_id() {
    let html = common::PAGE.replace(r#"rel="canonical""#, r#"rel="alternate""#);
    let post = parse_job_page(&html).expect("parses");
    assert_eq!(post.uuid, "5624187c437fddd00296eecc783ed4cd");
    assert_eq!(post.url, None);
}

#[test]
fn the_company_comes_from_the_job_not_from_a_similar_job_card() {
    // Drop the JSON-LD and the job's own company line: the similar-job cards further down the
    // page also carry company-hire-info, so a missing company must not be taken from them.
    let own = r#"<p class="f6 fw6 mv0 black-80 mr2 di ttu truncate-lines truncate-lines-3" data-testid="company-hire-info">LDRM ENTERPRISES PTE. LTD.</p>"#;
    assert!(common::PAGE.contains(own));
    let html = without_json_ld(common::PAGE).replacen(own, "", 1);
    assert!(
        html.contains(r#"data-testid="company-hire-info""#),
        "the similar-job cards still name companies"
    );
    let err = parse_job_page(&html).expect_err("no company for this job");
    assert_eq!(err.field(), Some("company"), "{err}");
}
