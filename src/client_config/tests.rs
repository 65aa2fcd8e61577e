use super::*;
use crate::profile::{Origin, Profile};

fn block(key: &str) -> ModelBlock {
    let text = "model = \"Org/M\"\nserved_model_name = \"m-7b\"\nmax_model_len = 32768\n";
    let profile = Profile::parse("m", Origin::Builtin, text).expect("profile");
    let pod = |k: &str| (k == "RUNPOD_POD_ID").then(|| "abc123".to_owned());
    ModelBlock::for_profile(&profile, key, &pod)
}

const AGENTS: [Agent; 5] = [Agent::Continue, Agent::Claude, Agent::Codex, Agent::Opencode, Agent::Qwen];

/// The values of `export NAME='value'` lines, as a shell would read them.
fn exports(text: &str) -> serde_json::Value {
    let settings = exports_to_settings(text).expect("exports");
    serde_json::from_str::<serde_json::Value>(&settings).expect("json")["env"].clone()
}

#[test]
fn every_template_renders_to_its_format_with_a_hostile_key() {
    let key = "k'e\"y\\";
    let b = block(key);
    for agent in AGENTS {
        let text = agent.render(&b, "PODCTL_API_KEY").expect("renders");
        assert!(!text.contains("{{"), "{agent:?}: a placeholder is left: {text}");
        match agent {
            Agent::Continue => {
                let v: serde_norway::Value = serde_norway::from_str(&text).expect("yaml");
                assert_eq!(v["models"][0]["apiKey"].as_str(), Some(key));
            }
            Agent::Claude | Agent::Qwen => {
                let env = exports(&text);
                let key_var = if agent == Agent::Claude { "ANTHROPIC_API_KEY" } else { "OPENAI_API_KEY" };
                assert_eq!(env[key_var], key);
            }
            Agent::Codex => {
                let t: toml::Table = toml::from_str(&text).expect("toml");
                assert_eq!(t["model"].as_str(), Some("m-7b"));
            }
            Agent::Opencode => {
                let v: serde_json::Value = serde_json::from_str(&text).expect("json");
                assert_eq!(v["provider"]["pod"]["options"]["apiKey"], key);
            }
        }
    }
}

#[test]
fn each_agent_gets_the_url_shape_and_names_it_needs() {
    let b = block("sk-1");
    let claude = exports(&Agent::Claude.render(&b, "K").expect("claude"));
    // Claude Code appends /v1/messages itself.
    assert_eq!(claude["ANTHROPIC_BASE_URL"], "https://abc123-4000.proxy.runpod.net");
    for var in [
        "ANTHROPIC_MODEL",
        "ANTHROPIC_DEFAULT_OPUS_MODEL",
        "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL",
        "CLAUDE_CODE_SUBAGENT_MODEL",
    ] {
        assert_eq!(claude[var], "m-7b", "{var}");
    }
    let codex: toml::Table =
        toml::from_str(&Agent::Codex.render(&b, "MY_KEY").expect("codex")).expect("toml");
    let provider = &codex["model_providers"][codex["model_provider"].as_str().expect("provider")];
    assert_eq!(provider["base_url"].as_str(), Some("https://abc123-4000.proxy.runpod.net/v1"));
    assert_eq!(provider["env_key"].as_str(), Some("MY_KEY"));
    assert_eq!(provider["wire_api"].as_str(), Some("responses"));
    let oc: serde_json::Value =
        serde_json::from_str(&Agent::Opencode.render(&b, "K").expect("oc")).expect("json");
    assert_eq!(oc["model"], "pod/m-7b");
    assert_eq!(oc["provider"]["pod"]["npm"], "@ai-sdk/openai-compatible");
    assert_eq!(oc["provider"]["pod"]["models"]["m-7b"]["limit"]["context"], 32768);
    let qwen = exports(&Agent::Qwen.render(&b, "K").expect("qwen"));
    assert_eq!(qwen["OPENAI_BASE_URL"], "https://abc123-4000.proxy.runpod.net/v1");
    assert_eq!(qwen["OPENAI_MODEL"], "m-7b");
}

#[test]
fn json_merge_is_deep_and_keeps_the_users_settings() {
    let existing = r#"{"theme": "dark", "provider": {"other": {"npm": "x"}, "pod": {"models": {"mine": {}}, "options": {"timeout": 5}}}, "model": "other/x"}"#;
    let ours = Agent::Opencode.render(&block("sk-1"), "K").expect("oc");
    let merged = Agent::Opencode.merge(existing, &ours, &block("sk-1")).expect("merge");
    let v: serde_json::Value = serde_json::from_str(&merged).expect("json");
    assert_eq!(v["theme"], "dark");
    assert_eq!(v["provider"]["other"]["npm"], "x");
    assert_eq!(v["provider"]["pod"]["options"]["timeout"], 5);
    assert_eq!(v["provider"]["pod"]["options"]["apiKey"], "sk-1");
    assert!(v["provider"]["pod"]["models"]["mine"].is_object());
    assert_eq!(v["model"], "pod/m-7b");
    assert_eq!(Agent::Opencode.merge(&merged, &ours, &block("sk-1")).expect("again"), merged, "idempotent");
    assert!(matches!(Agent::Opencode.merge("{ // c\n}", &ours, &block("k")), Err(MergeError::Json(_))));
    assert!(matches!(Agent::Opencode.merge("[1]", &ours, &block("k")), Err(MergeError::JsonNotObject)));
}

#[test]
fn claude_settings_get_the_env_and_keep_everything_else() {
    let existing =
        r#"{"permissions": {"allow": ["Bash"]}, "env": {"MY_VAR": "1", "ANTHROPIC_MODEL": "old"}}"#;
    let b = block("sk-2");
    let ours = Agent::Claude.render(&b, "K").expect("claude");
    let v: serde_json::Value =
        serde_json::from_str(&Agent::Claude.merge(existing, &ours, &b).expect("merge")).expect("json");
    assert_eq!(v["permissions"]["allow"][0], "Bash");
    assert_eq!(v["env"]["MY_VAR"], "1");
    assert_eq!(v["env"]["ANTHROPIC_MODEL"], "m-7b");
    assert_eq!(v["env"]["ANTHROPIC_API_KEY"], "sk-2");
    let fresh: serde_json::Value =
        serde_json::from_str(&Agent::Claude.merge("", &ours, &b).expect("new")).expect("json");
    assert_eq!(fresh["env"]["ANTHROPIC_BASE_URL"], "https://abc123-4000.proxy.runpod.net");
}

#[test]
fn toml_merge_keeps_comments_other_providers_and_settings() {
    let existing = "# my settings\nmodel = \"gpt-5\" # the default\napproval_policy = \"never\"\n\n[model_providers.other]\nbase_url = \"http://x/v1\"\n\n[model_providers.podctl]\nname = \"old\"\nquery_params = { a = \"b\" }\n";
    let b = block("sk-3");
    let ours = Agent::Codex.render(&b, "PODCTL_API_KEY").expect("codex");
    let merged = Agent::Codex.merge(existing, &ours, &b).expect("merge");
    assert!(
        merged.starts_with("# my settings\n") && merged.ends_with("model_provider = \"podctl\"\n"),
        "{merged}"
    );
    assert!(merged.contains("model = \"m-7b\" # the default"), "{merged}");
    let t: toml::Table = toml::from_str(&merged).expect("toml");
    assert_eq!(t["approval_policy"].as_str(), Some("never"));
    assert_eq!(t["model_provider"].as_str(), Some("podctl"));
    assert_eq!(t["model_providers"]["other"]["base_url"].as_str(), Some("http://x/v1"));
    let ours_table = &t["model_providers"]["podctl"];
    assert_eq!(ours_table["name"].as_str(), Some("podctl"));
    assert_eq!(ours_table["query_params"]["a"].as_str(), Some("b"));
    assert_eq!(ours_table["wire_api"].as_str(), Some("responses"));
    assert_eq!(Agent::Codex.merge(&merged, &ours, &b).expect("again"), merged, "idempotent");
    assert_eq!(Agent::Codex.merge("", &ours, &b).expect("new"), ours);
    assert!(matches!(Agent::Codex.merge("model = ", &ours, &b), Err(MergeError::Toml(_))));
}

#[test]
fn qwen_has_no_file_and_each_file_is_found_where_its_agent_looks() {
    let b = block("k");
    assert!(matches!(Agent::Qwen.merge("", "", &b), Err(MergeError::NoFile("Qwen Code"))));
    let home = |k: &str| (k == "HOME").then(|| "/h".to_owned());
    let path =
        |a: Agent, env: &dyn Fn(&str) -> Option<String>| a.default_path(env).map(|p| p.display().to_string());
    assert_eq!(path(Agent::Continue, &home).as_deref(), Some("/h/.continue/config.yaml"));
    assert_eq!(path(Agent::Claude, &home).as_deref(), Some("/h/.claude/settings.json"));
    assert_eq!(path(Agent::Codex, &home).as_deref(), Some("/h/.codex/config.toml"));
    assert_eq!(path(Agent::Opencode, &home).as_deref(), Some("/h/.config/opencode/opencode.json"));
    assert_eq!(path(Agent::Qwen, &home), None);
    let own = |k: &str| match k {
        "CLAUDE_CONFIG_DIR" => Some("/c".to_owned()),
        "CODEX_HOME" => Some("/x".to_owned()),
        "OPENCODE_CONFIG" => Some("/o.json".to_owned()),
        _ => None,
    };
    assert_eq!(path(Agent::Claude, &own).as_deref(), Some("/c/settings.json"));
    assert_eq!(path(Agent::Codex, &own).as_deref(), Some("/x/config.toml"));
    assert_eq!(path(Agent::Opencode, &own).as_deref(), Some("/o.json"));
    assert_eq!(path(Agent::Continue, &own), None, "no HOME");
}

#[test]
fn several_models_behind_one_proxy_are_all_listed_and_the_first_is_the_default() {
    let first = block("k");
    let mut second = block("k");
    second.name = "GLM".into();
    second.model = "glm47".into();
    let blocks = [first, second];
    for agent in AGENTS {
        let text = agent.render_all(&blocks, "PODCTL_API_KEY").expect("renders");
        match agent {
            Agent::Continue => {
                let v: serde_norway::Value = serde_norway::from_str(&text).expect("yaml");
                let models: Vec<&str> = v["models"]
                    .as_sequence()
                    .expect("list")
                    .iter()
                    .filter_map(|m| m["model"].as_str())
                    .collect();
                assert_eq!(models, ["m-7b", "glm47"]);
            }
            Agent::Claude | Agent::Qwen => {
                let var = if agent == Agent::Claude { "ANTHROPIC_MODEL" } else { "OPENAI_MODEL" };
                assert_eq!(exports(&text)[var], "m-7b");
                assert!(text.contains("# Also served here: glm47"), "{text}");
            }
            Agent::Codex => {
                let t: toml::Table = toml::from_str(&text).expect("toml");
                assert_eq!(t["model"].as_str(), Some("m-7b"), "{text}");
                let profiles = t["profiles"].as_table().expect("profiles");
                assert_eq!(profiles["glm47"]["model"].as_str(), Some("glm47"));
                assert_eq!(profiles["m-7b"]["model_provider"].as_str(), Some("podctl"));
            }
            Agent::Opencode => {
                let v: serde_json::Value = serde_json::from_str(&text).expect("json");
                assert_eq!(v["model"], "pod/m-7b");
                let models = v["provider"]["pod"]["models"].as_object().expect("models");
                assert!(models.contains_key("m-7b") && models.contains_key("glm47"), "{v}");
            }
        }
        // Written into an existing file the same way.
        // (Claude Code's settings hold one model: the first.)
        if agent.file_kind().is_some_and(|k| k != FileKind::JsonEnv) {
            let merged = agent.merge_all("", &text, &blocks).expect("merges");
            assert!(merged.contains("glm47") && merged.contains("m-7b"), "{agent:?}: {merged}");
        }
    }
}
