//! Profile → the exact `vllm serve` command: program, arguments and environment. Pure: the
//! caller passes the environment it reads from, so `--dry-run` and the tests see exactly
//! what `start` runs.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::profile::{Backend, MaxModelLen, Profile};

/// The variable every process of a run inherits, so `stop` can find stragglers.
pub const RUN_ID_VAR: &str = "PODCTL_RUN_ID";

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Set on top of the inherited environment, in order.
    pub env: Vec<(String, String)>,
    /// Names of variables whose values are secrets (shown masked).
    pub secret: Vec<String>,
}

/// The key vLLM's API needs is not in the environment.
#[derive(Debug, thiserror::Error)]
#[error("the profile's api_key_env names ${0}, which is not set")]
pub struct MissingKey(pub String);

/// The variable vLLM wants before it serves its sleep-mode endpoints.
pub const DEV_MODE_VAR: &str = "VLLM_SERVER_DEV_MODE";

/// Builds the launch. `getenv` reads the caller's environment; `workspace` says whether
/// `/workspace` exists (caches then go there so they survive a pod restart).
pub fn launch(
    profile: &Profile,
    run_id: &str,
    getenv: &dyn Fn(&str) -> Option<String>,
    workspace: bool,
) -> Result<Launch, MissingKey> {
    let mut args: Vec<String> = vec!["serve".into(), profile.model.clone()];
    let mut flag = |name: &str, value: String| {
        args.push(name.to_owned());
        args.push(value);
    };
    flag("--served-model-name", profile.served_model_name.clone());
    flag("--host", profile.host.clone());
    flag("--port", profile.port.to_string());
    if let Some(r) = &profile.revision {
        flag("--revision", r.clone());
    }
    let p = &profile.parallel;
    if p.tensor > 1 {
        flag("--tensor-parallel-size", p.tensor.to_string());
    }
    if p.pipeline > 1 {
        flag("--pipeline-parallel-size", p.pipeline.to_string());
    }
    if p.data > 1 {
        flag("--data-parallel-size", p.data.to_string());
    }
    if let Some(b) = p.backend {
        flag("--distributed-executor-backend", if b == Backend::Ray { "ray" } else { "mp" }.into());
    }
    if let Some(n) = &p.nodes {
        flag("--nnodes", n.count.to_string());
        flag("--node-rank", n.rank.to_string());
        if let Some(a) = &n.master_addr {
            flag("--master-addr", a.clone());
        }
        if let Some(port) = n.master_port {
            flag("--master-port", port.to_string());
        }
    }
    match profile.max_model_len {
        Some(MaxModelLen::Tokens(n)) => flag("--max-model-len", n.to_string()),
        Some(MaxModelLen::Auto) => flag("--max-model-len", "auto".into()),
        None => {}
    }
    if let Some(g) = profile.gpu_memory_utilization {
        flag("--gpu-memory-utilization", g.to_string());
    }
    if let Some(n) = profile.max_num_seqs {
        flag("--max-num-seqs", n.to_string());
    }
    for (name, value) in [
        ("--kv-cache-dtype", &profile.kv_cache_dtype),
        ("--dtype", &profile.dtype),
        ("--quantization", &profile.quantization),
        ("--chat-template", &profile.chat_template),
    ] {
        if let Some(v) = value {
            flag(name, v.clone());
        }
    }
    if let Some(parser) = &profile.tool_call_parser {
        flag("--tool-call-parser", parser.clone());
    }
    if let Some(parser) = &profile.reasoning_parser {
        flag("--reasoning-parser", parser.clone());
    }
    if let Some(t) = profile.shutdown_timeout {
        flag("--shutdown-timeout", t.to_string());
    }
    if p.expert {
        args.push("--enable-expert-parallel".into());
    }
    if p.nodes.as_ref().is_some_and(|n| n.headless) {
        args.push("--headless".into());
    }
    match profile.enable_prefix_caching {
        Some(true) => args.push("--enable-prefix-caching".into()),
        Some(false) => args.push("--no-enable-prefix-caching".into()),
        None => {}
    }
    if profile.trust_remote_code {
        args.push("--trust-remote-code".into());
    }
    if profile.sleep {
        args.push("--enable-sleep-mode".into());
    }
    if profile.tool_call_parser.is_some() {
        // `tool_format = "vllm"`: vLLM decodes the calls itself.
        args.push("--enable-auto-tool-choice".into());
    }
    args.extend(profile.extra_args.iter().cloned());

    let mut env: Vec<(String, String)> = Vec::new();
    let mut secret = Vec::new();
    let set_by_user = |k: &str| profile.env.contains_key(k) || getenv(k).is_some();
    if workspace {
        for (k, v) in [("HF_HOME", "/workspace/hf"), ("VLLM_CACHE_ROOT", "/workspace/vllm-cache")] {
            if !set_by_user(k) {
                env.push((k.into(), v.into()));
            }
        }
    }
    for (k, v) in &profile.env {
        env.push((k.clone(), v.clone()));
    }
    if let Some(var) = &profile.api_key_env {
        // vLLM reads VLLM_API_KEY itself: the key stays out of argv (visible to `ps`).
        let key = getenv(var).filter(|k| !k.is_empty()).ok_or_else(|| MissingKey(var.clone()))?;
        env.push(("VLLM_API_KEY".into(), key));
        secret.push("VLLM_API_KEY".into());
    }
    if profile.sleep && !profile.env.contains_key(DEV_MODE_VAR) {
        // vLLM serves /sleep, /wake_up and /is_sleeping only in its dev mode.
        env.push((DEV_MODE_VAR.into(), "1".into()));
    }
    env.push((RUN_ID_VAR.into(), run_id.into()));
    Ok(Launch { program: profile.executable(), args, env, secret })
}

impl Launch {
    /// A shell command line that runs the same thing (secrets masked), one flag per line.
    pub fn shell(&self) -> String {
        let mut out = String::new();
        for (k, v) in &self.env {
            let v = if self.secret.contains(k) { "…".to_owned() } else { quote(v) };
            let _ = writeln!(out, "{k}={v} \\");
        }
        out.push_str(&quote(&self.program.to_string_lossy()));
        let mut args = self.args.iter().peekable();
        // `serve MODEL` on the first line, then each flag with its value.
        for a in args.by_ref().take(2) {
            let _ = write!(out, " {}", quote(a));
        }
        while let Some(a) = args.next() {
            let _ = write!(out, " \\\n  {}", quote(a));
            while let Some(v) = args.next_if(|v| !v.starts_with("--")) {
                let _ = write!(out, " {}", quote(v));
            }
        }
        out.push('\n');
        out
    }
}

/// POSIX shell quoting, only where needed.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@+%".contains(&b));
    if plain { s.to_owned() } else { format!("'{}'", s.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Origin, catalog};

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn qwen_profile_argv() {
        let p = catalog::find_in("qwen", &[]).expect("built in");
        let l = launch(&p, "r1", &no_env, false).expect("ok");
        assert_eq!(l.program, p.executable());
        let args = l.args.join(" ");
        assert!(args.starts_with("serve Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8 --served-model-name qwen3-coder-30b --host 127.0.0.1 --port 8000"), "{args}");
        for part in [
            "--max-model-len 262144",
            "--gpu-memory-utilization 0.92",
            "--enable-prefix-caching",
            "--shutdown-timeout 30",
        ] {
            assert!(args.contains(part), "{part} in {args}");
        }
        assert!(!args.contains("tool-call-parser") && !args.contains("--api-key"), "{args}");
        assert_eq!(l.env, [("PODCTL_RUN_ID".to_owned(), "r1".to_owned())]);
    }

    #[test]
    fn vllm_parses_for_gpt_oss() {
        let p = catalog::find_in("gpt-oss", &[]).expect("built in");
        let args = launch(&p, "r", &no_env, false).expect("ok").args.join(" ");
        for part in
            ["--tool-call-parser openai", "--reasoning-parser openai_gptoss", "--enable-auto-tool-choice"]
        {
            assert!(args.contains(part), "{part} in {args}");
        }
    }

    #[test]
    fn key_by_env_name_and_workspace_caches() {
        let p = Profile::parse(
            "t",
            Origin::Builtin,
            "model = \"m\"\napi_key_env = \"MY_KEY\"\ntensor_parallel_size = 2\nenable_expert_parallel = true\n[env]\nHF_HOME = \"/data/hf\"\n",
        )
        .expect("valid");
        assert!(launch(&p, "r", &no_env, true).is_err(), "missing key");
        let env = |k: &str| (k == "MY_KEY").then(|| "sk-1".to_owned());
        let l = launch(&p, "r", &env, true).expect("ok");
        assert!(l.env.contains(&("VLLM_API_KEY".into(), "sk-1".into())));
        assert!(l.env.contains(&("HF_HOME".into(), "/data/hf".into())), "the profile's HF_HOME wins");
        assert!(l.env.contains(&("VLLM_CACHE_ROOT".into(), "/workspace/vllm-cache".into())));
        assert!(!l.args.iter().any(|a| a.contains("sk-1")));
        assert!(l.args.join(" ").contains("--tensor-parallel-size 2"));
        assert!(l.args.contains(&"--enable-expert-parallel".to_owned()));
        let shell = l.shell();
        assert!(!shell.contains("sk-1") && shell.contains("VLLM_API_KEY=…"), "{shell}");
    }

    #[test]
    fn sleep_mode_adds_its_flag_and_dev_mode() {
        let p = Profile::parse("t", Origin::Builtin, "model = \"m\"\nsleep = true\n").expect("valid");
        let l = launch(&p, "r", &no_env, false).expect("ok");
        assert!(l.args.contains(&"--enable-sleep-mode".to_owned()), "{:?}", l.args);
        assert!(l.env.contains(&(DEV_MODE_VAR.into(), "1".into())), "{:?}", l.env);
        let p = Profile::parse("t", Origin::Builtin, "model = \"m\"\n").expect("valid");
        let l = launch(&p, "r", &no_env, false).expect("ok");
        assert!(!l.args.contains(&"--enable-sleep-mode".to_owned()));
        assert!(!l.env.iter().any(|(k, _)| k == DEV_MODE_VAR));
    }

    #[test]
    fn multi_node_worker_flags() {
        let p = Profile::parse(
            "t",
            Origin::Builtin,
            "model = \"m\"\ntensor_parallel_size = 8\nnnodes = 2\nnode_rank = 1\nmaster_addr = \"10.65.0.2\"\nmaster_port = 29501\n",
        )
        .expect("valid");
        let args = launch(&p, "r", &no_env, false).expect("ok").args.join(" ");
        assert!(
            args.contains("--nnodes 2 --node-rank 1 --master-addr 10.65.0.2 --master-port 29501"),
            "{args}"
        );
        assert!(args.contains("--headless"), "{args}");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a-b/c"), "a-b/c");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("{\"a\": 1}"), "'{\"a\": 1}'");
    }
}
