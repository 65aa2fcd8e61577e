//! The `response` object and its output items, written the same way whole and streamed:
//! the whole answer and the stream's `response.completed` come from the same [`Item`]s and
//! [`ResponseView`], so the two cannot drift apart.
//!
//! Output order: the reasoning item, the message, then the calls. A message item exists
//! only when the text says something (whitespace alone is no message), so a stream that
//! holds leading whitespace back adds up to exactly the whole answer.

use std::sync::Arc;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::echo::Echo;
use super::error::ErrorBody;
use crate::openai::{ApiError, ErrorKind};
use crate::proxy::wire::api::{Choice, Whole};

/// `prefix` and 24 random alphanumerics: response and item ids (`resp_…`, `msg_…`, `fc_…`).
pub(crate) fn new_id(prefix: &str) -> String {
    const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut id = String::with_capacity(prefix.len() + 24);
    id.push_str(prefix);
    id.extend((0..24).map(|_| char::from(ALPHANUMERIC[fastrand::usize(..ALPHANUMERIC.len())])));
    id
}

/// What every `response` object of one answer shares.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) id: String,
    pub(crate) created: u64,
    /// The name the client asked for.
    pub(crate) model: String,
    pub(crate) echo: Arc<Echo>,
}

/// What an output item is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Reasoning,
    Message,
    Call {
        call_id: String,
        name: String,
    },
    /// A call of a `custom` tool: its `text` is the free-form input.
    Custom {
        call_id: String,
        name: String,
    },
}

impl Kind {
    /// A call of `name`: a `custom_tool_call` when `name` is one of the request's custom tools.
    pub(crate) fn call(echo: &Echo, call_id: &str, name: &str) -> Self {
        let (call_id, name) = (call_id.to_owned(), name.to_owned());
        if echo.is_custom(&name) { Self::Custom { call_id, name } } else { Self::Call { call_id, name } }
    }
}

/// A custom tool's input from the call's arguments (`{"input": …}`, as it was offered);
/// arguments of another shape go on as they are.
pub(crate) fn custom_input(arguments: &str) -> String {
    #[derive(Deserialize)]
    struct Input {
        input: String,
    }
    serde_json::from_str::<Input>(arguments).map_or_else(|_| arguments.to_owned(), |i| i.input)
}

/// One output item; `text` is the reasoning, the message text or the call's arguments.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub(crate) id: String,
    pub(crate) kind: Kind,
    pub(crate) text: String,
    /// `completed`, or `incomplete` for a message the token limit cut off.
    pub(crate) status: &'static str,
}

impl Item {
    pub(crate) fn new(kind: Kind) -> Self {
        let prefix = match kind {
            Kind::Reasoning => "rs_",
            Kind::Message => "msg_",
            Kind::Call { .. } => "fc_",
            Kind::Custom { .. } => "ctc_",
        };
        Self { id: new_id(prefix), kind, text: String::new(), status: "completed" }
    }

    /// The item as `response.output_item.added` shows it (nothing said yet) or whole.
    pub(crate) fn view(&self, added: bool) -> ItemView<'_> {
        ItemView { item: self, added }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ItemView<'a> {
    item: &'a Item,
    added: bool,
}

/// The one content part of a message (`output_text`) or of a reasoning item.
#[derive(Serialize)]
pub(crate) struct PartView<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) annotations: Option<[(); 0]>,
}

impl<'a> PartView<'a> {
    pub(crate) fn of(kind: &Kind, text: &'a str) -> Self {
        match kind {
            Kind::Message => Self { kind: "output_text", text, annotations: Some([]) },
            _ => Self { kind: "reasoning_text", text, annotations: None },
        }
    }
}

impl Serialize for ItemView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Item { id, kind, text, status } = self.item;
        let status = if self.added { "in_progress" } else { status };
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("id", id)?;
        match kind {
            Kind::Reasoning => {
                map.serialize_entry("type", "reasoning")?;
                map.serialize_entry("summary", &[(); 0])?;
                map.serialize_entry("content", &Parts(kind, text, self.added))?;
            }
            Kind::Message => {
                map.serialize_entry("type", "message")?;
                map.serialize_entry("role", "assistant")?;
                map.serialize_entry("content", &Parts(kind, text, self.added))?;
            }
            Kind::Call { call_id, name } => {
                map.serialize_entry("type", "function_call")?;
                map.serialize_entry("call_id", call_id)?;
                map.serialize_entry("name", name)?;
                map.serialize_entry("arguments", if self.added { "" } else { text.as_str() })?;
            }
            Kind::Custom { call_id, name } => {
                map.serialize_entry("type", "custom_tool_call")?;
                map.serialize_entry("call_id", call_id)?;
                map.serialize_entry("name", name)?;
                map.serialize_entry("input", if self.added { "" } else { text.as_str() })?;
            }
        }
        map.serialize_entry("status", status)?;
        map.end()
    }
}

/// An item's content: empty when just added, else its one part.
struct Parts<'a>(&'a Kind, &'a str, bool);

impl Serialize for Parts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(usize::from(!self.2)))?;
        if !self.2 {
            seq.serialize_element(&PartView::of(self.0, self.1))?;
        }
        seq.end()
    }
}

/// vLLM's usage, as far as Responses reports it.
#[derive(Debug, Default, Deserialize)]
struct UsageIn {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    total_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<Details>,
    #[serde(default)]
    completion_tokens_details: Option<Details>,
}

#[derive(Debug, Default, Deserialize)]
struct Details {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

/// `usage` in the Responses shape (every field present: Codex reads them all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Usage {
    input_tokens: u64,
    input_tokens_details: Cached,
    output_tokens: u64,
    output_tokens_details: Reasoned,
    total_tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
struct Cached {
    cached_tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
struct Reasoned {
    reasoning_tokens: u64,
}

impl Usage {
    /// vLLM's `usage`, when it sent one that reads.
    pub(crate) fn from_upstream(raw: Option<&RawValue>) -> Option<Self> {
        let u: UsageIn = serde_json::from_str(raw?.get()).ok()?;
        let detail =
            |d: &Option<Details>, f: fn(&Details) -> Option<u64>| d.as_ref().and_then(f).unwrap_or(0);
        Some(Self {
            input_tokens: u.prompt_tokens,
            input_tokens_details: Cached {
                cached_tokens: detail(&u.prompt_tokens_details, |d| d.cached_tokens),
            },
            output_tokens: u.completion_tokens,
            output_tokens_details: Reasoned {
                reasoning_tokens: detail(&u.completion_tokens_details, |d| d.reasoning_tokens),
            },
            total_tokens: u.total_tokens.unwrap_or(u.prompt_tokens + u.completion_tokens),
        })
    }
}

/// A `response` object.
pub(crate) struct ResponseView<'a> {
    pub(crate) head: &'a Head,
    /// `in_progress`, `completed`, `incomplete` or `failed`.
    pub(crate) status: &'static str,
    pub(crate) output: &'a [Item],
    pub(crate) usage: Option<Usage>,
    pub(crate) error: Option<ErrorBody<'a>>,
    /// Leave out the large echoes (`tools`, `instructions`): the stream's opening events
    /// repeat them for no client (the final event and the whole answer carry them).
    pub(crate) light: bool,
}

/// The echoed fields a light [`ResponseView`] leaves out.
const HEAVY: [&str; 2] = ["tools", "instructions"];

impl Serialize for ResponseView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Incomplete {
            reason: &'static str,
        }
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("id", &self.head.id)?;
        map.serialize_entry("object", "response")?;
        map.serialize_entry("created_at", &self.head.created)?;
        map.serialize_entry("status", self.status)?;
        map.serialize_entry("error", &self.error)?;
        let incomplete = (self.status == "incomplete").then_some(Incomplete { reason: "max_output_tokens" });
        map.serialize_entry("incomplete_details", &incomplete)?;
        map.serialize_entry("model", &self.head.model)?;
        let items: Vec<ItemView<'_>> = self.output.iter().map(|i| i.view(false)).collect();
        map.serialize_entry("output", &items)?;
        if let Some(message) = self.output.iter().find(|i| i.kind == Kind::Message) {
            map.serialize_entry("output_text", &message.text)?;
        }
        map.serialize_entry("usage", &self.usage)?;
        for (name, value) in &self.head.echo.fields {
            if !(self.light && HEAVY.contains(name)) {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

/// The status of a finished answer from its Chat Completions finish reason.
pub(crate) fn status(reason: &str) -> &'static str {
    if reason == "length" { "incomplete" } else { "completed" }
}

/// The output items of one whole choice.
pub(crate) fn items(choice: &Choice, echo: &Echo) -> Vec<Item> {
    let mut items = Vec::with_capacity(choice.calls.len() + 2);
    if !choice.reasoning.is_empty() {
        items.push(Item { text: choice.reasoning.clone(), ..Item::new(Kind::Reasoning) });
    }
    if says_something(&choice.content) {
        let mut message = Item { text: choice.content.clone(), ..Item::new(Kind::Message) };
        message.status = if choice.reason == "length" { "incomplete" } else { "completed" };
        items.push(message);
    }
    for call in &choice.calls {
        let kind = Kind::call(echo, &call.id, &call.name);
        let text = match kind {
            Kind::Custom { .. } => custom_input(&call.arguments),
            _ => call.arguments.clone(),
        };
        items.push(Item { text, ..Item::new(kind) });
    }
    items
}

/// Whether `text` is more than whitespace.
pub(crate) fn says_something(text: &str) -> bool {
    !text.trim().is_empty()
}

/// The whole answer: its first choice (Responses has one) as a `response` object.
pub(crate) fn whole(answer: &Whole<'_>, head: &Head) -> Result<Vec<u8>, ApiError> {
    let first = answer.choices.first();
    let output = first.map(|c| items(c, &head.echo)).unwrap_or_default();
    let view = ResponseView {
        head,
        status: status(first.map_or("stop", |c| c.reason)),
        output: &output,
        usage: Usage::from_upstream(answer.usage),
        error: None,
        light: false,
    };
    serde_json::to_vec(&view)
        .map_err(|e| ApiError::new(ErrorKind::Internal, format!("cannot write the answer: {e}")))
}
