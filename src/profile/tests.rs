use std::time::Duration;

use super::*;
use crate::toolcall::Format;

fn parse(text: &str) -> Result<Profile, ProfileError> {
    Profile::parse("t", Origin::File("t.toml".into()), text)
}

#[test]
fn every_builtin_profile_parses_with_its_documented_settings() {
    for (name, text) in catalog::BUILTIN {
        let p = Profile::parse(name, Origin::Builtin, text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(p.description.is_some(), "{name} has a description");
        assert!(p.warnings.is_empty(), "{name}: {:?}", p.warnings);
    }
    let qwen = catalog::find_in("qwen", &[]).expect("built in");
    assert_eq!(qwen.model, "Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8");
    assert_eq!(qwen.served_model_name, "qwen3-coder-30b");
    assert_eq!(qwen.tool_format, Format::Qwen3Coder);
    assert_eq!((qwen.port, qwen.proxy.port), (8000, 4000));
    assert_eq!(qwen.max_model_len, Some(MaxModelLen::Tokens(262_144)));
    assert_eq!(catalog::find_in("qwen3", &[]).expect("built in").tool_format, Format::Hermes);
    assert_eq!(catalog::find_in("qwen-tp2", &[]).expect("built in").parallel.tensor, 2);
    // One popular model of each family, with its tool format.
    for (name, format) in [
        ("llama3", Format::Llama3Json),
        ("devstral", Format::Mistral),
        ("deepseek-v31", Format::DeepseekV31),
        ("glm45-air", Format::Glm45),
        ("kimi-k2", Format::KimiK2),
    ] {
        let p = catalog::find_in(name, &[]).expect("built in");
        assert_eq!(p.tool_format, format, "{name}");
        // The declared format is also the one the model's name implies.
        assert_eq!(Format::guess(&p.model), Some(format), "{name}");
    }
}

#[test]
fn tool_format_defaults_to_what_the_model_name_implies() {
    let llama = parse("model = \"meta-llama/Llama-3.1-8B-Instruct\"\n").expect("valid");
    assert_eq!(llama.tool_format, Format::Llama3Json);
    let unknown = parse("model = \"Org/M\"\n").expect("valid");
    assert_eq!(unknown.tool_format, Format::Qwen3Coder);
    let explicit =
        parse("model = \"meta-llama/Llama-3.1-8B-Instruct\"\ntool_format = \"hermes\"\n").expect("valid");
    assert_eq!(explicit.tool_format, Format::Hermes);
}

#[test]
fn minimal_profile_gets_defaults() {
    let p = parse("model = \"Org/M\"\n").expect("valid");
    assert_eq!(p.served_model_name, "Org/M");
    assert_eq!((p.host.as_str(), p.port, p.vllm_bin.as_str()), ("127.0.0.1", 8000, "vllm"));
    assert_eq!(p.startup_timeout, Duration::from_mins(30));
    assert!((p.memory_utilization() - 0.92).abs() < 1e-9);
    assert_eq!(p.parallel.gpus_per_node(), 1);
    assert!(!p.proxy.enabled);
    assert_eq!(p.restart.max_restarts, 5);
}

/// Each broken profile: the line and key the error must name, and a word of the hint.
#[test]
fn broken_profiles_name_line_key_and_fix() {
    let cases: &[(&str, usize, &str, &str)] = &[
        ("model = \"m\"\ntool_fromat = \"hermes\"\n", 2, "tool_fromat", "tool_format"),
        ("description = \"x\"\n", 1, "model", "add `model"),
        ("model = \"m\"\nport = \"eight\"\n", 2, "port", "type"),
        ("model = \"m\"\nport = 0\n", 2, "port", "8000"),
        ("model = \"m\"\n\ngpu_memory_utilization = 1.5\n", 3, "gpu_memory_utilization", "0.92"),
        ("model = \"m\"\ntool_format = \"llama2\"\n", 2, "tool_format", "hermes"),
        ("model = \"m\"\nmax_model_len = \"big\"\n", 2, "max_model_len", "65536"),
        ("model = \"m\"\nmax_model_len = -5\n", 2, "max_model_len", "65536"),
        ("model = \"m\"\nextra_args = [\"--port\", \"9000\"]\n", 2, "extra_args", "`port`"),
        (
            "model = \"m\"\ndistributed_executor_backend = \"slurm\"\n",
            2,
            "distributed_executor_backend",
            "ray",
        ),
        ("model = \"m\"\ntensor_parallel_size = 0\n", 2, "tensor_parallel_size", "1"),
        ("model = \"m\"\nnnodes = 2\nnode_rank = 2\n", 3, "node_rank", "nnodes - 1"),
        ("model = \"m\"\napi_key_env = \"sk-secret key\"\n", 2, "api_key_env", "never the key"),
        ("model = \"m\"\n[proxy]\nport = 8000\n", 3, "port", "another port"),
        ("model = \"m\"\n[proxy]\nhost = \"everywhere\"\n", 3, "host", "0.0.0.0"),
        ("model = \"m\"\n[proxy]\nenable = true\n", 3, "enable", "enabled"),
        ("model = \"m\"\n[proxy]\nkeepalive_secs = 0\n", 3, "keepalive_secs", "1 to 300"),
        ("model = \"m\"\nstartup_timeout = 0\n", 2, "startup_timeout", "1800"),
        ("model = \"m\"\n[env]\nPODCTL_RUN_ID = \"x\"\n", 3, "PODCTL_RUN_ID", "remove"),
        ("model = \"m\"\n[restart]\nbackoff_max_secs = 0\n", 3, "backoff_max_secs", "60"),
        ("model = \"m\"\nport = 8000\nport = 8001\n", 3, "port", ""),
    ];
    for (text, line, key, hint) in cases {
        let err = parse(text).expect_err(text);
        let ProfileError::Invalid { line: got_line, key: got_key, hint: got_hint, .. } = &err else {
            panic!("{text}: {err:?}")
        };
        assert_eq!(*got_line, Some(*line), "{text}: {err}");
        let shown = err.to_string();
        assert!(got_key.as_deref() == Some(*key) || shown.contains(key), "{text}: key {got_key:?} / {shown}");
        assert!(shown.starts_with("t.toml:"), "{shown}");
        assert!(got_hint.contains(hint), "{text}: hint {got_hint}");
    }
}

#[test]
fn vllm_parses_where_the_profile_says_so() {
    let oss = parse("model = \"openai/gpt-oss-120b\"\n").expect("valid");
    assert_eq!(oss.tool_format, Format::Vllm, "gpt-oss implies vLLM's parser");
    assert_eq!(oss.tool_call_parser.as_deref(), Some("openai"));
    assert_eq!(oss.reasoning_parser.as_deref(), Some("openai_gptoss"));
    let own = parse("model = \"m\"\ntool_format = \"vllm\"\ntool_call_parser = \"hermes\"\n").expect("valid");
    assert_eq!((own.tool_call_parser.as_deref(), own.reasoning_parser.as_deref()), (Some("hermes"), None));
    let err = parse("model = \"m\"\ntool_format = \"vllm\"\n").expect_err("no parser named");
    assert!(err.to_string().contains("needs `tool_call_parser`"), "{err}");
    let err = parse("model = \"m\"\ntool_call_parser = \"hermes\"\n").expect_err("podctl parses");
    assert!(err.to_string().contains("is for `tool_format = \"vllm\"`"), "{err}");
    let err = parse("model = \"m\"\nextra_args = [\"--tool-call-parser\", \"x\"]\n").expect_err("managed");
    assert!(err.to_string().contains("tool_call_parser"), "{err}");
    let thinking =
        parse("model = \"m\"\nreasoning_parser = \"qwen3\"\n").expect("any format may split reasoning");
    assert_eq!(thinking.reasoning_parser.as_deref(), Some("qwen3"));
}

#[test]
fn vllm_tool_parser_flags_warn() {
    let p = parse("model = \"m\"\nextra_args = [\"--enable-auto-tool-choice\"]\n").expect("valid");
    assert_eq!(p.warnings.len(), 1);
}

#[test]
fn multi_node_gpus_per_node() {
    let p = parse("model = \"m\"\ntensor_parallel_size = 8\npipeline_parallel_size = 2\nnnodes = 2\n")
        .expect("ok");
    assert_eq!(p.parallel.gpus_per_node(), 8);
    let w = parse("model = \"m\"\nnnodes = 2\nnode_rank = 1\n");
    assert!(w.is_err(), "a worker without master_addr");
    let w = parse("model = \"m\"\nnnodes = 2\nnode_rank = 1\nmaster_addr = \"10.0.0.1\"\n").expect("ok");
    assert!(w.parallel.nodes.is_some_and(|n| n.headless));
}

#[test]
fn lookup_order_local_then_home_then_builtin() {
    let base = tempfile::tempdir().expect("temp dir");
    let (local, home) = (base.path().join("local"), base.path().join("home"));
    std::fs::create_dir_all(&local).expect("dir");
    std::fs::create_dir_all(&home).expect("dir");
    std::fs::write(local.join("qwen.toml"), "model = \"local/m\"\n").expect("write");
    std::fs::write(home.join("qwen.toml"), "model = \"home/m\"\n").expect("write");
    std::fs::write(home.join("mine.toml"), "model = \"home/mine\"\n").expect("write");
    std::fs::write(home.join("broken.toml"), "model = 1\n").expect("write");
    let dirs = [Origin::Local(local.clone()), Origin::Home(home.clone())];
    assert_eq!(catalog::find_in("qwen", &dirs).expect("found").model, "local/m");
    assert_eq!(catalog::find_in("mine", &dirs).expect("found").model, "home/mine");
    assert_eq!(catalog::find_in("qwen3", &dirs).expect("found").origin, Origin::Builtin);
    let err = catalog::find_in("nope", &dirs).expect_err("missing");
    assert!(err.hint().contains("mine") && err.hint().contains("qwen-bf16"), "{}", err.hint());
    let list = catalog::list_in(&dirs);
    let qwens: Vec<_> = list.iter().filter(|e| e.name == "qwen").collect();
    assert_eq!(qwens.len(), 3);
    assert_eq!(qwens.iter().filter(|e| e.shadowed).count(), 2);
    assert!(list.iter().any(|e| e.name == "broken" && e.profile.is_err()));
    let by_path = catalog::find_in(&home.join("mine.toml").to_string_lossy(), &dirs).expect("path");
    assert_eq!(by_path.name, "mine");
}

#[test]
fn think_opened_says_how_output_starts_or_leaves_it_to_the_family() {
    use crate::toolcall::Reasoning;
    let read = |extra: &str| {
        Profile::parse("m", Origin::Builtin, &format!("model = \"m\"\n{extra}")).expect("profile").reasoning()
    };
    assert_eq!(read(""), Reasoning::Auto);
    assert_eq!(read("think_opened = true"), Reasoning::PromptOpened);
    assert_eq!(
        read("think_opened = false"),
        Reasoning::PromptClosed,
        "thinking off for a family that opens it"
    );
}
