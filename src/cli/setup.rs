//! `podctl setup [--rotate-key] [--install-vllm] [--json]`: the first run on a fresh pod
//! (idempotent). Makes the podctl home, copies the built-in profiles there, writes the
//! config with an API key, reports (or installs) vLLM, then prints the next steps and the
//! Continue.dev block for this pod.

use std::path::Path;

use clap::Args;
use console::style;
use serde_json::json;

use crate::continue_config::{self, ModelBlock};
use crate::setup::install::{Install, Installed};
use crate::setup::{Did, Report, Setup};
use crate::ui::progress::Progress;
use crate::ui::{Printer, UserError};
use crate::vllm::locate;

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Replace the API key in HOME/config.toml with a new one (the old one stops working
    /// when the proxy next starts).
    #[arg(long)]
    pub rotate_key: bool,
    /// Create HOME/venv and `pip install --upgrade vllm` into it (needs ~15 GiB and network).
    #[arg(long)]
    pub install_vllm: bool,
    /// Print what was done as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// The profile whose Continue block setup prints.
const PROFILE: &str = "qwen";

pub(super) fn run(args: &SetupArgs, printer: &Printer) -> anyhow::Result<()> {
    let home = crate::home::home();
    let setup = Setup {
        home: home.clone(),
        state: crate::home::state_dir(),
        workspace: Path::new(crate::home::WORKSPACE).is_dir(),
        rotate_key: args.rotate_key,
    };
    let report = setup.run().map_err(|e| {
        UserError::failure(e.to_string())
            .hint("check that the podctl home is writable, or set PODCTL_HOME to a folder that is")
    })?;
    for w in &report.warnings {
        printer.warn(w);
    }
    if !args.json {
        describe(&report, &home, printer);
    }

    let getenv = |k: &str| std::env::var(k).ok();
    let mut installed_now = false;
    if args.install_vllm {
        let install = Install::new(&home, &getenv);
        let mut progress = Progress::new(printer.is_quiet() || args.json);
        let done = install.run(&mut |line| progress.set(&short(line)));
        progress.finish();
        match done? {
            Installed::Already(path) if !args.json => {
                printer.note(&format!("vLLM is already installed in {}", path.display()));
            }
            Installed::Now(_) => installed_now = true,
            Installed::Already(_) => {}
        }
    }
    let vllm = locate::find_vllm("vllm").map(|path| {
        let version = locate::version(&path);
        (path, version)
    });
    if !args.json {
        vllm_note(vllm.as_ref(), installed_now, &home, printer);
    }

    let profile = crate::profile::catalog::find(PROFILE).map_err(|e| super::start::profile_error(&e))?;
    let key = continue_config::resolve_key(None, &profile, &getenv, &setup.config_path());
    let key_text = key.as_ref().map_or(continue_config::KEY_PLACEHOLDER, |(k, _)| k.as_str());
    let block = ModelBlock::for_profile(&profile, key_text, &getenv);
    let yaml = block.to_yaml()?;

    if args.json {
        let paths = |did| report.paths(did).iter().map(|p| p.display().to_string()).collect::<Vec<_>>();
        let out = json!({
            "home": home.display().to_string(),
            "created": paths(Did::Created),
            "kept": paths(Did::Kept),
            "changed": paths(Did::Changed),
            "unchanged": report.unchanged() && !installed_now,
            "key_file": setup.config_path().display().to_string(),
            "vllm": vllm.as_ref().map(|(p, v)| json!({"path": p.display().to_string(), "version": v})),
            "continue": yaml,
            "warnings": report.warnings,
        });
        printer.data(&serde_json::to_string_pretty(&out)?)?;
        return Ok(());
    }

    next_steps(&profile, printer);
    printer.note(
        "\nContinue.dev: this block goes in ~/.continue/config.yaml \
         (`podctl continue-config --write ~/.continue/config.yaml` merges it for you):",
    );
    printer.data(&yaml)?;
    Ok(())
}

/// What was created, changed and kept; "nothing changed" on a second run.
fn describe(report: &Report, home: &Path, printer: &Printer) {
    printer.note(&format!("podctl home: {}", home.display()));
    for a in &report.actions {
        match a.did {
            Did::Created => {
                printer.note(&format!("  {} created {} ({})", style("+").green(), a.path.display(), a.what));
            }
            Did::Changed => {
                printer.note(&format!("  {} changed {} ({})", style("~").yellow(), a.path.display(), a.what));
            }
            Did::Kept => {}
        }
        if a.what == "API key rotated" {
            printer.note("    the old key stops working when the proxy next starts (`podctl stop && podctl start qwen --proxy`); update your clients' apiKey");
        }
    }
    let kept: Vec<&str> = report
        .actions
        .iter()
        .filter(|a| a.did == Did::Kept && a.what != "folder")
        .map(|a| a.what.as_str())
        .collect();
    if !kept.is_empty() {
        printer.note(&format!("  {} kept {}", style("=").dim(), kept.join(", ")));
    }
    if report.unchanged() {
        printer.note(&format!("{} nothing changed: the home was already set up", style("✓").green()));
    }
}

fn vllm_note(
    vllm: Option<&(std::path::PathBuf, Option<String>)>,
    installed_now: bool,
    home: &Path,
    printer: &Printer,
) {
    match vllm {
        Some((path, version)) => {
            let version = version.as_deref().map_or_else(|| "version unknown".to_owned(), |v| format!("vLLM {v}"));
            let verb = if installed_now { "installed" } else { "found" };
            printer.note(&format!("{} {verb} {version} at {}", style("✓").green(), path.display()));
            let venv_vllm = locate::venv_dir(home).join("bin/vllm");
            if installed_now && *path != venv_vllm {
                printer.warn(&format!(
                    "{} comes first; set PODCTL_VLLM_BIN={} to use the one just installed",
                    path.display(),
                    venv_vllm.display()
                ));
            }
        }
        None => printer.note(&format!(
            "{} vLLM not found (PATH, $PODCTL_VLLM_BIN, {}/bin): `podctl setup --install-vllm` installs it there \
             (~15 GiB, a few minutes), or `pip install vllm`",
            style("!").yellow(),
            locate::venv_dir(home).display()
        )),
    }
}

fn next_steps(profile: &crate::profile::Profile, printer: &Printer) {
    let port = profile.proxy.port;
    let start = format!("podctl start {} --proxy", profile.name);
    let mut out = format!(
        "\nnext:\n  {start:<30}  # vLLM and the proxy on port {port} (the first start downloads the model)\n"
    );
    match std::env::var("RUNPOD_POD_ID").ok().filter(|p| !p.is_empty()) {
        Some(pod) => out.push_str(&format!(
            "  expose HTTP port {port} in the pod's settings; clients then use https://{pod}-{port}.proxy.runpod.net/v1\n"
        )),
        None => out.push_str(&format!(
            "  clients here use http://127.0.0.1:{port}/v1 (on RunPod: expose HTTP port {port} in the pod's settings)\n"
        )),
    }
    out.push_str(&format!(
        "  {:<30}  # checks the GPU, vLLM, ports and the running services",
        "podctl doctor"
    ));
    printer.note(&out);
}

/// One line of pip output, short enough for a spinner.
fn short(line: &str) -> String {
    let line = line.trim();
    if line.chars().count() <= 100 {
        return line.to_owned();
    }
    let mut s: String = line.chars().take(99).collect();
    s.push('…');
    s
}
