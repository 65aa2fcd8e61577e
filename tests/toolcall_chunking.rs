//! Spec section 2: **any chunking of the input gives the same final result** as feeding it
//! whole. For every format, both reasoning modes and both upstream finishes, the merged
//! events, the final message and the finish reason must not depend on where the upstream
//! deltas were split, and every run must keep the event contract (`support::check_run`).
//! The engine's outcome counts (for metrics) must not depend on it either, and must agree
//! with the events.

mod support;

use std::sync::{Arc, LazyLock};

use podctl::toolcall::{Engine, Format, Outcomes, OwnedEvent, Reasoning, Tools, UpstreamFinish};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::TestCaseError;
use support::{ALL_FORMATS, FINISHES, REASONINGS, check_run, run_chunks, table_inputs};

static TOOLS: LazyLock<Arc<Tools>> = LazyLock::new(support::tools);
static TABLE_INPUTS: LazyLock<Vec<String>> = LazyLock::new(table_inputs);

/// Pieces generated outputs are built from: prose (multi-byte included), every marker,
/// partial markers, JSON, and larger realistic pieces so that whole calls come up often.
const VOCAB: &[&str] = &[
    "Hello",
    " world",
    "I'll read it.",
    "读取文件",
    "🎉",
    "👍🏽",
    "é",
    "naïve café",
    "  ",
    " ",
    "\n",
    "\n",
    "\n\n",
    "<",
    ">",
    "<tool_ca",
    "<functi",
    "<function=read_fi",
    "</thi",
    "<parameter=pa",
    "</param",
    "</tool_",
    "<tool_call>",
    "<tool_call>",
    "</tool_call>",
    "</tool_call>",
    "<function=read_file>",
    "<function=read_file>",
    "<function=list_dir>",
    "<function=nope>",
    "<function={{ tool.name }}>",
    "<parameter=path>",
    "<parameter=path>",
    "<parameter=limit>",
    "<parameter=foo>",
    "</parameter>",
    "</parameter>",
    "</function>",
    "</function>",
    "<think>",
    "</think>",
    r#"{"name": "read_file", "arguments": {"path": "a"}}"#,
    r#"{"name": "read_file", "arguments": {"path": "</tool_call> é"}}"#,
    "{'name': 'read_file', 'arguments': {'limit': 3}}",
    "{",
    "}",
    "\"",
    "'",
    "\\",
    "42",
    "30.0",
    "src/main.rs",
    "<tool_call>\n<function=read_file>\n<parameter=path>\n",
    "\n</parameter>\n</function>\n</tool_call>",
    "\n</parameter>\n<parameter=limit>\n7\n</parameter>\n",
    "<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"日本\"}}\n</tool_call>",
    // llama3_json
    "<|python_tag|>",
    "<|python_ta",
    "<|",
    "; ",
    ";",
    "```",
    "`",
    "[",
    "]",
    r#"{"name": "read_file", "parameters": {"path": "a"}}"#,
    r#"{"name": "list_dir", "parameters": {}}"#,
    r#"{"name": "nope", "parameters": {"q": 1}}"#,
    r#"{"name": "#,
    r#""parameters": {"#,
    // mistral
    "[TOOL_CALLS]",
    "[TOOL_CALLS]",
    "[TOOL_CA",
    "[ARGS]",
    "[ARG",
    "[CALL_ID]",
    "a1B2c3D4e",
    "[THINK]",
    "[/THINK]",
    "[/THI",
    "read_file",
    "list_dir[ARGS]{}",
    "[TOOL_CALLS]read_file[ARGS]",
    r#"{"path": "a [TOOL_CALLS] ]}"}"#,
    r#"[{"name": "read_file", "arguments": {"path": "a"}}]"#,
    // deepseek_v3 / deepseek_v31 / kimi_k2 markers, whole and cut.
    "<｜tool▁calls▁begin｜>",
    "<｜tool calls begin｜>",
    "<｜tool▁call▁begin｜>",
    "<｜tool▁call▁begin｜>function<｜tool▁sep｜>read_file\n```json\n",
    "read_file<｜tool▁sep｜>",
    "<｜tool▁sep｜>",
    "\n```",
    "<｜tool▁call▁end｜>",
    "<｜tool▁calls▁end｜>",
    "<｜tool▁ca",
    "<|tool_calls_section_begin|>",
    "<|tool_call_begin|>functions.read_file:0<|tool_call_argument_begin|>",
    "<|tool_call_argument_begin|>",
    "<|tool_call_end|>",
    "<|tool_calls_section_end|>",
    "<|tool_ca",
    // glm45
    "<arg_key>",
    "</arg_key>",
    "<arg_value>",
    "</arg_value>",
    "<arg_ke",
    "</arg_val",
    "<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>",
    "</arg_value>\n<arg_key>limit</arg_key>\n<arg_value>7",
    "</arg_value>\n</tool_call>",
    "<tool_call>list_dir</tool_call>",
    // auto: markers that decide a family, whole and cut, and near misses
    "<｜tool_calls_begin｜>",
    "<｜tool▁calls｜>",
    "<|tool_call_section_begin|>",
    "<|tool_call_begin|>",
    "<tool_call>read_file",
    "<tool_call>list_dir\n",
    "<tool_call>\nnot yet",
    "<tool_call>nope ",
    "</tool_ca",
    "[THI",
    // glm47: end-of-turn tokens, whole and cut
    "<|user|>",
    "<|observation|>",
    "<|endoftext|>",
    "<|obser",
    // minimax_m2 and DSML (deepseek_v32 / deepseek_v4), whole and cut
    "<minimax:tool_call>",
    "</minimax:tool_call>",
    "<minimax:tool_ca",
    "<invoke name=\"read_file\">",
    "<invoke name='list_dir'>",
    "<invoke name=\"nope\">",
    "<invoke name=\"read_fi",
    "</invoke>",
    "<parameter name=\"path\">",
    "<parameter name=limit>",
    "<parameter name=\"pa",
    "</invo",
    "[e~[",
    "[e~",
    "<｜DSML｜function_calls>",
    "<｜DSML｜tool_calls>",
    "</｜DSML｜function_calls>",
    "</｜DSML｜tool_calls>",
    "<｜DSML｜invoke name=\"read_file\">",
    "<｜DSML｜parameter name=\"limit\" string=\"false\">",
    "<｜DSML｜parameter name=\"path\" string=\"true\">",
    "</｜DSML｜parameter>",
    "</｜DSML｜invoke>",
    "<｜DSML｜para",
    "<｜end▁of▁sentence｜>",
    // seed_oss and Qwen's end-of-turn tokens
    "<seed:tool_call>",
    "</seed:tool_call>",
    "<seed:think>",
    "</seed:think>",
    "<seed:eos>",
    "<seed:too",
    "<|im_end|>",
    "<|im_e",
    // kimi_k3 (XTML)
    "<|open|>tools<|sep|>",
    "<|close|>tools<|sep|>",
    "<|open|>call tool=\"read_file\" index=\"1\"<|sep|>",
    "<|open|>argument key=\"path\" type=\"string\"<|sep|>",
    "<|open|>argument key=\"limit\" type=\"integer\"<|sep|>",
    "<|close|>argument<|sep|>",
    "<|close|>call<|sep|>",
    "<|open|>response<|sep|>",
    "<|close|>response<|sep|>",
    "<|open|>think<|sep|>",
    "<|close|>think<|sep|>",
    "<|close|>message<|sep|>",
    "<|open|>argu",
    "<|se",
    // gemma4
    "<|tool_call>",
    "<|tool_call>call:read_file{",
    "call:list_dir{}",
    "<tool_call|>",
    "<|\"|>",
    "<|\"",
    "path:",
    "<|channel>",
    "thought\n",
    "<channel|>",
    "<turn|>",
    "<|turn>",
    "<eos>",
    "<|tool_response>",
];

/// Every byte offset inside `input` (not 0, not the end) that is a char boundary.
fn boundaries(input: &str) -> Vec<usize> {
    input.char_indices().map(|(i, _)| i).filter(|&i| i > 0).collect()
}

/// Splits `input` at `points` (char boundaries, any order, duplicates allowed).
fn split_at<'a>(input: &'a str, points: &[usize]) -> Vec<&'a str> {
    let mut points: Vec<usize> = points.iter().copied().filter(|&p| p > 0 && p < input.len()).collect();
    points.sort_unstable();
    points.dedup();
    let mut chunks = Vec::with_capacity(points.len() + 3);
    // An empty delta first and last: upstream streams send those too.
    chunks.push("");
    let mut from = 0;
    for p in points {
        chunks.push(&input[from..p]);
        from = p;
    }
    chunks.push(&input[from..]);
    chunks.push("");
    chunks
}

/// Split points picked at random among the char boundaries.
fn random_points(input: &str, picks: &[Index]) -> Vec<usize> {
    let all = boundaries(input);
    if all.is_empty() {
        return Vec::new();
    }
    picks.iter().map(|ix| all[ix.index(all.len())]).collect()
}

/// Split points right before and right after every multi-byte char.
fn multibyte_points(input: &str) -> Vec<usize> {
    input.char_indices().filter(|(_, c)| c.len_utf8() > 1).flat_map(|(i, c)| [i, i + c.len_utf8()]).collect()
}

/// Runs `input` whole and in every chunking, in every format/mode/finish, and compares.
fn check_chunkings(input: &str, chunkings: &[Vec<&str>]) -> Result<(), TestCaseError> {
    for format in ALL_FORMATS {
        for upstream in FINISHES {
            for reasoning in REASONINGS {
                check_one(format, reasoning, upstream, input, chunkings)?;
            }
        }
    }
    Ok(())
}

fn check_one(
    format: Format,
    reasoning: Reasoning,
    upstream: UpstreamFinish,
    input: &str,
    chunkings: &[Vec<&str>],
) -> Result<(), TestCaseError> {
    let whole = run_chunks(format, &TOOLS, reasoning, &[input], upstream);
    let whole_outcomes = outcomes(format, reasoning, &[input], upstream);
    let at = format!("[{format} {reasoning:?} {upstream:?}] input {input:?}");
    if let Err(e) = check_run(format, upstream, &whole) {
        return Err(TestCaseError::fail(format!("{at} fed whole: {e}\nevents: {:?}", whole.events)));
    }
    check_outcomes(&whole_outcomes, &whole.events)
        .map_err(|e| TestCaseError::fail(format!("{at} fed whole: {e}")))?;
    let translated = Engine::translate(format, Arc::clone(&TOOLS), reasoning, input, upstream);
    prop_assert_eq!(&translated, &whole.message, "{} translate() differs from the streamed whole", at);
    if format == Format::None {
        let want = if input.is_empty() { None } else { Some(input.to_owned()) };
        prop_assert_eq!(&whole.message.content, &want, "{} none must pass text through", at);
    }
    for chunks in chunkings {
        let run = run_chunks(format, &TOOLS, reasoning, chunks, upstream);
        if let Err(e) = check_run(format, upstream, &run) {
            return Err(TestCaseError::fail(format!(
                "{at} chunks {chunks:?}: {e}\nevents: {:?}",
                run.events
            )));
        }
        prop_assert_eq!(&run, &whole, "{} chunks {:?} differ from feeding whole", at, chunks);
        let chunked_outcomes = outcomes(format, reasoning, chunks, upstream);
        prop_assert_eq!(
            chunked_outcomes,
            whole_outcomes,
            "{} chunks {:?}: outcomes differ from feeding whole",
            at,
            chunks
        );
    }
    Ok(())
}

/// The engine's outcome counts after feeding `chunks` and finishing.
fn outcomes(format: Format, reasoning: Reasoning, chunks: &[&str], upstream: UpstreamFinish) -> Outcomes {
    let mut engine = Engine::new(format, Arc::clone(&TOOLS), reasoning);
    let mut sink = |_: podctl::toolcall::Event<'_>| {};
    for chunk in chunks {
        engine.feed(chunk, &mut sink);
    }
    engine.finish(upstream, &mut sink);
    engine.outcomes()
}

/// Outcome counts agree with the events: one `call` per `CallEnd`, one `truncated` per
/// `CallTruncated`, and only complete calls are recovered.
fn check_outcomes(outcomes: &Outcomes, events: &[OwnedEvent]) -> Result<(), String> {
    let ends = events.iter().filter(|e| matches!(e, OwnedEvent::CallEnd { .. })).count();
    let cuts = events.iter().filter(|e| matches!(e, OwnedEvent::CallTruncated { .. })).count();
    let counted = (usize::try_from(outcomes.calls), usize::try_from(outcomes.truncated));
    if counted != (Ok(ends), Ok(cuts)) || outcomes.recovered > outcomes.calls {
        return Err(format!(
            "outcomes {outcomes:?} disagree with {ends} CallEnd and {cuts} CallTruncated events"
        ));
    }
    Ok(())
}

/// The fixed chunkings every input gets: one char per chunk, and splits around multi-byte chars.
fn fixed_chunkings(input: &str) -> Vec<Vec<&str>> {
    vec![split_at(input, &boundaries(input)), split_at(input, &multibyte_points(input))]
}

#[test]
fn table_inputs_char_by_char_and_around_multibyte() {
    for input in TABLE_INPUTS.iter() {
        if let Err(e) = check_chunkings(input, &fixed_chunkings(input)) {
            panic!("{e}");
        }
    }
}

/// The fuzz target's seeds (fuzz/seeds/toolcall, one or more per format) replayed on the
/// stable toolchain, so CI checks every format's fuzz properties too: each seed's text
/// whole, char by char and around multi-byte chars, in every format, finish and mode.
#[test]
fn fuzz_seeds_hold_every_property_in_every_format() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/toolcall");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz seeds") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("seed");
        // The fuzz input's first two bytes pick the format and the chunking; the rest is text.
        let text = String::from_utf8_lossy(bytes.get(2..).unwrap_or_default()).into_owned();
        if let Err(e) = check_chunkings(&text, &fixed_chunkings(&text)) {
            panic!("{e}");
        }
        seeds += 1;
    }
    assert!(seeds >= 10, "only {seeds} seeds in {}", dir.display());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn table_inputs_any_chunking(pick in any::<Index>(), picks in prop::collection::vec(any::<Index>(), 0..24)) {
        let input = pick.get(&TABLE_INPUTS);
        let chunks = split_at(input, &random_points(input, &picks));
        check_chunkings(input, &[chunks])?;
    }

    #[test]
    fn generated_inputs_any_chunking(
        pieces in prop::collection::vec(select(VOCAB), 0..24),
        picks in prop::collection::vec(any::<Index>(), 0..24),
    ) {
        let input = pieces.concat();
        let mut chunkings = fixed_chunkings(&input);
        chunkings.push(split_at(&input, &random_points(&input, &picks)));
        // Split where the pieces were joined: every marker arrives whole in its own delta.
        let joins: Vec<usize> = pieces.iter().scan(0, |at, p| { *at += p.len(); Some(*at) }).collect();
        chunkings.push(split_at(&input, &joins));
        check_chunkings(&input, &chunkings)?;
    }
}

// Linear time (spec 2) is a speed property: it is measured by `cargo bench --bench toolcall`
// (the `linearity` group feeds 64 KiB … 1 MiB one character at a time), not by a timed test.
