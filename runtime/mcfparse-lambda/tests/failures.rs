//! What the parser does with what it cannot store: rejects with their reasons for documents
//! and messages that can never become posts, the queue (then the dead-letter queue) for
//! failures that may pass, and the Lambda event/response JSON around both.

mod common;

use aws_lambda_events::event::sqs::SqsEvent;
use bytes::Bytes;
use common::*;
use mcfcore::layout::{ParseMessage, raw_key, reject_key};
use mcfparse_lambda::DrainOptions;

const RECORDED_EVENT: &str = include_str!("fixtures/sqs_event.json");

#[test]
fn poison_documents_and_malformed_messages_are_kept_with_their_reason_and_consumed() {
    let local = Local::start();
    let truncated = ParseMessage {
        uuid: DETAIL_UUID.into(),
        key: raw_key("2026-11-27", DETAIL_UUID, "json"),
    };
    local.put_raw(&truncated.key, &Bytes::copy_from_slice(&DETAIL[..DETAIL.len() / 2]));
    let no_job = ParseMessage {
        uuid: PAGE_UUID.into(),
        key: raw_key(DAY, PAGE_UUID, "html"),
    };
    let html = Bytes::from_static(b"<!doctype html><html><head><title>MyCareersFuture</title></head><body><p>This job is no longer available.</p></body></html>");
    local.put_raw(&no_job.key, &html);
    let missing = ParseMessage {
        uuid: "0123456789abcdef0123456789abcdef".into(),
        key: raw_key(DAY, "0123456789abcdef0123456789abcdef", "json"),
    };
    local.send(&[&truncated, &no_job, &missing]);
    let bad_ids = local.send_bodies(&[
        "hello, parser".to_string(),
        r#"{"uuid":"x","key":"reports/mcfpipe.sqlite"}"#.to_string(),
    ]);

    let summary = local.drain(&local.handler, &DrainOptions::default());
    assert_eq!((summary.received, summary.rejected), (5, 5), "{summary:?}");
    assert_eq!((summary.written(), summary.failed), (0, 0), "{summary:?}");
    assert!(local.items().is_empty(), "nothing reaches the table");
    assert_eq!(local.queue_counts(&local.queue_url), (0, 0), "rejects are consumed");
    assert_eq!(local.queue_counts(&local.dlq_url), (0, 0));

    let reason = |reject: &str| {
        local
            .rt
            .block_on(local.handler.raw().reject_reason(reject))
            .expect("read reason")
            .unwrap_or_else(|| panic!("no reason beside {reject}"))
    };
    let kept = reject_key(&truncated.key);
    assert_eq!(local.object(&kept).as_deref(), Some(&DETAIL[..DETAIL.len() / 2]));
    let why = reason(&kept);
    assert!(why.reason.contains("truncated"), "{why:?}");
    assert_eq!(why.raw_key.as_deref(), Some(truncated.key.as_str()));
    assert!(why.at.ends_with('Z') && why.message_id.is_none());

    let kept = reject_key(&no_job.key);
    assert_eq!(local.object(&kept), Some(html));
    assert!(!reason(&kept).reason.is_empty());

    let kept = reject_key(&missing.key);
    assert_eq!(local.object(&kept), None, "there is no document to keep");
    assert!(reason(&kept).reason.contains("does not exist"), "{:?}", reason(&kept));

    for (id, body, needle) in [
        (&bad_ids[0], "hello, parser", "not a parse message"),
        (
            &bad_ids[1],
            r#"{"uuid":"x","key":"reports/mcfpipe.sqlite"}"#,
            "not under raw/",
        ),
    ] {
        let kept = format!("rejects/messages/{id}.json");
        assert_eq!(local.object(&kept).as_deref(), Some(body.as_bytes()));
        let why = reason(&kept);
        assert!(why.reason.contains(needle), "{why:?}");
        assert_eq!(why.message_id.as_deref(), Some(id.as_str()));
    }
    assert_eq!(local.keys_under("rejects/").len(), 2 + 2 + 1 + 4);
}

#[test]
fn transient_failures_stay_on_the_queue_and_dead_letter_after_max_receive_count() {
    let local = Local::start();
    let docs = documents();
    let (detail, item) = (&docs[0], &docs[1]);
    local.put_documents(&[detail.clone(), item.clone()]);
    // A real failure, not a mock: the function pointed at a table that does not exist.
    let broken = local.handler_with_table("mcfpipe-local-no-such-table");

    local.send(&[&detail.0]);
    let summary = local.drain(&broken, &DrainOptions::default());
    assert_eq!(
        (summary.received, summary.failed, summary.written()),
        (1, 1, 0),
        "{summary:?}"
    );
    assert_eq!(
        local.queue_counts(&local.queue_url),
        (0, 1),
        "left in flight until the visibility timeout"
    );
    assert!(
        local.keys_under("rejects/").is_empty(),
        "a transient failure is not the document's fault"
    );

    // Redelivery without waiting out the 90 s visibility timeout: each receive fails again,
    // and the receive after the 5th (max_receive_count) moves the message to the DLQ.
    local.send(&[&item.0]);
    let immediate = DrainOptions {
        visibility_timeout: Some(0),
        ..DrainOptions::default()
    };
    let summary = local.drain(&broken, &immediate);
    assert_eq!((summary.received, summary.failed), (5, 5), "{summary:?}");
    assert_eq!(local.queue_counts(&local.dlq_url), (1, 0));
    assert!(local.items().is_empty());
}

#[test]
fn a_recorded_lambda_event_round_trips_through_the_handler() {
    let local = Local::start();
    let event: SqsEvent = serde_json::from_str(RECORDED_EVENT).expect("the recorded event parses");
    let record = &event.records[0];
    assert_eq!(
        record.attributes.get("ApproximateReceiveCount").map(String::as_str),
        Some("1")
    );
    assert_eq!(record.event_source.as_deref(), Some("aws:sqs"));
    assert_eq!(
        serde_json::from_value::<SqsEvent>(serde_json::to_value(&event).expect("to JSON")).expect("back"),
        event
    );
    local.put_raw(&raw_key(DAY, DETAIL_UUID, "json"), &Bytes::from_static(DETAIL));

    let broken = local.handler_with_table("mcfpipe-local-no-such-table");
    let response = local.rt.block_on(broken.handle(&event));
    assert_eq!(
        serde_json::to_value(&response).expect("response JSON"),
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": "059f36b4-87a3-44ab-83d2-661975830a7d"}]}),
        "only the retryable record fails; the malformed one is rejected either way"
    );

    let response = local.rt.block_on(local.handler.handle(&event));
    assert_eq!(
        serde_json::to_string(&response).expect("response JSON"),
        r#"{"batchItemFailures":[]}"#
    );
    let expected = mcfparse::parse_document(DETAIL).expect("parses");
    assert_eq!(local.get(DETAIL_UUID), Some(expected));
    assert!(
        local
            .object("rejects/messages/2e1424d4-f796-459a-8184-9c92662be6da.json")
            .is_some()
    );
}
