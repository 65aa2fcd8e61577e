//! The proxy settings: the documented file and the flags' help against the defaults, layering, and the checks on hosts and upstream URLs.

use std::net::IpAddr;

use super::*;

#[test]
fn upstream_urls() {
    assert_eq!(normalise_upstream("http://127.0.0.1:8000/v1/").expect("ok"), "http://127.0.0.1:8000/v1");
    assert!(normalise_upstream("127.0.0.1:8000").is_err());
    assert!(normalise_upstream("http://").is_err());
}

#[test]
fn exposure_needs_a_key() {
    let any: IpAddr = "0.0.0.0".parse().expect("ip");
    let lo: IpAddr = "127.0.0.1".parse().expect("ip");
    assert!(check_exposure(lo, &[], false).is_ok());
    assert!(check_exposure(any, &[], false).is_err());
    assert!(check_exposure(any, &["k".into()], false).is_ok());
    assert!(check_exposure(any, &[], true).is_ok());
}

#[test]
fn toml_rejects_unknown_keys_with_a_line() {
    let err = toml::from_str::<FileConfig>("port = 4000\nprot = 1\n").expect_err("unknown key");
    let text = err.to_string();
    assert!(text.contains("prot") && text.contains("line 2"), "{text}");
    let ok: FileConfig =
        toml::from_str("[models.qwen]\nupstream = \"http://h:1/v1\"\ntool_format = \"hermes\"\n")
            .expect("valid");
    assert_eq!(ok.models["qwen"].tool_format.as_deref(), Some("hermes"));
}

/// The TOML block of this module's documentation.
fn documented_file() -> String {
    let doc: Vec<&str> = include_str!("mod.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let start = doc.iter().position(|l| *l == "```toml").expect("a toml block") + 1;
    let end = start + doc[start..].iter().position(|l| *l == "```").expect("its end");
    doc[start..end].join("\n")
}

/// The documented file parses, and every setting it shows is the default: laid over
/// `ProxyConfig::default()` it changes nothing but the examples (keys, trace dir, models).
#[test]
fn the_documented_file_shows_the_defaults() {
    let file: FileConfig = toml::from_str(&documented_file()).expect("the documented file parses");
    let defaults = ProxyConfig::default();
    let mut config = defaults.clone();
    Layer::from_file(&file).apply(&mut config);
    assert_eq!(
        config.trace_dir.take().map(|d| d.display().to_string()).as_deref(),
        Some("/workspace/podctl/traces")
    );
    assert_eq!(config, defaults);
    let [(name, model)] = file.models.iter().collect::<Vec<_>>()[..] else { panic!("one example model") };
    assert_eq!(name, "qwen3-coder-30b");
    let shown = ModelConfig::default();
    assert_eq!(model.upstream.as_deref(), Some(shown.replicas[0].url.as_str()));
    assert_eq!(model.tool_format.as_deref(), Some(shown.tool_format.to_string().as_str()));
}

/// A layer's bounds hold whichever layer a value came from, and a layer that sets nothing
/// changes nothing.
#[test]
fn layers_bound_their_values_and_leave_the_rest() {
    let mut config = ProxyConfig::default();
    Layer::default().apply(&mut config);
    assert_eq!(config, ProxyConfig::default());
    let flags = Layer { keepalive_secs: Some(0), max_header_kb: Some(4096), ..Layer::default() };
    let file =
        Layer { keepalive_secs: Some(9), port: Some(4100), max_connections: Some(0), ..Layer::default() };
    flags.or(file).apply(&mut config);
    assert_eq!(config.keepalive, std::time::Duration::from_secs(1), "the flag wins, at least 1 s");
    assert_eq!((config.port, config.max_header_bytes, config.max_connections), (4100, 1024 << 10, 1));
}
