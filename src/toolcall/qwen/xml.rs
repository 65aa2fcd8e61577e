//! Qwen3-Coder XML calls: `<function=NAME>`, `<parameter=KEY>VALUE</parameter>`.
//!
//! Values are raw text. Whether a `</parameter>` closes its value is decided structurally
//! (spec rule 2) from what follows it, so tool markup written *inside* a file the model
//! writes stays data. String values stream out as they arrive; other values are typed by
//! the schema once complete.
//!
//! The rule, in the spec's words (`XmlArgs::opens_next`): a `</parameter>` closes the value
//! only if what follows (after whitespace) is `</function>`, `</tool_call>`, the end of
//! output, or `<parameter=NAME>` where
//! * NAME is a declared parameter of this function not seen yet, and the two tags are
//!   separated by a newline or by nothing at all (`</parameter><parameter=b>`: the inline
//!   shape real models write; spaces alone leave both tags text, as in prose about them);
//! * or NAME is not declared, not seen yet, on a new line, and some declared parameter of
//!   the function is still unseen (an undeclared parameter between declared ones, kept as
//!   a string by rule 8). Once every declared parameter was seen, an undeclared one is data:
//!   the value being written last (typically the file's content) keeps any markup it holds;
//! * or the function is not declared and NAME was not seen yet.
//!
//! Otherwise the `</parameter>` is text of the value. vLLM splits at every
//! `</parameter>`; podctl gives up only the ambiguous middle: an undeclared tag inline, or
//! after every declared parameter, stays in the value.

use memchr::memchr;

use super::{Qwen, State};
use crate::toolcall::core::Attempt;
use crate::toolcall::event::{Sink, UpstreamFinish};
use crate::toolcall::machine::{Eof, Step, Switch, undecided};
use crate::toolcall::outcome::bump;
use crate::toolcall::scan::{self, Held, MAX_NAME, Match, MatchAny, Tag};
use crate::toolcall::xml_args::XmlArgs;

/// A committed call and what the value being read has seen.
#[derive(Debug)]
pub(super) struct CallCtx {
    pub(super) args: XmlArgs<true>,
    /// Opened by `<tool_call>` (not a bare `<function=…>`).
    wrapped: bool,
    /// The value's one optional leading newline was looked at.
    pub(super) started: bool,
    /// Literal `<function=…>` / `<tool_call>` opened inside the value: their closers are
    /// literal too (rule 2).
    function_depth: u32,
    tool_call_depth: u32,
}

impl Qwen {
    /// After `<tool_call>`: `<function=` (XML), `{` (JSON) or, for `auto`, a name (GLM-4.5).
    pub(super) fn step_open(&mut self, rest: &str, mut at: Attempt, eof: Eof, sink: &mut impl Sink) -> Step {
        match at.hold_ws(rest) {
            Held::Took(ws) => {
                self.state = State::CallOpen(at);
                return Step::Advance(ws);
            }
            Held::Over => return self.revert(&at, sink),
            Held::None => {}
        }
        if self.xml {
            match scan::named_tag(rest, "<function=") {
                Tag::Complete { name, len } => {
                    at.held.push_str(&rest[..len]);
                    self.state = State::FuncBody { attempt: at, name: name.to_owned(), wrapped: true };
                    return Step::Advance(len);
                }
                Tag::Partial => {
                    if let Some(step) = undecided(eof, rest) {
                        self.state = if step == Step::NeedMore {
                            State::CallOpen(at)
                        } else {
                            State::channel(at.from_think)
                        };
                        return step;
                    }
                }
                Tag::No => {}
            }
        }
        if self.detecting() && rest.as_bytes().first().is_some_and(|&b| scan::is_name_byte(b)) {
            // `auto`: a name after `<tool_call>` may be GLM-4.5's call shape.
            let n = rest.bytes().take(MAX_NAME + 1).take_while(|&b| scan::is_name_byte(b)).count();
            if n <= MAX_NAME {
                if n == rest.len() {
                    if eof.is_none() {
                        // The name may go on.
                        self.state = State::CallOpen(at);
                        return Step::NeedMore;
                    }
                    // A name at the end of output: GLM-4.5's machine decides it.
                    at.held.push_str(rest);
                    self.switch = Some(Switch::to_glm45(at));
                    return Step::Advance(rest.len());
                }
                let next = rest.as_bytes()[n];
                if next == b'<' || scan::leading_ws(&rest[n..]) > 0 {
                    at.held.push_str(&rest[..n]);
                    self.state = State::GlmNamed(at);
                    return Step::Advance(n);
                }
            }
        }
        if self.json && rest.starts_with('{') {
            self.state = State::Json(Box::new(super::hermes::Block::new(at)));
            return Step::Advance(0);
        }
        self.revert(&at, sink)
    }

    /// `auto`, after `<tool_call>NAME`: whitespace, then `<arg_key>` or `</tool_call>` make
    /// it GLM-4.5's call (its machine takes over and reads the `<tool_call>` again);
    /// anything else gives the would-be call up, as after `<tool_call>` with prose.
    pub(super) fn step_named(&mut self, rest: &str, mut at: Attempt, eof: Eof, sink: &mut impl Sink) -> Step {
        match at.hold_ws(rest) {
            Held::Took(ws) => {
                self.state = State::GlmNamed(at);
                return Step::Advance(ws);
            }
            Held::Over => return self.revert(&at, sink),
            Held::None => {}
        }
        match scan::starts_any(rest, &["<arg_key>", self.tags.close]) {
            MatchAny::Yes(_) => {
                self.switch = Some(Switch::to_glm45(at));
                Step::Advance(0)
            }
            MatchAny::Partial if eof.is_none() => {
                self.state = State::GlmNamed(at);
                Step::NeedMore
            }
            MatchAny::Partial => {
                // A tag cut off by the end of output: GLM-4.5's machine decides it.
                at.held.push_str(rest);
                self.switch = Some(Switch::to_glm45(at));
                Step::Advance(rest.len())
            }
            MatchAny::No => self.revert(&at, sink),
        }
    }

    pub(super) fn step_func_body(
        &mut self,
        rest: &str,
        mut attempt: Attempt,
        name: String,
        wrapped: bool,
        eof: Eof,
        sink: &mut impl Sink,
    ) -> Step {
        match attempt.hold_ws(rest) {
            Held::Took(ws) => {
                self.state = State::FuncBody { attempt, name, wrapped };
                return Step::Advance(ws);
            }
            Held::Over => return self.revert(&attempt, sink),
            Held::None => {}
        }
        let from_think = attempt.from_think;
        let mut partial = false;
        match scan::named_tag(rest, "<parameter=") {
            Tag::Complete { name: param, len } => {
                // First parameter: any identifier opens one (rule 8 keeps unknown ones).
                let index = self.core.commit(&name, None, from_think, sink);
                if !wrapped {
                    // Rule 4: the model dropped the opening `<tool_call>`.
                    self.core.repaired = true;
                }
                let mut ctx = Box::new(CallCtx {
                    args: XmlArgs::new(index, name),
                    wrapped,
                    started: false,
                    function_depth: 0,
                    tool_call_depth: 0,
                });
                self.open_value(&mut ctx, param, sink);
                self.state = State::Value(ctx);
                return Step::Advance(len);
            }
            Tag::Partial => partial = true,
            Tag::No => {}
        }
        match scan::starts_any(rest, &["</function>", self.tags.close]) {
            MatchAny::Yes(closer) => {
                // A bare call (rule 4), or `</tool_call>` with no `</function>`.
                let repaired = !wrapped || closer == self.tags.close;
                self.core.whole_call(&name, None, "{}", from_think, repaired, sink);
                self.state = if closer == "</function>" { self.after_call(wrapped) } else { State::Text };
                return Step::Advance(closer.len());
            }
            MatchAny::Partial => partial = true,
            MatchAny::No => {}
        }
        if partial {
            match eof {
                None => {
                    self.state = State::FuncBody { attempt, name, wrapped };
                    return Step::NeedMore;
                }
                // A call cut off before it was one: neither a call nor content.
                Some(UpstreamFinish::Length) => return Step::Advance(rest.len()),
                Some(UpstreamFinish::Stop) => {}
            }
        }
        self.revert(&attempt, sink)
    }

    /// Opens parameter `param` of the call in `ctx`.
    fn open_value(&self, ctx: &mut CallCtx, param: &str, sink: &mut impl Sink) {
        ctx.args.open(param, &self.core.tools, sink);
        ctx.started = false;
        ctx.function_depth = 0;
        ctx.tool_call_depth = 0;
    }

    pub(super) fn step_value(
        &mut self,
        rest: &str,
        mut ctx: Box<CallCtx>,
        eof: Eof,
        sink: &mut impl Sink,
    ) -> Step {
        if !ctx.started {
            ctx.started = true;
            if rest.starts_with('\n') {
                self.state = State::Value(ctx);
                return Step::Advance(1);
            }
        }
        let lt = memchr(b'<', rest.as_bytes()).unwrap_or(rest.len());
        if lt > 0 {
            ctx.args.text(&mut self.core.scratch, &rest[..lt], sink);
            self.state = State::Value(ctx);
            return Step::Advance(lt);
        }
        let line_start = ctx.args.held_newline();
        let top = ctx.function_depth == 0;
        let mut partial = false;
        // `</parameter>`: decided by what follows.
        match scan::starts(rest, "</parameter>") {
            Match::Yes => {
                self.state = State::Closing {
                    ctx,
                    held: "</parameter>".to_owned(),
                    newline: false,
                    after_function: false,
                };
                return Step::Advance("</parameter>".len());
            }
            Match::Partial => partial = true,
            Match::No => {}
        }
        // Rule 3: a missing `</parameter>` before the next known parameter.
        if line_start && top {
            match scan::named_tag(rest, "<parameter=") {
                Tag::Complete { name, len } if ctx.args.is_next(name, &self.core.tools) => {
                    // Rule 3: the value's `</parameter>` is missing.
                    self.core.repaired = true;
                    ctx.args.close_value(sink);
                    self.open_value(&mut ctx, name, sink);
                    self.state = State::Value(ctx);
                    return Step::Advance(len);
                }
                Tag::Partial => partial = true,
                Tag::Complete { .. } | Tag::No => {}
            }
        }
        match scan::starts(rest, "</function>") {
            Match::Yes if top && line_start => {
                self.state = State::Closing {
                    ctx,
                    held: "</function>".to_owned(),
                    newline: true,
                    after_function: true,
                };
                return Step::Advance("</function>".len());
            }
            Match::Yes => {
                ctx.function_depth = ctx.function_depth.saturating_sub(1);
                return self.literal(ctx, "</function>", sink);
            }
            Match::Partial => partial = true,
            Match::No => {}
        }
        match scan::named_tag(rest, "<function=") {
            Tag::Complete { len, .. } => {
                ctx.function_depth += 1;
                return self.literal(ctx, &rest[..len], sink);
            }
            Tag::Partial => partial = true,
            Tag::No => {}
        }
        match scan::starts_any(rest, &[self.tags.open, self.tags.close]) {
            MatchAny::Yes(tag) => {
                let depth = &mut ctx.tool_call_depth;
                *depth = if tag == self.tags.open { *depth + 1 } else { depth.saturating_sub(1) };
                return self.literal(ctx, tag, sink);
            }
            MatchAny::Partial => partial = true,
            MatchAny::No => {}
        }
        if partial && eof.is_none() {
            self.state = State::Value(ctx);
            return Step::NeedMore;
        }
        self.literal(ctx, "<", sink)
    }

    fn literal(&mut self, mut ctx: Box<CallCtx>, text: &str, sink: &mut impl Sink) -> Step {
        ctx.args.text(&mut self.core.scratch, text, sink);
        self.state = State::Value(ctx);
        Step::Advance(text.len())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn step_closing(
        &mut self,
        rest: &str,
        mut ctx: Box<CallCtx>,
        mut held: String,
        mut newline: bool,
        after_function: bool,
        eof: Eof,
        sink: &mut impl Sink,
    ) -> Step {
        match scan::hold_ws(&mut held, rest) {
            Held::Took(ws) => {
                newline |= rest[..ws].contains('\n');
                self.state = State::Closing { ctx, held, newline, after_function };
                return Step::Advance(ws);
            }
            Held::Over => return self.reopen(ctx, &held, sink),
            Held::None => {}
        }
        let top = ctx.function_depth == 0;
        // Nothing between `</parameter>` and what follows: the inline shape.
        let adjacent = held == "</parameter>";
        let mut partial = false;
        if after_function {
            // A line-start `</function>` inside a value closes it only before another call
            // or the end of output (rule 3).
            match scan::starts_any(rest, &[self.tags.close, self.tags.open, "<function="]) {
                MatchAny::Yes(tag) => {
                    // Rule 3: the last value's `</parameter>` is missing.
                    self.core.repaired = true;
                    ctx.args.complete(&mut self.core, sink);
                    self.state = State::Text;
                    return Step::Advance(if tag == self.tags.close { tag.len() } else { 0 });
                }
                MatchAny::Partial => partial = true,
                MatchAny::No => {}
            }
        } else {
            match scan::named_tag(rest, "<parameter=") {
                Tag::Complete { name, len }
                    if top && ctx.args.opens_next(name, &self.core.tools, newline, adjacent) =>
                {
                    ctx.args.close_value(sink);
                    self.open_value(&mut ctx, name, sink);
                    self.state = State::Value(ctx);
                    return Step::Advance(len);
                }
                Tag::Partial => partial = true,
                Tag::Complete { .. } | Tag::No => {}
            }
            let calls_closed = top && ctx.tool_call_depth == 0;
            for (tag, structural) in [("</function>", top), (self.tags.close, calls_closed)] {
                match scan::starts(rest, tag) {
                    Match::Yes if structural => {
                        let wrapped = ctx.wrapped;
                        if tag == self.tags.close {
                            // `</function>` is missing.
                            self.core.repaired = true;
                        }
                        ctx.args.complete(&mut self.core, sink);
                        self.state =
                            if tag == "</function>" { self.after_call(wrapped) } else { State::Text };
                        return Step::Advance(tag.len());
                    }
                    Match::Partial => partial = true,
                    Match::Yes | Match::No => {}
                }
            }
        }
        if partial && eof.is_none() {
            self.state = State::Closing { ctx, held, newline, after_function };
            return Step::NeedMore;
        }
        self.reopen(ctx, &held, sink)
    }

    /// The closing tag was data after all: it and the whitespace after it join the value.
    fn reopen(&mut self, mut ctx: Box<CallCtx>, held: &str, sink: &mut impl Sink) -> Step {
        ctx.args.text(&mut self.core.scratch, held, sink);
        self.state = State::Value(ctx);
        Step::Advance(0)
    }

    /// After a call's `</function>`. `owed`: a missing `</tool_call>` makes the (wrapped)
    /// call recovered; not when `length` cut the closer off.
    pub(super) fn step_after_call(&mut self, rest: &str, owed: bool, eof: Eof) -> Step {
        let ws = scan::leading_ws(rest);
        if ws > 0 {
            self.state = State::AfterCall { owed };
            return Step::Advance(ws);
        }
        match scan::starts(rest, self.tags.close) {
            Match::Yes => Step::Advance(self.tags.close.len()),
            Match::Partial if eof.is_none() => {
                self.state = State::AfterCall { owed };
                Step::NeedMore
            }
            // A call's closer cut off at the very end: never content.
            Match::Partial => {
                if owed && eof == Some(UpstreamFinish::Stop) {
                    bump(&mut self.core.outcomes.recovered);
                }
                Step::Advance(rest.len())
            }
            Match::No => {
                if owed {
                    bump(&mut self.core.outcomes.recovered);
                }
                Step::Advance(0)
            }
        }
    }
}
