//! The machine for formats that write calls as `<invoke name="NAME">` blocks of
//! `<parameter name="KEY">VALUE</parameter>` inside a wrapper: MiniMax-M2 (`minimax.rs`) and
//! DeepSeek's DSML (`dsml.rs`: V3.2, V4). A format gives it a [`Dialect`]: its tags.
//!
//! From vLLM's `minimax_m2_tool_parser.py` and `deepseekv32_tool_parser.py` /
//! `deepseekv4_tool_parser.py` (`<｜DSML｜invoke\s+name="…"\s*>`, parameters with
//! `string="true|false"`), with podctl's guarantees instead of their regexes:
//! * Prose streams at once; only a `<` that could still begin a tag is held.
//! * The name is an attribute: double quotes, single quotes or none (MiniMax writes all
//!   three); a name that is not an identifier makes the block text.
//! * Values are raw text (one leading and one trailing newline stripped, as the templates
//!   pad them), typed by the request's schema (`coerce`); a pure string streams as it comes.
//!   DSML's `string="false"` marks a JSON value: a parameter the schema does not declare is
//!   then read as JSON where it parses. (vLLM's MiniMax parser strips every surrounding
//!   space of a value; podctl keeps them, as for Qwen3-Coder: code indentation is data.)
//! * Markup inside a value is data, decided structurally like spec rule 2: a
//!   `</parameter>` closes the value only before (whitespace and) `</invoke>`, the
//!   wrapper's end, another `<invoke`, `<parameter name=KEY>` for a declared key not yet
//!   seen (any unseen key when the tool is undeclared), `<parameter name=KEY>` on a new line
//!   for a key the schema does not declare while a declared key is still unseen (the model
//!   put an undeclared parameter between declared ones: kept, as spec rule 8 keeps
//!   undeclared keys; once every declared key was seen it is data, so the file being
//!   written keeps its markup), or the end of output.
//! * A missing `</invoke>` or wrapper end is recovered at the next call, the wrapper's end
//!   or (under `stop`) the end of output; a value never closed is not a complete call, and
//!   under `length` nothing open is executable. A bare `<invoke>` without the wrapper is a
//!   call only when its tool is declared (spec rule 4); an orphan wrapper end is dropped.
//! * `<think>…</think>` is reasoning, as in the Qwen family; the family decides whether the
//!   template opened it (`Format::template_opens_reasoning`), a repeated `<think>` at the
//!   start of opened reasoning is dropped, and a call inside reasoning ends it. The
//!   family's end-of-turn tokens are never content.

mod tag;

use memchr::{memchr, memchr2};

use super::core::Core;
use super::event::{Sink, UpstreamFinish};
use super::machine::{Eof, Machine, Start, Step, undecided};
use super::outcome::bump;
use super::scan::{self, Held, Match, MatchAny};
use super::schema::Types;
use super::tools::Tools;
use super::xml_args::XmlArgs;

use tag::Opened;
pub(crate) use tag::TagSyntax;

/// Every JSON type but a string: a value the markup says is JSON, typed as it parses.
const JSON: Types = Types::NULL
    .union(Types::BOOLEAN)
    .union(Types::INTEGER)
    .union(Types::NUMBER)
    .union(Types::OBJECT)
    .union(Types::ARRAY);

/// The tags of one family.
#[derive(Debug)]
pub(crate) struct Dialect {
    pub(crate) section_open: &'static str,
    pub(crate) section_close: &'static str,
    /// A call's opening tag (`<invoke name="NAME">`).
    pub(crate) invoke: TagSyntax,
    pub(crate) invoke_close: &'static str,
    /// A value's opening tag (`<parameter name="KEY">`).
    pub(crate) param: TagSyntax,
    pub(crate) param_close: &'static str,
    /// The reasoning block's tags.
    pub(crate) think: &'static str,
    pub(crate) think_close: &'static str,
    /// Tokens that end the model's turn, and channel markup that carries no text (XTML's
    /// response channel): never content.
    pub(crate) end_of_turn: &'static [&'static str],
    /// A lone `arguments`/`input` parameter holding the object is unwrapped (DSML).
    pub(crate) unwrap_lone: bool,
}

/// A committed call.
#[derive(Debug)]
struct Call {
    args: XmlArgs<true>,
    /// Inside the wrapper: after `</invoke>` another invoke may follow.
    in_section: bool,
    /// The value just opened: its one leading newline is still to strip.
    fresh: bool,
    /// A value is open (between parameters none is).
    open: bool,
}

#[derive(Debug, Default)]
enum State {
    #[default]
    Text,
    Think,
    /// Inside the wrapper, between calls: whitespace until an invoke or the wrapper's end.
    /// `fresh`: no call in it yet (`held` then has the wrapper, for when none follows).
    Section {
        held: String,
        from_think: bool,
        fresh: bool,
    },
    /// Inside a call, between parameters.
    Body(Box<Call>),
    /// Inside a value.
    Value(Box<Call>),
    /// After `</parameter>` in a value: deciding whether it closes the value.
    Closing {
        call: Box<Call>,
        held: String,
    },
}

impl State {
    fn channel(think: bool) -> Self {
        if think { Self::Think } else { Self::Text }
    }
}

/// The invoke-block state machine.
#[derive(Debug)]
pub(crate) struct Invoke {
    dialect: &'static Dialect,
    core: Core,
    state: State,
    /// The dialect's end-of-turn tokens include one that starts with `[` (MiniMax's `[e~[`).
    bracket: bool,
}

impl Invoke {
    pub(crate) fn new(dialect: &'static Dialect, start: Start) -> Self {
        let bracket = dialect.end_of_turn.iter().any(|t| t.starts_with('['));
        let core = start.core.lines(false).ending(dialect.end_of_turn);
        Self { dialect, core, state: State::channel(start.think), bracket }
    }

    /// Prose and reasoning.
    fn step_text(&mut self, rest: &str, think: bool, eof: Eof, sink: &mut impl Sink) -> Step {
        let bytes = rest.as_bytes();
        let at = if self.bracket { memchr2(b'<', b'[', bytes) } else { memchr(b'<', bytes) };
        let at = at.unwrap_or(rest.len());
        if at > 0 {
            self.core.text(&rest[..at], think, sink);
            return Step::Advance(at);
        }
        let d = self.dialect;
        let repeat = think && !self.core.reasoning.emitted() && self.core.next_index == 0;
        let opens = self.core.think_opens(think) || repeat;
        let mut partial = false;
        let markers = [d.section_open, d.section_close, d.think_close, d.think];
        let markers = if opens { &markers[..] } else { &markers[..3] };
        match scan::starts_any(rest, markers) {
            MatchAny::Yes(m) => {
                if m == d.section_open {
                    self.state = State::Section { held: m.to_owned(), from_think: think, fresh: true };
                } else if m == d.think_close && think {
                    self.core.end_reasoning();
                    self.state = State::Text;
                } else if m == d.think {
                    self.state = State::Think;
                } else if think {
                    // An orphan wrapper end: markup, never text.
                    self.core.reasoning.boundary();
                } else {
                    self.core.content.boundary();
                }
                return Step::Advance(m.len());
            }
            MatchAny::Partial => partial = true,
            MatchAny::No => {}
        }
        match d.invoke.open(rest) {
            Opened::Complete { name, len, .. } if self.core.tools.get(name).is_some() => {
                // The wrapper is missing: a declared tool's call all the same (rule 4).
                let index = self.core.commit(name, None, think, sink);
                self.core.repaired = true;
                self.state = State::Body(Box::new(Call::new(index, name, self.dialect)));
                return Step::Advance(len);
            }
            Opened::Complete { .. } => bump(&mut self.core.outcomes.as_text),
            Opened::Partial => partial = true,
            Opened::No => {}
        }
        match self.core.end_of_turn(rest, think) {
            MatchAny::Yes(token) => return Step::Advance(token.len()),
            MatchAny::Partial => partial = true,
            MatchAny::No => {}
        }
        if partial && let Some(step) = undecided(eof, rest) {
            return step;
        }
        self.core.text(&rest[..1], think, sink);
        Step::Advance(1)
    }

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
        if ws > 0 {
            // Between calls whitespace is dropped; before the first it is held with the
            // wrapper (bounded: past the bound the wrapper is text).
            if fresh {
                held.push_str(&rest[..ws]);
                if held.len() > scan::MAX_HELD {
                    self.core.give_up(&held, from_think, sink);
                    self.state = State::channel(from_think);
                    return Step::Advance(ws);
                }
            }
            self.state = State::Section { held, from_think, fresh };
            return Step::Advance(ws);
        }
        let d = self.dialect;
        let mut partial = false;
        match d.invoke.open(rest) {
            Opened::Complete { name, len, .. } => {
                let index = self.core.commit(name, None, from_think, sink);
                let mut call = Call::new(index, name, self.dialect);
                call.in_section = true;
                self.state = State::Body(Box::new(call));
                return Step::Advance(len);
            }
            Opened::Partial => partial = true,
            Opened::No => {}
        }
        match scan::starts(rest, d.section_close) {
            // The wrapper closes (an empty one is markup with nothing in it).
            Match::Yes => return Step::Advance(d.section_close.len()),
            Match::Partial => partial = true,
            Match::No => {}
        }
        if partial {
            match eof {
                None => {
                    self.state = State::Section { held, from_think, fresh };
                    return Step::NeedMore;
                }
                Some(UpstreamFinish::Length) => return Step::Advance(rest.len()),
                Some(UpstreamFinish::Stop) => {}
            }
        }
        if fresh {
            self.give_up(&held, from_think, sink)
        } else {
            // Text after the calls: the wrapper's end is missing.
            Step::Advance(0)
        }
    }

    /// A wrapper followed by no call: its text goes back to the channel it came from.
    fn give_up(&mut self, held: &str, from_think: bool, sink: &mut impl Sink) -> Step {
        self.core.give_up(held, from_think, sink);
        self.state = State::channel(from_think);
        Step::Advance(0)
    }

    /// The call is complete; what follows is the wrapper (more calls) or text.
    #[allow(
        clippy::boxed_local,
        reason = "the call comes boxed out of the state; unboxing it to pass it would copy it"
    )]
    fn complete(&mut self, mut call: Box<Call>, repaired: bool, sink: &mut impl Sink) {
        if repaired {
            self.core.repaired = true;
        }
        call.finish(&mut self.core, sink);
        self.state = if call.in_section {
            State::Section { held: String::new(), from_think: false, fresh: false }
        } else {
            State::Text
        };
    }

    /// A tag that ends the call (`</invoke>`, the wrapper's end, the next `<invoke`) at the
    /// front of `rest`: consumed, or `Partial`/`No`.
    fn call_end(
        &mut self,
        rest: &str,
        call: Box<Call>,
        sink: &mut impl Sink,
    ) -> Result<Step, (Box<Call>, bool)> {
        let d = self.dialect;
        let mut partial = false;
        match scan::starts_any(rest, &[d.invoke_close, d.section_close]) {
            MatchAny::Yes(m) => {
                let wrapper_end = m == d.section_close;
                let in_section = call.in_section;
                self.complete(call, wrapper_end && in_section, sink);
                if wrapper_end {
                    self.state = State::Text;
                }
                return Ok(Step::Advance(m.len()));
            }
            MatchAny::Partial => partial = true,
            MatchAny::No => {}
        }
        match d.invoke.open(rest) {
            Opened::Complete { .. } => {
                // The next call: this one's `</invoke>` is missing.
                self.complete(call, true, sink);
                if !matches!(self.state, State::Section { .. }) {
                    self.state = State::Section { held: String::new(), from_think: false, fresh: false };
                }
                Ok(Step::Advance(0))
            }
            Opened::Partial => Err((call, true)),
            Opened::No => Err((call, partial)),
        }
    }

    fn step_body(&mut self, rest: &str, call: Box<Call>, eof: Eof, sink: &mut impl Sink) -> Step {
        let ws = scan::leading_ws(rest);
        if ws > 0 {
            self.state = State::Body(call);
            return Step::Advance(ws);
        }
        let (mut call, mut partial) = match self.call_end(rest, call, sink) {
            Ok(step) => return step,
            Err(back) => back,
        };
        match self.dialect.param.open(rest) {
            Opened::Complete { name, json, len } => {
                call.open(name, json, &self.core.tools, sink);
                self.state = State::Value(call);
                return Step::Advance(len);
            }
            Opened::Partial => partial = true,
            Opened::No => {}
        }
        if partial && eof.is_none() {
            self.state = State::Body(call);
            return Step::NeedMore;
        }
        if partial {
            // Cut off in a tag: `settle` decides the call.
            self.state = State::Body(call);
            return Step::Advance(rest.len());
        }
        // Stray text between parameters is not part of any value: dropped, and the call
        // counts as repaired.
        self.core.repaired = true;
        let skip = memchr(b'<', &rest.as_bytes()[1..]).map_or(rest.len(), |i| i + 1);
        self.state = State::Body(call);
        Step::Advance(skip)
    }

    fn step_value(&mut self, rest: &str, call: Box<Call>, eof: Eof, sink: &mut impl Sink) -> Step {
        let close = self.dialect.param_close;
        match scan::starts(rest, close) {
            Match::Yes => {
                self.state = State::Closing { call, held: close.to_owned() };
                Step::Advance(close.len())
            }
            Match::Partial if eof.is_none() => {
                self.state = State::Value(call);
                Step::NeedMore
            }
            Match::Partial | Match::No => {
                self.literal(call, "<", sink);
                Step::Advance(1)
            }
        }
    }

    /// `text` (already consumed) is data of the value.
    fn literal(&mut self, mut call: Box<Call>, text: &str, sink: &mut impl Sink) {
        call.args.text(&mut self.core.scratch, text, sink);
        self.state = State::Value(call);
    }

    fn step_closing(
        &mut self,
        rest: &str,
        mut call: Box<Call>,
        mut held: String,
        eof: Eof,
        sink: &mut impl Sink,
    ) -> Step {
        match scan::hold_ws(&mut held, rest) {
            Held::Took(ws) => {
                self.state = State::Closing { call, held };
                return Step::Advance(ws);
            }
            Held::Over => {
                // `hold_ws` added the whitespace without consuming it: it is read again.
                held.truncate(held.len() - scan::leading_ws(rest));
                self.literal(call, &held, sink);
                return Step::Advance(0);
            }
            Held::None => {}
        }
        // The whitespace after `</parameter>`: a new line lets an undeclared key open while
        // a declared one is unseen (spec rule 8), as for Qwen3-Coder.
        let ws = &held[self.dialect.param_close.len()..];
        let (newline, adjacent) = (ws.contains('\n'), ws.is_empty());
        match self.dialect.param.open(rest) {
            Opened::Complete { name, json, len }
                if call.args.is_next(name, &self.core.tools)
                    || call.args.opens_next(name, &self.core.tools, newline, adjacent) =>
            {
                call.args.close_value(sink);
                call.open(name, json, &self.core.tools, sink);
                self.state = State::Value(call);
                return Step::Advance(len);
            }
            Opened::Partial if eof.is_none() => {
                self.state = State::Closing { call, held };
                return Step::NeedMore;
            }
            Opened::Complete { .. } | Opened::Partial | Opened::No => {}
        }
        let ends = scan::starts_any(rest, &[self.dialect.invoke_close, self.dialect.section_close]);
        let next = self.dialect.invoke.open(rest);
        if matches!(ends, MatchAny::Yes(_)) || matches!(next, Opened::Complete { .. }) {
            call.args.close_value(sink);
            call.open = false;
            return match self.call_end(rest, call, sink) {
                Ok(step) => step,
                // Not reached (an end tag is at the front); between parameters is the safe reading.
                Err((call, _)) => {
                    self.state = State::Body(call);
                    Step::Advance(0)
                }
            };
        }
        if (matches!(ends, MatchAny::Partial) || matches!(next, Opened::Partial))
            && eof != Some(UpstreamFinish::Stop)
        {
            self.state = State::Closing { call, held };
            return if eof.is_none() { Step::NeedMore } else { Step::Advance(rest.len()) };
        }
        // Anything else: the `</parameter>` was data of the value.
        self.literal(call, &held, sink);
        Step::Advance(0)
    }
}

impl Call {
    fn new(index: usize, name: &str, dialect: &Dialect) -> Self {
        let args = XmlArgs::new(index, name.to_owned());
        let args = if dialect.unwrap_lone { args.unwrap_lone() } else { args };
        Self { args, in_section: false, fresh: false, open: false }
    }

    /// Opens value `key`; `json`: the markup says the value is JSON.
    fn open(&mut self, key: &str, json: bool, tools: &Tools, sink: &mut impl Sink) {
        self.args.open_as(key, tools, if json { JSON } else { Types::NONE }, sink);
        self.fresh = true;
        self.open = true;
    }

    /// The call's markup is complete: its last value and its arguments close.
    fn finish(&mut self, core: &mut Core, sink: &mut impl Sink) {
        if self.open {
            self.args.complete(core, sink);
        } else {
            self.args.complete_closed(core, sink);
        }
    }
}

impl Machine for Invoke {
    fn step(&mut self, rest: &str, eof: Eof, sink: &mut impl Sink) -> Step {
        match &mut self.state {
            State::Text => return self.step_text(rest, false, eof, sink),
            State::Think => return self.step_text(rest, true, eof, sink),
            State::Value(call) => {
                if call.fresh {
                    call.fresh = false;
                    if rest.starts_with('\n') {
                        return Step::Advance(1);
                    }
                }
                let lt = memchr(b'<', rest.as_bytes()).unwrap_or(rest.len());
                if lt > 0 {
                    call.args.text(&mut self.core.scratch, &rest[..lt], sink);
                    return Step::Advance(lt);
                }
            }
            _ => {}
        }
        match std::mem::take(&mut self.state) {
            State::Text | State::Think => unreachable!("handled in place above"),
            State::Section { held, from_think, fresh } => {
                self.step_section(rest, held, from_think, fresh, eof, sink)
            }
            State::Body(call) => self.step_body(rest, call, eof, sink),
            State::Value(call) => self.step_value(rest, call, eof, sink),
            State::Closing { call, held } => self.step_closing(rest, call, held, eof, sink),
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
            // A value never closed is not complete.
            State::Value(call) => call.args.truncate(&mut self.core, sink),
            State::Body(mut call) | State::Closing { mut call, .. } => {
                if stop {
                    // Only closers missing (rule 5).
                    self.core.repaired = true;
                    call.finish(&mut self.core, sink);
                } else {
                    call.args.truncate(&mut self.core, sink);
                }
            }
        }
    }

    fn core(&self) -> &Core {
        &self.core
    }
}
