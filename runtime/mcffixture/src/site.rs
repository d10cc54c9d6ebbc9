//! The website side of the fake MCF (issue 12's apply flow): job pages and the application
//! steps with the element ids and texts the original's Playwright flow used (ORIGINAL.md,
//! "Login and apply"), one case per job, behind a session cookie.
//!
//! - `GET /` the home page; `GET /login` the login page (where a missing or wrong session
//!   cookie is sent: a 302 from any other page); `GET /dashboard`, a page only a signed-in
//!   user sees (the session check's);
//! - `GET /job/<slug>-<uuid>` or `/job/<category>/<slug>-<uuid>` the job page: `button#job-details-apply-button` (enabled, a link
//!   to the application) or disabled with `p[data-testid="job-apply-error"]`;
//! - `GET /job/<uuid>/apply` the resume cards (`div[data-testid="resume-card"]` with
//!   `a.resume-link` and a radio input) and `button#application-details-save-button` in a form
//!   posting the choice;
//! - `POST /job/<uuid>/apply` (`resume=<index>`) → the review page with
//!   `button#job-application-review__submit-button`, or a questionnaire step without one;
//! - `POST /job/<uuid>/submit` → the confirmation (`[data-testid="application-confirmation"]`),
//!   or a page without it.
//!
//! Every submit is counted per job ([`Site::submits`]): the never-twice tests read it.

use std::collections::HashMap;
use std::time::Duration;

/// How the site treats one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Case {
    /// Apply, pick the CV, review, submit, confirmation.
    #[default]
    Normal,
    /// The button is disabled: "You have already applied for this job".
    AlreadyApplied,
    /// The button is disabled: "This job is no longer accepting applications" (closed).
    Closed,
    /// The button is disabled and MCF says nothing the flow knows.
    NoButton,
    /// A questionnaire step instead of the review.
    Questionnaire,
    /// The submit answers a page without the confirmation.
    NoConfirmation,
    /// The job page answers after a delay.
    Slow(Duration),
    /// The job page is not there (404).
    Missing,
}

/// The site's configuration and what it saw.
#[derive(Debug, Clone)]
pub struct Site {
    /// The session cookie the site accepts: `(name, value)`.
    pub cookie: (String, String),
    /// The resume cards' link texts, in order.
    pub resumes: Vec<String>,
    /// Cases by job uuid; others are [`Case::Normal`].
    pub cases: HashMap<String, Case>,
    /// Submits per job uuid.
    pub submits: HashMap<String, u64>,
    /// The resume chosen at the last save, per job uuid.
    pub chosen: HashMap<String, String>,
}

impl Default for Site {
    fn default() -> Site {
        Site {
            cookie: ("MCF_SESSION".into(), "fixture-session".into()),
            // The original's CV names, then the starter library's tracks' (config/seed/library).
            resumes: vec![
                "Resume v11.3.pdf".into(),
                "Resume v11.4.pdf".into(),
                "Resume data-1.0.pdf".into(),
                "Resume software-1.0.pdf".into(),
            ],
            cases: HashMap::new(),
            submits: HashMap::new(),
            chosen: HashMap::new(),
        }
    }
}

/// A page to answer: status, location (a redirect), body.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub html: String,
    /// Wait this long before answering.
    pub delay: Option<Duration>,
}

impl Page {
    fn ok(title: &str, body: &str) -> Page {
        Page {
            status: 200,
            location: None,
            html: format!(
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n{body}\n</body></html>\n"
            ),
            delay: None,
        }
    }

    fn redirect(to: &str) -> Page {
        Page {
            status: 302,
            location: Some(to.to_string()),
            html: String::new(),
            delay: None,
        }
    }

    fn not_found(what: &str) -> Page {
        Page {
            status: 404,
            ..Page::ok("Not found", &format!("<h1>Not found</h1><p>{}</p>", escape(what)))
        }
    }
}

/// Whether `path` is one of the site's (not the API's).
pub fn is_site(path: &str) -> bool {
    path == "/" || path == "/login" || path == "/dashboard" || path.starts_with("/job/")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The uuid at the end of a job page's path (`/job/<slug>-<uuid>`) or of a step's
/// (`/job/<uuid>/apply`).
fn uuid_of(segment: &str) -> &str {
    segment.rsplit('-').next().unwrap_or(segment)
}

impl Site {
    fn signed_in(&self, cookie_header: Option<&str>) -> bool {
        let (name, value) = &self.cookie;
        cookie_header.is_some_and(|h| {
            h.split(';')
                .filter_map(|c| c.trim().split_once('='))
                .any(|(n, v)| n == name && v == value)
        })
    }

    /// The answer to `method path` with `cookie` (the Cookie header) and a form `body`.
    pub fn answer(&mut self, method: &str, path: &str, cookie: Option<&str>, body: &str) -> Page {
        match (method, path) {
            ("GET", "/login") => {
                return Page::ok(
                    "Log in | MyCareersFuture",
                    "<h1 data-testid=\"login-page\">Log in with Singpass</h1>",
                );
            }
            ("GET", "/") if self.signed_in(cookie) => {
                return Page::ok(
                    "MyCareersFuture",
                    "<h1>Welcome back</h1><a href=\"/search\">Search jobs</a>",
                );
            }
            _ => {}
        }
        if !self.signed_in(cookie) {
            return Page::redirect("/login");
        }
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method, parts.as_slice()) {
            ("GET", ["dashboard"]) => Page::ok(
                "Dashboard | MyCareersFuture",
                "<h1 data-testid=\"dashboard\">Your applications</h1>",
            ),
            ("GET", ["job", uuid, "apply"]) => self.resumes_page(uuid),
            // MCF's job pages: `/job/<slug>-<uuid>` and `/job/<category>/<slug>-<uuid>`.
            ("GET", ["job", page] | ["job", _, page]) => self.job_page(uuid_of(page)),
            ("POST", ["job", uuid, "apply"]) => self.save(uuid, body),
            ("POST", ["job", uuid, "submit"]) => self.submit(uuid),
            _ => Page::not_found(path),
        }
    }

    fn case(&self, uuid: &str) -> Case {
        self.cases.get(uuid).copied().unwrap_or_default()
    }

    fn job_page(&self, uuid: &str) -> Page {
        let disabled = |text: &str| {
            format!(
                "<button id=\"job-details-apply-button\" disabled>Apply</button>\n<p data-testid=\"job-apply-error\">{}</p>",
                escape(text)
            )
        };
        let button = match self.case(uuid) {
            Case::Missing => return Page::not_found(&format!("no job {uuid}")),
            Case::AlreadyApplied => disabled("You have already applied for this job"),
            Case::Closed => disabled("This job is no longer accepting applications"),
            Case::NoButton => disabled(""),
            _ => format!(
                "<form method=\"get\" action=\"/job/{uuid}/apply\"><button id=\"job-details-apply-button\" type=\"submit\">Apply</button></form>"
            ),
        };
        let mut page = Page::ok(
            "Job | MyCareersFuture",
            &format!("<h1 data-testid=\"job-title\">Job {uuid}</h1>\n{button}"),
        );
        if let Case::Slow(delay) = self.case(uuid) {
            page.delay = Some(delay);
        }
        page
    }

    fn resumes_page(&self, uuid: &str) -> Page {
        let cards: String = self
            .resumes
            .iter()
            .enumerate()
            .map(|(i, r)| {
                format!(
                    "<div data-testid=\"resume-card\"><label><input type=\"radio\" name=\"resume\" value=\"{i}\"> <a class=\"resume-link\" href=\"#\">{}</a></label></div>",
                    escape(r)
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        Page::ok(
            "Apply | MyCareersFuture",
            &format!(
                "<form method=\"post\" action=\"/job/{uuid}/apply\">\n{cards}\n<button id=\"application-details-save-button\" type=\"submit\">Save and continue</button>\n</form>"
            ),
        )
    }

    fn save(&mut self, uuid: &str, body: &str) -> Page {
        let chosen = body
            .split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| *k == "resume")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .and_then(|i| self.resumes.get(i).cloned());
        let Some(resume) = chosen else {
            return Page::ok(
                "Apply | MyCareersFuture",
                "<p data-testid=\"resume-error\">Select a resume</p>",
            );
        };
        self.chosen.insert(uuid.to_string(), resume.clone());
        if self.case(uuid) == Case::Questionnaire {
            return Page::ok(
                "Questions | MyCareersFuture",
                "<h2 data-testid=\"screening-questions\">Screening questions</h2><p>Do you have the right to work in Singapore?</p>",
            );
        }
        Page::ok(
            "Review | MyCareersFuture",
            &format!(
                "<h2>Review your application</h2><p data-testid=\"review-resume\">{}</p>\n<form method=\"post\" action=\"/job/{uuid}/submit\"><button id=\"job-application-review__submit-button\" type=\"submit\">Submit application</button></form>",
                escape(&resume)
            ),
        )
    }

    fn submit(&mut self, uuid: &str) -> Page {
        *self.submits.entry(uuid.to_string()).or_default() += 1;
        if self.case(uuid) == Case::NoConfirmation {
            return Page::ok(
                "MyCareersFuture",
                "<p>Something went wrong. Please try again later.</p>",
            );
        }
        Page::ok(
            "Application submitted | MyCareersFuture",
            "<h2 data-testid=\"application-confirmation\">Your application has been submitted</h2>",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOKIE: &str = "other=1; MCF_SESSION=fixture-session";

    #[test]
    fn the_flow_of_a_normal_job_ends_in_a_confirmation() {
        let mut site = Site::default();
        let page = site.answer("GET", "/job/data-engineer-abc", Some(COOKIE), "");
        assert!(
            page.html
                .contains("<form method=\"get\" action=\"/job/abc/apply\"><button id=\"job-details-apply-button\"")
        );
        let page = site.answer("GET", "/job/abc/apply", Some(COOKIE), "");
        assert_eq!(page.html.matches("data-testid=\"resume-card\"").count(), 4);
        let page = site.answer("POST", "/job/abc/apply", Some(COOKIE), "resume=1");
        assert!(page.html.contains("job-application-review__submit-button") && page.html.contains("v11.4"));
        let page = site.answer("POST", "/job/abc/submit", Some(COOKIE), "");
        assert!(page.html.contains("application-confirmation"));
        assert_eq!(site.submits["abc"], 1);
    }

    #[test]
    fn each_case_answers_as_mcf_would() {
        let mut site = Site::default();
        for (uuid, case) in [
            ("a", Case::AlreadyApplied),
            ("c", Case::Closed),
            ("n", Case::NoButton),
            ("q", Case::Questionnaire),
            ("u", Case::NoConfirmation),
            ("m", Case::Missing),
            ("s", Case::Slow(Duration::from_millis(50))),
        ] {
            site.cases.insert(uuid.into(), case);
        }
        let job = |site: &mut Site, u: &str| site.answer("GET", &format!("/job/x-{u}"), Some(COOKIE), "");
        assert!(job(&mut site, "a").html.contains("already applied"));
        assert!(job(&mut site, "c").html.contains("no longer accepting"));
        assert!(job(&mut site, "n").html.contains("disabled"));
        assert_eq!(job(&mut site, "m").status, 404);
        assert_eq!(job(&mut site, "s").delay, Some(Duration::from_millis(50)));
        let q = site.answer("POST", "/job/q/apply", Some(COOKIE), "resume=0");
        assert!(q.html.contains("screening-questions") && !q.html.contains("submit-button"));
        let u = site.answer("POST", "/job/u/submit", Some(COOKIE), "");
        assert!(!u.html.contains("application-confirmation"));
        // No session, or a wrong one: the login page.
        let out = site.answer("GET", "/job/x-abc", None, "");
        assert_eq!((out.status, out.location.as_deref()), (302, Some("/login")));
        let out = site.answer("GET", "/job/x-abc", Some("MCF_SESSION=stale"), "");
        assert_eq!(out.status, 302);
        assert!(site.answer("GET", "/login", None, "").html.contains("login-page"));
    }
}
