//! `podctl setup [--rotate-key] [--install-vllm] [--json]`: the first run on a fresh pod
//! (idempotent). Makes the podctl home, copies the built-in profiles there, writes the
//! config with an API key, reports (or installs) vLLM, then prints the next steps and the
//! Continue.dev block for this pod.

use std::path::Path;

use clap::Args;
use console::style;
use serde_json::json;

use crate::continue_config::{self, ModelBlock};
use crate::setup::autostart;
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
    /// Write HOME/autostart.sh, which runs this podctl command (e.g. "serve qwen glm47" or
    /// "start qwen --proxy") when the pod starts, and print how to make it the pod's start
    /// command. `off` removes it.
    #[arg(long, value_name = "COMMAND")]
    pub autostart: Option<String>,
    /// Print what was done as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// The profile whose Continue block setup prints.
const PROFILE: &str = "qwen";

/// `profiles_of`: the profiles a podctl command line names, as podctl parses it (or why it
/// does not parse).
pub(super) fn run(
    args: &SetupArgs,
    printer: &Printer,
    profiles_of: fn(&[String]) -> Result<Vec<String>, String>,
) -> anyhow::Result<()> {
    let home = crate::home::home();
    // Checked before anything is written: a typo leaves the home as it was.
    let autostart_words = match args.autostart.as_deref() {
        None | Some("off") => None,
        Some(text) => Some(autostart_command(text, profiles_of)?),
    };
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

    let autostart = match (&autostart_words, args.autostart.as_deref()) {
        (Some(words), _) => Some(write_autostart(&home, words)?),
        (None, Some("off")) => {
            let removed = autostart::remove(&home).map_err(|e| {
                UserError::failure(format!("cannot remove {}: {e}", autostart::script_path(&home).display()))
            })?;
            if !args.json {
                printer.note(&if removed {
                    format!(
                        "autostart removed ({}); set the pod's start command back",
                        autostart::script_path(&home).display()
                    )
                } else {
                    "autostart: there was none".to_owned()
                });
            }
            None
        }
        _ => None,
    };
    if let (Some(written), false) = (&autostart, args.json) {
        describe_autostart(written, args.autostart.as_deref().unwrap_or_default(), printer);
    }

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
            "autostart": autostart.as_ref().map(|w| json!({
                "script": w.script.display().to_string(),
                "binary": w.binary.display().to_string(),
                "command": args.autostart,
                "unchanged": w.unchanged,
                "start_command": start_command(&w.script),
            })),
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

/// `--autostart`'s command as podctl's arguments, checked as podctl would parse them and
/// with the profiles it names found.
fn autostart_command(
    text: &str,
    profiles_of: fn(&[String]) -> Result<Vec<String>, String>,
) -> anyhow::Result<Vec<String>> {
    let bad = |why: String| UserError::usage(format!("--autostart: {why}"));
    let words = autostart::parse(text).map_err(|e| bad(e).hint("e.g. --autostart \"serve qwen\""))?;
    for name in profiles_of(&words).map_err(bad)? {
        crate::profile::catalog::find(&name).map_err(|e| super::start::profile_error(&e))?;
    }
    Ok(words)
}

fn write_autostart(home: &Path, words: &[String]) -> anyhow::Result<autostart::Written> {
    let a = autostart::Autostart {
        home: home.to_owned(),
        state: crate::home::state_dir(),
        dir: std::env::current_dir()?,
        words: words.to_vec(),
        vllm_bin: std::env::var("PODCTL_VLLM_BIN").ok().filter(|v| !v.is_empty()),
    };
    let exe = std::env::current_exe()?;
    a.write(&exe).map_err(|e| {
        UserError::failure(format!("cannot write the autostart script in {}: {e}", home.display()))
            .hint("check that the podctl home is writable and has room for a copy of podctl")
            .into()
    })
}

/// The start command that runs `script`, keeping the image's own start script.
fn start_command(script: &Path) -> String {
    format!("bash -c '{}; /start.sh'", script.display())
}

fn describe_autostart(w: &autostart::Written, command: &str, printer: &Printer) {
    let did = if w.unchanged { "kept" } else { "wrote" };
    printer.note(&format!(
        "autostart: {did} {} (runs `podctl {command}` at pod start; podctl kept at {})",
        w.script.display(),
        w.binary.display()
    ));
    printer.note(&format!(
        "  make it the pod's start command (RunPod: Edit Pod > Container Start Command):\n    {}\n           `podctl doctor` says whether this pod starts with it",
        start_command(&w.script)
    ));
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
