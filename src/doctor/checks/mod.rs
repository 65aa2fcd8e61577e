//! Facts → verdicts, purely. One function per area; each returns its checks in a fixed
//! order, so `doctor --json` always lists the same ids.

mod services;
mod system;

use super::{Check, Facts};

/// Every check, in the order doctor prints them.
pub fn all(facts: &Facts) -> Vec<Check> {
    let mut out = Vec::new();
    out.push(system::profile(facts));
    out.extend(system::gpu(facts));
    out.extend(system::vllm(facts));
    out.extend(system::ports(facts));
    out.extend(services::vllm(facts));
    out.extend(services::proxy(facts));
    out.push(services::probe(facts));
    out.push(services::runpod(facts));
    out.push(services::autostart(facts));
    out.push(services::continue_config(facts));
    out
}

/// Every id [`all`] can produce, in order (the `--json` schema's list).
pub const IDS: &[&str] = &[
    "profile",
    "gpu.driver",
    "gpu.devices",
    "gpu.count",
    "gpu.memory",
    "gpu.holders",
    "gpu.shm",
    "vllm.installed",
    "vllm.model",
    "vllm.disk",
    "vllm.sleep",
    "port.vllm",
    "port.proxy",
    "service.vllm.health",
    "service.vllm.models",
    "service.proxy.health",
    "service.proxy.ready",
    "service.proxy.auth",
    "probe.tool_call",
    "runpod",
    "autostart",
    "continue.config",
];

#[cfg(test)]
mod tests;
