//! `podctl setup --install-vllm`: a virtual environment under the podctl home
//! (`HOME/venv`, made with `$PODCTL_PYTHON -m venv`, default `python3`), then
//! `HOME/venv/bin/pip install --upgrade vllm`, each output line handed to the caller as
//! progress and kept in `HOME/logs/install-vllm.log`. It refuses to start with less than
//! [`MIN_FREE_GIB`] free under the home (`PODCTL_MIN_INSTALL_GB` overrides), and names the
//! cause when it fails: no Python, no venv module, no network to the package index, a full
//! disk. Nothing is done when the venv already holds `vllm`.

use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;

use crate::ui::UserError;
use crate::vllm::locate;

/// Free space needed before installing (torch, CUDA libraries and vLLM's wheels).
pub const MIN_FREE_GIB: u64 = 15;
/// Overrides [`MIN_FREE_GIB`].
pub const MIN_FREE_VAR: &str = "PODCTL_MIN_INSTALL_GB";
/// The Python that makes the venv.
pub const PYTHON_VAR: &str = "PODCTL_PYTHON";

const GIB: u64 = 1 << 30;

/// One install.
#[derive(Debug, Clone)]
pub struct Install {
    pub home: PathBuf,
    pub python: String,
    pub min_free_gib: u64,
}

/// How it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// The venv already held vLLM.
    Already(PathBuf),
    /// Installed now.
    Now(PathBuf),
}

impl Install {
    /// Settings from the environment (`PODCTL_PYTHON`, `PODCTL_MIN_INSTALL_GB`).
    pub fn new(home: &Path, getenv: &dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            home: home.to_owned(),
            python: getenv(PYTHON_VAR).filter(|p| !p.is_empty()).unwrap_or_else(|| "python3".into()),
            min_free_gib: getenv(MIN_FREE_VAR).and_then(|v| v.trim().parse().ok()).unwrap_or(MIN_FREE_GIB),
        }
    }

    pub fn venv(&self) -> PathBuf {
        locate::venv_dir(&self.home)
    }

    /// `HOME/venv/bin/vllm`.
    pub fn vllm(&self) -> PathBuf {
        self.venv().join("bin").join("vllm")
    }

    /// The full output of the last install.
    pub fn log_path(&self) -> PathBuf {
        self.home.join("logs").join("install-vllm.log")
    }

    /// Installs vLLM into the venv unless it is there; `progress` gets every output line.
    pub fn run(&self, progress: &mut dyn FnMut(&str)) -> Result<Installed, UserError> {
        if locate::runnable(&self.vllm()) {
            return Ok(Installed::Already(self.vllm()));
        }
        self.check_space()?;
        let log_path = self.log_path();
        if let Some(dir) = log_path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut log = std::fs::File::create(&log_path).ok();
        let venv = self.venv();
        let pip = venv.join("bin").join("pip");
        if !locate::runnable(&venv.join("bin").join("python")) {
            progress(&format!("creating {}", venv.display()));
            let mut cmd = Command::new(&self.python);
            cmd.arg("-m").arg("venv").arg(&venv);
            let out = stream(&mut cmd, progress, log.as_mut()).map_err(|e| self.no_python(&e))?;
            if !out.status.success() {
                return Err(self.venv_failed(&out));
            }
        }
        if !locate::runnable(&pip) {
            return Err(UserError::failure(format!(
                "the virtual environment {} has no pip",
                venv.display()
            ))
            .hint(format!(
                "install Python's venv module with pip (Debian/Ubuntu: `apt-get install -y python3-venv`), \
                 remove {} and run `podctl setup --install-vllm` again",
                venv.display()
            )));
        }
        progress("pip install --upgrade vllm (several GB: torch, CUDA libraries, vLLM)");
        let mut cmd = Command::new(&pip);
        cmd.args(["install", "--upgrade", "vllm"]).env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
        let out = stream(&mut cmd, progress, log.as_mut()).map_err(|e| {
            UserError::failure(format!("cannot run {}: {e}", pip.display()))
                .hint(format!("remove {} and run `podctl setup --install-vllm` again", venv.display()))
        })?;
        if !out.status.success() {
            return Err(pip_failed(&out, &self.home, &log_path));
        }
        if !locate::runnable(&self.vllm()) {
            return Err(UserError::failure(format!("pip finished but {} is missing", self.vllm().display()))
                .hint(format!("see {}", log_path.display())));
        }
        Ok(Installed::Now(self.vllm()))
    }

    fn check_space(&self) -> Result<(), UserError> {
        let Some(free) = free_bytes(&self.home) else { return Ok(()) };
        if free >= self.min_free_gib.saturating_mul(GIB) {
            return Ok(());
        }
        Err(UserError::failure(format!(
            "only {:.1} GiB free under {}; installing vLLM needs about {} GiB (torch, CUDA libraries, vLLM)",
            gib(free),
            self.home.display(),
            self.min_free_gib
        ))
        .hint(format!(
            "free space there, or set PODCTL_HOME to a larger disk (on RunPod, raise the volume disk of /workspace \
             in the pod's settings); {MIN_FREE_VAR}=N changes the {MIN_FREE_GIB} GiB threshold"
        )))
    }

    fn no_python(&self, e: &std::io::Error) -> UserError {
        let why =
            if e.kind() == std::io::ErrorKind::NotFound { "not found".to_owned() } else { e.to_string() };
        UserError::failure(format!("cannot run Python `{}`: {why}", self.python)).hint(format!(
            "install Python 3.10–3.13 with its venv module (Debian/Ubuntu: `apt-get install -y python3 python3-venv`), \
             or set {PYTHON_VAR} to the python to use"
        ))
    }

    fn venv_failed(&self, out: &Output) -> UserError {
        let hint = if out.text.contains("No space left on device") {
            "the disk is full: free space, or set PODCTL_HOME to a larger disk".to_owned()
        } else if out.text.contains("ensurepip") || out.text.contains("venv") {
            format!(
                "Python's venv module is missing: on Debian/Ubuntu `apt-get install -y python3-venv`, \
                 or set {PYTHON_VAR} to a python that has it; then remove {} and run `podctl setup --install-vllm` again",
                self.venv().display()
            )
        } else {
            format!("try `{} -m venv {}` by hand to see why", self.python, self.venv().display())
        };
        UserError::failure(format!(
            "`{} -m venv {}` failed ({}){}",
            self.python,
            self.venv().display(),
            out.status,
            tail(&out.text)
        ))
        .hint(hint)
    }
}

/// Why pip failed, from its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipFailure {
    DiskFull,
    /// No network to the index, or no vLLM for this Python/platform.
    NotDownloadable,
    Other,
}

const NETWORK: &[&str] = &[
    "Could not find a version",
    "No matching distribution",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "ConnectTimeoutError",
    "Read timed out",
    "ProxyError",
    "SSLError",
];

/// Pure: the cause in pip's output.
pub fn classify(output: &str) -> PipFailure {
    if output.contains("No space left on device") || output.contains("[Errno 28]") {
        PipFailure::DiskFull
    } else if NETWORK.iter().any(|n| output.contains(n)) {
        PipFailure::NotDownloadable
    } else {
        PipFailure::Other
    }
}

fn pip_failed(out: &Output, home: &Path, log: &Path) -> UserError {
    let tail = tail(&out.text);
    match classify(&out.text) {
        PipFailure::DiskFull => UserError::failure(format!("pip ran out of disk space under {}{tail}", home.display()))
            .hint(format!(
                "free space (vLLM with torch takes about {MIN_FREE_GIB} GiB), or set PODCTL_HOME to a larger disk; \
                 then run `podctl setup --install-vllm` again"
            )),
        PipFailure::NotDownloadable => {
            UserError::failure(format!("pip could not download vLLM{tail}")).hint(
                "check the network to the package index (`curl -sI https://pypi.org/simple/vllm/`, PIP_INDEX_URL, \
                 HTTPS_PROXY); if the index answers, this Python has no vLLM wheel (vLLM needs Python 3.10–3.13 on \
                 x86_64/aarch64 Linux: set PODCTL_PYTHON); then run `podctl setup --install-vllm` again",
            )
        }
        PipFailure::Other => UserError::failure(format!("pip install vllm failed ({}){tail}", out.status))
            .hint(format!("the full output is in {}", log.display())),
    }
}

/// `: ` and the last lines of `text`, indented, for an error message.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let last = &lines[lines.len().saturating_sub(4)..];
    format!(":\n  {}", last.join("\n  "))
}

/// Free bytes for an unprivileged user under `path` (or its nearest existing parent).
pub fn free_bytes(path: &Path) -> Option<u64> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let stat = nix::sys::statvfs::statvfs(existing).ok()?;
    #[allow(clippy::useless_conversion)]
    let (blocks, size) = (u64::from(stat.blocks_available()), u64::from(stat.fragment_size()));
    Some(blocks.saturating_mul(size))
}

#[allow(clippy::cast_precision_loss)]
fn gib(bytes: u64) -> f64 {
    bytes as f64 / GIB as f64
}

/// A finished command: its status and everything it printed (both streams, in arrival order).
#[derive(Debug)]
struct Output {
    status: ExitStatus,
    text: String,
}

/// Runs `cmd`, handing each line of stdout and stderr to `progress` as it comes.
fn stream(
    cmd: &mut Command,
    progress: &mut dyn FnMut(&str),
    mut log: Option<&mut std::fs::File>,
) -> std::io::Result<Output> {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let (tx, rx) = mpsc::channel::<String>();
    let mut readers = Vec::new();
    let pipes: [Option<Box<dyn Read + Send>>; 2] = [
        child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
        child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
    ];
    for pipe in pipes.into_iter().flatten() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut buf = Vec::new();
            while reader.read_until(b'\n', &mut buf).is_ok_and(|n| n > 0) {
                // Progress bars redraw with `\r`: keep the last state of the line.
                let text = String::from_utf8_lossy(&buf);
                let line = text.trim_end_matches(['\n', '\r']).rsplit('\r').next().unwrap_or("").to_owned();
                buf.clear();
                if tx.send(line).is_err() {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let mut text = String::new();
    for line in rx {
        if let Some(log) = log.as_deref_mut() {
            let _ = writeln!(log, "{line}");
        }
        if !line.trim().is_empty() {
            progress(line.trim_end());
        }
        text.push_str(&line);
        text.push('\n');
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child.wait()?;
    Ok(Output { status, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    use tempfile::TempDir;

    use crate::testutil::script;

    fn install(d: &TempDir, python: &Path) -> Install {
        Install { home: d.path().join("home"), python: python.display().to_string(), min_free_gib: 0 }
    }

    #[test]
    fn causes_from_pip_output() {
        assert_eq!(
            classify(
                "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device"
            ),
            PipFailure::DiskFull
        );
        assert_eq!(
            classify(
                "WARNING: Retrying … NewConnectionError('Failed to establish a new connection: [Errno 111]')"
            ),
            PipFailure::NotDownloadable
        );
        assert_eq!(classify("ERROR: No matching distribution found for vllm"), PipFailure::NotDownloadable);
        assert_eq!(classify("error: subprocess-exited-with-error"), PipFailure::Other);
        assert_eq!(tail(""), "");
        assert_eq!(tail("a\n\nb\nc\nd\ne\n"), ":\n  b\n  c\n  d\n  e");
    }

    #[test]
    fn installs_into_the_venv_with_progress_then_skips() {
        let d = tempfile::tempdir().expect("temp dir");
        let python = d.path().join("python3");
        // A stand-in for `python3 -m venv DIR` whose pip "installs" vllm.
        let templates = d.path().join("templates");
        script(&templates.join("vllm"), "echo 0.11.0");
        script(
            &templates.join("pip"),
            &format!(
                "echo Collecting vllm\nprintf '  Downloading 1%%\\r  Downloading 100%%\\n'\necho warn >&2\n\
                 cp {} \"$(dirname \"$0\")/vllm\"\necho Successfully installed vllm",
                templates.join("vllm").display()
            ),
        );
        script(
            &python,
            &format!(
                "mkdir -p \"$3/bin\" && cp {t}/vllm \"$3/bin/python\" && cp {t}/pip \"$3/bin/pip\"",
                t = templates.display()
            ),
        );
        let inst = install(&d, &python);
        let mut lines = Vec::new();
        let done = inst.run(&mut |l| lines.push(l.to_owned())).expect("installs");
        assert_eq!(done, Installed::Now(inst.vllm()));
        assert!(lines.iter().any(|l| l == "Collecting vllm"), "{lines:?}");
        assert!(lines.iter().any(|l| l == "  Downloading 100%"), "{lines:?}");
        assert!(lines.iter().any(|l| l == "warn"), "stderr too: {lines:?}");
        let log = std::fs::read_to_string(inst.log_path()).expect("log");
        assert!(log.contains("Successfully installed vllm"), "{log}");
        let again = inst.run(&mut |_| panic!("no work the second time")).expect("skips");
        assert_eq!(again, Installed::Already(inst.vllm()));
    }

    #[test]
    fn clear_failures() {
        let d = tempfile::tempdir().expect("temp dir");
        let missing = install(&d, &d.path().join("no-such-python"));
        let err = missing.run(&mut |_| {}).expect_err("no python");
        assert!(err.message.contains("not found"), "{}", err.message);
        assert!(err.hint.as_deref().unwrap_or("").contains(PYTHON_VAR));

        let python = d.path().join("python-novenv");
        script(&python, "echo 'Error: ensurepip is not available' >&2; exit 1");
        let err = install(&d, &python).run(&mut |_| {}).expect_err("no venv module");
        assert!(err.hint.as_deref().unwrap_or("").contains("python3-venv"), "{:?}", err.hint);

        let mut full = install(&d, &python);
        full.min_free_gib = u64::MAX / GIB;
        let err = full.run(&mut |_| {}).expect_err("no space");
        assert!(err.message.contains("GiB free"), "{}", err.message);
    }
}
