//! DeepSeek tool calls (`deepseek_v3`: V3, R1-0528; `deepseek_v31`: V3.1), and the machine
//! they share with Kimi K2 (`kimi.rs`): calls written between special-token markers, with
//! JSON arguments.
//!
//! * V3 / R1-0528: `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{…}\n```<｜tool▁call▁end｜>…<｜tool▁calls▁end｜>`
//! * V3.1: `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{…}<｜tool▁call▁end｜>…<｜tool▁calls▁end｜>`
//!
//! One machine reads both shapes in both formats (a V3.1 model answering in the V3 shape,
//! or the reverse, still gives its call); the two format names exist for profiles.
//! The misspellings DeepSeek models (the R1 distills especially) are known to write for the
//! markers are accepted: `<｜tool_calls_begin｜>`, `<｜tool calls begin｜>`,
//! `<｜tool\_calls\_begin｜>`, `<｜tool▁calls｜>`, and ASCII `_` or spaces in place of `▁`
//! in the other markers.
//!
//! How the machine decides (the same guarantees as the Qwen family):
//! * Prose streams at once; only a `<` that could still begin a marker is held.
//! * A call is held whole, from its call-begin marker to its call-end marker found outside
//!   JSON strings (so a marker inside a string argument is data), and decided there: a
//!   call only if its name is an identifier and its arguments decode (strictly, else as a
//!   Python literal) to an object, typed by the request's schema like Hermes blocks.
//!   Otherwise its text stays content. Never a call with invalid arguments.
//! * A missing call-end marker is recovered when the next call, the section end or (under
//!   `stop`) the end of output follows; a call cut off under `length` is dropped, never
//!   executable. A call-begin marker without the section opener is accepted (recovered).
//! * `<think>…</think>` (R1, V3.1 thinking, Kimi K2 Thinking) is reasoning, with the same
//!   rules as the Qwen family: only at the start, or opened by the prompt; a call inside
//!   it ends it.
//! * Stray special tokens (a section end or call end outside a call) are dropped.
//!
//! Outcomes: a call is `recovered` when its end marker or the section opener was missing
//! or its arguments needed the lenient decode; `as_text` counts calls that did not decode
//! and section openers followed by no call.

use std::sync::Arc;

use memchr::memchr;
use serde_json::Value;

use super::Reasoning;
use super::auto::Handover;
use super::event::{Event, FinishReason, Sink, UpstreamFinish};
use super::outcome::{Outcomes, bump};
use super::pyliteral;
use super::qwen::{Decoded, JsonScan, json_call};
use super::scan::{self, MAX_HELD, Match};
use super::shaper::Shaper;
use super::tools::Tools;

/// The markers of one family. The first entry of each list is the real token; the others
/// are misspellings models are known to write.
#[derive(Debug)]
pub(crate) struct Dialect {
    pub(crate) section_begin: &'static [&'static str],
    pub(crate) section_end: &'static [&'static str],
    pub(crate) call_begin: &'static [&'static str],
    pub(crate) call_end: &'static [&'static str],
    /// Splits a call's text (between its begin and end markers) into name, id and arguments.
    pub(crate) header: fn(&str) -> Option<Header<'_>>,
}

/// A call's text, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    pub(crate) name: &'a str,
    /// The id the model gave the call, if its format has one.
    pub(crate) id: Option<&'a str>,
    /// The arguments text (JSON, maybe in a Markdown fence).
    pub(crate) args: &'a str,
}

/// DeepSeek V3, R1-0528 and V3.1.
pub(crate) const DEEPSEEK: Dialect = Dialect {
    section_begin: &[
        "<｜tool▁calls▁begin｜>",
        "<｜tool_calls_begin｜>",
        "<｜tool calls begin｜>",
        "<｜tool\\_calls\\_begin｜>",
        "<｜tool▁calls｜>",
    ],
    section_end: &["<｜tool▁calls▁end｜>", "<｜tool_calls_end｜>", "<｜tool calls end｜>"],
    call_begin: &["<｜tool▁call▁begin｜>", "<｜tool_call_begin｜>", "<｜tool call begin｜>"],
    call_end: &["<｜tool▁call▁end｜>", "<｜tool_call_end｜>", "<｜tool call end｜>"],
    header: deepseek_header,
};

const DEEPSEEK_SEP: &[&str] = &["<｜tool▁sep｜>", "<｜tool_sep｜>", "<｜tool sep｜>"];

/// `function<｜tool▁sep｜>NAME\n```json\n{…}\n```` (V3) or `NAME<｜tool▁sep｜>{…}` (V3.1).
fn deepseek_header(body: &str) -> Option<Header<'_>> {
    let (at, sep) = DEEPSEEK_SEP.iter().filter_map(|sep| body.find(sep).map(|at| (at, sep.len()))).min()?;
    let (left, right) = (body[..at].trim(), &body[at + sep..]);
    if left == "function" {
        // V3: the name follows the separator, up to the line end (or the fence, the JSON).
        let right = right.trim_start_matches([' ', '\t']);
        let end = right.find(['\n', '`', '{']).unwrap_or(right.len());
        let name = right[..end].trim();
        if scan::is_name(name) {
            return Some(Header { name, id: None, args: &right[end..] });
        }
    }
    Some(Header { name: left, id: None, args: right })
}

/// What one step did.
enum Step {
    Advance(usize),
    NeedMore,
}

/// A marker's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ThinkOpen,
    ThinkClose,
    SectionBegin,
    SectionEnd,
    CallBegin,
    CallEnd,
}

#[derive(Debug, Default)]
enum State {
    #[default]
    Text,
    Think,
    /// After a section opener, between calls: whitespace until a call opens or the section
    /// closes. `fresh`: no call committed in it yet (`held` then has the opener, for when
    /// no call follows).
    Section {
        held: String,
        from_think: bool,
        fresh: bool,
    },
    /// Inside a call, held until its end marker.
    Call(Box<Call>),
}

#[derive(Debug)]
struct Call {
    /// The markers before the body (a fresh section's opener included), for when the call
    /// turns out to be text.
    held: String,
    body: String,
    scan: JsonScan,
    from_think: bool,
    in_section: bool,
}

/// The machine for special-token formats with JSON arguments.
#[derive(Debug)]
pub(crate) struct Special {
    dialect: &'static Dialect,
    tools: Arc<Tools>,
    state: State,
    content: Shaper,
    reasoning: Shaper,
    next_index: usize,
    complete: usize,
    outcomes: Outcomes,
    /// The ids the model gave this response's calls: a repeated one is not passed on (a
    /// client matches tool results to calls by id), the caller makes a fresh one instead.
    ids: Vec<String>,
}

impl Special {
    pub(crate) fn new(dialect: &'static Dialect, tools: Arc<Tools>, reasoning: Reasoning) -> Self {
        let state = match reasoning {
            Reasoning::Auto => State::Text,
            Reasoning::PromptOpened => State::Think,
        };
        Self {
            dialect,
            tools,
            state,
            content: Shaper::new(false),
            reasoning: Shaper::new(true),
            next_index: 0,
            complete: 0,
            outcomes: Outcomes::default(),
            ids: Vec::new(),
        }
    }

    /// Takes over from the undecided `auto` machine at a section or call opener (`auto.rs`).
    pub(crate) fn resume(dialect: &'static Dialect, handover: Handover) -> Self {
        let mut machine = Self::new(dialect, Arc::clone(&handover.tools), handover.reasoning_mode());
        machine.content = handover.content;
        machine.reasoning = handover.reasoning;
        machine.outcomes = handover.outcomes;
        machine
    }

    pub(crate) fn outcomes(&self) -> Outcomes {
        self.outcomes
    }

    /// Consumes what can be decided from `buf`; returns how many bytes. With `eof` set,
    /// everything is decided and the whole of `buf` is consumed.
    pub(crate) fn run(&mut self, buf: &str, eof: Option<UpstreamFinish>, sink: &mut impl Sink) -> usize {
        let mut pos = 0;
        while pos < buf.len() {
            let step = match std::mem::take(&mut self.state) {
                State::Text => self.step_text(&buf[pos..], false, eof, sink),
                State::Think => self.step_text(&buf[pos..], true, eof, sink),
                State::Section { held, from_think, fresh } => {
                    self.step_section(&buf[pos..], held, from_think, fresh, eof, sink)
                }
                State::Call(call) => self.step_call(&buf[pos..], call, eof, sink),
            };
            match step {
                Step::Advance(n) => pos += n,
                Step::NeedMore => {
                    debug_assert!(eof.is_none(), "nothing is pending at the end of output");
                    break;
                }
            }
        }
        pos
    }

    /// Which marker (if any) `rest`, starting with `<`, begins with; `Err(())` when one
    /// still could once more input arrives.
    fn marker(&self, rest: &str, think_opens: bool) -> Result<Option<(Kind, usize)>, ()> {
        let d = self.dialect;
        let think: &[&str] = if think_opens { &["<think>"] } else { &[] };
        let lists: [(Kind, &[&str]); 6] = [
            (Kind::ThinkOpen, think),
            (Kind::ThinkClose, &["</think>"]),
            (Kind::SectionBegin, d.section_begin),
            (Kind::CallBegin, d.call_begin),
            (Kind::SectionEnd, d.section_end),
            (Kind::CallEnd, d.call_end),
        ];
        let mut partial = false;
        for (kind, list) in lists {
            for marker in list {
                match scan::starts(rest, marker) {
                    Match::Yes => return Ok(Some((kind, marker.len()))),
                    Match::Partial => partial = true,
                    Match::No => {}
                }
            }
        }
        if partial { Err(()) } else { Ok(None) }
    }

    /// Prose and reasoning.
    fn step_text(
        &mut self,
        rest: &str,
        think: bool,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        self.state = if think { State::Think } else { State::Text };
        let lt = memchr(b'<', rest.as_bytes()).unwrap_or(rest.len());
        if lt > 0 {
            self.text(&rest[..lt], think, sink);
            return Step::Advance(lt);
        }
        // `<think>` opens reasoning only before any answer text or call.
        let think_opens = !think && !self.content.emitted() && self.next_index == 0;
        let (kind, len) = match self.marker(rest, think_opens) {
            Ok(Some(found)) => found,
            Ok(None) => {
                self.text("<", think, sink);
                return Step::Advance(1);
            }
            Err(()) => match eof {
                None => return Step::NeedMore,
                // A cut-off marker is text under `stop`, dropped under `length`.
                Some(UpstreamFinish::Stop) => {
                    self.text("<", think, sink);
                    return Step::Advance(1);
                }
                Some(UpstreamFinish::Length) => return Step::Advance(rest.len()),
            },
        };
        let marker = &rest[..len];
        match kind {
            Kind::ThinkOpen => self.state = State::Think,
            Kind::ThinkClose if think => {
                self.reasoning.boundary();
                self.state = State::Text;
            }
            Kind::SectionBegin => {
                self.state = State::Section { held: marker.to_owned(), from_think: think, fresh: true };
            }
            Kind::CallBegin => self.state = State::Call(Box::new(Call::new(marker.to_owned(), think, false))),
            // A stray `</think>` or special token: never text, and it separates what surrounds it.
            Kind::ThinkClose | Kind::SectionEnd | Kind::CallEnd => {
                if think {
                    self.reasoning.boundary();
                } else {
                    self.content.boundary();
                }
            }
        }
        Step::Advance(len)
    }

    /// Between calls of a section.
    fn step_section(
        &mut self,
        rest: &str,
        mut held: String,
        from_think: bool,
        fresh: bool,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let ws = scan::leading_ws(rest);
        if ws > 0 && held.len() + ws <= MAX_HELD {
            held.push_str(&rest[..ws]);
            self.state = State::Section { held, from_think, fresh };
            return Step::Advance(ws);
        }
        if ws == 0 && rest.starts_with('<') {
            match self.marker(rest, false) {
                Ok(Some((Kind::CallBegin, len))) => {
                    let mut opener = if fresh { held } else { String::new() };
                    opener.push_str(&rest[..len]);
                    self.state = State::Call(Box::new(Call::new(opener, from_think, true)));
                    return Step::Advance(len);
                }
                Ok(Some((Kind::SectionEnd, len))) => {
                    // The section is over (an empty one is dropped whole: special tokens only).
                    if from_think {
                        self.reasoning.boundary();
                    }
                    self.content.boundary();
                    self.state = if from_think && fresh { State::Think } else { State::Text };
                    return Step::Advance(len);
                }
                Err(()) if eof.is_none() => {
                    self.state = State::Section { held, from_think, fresh };
                    return Step::NeedMore;
                }
                // A marker cut off by the end of output, after the section's calls (or under
                // `length`): dropped, never content.
                Err(()) if !fresh || eof == Some(UpstreamFinish::Length) => return Step::Advance(rest.len()),
                _ => {}
            }
        }
        // Anything else ends the section: a section that got no call was not one.
        if fresh {
            bump(&mut self.outcomes.as_text);
            self.text(&held, from_think, sink);
        }
        self.state = if from_think && fresh { State::Think } else { State::Text };
        Step::Advance(0)
    }

    /// Inside a call: its body until the end marker outside JSON strings.
    fn step_call(
        &mut self,
        rest: &str,
        mut call: Box<Call>,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let body = call.scan.scan(rest);
        if body > 0 {
            call.body.push_str(&rest[..body]);
            self.state = State::Call(call);
            return Step::Advance(body);
        }
        match self.marker(rest, false) {
            Ok(Some((Kind::CallEnd, len))) => {
                self.settle(&call, Some(&rest[..len]), sink);
                Step::Advance(len)
            }
            // The next call or the section end: this call's end marker is missing.
            Ok(Some((Kind::CallBegin | Kind::SectionEnd, _))) => {
                self.settle(&call, None, sink);
                Step::Advance(0)
            }
            Err(()) => {
                self.state = State::Call(call);
                if eof.is_none() {
                    Step::NeedMore
                } else {
                    // A marker cut off by the end of output (`rest` is all that is left):
                    // dropped; `finish` decides the call, its end marker missing.
                    Step::Advance(rest.len())
                }
            }
            _ => {
                call.body.push('<');
                self.state = State::Call(call);
                Step::Advance(1)
            }
        }
    }

    /// Decides a call: a call if it decodes, else its text goes back to the channel it came
    /// from. `closer`: its end marker, `None` when missing.
    fn settle(&mut self, call: &Call, closer: Option<&str>, sink: &mut impl Sink) {
        let decoded = (self.dialect.header)(&call.body).and_then(|header| decode(header, &self.tools));
        if let Some((Decoded { name, args, lenient }, mut id)) = decoded {
            if let Some(given) = &id {
                if self.ids.contains(given) {
                    id = None;
                } else {
                    self.ids.push(given.clone());
                }
            }
            if call.from_think {
                self.reasoning.boundary();
            }
            self.content.boundary();
            let index = self.next_index;
            self.next_index += 1;
            sink.event(Event::CallStart { index, name: &name, id: id.as_deref() });
            sink.event(Event::CallArgs { index, fragment: &args });
            self.complete += 1;
            bump(&mut self.outcomes.calls);
            if lenient || closer.is_none() || !call.in_section {
                bump(&mut self.outcomes.recovered);
            }
            sink.event(Event::CallEnd { index });
            self.state = if call.in_section {
                State::Section { held: String::new(), from_think: false, fresh: false }
            } else {
                State::Text
            };
        } else {
            bump(&mut self.outcomes.as_text);
            let text = format!("{}{}{}", call.held, call.body, closer.unwrap_or(""));
            self.text(&text, call.from_think, sink);
            self.state = if call.from_think { State::Think } else { State::Text };
        }
    }

    /// Text for the content or reasoning channel.
    fn text(&mut self, text: &str, think: bool, sink: &mut impl Sink) {
        if think {
            self.reasoning.push(text, sink);
        } else {
            self.content.push(text, sink);
        }
    }

    /// The end of output: settles the state left after the final `run`.
    pub(crate) fn finish(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink) -> FinishReason {
        let stop = upstream == UpstreamFinish::Stop;
        match std::mem::take(&mut self.state) {
            State::Text | State::Think => {}
            State::Section { held, from_think, fresh } => {
                if stop && fresh {
                    bump(&mut self.outcomes.as_text);
                    self.text(&held, from_think, sink);
                }
            }
            // Under `length` a call still open is never executable: dropped, prose kept.
            State::Call(call) => {
                if stop {
                    self.settle(&call, None, sink);
                }
            }
        }
        self.state = State::Text;
        FinishReason::decide(upstream, self.complete)
    }
}

impl Call {
    fn new(held: String, from_think: bool, in_section: bool) -> Self {
        Self { held, body: String::new(), scan: JsonScan::new(String::new(), false), from_think, in_section }
    }
}

/// A call's name and arguments, typed by the schema, with the model's id if it gave one;
/// `None` if it is not a well-formed call.
fn decode(header: Header<'_>, tools: &Tools) -> Option<(Decoded, Option<String>)> {
    let mut args = header.args.trim();
    // A Markdown fence around the JSON (V3), its closer possibly missing.
    if let Some(fenced) = args.strip_prefix("```") {
        let fenced = fenced.strip_prefix("json").unwrap_or(fenced);
        args = fenced.strip_suffix("```").unwrap_or(fenced).trim();
    }
    let (value, lenient) = if args.is_empty() {
        // No arguments written at all: the tool takes none.
        (Value::Object(serde_json::Map::new()), true)
    } else if let Ok(value) = serde_json::from_str::<Value>(args) {
        (value, false)
    } else {
        (pyliteral::parse(args)?, true)
    };
    if !matches!(value, Value::Object(_)) {
        return None;
    }
    let object = serde_json::json!({"name": header.name, "arguments": value});
    let decoded = json_call(object, tools, lenient)?;
    Some((decoded, header.id.map(str::to_owned)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toolcall::{Engine, Format};

    fn outcomes(format: Format, text: &str, upstream: UpstreamFinish) -> Outcomes {
        let tools = serde_json::json!([{"type": "function", "function": {"name": "read_file",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}]);
        let tools = Arc::new(Tools::from_openai(&tools).expect("valid tools"));
        let mut engine = Engine::new(format, tools, Reasoning::Auto);
        let mut sink = |_: Event<'_>| {};
        engine.feed(text, &mut sink);
        engine.finish(upstream, &mut sink);
        engine.outcomes()
    }

    fn o(calls: u32, truncated: u32, recovered: u32, as_text: u32) -> Outcomes {
        Outcomes { calls, truncated, recovered, as_text }
    }

    #[test]
    fn counts_outcomes() {
        const STOP: UpstreamFinish = UpstreamFinish::Stop;
        const LENGTH: UpstreamFinish = UpstreamFinish::Length;
        let call = r#"<｜tool▁call▁begin｜>read_file<｜tool▁sep｜>{"path": "a"}<｜tool▁call▁end｜>"#;
        let kimi = r#"<|tool_call_begin|>functions.read_file:0<|tool_call_argument_begin|>{"path": "a"}<|tool_call_end|>"#;
        for format in [Format::DeepseekV3, Format::DeepseekV31] {
            let section = format!("<｜tool▁calls▁begin｜>{call}\n{call}<｜tool▁calls▁end｜>");
            assert_eq!(outcomes(format, &section, STOP), o(2, 0, 0, 0));
            // No section opener; the call end missing.
            assert_eq!(outcomes(format, call, STOP), o(1, 0, 1, 0));
            assert_eq!(outcomes(format, &section[..section.len() - 40], STOP), o(2, 0, 1, 0));
            // Cut off under `length`: never started, so nothing counted.
            assert_eq!(outcomes(format, &section[..section.len() - 40], LENGTH), o(1, 0, 0, 0));
            let python = "<｜tool▁call▁begin｜>read_file<｜tool▁sep｜>{'path': 'a'}<｜tool▁call▁end｜>";
            assert_eq!(outcomes(format, python, STOP), o(1, 0, 1, 0));
            let bad =
                "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>read_file<｜tool▁sep｜>{oops<｜tool▁call▁end｜>";
            assert_eq!(outcomes(format, bad, STOP), o(0, 0, 0, 1));
            assert_eq!(outcomes(format, "<｜tool▁calls▁begin｜> no call", STOP), o(0, 0, 0, 1));
        }
        let section = format!("<|tool_calls_section_begin|>{kimi}<|tool_calls_section_end|>");
        assert_eq!(outcomes(Format::KimiK2, &section, STOP), o(1, 0, 0, 0));
        assert_eq!(outcomes(Format::KimiK2, kimi, STOP), o(1, 0, 1, 0));
    }

    #[test]
    fn splits_both_deepseek_shapes() {
        let v3 = deepseek_header("function<｜tool▁sep｜>read_file\n```json\n{\"a\": 1}\n```");
        assert_eq!(v3, Some(Header { name: "read_file", id: None, args: "\n```json\n{\"a\": 1}\n```" }));
        let v31 = deepseek_header("read_file<｜tool▁sep｜>{\"a\": 1}");
        assert_eq!(v31, Some(Header { name: "read_file", id: None, args: "{\"a\": 1}" }));
        // A V3.1 tool that happens to be called `function`.
        let named = deepseek_header("function<｜tool▁sep｜>{}");
        assert_eq!(named, Some(Header { name: "function", id: None, args: "{}" }));
        assert_eq!(deepseek_header("read_file {}"), None);
    }
}
