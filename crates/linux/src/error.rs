//! The crate's error type: a kind to match on, what was being done, and the
//! system error underneath.

use std::fmt;
use std::io;

use crate::block::WalkError;

/// What kind of failure an [`Error`] is.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A capability is missing (`CAP_NET_RAW`, `CAP_NET_ADMIN`) or the
    /// kernel refused for lack of privilege.
    Permission,
    /// No interface by that name (or index).
    NoSuchInterface,
    /// The interface went down during a capture.
    InterfaceDown,
    /// The interface was deleted during a capture.
    InterfaceGone,
    /// The kernel lacks a feature that was asked for.
    Unsupported,
    /// A configuration value is out of range or inconsistent.
    InvalidConfig,
    /// A ring block broke the kernel's layout rules.
    MalformedBlock,
    /// No such user (for dropping privileges).
    NoSuchUser,
    /// Dropping privileges did not leave the process unprivileged.
    PrivilegesKept,
    /// A lab command (`ip`, `sysctl`, `ethtool`) failed.
    Lab,
    /// Any other system error.
    Io,
}

/// An error of this crate: kind, context ("binding to eth0") and cause.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    context: String,
    source: Option<io::Error>,
    walk: Option<WalkError>,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with a message and no system cause.
    pub fn new(kind: ErrorKind, context: impl Into<String>) -> Error {
        Error {
            kind,
            context: context.into(),
            source: None,
            walk: None,
        }
    }

    /// An error wrapping a system error, classified by its errno.
    pub fn io(context: impl Into<String>, source: io::Error) -> Error {
        let kind = match source.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => ErrorKind::Permission,
            Some(libc::ENODEV) | Some(libc::ENXIO) => ErrorKind::NoSuchInterface,
            Some(libc::ENETDOWN) => ErrorKind::InterfaceDown,
            Some(libc::ENOPROTOOPT) | Some(libc::EOPNOTSUPP) | Some(libc::EAFNOSUPPORT) => {
                ErrorKind::Unsupported
            }
            Some(libc::EINVAL) => ErrorKind::InvalidConfig,
            _ => ErrorKind::Io,
        };
        Error {
            kind,
            context: context.into(),
            source: Some(source),
            walk: None,
        }
    }

    /// An error of a chosen kind wrapping a system error.
    pub fn with_kind(kind: ErrorKind, context: impl Into<String>, source: io::Error) -> Error {
        Error {
            kind,
            context: context.into(),
            source: Some(source),
            walk: None,
        }
    }

    /// A malformed ring block.
    pub fn walk(context: impl Into<String>, e: WalkError) -> Error {
        Error {
            kind: ErrorKind::MalformedBlock,
            context: context.into(),
            source: None,
            walk: Some(e),
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// What was being done (or the whole message for errors without a
    /// system cause).
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The system error, if there was one.
    pub fn io_error(&self) -> Option<&io::Error> {
        self.source.as_ref()
    }

    /// The block walker's error, for [`ErrorKind::MalformedBlock`].
    pub fn walk_error(&self) -> Option<WalkError> {
        self.walk
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)?;
        if let Some(e) = &self.source {
            write!(f, ": {e}")?;
        }
        if let Some(w) = &self.walk {
            write!(f, ": {w}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match (&self.source, &self.walk) {
            (Some(e), _) => Some(e),
            (None, Some(w)) => Some(w),
            _ => None,
        }
    }
}

/// The message for a missing `CAP_NET_RAW`, shared by capture and inject.
pub(crate) fn needs_net_raw(what: &str, source: io::Error) -> Error {
    Error::with_kind(
        ErrorKind::Permission,
        format!(
            "{what} needs CAP_NET_RAW: run as root or grant it with setcap cap_net_raw,cap_net_admin+ep"
        ),
        source,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_errno_and_formats_context() {
        let e = Error::io(
            "binding to eth0",
            io::Error::from_raw_os_error(libc::ENODEV),
        );
        assert_eq!(e.kind(), ErrorKind::NoSuchInterface);
        assert!(e.to_string().starts_with("binding to eth0: "));
        let e = needs_net_raw("capture on eth0", io::Error::from_raw_os_error(libc::EPERM));
        assert_eq!(e.kind(), ErrorKind::Permission);
        assert!(e.to_string().starts_with(
            "capture on eth0 needs CAP_NET_RAW: run as root or grant it with setcap cap_net_raw,cap_net_admin+ep"
        ));
    }
}
