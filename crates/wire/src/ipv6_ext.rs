//! IPv6 extension headers with the generic TLV layout (hop-by-hop options,
//! destination options, routing), their options, and the walk over a whole
//! chain of extension headers.
//!
//! These three headers share a shape: next header (1 byte), header
//! extension length in 8-octet units not counting the first (1 byte), then
//! data. [`Header`] reads that shape; for routing headers it also reads the
//! routing type and segments left, and for the two option headers
//! [`Header::options`] iterates the options.
//!
//! [`Walk`] follows next-header values from the fixed header through
//! hop-by-hop, routing, fragment, destination options and AH headers and
//! stops at the first upper-layer protocol, at ESP (whose contents are
//! encrypted), at "no next header", or at a non-first fragment (whose
//! upper-layer header is elsewhere).

use core::fmt;

use crate::error::{Error, ErrorKind, Protocol, Reason, Result};
use crate::ip_protocol::IpProtocol;
use crate::{ah, ipv6_fragment};

mod field {
    use crate::Field;
    pub const NXT_HDR: usize = 0;
    pub const LENGTH: usize = 1;
    pub const ROUTING_TYPE: usize = 2;
    pub const SEGMENTS_LEFT: usize = 3;
    pub const DATA: Field = 2..8;
}

/// Smallest extension header (8 bytes).
pub const HEADER_LEN: usize = field::DATA.end;

/// A read/write view of a hop-by-hop, destination options or routing
/// header.
#[derive(Debug, Clone)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Header<T> {
        Header { buffer }
    }

    /// Wraps a buffer and checks that the whole header fits.
    pub fn new_checked(buffer: T) -> Result<Header<T>> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Checks that the first 8 bytes and then the whole header (from its
    /// length field) fit.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::short(Protocol::Ipv6HopByHop, HEADER_LEN, len));
        }
        let hl = self.header_len();
        if len < hl {
            return Err(Error::short(Protocol::Ipv6HopByHop, hl, len));
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next header.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::NXT_HDR])
    }

    /// The raw header extension length field (8-octet units past the
    /// first).
    pub fn header_len_field(&self) -> u8 {
        self.buffer.as_ref()[field::LENGTH]
    }

    /// Length of the whole header in bytes.
    pub fn header_len(&self) -> usize {
        (usize::from(self.header_len_field()) + 1) * 8
    }

    /// The header's data (everything after the two first bytes).
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::DATA.start..self.header_len()]
    }

    /// Routing type (for a routing header).
    pub fn routing_type(&self) -> u8 {
        self.buffer.as_ref()[field::ROUTING_TYPE]
    }

    /// Segments left (for a routing header).
    pub fn segments_left(&self) -> u8 {
        self.buffer.as_ref()[field::SEGMENTS_LEFT]
    }

    /// The options (for hop-by-hop and destination options headers).
    pub fn options(&self) -> OptionIter<'_> {
        OptionIter::new(self.data())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Header<T> {
    /// Sets the next header.
    pub fn set_next_header(&mut self, v: IpProtocol) {
        self.buffer.as_mut()[field::NXT_HDR] = v.into();
    }

    /// Sets the header extension length field.
    pub fn set_header_len_field(&mut self, v: u8) {
        self.buffer.as_mut()[field::LENGTH] = v;
    }

    /// The header's data, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.buffer.as_mut()[field::DATA.start..hl]
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Header<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.check_len() {
            Ok(()) => write!(
                f,
                "ext header ({} bytes), next header {}",
                self.header_len(),
                self.next_header()
            ),
            Err(e) => write!(f, "ext header ({e})"),
        }
    }
}

/// One option of a hop-by-hop or destination options header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ipv6Option<'a> {
    /// One byte of padding (type 0).
    Pad1,
    /// N bytes of padding (type 1); the value is N − 2.
    PadN(u8),
    /// Router alert (type 5) with its value.
    RouterAlert(u16),
    /// Jumbo payload (type 0xc2) with its length.
    Jumbo(u32),
    /// Any other option.
    Other {
        /// The option type (action bits, change bit, number).
        kind: u8,
        /// The option's data.
        data: &'a [u8],
    },
}

/// Iterates over the options of a hop-by-hop or destination options
/// header; a malformed option ends the walk with an error (offset relative
/// to the header's data).
#[derive(Clone, Debug)]
pub struct OptionIter<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> OptionIter<'a> {
    /// Iterates over `data` (the header after its first two bytes).
    pub fn new(data: &'a [u8]) -> OptionIter<'a> {
        OptionIter {
            data,
            pos: 0,
            done: false,
        }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<Ipv6Option<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let at = self.pos;
        let kind = self.data[at];
        if kind == 0 {
            self.pos += 1;
            return Some(Ok(Ipv6Option::Pad1));
        }
        let Some(&len) = self.data.get(at + 1) else {
            self.done = true;
            return Some(Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Ipv6HopByHop,
                Reason::Message("option length missing"),
            )
            .shifted(2 + at)));
        };
        let end = at + 2 + usize::from(len);
        if end > self.data.len() {
            self.done = true;
            return Some(Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Ipv6HopByHop,
                Reason::Exceeds {
                    field: "option length",
                    value: u32::from(len),
                    available: (self.data.len() - at - 2) as u32,
                },
            )
            .shifted(2 + at)));
        }
        self.pos = end;
        let data = &self.data[at + 2..end];
        Some(Ok(match (kind, data.len()) {
            (1, _) => Ipv6Option::PadN(len),
            (5, 2) => Ipv6Option::RouterAlert(u16::from_be_bytes([data[0], data[1]])),
            (0xc2, 4) => {
                Ipv6Option::Jumbo(u32::from_be_bytes([data[0], data[1], data[2], data[3]]))
            }
            _ => Ipv6Option::Other { kind, data },
        }))
    }
}

/// The parsed contents of a generic extension header: its next header and
/// its data (options or routing data), which `emit` copies back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Next header.
    pub next_header: IpProtocol,
    /// Everything after the first two bytes; its length plus 2 must be a
    /// multiple of 8 (and at most 2048).
    pub data: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Reads a checked header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(header: &Header<&'a T>) -> Result<Repr<'a>> {
        header.check_len()?;
        let buf: &'a [u8] = T::as_ref(header.buffer);
        Ok(Repr {
            next_header: header.next_header(),
            data: &buf[field::DATA.start..header.header_len()],
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        self.data.len() + 2
    }

    /// Writes the header; fails if the data length does not make a whole
    /// number of 8-octet units.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, header: &mut Header<T>) -> Result<()> {
        let total = self.buffer_len();
        if !total.is_multiple_of(8) || total > 2048 {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Ipv6HopByHop,
                Reason::Invalid {
                    field: "extension header length",
                    value: crate::error::sat32(total),
                },
            ));
        }
        header.set_next_header(self.next_header);
        header.set_header_len_field((total / 8 - 1) as u8);
        header.data_mut().copy_from_slice(self.data);
        Ok(())
    }
}

/// One step of a [`Walk`]: an extension header found in the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtHeader {
    /// Which header it is.
    pub protocol: Protocol,
    /// Its offset from the start of the bytes given to the walk.
    pub offset: usize,
    /// Its length in bytes.
    pub len: usize,
    /// The next header it names.
    pub next_header: IpProtocol,
}

/// Where a [`Walk`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkEnd {
    /// An upper-layer protocol (or ESP, or no next header) at `offset`.
    Upper {
        /// The protocol.
        protocol: IpProtocol,
        /// Where its header starts.
        offset: usize,
    },
    /// A fragment with a nonzero offset: the upper-layer header is in the
    /// first fragment, not here.
    LaterFragment {
        /// The protocol named after the fragment header.
        protocol: IpProtocol,
        /// Where the fragment data starts.
        offset: usize,
    },
}

/// Walks a chain of extension headers.
///
/// Yields each extension header in turn, then stops; [`Walk::end`] tells
/// where the chain ended. Offsets are relative to the bytes given (the
/// payload of the fixed IPv6 header, or of an IPv4 header for AH). A
/// header that does not fit is an error of kind `Truncated` whose offset is
/// the header's own.
#[derive(Clone, Debug)]
pub struct Walk<'a> {
    data: &'a [u8],
    next: IpProtocol,
    offset: usize,
    end: Option<WalkEnd>,
    failed: bool,
}

impl<'a> Walk<'a> {
    /// Starts a walk over `data`, whose first header is `first`.
    pub fn new(first: IpProtocol, data: &'a [u8]) -> Walk<'a> {
        Walk {
            data,
            next: first,
            offset: 0,
            end: None,
            failed: false,
        }
    }

    /// Where the walk ended (`None` until it has, or after an error).
    pub fn end(&self) -> Option<WalkEnd> {
        self.end
    }
}

/// Reads one extension header of type `proto` at the start of `data`:
/// which header it is, its length and the next header it names, and
/// whether it is a fragment with a nonzero offset.
pub fn read_ext(proto: IpProtocol, data: &[u8]) -> Result<(Protocol, usize, IpProtocol, bool)> {
    match proto {
        IpProtocol::Ipv6Frag => {
            let f = ipv6_fragment::Header::new_checked(data)?;
            Ok((
                Protocol::Ipv6Fragment,
                ipv6_fragment::HEADER_LEN,
                f.next_header(),
                f.frag_offset() != 0,
            ))
        }
        IpProtocol::Ah => {
            let a = ah::Header::new_checked(data)?;
            Ok((Protocol::Ah, a.header_len(), a.next_header(), false))
        }
        _ => {
            let layer = match proto {
                IpProtocol::HopByHop => Protocol::Ipv6HopByHop,
                IpProtocol::Ipv6Route => Protocol::Ipv6Routing,
                _ => Protocol::Ipv6DestOpts,
            };
            let re = |e: Error| Error::new(e.kind(), layer, e.reason()).shifted(e.offset());
            let h = Header::new_checked(data).map_err(re)?;
            Ok((layer, h.header_len(), h.next_header(), false))
        }
    }
}

impl Iterator for Walk<'_> {
    type Item = Result<ExtHeader>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.end.is_some() || self.failed {
            return None;
        }
        if !self.next.is_ipv6_extension() {
            self.end = Some(WalkEnd::Upper {
                protocol: self.next,
                offset: self.offset,
            });
            return None;
        }
        let rest = self.data.get(self.offset..).unwrap_or(&[]);
        match read_ext(self.next, rest) {
            Err(e) => {
                self.failed = true;
                Some(Err(e.shifted(self.offset)))
            }
            Ok((protocol, len, next_header, later_fragment)) => {
                let item = ExtHeader {
                    protocol,
                    offset: self.offset,
                    len,
                    next_header,
                };
                self.offset += len;
                self.next = next_header;
                if later_fragment {
                    self.end = Some(WalkEnd::LaterFragment {
                        protocol: next_header,
                        offset: self.offset,
                    });
                }
                Some(Ok(item))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // A hop-by-hop header with a router alert (MLD), as in tcpdump's
    // icmpv6.pcap frame 2 (bytes 54..62).
    const HBH: [u8; 8] = [0x3a, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00];

    #[test]
    fn reads_hop_by_hop_options() {
        let h = Header::new_checked(&HBH[..]).unwrap();
        assert_eq!(h.next_header(), IpProtocol::Icmpv6);
        assert_eq!(h.header_len(), 8);
        let opts: Vec<_> = h.options().collect::<Result<_>>().unwrap();
        assert_eq!(opts, [Ipv6Option::RouterAlert(0), Ipv6Option::PadN(0)]);
    }

    #[test]
    fn walk_stops_at_upper_layer() {
        // HBH → fragment (offset 0) → destination options → TCP.
        let mut b = Vec::new();
        b.extend_from_slice(&[44, 0, 1, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&[60, 0, 0, 0, 0, 0, 0, 1]);
        b.extend_from_slice(&[6, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&[0; 20]);
        let mut w = Walk::new(IpProtocol::HopByHop, &b);
        let hs: Vec<_> = w.by_ref().collect::<Result<_>>().unwrap();
        assert_eq!(
            hs.iter()
                .map(|h| (h.protocol, h.offset, h.len))
                .collect::<Vec<_>>(),
            [
                (Protocol::Ipv6HopByHop, 0, 8),
                (Protocol::Ipv6Fragment, 8, 8),
                (Protocol::Ipv6DestOpts, 16, 16)
            ]
        );
        assert_eq!(
            w.end(),
            Some(WalkEnd::Upper {
                protocol: IpProtocol::Tcp,
                offset: 32
            })
        );
    }

    #[test]
    fn walk_reports_truncation_with_offset_and_layer() {
        let b = [43u8, 0, 0, 0, 0, 0, 0, 0, 17, 3, 0, 0];
        let mut w = Walk::new(IpProtocol::HopByHop, &b);
        assert!(w.next().unwrap().is_ok());
        let e = w.next().unwrap().unwrap_err();
        assert_eq!(e.layer(), Protocol::Ipv6Routing);
        assert_eq!(e.offset(), 8);
        assert_eq!(e.kind(), ErrorKind::Truncated);
        assert!(w.next().is_none());
        assert_eq!(w.end(), None);
    }

    #[test]
    fn later_fragment_ends_walk() {
        let b = [6u8, 0, 0x00, 0x08, 0, 0, 0, 1, 0xde, 0xad];
        let mut w = Walk::new(IpProtocol::Ipv6Frag, &b);
        assert!(w.next().unwrap().is_ok());
        assert!(w.next().is_none());
        assert_eq!(
            w.end(),
            Some(WalkEnd::LaterFragment {
                protocol: IpProtocol::Tcp,
                offset: 8
            })
        );
    }

    proptest! {
        #[test]
        fn round_trip(nh in any::<u8>(), units in 0usize..8, fill in any::<u8>()) {
            let data = vec![fill; units * 8 + 6];
            let repr = Repr { next_header: nh.into(), data: &data };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Header::new_unchecked(&mut buf[..])).unwrap();
            let h = Header::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&h).unwrap(), repr);
        }

        #[test]
        fn walk_never_panics(first in any::<u8>(), bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut w = Walk::new(first.into(), &bytes);
            let mut n = 0;
            for r in w.by_ref() {
                if let Ok(h) = r { prop_assert!(h.offset + h.len <= bytes.len()); }
                n += 1;
                prop_assert!(n <= 64);
            }
        }

        #[test]
        fn options_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            for o in OptionIter::new(&bytes) { let _ = o; }
        }
    }
}
