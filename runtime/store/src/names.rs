//! Which table, bucket and queue a component works on: given through environment variables
//! (see the crate docs), never derived from the environment name at run time, so the deployer
//! stays the one place that decides physical names.

use crate::StoreError;

pub const POSTS_TABLE: &str = "POSTS_TABLE";
pub const DIMENSIONS_TABLE: &str = "DIMENSIONS_TABLE";
pub const DATA_BUCKET: &str = "DATA_BUCKET";
pub const PARSE_QUEUE_URL: &str = "PARSE_QUEUE_URL";
pub const CRM_TABLE: &str = "CRM_TABLE";

/// The physical names of the database layer's resources. Each component needs only some of
/// them, so they are optional here and required by the accessors it calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub posts_table: Option<String>,
    pub dimensions_table: Option<String>,
    pub data_bucket: Option<String>,
    pub parse_queue_url: Option<String>,
    pub crm_table: Option<String>,
}

impl Names {
    /// Reads `POSTS_TABLE`, `DIMENSIONS_TABLE`, `DATA_BUCKET`, `PARSE_QUEUE_URL` and `CRM_TABLE`.
    pub fn from_env() -> Names {
        Names::from_lookup(|var| std::env::var(var).ok())
    }

    /// Reads the same variables through `lookup` (tests, or a config map). Empty means unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Names {
        let get = |var: &str| lookup(var).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        Names {
            posts_table: get(POSTS_TABLE),
            dimensions_table: get(DIMENSIONS_TABLE),
            data_bucket: get(DATA_BUCKET),
            parse_queue_url: get(PARSE_QUEUE_URL),
            crm_table: get(CRM_TABLE),
        }
    }

    pub fn posts_table(&self) -> Result<&str, StoreError> {
        required(&self.posts_table, POSTS_TABLE, "the posts table")
    }

    pub fn dimensions_table(&self) -> Result<&str, StoreError> {
        required(&self.dimensions_table, DIMENSIONS_TABLE, "the dimensions table")
    }

    pub fn data_bucket(&self) -> Result<&str, StoreError> {
        required(&self.data_bucket, DATA_BUCKET, "the data bucket")
    }

    pub fn crm_table(&self) -> Result<&str, StoreError> {
        required(&self.crm_table, CRM_TABLE, "the CRM table")
    }

    pub fn parse_queue_url(&self) -> Result<&str, StoreError> {
        required(&self.parse_queue_url, PARSE_QUEUE_URL, "the parse queue's URL")
    }
}

fn required<'a>(value: &'a Option<String>, var: &'static str, what: &'static str) -> Result<&'a str, StoreError> {
    value.as_deref().ok_or(StoreError::MissingSetting { var, what })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_and_blank_variables_are_missing_and_say_which() {
        let names = Names::from_lookup(|var| match var {
            POSTS_TABLE => Some("mcfpipe-dev-posts".into()),
            DATA_BUCKET => Some("  ".into()),
            _ => None,
        });
        assert_eq!(names.posts_table().ok(), Some("mcfpipe-dev-posts"));
        let err = names.data_bucket().map(str::to_string).unwrap_err().to_string();
        assert!(err.starts_with("DATA_BUCKET is not set"), "{err}");
        assert!(names.parse_queue_url().is_err() && names.dimensions_table().is_err());
        let err = names.crm_table().map(str::to_string).unwrap_err().to_string();
        assert!(
            err.starts_with("CRM_TABLE is not set") && err.contains("the CRM table"),
            "{err}"
        );
    }
}
