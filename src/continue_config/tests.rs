use std::os::unix::fs::PermissionsExt as _;

use serde_norway::Value;

use super::write::sibling;
use super::*;
use crate::profile::{Origin, Profile};

fn profile(extra: &str) -> Profile {
    let text = format!("model = \"Org/M\"\nserved_model_name = \"m-7b\"\n{extra}");
    Profile::parse("m", Origin::Builtin, &text).expect("profile")
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn block() -> ModelBlock {
    ModelBlock::for_profile(&profile("max_model_len = 32768\n"), "sk-test", &no_env)
}

#[test]
fn block_follows_the_client_contract() {
    let b = block();
    assert_eq!(b.name, "m-7b (podctl)");
    assert_eq!(b.api_base, "http://127.0.0.1:4000/v1");
    assert_eq!(b.context_length, 32768);
    let big = ModelBlock::for_profile(&profile("max_model_len = 262144\n"), "k", &no_env);
    assert_eq!(big.context_length, MAX_CONTEXT);
    let auto = ModelBlock::for_profile(&profile("max_model_len = \"auto\"\n"), "k", &no_env);
    assert_eq!(auto.context_length, MAX_CONTEXT);
    let unknown = ModelBlock::for_profile(&profile("[proxy]\nport = 4100\n"), "k", &no_env);
    assert_eq!(unknown.context_length, MAX_CONTEXT);
    let pod = |k: &str| (k == "RUNPOD_POD_ID").then(|| "abc123".to_owned());
    assert_eq!(
        ModelBlock::for_profile(&profile("[proxy]\nport = 4100\n"), "k", &pod).api_base,
        "https://abc123-4100.proxy.runpod.net/v1"
    );

    // The printed text and the value are the same config.
    let printed: Value = serde_norway::from_str(&b.to_yaml().expect("yaml")).expect("printed block parses");
    let entry = &printed["models"][0];
    assert_eq!(entry, &b.to_value().expect("value"));
    assert_eq!(entry["provider"].as_str(), Some("openai"));
    assert_eq!(entry["model"].as_str(), Some("m-7b"));
    assert_eq!(entry["apiKey"].as_str(), Some("sk-test"));
    assert_eq!(entry["capabilities"][0].as_str(), Some("tool_use"));
    assert_eq!(entry["roles"].as_sequence().map(Vec::len), Some(3));
    assert_eq!(entry["defaultCompletionOptions"]["maxTokens"].as_u64(), Some(8192));
    assert_eq!(entry["defaultCompletionOptions"]["temperature"].as_f64(), Some(0.1));
    assert!(entry.get("requestOptions").is_none());
    // Else Continue sends names like gpt-5 or o3 to /v1/responses by itself.
    assert_eq!(entry["useResponsesApi"].as_bool(), Some(false));

    // A placeholder key still prints as valid YAML.
    let mut odd = b.clone();
    odd.api_key = KEY_PLACEHOLDER.into();
    odd.name = "a: b # c".into();
    let printed: Value = serde_norway::from_str(&odd.to_yaml().expect("yaml")).expect("quoted");
    assert_eq!(printed["models"][0], odd.to_value().expect("value"));
}

#[test]
fn merge_keeps_other_models_and_keys_and_replaces_ours() {
    let existing = "name: my config\nversion: 0.0.1\nschema: v1\n# a comment\nmodels:\n  - name: GPT\n    provider: openai\n    model: gpt-4o\ncontext:\n  - provider: code\n";
    let once = merge(existing, &block()).expect("merge");
    let v: Value = serde_norway::from_str(&once).expect("valid");
    assert_eq!(v["name"].as_str(), Some("my config"));
    assert_eq!(v["context"][0]["provider"].as_str(), Some("code"));
    let models = v["models"].as_sequence().expect("list");
    assert_eq!(models.len(), 2);
    assert_eq!(models[0]["name"].as_str(), Some("GPT"));
    assert_eq!(models[1], block().to_value().expect("value"));

    let mut newer = block();
    newer.api_key = "sk-new".into();
    let twice = merge(&once, &newer).expect("merge again");
    let v: Value = serde_norway::from_str(&twice).expect("valid");
    let models = v["models"].as_sequence().expect("list");
    assert_eq!(models.len(), 2, "replaced, not duplicated");
    assert_eq!(models[1]["apiKey"].as_str(), Some("sk-new"));
    assert_eq!(merge(&twice, &newer).expect("idempotent"), twice);

    // Duplicates of ours collapse into the first one's place.
    let dup = format!("models:\n{0}  - name: other\n{0}", "  - name: m-7b (podctl)\n");
    let v: Value = serde_norway::from_str(&merge(&dup, &block()).expect("merge")).expect("valid");
    let names: Vec<&str> =
        v["models"].as_sequence().expect("list").iter().filter_map(|m| m["name"].as_str()).collect();
    assert_eq!(names, ["m-7b (podctl)", "other"]);
}

#[test]
fn merge_into_nothing_and_refusals() {
    for empty in ["", "\n  \n", "# only a comment\n"] {
        let v: Value = serde_norway::from_str(&merge(empty, &block()).expect("merge")).expect("valid");
        assert_eq!(v["name"].as_str(), Some("podctl"));
        assert_eq!(v["version"].as_str(), Some("1.0.0"));
        assert_eq!(v["schema"].as_str(), Some("v1"));
        assert_eq!(v["models"][0], block().to_value().expect("value"));
    }
    let v: Value =
        serde_norway::from_str(&merge("name: x\nmodels:\n", &block()).expect("null models")).expect("valid");
    assert_eq!(v["models"][0], block().to_value().expect("value"));
    assert!(matches!(merge("models: [unclosed\n", &block()), Err(MergeError::Yaml(_))));
    assert!(matches!(merge("- a\n- b\n", &block()), Err(MergeError::NotMapping)));
    assert!(matches!(merge("models: 3\n", &block()), Err(MergeError::ModelsNotList)));
}

#[test]
fn key_order_flag_env_config() {
    let dir = std::env::temp_dir().join(format!("podctl-ccfg-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("config.toml");
    let p = profile("");
    assert_eq!(resolve_key(None, &p, &no_env, &config), None);
    std::fs::write(&config, "api_keys = [\"sk-file\", \"sk-2\"]\n").expect("write");
    assert_eq!(
        resolve_key(None, &p, &no_env, &config),
        Some(("sk-file".into(), KeySource::ConfigFile(config.clone())))
    );
    let env = |k: &str| (k == "PODCTL_API_KEY").then(|| "sk-env".to_owned());
    assert_eq!(resolve_key(None, &p, &env, &config).map(|k| k.0).as_deref(), Some("sk-env"));
    assert_eq!(resolve_key(Some("sk-flag"), &p, &env, &config).map(|k| k.1), Some(KeySource::Flag));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn write_backs_up_and_never_touches_invalid_files() {
    let dir = std::env::temp_dir().join(format!("podctl-ccfg-write-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("sub/config.yaml");
    assert_eq!(write(&path, &block()).expect("create"), Written::Created);
    assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
    assert_eq!(write(&path, &block()).expect("again"), Written::Unchanged);
    assert!(!sibling(&path, ".bak").exists());
    let first = std::fs::read_to_string(&path).expect("read");
    let mut newer = block();
    newer.api_key = "sk-2".into();
    assert_eq!(write(&path, &newer).expect("update"), Written::Updated { backup: sibling(&path, ".bak") });
    assert_eq!(std::fs::read_to_string(sibling(&path, ".bak")).expect("bak"), first);

    std::fs::write(&path, "models: [oops\n").expect("write");
    let err = write(&path, &block()).expect_err("invalid");
    assert!(err.to_string().contains("config.yaml"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "models: [oops\n");
    let leftovers: Vec<_> = std::fs::read_dir(dir.join("sub"))
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
