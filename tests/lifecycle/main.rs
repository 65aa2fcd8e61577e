//! `podctl start` / `status` / `logs` / `stop` as a user runs them, with the test-double
//! vllm: real processes, real ports, `/proc` checked for survivors.

mod doctor;
mod flows;
mod harness;
mod serve;
mod supervision;
#[path = "../transcript/mod.rs"]
mod transcript;
