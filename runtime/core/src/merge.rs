//! Combining two observations of one post (a search item, then its detail, then a later
//! search item...) without losing detail-only fields or going back to an older version.
//!
//! The rule, in order:
//! 1. The *newer* observation wins every field it has. Newer means a later `updated_at`
//!    (`None`, a rendered page, is older than any dated version); on a tie, the richer source
//!    (job detail > job page > search item).
//! 2. Fields the newer one lacks are filled from the older one: a search item has no
//!    description, so the description of an earlier detail stays until a new detail arrives.
//!    Related fields move together (salary min/max/type, districts/regions, company UEN only
//!    for the same company name) so a post never mixes two versions inside one group.
//! 3. Applications and views only grow and are not part of the version (they change without
//!    `updatedAt` moving), so the larger count is kept whichever side it came from.

use crate::post::{Post, PostStatus};

/// What [`Post::merge`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeOutcome {
    /// The other observation was newer (or richer at the same version) and now leads.
    Replaced,
    /// This post stayed the leading version; gaps or counts were filled from the other.
    Filled,
    /// Nothing changed: the other observation added nothing.
    Unchanged,
    /// The uuids differ; nothing was merged.
    DifferentPost,
}

impl Post {
    /// Merges another observation of the same post into this one (see the module docs).
    pub fn merge(&mut self, other: Post) -> MergeOutcome {
        if self.uuid != other.uuid {
            return MergeOutcome::DifferentPost;
        }
        let other_leads = other.version_key() > self.version_key();
        let before = self.clone();
        if other_leads {
            let older = std::mem::replace(self, other);
            self.fill_from(older);
        } else {
            self.fill_from(other);
        }
        match (other_leads, *self == before) {
            (_, true) => MergeOutcome::Unchanged,
            (true, false) => MergeOutcome::Replaced,
            (false, false) => MergeOutcome::Filled,
        }
    }

    /// Orders observations: later `updated_at` first, then the richer source.
    fn version_key(&self) -> (Option<&str>, crate::Source) {
        (self.updated_at.as_deref(), self.source)
    }

    /// Fills what `self` (the leading version) lacks from an older observation.
    fn fill_from(&mut self, older: Post) {
        fill(&mut self.job_post_id, older.job_post_id);
        if self.company_uen.is_none() && self.company_name.eq_ignore_ascii_case(&older.company_name) {
            self.company_uen = older.company_uen;
        }
        if self.posted_by_name.is_none() && self.posted_by_uen.is_none() {
            self.posted_by_name = older.posted_by_name;
            self.posted_by_uen = older.posted_by_uen;
        }
        fill(&mut self.posted_on_behalf, older.posted_on_behalf);
        if self.salary_min.is_none() && self.salary_max.is_none() {
            self.salary_min = older.salary_min;
            self.salary_max = older.salary_max;
        }
        fill(&mut self.salary_type, older.salary_type);
        fill(&mut self.hide_salary, older.hide_salary);
        fill_list(&mut self.employment_types, older.employment_types);
        fill_list(&mut self.position_levels, older.position_levels);
        fill_list(&mut self.categories, older.categories);
        fill_list(&mut self.skills, older.skills);
        fill(&mut self.min_years_experience, older.min_years_experience);
        fill(&mut self.vacancies, older.vacancies);
        fill(&mut self.posted_date, older.posted_date);
        fill(&mut self.original_posted_date, older.original_posted_date);
        fill(&mut self.expiry_date, older.expiry_date);
        fill(&mut self.updated_at, older.updated_at);
        self.applications = self.applications.max(older.applications);
        self.views = self.views.max(older.views);
        if self.districts.is_empty() && self.regions.is_empty() {
            self.districts = older.districts;
            self.regions = older.regions;
        }
        fill(&mut self.description, older.description);
        fill(&mut self.url, older.url);
        if self.status == PostStatus::Unknown && self.status_code.is_none() {
            self.status = older.status;
            self.status_code = older.status_code;
        }
    }
}

fn fill<T>(slot: &mut Option<T>, older: Option<T>) {
    if slot.is_none() {
        *slot = older;
    }
}

fn fill_list(slot: &mut Vec<String>, older: Vec<String>) {
    if slot.is_empty() {
        *slot = older;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Source;

    fn post(source: Source, updated_at: Option<&str>) -> Post {
        Post {
            uuid: "5624187c437fddd00296eecc783ed4cd".into(),
            job_post_id: Some("MCF-2026-0521403".into()),
            title: "Engineer".into(),
            company_name: "LDRM ENTERPRISES PTE. LTD.".into(),
            company_uen: None,
            posted_by_name: None,
            posted_by_uen: None,
            posted_on_behalf: None,
            salary_min: Some(3700),
            salary_max: Some(5400),
            salary_type: Some("Monthly".into()),
            hide_salary: None,
            employment_types: vec!["Full Time".into()],
            position_levels: vec![],
            categories: vec![],
            skills: vec![],
            min_years_experience: None,
            vacancies: None,
            posted_date: Some("2026-03-27".into()),
            original_posted_date: None,
            expiry_date: None,
            updated_at: updated_at.map(str::to_string),
            applications: Some(3),
            views: None,
            districts: vec![],
            regions: vec![],
            description: None,
            url: None,
            status: PostStatus::Open,
            status_code: Some(102),
            source,
        }
    }

    fn detail(updated_at: &str) -> Post {
        Post {
            description: Some("Design things.".into()),
            expiry_date: Some("2026-04-17".into()),
            views: Some(40),
            vacancies: Some(2),
            min_years_experience: Some(3),
            company_uen: Some("201912345A".into()),
            ..post(Source::JobDetail, Some(updated_at))
        }
    }

    #[test]
    fn detail_after_search_item_fills_detail_only_fields() {
        let mut p = post(Source::SearchItem, Some("2026-03-27T01:00:00Z"));
        assert_eq!(p.merge(detail("2026-03-27T01:00:00Z")), MergeOutcome::Replaced);
        assert_eq!(p.source, Source::JobDetail);
        assert_eq!(p.description.as_deref(), Some("Design things."));
        assert_eq!(
            (p.views, p.vacancies, p.min_years_experience),
            (Some(40), Some(2), Some(3))
        );
    }

    #[test]
    fn older_detail_never_overrides_a_newer_search_item_but_fills_its_gaps() {
        let mut p = Post {
            title: "Senior Engineer".into(),
            applications: Some(9),
            ..post(Source::SearchItem, Some("2026-04-01T00:00:00Z"))
        };
        let old = Post {
            applications: Some(5),
            ..detail("2026-03-27T01:00:00Z")
        };
        assert_eq!(p.merge(old), MergeOutcome::Filled);
        assert_eq!(p.title, "Senior Engineer");
        assert_eq!(p.updated_at.as_deref(), Some("2026-04-01T00:00:00Z"));
        assert_eq!(p.source, Source::SearchItem);
        assert_eq!(p.description.as_deref(), Some("Design things."));
        assert_eq!(p.applications, Some(9));
    }

    #[test]
    fn counts_only_grow_and_redelivery_changes_nothing() {
        let mut p = detail("2026-03-27T01:00:00Z");
        let later_count = Post {
            applications: Some(7),
            ..post(Source::SearchItem, Some("2026-03-27T01:00:00Z"))
        };
        assert_eq!(p.merge(later_count), MergeOutcome::Filled);
        assert_eq!(p.applications, Some(7));
        assert_eq!(p.source, Source::JobDetail);
        assert_eq!(p.clone().merge(p.clone()), MergeOutcome::Unchanged);
        let same = p.clone();
        assert_eq!(p.merge(same), MergeOutcome::Unchanged);
    }

    #[test]
    fn an_undated_page_is_older_than_any_api_version() {
        let mut p = post(Source::SearchItem, Some("2026-03-27T01:00:00Z"));
        let page = Post {
            title: "Engineer (page)".into(),
            description: Some("From the page.".into()),
            status: PostStatus::Unknown,
            status_code: None,
            ..post(Source::JobPage, None)
        };
        assert_eq!(p.merge(page), MergeOutcome::Filled);
        assert_eq!(p.title, "Engineer");
        assert_eq!(p.description.as_deref(), Some("From the page."));

        let mut page_first = post(Source::JobPage, None);
        page_first.status = PostStatus::Unknown;
        assert_eq!(page_first.merge(detail("2026-03-27T01:00:00Z")), MergeOutcome::Replaced);
        assert_eq!(page_first.status, PostStatus::Open);
    }

    #[test]
    fn salary_moves_as_a_group_and_uen_only_for_the_same_company() {
        let mut p = Post {
            salary_min: None,
            salary_max: None,
            company_name: "OTHER PTE. LTD.".into(),
            ..post(Source::SearchItem, Some("2026-05-01T00:00:00Z"))
        };
        let old = Post {
            salary_min: Some(1),
            salary_max: Some(2),
            ..detail("2026-03-27T01:00:00Z")
        };
        p.merge(old);
        assert_eq!((p.salary_min, p.salary_max), (Some(1), Some(2)));
        assert_eq!(p.company_uen, None);
    }

    #[test]
    fn different_posts_are_not_merged() {
        let mut p = post(Source::SearchItem, None);
        let other = Post {
            uuid: "0".repeat(32),
            ..detail("2030-01-01T00:00:00Z")
        };
        assert_eq!(p.merge(other), MergeOutcome::DifferentPost);
        assert_eq!(p, post(Source::SearchItem, None));
    }
}
