//! The machine: the profile, GPUs, vLLM's installation and the model's files, ports.

use crate::doctor::{Check, Facts};

pub(super) fn profile(f: &Facts) -> Check {
    match &f.profile {
        Ok(p) => Check::pass(
            "profile",
            format!("profile `{}` ({}): {} as `{}`", p.name, p.origin, p.model, p.served_model_name),
        ),
        Err(e) => Check::fail(
            "profile",
            format!("no usable profile: {e}"),
            "fix the profile it names, or pass one: `podctl doctor PROFILE` (`podctl profiles` lists them)",
        ),
    }
}

const NO_GPU_FIX: &str = "on RunPod, a restarted pod can come back with zero GPUs when its machine's GPUs are taken: stop the pod and start it again (or deploy a new one) until it has its GPU; elsewhere install the NVIDIA driver and check `nvidia-smi`";

pub(super) fn gpu(f: &Facts) -> Vec<Check> {
    let mut out = Vec::new();
    let gpus = &f.gpu.gpus;
    if gpus.is_empty() {
        let why = f.gpu.error.clone().unwrap_or_else(|| "no GPU listed".into());
        out.push(Check::fail("gpu.driver", "no GPU visible: vLLM cannot start", NO_GPU_FIX).detail(why));
        for id in ["gpu.devices", "gpu.count", "gpu.memory", "gpu.holders", "gpu.shm"] {
            out.push(Check::skip(id, "no GPU"));
        }
        return out;
    }
    let source = match f.gpu.source {
        Some(crate::gpu::Source::NvidiaSmi) => "nvidia-smi",
        _ => "NVML",
    };
    out.push(Check::pass(
        "gpu.driver",
        format!("NVIDIA driver {} ({source})", f.gpu.driver_version.as_deref().unwrap_or("?")),
    ));
    let lines: Vec<String> = gpus
        .iter()
        .map(|g| {
            format!(
                "GPU {} {}: {}/{} MiB used, {}% busy, {}°C",
                g.index,
                g.name,
                g.memory_used_mib,
                g.memory_total_mib,
                g.utilization_pct.map_or("?".into(), |u| u.to_string()),
                g.temperature_c.map_or("?".into(), |t| t.to_string())
            )
        })
        .collect();
    out.push(
        Check::pass("gpu.devices", format!("{} × {}", gpus.len(), gpus[0].name)).detail(lines.join("\n")),
    );
    let Ok(p) = &f.profile else {
        for id in ["gpu.count", "gpu.memory", "gpu.holders", "gpu.shm"] {
            out.push(Check::skip(id, "no profile"));
        }
        return out;
    };
    let need = p.parallel.gpus_per_node() as usize;
    out.push(if need <= gpus.len() {
        Check::pass("gpu.count", format!("the profile uses {need} of {} GPU(s)", gpus.len()))
    } else {
        Check::fail(
            "gpu.count",
            format!(
                "the profile needs {need} GPUs (tensor {} × pipeline {} × data {}), {} visible",
                p.parallel.tensor,
                p.parallel.pipeline,
                p.parallel.data,
                gpus.len()
            ),
            format!(
                "set tensor_parallel_size = {} in the profile, or rent a pod with {need} GPUs",
                gpus.len()
            ),
        )
    });
    let running = f.instances.iter().any(|l| l.vllm_alive && l.record.profile == p.name);
    let short: Vec<(u32, u64)> = crate::gpu::memory_shortfall_mib(gpus, p.memory_utilization(), need)
        .into_iter()
        .filter(|(_, s)| *s > 0)
        .collect();
    out.push(if running {
        Check::pass("gpu.memory", format!("in use by the running `{}`", p.name))
    } else if short.is_empty() {
        Check::pass(
            "gpu.memory",
            format!("enough free for gpu_memory_utilization = {}", p.memory_utilization()),
        )
    } else {
        let list: Vec<String> = short.iter().map(|(i, s)| format!("GPU {i} lacks {s} MiB")).collect();
        Check::fail(
            "gpu.memory",
            format!(
                "not enough free GPU memory for gpu_memory_utilization = {}: {}",
                p.memory_utilization(),
                list.join(", ")
            ),
            "stop what holds it (see gpu.holders), or lower gpu_memory_utilization in the profile",
        )
    });
    let strangers: Vec<&crate::doctor::facts::Holder> = f.gpu_holders.iter().filter(|h| !h.ours).collect();
    let any_running = f.instances.iter().any(|l| l.vllm_alive);
    out.push(if strangers.is_empty() {
        Check::pass(
            "gpu.holders",
            if any_running { "only podctl's vLLM holds the GPU" } else { "no process holds the GPU" },
        )
    } else {
        let mut sorted = strangers.clone();
        // Orphaned vLLM engines first: they are the usual leak.
        sorted.sort_by_key(|h| (!(h.vllm && h.orphan), !h.vllm, h.pid));
        let lines: Vec<String> = sorted
            .iter()
            .map(|h| {
                format!(
                    "pid {} {}{}",
                    h.pid,
                    h.title,
                    if h.vllm && h.orphan { " (orphaned vLLM)" } else { "" }
                )
            })
            .collect();
        let orphans = sorted.iter().any(|h| h.vllm && h.orphan);
        let pids: Vec<String> = sorted.iter().map(|h| h.pid.to_string()).collect();
        let fix = if orphans {
            format!(
                "`podctl stop --all` kills orphaned vLLM processes; for the others: `kill {}`",
                pids.join(" ")
            )
        } else {
            format!("`kill {}` (check first that nothing you need runs there)", pids.join(" "))
        };
        let check = if any_running { Check::warn } else { Check::fail };
        check("gpu.holders", format!("{} process(es) outside podctl hold the GPU", sorted.len()), fix)
            .detail(lines.join("\n"))
    });
    out.push(if need <= 1 {
        Check::skip("gpu.shm", "one GPU: NCCL needs no shared memory")
    } else {
        match f.shm_bytes {
            Some(b) if b >= 1 << 30 => Check::pass("gpu.shm", format!("/dev/shm is {}", gib(b))),
            Some(b) => Check::fail(
                "gpu.shm",
                format!("/dev/shm is only {} and tensor parallelism over {need} GPUs needs more for NCCL", gib(b)),
                "run the container with a larger --shm-size (RunPod pods have enough), or set NCCL_SHM_DISABLE = \"1\" in the profile's [env] (slower)",
            ),
            None => Check::warn("gpu.shm", "cannot read /dev/shm", "check that /dev/shm is mounted"),
        }
    });
    out
}

pub(super) fn vllm(f: &Facts) -> Vec<Check> {
    let mut out = Vec::new();
    out.push(match &f.vllm_exe {
        Some(exe) => Check::pass(
            "vllm.installed",
            format!("{} (vLLM {})", exe.display(), f.vllm_version.as_deref().unwrap_or("version unknown")),
        ),
        None => Check::fail(
            "vllm.installed",
            "vLLM is not installed (no `vllm` on PATH, PODCTL_VLLM_BIN or the podctl venv)",
            "`podctl setup --install-vllm`, or `pip install vllm`, or set PODCTL_VLLM_BIN",
        ),
    });
    let Ok(p) = &f.profile else {
        out.push(Check::skip("vllm.model", "no profile"));
        out.push(Check::skip("vllm.disk", "no profile"));
        out.push(Check::skip("vllm.sleep", "no profile"));
        return out;
    };
    let hf = &f.hf;
    out.push(if hf.present {
        Check::pass("vllm.model", format!("{} is {}", p.model, if hf.local_path { "on disk" } else { "in the Hugging Face cache" }))
    } else if hf.local_path {
        Check::fail("vllm.model", format!("{} does not exist", p.model), "fix `model` in the profile")
    } else if hf.token_set {
        Check::pass("vllm.model", format!("{} will download on first start (HF_TOKEN set for gated models)", p.model))
    } else {
        Check::warn(
            "vllm.model",
            format!("{} is not downloaded yet; it will download on the first start", p.model),
            "for a gated model, export HF_TOKEN=hf_… (and accept its licence on huggingface.co) before `podctl start`",
        )
        .detail(format!("cache: {}", hf.hub.display()))
    });
    out.push(match (hf.present, hf.free_bytes, hf.estimated_bytes) {
        (false, Some(free), Some(need)) if free < need + need / 10 => Check::fail(
            "vllm.disk",
            format!("{} free under {} but {} needs about {}", gib(free), hf.hub.display(), p.model, gib(need)),
            "free space there, or point HF_HOME at a larger disk (on RunPod: /workspace; the container disk is small)",
        ),
        (false, Some(free), Some(need)) => {
            Check::pass("vllm.disk", format!("{} free for about {} of weights", gib(free), gib(need)))
        }
        (true, Some(free), _) | (false, Some(free), None) => Check::pass("vllm.disk", format!("{} free under {}", gib(free), hf.hub.display())),
        (_, None, _) => Check::warn("vllm.disk", format!("cannot tell the free space under {}", hf.hub.display()), "check `df -h` there"),
    });
    out.push(sleep(p, f));
    out
}

/// `sleep = true` moves the weights to CPU memory under `podctl serve`: they must fit there.
fn sleep(p: &crate::profile::Profile, f: &Facts) -> Check {
    if !p.sleep {
        return Check::skip("vllm.sleep", "sleep mode is off (`sleep = true` in the profile turns it on)");
    }
    match (f.cpu_available_bytes, f.hf.estimated_bytes) {
        (Some(free), Some(need)) if free < need + need / 10 => Check::fail(
            "vllm.sleep",
            format!(
                "asleep, {} keeps about {} of weights in CPU memory, but only {} is available",
                p.model,
                gib(need),
                gib(free)
            ),
            "set `sleep = false` (a swap then stops and reloads it), or stop what uses the memory, or rent a pod with more RAM",
        ),
        (Some(free), Some(need)) => Check::pass(
            "vllm.sleep",
            format!("{} of CPU memory available for about {} of weights asleep", gib(free), gib(need)),
        ),
        _ => Check::warn(
            "vllm.sleep",
            format!("cannot tell whether CPU memory can hold {}'s weights while it sleeps", p.model),
            "check `free -g` against the model's size on disk; without room a sleep fails and the model is stopped instead",
        ),
    }
}

pub(super) fn ports(f: &Facts) -> Vec<Check> {
    f.ports
        .iter()
        .map(|u| {
            let id = if u.role == "vllm" { "port.vllm" } else { "port.proxy" };
            let who = if u.role == "vllm" { "vLLM" } else { "the proxy" };
            if !u.listening {
                Check::pass(id, format!("port {} ({who}) is free", u.port))
            } else if u.ours {
                Check::pass(id, format!("port {} is held by podctl ({who})", u.port))
            } else if u.role == "vllm" && u.holders.iter().any(|(_, cmd)| cmd.contains("vllm")) {
                let pid = u.holders.iter().find(|(_, cmd)| cmd.contains("vllm")).map_or(0, |(p, _)| *p);
                Check::warn(
                    id,
                    format!("port {} is held by a vLLM podctl did not start (pid {pid})", u.port),
                    format!("fine if you run it by hand; `podctl start` needs the port: `kill {pid}` first"),
                )
            } else {
                let holders: Vec<String> =
                    u.holders.iter().map(|(pid, cmd)| format!("pid {pid} ({cmd})")).collect();
                let by = if holders.is_empty() {
                    "a process podctl cannot see (another user or container)".to_owned()
                } else {
                    holders.join(", ")
                };
                let key = if u.role == "vllm" { "`port`" } else { "`[proxy] port`" };
                let kill = u.holders.first().map_or_else(
                    || format!("`ss -ltnp 'sport = :{}'` names it", u.port),
                    |(pid, _)| format!("`kill {pid}`"),
                );
                Check::fail(
                    id,
                    format!("port {} ({who}) is held by {by}", u.port),
                    format!("{kill}, or set {key} in the profile to a free port"),
                )
            }
        })
        .collect()
}

/// `12.3 GiB`.
fn gib(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss, reason = "a display figure")]
    let g = bytes as f64 / f64::from(1u32 << 30);
    format!("{g:.1} GiB")
}
