//! Shipping the log lines of components that run in this process (`run search` and `up` run
//! the scraper library and the parser's handler here) to the components' own log groups, so
//! that `cargo xtask logs` shows them as it shows the deployed task's and function's lines, on
//! the emulator and on AWS alike.
//!
//! Each component logs into a collecting sink ([`Collected`]); a background task takes what
//! was collected every few seconds and sends it with `PutLogEvents` into one stream per run
//! (`xtask/<date>/<time>-<pid>`, created by the first batch), so `logs --follow` sees a local
//! run as it goes; [`Shipping::finish`] sends the rest. Batches keep CloudWatch's limits
//! ([`batches`]). A failure to ship never fails the run: it is reported, and the lines not
//! shipped are counted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use mcfcore::log::{Log, LogLine, LogSink};
use serde::Serialize;

use crate::aws::{Aws, Clients, error_code, error_text};
use crate::ui::Ui;

/// CloudWatch's limits on one `PutLogEvents` call.
pub const MAX_BATCH_EVENTS: usize = 10_000;
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Bytes CloudWatch counts per event on top of its message.
pub const EVENT_OVERHEAD: usize = 26;
/// The largest message of one event.
pub const MAX_EVENT_BYTES: usize = 262_144 - EVENT_OVERHEAD;
/// The events of one call may span at most 24 hours.
pub const MAX_BATCH_SPAN_MS: i64 = 24 * 3600 * 1000;

const READ_WITH: &str = "cargo xtask logs";

/// A sink that keeps lines for shipping and, when given a UI, shows each as it comes
/// (`mcfscrape: …`, as the scraper's progress always looked from the deployer).
pub struct Collected {
    lines: Mutex<Vec<LogLine>>,
    echo: Option<Ui>,
}

impl Collected {
    pub fn new(echo: Option<Ui>) -> Collected {
        Collected {
            lines: Mutex::new(Vec::new()),
            echo,
        }
    }

    fn keep(&self, line: &LogLine) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(line.clone());
        }
    }

    fn take(&self) -> Vec<LogLine> {
        self.lines
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
}

impl LogSink for Collected {
    fn write(&self, line: &LogLine) {
        if let Some(ui) = &self.echo {
            ui.line(&line.to_text());
        }
        self.keep(line);
    }
}

/// One component to ship for.
pub struct Target {
    pub component: String,
    /// Its log group; `None` when the environment has none deployed (the lines are counted,
    /// not shipped, and `why_not` says why).
    pub group: Option<String>,
    pub why_not: Option<String>,
    /// Show its lines through this UI as they come.
    pub echo: Option<Ui>,
}

/// What was shipped where.
#[derive(Debug, Clone, Serialize)]
pub struct Shipped {
    /// The stream this run's lines went to, in every group.
    pub stream: String,
    pub groups: Vec<ShippedGroup>,
    /// The command that shows them.
    pub read_with: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShippedGroup {
    pub component: String,
    pub group: Option<String>,
    /// Lines the component wrote.
    pub lines: usize,
    /// Of those, accepted by CloudWatch.
    pub shipped: usize,
    /// Why lines were not shipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Shipped {
    /// Lines written but not shipped, with why, one sentence per component.
    pub fn problems(&self) -> Vec<String> {
        self.groups
            .iter()
            .filter(|g| g.shipped < g.lines)
            .map(|g| {
                format!(
                    "{} of {} log line(s) of {} were not shipped to CloudWatch Logs: {}",
                    g.lines - g.shipped,
                    g.lines,
                    g.component,
                    g.error.as_deref().unwrap_or("unknown reason")
                )
            })
            .collect()
    }
}

struct Channel {
    component: String,
    group: Option<String>,
    sink: Arc<Collected>,
    lines: usize,
    shipped: usize,
    error: Option<String>,
    stream_ready: bool,
}

/// The shipping of one run, under way.
pub struct Shipping {
    stream: String,
    logs: Vec<(String, Log)>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<Channel>>,
}

impl Shipping {
    /// Starts shipping what `targets` log into `stream`, every `every`.
    pub fn start(aws: &Aws, stream: String, targets: Vec<Target>, every: Duration) -> Shipping {
        let mut logs = Vec::new();
        let mut channels = Vec::new();
        for t in targets {
            let sink = Arc::new(Collected::new(t.echo));
            logs.push((t.component.clone(), Log::new(&t.component, sink.clone())));
            channels.push(Channel {
                component: t.component,
                error: if t.group.is_none() { t.why_not } else { None },
                group: t.group,
                sink,
                lines: 0,
                shipped: 0,
                stream_ready: false,
            });
        }
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(ship_until_stopped(
            aws.logs(),
            stream.clone(),
            channels,
            stop.clone(),
            every,
        ));
        Shipping {
            stream,
            logs,
            stop,
            task,
        }
    }

    /// The logger of `component` (one of the targets).
    pub fn log(&self, component: &str) -> Option<Log> {
        self.logs
            .iter()
            .find(|(c, _)| c == component)
            .map(|(_, log)| log.clone())
    }

    /// Ships what is left and says what went where.
    pub async fn finish(self) -> Shipped {
        self.stop.store(true, Ordering::SeqCst);
        let channels = match self.task.await {
            Ok(channels) => channels,
            Err(e) => {
                return Shipped {
                    stream: self.stream,
                    read_with: READ_WITH.into(),
                    groups: self
                        .logs
                        .into_iter()
                        .map(|(component, _)| ShippedGroup {
                            component,
                            group: None,
                            lines: 0,
                            shipped: 0,
                            error: Some(format!("the shipping task ended: {e}")),
                        })
                        .collect(),
                };
            }
        };
        Shipped {
            stream: self.stream,
            read_with: READ_WITH.into(),
            groups: channels
                .into_iter()
                .map(|c| ShippedGroup {
                    component: c.component,
                    group: c.group,
                    lines: c.lines,
                    shipped: c.shipped,
                    error: c.error,
                })
                .collect(),
        }
    }
}

async fn ship_until_stopped(
    client: aws_sdk_cloudwatchlogs::Client,
    stream: String,
    mut channels: Vec<Channel>,
    stop: Arc<AtomicBool>,
    every: Duration,
) -> Vec<Channel> {
    let step = Duration::from_millis(50);
    loop {
        // Read before flushing: lines written before the stop are in this flush.
        let stopping = stop.load(Ordering::SeqCst);
        for channel in &mut channels {
            channel.flush(&client, &stream).await;
        }
        if stopping {
            return channels;
        }
        let mut waited = Duration::ZERO;
        while waited < every && !stop.load(Ordering::SeqCst) {
            tokio::time::sleep(step).await;
            waited += step;
        }
    }
}

impl Channel {
    async fn flush(&mut self, client: &aws_sdk_cloudwatchlogs::Client, stream: &str) {
        let lines = self.sink.take();
        if lines.is_empty() {
            return;
        }
        self.lines += lines.len();
        let Some(group) = self.group.clone() else { return };
        if self.error.is_some() {
            // After a failure the rest is counted, not sent: one error, not one per batch.
            return;
        }
        if !self.stream_ready {
            match client
                .create_log_stream()
                .log_group_name(&group)
                .log_stream_name(stream)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if error_code(&e).as_deref() == Some("ResourceAlreadyExistsException") => {}
                Err(e) => {
                    self.error = Some(format!(
                        "cannot create log stream {stream} in {group}: {}",
                        error_text(&e)
                    ));
                    return;
                }
            }
            self.stream_ready = true;
        }
        let events = lines.iter().map(|l| (l.time_ms, l.to_json())).collect();
        for batch in batches(events) {
            let n = batch.len();
            let events: Result<Vec<InputLogEvent>, _> = batch
                .into_iter()
                .map(|(timestamp, message)| InputLogEvent::builder().timestamp(timestamp).message(message).build())
                .collect();
            let events = match events {
                Ok(events) => events,
                Err(e) => {
                    self.error = Some(format!("cannot build the log events: {e}"));
                    return;
                }
            };
            let sent = client
                .put_log_events()
                .log_group_name(&group)
                .log_stream_name(stream)
                .set_log_events(Some(events))
                .send()
                .await;
            match sent {
                Ok(out) => {
                    let rejected = out.rejected_log_events_info().map_or(0, |r| {
                        let old = r
                            .too_old_log_event_end_index()
                            .max(r.expired_log_event_end_index())
                            .map_or(0, |i| usize::try_from(i).unwrap_or(0) + 1);
                        let new = r
                            .too_new_log_event_start_index()
                            .map_or(0, |i| n.saturating_sub(usize::try_from(i).unwrap_or(n)));
                        old + new
                    });
                    self.shipped += n.saturating_sub(rejected);
                    if rejected > 0 && self.error.is_none() {
                        self.error = Some(format!(
                            "CloudWatch Logs refused {rejected} event(s) of {group} as too old or too far in the future (check this host's clock)"
                        ));
                    }
                }
                Err(e) => {
                    self.error = Some(format!("PutLogEvents to {group} (stream {stream}): {}", error_text(&e)));
                    return;
                }
            }
        }
    }
}

/// The stream a run's lines go to: `xtask/<date>/<HHMMSS.mmm>-<pid>`, the shipping host's
/// run (CloudWatch allows neither `:` nor `*` in stream names).
pub fn stream_name(now_ms: i64, pid: u32) -> String {
    let t = mcfcore::time::timestamp_millis_from_unix(now_ms);
    // 2026-11-28T18:11:08.123Z
    let date = t.get(..10).unwrap_or("");
    let time: String = t.get(11..23).unwrap_or("").chars().filter(|c| *c != ':').collect();
    format!("xtask/{date}/{time}-{pid}")
}

/// `(timestamp, message)` events as `PutLogEvents` batches: in time order (CloudWatch refuses
/// a batch that is not; equal times keep their order), at most [`MAX_BATCH_EVENTS`] events and
/// [`MAX_BATCH_BYTES`] each, spanning less than a day; a message over [`MAX_EVENT_BYTES`] is
/// cut, and says so.
pub fn batches(mut events: Vec<(i64, String)>) -> Vec<Vec<(i64, String)>> {
    events.sort_by_key(|(t, _)| *t);
    let mut out: Vec<Vec<(i64, String)>> = Vec::new();
    let mut bytes = 0;
    for (time_ms, message) in events {
        let message = cut(message);
        let size = message.len() + EVENT_OVERHEAD;
        let fits = out.last().is_some_and(|b| {
            b.len() < MAX_BATCH_EVENTS
                && bytes + size <= MAX_BATCH_BYTES
                && b.first().is_some_and(|(first, _)| time_ms - first < MAX_BATCH_SPAN_MS)
        });
        if !fits {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        if let Some(batch) = out.last_mut() {
            batch.push((time_ms, message));
        }
    }
    out
}

fn cut(mut message: String) -> String {
    const MARK: &str = "… [cut: over CloudWatch's 256 KB per event]";
    if message.len() <= MAX_EVENT_BYTES {
        return message;
    }
    let mut end = MAX_EVENT_BYTES - MARK.len();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message.truncate(end);
    message.push_str(MARK);
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(time_ms: i64, message: &str) -> (i64, String) {
        (time_ms, message.to_string())
    }

    #[test]
    fn batches_are_in_time_order_and_within_the_limits() {
        // Out of order in, in order out; equal times keep their order.
        let b = batches(vec![line(3, "c"), line(1, "a"), line(2, "b1"), line(2, "b2")]);
        assert_eq!(b.len(), 1);
        assert_eq!(
            b[0].iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>(),
            ["a", "b1", "b2", "c"]
        );

        let many: Vec<(i64, String)> = (0..MAX_BATCH_EVENTS as i64 + 1).map(|i| line(i, "x")).collect();
        let b = batches(many);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [MAX_BATCH_EVENTS, 1]);

        let big = "y".repeat(200_000);
        let b = batches((0..6).map(|i| line(i, &big)).collect());
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [5, 1], "1 MB per batch");
        for batch in &b {
            assert!(batch.iter().map(|(_, m)| m.len() + EVENT_OVERHEAD).sum::<usize>() <= MAX_BATCH_BYTES);
        }

        let day = MAX_BATCH_SPAN_MS;
        let b = batches(vec![line(0, "a"), line(day - 1, "b"), line(day, "c")]);
        assert_eq!(
            b.iter().map(Vec::len).collect::<Vec<_>>(),
            [2, 1],
            "less than a day per batch"
        );
        assert!(batches(vec![]).is_empty());
    }

    #[test]
    fn an_event_over_the_limit_is_cut_and_says_so() {
        let huge = "é".repeat(MAX_EVENT_BYTES);
        let b = batches(vec![line(0, &huge)]);
        let message = &b[0][0].1;
        assert!(message.len() <= MAX_EVENT_BYTES);
        assert!(message.ends_with("over CloudWatch's 256 KB per event]"));
    }

    #[test]
    fn streams_are_named_for_the_run_without_forbidden_characters() {
        let name = stream_name(1_795_888_868_123, 4242);
        assert_eq!(name, "xtask/2026-11-28/180108.123-4242");
        assert!(!name.contains(':') && !name.contains('*'));
    }
}
