//! `POST /v2/search` responses: the posts of one results page and where the next page is.

use mcfcore::{Post, Source};
use serde_json::Value;

use crate::error::ParseError;
use crate::json::{Lite, Obj, Path, Schema, Tree};

const DOCUMENT: &str = "search response";

/// What [`parse_search_response`] reads of a response.
const RESPONSE: Schema = {
    use Schema::{ArrayOf, Leaf, Object};
    const LINK: Schema = Object(&[("href", Leaf)]);
    Object(&[
        ("results", ArrayOf(&crate::api::JOB)),
        ("total", Leaf),
        ("countWithoutFilters", Leaf),
        ("searchRankingId", Leaf),
        ("_links", Object(&[("self", LINK), ("next", LINK), ("last", LINK)])),
    ])
};

/// One page of search results.
///
/// A broken item does not sink the page: it is returned in `rejects` with its raw JSON and
/// reason, so the scraper can park it and still move on with the other 99.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub posts: Vec<Post>,
    pub rejects: Vec<RejectedItem>,
    /// Results matching the query, capped by MCF at 10,000.
    pub total: u64,
    /// `countWithoutFilters`: how many posts MCF has in all.
    pub count_without_filters: Option<u64>,
    pub search_ranking_id: Option<String>,
    /// This page's number (0-based), from `_links.self` (`page` absent means 0).
    pub page: u32,
    /// `_links.next.href`; `None` on the last page.
    pub next_href: Option<String>,
    pub next_page: Option<u32>,
    /// From `_links.last` (99 when the 10,000-result cap applies at limit 100).
    pub last_page: Option<u32>,
}

/// A result item that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedItem {
    /// Its position in `results`.
    pub index: usize,
    /// The item's uuid when it has a readable one (to name the rejected document).
    pub uuid: Option<String>,
    pub raw: Value,
    pub error: ParseError,
}

/// Parses a whole search response.
pub fn parse_search_response(bytes: &[u8]) -> Result<SearchPage, ParseError> {
    let tree = crate::parse_json(bytes, DOCUMENT, &RESPONSE)?;
    let root_path = Path::Root("");
    let root = Obj::root(&tree, tree.root(), DOCUMENT, &root_path)?;
    let items = match root.raw("results") {
        Some(results @ Lite::Array(..)) => tree.items(results),
        Some(other) => return Err(root.wrong("results", "an array", other)),
        None => return Err(root.missing("results")),
    };
    let total = root.opt_u32("total")?.ok_or_else(|| root.missing("total"))?;

    let results_path = Path::Key(&root_path, "results");
    // A rejected item is kept whole, as `Value`: the document is read again for it (the tree
    // above holds only the fields a post needs). It parsed once, so it parses again.
    let mut whole: Option<Value> = None;
    let (mut posts, mut rejects) = (Vec::with_capacity(items.len()), Vec::new());
    for (index, item) in items.iter().enumerate() {
        let path = Path::Index(&results_path, index);
        match crate::api::post_from_value(&tree, item, Source::SearchItem, DOCUMENT, &path) {
            Ok(post) => posts.push(post),
            Err(error) => {
                let whole = whole.get_or_insert_with(|| serde_json::from_slice(bytes).unwrap_or(Value::Null));
                let raw = whole["results"][index].clone();
                rejects.push(RejectedItem {
                    index,
                    uuid: raw
                        .get("uuid")
                        .and_then(Value::as_str)
                        .and_then(|u| crate::ids::checked_uuid(u).ok()),
                    raw,
                    error,
                })
            }
        }
    }

    let href = |rel: &'static str| -> Result<Option<String>, ParseError> {
        let Some(links) = root.opt_obj("_links")? else {
            return Ok(None);
        };
        let links = links.get();
        match links.opt_obj(rel)? {
            Some(link) => Ok(link.get().opt_str("href")?.map(str::to_string)),
            None => Ok(None),
        }
    };
    let next_href = href("next")?;
    Ok(SearchPage {
        posts,
        rejects,
        total: u64::from(total),
        count_without_filters: root.opt_u32("countWithoutFilters")?.map(u64::from),
        search_ranking_id: root.opt_str("searchRankingId")?.map(str::to_string),
        page: href("self")?.as_deref().and_then(page_of).unwrap_or(0),
        next_page: next_href.as_deref().map(|h| page_of(h).unwrap_or(0)),
        next_href,
        last_page: href("last")?.as_deref().map(|h| page_of(h).unwrap_or(0)),
    })
}

/// Parses one search item on its own (as the scraper stores it in the raw prefix).
pub fn parse_search_item(bytes: &[u8]) -> Result<Post, ParseError> {
    let tree = crate::parse_json(bytes, "search item", &crate::api::JOB)?;
    crate::api::post_from_value(&tree, tree.root(), Source::SearchItem, "search item", &Path::Root(""))
}

/// Parses one search item that is already JSON.
pub fn parse_search_item_value(item: &Value) -> Result<Post, ParseError> {
    let tree = Tree::from_value(item, &crate::api::JOB);
    crate::api::post_from_value(&tree, tree.root(), Source::SearchItem, "search item", &Path::Root(""))
}

/// The `page` query parameter of a link; `None` when there is none (page 0).
fn page_of(href: &str) -> Option<u32> {
    let query = href.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("page="))
        .and_then(|p| p.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::page_of;

    #[test]
    fn page_numbers_come_from_the_links() {
        assert_eq!(
            page_of("https://api.mycareersfuture.gov.sg/v2/search?limit=100&page=99"),
            Some(99)
        );
        assert_eq!(page_of("https://api.mycareersfuture.gov.sg/v2/search?limit=100"), None);
        assert_eq!(page_of("https://api.mycareersfuture.gov.sg/v2/search?page=x"), None);
    }
}
