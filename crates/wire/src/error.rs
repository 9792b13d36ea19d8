//! The error type shared by every view and by the dissector.
//!
//! An [`Error`] is small and `Copy`: it says *what kind* of problem was met
//! ([`ErrorKind`]), *which protocol* was being read ([`Protocol`]), *where*
//! (the byte offset of that protocol's header in the frame) and *why*
//! ([`Reason`], which carries the numbers). A capture tool must be able to
//! say why a frame is malformed, so the display reads like
//! `IPv4 at offset 14: header length 12 is below 20`.
//!
//! Views do not know where they sit in a frame: the errors they return carry
//! offset 0 (or the offset inside the view) and the dissector moves them to
//! frame coordinates with [`Error::shifted`].

use core::fmt;

/// The broad kind of an [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes end before the header does.
    ///
    /// From the dissector this kind means the capture was cut by its
    /// snapshot length (the header would have fitted in the frame's original
    /// length): a normal event, not a malformed frame.
    Truncated,
    /// A length field disagrees with the bytes around it.
    BadLength,
    /// A checksum does not match the data.
    BadChecksum,
    /// Well-formed as far as it goes, but a variant sluice does not read.
    Unsupported,
    /// A field holds a value the protocol does not allow.
    Malformed,
}

impl ErrorKind {
    /// A short lower-case name for the kind (`"truncated"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Truncated => "truncated",
            ErrorKind::BadLength => "bad length",
            ErrorKind::BadChecksum => "bad checksum",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Malformed => "malformed",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol (a layer of a frame) that sluice can read.
///
/// Used both to name the layer an [`Error`] arose in and to name the layers
/// of a [`Dissection`](crate::dissect::Dissection).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Protocol {
    /// BSD loopback header, address family in host byte order.
    Null,
    /// OpenBSD loopback header, address family in network byte order.
    Loop,
    /// Linux cooked capture v1.
    LinuxSll,
    /// Linux cooked capture v2.
    LinuxSll2,
    /// Ethernet II or 802.3 MAC header.
    Ethernet,
    /// An 802.1Q VLAN tag.
    Vlan,
    /// An 802.1ad service tag (the outer tag of QinQ).
    QinQ,
    /// 802.2 LLC, with its SNAP extension when present.
    Llc,
    /// An MPLS label stack entry.
    Mpls,
    /// PPPoE session header with its PPP protocol field.
    Pppoe,
    /// PPPoE discovery stage.
    PppoeDiscovery,
    /// ARP (or RARP).
    Arp,
    /// An IP header whose version is not known yet (raw IP link types).
    Ip,
    /// IPv4.
    Ipv4,
    /// IPv6 fixed header.
    Ipv6,
    /// IPv6 hop-by-hop options header.
    Ipv6HopByHop,
    /// IPv6 routing header.
    Ipv6Routing,
    /// IPv6 fragment header.
    Ipv6Fragment,
    /// IPv6 destination options header.
    Ipv6DestOpts,
    /// IPsec authentication header.
    Ah,
    /// IPsec encapsulating security payload (its cleartext SPI and sequence).
    Esp,
    /// ICMP for IPv4.
    Icmpv4,
    /// ICMP for IPv6.
    Icmpv6,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP common header.
    Sctp,
    /// Generic routing encapsulation.
    Gre,
}

impl Protocol {
    /// The protocol's usual name (`"IPv4"`, `"802.1Q"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Null => "NULL",
            Protocol::Loop => "LOOP",
            Protocol::LinuxSll => "SLL",
            Protocol::LinuxSll2 => "SLL2",
            Protocol::Ethernet => "Ethernet",
            Protocol::Vlan => "802.1Q",
            Protocol::QinQ => "802.1ad",
            Protocol::Llc => "LLC",
            Protocol::Mpls => "MPLS",
            Protocol::Pppoe => "PPPoE",
            Protocol::PppoeDiscovery => "PPPoE-D",
            Protocol::Arp => "ARP",
            Protocol::Ip => "IP",
            Protocol::Ipv4 => "IPv4",
            Protocol::Ipv6 => "IPv6",
            Protocol::Ipv6HopByHop => "IPv6 hop-by-hop",
            Protocol::Ipv6Routing => "IPv6 routing",
            Protocol::Ipv6Fragment => "IPv6 fragment",
            Protocol::Ipv6DestOpts => "IPv6 destination options",
            Protocol::Ah => "AH",
            Protocol::Esp => "ESP",
            Protocol::Icmpv4 => "ICMP",
            Protocol::Icmpv6 => "ICMPv6",
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
            Protocol::Gre => "GRE",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a header was rejected, with the numbers that show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The header needs `need` bytes but only `have` are there.
    Short {
        /// Bytes the header needs.
        need: u32,
        /// Bytes present.
        have: u32,
    },
    /// A field is smaller than the protocol allows.
    Below {
        /// The field's name, e.g. `"header length"`.
        field: &'static str,
        /// Its value (in bytes for lengths).
        value: u32,
        /// The least value allowed.
        min: u32,
    },
    /// A length field claims more bytes than its enclosing layer holds.
    Exceeds {
        /// The field's name, e.g. `"total length"`.
        field: &'static str,
        /// Its value in bytes.
        value: u32,
        /// Bytes available from the start of this header.
        available: u32,
    },
    /// A field holds a value that is not allowed (or not supported).
    Invalid {
        /// The field's name, e.g. `"version"`.
        field: &'static str,
        /// Its value.
        value: u32,
    },
    /// A checksum does not match.
    Checksum {
        /// The checksum in the header.
        found: u16,
        /// The checksum the data calls for.
        expected: u16,
    },
    /// A fixed explanation.
    Message(&'static str),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Reason::Short { need, have } => {
                write!(f, "header needs {need} bytes, only {have} present")
            }
            Reason::Below { field, value, min } => write!(f, "{field} {value} is below {min}"),
            Reason::Exceeds {
                field,
                value,
                available,
            } => write!(f, "{field} {value} exceeds the {available} bytes available"),
            Reason::Invalid { field, value } => write!(f, "{field} {value} is not valid"),
            Reason::Checksum { found, expected } => {
                write!(f, "checksum {found:#06x} should be {expected:#06x}")
            }
            Reason::Message(m) => f.write_str(m),
        }
    }
}

/// An error reading a header: kind, layer, byte offset and reason.
///
/// ```
/// use sluice_wire::{Error, ErrorKind, Protocol, Reason};
/// let e = Error::new(
///     ErrorKind::BadLength,
///     Protocol::Ipv4,
///     Reason::Below { field: "header length", value: 12, min: 20 },
/// )
/// .shifted(14);
/// assert_eq!(e.to_string(), "IPv4 at offset 14: header length 12 is below 20");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Error {
    kind: ErrorKind,
    layer: Protocol,
    offset: u32,
    reason: Reason,
}

impl Error {
    /// An error at offset 0 of the layer's own bytes.
    pub const fn new(kind: ErrorKind, layer: Protocol, reason: Reason) -> Error {
        Error {
            kind,
            layer,
            offset: 0,
            reason,
        }
    }

    /// A [`ErrorKind::Truncated`] error: the header needs `need` bytes, the
    /// buffer has `have`.
    pub fn short(layer: Protocol, need: usize, have: usize) -> Error {
        Error::new(
            ErrorKind::Truncated,
            layer,
            Reason::Short {
                need: sat32(need),
                have: sat32(have),
            },
        )
    }

    /// The same error with `by` added to its offset (moving it from view
    /// coordinates to frame coordinates).
    #[must_use]
    pub fn shifted(mut self, by: usize) -> Error {
        self.offset = self.offset.saturating_add(sat32(by));
        self
    }

    /// The same error with another kind.
    #[must_use]
    pub fn with_kind(mut self, kind: ErrorKind) -> Error {
        self.kind = kind;
        self
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The protocol being read when the problem was found.
    pub fn layer(&self) -> Protocol {
        self.layer
    }

    /// Byte offset of that protocol's header (in the frame, for errors from
    /// the dissector).
    pub fn offset(&self) -> usize {
        self.offset as usize
    }

    /// Why, with the numbers.
    pub fn reason(&self) -> Reason {
        self.reason
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at offset {}: {}",
            self.layer, self.offset, self.reason
        )
    }
}

impl core::error::Error for Error {}

/// The result type of this crate.
pub type Result<T> = core::result::Result<T, Error>;

/// Saturating conversion for lengths and offsets carried in errors.
pub(crate) fn sat32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_layer_offset_and_reason() {
        let e = Error::short(Protocol::Tcp, 20, 8).shifted(34);
        assert_eq!(e.kind(), ErrorKind::Truncated);
        assert_eq!(e.offset(), 34);
        assert_eq!(
            e.to_string(),
            "TCP at offset 34: header needs 20 bytes, only 8 present"
        );
        let e = Error::new(
            ErrorKind::BadLength,
            Protocol::Udp,
            Reason::Exceeds {
                field: "length",
                value: 300,
                available: 28,
            },
        );
        assert_eq!(
            e.to_string(),
            "UDP at offset 0: length 300 exceeds the 28 bytes available"
        );
        let e = Error::new(
            ErrorKind::BadChecksum,
            Protocol::Ipv4,
            Reason::Checksum {
                found: 0x1234,
                expected: 0xabcd,
            },
        );
        assert_eq!(
            e.to_string(),
            "IPv4 at offset 0: checksum 0x1234 should be 0xabcd"
        );
    }

    #[test]
    fn error_is_small_and_copy() {
        fn is_copy<T: Copy>() {}
        is_copy::<Error>();
        assert!(core::mem::size_of::<Error>() <= 40);
    }
}
