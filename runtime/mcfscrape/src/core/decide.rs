//! The incremental decision: fetch a post's detail only when the table does not have it or
//! MCF has a newer version than the one stored.

use mcfcore::time::normalize_timestamp;

/// What a search item means for the posts table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Not in the table: fetch.
    New,
    /// In the table, but the search item's `updatedAt` is later: fetch.
    Changed,
    /// In the table at this version or a later one: nothing to do.
    Unchanged,
}

impl Decision {
    pub fn fetch(self) -> bool {
        !matches!(self, Decision::Unchanged)
    }
}

/// Decides from the search item's `updatedAt` and the stored `updated_at`.
///
/// Both are compared in normalised form (`YYYY-MM-DDTHH:MM:SSZ`, see `mcfcore::time`), so the
/// search item's `2025-05-16T08:33:52` equals the detail's `2025-05-16T08:33:52.000Z` the
/// parser stored. A stored post whose search item has no readable `updatedAt` counts as
/// unchanged: refetching it on every run would cost a request per post per run for nothing
/// we could detect.
pub fn decide(item_updated_at: Option<&str>, stored_updated_at: Option<&str>) -> Decision {
    let Some(stored) = stored_updated_at else {
        return Decision::New;
    };
    let Some(seen) = item_updated_at.and_then(|t| normalize_timestamp(t).ok()) else {
        return Decision::Unchanged;
    };
    match normalize_timestamp(stored) {
        Ok(stored) if seen > stored => Decision::Changed,
        Ok(_) => Decision::Unchanged,
        // An unreadable stored version cannot be trusted to be current.
        Err(_) => Decision::Changed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_missing_or_newer_posts_are_fetched() {
        assert_eq!(decide(Some("2025-05-16T08:33:52"), None), Decision::New);
        assert_eq!(decide(None, None), Decision::New);
        assert_eq!(
            decide(Some("2025-05-16T08:33:52"), Some("2025-05-16T08:33:52Z")),
            Decision::Unchanged
        );
        // The detail's form of the same instant is the same version.
        assert_eq!(
            decide(Some("2025-05-16T08:33:52"), Some("2025-05-16T08:33:52.000Z")),
            Decision::Unchanged
        );
        assert_eq!(
            decide(Some("2025-05-16T08:33:53"), Some("2025-05-16T08:33:52Z")),
            Decision::Changed
        );
        // An older search item (a stale replica) never rolls a post back.
        assert_eq!(
            decide(Some("2025-05-15T00:00:00"), Some("2025-05-16T08:33:52Z")),
            Decision::Unchanged
        );
        assert_eq!(decide(None, Some("2025-05-16T08:33:52Z")), Decision::Unchanged);
        assert_eq!(
            decide(Some("yesterday"), Some("2025-05-16T08:33:52Z")),
            Decision::Unchanged
        );
        assert_eq!(decide(Some("2025-05-16T08:33:52"), Some("garbage")), Decision::Changed);
        assert!(Decision::New.fetch() && Decision::Changed.fetch() && !Decision::Unchanged.fetch());
    }
}
