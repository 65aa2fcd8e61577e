//! `podctl translate` and the global CLI behaviour, through the real binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

fn podctl(args: &[&str], stdin: &[u8], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_podctl"));
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE").env_remove("RUST_LOG");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("podctl runs");
    // A podctl that refuses its arguments exits without reading: a closed pipe is fine.
    match child.stdin.take().expect("stdin").write_all(stdin) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("stdin not written: {e}"),
        _ => {}
    }
    child.wait_with_output().expect("podctl exits")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes `contents` to `dir/name`; its path as text, for an argument.
fn file(dir: &TempDir, name: &str, contents: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("file written");
    path.to_string_lossy().into_owned()
}

const TOOLS: &str = r#"[
  {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object",
    "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}}}}},
  {"type": "function", "function": {"name": "write_file", "parameters": {"type": "object",
    "properties": {"path": {"type": "string"}, "content": {"type": "string"}}}}}
]"#;

const OUTPUT: &str = "<think>Need the file first.</think>\nI'll read it — ✓.\n\n<tool_call>\n<function=read_file>\n\
<parameter=path>\nsrc/主.rs\n</parameter>\n<parameter=limit>\n30.0\n</parameter>\n</function>\n</tool_call>\n\
<function=write_file>\n<parameter=path>\nt.py\n</parameter>\n<parameter=content>\nx = \"</parameter>\"\n\n\
</parameter>\n</function>\nDone 🎉";

#[test]
fn version_and_help() {
    let out = podctl(&["--version"], b"", &[]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout).trim(), format!("podctl {}", env!("CARGO_PKG_VERSION")));
    let out = podctl(&["--help"], b"", &[]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("translate") && help.contains("--verbose") && help.contains("--quiet"), "{help}");
}

#[test]
fn translate_gives_the_openai_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tools = file(&dir, "tools.json", TOOLS);
    let out = podctl(&["translate", "--format", "qwen3_coder", "--tools", &tools], OUTPUT.as_bytes(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let message: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(message["content"], "I'll read it — ✓.\n\nDone 🎉");
    assert_eq!(message["reasoning_content"], "Need the file first.");
    assert_eq!(message["finish_reason"], "tool_calls");
    let calls = message["tool_calls"].as_array().expect("tool_calls array");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["type"], "function");
    assert!(calls[0]["id"].as_str().is_some_and(|id| id.starts_with("call_")));
    assert_ne!(calls[0]["id"], calls[1]["id"]);
    assert_eq!(calls[0]["function"]["name"], "read_file");
    let args: serde_json::Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().expect("string")).expect("JSON");
    assert_eq!(args, serde_json::json!({"path": "src/主.rs", "limit": 30}));
    let args: serde_json::Value =
        serde_json::from_str(calls[1]["function"]["arguments"].as_str().expect("string")).expect("JSON");
    assert_eq!(args, serde_json::json!({"path": "t.py", "content": "x = \"</parameter>\"\n"}));
}

#[test]
fn translate_answer_does_not_depend_on_chunk_size() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tools = file(&dir, "tools.json", TOOLS);
    for finish in ["stop", "length"] {
        let whole = podctl(
            &["translate", "--format", "auto", "--tools", &tools, "--finish-reason", finish],
            OUTPUT.as_bytes(),
            &[],
        );
        assert!(whole.status.success());
        for chunk in ["1", "2", "3", "7", "64"] {
            let out = podctl(
                &[
                    "translate",
                    "--format",
                    "auto",
                    "--tools",
                    &tools,
                    "--finish-reason",
                    finish,
                    "--chunk",
                    chunk,
                ],
                OUTPUT.as_bytes(),
                &[],
            );
            assert!(out.status.success());
            assert_eq!(text(&out.stdout), text(&whole.stdout), "--chunk {chunk} --finish-reason {finish}");
        }
    }
}

#[test]
fn truncated_call_is_never_returned() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tools = file(&dir, "tools.json", TOOLS);
    let cut = "Reading.\n<tool_call>\n<function=read_file>\n<parameter=path>\nsrc/ma";
    let out = podctl(
        &["translate", "--format", "qwen3_coder", "--tools", &tools, "--finish-reason", "length"],
        cut.as_bytes(),
        &[],
    );
    assert!(out.status.success());
    let message: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(message["finish_reason"], "length");
    assert_eq!(message["content"], "Reading.");
    assert_eq!(message["tool_calls"], serde_json::json!([]));
    // The event view shows the call was started, then truncated.
    let out = podctl(
        &["translate", "--format", "qwen3_coder", "--tools", &tools, "--finish-reason", "length", "--events"],
        cut.as_bytes(),
        &[],
    );
    let events = text(&out.stdout);
    assert!(
        events.contains("\"call_truncated\"") && events.ends_with("{\"finish_reason\":\"length\"}\n"),
        "{events}"
    );
}

#[test]
fn bad_input_exits_2_with_a_hint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = file(&dir, "broken.json", "[{\"type\": \"function\",");
    let no_name = file(&dir, "noname.json", "[{\"type\": \"function\", \"function\": {}}]");
    let missing = dir.path().join("missing.json").to_string_lossy().into_owned();
    let cases: [(&[&str], &[u8], &str); 6] = [
        (&["translate", "--format", "qwen3_coder", "--tools", &missing], b"x", "cannot read tools file"),
        (&["translate", "--format", "qwen3_coder", "--tools", &broken], b"x", "is not valid JSON"),
        (&["translate", "--format", "qwen3_coder", "--tools", &no_name], b"x", "has no function name"),
        (&["translate", "--format", "qwen3_coder"], b"\xff\xfe bad", "not valid UTF-8"),
        (&["translate", "--format", "yaml"], b"x", "unknown tool format"),
        (&["translate", "--format", "hermes", "--chunk", "0"], b"x", "--chunk"),
    ];
    for (args, stdin, needle) in cases {
        let out = podctl(args, stdin, &[("NO_COLOR", "1")]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
    let out =
        podctl(&["translate", "--format", "qwen3_coder", "--tools", &broken], b"x", &[("NO_COLOR", "1")]);
    let err = text(&out.stderr);
    assert!(err.starts_with("error: ") && err.contains("\nhint: "), "{err}");
}

#[test]
fn colour_follows_no_color_and_the_flag() {
    let args = ["translate", "--format", "qwen3_coder", "--tools", "/nonexistent/tools.json"];
    let plain = podctl(&args, b"", &[("NO_COLOR", "1")]);
    assert!(!text(&plain.stderr).contains('\u{1b}'), "NO_COLOR: no escapes");
    // stderr is a pipe here: auto means no colour.
    let auto = podctl(&args, b"", &[]);
    assert!(!text(&auto.stderr).contains('\u{1b}'), "not a terminal: no escapes");
    let mut forced = args.to_vec();
    forced.extend(["--color", "always"]);
    let always = podctl(&forced, b"", &[("NO_COLOR", "1")]);
    assert!(text(&always.stderr).contains('\u{1b}'), "--color always wins");
}

#[test]
fn quiet_hides_warnings_but_not_data() {
    let bare = "<function=read_file>\n<parameter=path>\na\n</parameter>\n</function>";
    let loud = podctl(&["translate", "--format", "qwen3_coder"], bare.as_bytes(), &[("NO_COLOR", "1")]);
    assert!(text(&loud.stderr).contains("warning: no --tools given"));
    let quiet = podctl(&["-q", "translate", "--format", "qwen3_coder"], bare.as_bytes(), &[]);
    assert!(quiet.stderr.is_empty());
    assert_eq!(quiet.stdout, loud.stdout);
}

/// Issue 18: every 2026 format, and the names vLLM uses for them, are accepted by
/// `--format` (no `unknown format`) and give the call their markup holds.
#[test]
fn translate_takes_every_new_format_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tools = file(&dir, "tools.json", TOOLS);
    let qwen =
        "<tool_call>\n<function=read_file>\n<parameter=path>\na.rs\n</parameter>\n</function>\n</tool_call>";
    let glm = "<tool_call>read_file<arg_key>path</arg_key><arg_value>a.rs</arg_value></tool_call>";
    let minimax = "<minimax:tool_call>\n<invoke name=\"read_file\">\n<parameter name=\"path\">a.rs</parameter>\n</invoke>\n</minimax:tool_call>";
    let dsml = |w: &str| {
        format!(
            "<｜DSML｜{w}>\n<｜DSML｜invoke name=\"read_file\">\n<｜DSML｜parameter name=\"path\" string=\"true\">a.rs</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜{w}>"
        )
    };
    let seed = "<seed:tool_call>\n<function=read_file>\n<parameter=path>a.rs</parameter>\n</function>\n</seed:tool_call>";
    let kimi = "<|open|>tools<|sep|><|open|>call tool=\"read_file\" index=\"1\"<|sep|><|open|>argument key=\"path\" type=\"string\"<|sep|>a.rs<|close|>argument<|sep|><|close|>call<|sep|><|close|>tools<|sep|>";
    let gemma = "<|tool_call>call:read_file{path:<|\"|>a.rs<|\"|>}<tool_call|>";
    let cases = [
        ("glm47", glm.to_owned()),
        ("poolside_v1", glm.to_owned()),
        ("minimax_m2", minimax.to_owned()),
        ("deepseek_v32", dsml("function_calls")),
        ("deepseek_v4", dsml("tool_calls")),
        ("seed_oss", seed.to_owned()),
        ("kimi_k3", kimi.to_owned()),
        ("gemma4", gemma.to_owned()),
        ("qwen3_xml", qwen.to_owned()),
        ("mimo", qwen.to_owned()),
        ("step3p5", qwen.to_owned()),
    ];
    for (format, output) in cases {
        let out = podctl(&["translate", "--format", format, "--tools", &tools], output.as_bytes(), &[]);
        assert!(out.status.success(), "--format {format}: {}", text(&out.stderr));
        let message: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
        assert_eq!(message["finish_reason"], "tool_calls", "--format {format}: {message}");
        let call = &message["tool_calls"][0]["function"];
        assert_eq!(call["name"], "read_file", "--format {format}");
        let args: serde_json::Value =
            serde_json::from_str(call["arguments"].as_str().expect("string")).expect("JSON");
        assert_eq!(args, serde_json::json!({"path": "a.rs"}), "--format {format}");
    }
}
