//! Property tests: no input makes a parser panic, and mangled fixtures are either parsed or
//! refused with an error that names a document kind. Case counts stay modest (2-core CI).

mod common;

use mcfparse::{parse_document, parse_job_detail, parse_job_page, parse_search_item, parse_search_response};
use proptest::prelude::*;
use serde_json::Value;

fn parse_everything(bytes: &[u8]) {
    let _ = parse_document(bytes);
    let _ = parse_search_response(bytes);
    let _ = parse_search_item(bytes);
    let _ = parse_job_detail(bytes);
    let _ = parse_job_page(&String::from_utf8_lossy(bytes));
}

/// Any JSON value, a few levels deep: what a field might hold after an API change.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,12}".prop_map(Value::from),
        "[0-9]{1,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        parse_everything(&bytes);
    }

    #[test]
    fn arbitrary_text_with_markup_never_panics(text in "([<>/{}\\[\\]\":,&;#a-z0-9 =-]|<p>|</li>|<script>|&amp;|\"@type\"){0,200}") {
        parse_everything(text.as_bytes());
    }

    #[test]
    fn truncated_json_fixtures_are_refused_as_json(cut in any::<prop::sample::Index>()) {
        for fixture in [common::SEARCH, common::DETAIL] {
            let at = cut.index(fixture.len());
            parse_everything(&fixture[..at]);
            let err = parse_job_detail(&fixture[..at]).expect_err("a cut JSON object never parses");
            prop_assert!(err.to_string().starts_with("job detail: "), "{}", err);
        }
    }

    #[test]
    fn mangled_json_fixtures_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        parse_everything(&common::mangle(common::DETAIL, &flips));
        let _ = parse_search_response(&common::mangle(common::SEARCH, &flips));
    }

    #[test]
    fn any_value_in_any_detail_field_is_parsed_or_named(
        key in prop::sample::select(top_and_metadata_keys()),
        value in any_json(),
    ) {
        let mut detail = common::json(common::DETAIL);
        let slot = match key.strip_prefix("metadata.") {
            Some(meta_key) => &mut detail["metadata"][meta_key],
            None => &mut detail[key.as_str()],
        };
        *slot = value;
        let bytes = serde_json::to_vec(&detail).expect("serialise");
        if let Err(err) = parse_job_detail(&bytes) {
            // The error blames the field that was changed (or a path inside it), never another.
            let named = err.field().unwrap_or_default();
            prop_assert!(named.starts_with(key.as_str()), "{} changed, error: {}", key, err);
        }
    }
}

fn top_and_metadata_keys() -> Vec<String> {
    let detail = common::json(common::DETAIL);
    let mut keys: Vec<String> = detail.as_object().expect("object").keys().cloned().collect();
    let meta = detail["metadata"].as_object().expect("metadata");
    keys.extend(meta.keys().map(|k| format!("metadata.{k}")));
    keys
}

proptest! {
    // Each case re-parses the 124 KB page: fewer cases keep this under a few seconds.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn truncated_and_mangled_pages_never_panic(
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
    ) {
        let page = common::PAGE.as_bytes();
        let _ = parse_job_page(&String::from_utf8_lossy(&page[..cut.index(page.len())]));
        let _ = parse_document(&common::mangle(page, &flips));
    }
}
