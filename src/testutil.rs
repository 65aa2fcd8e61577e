//! Helpers shared by the unit tests: small executable shell scripts standing in for
//! programs (pip, vllm, nvidia-smi). Temporary folders are `tempfile::TempDir`s.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

/// Writes an executable `#!/bin/sh` script at `path` (creating its folder).
pub(crate) fn script(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
