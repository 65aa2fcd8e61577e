//! Shared helpers for the tool-call engine's integration tests: the formats and the declared
//! tools (here), the harness that runs the engine and checks the event contract
//! (`harness.rs`), one row and its check (`case.rs`), and the table's rows by family
//! (`rows/`; spec `shared/guide/toolcall-spec.md`, sections 2-6).
//!
//! Both test binaries include this module; each uses only part of it.
#![allow(dead_code, unused_imports, reason = "each test binary uses a different part of the shared helpers")]

mod case;
mod harness;
pub(crate) mod rows;

pub(crate) use case::{Case, Text, hermes, llama, mistral, xml};
pub(crate) use harness::{Run, Tee, check_run, json_matches, normalize, run_chunks};
pub(crate) use rows::special;

use std::sync::Arc;

use podctl::toolcall::{Format, Reasoning, Tools, UpstreamFinish};
use serde_json::json;

pub(crate) const Q: Format = Format::Qwen3Coder;
pub(crate) const H: Format = Format::Hermes;
pub(crate) const A: Format = Format::Auto;
pub(crate) const N: Format = Format::None;
pub(crate) const L: Format = Format::Llama3Json;
pub(crate) const M: Format = Format::Mistral;
pub(crate) const D3: Format = Format::DeepseekV3;
pub(crate) const D31: Format = Format::DeepseekV31;
pub(crate) const K: Format = Format::KimiK2;
pub(crate) const G: Format = Format::Glm45;
pub(crate) const G47: Format = Format::Glm47;
pub(crate) const MM: Format = Format::MinimaxM2;
pub(crate) const D32: Format = Format::DeepseekV32;
pub(crate) const D4: Format = Format::DeepseekV4;
pub(crate) const S: Format = Format::SeedOss;
pub(crate) const K3: Format = Format::KimiK3;
pub(crate) const G4: Format = Format::Gemma4;

pub(crate) const ALL_FORMATS: [Format; 17] = [Q, H, A, L, M, N, D3, D31, K, G, G47, MM, D32, D4, S, K3, G4];
pub(crate) const FINISHES: [UpstreamFinish; 2] = [UpstreamFinish::Stop, UpstreamFinish::Length];
pub(crate) const REASONINGS: [Reasoning; 3] =
    [Reasoning::Auto, Reasoning::PromptOpened, Reasoning::PromptClosed];

/// The tools every case declares: realistic coding-agent schemas.
pub(crate) fn tools() -> Arc<Tools> {
    let tools = json!([
        {"type": "function", "function": {"name": "read_file", "description": "Read a file",
            "parameters": {"type": "object", "properties": {
                "path": {"type": "string"},
                "limit": {"type": "integer"}},
            "required": ["path"]}}},
        {"type": "function", "function": {"name": "write_file",
            "parameters": {"type": "object", "properties": {
                "path": {"type": "string"},
                "content": {"type": "string"}},
            "required": ["path", "content"]}}},
        {"type": "function", "function": {"name": "run",
            "parameters": {"type": "object", "properties": {
                "cmd": {"type": "string"},
                "timeout": {"type": ["number", "null"]}},
            "required": ["cmd"]}}},
        {"type": "function", "function": {"name": "edit",
            "parameters": {"type": "object", "properties": {
                "opts": {"type": "object"},
                "flags": {"type": "array", "items": {"type": "string"}},
                "dry": {"type": "boolean"}}}}},
        {"type": "function", "function": {"name": "geo",
            "parameters": {"type": "object", "properties": {
                "zip": {"type": "string"},
                "ratio": {"type": "number"},
                "count": {"type": "integer"}}}}},
        {"type": "function", "function": {"name": "config",
            "parameters": {"type": "object",
                "$defs": {"Port": {"type": "integer", "minimum": 1}},
                "properties": {
                    "mode": {"enum": [1, 2, 3]},
                    "style": {"enum": ["fast", "slow"]},
                    "port": {"$ref": "#/$defs/Port"},
                    "retries": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                    "level": {"type": "int"},
                    "tag": {"type": "str"}}}}},
        {"type": "function", "function": {"name": "list_dir",
            "parameters": {"type": "object", "properties": {}}}}
    ]);
    Arc::new(Tools::from_openai(&tools).expect("the test tools are valid"))
}

pub(crate) const QA: &[Format] = &[Q, A];
pub(crate) const QHALM: &[Format] = &[Q, H, A, L, M];
pub(crate) const QHALMN: &[Format] = &[Q, H, A, L, M, N];
pub(crate) const ONLY_L: &[Format] = &[L];
pub(crate) const ONLY_M: &[Format] = &[M];
pub(crate) const HA: &[Format] = &[H, A];
pub(crate) const QHA: &[Format] = &[Q, H, A];
pub(crate) const QHAN: &[Format] = &[Q, H, A, N];
pub(crate) const ONLY_Q: &[Format] = &[Q];
pub(crate) const ONLY_H: &[Format] = &[H];
pub(crate) const ONLY_A: &[Format] = &[A];
pub(crate) const ONLY_N: &[Format] = &[N];

/// The table: every row of `rows/`.
pub(crate) fn cases() -> Vec<Case> {
    rows::cases()
}

/// Every distinct input of the table (for the chunking properties).
pub(crate) fn table_inputs() -> Vec<String> {
    let mut inputs: Vec<String> = cases().into_iter().map(|c| c.input).collect();
    inputs.sort();
    inputs.dedup();
    inputs
}
