//! Reading log groups: `FilterLogEvents` per group from a start time (with CloudWatch's filter
//! pattern, as given), every page; the groups' events merged by time; and, for `--follow`,
//! which events were already shown.

use std::collections::HashMap;

use anyhow::{Result, anyhow};
use serde::Serialize;

use super::Group;
use crate::aws::{error_code, error_text};

/// One log event of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub component: String,
    pub group: String,
    pub stream: String,
    /// CloudWatch's event id: unique within the group.
    pub id: String,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub message: String,
}

/// What one group answered.
#[derive(Debug)]
pub enum Read {
    Events(Vec<Event>),
    /// The group does not exist (`ResourceNotFoundException`).
    Missing,
}

/// Every event of `group` from `start_ms` on that matches `filter` (CloudWatch's filter
/// pattern syntax, passed as is), in the order CloudWatch gives them.
pub async fn events(
    client: &aws_sdk_cloudwatchlogs::Client,
    group: &Group,
    start_ms: i64,
    filter: Option<&str>,
) -> Result<Read> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .filter_log_events()
            .log_group_name(&group.name)
            .start_time(start_ms)
            .set_filter_pattern(filter.map(str::to_string))
            .set_next_token(token.take())
            .send()
            .await;
        let page = match page {
            Ok(page) => page,
            Err(e) if error_code(&e).as_deref() == Some("ResourceNotFoundException") => return Ok(Read::Missing),
            Err(e) => {
                return Err(anyhow!(
                    "cannot read log group {} ({}): {}",
                    group.name,
                    group.component,
                    error_text(&e)
                ));
            }
        };
        for e in page.events() {
            out.push(Event {
                component: group.component.clone(),
                group: group.name.clone(),
                stream: e.log_stream_name().unwrap_or_default().to_string(),
                id: e.event_id().unwrap_or_default().to_string(),
                timestamp: e.timestamp().unwrap_or_default(),
                message: e
                    .message()
                    .unwrap_or_default()
                    .trim_end_matches(['\n', '\r'])
                    .to_string(),
            });
        }
        // CloudWatch may answer a page with no events and a token: the search goes on.
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => break,
        }
    }
    Ok(Read::Events(out))
}

/// The events of several groups in one time order. Equal times keep the order given: the
/// groups' order, then each group's own.
pub fn merge(groups: Vec<Vec<Event>>) -> Vec<Event> {
    let mut all: Vec<Event> = groups.into_iter().flatten().collect();
    // Stable: a group's events with one timestamp stay as CloudWatch ordered them.
    all.sort_by_key(|e| e.timestamp);
    all
}

/// The events already shown while following, by group and id, with their timestamps so that
/// ids older than the window polled can be forgotten.
#[derive(Debug, Default)]
pub struct Seen {
    ids: HashMap<(String, String), i64>,
}

impl Seen {
    /// The events of `merged` not shown before (now counted as shown).
    pub fn fresh(&mut self, merged: Vec<Event>) -> Vec<Event> {
        merged
            .into_iter()
            .filter(|e| self.ids.insert((e.group.clone(), e.id.clone()), e.timestamp).is_none())
            .collect()
    }

    /// Forgets events before `start_ms`: the next polls start later, so they cannot come back.
    pub fn forget_before(&mut self, start_ms: i64) {
        self.ids.retain(|_, t| *t >= start_ms);
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(component: &str, id: &str, timestamp: i64) -> Event {
        Event {
            component: component.into(),
            group: format!("/g/{component}"),
            stream: "s".into(),
            id: id.into(),
            timestamp,
            message: format!("{component} {id}"),
        }
    }

    #[test]
    fn groups_merge_by_time_and_ties_keep_their_order() {
        let scraper = vec![
            event("mcfscrape", "a", 10),
            event("mcfscrape", "b", 30),
            event("mcfscrape", "c", 30),
        ];
        // One group's events need not come sorted (moto lists stream after stream).
        let parser = vec![
            event("mcfparse", "y", 30),
            event("mcfparse", "x", 20),
            event("mcfparse", "z", 40),
        ];
        let merged: Vec<String> = merge(vec![scraper, parser]).into_iter().map(|e| e.id).collect();
        assert_eq!(merged, ["a", "x", "b", "c", "y", "z"]);
        assert!(merge(vec![vec![], vec![]]).is_empty());
    }

    #[test]
    fn following_shows_each_event_once_and_forgets_what_the_window_left() {
        let mut seen = Seen::default();
        let first = seen.fresh(vec![event("p", "1", 10), event("p", "2", 20)]);
        assert_eq!(first.len(), 2);
        // The next poll's window overlaps: only the new event is fresh; the same id in
        // another group is another event.
        let again = seen.fresh(vec![event("p", "2", 20), event("p", "3", 30), event("q", "2", 20)]);
        assert_eq!(
            again
                .iter()
                .map(|e| (e.component.as_str(), e.id.as_str()))
                .collect::<Vec<_>>(),
            [("p", "3"), ("q", "2")]
        );
        seen.forget_before(20);
        assert_eq!(seen.len(), 3, "id 1 (at 10) is forgotten");
    }
}
