//! How a send to a replica fails, for both transports.

/// Any error, for body streams.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request that could not be sent or whose answer broke off.
#[derive(Debug)]
pub(crate) struct SendError {
    /// The connection was refused or could not be made: the server is not there.
    pub(crate) connect: bool,
    /// What happened, innermost cause included.
    pub(crate) message: String,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// `what (innermost cause)`: reqwest wraps hyper wraps io.
pub(crate) fn describe(what: &str, error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    format!("{what} ({cause})")
}
