//! Zero-copy typed views and builders for packet headers, checksums, a
//! dissector and tcpdump-style summaries.
//!
//! This is the bottom layer of sluice. It knows nothing of files, sockets
//! or Linux: everything here works on byte slices, builds anywhere and
//! needs no privileges. The capture-file readers hand it frames, the
//! redirector's handlers rewrite frames through it, and `sluice info` and
//! `sluice print` describe frames with it.
//!
//! # The parts
//!
//! - **Views**, one module per protocol, all of the same shape (after
//!   smoltcp's `wire`): a private `mod field` of byte ranges, a
//!   `HEADER_LEN`, a `Packet<T: AsRef<[u8]>>` (or `Frame`, `Header`) with
//!   `new_unchecked`, `new_checked`, `check_len`, getters, setters when
//!   `T: AsMut<[u8]>`, and a `Repr` that can `parse`, report its
//!   `buffer_len` and `emit`. Link layers: [`ethernet`], [`vlan`] (802.1Q
//!   and 802.1ad), [`llc`] (with SNAP), [`mpls`], [`pppoe`], [`sll`],
//!   [`sll2`], [`loopback`] (NULL and LOOP). Network: [`arp`], [`ipv4`],
//!   [`ipv6`] with [`ipv6_ext`] (hop-by-hop, routing, destination options
//!   and the walk over a chain), [`ipv6_fragment`], [`ah`], [`esp`].
//!   Transport and control: [`tcp`] (with option iteration), [`udp`],
//!   [`sctp`], [`icmpv4`], [`icmpv6`] with [`ndisc_option`]. Protocol
//!   numbers are enums that keep unknown values ([`EtherType`],
//!   [`IpProtocol`], ICMP types and codes, …): nothing read is ever lost.
//! - **[`checksum`]**: the Internet checksum (eight bytes per step, no
//!   `unsafe`), pseudo-headers for IPv4 and IPv6, RFC 1624 incremental
//!   updates, and compute/verify helpers that the views use.
//! - **[`dissect`]**: which layers a frame holds, in a fixed-size array (no
//!   allocation per frame), with the protocol mix as a bit set
//!   ([`dissect::Classes`]) and, when the walk stopped early, an [`Error`]
//!   that names the layer, the byte offset and why. A header cut by the
//!   capture's snapshot length is told apart from a malformed one.
//! - **[`summary`]**: one line per frame in the words of `tcpdump -n`,
//!   written into any `fmt::Write` without allocating.
//!
//! # Errors
//!
//! [`Error`] is a small `Copy` value: an [`ErrorKind`] (truncated, bad
//! length, bad checksum, unsupported, malformed), the [`Protocol`] being
//! read, the byte offset of its header and a [`Reason`] with the numbers,
//! displayed as `IPv4 at offset 14: header length 12 is below 20`. Views
//! report offsets relative to their own bytes; the dissector moves them to
//! frame offsets.
//!
//! # Panic contract
//!
//! - Untrusted bytes always go through `new_checked` (or the dissector).
//!   Once `check_len()` has returned `Ok`, no getter of that view panics,
//!   whatever the bytes hold. Variable-length parts (IPv4 and TCP options,
//!   extension header data, payloads) are clipped to the buffer; a length
//!   field that claims more than the buffer holds is reported, not trusted.
//! - `Repr::emit` never panics on a buffer of exactly `buffer_len()` bytes;
//!   a `Repr` whose fields do not fit their bits makes `emit` return an
//!   error rather than write something else.
//! - [`dissect::dissect`] and the [`summary`] never panic on any input,
//!   and a summary never fails for a writer that does not fail.
//! - `new_unchecked` followed by a getter on a buffer too short for it
//!   does panic (that is a caller bug, as with slice indexing).
//!
//! These are fuzzed (`fuzz/` targets `dissect` and `wire_views`) and
//! checked by property tests; every crash ever found is replayed by
//! `cargo test`.
//!
//! # Changing a frame in place
//!
//! A handler that rewrites a field does not rebuild the packet: it opens
//! views over the frame's bytes, sets the field, and adjusts the checksums
//! for the difference (RFC 1624) instead of summing the whole packet
//! again. Translating the source of a TCP segment, for example:
//!
//! ```
//! use core::net::{IpAddr, Ipv4Addr};
//! use sluice_wire::{dissect, ipv4, tcp, LinkType, Protocol};
//!
//! # let mut frame = vec![0u8; 14 + 20 + 20];
//! # frame[12..14].copy_from_slice(&[0x08, 0x00]);
//! # let ip = ipv4::Repr { src_addr: Ipv4Addr::new(10, 77, 0, 1), dst_addr: Ipv4Addr::new(10, 77, 0, 2),
//! #     protocol: sluice_wire::IpProtocol::Tcp, payload_len: 20, ttl: 64, ident: 1, dscp: 0, ecn: 0,
//! #     dont_frag: true, more_frags: false, frag_offset: 0 };
//! # ip.emit(&mut ipv4::Packet::new_unchecked(&mut frame[14..34])).unwrap();
//! # let seg = tcp::Repr { src_port: 40000, dst_port: 80, flags: tcp::Flags::SYN, seq_number: 1,
//! #     window_len: 64240, ..Default::default() };
//! # seg.emit(&mut tcp::Packet::new_unchecked(&mut frame[34..]), ip.src_addr.into(), ip.dst_addr.into()).unwrap();
//! let d = dissect::dissect(LinkType::ETHERNET, &frame);
//! let ip_at = d.find(Protocol::Ipv4).unwrap().offset as usize;
//! let tcp_at = d.find(Protocol::Tcp).unwrap().offset as usize;
//!
//! let (head, segment) = frame.split_at_mut(tcp_at);
//! let mut ip = ipv4::Packet::new_checked(&mut head[ip_at..]).unwrap();
//! let old = IpAddr::V4(ip.src_addr());
//! let new = Ipv4Addr::new(10, 77, 9, 9);
//! ip.set_src_addr_update_checksum(new); // IPv4 header checksum
//!
//! let mut tcp = tcp::Packet::new_checked(segment).unwrap();
//! tcp.update_checksum_for_addr(old, new.into()); // the pseudo-header moved
//! tcp.set_src_port_update_checksum(50000);
//!
//! let dst = IpAddr::V4(ip.dst_addr());
//! assert!(ip.verify_checksum());
//! assert!(tcp.verify_checksum(new.into(), dst));
//! ```
//!
//! The incremental update is exact (it equals a full recompute) for any
//! header that is not all zeros, so rewriters and anonymisers can touch
//! millions of frames without reading their payloads.
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
#[cfg(test)]
mod fixtures;
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
