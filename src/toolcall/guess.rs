//! The tool-call format a model's name implies: for profiles that leave `tool_format`
//! unset and for imported LiteLLM configs.

use super::format::Format;

impl Format {
    /// The tool-call format a model name implies (an HF id, a LiteLLM model string or a served
    /// name): Qwen3-Coder (and Qwen3.5 or later) → `qwen3_coder`; Qwen2 / Qwen2.5 / Qwen3 / QwQ
    /// / Hermes → `hermes`; Llama 3.x → `llama3_json`; Mistral, Devstral, Magistral, Ministral,
    /// Mixtral, Codestral → `mistral`; DeepSeek V3.1 and V3.2-Exp → `deepseek_v31`; DeepSeek V3
    /// and R1 → `deepseek_v3`; DeepSeek V3.2 → `deepseek_v32`, V4 → `deepseek_v4`;
    /// MiniMax-M2.x → `minimax_m2`; Seed-OSS → `seed_oss`; GLM-4.5/4.6 → `glm45`; GLM-4.7, GLM-5.x,
    /// Poolside Laguna → `glm47`; Kimi K2 → `kimi_k2`; Kimi K3 → `kimi_k3`;
    /// Gemma 4 → `gemma4`; gpt-oss → `vllm`; else `None`.
    pub fn guess(model: &str) -> Option<Format> {
        let name = model.to_ascii_lowercase().replace(['_', ' '], "-");
        let name = name.replace("qwen-", "qwen");
        let has = |needles: &[&str]| needles.iter().any(|n| name.contains(n));
        if has(&["qwen3-coder", "qwen3coder"]) || newer_than_qwen3(&name) {
            Some(Self::Qwen3Coder)
        } else if has(&["qwen2", "qwen3", "qwq", "hermes-2-pro", "hermes-3"]) {
            Some(Self::Hermes)
        } else if has(&["llama-3", "llama3"]) {
            Some(Self::Llama3Json)
        } else if has(&["mistral", "devstral", "magistral", "ministral", "mixtral", "codestral"]) {
            Some(Self::Mistral)
        } else if has(&["deepseek-v3.1", "deepseek-v3-1", "deepseek-v31", "deepseek-v3.2-exp"]) {
            Some(Self::DeepseekV31)
        } else if has(&["deepseek-v3.2", "deepseek-v3-2", "deepseek-v32"]) {
            Some(Self::DeepseekV32)
        } else if has(&["deepseek-v4"]) {
            Some(Self::DeepseekV4)
        } else if has(&["minimax-m2"]) {
            Some(Self::MinimaxM2)
        } else if has(&["seed-oss"]) {
            Some(Self::SeedOss)
        } else if has(&["deepseek-v3", "deepseek-r1"]) {
            Some(Self::DeepseekV3)
        } else if has(&["glm-4.5", "glm-4.6", "glm4.5", "glm4.6", "glm-4-5", "glm-4-6"]) {
            Some(Self::Glm45)
        } else if has(&["glm-4.7", "glm4.7", "glm-4-7", "glm-5", "glm5", "laguna"]) {
            Some(Self::Glm47)
        } else if has(&["kimi-k2"]) {
            Some(Self::KimiK2)
        } else if has(&["kimi-k3"]) {
            Some(Self::KimiK3)
        } else if has(&["gemma-4", "gemma4"]) {
            Some(Self::Gemma4)
        } else if has(&["gpt-oss"]) {
            // Harmony: only vLLM's own parser, on token ids, decodes it reliably.
            Some(Self::Vllm)
        } else {
            None
        }
    }
}

/// Qwen3.5, Qwen3.6, …: their chat templates write the Qwen3-Coder XML calls.
fn newer_than_qwen3(name: &str) -> bool {
    name.match_indices("qwen3.").any(|(at, m)| name[at + m.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_the_format_from_the_model_name() {
        let cases: &[(&str, Option<Format>)] = &[
            ("Qwen/Qwen3-Coder-30B-A3B-Instruct-FP8", Some(Format::Qwen3Coder)),
            ("qwen3-coder-480b", Some(Format::Qwen3Coder)),
            ("Qwen/Qwen3-Coder-Next", Some(Format::Qwen3Coder)),
            ("qwen3_coder", Some(Format::Qwen3Coder)),
            ("Qwen/Qwen3.5-35B-A3B", Some(Format::Qwen3Coder)),
            ("Qwen/Qwen2.5-Coder-32B-Instruct", Some(Format::Hermes)),
            ("Qwen/Qwen2.5-7B-Instruct", Some(Format::Hermes)),
            ("qwen-2.5-72b", Some(Format::Hermes)),
            ("Qwen/Qwen3-32B", Some(Format::Hermes)),
            ("Qwen/Qwen3-Next-80B-A3B-Instruct", Some(Format::Hermes)),
            ("Qwen/QwQ-32B", Some(Format::Hermes)),
            ("NousResearch/Hermes-3-Llama-3.1-8B", Some(Format::Hermes)),
            ("meta-llama/Llama-3.1-8B-Instruct", Some(Format::Llama3Json)),
            ("hosted_vllm/meta-llama/Meta-Llama-3.3-70B-Instruct", Some(Format::Llama3Json)),
            ("meta-llama/Llama-4-Scout-17B-16E-Instruct", None),
            ("mistralai/Devstral-Small-2507", Some(Format::Mistral)),
            ("mistralai/Mistral-Small-3.2-24B-Instruct-2506", Some(Format::Mistral)),
            ("mistralai/Magistral-Small-2509", Some(Format::Mistral)),
            ("deepseek-ai/DeepSeek-V3-0324", Some(Format::DeepseekV3)),
            ("deepseek-ai/DeepSeek-R1-0528", Some(Format::DeepseekV3)),
            ("deepseek-ai/DeepSeek-V3.1-Terminus", Some(Format::DeepseekV31)),
            ("deepseek-ai/DeepSeek-V3.2-Exp", Some(Format::DeepseekV31)),
            ("deepseek-ai/DeepSeek-V3.2", Some(Format::DeepseekV32)),
            ("deepseek-ai/DeepSeek-V3.2-Speciale", Some(Format::DeepseekV32)),
            ("deepseek-ai/DeepSeek-V4-Flash", Some(Format::DeepseekV4)),
            ("MiniMaxAI/MiniMax-M2.5", Some(Format::MinimaxM2)),
            ("minimax_m2", Some(Format::MinimaxM2)),
            ("ByteDance-Seed/Seed-OSS-36B-Instruct", Some(Format::SeedOss)),
            ("MiniMaxAI/MiniMax-M1-80k", None),
            ("zai-org/GLM-4.5-Air-FP8", Some(Format::Glm45)),
            ("zai-org/GLM-4.6", Some(Format::Glm45)),
            ("zai-org/GLM-4.7-FP8", Some(Format::Glm47)),
            ("zai-org/GLM-5", Some(Format::Glm47)),
            ("zai-org/GLM-5.1-FP8", Some(Format::Glm47)),
            ("glm5", Some(Format::Glm47)),
            ("moonshotai/Kimi-K2-Instruct-0905", Some(Format::KimiK2)),
            ("moonshotai/Kimi-K3", Some(Format::KimiK3)),
            ("google/gemma-4-31B-it", Some(Format::Gemma4)),
            ("google/gemma-3-27b-it", None),
            ("deepseek-ai/deepseek-coder-6.7b-instruct", None),
            ("deepseek", None),
            ("qwen-coder", None),
            ("", None),
        ];
        for (model, want) in cases {
            assert_eq!(Format::guess(model), *want, "{model}");
        }
    }
}
