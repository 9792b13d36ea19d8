//! Zero-copy typed views and builders for packet headers, and checksums.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod ah;
pub mod arp;
pub mod checksum;
pub mod dissect;
pub mod error;
pub mod esp;
pub mod ethernet;
pub mod ethertype;
#[doc(hidden)]
pub mod fuzzing;
pub mod icmpv4;
pub mod icmpv6;
pub mod ip_protocol;
pub mod ipv4;
pub mod ipv6;
pub mod ipv6_ext;
pub mod ipv6_fragment;
pub mod linktype;
pub mod llc;
pub mod loopback;
pub mod mpls;
pub mod ndisc_option;
pub mod pppoe;
pub mod sctp;
pub mod sll;
pub mod sll2;
pub mod summary;
pub mod tcp;
pub mod udp;
pub mod vlan;

pub use error::{Error, ErrorKind, Protocol, Reason, Result};
pub use ethertype::EtherType;
pub use ip_protocol::IpProtocol;
pub use linktype::LinkType;

/// Declares a protocol-number enum that keeps unknown values: each named
/// variant maps to one value, everything else to `Unknown(raw)`.
macro_rules! enum_with_unknown {
    (
        $(#[$enum_attr:meta])*
        pub enum $name:ident($ty:ty) {
            $( $(#[$variant_attr:meta])* $variant:ident = $value:expr ),+ $(,)?
        }
    ) => {
        $(#[$enum_attr])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$variant_attr])* $variant, )+
            /// Any other value, kept as it was.
            Unknown($ty),
        }

        impl From<$ty> for $name {
            fn from(v: $ty) -> Self {
                match v {
                    $( $value => $name::$variant, )+
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $ty {
            fn from(v: $name) -> Self {
                match v {
                    $( $name::$variant => $value, )+
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}
pub(crate) use enum_with_unknown;

/// A byte range of a header field (used by every view's `mod field`).
pub(crate) type Field = core::ops::Range<usize>;

/// Big-endian reads from slices at least as long as the value.
pub(crate) mod be {
    #[inline]
    pub fn u16(b: &[u8]) -> u16 {
        u16::from_be_bytes([b[0], b[1]])
    }
    #[inline]
    pub fn u32(b: &[u8]) -> u32 {
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }
}

/// Big-endian writes into slices at least as long as the value.
pub(crate) mod set_be {
    #[inline]
    pub fn u16(b: &mut [u8], v: u16) {
        b[..2].copy_from_slice(&v.to_be_bytes());
    }
    #[inline]
    pub fn u32(b: &mut [u8], v: u32) {
        b[..4].copy_from_slice(&v.to_be_bytes());
    }
}
