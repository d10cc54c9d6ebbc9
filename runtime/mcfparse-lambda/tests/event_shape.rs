//! The local poller's events have the shape the Lambda service sends (no emulator needed).

use aws_sdk_sqs::types::{Message, MessageAttributeValue, MessageSystemAttributeName};
use mcfparse_lambda::lambda_event;
use serde_json::Value;

const RECORDED_EVENT: &str = include_str!("fixtures/sqs_event.json");

fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    keys.sort();
    keys
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}

#[test]
fn poller_events_match_a_recorded_lambda_event() {
    let message = Message::builder()
        .message_id("2e1424d4-f796-459a-8184-9c92662be6da")
        .receipt_handle("AQEB...")
        .body("not a parse message")
        .md5_of_body("4d3e8d2d2b3f8b5e7c1b8a0c7f6e5d4c")
        .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "2")
        .attributes(MessageSystemAttributeName::SentTimestamp, "1764316800100")
        .attributes(MessageSystemAttributeName::SenderId, "AIDAIENQZJOLO23YVJ4VO")
        .attributes(
            MessageSystemAttributeName::ApproximateFirstReceiveTimestamp,
            "1764316800102",
        )
        .message_attributes(
            "trace",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("run-42")
                .build()
                .expect("attribute"),
        )
        .build();
    let event = lambda_event(
        "arn:aws:sqs:ap-southeast-1:123456789012:mcfpipe-local-parse",
        &[message],
    );
    let ours = serde_json::to_value(&event).expect("JSON");
    let recorded: Value = serde_json::from_str(RECORDED_EVENT).expect("JSON");

    // Lambda leaves out what a message does not have (md5OfMessageAttributes, binaryValue);
    // aws_lambda_events writes null for it, and reads either the same.
    let (ours, recorded) = (strip_nulls(ours["Records"][0].clone()), &recorded["Records"][1]);
    assert_eq!(keys(&ours), keys(recorded));
    for field in [
        "messageId",
        "body",
        "attributes",
        "messageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    ] {
        assert_eq!(ours[field], recorded[field], "{field}");
    }
}
