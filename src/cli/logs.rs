//! `podctl logs [PROFILE] [-f] [-n N]`: vLLM's output as the supervisor kept it (both
//! streams, progress redraws folded, rotated at a size cap); `-f` follows across restarts
//! and rotations until Ctrl-C.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use clap::Args;

use crate::instance::Store;
use crate::supervisor::logfile::numbered;
use crate::ui::{Printer, UserError};

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The profile [default: the only one podctl has run].
    pub profile: Option<String>,
    /// Keep printing new lines as they come.
    #[arg(short, long)]
    pub follow: bool,
    /// How many of the last lines to print.
    #[arg(short = 'n', long, default_value_t = 100, value_name = "N")]
    pub lines: usize,
    /// The supervisor's own log instead of vLLM's.
    #[arg(long)]
    pub supervisor: bool,
}

pub(super) fn run(args: &LogsArgs, printer: &Printer) -> anyhow::Result<()> {
    let store = Store::from_env();
    let name = if let Some(n) = &args.profile {
        n.clone()
    } else {
        let all: Vec<String> = store.list().into_iter().map(|r| r.profile).collect();
        match all.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(UserError::failure("podctl has not run anything yet")
                    .hint("`podctl start PROFILE` first")
                    .into());
            }
            many => {
                return Err(UserError::usage("several profiles have logs")
                    .hint(format!("name one: {}", many.join(", ")))
                    .into());
            }
        }
    };
    let path = if args.supervisor { store.dir(&name).join("supervisor.log") } else { store.log_path(&name) };
    if !path.exists() {
        return Err(UserError::failure(format!("no log for `{name}` at {}", path.display()))
            .hint("`podctl status` lists what podctl has run")
            .into());
    }
    let tail = last_lines(&path, args.lines)?;
    printer.data_raw(&tail)?;
    if args.follow {
        follow(&path, printer)?;
    }
    Ok(())
}

/// The last `n` lines, reaching into the rotated file when the current one is short.
fn last_lines(path: &Path, n: usize) -> std::io::Result<String> {
    let mut text = std::fs::read_to_string(path)?;
    if text.lines().count() < n
        && let Ok(older) = std::fs::read_to_string(numbered(path, 1))
    {
        text = older + &text;
    }
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    let mut out = lines[start..].join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    Ok(out)
}

fn follow(path: &Path, printer: &Printer) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut file = std::fs::File::open(path)?;
    let mut pos = file.seek(SeekFrom::End(0))?;
    let mut inode = file.metadata()?.ino();
    let mut buf = Vec::new();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        // Rotated (a new file under the name) or truncated: start over on the new file.
        if let Ok(meta) = std::fs::metadata(path)
            && (meta.ino() != inode || meta.len() < pos)
        {
            file = std::fs::File::open(path)?;
            inode = meta.ino();
            pos = 0;
        }
        file.seek(SeekFrom::Start(pos))?;
        buf.clear();
        let n = file.read_to_end(&mut buf)?;
        if n > 0 {
            pos += n as u64;
            printer.data_raw(&String::from_utf8_lossy(&buf))?;
        }
    }
}
