//! `podctl setup --autostart "serve qwen glm47"`: a start script under the podctl home
//! (`HOME/autostart.sh`, from `templates/autostart.sh`) that the pod's start command runs, so
//! a restarted pod (RunPod stops and starts containers; only `/workspace` survives) serves
//! again. The podctl binary is kept beside it (`HOME/bin/podctl`): the one on the container
//! disk is gone after a restart. Idempotent: the same command writes the same files, and a
//! second run says nothing changed. `podctl doctor` reads the script back ([`read`]).

use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::atomic_write::{self, Mode};
use crate::template::AUTOSTART;

/// The commands a pod may start with: each returns once its work runs in the background.
pub const COMMANDS: &[&str] = &["serve", "start", "start-vllm", "proxy"];

/// The script's line that holds its command, single-quoted (for [`read`]).
const COMMAND_LINE: &str = "command='";

/// The script's path under `home`.
pub fn script_path(home: &Path) -> PathBuf {
    home.join("autostart.sh")
}

/// Where the script's podctl binary is kept.
pub fn binary_path(home: &Path) -> PathBuf {
    home.join("bin").join("podctl")
}

/// The script's log.
pub fn log_path(state: &Path) -> PathBuf {
    state.join("autostart.log")
}

/// Splits `text` (`serve qwen glm47`, `start qwen --proxy`) into podctl's arguments, or
/// says why it cannot be a pod's start command.
pub fn parse(text: &str) -> Result<Vec<String>, String> {
    let words = shlex::split(text).ok_or_else(|| format!("`{text}` has an unclosed quote"))?;
    let words: Vec<String> = match words.first().map(String::as_str) {
        Some("podctl") => words[1..].to_vec(),
        _ => words,
    };
    match words.first().map(String::as_str) {
        None => Err("the command is empty".into()),
        Some(first) if COMMANDS.contains(&first) => Ok(words),
        Some(first) => Err(format!(
            "`{first}` cannot start a pod: give one of {} (e.g. \"serve qwen\" or \"start qwen --proxy\")",
            COMMANDS.join(", ")
        )),
    }
}

/// What the script is made of.
#[derive(Debug, Clone)]
pub struct Autostart {
    pub home: PathBuf,
    pub state: PathBuf,
    /// Where setup ran (the script runs podctl from there: `./models` finds the same profiles).
    pub dir: PathBuf,
    /// podctl's arguments.
    pub words: Vec<String>,
    /// `PODCTL_VLLM_BIN` at setup, carried into the script.
    pub vllm_bin: Option<String>,
}

/// What writing it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub script: PathBuf,
    pub binary: PathBuf,
    /// Both were already exactly so.
    pub unchanged: bool,
}

impl Autostart {
    /// The script's text.
    pub fn render(&self) -> Result<String, String> {
        let command = shlex::try_join(self.words.iter().map(String::as_str)).map_err(|e| e.to_string())?;
        let text = |p: PathBuf| p.display().to_string();
        AUTOSTART
            .render(&[
                ("command", &command),
                ("script", &text(script_path(&self.home))),
                ("home", &text(self.home.clone())),
                ("state", &text(self.state.clone())),
                ("dir", &text(self.dir.clone())),
                ("podctl", &text(binary_path(&self.home))),
                ("vllm_bin", self.vllm_bin.as_deref().unwrap_or("")),
                ("log", &text(log_path(&self.state))),
            ])
            .map_err(|e| e.to_string())
    }

    /// Writes the script and keeps `exe` (this podctl) as the script's binary.
    pub fn write(&self, exe: &Path) -> io::Result<Written> {
        let script = script_path(&self.home);
        let binary = binary_path(&self.home);
        let text = self.render().map_err(io::Error::other)?;
        let same_script = std::fs::read_to_string(&script).is_ok_and(|old| old == text);
        if !same_script {
            atomic_write::write(&script, text.as_bytes(), Mode::Exact(0o755))?;
        }
        let same_binary = same_file(exe, &binary);
        if !same_binary {
            let bytes = std::fs::read(exe)?;
            if let Some(dir) = binary.parent() {
                std::fs::create_dir_all(dir)?;
            }
            atomic_write::write(&binary, &bytes, Mode::Exact(0o755))?;
        }
        Ok(Written { script, binary, unchanged: same_script && same_binary })
    }
}

/// `a` and `b` are one file, or hold the same bytes.
fn same_file(a: &Path, b: &Path) -> bool {
    if let (Ok(a), Ok(b)) = (a.canonicalize(), b.canonicalize())
        && a == b
    {
        return true;
    }
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(ma), Ok(mb)) if ma.len() == mb.len() => std::fs::read(a).ok() == std::fs::read(b).ok(),
        _ => false,
    }
}

/// Removes the script (`--autostart off`); whether there was one.
pub fn remove(home: &Path) -> io::Result<bool> {
    match std::fs::remove_file(script_path(home)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// What `doctor` learns of an autostart script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub script: PathBuf,
    /// The command it runs, as its marker line says.
    pub command: Option<String>,
    /// The script is executable and its binary is there and executable.
    pub runnable: bool,
}

/// The autostart script under `home`, if there is one.
pub fn read(home: &Path) -> Option<Found> {
    let script = script_path(home);
    let text = std::fs::read_to_string(&script).ok()?;
    let executable =
        |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    let command = text
        .lines()
        .find_map(|l| l.strip_prefix(COMMAND_LINE)?.strip_suffix('\''))
        .map(|c| format!("podctl {}", c.replace(r"'\''", "'")));
    let runnable = executable(&script) && executable(&binary_path(home));
    Some(Found { script, command, runnable })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_commands_that_start_something_are_taken() {
        assert_eq!(parse("serve qwen glm47"), Ok(vec!["serve".into(), "qwen".into(), "glm47".into()]));
        assert_eq!(
            parse("podctl start qwen --proxy"),
            Ok(vec!["start".into(), "qwen".into(), "--proxy".into()])
        );
        assert!(parse("stop").expect_err("stop").contains("cannot start a pod"));
        assert!(parse("").expect_err("empty").contains("empty"));
        assert!(parse("serve 'qwen").expect_err("quote").contains("unclosed quote"));
    }

    #[test]
    fn the_script_runs_the_words_as_given_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("podctl-autostart-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let home = dir.join("it's home");
        std::fs::create_dir_all(&home).expect("home");
        let a = Autostart {
            home: home.clone(),
            state: home.join("state"),
            dir: home.clone(),
            words: vec!["serve".into(), "qwen".into(), "a b".into()],
            vllm_bin: None,
        };
        let text = a.render().expect("renders");
        // The quoting survives the shell: the script's `eval` gets the words back as given.
        let line = text.lines().find(|l| l.starts_with("command=")).expect("command line");
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("{line}\neval \"printf '%s|' $command\""))
            .output()
            .expect("bash");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "serve|qwen|a b|");
        let exe = dir.join("fake-podctl");
        std::fs::write(&exe, b"#!/bin/sh\n").expect("exe");
        let first = a.write(&exe).expect("writes");
        assert!(!first.unchanged);
        assert!(a.write(&exe).expect("writes").unchanged, "a second run changes nothing");
        let found = read(&home).expect("found");
        assert_eq!(found.command.as_deref(), Some("podctl serve qwen 'a b'"));
        assert!(found.runnable);
        assert!(remove(&home).expect("removes"));
        assert!(read(&home).is_none());
        assert!(!remove(&home).expect("nothing to remove"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
