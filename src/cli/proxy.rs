//! `podctl proxy`: flags and the config file → a validated [`ProxyConfig`], then serve
//! until SIGINT/SIGTERM.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::global::GlobalArgs;
use crate::proxy::config::{
    self, ConfigError, FileConfig, FileRouter, Layer, LogFormat, ModelConfig, ProxyConfig, ReplicaConfig,
};
use crate::proxy::litellm;
use crate::toolcall::{Format, Reasoning};
use crate::ui::{self, Printer, UserError};

#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// Port to listen on [default: 4000].
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on [default: 127.0.0.1]; use 0.0.0.0 on a pod (needs an API key).
    #[arg(long)]
    pub host: Option<IpAddr>,
    /// vLLM base URL including /v1 [default: http://127.0.0.1:8000/v1]. Several mean
    /// replicas of one model (balanced, retried, health-checked).
    #[arg(long, value_name = "URL")]
    pub upstream: Vec<String>,
    /// How the model writes tool calls: qwen3_coder, hermes, auto, llama3_json, mistral,
    /// deepseek_v3, deepseek_v31, kimi_k2, glm45 or none [default: qwen3_coder].
    #[arg(long, value_name = "FMT", value_parser = parse_format)]
    pub tool_format: Option<Format>,
    /// A key clients must send as `Authorization: Bearer KEY` (repeatable). Default: $PODCTL_API_KEY.
    #[arg(long = "api-key", value_name = "KEY")]
    pub api_keys: Vec<String>,
    /// A file of keys, one per line.
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key). Not needed behind
    /// RunPod's HTTP proxy, which already serves https://POD-PORT.proxy.runpod.net.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Connections held open at once; more wait to be accepted [default: 4096].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: Option<u64>,
    /// Requests one API key may have in flight; more get 429 [default: 512].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_in_flight_per_key: Option<u64>,
    /// The model name clients use (e.g. qwen3-coder-30b); mapped to the upstream's model id.
    #[arg(long, value_name = "NAME")]
    pub model_name: Option<String>,
    /// A TOML file with the same settings plus models, replicas and routing (flags win).
    /// SIGHUP reloads it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read a LiteLLM proxy config (model_list, router_settings, general_settings.master_key)
    /// instead of --config. SIGHUP reloads it.
    #[arg(long, value_name = "FILE")]
    pub litellm_config: Option<PathBuf>,
    /// Serve /metrics without an API key (for a Prometheus scraper on a private network).
    #[arg(long)]
    pub metrics_public: bool,
    /// Stream each tool call's arguments as the model writes them. By default a call is
    /// held until it is complete, so one cut off by the token limit never reaches the
    /// client; set this only for clients that check `finish_reason` before running a call.
    #[arg(long)]
    pub stream_tool_arguments: bool,
    /// Allow listening beyond loopback without an API key.
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// Largest request body accepted, in MiB [default: 32].
    #[arg(long, value_name = "MIB")]
    pub max_body_mb: Option<usize>,
    /// Seconds between SSE keep-alive comments while the upstream is silent [default: 15].
    #[arg(long, value_name = "SECS")]
    pub keepalive_secs: Option<u64>,
    /// End a stream with an error after vLLM sent nothing for this many seconds [default: 600].
    #[arg(long, value_name = "SECS")]
    pub max_silence_secs: Option<u64>,
    /// Answer 408 when a request body has not fully arrived after this many seconds [default: 60].
    #[arg(long, value_name = "SECS")]
    pub body_timeout_secs: Option<u64>,
    /// Close a connection whose request head (line and headers) has not fully arrived after
    /// this many seconds [default: 30].
    #[arg(long, value_name = "SECS")]
    pub header_timeout_secs: Option<u64>,
    /// The most kilobytes of request headers; more gets 431 [default: 64].
    #[arg(long, value_name = "KB", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_header_kb: Option<u64>,
    /// On SIGINT/SIGTERM, seconds to let requests in flight finish [default: 30].
    #[arg(long, value_name = "SECS")]
    pub grace_secs: Option<u64>,
    /// Write each request's raw model text and translated result here (one JSON file each).
    #[arg(long, value_name = "DIR")]
    pub trace_dir: Option<PathBuf>,
    /// Log lines as text or JSON [default: text].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// The chat template opens <think> (QwQ, Qwen3 thinking models): output starts as reasoning.
    #[arg(long)]
    pub think_opened: bool,
    /// Event-loop threads serving connections [default: one per CPU]. Each is
    /// single-threaded and keeps the connections it accepted, upstream ones included; 1 runs
    /// everything on one thread.
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

#[allow(clippy::needless_pass_by_value, reason = "used as `map_err(invalid)`")]
fn invalid(e: ConfigError) -> UserError {
    let hint = e.hint();
    UserError::usage(e.to_string()).hint(hint)
}

impl ProxyArgs {
    /// The settings the flags give, to lay over the file's.
    fn layer(&self) -> Layer {
        Layer {
            host: self.host,
            port: self.port,
            max_body_mb: self.max_body_mb,
            keepalive_secs: self.keepalive_secs,
            max_silence_secs: self.max_silence_secs,
            body_timeout_secs: self.body_timeout_secs,
            header_timeout_secs: self.header_timeout_secs,
            max_header_kb: self.max_header_kb,
            grace_secs: self.grace_secs,
            trace_dir: self.trace_dir.clone(),
            log_format: self.log_format,
            // A switch: it can turn the endpoint public, not private again.
            metrics_public: self.metrics_public.then_some(true),
            stream_tool_arguments: self.stream_tool_arguments.then_some(true),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            max_connections: self.max_connections.and_then(|n| usize::try_from(n).ok()),
            max_in_flight_per_key: self.max_in_flight_per_key.and_then(|n| usize::try_from(n).ok()),
            router: FileRouter::default(),
        }
    }
}

/// The settings file, as podctl's TOML or imported from LiteLLM's YAML, and the LiteLLM
/// keys podctl does not support.
fn read_file(args: &ProxyArgs) -> Result<(FileConfig, Vec<String>), UserError> {
    match (&args.config, &args.litellm_config) {
        (Some(_), Some(_)) => Err(UserError::usage("give --config or --litellm-config, not both")),
        (Some(path), None) => Ok((FileConfig::load(path).map_err(invalid)?, Vec::new())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|source| invalid(ConfigError::Read { path: path.clone(), source }))?;
            let imported = litellm::import(&text, path).map_err(invalid)?;
            Ok((imported.config, imported.unsupported))
        }
        (None, None) => Ok((FileConfig::default(), Vec::new())),
    }
}

/// Builds the configuration: the file's settings, then the flags over them. Also returns
/// warnings to print once logging is set up.
pub(super) fn build_config(args: &ProxyArgs) -> Result<(ProxyConfig, Vec<String>), UserError> {
    let (file, unsupported) = read_file(args)?;
    let mut warnings = Vec::new();
    if !unsupported.is_empty() {
        warnings.push(format!(
            "podctl ignores these LiteLLM settings (not supported): {}",
            unsupported.join(", ")
        ));
    }
    let mut keys = args.api_keys.clone();
    if let Some(path) = args.api_key_file.as_ref().or(file.api_key_file.as_ref()) {
        keys.extend(config::read_key_file(path).map_err(invalid)?);
        warnings.extend(config::exposure_warning(path));
    }
    if !file.api_keys.is_empty()
        && let Some(path) = args.config.as_ref().or(args.litellm_config.as_ref())
    {
        warnings.extend(config::exposure_warning(path));
    }
    if keys.is_empty() {
        keys.clone_from(&file.api_keys);
    }
    if keys.is_empty()
        && let Ok(key) = std::env::var("PODCTL_API_KEY")
        && !key.trim().is_empty()
    {
        keys.push(key.trim().to_owned());
    }
    let upstream_key = || std::env::var("PODCTL_UPSTREAM_API_KEY").ok().filter(|k| !k.is_empty());
    let flag_replicas = args
        .upstream
        .iter()
        .map(|u| Ok(ReplicaConfig::new(config::normalise_upstream(u)?, upstream_key())))
        .collect::<Result<Vec<_>, ConfigError>>()
        .map_err(invalid)?;
    let mut models = file.models(&|var| std::env::var(var).ok()).map_err(invalid)?;
    if models.len() > 1 && (args.model_name.is_some() || !args.upstream.is_empty()) {
        return Err(UserError::usage(
            "--model-name and --upstream apply to one model, but the config file has several",
        )
        .hint("set them in each [models.NAME] section instead"));
    }
    match models.first_mut() {
        None => {
            let mut model = ModelConfig { name: args.model_name.clone(), ..ModelConfig::default() };
            if flag_replicas.is_empty() {
                for replica in &mut model.replicas {
                    replica.key = upstream_key();
                }
            } else {
                model.replicas = flag_replicas;
            }
            models.push(model);
        }
        Some(model) => {
            if let Some(name) = &args.model_name {
                model.name = Some(name.clone());
            }
            if !flag_replicas.is_empty() {
                let key = model.replicas.first().and_then(|r| r.key.clone());
                model.replicas = flag_replicas
                    .into_iter()
                    .map(|r| ReplicaConfig { key: r.key.or_else(|| key.clone()), ..r })
                    .collect();
            }
        }
    }
    for model in &mut models {
        if let Some(format) = args.tool_format {
            model.tool_format = format;
        }
        if args.think_opened {
            model.reasoning = Reasoning::PromptOpened;
        }
    }
    config::check_models(&models).map_err(invalid)?;
    let layer = args.layer().or(Layer::from_file(&file));
    let mut config = ProxyConfig { models, ..ProxyConfig::default() };
    layer.apply(&mut config);
    let insecure = args.insecure_no_auth || file.insecure_no_auth.unwrap_or(false);
    config::check_exposure(config.host, &keys, insecure).map_err(invalid)?;
    config.keys = keys;
    if layer.max_body_mb == Some(0) {
        return Err(UserError::usage("--max-body-mb must be at least 1"));
    }
    config.tls = layer.tls().map_err(invalid)?;
    Ok((config, warnings))
}

pub(super) fn run(args: &ProxyArgs, global: &GlobalArgs, _printer: &Printer) -> anyhow::Result<()> {
    let (config, warnings) = build_config(args)?;
    ui::init_tracing_with(global.verbose, global.quiet, true, config.log_json);
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    // The first event loop is this thread's: it also runs the signals, the reloads and the
    // health probes. The others are started by the proxy (see `Hooks::loops`).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(serve(config, args.clone()))
}

/// One line per model: its names, replicas and tool format.
fn describe_models(config: &ProxyConfig) -> String {
    config
        .models
        .iter()
        .map(|m| {
            let urls: Vec<&str> = m.replicas.iter().map(|r| r.url.as_str()).collect();
            format!("{} → {} ({})", m.name.as_deref().unwrap_or("*"), urls.join(" + "), m.tool_format)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn serve(config: ProxyConfig, args: ProxyArgs) -> anyhow::Result<()> {
    let addr = SocketAddr::new(config.host, config.port);
    let listener = crate::proxy::listen(addr).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            format!(
                "another process holds port {}: find it with `ss -ltnp 'sport = :{}'`, or pick --port",
                config.port, config.port
            )
        } else {
            "check --host and --port".to_owned()
        };
        UserError {
            message: format!("cannot listen on {addr}: {e}"),
            hint: Some(hint),
            code: ui::exit::FAILURE,
        }
    })?;
    let bound = listener.local_addr()?;
    tracing::info!(
        "podctl proxy listening on http://{bound}/v1; {}; auth {}",
        describe_models(&config),
        if config.keys.is_empty() { "off" } else { "on" }
    );
    let shutdown = CancellationToken::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stopping: no new connections; letting requests in flight finish");
        signal.cancel();
    });
    let (started, apps) = tokio::sync::mpsc::unbounded_channel();
    let hooks = crate::proxy::Hooks {
        status_dir: Some(crate::home::state_dir().join("proxies")),
        on_start: Some(started),
        gate: None,
        loops: args.workers.unwrap_or_else(crate::proxy::default_loops).max(1),
    };
    tokio::spawn(reload_on_hangup(apps, args, config.clone()));
    crate::proxy::serve_with(listener, &config, shutdown, hooks).await?;
    Ok(())
}

/// SIGHUP: reads the config file and keys again and applies them; streams in flight go
/// on with the settings they started with. A broken file is reported and changes nothing.
async fn reload_on_hangup(
    mut apps: tokio::sync::mpsc::UnboundedReceiver<std::sync::Arc<crate::proxy::App>>,
    args: ProxyArgs,
    mut current: ProxyConfig,
) {
    let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        return;
    };
    let Some(app) = apps.recv().await else { return };
    while hangups.recv().await.is_some() {
        match build_config(&args) {
            Err(e) => tracing::error!(
                "reload failed, keeping the running config: {}{}",
                e.message,
                e.hint.map(|h| format!(" ({h})")).unwrap_or_default()
            ),
            Ok((config, warnings)) => {
                for warning in &warnings {
                    tracing::warn!("{warning}");
                }
                if (config.host, config.port) != (current.host, current.port) {
                    tracing::warn!("the listen address changed in the config: that takes a restart");
                }
                app.reload(&config);
                tracing::info!(
                    "reloaded: {}; auth {}",
                    describe_models(&config),
                    if config.keys.is_empty() { "off" } else { "on" }
                );
                current = config;
            }
        }
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;
    use std::time::Duration;

    use clap::{CommandFactory as _, Parser};

    use super::*;
    use crate::proxy::config::DEFAULT_UPSTREAM;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: ProxyArgs,
    }

    fn args(argv: &[&str]) -> ProxyArgs {
        Wrapper::parse_from(std::iter::once("proxy").chain(argv.iter().copied())).args
    }

    fn temp(name: &str, text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("podctl-proxy-{}-{name}", std::process::id()));
        std::fs::write(&path, text).expect("written");
        path
    }

    /// Each `[default: …]` in `podctl proxy --help` is what `ProxyConfig::default()` holds,
    /// and every flag whose setting has a default shows it.
    #[test]
    fn help_shows_the_config_defaults() {
        let d = ProxyConfig::default();
        let model = &d.models[0];
        let secs = |t: Duration| t.as_secs().to_string();
        let expected = [
            ("port", d.port.to_string()),
            ("host", d.host.to_string()),
            ("upstream", model.replicas[0].url.clone()),
            ("tool_format", model.tool_format.to_string()),
            ("max_connections", d.max_connections.to_string()),
            ("max_in_flight_per_key", d.max_in_flight_per_key.to_string()),
            ("max_body_mb", (d.max_body >> 20).to_string()),
            ("keepalive_secs", secs(d.keepalive)),
            ("max_silence_secs", secs(d.max_silence)),
            ("body_timeout_secs", secs(d.body_timeout)),
            ("header_timeout_secs", secs(d.header_timeout)),
            ("max_header_kb", (d.max_header_bytes >> 10).to_string()),
            ("grace_secs", secs(d.grace)),
            ("log_format", if d.log_json { "json" } else { "text" }.to_owned()),
            // Not a proxy setting: the runtime's own default.
            ("workers", "one per CPU".to_owned()),
        ];
        let command = Wrapper::command();
        let mut shown = Vec::new();
        for arg in command.get_arguments() {
            let help = arg.get_long_help().or_else(|| arg.get_help()).map(ToString::to_string);
            let Some((_, rest)) = help.as_deref().and_then(|h| h.split_once("[default: ")) else { continue };
            let value = rest.split_once(']').map_or(rest, |(value, _)| value);
            shown.push((arg.get_id().as_str().to_owned(), value.to_owned()));
        }
        let expected: Vec<(String, String)> =
            expected.into_iter().map(|(id, v)| (id.to_owned(), v)).collect();
        assert_eq!(shown, expected);
    }

    #[test]
    fn defaults() {
        let (config, _) = build_config(&args(&["--api-key", "k"])).expect("valid");
        assert_eq!((config.port, config.host.to_string()), (4000, "127.0.0.1".to_owned()));
        assert_eq!(config.models[0].replicas[0].url, DEFAULT_UPSTREAM);
        assert_eq!(config.models[0].tool_format, Format::Qwen3Coder);
        assert_eq!(config.max_body, 32 << 20);
        assert_eq!(config.keys, ["k"]);
    }

    #[test]
    fn file_settings_with_flags_over_them() {
        let file = temp(
            "cfg.toml",
            "port = 4100\nhost = \"0.0.0.0\"\napi_keys = [\"from-file\"]\nmax_body_mb = 8\n\n\
             [models.qwen3-coder-30b]\nupstream = \"http://10.0.0.2:8000/v1/\"\ntool_format = \"hermes\"\n",
        );
        let path = file.to_string_lossy().into_owned();
        let (config, _) = build_config(&args(&["--config", &path, "--port", "4200"])).expect("valid");
        assert_eq!(config.port, 4200, "the flag wins");
        assert_eq!(config.keys, ["from-file"]);
        assert_eq!(config.max_body, 8 << 20);
        let model = &config.models[0];
        assert_eq!(model.name.as_deref(), Some("qwen3-coder-30b"));
        assert_eq!(model.replicas[0].url, "http://10.0.0.2:8000/v1");
        assert_eq!(model.tool_format, Format::Hermes);
        let _ = std::fs::remove_file(file);
    }

    #[test]
    fn broken_files_name_the_line_and_key() {
        let file =
            temp("bad.toml", "port = 4000\n[models.q]\nupstream = \"http://h:1/v1\"\ntool_fromat = \"x\"\n");
        let err = build_config(&args(&["--config", &file.to_string_lossy()])).expect_err("unknown key");
        assert!(err.message.contains("tool_fromat") && err.message.contains("line 4"), "{}", err.message);
        assert_eq!(err.code, ui::exit::USAGE);
        let _ = std::fs::remove_file(file);
        let err = build_config(&args(&["--config", "/nonexistent/podctl.toml"])).expect_err("missing");
        assert!(err.message.contains("cannot read") && err.hint.is_some());
    }

    #[test]
    fn litellm_config_with_one_warning_for_what_is_not_supported() {
        let file = temp(
            "litellm.yaml",
            "model_list:\n\
             - model_name: qwen3-coder\n  litellm_params:\n    model: hosted_vllm/Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8\n    api_base: http://10.0.0.1:8000\n    api_key: none\n    rpm: 60\n\
             - model_name: qwen3-coder\n  litellm_params:\n    model: hosted_vllm/Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8\n    api_base: http://10.0.0.2:8000/v1\n    api_key: none\n\
             router_settings:\n  num_retries: 4\n  cooldown_time: 12\n  redis_host: redis\n\
             litellm_settings:\n  drop_params: true\n\
             general_settings:\n  master_key: sk-master\n",
        );
        // Private, as it holds a key (else a second warning says to chmod 600).
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let (config, warnings) =
            build_config(&args(&["--litellm-config", &file.to_string_lossy()])).expect("imported");
        let model = &config.models[0];
        assert_eq!(model.name.as_deref(), Some("qwen3-coder"));
        assert_eq!(model.tool_format, Format::Qwen3Coder, "from the model name");
        let urls: Vec<&str> = model.replicas.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(urls, ["http://10.0.0.1:8000/v1", "http://10.0.0.2:8000/v1"], "one model, two replicas");
        assert_eq!(model.upstream_model.as_deref(), Some("Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8"));
        assert_eq!(config.keys, ["sk-master"]);
        assert_eq!((config.router.num_retries, config.router.cooldown), (4, Duration::from_secs(12)));
        assert_eq!(warnings.len(), 1, "one warning: {warnings:?}");
        for key in ["rpm", "redis_host", "drop_params"] {
            assert!(warnings[0].contains(key), "{key} named in {}", warnings[0]);
        }
        let both =
            build_config(&args(&["--litellm-config", "x.yaml", "--config", "y.toml"])).expect_err("both");
        assert!(both.message.contains("not both"));
        let _ = std::fs::remove_file(file);
    }

    #[test]
    fn keys_from_a_file_and_exposure() {
        let keys = temp("keys", "# team keys\nsk-a\n\n  sk-b  \n");
        let (config, _) =
            build_config(&args(&["--host", "0.0.0.0", "--api-key-file", &keys.to_string_lossy()]))
                .expect("valid");
        assert_eq!(config.keys, ["sk-a", "sk-b"]);
        // A key file others can read gets a warning with the fix; a private one none.
        let warned = |mode: u32| {
            std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(mode)).expect("chmod");
            let (_, warnings) =
                build_config(&args(&["--api-key-file", &keys.to_string_lossy()])).expect("valid");
            warnings.into_iter().find(|w| w.contains("chmod 600"))
        };
        let warning = warned(0o644).expect("warned");
        assert!(warning.contains("mode 644") && !warning.contains("sk-a"), "{warning}");
        assert_eq!(warned(0o600), None);
        let _ = std::fs::remove_file(keys);
        let err = build_config(&args(&["--host", "0.0.0.0"]));
        if std::env::var_os("PODCTL_API_KEY").is_none() {
            let err = err.expect_err("refused");
            assert!(err.hint.is_some_and(|h| h.contains("--insecure-no-auth")));
            assert!(build_config(&args(&["--host", "0.0.0.0", "--insecure-no-auth"])).is_ok());
        }
        let (config, _) =
            build_config(&args(&["--upstream", "http://a:1/v1", "--upstream", "http://b:1/v1/"]))
                .expect("replicas");
        let urls: Vec<&str> = config.models[0].replicas.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(urls, ["http://a:1/v1", "http://b:1/v1"]);
        assert!(build_config(&args(&["--upstream", "localhost:8000"])).is_err());
        // Names OpenAI clients send to /v1/responses are fine: the proxy serves it.
        for name in ["gpt-5-mini", "o3", "O4-mini"] {
            assert!(build_config(&args(&["--model-name", name])).is_ok(), "{name}");
        }
        assert!(build_config(&args(&["--model-name", "openhands-lm"])).is_ok());
    }
}
