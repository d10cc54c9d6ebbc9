//! Rendered MCF job pages (HTML) → post, for posts added by URL.
//!
//! The schema.org `JobPosting` JSON-LD block is read first: it is meant for machines and
//! drifts least. The `data-testid="job-details-info-*"` fields, `#description-content` and
//! `#skills-needed` fill what it lacks (job post id, position levels, categories, experience,
//! applications) and stand in for it when it is missing. A page has no `updatedAt`, UEN or
//! status, so those stay `None`/unknown and an API document always wins a merge against it.
//!
//! Unlike the API parsers, an optional page field that cannot be read is left empty instead of
//! rejecting the page: selectors drift, and uuid, title and company still identify the post.

use std::cell::Cell;

use mcfcore::{Post, PostStatus, Source, time};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

use crate::error::ParseError;
use crate::html_text::{element_to_text, fragment_to_text};
use crate::ids;
use crate::json::collapse_whitespace;
use crate::page_scan::{self, Scan, TESTIDS};

const DOCUMENT: &str = "job page";

/// Parses a rendered job page.
///
/// The page is first read by [`page_scan::scan`] without a tree; when the scan gives up, or
/// the post needs a part of the page the scan does not keep (the company in the job's info
/// block, `#description-content`, `#skills-needed`: used only when the JSON-LD lacks them),
/// html5ever builds the tree and the page is read from it, with the same rules.
pub fn parse_job_page(html: &str) -> Result<Post, ParseError> {
    if html.trim().is_empty() {
        return Err(ParseError::Empty { document: DOCUMENT });
    }
    parse_scan(html).unwrap_or_else(|| parse_tree(html))
}

/// The page read by [`page_scan::scan`]; `None` when the tree is needed.
fn parse_scan(html: &str) -> Option<Result<Post, ParseError>> {
    let scan = page_scan::scan(html)?;
    let ld = scan.ld_json.iter().find_map(|text| job_posting_in(text));
    let dom = ScanDom {
        scan: &scan,
        needs_tree: Cell::new(false),
    };
    let post = post_from(ld.as_ref(), &dom);
    (!dom.needs_tree.get()).then_some(post)
}

/// The same through html5ever's tree, for any page.
fn parse_tree(html: &str) -> Result<Post, ParseError> {
    let doc = Html::parse_document(html);
    let ld = json_ld_job_posting(&doc);
    post_from(ld.as_ref(), &TreeDom { doc: &doc })
}

/// Reads the post from the JSON-LD `JobPosting` (if any) and the DOM side of the page.
fn post_from(ld: Option<&Value>, dom: &impl PageDom) -> Result<Post, ParseError> {
    let ld = ld.and_then(Value::as_object);
    let ld_str = |key: &str| {
        ld.and_then(|o| o.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };

    let title = ld_str("title")
        .map(collapse_whitespace)
        .or_else(|| dom.text("job-details-info-job-title"))
        .ok_or_else(|| {
            missing(
                "title",
                "JSON-LD JobPosting `title`, [data-testid=\"job-details-info-job-title\"]",
            )
        })?;
    let company_name = ld
        .and_then(|o| o.get("hiringOrganization"))
        .and_then(|org| org.get("name"))
        .and_then(Value::as_str)
        .map(collapse_whitespace)
        .filter(|s| !s.is_empty())
        .or_else(|| dom.company())
        .ok_or_else(|| {
            missing(
                "company",
                "JSON-LD `hiringOrganization.name`, [data-testid=\"company-hire-info\"]",
            )
        })?;

    let job_post_id = dom
        .text("job-details-info-job-post-id")
        .or_else(|| ld.and_then(|o| o.get("identifier")).and_then(identifier_value));
    let url = dom.canonical_url();
    let uuid = url
        .as_deref()
        .and_then(ids::uuid_from_url)
        .or_else(|| job_post_id.as_deref().map(ids::uuid_from_job_post_id))
        .ok_or_else(|| {
            missing(
                "uuid",
                "no job URL in link[rel=canonical] or og:url, and no job post id to hash",
            )
        })?;

    let (ld_min, ld_max, ld_unit) = ld_salary(ld);
    let (dom_min, dom_max) = dom.salary_range();
    let (salary_min, salary_max) = if ld_min.is_some() || ld_max.is_some() {
        (ld_min, ld_max)
    } else {
        (dom_min, dom_max)
    };

    let description = ld_str("description")
        .and_then(fragment_to_text)
        .or_else(|| dom.description());
    let skills = ld_skills(ld).filter(|s| !s.is_empty()).unwrap_or_else(|| dom.skills());
    let employment_types = dom
        .list("job-details-info-employment-type")
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| ld_employment_types(ld));

    let posted_date = ld_str("datePosted")
        .and_then(|d| time::normalize_date(d).ok())
        .or_else(|| dom.date("job-details-info-last-posted-date"));
    let expiry_date = ld_str("validThrough")
        .and_then(|d| time::normalize_date(d).ok())
        .or_else(|| dom.date("job-details-info-job-expiry-date"));

    Ok(Post {
        uuid,
        job_post_id,
        title,
        company_name,
        company_uen: None,
        posted_by_name: None,
        posted_by_uen: None,
        posted_on_behalf: None,
        salary_min,
        salary_max,
        salary_type: ld_unit.or_else(|| dom.text("salary-type")),
        hide_salary: None,
        employment_types,
        position_levels: dom.list("job-details-info-seniority").unwrap_or_default(),
        categories: dom.list("job-details-info-job-categories").unwrap_or_default(),
        skills,
        min_years_experience: dom.number("job-details-info-min-experience"),
        vacancies: None,
        posted_date,
        original_posted_date: None,
        expiry_date,
        updated_at: None,
        applications: dom.number("job-details-info-num-of-applications"),
        views: None,
        districts: Vec::new(),
        regions: dom.list("job-details-info-location-span").unwrap_or_default(),
        description,
        url,
        status: PostStatus::Unknown,
        status_code: None,
        source: Source::JobPage,
    })
}

fn missing(field: &str, looked_in: &str) -> ParseError {
    ParseError::Missing {
        document: DOCUMENT,
        field: field.into(),
        hint: Some(format!("looked in: {looked_in}")),
    }
}

/// The first JSON-LD object typed `JobPosting` (top level, in an array, or in `@graph`).
/// Blocks that are not valid JSON are skipped: pages carry other site-wide JSON-LD too.
fn json_ld_job_posting(doc: &Html) -> Option<Value> {
    let selector = Selector::parse("script[type=\"application/ld+json\"]").ok()?;
    doc.select(&selector).find_map(|script| {
        let text: String = script.text().collect();
        job_posting_in(&text)
    })
}

/// The `JobPosting` in one JSON-LD block's text, if it is valid JSON and has one.
fn job_posting_in(text: &str) -> Option<Value> {
    let value: Value = serde_json::from_str(text.trim()).ok()?;
    find_job_posting(value)
}

fn find_job_posting(value: Value) -> Option<Value> {
    match value {
        Value::Array(items) => items.into_iter().find_map(find_job_posting),
        Value::Object(mut obj) => {
            let is_job = match obj.get("@type") {
                Some(Value::String(t)) => t == "JobPosting",
                Some(Value::Array(types)) => types.iter().any(|t| t == "JobPosting"),
                _ => false,
            };
            if is_job {
                Some(Value::Object(obj))
            } else {
                obj.remove("@graph").and_then(find_job_posting)
            }
        }
        _ => None,
    }
}

fn identifier_value(identifier: &Value) -> Option<String> {
    let raw = match identifier {
        Value::String(s) => s.as_str(),
        other => other.get("value")?.as_str()?,
    };
    Some(raw.trim().to_string()).filter(|s| !s.is_empty())
}

/// `baseSalary.value.{minValue,maxValue,unitText}`; numbers may be given as strings.
fn ld_salary(ld: Option<&serde_json::Map<String, Value>>) -> (Option<u32>, Option<u32>, Option<String>) {
    let Some(value) = ld.and_then(|o| o.get("baseSalary")).and_then(|s| s.get("value")) else {
        return (None, None, None);
    };
    let amount = |key: &str| match value.get(key)? {
        Value::Number(n) => n
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f <= f64::from(u32::MAX))
            .map(|f| f.round() as u32),
        Value::String(s) => s.replace(',', "").trim().parse().ok(),
        _ => None,
    };
    // schema.org units → MCF's display names, so both sources store the same words.
    let unit = value
        .get("unitText")
        .and_then(Value::as_str)
        .map(|u| match u.trim().to_ascii_uppercase().as_str() {
            "MONTH" => "Monthly".to_string(),
            "YEAR" => "Annually".to_string(),
            "WEEK" => "Weekly".to_string(),
            "DAY" => "Daily".to_string(),
            "HOUR" => "Hourly".to_string(),
            _ => collapse_whitespace(u),
        });
    (amount("minValue"), amount("maxValue"), unit.filter(|u| !u.is_empty()))
}

fn ld_skills(ld: Option<&serde_json::Map<String, Value>>) -> Option<Vec<String>> {
    let names = match ld?.get("skills")? {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(collapse_whitespace)
            .collect(),
        Value::String(s) => s.split(',').map(collapse_whitespace).collect(),
        _ => return None,
    };
    Some(dedup(names))
}

/// schema.org employment types → MCF's display names (used only when the DOM has none).
fn ld_employment_types(ld: Option<&serde_json::Map<String, Value>>) -> Vec<String> {
    let names: Vec<&str> = match ld.and_then(|o| o.get("employmentType")) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => Vec::new(),
    };
    let mapped = names.into_iter().map(|t| match t.trim() {
        "FULL_TIME" => "Full Time".to_string(),
        "PART_TIME" => "Part Time".to_string(),
        "CONTRACTOR" => "Contract".to_string(),
        "TEMPORARY" => "Temporary".to_string(),
        "INTERN" => "Internship/Attachment".to_string(),
        "PER_DIEM" => "Flexi-work".to_string(),
        other => collapse_whitespace(other),
    });
    dedup(mapped.collect())
}

fn dedup(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The DOM side of a page: the `data-testid` fields, the company, the job URL, and the
/// description and skills the JSON-LD may lack.
trait PageDom {
    /// The first `[data-testid=…]` element's text on one line; `None` when absent or empty.
    fn text(&self, testid: &'static str) -> Option<String>;

    /// The company in the job's info block (see [`TreeDom::company`]).
    fn company(&self) -> Option<String>;

    /// The job's URL from `link[rel=canonical]` or `og:url`, when it ends with a uuid.
    fn canonical_url(&self) -> Option<String>;

    /// The text of `#description-content`, when not empty.
    fn description(&self) -> Option<String>;

    /// The labels under `#skills-needed`.
    fn skills(&self) -> Vec<String>;

    /// A comma-separated field ("Permanent, Full Time"); `None` when the element is absent.
    fn list(&self, testid: &'static str) -> Option<Vec<String>> {
        let text = self.text(testid)?;
        Some(dedup(
            text.split(',')
                .map(|s| collapse_whitespace(s.trim_end_matches('.')))
                .collect(),
        ))
    }

    /// The leading whole number of a field such as "3 years exp" or "12 applications".
    fn number(&self, testid: &'static str) -> Option<u32> {
        let text = self.text(testid)?;
        let digits: String = text
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit() || *c == ',')
            .collect();
        digits.replace(',', "").parse().ok()
    }

    /// A date written like "Posted 27 Mar 2026" or "Closing on 17 Apr 2026".
    fn date(&self, testid: &'static str) -> Option<String> {
        let text = self.text(testid)?;
        let words: Vec<&str> = text.split_whitespace().collect();
        words.windows(3).find_map(|w| day_month_year(w[0], w[1], w[2]))
    }

    /// "$3,700 to $5,400" → (3700, 5400); a single amount is the minimum.
    fn salary_range(&self) -> (Option<u32>, Option<u32>) {
        let Some(text) = self.text("salary-range") else {
            return (None, None);
        };
        let mut amounts = text
            .split(|c: char| !(c.is_ascii_digit() || c == ','))
            .map(|s| s.replace(',', ""))
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse::<u32>().ok());
        (amounts.next(), amounts.next())
    }
}

/// The first of the candidate job URLs that ends with a uuid.
fn job_url(canonical: Option<&str>, og: Option<&str>) -> Option<String> {
    [canonical, og]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|u| ids::uuid_from_url(u).is_some())
        .map(str::to_string)
}

/// The DOM side from [`page_scan::scan`]; what it does not keep sets `needs_tree`.
struct ScanDom<'a> {
    scan: &'a Scan<'a>,
    needs_tree: Cell<bool>,
}

impl ScanDom<'_> {
    fn tree_needed<T>(&self, none: T) -> T {
        self.needs_tree.set(true);
        none
    }
}

impl PageDom for ScanDom<'_> {
    fn text(&self, testid: &'static str) -> Option<String> {
        let Some(index) = TESTIDS.iter().position(|t| *t == testid) else {
            return self.tree_needed(None);
        };
        self.scan.testid[index]
            .as_deref()
            .map(collapse_whitespace)
            .filter(|t| !t.is_empty())
    }

    fn company(&self) -> Option<String> {
        self.tree_needed(None)
    }

    fn canonical_url(&self) -> Option<String> {
        job_url(
            self.scan.canonical_href.as_ref().and_then(Option::as_deref),
            self.scan.og_url.as_ref().and_then(Option::as_deref),
        )
    }

    fn description(&self) -> Option<String> {
        self.tree_needed(None)
    }

    fn skills(&self) -> Vec<String> {
        self.tree_needed(Vec::new())
    }
}

/// The DOM side from html5ever's tree, scoped to the job's own info block where one exists,
/// because the "similar jobs" cards below reuse `company-hire-info` for other companies.
struct TreeDom<'a> {
    doc: &'a Html,
}

impl<'a> TreeDom<'a> {
    fn first(&self, css: &str) -> Option<ElementRef<'a>> {
        let selector = Selector::parse(css).ok()?;
        self.doc.select(&selector).next()
    }

    fn css_text(&self, css: &str) -> Option<String> {
        self.first(css).map(inline_text).filter(|t| !t.is_empty())
    }
}

impl PageDom for TreeDom<'_> {
    fn text(&self, testid: &'static str) -> Option<String> {
        self.css_text(&format!("[data-testid=\"{testid}\"]"))
    }

    /// Inside the job's info block when the page has one; the first on the page only when not.
    fn company(&self) -> Option<String> {
        const COMPANY: &str = "[data-testid=\"company-hire-info\"]";
        match self.first("[data-cy=\"JobDetails__job-info\"]") {
            Some(info) => {
                let selector = Selector::parse(COMPANY).ok()?;
                info.select(&selector).map(inline_text).find(|t| !t.is_empty())
            }
            None => self.css_text(COMPANY),
        }
    }

    fn canonical_url(&self) -> Option<String> {
        let canonical = self
            .first("link[rel=\"canonical\"]")
            .and_then(|l| l.value().attr("href"));
        let og = self
            .first("meta[property=\"og:url\"]")
            .and_then(|m| m.value().attr("content"));
        job_url(canonical, og)
    }

    fn description(&self) -> Option<String> {
        self.first("#description-content")
            .map(element_to_text)
            .filter(|t| !t.is_empty())
    }

    fn skills(&self) -> Vec<String> {
        let Ok(selector) = Selector::parse("#skills-needed label") else {
            return Vec::new();
        };
        dedup(self.doc.select(&selector).map(inline_text).collect())
    }
}

/// An element's text on one line, whitespace collapsed.
fn inline_text(element: ElementRef<'_>) -> String {
    collapse_whitespace(&element.text().collect::<String>())
}

fn day_month_year(day: &str, month: &str, year: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let day: u32 = day.parse().ok()?;
    let prefix = month.get(..3)?.to_ascii_lowercase();
    let month = MONTHS.iter().position(|m| *m == prefix)? + 1;
    let year: u32 = year.trim_end_matches([',', '.']).parse().ok()?;
    time::normalize_date(&format!("{year:04}-{month:02}-{day:02}")).ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{day_month_year, parse_scan, parse_tree};

    const PAGE: &str = include_str!("../../../tests/fixtures/mcf/html/job_page_5624187c437fddd00296eecc783ed4cd.html");

    #[test]
    fn the_captured_page_is_read_without_a_tree_and_as_the_tree_reads_it() {
        for page in [PAGE, SMALL] {
            let fast = parse_scan(page).expect("the scan reads the page");
            assert_eq!(fast, parse_tree(page));
            assert!(fast.is_ok(), "{fast:?}");
        }
    }

    #[test]
    fn carriage_returns_read_as_html_reads_them() {
        // HTML's input stream turns CR LF and lone CRs into LF before tokenizing.
        let page = "<link rel=canonical href=\"https://x/\r\njob/\ra-5624187c437fddd00296eecc783ed4cd\">\
            <h1 data-testid=\"job-details-info-job-title\">Engineer</h1><p data-testid=\"company-hire-info\">A</p>";
        let tree = parse_tree(page);
        assert_eq!(
            tree.as_ref().map(|p| p.url.clone()),
            Ok(Some("https://x/\njob/\na-5624187c437fddd00296eecc783ed4cd".into()))
        );
        // The company is read from the tree (the scan does not keep it), so compare the scan's
        // own reading of the URL too.
        let scan = crate::page_scan::scan(page).expect("scanned");
        assert_eq!(
            scan.canonical_href,
            Some(Some("https://x/\njob/\na-5624187c437fddd00296eecc783ed4cd".into()))
        );
        let page = page.replace("<p data-testid=\"company-hire-info\">A</p>", "")
            + "<script type=application/ld+json>{\"@type\": \"JobPosting\", \"hiringOrganization\": {\"name\": \"A\"}, \
             \"description\": \"<p>x</p>\", \"skills\": [\"Rust\"]}</script>";
        let fast = parse_scan(&page).expect("the scan reads it");
        assert_eq!(fast, parse_tree(&page));
        assert_eq!(
            fast.map(|p| p.url),
            Ok(Some("https://x/\njob/\na-5624187c437fddd00296eecc783ed4cd".into()))
        );
    }

    /// Markup that the scan must either read as the tree does or refuse.
    fn piece() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "<p>",
            "</p>",
            "<div>",
            "</div>",
            "</span>",
            "<li>",
            "</li>",
            "<ul>",
            "<b>",
            "</b>",
            "<a href=x>",
            "</a>",
            "<table>",
            "<tr>",
            "<td>",
            "<svg>",
            "</svg>",
            "<svg/>",
            "<path/>",
            "<math>",
            "<select>",
            "<option>",
            "<form>",
            "<template>",
            "<button>",
            "</button>",
            "<h2>",
            "<br>",
            "</br>",
            "<hr>",
            "<img>",
            "<input>",
            "<!--",
            "-->",
            "<!-- x -->",
            "<!--->",
            "<![CDATA[x]]>",
            "<script>",
            "</script>",
            "<style>",
            "<title>",
            "<textarea>",
            "<noscript>",
            "<iframe>",
            "<body data-testid=\"salary-type\">",
            "<html id=x>",
            "</body>",
            "<head>",
            "&amp;",
            "&nbsp;",
            "&bogus;",
            "&#x41;",
            "<",
            "</",
            "<?x>",
            "</ x>",
            "\u{0}",
            " ",
            "x",
            "<span data-testid=\"salary-type\">Yearly</span>",
            "<div data-testid=\"job-details-info-seniority\">",
            "<p data-testid=\"salary-range\">$1 to $2",
            "<link rel=\"canonical\" href=\"https://x/job/a-5624187c437fddd00296eecc783ed4cd\">",
            "<link rel=CANONICAL href=\"https://x/job/b-00000000000000000000000000000000\">",
            "<meta property=\"og:url\" content=\"https://x/job/c-11111111111111111111111111111111\">",
            "<script type=\"application/ld+json\">{\"@type\": \"JobPosting\", \"title\": \"T\"}</script>",
            "<script type=\"Application/LD+JSON\">[{\"@type\": [\"JobPosting\"], \"title\": \"U\"}]</script>",
            "<script>a<!--b</script>",
            "<xmp>",
            "</xmp>",
            "<plaintext>",
            "<nobr>",
            "<frameset>",
            "<dd>",
            "<dt>",
            "<font color=red>",
            "<foreignObject>",
            "<desc>",
            "\r\n",
            "\r",
            "x\ry",
            "<link rel=\"canonical\" href=\"https://x/\r\njob/d-22222222222222222222222222222222\">",
            "<meta property=\"og:url\" content=\"https://x/\rjob/e-33333333333333333333333333333333\">",
            "<h2 data-testid=\"job-details-info-job-title\">A\r\nB</h2>",
        ])
        .prop_map(str::to_string)
    }

    /// A small page with the fields the scan keeps, as the DOM fallbacks read them.
    const SMALL: &str = "<!DOCTYPE html><html><head><title>Job</title>\
        <link rel=\"canonical\" href=\"https://x/job/engineer-5624187c437fddd00296eecc783ed4cd\">\
        <script type=\"application/ld+json\">{\"@type\": \"JobPosting\", \"hiringOrganization\": {\"name\": \"ACME\"}, \
        \"description\": \"<p>Build &amp; test</p>\", \"skills\": \"Rust, Go\"}</script></head>\
        <body><main><h1 data-testid=\"job-details-info-job-title\">Engineer <b>II</b></h1>\
        <p data-testid=\"job-details-info-job-post-id\">MCF-2026-0521403</p>\
        <ul><li data-testid=\"job-details-info-employment-type\">Permanent, Full Time</li>\
        <li><span data-testid=\"job-details-info-seniority\">Executive</span></li></ul>\
        <div data-testid=\"salary-range\">$3,700<span> to </span>$5,400</div><span data-testid=\"salary-type\">Monthly</span>\
        <p data-testid=\"job-details-info-last-posted-date\">Posted 27 Mar 2026</p>\
        <svg><path d=\"M1\"/><g data-testid=\"job-details-info-min-experience\"><text>3 years</text></g></svg>\
        <section data-testid=\"job-details-info-num-of-applications\">12 applications</section>\
        </main></body></html>";

    /// The captured page (or the small one) with pieces inserted and ranges removed.
    fn mangled_page() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec![PAGE, SMALL]),
            prop::collection::vec(
                (
                    any::<prop::sample::Index>(),
                    prop::option::weighted(0.7, piece()),
                    0usize..400,
                ),
                1..5,
            ),
        )
            .prop_map(|(base, edits)| (base.to_string(), edits))
            .prop_map(|(mut page, edits)| {
                for (at, piece, cut) in edits {
                    let mut at = at.index(page.len());
                    while !page.is_char_boundary(at) {
                        at -= 1;
                    }
                    match piece {
                        Some(piece) => page.insert_str(at, &piece),
                        None => {
                            let cut = if page.len() < 5000 { cut / 20 } else { cut };
                            let mut end = (at + cut).min(page.len());
                            while !page.is_char_boundary(end) {
                                end -= 1;
                            }
                            page.replace_range(at..end, "");
                        }
                    }
                }
                page
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Wherever the scan answers, it answers what the tree gives.
        #[test]
        fn the_scan_agrees_with_the_tree_on_mangled_pages(page in mangled_page()) {
            if let Some(fast) = parse_scan(&page) {
                prop_assert_eq!(fast, parse_tree(&page));
            }
        }

        /// Character-level noise in the middle of the small page: tokenizer corners.
        #[test]
        fn the_scan_agrees_with_the_tree_on_noisy_markup(
            noise in "(<[a-zA-Z/!?][a-zA-Z0-9 =\"'/<>!-]{0,12}>?|[a-z &;#\r\n\t<>\"'=/!-]{1,6}|<script>|</script>|<style>|</style>|<svg>|</svg>|<p>|</p>|<title>|</title>|<div data-testid=\"salary-type\">|&amp;|&#x41;){0,40}",
            at in any::<prop::sample::Index>(),
        ) {
            let mut page = SMALL.to_string();
            let mut at = at.index(page.len());
            while !page.is_char_boundary(at) {
                at -= 1;
            }
            page.insert_str(at, &noise);
            if let Some(fast) = parse_scan(&page) {
                prop_assert_eq!(fast, parse_tree(&page));
            }
        }

        #[test]
        fn the_scan_agrees_with_the_tree_on_small_pages(pieces in prop::collection::vec(piece(), 0..30)) {
            let page = pieces.concat();
            if let Some(fast) = parse_scan(&page) {
                prop_assert_eq!(fast, parse_tree(&page));
            }
        }
    }

    #[test]
    fn page_dates_become_iso() {
        assert_eq!(day_month_year("27", "Mar", "2026").as_deref(), Some("2026-03-27"));
        assert_eq!(day_month_year("7", "September", "2025").as_deref(), Some("2025-09-07"));
        assert_eq!(day_month_year("31", "Feb", "2026"), None);
        assert_eq!(day_month_year("1", "Mé", "2026"), None);
    }
}
