//! `podctl doctor [PROFILE] [--json] [--continue-config FILE]`: every check, one line each,
//! with the fix for each warning and failure. Exit 0 when nothing failed, 1 otherwise.

use std::path::PathBuf;

use clap::Args;
use console::style;

use crate::doctor::{self, Status};
use crate::ui::{Printer, UserError};

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The profile to check against [default: the running one, else `qwen`].
    pub profile: Option<String>,
    /// Print the checks as JSON: a list of {id, status, summary, detail, fix}.
    #[arg(long)]
    pub json: bool,
    /// Also check this Continue config.yaml against the proxy.
    #[arg(long, value_name = "FILE")]
    pub continue_config: Option<PathBuf>,
}

pub(super) fn run(args: &DoctorArgs, printer: &Printer) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let facts =
        runtime.block_on(doctor::facts::gather(args.profile.as_deref(), args.continue_config.clone()));
    let checks = doctor::checks::all(&facts);
    if args.json {
        printer.data(&serde_json::to_string_pretty(&checks)?)?;
    } else {
        let mut out = String::new();
        for c in &checks {
            let mark = match c.status {
                Status::Pass => style("✓").green().bold(),
                Status::Warn => style("!").yellow().bold(),
                Status::Fail => style("✗").red().bold(),
                Status::Skip => style("-").dim(),
            };
            let summary = if c.status == Status::Skip {
                style(c.summary.clone()).dim()
            } else {
                style(c.summary.clone())
            };
            out.push_str(&format!("{mark} {:22} {summary}\n", c.id));
            if let Some(d) = &c.detail {
                for line in d.lines() {
                    out.push_str(&format!("  {:22} {}\n", "", style(line).dim()));
                }
            }
            if let Some(fix) = &c.fix {
                out.push_str(&format!("  {:22} {} {fix}\n", "", style("fix:").cyan()));
            }
        }
        let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
        out.push_str(&format!(
            "\n{} passed, {} warning(s), {} failed\n",
            count(Status::Pass),
            count(Status::Warn),
            count(Status::Fail)
        ));
        printer.data(&out)?;
    }
    match doctor::exit_code(&checks) {
        0 => Ok(()),
        code => Err(UserError { message: String::new(), hint: None, code }.into()),
    }
}
