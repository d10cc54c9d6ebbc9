//! One application on MCF's website, in a browser page: the original's flow (ORIGINAL.md,
//! "Login and apply") and what it lacked.
//!
//! 1. the job lacks its id, URL or CV version → `91_invalid_input`;
//! 2. the job's page (MCF's URL, on [`Options::site`]): no page, or an HTTP error →
//!    `05_post_unavailable`; the login page instead → `09_session_expired` (at any step);
//! 3. `button#job-details-apply-button`, up to [`Options::button_tries`] waits of
//!    [`Options::button_wait`]: enabled → clicked; disabled → `p[data-testid="job-apply-error"]`
//!    read ("already"/"applied" → `01_applied`, "closed"/"no longer" → `07_post_closed`);
//!    out of tries → `04_unable_to_apply`;
//! 4. the resume cards: the first whose `a.resume-link` holds the CV version gets its radio
//!    clicked (none → `06_cv_not_found`; no cards, radio or save button →
//!    `03_cv_selector_error`), then `button#application-details-save-button`;
//! 5. no `button#job-application-review__submit-button` on the next page → `02_questionnaire`;
//! 6. a dry run stops here: `dry_run_ok`;
//! 7. the attempt is claimed ([`Guard::claim`], a conditional write: never twice), the submit
//!    clicked, and `01_applied` only when MCF shows `[data-testid="application-confirmation"]`;
//!    else `08_submitted_unconfirmed`.
//!
//! Every outcome that keeps evidence ([`Outcome::keeps_evidence`]) carries the page's
//! screenshot and HTML as they were when it ended.

use std::time::{Duration, Instant};

use crate::cdp::{CdpError, Landed, Page};
use crate::outcome::{Outcome, Skip, apply_error, cv_card};

pub const APPLY_BUTTON: &str = "button#job-details-apply-button";
pub const APPLY_ERROR: &str = "p[data-testid=\"job-apply-error\"]";
pub const RESUME_CARD: &str = "div[data-testid=\"resume-card\"]";
pub const RESUME_LINK: &str = "div[data-testid=\"resume-card\"] a.resume-link";
pub const SAVE_BUTTON: &str = "button#application-details-save-button";
pub const SUBMIT_BUTTON: &str = "button#job-application-review__submit-button";
pub const CONFIRMATION: &str = "[data-testid=\"application-confirmation\"]";

/// MCF's website.
pub const MCF_SITE: &str = "https://www.mycareersfuture.gov.sg";

/// How the flow runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The website's origin: MCF's, or a local fake's in tests. A job's URL keeps its path
    /// and query and takes this origin.
    pub site: String,
    /// Submit, or stop at the submit button (a dry run).
    pub submit: bool,
    /// How many times the apply button is waited for (the original: 5).
    pub button_tries: u32,
    /// How long each wait is (the original: 5 s).
    pub button_wait: Duration,
    /// The path MCF sends a signed-out browser to.
    pub login_path: String,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            site: MCF_SITE.into(),
            submit: false,
            button_tries: 5,
            button_wait: Duration::from_secs(5),
            login_path: "/login".into(),
        }
    }
}

/// What the flow needs of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub uuid: String,
    pub url: Option<String>,
    pub cv_version: Option<String>,
}

/// A screenshot and the page's HTML.
#[derive(Clone, PartialEq)]
pub struct Evidence {
    pub png: Vec<u8>,
    pub html: String,
}

impl std::fmt::Debug for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Evidence {{ png: {} bytes, html: {} bytes }}",
            self.png.len(),
            self.html.len()
        )
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub outcome: Outcome,
    /// What happened, in words (the error, the card texts, …).
    pub detail: String,
    /// The page where it ended, when one loaded.
    pub url: Option<String>,
    /// Whether the attempt was claimed for a submit (the guard's conditional write).
    pub claimed: bool,
    pub evidence: Option<Evidence>,
    /// The flow's time, browser included.
    pub seconds: f64,
}

/// The never-twice guard: called once, right before the submit click.
pub trait Guard {
    /// Records that a submit is about to happen, if no other attempt holds the job or has
    /// applied to it; `Err` tells why not (nothing is submitted then).
    fn claim(&mut self) -> impl std::future::Future<Output = Result<(), Skip>>;
}

/// The job's URL on `site`: MCF's path and query, the site's origin. `None` when it is not a
/// URL.
pub fn on_site(url: &str, site: &str) -> Option<String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
    Some(format!("{}{}", site.trim_end_matches('/'), path))
}

/// The path of `url` (without query).
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
    path.split(['?', '#']).next().unwrap_or(path)
}

struct Run<'a, 'b> {
    page: &'a Page<'b>,
    options: &'a Options,
    url: Option<String>,
}

/// An early end: the outcome and what happened.
type End = (Outcome, String);

impl Run<'_, '_> {
    fn cdp(&self, step: &str) -> impl Fn(CdpError) -> End + '_ {
        let step = step.to_string();
        move |e: CdpError| (Outcome::UnableToApply, format!("{step}: {e}"))
    }

    /// After every page: signed out → the run stops.
    fn landed(&mut self, landed: &Landed) -> Result<(), End> {
        self.url = Some(landed.url.clone());
        let path = path_of(&landed.url);
        if path == self.options.login_path || path.starts_with(&format!("{}/", self.options.login_path)) {
            return Err((
                Outcome::SessionExpired,
                format!("MCF sent the login page ({}): the session has expired", landed.url),
            ));
        }
        Ok(())
    }

    async fn job_page(&mut self, target: &str) -> Result<(), End> {
        let landed = self
            .page
            .goto(target)
            .await
            .map_err(|e| (Outcome::PostUnavailable, format!("the job's page {target}: {e}")))?;
        self.landed(&landed)?;
        if landed.status >= 400 {
            return Err((
                Outcome::PostUnavailable,
                format!("the job's page {target} answered HTTP {}", landed.status),
            ));
        }
        Ok(())
    }

    async fn apply_button(&mut self) -> Result<(), End> {
        let tries = self.options.button_tries.max(1);
        let mut said = String::new();
        for _ in 0..tries {
            let found = self
                .page
                .wait_for(APPLY_BUTTON, self.options.button_wait)
                .await
                .map_err(self.cdp("the apply button"))?;
            if !found {
                continue;
            }
            match self
                .page
                .disabled(APPLY_BUTTON)
                .await
                .map_err(self.cdp("the apply button"))?
            {
                Some(false) => {
                    let landed = self
                        .page
                        .click_and_wait(APPLY_BUTTON)
                        .await
                        .map_err(self.cdp("clicking the apply button"))?
                        .ok_or((Outcome::UnableToApply, "the apply button went away".to_string()))?;
                    return self.landed(&landed);
                }
                Some(true) => {
                    said = self
                        .page
                        .text(APPLY_ERROR)
                        .await
                        .map_err(self.cdp("the apply button's message"))?
                        .unwrap_or_default();
                    match apply_error(&said) {
                        Outcome::UnableToApply => {
                            // MCF may still be deciding: wait as the original did.
                            tokio::time::sleep(self.options.button_wait).await;
                        }
                        known => return Err((known, format!("MCF says: {said}"))),
                    }
                }
                None => {}
            }
        }
        Err((
            Outcome::UnableToApply,
            if said.is_empty() {
                format!("the apply button was not usable after {tries} tries")
            } else {
                format!("the apply button was not usable after {tries} tries; MCF says: {said}")
            },
        ))
    }

    async fn resume(&mut self, cv_version: &str) -> Result<(), End> {
        let step = "the resume cards";
        if !self
            .page
            .wait_for(RESUME_CARD, self.options.button_wait)
            .await
            .map_err(|e| (Outcome::CvSelectorError, format!("{step}: {e}")))?
        {
            return Err((Outcome::CvSelectorError, "no resume card on the page".into()));
        }
        let texts = self
            .page
            .texts(RESUME_LINK)
            .await
            .map_err(|e| (Outcome::CvSelectorError, format!("{step}: {e}")))?;
        let Some(index) = cv_card(&texts, cv_version) else {
            return Err((
                Outcome::CvNotFound,
                format!(
                    "no resume card holds CV {cv_version:?}; the cards: {}",
                    texts.join(", ")
                ),
            ));
        };
        let clicked = self
            .page
            .eval(&format!(
                "(() => {{ const c = document.querySelectorAll({card})[{index}]; const r = c && c.querySelector('input[type=\"radio\"]'); if (!r) return false; r.click(); return r.checked; }})()",
                card = serde_json::Value::from(RESUME_CARD)
            ))
            .await
            .map_err(|e| (Outcome::CvSelectorError, format!("{step}: {e}")))?;
        if clicked != serde_json::Value::Bool(true) {
            return Err((
                Outcome::CvSelectorError,
                format!(
                    "the resume card {:?} has no radio button that takes the click",
                    texts[index]
                ),
            ));
        }
        let landed = self
            .page
            .click_and_wait(SAVE_BUTTON)
            .await
            .map_err(|e| (Outcome::CvSelectorError, format!("saving the resume: {e}")))?
            .ok_or((
                Outcome::CvSelectorError,
                "no save button under the resume cards".to_string(),
            ))?;
        self.landed(&landed)
    }

    async fn review(&mut self) -> Result<(), End> {
        let found = self
            .page
            .wait_for(SUBMIT_BUTTON, self.options.button_wait)
            .await
            .map_err(|e| (Outcome::Questionnaire, format!("the review page: {e}")))?;
        if !found {
            return Err((
                Outcome::Questionnaire,
                "no submit button after the resume: MCF asks more (a questionnaire); apply by hand".into(),
            ));
        }
        Ok(())
    }

    async fn submit(&mut self) -> Result<End, End> {
        let landed = match self.page.click_and_wait(SUBMIT_BUTTON).await {
            Ok(Some(landed)) => landed,
            Ok(None) => return Err((Outcome::UnableToApply, "the submit button went away".into())),
            // The click happened: whether MCF took it is unknown.
            Err(e) => return Ok((Outcome::SubmittedUnconfirmed, format!("after the submit: {e}"))),
        };
        self.landed(&landed)?;
        let confirmed = self
            .page
            .wait_for(CONFIRMATION, self.options.button_wait)
            .await
            .unwrap_or(false);
        Ok(if confirmed {
            let said = self.page.text(CONFIRMATION).await.ok().flatten().unwrap_or_default();
            (Outcome::Applied, format!("MCF confirmed: {said}"))
        } else {
            (
                Outcome::SubmittedUnconfirmed,
                "submitted, and MCF showed no confirmation: look at MCF's applications before trying again".into(),
            )
        })
    }
}

/// Applies for `job` in `page` (or goes as far as the submit button). `Err` only when the guard
/// refused the claim: nothing was submitted.
pub async fn apply(page: &Page<'_>, job: &Input, options: &Options, guard: &mut impl Guard) -> Result<Attempt, Skip> {
    let started = Instant::now();
    let mut run = Run {
        page,
        options,
        url: None,
    };
    let mut claimed = false;
    let end: End = 'flow: {
        let (Some(url), Some(cv)) = (
            job.url.as_deref().filter(|u| !u.trim().is_empty()),
            job.cv_version.as_deref().filter(|c| !c.trim().is_empty()),
        ) else {
            let missing: Vec<&str> = [
                (job.uuid.trim().is_empty(), "id"),
                (job.url.as_deref().is_none_or(|u| u.trim().is_empty()), "URL"),
                (
                    job.cv_version.as_deref().is_none_or(|c| c.trim().is_empty()),
                    "CV version",
                ),
            ]
            .into_iter()
            .filter_map(|(m, what)| m.then_some(what))
            .collect();
            break 'flow (
                Outcome::InvalidInput,
                format!("the job has no {}", missing.join(", no ")),
            );
        };
        if job.uuid.trim().is_empty() {
            break 'flow (Outcome::InvalidInput, "the job has no id".into());
        }
        let Some(target) = on_site(url, &options.site) else {
            break 'flow (
                Outcome::InvalidInput,
                format!("the job's URL {url:?} is not a web address"),
            );
        };
        if let Err(end) = run.job_page(&target).await {
            break 'flow end;
        }
        if let Err(end) = run.apply_button().await {
            break 'flow end;
        }
        if let Err(end) = run.resume(cv).await {
            break 'flow end;
        }
        if let Err(end) = run.review().await {
            break 'flow end;
        }
        if !options.submit {
            break 'flow (Outcome::DryRunOk, "dry run: stopped at the submit button".into());
        }
        guard.claim().await?;
        claimed = true;
        match run.submit().await {
            Ok(end) | Err(end) => end,
        }
    };
    let (outcome, mut detail) = end;
    let mut evidence = None;
    if outcome.keeps_evidence() && run.url.is_some() {
        match (page.screenshot().await, page.html().await) {
            (Ok(png), Ok(html)) => evidence = Some(Evidence { png, html }),
            (Err(e), _) | (_, Err(e)) => detail.push_str(&format!(" (no evidence kept: {e})")),
        }
    }
    Ok(Attempt {
        outcome,
        detail,
        url: run.url,
        claimed,
        evidence,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jobs_url_moves_to_the_site() {
        let url = "https://www.mycareersfuture.gov.sg/job/engineering/data-engineer-acme-0a1b?source=x";
        assert_eq!(
            on_site(url, "http://127.0.0.1:8080/").as_deref(),
            Some("http://127.0.0.1:8080/job/engineering/data-engineer-acme-0a1b?source=x")
        );
        assert_eq!(on_site(url, MCF_SITE).as_deref(), Some(url));
        assert_eq!(on_site("not a url", MCF_SITE), None);
        assert_eq!(path_of("http://127.0.0.1:1/login?next=/job/x"), "/login");
    }
}
