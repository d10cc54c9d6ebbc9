//! MCF API JSON → post: the search item and the job detail, which share one shape (the detail
//! is a superset: description, experience, vacancies, expiry, views).

use mcfcore::{Post, PostStatus, Source, time};

use crate::error::ParseError;
use crate::ids;
use crate::json::{Lite, Obj, Path, Schema, Tree, collapse_whitespace};

/// The fields of a job object that [`post_from_value`] reads, plus the keys that tell a job
/// detail (`_links`, `sourceCode`) or a whole search response (`results`) apart, which
/// [`crate::parse_document`] looks at.
pub(crate) const JOB: Schema = {
    use Schema::{ArrayOf, Leaf, Object};
    const NAME_UEN: Schema = Object(&[("name", Leaf), ("uen", Leaf)]);
    Object(&[
        ("uuid", Leaf),
        ("title", Leaf),
        (
            "metadata",
            Object(&[
                ("jobPostId", Leaf),
                ("isPostedOnBehalf", Leaf),
                ("isHideSalary", Leaf),
                ("isHideHiringEmployerName", Leaf),
                ("newPostingDate", Leaf),
                ("originalPostingDate", Leaf),
                ("expiryDate", Leaf),
                ("updatedAt", Leaf),
                ("totalNumberJobApplication", Leaf),
                ("totalNumberOfView", Leaf),
                ("jobDetailsUrl", Leaf),
            ]),
        ),
        ("postedCompany", NAME_UEN),
        ("hiringCompany", NAME_UEN),
        (
            "salary",
            Object(&[
                ("minimum", Leaf),
                ("maximum", Leaf),
                ("type", Object(&[("salaryType", Leaf)])),
            ]),
        ),
        (
            "address",
            Object(&[("districts", ArrayOf(&Object(&[("location", Leaf), ("region", Leaf)])))]),
        ),
        ("description", Leaf),
        ("status", Object(&[("id", Leaf), ("jobStatus", Leaf)])),
        ("employmentTypes", ArrayOf(&Object(&[("employmentType", Leaf)]))),
        ("positionLevels", ArrayOf(&Object(&[("position", Leaf)]))),
        ("categories", ArrayOf(&Object(&[("category", Leaf)]))),
        ("skills", ArrayOf(&Object(&[("skill", Leaf)]))),
        ("minimumYearsExperience", Leaf),
        ("numberOfVacancies", Leaf),
        ("_links", Leaf),
        ("sourceCode", Leaf),
        ("results", Leaf),
    ])
};

/// Reads one job object (a search item or a detail) at `path` of `document`.
pub(crate) fn post_from_value(
    tree: &Tree<'_>,
    value: &Lite<'_>,
    source: Source,
    document: &'static str,
    path: &Path<'_>,
) -> Result<Post, ParseError> {
    let job = Obj::root(tree, value, document, path)?;
    let uuid = ids::checked_uuid(job.req_str("uuid")?).map_err(|reason| job.invalid("uuid", reason))?;
    let title = collapse_whitespace(job.req_str("title")?);

    let metadata = job.opt_obj("metadata")?;
    let meta = metadata.as_ref().map(|m| m.get());
    let meta_str = |key: &'static str| meta.map_or(Ok(None), |m| m.opt_str(key));
    let meta_u32 = |key: &'static str| meta.map_or(Ok(None), |m| m.opt_u32(key));
    let meta_bool = |key: &'static str| meta.map_or(Ok(None), |m| m.opt_bool(key));
    let meta_date = |key: &'static str| -> Result<Option<String>, ParseError> {
        match (meta, meta_str(key)?) {
            (Some(m), Some(raw)) => time::normalize_date(raw)
                .map(Some)
                .map_err(|reason| m.invalid(key, reason)),
            _ => Ok(None),
        }
    };
    let updated_at = match (meta, meta_str("updatedAt")?) {
        (Some(m), Some(raw)) => Some(time::normalize_timestamp(raw).map_err(|reason| m.invalid("updatedAt", reason))?),
        _ => None,
    };

    let company = read_company(job, meta_bool("isHideHiringEmployerName")?.unwrap_or(false))?;

    let (salary_min, salary_max, salary_type) = match job.opt_obj("salary")? {
        None => (None, None, None),
        Some(salary) => {
            let salary = salary.get();
            let kind = match salary.opt_obj("type")? {
                Some(kind) => kind.get().opt_str("salaryType")?.map(str::to_string),
                None => None,
            };
            (salary.opt_u32("minimum")?, salary.opt_u32("maximum")?, kind)
        }
    };

    let (districts, regions) = read_districts(job)?;

    let description = match job.opt_str("description")? {
        Some(html) => crate::html_text::fragment_to_text(html),
        None => None,
    };

    let (status, status_code) = match job.opt_obj("status")? {
        Some(status) => {
            let status = status.get();
            let code = status.opt_u32("id")?;
            let code = code
                .map(|c| u16::try_from(c).map_err(|_| status.invalid("id", format!("{c} is not a status code"))))
                .transpose()?;
            (PostStatus::from_mcf(code, status.opt_str("jobStatus")?), code)
        }
        None => (PostStatus::Unknown, None),
    };

    Ok(Post {
        uuid,
        job_post_id: meta_str("jobPostId")?.map(str::to_string),
        title,
        company_name: company.name,
        company_uen: company.uen,
        posted_by_name: company.posted_by_name,
        posted_by_uen: company.posted_by_uen,
        posted_on_behalf: meta_bool("isPostedOnBehalf")?,
        salary_min,
        salary_max,
        salary_type,
        hide_salary: meta_bool("isHideSalary")?,
        employment_types: job.names("employmentTypes", "employmentType")?,
        position_levels: job.names("positionLevels", "position")?,
        categories: job.names("categories", "category")?,
        skills: job.names("skills", "skill")?,
        min_years_experience: job.opt_u32("minimumYearsExperience")?,
        vacancies: job.opt_u32("numberOfVacancies")?,
        posted_date: meta_date("newPostingDate")?,
        original_posted_date: meta_date("originalPostingDate")?,
        expiry_date: meta_date("expiryDate")?,
        updated_at,
        applications: meta_u32("totalNumberJobApplication")?,
        views: meta_u32("totalNumberOfView")?,
        districts,
        regions,
        description,
        url: meta_str("jobDetailsUrl")?.map(str::to_string),
        status,
        status_code,
        source,
    })
}

struct Company {
    name: String,
    uen: Option<String>,
    posted_by_name: Option<String>,
    posted_by_uen: Option<String>,
}

/// The employer is the hiring company when one is named and not hidden, else the posting
/// company (see `mcfcore::Post`). A hiring company without a name is ignored, not an error:
/// the posting company still says who the ad is from.
fn read_company(job: Obj<'_>, hiring_hidden: bool) -> Result<Company, ParseError> {
    let posted = match job.opt_obj("postedCompany")? {
        Some(c) => Some(name_and_uen(c.get())?),
        None => None,
    };
    let hiring = match job.opt_obj("hiringCompany")? {
        Some(c) if !hiring_hidden => name_and_uen(c.get()).ok(),
        _ => None,
    };
    match (hiring, posted) {
        (Some((name, uen)), posted) => {
            let posted = posted.filter(|(p_name, p_uen)| *p_name != name || *p_uen != uen);
            Ok(Company {
                name,
                uen,
                posted_by_name: posted.as_ref().map(|p| p.0.clone()),
                posted_by_uen: posted.and_then(|p| p.1),
            })
        }
        (None, Some((name, uen))) => Ok(Company {
            name,
            uen,
            posted_by_name: None,
            posted_by_uen: None,
        }),
        (None, None) => Err(ParseError::Missing {
            document: job.document,
            field: job.path("postedCompany.name"),
            hint: Some("no postedCompany and no visible hiringCompany".into()),
        }),
    }
}

fn name_and_uen(company: Obj<'_>) -> Result<(String, Option<String>), ParseError> {
    Ok((
        collapse_whitespace(company.req_str("name")?),
        company.opt_str("uen")?.map(str::to_string),
    ))
}

fn read_districts(job: Obj<'_>) -> Result<(Vec<String>, Vec<String>), ParseError> {
    let (mut districts, mut regions) = (Vec::new(), Vec::new());
    let Some(address) = job.opt_obj("address")? else {
        return Ok((districts, regions));
    };
    let address = address.get();
    let list = address.array("districts")?;
    for (index, district) in list.items.iter().enumerate() {
        let path = Path::Index(&list.path, index);
        let district = Obj::root(job.tree(), district, job.document, &path)?;
        if let Some(location) = district.opt_str("location")? {
            districts.push(collapse_whitespace(location));
        }
        if let Some(region) = district.opt_str("region")? {
            let region = collapse_whitespace(region);
            if !regions.contains(&region) {
                regions.push(region);
            }
        }
    }
    Ok((districts, regions))
}
