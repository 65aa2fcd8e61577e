//! Replacing a file so that a reader, or a crash, sees the old content or the new one and
//! never half of either: the instance record (`instance.json`), the proxy's status file, a
//! Continue `config.yaml` and podctl's own `config.toml` are all written this way.
//!
//! The content goes to a temporary file in the same folder (a rename cannot cross file
//! systems), which gets its permissions before any content is in it, is flushed to disk,
//! and is then renamed over the target; the folder is flushed last, so the rename itself
//! survives a power cut. On any error before the rename the temporary file is removed and
//! the target is untouched.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// The permission bits of the file [`write()`] leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// What a plain `File::create` gives: 0666 less the process umask.
    Default,
    /// Exactly these bits, whatever the umask (0600 for a file that holds a key).
    Exact(u32),
}

/// How many temporary names are tried before giving up (another writer, or a crashed one,
/// may hold a name: each try picks a fresh random one).
const TRIES: usize = 16;

/// Writes `bytes` to `path` atomically, with `mode` (see the module doc). The folder must
/// exist. A file already at `path` is replaced, whatever its own mode was.
pub fn write(path: &Path, bytes: &[u8], mode: Mode) -> io::Result<()> {
    let dir = folder(path);
    let (tmp, file) = create_temp(dir, path, mode)?;
    if let Err(e) = fill_and_rename(file, &tmp, path, bytes, mode) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // Without this the rename may be lost in a crash, leaving the old file (or none).
    File::open(dir)?.sync_all()
}

/// The folder `path` is in (`.` for a bare file name).
fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A new, empty file beside `path`, hidden and named after it, that no one else has open:
/// `create_new` never reuses (or follows a link at) an existing name.
fn create_temp(dir: &Path, path: &Path, mode: Mode) -> io::Result<(PathBuf, File)> {
    let name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let mut last = io::Error::other("no temporary name tried");
    for _ in 0..TRIES {
        // Ends in `.tmp`, so readers that pick files by extension (`*.json`) skip it.
        let tmp = dir.join(format!(".{name}.{}.{:016x}.tmp", std::process::id(), fastrand::u64(..)));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        if let Mode::Exact(bits) = mode {
            // Never wider than asked, even before the exact bits are set below.
            options.mode(bits);
        }
        match options.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Sets the mode, writes, flushes and renames; the caller removes `tmp` on error.
fn fill_and_rename(mut file: File, tmp: &Path, path: &Path, bytes: &[u8], mode: Mode) -> io::Result<()> {
    if let Mode::Exact(bits) = mode {
        // The umask narrowed the bits at creation; set them exactly, before any content.
        file.set_permissions(Permissions::from_mode(bits))?;
    }
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn mode_of(path: &Path) -> u32 {
        std::fs::metadata(path).expect("metadata").permissions().mode() & 0o7777
    }

    #[test]
    fn writes_and_replaces_the_content_leaving_no_temporary_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        write(&path, b"first", Mode::Default).expect("create");
        assert_eq!(std::fs::read(&path).expect("read"), b"first");
        write(&path, b"second, longer than the first", Mode::Default).expect("replace");
        assert_eq!(std::fs::read(&path).expect("read"), b"second, longer than the first");
        write(&path, b"", Mode::Default).expect("empty");
        assert_eq!(std::fs::read(&path).expect("read"), b"");
        assert_eq!(names(dir.path()), ["state.json"]);
    }

    #[test]
    fn exact_modes_are_exact_and_the_default_is_what_create_gives() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.toml");
        write(&path, b"key", Mode::Exact(0o600)).expect("write");
        assert_eq!(mode_of(&path), 0o600);
        // Replacing a private file with a wider mode, and back: the asked mode wins, even
        // over the umask (which takes bits off 0666 at creation).
        write(&path, b"key", Mode::Exact(0o666)).expect("widen");
        assert_eq!(mode_of(&path), 0o666);
        write(&path, b"key", Mode::Exact(0o600)).expect("narrow");
        assert_eq!(mode_of(&path), 0o600);

        let reference = dir.path().join("reference");
        File::create(&reference).expect("create");
        let plain = dir.path().join("plain");
        write(&plain, b"x", Mode::Default).expect("write");
        assert_eq!(mode_of(&plain), mode_of(&reference));
    }

    #[test]
    fn a_failed_write_leaves_the_target_and_no_temporary_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        // The rename fails: the target is a folder that is not empty.
        let target = dir.path().join("taken");
        std::fs::create_dir(&target).expect("dir");
        std::fs::write(target.join("inside"), b"kept").expect("write");
        let err = write(&target, b"new", Mode::Exact(0o600)).expect_err("cannot replace a folder");
        assert_ne!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
        assert_eq!(names(dir.path()), ["taken"], "the temporary file is removed");
        assert_eq!(std::fs::read(target.join("inside")).expect("read"), b"kept");

        // No folder to write in: nothing is created anywhere.
        let missing = dir.path().join("no/such/dir/file");
        assert_eq!(
            write(&missing, b"x", Mode::Default).expect_err("no folder").kind(),
            io::ErrorKind::NotFound
        );
        assert_eq!(names(dir.path()), ["taken"]);
    }

    #[test]
    fn concurrent_writers_leave_one_whole_content() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("instance.json");
        let contents: Vec<Vec<u8>> = (0..4u8).map(|i| vec![b'a' + i; 64 * 1024]).collect();
        let (all, path) = (&contents, &path);
        std::thread::scope(|s| {
            for content in all {
                s.spawn(move || {
                    for _ in 0..20 {
                        write(path, content, Mode::Default).expect("write");
                        let seen = std::fs::read(path).expect("read");
                        assert!(all.contains(&seen), "a torn file of {} bytes", seen.len());
                    }
                });
            }
        });
        assert_eq!(names(dir.path()), ["instance.json"]);
    }

    #[test]
    fn a_bare_file_name_is_in_the_current_folder() {
        assert_eq!(folder(Path::new("config.yaml")), Path::new("."));
        assert_eq!(folder(Path::new("/a/b")), Path::new("/a"));
    }
}
