//! podctl's human output as a whole, snapshotted (`tests/snapshots/`): the help of podctl
//! and of every subcommand, representative errors with their hints, and `status` with
//! nothing running. Each run has its own home and state dir, no colour, and a fixed help
//! width (clap wraps help to `COLUMNS` when stdout is not a terminal).

mod transcript;

use std::path::Path;
use std::process::{Command, Output};

use clap::CommandFactory as _;
use tempfile::TempDir;

use crate::transcript::{settings, transcript};

/// `podctl ARGS` in `dir` (also its HOME, podctl home and state dir).
fn podctl(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_podctl"));
    cmd.args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("PODCTL_HOME", dir.join("home"))
        .env("PODCTL_STATE_DIR", dir.join("state"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        // Nothing on this machine is found as vLLM: the output must not depend on one.
        .env("PODCTL_VLLM_BIN", dir.join("no-vllm"));
    for var in ["PODCTL_API_KEY", "RUNPOD_POD_ID", "XDG_CONFIG_HOME", "RUST_LOG", "CLICOLOR_FORCE"] {
        cmd.env_remove(var);
    }
    cmd.output().expect("podctl runs")
}

/// Asserts the snapshot `name` of `podctl ARGS`, run in a fresh sandbox set up by `prepare`.
fn check(name: &str, args: &[&str], prepare: impl FnOnce(&Path)) {
    let dir = TempDir::new().expect("temp dir");
    prepare(dir.path());
    let out = podctl(dir.path(), args);
    let sandbox = dir.path().display().to_string();
    settings(&[(&sandbox, "[SANDBOX]")]).bind(|| insta::assert_snapshot!(name, transcript(&out)));
}

#[test]
fn help_of_podctl_and_every_subcommand() {
    check("help", &["--help"], |_| {});
    for sub in podctl::cli::Cli::command().get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        if name != "help" {
            check(&format!("help_{name}"), &[name, "--help"], |_| {});
        }
    }
}

#[test]
fn an_unknown_profile_lists_the_known_ones() {
    check("error_unknown_profile", &["start", "nosuch", "--dry-run"], |_| {});
}

#[test]
fn a_broken_profile_names_its_line_and_the_fix() {
    check("error_broken_profile", &["start", "broken", "--dry-run"], |dir| {
        std::fs::create_dir_all(dir.join("models")).expect("models");
        std::fs::write(dir.join("models/broken.toml"), "model = \"Org/M\"\nmodle_len = 3\n")
            .expect("profile");
    });
}

#[test]
fn bad_proxy_flags_are_refused() {
    check("error_proxy_port_not_a_number", &["proxy", "--port", "abc"], |_| {});
    check("error_proxy_unknown_flag", &["proxy", "--bogus"], |_| {});
    check("error_proxy_open_without_a_key", &["proxy", "--host", "0.0.0.0"], |_| {});
}

#[test]
fn stop_and_status_with_nothing_running() {
    check("stop_nothing_running", &["stop"], |_| {});
    check("status_nothing_running", &["status"], |_| {});
}
