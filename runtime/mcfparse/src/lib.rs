//! `mcfparse`: MCF documents → [`mcfcore::Post`]s. Pure functions over bytes: no AWS, no I/O.
//!
//! Three documents are understood, and [`parse_document`] tells them apart:
//! - a search item of `POST /v2/search` ([`parse_search_item`]; whole responses with
//!   [`parse_search_response`]),
//! - a job detail of `GET /v2/jobs/{uuid}` ([`parse_job_detail`]),
//! - a rendered job page, HTML ([`parse_job_page`]).
//!
//! Every failure is a [`ParseError`] naming the document kind and the field; nothing here
//! panics on any input (the property tests feed it arbitrary and mangled bytes). The Lambda
//! shell that reads S3 and writes DynamoDB lives elsewhere and calls these functions.

mod api;
mod error;
mod html_text;
mod ids;
mod json;
mod page;
mod page_scan;
mod search;

use mcfcore::{Post, Source};

use json::{Lite, Path, Schema, Tree};

pub use error::ParseError;
pub use ids::uuid_from_job_post_id;
pub use page::parse_job_page;
pub use search::{RejectedItem, SearchPage, parse_search_item, parse_search_item_value, parse_search_response};

/// Parses a `GET /v2/jobs/{uuid}` response.
pub fn parse_job_detail(bytes: &[u8]) -> Result<Post, ParseError> {
    let tree = parse_json(bytes, "job detail", &api::JOB)?;
    api::post_from_value(&tree, tree.root(), Source::JobDetail, "job detail", &Path::Root(""))
}

/// Parses a single raw document whatever it is: JSON objects are a job detail when they carry
/// detail-only keys (`_links`, `description`, `sourceCode`, `numberOfVacancies`), a search
/// item otherwise; documents starting with `<` are job pages. A whole search response is
/// refused here because it holds many posts: use [`parse_search_response`].
pub fn parse_document(bytes: &[u8]) -> Result<Post, ParseError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| body[i]) {
        None => Err(ParseError::Unrecognised {
            reason: "the document is empty".into(),
        }),
        Some(b'<') => match std::str::from_utf8(body) {
            Ok(text) => parse_job_page(text),
            Err(_) => parse_job_page(&String::from_utf8_lossy(body)),
        },
        Some(b'{') => {
            let tree = parse_json(body, "MCF JSON document", &api::JOB)?;
            let value = tree.root();
            if let Some(results) = tree.get(value, "results") {
                let count = match results {
                    Lite::Array(len, _) => *len,
                    _ => 0,
                };
                return Err(ParseError::Unrecognised {
                    reason: format!("this is a search response with {count} results, not one post"),
                });
            }
            const DETAIL_KEYS: [&str; 4] = ["_links", "description", "sourceCode", "numberOfVacancies"];
            if DETAIL_KEYS.iter().any(|k| tree.get(value, k).is_some()) {
                api::post_from_value(&tree, value, Source::JobDetail, "job detail", &Path::Root(""))
            } else {
                api::post_from_value(&tree, value, Source::SearchItem, "search item", &Path::Root(""))
            }
        }
        Some(_) => {
            let head = String::from_utf8_lossy(&body[..body.len().min(24)]).into_owned();
            Err(ParseError::Unrecognised {
                reason: format!("neither JSON nor HTML: it starts with {head:?}"),
            })
        }
    }
}

/// Reads a JSON document, keeping the fields `schema` names (see [`json`]).
fn parse_json<'a>(bytes: &'a [u8], document: &'static str, schema: &'static Schema) -> Result<Tree<'a>, ParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty { document });
    }
    Tree::from_slice(bytes, schema).map_err(|err| ParseError::json(document, &err))
}
