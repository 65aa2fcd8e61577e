use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::proxy::config::{FileModel, FileReplica};

const BASIC: &str = include_str!("../../../tests/fixtures/litellm/basic.yaml");
const REPLICAS: &str = include_str!("../../../tests/fixtures/litellm/replicas_fallbacks.yaml");
const OPENAI: &str = include_str!("../../../tests/fixtures/litellm/openai_prefix.yaml");
const MASTER_ENV: &str = include_str!("../../../tests/fixtures/litellm/master_key_env.yaml");
const MIXED: &str = include_str!("../../../tests/fixtures/litellm/mixed_providers.yaml");
const UNSUPPORTED: &str = include_str!("../../../tests/fixtures/litellm/many_unsupported.yaml");
const BROKEN: &str = include_str!("../../../tests/fixtures/litellm/broken.yaml");

const PATH: &str = "litellm.yaml";

/// Imports `text` with exactly the variables in `vars` set.
fn run(text: &str, vars: &[(&str, &str)]) -> Result<Imported, ConfigError> {
    let env = |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned());
    import_with(text, Path::new(PATH), &env)
}

fn ok(text: &str, vars: &[(&str, &str)]) -> Imported {
    run(text, vars).unwrap_or_else(|e| panic!("import failed: {e}"))
}

fn err(text: &str, vars: &[(&str, &str)]) -> String {
    run(text, vars).expect_err("import should fail").to_string()
}

fn replica(url: &str, key_env: Option<&str>, key: Option<&str>, weight: Option<u32>) -> FileReplica {
    FileReplica {
        url: url.to_owned(),
        api_key_env: key_env.map(str::to_owned),
        api_key: key.map(str::to_owned),
        weight,
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn models(entries: Vec<(&str, FileModel)>) -> BTreeMap<String, FileModel> {
    entries.into_iter().map(|(name, model)| (name.to_owned(), model)).collect()
}

const ENV_NOTE: &str =
    "environment_variables (podctl does not set environment variables; export them before starting podctl)";

#[test]
fn fixtures_map_onto_podctl_config() {
    struct Case {
        name: &'static str,
        text: &'static str,
        vars: &'static [(&'static str, &'static str)],
        config: FileConfig,
        unsupported: Vec<String>,
    }
    let cases = vec![
        Case {
            name: "basic",
            text: BASIC,
            vars: &[],
            config: FileConfig {
                api_keys: strings(&["sk-1234"]),
                models: models(vec![(
                    "qwen3-coder",
                    FileModel {
                        replicas: vec![replica("http://localhost:8000/v1", Some("VLLM_API_KEY"), None, None)],
                        tool_format: Some("qwen3_coder".into()),
                        upstream_model: Some("Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8".into()),
                        ..FileModel::default()
                    },
                )]),
                ..FileConfig::default()
            },
            unsupported: strings(&["litellm_settings.drop_params"]),
        },
        Case {
            name: "replicas_fallbacks",
            text: REPLICAS,
            vars: &[],
            config: FileConfig {
                router: FileRouter {
                    num_retries: Some(3),
                    timeout_secs: Some(301),
                    allowed_fails: Some(2),
                    cooldown_secs: Some(60),
                    ..FileRouter::default()
                },
                models: models(vec![
                    (
                        "qwen-coder",
                        FileModel {
                            replicas: vec![
                                replica("http://10.0.0.2:8000/v1", None, Some("none"), Some(3)),
                                replica("http://10.0.0.3:8000/v1", None, Some("none"), Some(1)),
                            ],
                            tool_format: Some("qwen3_coder".into()),
                            upstream_model: Some("Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8".into()),
                            fallbacks: strings(&["qwen-small"]),
                            aliases: strings(&["coder"]),
                            ..FileModel::default()
                        },
                    ),
                    (
                        "qwen-small",
                        FileModel {
                            replicas: vec![replica(
                                "https://pod-c.example.com/v1",
                                None,
                                Some("EMPTY"),
                                None,
                            )],
                            tool_format: Some("hermes".into()),
                            upstream_model: Some("Qwen/Qwen2.5-Coder-32B-Instruct".into()),
                            ..FileModel::default()
                        },
                    ),
                ]),
                ..FileConfig::default()
            },
            unsupported: strings(&["model_list[2].litellm_params.rpm"]),
        },
        Case {
            name: "openai_prefix",
            text: OPENAI,
            vars: &[],
            config: FileConfig {
                router: FileRouter { num_retries: Some(1), timeout_secs: Some(120), ..FileRouter::default() },
                models: models(vec![
                    (
                        "qwq",
                        FileModel {
                            replicas: vec![replica("http://127.0.0.1:8001/v1", None, Some("sk-local"), None)],
                            tool_format: Some("hermes".into()),
                            upstream_model: Some("Qwen/QwQ-32B".into()),
                            ..FileModel::default()
                        },
                    ),
                    (
                        "llama",
                        FileModel {
                            replicas: vec![
                                replica("http://gpu-1:8000/v1", None, None, None),
                                replica("http://gpu-2:8000/v1", None, None, None),
                            ],
                            tool_format: Some("hermes".into()),
                            upstream_model: None,
                            ..FileModel::default()
                        },
                    ),
                ]),
                ..FileConfig::default()
            },
            unsupported: strings(&[
                "router_settings.routing_strategy=latency-based-routing (podctl uses least-busy with prefix affinity)",
            ]),
        },
        Case {
            name: "master_key_env",
            text: MASTER_ENV,
            vars: &[("VLLM_API_BASE", "http://pod:8000"), ("LITELLM_MASTER_KEY", "sk-env")],
            config: FileConfig {
                api_keys: strings(&["sk-env"]),
                models: models(vec![(
                    "Qwen3-32B",
                    FileModel {
                        replicas: vec![replica("http://pod:8000/v1", None, None, None)],
                        tool_format: Some("hermes".into()),
                        upstream_model: Some("Qwen/Qwen3-32B".into()),
                        ..FileModel::default()
                    },
                )]),
                ..FileConfig::default()
            },
            unsupported: strings(&[
                "general_settings.database_url",
                "general_settings.store_model_in_db",
                ENV_NOTE,
            ]),
        },
        Case {
            name: "mixed_providers",
            text: MIXED,
            vars: &[],
            config: FileConfig {
                models: models(vec![(
                    "local-coder",
                    FileModel {
                        replicas: vec![replica("http://localhost:8000/v1", None, None, None)],
                        tool_format: Some("qwen3_coder".into()),
                        upstream_model: Some("Qwen/Qwen3-Coder-30B-A3B-Instruct".into()),
                        ..FileModel::default()
                    },
                )]),
                ..FileConfig::default()
            },
            unsupported: strings(&[
                "model_list[0] (anthropic/claude-3-5-sonnet-20241022)",
                "model_list[2] (openai/gpt-4o without api_base)",
                "model_list[3] (bedrock/amazon.titan-text-express-v1)",
                "model_list[4] (azure/gpt-4o-deployment)",
                "router_settings.fallbacks[0] (local-coder → claude)",
                "router_settings.fallbacks[1] (claude → local-coder)",
            ]),
        },
        Case {
            name: "many_unsupported",
            text: UNSUPPORTED,
            vars: &[],
            config: FileConfig {
                api_keys: strings(&["sk-master"]),
                router: FileRouter { num_retries: Some(2), timeout_secs: Some(900), ..FileRouter::default() },
                models: models(vec![(
                    "coder",
                    FileModel {
                        replicas: vec![replica("http://vllm:8000/v1", Some("VLLM_API_KEY"), None, None)],
                        tool_format: Some("qwen3_coder".into()),
                        upstream_model: Some("Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8".into()),
                        ..FileModel::default()
                    },
                )]),
                ..FileConfig::default()
            },
            unsupported: strings(&[
                "model_list[0].litellm_params.rpm",
                "model_list[0].litellm_params.tpm",
                "model_list[0].litellm_params.max_tokens",
                "model_list[0].litellm_params.temperature",
                "model_list[0].litellm_params.stream_timeout",
                "model_list[0].litellm_params.timeout",
                "model_list[0].litellm_params.max_retries",
                "model_list[0].model_info.mode",
                "model_list[0].model_info.max_input_tokens",
                "model_list[0].model_info.supports_function_calling",
                "litellm_settings.drop_params",
                "litellm_settings.set_verbose",
                "litellm_settings.success_callback",
                "litellm_settings.failure_callback",
                "litellm_settings.cache",
                "litellm_settings.cache_params",
                "router_settings.routing_strategy=usage-based-routing-v2 (podctl uses least-busy with prefix affinity)",
                "router_settings.redis_host",
                "router_settings.redis_port",
                "router_settings.redis_password",
                "router_settings.enable_pre_call_checks",
                "router_settings.context_window_fallbacks",
                "general_settings.alerting",
                "general_settings.proxy_batch_write_at",
                ENV_NOTE,
                "include",
            ]),
        },
    ];
    for case in cases {
        let got = ok(case.text, case.vars);
        assert_eq!(got.config, case.config, "{}: config", case.name);
        assert_eq!(got.unsupported, case.unsupported, "{}: unsupported", case.name);
    }
}

#[test]
fn broken_yaml_names_the_file_and_line() {
    let error = run(BROKEN, &[]).expect_err("broken");
    assert!(matches!(error, ConfigError::Toml { .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.starts_with("litellm.yaml: "), "{text}");
    assert!(text.contains("line 5"), "{text}");
}

#[test]
fn master_key_from_an_unset_variable_fails() {
    assert_eq!(
        err(MASTER_ENV, &[("VLLM_API_BASE", "http://pod:8000")]),
        "litellm.yaml: general_settings.master_key names $LITELLM_MASTER_KEY, which is not set \
         (it is under environment_variables:, which podctl does not apply; export it)"
    );
    assert_eq!(
        err(MASTER_ENV, &[("LITELLM_MASTER_KEY", "sk-env")]),
        "litellm.yaml: model_list[0] (model_name: Qwen3-32B): litellm_params.api_base names $VLLM_API_BASE, \
         which is not set"
    );
    let plain = "model_list: [{model_name: q, litellm_params: {model: hosted_vllm/q, api_base: 'http://h:1/v1'}}]\n\
                 general_settings: {master_key: os.environ/KEY}\n";
    assert_eq!(
        err(plain, &[("KEY", "")]),
        "litellm.yaml: general_settings.master_key names $KEY, which is not set"
    );
}

#[test]
fn litellm_master_key_variable_is_the_default_key() {
    let text =
        "model_list: [{model_name: q, litellm_params: {model: hosted_vllm/q, api_base: 'http://h:1/v1'}}]\n";
    assert_eq!(ok(text, &[("LITELLM_MASTER_KEY", "sk-env")]).config.api_keys, strings(&["sk-env"]));
    assert_eq!(ok(text, &[]).config.api_keys, Vec::<String>::new());
    assert_eq!(ok(BASIC, &[("LITELLM_MASTER_KEY", "sk-env")]).config.api_keys, strings(&["sk-1234"]));
}

#[test]
fn shape_errors_show_a_minimal_file() {
    let minimal = "a minimal LiteLLM config is:\nmodel_list:\n  - model_name: qwen-coder\n";
    let cases: &[(&str, &str)] = &[
        ("", "litellm.yaml: is empty; "),
        ("# only a comment\n", "litellm.yaml: is empty; "),
        ("- a\n- b\n", "litellm.yaml: holds a list at the top, not a mapping; "),
        ("general_settings: {master_key: sk-1}\n", "litellm.yaml: has no model_list; "),
        ("model_list: []\n", "litellm.yaml: model_list is empty; "),
        ("model_list:\n", "litellm.yaml: model_list must be a list, not nothing; "),
    ];
    for (text, start) in cases {
        let message = err(text, &[]);
        assert!(message.starts_with(start), "{text:?}: {message}");
        assert!(message.contains(minimal), "{text:?}: {message}");
    }
}

#[test]
fn entry_errors_name_the_entry() {
    let cases: &[(&str, &str)] = &[
        (
            "model_list: [{model_name: q, litellm_params: {model: hosted_vllm/Qwen/Qwen3-32B}}]",
            "litellm.yaml: model_list[0] (model_name: q): litellm_params.api_base is missing; podctl needs \
             the server's URL, e.g. http://localhost:8000/v1",
        ),
        (
            "model_list: [{model_name: q, litellm_params: {model: hosted_vllm/q, api_base: 'localhost:8000'}}]",
            "litellm.yaml: model_list[0] (model_name: q): litellm_params.api_base: upstream `localhost:8000` \
             must start with http:// or https://",
        ),
        (
            "model_list: [{litellm_params: {model: hosted_vllm/q}}]",
            "litellm.yaml: model_list[0] has no model_name (the name clients use)",
        ),
        (
            "model_list: [{model_name: q}]",
            "litellm.yaml: model_list[0] (model_name: q) has no litellm_params mapping with model and api_base",
        ),
        (
            "model_list: [{model_name: q, litellm_params: {api_base: 'http://h:1'}}]",
            "litellm.yaml: model_list[0] (model_name: q): litellm_params.model is missing; expected \
             hosted_vllm/<the model id vLLM serves>",
        ),
        (
            "model_list: [{model_name: q, litellm_params: {model: hosted_vllm/, api_base: 'http://h:1'}}]",
            "litellm.yaml: model_list[0] (model_name: q): litellm_params.model `hosted_vllm/` names no model \
             after hosted_vllm/",
        ),
        (
            "model_list: [{model_name: q, litellm_params: {model: hosted_vllm/q, api_base: 'http://h:1', weight: 0}}]",
            "litellm.yaml: model_list[0] (model_name: q): litellm_params.weight must be a positive number, not 0",
        ),
        (
            "model_list:\n\
             - {model_name: q, litellm_params: {model: hosted_vllm/q, api_base: 'http://h:1'}, model_info: {tool_format: hermes}}\n\
             - {model_name: q, litellm_params: {model: hosted_vllm/q, api_base: 'http://h:2'}, model_info: {tool_format: none}}\n",
            "litellm.yaml: model_name q: its entries disagree on model_info.tool_format (hermes, none)",
        ),
        (
            "model_list: [{model_name: claude, litellm_params: {model: anthropic/claude-3}}, \
             {model_name: gpt, litellm_params: {model: gpt-4o}}]",
            "litellm.yaml: no model_list entry is served by an OpenAI-compatible server podctl can proxy \
             (hosted_vllm/ or openai/ with an api_base); skipped: model_list[0] (anthropic/claude-3), \
             model_list[1] (gpt-4o)",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(&err(text, &[]), want, "{text}");
    }
    let text = "model_list: [{model_name: q, litellm_params: {model: hosted_vllm/q, api_base: 'http://h:1'}, \
                model_info: {tool_format: xml}}]";
    let want = format!(
        "litellm.yaml: model_list[0] (model_name: q): model_info.tool_format: unknown tool format `xml` \
         (expected one of: {})",
        crate::toolcall::Format::NAMES.join(", ")
    );
    assert_eq!(err(text, &[]), want);
}

#[test]
fn settings_errors() {
    let model = "model_list:\n\
                 - {model_name: a, litellm_params: {model: hosted_vllm/a, api_base: 'http://h:1'}}\n\
                 - {model_name: b, litellm_params: {model: hosted_vllm/b, api_base: 'http://h:2'}}\n";
    let cases: &[(&str, &str)] = &[
        (
            "router_settings: {fallbacks: [{a: [c]}]}",
            "litellm.yaml: router_settings.fallbacks[0] names `c`, which is not a model_name in model_list \
             (known: a, b)",
        ),
        (
            "litellm_settings: {fallbacks: [{z: [a]}]}",
            "litellm.yaml: litellm_settings.fallbacks[0] names `z`, which is not a model_name in model_list \
             (known: a, b)",
        ),
        (
            "router_settings: {fallbacks: {a: b}}",
            "litellm.yaml: router_settings.fallbacks must be a list like [{qwen-coder: [qwen-small]}], not a mapping",
        ),
        (
            "router_settings: {model_group_alias: {x: c}}",
            "litellm.yaml: router_settings.model_group_alias names `c`, which is not a model_name in model_list \
             (known: a, b)",
        ),
        (
            "router_settings: {num_retries: -1}",
            "litellm.yaml: router_settings.num_retries must be a whole number ≥ 0, not -1",
        ),
        (
            "router_settings: {timeout: 0}",
            "litellm.yaml: router_settings.timeout must be a number of seconds above 0, not 0",
        ),
        (
            "router_settings: {cooldown_time: soon}",
            "litellm.yaml: router_settings.cooldown_time must be a number of seconds ≥ 0, not \"soon\"",
        ),
        ("router_settings: [1]", "litellm.yaml: router_settings must be a mapping, not a list"),
        ("general_settings: {master_key: ''}", "litellm.yaml: general_settings.master_key is empty"),
    ];
    for (settings, want) in cases {
        let text = format!("{model}{settings}\n");
        assert_eq!(&err(&text, &[]), want, "{settings}");
    }
}

#[test]
fn settings_details() {
    let text = "model_list:\n\
                - {model_name: a, litellm_params: {model: hosted_vllm/a, api_base: 'http://h:1', weight: 0.4}}\n\
                - {model_name: b, litellm_params: {model: hosted_vllm/b, api_base: 'http://h:2', weight: 2.5}}\n\
                router_settings:\n\
                \x20 routing_strategy: least-busy\n\
                \x20 cooldown_time: 0\n\
                \x20 timeout: 600\n\
                \x20 fallbacks: [{a: b}, {a: [b, a]}]\n\
                \x20 model_group_alias: {alpha: a, beta: {model: b, hidden: true}}\n\
                litellm_settings:\n\
                \x20 request_timeout: 30\n\
                \x20 num_retries: 4\n\
                \x20 fallbacks: [{b: [a]}]\n\
                router_settings_typo: 1\n";
    let got = ok(text, &[]);
    assert_eq!(got.unsupported, strings(&["router_settings_typo"]));
    let router = &got.config.router;
    assert_eq!(
        (router.num_retries, router.timeout_secs, router.cooldown_secs),
        (Some(4), Some(600), Some(0))
    );
    let (a, b) = (&got.config.models["a"], &got.config.models["b"]);
    assert_eq!((a.replicas[0].weight, b.replicas[0].weight), (Some(1), Some(3)));
    assert_eq!((a.fallbacks.clone(), b.fallbacks.clone()), (strings(&["b"]), strings(&["a"])));
    assert_eq!((a.aliases.clone(), b.aliases.clone()), (strings(&["alpha"]), strings(&["beta"])));
    assert_eq!((a.tool_format.as_deref(), a.upstream_model.as_deref()), (None, Some("a")));
}

#[test]
fn entries_in_other_forms() {
    let text = "defaults: &vllm\n\
                \x20 api_base: http://gpu:8000/v1\n\
                \x20 api_key: os.environ/POD_KEY\n\
                model_list:\n\
                - model_name: qwen\n\
                \x20 litellm_params:\n\
                \x20   <<: *vllm\n\
                \x20   model: hosted_vllm/Qwen/Qwen3-Coder-30B-A3B-Instruct\n\
                - model_name: custom\n\
                \x20 litellm_params: {model: Qwen/Qwen2.5-7B-Instruct, custom_llm_provider: openai, api_base: 'http://h:1/openai/v1/', api_key: 1234}\n\
                - model_name: '*'\n\
                \x20 litellm_params: {model: 'hosted_vllm/*', api_base: 'http://h:1'}\n\
                - model_name: qwen-sdk\n\
                \x20 litellm_params: {model: qwen-chat, custom_llm_provider: dashscope}\n";
    let got = ok(text, &[]);
    assert_eq!(
        got.unsupported,
        strings(&[
            "defaults",
            "model_list[2] (hosted_vllm/* wildcard)",
            "model_list[3] (dashscope: qwen-chat)"
        ])
    );
    let qwen = &got.config.models["qwen"];
    assert_eq!(qwen.replicas, vec![replica("http://gpu:8000/v1", Some("POD_KEY"), None, None)]);
    assert_eq!(qwen.tool_format.as_deref(), Some("qwen3_coder"));
    let custom = &got.config.models["custom"];
    assert_eq!(custom.replicas, vec![replica("http://h:1/openai/v1", None, Some("1234"), None)]);
    assert_eq!(custom.upstream_model.as_deref(), Some("Qwen/Qwen2.5-7B-Instruct"));
    assert_eq!(custom.tool_format.as_deref(), Some("hermes"));
    assert_eq!(got.config.models.len(), 2);
}

#[test]
fn names_openai_clients_send_to_responses_are_kept() {
    let text = "model_list: [{model_name: gpt-5, litellm_params: {model: openai/Qwen/Qwen3-32B, api_base: 'http://h:1'}}]";
    assert!(ok(text, &[]).config.models.contains_key("gpt-5"));
}

#[test]
fn tool_format_from_the_model_name() {
    // The id says nothing; the model_name does.
    let text = "model_list: [{model_name: qwen3-coder-local, litellm_params: {model: openai/local, api_base: 'http://h:1'}}]";
    assert_eq!(ok(text, &[]).config.models["qwen3-coder-local"].tool_format.as_deref(), Some("qwen3_coder"));
}
