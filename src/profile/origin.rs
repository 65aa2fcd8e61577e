//! Where a profile came from: the project's `./models`, the podctl home, the binary, or a
//! path named on the command line.

use std::fmt;
use std::path::PathBuf;

/// Where a profile came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `./models` in the current directory.
    Local(PathBuf),
    /// The podctl home's `models/`.
    Home(PathBuf),
    /// Embedded in the binary.
    Builtin,
    /// Named by path on the command line.
    File(PathBuf),
}

impl Origin {
    /// A one-word kind for listings.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Local(_) => "local",
            Self::Home(_) => "home",
            Self::Builtin => "built-in",
            Self::File(_) => "file",
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Builtin => f.write_str("built-in"),
            Self::Local(p) | Self::Home(p) | Self::File(p) => write!(f, "{}", p.display()),
        }
    }
}
