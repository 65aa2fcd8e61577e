//! Reads one line of vLLM's output and says what it tells: the start-up phase it marks
//! (`shared/guide/vllm-ops.md`, "Readiness"), the numbers it carries (checkpoint shards,
//! CUDA-graph progress, KV-cache size, serving stats), or a failure cause (see
//! [`super::failure`]). Lines may carry vLLM's prefixes (`INFO 11-24 08:01:02 [file.py:12] `,
//! `(EngineCore_DP0 pid=1234) `) and ANSI colour codes; both are tolerated. This runs on every
//! line vLLM prints, so a line costs a handful of substring searches with prebuilt finders.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::failure::{self, Failure};
use super::logtext::{number_after, parse_f64, parse_u64, strip_ansi};

/// Start-up phases, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The process was started; nothing printed yet.
    Launching,
    /// vLLM printed its version and arguments.
    Starting,
    /// Weights are downloading. vLLM prints no progress for this: no log line reports it; the
    /// supervisor infers it from the Hugging Face cache growing.
    Downloading,
    /// Weights are loading onto the GPU.
    Loading,
    /// torch.compile is compiling the model.
    Compiling,
    /// vLLM is profiling memory and allocating the KV cache.
    KvCache,
    /// CUDA graphs are being captured.
    CudaGraphs,
    /// The API server is up.
    Ready,
}

impl Phase {
    /// Words for the user: "downloading weights", "loading weights", …
    pub fn label(self) -> &'static str {
        match self {
            Phase::Launching => "launching",
            Phase::Starting => "initialising",
            Phase::Downloading => "downloading weights",
            Phase::Loading => "loading weights",
            Phase::Compiling => "compiling (torch.compile)",
            Phase::KvCache => "allocating KV cache",
            Phase::CudaGraphs => "capturing CUDA graphs",
            Phase::Ready => "ready",
        }
    }
}

/// What one log line tells.
#[derive(Debug, Clone, PartialEq)]
pub enum LogFact {
    /// The line marks this phase.
    Phase(Phase),
    /// `Loading safetensors checkpoint shards: NN% Completed | n/N`
    Shards { done: u32, total: u32 },
    /// `Capturing CUDA graphs … NN%` (percent)
    GraphsPct(u32),
    /// `Model loading took X GiB and Y seconds`: GPU memory the weights took, and how long.
    ModelLoaded { gib: f64, secs: f64 },
    /// `Available KV cache memory: X GiB`
    KvMemoryGib(f64),
    /// `GPU KV cache size: N tokens` (`CPU …` on the CPU backend), with `Maximum concurrency for L tokens per request: C x`
    /// when both are on the same line.
    KvCache { tokens: u64, context: Option<u64>, concurrency: Option<f64> },
    /// `Maximum concurrency for L tokens per request: C x` on a line of its own (current vLLM
    /// prints it on the line after `GPU KV cache size`).
    Concurrency { context: u64, concurrency: f64 },
    /// Serving stats line: `Avg prompt throughput: …, Running: N reqs, Waiting: M reqs, GPU KV
    /// cache usage: x%`
    Stats { running: u32, waiting: u32, kv_usage_pct: f64 },
    /// A fatal cause recognised (see [`super::failure`]).
    Failure(Failure),
}

/// The phase markers, checked in order; the first that matches names the line's phase.
const MARKERS: &[(&str, Phase)] = &[
    ("vLLM server version", Phase::Starting),
    ("vLLM API server version", Phase::Starting),
    ("non-default args:", Phase::Starting),
    // Downloading is over: loading follows.
    ("Time spent downloading weights", Phase::Loading),
    ("Starting to load model", Phase::Loading),
    ("checkpoint shards:", Phase::Loading),
    ("Model loading took", Phase::Loading),
    ("Starting torch.compile", Phase::Compiling),
    ("torch.compile took", Phase::Compiling),
    ("torch.compile takes", Phase::Compiling),
    ("Dynamo bytecode transform time", Phase::Compiling),
    ("Available KV cache memory", Phase::KvCache),
    ("GPU KV cache size", Phase::KvCache),
    // vLLM's CPU backend (`CPU KV cache size: N tokens, Maximum concurrency for …`).
    ("CPU KV cache size", Phase::KvCache),
    ("Maximum concurrency for", Phase::KvCache),
    ("Capturing CUDA graph", Phase::CudaGraphs),
    ("Graph capturing finished", Phase::CudaGraphs),
    ("Starting vLLM server on", Phase::Ready),
    ("Starting vLLM API server", Phase::Ready),
    ("Application startup complete.", Phase::Ready),
];

static FINDERS: LazyLock<Vec<Finder<'static>>> =
    LazyLock::new(|| MARKERS.iter().map(|(needle, _)| Finder::new(needle)).collect());
static STATS: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("Avg prompt throughput"));

/// Classifies one line (already split: no `\n`; after a `\r` only the last redraw counts).
/// Returns every fact the line carries: usually none or one; a phase marker with a number
/// gives the phase first, then the number.
pub fn classify(line: &str) -> Vec<LogFact> {
    let clean = strip_ansi(line);
    let text = last_redraw(&clean);
    let bytes = text.as_bytes();
    let mut facts = Vec::new();
    // Causes first: their text may quote a marker's words.
    if let Some(f) = failure::match_clean(text) {
        facts.push(LogFact::Failure(f));
        return facts;
    }
    if let Some(i) = FINDERS.iter().position(|f| f.find(bytes).is_some()) {
        let (needle, phase) = MARKERS[i];
        facts.push(LogFact::Phase(phase));
        if let Some(fact) = detail(text, needle) {
            facts.push(fact);
        }
        return facts;
    }
    if STATS.find(bytes).is_some()
        && let Some(stats) = stats(text)
    {
        facts.push(stats);
    }
    facts
}

/// The number a phase marker carries, if any.
fn detail(text: &str, needle: &str) -> Option<LogFact> {
    match needle {
        "checkpoint shards:" => {
            let after = &text[text.find('|')? + 1..];
            let (done, total) = after.trim_start().split_once('/')?;
            let total = total.split(|c: char| !c.is_ascii_digit()).next()?;
            Some(LogFact::Shards { done: done.trim().parse().ok()?, total: total.parse().ok()? })
        }
        "Capturing CUDA graph" => {
            let pct = text.find('%')?;
            let digits = text[..pct].trim_end();
            let start = digits.rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
            Some(LogFact::GraphsPct(digits[start..].parse().ok()?))
        }
        "Model loading took" => {
            let gib = parse_f64(number_after(text, "Model loading took")?)?;
            let secs = parse_f64(number_after(text, " and ")?)?;
            Some(LogFact::ModelLoaded { gib, secs })
        }
        "Available KV cache memory" => {
            Some(LogFact::KvMemoryGib(parse_f64(number_after(text, "Available KV cache memory:")?)?))
        }
        "GPU KV cache size" | "CPU KV cache size" => {
            let tokens = parse_u64(number_after(text, &format!("{needle}:"))?)?;
            let (context, concurrency) = concurrency(text).unzip();
            Some(LogFact::KvCache { tokens, context, concurrency })
        }
        "Maximum concurrency for" => {
            let (context, concurrency) = concurrency(text)?;
            Some(LogFact::Concurrency { context, concurrency })
        }
        _ => None,
    }
}

/// `Maximum concurrency for L tokens per request: C x`
fn concurrency(text: &str) -> Option<(u64, f64)> {
    let context = parse_u64(number_after(text, "Maximum concurrency for")?)?;
    let concurrency = parse_f64(number_after(text, "tokens per request:")?)?;
    Some((context, concurrency))
}

/// `Running: N reqs, Waiting: M reqs, GPU KV cache usage: x%`
fn stats(text: &str) -> Option<LogFact> {
    Some(LogFact::Stats {
        running: parse_u64(number_after(text, "Running:")?)?.try_into().ok()?,
        waiting: parse_u64(number_after(text, "Waiting:")?)?.try_into().ok()?,
        kv_usage_pct: parse_f64(number_after(text, "GPU KV cache usage:")?)?,
    })
}

/// The text after the last `\r` that is followed by something (a tqdm redraw), trimmed at
/// the end.
fn last_redraw(line: &str) -> &str {
    let line = line.trim_end();
    line.rsplit('\r').next().unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vllm::failure::FailureKind;

    const INFO: &str = "INFO 11-24 08:01:02 [gpu_model_runner.py:2602] ";
    const ENGINE: &str = "(EngineCore_DP0 pid=1234) INFO 11-24 08:01:02 [core.py:93] ";

    fn phase_of(line: &str) -> Option<Phase> {
        classify(line).into_iter().find_map(|f| match f {
            LogFact::Phase(p) => Some(p),
            _ => None,
        })
    }

    #[test]
    fn every_marker_of_the_guide_names_its_phase() {
        let rows: &[(&str, Phase)] = &[
            ("INFO 11-24 08:01:02 [api_server.py:1885] vLLM API server version 0.33.0", Phase::Starting),
            ("INFO 11-24 08:01:02 [api_server.py:1885] vLLM server version 0.33.0", Phase::Starting),
            (
                "INFO 11-24 08:01:02 [utils.py:233] non-default args: {'model_tag': 'Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8', 'port': 8000}",
                Phase::Starting,
            ),
            (
                "(EngineCore_DP0 pid=1234) INFO 11-24 08:03:02 [weight_utils.py:413] Time spent downloading weights for Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8: 118.4 seconds",
                Phase::Loading,
            ),
            (
                "(EngineCore_DP0 pid=1234) INFO 11-24 08:01:05 [gpu_model_runner.py:2602] Starting to load model Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8...",
                Phase::Loading,
            ),
            (
                "(EngineCore_DP0 pid=1234) Loading safetensors checkpoint shards:  50% Completed | 2/4 [00:01<00:01,  1.60it/s]",
                Phase::Loading,
            ),
            (
                "(EngineCore_DP0 pid=1234) INFO 11-24 08:03:20 [gpu_model_runner.py:2653] Model loading took 28.5 GiB and 12.3 seconds",
                Phase::Loading,
            ),
            ("INFO 11-24 08:03:21 [backends.py:548] Starting torch.compile for the model", Phase::Compiling),
            ("INFO 11-24 08:03:41 [monitor.py:34] torch.compile took 20.12 s in total", Phase::Compiling),
            ("INFO 11-24 08:03:41 [monitor.py:34] torch.compile takes 20.12 s in total", Phase::Compiling),
            (
                "INFO 11-24 08:03:30 [backends.py:559] Dynamo bytecode transform time: 5.21 s",
                Phase::Compiling,
            ),
            ("INFO 11-24 08:03:45 [gpu_worker.py:298] Available KV cache memory: 40.12 GiB", Phase::KvCache),
            (
                "INFO 11-24 08:03:45 [kv_cache_utils.py:1087] GPU KV cache size: 438,272 tokens",
                Phase::KvCache,
            ),
            (
                "INFO 11-24 08:03:45 [kv_cache_utils.py:1091] Maximum concurrency for 262,144 tokens per request: 1.67x",
                Phase::KvCache,
            ),
            (
                "(EngineCore_DP0 pid=1234) Capturing CUDA graphs (mixed prefill-decode, PIECEWISE):  47%|████▋     | 31/67 [00:01<00:01, 20.1it/s]",
                Phase::CudaGraphs,
            ),
            (
                "Capturing CUDA graph shapes: 100%|██████████| 67/67 [00:03<00:00, 18.5it/s]",
                Phase::CudaGraphs,
            ),
            (
                "INFO 11-24 08:03:52 [gpu_model_runner.py:3480] Graph capturing finished in 5 secs, took 0.91 GiB",
                Phase::CudaGraphs,
            ),
            (
                "INFO 11-24 08:03:55 [api_server.py:1912] Starting vLLM server on http://0.0.0.0:8000",
                Phase::Ready,
            ),
            (
                "(APIServer pid=1200) INFO 11-24 08:03:55 [api_server.py:1912] Starting vLLM API server 0 on http://0.0.0.0:8000",
                Phase::Ready,
            ),
            ("(APIServer pid=1200) INFO:     Application startup complete.", Phase::Ready),
        ];
        for (line, want) in rows {
            assert_eq!(phase_of(line), Some(*want), "{line}");
        }
    }

    #[test]
    fn numbers_are_extracted() {
        let rows: &[(&str, LogFact)] = &[
            (
                "(EngineCore_DP0 pid=1234) Loading safetensors checkpoint shards:  50% Completed | 2/4 [00:01<00:01,  1.60it/s]",
                LogFact::Shards { done: 2, total: 4 },
            ),
            (
                "Loading safetensors checkpoint shards: 100% Completed | 13/13 [00:10<00:00,  1.25it/s]",
                LogFact::Shards { done: 13, total: 13 },
            ),
            (
                "Capturing CUDA graphs (mixed prefill-decode, PIECEWISE):  47%|████▋     | 31/67 [00:01<00:01, 20.1it/s]",
                LogFact::GraphsPct(47),
            ),
            ("Capturing CUDA graphs: 100%|██████████| 67/67", LogFact::GraphsPct(100)),
            (
                "INFO 11-24 08:03:20 [gpu_model_runner.py:2653] Model loading took 28.5 GiB and 12.3 seconds",
                LogFact::ModelLoaded { gib: 28.5, secs: 12.3 },
            ),
            (
                "INFO 11-24 08:03:45 [gpu_worker.py:298] Available KV cache memory: 40.12 GiB",
                LogFact::KvMemoryGib(40.12),
            ),
            (
                "INFO 11-24 08:03:45 [kv_cache_utils.py:1087] GPU KV cache size: 438,272 tokens",
                LogFact::KvCache { tokens: 438_272, context: None, concurrency: None },
            ),
            (
                "GPU KV cache size: 438,272 tokens, Maximum concurrency for 262,144 tokens per request: 1.67 x",
                LogFact::KvCache { tokens: 438_272, context: Some(262_144), concurrency: Some(1.67) },
            ),
            (
                "INFO 11-24 08:03:45 [kv_cache_utils.py:1091] Maximum concurrency for 262,144 tokens per request: 1.67x",
                LogFact::Concurrency { context: 262_144, concurrency: 1.67 },
            ),
            (
                // vLLM 0.32's CPU backend (the real-vLLM test tier).
                "(EngineCore pid=32004) INFO 11-24 09:16:46 [kv_cache_utils.py:2327] CPU KV cache size: 4,194,304 tokens, Maximum concurrency for 2,048 tokens per request: 2048.00x",
                LogFact::KvCache { tokens: 4_194_304, context: Some(2048), concurrency: Some(2048.0) },
            ),
        ];
        for (line, want) in rows {
            let facts = classify(line);
            assert_eq!(facts.len(), 2, "{line}: {facts:?}");
            assert_eq!(&facts[1], want, "{line}");
        }
    }

    #[test]
    fn serving_stats_are_read() {
        let line = "(APIServer pid=1200) INFO 11-24 09:00:00 [loggers.py:123] Engine 000: Avg prompt throughput: 1234.5 tokens/s, Avg generation throughput: 56.7 tokens/s, Running: 3 reqs, Waiting: 12 reqs, GPU KV cache usage: 41.3%, Prefix cache hit rate: 88.0%";
        assert_eq!(classify(line), vec![LogFact::Stats { running: 3, waiting: 12, kv_usage_pct: 41.3 }]);
    }

    #[test]
    fn prefixes_colours_and_redraws_are_tolerated() {
        let coloured = "\x1b[32mINFO\x1b[0m 11-24 08:03:45 [gpu_worker.py:298] Available KV cache memory: \x1b[1m40.12\x1b[0m GiB";
        assert_eq!(classify(coloured), vec![LogFact::Phase(Phase::KvCache), LogFact::KvMemoryGib(40.12)]);
        let redraws = "(EngineCore_DP0 pid=7) Loading safetensors checkpoint shards:  25% Completed | 1/4\rLoading safetensors checkpoint shards:  75% Completed | 3/4 [00:03<00:01]\r";
        assert_eq!(classify(redraws)[1], LogFact::Shards { done: 3, total: 4 });
    }

    #[test]
    fn ordinary_lines_say_nothing() {
        let rows = [
            "",
            "   ",
            "INFO 11-24 08:01:03 [model.py:547] Resolved architecture: Qwen3MoeForCausalLM",
            "INFO 11-24 08:01:03 [model.py:1510] Using max model len 262144",
            "(EngineCore_DP0 pid=1234) INFO 11-24 08:01:04 [core.py:644] Waiting for init message from front-end.",
            "(EngineCore_DP0 pid=1234) INFO 11-24 08:01:06 [weight_utils.py:392] Using model weights format ['*.safetensors']",
            "(APIServer pid=1200) INFO:     127.0.0.1:53012 - \"GET /health HTTP/1.1\" 200 OK",
            "(APIServer pid=1200) INFO 11-24 09:00:00 [chat_utils.py:470] Detected the chat template content format to be 'string'.",
            "WARNING 11-24 08:01:03 [config.py:1100] Default sampling parameters have been overridden by the model's Hugging Face generation config.",
            "(APIServer pid=1200) INFO:     Started server process [1200]",
            "(APIServer pid=1200) INFO:     Waiting for application startup.",
            "INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)",
        ];
        for line in rows {
            assert_eq!(classify(line), vec![], "{line:?}");
        }
    }

    #[test]
    fn a_broken_number_gives_the_phase_alone() {
        assert_eq!(
            classify(&format!("{INFO}Available KV cache memory: lots")),
            vec![LogFact::Phase(Phase::KvCache)]
        );
        assert_eq!(
            classify(&format!("{ENGINE}Loading safetensors checkpoint shards:   0% Completed | ?/4")),
            vec![LogFact::Phase(Phase::Loading)]
        );
    }

    #[test]
    fn failure_lines_become_failure_facts() {
        let line = "(EngineCore_DP0 pid=1234) ERROR 11-24 08:02:00 [core.py:708] RuntimeError: Failed to infer device type";
        match classify(line).as_slice() {
            [LogFact::Failure(f)] => assert_eq!(f.kind, FailureKind::NoGpu),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn phases_are_ordered_and_labelled() {
        assert!(Phase::Launching < Phase::Starting && Phase::Starting < Phase::Downloading);
        assert!(Phase::Downloading < Phase::Loading && Phase::Loading < Phase::Compiling);
        assert!(Phase::Compiling < Phase::KvCache && Phase::KvCache < Phase::CudaGraphs);
        assert!(Phase::CudaGraphs < Phase::Ready);
        assert_eq!(Phase::Downloading.label(), "downloading weights");
        assert_eq!(Phase::Loading.label(), "loading weights");
        assert_eq!(serde_json::to_string(&Phase::CudaGraphs).unwrap(), "\"cuda_graphs\"");
        assert_eq!(serde_json::from_str::<Phase>("\"kv_cache\"").unwrap(), Phase::KvCache);
    }
}
