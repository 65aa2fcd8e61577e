//! Throughput of the tool-call engine on realistic outputs, fed whole and in 1-character
//! chunks (the worst streaming case) and 4-character chunks (about one token each); then
//! every format on the same two outputs written its own way (`formats` group).
//!
//! Run: `cargo bench --bench toolcall` (`-- formats` for the per-format group only).
//! Results are recorded in BENCHMARKS.md.

mod inputs;

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use inputs::{CODE, chunks, format_inputs, inputs, repeat_to, run, run_as, tools};
use podctl::toolcall::{Engine, Format, Reasoning, UpstreamFinish};

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

/// Every format on a 1 MiB `write_file` call and on 100 small `read_file` calls, each written
/// the format's own way; the call counts are checked before measuring.
fn formats(c: &mut Criterion) {
    let tools = tools();
    let mut group = c.benchmark_group("formats");
    group.sample_size(10);
    for &format in Format::ALL {
        // Neither parses: `none` passes text on, `vllm` leaves the parsing to vLLM.
        if matches!(format, Format::None | Format::Vllm) {
            continue;
        }
        for (name, text, want) in format_inputs(format) {
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
