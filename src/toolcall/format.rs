//! The names of the formats models write tool calls in ([`Format`]), and whether the prompt
//! already opened the model's reasoning block ([`Reasoning`]): the two choices a caller
//! makes when it builds an [`Engine`](super::Engine).

use std::fmt;
use std::str::FromStr;

/// How the model writes tool calls (the profile's and the proxy's `tool_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Qwen3-Coder XML: `<tool_call><function=NAME><parameter=KEY>VALUE</parameter>…`.
    #[default]
    Qwen3Coder,
    /// Hermes JSON: `<tool_call>{"name": …, "arguments": {…}}</tool_call>` (Qwen2.5, Qwen3).
    Hermes,
    /// Any family, told apart by its markers (one proxy can front several models): the
    /// Qwen families are decided per call from what follows `<tool_call>` (`<function=` or
    /// `{`); the first decisive marker of another family (`[TOOL_CALLS]` or a leading
    /// `[THINK]`: Mistral; `<|python_tag|>`: Llama 3; DeepSeek's `<｜tool▁calls▁begin｜>`
    /// or `<｜tool▁call▁begin｜>` and their misspellings: DeepSeek V3/V3.1; Kimi K2's
    /// `<|tool_calls_section_begin|>` or `<|tool_call_begin|>`; `<tool_call>NAME` then
    /// `<arg_key>` or `</tool_call>`: GLM-4.5; `<minimax:tool_call>`: MiniMax-M2;
    /// `<｜DSML｜function_calls>` / `<｜DSML｜tool_calls>`: DeepSeek-V3.2 / V4;
    /// `<|open|>tools<|sep|>`: Kimi-K3; `<seed:tool_call>` or a leading `<seed:think>`:
    /// Seed-OSS; `<|tool_call>` or a leading `<|channel>`: Gemma 4) hands the rest of the output to that family,
    /// for good, if no call was returned before it. Llama 3's bare JSON without
    /// `<|python_tag|>` is not detected (it cannot be told from JSON in prose).
    /// [`Engine::family`](super::Engine::family) says what was decided.
    Auto,
    /// No parsing: the text is the content, untouched.
    None,
    /// Llama 3.1/3.2: optional `<|python_tag|>`, then `{"name": …, "parameters": {…}}`,
    /// several objects separated by `; `.
    Llama3Json,
    /// Mistral / Devstral: `[TOOL_CALLS]` then a JSON array of calls (pre-v11 tokenizer) or
    /// `NAME[ARGS]{json}` per call (v11+); `[THINK]…[/THINK]` reasoning. Call ids are 9
    /// alphanumerics (see [`Format::call_id_len`]).
    Mistral,
    /// DeepSeek V3 / R1-0528: `<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME` and fenced JSON.
    DeepseekV3,
    /// DeepSeek V3.1: `<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{json}` (same machine as V3).
    DeepseekV31,
    /// Kimi K2: `<|tool_call_begin|>functions.NAME:IDX<|tool_call_argument_begin|>{json}`.
    KimiK2,
    /// GLM-4.5/4.6: `<tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value>…</tool_call>`.
    Glm45,
    /// GLM-4.7 / GLM-5.x (and Poolside's `poolside_v1`): GLM-4.5's grammar, the newline
    /// after the name optional, calls without arguments (`<tool_call>NAME</tool_call>`);
    /// the chat template opens `<think>` unless thinking is disabled.
    Glm47,
    /// MiniMax-M2.x: `<minimax:tool_call><invoke name="NAME"><parameter name="K">V</parameter></invoke>…`;
    /// the chat template always opens `<think>`.
    MinimaxM2,
    /// DeepSeek-V3.2: DSML, `<｜DSML｜function_calls><｜DSML｜invoke name="NAME"><｜DSML｜parameter name="K" string="true">V</｜DSML｜parameter>…`.
    DeepseekV32,
    /// DeepSeek-V4: V3.2's DSML in `<｜DSML｜tool_calls>`; thinking on by default.
    DeepseekV4,
    /// Seed-OSS: Qwen3-Coder's XML in `<seed:tool_call>…</seed:tool_call>`, reasoning in
    /// `<seed:think>…</seed:think>`.
    SeedOss,
    /// Kimi-K3: XTML, `<|open|>tools<|sep|><|open|>call tool="NAME"<|sep|><|open|>argument key="K" type="string"<|sep|>V<|close|>argument<|sep|>…`.
    KimiK3,
    /// Gemma 4: `<|tool_call>call:NAME{key:<|"|>text<|"|>,n:42}<tool_call|>`, reasoning in
    /// `<|channel>thought\n…<channel|>`.
    Gemma4,
    /// vLLM parses (started with `--enable-auto-tool-choice --tool-call-parser …`): its
    /// `tool_calls` and reasoning are passed through and its text is content, untouched
    /// (gpt-oss's harmony format, and any family podctl does not parse yet).
    Vllm,
}

impl Format {
    /// Every format's name as written in profiles and on the command line.
    pub const NAMES: &'static [&'static str] = &[
        "qwen3_coder",
        "hermes",
        "auto",
        "llama3_json",
        "mistral",
        "deepseek_v3",
        "deepseek_v31",
        "kimi_k2",
        "glm45",
        "glm47",
        "minimax_m2",
        "deepseek_v32",
        "deepseek_v4",
        "seed_oss",
        "kimi_k3",
        "gemma4",
        "none",
        "vllm",
    ];

    /// Every format, in the order of [`Format::NAMES`].
    pub const ALL: &'static [Format] = &[
        Self::Qwen3Coder,
        Self::Hermes,
        Self::Auto,
        Self::Llama3Json,
        Self::Mistral,
        Self::DeepseekV3,
        Self::DeepseekV31,
        Self::KimiK2,
        Self::Glm45,
        Self::Glm47,
        Self::MinimaxM2,
        Self::DeepseekV32,
        Self::DeepseekV4,
        Self::SeedOss,
        Self::KimiK3,
        Self::Gemma4,
        Self::None,
        Self::Vllm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qwen3Coder => "qwen3_coder",
            Self::Hermes => "hermes",
            Self::Auto => "auto",
            Self::None => "none",
            Self::Llama3Json => "llama3_json",
            Self::Mistral => "mistral",
            Self::DeepseekV3 => "deepseek_v3",
            Self::DeepseekV31 => "deepseek_v31",
            Self::KimiK2 => "kimi_k2",
            Self::Glm45 => "glm45",
            Self::Glm47 => "glm47",
            Self::MinimaxM2 => "minimax_m2",
            Self::DeepseekV32 => "deepseek_v32",
            Self::DeepseekV4 => "deepseek_v4",
            Self::SeedOss => "seed_oss",
            Self::KimiK3 => "kimi_k3",
            Self::Gemma4 => "gemma4",
            Self::Vllm => "vllm",
        }
    }

    /// The length of the random alphanumeric tool-call ids this family's chat template
    /// accepts, when it constrains them: Mistral's templates reject any id that is not
    /// exactly 9 alphanumerics. `None`: OpenAI-style `call_…` ids. For `auto` the
    /// decided family counts: ask [`Engine::family`](super::Engine::family) (or [`Sink::family`](super::Sink::family)).
    pub fn call_id_len(self) -> Option<usize> {
        match self {
            Self::Mistral => Some(9),
            Self::Qwen3Coder
            | Self::Hermes
            | Self::Auto
            | Self::Llama3Json
            | Self::DeepseekV3
            | Self::DeepseekV31
            | Self::KimiK2
            | Self::Glm45
            | Self::Glm47
            | Self::MinimaxM2
            | Self::DeepseekV32
            | Self::DeepseekV4
            | Self::SeedOss
            | Self::KimiK3
            | Self::Gemma4
            | Self::None
            | Self::Vllm => None,
        }
    }

    /// vLLM's own tool parser decodes the calls: the request keeps the client's
    /// `tool_choice` and the answer's `tool_calls` come from vLLM.
    pub fn upstream_parses(self) -> bool {
        self == Self::Vllm
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "qwen3_coder" | "qwen3-coder" | "qwen3_xml" | "mimo" | "step3p5" => Ok(Self::Qwen3Coder),
            "hermes" | "qwen2_5" => Ok(Self::Hermes),
            "auto" => Ok(Self::Auto),
            "none" => Ok(Self::None),
            "llama3_json" | "llama3" | "llama" => Ok(Self::Llama3Json),
            "mistral" | "devstral" => Ok(Self::Mistral),
            "deepseek_v3" | "deepseek-v3" | "deepseek_r1" => Ok(Self::DeepseekV3),
            "deepseek_v31" | "deepseek-v31" | "deepseek_v3.1" | "deepseek_v3_1" => Ok(Self::DeepseekV31),
            "kimi_k2" | "kimi-k2" => Ok(Self::KimiK2),
            "glm45" | "glm4_moe" | "glm-4.5" | "glm46" => Ok(Self::Glm45),
            "glm47" | "glm47_moe" | "glm-4.7" | "glm5" | "poolside_v1" => Ok(Self::Glm47),
            "minimax_m2" | "minimax-m2" => Ok(Self::MinimaxM2),
            "deepseek_v32" | "deepseek-v32" | "deepseek_v3.2" | "deepseek_v3_2" => Ok(Self::DeepseekV32),
            "deepseek_v4" | "deepseek-v4" => Ok(Self::DeepseekV4),
            "seed_oss" | "seed-oss" => Ok(Self::SeedOss),
            "kimi_k3" | "kimi-k3" => Ok(Self::KimiK3),
            "gemma4" | "gemma-4" => Ok(Self::Gemma4),
            "vllm" => Ok(Self::Vllm),
            other => {
                Err(format!("unknown tool format `{other}` (expected one of: {})", Self::NAMES.join(", ")))
            }
        }
    }
}

/// Whether the prompt already opened a `<think>` block for the model.
///
/// Thinking-only models (QwQ, Qwen3-*-Thinking-2507) get `<think>` from the chat template,
/// so their output starts inside reasoning and only `</think>` appears. With
/// [`Reasoning::Auto`] the family's template decides ([`Format::template_opens_reasoning`]):
/// where it opens the block by default (GLM-4.7/5, MiniMax-M2, DeepSeek-V4) the output starts inside
/// reasoning; elsewhere reasoning is recognised only when the model itself writes `<think>`
/// at the start. A stray `</think>` is dropped either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reasoning {
    #[default]
    Auto,
    /// The output begins inside `<think>`: everything up to `</think>` (or a tool call) is reasoning.
    PromptOpened,
    /// The prompt did not open the block (thinking disabled for this request, so a
    /// template that opens it by default wrote `<think></think>` or `</think>` itself):
    /// the output starts as the answer, as under `Auto` for the other families.
    PromptClosed,
}

impl Format {
    /// Whether this family's chat template opens the reasoning block at the end of the
    /// prompt when the request does not disable thinking: GLM-4.7/5 (`<|assistant|><think>`),
    /// MiniMax-M2 (`]~b]ai\n<think>\n`, thinking always on) and DeepSeek-V4 (`<think>`
    /// unless `reasoning_effort` is `none`). DeepSeek-V3.2 thinks only when asked.
    pub fn template_opens_reasoning(self) -> bool {
        matches!(self, Self::Glm47 | Self::MinimaxM2 | Self::DeepseekV4)
    }

    /// Whether output in this format starts inside the reasoning block under `reasoning`.
    pub(crate) fn starts_in_reasoning(self, reasoning: Reasoning) -> bool {
        match reasoning {
            Reasoning::PromptOpened => true,
            Reasoning::PromptClosed => false,
            Reasoning::Auto => self.template_opens_reasoning(),
        }
    }
}
