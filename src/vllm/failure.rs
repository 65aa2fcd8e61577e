//! Names the cause when vLLM fails, from the text of its log (`shared/guide/vllm-ops.md`,
//! "Failures and what to tell the user"). vLLM's last words are always `Engine core
//! initialization failed. See root cause above.`; the cause is in the lines before it, and
//! each recognised cause comes with the numbers from the log and what to change (a profile
//! field or a command). Causes a restart cannot fix are marked fatal, so the supervisor does
//! not hide them behind a restart loop.

use std::fmt::Write as _;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::logtext::{number_after, parse_f64, strip_ansi};

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Less free GPU memory than `gpu_memory_utilization` asks for (often an orphaned vLLM).
    GpuMemoryHeld,
    /// The KV cache for `max_model_len` does not fit.
    ContextTooLong,
    /// The weights leave no room (no cache blocks, CUDA out of memory).
    ModelTooLarge,
    /// vLLM's port is taken.
    PortInUse,
    /// No such repository or directory, or a private one without a token.
    ModelMissing,
    /// A gated repository the token has no access to.
    ModelGated,
    /// The disk filled up while downloading.
    DiskFull,
    /// More GPUs asked for than the machine has.
    TpTooLarge,
    /// FP8 block-quantized MoE weights cannot be split at this tensor parallel size.
    Fp8BlockN,
    /// `/dev/shm` is too small for NCCL.
    NcclShm,
    /// A worker process died (often SIGKILL from the OOM killer).
    WorkerKilled,
    /// vLLM sees no GPU.
    NoGpu,
    /// The generic last words; the cause was not recognised.
    EngineInitFailed,
}

impl FailureKind {
    /// True for causes a restart cannot fix (all except `WorkerKilled` and `EngineInitFailed`).
    pub fn is_fatal(self) -> bool {
        !matches!(self, FailureKind::WorkerKilled | FailureKind::EngineInitFailed)
    }
}

/// A recognised cause, ready to show.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    /// One line: what happened, with the numbers from the log (e.g. "vLLM estimates the
    /// longest context that fits is 65536 tokens").
    pub summary: String,
    /// What to do, naming the profile field or command (e.g. "set `max_model_len = 65536` in
    /// the profile, or `kv_cache_dtype = \"fp8\"`").
    pub hint: String,
    /// The log line that matched (colour codes removed).
    pub line: String,
}

/// Builds the summary and hint from the matching line.
type Explain = fn(&str) -> (String, String);

/// One cause: its text, other texts of which one must be on the line too (none: no
/// condition), the kind, and how to explain it.
type Rule = (&'static str, &'static [&'static str], FailureKind, Explain);

/// Checked in order on every line; the first rule that matches wins. More specific texts
/// come first (`/dev/shm/nccl-` before `[Errno 28]`, `GatedRepoError` before `401 Client
/// Error`).
const RULES: &[Rule] = &[
    ("Free memory on device", &[], FailureKind::GpuMemoryHeld, gpu_memory_held),
    ("To serve at least one request with the model", &[], FailureKind::ContextTooLong, context_too_long),
    ("No available memory for the cache blocks", &[], FailureKind::ModelTooLarge, no_cache_blocks),
    ("CUDA out of memory", &[], FailureKind::ModelTooLarge, cuda_oom),
    (
        "[Errno 98]",
        &["Address already in use", "address already in use", "error while attempting to bind"],
        FailureKind::PortInUse,
        port_in_use,
    ),
    ("GatedRepoError", &[], FailureKind::ModelGated, gated),
    ("Cannot access gated repo", &[], FailureKind::ModelGated, gated),
    ("Invalid repository ID or local directory", &[], FailureKind::ModelMissing, invalid_repo),
    ("RepositoryNotFoundError", &[], FailureKind::ModelMissing, repo_not_found),
    ("401 Client Error", &[], FailureKind::ModelMissing, repo_not_found),
    ("403 Client Error", &[], FailureKind::ModelGated, gated),
    ("/dev/shm/nccl-", &[], FailureKind::NcclShm, nccl_shm),
    ("Not enough free disk space to download", &[], FailureKind::DiskFull, disk_space),
    ("[Errno 28]", &[], FailureKind::DiskFull, no_space_left),
    ("World size (", &["larger than the number of available GPUs"], FailureKind::TpTooLarge, world_size),
    ("is not divisible by weight quantization block_n", &[], FailureKind::Fp8BlockN, fp8_block_n),
    ("Worker proc ", &["died unexpectedly"], FailureKind::WorkerKilled, worker_died),
    ("Failed to infer device type", &[], FailureKind::NoGpu, no_gpu),
    ("Engine core initialization failed", &[], FailureKind::EngineInitFailed, engine_init_failed),
];

static FINDERS: LazyLock<Vec<Finder<'static>>> =
    LazyLock::new(|| RULES.iter().map(|(needle, ..)| Finder::new(needle)).collect());

/// The cause one log line names, if any (prefixes and colour codes are tolerated).
pub fn match_line(line: &str) -> Option<Failure> {
    let clean = strip_ansi(line);
    match_clean(clean.trim())
}

/// [`match_line`] for a line already without colour codes.
pub(super) fn match_clean(text: &str) -> Option<Failure> {
    let bytes = text.as_bytes();
    RULES.iter().zip(FINDERS.iter()).find_map(|((_, also, kind, explain), finder)| {
        finder.find(bytes)?;
        if !also.is_empty() && !also.iter().any(|a| text.contains(a)) {
            return None;
        }
        let (summary, hint) = explain(text);
        Some(Failure { kind: *kind, summary, hint, line: text.to_owned() })
    })
}

/// Given the last lines before the process exited (oldest first), the most specific
/// diagnosis: a specific kind beats `EngineInitFailed`; the first specific match wins.
pub fn diagnose<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<Failure> {
    let mut generic = None;
    for line in lines {
        match match_line(line) {
            Some(f) if f.kind == FailureKind::EngineInitFailed => {
                generic.get_or_insert(f);
            }
            Some(f) => return Some(f),
            None => {}
        }
    }
    generic
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

/// The number just before `needle` (`… weight = 192 is not divisible` → `192`).
fn number_before<'a>(text: &'a str, needle: &str) -> Option<&'a str> {
    let head = text[..text.find(needle)?].trim_end();
    let start = head.rfind(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',')).map_or(0, |i| i + 1);
    let number = &head[start..];
    (!number.is_empty()).then_some(number)
}

fn gpu_memory_held(text: &str) -> (String, String) {
    let rest = text.find("Free memory on device").map_or(text, |i| &text[i..]);
    let device = between(rest, "device ", " ").unwrap_or("the GPU");
    let gpu = device.strip_prefix("cuda:").map_or_else(|| device.to_owned(), |n| format!("GPU {n}"));
    let free = between(rest, "(", "/");
    let total = number_after(rest, "/");
    let wanted = number_after(rest, "utilization (");
    let wanted_gib = between(rest, "utilization (", ")").and_then(|s| number_after(s, ","));
    let mut summary = match (free, total) {
        (Some(free), Some(total)) => format!("{gpu} has only {free} of {total} GiB free"),
        _ => format!("{gpu} has too little free memory"),
    };
    if let (Some(u), Some(g)) = (wanted, wanted_gib) {
        let _ = write!(summary, ", less than vLLM wants ({g} GiB at gpu_memory_utilization {u})");
    } else {
        summary += ", less than vLLM wants";
    }
    summary += ": another process holds GPU memory";
    let fits = free.and_then(parse_f64).zip(total.and_then(parse_f64)).and_then(|(free, total)| {
        let at_most = ((free / total - 0.02) * 100.0).floor() / 100.0;
        (total > 0.0 && at_most >= 0.05).then_some(at_most)
    });
    let lower = fits.map_or_else(
        || "lower `gpu_memory_utilization` in the profile".to_owned(),
        |u| format!("lower `gpu_memory_utilization` to at most {u:.2} in the profile"),
    );
    let hint = format!(
        "find the holder with `podctl doctor` (often an orphaned vLLM from an earlier run; `podctl stop` \
         sweeps those) and stop it; else {lower}"
    );
    (summary, hint)
}

fn context_too_long(text: &str) -> (String, String) {
    let seq = number_after(text, "max seq len (");
    let needed = number_before(text, "GiB KV cache is needed");
    let available = number_after(text, "available KV cache memory (");
    let estimate = number_after(text, "estimated maximum model length is");
    let mut summary = match seq {
        Some(seq) => format!("the KV cache for the model's max length of {seq} tokens does not fit"),
        None => "the KV cache for the model's max length does not fit".to_owned(),
    };
    if let (Some(needed), Some(available)) = (needed, available) {
        let _ = write!(summary, " ({needed} GiB needed, {available} GiB available)");
    }
    if let Some(m) = estimate {
        let _ = write!(summary, "; vLLM estimates the longest context that fits is {m} tokens");
    }
    let hint = match estimate {
        Some(m) => format!("set `max_model_len = {m}` in the profile, or `kv_cache_dtype = \"fp8\"`"),
        None => "lower `max_model_len` in the profile, or set `kv_cache_dtype = \"fp8\"`".to_owned(),
    };
    (summary, hint)
}

const TOO_LARGE_HINT: &str = "the model does not fit this GPU: use its FP8 checkpoint (a `-FP8` `model`), \
                              or more GPUs with `tensor_parallel_size`";

fn no_cache_blocks(_: &str) -> (String, String) {
    ("the weights leave no GPU memory for the KV cache".to_owned(), TOO_LARGE_HINT.to_owned())
}

fn cuda_oom(text: &str) -> (String, String) {
    let mut summary = "the GPU ran out of memory (CUDA out of memory".to_owned();
    if let Some(size) = between(text, "Tried to allocate ", ". ") {
        let _ = write!(summary, " allocating {size}");
    }
    if let Some(gpu) = between(text, ". GPU ", " has a total capacity") {
        let _ = write!(summary, " on GPU {gpu}");
    }
    summary.push(')');
    (summary, TOO_LARGE_HINT.to_owned())
}

fn port_in_use(text: &str) -> (String, String) {
    let summary = match number_after(text, "', ") {
        Some(port) => format!("port {port} is already in use"),
        None => "vLLM's port is already in use".to_owned(),
    };
    let hint = "another process listens on it (`ss -ltnp` names it; an earlier vLLM: `podctl stop`): \
                stop it, or set another `port` in the profile";
    (summary, hint.to_owned())
}

fn gated(text: &str) -> (String, String) {
    let summary = match between(text, "Access to model ", " is restricted") {
        Some(model) => format!("Hugging Face refuses access to the gated model {model}"),
        None => "Hugging Face refuses access to the model: it is gated".to_owned(),
    };
    let hint = "accept the model's licence on its Hugging Face page, and set `HF_TOKEN` (in the \
                environment or the profile's `[env]`) to a token of that account";
    (summary, hint.to_owned())
}

const MISSING_HINT: &str = "check `model` in the profile (the exact Hugging Face id, or a local path); for a \
                            private repository set `HF_TOKEN`";

fn invalid_repo(text: &str) -> (String, String) {
    let summary = match between(text, "specified: '", "'") {
        Some(model) => format!("`{model}` is neither a Hugging Face repository nor a local directory"),
        None => "the model is neither a Hugging Face repository nor a local directory".to_owned(),
    };
    (summary, MISSING_HINT.to_owned())
}

fn repo_not_found(_: &str) -> (String, String) {
    let summary = "Hugging Face found no such repository (or it is private and no valid token was sent)";
    (summary.to_owned(), MISSING_HINT.to_owned())
}

const DISK_HINT: &str = "free space on `/workspace` (`df -h /workspace`) and keep `HF_HOME` under `/workspace`; \
                         the container disk is not `/workspace`";

fn disk_space(text: &str) -> (String, String) {
    let place = between(text, "The target location ", " only has");
    let free = number_after(text, "only has");
    let size = number_after(text, "expected file size is:");
    let mut summary = match (place, free) {
        (Some(place), Some(free)) => {
            format!("not enough disk space to download the weights: {place} has {free} MB free")
        }
        _ => "not enough disk space to download the weights".to_owned(),
    };
    if let Some(size) = size {
        let _ = write!(summary, " (the next file needs {size} MB)");
    }
    (summary, DISK_HINT.to_owned())
}

fn no_space_left(text: &str) -> (String, String) {
    let summary = match between(text, "device: '", "'") {
        Some(path) => format!("the disk is full (no space left writing {path})"),
        None => "the disk is full (no space left on device)".to_owned(),
    };
    (summary, DISK_HINT.to_owned())
}

fn world_size(text: &str) -> (String, String) {
    let want = number_after(text, "World size (").unwrap_or("more");
    let have = number_after(text, "available GPUs (").unwrap_or("fewer");
    let summary =
        format!("vLLM needs {want} GPUs (tensor × pipeline parallel size) but this machine has {have}");
    let hint = format!(
        "lower `tensor_parallel_size` (× `pipeline_parallel_size`) to at most {have}, or use a pod with {want} GPUs"
    );
    (summary, hint)
}

fn fp8_block_n(text: &str) -> (String, String) {
    let size = number_before(text, "is not divisible");
    let block = number_after(text, "block_n =");
    let summary = match (size, block) {
        (Some(size), Some(block)) => format!(
            "the FP8 checkpoint cannot be split across this many GPUs: a weight slice of {size} is not \
             divisible by the quantization block of {block}"
        ),
        _ => "the FP8 checkpoint cannot be split across this many GPUs (quantization block size)".to_owned(),
    };
    let hint = "set `enable_expert_parallel = true` in the profile, or `tensor_parallel_size` ≤ 2";
    (summary, hint.to_owned())
}

fn nccl_shm(text: &str) -> (String, String) {
    let summary = match between(text, "(size ", ")") {
        Some(size) => format!("NCCL could not create its shared-memory segment in /dev/shm ({size} bytes)"),
        None => "NCCL could not create its shared-memory segment in /dev/shm".to_owned(),
    };
    let hint = "/dev/shm is too small for NCCL between the GPUs: give the container a larger /dev/shm \
                (docker `--shm-size`), or set `NCCL_SHM_DISABLE = \"1\"` in the profile's `[env]` (slower)";
    (summary, hint.to_owned())
}

fn worker_died(text: &str) -> (String, String) {
    let worker = between(text, "Worker proc ", " ").unwrap_or("a worker");
    let code = number_after(text, "exit code:");
    let summary = match code {
        Some("-9") => format!("vLLM worker {worker} was killed (exit code -9: SIGKILL)"),
        Some(code) => format!("vLLM worker {worker} died (exit code {code})"),
        None => format!("vLLM worker {worker} died"),
    };
    let hint = if code == Some("-9") {
        "SIGKILL comes from the host's out-of-memory killer (check `dmesg` and the container's memory \
         limit) or an outside kill"
    } else {
        "the worker crashed; the lines before this one in vLLM's log say why"
    };
    (summary, hint.to_owned())
}

fn no_gpu(_: &str) -> (String, String) {
    let hint = "the pod has 0 GPUs (`nvidia-smi` lists none); RunPod can restart a pod without its GPU: \
                stop the pod and start it again, or deploy a new one";
    ("vLLM found no GPU (failed to infer device type)".to_owned(), hint.to_owned())
}

fn engine_init_failed(_: &str) -> (String, String) {
    let hint = "the cause is in the lines before `Engine core initialization failed` in vLLM's log";
    ("vLLM's engine failed to start".to_owned(), hint.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ERR: &str = "(EngineCore_DP0 pid=1234) ERROR 11-24 08:02:10 [core.py:708] ";

    /// (line, kind, words the summary must contain, words the hint must contain)
    fn table() -> Vec<(String, FailureKind, Vec<&'static str>, Vec<&'static str>)> {
        vec![
            (
                format!("{ERR}ValueError: Free memory on device cuda:1 (10.2/79.19 GiB) on startup is less than desired GPU memory utilization (0.92, 72.86 GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes."),
                FailureKind::GpuMemoryHeld,
                vec!["GPU 1", "10.2 of 79.19 GiB", "72.86 GiB", "0.92"],
                vec!["podctl doctor", "`gpu_memory_utilization` to at most 0.10"],
            ),
            (
                format!("{ERR}ValueError: To serve at least one request with the models's max seq len (262144), (24.00 GiB KV cache is needed, which is larger than the available KV cache memory (12.50 GiB). Based on the available memory, the estimated maximum model length is 136528. Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine."),
                FailureKind::ContextTooLong,
                vec!["262144", "24.00 GiB needed", "12.50 GiB available", "longest context that fits is 136528 tokens"],
                vec!["`max_model_len = 136528`", "`kv_cache_dtype = \"fp8\"`"],
            ),
            (
                format!("{ERR}ValueError: No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine."),
                FailureKind::ModelTooLarge,
                vec!["no GPU memory for the KV cache"],
                vec!["FP8", "`tensor_parallel_size`"],
            ),
            (
                format!("{ERR}torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.50 GiB. GPU 0 has a total capacity of 79.19 GiB of which 20.00 MiB is free. Including non-PyTorch memory, this process has 79.16 GiB memory in use."),
                FailureKind::ModelTooLarge,
                vec!["1.50 GiB", "GPU 0"],
                vec!["FP8", "`tensor_parallel_size`"],
            ),
            (
                "(APIServer pid=1200) OSError: [Errno 98] Address already in use".to_owned(),
                FailureKind::PortInUse,
                vec!["port is already in use"],
                vec!["`port`", "ss -ltnp"],
            ),
            (
                "ERROR:    [Errno 98] error while attempting to bind on address ('0.0.0.0', 8000): address already in use".to_owned(),
                FailureKind::PortInUse,
                vec!["port 8000"],
                vec!["`port`"],
            ),
            (
                format!("{ERR}ValueError: Invalid repository ID or local directory specified: 'Qwen/Qwen3-Coder-31B'."),
                FailureKind::ModelMissing,
                vec!["`Qwen/Qwen3-Coder-31B`"],
                vec!["`model`", "HF_TOKEN"],
            ),
            (
                "huggingface_hub.errors.RepositoryNotFoundError: 401 Client Error. (Request ID: Root=1-6743c1a2-0f1e2d3c4b5a69788796a5b4;c0ffee00-1234-5678-9abc-def012345678)".to_owned(),
                FailureKind::ModelMissing,
                vec!["no such repository"],
                vec!["`model`", "HF_TOKEN"],
            ),
            (
                "requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://huggingface.co/api/models/acme/private-coder/revision/main".to_owned(),
                FailureKind::ModelMissing,
                vec!["private"],
                vec!["HF_TOKEN"],
            ),
            (
                format!("{ERR}huggingface_hub.errors.GatedRepoError: 403 Client Error. (Request ID: Root=1-6743c1a2-77aa) Cannot access gated repo for url https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct/resolve/main/config.json. Access to model meta-llama/Llama-3.3-70B-Instruct is restricted and you are not in the authorized list."),
                FailureKind::ModelGated,
                vec!["meta-llama/Llama-3.3-70B-Instruct"],
                vec!["licence", "HF_TOKEN"],
            ),
            (
                "requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct/resolve/main/config.json".to_owned(),
                FailureKind::ModelGated,
                vec!["gated"],
                vec!["licence", "HF_TOKEN"],
            ),
            (
                "(EngineCore_DP0 pid=1234) /usr/local/lib/python3.12/dist-packages/huggingface_hub/file_download.py:978: UserWarning: Not enough free disk space to download the file. The expected file size is: 4001.23 MB. The target location /root/.cache/huggingface/hub/models--Qwen--Qwen3-Coder-30B-A3B-Instruct/blobs only has 1000.00 MB free disk space.".to_owned(),
                FailureKind::DiskFull,
                vec!["/root/.cache/huggingface/hub/models--Qwen--Qwen3-Coder-30B-A3B-Instruct/blobs has 1000.00 MB free", "4001.23 MB"],
                vec!["/workspace", "HF_HOME"],
            ),
            (
                format!("{ERR}OSError: [Errno 28] No space left on device: '/root/.cache/huggingface/hub/models--Qwen--Qwen3-Coder-30B-A3B-Instruct/blobs/5f0e.incomplete'"),
                FailureKind::DiskFull,
                vec!["disk is full", "5f0e.incomplete"],
                vec!["/workspace"],
            ),
            (
                "ValueError: World size (4) is larger than the number of available GPUs (1) in this node. If this is intentional and you are using:".to_owned(),
                FailureKind::TpTooLarge,
                vec!["needs 4 GPUs", "has 1"],
                vec!["`tensor_parallel_size`", "at most 1"],
            ),
            (
                format!("{ERR}ValueError: The output_size of gate's and up's weight = 192 is not divisible by weight quantization block_n = 128."),
                FailureKind::Fp8BlockN,
                vec!["192", "128"],
                vec!["`enable_expert_parallel = true`", "`tensor_parallel_size` ≤ 2"],
            ),
            (
                "(VllmWorker TP1 pid=2345) 1a2b3c4d5e6f:2345:2345 [1] include/shm.h:48 NCCL WARN Error while creating shared memory segment /dev/shm/nccl-vzIpS6 (size 9637888)".to_owned(),
                FailureKind::NcclShm,
                vec!["/dev/shm", "9637888"],
                vec!["/dev/shm", "--shm-size"],
            ),
            (
                "(EngineCore_DP0 pid=1234) ERROR 11-24 09:12:00 [multiproc_executor.py:149] Worker proc VllmWorker-3 died unexpectedly (exit code: -9), shutting down executor.".to_owned(),
                FailureKind::WorkerKilled,
                vec!["VllmWorker-3", "-9"],
                vec!["out-of-memory killer"],
            ),
            (
                format!("{ERR}RuntimeError: Failed to infer device type"),
                FailureKind::NoGpu,
                vec!["no GPU"],
                vec!["0 GPUs", "RunPod"],
            ),
            (
                "(APIServer pid=1200) RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}".to_owned(),
                FailureKind::EngineInitFailed,
                vec!["failed to start"],
                vec!["lines before"],
            ),
        ]
    }

    #[test]
    fn every_cause_of_the_guide_is_recognised_with_its_numbers_and_fix() {
        for (line, kind, summary_words, hint_words) in table() {
            let f = match_line(&line).unwrap_or_else(|| panic!("not recognised: {line}"));
            assert_eq!(f.kind, kind, "{line}");
            for w in summary_words {
                assert!(f.summary.contains(w), "summary {:?} lacks {w:?}", f.summary);
            }
            for w in hint_words {
                assert!(f.hint.contains(w), "hint {:?} lacks {w:?}", f.hint);
            }
            assert_eq!(f.line, line);
            assert!(!f.summary.contains('\n') && !f.hint.contains('\n'));
        }
    }

    #[test]
    fn every_kind_has_a_row() {
        let kinds: std::collections::HashSet<_> = table().into_iter().map(|row| row.1).collect();
        assert_eq!(kinds.len(), 13);
    }

    #[test]
    fn ordinary_lines_and_near_misses_name_no_cause() {
        let rows = [
            "INFO 11-24 08:01:03 [model.py:547] Resolved architecture: Qwen3MoeForCausalLM",
            "INFO 11-24 08:03:45 [gpu_worker.py:298] Available KV cache memory: 40.12 GiB",
            "(APIServer pid=1200) INFO:     127.0.0.1:53012 - \"GET /v1/models HTTP/1.1\" 401 Unauthorized",
            "(APIServer pid=1200) INFO:     127.0.0.1:53012 - \"POST /v1/chat/completions HTTP/1.1\" 200 OK",
            "INFO 11-24 08:01:02 [utils.py:233] non-default args: {'tensor_parallel_size': 4, 'port': 8000}",
            "INFO 11-24 08:01:02 [parallel_state.py:1208] world_size=4 rank=0 local_rank=0",
            "INFO 11-24 08:01:02 [multiproc_executor.py:120] Worker proc VllmWorker-0 started",
            "",
        ];
        for line in rows {
            assert_eq!(match_line(line), None, "{line:?}");
        }
    }

    #[test]
    fn colour_codes_do_not_hide_a_cause() {
        let f = match_line(
            "\x1b[31mERROR\x1b[0m 11-24 08:02:10 [core.py:708] RuntimeError: Failed to infer device type",
        )
        .expect("recognised");
        assert_eq!(f.kind, FailureKind::NoGpu);
        assert!(!f.line.contains('\x1b'));
    }

    #[test]
    fn fatal_is_everything_a_restart_cannot_fix() {
        let all = [
            FailureKind::GpuMemoryHeld,
            FailureKind::ContextTooLong,
            FailureKind::ModelTooLarge,
            FailureKind::PortInUse,
            FailureKind::ModelMissing,
            FailureKind::ModelGated,
            FailureKind::DiskFull,
            FailureKind::TpTooLarge,
            FailureKind::Fp8BlockN,
            FailureKind::NcclShm,
            FailureKind::NoGpu,
        ];
        assert!(all.iter().all(|k| k.is_fatal()));
        assert!(!FailureKind::WorkerKilled.is_fatal());
        assert!(!FailureKind::EngineInitFailed.is_fatal());
    }

    #[test]
    fn diagnose_prefers_the_first_specific_cause_to_the_last_words() {
        let lines = [
            "(EngineCore_DP0 pid=1234) INFO 11-24 08:02:00 [gpu_model_runner.py:2602] Starting to load model Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8...",
            "(EngineCore_DP0 pid=1234) ERROR 11-24 08:02:10 [core.py:708] EngineCore failed to start.",
            "(EngineCore_DP0 pid=1234) ERROR 11-24 08:02:10 [core.py:708] ValueError: The output_size of gate's and up's weight = 192 is not divisible by weight quantization block_n = 128.",
            "(EngineCore_DP0 pid=1234) ValueError: The output_size of gate's and up's weight = 96 is not divisible by weight quantization block_n = 128.",
            "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}",
        ];
        let f = diagnose(lines).expect("diagnosed");
        assert_eq!(f.kind, FailureKind::Fp8BlockN);
        assert!(f.summary.contains("192"), "{}", f.summary);
        let generic = diagnose([lines[0], lines[4]]).expect("generic");
        assert_eq!(generic.kind, FailureKind::EngineInitFailed);
        assert_eq!(diagnose([lines[0]]), None);
        assert_eq!(diagnose([]), None);
    }

    #[test]
    fn nccl_shm_is_not_mistaken_for_a_full_disk() {
        let lines = [
            "1a2b3c:2345:2345 [1] include/shm.h:28 NCCL WARN Call to posix_fallocate failed : No space left on device",
            "1a2b3c:2345:2345 [1] include/shm.h:48 NCCL WARN Error while creating shared memory segment /dev/shm/nccl-vzIpS6 (size 9637888)",
            "OSError: [Errno 28] No space left on device: '/dev/shm/nccl-vzIpS6'",
        ];
        assert_eq!(diagnose(lines).map(|f| f.kind), Some(FailureKind::NcclShm));
    }

    #[test]
    fn serialises_in_snake_case() {
        assert_eq!(serde_json::to_string(&FailureKind::Fp8BlockN).unwrap(), "\"fp8_block_n\"");
        assert_eq!(serde_json::to_string(&FailureKind::GpuMemoryHeld).unwrap(), "\"gpu_memory_held\"");
    }
}
