//! Search profiles: what the scraper asks MCF for, one per track, stored in the dimension table.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One MCF search: the keywords and filters of a track.
///
/// Category, employment type and position level values must be MCF's exact display names
/// ("Information Technology", "Full Time"): MCF answers 400 to anything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchProfile {
    /// The profile's id (the dimension table's sort key).
    pub name: String,
    /// The track whose posts this search feeds (scoring and the CV to apply with).
    pub track: String,
    /// Joined with spaces into MCF's free-text `search`.
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub employment_types: Vec<String>,
    #[serde(default)]
    pub position_levels: Vec<String>,
    /// Monthly salary floor in SGD; MCF's `salary` filter.
    #[serde(default)]
    pub min_salary: Option<u32>,
}

impl SearchProfile {
    /// The JSON body of `POST /v2/search` that the website itself would send for this profile,
    /// newest posts first. `categories` can be narrowed to one category at a time by the
    /// caller to stay under MCF's 10,000-result cap.
    pub fn search_body(&self, categories: &[String]) -> Value {
        let mut body = json!({
            "sessionId": "",
            "search": self.keywords.join(" "),
            "categories": categories,
            "employmentTypes": self.employment_types,
            "postingCompany": [],
            "sortBy": ["new_posting_date"],
        });
        if let Some(salary) = self.min_salary {
            body["salary"] = json!(salary);
        }
        if !self.position_levels.is_empty() {
            body["positionLevels"] = json!(self.position_levels);
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_matches_what_the_website_sends() {
        let profile: SearchProfile = serde_json::from_value(json!({
            "name": "data-eng", "track": "data", "keywords": ["data", "engineer"],
            "categories": ["Information Technology"], "employment_types": ["Full Time"], "min_salary": 6000
        }))
        .unwrap();
        let body = profile.search_body(&profile.categories);
        assert_eq!(
            body,
            json!({"sessionId":"","search":"data engineer","categories":["Information Technology"],
                   "employmentTypes":["Full Time"],"postingCompany":[],"salary":6000,"sortBy":["new_posting_date"]})
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = serde_json::from_value::<SearchProfile>(json!({"name": "x", "track": "t", "salary": 1})).unwrap_err();
        assert!(err.to_string().contains("salary"), "{err}");
    }
}
