//! What runs: vLLM's and the proxy's endpoints, the end-to-end tool-call probe, RunPod's
//! exposure, and a Continue config pointed at this proxy.

use serde_json::Value;

use crate::doctor::facts::PROBE_TOOL;
use crate::doctor::{Check, Facts};

fn start_hint(f: &Facts) -> String {
    let name = f.profile.as_ref().map_or("qwen", |p| p.name.as_str());
    format!("`podctl start {name} --proxy`; if it is starting, `podctl status` shows the phase")
}

pub(super) fn vllm(f: &Facts) -> Vec<Check> {
    let served = f.profile.as_ref().map(|p| p.served_model_name.clone()).unwrap_or_default();
    let health = match f.vllm.health {
        Some(200) => Check::pass("service.vllm.health", format!("vLLM answers at {}", f.vllm.url)),
        Some(code) => Check::warn(
            "service.vllm.health",
            format!("vLLM at {} answers /health with {code}: still starting or unhealthy", f.vllm.url),
            "`podctl status` shows the phase; `podctl logs` what vLLM said",
        ),
        None => {
            Check::warn("service.vllm.health", format!("nothing answers at {}", f.vllm.url), start_hint(f))
        }
    };
    let models = match (&f.vllm.models, f.vllm.health) {
        (Some(list), _) if list.iter().any(|m| m.id == served) => {
            let len = list.iter().find(|m| m.id == served).and_then(|m| m.max_model_len);
            Check::pass(
                "service.vllm.models",
                format!(
                    "serves `{served}`{}",
                    len.map(|l| format!(" (max_model_len {l})")).unwrap_or_default()
                ),
            )
        }
        (Some(list), _) => {
            let ids: Vec<&str> = list.iter().map(|m| m.id.as_str()).collect();
            Check::fail(
                "service.vllm.models",
                format!("vLLM serves {} but the profile expects `{served}`", ids.join(", ")),
                "the running vLLM is not this profile's: `podctl stop` it and `podctl start` this one, or fix served_model_name",
            )
        }
        (None, Some(200)) => Check::fail(
            "service.vllm.models",
            "vLLM's /v1/models did not answer with a model list",
            "if vLLM was started with an API key, set the profile's api_key_env to the variable holding it",
        ),
        (None, _) => Check::skip("service.vllm.models", "vLLM is not answering"),
    };
    vec![health, models]
}

pub(super) fn proxy(f: &Facts) -> Vec<Check> {
    let p = &f.proxy;
    let health = match p.health {
        Some(200) => Check::pass("service.proxy.health", format!("the proxy answers at {}", p.url)),
        Some(code) => Check::fail(
            "service.proxy.health",
            format!("something at {} answers /health with {code}: not podctl's proxy?", p.url),
            "see port.proxy for who holds the port",
        ),
        None => Check::warn("service.proxy.health", format!("no proxy at {}", p.url), start_hint(f)),
    };
    let ready = match (&p.ready, p.health) {
        (Some((200, _)), _) => Check::pass("service.proxy.ready", "the proxy reaches vLLM"),
        (Some((code, body)), _) => {
            let why = serde_json::from_str::<Value>(body)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().or(v["message"].as_str()).map(str::to_owned))
                .unwrap_or_else(|| body.chars().take(200).collect());
            Check::fail(
                "service.proxy.ready",
                format!("/health/ready is {code}: {why}"),
                "start vLLM (`podctl status`), or check the proxy's --upstream",
            )
        }
        (None, _) => Check::skip("service.proxy.ready", "the proxy is not running"),
    };
    let auth = match (p.health, p.without_key, p.with_key) {
        (Some(200), Some(401), Some(200)) => {
            Check::pass("service.proxy.auth", "a request without the key is refused (401); with it, accepted")
        }
        (Some(200), Some(401), None) if !p.key_known => Check::warn(
            "service.proxy.auth",
            "the proxy requires a key, and podctl does not know it",
            "export PODCTL_API_KEY=… (the key the proxy was started with) so doctor can run the probe",
        ),
        (Some(200), Some(401), Some(code)) => Check::fail(
            "service.proxy.auth",
            format!("the configured key is refused ({code})"),
            "the proxy runs with another key: restart it (`podctl stop && podctl start … --proxy`) or export the key it uses as PODCTL_API_KEY",
        ),
        (Some(200), Some(200), _) => {
            let public = p.host.is_some_and(|h| !h.is_loopback());
            let make = if public { Check::fail } else { Check::warn };
            make(
                "service.proxy.auth",
                format!(
                    "the proxy accepts requests without a key{}",
                    if public { " on a public address" } else { "" }
                ),
                "set PODCTL_API_KEY (or run `podctl setup`, which writes a key) and restart the proxy",
            )
        }
        (Some(200), other, _) => Check::warn(
            "service.proxy.auth",
            format!(
                "/v1/models without a key answered {}",
                other.map_or("nothing".into(), |c| c.to_string())
            ),
            "check the proxy's log",
        ),
        _ => Check::skip("service.proxy.auth", "the proxy is not running"),
    };
    vec![health, ready, auth]
}

/// The probe passes when the answer holds a well-formed call of the probe tool.
pub(super) fn probe(f: &Facts) -> Check {
    let Some(r) = &f.probe else {
        return Check::skip("probe.tool_call", "needs vLLM and the proxy running");
    };
    if let Some(e) = &r.error {
        return Check::fail(
            "probe.tool_call",
            format!("the probe request failed: {e}"),
            "see `podctl logs` and the proxy's log",
        );
    }
    let status = r.status.unwrap_or(0);
    if status != 200 {
        let message = r.body["error"]["message"].as_str().unwrap_or("(no message)");
        return Check::fail(
            "probe.tool_call",
            format!("the probe got HTTP {status}: {message}"),
            "see service.proxy.auth and `podctl logs`",
        );
    }
    let message = &r.body["choices"][0]["message"];
    let call = &message["tool_calls"][0]["function"];
    let args = call["arguments"].as_str().and_then(|a| serde_json::from_str::<Value>(a).ok());
    let secs = r.took.as_secs_f64();
    match (call["name"].as_str(), args) {
        (Some(PROBE_TOOL), Some(Value::Object(a))) if a.get("city").is_some_and(Value::is_string) => {
            Check::pass(
                "probe.tool_call",
                format!(
                    "a tool request came back as a well-formed call: {PROBE_TOOL}({}) in {secs:.1}s",
                    Value::Object(a)
                ),
            )
        }
        _ => {
            let raw = message["content"].as_str().unwrap_or("");
            let got = if message["tool_calls"].is_array() {
                format!("a malformed call: {}", message["tool_calls"])
            } else {
                "no tool call".to_owned()
            };
            Check::fail(
                "probe.tool_call",
                format!("asked to call {PROBE_TOOL}, the model gave {got}"),
                "check the profile's tool_format matches the model (qwen3_coder for Qwen3-Coder, hermes for Qwen3/Qwen2.5), and that vLLM was started without a tool parser",
            )
            .detail(format!("raw model text: {}", if raw.is_empty() { "(empty)" } else { raw }))
        }
    }
}

pub(super) fn runpod(f: &Facts) -> Check {
    let Some(pod) = &f.runpod.pod_id else {
        return Check::skip("runpod", "not on RunPod (no RUNPOD_POD_ID)");
    };
    let port = f.ports.iter().find(|u| u.role == "proxy").map_or(4000, |u| u.port);
    let url = format!("https://{pod}-{port}.proxy.runpod.net/v1");
    let gpus = f.runpod.gpu_count.as_deref().unwrap_or("?");
    if f.proxy.host.is_some_and(|h| h.is_loopback()) {
        return Check::fail(
            "runpod",
            format!(
                "pod {pod}: the proxy listens on {} only, so {url} cannot reach it",
                f.proxy.host.map(|h| h.to_string()).unwrap_or_default()
            ),
            "set `host = \"0.0.0.0\"` in the profile's [proxy] (or `podctl proxy --host 0.0.0.0`) and restart it",
        );
    }
    Check::pass("runpod", format!("pod {pod} ({gpus} GPU): public URL {url}")).detail(format!(
        "expose HTTP port {port} in the pod's settings (Edit Pod → Expose HTTP Ports) for the URL to work"
    ))
}

/// Whether a restarted pod serves again: the autostart script, and whether the pod's start
/// command runs it.
pub(super) fn autostart(f: &Facts) -> Check {
    const ID: &str = "autostart";
    let on_runpod = f.runpod.pod_id.is_some();
    let Some(found) = &f.autostart.found else {
        if !on_runpod {
            return Check::skip(
                ID,
                "no autostart script (`podctl setup --autostart \"serve qwen\"` writes one)",
            );
        }
        return Check::warn(
            ID,
            "no autostart: after a pod restart nothing serves until someone runs podctl again",
            "podctl setup --autostart \"serve qwen\"  (or \"start qwen --proxy\"), then set the pod's start command it prints",
        );
    };
    let script = found.script.display();
    let command = found.command.as_deref().unwrap_or("(no command found in it)");
    if !found.runnable {
        return Check::fail(
            ID,
            format!("{script} cannot run: it or the podctl it keeps is missing or not executable"),
            format!(
                "podctl setup --autostart \"{}\"",
                command.strip_prefix("podctl ").unwrap_or("serve qwen")
            ),
        );
    }
    let pid1 = f.autostart.pid1.as_deref().unwrap_or("");
    if pid1.contains(&found.script.display().to_string()) {
        return Check::pass(ID, format!("the pod's start command runs {script}: `{command}`"));
    }
    let summary = format!("{script} runs `{command}`, but this pod's start command does not run it");
    let fix = format!(
        "set the pod's start command (RunPod: Edit Pod > Container Start Command) to: bash -c '{script}; /start.sh'"
    );
    let check = if on_runpod {
        Check::warn(ID, summary, fix)
    } else {
        Check::pass(ID, format!("{script} runs `{command}` at pod start (when the start command calls it)"))
    };
    check.detail(if pid1.is_empty() { String::new() } else { format!("PID 1: {pid1}") })
}

pub(super) fn continue_config(f: &Facts) -> Check {
    let Some((path, parsed)) = &f.continue_config else {
        return Check::skip("continue.config", "no --continue-config FILE given");
    };
    let shown = path.display();
    let yaml = match parsed {
        Ok(v) => v,
        Err(e) => {
            return Check::fail(
                "continue.config",
                format!("{shown}: {e}"),
                "fix the file, or regenerate our block with `podctl continue-config --write FILE`",
            );
        }
    };
    let served = f.profile.as_ref().map(|p| p.served_model_name.clone()).unwrap_or_default();
    let port = f.ports.iter().find(|u| u.role == "proxy").map_or(4000, |u| u.port);
    let models = yaml["models"].as_array().cloned().unwrap_or_default();
    let ours: Vec<&Value> = models
        .iter()
        .filter(|m| {
            m["model"].as_str() == Some(served.as_str())
                || m["apiBase"].as_str().is_some_and(|b| {
                    b.contains(&format!("-{port}.proxy.runpod.net")) || b.contains(&format!(":{port}"))
                })
        })
        .collect();
    let Some(m) = ours.first() else {
        return Check::fail(
            "continue.config",
            format!("{shown} has no model using `{served}` or this proxy"),
            format!("`podctl continue-config --write {shown}` adds it"),
        );
    };
    let mut problems = Vec::new();
    if m["provider"].as_str() != Some("openai") {
        problems.push(format!(
            "provider is {} (use `openai`: the `vllm` provider templates the chat itself)",
            m["provider"]
        ));
    }
    let caps = m["capabilities"].as_array().cloned().unwrap_or_default();
    if !caps.iter().any(|c| c.as_str() == Some("tool_use")) {
        problems.push("capabilities lacks `tool_use` (without it Continue never sends tools)".to_owned());
    }
    let base = m["apiBase"].as_str().unwrap_or("");
    let expected: Vec<String> = match &f.runpod.pod_id {
        Some(pod) => vec![format!("https://{pod}-{port}.proxy.runpod.net/v1")],
        None => vec![format!("http://127.0.0.1:{port}/v1"), format!("http://localhost:{port}/v1")],
    };
    if !expected.iter().any(|e| base.trim_end_matches('/') == e) {
        problems.push(format!("apiBase is `{base}`, expected {}", expected[0]));
    }
    if m["model"].as_str() != Some(served.as_str()) {
        problems.push(format!("model is {} but the proxy serves `{served}`", m["model"]));
    }
    let max_len = f
        .vllm
        .models
        .as_ref()
        .and_then(|l| l.iter().find(|x| x.id == served))
        .and_then(|x| x.max_model_len)
        .or_else(|| {
            f.profile.as_ref().ok().and_then(|p| match p.max_model_len {
                Some(crate::profile::MaxModelLen::Tokens(n)) => Some(u64::from(n)),
                _ => None,
            })
        });
    if let (Some(len), Some(max)) = (m["defaultCompletionOptions"]["contextLength"].as_u64(), max_len)
        && len > max
    {
        problems.push(format!("contextLength {len} is above the served max_model_len {max}"));
    }
    if !m["requestOptions"]["timeout"].is_null() {
        problems.push("requestOptions.timeout is set (Continue reads it as ms in one place and s in another): remove it".to_owned());
    }
    if problems.is_empty() {
        Check::pass(
            "continue.config",
            format!("{shown}: `{}` points at this proxy with tool_use", m["name"].as_str().unwrap_or("?")),
        )
    } else {
        Check::fail(
            "continue.config",
            format!(
                "{shown}: {} problem(s) in the model `{}`",
                problems.len(),
                m["name"].as_str().unwrap_or("?")
            ),
            format!("`podctl continue-config --write {shown}` rewrites it"),
        )
        .detail(problems.join("\n"))
    }
}
