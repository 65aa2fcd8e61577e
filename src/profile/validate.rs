//! Raw TOML → [`Profile`]: defaults filled in, every value checked, every error placed on its
//! line with the fix.

use std::net::IpAddr;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::error::ProfileError;
use super::error::{closest, key_on_line, line_of};
use super::origin::Origin;
use super::raw::{RawLen, RawProfile};
use super::validated::{Backend, MaxModelLen, Nodes, Parallel, Profile, ProxySettings, RestartSettings};
use crate::toolcall::Format;

impl Profile {
    /// Reads a profile from TOML text; `name` and `origin` name it in errors.
    pub fn parse(name: &str, origin: Origin, text: &str) -> Result<Self, ProfileError> {
        parse(name, origin, text)
    }
}

const TOP_KEYS: &[&str] = &[
    "description",
    "model",
    "revision",
    "served_model_name",
    "tool_format",
    "tool_call_parser",
    "reasoning_parser",
    "think_opened",
    "host",
    "port",
    "api_key_env",
    "vllm_bin",
    "tensor_parallel_size",
    "pipeline_parallel_size",
    "data_parallel_size",
    "enable_expert_parallel",
    "distributed_executor_backend",
    "nnodes",
    "node_rank",
    "master_addr",
    "master_port",
    "headless",
    "max_model_len",
    "gpu_memory_utilization",
    "max_num_seqs",
    "kv_cache_dtype",
    "enable_prefix_caching",
    "dtype",
    "quantization",
    "trust_remote_code",
    "chat_template",
    "shutdown_timeout",
    "idle_unload_secs",
    "sleep",
    "startup_timeout",
    "extra_args",
    "env",
    "proxy",
    "restart",
    "enabled",
    "insecure_no_auth",
    "keepalive_secs",
    "loading_reasoning",
    "max_restarts",
    "window_secs",
    "backoff_max_secs",
];

/// How often a quiet stream gets a keep-alive unless the profile says otherwise.
const DEFAULT_KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(15);

/// Flags podctl writes itself from profile fields: given in `extra_args` they would fight.
const MANAGED_FLAGS: &[(&str, &str)] = &[
    ("--host", "host"),
    ("--port", "port"),
    ("--served-model-name", "served_model_name"),
    ("--revision", "revision"),
    ("--api-key", "api_key_env"),
    ("--tensor-parallel-size", "tensor_parallel_size"),
    ("-tp", "tensor_parallel_size"),
    ("--pipeline-parallel-size", "pipeline_parallel_size"),
    ("--data-parallel-size", "data_parallel_size"),
    ("--max-model-len", "max_model_len"),
    ("--gpu-memory-utilization", "gpu_memory_utilization"),
    ("--enable-sleep-mode", "sleep"),
    ("--max-num-seqs", "max_num_seqs"),
    ("--chat-template", "chat_template"),
    ("--tool-call-parser", "tool_call_parser"),
    ("--reasoning-parser", "reasoning_parser"),
    ("--distributed-executor-backend", "distributed_executor_backend"),
];

struct Ctx<'a> {
    file: String,
    text: &'a str,
}

impl Ctx<'_> {
    fn at(&self, span: Range<usize>, message: impl Into<String>, hint: impl Into<String>) -> ProfileError {
        let line = line_of(self.text, span.start);
        ProfileError::Invalid {
            file: self.file.clone(),
            line: Some(line),
            key: key_on_line(self.text, line),
            message: message.into(),
            hint: hint.into(),
        }
    }

    fn toml_error(&self, e: &toml::de::Error) -> ProfileError {
        let line = e.span().map(|s| line_of(self.text, s.start));
        let message = e.message().trim().to_owned();
        let unknown = message.strip_prefix("unknown field `").and_then(|m| m.split('`').next());
        let (key, hint) = if let Some(word) = unknown {
            let hint = match closest(word, TOP_KEYS) {
                Some(k) => format!("did you mean `{k}`? every key is described in models/README.md"),
                None => "remove it; every key is described in models/README.md".to_owned(),
            };
            (Some(word.to_owned()), hint)
        } else if let Some(missing) =
            message.strip_prefix("missing field `").and_then(|m| m.split('`').next())
        {
            (Some(missing.to_owned()), format!("add `{missing} = …` (see models/README.md)"))
        } else {
            (
                line.and_then(|l| key_on_line(self.text, l)),
                "fix the value's type (see models/README.md for each key)".to_owned(),
            )
        };
        let message = match &key {
            Some(k) if unknown.is_some() => format!("unknown key `{k}`"),
            Some(k) => format!("`{k}`: {message}"),
            None => message,
        };
        ProfileError::Invalid { file: self.file.clone(), line, key, message, hint }
    }
}

pub(super) fn parse(name: &str, origin: Origin, text: &str) -> Result<Profile, ProfileError> {
    let file = match &origin {
        Origin::Builtin => format!("built-in profile `{name}`"),
        Origin::Local(p) | Origin::Home(p) | Origin::File(p) => p.display().to_string(),
    };
    let cx = Ctx { file, text };
    let raw: RawProfile = toml::from_str(text).map_err(|e| cx.toml_error(&e))?;
    let mut warnings = Vec::new();

    let model = raw.model.get_ref().trim().to_owned();
    if model.is_empty() {
        return Err(cx.at(
            raw.model.span(),
            "`model` is empty",
            "give a Hugging Face id (Org/Name) or a local path",
        ));
    }
    let served_model_name = match &raw.served_model_name {
        Some(s) => {
            let n = s.get_ref().trim();
            if n.is_empty() || n.chars().any(char::is_whitespace) {
                return Err(cx.at(
                    s.span(),
                    "`served_model_name` must be one word",
                    "for example `qwen3-coder-30b`",
                ));
            }
            n.to_owned()
        }
        None => model.clone(),
    };
    let tool_format = match &raw.tool_format {
        Some(f) => f
            .get_ref()
            .parse::<Format>()
            .map_err(|e| cx.at(f.span(), e, format!("use one of: {}", Format::NAMES.join(", "))))?,
        // Unset: what the model's name implies (a Llama profile gets llama3_json), else
        // the Qwen3-Coder XML the default model writes.
        None => Format::guess(&model).unwrap_or(Format::Qwen3Coder),
    };
    let (tool_call_parser, reasoning_parser) = parsers(&cx, &raw, tool_format, &model)?;
    let host = match &raw.host {
        Some(h) => {
            let v = h.get_ref().trim();
            if v.is_empty() || v.contains('/') || v.contains(' ') {
                return Err(cx.at(
                    h.span(),
                    format!("`host = \"{v}\"` is not an address"),
                    "use 127.0.0.1 (vLLM behind the proxy) or 0.0.0.0",
                ));
            }
            v.to_owned()
        }
        None => "127.0.0.1".to_owned(),
    };
    let port = port(&cx, raw.port.as_ref(), 8000)?;
    let api_key_env = raw.api_key_env.as_ref().map(|s| env_name(&cx, s)).transpose()?;
    let vllm_bin = match &raw.vllm_bin {
        Some(b) if b.get_ref().trim().is_empty() => {
            return Err(cx.at(b.span(), "`vllm_bin` is empty", "remove it to run `vllm` from PATH"));
        }
        Some(b) => b.get_ref().trim().to_owned(),
        None => "vllm".to_owned(),
    };
    let parallel = parallel(&cx, &raw)?;
    let max_model_len = match &raw.max_model_len {
        None => None,
        Some(s) => Some(match s.get_ref() {
            RawLen::Word(w) if w == "auto" => MaxModelLen::Auto,
            RawLen::Tokens(n) if (1..=i64::from(u32::MAX)).contains(n) => {
                MaxModelLen::Tokens(u32::try_from(*n).unwrap_or(u32::MAX))
            }
            _ => {
                return Err(cx.at(
                    s.span(),
                    "`max_model_len` must be a positive number of tokens or \"auto\"",
                    "for example `max_model_len = 65536`",
                ));
            }
        }),
    };
    let gpu_memory_utilization = match &raw.gpu_memory_utilization {
        Some(g) if !(*g.get_ref() > 0.0 && *g.get_ref() <= 1.0) => {
            return Err(cx.at(
                g.span(),
                format!("`gpu_memory_utilization = {}` is not a fraction in (0, 1]", g.get_ref()),
                "vLLM's default is 0.92; lower it when something else uses the GPU",
            ));
        }
        Some(g) => Some(*g.get_ref()),
        None => None,
    };
    if let Some(n) = &raw.max_num_seqs
        && *n.get_ref() == 0
    {
        return Err(cx.at(n.span(), "`max_num_seqs` must be at least 1", "remove it for vLLM's default"));
    }
    let startup_timeout = match &raw.startup_timeout {
        Some(t) if *t.get_ref() == 0 => {
            return Err(cx.at(
                t.span(),
                "`startup_timeout` must be at least 1 second",
                "the default is 1800 (a first download can take many minutes)",
            ));
        }
        Some(t) => Duration::from_secs(*t.get_ref()),
        None => Duration::from_mins(30),
    };
    let extra_args = raw.extra_args.as_ref().map(|a| a.get_ref().clone()).unwrap_or_default();
    let extra_span = raw.extra_args.as_ref().map_or(0..0, Spanned::span);
    for arg in &extra_args {
        let flag = arg.split('=').next().unwrap_or(arg);
        if let Some((_, key)) = MANAGED_FLAGS.iter().find(|(f, _)| *f == flag) {
            return Err(cx.at(
                extra_span.clone(),
                format!("`extra_args` sets {flag}, which podctl sets from `{key}`"),
                format!("remove {flag} from extra_args and set `{key}` instead"),
            ));
        }
        if flag == "--enable-auto-tool-choice" {
            warnings.push(format!(
                "extra_args has {flag}: vLLM's own parser then rewrites tool calls before podctl's proxy sees them; \
                 podctl's proxy needs none (or set tool_format = \"vllm\" and tool_call_parser to let vLLM parse)"
            ));
        }
    }
    let mut env = std::collections::BTreeMap::new();
    for (k, v) in &raw.env {
        if k.is_empty() || k.contains('=') || k.contains('\0') {
            return Err(cx.at(
                v.span(),
                format!("`{k}` is not an environment variable name"),
                "use NAME = \"value\" in [env]",
            ));
        }
        if k == "PODCTL_RUN_ID" {
            return Err(cx.at(v.span(), "PODCTL_RUN_ID is set by podctl", "remove it from [env]"));
        }
        env.insert(k.clone(), v.get_ref().clone());
    }
    let proxy = proxy(&cx, raw.proxy.as_ref(), port)?;
    let restart = match &raw.restart {
        None => RestartSettings {
            max_restarts: 5,
            window: Duration::from_mins(10),
            backoff_max: Duration::from_mins(1),
        },
        Some(r) => RestartSettings {
            max_restarts: r.max_restarts.unwrap_or(5),
            window: Duration::from_secs(r.window_secs.unwrap_or(600).max(1)),
            backoff_max: match &r.backoff_max_secs {
                Some(b) if *b.get_ref() == 0 => {
                    return Err(cx.at(
                        b.span(),
                        "`backoff_max_secs` must be at least 1",
                        "the default is 60",
                    ));
                }
                Some(b) => Duration::from_secs(*b.get_ref()),
                None => Duration::from_mins(1),
            },
        },
    };
    Ok(Profile {
        name: name.to_owned(),
        origin,
        description: raw.description,
        model,
        revision: raw.revision.filter(|r| !r.is_empty()),
        served_model_name,
        tool_format,
        tool_call_parser,
        reasoning_parser,
        think_opened: raw.think_opened,
        host,
        port,
        api_key_env,
        vllm_bin,
        parallel,
        max_model_len,
        gpu_memory_utilization,
        max_num_seqs: raw.max_num_seqs.map(Spanned::into_inner),
        kv_cache_dtype: raw.kv_cache_dtype,
        enable_prefix_caching: raw.enable_prefix_caching,
        dtype: raw.dtype,
        quantization: raw.quantization,
        trust_remote_code: raw.trust_remote_code,
        chat_template: raw.chat_template,
        shutdown_timeout: raw.shutdown_timeout,
        sleep: raw.sleep,
        idle_unload: raw.idle_unload_secs.filter(|&s| s > 0).map(Duration::from_secs),
        startup_timeout,
        extra_args,
        env,
        proxy,
        restart,
        warnings,
        source: text.to_owned(),
    })
}

fn port(cx: &Ctx<'_>, raw: Option<&Spanned<u16>>, default: u16) -> Result<u16, ProfileError> {
    match raw {
        Some(p) if *p.get_ref() == 0 => {
            Err(cx.at(p.span(), "port 0 is not a port", "pick a port such as 8000"))
        }
        Some(p) => Ok(*p.get_ref()),
        None => Ok(default),
    }
}

fn env_name(cx: &Ctx<'_>, s: &Spanned<String>) -> Result<String, ProfileError> {
    let v = s.get_ref().trim();
    if v.is_empty()
        || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || v.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(cx.at(
            s.span(),
            format!("`{v}` is not an environment variable name"),
            "name the variable that holds the key (e.g. VLLM_API_KEY), never the key itself",
        ));
    }
    Ok(v.to_owned())
}

fn at_least_one(cx: &Ctx<'_>, raw: Option<&Spanned<u32>>, key: &str) -> Result<u32, ProfileError> {
    match raw {
        Some(n) if *n.get_ref() == 0 => {
            Err(cx.at(n.span(), format!("`{key}` must be at least 1"), format!("remove `{key}` for 1")))
        }
        Some(n) => Ok(*n.get_ref()),
        None => Ok(1),
    }
}

fn parallel(cx: &Ctx<'_>, raw: &RawProfile) -> Result<Parallel, ProfileError> {
    let tensor = at_least_one(cx, raw.tensor_parallel_size.as_ref(), "tensor_parallel_size")?;
    let pipeline = at_least_one(cx, raw.pipeline_parallel_size.as_ref(), "pipeline_parallel_size")?;
    let data = at_least_one(cx, raw.data_parallel_size.as_ref(), "data_parallel_size")?;
    let backend = match &raw.distributed_executor_backend {
        None => None,
        Some(b) => Some(match b.get_ref().as_str() {
            "mp" => Backend::Mp,
            "ray" => Backend::Ray,
            other => {
                return Err(cx.at(
                    b.span(),
                    format!("unknown distributed_executor_backend `{other}`"),
                    "use \"mp\" (one machine, or --nnodes) or \"ray\"",
                ));
            }
        }),
    };
    let count = at_least_one(cx, raw.nnodes.as_ref(), "nnodes")?;
    let nodes = if count > 1 || raw.node_rank.is_some() || raw.headless {
        let rank = raw.node_rank.as_ref().map_or(0, |r| *r.get_ref());
        if rank >= count {
            let span = raw.node_rank.as_ref().map_or(0..0, Spanned::span);
            return Err(cx.at(
                span,
                format!("`node_rank = {rank}` must be below `nnodes = {count}`"),
                "ranks run from 0 (the head) to nnodes - 1",
            ));
        }
        if backend == Some(Backend::Ray) {
            let span = raw.nnodes.as_ref().map_or(0..0, Spanned::span);
            return Err(cx.at(
                span,
                "`nnodes` is for multi-node without Ray; with Ray, vLLM finds the nodes from the Ray cluster",
                "remove nnodes/node_rank, run `ray start` on every node, and start only the head with podctl",
            ));
        }
        if rank > 0 && raw.master_addr.is_none() {
            return Err(cx.at(
                raw.model.span(),
                "a worker node (node_rank > 0) needs `master_addr`",
                "set master_addr to the head node's address (RunPod Instant Clusters: $PRIMARY_ADDR)",
            ));
        }
        Some(Nodes {
            count,
            rank,
            master_addr: raw.master_addr.clone(),
            master_port: raw.master_port,
            headless: raw.headless || rank > 0,
        })
    } else {
        None
    };
    Ok(Parallel { tensor, pipeline, data, expert: raw.enable_expert_parallel, backend, nodes })
}

fn proxy(
    cx: &Ctx<'_>,
    raw: Option<&super::raw::RawProxy>,
    vllm_port: u16,
) -> Result<ProxySettings, ProfileError> {
    let Some(raw) = raw else {
        return Ok(ProxySettings {
            enabled: false,
            host: IpAddr::from([0, 0, 0, 0]),
            port: 4000,
            api_key_env: "PODCTL_API_KEY".into(),
            insecure_no_auth: false,
            keepalive: DEFAULT_KEEPALIVE,
            loading_reasoning: false,
        });
    };
    let keepalive = match &raw.keepalive_secs {
        None => DEFAULT_KEEPALIVE,
        Some(s) if (1..=300).contains(s.get_ref()) => std::time::Duration::from_secs(*s.get_ref()),
        Some(s) => {
            return Err(cx.at(
                s.span(),
                format!("keepalive_secs = {} is out of range", s.get_ref()),
                "use 1 to 300 seconds (15 is the default; RunPod's proxy closes a request silent for 100 s)",
            ));
        }
    };
    let host = match &raw.host {
        Some(h) => h.get_ref().trim().parse::<IpAddr>().map_err(|_| {
            cx.at(
                h.span(),
                format!("`{}` is not an IP address", h.get_ref()),
                "use 0.0.0.0 on a pod (RunPod's HTTP proxy reaches it there) or 127.0.0.1",
            )
        })?,
        None => IpAddr::from([0, 0, 0, 0]),
    };
    let port = port(cx, raw.port.as_ref(), 4000)?;
    if port == vllm_port {
        let span = raw.port.as_ref().map_or(0..0, Spanned::span);
        return Err(cx.at(
            span,
            format!("the proxy and vLLM both use port {port}"),
            "give [proxy] port another port (4000 is the usual one)",
        ));
    }
    Ok(ProxySettings {
        enabled: raw.enabled,
        host,
        port,
        api_key_env: raw.api_key_env.clone().unwrap_or_else(|| "PODCTL_API_KEY".into()),
        insecure_no_auth: raw.insecure_no_auth,
        keepalive,
        loading_reasoning: raw.loading_reasoning,
    })
}

/// vLLM's tool and reasoning parsers: the tool parser only where vLLM parses
/// (`tool_format = "vllm"`, named or implied by the model: gpt-oss → `openai`), the
/// reasoning parser wherever asked (gpt-oss's `openai_gptoss` by default under `vllm`).
fn parsers(
    cx: &Ctx<'_>,
    raw: &RawProfile,
    format: Format,
    model: &str,
) -> Result<(Option<String>, Option<String>), ProfileError> {
    let named = |v: &Option<Spanned<String>>, key: &str| -> Result<Option<String>, ProfileError> {
        match v {
            Some(s) if s.get_ref().trim().is_empty() || s.get_ref().contains(char::is_whitespace) => Err(cx
                .at(
                    s.span(),
                    format!("`{key}` must be one of vLLM's parser names"),
                    "for example \"openai\"",
                )),
            Some(s) => Ok(Some(s.get_ref().clone())),
            None => Ok(None),
        }
    };
    let gpt_oss = model.to_ascii_lowercase().contains("gpt-oss");
    let tool = named(&raw.tool_call_parser, "tool_call_parser")?;
    let reasoning = named(&raw.reasoning_parser, "reasoning_parser")?;
    if format != Format::Vllm {
        if let Some(s) = &raw.tool_call_parser {
            return Err(cx.at(
                s.span(),
                format!("`tool_call_parser` is for `tool_format = \"vllm\"`, not `{format}`"),
                "set tool_format = \"vllm\" to let vLLM parse tool calls, or remove tool_call_parser",
            ));
        }
        return Ok((None, reasoning));
    }
    let tool = match tool {
        Some(t) => t,
        None if gpt_oss => "openai".to_owned(),
        None => {
            let span = raw.tool_format.as_ref().map_or(0..0, Spanned::span);
            return Err(cx.at(
                span,
                "`tool_format = \"vllm\"` needs `tool_call_parser`: the name of vLLM's parser for this model",
                "add e.g. tool_call_parser = \"openai\" (see `vllm serve --help=tool-call-parser`)",
            ));
        }
    };
    let reasoning = reasoning.or_else(|| gpt_oss.then(|| "openai_gptoss".to_owned()));
    Ok((Some(tool), reasoning))
}
