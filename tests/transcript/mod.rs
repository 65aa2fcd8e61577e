//! Whole-output snapshots of the real binary (`insta`): a run becomes one text, its exit
//! code, stdout and stderr (a [`transcript`]), and [`settings`] make that text the same on
//! any machine before it is compared with `tests/snapshots/`. They run in plain
//! `cargo test`; a mismatch fails the test (and, outside CI, leaves a `.snap.new` beside
//! the snapshot to review with `cargo insta review`, or to rename over it).
//!
//! What varies from run to run or machine to machine, and how it is made stable:
//! * the sandbox's temporary folder and ports: replaced by name (`known`), then any other
//!   path under the temp dir by `[TMP]`;
//! * API keys, pids and run ids: by `[KEY]`, `[PID]` and `[RUN_ID]`;
//! * elapsed times (progress lines, uptimes, how long a stop took): by `[ELAPSED]`;
//! * podctl's version: by `[VERSION]`;
//! * free disk space: by `[N] GiB free`;
//! * the GPUs: `status` lists them (those lines are removed) and doctor's `gpu.*` checks
//!   describe them (each is replaced by its id, and doctor's counts, which they change, by
//!   `[N]`), so a snapshot taken on the GPU-less CI machine holds on a GPU pod too.
//!
//! Each test file that takes snapshots includes this module.

use std::process::Output;

/// The snapshot settings for podctl's output: the `known` literals (a sandbox path, a port)
/// replaced by their names first, then the filters listed in the module doc.
pub(crate) fn settings(known: &[(&str, &str)]) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
    for (literal, name) in known {
        let escaped = regex::escape(literal);
        // A number (a port) only where it stands alone, not inside a longer number.
        let pattern =
            if literal.bytes().all(|b| b.is_ascii_digit()) { format!(r"\b{escaped}\b") } else { escaped };
        settings.add_filter(&pattern, *name);
    }
    let tmp = std::env::temp_dir();
    settings.add_filter(&format!(r"{}/[^\s/:'`)]+", regex::escape(&tmp.display().to_string())), "[TMP]");
    settings.add_filter(r"sk-podctl-[0-9a-f]{48}", "[KEY]");
    settings.add_filter(r"\b(pid\s+)\d+", "${1}[PID]");
    // `supervisor::new_run_id`: the time, the pid and a random number, in hex.
    settings.add_filter(r"\b[0-9a-f]{6,}-[0-9a-f]+-[0-9a-f]{4}\b", "[RUN_ID]");
    settings.add_filter(r"\[\s*\d+\.\d+s\]", "[ELAPSED]");
    settings.add_filter(r"\(up [^)]+\)", "(up [ELAPSED])");
    settings.add_filter(r"\b(in|after) \d+(\.\d+)? ?s\b", "$1 [ELAPSED]");
    settings.add_filter(&format!(r"\b{}\b", regex::escape(env!("CARGO_PKG_VERSION"))), "[VERSION]");
    settings.add_filter(r"\d+(\.\d+)? GiB free", "[N] GiB free");
    // Removed, not replaced: their number is the number of GPUs.
    settings.add_filter(r"(?m)^gpu \d+ .*\n", "");
    settings.add_filter(r"(?m)^(\S) (gpu\.[a-z]+) .*\n(^ {20,}.*\n)*", "[$2: this machine's GPUs]\n");
    settings
        .add_filter(r"\d+ passed, \d+ warning\(s\), \d+ failed", "[N] passed, [N] warning(s), [N] failed");
    settings
}

/// A run as one text: the exit code, then stdout and stderr, each under a header.
pub(crate) fn transcript(out: &Output) -> String {
    let code = out.status.code().map_or_else(|| "killed by a signal".to_owned(), |c| c.to_string());
    format!(
        "exit: {code}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
