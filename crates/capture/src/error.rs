//! The crate's error: what failed, with the error of the layer below.
//!
//! The errors of `sluice-linux` and `sluice-pcap` already say what was
//! being done and carry their system error in their message, so they are
//! kept whole here and not exposed again as a `source` (an error chain
//! printer would repeat them). Only [`Error::Io`] has a source: its message
//! is just the context.

use std::io;

/// An error of a live capture, a statistics run, a replay or a generator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A socket, ring, interface or privilege error from `sluice-linux`.
    #[error("{0}")]
    Linux(sluice_linux::Error),
    /// Reading or writing a capture file.
    #[error("{context}: {error}")]
    File {
        /// What was being done ("writing day.pcapng").
        context: String,
        /// The file error.
        error: sluice_pcap::Error,
    },
    /// The filter expression did not compile; `rendered` shows where, with
    /// a caret under the span.
    #[error("{rendered}")]
    Filter {
        /// The compiler's diagnostic, drawn under the expression.
        rendered: String,
        /// The compiler's error.
        error: sluice_filter::CompileError,
    },
    /// Writing output (frames printed to stdout).
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// Options that do not fit together or a value out of range.
    #[error("{0}")]
    Config(String),
    /// A reader thread panicked (a bug); the message says where.
    #[error("a capture thread failed: {0}")]
    Thread(String),
}

impl Error {
    /// A file error with what was being done.
    pub fn file(context: impl Into<String>, error: sluice_pcap::Error) -> Error {
        Error::File {
            context: context.into(),
            error,
        }
    }

    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The kind of a `sluice-linux` error underneath, if this is one
    /// (to tell "the interface went away" from other failures).
    pub fn linux_kind(&self) -> Option<sluice_linux::ErrorKind> {
        match self {
            Error::Linux(e) => Some(e.kind()),
            _ => None,
        }
    }
}

impl From<sluice_linux::Error> for Error {
    fn from(e: sluice_linux::Error) -> Error {
        Error::Linux(e)
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
