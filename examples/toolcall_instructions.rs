//! One engine run over one of the benchmark inputs (`benches/inputs.rs`), for counting its
//! instructions with callgrind: `benches/toolcall-instructions.sh` runs it once and three
//! times and takes the difference, so building the input costs nothing in the figure.
//!
//! `cargo run --release --example toolcall_instructions -- FORMAT write_file_1MiB|100_small_calls whole|chunk4 REPS`

#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a benchmark tool prints its results")]

#[path = "../benches/inputs.rs"]
mod inputs;

use std::process::ExitCode;

use inputs::{chunks, format_inputs, run_as, tools};
use podctl::toolcall::Format;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [format, input, mode, reps] = args.as_slice() else {
        eprintln!("usage: toolcall_instructions FORMAT write_file_1MiB|100_small_calls whole|chunk4 REPS");
        return ExitCode::from(2);
    };
    let (Ok(format), Ok(reps)) = (format.parse::<Format>(), reps.parse::<usize>()) else {
        eprintln!("error: a format name (see `podctl translate --help`) and a count are needed");
        return ExitCode::from(2);
    };
    let Some((_, text, _)) = format_inputs(format).into_iter().find(|(name, _, _)| name == input) else {
        eprintln!("error: no input `{input}` (write_file_1MiB or 100_small_calls)");
        return ExitCode::from(2);
    };
    let pieces = if mode == "whole" { vec![text.as_str()] } else { chunks(&text, 4) };
    let tools = tools();
    let mut out = 0;
    for _ in 0..reps {
        out += run_as(format, &pieces, &tools);
    }
    println!("{out}");
    ExitCode::SUCCESS
}
