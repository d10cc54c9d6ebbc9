//! `logs`: the components' CloudWatch Logs, merged by time: every log group the environment's
//! stacks declare (or one component's), from `--since` on, matching `--filter`; then, with
//! `--follow`, new events as they arrive.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use mcfcore::log::now_millis;
use mcfcore::time::timestamp_millis_from_unix;
use serde_json::json;

use crate::aws::Clients;
use crate::logs::read::{self, Event, Read, Seen};
use crate::logs::{self, Group, show, since};
use crate::session::Session;

/// The flags of `logs`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// One component (`mcfparse`, `mcfscrape`, …); every one when `None`.
    pub component: Option<String>,
    /// `30m`, `1h`, `2d`, … or a time.
    pub since: String,
    pub follow: bool,
    /// Follow for this long, then stop (implies `follow`).
    pub follow_for: Option<String>,
    /// CloudWatch's filter pattern, as is.
    pub filter: Option<String>,
}

/// How far back each poll of `--follow` reads again: events reach CloudWatch after their
/// timestamps (ingestion takes seconds; a local run ships every second), and an event that
/// lands behind the last poll's start must still be found. What was shown is skipped by id.
const LOOKBACK_MS: i64 = 60_000;

pub async fn run(s: &Session, o: &Options) -> Result<u8> {
    let now = now_millis();
    let since = since::start(&o.since, now).map_err(|e| anyhow!("--since {e}"))?;
    let follow_for = o
        .follow_for
        .as_deref()
        .map(since::duration)
        .transpose()
        .map_err(|e| anyhow!("--follow-for {e}"))?;
    let follow = o.follow || follow_for.is_some();
    let filter = o.filter.as_deref().filter(|f| !f.is_empty());

    let aws = s.aws().await?;
    let groups = logs::discover(s, &s.cfn(&aws)).await?;
    let chosen = logs::select(&groups, o.component.as_deref(), &s.env)?;
    let client = aws.logs();

    // The groups that are there, and why the others are not.
    let mut problems = Vec::new();
    let mut reading: Vec<&Group> = Vec::new();
    let mut first = Vec::new();
    for group in chosen {
        if !group.deployed {
            problems.push(group.deploy_advice(&s.env));
            continue;
        }
        match read::events(&client, group, since, filter).await? {
            Read::Events(events) => {
                reading.push(group);
                first.push(events);
            }
            Read::Missing => problems.push(deleted(group, &s.env)),
        }
    }
    if reading.is_empty() || (o.component.is_some() && !problems.is_empty()) {
        bail!("{}", problems.join("; "));
    }
    for p in &problems {
        s.ui.warn(p);
    }

    let since_text = timestamp_millis_from_unix(since);
    let names: Vec<&str> = reading.iter().map(|g| g.name.as_str()).collect();
    s.ui.info(&format!(
        "{} since {since_text}{}",
        names.join(", "),
        filter.map(|f| format!(" matching {f}")).unwrap_or_default()
    ));
    let width = reading.iter().map(|g| g.component.len()).max().unwrap_or(0);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen = Seen::default();
    let shown = seen.fresh(read::merge(first));
    print(s, &shown, width, &mut counts);
    if shown.is_empty() {
        s.ui.info(&format!(
            "no log events since {since_text}{} in {}",
            filter.map(|f| format!(" matching {f}")).unwrap_or_default(),
            names.join(", ")
        ));
    }

    if follow {
        let poll = if aws.is_emulator() {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(2)
        };
        let deadline = follow_for.map(|d| Instant::now() + d);
        s.ui.info(&match follow_for {
            Some(d) => format!("following for {} s", d.as_secs()),
            None => "following; Ctrl-C stops".to_string(),
        });
        let mut polled_at = now;
        loop {
            let wait = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    poll.min(left)
                }
                None => poll,
            };
            tokio::time::sleep(wait).await;
            let start = since.max(polled_at - LOOKBACK_MS);
            polled_at = now_millis();
            let mut polled = Vec::new();
            for group in &reading {
                match read::events(&client, group, start, filter).await? {
                    Read::Events(events) => polled.push(events),
                    Read::Missing => bail!("{}", deleted(group, &s.env)),
                }
            }
            let fresh = seen.fresh(read::merge(polled));
            print(s, &fresh, width, &mut counts);
            seen.forget_before(start);
        }
    }

    let total: usize = counts.values().sum();
    s.ui.document(&json!({
        "ok": true,
        "env": s.env,
        "since": since_text,
        "filter": filter,
        "follow": follow,
        "events": total,
        "groups": reading.iter().map(|g| json!({
            "component": g.component,
            "group": g.name,
            "stack": g.stack,
            "events": counts.get(&g.name).copied().unwrap_or(0),
        })).collect::<Vec<_>>(),
        "problems": problems,
    }));
    Ok(0)
}

fn print(s: &Session, events: &[Event], width: usize, counts: &mut BTreeMap<String, usize>) {
    for event in events {
        *counts.entry(event.group.clone()).or_default() += 1;
        if s.ui.json() {
            s.ui.emit("log", show::json_event(event));
        } else {
            s.ui.log_event(&show::show(event), width);
        }
    }
}

/// A group the deployed stack lists but CloudWatch does not have.
fn deleted(group: &Group, env: &str) -> String {
    format!(
        "log group {} ({}) does not exist although stack {} lists it: it was deleted outside CloudFormation; `cargo xtask drift --env {env}` reports it",
        group.name, group.component, group.stack
    )
}
