//! The table's rows, one file per family or rule group. Names are unique identifiers;
//! `toolcall_table.rs` has one test per name.

pub(crate) mod auto;
pub(crate) mod edges;
pub(crate) mod gemma4;
pub(crate) mod glm;
pub(crate) mod hermes;
pub(crate) mod invoke;
pub(crate) mod kimi_k3;
pub(crate) mod llama3;
pub(crate) mod mistral;
pub(crate) mod qwen_output;
pub(crate) mod qwen_rules;
pub(crate) mod seed;
pub(crate) mod special;

use super::Case;

/// The whole table.
pub(crate) fn cases() -> Vec<Case> {
    let mut cases = qwen_rules::cases();
    cases.extend(qwen_output::cases());
    cases.extend(hermes::cases());
    cases.extend(edges::cases());
    cases.extend(llama3::cases());
    cases.extend(mistral::cases());
    cases.extend(special::cases());
    cases.extend(glm::cases());
    cases.extend(auto::cases());
    cases.extend(invoke::cases());
    cases.extend(seed::cases());
    cases.extend(kimi_k3::cases());
    cases.extend(gemma4::cases());
    cases
}
