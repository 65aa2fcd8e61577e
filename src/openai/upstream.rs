//! vLLM's chat completion answers as the proxy reads them: each streamed
//! `chat.completion.chunk` ([`Chunk`]) and the whole `chat.completion` ([`Completion`]).
//! Only the fields a translation needs are read; text is borrowed from the event unless it
//! has escapes, and `usage` is kept as the raw JSON it came as.
//!
//! The two are read as strictly as they always were: a chunk leniently (see
//! [`super::loose`]: a field of an unexpected type reads as absent), the whole answer
//! strictly (a field of an unexpected type makes it unreadable).

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess};
use serde_json::value::RawValue;

use super::loose::{Count, List, Object, Text, object};
pub use super::upstream_calls::{CallDelta, WholeCall};

/// One streamed event of vLLM's answer: a `chat.completion.chunk`, or an error.
#[derive(Debug, Default)]
pub struct Chunk<'a> {
    /// `object`, when it is a string: `"error"` marks an error event.
    pub object: Text<'a>,
    /// The top-level `code` (vLLM's flat error shape).
    pub code: Count,
    /// `error`, when the key is there (whatever its value: even `null` marks an error).
    pub error: Option<ErrorField>,
    /// `usage`, unless absent or `null`.
    pub usage: Option<&'a RawValue>,
    /// `choices`, when it is an array.
    pub choices: List<ChunkChoice<'a>>,
}

/// The `error` of an error event.
#[derive(Debug, Default)]
pub struct ErrorField {
    /// `code`, when the key is there (then it is the status, if it is a number).
    pub code: Option<Count>,
}

/// One choice of a chunk.
#[derive(Debug, Default)]
pub struct ChunkChoice<'a> {
    /// Which choice (`n` > 1 streams them interleaved); see [`ChunkChoice::index`].
    pub index: Count,
    /// What this chunk adds to the choice (an empty delta when it is not an object).
    pub delta: Delta<'a>,
    /// Set on the choice's last chunk (`stop`, `length`, `abort`).
    pub finish_reason: Text<'a>,
    /// vLLM's `stop_reason` on the last chunk: the stop string that ended the choice (a
    /// number when a stop token did; `None` then and at the end of the turn).
    pub stop_reason: Text<'a>,
}

/// What one chunk adds to a choice.
#[derive(Debug, Default)]
pub struct Delta<'a> {
    /// The model's text (tool-call markup included: vLLM runs without a tool parser).
    pub content: Text<'a>,
    /// `reasoning_content`, when the key is there: then it is the reasoning, even when it is
    /// not a string (as the `Value` reading had it).
    pub reasoning_content: Option<Text<'a>>,
    /// `reasoning` (newer vLLM), read only without `reasoning_content`.
    pub reasoning: Text<'a>,
    /// Calls vLLM's own tool parser decoded (`tool_format = "vllm"`).
    pub tool_calls: List<CallDelta<'a>>,
}

impl Chunk<'_> {
    /// The event is an error (an `error` key, or `object: "error"`).
    pub fn is_error(&self) -> bool {
        self.error.is_some() || self.object.as_str() == Some("error")
    }

    /// The HTTP status an error event names (`error.code`, else the top-level `code`) when it
    /// is a 4xx or 5xx; else 502.
    pub fn error_status(&self) -> u16 {
        let code = match self.error.as_ref().and_then(|e| e.code) {
            Some(code) => code,
            None => self.code,
        };
        code.0.and_then(|c| u16::try_from(c).ok()).filter(|c| (400..600).contains(c)).unwrap_or(502)
    }
}

impl ChunkChoice<'_> {
    /// The choice's index; 0 when it has none that fits.
    pub fn index(&self) -> usize {
        self.index.0.and_then(|i| usize::try_from(i).ok()).unwrap_or(0)
    }
}

impl Delta<'_> {
    /// The reasoning text vLLM split out itself (when started with a reasoning parser):
    /// `reasoning_content`, else `reasoning`, as the whole answer reads it (a
    /// `reasoning_content: null` beside a `reasoning` string is the second).
    pub fn reasoning(&self) -> Option<&str> {
        self.reasoning_content.as_ref().and_then(Text::as_str).or_else(|| self.reasoning.as_str())
    }
}

impl<'de> Object<'de> for Chunk<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        match key {
            "object" => self.object = map.next_value()?,
            "code" => self.code = map.next_value()?,
            "error" => self.error = Some(map.next_value()?),
            "usage" => {
                let raw: &RawValue = map.next_value()?;
                self.usage = (raw.get() != "null").then_some(raw);
            }
            "choices" => self.choices = map.next_value()?,
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

impl<'de> Object<'de> for ErrorField {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        if key == "code" {
            self.code = Some(map.next_value()?);
        } else {
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

impl<'de> Object<'de> for ChunkChoice<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        match key {
            "index" => self.index = map.next_value()?,
            "delta" => self.delta = map.next_value()?,
            "finish_reason" => self.finish_reason = map.next_value()?,
            "stop_reason" => self.stop_reason = map.next_value()?,
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

impl<'de> Object<'de> for Delta<'de> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        match key {
            "content" => self.content = map.next_value()?,
            "reasoning_content" => self.reasoning_content = Some(map.next_value()?),
            "reasoning" => self.reasoning = map.next_value()?,
            "tool_calls" => self.tool_calls = map.next_value()?,
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Chunk<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        object(deserializer)
    }
}

impl<'de> Deserialize<'de> for ErrorField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        object(deserializer)
    }
}

impl<'de> Deserialize<'de> for ChunkChoice<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        object(deserializer)
    }
}

impl<'de> Deserialize<'de> for Delta<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        object(deserializer)
    }
}

/// vLLM's whole answer, as far as the translation reads it.
#[derive(Debug, Deserialize)]
pub struct Completion<'a> {
    #[serde(borrow)]
    pub choices: Option<Vec<CompletionChoice<'a>>>,
    /// When vLLM began the answer (Unix seconds).
    pub created: Option<u64>,
    /// Token counts, passed on as they came.
    #[serde(borrow)]
    pub usage: Option<&'a RawValue>,
}

/// One choice of the whole answer.
#[derive(Debug, Deserialize)]
pub struct CompletionChoice<'a> {
    /// Which choice; its position when absent.
    pub index: Option<u64>,
    #[serde(borrow)]
    pub message: Option<Message<'a>>,
    #[serde(borrow)]
    pub finish_reason: Option<Cow<'a, str>>,
    /// vLLM's `stop_reason`, raw: the stop string that ended the choice, a number for a
    /// stop token (see [`ChunkChoice`] and [`CompletionChoice::stop_string`]).
    #[serde(borrow, default)]
    pub stop_reason: Option<&'a RawValue>,
}

impl CompletionChoice<'_> {
    /// The stop string that ended the choice, when one did.
    pub fn stop_string(&self) -> Option<String> {
        self.stop_reason.and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
    }
}

/// The assistant message of one choice.
#[derive(Debug, Deserialize)]
pub struct Message<'a> {
    /// The model's text (tool-call markup included).
    #[serde(borrow)]
    pub content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub reasoning: Option<Cow<'a, str>>,
    /// Calls vLLM's own tool parser decoded (`tool_format = "vllm"`).
    #[serde(borrow, default)]
    pub tool_calls: Option<Vec<WholeCall<'a>>>,
}

impl Message<'_> {
    /// The reasoning text vLLM split out itself (`reasoning_content`, else `reasoning`).
    pub fn reasoning(&self) -> Option<&str> {
        self.reasoning_content.as_deref().or(self.reasoning.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    use super::*;
    use crate::openai::read_chunk;

    /// What the stream translation takes from one choice: index, text, reasoning, finish.
    type ChoiceReading = (usize, String, String, Option<String>);

    /// What the stream translation takes from one event.
    #[derive(Debug, PartialEq)]
    enum Reading {
        Error(u16),
        Chunk { usage: Option<Value>, choices: Option<Vec<ChoiceReading>> },
    }

    /// The event read as the stream path read it before the typed structs: into a `Value`,
    /// each field asked for the type it wants. The oracle the typed reading must match.
    fn by_value(payload: &str) -> Option<Reading> {
        let chunk: Value = serde_json::from_str(payload).ok()?;
        if chunk.get("error").is_some() || chunk.get("object").and_then(Value::as_str) == Some("error") {
            let status = chunk
                .get("error")
                .and_then(|e| e.get("code"))
                .or_else(|| chunk.get("code"))
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .filter(|c| (400..600).contains(c))
                .unwrap_or(502);
            return Some(Reading::Error(status));
        }
        let usage = chunk.get("usage").filter(|u| !u.is_null()).cloned();
        let choices = match chunk.get("choices") {
            Some(Value::Array(choices)) => Some(
                choices
                    .iter()
                    .map(|choice| {
                        let index = choice
                            .get("index")
                            .and_then(Value::as_u64)
                            .and_then(|i| usize::try_from(i).ok())
                            .unwrap_or(0);
                        let delta = choice.get("delta");
                        let text = delta.and_then(|d| d.get("content")).and_then(Value::as_str).unwrap_or("");
                        // Not quite the old reading: a `null` or non-string `reasoning_content`
                        // now gives way to `reasoning`, as the whole answer reads them (the
                        // stream used to drop that reasoning).
                        let field = |key: &str| delta.and_then(|d| d.get(key)).and_then(Value::as_str);
                        let thought = field("reasoning_content").or_else(|| field("reasoning")).unwrap_or("");
                        let finish = choice.get("finish_reason").and_then(Value::as_str);
                        (index, text.to_owned(), thought.to_owned(), finish.map(str::to_owned))
                    })
                    .collect(),
            ),
            _ => None,
        };
        Some(Reading::Chunk { usage, choices })
    }

    /// The event read by [`read_chunk`]: fast when it can be, else by serde_json.
    fn typed(payload: &str) -> Option<Reading> {
        let chunk = read_chunk(payload).ok()?;
        if chunk.is_error() {
            return Some(Reading::Error(chunk.error_status()));
        }
        let usage = chunk.usage.map(|raw| serde_json::from_str(raw.get()).expect("raw JSON"));
        let choices = chunk.choices.0.map(|choices| {
            choices
                .iter()
                .map(|c| {
                    let text = c.delta.content.as_str().unwrap_or("").to_owned();
                    let thought = c.delta.reasoning().unwrap_or("").to_owned();
                    (c.index(), text, thought, c.finish_reason.as_str().map(str::to_owned))
                })
                .collect()
        });
        Some(Reading::Chunk { usage, choices })
    }

    #[test]
    fn chunks_read_as_the_value_reading_did() {
        let cases = [
            // vLLM's own shapes.
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"#,
            r#"{"choices":[{"index":1,"delta":{"content":"a \"quoted\" \u00e9 text"},"finish_reason":"stop","stop_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning_content":"think"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning":"newer vLLM"}}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":10,"total_tokens":18,"completion_tokens":8}}"#,
            r#"{"choices":[{"delta":{"content":"x"}}],"usage":null}"#,
            r#"{"object":"error","message":"boom","code":500}"#,
            r#"{"error":{"message":"bad","code":400}}"#,
            // Odd shapes: each must read the same.
            r#"{"error":null}"#,
            r#"{"error":"text","code":429}"#,
            r#"{"error":{"code":"x"},"code":503}"#,
            r#"{"error":{"code":99999}}"#,
            r#"{"object":5,"choices":"no"}"#,
            r#"{"choices":[3,null,{"index":-1},{"index":1.0},{"index":"2"}]}"#,
            r#"{"choices":[{"delta":{"reasoning_content":null,"reasoning":"hidden"}}]}"#,
            r#"{"choices":[{"delta":{"content":5,"reasoning":["x"]},"finish_reason":7}]}"#,
            r#"{"choices":[{"delta":"text"}]}"#,
            r#"{"choices":[{"finish_reason":"length","index":0,"index":3}],"choices":[{"index":4}]}"#,
            r#"{"usage":{"a":1},"usage":null}"#,
            r#"{"error":{"code":500},"error":{"code":401}}"#,
            "[1,2]",
            r#""text""#,
            r#"{"choices":[{"delta":{"content":"a"}}]} trailing"#,
            r#"{"choices":"#,
            "<html>",
        ];
        for payload in cases {
            assert_eq!(typed(payload), by_value(payload), "{payload}");
        }
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0u64..5).prop_map(|n| json!(n)),
            any::<i64>().prop_map(|n| json!(n)),
            (-2.0f64..700.0).prop_map(|f| json!(f)),
            prop::sample::select(vec!["", "error", "abort", "stop", "length", "é\"\\\n", "x"])
                .prop_map(|s| json!(s)),
        ]
    }

    /// Any JSON, biased toward the keys a chunk has.
    fn value() -> impl Strategy<Value = Value> {
        let keys = vec![
            "object",
            "code",
            "error",
            "usage",
            "choices",
            "index",
            "delta",
            "finish_reason",
            "content",
            "reasoning_content",
            "reasoning",
            "message",
            "id",
        ];
        scalar().prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(keys.clone()), inner), 0..6).prop_map(|fields| {
                    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>())
                }),
            ]
        })
    }

    /// An object with some of `fields`, each from its strategy.
    fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
        let (keys, values): (Vec<_>, Vec<_>) = fields.into_iter().unzip();
        values
            .into_iter()
            .map(prop::option::of)
            .collect::<Vec<_>>()
            .prop_map(move |values| {
                let fields = keys.iter().zip(values).filter_map(|(k, v)| Some(((*k).to_owned(), v?)));
                Value::Object(fields.collect::<Map<_, _>>())
            })
            .boxed()
    }

    /// Events in a chunk's shape, each field now of its type, now of another.
    fn chunk() -> BoxedStrategy<Value> {
        let text = || prop_oneof![scalar(), value()].boxed();
        let delta = object(vec![
            ("role", text()),
            ("content", text()),
            ("reasoning_content", text()),
            ("reasoning", text()),
        ]);
        let choice = prop_oneof![
            4 => object(vec![("index", text()), ("delta", prop_oneof![delta, value()].boxed()), ("finish_reason", text())]),
            1 => value(),
        ];
        let error = prop_oneof![object(vec![("code", text()), ("message", text())]), scalar()].boxed();
        object(vec![
            ("object", text()),
            ("code", text()),
            ("error", error),
            ("usage", text()),
            (
                "choices",
                prop_oneof![4 => prop::collection::vec(choice, 0..3).prop_map(Value::Array), 1 => value()]
                    .boxed(),
            ),
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_json_reads_as_the_value_reading_did(v in prop_oneof![value(), chunk()]) {
            for payload in [v.to_string(), serde_json::to_string_pretty(&v).expect("JSON")] {
                prop_assert_eq!(typed(&payload), by_value(&payload), "{}", payload);
                let slow = serde_json::from_str::<Chunk<'_>>(&payload).map(|c| format!("{c:?}"));
                let read = read_chunk(&payload).map(|c| format!("{c:?}"));
                prop_assert_eq!(read.ok(), slow.ok(), "{}", payload);
            }
        }
    }
}
