//! Throughput of the tool-call engine on realistic outputs, fed whole and in 1-character
//! chunks (the worst streaming case) and 4-character chunks (about one token each); then
//! every format on the same two outputs written its own way (`formats` group).
//!
//! Run: `cargo bench --bench toolcall` (`-- formats` for the per-format group only).
//! Results are recorded in BENCHMARKS.md.

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use podctl::toolcall::{Engine, Event, Format, Reasoning, Sink, Tools, UpstreamFinish};

/// Counts what comes out without keeping it, so the engine is what gets measured.
#[derive(Default)]
struct Count(usize);

impl Sink for Count {
    fn event(&mut self, event: Event<'_>) {
        self.0 += match event {
            Event::Content(s) | Event::Reasoning(s) | Event::CallArgs { fragment: s, .. } => s.len(),
            Event::CallStart { .. } | Event::CallEnd { .. } | Event::CallTruncated { .. } => 1,
        };
    }
}

const CODE: &str = r#"    /// Returns the user's display name, or "anonymous" when none is set.
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

const PROSE: &str = "The function walks the list once and keeps a running total. When the \
total exceeds the limit (n < max is checked first), it returns early with the index of the \
offending item; callers use Vec<usize> for the result. Nothing is allocated in the loop, and \
the error path is cold.\n\nIn short: the change is safe, and the tests cover both branches.\n";

fn repeat_to(unit: &str, size: usize) -> String {
    let mut out = String::with_capacity(size + unit.len());
    while out.len() < size {
        out.push_str(unit);
    }
    out
}

fn tools() -> Arc<Tools> {
    let tools = serde_json::json!([
        {"type": "function", "function": {"name": "write_file", "parameters": {"type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}}}}},
        {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object",
            "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}}}}}
    ]);
    Arc::new(Tools::from_openai(&tools).expect("valid tools"))
}

fn inputs() -> Vec<(&'static str, String)> {
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

fn run(text_pieces: &[&str], tools: &Arc<Tools>) -> usize {
    run_as(Format::Qwen3Coder, text_pieces, tools)
}

fn run_as(format: Format, text_pieces: &[&str], tools: &Arc<Tools>) -> usize {
    let mut engine = Engine::new(format, Arc::clone(tools), Reasoning::Auto);
    let mut count = Count::default();
    for piece in text_pieces {
        engine.feed(black_box(piece), &mut count);
    }
    engine.finish(UpstreamFinish::Stop, &mut count);
    count.0
}

fn chunks(text: &str, n: usize) -> Vec<&str> {
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

fn engine(c: &mut Criterion) {
    let tools = tools();
    let mut group = c.benchmark_group("toolcall");
    group.sample_size(20);
    for (name, text) in inputs() {
        group.throughput(Throughput::Bytes(text.len() as u64));
        for (mode, pieces) in
            [("whole", vec![text.as_str()]), ("chunk4", chunks(&text, 4)), ("chunk1", chunks(&text, 1))]
        {
            group.bench_with_input(BenchmarkId::new(name, mode), &pieces, |b, pieces| {
                b.iter(|| run(pieces, &tools));
            });
        }
    }
    group.finish();
}

/// Linear time: fed one character at a time, the cost per byte must not grow with the
/// output (a re-scan of held text per delta would make it grow with the size).
fn linearity(c: &mut Criterion) {
    let tools = tools();
    let mut group = c.benchmark_group("linearity");
    group.sample_size(10);
    for size in [64 << 10, 256 << 10, 1 << 20] {
        let text = format!(
            "<tool_call>\n<function=write_file>\n<parameter=path>\na.rs\n</parameter>\n<parameter=content>\n{}\n</parameter>\n</function>\n</tool_call>",
            repeat_to(CODE, size)
        );
        let pieces = chunks(&text, 1);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("write_file_chunk1", size >> 10), &pieces, |b, pieces| {
            b.iter(|| run(pieces, &tools));
        });
    }
    group.finish();
}

/// One call in `format`'s own shape; `args` are (key, value) pairs of strings.
fn call_in(format: Format, name: &str, index: usize, args: &[(&str, &str)]) -> String {
    let json = || {
        let map: serde_json::Map<String, serde_json::Value> =
            args.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned()))).collect();
        serde_json::Value::Object(map).to_string()
    };
    match format {
        Format::Qwen3Coder | Format::Auto | Format::None => {
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
        Format::Glm45 => {
            let mut s = format!("<tool_call>{name}\n");
            for (k, v) in args {
                let _ = write!(s, "<arg_key>{k}</arg_key>\n<arg_value>{v}</arg_value>\n");
            }
            s + "</tool_call>"
        }
    }
}

/// A whole output holding `calls` in `format`'s own shape, as its models write them.
fn output_in(format: Format, calls: &[String]) -> String {
    match format {
        Format::Llama3Json => format!("<|python_tag|>{}", calls.join("; ")),
        Format::DeepseekV3 | Format::DeepseekV31 => {
            format!("I'll do that.\n\n<｜tool▁calls▁begin｜>{}<｜tool▁calls▁end｜>", calls.concat())
        }
        Format::KimiK2 => {
            format!("I'll do that.<|tool_calls_section_begin|>{}<|tool_calls_section_end|>", calls.concat())
        }
        Format::Mistral => format!("I'll do that.\n{}", calls.concat()),
        _ => format!("I'll do that.\n\n{}", calls.join("\n")),
    }
}

/// Every format on a 1 MiB `write_file` call and on 100 small `read_file` calls, each written
/// the format's own way; the call counts are checked before measuring.
fn formats(c: &mut Criterion) {
    let tools = tools();
    let code = repeat_to(CODE, 1 << 20);
    let mut group = c.benchmark_group("formats");
    group.sample_size(10);
    for &format in Format::ALL {
        if format == Format::None {
            continue;
        }
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
        let small = output_in(format, &small);
        for (name, text, want) in [("write_file_1MiB", big, 1), ("100_small_calls", small, 100)] {
            let message =
                Engine::translate(format, Arc::clone(&tools), Reasoning::Auto, &text, UpstreamFinish::Stop);
            assert_eq!(message.tool_calls.len(), want, "{format} {name}: the input must parse");
            group.throughput(Throughput::Bytes(text.len() as u64));
            for (mode, pieces) in [("whole", vec![text.as_str()]), ("chunk4", chunks(&text, 4))] {
                group.bench_with_input(
                    BenchmarkId::new(format!("{format}/{name}"), mode),
                    &pieces,
                    |b, pieces| {
                        b.iter(|| run_as(format, pieces, &tools));
                    },
                );
            }
        }
    }
    group.finish();
}

criterion_group!(benches, engine, linearity, formats);
criterion_main!(benches);
