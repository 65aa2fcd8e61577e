//! The machine for formats whose calls sit between special-token markers with JSON
//! arguments (DeepSeek V3/V3.1 in `deepseek.rs`, Kimi K2 in `kimi.rs`). A format gives it
//! a [`Dialect`]: its markers and how to split a call's text into name, id and arguments.
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
//! * An id the model gives a call (Kimi's `functions.NAME:IDX`) is passed on, unless it
//!   repeats one of the same response (a client matches tool results to calls by id).
//!
//! Outcomes: a call is `recovered` when its end marker or the section opener was missing
//! or its arguments needed the lenient decode; `as_text` counts calls that did not decode
//! and section openers followed by no call.

use memchr::memchr;
use serde_json::Value;

use super::core::Core;
use super::event::{Sink, UpstreamFinish};
use super::json::{Decoded, StringScan, decode_args, decode_value};
use super::machine::{Eof, Machine, Start, Step};
use super::scan::{self, MAX_HELD, Match};
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

impl State {
    /// Prose, or reasoning when `think`.
    fn channel(think: bool) -> Self {
        if think { Self::Think } else { Self::Text }
    }
}

#[derive(Debug)]
struct Call {
    /// The markers before the body (a fresh section's opener included), for when the call
    /// turns out to be text.
    held: String,
    body: String,
    scan: StringScan,
    from_think: bool,
    in_section: bool,
}

/// The machine for special-token formats with JSON arguments.
#[derive(Debug)]
pub(crate) struct Special {
    dialect: &'static Dialect,
    core: Core,
    state: State,
    /// The ids the model gave this response's calls: a repeated one is not passed on (a
    /// client matches tool results to calls by id), the caller makes a fresh one instead.
    ids: Vec<String>,
}

impl Special {
    /// A fresh choice, or `auto` handing over at a section or call opener (`detect.rs`).
    pub(crate) fn new(dialect: &'static Dialect, start: Start) -> Self {
        Self { dialect, core: start.core.lines(false), state: State::channel(start.think), ids: Vec::new() }
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
    fn step_text(&mut self, rest: &str, think: bool, eof: Eof, sink: &mut impl Sink) -> Step {
        self.state = State::channel(think);
        let lt = memchr(b'<', rest.as_bytes()).unwrap_or(rest.len());
        if lt > 0 {
            self.core.text(&rest[..lt], think, sink);
            return Step::Advance(lt);
        }
        // `<think>` opens reasoning only before any answer text or call.
        let (kind, len) = match self.marker(rest, self.core.think_opens(think)) {
            Ok(Some(found)) => found,
            Ok(None) => {
                self.core.text("<", think, sink);
                return Step::Advance(1);
            }
            Err(()) => match eof {
                None => return Step::NeedMore,
                // A cut-off marker is text under `stop`, dropped under `length`.
                Some(UpstreamFinish::Stop) => {
                    self.core.text("<", think, sink);
                    return Step::Advance(1);
                }
                Some(UpstreamFinish::Length) => return Step::Advance(rest.len()),
            },
        };
        let marker = &rest[..len];
        match kind {
            Kind::ThinkOpen => self.state = State::Think,
            Kind::ThinkClose if think => {
                self.core.end_reasoning();
                self.state = State::Text;
            }
            Kind::SectionBegin => {
                self.state = State::Section { held: marker.to_owned(), from_think: think, fresh: true };
            }
            Kind::CallBegin => self.state = State::Call(Box::new(Call::new(marker.to_owned(), think, false))),
            // A stray `</think>` or special token: never text, and it separates what surrounds it.
            Kind::ThinkClose | Kind::SectionEnd | Kind::CallEnd => {
                if think {
                    self.core.reasoning.boundary();
                } else {
                    self.core.content.boundary();
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
        eof: Eof,
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
                        self.core.reasoning.boundary();
                    }
                    self.core.content.boundary();
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
            self.core.give_up(&held, from_think, sink);
        }
        self.state = if from_think && fresh { State::Think } else { State::Text };
        Step::Advance(0)
    }

    /// Inside a call: its body until the end marker outside JSON strings.
    /// At a `<` outside the call's JSON strings (the body before it is read in place by
    /// `step`): its end marker, the next call, or text of the body.
    fn step_call(&mut self, rest: &str, mut call: Box<Call>, eof: Eof, sink: &mut impl Sink) -> Step {
        match self.marker(rest, false) {
            Ok(Some((Kind::CallEnd, len))) => {
                self.decide(&call, Some(&rest[..len]), sink);
                Step::Advance(len)
            }
            // The next call or the section end: this call's end marker is missing.
            Ok(Some((Kind::CallBegin | Kind::SectionEnd, _))) => {
                self.decide(&call, None, sink);
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
    fn decide(&mut self, call: &Call, closer: Option<&str>, sink: &mut impl Sink) {
        let decoded = (self.dialect.header)(&call.body).and_then(|header| decode(header, &self.core.tools));
        if let Some((Decoded { name, args, lenient }, mut id)) = decoded {
            if let Some(given) = &id {
                if self.ids.contains(given) {
                    id = None;
                } else {
                    self.ids.push(given.clone());
                }
            }
            let repaired = lenient || closer.is_none() || !call.in_section;
            self.core.whole_call(&name, id.as_deref(), &args, call.from_think, repaired, sink);
            self.state = if call.in_section {
                State::Section { held: String::new(), from_think: false, fresh: false }
            } else {
                State::Text
            };
        } else {
            let text = format!("{}{}{}", call.held, call.body, closer.unwrap_or(""));
            self.core.give_up(&text, call.from_think, sink);
            self.state = State::channel(call.from_think);
        }
    }
}

impl Machine for Special {
    fn step(&mut self, rest: &str, eof: Eof, sink: &mut impl Sink) -> Step {
        // Inside a call's body (almost every byte of it): read in place, no state moves.
        if let State::Call(call) = &mut self.state {
            let body = call.scan.scan(rest);
            if body > 0 {
                call.body.push_str(&rest[..body]);
                return Step::Advance(body);
            }
        }
        match std::mem::take(&mut self.state) {
            State::Text => self.step_text(rest, false, eof, sink),
            State::Think => self.step_text(rest, true, eof, sink),
            State::Section { held, from_think, fresh } => {
                self.step_section(rest, held, from_think, fresh, eof, sink)
            }
            State::Call(call) => self.step_call(rest, call, eof, sink),
        }
    }

    fn settle(&mut self, upstream: UpstreamFinish, sink: &mut impl Sink) {
        let stop = upstream == UpstreamFinish::Stop;
        match std::mem::take(&mut self.state) {
            State::Text | State::Think => {}
            State::Section { held, from_think, fresh } => {
                if stop && fresh {
                    self.core.give_up(&held, from_think, sink);
                }
            }
            // Under `length` a call still open is never executable: dropped, prose kept.
            State::Call(call) => {
                if stop {
                    self.decide(&call, None, sink);
                }
            }
        }
        self.state = State::Text;
    }

    fn core(&self) -> &Core {
        &self.core
    }
}

impl Call {
    fn new(held: String, from_think: bool, in_section: bool) -> Self {
        Self { held, body: String::new(), scan: StringScan::default(), from_think, in_section }
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
    } else {
        decode_value(args)?
    };
    if !matches!(value, Value::Object(_)) {
        return None;
    }
    let decoded = decode_args(header.name.to_owned(), value, tools, lenient)?;
    Some((decoded, header.id.map(str::to_owned)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::toolcall::{Engine, Event, Format, Outcomes, Reasoning};

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
}
