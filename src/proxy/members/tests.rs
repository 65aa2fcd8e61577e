use std::borrow::Cow;
use std::fmt;

use proptest::prelude::*;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::{Member, learn, split};

/// serde_json's members of `text`: the reference.
fn reference(text: &str) -> Option<Vec<(String, String)>> {
    struct All(Vec<(String, String)>);
    impl<'de> serde::Deserialize<'de> for All {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = All;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<All, A::Error> {
                    let mut all = Vec::new();
                    while let Some((k, v)) = map.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                        all.push((k.into_owned(), v.get().to_owned()));
                    }
                    Ok(All(all))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<All>(text).ok().map(|a| a.0)
}

/// `split`, each value then read by serde_json on its own as the callers do; `None` where
/// a caller would go back to serde_json over the whole body.
fn checked(text: &str) -> Option<Vec<(String, String)>> {
    let members = split(text)?;
    let mut out = Vec::new();
    for Member { key, value, known } in members {
        if !known {
            serde_json::from_str::<&RawValue>(value).ok()?;
        }
        out.push((key.into_owned(), value.to_owned()));
    }
    Some(out)
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "[a-z\"\\\\/\n\u{e9}\u{1F600} ]{0,12}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z\"\\\\]{0,6}", inner), 0..5)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn body() -> impl Strategy<Value = String> {
    (prop::collection::vec(("[a-z\"\\\\]{0,8}", value()), 0..6), any::<bool>()).prop_map(
        |(fields, pretty)| {
            let object = Value::Object(fields.into_iter().collect::<Map<_, _>>());
            if pretty { serde_json::to_string_pretty(&object) } else { serde_json::to_string(&object) }
                .expect("writes")
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A valid body splits as serde_json reads it.
    #[test]
    fn valid_bodies_split_as_serde_json_reads_them(text in body()) {
        prop_assert_eq!(checked(&text), reference(&text));
    }

    /// Cut or changed anywhere, a body either goes back to serde_json or reads as it does.
    #[test]
    fn broken_bodies_never_read_differently(text in body(), cut in any::<prop::sample::Index>(),
            byte in prop::sample::select(b"{}[]\",:\\ 0an".to_vec())) {
        let at = cut.index(text.len().max(1));
        if text.is_char_boundary(at) {
            let cut_text = &text[..at];
            if let Some(members) = checked(cut_text) {
                prop_assert_eq!(Some(members), reference(cut_text));
            }
            let mut changed = text.clone().into_bytes();
            if at < changed.len() && changed[at].is_ascii() {
                changed[at] = byte;
                let changed = String::from_utf8(changed).expect("ascii for ascii");
                if let Some(members) = checked(&changed) {
                    prop_assert_eq!(Some(members), reference(&changed));
                }
            }
        }
    }
}

#[test]
fn a_learned_value_is_skipped_at_its_key_only() {
    let tools = serde_json::to_string(&json!([{"type": "function", "function": {"name": "members_test_tool",
        "description": "x".repeat(600), "parameters": {"type": "object"}}}]))
    .expect("writes");
    let text = format!(r#"{{"model": "m", "tools": {tools}, "other": {tools}, "messages": []}}"#);
    let before = split(&text).expect("splits");
    assert!(before.iter().all(|m| !m.known));
    learn(&Member { key: Cow::Borrowed("tools"), value: &tools, known: false });
    let after = split(&text).expect("splits");
    let known: Vec<&str> = after.iter().filter(|m| m.known).map(|m| m.key.as_ref()).collect();
    assert_eq!(known, ["tools"]);
    assert_eq!(
        after.iter().map(|m| m.value).collect::<Vec<_>>(),
        before.iter().map(|m| m.value).collect::<Vec<_>>()
    );
    // The known text followed by more is not that value: the skip must end the member.
    let longer = format!(r#"{{"tools": {tools}1}}"#);
    assert_eq!(split(&longer), None);
    // A short value is not kept.
    learn(&Member { key: Cow::Borrowed("tools"), value: "[1]", known: false });
    assert!(split(r#"{"tools": [1]}"#).expect("splits").iter().all(|m| !m.known));
}

#[test]
fn what_the_skip_is_unsure_of_goes_back_to_serde_json() {
    for text in [
        "",
        "[]",
        "{",
        r#"{"a" 1}"#,
        r#"{"a": 1,}"#,
        r#"{"a": 1} x"#,
        "{\"a\u{1}\": 1}",
        "{\"a\n\": 1}",
        r#"{"a": }"#,
    ] {
        assert!(checked(text).is_none(), "{text:?}");
    }
    let escaped = split(r#"{"a\"b": 1, "c": "d"}"#).expect("splits");
    assert_eq!(escaped[0].key, "a\"b");
    assert!(matches!(escaped[1].key, Cow::Borrowed("c")));
    assert_eq!(split(" { } "), Some(Vec::new()));
    assert_eq!(checked(r#"{"a\u0001": 1}"#), reference(r#"{"a\u0001": 1}"#));
}
