//! The plan of requests for a search profile: which queries (the profile as a whole, or one
//! per category when MCF caps it), which pages of each, and the request paths.

use mcfcore::SearchProfile;
use serde_json::Value;

use super::categories::CATEGORIES;

/// Results per page: MCF's maximum.
pub const PAGE_LIMIT: u32 = 100;
/// MCF never reports more than this many results for a query; reaching it means some
/// matching posts cannot be paged to.
pub const RESULTS_CAP: u64 = 10_000;

/// One search: a profile narrowed to some categories (or none: all of the profile's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub profile: String,
    /// The categories sent in the body; empty = no category filter.
    pub categories: Vec<String>,
}

impl Query {
    /// The profile's own search, with its own categories.
    pub fn for_profile(profile: &SearchProfile) -> Query {
        Query {
            profile: profile.name.clone(),
            categories: profile.categories.clone(),
        }
    }

    /// A stable name of the query for checkpoints and messages: `<profile>#<categories>`
    /// (`*` for all categories).
    pub fn key(&self) -> String {
        if self.categories.is_empty() {
            format!("{}#*", self.profile)
        } else {
            format!("{}#{}", self.profile, self.categories.join("|"))
        }
    }

    /// The `POST /v2/search` body (the website's own shape, see [`SearchProfile::search_body`]).
    pub fn body(&self, profile: &SearchProfile) -> Value {
        profile.search_body(&self.categories)
    }
}

/// What to do with a query after its first page told the total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    /// Under the cap: page through it.
    Keep,
    /// At the cap: run these narrower queries instead (one per category).
    Into(Vec<Query>),
    /// At the cap with a single category: it cannot be narrowed by category, so page what
    /// MCF serves (the first 10,000) and report the query as capped.
    Capped,
}

/// Splits a query whose `total` reached MCF's cap into one query per category: the
/// profile's categories when it has several, all 43 when it has none.
pub fn split(query: &Query, total: u64) -> Split {
    if total < RESULTS_CAP {
        return Split::Keep;
    }
    let categories: Vec<String> = match query.categories.len() {
        0 => CATEGORIES.iter().map(|c| c.to_string()).collect(),
        1 => return Split::Capped,
        _ => query.categories.clone(),
    };
    Split::Into(
        categories
            .into_iter()
            .map(|category| Query {
                profile: query.profile.clone(),
                categories: vec![category],
            })
            .collect(),
    )
}

/// What a results page said about the pages after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLinks {
    /// The page we asked for.
    pub page: u32,
    /// How many results it held.
    pub results: usize,
    /// Whether `_links.next` was present.
    pub has_next: bool,
    /// `_links.last`, when present.
    pub last_page: Option<u32>,
}

/// The page to ask for next, or `None` when this was the last one: no `_links.next`, the
/// `_links.last` page, or an empty page. Past page 99 MCF answers 418, which the shell
/// treats as the end too, so a missing `last` link cannot make us page forever.
pub fn next_page(links: PageLinks) -> Option<u32> {
    let at_last = links.last_page.is_some_and(|last| links.page >= last);
    (links.has_next && !at_last && links.results > 0).then(|| links.page + 1)
}

/// `/v2/search?limit=L&page=P`.
pub fn search_path(limit: u32, page: u32) -> String {
    format!("/v2/search?limit={limit}&page={page}")
}

/// `/v2/jobs/<uuid>`.
pub fn detail_path(uuid: &str) -> String {
    format!("/v2/jobs/{uuid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(categories: &[&str]) -> SearchProfile {
        SearchProfile {
            name: "data".into(),
            track: "t".into(),
            keywords: vec!["data".into(), "engineer".into()],
            categories: categories.iter().map(|c| c.to_string()).collect(),
            employment_types: vec!["Full Time".into()],
            position_levels: vec![],
            min_salary: Some(6000),
        }
    }

    #[test]
    fn a_profile_is_one_query_with_its_body() {
        let p = profile(&["Information Technology"]);
        let q = Query::for_profile(&p);
        assert_eq!(q.key(), "data#Information Technology");
        assert_eq!(q.body(&p)["categories"], serde_json::json!(["Information Technology"]));
        assert_eq!(q.body(&p)["search"], "data engineer");
        assert_eq!(Query::for_profile(&profile(&[])).key(), "data#*");
    }

    #[test]
    fn capped_queries_split_by_category() {
        let all = Query::for_profile(&profile(&[]));
        assert_eq!(split(&all, 9_999), Split::Keep);
        let Split::Into(parts) = split(&all, 10_000) else {
            panic!("no split")
        };
        assert_eq!(parts.len(), 43);
        assert!(parts.iter().all(|q| q.categories.len() == 1 && q.profile == "data"));
        assert_eq!(parts[20].categories, vec!["Information Technology".to_string()]);

        let two = Query::for_profile(&profile(&["Engineering", "Information Technology"]));
        let Split::Into(parts) = split(&two, 10_000) else {
            panic!("no split")
        };
        assert_eq!(
            parts.iter().map(Query::key).collect::<Vec<_>>(),
            ["data#Engineering", "data#Information Technology"]
        );
        assert_eq!(split(&parts[0], 12_000), Split::Capped);
    }

    #[test]
    fn paging_stops_at_the_last_page_the_missing_next_or_an_empty_page() {
        let links = |page, results, has_next, last_page| PageLinks {
            page,
            results,
            has_next,
            last_page,
        };
        assert_eq!(next_page(links(0, 100, true, Some(99))), Some(1));
        assert_eq!(next_page(links(98, 100, true, Some(99))), Some(99));
        assert_eq!(next_page(links(99, 100, true, Some(99))), None);
        assert_eq!(next_page(links(3, 40, false, Some(3))), None);
        assert_eq!(next_page(links(5, 0, true, None)), None);
        // No `last` link: keep going while `next` is there; the 418 at page 100 ends it.
        assert_eq!(next_page(links(99, 1, true, None)), Some(100));
        assert_eq!(search_path(100, 3), "/v2/search?limit=100&page=3");
        assert_eq!(detail_path("abc"), "/v2/jobs/abc");
    }
}
