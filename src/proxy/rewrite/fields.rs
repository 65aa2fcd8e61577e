//! The request's top-level fields, read in one pass without parsing their values: each stays
//! raw JSON text borrowed from the body, and `messages` is split into raw messages. A request
//! another API's adapter wrote is split by its writer instead ([`Layout`]): its bytes are not
//! read a second time.

use std::borrow::Cow;
use std::ops::Range;

use serde_json::value::RawValue;

use crate::openai::spans;
use crate::proxy::members;

/// The top-level fields in order, keys borrowed when they have no escapes. A dozen fields
/// are searched faster in a list than hashed into a map. `messages` is split into raw
/// messages in the same pass (its own entry has no raw value).
#[derive(Debug, Default)]
pub(super) struct Fields<'a> {
    pub(super) list: Vec<(Cow<'a, str>, Option<&'a str>)>,
    pub(super) messages: Messages<'a>,
}

/// The `messages` field.
#[derive(Debug, Default)]
pub(super) enum Messages<'a> {
    #[default]
    Absent,
    /// Present but not an array.
    Invalid,
    List(Vec<&'a str>),
}

impl<'a> Fields<'a> {
    /// The value of `key` (the last one, as Python's `json` reads duplicates).
    pub(super) fn get(&self, key: &str) -> Option<&'a str> {
        self.list.iter().rev().find(|(k, _)| k == key).and_then(|(_, v)| *v)
    }

    /// Each key once, with its last value (`None` for `messages`).
    pub(super) fn iter(&self) -> impl Iterator<Item = (&str, Option<&'a str>)> {
        self.list
            .iter()
            .enumerate()
            .filter(|(i, (k, _))| !self.list[i + 1..].iter().any(|(later, _)| later == k))
            .map(|(_, (k, v))| (k.as_ref(), *v))
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Messages<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Messages<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_seq<S: serde::de::SeqAccess<'de>>(self, mut seq: S) -> Result<Messages<'a>, S::Error> {
                let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(8));
                while let Some(message) = seq.next_element::<&'de RawValue>()? {
                    list.push(message.get());
                }
                Ok(Messages::List(list))
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Messages<'a>, M::Error> {
                while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(Messages::Invalid)
            }

            fn visit_bool<E>(self, _: bool) -> Result<Messages<'a>, E> {
                Ok(Messages::Invalid)
            }

            fn visit_i64<E>(self, _: i64) -> Result<Messages<'a>, E> {
                Ok(Messages::Invalid)
            }

            fn visit_u64<E>(self, _: u64) -> Result<Messages<'a>, E> {
                Ok(Messages::Invalid)
            }

            fn visit_f64<E>(self, _: f64) -> Result<Messages<'a>, E> {
                Ok(Messages::Invalid)
            }

            fn visit_str<E>(self, _: &str) -> Result<Messages<'a>, E> {
                Ok(Messages::Invalid)
            }

            fn visit_unit<E>(self) -> Result<Messages<'a>, E> {
                Ok(Messages::Invalid)
            }
        }
        deserializer.deserialize_any(Visit(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Fields<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Fields<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Fields<'a>, M::Error> {
                let mut list = Vec::with_capacity(map.size_hint().unwrap_or(12));
                let mut messages = Messages::Absent;
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    if key.0 == "messages" {
                        messages = map.next_value::<Messages<'de>>()?;
                        list.push((key.0, None));
                    } else {
                        list.push((key.0, Some(map.next_value::<&'de RawValue>()?.get())));
                    }
                }
                Ok(Fields { list, messages })
            }
        }
        deserializer.deserialize_map(Visit(std::marker::PhantomData))
    }
}

impl<'a> Fields<'a> {
    /// The fields of `text` found by [`members::split`], the client's `tools` skipped when
    /// they are the ones it sent before, each other value read from its span; `None` sends
    /// the caller to serde_json over the whole body.
    pub(super) fn split(text: &'a str) -> Option<Self> {
        let found = members::split(text)?;
        let mut list = Vec::with_capacity(found.len());
        let mut messages = Messages::Absent;
        for member in found {
            if member.key == "messages" {
                messages = match spans::array_elements(member.value) {
                    Some(list) => Messages::List(list),
                    None => serde_json::from_str(member.value).ok()?,
                };
                list.push((member.key, None));
                continue;
            }
            if !member.known {
                if spans::valid(member.value).is_none() {
                    serde_json::from_str::<&RawValue>(member.value).ok()?;
                }
                members::learn(&member);
            }
            list.push((member.key, Some(member.value)));
        }
        Some(Self { list, messages })
    }
}

/// A chat request split into its fields by the code that wrote it (an adapter of another
/// API): each top-level field's value, and each message, as a range of the bytes, in
/// order. Keys are plain (nothing to escape); `messages` has no range of its own.
#[derive(Debug, Default)]
pub(crate) struct Layout<'a> {
    pub(crate) fields: Vec<(&'a str, Option<Range<usize>>)>,
    pub(crate) messages: Vec<Range<usize>>,
}

impl<'a> Fields<'a> {
    /// The fields of `text` as `layout` says they lie; `None` when a range does not fit
    /// (`text` is not what the layout was made for).
    pub(super) fn laid_out(text: &'a str, layout: &Layout<'a>) -> Option<Self> {
        let list = layout
            .fields
            .iter()
            .map(|(key, range)| match range {
                Some(r) => text.get(r.clone()).map(|v| (Cow::Borrowed(*key), Some(v))),
                None => Some((Cow::Borrowed(*key), None)),
            })
            .collect::<Option<Vec<_>>>()?;
        let has_messages = layout.fields.iter().any(|(key, range)| *key == "messages" && range.is_none());
        let messages = if has_messages {
            Messages::List(layout.messages.iter().map(|r| text.get(r.clone())).collect::<Option<_>>()?)
        } else {
            Messages::Absent
        };
        Some(Self { list, messages })
    }
}

/// A key, borrowed from the body unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Wrap<'a>(#[serde(borrow)] Cow<'a, str>);
        Wrap::deserialize(deserializer).map(|w| Key(w.0))
    }
}
