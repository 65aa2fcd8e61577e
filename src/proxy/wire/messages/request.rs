//! An Anthropic Messages request, read into typed structs that borrow from the client's
//! bytes: text stays `Cow` (borrowed unless it has escapes), schemas and call inputs stay
//! raw JSON, and every field this proxy has no use for (`metadata`, `output_config`,
//! `context_management`, `cache_control`, …) is skipped without being built.
//!
//! `content`, `system` and a tool result's `content` are each "a string or a list of
//! blocks": read by hand ([`Content`]) because serde's untagged enums buffer their input,
//! which would lose the borrows and the raw values.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::proxy::members;
use crate::proxy::wire::to_chat::{Extras, VLLM_EXTRAS};

/// The request, as far as the translation reads it.
#[derive(Debug, Default)]
pub(super) struct MessagesRequest<'a> {
    pub(super) model: Option<Cow<'a, str>>,
    pub(super) max_tokens: Option<u64>,
    pub(super) stream: bool,
    pub(super) system: Option<System<'a>>,
    pub(super) messages: Option<Vec<MessageIn<'a>>>,
    /// `tools` as the client wrote it: converted once per distinct list (`convert.rs`).
    pub(super) tools: Option<&'a str>,
    pub(super) tool_choice: Option<ToolChoiceIn<'a>>,
    pub(super) thinking: Option<ThinkingIn<'a>>,
    pub(super) temperature: Option<f64>,
    pub(super) top_p: Option<f64>,
    pub(super) stop_sequences: Vec<Cow<'a, str>>,
    /// vLLM's own top-level fields (`top_k`, `chat_template_kwargs`, …), passed on.
    pub(super) extras: Extras<'a>,
}

/// `system`: a string kept as the JSON the client wrote (a system prompt is kilobytes: it
/// goes on to the core without being unescaped and escaped again), or blocks.
#[derive(Debug)]
pub(super) enum System<'a> {
    Json(&'a RawValue),
    Content(Content<'a>),
}

/// One turn of `messages`.
#[derive(Debug, Deserialize)]
pub(super) struct MessageIn<'a> {
    #[serde(borrow)]
    pub(super) role: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) content: Content<'a>,
}

/// "A string or a list of blocks".
#[derive(Debug)]
pub(super) enum Content<'a> {
    Text(Cow<'a, str>),
    Blocks(Vec<Block<'a>>),
}

/// One content block, whatever its type: the fields of every type this proxy reads, all
/// optional, so a block of a type it does not know is read (and then ignored) as well.
#[derive(Debug, Deserialize)]
pub(super) struct Block<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) kind: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "opt_text")]
    pub(super) text: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_text")]
    pub(super) id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_text")]
    pub(super) name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) input: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "opt_text")]
    pub(super) tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) content: Option<Content<'a>>,
    #[serde(default)]
    pub(super) is_error: Option<bool>,
    #[serde(borrow, default, deserialize_with = "opt_text")]
    pub(super) thinking: Option<Cow<'a, str>>,
    /// An image's source; other types' `source` (a document's, a search result's string)
    /// is read only when the block is an image.
    #[serde(borrow, default)]
    pub(super) source: Option<&'a RawValue>,
}

/// An image block's `source`.
#[derive(Debug, Deserialize)]
pub(super) struct ImageSource<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) kind: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "opt_text")]
    pub(super) media_type: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_text")]
    pub(super) data: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_text")]
    pub(super) url: Option<Cow<'a, str>>,
}

/// One entry of `tools`: a client tool (`input_schema`) or a server tool type
/// (`bash_…`, `web_search_…`) that has none.
#[derive(Debug, Deserialize)]
pub(super) struct ToolIn<'a> {
    #[serde(rename = "type", borrow, default, deserialize_with = "opt_text")]
    pub(super) kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_text")]
    pub(super) name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_text")]
    pub(super) description: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) input_schema: Option<&'a RawValue>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ToolChoiceIn<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) kind: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "opt_text")]
    pub(super) name: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) disable_parallel_tool_use: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ThinkingIn<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) kind: Cow<'a, str>,
}

/// A string, borrowed from the body unless it has escapes (serde's own `Cow<str>` always
/// copies, and `#[serde(borrow)]` does not reach into an `Option`).
#[derive(Debug)]
pub(super) struct Text<'a>(pub(super) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// An optional [`Text`], as a `Cow`.
fn opt_text<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(Option::<Text<'a>>::deserialize(d)?.map(|t| t.0))
}

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Content<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of content blocks")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Content::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Content::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Content::Text(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(block) = seq.next_element::<Block<'a>>()? {
                    blocks.push(block);
                }
                Ok(Content::Blocks(blocks))
            }
            /// A single object where blocks go (a server tool's error result): nothing to read.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Content::Blocks(Vec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for MessagesRequest<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = MessagesRequest<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut r = MessagesRequest::default();
                while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                    read_field(&mut r, &key, &mut map)?;
                }
                Ok(r)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Reads the value of top-level field `key` into `r`; its errors name the field.
fn read_field<'de: 'a, 'a, A: MapAccess<'de>>(
    r: &mut MessagesRequest<'a>,
    key: &Cow<'de, str>,
    map: &mut A,
) -> Result<(), A::Error> {
    fn named<E: de::Error>(key: &str) -> impl FnOnce(E) -> E + '_ {
        move |e| E::custom(format!("{key}: {e}"))
    }
    match key.as_ref() {
        "model" => r.model = map.next_value::<Option<Text<'a>>>().map_err(named(key))?.map(|t| t.0),
        "max_tokens" => r.max_tokens = map.next_value().map_err(named(key))?,
        "stream" => r.stream = map.next_value::<Option<bool>>().map_err(named(key))?.unwrap_or(false),
        "system" => {
            r.system = match map.next_value::<Option<&'de RawValue>>().map_err(named(key))? {
                None => None,
                Some(raw) if raw.get().starts_with('"') => Some(System::Json(raw)),
                Some(raw) => Some(System::Content(
                    Content::deserialize(raw).map_err(|e| de::Error::custom(format!("{key}: {e}")))?,
                )),
            };
        }
        "messages" => r.messages = map.next_value().map_err(named(key))?,
        "tools" => {
            r.tools = map.next_value::<Option<&'de RawValue>>().map_err(named(key))?.map(RawValue::get);
        }
        "tool_choice" => r.tool_choice = map.next_value().map_err(named(key))?,
        "thinking" => r.thinking = map.next_value().map_err(named(key))?,
        "temperature" => r.temperature = map.next_value().map_err(named(key))?,
        "top_p" => r.top_p = map.next_value().map_err(named(key))?,
        "stop_sequences" => {
            let stops: Option<Vec<Text<'a>>> = map.next_value().map_err(named(key))?;
            r.stop_sequences = stops.unwrap_or_default().into_iter().map(|t| t.0).collect();
        }
        _ => {
            let value: &'de RawValue = map.next_value()?;
            // A key with escapes (owned) is never one of vLLM's names.
            match key {
                Cow::Borrowed(k) if VLLM_EXTRAS.contains(k) => r.extras.offer(k, value),
                _ => tracing::debug!(field = %key, "messages: a field this proxy has no use for is ignored"),
            }
        }
    }
    Ok(())
}

/// Reads a Messages request, with serde's wording for what is wrong. The top-level members
/// are found first ([`members::split`]) so that the `tools` the client sent before are not
/// read again; anything unsure there is read by serde_json over the whole body.
pub(super) fn parse(body: &[u8]) -> Result<MessagesRequest<'_>, serde_json::Error> {
    if let Some(r) = std::str::from_utf8(body).ok().and_then(split) {
        return Ok(r);
    }
    serde_json::from_slice(body)
}

fn split(text: &str) -> Option<MessagesRequest<'_>> {
    let mut r = MessagesRequest::default();
    for member in members::split(text)? {
        if member.known {
            r.tools = Some(member.value);
            continue;
        }
        read_field(&mut r, &member.key, &mut One(Some(member.value))).ok()?;
        members::learn(&member);
    }
    Some(r)
}

/// One member's value, read from its own text by [`read_field`].
struct One<'a>(Option<&'a str>);

impl<'de> MapAccess<'de> for One<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, _: K) -> Result<Option<K::Value>, Self::Error> {
        Ok(None)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        let text = self.0.take().ok_or_else(|| de::Error::custom("one value only"))?;
        let mut de = serde_json::Deserializer::from_str(text);
        let value = seed.deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_text_and_keeps_raw_parts() {
        let body = br#"{"model": "claude-x", "max_tokens": 5, "metadata": {"user_id": "u"}, "top_k": 3,
            "system": [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "assistant", "content": [
                {"type": "tool_use", "id": "t1", "name": "Read", "input": {"p": 1}},
                {"type": "mystery", "whatever": [1, 2]}]}]}"#;
        let r = parse(body).expect("parses");
        assert!(matches!(r.model, Some(Cow::Borrowed("claude-x"))));
        assert_eq!(r.max_tokens, Some(5));
        assert_eq!(r.extras.0.len(), 1, "top_k passed on, metadata not");
        let messages = r.messages.expect("messages");
        let Content::Blocks(blocks) = &messages[0].content else { panic!("blocks") };
        assert_eq!(blocks[0].input.map(RawValue::get), Some(r#"{"p": 1}"#));
        assert_eq!(blocks[1].kind, "mystery");
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = parse(br#"{"max_tokens": "many"}"#).expect_err("wrong type");
        assert!(e.to_string().starts_with("max_tokens: invalid type"), "{e}");
        assert!(parse(b"[1]").is_err());
    }
}
