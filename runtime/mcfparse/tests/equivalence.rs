//! The parsers read JSON through a light tree of only the fields they use (see `json.rs`), not
//! a whole `serde_json::Value`. These properties hold it to what a `Value` gives: the same
//! verdict on any bytes (a JSON error at the same line and column, or the same post or field
//! error), since `parse_search_item_value` still starts from a `Value`.

mod common;

use mcfparse::{ParseError, parse_search_item, parse_search_item_value};
use proptest::prelude::*;
use serde_json::Value;

/// `parse_search_item(bytes)` against a `Value` read of the same bytes.
fn same_as_value(bytes: &[u8]) -> Result<(), TestCaseError> {
    let light = parse_search_item(bytes);
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => prop_assert_eq!(light, parse_search_item_value(&value)),
        Err(err) => match light {
            Err(ParseError::Json { line, column, .. }) => {
                prop_assert_eq!((line, column), (err.line(), err.column()), "{}", err)
            }
            Err(ParseError::Empty { .. }) => prop_assert!(bytes.iter().all(u8::is_ascii_whitespace)),
            other => prop_assert!(false, "Value refused it ({}), the light read gave {:?}", err, other),
        },
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mangled_documents_get_the_value_verdict(
        which in 0usize..3,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let items = common::search_items();
        let base = match which {
            0 => common::DETAIL.to_vec(),
            1 => serde_json::to_vec(&items[7]).expect("serialise"),
            _ => serde_json::to_vec_pretty(&items[42]).expect("serialise"),
        };
        same_as_value(&common::mangle(&base, &flips))?;
    }

    #[test]
    fn json_like_text_gets_the_value_verdict(text in "([{}\\[\\]\":,. 0-9eE+-]|\"uuid\"|\"title\"|\"skills\"|\"metadata\"|\"skill\"|null|true|\\\\u00e9|\\\\ud800|\u{e9}){0,60}") {
        same_as_value(text.as_bytes())?;
    }
}

#[test]
fn edge_cases_get_the_value_verdict() {
    let deep = |n: usize| format!("{{\"schemes\": {}1{}}}", "[".repeat(n), "]".repeat(n));
    let cases: Vec<Vec<u8>> = vec![
        deep(126).into_bytes(),
        deep(127).into_bytes(),
        deep(200).into_bytes(),
        br#"{"lat": 1e400}"#.to_vec(),
        br#"{"lat": -1e400, "uuid": "x"}"#.to_vec(),
        b"{\"logo\": \"\xff\"}".to_vec(),
        b"{\"\xc3\x28\": 1}".to_vec(),
        br#"{"logo": "\ud800"}"#.to_vec(),
        br#"{"logo": "\ud800\u0041"}"#.to_vec(),
        br#"{"logo": "\x"}"#.to_vec(),
        br#"{"uuid": "9852ecac7e03895896587517c54f0736", "uuid": 5}"#.to_vec(),
        br#"{"title": 1, "title": "T", "uuid": "9852ECAC7E03895896587517C54F0736", "postedCompany": {"name": " A  B "}}"#.to_vec(),
        br#"{"uuid": "9852ecac7e03895896587517c54f0736", "title": "T", "postedCompany": {"name": "A"}, "skills": [1.5e3, {"skill": "x"}]}"#.to_vec(),
        br#"{"uuid": "9852ecac7e03895896587517c54f0736", "title": "T", "postedCompany": {"name": "A"}, "status": {"id": 1e2}}"#.to_vec(),
        br#"{"uuid": "9852ecac7e03895896587517c54f0736", "title": "T", "postedCompany": {"name": "A"}, "salary": {"minimum": 18446744073709551616}}"#.to_vec(),
        b"{} x".to_vec(),
        b"{}   \n".to_vec(),
        b"[1, 2]".to_vec(),
        b"\"a string\"".to_vec(),
    ];
    for case in cases {
        same_as_value(&case).unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(&case)));
    }
}
