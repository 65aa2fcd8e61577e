//! The arguments object of an XML-style call, written while its values arrive: Qwen3-Coder's
//! `<parameter=KEY>VALUE</parameter>` and GLM's `<arg_key>KEY</arg_key><arg_value>VALUE</arg_value>`.
//!
//! Values are raw text. A value whose schema type is a plain string streams out as it
//! arrives (JSON-escaped); any other value is held and typed by the schema once it ends
//! (`coerce`). Keys go out with their value, so the pieces of one call always concatenate
//! to one JSON object, and a call cut off by the end of output is closed so it parses.
//! Which markup closes a value is the format's to decide; this file only writes.

use super::coerce::{coerce_into, key_prefix};
use super::core::Core;
use super::event::Sink;
use super::schema::Types;
use super::tools::Tools;

/// A committed call's arguments and the value being read. `STRIP_NEWLINE`: Qwen3-Coder's
/// rule 1 (the template pads values with newlines, so a value's trailing newline is held back
/// and dropped if the value ends there); a parameter of the type, so each format's value
/// text is compiled without the other's branch.
#[derive(Debug)]
pub(crate) struct XmlArgs<const STRIP_NEWLINE: bool> {
    pub(crate) index: usize,
    pub(crate) name: String,
    /// Keys seen so far (each may appear once).
    seen: Vec<String>,
    /// Whether `{` already went out.
    opened: bool,
    /// The current value's types; a pure string streams, others are buffered in `buf`.
    types: Types,
    stream: bool,
    buf: String,
    /// A trailing newline is held back.
    newline: bool,
    /// DSML's rule ([`XmlArgs::unwrap_lone`]): a lone `arguments`/`input` value that holds
    /// the real object is the arguments.
    unwrap_lone: bool,
    /// The value open may be that wrapper (the first key, one the tool does not declare).
    candidate: bool,
    /// The wrapper's object, held until the call shows whether another key follows.
    lone: Option<String>,
}

impl<const STRIP_NEWLINE: bool> XmlArgs<STRIP_NEWLINE> {
    /// Call `index` to tool `name`, with no value open yet.
    pub(crate) fn new(index: usize, name: String) -> Self {
        Self {
            index,
            name,
            seen: Vec::new(),
            opened: false,
            types: Types::NONE,
            stream: false,
            buf: String::new(),
            newline: false,
            unwrap_lone: false,
            candidate: false,
            lone: None,
        }
    }

    /// vLLM's DeepSeek DSML parsers unwrap a call whose only parameter is `arguments` or
    /// `input` holding a JSON object, when the tool's schema has no such key: the object is
    /// the call's arguments (as the model wrote it). Decided when the call ends; another key
    /// after it makes it an ordinary value.
    #[must_use]
    pub(crate) fn unwrap_lone(mut self) -> Self {
        self.unwrap_lone = true;
        self
    }

    /// The held wrapper goes out as the ordinary first value it turned out to be.
    fn release_lone(&mut self, sink: &mut impl Sink) {
        if let (Some(value), Some(key)) = (self.lone.take(), self.seen.first()) {
            let mut out = key_prefix(true, key);
            out.push_str(&value);
            self.opened = true;
            Core::args(self.index, &out, sink);
        }
    }

    /// Whether the value text seen last ended with a newline (held back): markup that
    /// follows starts a line.
    pub(crate) fn held_newline(&self) -> bool {
        self.newline
    }

    /// Opens value `key`: a string value's key goes out at once, any other's with it.
    pub(crate) fn open(&mut self, key: &str, tools: &Tools, sink: &mut impl Sink) {
        self.open_as(key, tools, Types::NONE, sink);
    }

    /// Opens value `key`, typed as `undeclared` when the schema does not declare it (a
    /// format whose markup says a value is JSON, such as DSML's `string="false"`).
    pub(crate) fn open_as(&mut self, key: &str, tools: &Tools, undeclared: Types, sink: &mut impl Sink) {
        self.release_lone(sink);
        let tool = tools.get(&self.name);
        let types = tool.and_then(|t| t.param(key)).unwrap_or(undeclared);
        self.candidate = self.unwrap_lone
            && self.seen.is_empty()
            && matches!(key, "arguments" | "input")
            && tool.is_some_and(|t| t.param(key).is_none());
        self.types = types;
        self.stream = types.is_pure_string() && !self.candidate;
        self.newline = false;
        self.buf.clear();
        self.seen.push(key.to_owned());
        if self.stream {
            let mut head = key_prefix(!self.opened, key);
            head.push('"');
            self.opened = true;
            Core::args(self.index, &head, sink);
        }
    }

    /// Value text: a string value streams out at once (escaped through `scratch`); others
    /// are buffered until the value ends.
    #[allow(
        clippy::inline_always,
        reason = "runs for every piece of a streamed value; not inlined by the heuristics, it cost GLM-4.5 4% more instructions (callgrind)"
    )]
    #[inline(always)]
    pub(crate) fn text(&mut self, scratch: &mut String, text: &str, sink: &mut impl Sink) {
        if text.is_empty() {
            return;
        }
        let (body, flush) = if STRIP_NEWLINE {
            let (body, newline) = match text.strip_suffix('\n') {
                Some(body) => (body, true),
                None => (text, false),
            };
            (body, std::mem::replace(&mut self.newline, newline))
        } else {
            (text, false)
        };
        if self.stream {
            scratch.clear();
            if flush {
                scratch.push_str("\\n");
            }
            crate::json_escape::push_json_escaped(scratch, body);
            if !scratch.is_empty() {
                Core::args(self.index, scratch, sink);
            }
        } else {
            if flush {
                self.buf.push('\n');
            }
            self.buf.push_str(body);
        }
    }

    /// Ends the current value (a held newline is dropped); a typed value goes out.
    pub(crate) fn close_value(&mut self, sink: &mut impl Sink) {
        if self.stream {
            Core::args(self.index, "\"", sink);
        } else if let Some(key) = self.seen.last() {
            let wrapped =
                self.candidate.then(|| serde_json::from_str::<serde_json::Value>(self.buf.trim()).ok());
            if let Some(Some(object @ serde_json::Value::Object(_))) = wrapped {
                self.lone = Some(object.to_string());
            } else {
                let mut out = key_prefix(!self.opened, key);
                coerce_into(&self.buf, self.types, &mut out);
                self.opened = true;
                Core::args(self.index, &out, sink);
            }
        }
        self.candidate = false;
        self.types = Types::NONE;
        self.stream = false;
        self.newline = false;
        self.buf.clear();
    }

    /// Whether `key` after a value's closing markup starts the next value: a key not seen
    /// yet that the tool declares (any key when the tool is not declared).
    pub(crate) fn is_next(&self, key: &str, tools: &Tools) -> bool {
        if self.seen.iter().any(|s| s == key) {
            return false;
        }
        match tools.get(&self.name) {
            Some(tool) => tool.param(key).is_some(),
            None => true,
        }
    }

    /// Whether `<parameter=KEY>` after a value's `</parameter>` opens the next value
    /// (Qwen3-Coder's rule 2 as podctl reads it). `newline`: a newline separates the two
    /// tags; `adjacent`: nothing does (`</parameter><parameter=b>`, the inline shape).
    /// * A key of the tool's schema not seen yet: when newline or adjacent (spaces alone
    ///   leave it data, as in prose that mentions the tags).
    /// * A key the schema does not declare, not seen yet: only on a new line, and only while
    ///   a declared key is still unseen (the model put an undeclared parameter between
    ///   declared ones); once every declared key was seen it is data of the value, so the
    ///   last value (the file being written) keeps any markup it holds.
    /// * Any key not seen yet when the tool is not declared (no schema to decide by).
    pub(crate) fn opens_next(&self, key: &str, tools: &Tools, newline: bool, adjacent: bool) -> bool {
        let seen = |k: &str| self.seen.iter().any(|s| s == k);
        if seen(key) || !(newline || adjacent) {
            return false;
        }
        match tools.get(&self.name) {
            None => true,
            Some(tool) if tool.param(key).is_some() => true,
            Some(tool) => newline && tool.params().any(|p| !seen(p)),
        }
    }

    /// The call is complete: its last value closes, then its arguments object.
    pub(crate) fn complete(&mut self, core: &mut Core, sink: &mut impl Sink) {
        self.close_value(sink);
        match self.lone.take() {
            Some(object) => Core::args(self.index, &object, sink),
            None => Core::args(self.index, "}", sink),
        }
        core.end(self.index, true, sink);
    }

    /// The call is complete with no value open (each was closed, or none was opened): its
    /// arguments object closes.
    pub(crate) fn complete_closed(&mut self, core: &mut Core, sink: &mut impl Sink) {
        match self.lone.take() {
            Some(object) => Core::args(self.index, &object, sink),
            None => Core::args(self.index, if self.opened { "}" } else { "{}" }, sink),
        }
        core.end(self.index, true, sink);
    }

    /// Output ended inside the call: the arguments are closed so they parse, and the call
    /// is marked not executable.
    pub(crate) fn truncate(&self, core: &mut Core, sink: &mut impl Sink) {
        let mut tail = String::new();
        if self.stream {
            tail.push('"');
        }
        match &self.lone {
            // The held wrapper is a whole object; the call is not executable all the same.
            Some(object) if !self.stream && !self.opened => tail.push_str(object),
            _ => tail.push_str(if self.opened || self.stream { "}" } else { "{}" }),
        }
        Core::args(self.index, &tail, sink);
        core.end(self.index, false, sink);
    }
}
