//! Qwen3-Coder XML calls: `<function=NAME>`, `<parameter=KEY>VALUE</parameter>`.
//!
//! Values are raw text. Whether a `</parameter>` closes its value is decided structurally
//! (spec rule 2) from what follows it, so tool markup written *inside* a file the model
//! writes stays data. String values stream out as they arrive; other values are typed by
//! the schema once complete.

use memchr::memchr;

use super::{Qwen, State, Step};
use crate::toolcall::Format;
use crate::toolcall::auto::Switch;
use crate::toolcall::coerce::{coerce_into, key_prefix};
use crate::toolcall::event::{Event, Sink, UpstreamFinish};
use crate::toolcall::outcome::bump;
use crate::toolcall::scan::{self, MAX_HELD, MAX_NAME, Match, Tag};
use crate::toolcall::schema::Types;

/// A committed call and the value being read.
#[derive(Debug)]
pub(crate) struct CallCtx {
    index: usize,
    name: String,
    /// Opened by `<tool_call>` (not a bare `<function=…>`).
    wrapped: bool,
    /// Parameters seen so far (each may appear once).
    seen: Vec<String>,
    /// Whether `{` already went out.
    opened: bool,
    value: Value,
}

#[derive(Debug, Default)]
struct Value {
    types: Types,
    /// Pure string: streamed as it arrives. Otherwise buffered in `buf` and typed at the end.
    stream: bool,
    /// The one leading newline was looked at.
    started: bool,
    /// A trailing newline held back: dropped if the value ends here (rule 1).
    newline: bool,
    buf: String,
    /// Literal `<function=…>` / `<tool_call>` opened inside the value: their closers are
    /// literal too (rule 2).
    function_depth: u32,
    tool_call_depth: u32,
}

impl CallCtx {
    /// Whether the value's optional leading newline was already looked at.
    pub(crate) fn started(&self) -> bool {
        self.value.started
    }
}

/// Value text: a trailing newline is held back (rule 1: one is stripped at the end).
/// String values stream out at once (escaped through `scratch`); others are buffered.
pub(super) fn value_text(scratch: &mut String, ctx: &mut CallCtx, text: &str, sink: &mut impl Sink) {
    if text.is_empty() {
        return;
    }
    let (body, newline) = match text.strip_suffix('\n') {
        Some(body) => (body, true),
        None => (text, false),
    };
    let flush = std::mem::replace(&mut ctx.value.newline, newline);
    if ctx.value.stream {
        scratch.clear();
        if flush {
            scratch.push_str("\\n");
        }
        scan::escape_json_into(body, scratch);
        if !scratch.is_empty() {
            sink.event(Event::CallArgs { index: ctx.index, fragment: scratch });
        }
    } else {
        if flush {
            ctx.value.buf.push('\n');
        }
        ctx.value.buf.push_str(body);
    }
}

impl Qwen {
    pub(super) fn step_call_open(
        &mut self,
        rest: &str,
        mut held: String,
        from_think: bool,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let ws = scan::leading_ws(rest);
        if ws > 0 {
            held.push_str(&rest[..ws]);
            if held.len() > MAX_HELD {
                return self.revert(&held, from_think, sink);
            }
            self.state = State::CallOpen { held, from_think };
            return Step::Advance(ws);
        }
        if self.xml {
            match scan::named_tag(rest, "<function=") {
                Tag::Complete { name, len } => {
                    held.push_str(&rest[..len]);
                    self.state = State::FuncBody { held, name: name.to_owned(), wrapped: true, from_think };
                    return Step::Advance(len);
                }
                Tag::Partial => {
                    if let Some(step) = Self::undecided(eof, rest) {
                        if step == Step::NeedMore {
                            self.state = State::CallOpen { held, from_think };
                        } else {
                            self.state = if from_think { State::Think } else { State::Text };
                        }
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
                        self.state = State::CallOpen { held, from_think };
                        return Step::NeedMore;
                    }
                    // A name at the end of output: GLM-4.5's machine decides it.
                    held.push_str(rest);
                    self.switch = Some(Switch { family: Format::Glm45, replay: held, think: from_think });
                    return Step::Advance(rest.len());
                }
                let next = rest.as_bytes()[n];
                if next == b'<' || scan::leading_ws(&rest[n..]) > 0 {
                    held.push_str(&rest[..n]);
                    self.state = State::GlmNamed { held, from_think };
                    return Step::Advance(n);
                }
            }
        }
        if self.json && rest.starts_with('{') {
            self.state = State::Json(Box::new(super::hermes::Block::new(held, from_think)));
            return Step::Advance(0);
        }
        self.revert(&held, from_think, sink)
    }

    /// `auto`, after `<tool_call>NAME`: whitespace, then `<arg_key>` or `</tool_call>` make
    /// it GLM-4.5's call (its machine takes over and reads the `<tool_call>` again);
    /// anything else gives the would-be call up, as after `<tool_call>` with prose.
    pub(super) fn step_glm_named(
        &mut self,
        rest: &str,
        mut held: String,
        from_think: bool,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let ws = scan::leading_ws(rest);
        if ws > 0 {
            held.push_str(&rest[..ws]);
            if held.len() > MAX_HELD {
                return self.revert(&held, from_think, sink);
            }
            self.state = State::GlmNamed { held, from_think };
            return Step::Advance(ws);
        }
        let mut partial = false;
        for marker in ["<arg_key>", "</tool_call>"] {
            match scan::starts(rest, marker) {
                Match::Yes => {
                    self.switch = Some(Switch { family: Format::Glm45, replay: held, think: from_think });
                    return Step::Advance(0);
                }
                Match::Partial => partial = true,
                Match::No => {}
            }
        }
        if partial {
            if eof.is_none() {
                self.state = State::GlmNamed { held, from_think };
                return Step::NeedMore;
            }
            // A tag cut off by the end of output: GLM-4.5's machine decides it.
            held.push_str(rest);
            self.switch = Some(Switch { family: Format::Glm45, replay: held, think: from_think });
            return Step::Advance(rest.len());
        }
        self.revert(&held, from_think, sink)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn step_func_body(
        &mut self,
        rest: &str,
        mut held: String,
        name: String,
        wrapped: bool,
        from_think: bool,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let ws = scan::leading_ws(rest);
        if ws > 0 {
            held.push_str(&rest[..ws]);
            if held.len() > MAX_HELD {
                return self.revert(&held, from_think, sink);
            }
            self.state = State::FuncBody { held, name, wrapped, from_think };
            return Step::Advance(ws);
        }
        let mut partial = false;
        match scan::named_tag(rest, "<parameter=") {
            Tag::Complete { name: param, len } => {
                // First parameter: any identifier opens one (rule 8 keeps unknown ones).
                let index = self.commit(&name, from_think, sink);
                if !wrapped {
                    // Rule 4: the model dropped the opening `<tool_call>`.
                    self.repaired();
                }
                let mut ctx = Box::new(CallCtx {
                    index,
                    name,
                    wrapped,
                    seen: Vec::new(),
                    opened: false,
                    value: Value::default(),
                });
                self.open_value(&mut ctx, param, sink);
                self.state = State::Value(ctx);
                return Step::Advance(len);
            }
            Tag::Partial => partial = true,
            Tag::No => {}
        }
        for closer in ["</function>", "</tool_call>"] {
            match scan::starts(rest, closer) {
                Match::Yes => {
                    let index = self.commit(&name, from_think, sink);
                    Self::args(index, "{}", sink);
                    // A bare call (rule 4), or `</tool_call>` with no `</function>`.
                    if !wrapped || closer == "</tool_call>" {
                        self.repaired();
                    }
                    self.end(index, true, sink);
                    self.state = if closer == "</function>" { self.after_call(wrapped) } else { State::Text };
                    return Step::Advance(closer.len());
                }
                Match::Partial => partial = true,
                Match::No => {}
            }
        }
        if partial {
            match eof {
                None => {
                    self.state = State::FuncBody { held, name, wrapped, from_think };
                    return Step::NeedMore;
                }
                // A call cut off before it was one: neither a call nor content.
                Some(UpstreamFinish::Length) => return Step::Advance(rest.len()),
                Some(UpstreamFinish::Stop) => {}
            }
        }
        self.revert(&held, from_think, sink)
    }

    /// Opens parameter `param` of the call in `ctx`.
    fn open_value(&mut self, ctx: &mut CallCtx, param: &str, sink: &mut impl Sink) {
        let types = self.tools.get(&ctx.name).and_then(|t| t.param(param)).unwrap_or(Types::NONE);
        let stream = types.is_pure_string();
        ctx.seen.push(param.to_owned());
        ctx.value = Value { types, stream, ..Value::default() };
        ctx.value.buf.clear();
        if stream {
            let mut head = key_prefix(!ctx.opened, param);
            head.push('"');
            ctx.opened = true;
            Self::args(ctx.index, &head, sink);
        } else {
            // Typed later, but the key is remembered in `seen`.
        }
    }

    /// Whether `<parameter=param>` after a closing tag starts the next parameter (rule 2).
    fn is_next_param(&self, ctx: &CallCtx, param: &str) -> bool {
        if ctx.seen.iter().any(|s| s == param) {
            return false;
        }
        match self.tools.get(&ctx.name) {
            Some(tool) => tool.param(param).is_some(),
            None => true,
        }
    }

    pub(super) fn step_value(
        &mut self,
        rest: &str,
        mut ctx: Box<CallCtx>,
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        if !ctx.value.started {
            ctx.value.started = true;
            if rest.starts_with('\n') {
                self.state = State::Value(ctx);
                return Step::Advance(1);
            }
        }
        let lt = memchr(b'<', rest.as_bytes()).unwrap_or(rest.len());
        if lt > 0 {
            value_text(&mut self.scratch, &mut ctx, &rest[..lt], sink);
            self.state = State::Value(ctx);
            return Step::Advance(lt);
        }
        let v = &ctx.value;
        let line_start = v.newline;
        let top = v.function_depth == 0;
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
                Tag::Complete { name, len } if self.is_next_param(&ctx, name) => {
                    // Rule 3: the value's `</parameter>` is missing.
                    self.repaired();
                    Self::close_value(&mut ctx, sink);
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
                ctx.value.function_depth = ctx.value.function_depth.saturating_sub(1);
                return self.literal(ctx, "</function>", sink);
            }
            Match::Partial => partial = true,
            Match::No => {}
        }
        match scan::named_tag(rest, "<function=") {
            Tag::Complete { len, .. } => {
                ctx.value.function_depth += 1;
                return self.literal(ctx, &rest[..len], sink);
            }
            Tag::Partial => partial = true,
            Tag::No => {}
        }
        for (tag, open) in [("<tool_call>", true), ("</tool_call>", false)] {
            match scan::starts(rest, tag) {
                Match::Yes => {
                    let depth = &mut ctx.value.tool_call_depth;
                    *depth = if open { *depth + 1 } else { depth.saturating_sub(1) };
                    return self.literal(ctx, tag, sink);
                }
                Match::Partial => partial = true,
                Match::No => {}
            }
        }
        if partial && eof.is_none() {
            self.state = State::Value(ctx);
            return Step::NeedMore;
        }
        self.literal(ctx, "<", sink)
    }

    fn literal(&mut self, mut ctx: Box<CallCtx>, text: &str, sink: &mut impl Sink) -> Step {
        value_text(&mut self.scratch, &mut ctx, text, sink);
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
        eof: Option<UpstreamFinish>,
        sink: &mut impl Sink,
    ) -> Step {
        let ws = scan::leading_ws(rest);
        if ws > 0 {
            held.push_str(&rest[..ws]);
            newline |= rest[..ws].contains('\n');
            if held.len() <= MAX_HELD {
                self.state = State::Closing { ctx, held, newline, after_function };
                return Step::Advance(ws);
            }
            return self.reopen(ctx, &held, sink);
        }
        let top = ctx.value.function_depth == 0;
        let mut partial = false;
        if after_function {
            // A line-start `</function>` inside a value closes it only before another call
            // or the end of output (rule 3).
            for (tag, consume) in [("</tool_call>", true), ("<tool_call>", false), ("<function=", false)] {
                match scan::starts(rest, tag) {
                    Match::Yes => {
                        // Rule 3: the last value's `</parameter>` is missing.
                        self.repaired();
                        self.close_call(ctx, sink);
                        self.state = State::Text;
                        return Step::Advance(if consume { tag.len() } else { 0 });
                    }
                    Match::Partial => partial = true,
                    Match::No => {}
                }
            }
        } else {
            match scan::named_tag(rest, "<parameter=") {
                Tag::Complete { name, len } if newline && top && self.is_next_param(&ctx, name) => {
                    Self::close_value(&mut ctx, sink);
                    self.open_value(&mut ctx, name, sink);
                    self.state = State::Value(ctx);
                    return Step::Advance(len);
                }
                Tag::Partial => partial = true,
                Tag::Complete { .. } | Tag::No => {}
            }
            let calls_closed = top && ctx.value.tool_call_depth == 0;
            for (tag, structural) in [("</function>", top), ("</tool_call>", calls_closed)] {
                match scan::starts(rest, tag) {
                    Match::Yes if structural => {
                        let wrapped = ctx.wrapped;
                        if tag == "</tool_call>" {
                            // `</function>` is missing.
                            self.repaired();
                        }
                        self.close_call(ctx, sink);
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
        value_text(&mut self.scratch, &mut ctx, held, sink);
        self.state = State::Value(ctx);
        Step::Advance(0)
    }

    /// Ends the current value: the held trailing newline is dropped; a typed value goes out.
    fn close_value(ctx: &mut CallCtx, sink: &mut impl Sink) {
        let value = std::mem::take(&mut ctx.value);
        if value.stream {
            Self::args(ctx.index, "\"", sink);
        } else {
            let Some(key) = ctx.seen.last() else { return };
            let mut out = key_prefix(!ctx.opened, key);
            coerce_into(&value.buf, value.types, &mut out);
            ctx.opened = true;
            Self::args(ctx.index, &out, sink);
        }
    }

    /// The call is complete: its last value closes, then its arguments object.
    pub(super) fn close_call(&mut self, mut ctx: Box<CallCtx>, sink: &mut impl Sink) {
        Self::close_value(&mut ctx, sink);
        Self::args(ctx.index, "}", sink);
        self.end(ctx.index, true, sink);
    }

    /// Output ended inside the call: close the arguments so they parse, mark it not executable.
    pub(super) fn truncate(&mut self, ctx: &CallCtx, sink: &mut impl Sink) {
        let mut tail = String::new();
        if ctx.value.stream {
            tail.push('"');
        }
        tail.push_str(if ctx.opened || ctx.value.stream { "}" } else { "{}" });
        Self::args(ctx.index, &tail, sink);
        self.end(ctx.index, false, sink);
    }

    /// After a call's `</function>`. `owed`: a missing `</tool_call>` makes the (wrapped)
    /// call recovered; not when `length` cut the closer off.
    pub(super) fn step_after_call(&mut self, rest: &str, owed: bool, eof: Option<UpstreamFinish>) -> Step {
        let ws = scan::leading_ws(rest);
        if ws > 0 {
            self.state = State::AfterCall { owed };
            return Step::Advance(ws);
        }
        match scan::starts(rest, "</tool_call>") {
            Match::Yes => Step::Advance("</tool_call>".len()),
            Match::Partial if eof.is_none() => {
                self.state = State::AfterCall { owed };
                Step::NeedMore
            }
            // A call's closer cut off at the very end: never content.
            Match::Partial => {
                if owed && eof == Some(UpstreamFinish::Stop) {
                    bump(&mut self.outcomes.recovered);
                }
                Step::Advance(rest.len())
            }
            Match::No => {
                if owed {
                    bump(&mut self.outcomes.recovered);
                }
                Step::Advance(0)
            }
        }
    }
}
