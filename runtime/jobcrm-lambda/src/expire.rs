//! The daily expiry: every job waiting on a deadline (`SCREENED`, `TOAPPLY`, `APPLIED`) whose
//! deadline has passed moves to `EXPIRED`, with an event by `expiry`. `jobcrm::expires`
//! decides; jobs in `INTERVIEW` or `OFFER` are never read. A job another writer changes while
//! the expiry runs is left alone (it is looked at again tomorrow).

use jobcrm::{Facts, Stage};
use jobmatch::Day;
use mcfstore::StoreError;
use mcfstore::crm::Event;

use crate::App;
use crate::types::ExpiryReport;

/// The stages the expiry reads.
pub const WAITING: [Stage; 3] = [Stage::Screened, Stage::ToApply, Stage::Applied];

/// Expires what is due on `today` (`YYYY-MM-DD`).
pub async fn run(app: &App, today: &str) -> Result<ExpiryReport, StoreError> {
    let mut report = ExpiryReport {
        today: today.to_string(),
        ..ExpiryReport::default()
    };
    let Some(day) = Day::parse(today) else {
        return Ok(report);
    };
    for stage in WAITING {
        for job in app.crm.stage_since(stage.as_str(), None).await? {
            report.checked += 1;
            let facts = Facts {
                stage,
                closing: job.closing_date.as_deref().and_then(Day::parse),
                posted: job.posted_date.as_deref().and_then(Day::parse),
                applied: job.stage_at.get(..10).and_then(Day::parse),
                last_event: job.updated_at.get(..10).and_then(Day::parse),
            };
            // The stored deadline is what the user saw; the facts decide when it is absent.
            let due = match job.deadline.as_deref().and_then(Day::parse) {
                Some(deadline) => deadline < day,
                None => jobcrm::expires(&facts, day),
            };
            if !due {
                continue;
            }
            let id = mcfcore::layout::crm::job_id(&job.uuid, &job.track);
            let now = app.now();
            let event = Event {
                at: now,
                from: Some(job.stage.clone()),
                to: Stage::Expired.as_str().into(),
                actor: "expiry".into(),
                note: Some(format!(
                    "the deadline {} passed",
                    job.deadline.clone().unwrap_or_else(|| "(from the post's dates)".into())
                )),
                revision: job.revision + 1,
            };
            // The index is eventually consistent: the job may have moved already. The write
            // is conditional on the revision read, so a stale copy changes nothing.
            if app.crm.move_stage(&job, &event, None, None, None).await? {
                report.expired.push(id);
            } else {
                report.raced.push(id);
            }
        }
    }
    Ok(report)
}
