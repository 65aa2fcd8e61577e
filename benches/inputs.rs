//! The engine's benchmark inputs, shared by the criterion bench (`toolcall.rs`) and the
//! instruction counter (`examples/toolcall_instructions.rs`): realistic `qwen3_coder` outputs,
//! and the same two outputs (a 1 MiB `write_file` call, 100 small `read_file` calls) written
//! in every format's own shape.
#![allow(dead_code, reason = "each including target uses a different part")]

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Arc;

use podctl::toolcall::{Engine, Event, Format, Reasoning, Sink, Tools, UpstreamFinish};

/// Counts what comes out without keeping it, so the engine is what gets measured.
#[derive(Default)]
pub(crate) struct Count(pub(crate) usize);

impl Sink for Count {
    fn event(&mut self, event: Event<'_>) {
        self.0 += match event {
            Event::Content(s) | Event::Reasoning(s) | Event::CallArgs { fragment: s, .. } => s.len(),
            Event::CallStart { .. } | Event::CallEnd { .. } | Event::CallTruncated { .. } => 1,
        };
    }
}

pub(crate) const CODE: &str = r#"    /// Returns the user's display name, or "anonymous" when none is set.
    pub fn display_name(&self) -> Cow<'_, str> {
        match &self.name {
            Some(name) if !name.trim().is_empty() => Cow::Borrowed(name.as_str()),
            _ => Cow::Owned(format!("anonymous-{}", self.id)),
        }
    }

    fn render(items: &[Item], out: &mut String) -> Result<(), Error> {
        for (i, item) in items.iter().enumerate() {
            if i > 0 && item.weight < 0.5 {
                writeln!(out, "<li class=\"light\">{}</li>", escape(&item.label))?;
            } else {
                writeln!(out, "<li>{}\t{}</li>", i, escape(&item.label))?;
            }
        }
        Ok(())
    }
"#;

pub(crate) const PROSE: &str = "The function walks the list once and keeps a running total. When the \
total exceeds the limit (n < max is checked first), it returns early with the index of the \
offending item; callers use Vec<usize> for the result. Nothing is allocated in the loop, and \
the error path is cold.\n\nIn short: the change is safe, and the tests cover both branches.\n";

pub(crate) fn repeat_to(unit: &str, size: usize) -> String {
    let mut out = String::with_capacity(size + unit.len());
    while out.len() < size {
        out.push_str(unit);
    }
    out
}

pub(crate) fn tools() -> Arc<Tools> {
    let tools = serde_json::json!([
        {"type": "function", "function": {"name": "write_file", "parameters": {"type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}}}}},
        {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object",
            "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}}}}}
    ]);
    Arc::new(Tools::from_openai(&tools).expect("valid tools"))
}

pub(crate) fn inputs() -> Vec<(&'static str, String)> {
    let mib = 1 << 20;
    let write_file = format!(
        "I'll write the file now.\n\n<tool_call>\n<function=write_file>\n<parameter=path>\nsrc/user.rs\n\
         </parameter>\n<parameter=content>\n{}\n</parameter>\n</function>\n</tool_call>",
        repeat_to(CODE, mib)
    );
    let mut small_calls = String::new();
    for i in 0..100 {
        let _ = write!(
            small_calls,
            "Reading file {i}.\n<tool_call>\n<function=read_file>\n<parameter=path>\nsrc/module_{i}/mod.rs\n\
             </parameter>\n<parameter=limit>\n{}\n</parameter>\n</function>\n</tool_call>\n",
            100 + i
        );
    }
    vec![
        ("write_file_1MiB", write_file),
        ("100_small_calls", small_calls),
        ("prose_1MiB", repeat_to(PROSE, mib)),
    ]
}

pub(crate) fn run(text_pieces: &[&str], tools: &Arc<Tools>) -> usize {
    run_as(Format::Qwen3Coder, text_pieces, tools)
}

pub(crate) fn run_as(format: Format, text_pieces: &[&str], tools: &Arc<Tools>) -> usize {
    let mut engine = Engine::new(format, Arc::clone(tools), Reasoning::Auto);
    let mut count = Count::default();
    for piece in text_pieces {
        engine.feed(black_box(piece), &mut count);
    }
    engine.finish(UpstreamFinish::Stop, &mut count);
    count.0
}

pub(crate) fn chunks(text: &str, n: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.char_indices().nth(n).map_or(rest.len(), |(i, _)| i);
        let (piece, tail) = rest.split_at(end);
        out.push(piece);
        rest = tail;
    }
    out
}

/// One call in `format`'s own shape; `args` are (key, value) pairs of strings.
pub(crate) fn call_in(format: Format, name: &str, index: usize, args: &[(&str, &str)]) -> String {
    let json = || {
        let map: serde_json::Map<String, serde_json::Value> =
            args.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned()))).collect();
        serde_json::Value::Object(map).to_string()
    };
    match format {
        // `vllm`: the text is content; the Qwen3-Coder markup is as good as any.
        Format::Qwen3Coder | Format::Auto | Format::None | Format::Vllm => {
            let mut s = format!("<tool_call>\n<function={name}>\n");
            for (k, v) in args {
                let _ = write!(s, "<parameter={k}>\n{v}\n</parameter>\n");
            }
            s + "</function>\n</tool_call>"
        }
        Format::Hermes => {
            format!("<tool_call>\n{{\"name\": \"{name}\", \"arguments\": {}}}\n</tool_call>", json())
        }
        Format::Llama3Json => format!("{{\"name\": \"{name}\", \"parameters\": {}}}", json()),
        Format::Mistral => format!("[TOOL_CALLS]{name}[ARGS]{}", json()),
        Format::DeepseekV3 => format!(
            "<｜tool▁call▁begin｜>function<｜tool▁sep｜>{name}\n```json\n{}\n```<｜tool▁call▁end｜>",
            json()
        ),
        Format::DeepseekV31 => {
            format!("<｜tool▁call▁begin｜>{name}<｜tool▁sep｜>{}<｜tool▁call▁end｜>", json())
        }
        Format::KimiK2 => format!(
            "<|tool_call_begin|>functions.{name}:{index}<|tool_call_argument_begin|>{}<|tool_call_end|>",
            json()
        ),
        Format::Glm45 | Format::Glm47 => {
            let mut s = format!("<tool_call>{name}\n");
            for (k, v) in args {
                let _ = write!(s, "<arg_key>{k}</arg_key>\n<arg_value>{v}</arg_value>\n");
            }
            s + "</tool_call>"
        }
        Format::SeedOss => {
            let mut s = format!("<seed:tool_call>\n<function={name}>\n");
            for (k, v) in args {
                let _ = writeln!(s, "<parameter={k}>{v}</parameter>");
            }
            s + "</function>\n</seed:tool_call>"
        }
        Format::MinimaxM2 | Format::DeepseekV32 | Format::DeepseekV4 => {
            // The invokes of one wrapper (`output_in` adds it).
            let p = if format == Format::MinimaxM2 { "" } else { "｜DSML｜" };
            let string = if format == Format::MinimaxM2 { "" } else { " string=\"true\"" };
            let mut s = format!("<{p}invoke name=\"{name}\">\n");
            for (k, v) in args {
                let _ = writeln!(s, "<{p}parameter name=\"{k}\"{string}>{v}</{p}parameter>");
            }
            s + &format!("</{p}invoke>\n")
        }
        Format::KimiK3 => {
            let mut s = format!("<|open|>call tool=\"{name}\" index=\"{}\"<|sep|>", index + 1);
            for (k, v) in args {
                let _ = write!(
                    s,
                    "<|open|>argument key=\"{k}\" type=\"string\"<|sep|>{v}<|close|>argument<|sep|>"
                );
            }
            s + "<|close|>call<|sep|>"
        }
        Format::Gemma4 => {
            let body: Vec<String> = args.iter().map(|(k, v)| format!("{k}:<|\"|>{v}<|\"|>")).collect();
            format!("<|tool_call>call:{name}{{{}}}<tool_call|>", body.join(","))
        }
    }
}

/// A whole output holding `calls` in `format`'s own shape, as its models write them.
pub(crate) fn output_in(format: Format, calls: &[String]) -> String {
    match format {
        Format::Llama3Json => format!("<|python_tag|>{}", calls.join("; ")),
        Format::DeepseekV3 | Format::DeepseekV31 => {
            format!("I'll do that.\n\n<｜tool▁calls▁begin｜>{}<｜tool▁calls▁end｜>", calls.concat())
        }
        Format::KimiK2 => {
            format!("I'll do that.<|tool_calls_section_begin|>{}<|tool_calls_section_end|>", calls.concat())
        }
        Format::Mistral => format!("I'll do that.\n{}", calls.concat()),
        Format::MinimaxM2 => {
            format!("I'll do that.\n<minimax:tool_call>\n{}</minimax:tool_call>", calls.concat())
        }
        Format::DeepseekV32 => {
            format!("I'll do that.\n\n<｜DSML｜function_calls>\n{}</｜DSML｜function_calls>", calls.concat())
        }
        Format::DeepseekV4 => {
            format!("I'll do that.\n\n<｜DSML｜tool_calls>\n{}</｜DSML｜tool_calls>", calls.concat())
        }
        Format::KimiK3 => format!(
            "I'll do that.<|close|>response<|sep|><|open|>tools<|sep|>{}<|close|>tools<|sep|>",
            calls.concat()
        ),
        _ => format!("I'll do that.\n\n{}", calls.join("\n")),
    }
}

/// A format's two outputs: the 1 MiB `write_file` call and 100 small calls, each with the
/// number of calls it holds.
pub(crate) fn format_inputs(format: Format) -> [(&'static str, String, usize); 2] {
    let code = repeat_to(CODE, 1 << 20);
    let big = output_in(
        format,
        &[call_in(format, "write_file", 0, &[("path", "src/user.rs"), ("content", &code)])],
    );
    let small: Vec<String> = (0..100)
        .map(|i| {
            call_in(
                format,
                "read_file",
                i,
                &[("path", &format!("src/module_{i}/mod.rs")), ("limit", &(100 + i).to_string())],
            )
        })
        .collect();
    [("write_file_1MiB", big, 1), ("100_small_calls", output_in(format, &small), 100)]
}
