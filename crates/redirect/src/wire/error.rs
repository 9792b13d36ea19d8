//! Errors of wire mode: what was being done, and the cause underneath.

use std::fmt;

/// What kind of failure an [`Error`] is.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A system call failed; [`Error::linux`] has the details (missing
    /// privilege, interface gone or down, …).
    System,
    /// The redirect filter did not compile.
    Filter,
    /// A configuration value is inconsistent or out of range.
    Config,
    /// Writing the `--write` tap failed.
    Tap,
}

/// An error of the wire mode engine.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// `Result` with wire mode's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with a message and no cause.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A failed system call.
    pub fn system(e: sluice_linux::Error) -> Error {
        Error {
            kind: ErrorKind::System,
            message: String::new(),
            source: Some(Box::new(e)),
        }
    }

    /// An error with a cause.
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error {
            kind,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The system error, for [`ErrorKind::System`].
    pub fn linux(&self) -> Option<&sluice_linux::Error> {
        self.source.as_ref().and_then(|s| s.downcast_ref())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.source, self.message.is_empty()) {
            (Some(s), true) => write!(f, "{s}"),
            (Some(s), false) => write!(f, "{}: {s}", self.message),
            (None, _) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.source {
            // A system error is shown as the whole message; do not repeat it.
            Some(_) if self.message.is_empty() => None,
            Some(s) => Some(s.as_ref()),
            None => None,
        }
    }
}

impl From<sluice_linux::Error> for Error {
    fn from(e: sluice_linux::Error) -> Error {
        Error::system(e)
    }
}
