//! Table rows for `gemma4` (Gemma 4): `call:NAME{…}` between `<|tool_call>` and
//! `<tool_call|>`, strings delimited by `<|"|>`, reasoning in `<|channel>thought\n…<channel|>`.

use podctl::toolcall::Format;
use serde_json::json;

use crate::support::{A, Case, G4};

const ONLY_G4: &[Format] = &[G4];
const ONLY_A: &[Format] = &[A];

/// `'` stands for Gemma's `<|"|>` string delimiter.
fn q(s: &str) -> String {
    s.replace('\'', "<|\"|>")
}

/// A Gemma 4 call around `args` (written with `'` for the delimiter).
pub(crate) fn gemma(name: &str, args: &str) -> String {
    format!("<|tool_call>call:{name}{{{}}}<tool_call|>", q(args))
}

#[allow(clippy::too_many_lines, reason = "a table")]
pub(crate) fn cases() -> Vec<Case> {
    let read_a = gemma("read_file", "path:'a.rs'");
    vec![
        Case::new(
            "g4_single_call",
            "1: a Gemma 4 call",
            ONLY_G4,
            gemma("read_file", "path:'src/main.rs',limit:30"),
        )
        .call("read_file", json!({"path": "src/main.rs", "limit": 30})),
        Case::new(
            "g4_text_around_parallel_calls",
            "1/3.9: several calls, text around kept",
            ONLY_G4,
            format!("Reading both.\n{read_a}{}\nDone.<|tool_response>", gemma("list_dir", "")),
        )
        .content("Reading both.\n\nDone.")
        .call("read_file", json!({"path": "a.rs"}))
        .call("list_dir", json!({})),
        Case::new(
            "g4_nested_values_typed",
            "4: bare numbers, booleans, objects and arrays; strings typed by the schema",
            ONLY_G4,
            format!(
                "{}{}",
                gemma("edit", "opts:{a:'x',n:1},flags:['a','b'],dry:true"),
                gemma("geo", "zip:'03106',ratio:'2.5',count:3")
            ),
        )
        .call("edit", json!({"opts": {"a": "x", "n": 1}, "flags": ["a", "b"], "dry": true}))
        .call("geo", json!({"zip": "03106", "ratio": 2.5, "count": 3})),
        Case::new(
            "g4_markup_in_string_is_data",
            "3.2: a closer, quotes and commas inside a <|\"|> string are data",
            ONLY_G4,
            gemma("write_file", "path:'t',content:'a, \"b\" }<tool_call|> c'"),
        )
        .call("write_file", json!({"path": "t", "content": "a, \"b\" }<tool_call|> c"})),
        Case::new(
            "g4_turn_end_closes_call",
            "gemma4: some checkpoints end a call with <turn|> (vLLM accepts it)",
            ONLY_G4,
            q("<|tool_call>call:read_file{path:'a.rs'}<turn|>"),
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "g4_parenthesised_call",
            "gemma4: call:NAME(...) is accepted too",
            ONLY_G4,
            q("<|tool_call>call:read_file(path:'a.rs')<tool_call|>"),
        )
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "g4_not_the_grammar_is_text",
            "5: text that is not the grammar is content, never a guessed call",
            ONLY_G4,
            "<|tool_call>read the file please<tool_call|>",
        )
        .content_is_input(),
        Case::new(
            "g4_name_not_identifier_is_text",
            "3.6: a name that is not an identifier",
            ONLY_G4,
            "<|tool_call>call:{{ tool.name }}{}<tool_call|>",
        )
        .content_is_input(),
        Case::new(
            "g4_reasoning_channel",
            "1: the thought channel is reasoning, its label is not",
            ONLY_G4,
            format!("<|channel>thought\nI need the file.<channel|>{read_a}"),
        )
        .reasoning("I need the file.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "g4_call_inside_channel_ends_it",
            "3.10: a call inside reasoning ends it, a later <channel|> is dropped",
            ONLY_G4,
            format!("<|channel>thought\nLet me check.\n{read_a}<channel|>Done."),
        )
        .reasoning("Let me check.")
        .content("Done.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "g4_prompt_opened",
            "1: output starting inside the channel",
            ONLY_G4,
            "thought\nplan<channel|>Answer.",
        )
        .prompt_opened()
        .reasoning("plan")
        .content("Answer."),
        Case::new(
            "g4_end_tokens_dropped",
            "eot: <turn|> and <eos> are never content",
            ONLY_G4,
            "Done.<turn|><eos>",
        )
        .content("Done."),
        Case::new(
            "g4_missing_closer_stop",
            "3.5: the closer missing at the end, the call complete: recovered",
            ONLY_G4,
            q("Reading.\n<|tool_call>call:read_file{path:'a.rs'}"),
        )
        .content("Reading.")
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "g4_missing_closer_before_next_call",
            "3.5: a missing closer before the next call",
            ONLY_G4,
            format!("{}{read_a}", q("<|tool_call>call:read_file{path:'b.rs'}")),
        )
        .call("read_file", json!({"path": "b.rs"}))
        .call("read_file", json!({"path": "a.rs"})),
        Case::new(
            "g4_truncated",
            "6: truncated under length: not executable, prose kept",
            ONLY_G4,
            q("Reading.\n<|tool_call>call:write_file{path:'a',content:'hel"),
        )
        .length()
        .content("Reading."),
        Case::new(
            "g4_unclosed_string_stop_is_text",
            "5: a call whose text does not read (a string never closed) stays content",
            ONLY_G4,
            q("<|tool_call>call:write_file{path:'a"),
        )
        .content_is_input(),
        Case::new(
            "g4_partial_marker_under_length",
            "6: a cut marker never leaks",
            ONLY_G4,
            "Reading.\n<|tool_ca",
        )
        .length()
        .content("Reading."),
        Case::new(
            "a_gemma4_decided",
            "auto: Gemma's <|tool_call> decides the family",
            ONLY_A,
            format!("Text.\n{read_a}"),
        )
        .content("Text.")
        .call("read_file", json!({"path": "a.rs"})),
    ]
}
