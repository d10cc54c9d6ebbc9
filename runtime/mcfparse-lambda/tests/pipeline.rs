//! The parser end to end against moto: captures in raw/ → messages → drain → posts, and the
//! write rule (no duplicates, no regressions, no writes for nothing new).

mod common;

use std::collections::HashSet;

use common::*;
use mcfcore::Source;
use mcfcore::layout::ParseMessage;
use mcfparse_lambda::DrainOptions;

#[test]
fn captures_become_exactly_their_posts_and_a_rerun_writes_nothing() {
    let local = Local::start();
    let docs = documents();
    local.put_documents(&docs);
    let messages: Vec<&ParseMessage> = docs.iter().map(|(m, _)| m).collect();
    local.send(&messages);

    let first = local.drain(&local.handler, &DrainOptions::default());
    assert_eq!(first.received, 102, "{first:?}");
    assert_eq!((first.inserted, first.written()), (102, 102), "{first:?}");
    assert_eq!((first.rejected, first.failed, first.undeleted), (0, 0, 0), "{first:?}");

    for (message, bytes) in &docs {
        let expected = mcfparse::parse_document(bytes).expect("captures parse");
        assert_eq!(
            local.get(&message.uuid).as_ref(),
            Some(&expected),
            "post {}",
            message.uuid
        );
    }
    let items = local.items();
    let expected_keys: HashSet<&str> = docs.iter().map(|(m, _)| m.uuid.as_str()).collect();
    assert_eq!(items.keys().map(String::as_str).collect::<HashSet<_>>(), expected_keys);
    for (message, _) in &docs {
        let item = &items[&message.uuid];
        assert_eq!(s(item, "sk"), "POST");
        assert_eq!(s(item, "revision"), "1");
        assert_eq!(s(item, "raw_key"), message.key);
    }
    let detail = &items[DETAIL_UUID];
    assert_eq!(s(detail, "gsi1pk"), "POSTED#2025-05");
    assert!(s(detail, "gsi1sk").ends_with(&format!("#{DETAIL_UUID}")));
    assert_eq!(local.queue_counts(&local.queue_url), (0, 0));

    // Redelivery and reruns: every message again, nothing written, items byte for byte as before.
    local.send(&messages);
    let again = local.drain(&local.handler, &DrainOptions::default());
    assert_eq!(
        (again.received, again.unchanged, again.written()),
        (102, 102, 0),
        "{again:?}"
    );
    assert_eq!(local.items(), items);
    assert_eq!(local.queue_counts(&local.queue_url), (0, 0));
}

#[test]
fn newer_versions_replace_older_ones_never_regress_and_keep_detail_only_fields() {
    let local = Local::start();
    let process = |key: &str, bytes: bytes::Bytes| {
        local.put_raw(key, &bytes);
        let message = ParseMessage {
            uuid: DETAIL_UUID.into(),
            key: key.into(),
        };
        local.send(&[&message]);
        local.drain(&local.handler, &DrainOptions::default())
    };
    let at = |updated_at: &'static str, title: &'static str| {
        move |v: &mut serde_json::Value| {
            v["metadata"]["updatedAt"] = updated_at.into();
            v["title"] = title.into();
        }
    };

    let original = bytes::Bytes::from_static(DETAIL);
    let first = process("raw/2026-11-28/76d3310ae51348c561935cb2472f2883.json", original.clone());
    assert_eq!(first.inserted, 1, "{first:?}");
    let stored = local.get(DETAIL_UUID).expect("stored");
    assert_eq!(stored, mcfparse::parse_document(&original).expect("parses"));

    let older = detail_with(at("2025-05-18T08:02:16.000Z", "An older title"));
    let summary = process("raw/2026-11-29/76d3310ae51348c561935cb2472f2883.json", older);
    assert_eq!((summary.unchanged, summary.written()), (1, 0), "{summary:?}");
    assert_eq!(
        local.get(DETAIL_UUID).as_ref(),
        Some(&stored),
        "an older version must not regress the post"
    );

    let newer = detail_with(at("2025-05-20T08:02:16.000Z", "A newer title"));
    let summary = process("raw/2026-11-30/76d3310ae51348c561935cb2472f2883.json", newer.clone());
    assert_eq!(summary.replaced, 1, "{summary:?}");
    let replaced = local.get(DETAIL_UUID).expect("stored");
    assert_eq!(replaced, mcfparse::parse_document(&newer).expect("parses"));
    assert_eq!(replaced.updated_at.as_deref(), Some("2025-05-20T08:02:16Z"));

    // A later search item of the same post: it leads, but has no description, vacancies or
    // expiry; the detail's stay.
    let search_item = detail_with(|v| {
        at("2025-05-21T00:00:00.000Z", "A search item title")(v);
        let job = v.as_object_mut().expect("object");
        for detail_only in ["_links", "description", "sourceCode", "numberOfVacancies"] {
            job.remove(detail_only);
        }
    });
    let summary = process("raw/2026-12-01/76d3310ae51348c561935cb2472f2883.json", search_item);
    assert_eq!(summary.replaced, 1, "{summary:?}");
    let merged = local.get(DETAIL_UUID).expect("stored");
    assert_eq!(merged.source, Source::SearchItem);
    assert_eq!(merged.title, "A search item title");
    assert!(merged.description.is_some() && merged.description == replaced.description);
    assert_eq!(merged.vacancies, replaced.vacancies);
    assert_eq!(merged.expiry_date, replaced.expiry_date);

    let items = local.items();
    assert_eq!(items.len(), 1);
    let item = &items[DETAIL_UUID];
    assert_eq!(s(item, "revision"), "3", "insert, replace, replace");
    assert_eq!(
        s(item, "raw_key"),
        "raw/2026-12-01/76d3310ae51348c561935cb2472f2883.json"
    );
}
