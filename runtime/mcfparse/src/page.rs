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

use mcfcore::{Post, PostStatus, Source, time};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

use crate::error::ParseError;
use crate::html_text::{element_to_text, fragment_to_text};
use crate::ids;
use crate::json::collapse_whitespace;

const DOCUMENT: &str = "job page";

/// Parses a rendered job page.
pub fn parse_job_page(html: &str) -> Result<Post, ParseError> {
    if html.trim().is_empty() {
        return Err(ParseError::Empty { document: DOCUMENT });
    }
    let doc = Html::parse_document(html);
    let ld = json_ld_job_posting(&doc);
    let ld = ld.as_ref().and_then(Value::as_object);
    let ld_str = |key: &str| {
        ld.and_then(|o| o.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let dom = Dom::new(&doc);

    let title = ld_str("title")
        .map(collapse_whitespace)
        .or_else(|| dom.text("[data-testid=\"job-details-info-job-title\"]"))
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
        .text("[data-testid=\"job-details-info-job-post-id\"]")
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

    let description = ld_str("description").and_then(fragment_to_text).or_else(|| {
        dom.first("#description-content")
            .map(element_to_text)
            .filter(|t| !t.is_empty())
    });
    let skills = ld_skills(ld).filter(|s| !s.is_empty()).unwrap_or_else(|| dom.skills());
    let employment_types = dom
        .list("[data-testid=\"job-details-info-employment-type\"]")
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| ld_employment_types(ld));

    let posted_date = ld_str("datePosted")
        .and_then(|d| time::normalize_date(d).ok())
        .or_else(|| dom.date("[data-testid=\"job-details-info-last-posted-date\"]"));
    let expiry_date = ld_str("validThrough")
        .and_then(|d| time::normalize_date(d).ok())
        .or_else(|| dom.date("[data-testid=\"job-details-info-job-expiry-date\"]"));

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
        salary_type: ld_unit.or_else(|| dom.text("[data-testid=\"salary-type\"]")),
        hide_salary: None,
        employment_types,
        position_levels: dom
            .list("[data-testid=\"job-details-info-seniority\"]")
            .unwrap_or_default(),
        categories: dom
            .list("[data-testid=\"job-details-info-job-categories\"]")
            .unwrap_or_default(),
        skills,
        min_years_experience: dom.number("[data-testid=\"job-details-info-min-experience\"]"),
        vacancies: None,
        posted_date,
        original_posted_date: None,
        expiry_date,
        updated_at: None,
        applications: dom.number("[data-testid=\"job-details-info-num-of-applications\"]"),
        views: None,
        districts: Vec::new(),
        regions: dom
            .list("[data-testid=\"job-details-info-location-span\"]")
            .unwrap_or_default(),
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
        let value: Value = serde_json::from_str(text.trim()).ok()?;
        find_job_posting(value)
    })
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

/// The DOM side of a page, scoped to the job's own info block where one exists, because the
/// "similar jobs" cards below reuse `company-hire-info` for other companies.
struct Dom<'a> {
    doc: &'a Html,
}

impl<'a> Dom<'a> {
    fn new(doc: &'a Html) -> Self {
        Self { doc }
    }

    fn first(&self, css: &str) -> Option<ElementRef<'a>> {
        let selector = Selector::parse(css).ok()?;
        self.doc.select(&selector).next()
    }

    fn text(&self, css: &str) -> Option<String> {
        self.first(css).map(inline_text).filter(|t| !t.is_empty())
    }

    /// A comma-separated field ("Permanent, Full Time"); `None` when the element is absent.
    fn list(&self, css: &str) -> Option<Vec<String>> {
        let text = self.text(css)?;
        Some(dedup(
            text.split(',')
                .map(|s| collapse_whitespace(s.trim_end_matches('.')))
                .collect(),
        ))
    }

    /// The leading whole number of a field such as "3 years exp" or "12 applications".
    fn number(&self, css: &str) -> Option<u32> {
        let text = self.text(css)?;
        let digits: String = text
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit() || *c == ',')
            .collect();
        digits.replace(',', "").parse().ok()
    }

    /// A date written like "Posted 27 Mar 2026" or "Closing on 17 Apr 2026".
    fn date(&self, css: &str) -> Option<String> {
        let text = self.text(css)?;
        let words: Vec<&str> = text.split_whitespace().collect();
        words.windows(3).find_map(|w| day_month_year(w[0], w[1], w[2]))
    }

    /// Inside the job's info block when the page has one; the first on the page only when not.
    fn company(&self) -> Option<String> {
        const COMPANY: &str = "[data-testid=\"company-hire-info\"]";
        match self.first("[data-cy=\"JobDetails__job-info\"]") {
            Some(info) => {
                let selector = Selector::parse(COMPANY).ok()?;
                info.select(&selector).map(inline_text).find(|t| !t.is_empty())
            }
            None => self.text(COMPANY),
        }
    }

    fn canonical_url(&self) -> Option<String> {
        let canonical = self
            .first("link[rel=\"canonical\"]")
            .and_then(|l| l.value().attr("href"));
        let og = self
            .first("meta[property=\"og:url\"]")
            .and_then(|m| m.value().attr("content"));
        [canonical, og]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|u| ids::uuid_from_url(u).is_some())
            .map(str::to_string)
    }

    /// "$3,700 to $5,400" → (3700, 5400); a single amount is the minimum.
    fn salary_range(&self) -> (Option<u32>, Option<u32>) {
        let Some(text) = self.text("[data-testid=\"salary-range\"]") else {
            return (None, None);
        };
        let mut amounts = text
            .split(|c: char| !(c.is_ascii_digit() || c == ','))
            .map(|s| s.replace(',', ""))
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse::<u32>().ok());
        (amounts.next(), amounts.next())
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
    use super::day_month_year;

    #[test]
    fn page_dates_become_iso() {
        assert_eq!(day_month_year("27", "Mar", "2026").as_deref(), Some("2026-03-27"));
        assert_eq!(day_month_year("7", "September", "2025").as_deref(), Some("2025-09-07"));
        assert_eq!(day_month_year("31", "Feb", "2026"), None);
        assert_eq!(day_month_year("1", "Mé", "2026"), None);
    }
}
